"""Start the real processes (Rasa server, action server, app) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
APP_PYTHON = ROOT / ".venv" / "bin" / "python"
# The tokens between the processes (the app -> Rasa channel and API, Rasa -> actions).
RASA_TOKEN = "test-rasa-token"
ACTIONS_TOKEN = "test-actions-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORTBOT_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        RASA_TELEMETRY_ENABLED="false",
        PYTHONPATH=str(ROOT),
        SUPPORTBOT_ENVIRONMENT="testing",
        SUPPORTBOT_RASA_TOKEN=RASA_TOKEN,
        SUPPORTBOT_ACTIONS_TOKEN=ACTIONS_TOKEN,
        RASA=str(RASA_BIN),
        RASA_PYTHON=str(RASA_PYTHON),
    )
    env.update(extra)
    return env


@contextmanager
def service(
    name: str,
    cmd: list[str],
    env: dict[str, str],
    ready_url: str,
    log_dir: Path,
    timeout: float = 180.0,
):
    """Runs ``cmd`` until the block ends; waits for ``ready_url`` to answer 200 first."""
    log_path = log_dir / f"{name}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}"
                )
            try:
                if httpx.get(ready_url, timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} not ready after {timeout}s:\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def write_endpoints(path: Path, actions_port: int, tracker_db: Path) -> Path:
    path.write_text(
        f"""action_endpoint:
  url: "http://127.0.0.1:{actions_port}/webhook"
  headers:
    Authorization: "Bearer {ACTIONS_TOKEN}"
tracker_store:
  type: bot.tracker_store.TurnTrackerStore
  dialect: sqlite
  db: {tracker_db}
lock_store:
  type: in_memory
"""
    )
    return path


def app_service(name: str, port: int, env: dict[str, str], log_dir: Path):
    """The app under uvicorn on ``port``, ready when /healthz answers."""
    cmd = [str(APP_PYTHON), "-m", "uvicorn", "--factory", "api.main:create_app",
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    return service(name, cmd, env, f"http://127.0.0.1:{port}/healthz", log_dir)


def actions_service(name: str, port: int, env: dict[str, str], log_dir: Path):
    """The action server (bot/run-actions.sh) on ``port``, ready when /health answers."""
    cmd = [str(ROOT / "bot" / "run-actions.sh"), "--port", str(port)]
    return service(name, cmd, env, f"http://127.0.0.1:{port}/health", log_dir)


def rasa_service(name: str, port: int, endpoints: Path, env: dict[str, str], log_dir: Path):
    """The Rasa server as bot/run-rasa.sh runs it (API and channel token-protected), serving
    the newest model; ready when /status answers."""
    cmd = [str(ROOT / "bot" / "run-rasa.sh"), "--port", str(port),
           "--model", str(ROOT / "models"), "--endpoints", str(endpoints)]  # fmt: skip
    token = env.get("SUPPORTBOT_RASA_TOKEN", RASA_TOKEN)
    return service(name, cmd, env, f"http://127.0.0.1:{port}/status?token={token}", log_dir)


def rasa_webhook(rasa_url: str, sender: str, message: str, **extra) -> httpx.Response:
    """A message through the app's channel into Rasa, as the app sends it."""
    return httpx.post(
        f"{rasa_url}/webhooks/supportbot/webhook",
        json={"sender": sender, "message": message, **extra},
        headers={"Authorization": f"Bearer {RASA_TOKEN}"},
        timeout=60,
    )


def rasa_tracker(rasa_url: str, sender: str) -> dict:
    """Rasa's tracker for ``sender`` through its token-protected API."""
    return httpx.get(
        f"{rasa_url}/conversations/{sender}/tracker", params={"token": RASA_TOKEN}, timeout=10
    ).json()
