"""Answer support questions from the help center (knowledge-base search in the app)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.clients.app import AppClient, AppUnavailable, SearchResult
from bot.actions.context import latest_intent
from bot.actions.messages import APP_UNREACHABLE, TALK_TO_PERSON

logger = logging.getLogger(__name__)

# A second article is offered when it scores within this margin of the best one.
RELATED_MARGIN = 0.05

HELPFUL_BUTTONS = [
    {"title": "Yes, thanks", "payload": "/affirm"},
    {"title": "No, talk to a person", "payload": "/deny"},
]


def _article(result: SearchResult) -> dict[str, str]:
    return {"slug": result.slug, "title": result.title, "url": result.url}


def _related(results: list[SearchResult]) -> SearchResult | None:
    best = results[0]
    for other in results[1:]:
        if other.slug != best.slug and best.score - other.score <= RELATED_MARGIN:
            return other
    return None


class ActionAnswerFromKb(Action):
    """Searches the help center for the customer's message and answers with the best passage.

    Hands off (``no_kb_answer``) when nothing scores above the app's answer threshold and
    (``repeated``) when the best article was already shown and the question comes again.
    """

    def __init__(self, client: AppClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_answer_from_kb"

    @property
    def client(self) -> AppClient:
        if self._client is None:
            self._client = AppClient()
        return self._client

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        query = (tracker.latest_message.get("text") or "").strip()
        intent = latest_intent(tracker)
        tried = list(tracker.get_slot("kb_articles_tried") or [])
        try:
            response = await self.client.search(query)
        except AppUnavailable:
            dispatcher.utter_message(text=APP_UNREACHABLE, buttons=[TALK_TO_PERSON])
            return []

        results = response.results
        if not results or results[0].score < response.threshold:
            logger.info(
                "no KB answer for %r (best %.3f < %.3f)",
                query,
                results[0].score if results else 0.0,
                response.threshold,
            )
            tried += [
                {
                    "slug": r.slug,
                    "title": r.title,
                    "score": r.score,
                    "intent": intent,
                    "shown": False,
                }
                for r in results[:3]
            ]
            return [
                SlotSet("kb_articles_tried", tried),
                SlotSet("handoff_reason", "no_kb_answer"),
                FollowupAction("action_handoff"),
            ]

        best = results[0]
        if any(t.get("slug") == best.slug and t.get("shown") for t in tried):
            # Same article again: the first answer did not solve it. Get a person.
            return [
                SlotSet("kb_articles_tried", tried),
                SlotSet("handoff_reason", "repeated"),
                FollowupAction("action_handoff"),
            ]

        # The citation travels as data (``articles``): each channel shows it its own way
        # (links in our widget, Markdown links over socket.io, a field in the REST API).
        articles = [_article(best)]
        related = _related(results)
        if related is not None:
            articles.append(_article(related))
        text = f"{best.snippet}\n\nDid this answer your question?"
        dispatcher.utter_message(
            text=text, buttons=HELPFUL_BUTTONS, json_message={"articles": articles}
        )
        tried.append(
            {
                "slug": best.slug,
                "title": best.title,
                "score": best.score,
                "intent": intent,
                "shown": True,
            }
        )
        return [SlotSet("kb_articles_tried", tried)]
