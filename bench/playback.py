"""Whole conversations played through the customer API of a running stack, and scored.

Each conversation in ``tests/conversations/*.yml`` is a list of customer turns (``say``,
``click: yes|no|person``, ``thumbs: up|down``) labelled ``bot`` (the bot should handle it)
or ``human`` with the reason code of the first handoff. Playback sends the turns the way
the widget would and stops at the first handoff.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONVERSATIONS = ROOT / "tests" / "conversations"
CLICKS = {
    "yes": ("Yes, thanks", "/affirm"),
    "no": ("No, talk to a person", "/deny"),
}
HUMAN = ("queued", "assigned")


def load(*names: str) -> list[dict[str, Any]]:
    """Conversations from ``tests/conversations/<name>.yml``, in file order."""
    out = []
    for name in names:
        data = yaml.safe_load((CONVERSATIONS / f"{name}.yml").read_text(encoding="utf-8"))
        for conversation in data["conversations"]:
            out.append({**conversation, "file": name})
    return out


def _slugs(value: Any) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


@dataclass
class Turn:
    action: str  # say | click | thumbs
    text: str
    expected: list[str]  # acceptable article slugs for a say turn
    cited: str | None = None  # first article the bot cited in reply
    replies: list[str] = field(default_factory=list)

    @property
    def answered_right(self) -> bool | None:
        if self.action != "say" or not self.expected:
            return None
        return self.cited in self.expected


@dataclass
class Played:
    conversation: dict[str, Any]
    turns: list[Turn]
    escalated: bool
    reason: str | None
    conversation_id: str
    suggestion: str | None = None  # first suggested article for escalated conversations

    @property
    def expected(self) -> str:
        return self.conversation["reason"] if self.conversation["expect"] == "human" else "bot"

    @property
    def actual(self) -> str:
        return self.reason or "unknown" if self.escalated else "bot"


def _last_answer(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    for message in reversed(messages):
        if message.get("sender") == "bot" and message.get("articles"):
            return message
    return None


def play(client: httpx.Client, conversation: dict[str, Any]) -> Played:
    """Plays one conversation on a fresh chat; stops at the first handoff."""
    created = client.post("/api/conversations", json={"metadata": {"page": "/bench"}})
    created.raise_for_status()
    cid, token = created.json()["conversation_id"], created.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    seen: list[dict[str, Any]] = []
    turns: list[Turn] = []
    snapshot: dict[str, Any] = {"status": "bot", "handoff": None}
    for i, step in enumerate(conversation["turns"]):
        if "say" in step:
            turn = Turn("say", step["say"], _slugs(step.get("article")))
            response = client.post(
                f"/api/conversations/{cid}/messages",
                json={"text": step["say"], "client_message_id": f"t{i}"},
                headers=auth,
            )
        elif "click" in step:
            turn = Turn("click", step["click"], [])
            if step["click"] == "person":  # the widget's "Talk to a person", always there
                response = client.post(f"/api/conversations/{cid}/handoff", headers=auth)
            else:
                title, payload = CLICKS[step["click"]]
                offered = [b.get("title") for b in (seen[-1].get("buttons") or [])] if seen else []
                if title not in offered:
                    # The bot did not show that button (it did not answer): nothing to click.
                    turns.append(turn)
                    continue
                response = client.post(
                    f"/api/conversations/{cid}/messages",
                    json={"text": title, "payload": payload, "client_message_id": f"t{i}"},
                    headers=auth,
                )
        elif "thumbs" in step:
            turn = Turn("thumbs", step["thumbs"], [])
            answer = _last_answer(seen)
            if answer is None:
                turns.append(turn)
                continue
            response = client.post(
                f"/api/conversations/{cid}/feedback",
                json={"message_id": answer["id"], "helpful": step["thumbs"] == "up"},
                headers=auth,
            )
        else:
            raise ValueError(f"{conversation['id']}: unknown turn {step}")
        response.raise_for_status()
        data = response.json()
        replies = data.get("messages", [])
        seen += replies
        turn.replies = [m.get("text", "") for m in replies]
        cited = next((m["articles"][0]["slug"] for m in replies if m.get("articles")), None)
        turn.cited = cited
        turns.append(turn)
        if "status" in data:
            snapshot = data
        if snapshot.get("status") in HUMAN:
            break
    escalated = snapshot.get("status") in HUMAN
    reason = (snapshot.get("handoff") or {}).get("reason") if escalated else None
    return Played(conversation, turns, escalated, reason, conversation_id=cid)


def suggest_first(client: httpx.Client, agent: dict[str, str], played: Played) -> str | None:
    """The first help-center article suggested to an agent for an escalated conversation."""
    cid = played.conversation_id
    data = client.get(f"/api/handoff/conversations/{cid}/suggestions", headers=agent).json()
    kb = [s for s in data.get("suggestions", []) if s.get("source") == "kb"]
    return kb[0]["ref"] if kb else None


def ratio(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 3) if denominator else float("nan")


def score(played: list[Played]) -> dict[str, Any]:
    """Containment, escalation precision/recall, reason accuracy, answer accuracy."""
    bot = [p for p in played if p.conversation["expect"] == "bot"]
    human = [p for p in played if p.conversation["expect"] == "human"]
    escalated = [p for p in played if p.escalated]
    true_handoffs = [p for p in human if p.escalated]
    right_reason = [p for p in true_handoffs if p.reason == p.conversation["reason"]]
    answer_turns = [t for p in played for t in p.turns if t.answered_right is not None]
    answered = [t for t in answer_turns if t.cited is not None]
    with_need = [
        p for p in true_handoffs if p.conversation.get("need") and p.suggestion is not None
    ]
    return {
        "conversations": len(played),
        "bot_labelled": len(bot),
        "human_labelled": len(human),
        "containment": ratio(sum(not p.escalated for p in bot), len(bot)),
        "escalation_recall": ratio(len(true_handoffs), len(human)),
        "escalation_precision": ratio(len(true_handoffs), len(escalated)),
        "reason_accuracy": ratio(len(right_reason), len(true_handoffs)),
        "answer_turns": len(answer_turns),
        "answered": ratio(len(answered), len(answer_turns)),
        "answered_right": ratio(
            sum(bool(t.answered_right) for t in answer_turns), len(answer_turns)
        ),
        "right_when_answered": ratio(sum(bool(t.answered_right) for t in answered), len(answered)),
        "suggestion_first_right": ratio(
            sum(p.suggestion == p.conversation["need"] for p in with_need), len(with_need)
        ),
        "suggestion_n": len(with_need),
    }


def confusion(played: list[Played]) -> Counter:
    """(expected, actual) -> count; "bot" means no handoff."""
    return Counter((p.expected, p.actual) for p in played)


def failures(played: list[Played]) -> list[dict[str, Any]]:
    """What went wrong, conversation by conversation (for reading, never for tuning test)."""
    out = []
    for p in played:
        wrong_turns = [
            {"say": t.text, "expected": t.expected, "cited": t.cited, "reply": t.replies[:1]}
            for t in p.turns
            if t.answered_right is False
        ]
        if p.expected != p.actual or wrong_turns:
            out.append(
                {
                    "id": p.conversation["id"],
                    "expected": p.expected,
                    "actual": p.actual,
                    "turns": wrong_turns,
                }
            )
    return out


def suggestion_misses(played: list[Played]) -> list[dict[str, Any]]:
    """Escalated conversations whose first suggestion is not the article of the need."""
    return [
        {"id": p.conversation["id"], "need": p.conversation.get("need"), "got": p.suggestion}
        for p in played
        if p.escalated
        and p.conversation["expect"] == "human"
        and p.conversation.get("need")
        and p.suggestion != p.conversation["need"]
    ]
