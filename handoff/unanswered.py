"""What customers asked that the help center could not answer, grouped by similarity.

A question counts as unanswered when nothing in the help center scored high enough
(``no_kb_answer``) or the bot did not understand it (``low_confidence``) — whether the bot
handed off or only offered a person or asked to rephrase — or when the customer marked the
bot's answer unhelpful. Questions an editor attached to an article,
drafted an article from, or dismissed leave the list.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import (
    AGENT,
    BOT_SENDER,
    CUSTOMER,
    PUBLIC,
    Agent,
    Escalation,
    Feedback,
    Message,
    UnansweredHandled,
)

REASONS = ("no_kb_answer", "low_confidence")
MAX_QUESTIONS = 2000
SIMILAR = 0.6  # cosine to a group's centre to join it
REPLIES_PER_GROUP = 3


@dataclass
class Asked:
    message_id: int
    conversation_id: str
    text: str
    why: str  # no_kb_answer | low_confidence | thumbs_down
    asked_at: datetime


@dataclass
class Group:
    questions: list[Asked]
    centre: np.ndarray
    replies: list[dict] = field(default_factory=list)

    @property
    def last_asked(self) -> datetime:
        return max(q.asked_at for q in self.questions)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def collect(session: Session, *, since: datetime, limit: int = MAX_QUESTIONS) -> list[Asked]:
    """The unanswered customer questions asked since ``since``, newest first."""
    handled = select(UnansweredHandled.message_id)
    found: dict[int, Asked] = {}
    escalations = session.scalars(
        select(Escalation)
        .where(Escalation.reason.in_(REASONS), Escalation.created_at >= since)
        .order_by(Escalation.id.desc())
        .limit(limit)
    )
    for escalation in escalations:
        asked = (escalation.context or {}).get("last_message")
        query = (
            select(Message)
            .where(
                Message.conversation_id == escalation.conversation_id,
                Message.sender == CUSTOMER,
                Message.id.not_in(handled),
            )
            .order_by(Message.id.desc())
        )
        if asked:
            query = query.where(Message.text == asked)
        else:
            query = query.where(Message.created_at <= escalation.created_at)
        message = session.scalars(query.limit(1)).first()
        if message is not None:
            found[message.id] = Asked(
                message.id,
                message.conversation_id,
                message.text,
                escalation.reason,
                _aware(message.created_at),
            )
    # The bot's "I have no answer to that" replies (an offer of a person, a request to
    # rephrase) carry the reason; the customer may have declined the offer.
    no_answer = session.scalars(
        select(Message)
        .where(
            Message.sender == BOT_SENDER,
            Message.created_at >= since,
            Message.reply_to.is_not(None),
            Message.data["unanswered"].as_string().in_(REASONS),
        )
        .order_by(Message.id.desc())
        .limit(limit)
    )
    for reply in no_answer:
        if reply.reply_to in found:
            continue
        question = session.get(Message, reply.reply_to)
        if question is None or question.sender != CUSTOMER:
            continue
        if session.scalar(
            select(UnansweredHandled.id).where(UnansweredHandled.message_id == question.id)
        ):
            continue
        found[question.id] = Asked(
            question.id,
            question.conversation_id,
            question.text,
            reply.data["unanswered"],
            _aware(question.created_at),
        )
    unhelpful = session.execute(
        select(Message)
        .join(Feedback, Feedback.message_id == Message.id)
        .where(Feedback.helpful.is_(False), Feedback.created_at >= since)
        .order_by(Feedback.id.desc())
        .limit(limit)
    ).scalars()
    for answer in unhelpful:
        if answer.reply_to is None or answer.reply_to in found:
            continue
        question = session.get(Message, answer.reply_to)
        if question is None or question.sender != CUSTOMER:
            continue
        is_handled = session.scalar(
            select(UnansweredHandled.id).where(UnansweredHandled.message_id == question.id)
        )
        if not is_handled:
            found[question.id] = Asked(
                question.id,
                question.conversation_id,
                question.text,
                "thumbs_down",
                _aware(question.created_at),
            )
    asked = [a for a in found.values() if a.text.strip() and not a.text.startswith("/")]
    return sorted(asked, key=lambda a: a.asked_at, reverse=True)[:limit]


def vectors_for(
    asked: Sequence[Asked],
    encode: Callable[[list[str]], np.ndarray],
    cache: OrderedDict,
    cache_size: int = 5000,
) -> dict[int, np.ndarray]:
    """Unit vectors per message id, embedding only the ones not cached yet."""
    missing = [a for a in asked if a.message_id not in cache]
    if missing:
        for a, vector in zip(missing, encode([a.text[:1000] for a in missing])):
            cache[a.message_id] = vector
    out = {a.message_id: cache[a.message_id] for a in asked}
    for key in out:
        cache.move_to_end(key)
    while len(cache) > cache_size:
        cache.popitem(last=False)
    return out


def group(asked: Sequence[Asked], vectors: dict[int, np.ndarray]) -> list[Group]:
    """Greedy grouping by cosine to each group's centre; most asked (then most recent) first."""
    groups: list[Group] = []
    for a in asked:  # newest first
        v = vectors[a.message_id]
        best, best_score = None, SIMILAR
        for g in groups:
            score = float(g.centre @ v)
            if score >= best_score:
                best, best_score = g, score
        if best is None:
            groups.append(Group([a], v.copy()))
            continue
        best.questions.append(a)
        centre = np.mean([vectors[q.message_id] for q in best.questions], axis=0)
        best.centre = centre / (np.linalg.norm(centre) or 1.0)
    now = datetime.now(UTC)

    def rank(g: Group) -> float:  # how often, then how recently (a week halves recency)
        age_days = (now - g.last_asked).total_seconds() / 86400
        return len(g.questions) + math.exp(-age_days / 7)

    return sorted(groups, key=rank, reverse=True)


def agent_replies(session: Session, g: Group) -> list[dict]:
    """Agent replies that followed these questions in their conversations."""
    replies: list[dict] = []
    for q in g.questions:
        rows = session.execute(
            select(Message, Agent.name)
            .outerjoin(Agent, Agent.id == Message.agent_id)
            .where(
                Message.conversation_id == q.conversation_id,
                Message.sender == AGENT,
                Message.audience == PUBLIC,
                Message.id > q.message_id,
            )
            .order_by(Message.id)
            .limit(2)
        ).all()
        for message, name in rows:
            replies.append(
                {"text": message.text, "agent_name": name, "conversation_id": q.conversation_id}
            )
        if len(replies) >= REPLIES_PER_GROUP:
            break
    return replies[:REPLIES_PER_GROUP]


def mark_handled(
    session: Session,
    *,
    message_ids: Sequence[int],
    action: str,
    article_slug: str | None,
    agent_id: int | None,
) -> int:
    """Takes these questions off the list; returns how many were newly marked."""
    already = set(
        session.scalars(
            select(UnansweredHandled.message_id).where(
                UnansweredHandled.message_id.in_(message_ids)
            )
        )
    )
    added = 0
    for message_id in dict.fromkeys(message_ids):
        if message_id in already:
            continue
        session.add(
            UnansweredHandled(
                message_id=message_id, action=action, article_slug=article_slug, agent_id=agent_id
            )
        )
        added += 1
    session.flush()
    return added


def customer_questions(session: Session, message_ids: Sequence[int]) -> list[Message]:
    """The customer messages with these ids (anything else is ignored)."""
    if not message_ids:
        return []
    return list(
        session.scalars(
            select(Message)
            .where(Message.id.in_(message_ids), Message.sender == CUSTOMER)
            .order_by(Message.id)
        )
    )


def since_days(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
