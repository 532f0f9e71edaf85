"""The agent console's inbox: "mine", "all open", search over past conversations, and a
signed-in customer's earlier conversations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from handoff.conversations import ConversationService
from handoff.deps import AgentOnDuty, UowDep, app_state
from handoff.models import ASSIGNED, CUSTOMER, QUEUED, Conversation, Message
from handoff.openapi import errors
from handoff.views import summary

router = APIRouter(tags=["handoff"])

MAX_LIMIT = 100
HISTORY = 20


def _scope(query: Select, view: str, agent_id: int) -> Select:
    if view == "mine":
        return query.where(
            Conversation.status == ASSIGNED, Conversation.assigned_agent_id == agent_id
        )
    if view == "open":
        return query.where(Conversation.status.in_((QUEUED, ASSIGNED)))
    return query


def find(
    session: Session,
    *,
    view: str,
    agent_id: int,
    q: str | None,
    before: datetime | None,
    limit: int,
) -> list[Conversation]:
    """Conversations in a view, newest activity first; ``q`` matches message text, the
    customer's name or email, or the start of the conversation id."""
    query = _scope(select(Conversation), view, agent_id)
    if q:
        needle = q.strip().lower()
        matching = (
            select(Message.conversation_id)
            .where(func.lower(Message.text).contains(needle, autoescape=True))
            .distinct()
        )
        query = query.where(
            or_(
                Conversation.id.in_(matching),
                func.lower(Conversation.customer_email).contains(needle, autoescape=True),
                func.lower(Conversation.customer_name).contains(needle, autoescape=True),
                Conversation.id.startswith(needle, autoescape=True),
            )
        )
    if before is not None:
        query = query.where(Conversation.updated_at < before)
    query = query.order_by(Conversation.updated_at.desc(), Conversation.id).limit(limit)
    return list(session.scalars(query))


def customer_history(session: Session, conversation: Conversation) -> list[dict[str, Any]]:
    """The same verified shopper's other conversations, newest first (agents only)."""
    if not conversation.customer_user_id:
        return []
    others = list(
        session.scalars(
            select(Conversation)
            .where(
                Conversation.customer_user_id == conversation.customer_user_id,
                Conversation.id != conversation.id,
            )
            .order_by(Conversation.created_at.desc())
            .limit(HISTORY)
        )
    )
    firsts = {}
    if others:
        rows = session.execute(
            select(Message.conversation_id, Message.text)
            .where(
                Message.conversation_id.in_([c.id for c in others]),
                Message.sender == CUSTOMER,
            )
            .order_by(Message.id.desc())
        ).all()
        for conversation_id, text in rows:  # newest first: the last write wins = the first
            firsts[conversation_id] = text
    return [
        {
            "conversation_id": c.id,
            "created_at": c.created_at.isoformat() if c.created_at else None,
            "status": c.status,
            "reason": c.reason,
            "first_message": firsts.get(c.id),
            "csat_score": c.csat_score,
        }
        for c in others
    ]


@router.get("/api/handoff/conversations", responses=errors(401, 403, 422))
def list_conversations(
    agent: AgentOnDuty,
    uow: UowDep,
    request: Request,
    view: Literal["mine", "open", "all"] = "open",
    q: str | None = Query(None, max_length=200),
    before: datetime | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
) -> dict[str, Any]:
    """My conversations, all open ones, or a search over every conversation (paginated:
    pass the last item's ``updated_at`` as ``before`` for the next page)."""
    if q is not None and not q.strip():
        raise HTTPException(422, "q must not be blank")
    service = ConversationService(uow, app_state(request).handoff)
    found = find(uow.session, view=view, agent_id=agent.id, q=q, before=before, limit=limit)
    items = []
    for conversation in found:
        item = summary(service, conversation)
        item["updated_at"] = conversation.updated_at.isoformat()
        items.append(item)
    more = len(items) == limit
    return {"conversations": items, "next_before": items[-1]["updated_at"] if more else None}
