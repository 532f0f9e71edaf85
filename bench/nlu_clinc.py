"""`make bench-nlu-clinc`: our NLU pipeline (bot/config.yml) on the CLINC150 benchmark.

Larson et al. 2019, "full" setting. Trains on train + oos_train (as the out_of_scope
intent), chooses the fallback threshold on the validation split, reports the test split.
Threshold rule, fixed in advance: the highest threshold that keeps validation in-scope
accuracy >= 94% (a support bot must stay right on in-scope questions), i.e. the best
out-of-scope recall affordable at that accuracy.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from nlu_common import (
    ROOT,
    apply_threshold,
    parse_all,
    progress,
    save,
    scores,
    table,
    top_and_raw,
    train_nlu,
)

DATA = ROOT.parent / "shared" / "datasets" / "clinc150" / "data_full.json"
CONFIG = ROOT / "bot" / "config.yml"
VAL_IN_SCOPE_TARGET = 0.94
GRID = [round(0.05 + 0.01 * i, 2) for i in range(86)]
PAPER = [
    ("BERT, oos-threshold (paper)", 0.962, 0.523),
    ("BERT, oos-train (paper)", 0.969, 0.403),
    ("MLP, oos-threshold (paper)", 0.934, 0.491),
    ("Rasa 2019, oos-train, best OOS (paper)", 0.909, 0.660),
]


def to_rasa_yaml(rows: list[list[str]], path: Path) -> None:
    by_intent: dict[str, list[str]] = {}
    for text, intent in rows:
        by_intent.setdefault("out_of_scope" if intent == "oos" else intent, []).append(text)
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in sorted(by_intent.items()):
        lines += [f"  - intent: {intent}", "    examples: |"]
        lines += [f"      - {json.dumps(t)[1:-1]}" for t in texts]
    path.write_text("\n".join(lines) + "\n")


def gold(rows: list[list[str]]) -> list[str]:
    return ["out_of_scope" if intent == "oos" else intent for _, intent in rows]


def configured_fallback() -> float:
    import re

    config = (ROOT / "bot" / "config.yml").read_text()
    return float(re.search(r"FallbackClassifier\s*\n\s*threshold:\s*([0-9.]+)", config).group(1))


def main() -> None:
    if not DATA.exists():
        raise SystemExit(f"CLINC150 not found at {DATA}")
    data = json.loads(DATA.read_text())
    train = data["train"] + data["oos_train"]
    val = data["val"] + data["oos_val"]
    test = data["test"] + data["oos_test"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        train_file = work / "clinc_train.yml"
        to_rasa_yaml(train, train_file)
        progress(f"training the pipeline on {len(train):,} CLINC150 examples (151 intents)")
        model = train_nlu(CONFIG, [train_file], work / "models", "clinc")
        progress(f"parsing {len(val):,} validation messages")
        raw_val = [
            top_and_raw(p, configured_fallback())[1:]
            for p in parse_all(model, [t for t, _ in val], "validation")
        ]
        progress(f"parsing {len(test):,} test messages")
        raw_test = [
            top_and_raw(p, configured_fallback())[1:]
            for p in parse_all(model, [t for t, _ in test], "test")
        ]

    g_val, g_test = gold(val), gold(test)
    curve = [(th, scores(g_val, apply_threshold(raw_val, th))) for th in GRID]
    ok = [c for c in curve if c[1]["in_scope_accuracy"] >= VAL_IN_SCOPE_TARGET]
    threshold = max(ok, key=lambda c: c[0])[0] if ok else GRID[0]
    s_val = scores(g_val, apply_threshold(raw_val, threshold))
    s_test = scores(g_test, apply_threshold(raw_test, threshold))

    md = ["# CLINC150 (full) with the supportbot NLU pipeline", ""]
    md.append(
        f"Threshold chosen on validation: {threshold:.2f} "
        f"(highest keeping in-scope accuracy >= {VAL_IN_SCOPE_TARGET})."
    )
    md += [
        "",
        table(
            ["system", "in-scope accuracy (test)", "out-of-scope recall (test)"],
            [
                (
                    "supportbot: ONNX MiniLM + logistic regression + fallback",
                    s_test["in_scope_accuracy"],
                    s_test["oos_recall"],
                )
            ]
            + PAPER,
        ),
    ]
    md += [
        "",
        f"Validation at the chosen threshold: in-scope {s_val['in_scope_accuracy']:.3f}, "
        f"OOS recall {s_val['oos_recall']:.3f}.",
        "Targets: in-scope accuracy >= 0.93 with out-of-scope recall >= 0.70.",
        "",
        "## Threshold sweep (test split, for reference only; not used for the choice)",
        "",
    ]
    sweep = [
        (th, scores(g_test, apply_threshold(raw_test, th)))
        for th in GRID
        if round(th * 100) % 10 == 0
    ]
    md.append(
        table(
            ["threshold", "in-scope accuracy", "OOS recall"],
            [(th, s["in_scope_accuracy"], s["oos_recall"]) for th, s in sweep],
        )
    )
    markdown = "\n".join(md)
    print(markdown)
    save("nlu-clinc150", markdown, {"threshold": threshold, "validation": s_val, "test": s_test})


if __name__ == "__main__":
    main()
