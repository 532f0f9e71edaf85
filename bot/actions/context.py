"""What the bot understood so far, read from the tracker (sent to agents on handoff)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.actions import policy


def user_turns(tracker: Tracker) -> list[dict[str, Any]]:
    """Customer messages with the intent, confidence and entities NLU gave each one, and
    whether the policy read anger in its words (``angry``: "Unbelievable. ... I'm furious",
    whatever NLU read): the agent's suggestions look past such a message for the need."""
    cfg = policy.load_config()
    turns = []
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        ranking = parse.get("intent_ranking") or []
        turns.append(
            {
                "text": event.get("text") or "",
                "intent": intent.get("name"),
                "confidence": round(float(intent.get("confidence") or 0.0), 4),
                # Under a fallback, what NLU would have guessed is still useful to an agent.
                "ranking": [
                    {
                        "intent": r.get("name"),
                        "confidence": round(float(r.get("confidence") or 0), 4),
                    }
                    for r in ranking[:3]
                ],
                "entities": [
                    {"entity": e.get("entity"), "value": e.get("value")}
                    for e in parse.get("entities") or []
                ],
                # Clauses of a long message that NLU read on their own.
                "clauses": [
                    {
                        "text": c.get("text"),
                        "intent": c.get("intent"),
                        "confidence": round(float(c.get("confidence") or 0), 4),
                    }
                    for c in parse.get("sentence_intents") or []
                ][:12],
                "angry": policy.angry_words(
                    policy.Understood.from_parse({**parse, "text": event.get("text") or ""}), cfg
                ),
                "timestamp": event.get("timestamp"),
            }
        )
    return turns


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""
