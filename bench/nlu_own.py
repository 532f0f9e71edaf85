"""`make bench-nlu`: NLU quality on our own held-out set (never trained or tuned on).

1. Chooses the fallback threshold by 5-fold cross-validation on the *training* data.
2. Trains the real pipeline (bot/config.yml) on all training data and scores the held-out
   set (nlu_data/eval/test_nlu.yml): per-intent precision/recall/F1, in-scope accuracy and
   out-of-scope recall at the configured threshold and at the cross-validated one.
3. Scores the incident detector (bot/components/incident_detector.py) on its held-out set
   (nlu_data/eval/incidents.yml): serious incidents flagged, near misses and held-out NLU
   messages flagged by mistake, at the turn policy's bar (bot/policy.yml) and around it.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
from pathlib import Path

import yaml
from nlu_common import (
    ROOT,
    apply_threshold,
    confusions,
    parse_all,
    per_intent,
    progress,
    save,
    scores,
    table,
    top_and_raw,
    train_nlu,
)

CONFIG = ROOT / "bot" / "config.yml"
TRAIN_DIR = ROOT / "nlu_data" / "nlu"
HELD_OUT = ROOT / "nlu_data" / "eval" / "test_nlu.yml"
# Written apart from the training data and the held-out set, to tune on (`--dev-only` scores
# only these: choices are made without looking at the held-out numbers).
DEV_FILES = sorted((ROOT / "nlu_data" / "dev").glob("*.yml"))
INCIDENTS_HELD_OUT = ROOT / "nlu_data" / "eval" / "incidents.yml"
INCIDENT_BARS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
FOLDS = 5
# Threshold criterion (fixed before looking at any held-out number): maximise in-scope
# accuracy + out-of-scope recall on out-of-fold predictions.
GRID = [round(0.05 + 0.01 * i, 2) for i in range(80)]


def configured_threshold() -> float:
    match = re.search(r"FallbackClassifier\s*\n\s*threshold:\s*([0-9.]+)", CONFIG.read_text())
    return float(match.group(1))


def cross_validated_threshold(work: Path) -> tuple[float, list]:
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data = load_data(str(TRAIN_DIR))
    examples = list(data.intent_examples)
    random.Random(13).shuffle(examples)
    gold, raw = [], []
    for fold in range(FOLDS):
        test = examples[fold::FOLDS]
        train = [e for i, e in enumerate(examples) if i % FOLDS != fold]
        fold_file = work / f"fold{fold}.yml"
        fold_file.write_text(
            TrainingData(training_examples=train, regex_features=data.regex_features).nlu_as_yaml()
        )
        progress(f"cross-validation fold {fold + 1}/{FOLDS}: training on {len(train)} examples")
        model = train_nlu(CONFIG, [fold_file], work / "models", f"fold{fold}")
        parses = parse_all(model, [e.get("text") for e in test], f"fold {fold + 1}")
        gold += [e.get("intent") for e in test]
        raw += [top_and_raw(p, configured_threshold())[1:] for p in parses]
    curve = []
    for th in GRID:
        s = scores(gold, apply_threshold(raw, th))
        curve.append((th, s["in_scope_accuracy"], s["oos_recall"]))
    best = max(curve, key=lambda c: (c[1] + c[2], -c[0]))
    return best[0], curve


def dev_report(name: str, dev: list, parses: list[dict], threshold: float) -> str:
    """Scores and errors on a dev file (for reading: it is what the training data is tuned on)."""
    gold = [e.get("intent") for e in dev]
    pred = [top_and_raw(p, threshold)[0] for p in parses]
    s = scores(gold, pred)
    lines = [
        f"# NLU on {name}: in-scope accuracy {s['in_scope_accuracy']:.3f}, out-of-scope "
        f"recall {s['oos_recall']:.3f} ({s['n_in_scope']} + {s['n_oos']})",
        "",
        table(["gold", "predicted", "count"], confusions(gold, pred)),
        "",
    ]
    lines += [
        f"- {e.get('text')!r}: {g} -> {p}" for e, g, p in zip(dev, gold, pred) if g != p
    ]
    return "\n".join(lines)




def incident_report(parses: dict[str, list[dict]], held_out: list[dict]) -> list[str]:
    """The incident detector on its held-out set: the share of incidents flagged and of near
    misses (and of held-out NLU messages, none of them an incident) flagged by mistake."""
    sys.path.insert(0, str(ROOT))
    from bot.actions.policy import harm_or_legal, load_config

    cfg = load_config()
    bar = cfg.incident_sensitive

    def flagged(items: list[dict], at: float, words: bool = False) -> float:
        hits = [
            float(p.get("incident") or 0.0) >= at
            or (words and harm_or_legal(p.get("text") or "", cfg))
            for p in items
        ]
        return sum(hits) / max(len(items), 1)

    rows = [
        (f"{at:.2f}{' (policy.yml)' if at == bar else ''}", flagged(parses["incident"], at),
         flagged(parses["not_incident"], at), flagged(held_out, at))
        for at in sorted({bar, *INCIDENT_BARS})
    ]  # fmt: skip
    return [
        "## Incident detector (held-out nlu_data/eval/incidents.yml)",
        "",
        f"{len(parses['incident'])} serious incidents, {len(parses['not_incident'])} near misses; "
        f"the NLU held-out messages ({len(held_out)}) are not incidents. The turn policy hands "
        f"over as sensitive_topic from {bar:.2f} (chosen on the dev conversations).",
        "",
        table(["bar", "incidents flagged", "near misses flagged", "NLU held-out flagged"], rows),
        "",
        "With `harm_or_legal_patterns` as well (the turn policy's other reading of an incident): "
        "incidents flagged "
        f"{flagged(parses['incident'], bar, True):.3f}, near misses "
        f"{flagged(parses['not_incident'], bar, True):.3f}, NLU held-out "
        f"{flagged(held_out, bar, True):.3f}.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-cv", action="store_true", help="only score the held-out set")
    parser.add_argument(
        "--dev-only",
        action="store_true",
        help="train and score the dev sets only (no CV, no held-out)",
    )
    parser.add_argument(
        "--write-threshold", action="store_true", help="write the CV threshold to bot/config.yml"
    )
    args = parser.parse_args()

    from rasa.shared.nlu.training_data.loading import load_data

    configured = configured_threshold()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        skip_cv = args.skip_cv or args.dev_only
        cv_threshold, curve = (configured, []) if skip_cv else cross_validated_threshold(work)
        progress("training the full pipeline on all training data")
        model = train_nlu(CONFIG, [TRAIN_DIR], work / "models", "full")
        devs = {path.name: load_data(str(path)).intent_examples for path in DEV_FILES}
        dev_parses = {
            name: parse_all(model, [e.get("text") for e in dev], name)
            for name, dev in devs.items()
        }
        if args.dev_only:
            print("\n\n".join(dev_report(n, d, dev_parses[n], configured) for n, d in devs.items()))
            return
        held = load_data(str(HELD_OUT)).intent_examples
        progress(f"scoring {len(held)} held-out messages")
        parses = parse_all(model, [e.get("text") for e in held], "held-out")
        incidents = yaml.safe_load(INCIDENTS_HELD_OUT.read_text(encoding="utf-8"))
        incident_parses = {
            label: parse_all(model, incidents[label], f"incidents: {label}")
            for label in ("incident", "not_incident")
        }

    gold = [e.get("intent") for e in held]
    final = [top_and_raw(p, configured)[0] for p in parses]
    raw = [top_and_raw(p, configured)[1:] for p in parses]
    at_cv = apply_threshold(raw, cv_threshold)
    s_conf = scores(gold, final)
    s_cv = scores(gold, at_cv)

    out = ["# NLU on the held-out set (nlu_data/eval/test_nlu.yml)", ""]
    out.append(
        table(
            ["threshold", "in-scope accuracy", "out-of-scope recall", "n in-scope", "n OOS"],
            [
                (
                    f"configured {configured:.2f}",
                    s_conf["in_scope_accuracy"],
                    s_conf["oos_recall"],
                    s_conf["n_in_scope"],
                    s_conf["n_oos"],
                ),
                (
                    f"cross-validated {cv_threshold:.2f}",
                    s_cv["in_scope_accuracy"],
                    s_cv["oos_recall"],
                    s_cv["n_in_scope"],
                    s_cv["n_oos"],
                ),
            ],
        )
    )
    out += ["", "Targets: in-scope accuracy >= 0.95, out-of-scope recall >= 0.80.", ""]
    for name, dev in devs.items():
        dev_scores = scores(
            [e.get("intent") for e in dev],
            [top_and_raw(p, configured)[0] for p in dev_parses[name]],
        )
        out.append(
            f"Dev set nlu_data/dev/{name} (tuned on; configured threshold): in-scope accuracy "
            f"{dev_scores['in_scope_accuracy']:.3f}, "
            f"out-of-scope recall {dev_scores['oos_recall']:.3f} "
            f"({dev_scores['n_in_scope']} + {dev_scores['n_oos']} messages)."
        )
    out.append("")
    out += ["## Per intent (configured threshold)", ""]
    out.append(table(["intent", "precision", "recall", "f1", "support"], per_intent(gold, final)))
    out += ["", "## Most frequent confusions (gold -> predicted)", ""]
    out.append(table(["gold", "predicted", "count"], confusions(gold, final)))
    out += ["", *incident_report(incident_parses, parses)]
    if curve:
        out += ["", "## Threshold on out-of-fold training predictions (5-fold CV)", ""]
        out.append(
            table(
                ["threshold", "in-scope accuracy", "OOS recall"],
                [c for c in curve if round(c[0] * 100) % 5 == 0],
            )
        )
    markdown = "\n".join(out)
    print(markdown)
    save(
        "nlu-own",
        markdown,
        {
            "configured": {"threshold": configured, **s_conf},
            "cross_validated": {"threshold": cv_threshold, **s_cv},
        },
    )
    if args.write_threshold and not args.skip_cv and cv_threshold != configured:
        text = re.sub(
            r"(FallbackClassifier\s*\n\s*threshold:\s*)[0-9.]+",
            rf"\g<1>{cv_threshold}",
            CONFIG.read_text(),
        )
        CONFIG.write_text(text)
        progress(f"wrote threshold {cv_threshold} to bot/config.yml (retrain to apply)")


if __name__ == "__main__":
    main()
