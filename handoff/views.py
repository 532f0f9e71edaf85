"""How the console sees a conversation in lists: one summary shape for every view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from handoff.conversations import ConversationService
from handoff.models import Agent, Conversation


def aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def summary(service: ConversationService, conversation: Conversation) -> dict[str, Any]:
    """Status, reason, wait, owner, customer and last message of one conversation."""
    escalation = service.repo.latest_escalation(conversation)
    context = escalation.context if escalation else {}
    last = service.repo.last_customer_message(conversation)
    queued_at = aware(conversation.queued_at)
    owner = (
        service.session.get(Agent, conversation.assigned_agent_id)
        if conversation.assigned_agent_id
        else None
    )
    return {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "reason": conversation.reason,
        "priority": conversation.priority,
        "queued_at": queued_at.isoformat() if queued_at else None,
        "wait_s": round((datetime.now(UTC) - queued_at).total_seconds()) if queued_at else None,
        "assigned_agent_id": conversation.assigned_agent_id,
        "assigned_agent_name": owner.name if owner else None,
        "topic_intent": context.get("topic_intent"),
        "last_customer_message": last.text if last else None,
        "customer_email": conversation.customer_email,
        # Set only for shoppers the website vouched for (verified data-user-hash).
        "customer_user_id": conversation.customer_user_id,
        "customer_name": conversation.customer_name,
    }
