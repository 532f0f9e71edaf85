"""App fixtures for the handoff tests: real app and database (SQLite and PostgreSQL),
Rasa faked at its HTTP boundary (the end-to-end tests run the real Rasa)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from handoff.config import HandoffSettings
from tests.db import postgres_engine

SERVICE = {"Authorization": "Bearer test-service-token"}
ALWAYS_OPEN = "mon-sun 00:00-24:00"


@dataclass
class FakeRasa:
    """Answers the REST webhook like the real bot would for a few fixed messages."""

    up: bool = True
    resume_status: int = 200
    calls: list[dict] = field(default_factory=list)
    # Like bot/run-rasa.sh: the channel wants the token as a bearer header, the API as ?token=.
    token: str = "dev-rasa-token"
    on_events: Callable[[list], None] | None = None  # runs when tracker events arrive

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        body = json.loads(request.content or b"null")
        self.calls.append({"path": request.url.path, "body": body})
        if request.url.path.endswith("/tracker/events"):
            if request.url.params.get("token") != self.token:
                return httpx.Response(401, json={"message": "missing token"})
            if self.on_events is not None:
                self.on_events(body)
            return httpx.Response(self.resume_status, json={})
        if request.url.path != "/webhooks/supportbot/webhook":
            return httpx.Response(404, json={})
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"error": "missing or invalid app token"})
        text = body["message"]
        if text == "/session_start" or "action server down" in text:
            return httpx.Response(200, json=[])  # Rasa says nothing when an action fails
        if text.startswith("thanks"):  # the turn policy ends a conversation it handled
            return httpx.Response(
                200,
                json=[
                    {"recipient_id": body["sender"], "text": "You're welcome!"},
                    {"recipient_id": body["sender"], "custom": {"end": "resolved_by_bot"}},
                ],
            )
        if "return" in text:
            return httpx.Response(
                200,
                json=[
                    {
                        "recipient_id": body["sender"],
                        "text": "You can return unused items within 60 days.",
                        "buttons": [{"title": "Yes, thanks", "payload": "/affirm"}],
                    },
                    {
                        "recipient_id": body["sender"],
                        "custom": {
                            "articles": [
                                {
                                    "slug": "return-policy",
                                    "title": "Return policy",
                                    "url": "http://x/help/return-policy",
                                }
                            ]
                        },
                    },
                ],
            )
        if "llama" in text:  # nothing in the help center: a person is offered
            return httpx.Response(
                200,
                json=[
                    {"recipient_id": body["sender"], "text": "I couldn't find that."},
                    {"recipient_id": body["sender"], "custom": {"unanswered": "no_kb_answer"}},
                ],
            )
        return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": f"echo: {text}"}])

    def webhook_calls(self) -> list[dict]:
        return [c for c in self.calls if c["path"].endswith("/webhook")]

    def texts_sent(self) -> list[str]:
        return [c["body"]["message"] for c in self.webhook_calls()]


@dataclass
class Handoff:
    client: TestClient
    rasa: FakeRasa
    backend: str

    def new_conversation(self) -> tuple[str, dict]:
        body = self.client.post(
            "/api/conversations", json={"metadata": {"page": "/checkout"}}
        ).json()
        return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}

    def escalate(self, conversation_id: str, reason: str = "requested", **extra) -> httpx.Response:
        payload = {
            "conversation_id": conversation_id,
            "reason": reason,
            "topic_intent": "returns_refunds",
            "nlu_history": [{"text": "refund?", "intent": "returns_refunds", "confidence": 0.91}],
            "articles_tried": [{"slug": "refund-timing", "score": 0.48}],
            **extra,
        }
        return self.client.post("/api/handoff/escalations", json=payload, headers=SERVICE)

    def agent(self, email: str, role: str = "agent") -> dict:
        state = self.client.app.state.supportbot
        from handoff.agents import AgentService
        from handoff.uow import unit_of_work

        with unit_of_work(state.sessions, state.bus) as uow:
            service = AgentService(uow.session)
            if service.by_email(email) is None:
                service.create(
                    email=email,
                    name=email.split("@")[0].title(),
                    role=role,
                    password="s3cret-password",
                )
        token = self.client.post(
            "/api/auth/login", json={"email": email, "password": "s3cret-password"}
        ).json()["token"]
        self.client.cookies.clear()  # tests authenticate with explicit bearer tokens
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def handoff(request, tmp_path_factory) -> Handoff:
    var = tmp_path_factory.mktemp("handoff-var")
    shared_index = tmp_path_factory.getbasetemp() / "shared-index"
    database_url = ""
    engines = None
    if request.param == "postgresql":
        engines = postgres_engine()
        database_url = next(engines).url.render_as_string(hide_password=False)
    settings = Settings(
        var_dir=var,
        index_dir=shared_index,
        database_url=database_url,
        service_token="test-service-token",
        rasa_url="http://rasa.test",
    )
    handoff_settings = HandoffSettings(
        business_hours=ALWAYS_OPEN,
        rate_per_conversation=1000,
        rate_per_ip=10_000,
        conversations_per_ip_per_hour=10_000,
        login_attempts_per_minute=10_000,
    )
    fake = FakeRasa()
    with TestClient(create_app(settings, handoff_settings)) as client:
        state = client.app.state.supportbot
        # Rasa faked at its HTTP boundary; the app's own RasaClient and ChatService stay.
        state.rasa.http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
        state.rasa.base_url = "http://rasa.test"
        yield Handoff(client, fake, request.param)
    if engines is not None:
        engines.close()
