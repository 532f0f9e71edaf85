"""Shared helpers for the NLU benchmarks (run in .venv-rasa): train, parse, score, print."""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from common import ROOT, progress, save, table  # noqa: F401 - re-exported to the NLU benches

OOS_LABELS = {"out_of_scope", "nlu_fallback"}

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def quiet_rasa() -> None:
    """Rasa logs every parse at debug level through structlog; benchmarks print tables."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)


def load_examples(paths: Sequence[Path]) -> list[tuple[str, str]]:
    """(text, intent) pairs from Rasa NLU YAML files, entity markup removed."""
    from rasa.shared.nlu.training_data.loading import load_data

    pairs: list[tuple[str, str]] = []
    for path in paths:
        data = load_data(str(path))
        pairs += [(m.get("text"), m.get("intent")) for m in data.intent_examples]
    return pairs


def train_nlu(config: Path, nlu_files: Sequence[Path], out_dir: Path, name: str) -> Path:
    """Trains an NLU-only model with Rasa's own training entry point."""
    from rasa.model_training import train_nlu as rasa_train_nlu

    quiet_rasa()
    out_dir.mkdir(parents=True, exist_ok=True)
    model = rasa_train_nlu(
        config=str(config),
        nlu_data=[str(p) for p in nlu_files] if len(nlu_files) > 1 else str(nlu_files[0]),
        output=str(out_dir),
        fixed_model_name=name,
    )
    if not model:
        raise SystemExit(f"training failed for {config}")
    return Path(model)


def parse_all(model: Path, texts: Sequence[str], label: str = "parsing") -> list[dict]:
    """Runs every text through the trained model's NLU graph (what `rasa run` does)."""
    from rasa.core.agent import Agent

    quiet_rasa()
    agent = Agent.load(str(model))

    async def run() -> list[dict]:
        out = []
        for i, text in enumerate(texts):
            out.append(await agent.parse_message(text))
            if (i + 1) % 1000 == 0:
                progress(f"{label}: {i + 1}/{len(texts)}")
        return out

    return asyncio.run(run())


def top_and_raw(parse: dict, threshold: float) -> tuple[str, str, float]:
    """Final intent (after fallback), the classifier's own top intent, and its confidence.

    The FallbackClassifier puts an ``nlu_fallback`` entry with the threshold as confidence in
    front of the ranking; the classifier may also predict ``nlu_fallback`` itself (it is
    trained on messages that carry no request), which stays.
    """
    final = parse["intent"]["name"]
    ranking = list(parse.get("intent_ranking") or [])
    injected = (
        ranking
        and ranking[0]["name"] == "nlu_fallback"
        and abs(float(ranking[0]["confidence"]) - threshold) < 1e-9
        and (len(ranking) == 1 or float(ranking[1]["confidence"]) < threshold)
    )
    if injected and len(ranking) > 1:
        ranking = ranking[1:]
    raw = ranking[0] if ranking else parse["intent"]
    return final, raw["name"], float(raw["confidence"])


def apply_threshold(raw: list[tuple[str, float]], threshold: float) -> list[str]:
    return [name if conf >= threshold else "nlu_fallback" for name, conf in raw]


def scores(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """In-scope accuracy and out-of-scope recall (OOS = out_of_scope or a fallback)."""
    ins = [(g, p) for g, p in zip(gold, pred) if g not in OOS_LABELS]
    oos = [(g, p) for g, p in zip(gold, pred) if g in OOS_LABELS]
    return {
        "in_scope_accuracy": sum(g == p for g, p in ins) / max(1, len(ins)),
        "oos_recall": sum(p in OOS_LABELS for _, p in oos) / max(1, len(oos)),
        "n_in_scope": len(ins),
        "n_oos": len(oos),
    }


def per_intent(
    gold: Sequence[str], pred: Sequence[str]
) -> list[tuple[str, float, float, float, int]]:
    """(intent, precision, recall, f1, support); fallbacks count as out_of_scope."""
    norm = lambda x: "out_of_scope" if x in OOS_LABELS else x  # noqa: E731
    gold = [norm(g) for g in gold]
    pred = [norm(p) for p in pred]
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for g, p in zip(gold, pred):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    rows = []
    for intent in sorted(set(gold)):
        p = tp[intent] / max(1, tp[intent] + fp[intent])
        r = tp[intent] / max(1, tp[intent] + fn[intent])
        f = 2 * p * r / max(1e-9, p + r)
        rows.append((intent, p, r, f, tp[intent] + fn[intent]))
    return rows


def confusions(
    gold: Sequence[str], pred: Sequence[str], top: int = 10
) -> list[tuple[str, str, int]]:
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for g, p in zip(gold, pred):
        if g != p and not (g in OOS_LABELS and p in OOS_LABELS):
            pairs[(g, p)] += 1
    return [(g, p, n) for (g, p), n in sorted(pairs.items(), key=lambda kv: -kv[1])[:top]]
