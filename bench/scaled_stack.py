"""The scale-out stack as real processes: N app workers and N Rasa servers sharing
PostgreSQL (app database and Rasa tracker store) and Redis (app events and rate limits,
Rasa lock store), one action server. What `make bench-chat --processes 2` measures against
the embedded 1 + 1 stack: the same processes behind any load balancer, on more machines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.stack import Stack
from tests.db import postgres_engine
from tests.e2e.services import (
    ACTIONS_TOKEN,
    actions_service,
    app_service,
    base_env,
    free_port,
    rasa_service,
)

REDIS = "redis://127.0.0.1:6379"


def write_scale_endpoints(path: Path, actions_port: int, database_url) -> Path:  # noqa: ANN001
    path.write_text(
        f"""action_endpoint:
  url: "http://127.0.0.1:{actions_port}/webhook"
  headers:
    Authorization: "Bearer {ACTIONS_TOKEN}"
tracker_store:
  type: bot.tracker_store.TurnTrackerStore
  dialect: postgresql
  url: {database_url.host}
  port: {database_url.port or 5432}
  db: {database_url.database}
  username: {database_url.username or "postgres"}
  password: "{database_url.password or ""}"
lock_store:
  type: redis
  url: 127.0.0.1
  port: 6379
  db: 2
"""
    )
    return path


@contextmanager
def running_scaled_stack(work: Path, processes: int) -> Iterator[Stack]:
    """``processes`` app workers and Rasa servers; ``Stack.app_urls`` lists the workers
    (a customer sticks to one, as behind a load balancer with sticky sessions or not: the
    state is shared)."""
    var = work / "var"
    var.mkdir(parents=True, exist_ok=True)
    app_db, rasa_db = postgres_engine(), postgres_engine()
    app_engine, rasa_engine = next(app_db), next(rasa_db)
    try:
        actions_port = free_port()
        app_ports = [free_port() for _ in range(processes)]
        rasa_ports = [free_port() for _ in range(processes)]
        common = dict(
            SUPPORTBOT_VAR_DIR=str(var),
            SUPPORTBOT_DATABASE_URL=app_engine.url.render_as_string(hide_password=False),
            SUPPORTBOT_REDIS_URL=f"{REDIS}/4",
            SUPPORTBOT_SERVICE_TOKEN="bench-service-token",
            SUPPORTBOT_HANDOFF_BUSINESS_HOURS="mon-sun 00:00-24:00",
            SUPPORTBOT_HANDOFF_RATE_PER_CONVERSATION="100000",
            SUPPORTBOT_HANDOFF_RATE_PER_IP="100000",
            SUPPORTBOT_HANDOFF_CONVERSATIONS_PER_IP_PER_HOUR="100000",
        )
        first_app = f"http://127.0.0.1:{app_ports[0]}"
        endpoints = write_scale_endpoints(work / "endpoints.yml", actions_port, rasa_engine.url)
        with ExitStack() as stack:
            pids: dict[str, int] = {}
            for i, (app_port, rasa_port) in enumerate(zip(app_ports, rasa_ports)):
                app_url = f"http://127.0.0.1:{app_port}"
                env = base_env(
                    **common,
                    SUPPORTBOT_APP_URL=app_url,
                    SUPPORTBOT_PUBLIC_BASE_URL=first_app,
                    SUPPORTBOT_RASA_URL=f"http://127.0.0.1:{rasa_port}",
                )
                # One at a time: the first worker migrates and builds the index.
                pids[f"app-{i}"] = stack.enter_context(
                    app_service(f"app-{i}", app_port, env, work)
                ).pid
            env = base_env(**common, SUPPORTBOT_APP_URL=first_app)
            pids["actions"] = stack.enter_context(
                actions_service("actions", actions_port, env, work)
            ).pid
            for i, rasa_port in enumerate(rasa_ports):
                pids[f"rasa-{i}"] = stack.enter_context(
                    rasa_service(f"rasa-{i}", rasa_port, endpoints, env, work)
                ).pid
            urls = [f"http://127.0.0.1:{p}" for p in app_ports]
            yield Stack(urls[0], f"http://127.0.0.1:{rasa_ports[0]}", env, work, pids, urls)
    finally:
        app_db.close()
        rasa_db.close()
