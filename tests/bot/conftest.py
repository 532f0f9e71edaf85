"""Fixtures for action unit tests: real Tracker/CollectingDispatcher, fake app over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.clients.app import AppClient
from bot.actions.config import ActionSettings


def user_event(
    text: str, intent: str, confidence: float = 0.9, entities=None, embedding=None, others=()
) -> dict[str, Any]:
    event = {
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [
                {"name": intent, "confidence": confidence},
                *({"name": n, "confidence": c} for n, c in others),
            ],
            "entities": entities or [],
        },
    }
    if embedding is not None:  # what the ONNX featurizer adds to the parse result
        event["parse_data"]["text_embedding"] = embedding
    return event


def action_event(name: str) -> dict[str, Any]:
    return {"event": "action", "timestamp": time.time(), "name": name}


def make_tracker(events: list[dict[str, Any]], slots: dict[str, Any] | None = None) -> Tracker:
    latest = next((e for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(
        sender_id="conv-123",
        slots=slots or {},
        latest_message=latest.get("parse_data", {}),
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )


class FakeApp:
    """Records requests and answers them with a handler (the HTTP boundary, nothing else):
    the handler gets each request as an ``httpx.Request`` and returns an ``httpx.Response``,
    or raises an ``httpx.HTTPError`` for a connection that fails."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    async def send(
        self, method: str, url: str, headers: dict[str, str], body: Any
    ) -> tuple[int, bytes]:
        """The AppClient transport: what the app would answer."""
        request = httpx.Request(method, url, headers=headers, json=body)
        self.requests.append(request)
        try:
            response = self.handler(request)
        except httpx.HTTPError as exc:  # as aiohttp reports a failed connection
            raise aiohttp.ClientConnectionError(str(exc)) from exc
        return response.status_code, response.content

    def client(self) -> AppClient:
        settings = ActionSettings(app_url="http://app.test", service_token="svc-token-for-tests")
        return AppClient(settings, transport=self.send)

    def json_of(self, index: int) -> dict[str, Any]:
        return json.loads(self.requests[index].content)


def search_response(results, threshold: float = 0.45) -> httpx.Response:
    return httpx.Response(200, json={"results": results, "threshold": threshold})


def result(slug: str, score: float, snippet: str = "Answer text.") -> dict[str, Any]:
    return {
        "slug": slug,
        "title": slug.replace("-", " ").title(),
        "section": "Section",
        "snippet": snippet,
        "score": score,
        "url": f"http://app.test/help/{slug}",
    }


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()
