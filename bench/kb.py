"""`make bench-kb`: retrieval quality, answer threshold and search speed, in one run.

Quality: Recall@1/3, MRR on knowledge_base/eval/*.yml, dev and test splits (the split
is a hash of the question text). The answer threshold is chosen on dev only, on what
customers get: the trained bot's NLU routes each question first (bench/answering.py), and
the threshold and the answer score's weights (NLU's out-of-scope probability, words of the
question the article lacks, the best article's lead) maximise correct answers while at most
5% of unanswerable dev questions get an answer (without a trained model: from retrieval
scores alone). Test is reported.

Speed (same run, same machine): search-function and HTTP-endpoint latency next to the floor
(one query embedding + brute-force numpy dot product over the same vectors); indexing
throughput; flat vs HNSW on a synthetic 100,000-passage collection.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import httpx  # noqa: E402
import numpy as np  # noqa: E402

from api.config import Settings  # noqa: E402
from bench.answering import (  # noqa: E402
    SUPPORT_TOPICS,
    joint,
    joint_metrics,
    model_available,
    parse_all,
    routed_to_kb,
)
from bench.common import app_worker, percentiles, progress, save, table, time_calls  # noqa: E402
from knowledge_base.articles import load_dir  # noqa: E402
from knowledge_base.evaluation import EvalSet, Ranked, load_eval, metrics, rank  # noqa: E402
from knowledge_base.index import Encoder, PassageIndex  # noqa: E402
from knowledge_base.onnx_embedder import load_embedder  # noqa: E402
from knowledge_base.search import SearchEngine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KB_DIR = ROOT / "knowledge_base" / "articles"
# Every questions file in the folder: questions.yml and questions_more.yml.
QUESTIONS = ROOT / "knowledge_base" / "eval"
CONFIG = ROOT / "api" / "config.py"
MAX_UNANSWERABLE_ANSWERED = 0.05
GRID = [round(0.20 + 0.01 * i, 2) for i in range(50)]
SYNTHETIC_N = 100_000


def choose_threshold(ranked_dev) -> tuple[float, list[dict]]:
    curve = [metrics(ranked_dev, th) for th in GRID]
    ok = [m for m in curve if m["answered_unanswerable_rate"] <= MAX_UNANSWERABLE_ANSWERED]
    chosen = min(ok, key=lambda m: m["threshold"]) if ok else curve[-1]
    return chosen["threshold"], curve


def quality(
    engine: SearchEngine, intents: dict[str, dict[str, float]]
) -> tuple[str, dict, float, Ranked, Ranked]:
    evalset = load_eval(QUESTIONS)
    dev, test = evalset.split("dev"), evalset.split("test")
    progress(
        f"ranking {len(evalset.questions)} questions + {len(evalset.unanswerable)} unanswerable"
    )
    ranked_dev = rank(engine, dev, intents=intents)
    ranked_test = rank(engine, test, intents=intents)
    threshold, curve = choose_threshold(ranked_dev)
    m_dev, m_test = metrics(ranked_dev, threshold), metrics(ranked_test, threshold)
    keys = [
        "recall_at_1",
        "recall_at_3",
        "mrr",
        "answered_answerable_rate",
        "answered_correctly_rate",
        "answered_unanswerable_rate",
        "n_questions",
        "n_unanswerable",
    ]
    md = [
        f"## Retrieval quality (answer rates at the retrieval-only dev threshold {threshold:.2f}; "
        "the bot uses the end-to-end one below)",
        "",
    ]
    md.append(
        table(
            ["split"] + keys,
            [["dev"] + [m_dev[k] for k in keys], ["test"] + [m_test[k] for k in keys]],
        )
    )
    md += [
        "",
        "Targets: Recall@1 >= 0.85, Recall@3 >= 0.95, <= 10% of unanswerable questions answered.",
        "",
    ]
    md += ["### Retrieval-only answer-threshold trade-off (dev)", ""]
    md.append(
        table(
            ["threshold", "answerable answered", "answered correctly", "unanswerable answered"],
            [
                [
                    m["threshold"],
                    m["answered_answerable_rate"],
                    m["answered_correctly_rate"],
                    m["answered_unanswerable_rate"],
                ]
                for m in curve
                if round(m["threshold"] * 100) % 3 == 0 or m["threshold"] == threshold
            ],
        )
    )
    data = {"threshold": threshold, "dev": m_dev, "test": m_test}
    return "\n".join(md), data, threshold, ranked_dev, ranked_test


def http_latency(var_dir: Path, queries: list[str]) -> list[float]:
    """Latency of GET /api/kb/search against a real uvicorn process (index already built)."""
    env = {
        **os.environ,
        "SUPPORTBOT_VAR_DIR": str(var_dir),
        "SUPPORTBOT_RASA_URL": "http://127.0.0.1:9",
    }
    with app_worker(env) as url, httpx.Client(base_url=url, timeout=30) as client:
        return time_calls(
            lambda q: client.get("/api/kb/search", params={"q": q, "k": 5}).raise_for_status(),
            queries,
            repeat=2,
        )


def speed(engine: SearchEngine, embedder: Encoder, index_dir: Path) -> tuple[str, dict]:
    evalset = load_eval(QUESTIONS)
    queries = [q.q for q in evalset.questions][:200]
    vectors = engine.index.vectors

    def floor(q: str) -> None:
        v = embedder.encode([q])[0]
        scores = vectors @ v
        np.argpartition(-scores, 20)[:20]

    progress("latency: floor, search function, HTTP endpoint")
    rows = {
        "floor (embed + numpy dot)": percentiles(time_calls(floor, queries, repeat=2)),
        "search function": percentiles(
            time_calls(lambda q: engine.search(q, 5), queries, repeat=2)
        ),
        "HTTP GET /api/kb/search": percentiles(http_latency(index_dir.parent, queries)),
    }
    base = rows["floor (embed + numpy dot)"]["p50"]
    md = ["## Query latency (ms, 2 passes over 200 questions)", ""]
    md.append(
        table(
            ["path", "p50", "p95", "p50 / floor p50"],
            [[k, v["p50"], v["p95"], round(v["p50"] / base, 2)] for k, v in rows.items()],
        )
    )
    md += ["", "Target: search function p50 within 1.5x of the floor."]
    return "\n".join(md), rows


def indexing(embedder: Encoder) -> tuple[str, dict]:
    articles = load_dir(KB_DIR)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        index = PassageIndex(Path(tmp), embedder)
        report = index.rebuild(articles)
        seconds = time.perf_counter() - start
    demo = {
        "passages": report.embedded_passages,
        "seconds": round(seconds, 2),
        "passages_per_s": round(report.embedded_passages / seconds, 1),
    }

    # Synthetic large collection: real passage vectors plus noise, renormalised. Embedding
    # 100k texts would take ~6 min here and measures the model, not the index.
    rng = np.random.default_rng(7)
    base = index.vectors
    synth = base[rng.integers(0, len(base), SYNTHETIC_N)] + rng.normal(
        0, 0.08, (SYNTHETIC_N, base.shape[1])
    ).astype(np.float32)
    synth /= np.linalg.norm(synth, axis=1, keepdims=True)
    synth = np.ascontiguousarray(synth, dtype=np.float32)
    queries = embedder.encode([q.q for q in load_eval(QUESTIONS).questions[:200]])

    import faiss

    rows = {}
    results = {}
    for kind in ("flat", "hnsw"):
        progress(f"synthetic {SYNTHETIC_N:,} vectors: building {kind}")
        holder = PassageIndex(Path(tempfile.gettempdir()), embedder, kind=kind)
        start = time.perf_counter()
        fidx = holder._new_faiss(synth)
        build = time.perf_counter() - start
        lat = []
        ids_all = []
        for q in queries:
            t = time.perf_counter()
            _, ids = fidx.search(q.reshape(1, -1), 10)
            lat.append((time.perf_counter() - t) * 1000)
            ids_all.append(ids[0])
        results[kind] = ids_all
        rows[kind] = {
            "build_s": round(build, 2),
            "vectors_per_s": round(SYNTHETIC_N / build),
            **{f"search_{k}_ms": v for k, v in percentiles(lat).items() if k != "n"},
        }
    agreement = np.mean(
        [len(set(a) & set(b)) / 10 for a, b in zip(results["flat"], results["hnsw"])]
    )
    rows["hnsw"]["recall_at_10_vs_flat"] = round(float(agreement), 4)
    rows["flat"]["recall_at_10_vs_flat"] = 1.0
    del faiss
    md = [
        "## Indexing",
        "",
        table(
            ["collection", "passages", "seconds", "passages/s (embed + index)"],
            [["demo KB", demo["passages"], demo["seconds"], demo["passages_per_s"]]],
        ),
    ]
    md += ["", f"### Synthetic {SYNTHETIC_N:,}-passage collection (vectors only)", ""]
    md.append(
        table(
            [
                "index",
                "build s",
                "vectors/s",
                "search p50 ms",
                "search p95 ms",
                "recall@10 vs flat",
            ],
            [
                [
                    k,
                    v["build_s"],
                    v["vectors_per_s"],
                    v["search_p50_ms"],
                    v["search_p95_ms"],
                    v["recall_at_10_vs_flat"],
                ]
                for k, v in rows.items()
            ],
        )
    )
    return "\n".join(md), {"demo": demo, "synthetic": rows}


# The answer score's weights (knowledge_base/search.py): NLU's out-of-scope probability, the
# share of the question the article does not cover, and the best article's lead.
OUT_OF_SCOPE_WEIGHTS = [0.0, 0.25, 0.5, 0.75]
UNCOVERED_WEIGHTS = [0.0, 0.1, 0.15, 0.2, 0.3]
MARGIN_WEIGHTS = [0.0, 0.2, 0.4, 0.6]
WEIGHTS = ("out_of_scope", "uncovered", "margin")


class MemoEncoder:
    """The engine's encoder, each text embedded once: the weight grid ranks the same
    questions 80 times, and only the weights change."""

    def __init__(self, encoder) -> None:  # noqa: ANN001
        self.encoder = encoder
        self.vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.encoder.encode(missing)))
        return np.stack([self.vectors[t] for t in texts])


def set_weights(engine: SearchEngine, out_of_scope: float, uncovered: float, margin: float) -> None:
    engine.out_of_scope_weight = out_of_scope
    engine.uncovered_weight = uncovered
    engine.margin_weight = margin


def choose_weights(
    engine: SearchEngine, intents: dict[str, dict[str, float]], parses: dict[str, dict]
) -> tuple[str, dict]:
    """The answer-score weights that answer the most dev questions right with at most 5% of
    the unanswerable ones answered (each with its best threshold); sets them on ``engine``."""
    dev = load_eval(QUESTIONS).split("dev")
    routed = {text: routed_to_kb(parse) for text, parse in parses.items()}
    grid = []
    encoder, engine.encoder = engine.encoder, MemoEncoder(engine.encoder)
    try:
        for oos in OUT_OF_SCOPE_WEIGHTS:
            for uncovered in UNCOVERED_WEIGHTS:
                for margin in MARGIN_WEIGHTS:
                    set_weights(engine, oos, uncovered, margin)
                    ranked = rank(engine, dev, intents=intents)
                    curve = [joint_metrics(ranked, routed, th) for th in GRID]
                    ok = [
                        m for m in curve if m["unanswerable_answered"] <= MAX_UNANSWERABLE_ANSWERED
                    ]
                    best = max(ok, key=lambda m: (m["answered_correctly"], m["threshold"]))
                    grid.append({"out_of_scope": oos, "uncovered": uncovered, "margin": margin,
                                 **best})  # fmt: skip
    finally:
        engine.encoder = encoder
    # most answered right; ties -> the smallest weights
    chosen = max(grid, key=lambda g: (g["answered_correctly"], -sum(g[w] for w in WEIGHTS)))
    set_weights(engine, **{w: chosen[w] for w in WEIGHTS})
    md = [
        "## Answer-score weights (dev; each with the threshold that keeps unanswerable questions"
        f" answered at most {MAX_UNANSWERABLE_ANSWERED:.0%})",
        "",
        "answer score = score - w_oos * P(out_of_scope) - w_uncovered * share of the question's "
        "words the article lacks (knowledge_base/coverage.py) + w_margin * the best article's "
        "lead over the second (best article only). Chosen: "
        f"w_oos {chosen['out_of_scope']}, w_uncovered {chosen['uncovered']}, "
        f"w_margin {chosen['margin']}.",
        "",
        table(
            ["w_oos", "w_uncovered", "w_margin", "threshold", "answered", "answered correctly",
             "unanswerable answered"],
            [[g["out_of_scope"], g["uncovered"], g["margin"], g["threshold"], g["answered"],
              g["answered_correctly"], g["unanswerable_answered"]] for g in grid],
        ),  # fmt: skip
    ]
    return "\n".join(md), {"grid": grid, "chosen": chosen}


def write_config(threshold: float, engine: SearchEngine) -> None:
    text = CONFIG.read_text()
    new = text
    values = (
        ("kb_answer_threshold", threshold),
        ("kb_out_of_scope_weight", engine.out_of_scope_weight),
        ("kb_uncovered_weight", engine.uncovered_weight),
        ("kb_margin_weight", engine.margin_weight),
    )
    for name, value in values:
        new = re.sub(rf"({name}: float = Field\()[0-9.]+", rf"\g<1>{value}", new)
    if new != text:
        CONFIG.write_text(new)
        progress("wrote " + ", ".join(f"{n}={v}" for n, v in values) + " to api/config.py")


def configured(
    engine: SearchEngine,
    evalset: EvalSet,
    intents: dict[str, dict[str, float]],
    parses: dict[str, dict],
    settings: Settings,
) -> tuple[str, dict]:
    """What customers get with the threshold and weights the app is configured with
    (api/config.py), which `--no-write` keeps when this run chooses others. The engine's
    weights (the chosen ones) are left as they were."""
    chosen = (engine.out_of_scope_weight, engine.uncovered_weight, engine.margin_weight)
    set_weights(
        engine,
        settings.kb_out_of_scope_weight,
        settings.kb_uncovered_weight,
        settings.kb_margin_weight,
    )
    routed = {text: routed_to_kb(parse) for text, parse in parses.items()}
    threshold = settings.kb_answer_threshold
    try:
        rows = {
            split: joint_metrics(
                rank(engine, evalset.split(split), intents=intents), routed, threshold
            )
            for split in ("dev", "test")
        }
    finally:
        set_weights(engine, *chosen)
    keys = ["answered", "answered_correctly", "answered_wrongly", "unanswerable_answered"]
    md = [
        f"## As configured (api/config.py: threshold {threshold:.2f}, w_oos "
        f"{settings.kb_out_of_scope_weight}, w_uncovered {settings.kb_uncovered_weight}, "
        f"w_margin {settings.kb_margin_weight})",
        "",
        table(["split", *keys], [[split, *(m[k] for k in keys)] for split, m in rows.items()]),
    ]
    return "\n".join(md), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--no-write", action="store_true", help="do not write the chosen threshold and weights"
    )
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--retrieval-only", action="store_true", help="skip the NLU + KB section")
    args = parser.parse_args()

    # The encoder the app serves with (SUPPORTBOT_EMBEDDER_BACKEND / _ONNX_DIR), so the
    # numbers are the product's.
    settings = Settings()
    embedder = load_embedder(settings.embedder_onnx_dir, settings.embedder_backend)
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        index = PassageIndex(index_dir, embedder)
        index.open(load_dir(KB_DIR))
        engine = SearchEngine(index, embedder)
        parses: dict[str, dict] = {}
        if model_available() and not args.retrieval_only:
            evalset = load_eval(QUESTIONS)
            texts = [q.q for q in evalset.questions] + list(evalset.unanswerable)
            progress(f"NLU: parsing {len(texts)} eval questions with the trained Rasa model")
            parses = dict(zip(texts, parse_all(texts)))
        # As the bot sends them: topic probabilities (an article's topic ranks it higher) and
        # the out-of-scope probability (it lowers answer scores).
        intents = {
            text: {
                r["name"]: r["confidence"]
                for r in parse.get("intent_ranking") or []
                if r["name"] in SUPPORT_TOPICS or r["name"] == "out_of_scope"
            }
            for text, parse in parses.items()
        }
        w_md, w_data = choose_weights(engine, intents, parses) if parses else ("", {})
        q_md, q_data, threshold, ranked_dev, ranked_test = quality(engine, intents)
        parts, data = (
            [
                f"# Knowledge-base benchmark ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)",
                "",
                q_md,
            ],
            {"quality": q_data},
        )
        if parses:
            j_md, j_data, threshold = joint(
                ranked_dev, ranked_test, GRID, MAX_UNANSWERABLE_ANSWERED, parses
            )
            parts += ["", j_md, "", w_md]
            data["answering"] = j_data
            data["weights"] = w_data
            c_md, data["configured"] = configured(engine, evalset, intents, parses, settings)
            parts += ["", c_md]
        else:
            progress(
                "no trained Rasa model: threshold from retrieval scores alone (run make train)"
            )
        if not args.skip_speed:
            s_md, s_data = speed(engine, embedder, index_dir)
            i_md, i_data = indexing(embedder)
            parts += ["", s_md, "", i_md]
            data.update(latency=s_data, indexing=i_data)
    markdown = "\n".join(parts)
    print(markdown)
    save("kb", markdown, data)
    if not args.no_write:
        write_config(threshold, engine)


if __name__ == "__main__":
    main()
