"""Suggested answers for agents: help-center passages and replies from similar past cases."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import OrderedDict, defaultdict
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import AGENT, CUSTOMER, PUBLIC, RESOLVED, Conversation, Escalation, Message
from knowledge_base.search import QueryError

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


# What a customer says to move the conversation along rather than to describe their need.
CONVERSATIONAL = {
    "request_human",
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
    "out_of_scope",
}
_ASKS_FOR_PERSON = re.compile(
    r"\b(talk|speak|chat|connect|transfer|put|get)\b.*\b(person|human|agent|someone|somebody|"
    r"representative|rep|staff|people)\b",
    re.I,
)
_BUTTON_TEXTS = {
    "talk to a person",
    "yes, thanks",
    "no, talk to a person",
    "yes, get me a person",
    "no, i'll ask another way",
}
TOPICS = {
    "order_tracking", "order_change", "delivery_problem", "shipping_info", "returns_refunds",
    "payments", "promotions", "account_access", "account_privacy", "membership",
    "product_info", "store_info",
}  # fmt: skip
SHORT = 6  # words: a message this short is searched together with the one before it


def _substantive(text: str, intent: str | None) -> bool:
    words = text.split()
    if text.strip().startswith("/") or text.strip().lower() in _BUTTON_TEXTS:
        return False
    if intent in CONVERSATIONAL:
        return False
    if len(words) < 12 and _ASKS_FOR_PERSON.search(text):
        return False  # "can I talk to someone" says nothing about the need
    return len(words) >= 2


def _complaint(turn: dict[str, Any]) -> bool:
    # "angry": the bot's policy read anger in the words, whatever NLU read (bot/policy.yml)
    if turn.get("intent") == "complain" or turn.get("angry") is True:
        return True
    return any(
        c.get("intent") == "complain" and float(c.get("confidence") or 0) >= 0.85
        for c in turn.get("clauses") or []
    )


def need_query(
    messages: list[Message], nlu_history: list[dict[str, Any]]
) -> tuple[str, dict[str, float]] | None:
    """The customer's need in their words (and NLU's topic ranking of it): the latest
    substantive message (the question the bot tried, or what they told the agent since),
    with the one before it if it is short or vague.

    A complaint ("this whole process has been a nightmare") says how they feel rather than
    what they need: an earlier question wins over it.
    """
    turns = {t.get("text"): t for t in nlu_history if isinstance(t, dict)}
    candidates: list[tuple[str, dict[str, Any]]] = []
    for message in messages:
        turn = turns.get(message.text) or {}
        if _substantive(message.text, turn.get("intent")):
            candidates.append((message.text, turn))
    if not candidates:
        return None
    calm = [c for c in candidates if not _complaint(c[1])] or candidates
    query, turn = calm[-1]
    # A follow-up ("ok how long am i supposed to wait") leans on the question before it.
    vague = turn.get("intent") not in TOPICS or float(turn.get("confidence") or 0) < 0.5
    if (len(query.split()) < SHORT or (turn and vague)) and len(calm) > 1:
        query = f"{calm[-2][0]} {query}"
    # NLU's topic ranking of that message nudges search as it does for the bot.
    intents = {
        r.get("intent"): float(r.get("confidence") or 0)
        for r in turn.get("ranking") or []
        if r.get("intent") in TOPICS
    }
    return query[:1000], intents


def suggest(session: Session, state: Any, conversation: Conversation) -> dict[str, Any]:
    """Help-center passages and past agent replies for what the customer needs (their
    substantive messages, not "let me talk to a person")."""
    customer_messages = list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.sender == CUSTOMER)
            .order_by(Message.id)
        )
    )
    if not customer_messages:
        return {"for_message_id": None, "query": None, "suggestions": []}
    latest = customer_messages[-1]
    escalation = session.scalars(
        select(Escalation)
        .where(Escalation.conversation_id == conversation.id)
        .order_by(Escalation.id.desc())
    ).first()
    history = (escalation.context or {}).get("nlu_history") or [] if escalation else []
    need = need_query(customer_messages, history)
    text, intents = need if need else (latest.text[:1000], {})
    suggestions: list[dict[str, Any]] = []
    try:
        results = state.search.search(text, TOP, intents=intents)
    except QueryError:  # text the chat accepts but search does not (e.g. control characters)
        results = []
    for r in results:
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
    return {"for_message_id": latest.id, "query": text, "suggestions": suggestions}
