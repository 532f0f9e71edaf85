"""Fixtures for action unit tests: real Tracker/CollectingDispatcher, fake app over HTTP."""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, List, Optional

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.clients.app import AppClient
from bot.actions.config import ActionSettings


def user_event(text: str, intent: str, confidence: float = 0.9, entities=None) -> Dict[str, Any]:
    return {
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
            "entities": entities or [],
        },
    }


def action_event(name: str) -> Dict[str, Any]:
    return {"event": "action", "timestamp": time.time(), "name": name}


def make_tracker(events: List[Dict[str, Any]], slots: Optional[Dict[str, Any]] = None) -> Tracker:
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
    """Records requests and answers them with a handler (the HTTP boundary, nothing else)."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: List[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def client(self) -> AppClient:
        settings = ActionSettings(app_url="http://app.test", service_token="svc-token-for-tests")
        return AppClient(settings, transport=httpx.MockTransport(self))

    def json_of(self, index: int) -> Dict[str, Any]:
        return json.loads(self.requests[index].content)


def search_response(results, threshold: float = 0.45) -> httpx.Response:
    return httpx.Response(200, json={"results": results, "threshold": threshold})


def result(slug: str, score: float, snippet: str = "Answer text.") -> Dict[str, Any]:
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
