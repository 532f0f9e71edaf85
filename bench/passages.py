"""`make bench-passages`: does the customer see the section of the article that answers?

The bot shows one passage of the best article. knowledge_base/eval/passages/*.yml holds
customer questions labelled with the section(s) that answer them (``slug#Heading``), written
from the section headings alone. For each weight of the passage's own words
(knowledge_base/search.py PASSAGE_WORDS_WEIGHT) it reports, on the dev and test splits (the
split is a hash of the question, as in bench-kb):

- ``section_right``: among questions whose article is among the five results, the share
  whose passage of that article is a right section (the choice this weight makes);
- ``top_right``: the share whose first result is a right section (what the customer sees).

The weight is chosen on dev; test is reported.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import yaml  # noqa: E402

from api.config import Settings  # noqa: E402
from bench.common import progress, save, table  # noqa: E402
from knowledge_base.articles import load_dir  # noqa: E402
from knowledge_base.evaluation import split_of  # noqa: E402
from knowledge_base.index import PassageIndex  # noqa: E402
from knowledge_base.onnx_embedder import load_embedder  # noqa: E402
from knowledge_base.search import (  # noqa: E402
    INTRO_PENALTY,
    PASSAGE_WORDS_WEIGHT,
    SearchEngine,
)

ROOT = Path(__file__).resolve().parents[1]
KB_DIR = ROOT / "knowledge_base" / "articles"
QUESTIONS = ROOT / "knowledge_base" / "eval" / "passages"
WEIGHTS = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2]
PENALTIES = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2]


def load_questions(folder: Path) -> list[tuple[str, frozenset[str]]]:
    """(question, its right "slug#section" labels) from every ``*.yml`` in ``folder``."""
    out = []
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("questions", []):
            out.append((str(item["q"]), frozenset(item["a"])))
    if not out:
        raise SystemExit(f"{folder}: no questions")
    return out


def check_labels(questions: list[tuple[str, frozenset[str]]], index: PassageIndex) -> None:
    known = {f"{p.slug}#{p.section}" for p in index.passages if p.kind == "text"}
    unknown = sorted({a for _, labels in questions for a in labels} - known)
    if unknown:
        raise SystemExit(f"labels with no such section: {unknown[:5]}")


def score(engine: SearchEngine, questions: list[tuple[str, frozenset[str]]]) -> dict:
    found = section_right = top_right = 0
    misses = []
    for q, labels in questions:
        slugs = {a.split("#", 1)[0] for a in labels}
        results = engine.search(q, 5)
        if results and f"{results[0].slug}#{results[0].section}" in labels:
            top_right += 1
        mine = next((r for r in results if r.slug in slugs), None)
        if mine is None:
            continue
        found += 1
        if f"{mine.slug}#{mine.section}" in labels:
            section_right += 1
        else:
            misses.append({"q": q, "want": sorted(labels), "got": mine.section})
    return {
        "questions": len(questions),
        "article_found": found,
        "section_right": round(section_right / found, 3) if found else float("nan"),
        "top_right": round(top_right / len(questions), 3),
        "misses": misses,
    }


def main() -> None:
    settings = Settings()
    embedder = load_embedder(settings.embedder_onnx_dir, settings.embedder_backend)
    questions = load_questions(QUESTIONS)
    splits = {
        name: [(q, a) for q, a in questions if split_of(q) == name] for name in ("dev", "test")
    }
    results: dict[tuple[float, float], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        index = PassageIndex(Path(tmp) / "index", embedder)
        index.open(load_dir(KB_DIR))
        check_labels(questions, index)
        for weight in WEIGHTS:
            progress(f"passage words weight {weight}")
            for penalty in PENALTIES:
                engine = SearchEngine(
                    index, embedder, passage_words_weight=weight, intro_penalty=penalty
                )
                results[weight, penalty] = {n: score(engine, qs) for n, qs in splits.items()}
    # the best on dev; among equals, the smallest change from the plain cosine
    best = max(results, key=lambda wp: (results[wp]["dev"]["section_right"], -sum(wp)))
    in_use = (PASSAGE_WORDS_WEIGHT, INTRO_PENALTY)
    measures = [(s, k) for s in ("dev", "test") for k in ("section_right", "top_right")]
    markdown = "\n".join(
        [
            "# Which section the customer sees (knowledge_base/eval/passages)",
            "",
            f"Questions: dev {len(splits['dev'])}, test {len(splits['test'])}. In use "
            f"(knowledge_base/search.py): PASSAGE_WORDS_WEIGHT, INTRO_PENALTY = {in_use}; "
            f"best on dev: {best}.",
            "",
            table(
                ["passage words weight", "intro penalty", *(f"{s} {k}" for s, k in measures)],
                [[w, p, *(r[s][k] for s, k in measures)] for (w, p), r in results.items()],
            ),
            "",
            "`section_right`: among questions whose article is in the top 5, the share shown "
            "a right section of it; `top_right`: the first result is a right section.",
        ]
    )
    print(markdown)
    data = {
        f"{w}/{p}": {s: {m: v for m, v in r[s].items() if m != "misses"} for s in r}
        for (w, p), r in results.items()
    }
    save("passages", markdown, data)
    for miss in results.get(in_use, {}).get("dev", {}).get("misses", []):
        progress(f"dev miss: {miss}")


if __name__ == "__main__":
    main()
