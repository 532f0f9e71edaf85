"""What the bot understood so far, read from the tracker (sent to agents on handoff)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

# Intents routed to a person at once, with high priority.
SENSITIVE_INTENTS = {"billing_dispute", "account_security"}


def user_turns(tracker: Tracker) -> list[dict[str, Any]]:
    """Customer messages with the intent, confidence and entities NLU gave each one."""
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
                "timestamp": event.get("timestamp"),
            }
        )
    return turns


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest customer messages in a row fell back (nlu_fallback)."""
    count = 0
    for turn in reversed(user_turns(tracker)):
        if turn["intent"] != "nlu_fallback":
            break
        count += 1
    return count


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def previous_action(tracker: Tracker) -> str:
    """The bot action before the customer's latest message (ignoring action_listen)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
            continue
        if (
            seen_user
            and event.get("event") == "action"
            and event.get("name") not in ("action_listen", None)
        ):
            return event["name"]
    return ""
