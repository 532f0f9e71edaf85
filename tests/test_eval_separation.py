"""Evaluation data stays out of what the bot learns from.

No customer message of the conversation evaluation set, no question of the retrieval
evaluation set and no held-out NLU or incident example may appear in the NLU training data,
the incident detector's examples or among the "questions this article answers" stored with
the articles — not verbatim, and not as a near copy (a few words changed).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
NEAR = 0.85  # difflib ratio on normalised text: above this, one is a copy of the other


def normalise(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # Rasa entity markup
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())


def _examples(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for block in data.get("nlu") or []:
        for line in (block.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                out.append(line.strip()[2:])
    return out


def training_texts() -> dict[str, str]:
    texts = {}
    for path in sorted((ROOT / "nlu_data" / "nlu").glob("*.yml")):
        for example in _examples(path):
            texts[normalise(example)] = f"{path.name}: {example}"
    incidents = yaml.safe_load((ROOT / "nlu_data" / "incidents" / "incidents.yml").read_text())
    for label in ("incident", "not_incident"):  # the incident detector's training examples
        for example in incidents[label]:
            texts[normalise(example)] = f"incidents.yml: {example}"
    for path in sorted((ROOT / "knowledge_base" / "articles").glob("*.md")):
        front = path.read_text(encoding="utf-8").split("---")[1]
        for question in yaml.safe_load(front).get("questions") or []:
            texts[normalise(question)] = f"{path.name}: {question}"
    return texts


def evaluation_texts() -> dict[str, str]:
    texts = {}
    for path in sorted((ROOT / "tests" / "conversations").glob("*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            for turn in conversation["turns"]:
                if "say" in turn:
                    texts[normalise(turn["say"])] = f"{path.name}: {turn['say']}"
    for path in sorted((ROOT / "knowledge_base" / "eval").glob("**/*.yml")):  # and passages/
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data.get("questions") or []:
            texts[normalise(item["q"])] = f"{path.name}: {item['q']}"
        for question in data.get("unanswerable") or []:
            texts[normalise(question)] = f"{path.name}: {question}"
    for example in _examples(ROOT / "nlu_data" / "eval" / "test_nlu.yml"):
        texts[normalise(example)] = f"test_nlu.yml: {example}"
    for path in sorted((ROOT / "nlu_data" / "dev").glob("*.yml")):
        for example in _examples(path):
            texts[normalise(example)] = f"{path.name}: {example}"
    held_out = yaml.safe_load((ROOT / "nlu_data" / "eval" / "incidents.yml").read_text())
    for label in ("incident", "not_incident"):
        for example in held_out[label]:
            texts[normalise(example)] = f"eval/incidents.yml: {example}"
    return texts


def near_copies(train: dict[str, str], held_out: dict[str, str]) -> list[str]:
    found = []
    for eval_text, eval_where in held_out.items():
        if len(eval_text) < 12:  # "yes", "thanks": short replies are not content
            continue
        matcher = SequenceMatcher(autojunk=False)
        matcher.set_seq2(eval_text)
        for train_text, train_where in train.items():
            if abs(len(train_text) - len(eval_text)) > 0.3 * len(eval_text):
                continue
            matcher.set_seq1(train_text)
            if (
                matcher.real_quick_ratio() >= NEAR
                and matcher.quick_ratio() >= NEAR
                and matcher.ratio() >= NEAR
            ):
                found.append(f"{eval_where}  ~  {train_where}")
    return found


def test_no_evaluation_text_is_in_the_training_data():
    copies = near_copies(training_texts(), evaluation_texts())
    assert copies == [], "\n".join(copies[:50])
