"""Scale-out: two app workers on one PostgreSQL database agree through Redis pub/sub."""

from __future__ import annotations

import json
import uuid
from contextlib import ExitStack

import httpx
import pytest
from websockets.sync.client import connect

from tests.db import postgres_engine
from tests.e2e.services import app_service, base_env, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


def test_live_events_cross_workers(tmp_path, tmp_path_factory):
    engines = postgres_engine()
    engine = next(engines)
    try:
        env = base_env(
            SUPPORTBOT_DATABASE_URL=engine.url.render_as_string(hide_password=False),
            SUPPORTBOT_REDIS_URL="redis://127.0.0.1:6379/0",
            SUPPORTBOT_VAR_DIR=str(tmp_path / "var"),
            SUPPORTBOT_INDEX_DIR=str(tmp_path_factory.getbasetemp() / "workers-index"),
            SUPPORTBOT_SERVICE_TOKEN="workers-service-token",
            SUPPORTBOT_RASA_URL="http://127.0.0.1:9",
            SUPPORTBOT_HANDOFF_BUSINESS_HOURS="mon-sun 00:00-24:00",
        )
        ports = [free_port(), free_port()]
        with ExitStack() as stack:
            for i, port in enumerate(ports):
                stack.enter_context(app_service(f"app-{i}", port, env, tmp_path))
            a, b = (
                stack.enter_context(httpx.Client(base_url=f"http://127.0.0.1:{p}", timeout=30))
                for p in ports
            )
            from sqlalchemy.orm import Session

            from handoff.agents import AgentService

            with Session(engine) as session:
                AgentService(session).create(
                    email="w@example.com", name="W", role="agent", password="workers-pass-1"
                )
                session.commit()
            agent_token = b.post(
                "/api/auth/login", json={"email": "w@example.com", "password": "workers-pass-1"}
            ).json()["token"]
            agent = {"Authorization": f"Bearer {agent_token}"}
            conv = a.post("/api/conversations", json={}).json()
            cid = conv["conversation_id"]
            ws_a = f"ws://127.0.0.1:{ports[0]}"
            with (
                connect(f"{ws_a}/api/handoff/ws", open_timeout=10) as console,
                connect(f"{ws_a}/api/conversations/{cid}/ws", open_timeout=10) as widget,
            ):
                console.send(json.dumps({"type": "auth", "token": agent_token}))
                widget.send(json.dumps({"type": "auth", "token": conv["token"]}))
                assert json.loads(console.recv(timeout=10))["type"] == "ready"
                assert json.loads(widget.recv(timeout=10))["type"] == "ready"
                # Escalated through worker B; worker A's agent console hears about it.
                b.post(
                    "/api/handoff/escalations",
                    headers={"Authorization": "Bearer workers-service-token"},
                    json={"conversation_id": cid, "reason": "requested"},
                ).raise_for_status()
                events = [json.loads(console.recv(timeout=10)) for _ in range(2)]
                assert {"queue.escalated"} <= {e["type"] for e in events}
                # Claimed and answered through worker B; the customer on worker A gets it live.
                b.post(f"/api/handoff/conversations/{cid}/claim", headers=agent).raise_for_status()
                text = f"hello from worker B {uuid.uuid4().hex[:6]}"
                b.post(
                    f"/api/handoff/conversations/{cid}/messages", headers=agent, json={"text": text}
                ).raise_for_status()
                seen = []
                while not any(e.get("message", {}).get("text") == text for e in seen):
                    seen.append(json.loads(widget.recv(timeout=10)))
    finally:
        engines.close()
