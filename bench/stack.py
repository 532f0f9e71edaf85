"""The whole stack (Rasa server, action server, app) as real processes, for benchmarks."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

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


@dataclass
class Stack:
    app_url: str
    rasa_url: str
    env: dict[str, str]
    work: Path
    # process name (app, actions, rasa) -> pid, for CPU and memory readings
    pids: dict[str, int] = field(default_factory=dict)
    # every app worker (scale-out runs: bench/scaled_stack.py); empty = just app_url
    app_urls: list[str] = field(default_factory=list)

    def agent(self, email: str = "bench@northpeak.example") -> dict[str, str]:
        """A logged-in agent (made with the CLI) for the agent API."""
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "supportbot"), "agents", "create", "--email", email,
             "--name", "Bench", "--role", "agent", "--password", "bench-password-1"],
            env=self.env, cwd=ROOT, capture_output=True, check=True, timeout=120,
        )  # fmt: skip
        token = httpx.post(
            f"{self.app_url}/api/auth/login",
            json={"email": email, "password": "bench-password-1"},
            timeout=30,
        ).json()["token"]
        return {"Authorization": f"Bearer {token}"}


# A load generator is one client address: the per-address limits would throttle it.
UNLIMITED = {
    "SUPPORTBOT_HANDOFF_RATE_PER_CONVERSATION": "100000",
    "SUPPORTBOT_HANDOFF_RATE_PER_IP": "100000",
    "SUPPORTBOT_HANDOFF_CONVERSATIONS_PER_IP_PER_HOUR": "100000",
}


def prepare(work: Path) -> Path:
    """The run's var directory, after checking the Rasa environment and a model exist."""
    if not RASA_BIN.exists() or not any((ROOT / "models").glob("*.tar.gz")):
        raise SystemExit("the benchmark needs the Rasa environment and a model: run `make train`")
    var = work / "var"
    var.mkdir(parents=True, exist_ok=True)
    return var


def stack_env(var: Path, app_url: str, rasa_url: str, **settings: str) -> dict[str, str]:
    """The environment every process of a benchmark stack gets."""
    return base_env(
        SUPPORTBOT_VAR_DIR=str(var),
        SUPPORTBOT_APP_URL=app_url,
        SUPPORTBOT_RASA_URL=rasa_url,
        SUPPORTBOT_PUBLIC_BASE_URL=app_url,
        SUPPORTBOT_SERVICE_TOKEN="bench-service-token",
        SUPPORTBOT_HANDOFF_BUSINESS_HOURS="mon-sun 00:00-24:00",
        **settings,
    )


@contextmanager
def running_stack(work: Path, **settings: str) -> Iterator[Stack]:
    """Rasa, actions and app on free ports, with a fresh database under ``work``."""
    var = prepare(work)
    app_port, actions_port, rasa_port = free_port(), free_port(), free_port()
    app_url, rasa_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{rasa_port}"
    env = stack_env(var, app_url, rasa_url, **{**UNLIMITED, **settings})
    endpoints = write_endpoints(work / "endpoints.yml", actions_port, var / "rasa-tracker.db")
    with ExitStack() as stack:
        pids = {
            "app": stack.enter_context(app_service("app", app_port, env, work)).pid,
            "actions": stack.enter_context(actions_service("actions", actions_port, env, work)).pid,
            "rasa": stack.enter_context(rasa_service("rasa", rasa_port, endpoints, env, work)).pid,
        }
        yield Stack(app_url, rasa_url, env, work, pids)
