"""The whole stack as real processes: app (8000-ish), action server, Rasa server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.services import (
    RASA_BIN,
    ROOT,
    app_service,
    base_env,
    free_port,
    rasa_service,
    service,
    write_endpoints,
)


@dataclass
class Stack:
    app_url: str
    rasa_url: str
    actions_url: str
    var_dir: Path
    env: dict


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    models = sorted((ROOT / "models").glob("*.tar.gz"))
    if not RASA_BIN.exists() or not models:
        pytest.fail(
            "end-to-end tests need the Rasa environment and a trained model: run `make train`"
        )
    work = tmp_path_factory.mktemp("stack")
    var = work / "var"
    var.mkdir()
    app_port, actions_port, rasa_port = free_port(), free_port(), free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    env = base_env(
        SUPPORTBOT_VAR_DIR=str(var),
        SUPPORTBOT_APP_URL=app_url,
        SUPPORTBOT_RASA_URL=rasa_url,
        SUPPORTBOT_PUBLIC_BASE_URL=app_url,
        SUPPORTBOT_SERVICE_TOKEN="e2e-service-token",
        SUPPORTBOT_HANDOFF_BUSINESS_HOURS="mon-sun 00:00-24:00",
    )
    endpoints = write_endpoints(work / "endpoints.yml", actions_port, var / "rasa-tracker.db")
    with (
        app_service("app", app_port, env, work),
        service(
            "actions",
            [
                str(RASA_BIN),
                "run",
                "actions",
                "--actions",
                "bot.actions",
                "--port",
                str(actions_port),
            ],
            env,
            f"http://127.0.0.1:{actions_port}/health",
            work,
        ),
        rasa_service("rasa", rasa_port, endpoints, env, work),
    ):
        yield Stack(app_url, rasa_url, f"http://127.0.0.1:{actions_port}", var, env)
