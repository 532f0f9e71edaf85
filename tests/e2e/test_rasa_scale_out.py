"""Scale-out: two Rasa servers share the PostgreSQL tracker store and the Redis lock store."""

from __future__ import annotations

import uuid
from contextlib import ExitStack

import pytest
from sqlalchemy import text

from tests.db import postgres_engine
from tests.e2e.services import (
    ROOT,
    actions_service,
    base_env,
    free_port,
    rasa_service,
    rasa_tracker,
    rasa_webhook,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


def test_two_rasa_servers_share_one_conversation(tmp_path):
    models = sorted((ROOT / "models").glob("*.tar.gz"))
    if not models:
        pytest.fail("needs a trained model: run `make train`")
    engines = postgres_engine()
    engine = next(engines)
    try:
        url = engine.url
        actions_port = free_port()
        env = base_env(
            SUPPORTBOT_ACTIONS_URL=f"http://127.0.0.1:{actions_port}/webhook",
            RASA_DB_HOST=url.host,
            RASA_DB_PORT=str(url.port),
            RASA_DB_NAME=url.database,
            RASA_DB_USER=url.username or "postgres",
            RASA_DB_PASSWORD=url.password or "",
            RASA_REDIS_HOST="127.0.0.1",
            RASA_REDIS_PORT="6379",
        )
        ports = [free_port(), free_port()]
        with ExitStack() as stack:
            # Every turn runs the turn policy's action (greetings too).
            stack.enter_context(actions_service("actions", actions_port, env, tmp_path))
            for i, port in enumerate(ports):
                stack.enter_context(
                    rasa_service(
                        f"rasa-{i}", port, ROOT / "bot" / "endpoints.scale.yml", env, tmp_path
                    )
                )
            sender = f"scale-{uuid.uuid4()}"

            def say(port: int, message: str) -> list[dict]:
                response = rasa_webhook(f"http://127.0.0.1:{port}", sender, message)
                response.raise_for_status()
                return response.json()

            assert "virtual assistant" in say(ports[0], "hello")[0]["text"]
            assert "Thanks for chatting" in say(ports[1], "bye for now")[0]["text"]
            # Server 1 sees what was said to server 0: the tracker lives in PostgreSQL.
            tracker = rasa_tracker(f"http://127.0.0.1:{ports[1]}", sender)
            said = [e["text"] for e in tracker["events"] if e["event"] == "user"]
            assert said == ["hello", "bye for now"]
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
            ).scalar()
        assert rows >= 6
    finally:
        engines.close()
