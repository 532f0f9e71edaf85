"""Hand the conversation to a person: escalate to the app's agent queue, then pause the bot."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import policy
from bot.actions.clients.app import AppClient, AppUnavailable
from bot.actions.context import latest_intent, user_turns
from bot.actions.messages import HANDOFF_UNREACHABLE

logger = logging.getLogger(__name__)

MAX_TURNS = 30
MAX_ARTICLES = 20

# Escalation reason codes (DESIGN.md "Contract: escalation reason codes").
REASONS = {
    "requested",
    "sensitive_topic",
    "low_confidence",
    "no_kb_answer",
    "negative_feedback",
    "frustration",
    "repeated",
}

_INTRO = {
    "requested": "Sure, I'll connect you with a person from our support team.",
    "sensitive_topic": "This is something a person on our team should handle, so I'm passing "
    "you to them with priority.",
    "low_confidence": "I'm not sure I understood, so I'm bringing in a person from our team.",
    "no_kb_answer": "I couldn't find an answer to that in our help center, so I'm bringing in "
    "a person from our team.",
    "negative_feedback": "Sorry that didn't help. I'm bringing in a person from our team.",
    "frustration": "I'm sorry this has been frustrating. Let me get a person from our "
    "support team to help you.",
    "repeated": "It looks like my answers aren't solving this, so I'm bringing in a person "
    "from our team.",
}


def reason_for(tracker: Tracker) -> str:
    """The reason code the policy chose this turn (bot/actions/policy.py)."""
    slot = tracker.get_slot("handoff_reason")
    if slot in REASONS:
        return slot
    from bot.actions.kb import understood

    return policy.escalation_reason(understood(tracker), policy.load_config()) or "requested"


def escalation_payload(tracker: Tracker, reason: str) -> dict[str, Any]:
    """Everything an agent needs so the customer never has to repeat themselves."""
    turns = user_turns(tracker)
    topic = next(
        (
            t["intent"]
            for t in reversed(turns)
            if t["intent"] not in (None, "nlu_fallback", "affirm", "deny", "request_human")
        ),
        None,
    )
    return {
        "conversation_id": tracker.sender_id,
        "reason": reason,
        "intent": latest_intent(tracker) or None,
        "topic_intent": topic,
        "last_message": (tracker.latest_message.get("text") or "")[:2000],
        # The latest context only: agents read the transcript for the rest.
        "nlu_history": turns[-MAX_TURNS:],
        "articles_tried": list(tracker.get_slot("kb_articles_tried") or [])[-MAX_ARTICLES:],
        "entities": {
            name: tracker.get_slot(name)
            for name in ("order_number", "email")
            if tracker.get_slot(name)
        },
    }


def customer_message(reason: str, reply: dict[str, Any]) -> str:
    """What the customer reads: why, then where they stand in the queue (or the offline path)."""
    if reply.get("customer_message"):
        return str(reply["customer_message"])
    intro = _INTRO.get(reason, "")
    if reply.get("agents_online") is False:
        status = (
            "Our support team is offline right now. Leave your email here and we'll reply as "
            "soon as we're back; your conversation stays in our queue."
        )
    else:
        position = reply.get("position")
        wait = reply.get("expected_wait_s")
        status = "They'll see our whole conversation, so you won't need to repeat yourself."
        if position:
            status = f"You're number {position} in the queue. " + status
        if wait:
            minutes = max(1, round(float(wait) / 60))
            status += f" Expected wait: about {minutes} min."
    return f"{intro} {status}".strip()


class ActionHandoff(Action):
    """Escalates to the human agent queue with the NLU history and articles tried."""

    def __init__(self, client: AppClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_handoff"

    @property
    def client(self) -> AppClient:
        if self._client is None:
            self._client = AppClient()
        return self._client

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reason = reason_for(tracker)
        try:
            reply = await self.client.escalate(escalation_payload(tracker, reason))
        except AppUnavailable:
            dispatcher.utter_message(text=HANDOFF_UNREACHABLE)
            # Keep the bot listening: nobody took the conversation.
            return [SlotSet("handoff_reason", None)]
        dispatcher.utter_message(
            text=customer_message(reason, reply),
            json_message={
                "handoff": {
                    k: reply.get(k)
                    for k in ("reason", "position", "expected_wait_s", "agents_online")
                }
            },
        )
        # Paused trackers skip prediction until the agent hands the conversation back.
        return [
            SlotSet("handoff_reason", None),
            SlotSet("bot_move", None),
            SlotSet("unclear_in_row", 0.0),
            ConversationPaused(),
        ]
