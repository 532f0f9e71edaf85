"""Suggested answers for agents: help-center passages and replies from similar past cases."""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict, defaultdict
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import AGENT, CUSTOMER, PUBLIC, RESOLVED, Conversation, Message

PAST_CANDIDATES = 300
CACHE_SIZE = 5000  # embeddings of past customer messages kept per app worker
TOP = 3


def _past_pairs(session: Session, exclude: str) -> list[tuple[Message, Message]]:
    """(customer message, the agent reply that followed it) from resolved conversations."""
    replies = list(
        session.scalars(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.status == RESOLVED,
                Conversation.id != exclude,
                Message.sender == AGENT,
                Message.audience == PUBLIC,
            )
            .order_by(Message.id.desc())
            .limit(PAST_CANDIDATES)
        )
    )
    if not replies:
        return []
    customer = list(
        session.scalars(
            select(Message)
            .where(
                Message.conversation_id.in_({r.conversation_id for r in replies}),
                Message.sender == CUSTOMER,
            )
            .order_by(Message.id)
        )
    )
    by_conversation: dict[str, list[Message]] = defaultdict(list)
    for message in customer:  # ordered by id
        by_conversation[message.conversation_id].append(message)
    pairs = []
    for reply in replies:
        asked = by_conversation[reply.conversation_id]
        i = bisect_left([m.id for m in asked], reply.id)
        if i:
            pairs.append((asked[i - 1], reply))
    return pairs


def suggest(session: Session, state: Any, conversation: Conversation) -> dict[str, Any]:
    """Top help-center passages and past replies for the latest customer message."""
    latest = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.sender == CUSTOMER)
        .order_by(Message.id.desc())
    ).first()
    if latest is None:
        return {"for_message_id": None, "suggestions": []}
    text = latest.text
    suggestions: list[dict[str, Any]] = []
    for r in state.search.search(text[:1000], TOP):
        suggestions.append(
            {
                "source": "kb",
                "ref": r.slug,
                "text": r.snippet,
                "title": r.title,
                "section": r.section,
                "url": f"{state.settings.public_base_url.rstrip('/')}{r.url}",
                "score": r.score,
            }
        )
    pairs = _past_pairs(session, conversation.id)
    if pairs:
        cache: OrderedDict[int, np.ndarray] = state.reply_vectors
        missing = [c for c, _ in pairs if c.id not in cache]
        if missing:
            vectors = state.embedder.encode([m.text[:1000] for m in missing])
            for message, vector in zip(missing, vectors):
                cache[message.id] = vector
        vectors_now = {c.id: cache[c.id] for c, _ in pairs}
        for key in vectors_now:  # least recently used entries go first
            cache.move_to_end(key)
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
        query = state.embedder.encode([text[:1000]])[0]
        scored = sorted(
            ((float(vectors_now[c.id] @ query), c, r) for c, r in pairs), key=lambda t: -t[0]
        )
        seen: set[str] = set()
        for score, customer_msg, reply in scored:
            if score < state.handoff.past_reply_min_similarity or len(seen) >= TOP:
                break
            if reply.text in seen:
                continue
            seen.add(reply.text)
            suggestions.append(
                {
                    "source": "past_reply",
                    "ref": str(reply.id),
                    "text": reply.text,
                    "question": customer_msg.text,
                    "conversation_id": reply.conversation_id,
                    "score": round(score, 4),
                }
            )
    return {"for_message_id": latest.id, "suggestions": suggestions}
