"""`make bench-handoff`: live-push latency and claim throughput on SQLite and PostgreSQL.

Each configuration runs real uvicorn workers. Measured in the same run as its baseline
(an HTTP GET /healthz round trip on the same worker):
- escalation -> visible in the agent console (POST /api/handoff/escalations sent until the
  agent WebSocket receives queue.escalated);
- customer message -> agent console (POST .../messages sent until the agent WebSocket
  receives it);
- claim throughput: 4 agents claiming 200 queued conversations concurrently.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from websockets.sync.client import connect

from bench.common import app_worker, percentiles, progress, save, table

ROOT = Path(__file__).resolve().parents[1]
N_EVENTS = 100
N_CLAIMS = 200
SERVICE = {"Authorization": "Bearer bench-service-token"}
PG_ADMIN = os.environ.get(
    "SUPPORTBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def postgres_db():
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"supportbot_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def recv_until(ws, predicate, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        event = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if predicate(event):
            return event


def run_config(name: str, env: dict, workers: int) -> dict:
    progress(f"{name}: starting {workers} worker(s)")
    with ExitStack() as stack:
        urls = [stack.enter_context(app_worker(env)) for _ in range(workers)]
        http = [stack.enter_context(httpx.Client(base_url=u, timeout=30)) for u in urls]
        writer, reader = http[-1], http[0]
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "supportbot"),
                "agents",
                "create",
                "--email",
                "b0@example.com",
                "--name",
                "Bench",
                "--password",
                "bench-password-0",
            ],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        token = reader.post(
            "/api/auth/login", json={"email": "b0@example.com", "password": "bench-password-0"}
        ).json()["token"]
        ws_url = urls[0].replace("http", "ws") + f"/api/handoff/ws?token={token}"
        base = []
        for _ in range(N_EVENTS):
            start = time.perf_counter()
            writer.get("/healthz")
            base.append((time.perf_counter() - start) * 1000)
        escalation, delivery = [], []
        with connect(ws_url, open_timeout=10) as console:
            recv_until(console, lambda e: e["type"] == "ready")
            for _ in range(N_EVENTS):
                conv = writer.post("/api/conversations", json={}).json()
                cid = conv["conversation_id"]
                start = time.perf_counter()
                writer.post(
                    "/api/handoff/escalations",
                    headers=SERVICE,
                    json={"conversation_id": cid, "reason": "requested"},
                ).raise_for_status()
                recv_until(
                    console,
                    lambda e, cid=cid: (
                        e["type"] == "queue.escalated" and e["conversation_id"] == cid
                    ),
                )
                escalation.append((time.perf_counter() - start) * 1000)
                customer = {"Authorization": f"Bearer {conv['token']}"}
                marker = uuid.uuid4().hex
                start = time.perf_counter()
                writer.post(
                    f"/api/conversations/{cid}/messages", headers=customer, json={"text": marker}
                )
                recv_until(
                    console,
                    lambda e, m=marker: e["type"] == "message" and e["message"]["text"] == m,
                )
                delivery.append((time.perf_counter() - start) * 1000)
        # claim throughput
        agents = []
        for i in range(1, 5):
            subprocess.run(
                [
                    str(ROOT / ".venv" / "bin" / "supportbot"),
                    "agents",
                    "create",
                    "--email",
                    f"b{i}@example.com",
                    "--name",
                    f"B{i}",
                    "--password",
                    f"bench-password-{i}",
                ],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            t = reader.post(
                "/api/auth/login",
                json={"email": f"b{i}@example.com", "password": f"bench-password-{i}"},
            ).json()["token"]
            agents.append({"Authorization": f"Bearer {t}"})
        ids = []
        for _ in range(N_CLAIMS):
            cid = writer.post("/api/conversations", json={}).json()["conversation_id"]
            writer.post(
                "/api/handoff/escalations",
                headers=SERVICE,
                json={"conversation_id": cid, "reason": "requested"},
            )
            ids.append(cid)
        clients = [
            stack.enter_context(httpx.Client(base_url=urls[i % len(urls)], timeout=30))
            for i in range(4)
        ]

        def claim_all(i: int) -> list[int]:
            return [
                clients[i]
                .post(f"/api/handoff/conversations/{cid}/claim", headers=agents[i])
                .status_code
                for cid in ids
            ]

        start = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(claim_all, range(4)))
        seconds = time.perf_counter() - start
        wins = sum(codes.count(200) for codes in results)
        assert wins == N_CLAIMS, f"{wins} wins for {N_CLAIMS} conversations"
        attempts = N_CLAIMS * 4
    return {
        "baseline_healthz": percentiles(base),
        "escalation_to_console": percentiles(escalation),
        "message_to_console": percentiles(delivery),
        "claims": {
            "conversations": N_CLAIMS,
            "attempts": attempts,
            "seconds": round(seconds, 2),
            "claims_per_s": round(N_CLAIMS / seconds, 1),
            "attempts_per_s": round(attempts / seconds, 1),
            "double_claims": 0,
        },
    }


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        common = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "SUPPORTBOT_RASA_URL": "http://127.0.0.1:9",
            "SUPPORTBOT_SERVICE_TOKEN": "bench-service-token",
            "SUPPORTBOT_INDEX_DIR": str(Path(tmp) / "index"),
            "SUPPORTBOT_HANDOFF_BUSINESS_HOURS": "mon-sun 00:00-24:00",
            "SUPPORTBOT_HANDOFF_RATE_PER_IP": "100000",
            "SUPPORTBOT_HANDOFF_CONVERSATIONS_PER_IP_PER_HOUR": "100000",
            "SUPPORTBOT_HANDOFF_LOGIN_ATTEMPTS_PER_MINUTE": "1000",
        }
        results["sqlite, 1 worker"] = run_config(
            "sqlite", {**common, "SUPPORTBOT_VAR_DIR": str(Path(tmp) / "sqlite")}, 1
        )
        with postgres_db() as url:
            results["postgresql, 1 worker"] = run_config(
                "postgresql",
                {
                    **common,
                    "SUPPORTBOT_VAR_DIR": str(Path(tmp) / "pg"),
                    "SUPPORTBOT_DATABASE_URL": url,
                },
                1,
            )
        with postgres_db() as url:
            results["postgresql + redis, 2 workers"] = run_config(
                "postgresql+redis",
                {
                    **common,
                    "SUPPORTBOT_VAR_DIR": str(Path(tmp) / "pg2"),
                    "SUPPORTBOT_DATABASE_URL": url,
                    "SUPPORTBOT_REDIS_URL": "redis://127.0.0.1:6379/0",
                },
                2,
            )
    rows = []
    for name, r in results.items():
        b = r["baseline_healthz"]["p50"]
        for key, label in (
            ("escalation_to_console", "escalation -> agent console"),
            ("message_to_console", "customer message -> agent console"),
        ):
            rows.append([name, label, r[key]["p50"], r[key]["p95"], round(r[key]["p50"] / b, 1)])
        rows.append(
            [
                name,
                "baseline GET /healthz",
                r["baseline_healthz"]["p50"],
                r["baseline_healthz"]["p95"],
                1.0,
            ]
        )
    md = [
        f"# Handoff benchmark ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
        f"{N_EVENTS} events each)",
        "",
        "## Live-push latency (ms; sent to the last worker, agent console on the first)",
        "",
        table(["configuration", "path", "p50", "p95", "p50 / baseline p50"], rows),
        "",
        "Target: escalation visible in the queue with live push, p95 < 200 ms.",
        "",
        "## Claim throughput (4 agents race for every one of 200 queued conversations)",
        "",
        table(
            ["configuration", "claims/s", "claim attempts/s", "seconds", "double claims"],
            [
                [
                    n,
                    r["claims"]["claims_per_s"],
                    r["claims"]["attempts_per_s"],
                    r["claims"]["seconds"],
                    0,
                ]
                for n, r in results.items()
            ],
        ),
    ]
    markdown = "\n".join(md)
    print(markdown)
    save("handoff", markdown, results)


if __name__ == "__main__":
    main()
