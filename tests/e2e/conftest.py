"""The whole stack as real processes: app (8000-ish), action server, Rasa server."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.services import (
    RASA_BIN,
    ROOT,
    actions_service,
    app_service,
    base_env,
    free_port,
    rasa_service,
    write_endpoints,
)

IDENTITY_SECRET = "e2e-identity-secret-0123456789"


@dataclass
class Stack:
    app_url: str
    rasa_url: str
    actions_url: str
    var_dir: Path
    env: dict
    rasa_pid: int = 0


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
        SUPPORTBOT_IDENTITY_SECRET=IDENTITY_SECRET,
    )
    endpoints = write_endpoints(work / "endpoints.yml", actions_port, var / "rasa-tracker.db")
    with (
        app_service("app", app_port, env, work),
        actions_service("actions", actions_port, env, work),
        rasa_service("rasa", rasa_port, endpoints, env, work) as rasa,
    ):
        yield Stack(app_url, rasa_url, f"http://127.0.0.1:{actions_port}", var, env, rasa.pid)


@dataclass
class StaffAccount:
    email: str
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def create_staff(stack: Stack, email: str, name: str, role: str, password: str) -> StaffAccount:
    """An account made with the real CLI, then logged in through the API."""
    created = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "supportbot"),
            "agents",
            "create",
            "--email",
            email,
            "--name",
            name,
            "--role",
            role,
            "--password",
            password,
        ],  # fmt: skip
        env=stack.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    login = httpx.post(
        f"{stack.app_url}/api/auth/login", json={"email": email, "password": password}, timeout=30
    )
    login.raise_for_status()
    return StaffAccount(email, name, login.json()["token"])


@pytest.fixture(scope="session")
def maya(stack) -> StaffAccount:
    """An agent on duty for the whole end-to-end session."""
    return create_staff(stack, "maya@northpeak.example", "Maya", "agent", "e2e-password-123")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
