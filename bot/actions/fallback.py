"""Low NLU confidence: ask to rephrase once, then hand off (``low_confidence``)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.config import get_settings
from bot.actions.context import consecutive_fallbacks
from bot.actions.messages import ASK_REPHRASE, TALK_TO_PERSON


class ActionHandleFallback(Action):
    """Rephrase once; escalate on a repeated fallback or a long message not understood."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        settings = get_settings()
        words = len((tracker.latest_message.get("text") or "").split())
        repeated = consecutive_fallbacks(tracker) >= settings.fallback_max_consecutive
        if repeated or words >= settings.fallback_substantive_words:
            return [SlotSet("handoff_reason", "low_confidence"), FollowupAction("action_handoff")]
        dispatcher.utter_message(text=ASK_REPHRASE, buttons=[TALK_TO_PERSON])
        return []
