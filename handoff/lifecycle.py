"""A conversation's state transitions: escalate, claim, release/reassign, resolve, hand back
to the bot, end by the bot, reopen. Each writes an activity line and emits live events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from handoff.analytics.record import article_before_handoff
from handoff.errors import Conflict, NotFound
from handoff.models import (
    ASSIGNED,
    BOT,
    ENDED,
    QUEUED,
    REASONS,
    RESOLVED,
    RESOLVED_BY_BOT,
    Agent,
    Conversation,
    Escalation,
    Message,
)
from handoff.service_base import ServiceBase

CSAT_PROMPT = "How did we do? Rate this conversation from 1 (poor) to 5 (great)."


class Lifecycle(ServiceBase):
    def escalate(
        self, conversation_id: str, *, reason: str, context: dict[str, Any]
    ) -> tuple[Conversation, Escalation, bool]:
        """Queues the conversation for a person; idempotent while it is queued or assigned."""
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}; one of {', '.join(REASONS)}")
        now = datetime.now(UTC)
        priority = self.settings.priorities.get(reason, 0)
        # A conditional update is atomic on SQLite and PostgreSQL alike: of two concurrent
        # escalations of one conversation, only one moves it to the queue.
        moved = self.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.status.in_((BOT, *ENDED)))
            .values(
                status=QUEUED,
                reason=reason,
                priority=priority,
                queued_at=now,
                assigned_agent_id=None,
                assigned_at=None,
                resolved_at=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        conversation = self.get(conversation_id)
        self.session.refresh(conversation)
        if moved != 1:
            return conversation, self.repo.open_escalation(conversation), False
        escalation = Escalation(
            conversation_id=conversation.id,
            reason=reason,
            priority=priority,
            context=context,
            created_at=now,
            article_slug=article_before_handoff(self.session, conversation.id),
        )
        self.session.add(escalation)
        # A person takes it from here: nothing waits for the bot any more.
        self.session.execute(
            update(Message)
            .where(
                Message.conversation_id == conversation.id,
                Message.bot_state.in_(("pending", "failed")),
            )
            .values(bot_state="superseded")
            .execution_options(synchronize_session=False)
        )
        self._activity(
            conversation, "Conversation handed to the support team", "escalated", reason=reason
        )
        self.session.flush()
        self.live.status(conversation)
        self.live.agents(
            {
                "type": "queue.escalated",
                "conversation_id": conversation.id,
                "reason": reason,
                "priority": priority,
            }
        )
        return conversation, escalation, True

    def escalate_from_chat(self, conversation_id: str, reason: str) -> None:
        """The customer asked for a person in the chat window (the bot may be down)."""
        conversation = self.get(conversation_id)
        if reason == "requested" and self.repo.latest_feedback_unhelpful(conversation):
            reason = "negative_feedback"
        last = self.repo.last_customer_message(conversation)
        context = {
            "source": "gateway",
            "last_message": last.text if last else None,
            "nlu_history": [],
            "articles_tried": [],
            "note": "the customer asked for a person from the chat window",
        }
        self.escalate(conversation.id, reason=reason, context=context)

    def claim(self, conversation_id: str, *, agent: Agent) -> Conversation:
        """Atomic: of two agents claiming at once, exactly one wins; the other gets Conflict."""
        now = datetime.now(UTC)
        result = self.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.status == QUEUED)
            .values(status=ASSIGNED, assigned_agent_id=agent.id, assigned_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        conversation = self.repo.conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id}")
        self.session.refresh(conversation)
        if result.rowcount != 1:
            owner = self.repo.agent(conversation.assigned_agent_id)
            if conversation.status == ASSIGNED and owner is not None:
                who = "You already have" if owner.id == agent.id else f"{owner.name} took"
                raise Conflict(f"{who} this conversation")
            raise Conflict(f"conversation is {conversation.status}, not queued")
        escalation = self.repo.open_escalation(conversation)
        if escalation is not None and escalation.claimed_at is None:
            escalation.claimed_at = now
            escalation.claimed_by = agent.id
        elif escalation is not None and escalation.claimed_by != agent.id:
            # Released by one agent, taken by another: a transfer (for analytics).
            conversation.transferred_at = conversation.transferred_at or now
        self._activity(
            conversation, f"{agent.name} joined the conversation", "claimed", agent_id=agent.id
        )
        self.live.status(conversation)
        self.live.agents(
            {"type": "queue.claimed", "conversation_id": conversation_id, "agent_id": agent.id}
        )
        return conversation

    def _require_owner(self, conversation: Conversation, agent: Agent) -> None:
        if conversation.status != ASSIGNED:
            raise Conflict(f"conversation is {conversation.status}, not assigned")
        if conversation.assigned_agent_id != agent.id and agent.role != "admin":
            raise Conflict("conversation is assigned to another agent")

    def release(
        self, conversation: Conversation, *, agent: Agent, to_agent: Agent | None = None
    ) -> None:
        """Back to the queue (keeping its place), or straight to another agent."""
        self._require_owner(conversation, agent)
        if to_agent is not None:
            now = datetime.now(UTC)
            moved = to_agent.id != conversation.assigned_agent_id  # a transfer (analytics)
            self._compare_and_set(
                conversation,
                assigned_agent_id=to_agent.id,
                assigned_at=now,
                transferred_at=conversation.transferred_at or (now if moved else None),
            )
            self._activity(
                conversation,
                f"{to_agent.name} took over the conversation",
                "reassigned",
                agent_id=to_agent.id,
            )
        else:
            self._compare_and_set(
                conversation, status=QUEUED, assigned_agent_id=None, assigned_at=None
            )
            self._activity(conversation, "Conversation returned to the queue", "released")
        self.live.status(conversation)
        self.live.agents({"type": "queue.released", "conversation_id": conversation.id})

    def resolve(self, conversation: Conversation, *, agent: Agent) -> None:
        """Ends the conversation and asks the customer to rate it."""
        if conversation.status not in (QUEUED, ASSIGNED):
            raise Conflict(f"conversation is {conversation.status}")
        if conversation.status == ASSIGNED:
            self._require_owner(conversation, agent)
        now = datetime.now(UTC)
        self._close(
            conversation,
            RESOLVED,
            resolved_at=now,
            resolved_by=agent.id,
            first_resolved_at=conversation.first_resolved_at or now,
        )
        self._activity(conversation, "Conversation resolved", "resolved", agent_id=agent.id)
        self._activity(conversation, CSAT_PROMPT, "csat_prompt")

    def return_to_bot(self, conversation: Conversation, *, agent: Agent) -> None:
        """The assistant takes over again (the caller resumes Rasa after the commit)."""
        if conversation.status not in (QUEUED, ASSIGNED):
            raise Conflict(f"conversation is {conversation.status}")
        if conversation.status == ASSIGNED:
            self._require_owner(conversation, agent)
        self._close(conversation, BOT)
        # A fresh bot session after a person: Rasa paused in its handoff action and would
        # otherwise only listen to the next message (what happened before is the person's).
        conversation.channel = {**conversation.channel, "session_restart": True}
        self._activity(
            conversation,
            "The assistant is back in the conversation",
            "returned_to_bot",
            agent_id=agent.id,
        )

    def end_by_bot(self, conversation: Conversation) -> bool:
        """The bot handled it and the customer is done: resolved_by_bot, rating asked.

        False when the conversation is no longer the bot's (a person took it meanwhile).
        """
        if conversation.status != BOT:
            return False
        now = datetime.now(UTC)
        try:
            self._compare_and_set(
                conversation,
                status=RESOLVED_BY_BOT,
                resolved_at=now,
                first_resolved_at=conversation.first_resolved_at or now,
            )
        except Conflict:
            return False
        self._activity(conversation, "Conversation resolved by the assistant", "resolved_by_bot")
        self._activity(conversation, "Glad we could help! " + CSAT_PROMPT, "csat_prompt")
        self.live.status(conversation)
        self.live.agents(
            {"type": "conversation.closed", "conversation_id": conversation.id,
             "status": RESOLVED_BY_BOT},
        )  # fmt: skip
        return True

    def reopen(self, conversation: Conversation) -> None:
        """A new message after the end: a fresh bot session; nothing said or shown before
        decides the new turns."""
        channel = {**conversation.channel, "session_restart": True}
        if conversation.status == RESOLVED:
            channel["resume_pending"] = True  # a person had it: Rasa is paused
        try:
            self._compare_and_set(
                conversation,
                status=BOT,
                channel=channel,
                reopened_at=conversation.reopened_at or datetime.now(UTC),
            )
            self._activity(conversation, "Conversation reopened", "reopened")
        except Conflict:
            pass  # a concurrent message reopened it already

    def mark_resumed(self, conversation: Conversation) -> None:
        conversation.channel = {
            k: v for k, v in conversation.channel.items() if k != "resume_pending"
        }

    def mark_restarted(self, conversation: Conversation) -> None:
        conversation.channel = {
            k: v for k, v in conversation.channel.items() if k != "session_restart"
        }

    def _close(self, conversation: Conversation, status: str, **values: Any) -> None:
        if status == BOT:
            values["assigned_agent_id"] = None
        self._compare_and_set(
            conversation,
            status=status,
            channel={**conversation.channel, "resume_pending": True},
            **values,
        )
        escalation = self.repo.open_escalation(conversation)
        if escalation is not None:
            escalation.closed_at = datetime.now(UTC)
        self.live.status(conversation)
        self.live.agents(
            {"type": "conversation.closed", "conversation_id": conversation.id, "status": status}
        )
