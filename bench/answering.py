"""End-to-end answering on the eval questions: the bot's NLU first, then the KB threshold.

A question gets a help-center answer only if NLU routes it to a support topic (not
out_of_scope, a fallback, a sensitive topic or a request for a person) and the best article
scores at least the threshold. This is what customers experience, so the answer threshold is
chosen on this joint curve (dev split), not on retrieval scores alone.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import ROOT, free_port, table
from knowledge_base.evaluation import Ranked

SUPPORT_TOPICS = {
    "order_tracking", "order_change", "delivery_problem", "shipping_info", "returns_refunds",
    "payments", "promotions", "account_access", "account_privacy", "membership",
    "product_info", "store_info",
}  # fmt: skip
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"


def model_available() -> bool:
    return RASA.exists() and any((ROOT / "models").glob("*.tar.gz"))


def parse_intents(texts: list[str]) -> list[str]:
    """NLU intent (after the fallback classifier) for each text, from a real Rasa server."""
    return [p["intent"]["name"] for p in parse_all(texts)]


def parse_all(texts: list[str]) -> list[dict]:
    """Rasa's whole parse (intent, ranking, clause intents) for each text."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        endpoints = Path(tmp) / "endpoints.yml"
        endpoints.write_text("tracker_store:\n  type: InMemoryTrackerStore\n")
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
        }
        proc = subprocess.Popen(
            [str(RASA), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port),
             "--model", str(ROOT / "models"), "--endpoints", str(endpoints)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 300
            while True:
                try:
                    if httpx.get(f"{url}/status", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Rasa server did not start")
                time.sleep(0.5)
            with httpx.Client(base_url=url, timeout=30) as client:
                return [client.post("/model/parse", json={"text": t}).json() for t in texts]
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def routed_to_kb(parse: dict) -> bool:
    """Whether the bot's turn policy searches the help center for this message (a first
    message in a conversation: nothing shown before)."""
    from bot.actions import policy

    understood = policy.Understood.from_parse(parse)
    return policy.decide(understood, policy.Memory(), policy.load_config()).action == "search"


def joint_metrics(ranked: Ranked, routed: dict[str, bool], threshold: float) -> dict[str, float]:
    def answers(text: str, results: list[tuple[str, float]]) -> bool:
        return routed[text] and bool(results) and results[0][1] >= threshold

    n = max(1, len(ranked.answerable))
    answered = [(q, res) for q, res in ranked.answerable if answers(q.q, res)]
    correct = sum(res[0][0] in q.answers for q, res in answered)
    to_kb = sum(routed[q.q] for q, _ in ranked.answerable)
    u = ranked.unanswerable
    return {
        "threshold": threshold,
        "nlu_routed_to_kb": round(to_kb / n, 4),
        "answered": round(len(answered) / n, 4),
        "answered_correctly": round(correct / n, 4),
        "answered_wrongly": round((len(answered) - correct) / n, 4),
        "unanswerable_answered": round(sum(answers(t, res) for t, res in u) / max(1, len(u)), 4),
    }


def joint(
    ranked_dev: Ranked,
    ranked_test: Ranked,
    grid: list[float],
    max_unanswerable: float,
    parses: dict[str, dict],
) -> tuple[str, dict, float]:
    routed = {text: routed_to_kb(parse) for text, parse in parses.items()}
    curve = [joint_metrics(ranked_dev, routed, th) for th in grid]
    ok = [m for m in curve if m["unanswerable_answered"] <= max_unanswerable]
    # Most correct answers within the unanswerable budget; ties -> the stricter threshold.
    best = max(ok, key=lambda m: (m["answered_correctly"], m["threshold"])) if ok else curve[-1]
    threshold = best["threshold"]
    dev, test = (
        joint_metrics(ranked_dev, routed, threshold),
        joint_metrics(ranked_test, routed, threshold),
    )
    keys = [
        "nlu_routed_to_kb",
        "answered",
        "answered_correctly",
        "answered_wrongly",
        "unanswerable_answered",
    ]
    shown = [
        m for m in curve if round(m["threshold"] * 100) % 3 == 0 or m["threshold"] == threshold
    ]
    md = [
        f"## What customers get: the bot's routing + KB threshold (chosen on dev: {threshold:.2f})",
        "",
        "A question is answered when the turn policy (bot/actions/policy.py) searches the help "
        "center for it and the best article clears the threshold; the threshold is the one "
        "that answers the most dev questions right while answering at most "
        f"{max_unanswerable:.0%} of the unanswerable ones.",
        "",
        table(
            ["split", *keys], [["dev", *(dev[k] for k in keys)], ["test", *(test[k] for k in keys)]]
        ),
        "",
        "### Trade-off on dev (share of answerable / unanswerable questions)",
        "",
        table(
            ["threshold", "answered", "answered correctly", "unanswerable answered"],
            [
                [m["threshold"], m["answered"], m["answered_correctly"], m["unanswerable_answered"]]
                for m in shown
            ],
        ),
    ]
    return "\n".join(md), {"threshold": threshold, "dev": dev, "test": test}, threshold
