"""`make bench-reliability`: faults and floods against the real stack (Rasa, actions, app).

**fault**: scripted customer conversations (``tests/conversations/*.yml``, cycled) played
through the customer API by concurrent widget-like clients, while a chaos task SIGKILLs the
action server, the Rasa server and the app at random points, waits a little and starts
them again on the same port; an agent claims handed-off conversations and either resolves
them or hands them back to the bot. Clients behave like the widget: on a connection error,
a timeout or a 5xx they send the same message again with the same ``client_message_id``
(with backoff) until they get an answer. After the last kill the stack recovers (the
app's sweep, every 2 s here, finishes unanswered messages); then the database, the
customer API and Rasa's tracker API are checked:

- every message a client sent is in its transcript exactly once (``client_message_id``);
- no customer message of a bot-owned conversation is left ``pending``/``failed``;
- every customer turn got an honest reply: a bot answer, the "having trouble ... your
  message is saved" notice (``bot_unavailable``), or a handoff; or a connection error the
  client retried (the message is then answered live later, or superseded by the next);
- no inconsistent conversation: ``assigned`` with no agent, ``bot`` while Rasa's tracker is
  paused (with no resume pending), queued/assigned without an open escalation;
- no 5xx while every process was up.

**flood**: N concurrent conversations for S seconds. Most customers are well-behaved (a
question, the answer, some think time, sometimes a thumbs-up); one in ten spams
``/feedback``, ``/csat`` and ``/email`` (limited per conversation to 20, 5 and 5 a minute).
Checked: no 5xx, the spam gets 429 and never more accepted than the limits allow, the
well-behaved customers get no 429 (their reply latency p50/p95 is reported).

The load generator is one IP, so the per-IP limits (``SUPPORTBOT_HANDOFF_RATE_PER_IP``,
``_CONVERSATIONS_PER_IP_PER_HOUR``) are raised for the run, as bench/stack.py does; the
per-conversation limits keep their defaults.

``--short`` (``tests/e2e/test_reliability_short.py`` in ``make test``): 20 conversations,
one kill of each process, a 30-second flood of 30 customers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

from bench.common import percentiles, progress, save, table
from bench.playback import CLICKS, HUMAN, load
from bench.processes import Stack, make_stack
from tests.e2e.services import RASA_TOKEN, ROOT

PROCESSES = ("actions", "rasa", "app")
SWEEP_EVERY_S = 2.0
# handoff/pending.py: a pending message younger than this may still be in flight.
IN_FLIGHT_S = 30.0
QUESTIONS = ROOT / "knowledge_base" / "eval" / "questions.yml"
AGENT_EMAIL, AGENT_PASSWORD = "reliability@northpeak.example", "reliability-password-1"
FOLLOW_UP = "thanks. one more thing: how long does standard shipping usually take?"
# per conversation per minute (api/routes/conversations.py)
SPAM_LIMITS = {"feedback": 20, "csat": 5, "email": 5}


@dataclass
class Config:
    conversations: int = 200
    concurrency: int = 10
    kills: int = 9
    flood_seconds: float = 300.0
    flood_customers: int = 200
    # fault-run customers: seconds between a reply and their next turn
    turn_gap: tuple[float, float] = (0.5, 2.5)
    # well-behaved flood customers: seconds between reading a reply and the next question
    think: tuple[float, float] = (8.0, 24.0)
    spam_gap_s: float = 0.25
    seed: int = 7
    short: bool = False
    modes: tuple[str, ...] = ("fault", "flood")

    @classmethod
    def short_run(cls, **overrides: Any) -> Config:
        values: dict[str, Any] = {
            "conversations": 20,
            "concurrency": 5,
            "kills": 3,
            "flood_seconds": 30.0,
            "flood_customers": 30,
            "turn_gap": (0.2, 1.2),
            "short": True,
        }
        values.update(overrides)
        return cls(**values)


# ---- HTTP with the widget's retries -------------------------------------------------------
@dataclass
class Call:
    kind: str
    start: float
    end: float
    status: int | None  # None: connection error or timeout
    error: str = ""
    ref: str = ""  # the client_message_id of a message


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)


class GaveUp(Exception):
    pass


class Client:
    """Retries connection errors, timeouts and 5xx (and 429 after Retry-After) with backoff,
    like the widget; records every attempt."""

    def __init__(
        self, http: httpx.AsyncClient, recorder: Recorder, *, give_up_s: float = 400.0
    ) -> None:
        self.http = http
        self.recorder = recorder
        self.give_up_s = give_up_s

    async def call(
        self,
        method: str,
        url: str,
        kind: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        retry_429: bool = True,
        ref: str = "",
    ) -> tuple[httpx.Response, int]:
        """(the first response that is not retried, attempts made)."""
        began = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            start = time.monotonic()
            try:
                response = await self.http.request(method, url, json=json_body, headers=headers)
            except httpx.TransportError as exc:  # refused, reset mid-request, timed out
                self.recorder.calls.append(
                    Call(kind, start, time.monotonic(), None, type(exc).__name__, ref)
                )
            else:
                self.recorder.calls.append(
                    Call(kind, start, time.monotonic(), response.status_code, "", ref)
                )
                code = response.status_code
                if code < 500 and not (code == 429 and retry_429):
                    return response, attempt
                if code == 429:
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
            if time.monotonic() - began > self.give_up_s:
                raise GaveUp(f"{kind} {url}: no answer after {attempt} attempts")
            await asyncio.sleep(min(4.0, 0.25 * 2 ** min(attempt, 5)) * random.uniform(0.7, 1.3))


# ---- fault run: customers ------------------------------------------------------------------
@dataclass
class Turn:
    conversation: str
    client_message_id: str
    text: str
    start: float
    end: float = 0.0
    attempts: int = 0
    outcome: str = ""  # answered | bot_unavailable | handoff | empty | gave_up
    status: str = ""
    reply_kinds: list[str] = field(default_factory=list)


@dataclass
class Customer:
    index: int
    script: dict[str, Any]
    conversation_id: str = ""
    token: str = ""
    turns: list[Turn] = field(default_factory=list)
    escalated: bool = False
    after_handoff: str = ""  # returned_to_bot | resolved | still_waiting
    csat: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def classify(data: dict[str, Any]) -> tuple[str, list[str]]:
    messages = data.get("messages") or []
    kinds = [m.get("kind") or m.get("sender", "") for m in messages]
    if any(m.get("kind") == "bot_unavailable" for m in messages):
        return "bot_unavailable", kinds
    if data.get("status") in HUMAN:
        return "handoff", kinds
    if any(m.get("sender") == "bot" for m in messages):
        return "answered", kinds
    return "empty", kinds


class FaultRun:
    def __init__(self, stack: Stack, config: Config, http: httpx.AsyncClient) -> None:
        self.stack = stack
        self.config = config
        self.recorder = Recorder()
        self.client = Client(http, self.recorder)
        self.rng = random.Random(config.seed)
        self.customers: list[Customer] = []
        self.finished = 0  # conversations played to the end (drives the chaos)
        self.kill_log: list[dict[str, Any]] = []
        self.agent_log: Counter = Counter()
        self.gave_up: list[str] = []
        self.done = asyncio.Event()
        self.agent_headers: dict[str, str] = {}

    # -- customers
    async def say(
        self, customer: Customer, index: int, text: str, payload: str | None = None
    ) -> dict[str, Any]:
        turn = Turn(customer.conversation_id, f"c{customer.index}-t{index}", text, time.monotonic())
        customer.turns.append(turn)
        body: dict[str, Any] = {"text": text, "client_message_id": turn.client_message_id}
        if payload:
            body["payload"] = payload
        try:
            response, turn.attempts = await self.client.call(
                "POST", f"/api/conversations/{customer.conversation_id}/messages", "message",
                json_body=body, headers=customer.headers, ref=turn.client_message_id,
            )  # fmt: skip
        except GaveUp as exc:
            turn.outcome, turn.end = "gave_up", time.monotonic()
            self.gave_up.append(str(exc))
            return {}
        turn.end = time.monotonic()
        if response.status_code != 200:
            turn.outcome = f"http_{response.status_code}"
            return {}
        data = response.json()
        turn.outcome, turn.reply_kinds = classify(data)
        turn.status = data.get("status", "")
        return data

    async def play(self, customer: Customer) -> None:
        response, _ = await self.client.call(
            "POST", "/api/conversations", "create", json_body={"metadata": {"page": "/fault"}}
        )
        response.raise_for_status()
        customer.conversation_id = response.json()["conversation_id"]
        customer.token = response.json()["token"]
        seen: list[dict[str, Any]] = []
        status = "bot"
        for i, step in enumerate(customer.script["turns"]):
            await asyncio.sleep(self.rng.uniform(*self.config.turn_gap))
            data: dict[str, Any] = {}
            if "say" in step:
                data = await self.say(customer, i, step["say"])
            elif step.get("click") == "person":
                response, _ = await self.client.call(
                    "POST", f"/api/conversations/{customer.conversation_id}/handoff", "handoff",
                    headers=customer.headers,
                )  # fmt: skip
                data = response.json() if response.status_code == 200 else {}
            elif "click" in step:
                title, payload = CLICKS[step["click"]]
                offered = [b.get("title") for b in (seen[-1].get("buttons") or [])] if seen else []
                if title not in offered:
                    continue  # the bot did not show that button: nothing to click
                data = await self.say(customer, i, title, payload)
            elif "thumbs" in step:
                answer = next(
                    (m for m in reversed(seen) if m.get("sender") == "bot" and m.get("articles")),
                    None,
                )
                if answer is None:
                    continue
                response, _ = await self.client.call(
                    "POST", f"/api/conversations/{customer.conversation_id}/feedback",
                    "feedback", json_body={"message_id": answer["id"],
                                           "helpful": step["thumbs"] == "up"},
                    headers=customer.headers,
                )  # fmt: skip
                data = response.json() if response.status_code == 200 else {}
            seen += data.get("messages") or []
            status = data.get("status", status)
            if status in HUMAN:
                break
        if status in HUMAN:
            customer.escalated = True
            await self.after_handoff(customer, len(customer.script["turns"]))

    async def after_handoff(self, customer: Customer, index: int) -> None:
        """Waits for the agent; asks one more question if handed back, rates if resolved."""
        deadline = time.monotonic() + 60
        status = "queued"
        while time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            response, _ = await self.client.call(
                "GET", f"/api/conversations/{customer.conversation_id}?limit=1", "transcript",
                headers=customer.headers,
            )  # fmt: skip
            status = response.json().get("status", status)
            if status not in HUMAN:
                break
        if status == "bot":
            customer.after_handoff = "returned_to_bot"
            await self.say(customer, index, FOLLOW_UP)
        elif status == "resolved":
            customer.after_handoff = "resolved"
            customer.csat = self.rng.randint(3, 5)
            await self.client.call(
                "POST", f"/api/conversations/{customer.conversation_id}/csat", "csat",
                json_body={"score": customer.csat}, headers=customer.headers,
            )  # fmt: skip
        else:
            customer.after_handoff = "still_waiting"

    async def worker(self, queue: list[Customer]) -> None:
        while queue:
            customer = queue.pop(0)
            try:
                await self.play(customer)
            except GaveUp as exc:
                self.gave_up.append(str(exc))
            self.finished += 1

    # -- chaos
    def kill_plan(self) -> list[tuple[int, str]]:
        """(conversations finished before the kill, process) for every kill: spread over
        5-75% of the run (5-45% in a short one), each process killed as often as the others."""
        n, kills = self.config.conversations, self.config.kills
        names = [PROCESSES[i % len(PROCESSES)] for i in range(kills)]
        if self.config.short:
            # Evenly spread, one at a time, the app first (its in-flight messages age past
            # IN_FLIGHT_S meanwhile, so the run recovers sooner) and Rasa, the slowest to
            # come back, last.
            order = ("app", "actions", "rasa")
            names = sorted(names, key=order.index)
            marks = [round(n * (0.05 + 0.4 * i / max(1, kills - 1))) for i in range(kills)]
        else:
            # Rounds of the three in random order (never the same process twice in a row),
            # one kill per equal slot of the first 75% of the run, at a random point in it.
            names = []
            while len(names) < kills:
                round_ = list(PROCESSES)
                self.rng.shuffle(round_)
                if names and round_[0] == names[-1]:
                    round_.reverse()
                names += round_
            names = names[:kills]
            slot = n * 0.7 / kills
            marks = [round(n * 0.05 + slot * (i + self.rng.random())) for i in range(kills)]
        return list(zip(marks, names))

    async def chaos(self) -> None:
        """Each kill at its mark. In a full run outages may overlap (Rasa down while the app
        is killed, ...); in a short one each waits for the one before to be back, so every
        process's outage is seen on its own."""
        locks = {name: asyncio.Lock() for name in PROCESSES}
        one_at_a_time = asyncio.Lock()

        async def kill(mark: int, name: str) -> None:
            while self.finished < mark and not self.done.is_set():
                await asyncio.sleep(0.05)
            await asyncio.sleep(self.rng.uniform(0.0, 2.0))  # not in step with conversations
            serial = one_at_a_time if self.config.short else contextlib.nullcontext()
            async with serial, locks[name]:  # the same process again: once it is back
                process = self.stack.processes[name]
                at, finished = time.monotonic(), self.finished
                await asyncio.to_thread(process.kill)
                progress(f"  SIGKILL {name} ({finished} conversations finished)")
                await asyncio.sleep(self.rng.uniform(1.0, 4.0))
                restart = await asyncio.to_thread(process.restart)
                self.kill_log.append(
                    {"process": name, "after_conversations": finished,
                     "t": round(at - self.t0, 1), "down_s": round(time.monotonic() - at, 1),
                     "restart_s": round(restart, 1)}
                )  # fmt: skip
                progress(f"  {name} back after {time.monotonic() - at:.1f}s")

        await asyncio.gather(*(kill(mark, name) for mark, name in self.kill_plan()))

    # -- the agent
    async def agent(self, ours: set[str]) -> None:
        handled: set[str] = set()
        while not self.done.is_set():
            try:
                response, _ = await self.client.call(
                    "GET", "/api/handoff/queue", "agent", headers=self.agent_headers
                )
                data = response.json()
                for item in data.get("queued", []) + data.get("mine", []):
                    cid = item["conversation_id"]
                    if cid in ours and cid not in handled:
                        handled.add(cid)
                        await self.handle(cid)
            except GaveUp as exc:
                self.gave_up.append(str(exc))
            await asyncio.sleep(0.5)

    async def handle(self, cid: str) -> None:
        base = f"/api/handoff/conversations/{cid}"
        h = self.agent_headers
        claim, _ = await self.client.call("POST", f"{base}/claim", "agent", headers=h)
        if claim.status_code == 409:
            detail, _ = await self.client.call("GET", f"{base}?limit=1", "agent", headers=h)
            if detail.json().get("status") != "assigned":
                self.agent_log["claim_lost"] += 1
                return
        self.agent_log["claimed"] += 1
        await self.client.call(
            "POST", f"{base}/messages", "agent", headers=h,
            json_body={"text": "Hi, this is Riley from the support team. Let me check."},
        )  # fmt: skip
        await asyncio.sleep(self.rng.uniform(0.2, 1.0))
        action = "return-to-bot" if self.rng.random() < 0.5 else "resolve"
        done, _ = await self.client.call("POST", f"{base}/{action}", "agent", headers=h)
        if done.status_code == 200:
            self.agent_log[action] += 1
        else:
            self.agent_log[f"{action}_{done.status_code}"] += 1

    async def login_agent(self) -> None:
        await asyncio.to_thread(
            subprocess.run,
            [str(ROOT / ".venv" / "bin" / "supportbot"), "agents", "create", "--email",
             AGENT_EMAIL, "--name", "Riley", "--role", "agent", "--password", AGENT_PASSWORD],
            env=self.stack.env, cwd=ROOT, capture_output=True, check=True, timeout=120,
        )  # fmt: skip
        response, _ = await self.client.call(
            "POST", "/api/auth/login", "agent",
            json_body={"email": AGENT_EMAIL, "password": AGENT_PASSWORD},
        )  # fmt: skip
        response.raise_for_status()
        self.agent_headers = {"Authorization": f"Bearer {response.json()['token']}"}

    # -- the run
    async def run(self) -> dict[str, Any]:
        await self.play_all()
        return await self.finish()

    async def play_all(self) -> None:
        """The conversations, the kills and the agent, until the last restart."""
        scripts = load("dev", "test", "followups_by_topic")
        self.rng.shuffle(scripts)
        picked = list(itertools.islice(itertools.cycle(scripts), self.config.conversations))
        self.customers = [Customer(i, s) for i, s in enumerate(picked)]
        await self.login_agent()
        self.t0 = time.monotonic()
        queue = list(self.customers)
        ours: set[str] = set()

        async def track_ids() -> None:
            while not self.done.is_set():
                ours.update(c.conversation_id for c in self.customers if c.conversation_id)
                await asyncio.sleep(0.2)

        chaos = asyncio.create_task(self.chaos())
        background = [asyncio.create_task(track_ids()), asyncio.create_task(self.agent(ours))]
        await asyncio.gather(*(self.worker(queue) for _ in range(self.config.concurrency)))
        self.played_s = time.monotonic() - self.t0
        progress(f"  played {len(self.customers)} conversations in {self.played_s:.0f}s")
        await chaos  # the kills are spread over the first 70% of conversations
        self.done.set()
        await asyncio.gather(*background, return_exceptions=True)

    async def finish(self) -> dict[str, Any]:
        """Recovery, then the checks."""
        recovery = await self.recover()
        progress(f"  recovered; checking {len(self.customers)} conversations")
        checks = await self.check()
        return self.summary(self.played_s, recovery, checks)

    async def recover(self) -> dict[str, Any]:
        """Waits for the stack to finish what the kills left: at least three sweeps after
        every restart and after in-flight messages of a killed app count as due; then until
        nothing is left waiting (at most 120 s more, 30 s in a short run)."""
        began = time.monotonic()
        ready = [r for p in self.stack.processes.values() for _, r in p.outages if r]
        app_ready = [r for _, r in self.stack.processes["app"].outages if r]
        floor = max(
            [began, *(r + 3 * SWEEP_EVERY_S for r in ready)]
            + [r + IN_FLIGHT_S + 3 * SWEEP_EVERY_S for r in app_ready]
        )
        await asyncio.sleep(max(0.0, floor - time.monotonic()))
        deadline = time.monotonic() + (30 if self.config.short else 120)
        while time.monotonic() < deadline:
            if not waiting_messages(self.stack.database):
                break
            await asyncio.sleep(SWEEP_EVERY_S)
        await asyncio.sleep(2 * SWEEP_EVERY_S)  # answers being stored right now
        now = time.monotonic()
        return {
            "recovery_s": round(now - began, 1),
            "checked_after_last_restart_s": round(now - max(ready, default=now), 1),
            "checked_after_last_app_restart_s": round(now - max(app_ready, default=now), 1),
        }

    # -- the checks
    async def check(self) -> dict[str, Any]:
        ids = [c.conversation_id for c in self.customers if c.conversation_id]
        db = read_db(self.stack.database, ids)
        transcripts = {}
        trackers = {}
        for customer in self.customers:
            if not customer.conversation_id:
                continue
            transcripts[customer.conversation_id] = await self.transcript(customer)
            tracker, _ = await self.client.call(
                "GET", f"{self.stack.rasa_url}/conversations/{customer.conversation_id}/tracker"
                f"?token={RASA_TOKEN}", "rasa_tracker",
            )  # fmt: skip
            trackers[customer.conversation_id] = (
                tracker.json() if tracker.status_code == 200 else {}
            )
        return evaluate(self.customers, db, transcripts, trackers, self.stack, self.recorder)

    async def transcript(self, customer: Customer) -> list[dict[str, Any]]:
        out, after = [], 0
        while True:
            response, _ = await self.client.call(
                "GET", f"/api/conversations/{customer.conversation_id}?after={after}&limit=500",
                "transcript", headers=customer.headers,
            )  # fmt: skip
            page = response.json()
            out += page["messages"]
            if not page.get("has_more"):
                return out
            after = out[-1]["id"]

    def summary(
        self, played_s: float, recovery: dict[str, Any], checks: dict[str, Any]
    ) -> dict[str, Any]:
        turns = [t for c in self.customers for t in c.turns]
        message_calls = [c for c in self.recorder.calls if c.kind == "message"]
        kills = Counter(k["process"] for k in self.kill_log)
        return {
            "conversations": len(self.customers),
            "concurrency": self.config.concurrency,
            "turns": len(turns),
            "requests": len(self.recorder.calls),
            "played_s": round(played_s, 1),
            "kills": {p: kills.get(p, 0) for p in PROCESSES},
            "kill_log": self.kill_log,
            "restart_s": {p: self.stack.processes[p].start_seconds[1:] for p in PROCESSES},
            "retries": sum(t.attempts - 1 for t in turns if t.attempts),
            "retried_turns": sum(t.attempts > 1 for t in turns),
            "message_connection_errors": sum(c.status is None for c in message_calls),
            "429_seen": sum(c.status == 429 for c in self.recorder.calls),
            "outcomes": dict(Counter(t.outcome for t in turns)),
            "escalated": sum(c.escalated for c in self.customers),
            "after_handoff": dict(Counter(c.after_handoff for c in self.customers if c.escalated)),
            "agent": dict(self.agent_log),
            "gave_up": self.gave_up[:10],
            **recovery,
            **checks,
            "outages": {
                name: [[round(k - self.t0, 1), round(r - self.t0, 1) if r else None]
                       for k, r in p.outages]
                for name, p in self.stack.processes.items()
            },
            "turn_log": [
                {"conversation": t.conversation, "cmid": t.client_message_id,
                 "t": [round(t.start - self.t0, 2), round(t.end - self.t0, 2)],
                 "outcome": t.outcome, "status": t.status, "replies": t.reply_kinds,
                 "attempts": [c.status or c.error for c in message_calls
                              if c.ref == t.client_message_id]}
                for t in turns
            ],
        }  # fmt: skip


# ---- reading the database --------------------------------------------------------------------
@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    db.row_factory = sqlite3.Row
    try:
        yield db
    finally:
        db.close()


def waiting_messages(path: Path) -> int:
    """Customer messages of bot-owned conversations still pending or failed."""
    with _connect(path) as db:
        return db.execute(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE m.bot_state IN ('pending', 'failed') AND c.status = 'bot'"
        ).fetchone()[0]


def read_db(path: Path, ids: list[str]) -> dict[str, Any]:
    with _connect(path) as db:
        marks = ",".join("?" * len(ids))
        conversations = {
            r["id"]: dict(r)
            for r in db.execute(f"SELECT * FROM conversations WHERE id IN ({marks})", ids)
        }
        messages: dict[str, list[dict]] = defaultdict(list)
        for r in db.execute(
            f"SELECT * FROM messages WHERE conversation_id IN ({marks}) ORDER BY id", ids
        ):
            messages[r["conversation_id"]].append(dict(r))
        open_escalations = Counter(
            r[0]
            for r in db.execute(
                f"SELECT conversation_id FROM escalations WHERE closed_at IS NULL "
                f"AND conversation_id IN ({marks})",
                ids,
            )
        )
    return {"conversations": conversations, "messages": messages, "open": open_escalations}


def _row(m: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(m["data"]) if isinstance(m.get("data"), str) else (m.get("data") or {})
    return {
        "id": m["id"], "sender": m["sender"], "cmid": m["client_message_id"],
        "bot_state": m["bot_state"], "reply_to": m["reply_to"], "kind": data.get("kind"),
        "text": (m["text"] or "")[:70], "created_at": m["created_at"],
    }  # fmt: skip


def _after_return(rows: list[dict[str, Any]], message: dict[str, Any]) -> bool:
    """Whether ``message`` is the first thing the customer said after an agent handed the
    conversation back to the bot."""
    before = [r for r in rows if r["id"] < message["id"]]
    for r in reversed(before):
        if r["sender"] == "customer":
            return False
        if _row(r)["kind"] == "returned_to_bot":
            return True
    return False


def evaluate(
    customers: list[Customer],
    db: dict[str, Any],
    transcripts: dict[str, list[dict[str, Any]]],
    trackers: dict[str, dict[str, Any]],
    stack: Stack,
    recorder: Recorder,
) -> dict[str, Any]:
    lost, duplicated, unanswered, answered_with_nothing = [], [], [], []
    false_outage: list[dict[str, Any]] = []
    silent, retried_then = [], Counter()
    inconsistent: list[dict[str, Any]] = []
    resume_deferred = 0
    for customer in customers:
        cid = customer.conversation_id
        if not cid:
            continue
        rows = db["messages"].get(cid, [])
        conversation = db["conversations"].get(cid) or {}
        replies = Counter(m["reply_to"] for m in rows if m["reply_to"])
        stored = Counter(m["client_message_id"] for m in rows if m["sender"] == "customer")
        shown = Counter(
            m.get("client_message_id")
            for m in transcripts.get(cid, [])
            if m["sender"] == "customer"
        )
        sent = {t.client_message_id: t for t in customer.turns}
        for cmid, turn in sent.items():
            if stored[cmid] == 0 or shown[cmid] == 0:
                lost.append({"conversation": cid, "cmid": cmid, "text": turn.text[:70],
                             "outcome": turn.outcome, "in_db": stored[cmid],
                             "in_transcript": shown[cmid]})  # fmt: skip
            elif stored[cmid] > 1 or shown[cmid] > 1:
                duplicated.append({"conversation": cid, "cmid": cmid, "in_db": stored[cmid]})
        for cmid in set(stored) - set(sent):  # stored but never sent (or sent with no id)
            duplicated.append({"conversation": cid, "cmid": cmid, "in_db": stored[cmid]})
        for m in rows:
            if m["sender"] != "customer":
                continue
            if m["bot_state"] in ("pending", "failed") and conversation.get("status") == "bot":
                unanswered.append({"conversation": cid, "message": _row(m)})
            if m["bot_state"] == "answered" and not replies[m["id"]]:
                turn = sent.get(m["client_message_id"])
                answered_with_nothing.append(
                    {"conversation": cid, "message": _row(m),
                     "during_outage": bool(turn and stack.any_down_between(turn.start, turn.end)),
                     "next": [_row(n) for n in rows if n["id"] > m["id"]][:2]}
                )  # fmt: skip
        db_by_cmid = {m["client_message_id"]: m for m in rows if m["sender"] == "customer"}
        for turn in customer.turns:
            m = db_by_cmid.get(turn.client_message_id)
            if turn.outcome == "bot_unavailable" and not stack.any_down_between(
                turn.start, turn.end
            ):
                # "having trouble" with every process up: not an honest reply either
                false_outage.append(
                    {"conversation": cid, "cmid": turn.client_message_id, "text": turn.text[:70],
                     "first_after_return_to_bot": m is not None and _after_return(rows, m),
                     "message": _row(m) if m else None}
                )  # fmt: skip
            if turn.outcome != "empty":
                continue
            if turn.attempts > 1:
                # The answer was lost with the connection (or the message was still being
                # answered when the client retried): what became of it?
                got = "no row"
                if m is not None:
                    got = m["bot_state"] or "none"
                    if got == "answered":
                        got = "answered live" if replies[m["id"]] else "answered with nothing"
                retried_then[got] += 1
            else:
                silent.append(
                    {"conversation": cid, "cmid": turn.client_message_id, "text": turn.text[:70],
                     "status": turn.status,
                     "during_outage": stack.any_down_between(turn.start, turn.end),
                     "down": [n for n, p in stack.processes.items()
                              if any(k <= turn.end and (r is None or r >= turn.start)
                                     for k, r in p.outages)],
                     "message": _row(m) if m else None,
                     "first_after_return_to_bot": m is not None and _after_return(rows, m)}
                )  # fmt: skip
        status = conversation.get("status")
        channel = json.loads(conversation.get("channel") or "{}")
        paused = bool(trackers.get(cid, {}).get("paused"))
        problem = None
        if status == "assigned" and not conversation.get("assigned_agent_id"):
            problem = "assigned with no agent"
        elif status == "bot" and paused and not channel.get("resume_pending"):
            problem = "bot-owned while Rasa's tracker is paused"
        elif status in HUMAN and not db["open"][cid]:
            problem = f"{status} without an open escalation"
        elif status not in HUMAN and db["open"][cid]:
            problem = f"{status} with an open escalation"
        if status == "bot" and paused and channel.get("resume_pending"):
            resume_deferred += 1
        if problem:
            inconsistent.append(
                {"conversation": cid, "problem": problem, "status": status,
                 "assigned_agent_id": conversation.get("assigned_agent_id"),
                 "rasa_paused": paused, "channel": channel,
                 "last": [_row(m) for m in rows[-4:]]}
            )  # fmt: skip
    five_xx = [c for c in recorder.calls if c.status and c.status >= 500]
    five_xx_up = [c for c in five_xx if not stack.any_down_between(c.start, c.end)]
    return {
        "messages_lost": len(lost),
        "messages_duplicated": len(duplicated),
        "unanswered_after_recovery": len(unanswered),
        "silent_turns": len(silent),
        "silent_turns_during_outage": sum(s["during_outage"] for s in silent),
        "silent_turns_actions_down": sum("actions" in s["down"] for s in silent),
        "silent_turns_first_after_return_to_bot": sum(
            s["first_after_return_to_bot"] for s in silent
        ),
        "answered_with_nothing": len(answered_with_nothing),
        "outage_notice_while_up": len(false_outage),
        "outage_notice_while_up_first_after_return_to_bot": sum(
            f["first_after_return_to_bot"] for f in false_outage
        ),
        "retried_empty_then": dict(retried_then),
        "inconsistent": len(inconsistent),
        "bot_owned_paused_resume_pending": resume_deferred,
        "5xx": len(five_xx),
        "5xx_while_up": len(five_xx_up),
        "5xx_kinds": dict(Counter(f"{c.kind} {c.status}" for c in five_xx)),
        "examples": {
            "lost": lost[:5],
            "duplicated": duplicated[:5],
            "unanswered": unanswered[:5],
            "silent": silent[:5],
            "outage_notice_while_up": false_outage[:5],
            "answered_with_nothing": answered_with_nothing[:5],
            "inconsistent": inconsistent[:5],
            "5xx_while_up": [c.__dict__ for c in five_xx_up[:5]],
        },
    }


# ---- flood run -------------------------------------------------------------------------------
def candidate_questions(limit: int = 60) -> list[str]:
    questions = yaml.safe_load(QUESTIONS.read_text())["questions"]
    return [q["q"] for q in questions if len(q["q"]) <= 90][:limit]


@dataclass
class FloodLog:
    latencies_ms: list[tuple[float, float]] = field(default_factory=list)  # (sent at, ms)
    outcomes: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)  # "well-behaved message 200", ...
    accepted: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))


class FloodRun:
    def __init__(self, stack: Stack, config: Config, http: httpx.AsyncClient) -> None:
        self.stack = stack
        self.config = config
        self.http = http
        self.recorder = Recorder()
        self.rng = random.Random(config.seed + 1)
        self.baseline_s = 0.0
        self.spam_from = self.began = 0.0
        self.cpu: dict[str, dict[str, int]] = {}
        self.log = FloodLog()

    async def post(
        self, who: str, kind: str, url: str, body: Any, headers: dict
    ) -> httpx.Response | None:
        """One request; a connection error is retried (twice at most) like the widget does,
        and counted."""
        for attempt in range(3):
            start = time.monotonic()
            try:
                response = await self.http.post(url, json=body, headers=headers)
            except httpx.TransportError as exc:
                name = type(exc).__name__
                self.recorder.calls.append(
                    Call(f"{who} {kind}", start, time.monotonic(), None, name)
                )
                if attempt == 2:
                    self.log.statuses[f"{who} {kind} {name}"] += 1
                    return None
                self.log.statuses[f"{who} {kind} {name} (retried)"] += 1
                await asyncio.sleep(0.2)
                continue
            self.recorder.calls.append(
                Call(f"{who} {kind}", start, time.monotonic(), response.status_code)
            )
            self.log.statuses[f"{who} {kind} {response.status_code}"] += 1
            return response
        return None

    async def open(self) -> tuple[str, dict[str, str]]:
        r = await self.http.post("/api/conversations", json={"metadata": {"page": "/flood"}})
        r.raise_for_status()
        return r.json()["conversation_id"], {"Authorization": f"Bearer {r.json()['token']}"}

    async def answered_questions(self, candidates: list[str]) -> list[str]:
        """The questions the bot answers with an article in a fresh conversation."""

        async def one(text: str) -> str | None:
            cid, headers = await self.open()
            r = await self.http.post(
                f"/api/conversations/{cid}/messages", json={"text": text}, headers=headers
            )
            ok = r.status_code == 200 and any(m.get("articles") for m in r.json()["messages"])
            return text if ok else None

        picked = []
        for start in range(0, len(candidates), 10):
            picked += await asyncio.gather(*(one(t) for t in candidates[start : start + 10]))
        return [t for t in picked if t]

    async def ask(self, cid: str, headers: dict, text: str, n: int) -> dict[str, Any] | None:
        start = time.perf_counter()
        r = await self.post(
            "well-behaved", "message", f"/api/conversations/{cid}/messages",
            {"text": text, "client_message_id": f"f{n}"}, headers,
        )  # fmt: skip
        if r is None or r.status_code != 200:
            return None
        self.log.latencies_ms.append((time.monotonic(), (time.perf_counter() - start) * 1000))
        data = r.json()
        self.log.outcomes[classify(data)[0]] += 1
        return data

    async def well_behaved(self, questions: list[str], end: float) -> None:
        cid, headers = await self.open()
        low, high = self.config.think
        await asyncio.sleep(self.rng.uniform(0, min(high, self.config.flood_seconds / 2)))
        order = self.rng.sample(questions, len(questions))
        n = 0
        while time.monotonic() < end:
            data = await self.ask(cid, headers, order[n % len(order)], n)
            n += 1
            answer = next((m for m in (data or {}).get("messages", []) if m.get("articles")), None)
            if answer and self.rng.random() < 0.2:  # a thumbs-up now and then
                await self.post(
                    "well-behaved", "feedback", f"/api/conversations/{cid}/feedback",
                    {"message_id": answer["id"], "helpful": True}, headers,
                )  # fmt: skip
            await asyncio.sleep(min(self.rng.uniform(low, high), max(0.0, end - time.monotonic())))

    async def spammer(self, questions: list[str], end: float, index: int) -> None:
        await asyncio.sleep(max(0.0, self.spam_from - time.monotonic()) + self.rng.uniform(0, 2))
        cid, headers = await self.open()
        data = await self.ask(cid, headers, self.rng.choice(questions), 0)
        answer = next((m for m in (data or {}).get("messages", []) if m.get("articles")), None)
        # "Yes, thanks", then "thanks, that's all": the bot ends the conversation, so
        # ratings are accepted (until the limit)
        for n, body in enumerate(
            ({"text": "Yes, thanks", "payload": "/affirm"}, {"text": "thanks, that's all"}), 1
        ):
            await self.post(
                "spammer", "message", f"/api/conversations/{cid}/messages",
                {**body, "client_message_id": f"f{n}"}, headers,
            )  # fmt: skip
        message_id = answer["id"] if answer else 1
        calls = {
            "feedback": lambda: {"message_id": message_id, "helpful": self.rng.random() < 0.5},
            "csat": lambda: {"score": self.rng.randint(1, 5)},
            "email": lambda: {"email": f"spam{index}-{self.rng.randint(0, 999)}@example.com"},
        }
        while time.monotonic() < end:
            kind = self.rng.choice(list(calls))
            r = await self.post(
                "spammer", kind, f"/api/conversations/{cid}/{kind}", calls[kind](), headers
            )
            if r is not None and r.status_code < 300:
                self.log.accepted[(cid, kind)] += 1
            await asyncio.sleep(self.config.spam_gap_s * self.rng.uniform(0.5, 1.5))

    async def run(self) -> dict[str, Any]:
        questions = await self.answered_questions(
            candidate_questions(30 if self.config.short else 60)
        )
        if len(questions) < 5:
            raise RuntimeError(f"only {len(questions)} questions answered in the warm-up")
        n = self.config.flood_customers
        spammers = max(1, n // 10)
        began = self.began = time.monotonic()
        end = began + self.config.flood_seconds
        # A full run starts with a spam-free minute: the well-behaved customers' latency
        # before and during the spam.
        self.baseline_s = 0.0 if self.config.short else min(60.0, self.config.flood_seconds / 5)
        self.spam_from = began + self.baseline_s
        marks = [(began, cpu_seconds(self.stack))]

        async def at_spam_start() -> None:
            await asyncio.sleep(self.baseline_s)
            marks.append((time.monotonic(), cpu_seconds(self.stack)))

        await asyncio.gather(
            at_spam_start(),
            *(self.well_behaved(questions, end) for _ in range(n - spammers)),
            *(self.spammer(questions, end, i) for i in range(spammers)),
        )
        marks.append((time.monotonic(), cpu_seconds(self.stack)))
        self.cpu = {
            phase: {
                name: round(100 * (b[1][name] - a[1][name]) / max(1e-9, b[0] - a[0]))
                for name in a[1]
            }
            for phase, (a, b) in (("before_spam", marks[:2]), ("during_spam", marks[1:]))
            if b[0] - a[0] > 1
        }
        elapsed = time.monotonic() - began
        return self.summary(n, spammers, elapsed, len(questions))

    def summary(self, n: int, spammers: int, elapsed: float, questions: int) -> dict[str, Any]:
        s = self.log.statuses

        def count(prefix: str, code: str = "") -> int:
            return sum(v for k, v in s.items() if k.startswith(prefix) and k.endswith(code))

        minutes = int(self.config.flood_seconds // 60) + 1
        over = [
            {"conversation": cid, "kind": kind, "accepted": got, "limit": SPAM_LIMITS[kind]}
            for (cid, kind), got in self.log.accepted.items()
            if got > SPAM_LIMITS[kind] * minutes
        ]
        five_xx = [c for c in self.recorder.calls if c.status and c.status >= 500]

        def pcts(samples: list[float]) -> dict[str, float]:
            return percentiles(samples) if samples else {}

        latency = pcts([ms for _, ms in self.log.latencies_ms])
        ramped = self.began + self.config.think[1]  # every well-behaved customer has started
        before = pcts([ms for t, ms in self.log.latencies_ms if ramped <= t < self.spam_from])
        during = pcts([ms for t, ms in self.log.latencies_ms if t >= self.spam_from + 2])
        return {
            "customers": n,
            "well_behaved": n - spammers,
            "spammers": spammers,
            "seconds": round(elapsed, 1),
            "warm_up_questions": questions,
            "requests": len(self.recorder.calls),
            "well_behaved_messages": count("well-behaved message"),
            "well_behaved_feedback": count("well-behaved feedback"),
            "well_behaved_latency_ms": latency,
            "spam_free_first_s": self.baseline_s,
            "well_behaved_latency_ms_before_spam": before,
            "well_behaved_latency_ms_during_spam": during,
            "well_behaved_latency_ms_per_30s": [
                {"from_s": k * 30, **pcts([ms for _, ms in group])}
                for k, group in itertools.groupby(
                    sorted(self.log.latencies_ms), key=lambda x: int((x[0] - self.began) // 30)
                )
            ],
            "cpu_percent_of_a_core": self.cpu,
            "well_behaved_outcomes": dict(self.log.outcomes),
            "well_behaved_429": count("well-behaved", " 429"),
            "well_behaved_errors": sum(
                v
                for k, v in s.items()
                if k.startswith("well-behaved") and not k.endswith((" 200", " 204", " (retried)"))
            ),  # fmt: skip
            "spam_requests": {k: count(f"spammer {k}") for k in SPAM_LIMITS},
            "spam_429": {k: count(f"spammer {k}", " 429") for k in SPAM_LIMITS},
            "spam_accepted": {
                k: sum(v for (_, kind), v in self.log.accepted.items() if kind == k)
                for k in SPAM_LIMITS
            },
            "spam_over_limit": len(over),
            "5xx": len(five_xx),
            "connection_errors": sum(c.status is None for c in self.recorder.calls),
            "connection_errors_not_retried_away": sum(
                v for k, v in s.items() if k.endswith("Error")
            ),
            "statuses": dict(sorted(s.items())),
            "examples": {"spam_over_limit": over[:5], "5xx": [c.__dict__ for c in five_xx[:5]]},
        }


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by each process (with its children) and the load generator."""
    out = {}
    for name, process in stack.processes.items():
        try:
            proc = psutil.Process(process.pid)
            out[name] = sum(
                p.cpu_times().user + p.cpu_times().system
                for p in [proc, *proc.children(recursive=True)]
            )
        except (psutil.Error, TypeError):
            out[name] = 0.0
    out["load generator"] = time.process_time()
    return out


# ---- the whole run ---------------------------------------------------------------------------
def verdicts(results: dict[str, Any]) -> dict[str, bool]:
    """Every check that must hold, True when it does."""
    out = {}
    if fault := results.get("fault"):
        out |= {
            "messages lost = 0": fault["messages_lost"] == 0,
            "messages stored twice = 0": fault["messages_duplicated"] == 0,
            "unanswered after recovery = 0": fault["unanswered_after_recovery"] == 0,
            "turns with no honest reply = 0": fault["silent_turns"] == 0,
            "'having trouble' while all up = 0": fault["outage_notice_while_up"] == 0,
            "inconsistent conversations = 0": fault["inconsistent"] == 0,
            "5xx while all processes up = 0": fault["5xx_while_up"] == 0,
            "clients that gave up = 0": not fault["gave_up"],
        }
    if flood := results.get("flood"):
        out |= {
            "flood 5xx = 0": flood["5xx"] == 0,
            "spam answered 429": all(flood["spam_429"][k] > 0 for k in ("feedback", "email"))
            and sum(flood["spam_429"].values()) > 0,
            "spam never over its limit": flood["spam_over_limit"] == 0,
            "well-behaved got no 429": flood["well_behaved_429"] == 0,
            "well-behaved requests all answered": flood["well_behaved_errors"] == 0,
        }
    return out


async def run_async(config: Config, stack: Stack) -> dict[str, Any]:
    results: dict[str, Any] = {"config": {k: v for k, v in config.__dict__.items()}}
    progress("starting Rasa, actions and the app")
    await asyncio.to_thread(stack.start)
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them
    # (reusing one as the server closes it is a client-side race, not a server error).
    limits = httpx.Limits(
        max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(base_url=stack.app_url, timeout=60, limits=limits) as http:
        fault = FaultRun(stack, config, http)
        flood = FloodRun(stack, config, http)
        if "fault" in config.modes:
            progress(
                f"fault: {config.conversations} conversations, {config.concurrency} at a "
                f"time, {config.kills} kills"
            )
            await fault.play_all()
        flood_msg = f"flood: {config.flood_customers} customers for {config.flood_seconds:.0f}s"
        if config.modes == ("fault", "flood") and config.short:
            # Short run: the flood runs while the fault run's stack recovers (the sweep
            # waits out the in-flight window of messages the killed app was answering).
            progress(flood_msg + " (while the fault run recovers)")
            results["fault"], results["flood"] = await asyncio.gather(fault.finish(), flood.run())
        else:
            if "fault" in config.modes:
                results["fault"] = await fault.finish()
            if "flood" in config.modes:
                progress(flood_msg)
                results["flood"] = await flood.run()
    return results


def run(config: Config, work: Path | None = None) -> dict[str, Any]:
    """Runs the configured modes on a fresh stack under ``work`` (a temporary directory,
    kept when a check fails, if None)."""
    own = work is None
    work = work or Path(tempfile.mkdtemp(prefix="supportbot-reliability-"))
    stack = make_stack(
        work,
        SUPPORTBOT_HANDOFF_SWEEP_EVERY_S=str(SWEEP_EVERY_S),
        # one load-generator IP: the per-IP limits would throttle it (per-conversation
        # limits keep their defaults)
        SUPPORTBOT_HANDOFF_RATE_PER_IP="1000000",
        SUPPORTBOT_HANDOFF_CONVERSATIONS_PER_IP_PER_HOUR="1000000",
    )
    try:
        results = asyncio.run(run_async(config, stack))
    finally:  # also on Ctrl-C, a test timeout or a process that would not start
        stack.stop()
    results["logs"] = str(work)
    results["verdicts"] = verdicts(results)
    (work / "results.json").write_text(json.dumps(results, indent=2, default=str))
    if own and all(results["verdicts"].values()):
        shutil.rmtree(work, ignore_errors=True)
        results["logs"] = None
    return results


# ---- report ----------------------------------------------------------------------------------
def report(results: dict[str, Any]) -> str:
    parts = ["# bench-reliability: faults and floods against the real stack", ""]
    if fault := results.get("fault"):
        kills = fault["kills"]
        outcomes = fault["outcomes"]
        parts += [
            "## Fault run",
            "",
            f"{fault['conversations']} scripted conversations ({fault['concurrency']} at a time), "
            f"SIGKILL of a process at random points, restarted on the same port; sweep every "
            f"{SWEEP_EVERY_S:g} s (a message the killed app was answering counts as "
            f"unanswered after {IN_FLIGHT_S:g} s); checked "
            f"{fault['checked_after_last_restart_s']:g} s after the last restart "
            f"({fault['checked_after_last_app_restart_s']:g} s after the app's).",
            "",
            table(
                ["what", "value"],
                [
                    ("conversations played", fault["conversations"]),
                    ("customer turns (messages)", fault["turns"]),
                    ("HTTP requests", fault["requests"]),
                    (
                        "processes killed (actions / rasa / app)",
                        f"{kills['actions']} / {kills['rasa']} / {kills['app']}",
                    ),
                    (
                        "restart seconds (actions / rasa / app)",
                        " / ".join(
                            ",".join(str(s) for s in fault["restart_s"][p]) or "-"
                            for p in PROCESSES
                        ),
                    ),
                    ("retries (turns retried)", f"{fault['retries']} ({fault['retried_turns']})"),
                    (
                        "replies: bot answer / bot_unavailable / handoff / empty",
                        " / ".join(
                            str(outcomes.get(k, 0))
                            for k in ("answered", "bot_unavailable", "handoff", "empty")
                        ),
                    ),
                    ("retried turns answered empty, then", json.dumps(fault["retried_empty_then"])),
                    (
                        "escalated; then returned to bot / resolved / waiting",
                        f"{fault['escalated']}; "
                        + " / ".join(
                            str(fault["after_handoff"].get(k, 0))
                            for k in ("returned_to_bot", "resolved", "still_waiting")
                        ),
                    ),
                    ("**messages lost**", fault["messages_lost"]),
                    ("**messages stored twice**", fault["messages_duplicated"]),
                    ("**unanswered after recovery**", fault["unanswered_after_recovery"]),
                    (
                        "**turns with no honest reply** (during an outage; with the action "
                        "server down; first message after an agent's return-to-bot)",
                        f"{fault['silent_turns']} ({fault['silent_turns_during_outage']}; "
                        f"{fault['silent_turns_actions_down']}; "
                        f"{fault['silent_turns_first_after_return_to_bot']})",
                    ),
                    (
                        "**'having trouble' notices while every process was up** (first "
                        "message after an agent's return-to-bot)",
                        f"{fault['outage_notice_while_up']} "
                        f"({fault['outage_notice_while_up_first_after_return_to_bot']})",
                    ),
                    (
                        "messages marked answered with no reply stored",
                        fault["answered_with_nothing"],
                    ),
                    (
                        "**5xx while all processes up** (5xx in all)",
                        f"{fault['5xx_while_up']} ({fault['5xx']})",
                    ),
                    ("**inconsistent conversations**", fault["inconsistent"]),
                    (
                        "bot-owned, Rasa paused, resume pending (resumed on next message)",
                        fault["bot_owned_paused_resume_pending"],
                    ),
                ],
            ),  # fmt: skip
            "",
        ]
    if flood := results.get("flood"):
        lat = flood["well_behaved_latency_ms"]
        before = flood["well_behaved_latency_ms_before_spam"]
        during = flood["well_behaved_latency_ms_during_spam"]
        spam_free = (
            f" The first {flood['spam_free_first_s']:.0f} s are spam-free."
            if flood["spam_free_first_s"]
            else ""
        )
        parts += [
            "## Flood run",
            "",
            f"{flood['customers']} concurrent conversations for {flood['seconds']:.0f} s: "
            f"{flood['well_behaved']} well-behaved (a question, then "
            f"{results['config']['think'][0]:g}-{results['config']['think'][1]:g} s of think "
            f"time; a thumbs-up on one answer in five), {flood['spammers']} spamming "
            "feedback/CSAT/email. Per-IP limits raised for the one-IP load generator; "
            "per-conversation limits at their defaults." + spam_free,
            "",
            table(
                ["what", "value"],
                [
                    ("HTTP requests", flood["requests"]),
                    (
                        "well-behaved messages (feedback)",
                        f"{flood['well_behaved_messages']} ({flood['well_behaved_feedback']})",
                    ),
                    (
                        "well-behaved reply latency p50 / p95 ms",
                        f"{lat.get('p50', '-')} / {lat.get('p95', '-')}",
                    ),
                    (
                        "... once all started, before the spam / during the spam (p50 / p95 ms)",
                        f"{before.get('p50', '-')} / {before.get('p95', '-')}; "
                        f"{during.get('p50', '-')} / {during.get('p95', '-')}",
                    ),
                    (
                        "CPU % of one core before / during the spam (app, actions, rasa, "
                        "load generator)",
                        "; ".join(
                            ", ".join(str(v) for v in cpu.values())
                            for cpu in flood["cpu_percent_of_a_core"].values()
                        ),
                    ),
                    ("well-behaved replies", json.dumps(flood["well_behaved_outcomes"])),
                    ("**well-behaved 429**", flood["well_behaved_429"]),
                    (
                        "spam requests (feedback / csat / email)",
                        " / ".join(str(flood["spam_requests"][k]) for k in SPAM_LIMITS),
                    ),
                    (
                        "spam accepted",
                        " / ".join(str(flood["spam_accepted"][k]) for k in SPAM_LIMITS),
                    ),
                    (
                        "**spam answered 429**",
                        " / ".join(str(flood["spam_429"][k]) for k in SPAM_LIMITS),
                    ),
                    ("spam accepted above its limit", flood["spam_over_limit"]),
                    ("**5xx**", flood["5xx"]),
                    (
                        "connection errors (left after the client's retries)",
                        f"{flood['connection_errors']} "
                        f"({flood['connection_errors_not_retried_away']})",
                    ),
                ],
            ),  # fmt: skip
            "",
        ]
    parts += ["## Checks", ""]
    parts += [f"- {'PASS' if ok else 'FAIL'}: {name}" for name, ok in results["verdicts"].items()]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", nargs="?", choices=("fault", "flood", "both"), default="both")
    parser.add_argument("--short", action="store_true", help="the make-test sizes")
    parser.add_argument("--conversations", type=int)
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--kills", type=int)
    parser.add_argument("--flood-seconds", type=float)
    parser.add_argument("--flood-customers", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--work", type=Path, help="keep the run's var dir and logs here")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results")
    args = parser.parse_args()
    overrides = {
        k: v
        for k, v in vars(args).items()
        if k in ("conversations", "concurrency", "kills", "flood_seconds", "flood_customers",
                 "seed") and v is not None
    }  # fmt: skip
    overrides["modes"] = ("fault", "flood") if args.mode == "both" else (args.mode,)
    config = Config.short_run(**overrides) if args.short else Config(**overrides)
    if args.work:
        shutil.rmtree(args.work, ignore_errors=True)
        args.work.mkdir(parents=True)
    results = run(config, args.work)
    markdown = report(results)
    print(markdown)
    if results.get("logs"):
        progress(f"logs and database kept in {results['logs']}")
    if not args.no_save:
        # the per-turn log stays with the run's logs (results.json there)
        fault = {k: v for k, v in results.get("fault", {}).items() if k != "turn_log"}
        save("reliability", markdown, {**results, **({"fault": fault} if fault else {})})
    if not all(results["verdicts"].values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
