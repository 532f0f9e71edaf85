"""Retrieval evaluation on a questions file (``questions: [{q, a}]``, ``unanswerable: [...]``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge_base.search import SearchEngine


def split_of(text: str) -> str:
    """Stable dev/test split from the text itself: a third of the questions are test.

    Thresholds and retrieval choices are tuned on "dev" only; "test" is reported, never tuned.
    """
    return "test" if int(hashlib.sha256(text.encode()).hexdigest(), 16) % 3 == 0 else "dev"


@dataclass(frozen=True)
class Question:
    q: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class EvalSet:
    questions: list[Question]
    unanswerable: list[str]

    def split(self, name: str | None) -> EvalSet:
        if name is None:
            return self
        return EvalSet(
            [q for q in self.questions if split_of(q.q) == name],
            [u for u in self.unanswerable if split_of(u) == name],
        )


def load_eval(path: Path) -> EvalSet:
    """One questions file, or every ``*.yml`` in a folder (merged)."""
    path = Path(path)
    if path.is_dir():
        parts = [load_eval(p) for p in sorted(path.glob("*.yml"))]
        if not parts:
            raise ValueError(f"{path}: no questions files")
        return EvalSet(
            [q for p in parts for q in p.questions], [u for p in parts for u in p.unanswerable]
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read questions file: {exc}") from exc
    try:
        questions = [
            Question(str(item["q"]), tuple(item["a"])) for item in data.get("questions", [])
        ]
        unanswerable = [str(u) for u in data.get("unanswerable", [])]
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"{path}: expected questions: [{{q, a: [slug]}}] and unanswerable: [text]"
        ) from exc
    if not questions:
        raise ValueError(f"{path}: no questions")
    return EvalSet(questions, unanswerable)


@dataclass
class Ranked:
    """Per question: the ranked slugs with scores."""

    answerable: list[tuple[Question, list[tuple[str, float]]]]
    unanswerable: list[tuple[str, list[tuple[str, float]]]]


def rank(
    engine: SearchEngine,
    evalset: EvalSet,
    k: int = 10,
    intents: dict[str, dict[str, float]] | None = None,
) -> Ranked:
    """Every question ranked (best first) with each article's answer score, the one compared
    with the answer threshold; ``intents`` maps a question to NLU's intent ranking for it,
    which search uses as the bot does."""

    def run(text: str) -> list[tuple[str, float]]:
        ranking = (intents or {}).get(text)
        return [(r.slug, r.answer_score) for r in engine.search(text, k, intents=ranking)]

    return Ranked(
        [(q, run(q.q)) for q in evalset.questions], [(u, run(u)) for u in evalset.unanswerable]
    )


def metrics(ranked: Ranked, threshold: float) -> dict[str, float]:
    """Recall@1/3/5, MRR and answer rates at ``threshold`` (top score >= threshold = answered)."""
    n = max(1, len(ranked.answerable))
    out: dict[str, float] = {}
    for k in (1, 3, 5):
        hits = sum(any(s in q.answers for s, _ in res[:k]) for q, res in ranked.answerable)
        out[f"recall_at_{k}"] = round(hits / n, 4)
    rr = 0.0
    for q, res in ranked.answerable:
        for i, (slug, _) in enumerate(res, 1):
            if slug in q.answers:
                rr += 1 / i
                break
    out["mrr"] = round(rr / n, 4)
    answered = [res and res[0][1] >= threshold for _, res in ranked.answerable]
    out["answered_answerable_rate"] = round(sum(answered) / n, 4)
    correct = [
        bool(res) and res[0][1] >= threshold and res[0][0] in q.answers
        for q, res in ranked.answerable
    ]
    out["answered_correctly_rate"] = round(sum(correct) / n, 4)
    u = ranked.unanswerable
    out["answered_unanswerable_rate"] = round(
        sum(bool(res) and res[0][1] >= threshold for _, res in u) / max(1, len(u)), 4
    )
    out["threshold"] = threshold
    out["n_questions"] = len(ranked.answerable)
    out["n_unanswerable"] = len(u)
    return out
