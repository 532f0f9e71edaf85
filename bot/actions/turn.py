"""What the escalation policy (policy.py) works on: the message as NLU understood it, what
happened before in the conversation, the thresholds of bot/policy.yml, and the decision."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

POLICY_FILE = Path(__file__).resolve().parents[1] / "policy.yml"

SENSITIVE = {"billing_dispute", "account_security"}
TOPICS = {
    "order_tracking", "order_change", "delivery_problem", "shipping_info", "returns_refunds",
    "payments", "promotions", "account_access", "account_privacy", "membership",
    "product_info", "store_info",
}  # fmt: skip
UNCLEAR = {"nlu_fallback"}
FILLERS = {
    "ok", "okay", "k", "so", "well", "hi", "hey", "um", "uh", "hmm", "oh", "ah", "sorry",
    "thanks", "thx", "yes", "yeah", "no", "also", "then", "right", "cool", "great",
}  # fmt: skip
QUESTION_WORDS = {
    "what", "how", "where", "when", "why", "who", "which", "can", "could", "do", "does",
    "is", "are", "will", "would", "should", "may", "and", "but", "also", "what's", "how's",
    "where's", "wat", "wen", "hw", "cn", "whats", "wheres", "hows", "any", "if",
}  # fmt: skip
CONVERSATIONAL = {"affirm", "deny", "thank", "goodbye", "greet", "bot_challenge"}
# How an acknowledgement starts ("ok, doing that now", "great, found it").
ACKNOWLEDGING = {
    "ok", "okay", "k", "kk", "cool", "great", "perfect", "nice", "awesome", "alright", "got",
    "will", "done", "sure", "fine", "good", "thanks", "thx", "ty", "excellent", "brilliant",
}  # fmt: skip

# Bot moves remembered between turns (slot "bot_move").
ANSWER, REPLY, REPHRASE = "answer", "reply", "rephrase"
OFFER = "offer:"  # + reason code


@dataclass(frozen=True)
class Config:
    escalate_confidence: dict[str, float] = field(
        default_factory=lambda: {
            "sensitive": 0.8, "billing_dispute": 0.6, "complain": 0.6, "request_human": 0.3
        }
    )
    acceptance_words: int = 8
    accept_confidence: float = 0.75
    topic_confidence: float = 0.5
    search_out_of_scope_below: float = 0.7
    clause_request_human: float = 0.75
    clause_complain: float = 0.85
    clause_complain_twice: float = 0.7
    clause_sensitive: float = 0.9
    lean_confidence: dict[str, float] = field(
        default_factory=lambda: {
            "billing_dispute": 0.4, "account_security": 0.5, "request_human": 0.0
        }
    )
    max_unclear_in_row: int = 2
    foreign_known_share: float = 0.34
    foreign_min_words: int = 3
    restate_shared_words: int = 2
    restate_overlap: float = 0.25
    same_passage_shared_words: int = 1
    substantive_words: int = 12
    question_content_words: int = 3
    followup_words: int = 7
    follow_up_context_words: int = 20
    follow_up_confirm_within: float = 0.25
    follow_up_alone_margin: float = 0.2
    follow_up_same_article_relief: float = 0.15
    clause_search_words: int = 25
    clause_answer_margin: float = 0.1
    not_helped_patterns: tuple[re.Pattern, ...] = ()
    asking_again_patterns: tuple[re.Pattern, ...] = ()
    disowning_patterns: tuple[re.Pattern, ...] = ()
    disowned_sensitive: float = 0.1
    harm_or_legal_patterns: tuple[re.Pattern, ...] = ()
    incident_sensitive: float = 0.95
    anger_patterns: tuple[re.Pattern, ...] = ()
    call_back_patterns: tuple[re.Pattern, ...] = ()


@lru_cache(maxsize=1)
def load_config(path: Path = POLICY_FILE) -> Config:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    compiled = {
        key: tuple(re.compile(p, re.I) for p in data.pop(key, []))
        for key in (
            "not_helped_patterns",
            "asking_again_patterns",
            "disowning_patterns",
            "harm_or_legal_patterns",
            "anger_patterns",
            "call_back_patterns",
        )
    }
    return Config(**data, **compiled)


@dataclass(frozen=True)
class Understood:
    """What NLU made of the customer's message."""

    text: str
    intent: str
    confidence: float = 1.0
    # [(clause text, intent, confidence)] for long messages (bot/components/sentences.py)
    clauses: tuple[tuple[str, str, float], ...] = ()
    # share of the message's words seen in NLU training (bot/components/known_words.py)
    known: float = 1.0
    # NLU's probability of a sensitive intent (billing_dispute, account_security), the larger
    sensitive: float = 0.0
    # probability that the message reports a serious incident: an injury, harassment,
    # stalking, a data leak, a legal step (bot/components/incident_detector.py)
    incident: float = 0.0

    @property
    def words(self) -> int:
        return len(self.text.split())

    @classmethod
    def from_parse(cls, parse: dict[str, Any]) -> Understood:
        """From Rasa's parse of the message (the tracker's latest message, or /model/parse)."""
        intent = parse.get("intent") or {}
        return cls(
            text=(parse.get("text") or "").strip(),
            intent=intent.get("name") or "nlu_fallback",
            confidence=float(intent.get("confidence") or 0.0),
            clauses=tuple(
                (c.get("text", ""), c.get("intent", ""), float(c.get("confidence") or 0.0))
                for c in parse.get("sentence_intents") or []
            ),
            known=float(parse.get("known_words", 1.0)),
            incident=float(parse.get("incident") or 0.0),
            sensitive=max(
                (
                    float(r.get("confidence") or 0.0)
                    for r in parse.get("intent_ranking") or []
                    if r.get("name") in SENSITIVE
                ),
                default=0.0,
            ),
        )


@dataclass(frozen=True)
class Memory:
    """What happened before this message in the current session."""

    bot_move: str | None = None  # answer | reply | rephrase | offer:<reason>
    last_question: str | None = None  # the customer question the latest answer was for
    last_passage: str | None = None  # "slug#section" of the latest answer
    shown: frozenset[str] = field(default_factory=frozenset)  # passages shown so far
    unclear_in_row: int = 0
    answered: bool = False  # the bot answered at least once this session
    bot_spoke: bool = False  # the bot said anything at all this session (a greeting too)

    @property
    def last_slug(self) -> str:
        """The article of the latest answer ("" if none)."""
        return (self.last_passage or "").split("#")[0]

    @property
    def pending_offer(self) -> str | None:
        move = self.bot_move or ""
        return move[len(OFFER) :] if move.startswith(OFFER) else None


@dataclass(frozen=True)
class Decision:
    """``handoff`` (reason), ``search``, ``rephrase``, ``offer`` (a person, for reason;
    optionally with a domain response), ``reply`` (a domain response), or ``end``
    (resolved by the bot, with a response)."""

    action: str
    reason: str | None = None
    response: str | None = None
    query: str | None = None
    # what a search that finds nothing good enough leads to: offer (first miss), handoff
    # (second miss in a row), or rephrase (a question NLU did not place)
    on_miss: str = "offer"
    # the reason a message leans to without NLU being sure enough to hand over: when the help
    # center has nothing for it either, the conversation goes to a person for that reason
    leaning: str | None = None
