"""`make bench-e2e`: whole conversations through the real stack (Rasa, actions, app).

Plays every conversation of ``tests/conversations/`` (dev, dev_more, dev_extra, dev_fresh,
dev_fifth to dev_fifteenth, test) and the follow-ups by topic through the customer API and
reports, per split: containment of bot-labelled conversations, escalation precision/recall,
reason accuracy, answer accuracy per question, and for escalated conversations whether the
agent's first suggestion is the right article. Tune on dev; test is reported, never tuned on.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import progress, save, table
from bench.playback import (
    confusion,
    failures,
    load,
    play,
    score,
    suggest_first,
    suggestion_misses,
)
from bench.stack import running_stack

SPLITS = {
    "dev": ["dev"],
    # written later, apart from dev/test, to tune on what dev no longer showed (README there)
    "dev-more": ["dev_more"],
    # a third, weighted to the hard handoffs (sensitive topics mid-conversation, on-domain
    # questions the articles do not answer, contentless messages)
    "dev-extra": ["dev_extra"],
    # a fourth, with test's mix of bot and human (44 / 36), written apart from all the others
    "dev-fresh": ["dev_fresh"],
    # a fifth, the same mix, written once dev-fresh had been tuned on (apart from all others)
    "dev-fifth": ["dev_fifth"],
    # a sixth, the same mix, written once dev-fifth had been tuned on (apart from all others)
    "dev-sixth": ["dev_sixth"],
    # a seventh, the same mix, written once dev-sixth had been tuned on (apart from all others)
    "dev-seventh": ["dev_seventh"],
    # an eighth (60: 33 bot, 27 human), written once dev-seventh had been tuned on
    "dev-eighth": ["dev_eighth"],
    # a ninth (80, test's mix plus two more sensitive and no_kb_answer), written once
    # dev-eighth had been tuned on
    "dev-ninth": ["dev_ninth"],
    # a tenth (80, the same mix), written once dev-ninth had been tuned on
    "dev-tenth": ["dev_tenth"],
    # an eleventh (80: 44 bot, 36 human), written once dev-tenth had been tuned on
    "dev-eleventh": ["dev_eleventh"],
    # a twelfth (80: 44 bot, 36 human), written once dev-eleventh had been tuned on
    "dev-twelfth": ["dev_twelfth"],
    # a thirteenth (80, the same mix), written once dev-twelfth had been tuned on
    "dev-thirteenth": ["dev_thirteenth"],
    # a fourteenth (80, the same mix), written once dev-thirteenth had been tuned on
    "dev-fourteenth": ["dev_fourteenth"],
    # a fifteenth (80, the same mix), written once dev-fourteenth had been tuned on
    "dev-fifteenth": ["dev_fifteenth"],
    "test": ["test"],
    "follow-ups": ["followups_by_topic"],
}
CODES = ["bot", "requested", "sensitive_topic", "frustration", "negative_feedback", "repeated",
         "no_kb_answer", "low_confidence"]  # fmt: skip


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__.split("\n")[0])
    parser.add_argument("splits", nargs="*", help=f"some of {', '.join(SPLITS)} (default: all)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an app or bot setting for this run (kb_answer_threshold=0.45 sets "
        "SUPPORTBOT_KB_ANSWER_THRESHOLD), to compare settings on the dev splits; "
        "such a run is printed, not saved",
    )
    args = parser.parse_args(argv)
    for split in args.splits:
        if split not in SPLITS:
            parser.error(f"unknown split {split!r}: choose from {', '.join(SPLITS)}")
    args.settings = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            parser.error(f"--set takes NAME=VALUE, got {item!r}")
        args.settings[f"SUPPORTBOT_{name.strip().upper()}"] = value.strip()
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    only = args.splits or list(SPLITS)
    results: dict[str, dict] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp), **args.settings) as stack,
    ):
        agent = stack.agent()
        with httpx.Client(base_url=stack.app_url, timeout=60) as client:
            for split in only:
                conversations = load(*SPLITS[split])
                progress(f"{split}: playing {len(conversations)} conversations")
                started = time.perf_counter()
                played = [play(client, c) for c in conversations]
                for p in played:
                    if p.escalated and p.conversation["expect"] == "human":
                        p.suggestion = suggest_first(client, agent, p)
                    if p.escalated:  # keep the queue short for the next conversations
                        client.post(
                            f"/api/handoff/conversations/{p.conversation_id}/resolve",
                            headers=agent,
                        )
                results[split] = {
                    "metrics": score(played),
                    "confusion": {f"{e}->{a}": n for (e, a), n in confusion(played).items()},
                    "failures": failures(played),
                    "suggestion_misses": suggestion_misses(played),
                    "seconds": round(time.perf_counter() - started, 1),
                }
    report(results, args.settings)


def report(results: dict[str, dict], settings: dict[str, str]) -> None:
    keys = ["conversations", "containment", "escalation_recall", "escalation_precision",
            "reason_accuracy", "answered_right", "right_when_answered",
            "suggestion_first_right"]  # fmt: skip
    lines = [
        f"# Whole-conversation evaluation ({time.strftime('%Y-%m-%d')}, real stack)",
        "",
        *([f"Settings: {settings}", ""] if settings else []),
        table(
            ["split", *keys], [[s, *(r["metrics"][k] for k in keys)] for s, r in results.items()]
        ),
        "",
        "Targets (test): containment >= 0.95, escalation recall >= 0.97, precision >= 0.95, "
        "reason accuracy >= 0.90; first suggestion from the right article >= 0.8.",
        "`answered_right`: share of labelled questions whose reply cites a right article; "
        "`right_when_answered`: the same among replies that cited any article.",
    ]
    for split, r in results.items():
        if split == "follow-ups":
            continue
        counts = {tuple(k.split("->")): v for k, v in r["confusion"].items()}
        lines += ["", f"## Confusion ({split}: expected rows, outcome columns)", ""]
        lines.append(
            table(
                ["expected \\ got", *CODES],
                [[e, *(counts.get((e, a), 0) for a in CODES)] for e in CODES],
            )  # fmt: skip
        )
    markdown = "\n".join(lines)
    print(markdown)
    if not settings:  # a comparison of settings is read, not kept as the benchmark's result
        save("e2e", markdown, results)
    for split, r in results.items():
        if split != "test":  # only dev and follow-ups are read for errors
            for f in r["failures"]:
                progress(f"{split} miss: {json.dumps(f)[:400]}")
            for m in r["suggestion_misses"]:
                progress(f"{split} suggestion miss: {json.dumps(m)}")


if __name__ == "__main__":
    main()
