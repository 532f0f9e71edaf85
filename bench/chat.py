"""`make bench-chat`: a customer's reply time against the compute floor, on the real stack.

Measured in one run, on this machine:
(a) the floor: Rasa's parse of the message (in-process, Rasa environment) plus the app's
    search function (embed + index, in-process) — the useful work of a KB-answered turn —
    before and after the load (a shared machine's speed drifts; the ratios use the mean);
(b) reply latency p50/p95/p99 and throughput at 1, 10 and 50 customers with no think time;
(c) open loop: 200 customers each sending a message every 10 s on average (Poisson);
(d) CPU ms per turn per process (psutil, before/after each phase) and resident memory.

Every turn is a short bot-answerable question (help-center questions the bot answers with
an article, picked by a warm-up pass) in a conversation created beforehand, so a turn is
exactly one ``POST /api/conversations/{id}/messages``.

``--short``: 1 customer, 30 turns, no open loop, the floor once (runs in ``make test``; no
thresholds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psutil
import yaml

from api.config import Settings
from bench.common import percentiles, progress, save, table
from bench.scaled_stack import running_scaled_stack
from bench.stack import Stack, running_stack

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "knowledge_base" / "eval" / "questions.yml"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
PROCESSES = ("rasa", "actions", "app")


def candidate_questions(limit: int = 120) -> list[str]:
    questions = yaml.safe_load(QUESTIONS.read_text())["questions"]
    return [q["q"] for q in questions if len(q["q"]) <= 90][:limit]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


# ---- the floor ------------------------------------------------------------------------------
def floor(texts: list[str]) -> dict[str, float]:
    """Median parse (Rasa, in-process) + median search (app, in-process) per message."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from knowledge_base.articles import load_dir
    from knowledge_base.index import PassageIndex
    from knowledge_base.onnx_embedder import load_embedder
    from knowledge_base.search import SearchEngine

    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts))
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
        out = subprocess.run(
            [str(RASA_PYTHON), "-m", "bench.nlu_floor", str(texts_file)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=600,
        )  # fmt: skip
        nlu = json.loads(out.stdout.strip().splitlines()[-1])
        embedder = load_embedder(Settings().embedder_onnx_dir, Settings().embedder_backend)
        index = PassageIndex(Path(tmp) / "index", embedder)
        index.open(load_dir(ROOT / "knowledge_base" / "articles"))
        engine = SearchEngine(index, embedder)
        engine.search(texts[0])
        search_ms, search_cpu = [], []
        for text in texts * 3:
            start, start_cpu = time.perf_counter(), time.process_time()
            engine.search(text, k=5)
            search_ms.append((time.perf_counter() - start) * 1000)
            search_cpu.append((time.process_time() - start_cpu) * 1000)
    parse = percentiles(nlu["parse_ms"])["p50"]
    search = percentiles(search_ms)["p50"]
    return {
        "parse_ms": parse,
        "search_ms": search,
        "floor_ms": round(parse + search, 2),
        "floor_cpu_ms": round(
            percentiles(nlu["cpu_ms"])["p50"] + percentiles(search_cpu)["p50"], 2
        ),
    }


# ---- customers ------------------------------------------------------------------------------
class Customers:
    def __init__(self, stack: Stack, client: httpx.AsyncClient) -> None:
        self.stack = stack
        self.client = client
        self.created = 0

    async def conversation(self) -> tuple[str, dict[str, str], str]:
        urls = self.stack.app_urls or [self.stack.app_url]
        base = urls[self.created % len(urls)]  # round robin, as a load balancer would
        self.created += 1
        for attempt in range(3):
            try:
                response = await self.client.post(
                    f"{base}/api/conversations", json={"metadata": {}}
                )
                break
            except (httpx.ReadError, httpx.RemoteProtocolError):
                # a pooled keep-alive connection the server closed as it was reused: the
                # widget tries again too (a new conversation is not a customer turn)
                if attempt == 2:
                    raise
        body = response.json()
        return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}, base

    async def conversations(self, n: int) -> list[tuple[str, dict[str, str], str]]:
        out = []
        for start in range(0, n, 50):
            batch = [self.conversation() for _ in range(min(50, n - start))]
            out += await asyncio.gather(*batch)
        return out

    async def turn(self, conversation: tuple[str, dict[str, str], str], text: str) -> dict:
        cid, headers, base = conversation
        # The widget's retry: the same client_message_id, so the server stores the message
        # once and answers the retry with the first attempt's replies.
        body = {"text": text, "client_message_id": uuid.uuid4().hex}
        start = time.perf_counter()
        retried = 0
        while True:
            try:
                response = await self.client.post(
                    f"{base}/api/conversations/{cid}/messages", json=body, headers=headers
                )
                break
            except (httpx.ReadError, httpx.RemoteProtocolError) as exc:
                # a pooled keep-alive connection the server closed as it was reused
                retried += 1
                if retried == 3:
                    ms = (time.perf_counter() - start) * 1000
                    return {"ms": ms, "ok": False, "retried": retried, "error": repr(exc)}
            except httpx.HTTPError as exc:
                ms = (time.perf_counter() - start) * 1000
                return {"ms": ms, "ok": False, "retried": retried, "error": repr(exc)}
        ms = (time.perf_counter() - start) * 1000  # a retried turn counts both attempts
        if response.status_code != 200:
            return {"ms": ms, "ok": False, "error": f"HTTP {response.status_code}"}
        messages = response.json().get("messages", [])
        answered = any(m.get("articles") for m in messages)
        down = any(m.get("kind") == "bot_unavailable" for m in messages)
        return {"ms": ms, "ok": not down, "answered": answered, "error": "bot down" if down else ""}


def _kind(name: str) -> str:
    return name.split("-")[0]  # "rasa-1" counts as rasa


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    out = dict.fromkeys(PROCESSES, 0.0)
    for name, pid in pids.items():
        proc = psutil.Process(pid)
        for p in [proc, *proc.children(recursive=True)]:
            times = p.cpu_times()
            out[_kind(name)] += times.user + times.system
    return out


def rss_mb(pids: dict[str, int]) -> dict[str, float]:
    out = dict.fromkeys(PROCESSES, 0.0)
    for name, pid in pids.items():
        proc = psutil.Process(pid)
        rss = sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
        out[_kind(name)] = round(out[_kind(name)] + rss / 2**20, 1)
    return out


async def closed_loop(
    customers: Customers, questions: list[str], concurrency: int, turns: int, think_s: float = 0.0
) -> dict:
    conversations = await customers.conversations(turns)
    queue = list(zip(conversations, (questions * (turns // len(questions) + 1))[:turns]))
    results: list[dict] = []
    before = cpu_seconds(customers.stack.pids)
    started = time.perf_counter()

    async def worker() -> None:
        while queue:
            conversation, text = queue.pop()
            if think_s:
                await asyncio.sleep(think_s)
            results.append(await customers.turn(conversation, text))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return summarise(results, elapsed, before, customers.stack.pids)


async def open_loop(
    customers: Customers, questions: list[str], n_customers: int, mean_gap_s: float, seconds: float
) -> dict:
    rng = random.Random(7)
    plan: list[float] = []
    for _ in range(n_customers):
        t = rng.expovariate(1 / mean_gap_s)
        while t < seconds:
            plan.append(t)
            t += rng.expovariate(1 / mean_gap_s)
    plan.sort()
    conversations = await customers.conversations(len(plan))
    results: list[dict] = []
    before = cpu_seconds(customers.stack.pids)
    started = time.perf_counter()

    async def one(at: float, conversation, text: str) -> None:  # noqa: ANN001
        await asyncio.sleep(max(0.0, started + at - time.perf_counter()))
        results.append(await customers.turn(conversation, text))

    await asyncio.gather(
        *(
            one(at, conversation, questions[i % len(questions)])
            for i, (at, conversation) in enumerate(zip(plan, conversations))
        )
    )
    elapsed = time.perf_counter() - started
    out = summarise(results, elapsed, before, customers.stack.pids)
    out["offered_per_s"] = round(len(plan) / seconds, 1)
    return out


def summarise(results: list[dict], elapsed: float, before: dict, pids: dict) -> dict:
    after = cpu_seconds(pids)
    n = len(results)
    ms = [r["ms"] for r in results]
    return {
        "turns": n,
        "errors": sum(not r["ok"] for r in results),
        "retried": sum(bool(r.get("retried")) for r in results),
        "answered": sum(bool(r.get("answered")) for r in results),
        "p50": pct(ms, 0.50),
        "p95": pct(ms, 0.95),
        "p99": pct(ms, 0.99),
        "turns_per_s": round(n / elapsed, 1),
        "cpu_ms_per_turn": {k: round((after[k] - before[k]) * 1000 / n, 1) for k in PROCESSES},
        "error_kinds": sorted({r["error"] for r in results if not r["ok"]})[:5],
        # (position in the phase, ms) of the three slowest turns: is an outlier the first?
        "slowest": sorted(enumerate(ms), key=lambda im: -im[1])[:3],
    }


async def pick_questions(customers: Customers, candidates: list[str], want: int) -> list[str]:
    """Warm-up pass: the questions the bot answers with an article."""
    picked = []
    for text in candidates:
        (conversation,) = await customers.conversations(1)
        if (await customers.turn(conversation, text)).get("answered"):
            picked.append(text)
        if len(picked) >= want:
            break
    return picked


async def run(stack: Stack, short: bool) -> dict:
    # Pooled connections expire before uvicorn's 5 s keep-alive timeout closes them, so the
    # client rarely reuses one the server is closing at that moment (a ReadError).
    limits = httpx.Limits(
        max_connections=400, max_keepalive_connections=400, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        customers = Customers(stack, client)
        progress("warm-up: picking bot-answered questions")
        questions = await pick_questions(customers, candidate_questions(), 10 if short else 40)
        # The floor is measured before and after the load, on the same questions, while the
        # stack sits idle: a shared machine's speed drifts, and both readings show by how much.
        progress("floor (before the load): Rasa parse and app search in-process")
        floors = [await asyncio.to_thread(floor, questions)]
        phases: dict[str, dict] = {}
        plan = [(1, 30)] if short else [(1, 100), (10, 400), (50, 800)]
        for concurrency, turns in plan:
            progress(f"closed loop: {concurrency} customers, {turns} turns")
            phases[f"{concurrency} customers"] = await closed_loop(
                customers, questions, concurrency, turns
            )
        if not short:
            # One customer who reads each answer for a second: the stack idles between turns,
            # and on this shared machine an idle second leaves the caches cold (the same
            # in-process search took 2.4 ms back to back and 7-9 ms a second apart).
            progress("closed loop: 1 customer, 1 s between turns, 30 turns")
            phases["1 customer, 1 s apart"] = await closed_loop(
                customers, questions, 1, 30, think_s=1.0
            )
            progress("open loop: 200 customers, one message every 10 s each, 60 s")
            phases["open loop 200"] = await open_loop(customers, questions, 200, 10.0, 60.0)
        rss = rss_mb(stack.pids)
        if not short:
            progress("floor (after the load)")
            floors.append(await asyncio.to_thread(floor, questions))
        return {"questions": questions, "phases": phases, "rss_mb": rss, "floors": floors}


def combined_floor(floors: list[dict]) -> dict:
    """The mean of the floor readings (before and after the load), each kept."""
    keys = ("parse_ms", "search_ms", "floor_ms", "floor_cpu_ms")
    mean = {k: round(sum(f[k] for f in floors) / len(floors), 2) for k in keys}
    return {**mean, "readings": [f["floor_ms"] for f in floors]}


def report(result: dict, floor_: dict) -> str:
    rows = []
    for name, p in result["phases"].items():
        cpu = p["cpu_ms_per_turn"]
        rows.append(
            [name, p["turns"], p["errors"], p["retried"], p["answered"],
             p["p50"], p["p95"], p["p99"], round(p["p50"] / floor_["floor_ms"], 1),
             p["turns_per_s"],
             cpu["rasa"], cpu["actions"], cpu["app"], round(sum(cpu.values()), 1)]
        )  # fmt: skip
    rss = result["rss_mb"]
    return "\n".join(
        [
            "# bench-chat: reply time against the compute floor"
            + (
                f" ({result['processes']} app workers + {result['processes']} Rasa servers,"
                " PostgreSQL + Redis)"
                if result.get("processes", 1) > 1
                else " (1 + 1, SQLite)"
            ),
            "",
            f"Floor per message (in-process, medians): Rasa parse {floor_['parse_ms']} ms + "
            f"app search (embed + index) {floor_['search_ms']} ms = **{floor_['floor_ms']} ms**"
            f" ({floor_['floor_cpu_ms']} ms CPU); the mean of readings before and after the load: "
            + " and ".join(f"{r} ms" for r in floor_["readings"])
            + ".",
            "",
            table(
                [
                    "phase",
                    "turns",
                    "errors",
                    "retried",
                    "KB-answered",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "p50/floor",
                    "turns/s",
                    "CPU rasa",
                    "CPU actions",
                    "CPU app",
                    "CPU total ms/turn",
                ],
                rows,
            ),  # fmt: skip
            "",
            *(
                [
                    '"1 customer, 1 s apart": the customer reads each answer for a second, so the'
                    " stack idles between turns (its turns/s is bounded by that; its CPU includes"
                    " the idle seconds). The floor and the other phases run back to back, with"
                    " warm caches.",
                    "",
                ]
                if "1 customer, 1 s apart" in result["phases"]
                else []
            ),
            f"Resident memory after the load: Rasa {rss['rasa']} MB, actions "
            f"{rss['actions']} MB, app {rss['app']} MB, total "
            f"{round(sum(rss.values()), 1)} MB.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="1 customer, 30 turns (make test)")
    parser.add_argument("--no-save", action="store_true", help="print only (tests)")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="app workers and Rasa servers (2+: PostgreSQL and Redis, bench/scaled_stack.py)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.processes > 1:
            stack_cm = running_scaled_stack(Path(tmp), args.processes)
        else:
            stack_cm = running_stack(Path(tmp))
        with stack_cm as stack:
            result = asyncio.run(run(stack, args.short))
    result["processes"] = args.processes
    floor_ = combined_floor(result.pop("floors"))
    markdown = report(result, floor_)
    print(markdown)
    name = "chat-short" if args.short else "chat"
    if args.processes > 1:
        name += f"-scale-{args.processes}"
    if not args.no_save:
        save(name, markdown, {"floor": floor_, **result})


if __name__ == "__main__":
    main()
