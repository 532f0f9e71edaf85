"""The stack's processes under our own control: start, SIGKILL, start again on the same port.

``tests/e2e/services.py`` runs each process for the length of a ``with`` block; fault runs
need to kill one at a random moment and bring it back where it was (same port, same
database, same Rasa tracker store), keeping every incarnation's output in one log file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.stack import prepare, stack_env
from tests.e2e.services import (
    APP_PYTHON,
    RASA_TOKEN,
    ROOT,
    free_port,
    write_endpoints,
)


@dataclass
class Process:
    """One service: its command, environment and readiness URL; restartable."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    ready_url: str
    log_path: Path
    proc: subprocess.Popen | None = None
    starts: int = 0
    kills: int = 0
    # (killed_at, ready_again_at) per kill, time.monotonic(); ready_again_at None while down.
    outages: list[list[float | None]] = field(default_factory=list)
    start_seconds: list[float] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        """Starts the process (not waiting for it); output appended to ``log_path``."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self.starts += 1
        with self.log_path.open("ab") as log:
            stamp = time.strftime("%H:%M:%S")
            log.write(f"\n===== {self.name} start #{self.starts} at {stamp} =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def wait_ready(self, timeout: float = 300.0) -> float:
        """Blocks until ``ready_url`` answers 200; returns seconds waited."""
        began = time.monotonic()
        deadline = began + timeout
        while True:
            if self.proc is None or self.proc.poll() is not None:
                code = self.proc.returncode if self.proc else None
                raise RuntimeError(f"{self.name} exited with {code}:\n{self.tail()}")
            try:
                if httpx.get(self.ready_url, timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.tail()}")
            time.sleep(0.25)
        now = time.monotonic()
        self.start_seconds.append(round(now - began, 1))
        if self.outages and self.outages[-1][1] is None:
            self.outages[-1][1] = now
        return now - began

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown handlers, no flushing."""
        if not self.running:
            raise RuntimeError(f"{self.name} is not running")
        assert self.proc is not None
        self.outages.append([time.monotonic(), None])
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.kills += 1
        with self.log_path.open("ab") as log:
            log.write(
                f"\n===== {self.name} SIGKILL at {time.strftime('%H:%M:%S')} =====\n".encode()
            )

    def restart(self, timeout: float = 300.0) -> float:
        self.start()
        return self.wait_ready(timeout)

    def stop(self) -> None:
        """SIGTERM (then SIGKILL after 20 s) for the end of a run."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass

    def down_at(self, moment: float) -> bool:
        """Whether the process was killed and not ready again at ``moment`` (monotonic)."""
        return any(k <= moment and (r is None or moment < r) for k, r in self.outages)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class Stack:
    """Rasa, actions and app on fixed ports with one var dir, each restartable."""

    app_url: str
    rasa_url: str
    env: dict[str, str]
    work: Path
    processes: dict[str, Process]

    @property
    def var(self) -> Path:
        return Path(self.env["SUPPORTBOT_VAR_DIR"])

    @property
    def database(self) -> Path:
        return self.var / "supportbot.db"

    def all_up_at(self, moment: float) -> bool:
        return not any(p.down_at(moment) for p in self.processes.values())

    def any_down_between(self, start: float, end: float) -> bool:
        """Whether some process was down at any moment of [start, end]."""
        for p in self.processes.values():
            for killed, ready in p.outages:
                if killed <= end and (ready is None or ready >= start):
                    return True
        return False

    def start(self, timeout: float = 300.0) -> None:
        """Starts the three together (they load models in parallel), then waits for each."""
        for p in self.processes.values():
            p.start()
        for p in self.processes.values():
            p.wait_ready(timeout)

    def stop(self) -> None:
        for p in self.processes.values():
            p.stop()


def make_stack(work: Path, **settings: str) -> Stack:
    """The three processes as bench/stack.py starts them (fresh database under ``work``),
    not started yet."""
    var = prepare(work)
    app_port, actions_port, rasa_port = free_port(), free_port(), free_port()
    app_url, rasa_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{rasa_port}"
    env = stack_env(var, app_url, rasa_url, **settings)
    endpoints = write_endpoints(work / "endpoints.yml", actions_port, var / "rasa-tracker.db")
    token = env.get("SUPPORTBOT_RASA_TOKEN", RASA_TOKEN)
    processes = {
        "app": Process(
            "app",
            [str(APP_PYTHON), "-m", "uvicorn", "--factory", "api.main:create_app",
             "--host", "127.0.0.1", "--port", str(app_port)],
            env, f"{app_url}/healthz", work / "app.log",
        ),
        "actions": Process(
            "actions",
            [str(ROOT / "bot" / "run-actions.sh"), "--port", str(actions_port)],
            env, f"http://127.0.0.1:{actions_port}/health", work / "actions.log",
        ),
        "rasa": Process(
            "rasa",
            [str(ROOT / "bot" / "run-rasa.sh"), "--port", str(rasa_port),
             "--model", str(ROOT / "models"), "--endpoints", str(endpoints)],
            env, f"{rasa_url}/status?token={token}", work / "rasa.log",
        ),
    }  # fmt: skip
    return Stack(app_url, rasa_url, env, work, processes)
