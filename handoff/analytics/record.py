"""What the conversation services record for analytics as things happen (the facts the KPI
queries read without parsing transcripts): which article a bot answer came from, which
answer a handoff followed. The services call these; nothing here commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import BOT_SENDER, SYSTEM, Message

# Activity lines after which an earlier answer no longer explains a handoff: a new session
# (reopened), an earlier handoff, a person handing back, the end of the conversation.
SESSION_BOUNDARIES = {"escalated", "returned_to_bot", "reopened", "resolved", "resolved_by_bot"}
LOOK_BACK = 40  # messages


def answer_article(data: dict[str, Any]) -> str | None:
    """The article a bot answer came from: the first one it cites (the others are links to
    related articles)."""
    articles = data.get("articles") or []
    first = articles[0] if articles and isinstance(articles[0], dict) else {}
    slug = first.get("slug")
    return str(slug)[:80] if slug else None


def article_before_handoff(session: Session, conversation_id: str) -> str | None:
    """The article of the bot's last answer before a handoff, within the current session."""
    rows = session.execute(
        select(Message.sender, Message.article_slug, Message.data)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(LOOK_BACK)
    )
    for sender, slug, data in rows:
        if sender == BOT_SENDER and slug:
            return slug
        if sender == SYSTEM and (data or {}).get("kind") in SESSION_BOUNDARIES:
            return None
    return None
