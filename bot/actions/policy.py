"""The escalation policy: for each customer message, answer it, ask again, or hand over
with exactly one reason code (DESIGN.md "escalation reason codes").

Pure functions over what the bot understood (``Understood``) and what happened before in the
conversation (``Memory``), in turn.py; thresholds come from ``bot/policy.yml``. The actions
(``kb.py``, ``handoff.py``) only gather those and carry the decision out.

Priority, first match wins (documented in DESIGN.md):
 1. sensitive_topic  a disputed charge or account security, anywhere in the message (also
                     when NLU is unsure of it but the customer disowns what was done:
                     "a redemption i never made", "the email on it isn't mine"); an injury,
                     an allergic reaction, harassment, discrimination, a leak of personal
                     data or a legal threat ("burned my son's hand", "made comments about my
                     body", "bc of my skin color", "a serious leak of personal info", "sent it
                     to my attorney"), in those words or as the incident detector reads it
                     ("spent the night in the ER"; bot/components/incident_detector.py).
                     A dispute NLU reads only below the shared sensitive bar, or one the
                     customer disowns, gives way to anger in the same message (2)
 2. frustration      a complaint or anger, anywhere in the message (in two clauses of a
                     long one, each at a lower bar; words only anger uses, "unbelievable",
                     "I'm furious", whatever NLU reads unless it is off-topic venting)
 3. requested        the customer asks for a person, or to be phoned, anywhere in the
                     message (with an offer pending, asking for a person in a few words
                     takes the offer: its reason stands; a longer message says why)
    Whole-message intents hand over when NLU is sure enough, clauses of long messages at
    a higher bar; below, the message is read as a question (8).
 4. an offer pending (the bot offered a person for reason R): yes, or an okay with courtesy
    and nothing else ("ok thanks") -> R; no -> carry on
 5. right after an answer: "no" -> negative_feedback; "that didn't help", "I'm confused",
    "asking again" -> repeated;
    "yes" -> glad it helped; thanks/bye -> the conversation ends, resolved by the bot
    (so does "ok will call my bank, thanks", whatever topic NLU reads in it);
    "ok, doing that now" (not understood, not a question) -> anything else?
 6. not understood   ask to rephrase once, then low_confidence (a greeting before it counts
                     as once: "hi", then "???"; "uh", "hmm": never a yes;
                     a few words mostly unknown to NLU, "ja genau das", are not understood);
                     a yes or no that answers nothing ("yeah that" after "could you say it
                     another way?") counts as not understood, and so does an unsure yes or
                     no as the session's first message, and a message that names nothing
                     ("ok and the other thing"), even right after an answer. A long message
                     is searched first (a story with the question inside) and treated as a
                     question (8) from there.
 7. out of scope     "not something I can help with here" and the offer of a person
                     (no_kb_answer): NLU is trained on the shop questions the help center
                     does not answer as well as on off-topic ones; when NLU is unsure of
                     that, the help center is searched first (8)
 8. a question       search the help center (with the previous question as context for short
                     follow-ups, never repeating a passage already shown):
                     answer (a long message not answered as a whole: its question
                     sentences, at a stricter bar); the same passage right after it was
                     shown, or its article
                     asked again in the previous question's words -> repeated;
                     nothing good enough -> a disputed charge, an account-security report
                     or a request for a person below their bars ("I see two times the money
                     for one jacket": billing_dispute at 0.64) is handed over for it; else
                     offer a person (no_kb_answer),
                     hand over at once if it happens twice in a row
Gateway paths in the app follow the same codes: "Talk to a person" -> requested, or
negative_feedback right after a thumbs-down.
"""

from __future__ import annotations

import re
from typing import Any

from bot.actions.turn import (
    ACKNOWLEDGING,
    ANSWER,
    CONVERSATIONAL,
    FILLERS,
    OFFER,
    POLICY_FILE,
    QUESTION_WORDS,
    REPHRASE,
    REPLY,
    SENSITIVE,
    TOPICS,
    UNCLEAR,
    Config,
    Decision,
    Memory,
    Understood,
    load_config,
)

# What the actions and tests use from here (the types live in turn.py).
__all__ = [
    "ANSWER", "CONVERSATIONAL", "OFFER", "POLICY_FILE", "REPHRASE", "REPLY", "SENSITIVE", "TOPICS",
    "UNCLEAR", "Config", "Decision", "Memory", "Understood", "after_search", "ambiguous_alone",
    "angry_words", "answers", "asks_again", "contentless", "context_query", "decide", "disowns",
    "escalation_reason", "follow_up_query", "foreign", "harm_or_legal", "hesitation",
    "is_rephrase", "leaning_reason", "load_config", "looks_like_a_question", "moves_on",
    "needs_after_reading", "not_helped", "passage", "plain_yes", "question_clauses",
    "read_follow_up", "refers_back", "restates", "signing_off",
]  # fmt: skip


def _clause_intent(u: Understood, intents: set[str], threshold: float) -> bool:
    return any(intent in intents and conf >= threshold for _, intent, conf in u.clauses)


ESCALATING = SENSITIVE | {"complain", "request_human"}


def escalation_reason(u: Understood, cfg: Config) -> str | None:
    """Priorities 1-3: a reason to hand over whatever else the message says."""
    bar = cfg.escalate_confidence
    sensitive_bar = bar.get(u.intent, bar["sensitive"])  # a sensitive intent's own bar, if set
    if (
        (u.intent in SENSITIVE and u.confidence >= bar["sensitive"])
        or _clause_intent(u, SENSITIVE, cfg.clause_sensitive)
        or harm_or_legal(u.text, cfg)
        or u.incident >= cfg.incident_sensitive
    ):
        return "sensitive_topic"
    # Read less surely (a sensitive intent's own lower bar, a disowning phrase), a disputed
    # charge gives way to anger: "This is so stupid!!! I pay for your Club and still you keep
    # my shipping money ... I am so angry now" (billing_dispute 0.67) is a complaint.
    angry = frustrated(u, cfg)
    if not angry and (
        (u.intent in SENSITIVE and u.confidence >= sensitive_bar) or disowns(u, cfg)
    ):
        return "sensitive_topic"
    if angry:
        return "frustration"
    if (
        (u.intent == "request_human" and u.confidence >= bar["request_human"])
        or _clause_intent(u, {"request_human"}, cfg.clause_request_human)
        or asks_for_a_call(u.text, cfg)
    ):
        return "requested"
    return None


def frustrated(u: Understood, cfg: Config) -> bool:
    """A complaint or anger: the whole message, one clause surely or two a little less, or
    words only anger uses."""
    bar = cfg.escalate_confidence
    # a clause that only says the answer did not help ("This is not helpful. How I change the
    # size?") is not anger: with the question again it is `repeated`
    angry = [
        conf
        for clause, intent, conf in u.clauses
        if intent == "complain" and not not_helped(clause, cfg)
    ]
    return (
        (u.intent == "complain" and u.confidence >= bar["complain"])
        or any(c >= cfg.clause_complain for c in angry)
        or sum(c >= cfg.clause_complain_twice for c in angry) >= 2
        or angry_words(u, cfg)
    )


def asks_for_a_call(text: str, cfg: Config) -> bool:
    """The customer asks to be phoned ("Could someone from the store just give me a call to
    sort it out?"): only a person can, whatever topic NLU reads in the message."""
    return any(p.search(text) for p in cfg.call_back_patterns)


def disowns(u: Understood, cfg: Config) -> bool:
    """The customer disowns something done in their account or with their card ("a redemption
    on my acct from last week i never made", "the email on the account isn't mine anymore")
    and NLU sees a disputed charge or an account-security report in it at all (in the
    whole message's ranking or as a clause's intent), if not surely: a person must look."""
    if not any(p.search(u.text) for p in cfg.disowning_patterns):
        return False
    return u.sensitive >= cfg.disowned_sensitive or any(
        intent in SENSITIVE for _, intent, _ in u.clauses
    )


def harm_or_legal(text: str, cfg: Config) -> bool:
    """An injury ("burned my son's hand", "the x-ray shows a fracture"), harassment ("made
    comments about my body") or a legal threat ("sent the photos to my attorney", "the
    California Attorney General"): a person, whatever else the message says."""
    return any(p.search(text) for p in cfg.harm_or_legal_patterns)


def angry_words(u: Understood, cfg: Config) -> bool:
    """Words a customer uses only when angry ("Unbelievable. ... I'm just furious"), whatever
    NLU reads, unless NLU reads the message as off-topic venting ("the city towed my car, I'm
    furious" is not about us)."""
    return u.intent != "out_of_scope" and any(p.search(u.text) for p in cfg.anger_patterns)


def leaning_reason(u: Understood, cfg: Config) -> str | None:
    """The reason the message's top intent leans to below the bars of ``escalation_reason``
    (``lean_confidence`` per intent); used only when nothing answers the message."""
    bar = cfg.lean_confidence.get(u.intent)
    if bar is None or u.confidence < bar:
        return None
    return "requested" if u.intent == "request_human" else "sensitive_topic"


def _words(text: str) -> list[str]:
    """The message's words, lowercased, without the punctuation around them."""
    return [w.strip(",.!?…") for w in text.lower().split()]


def _first_word(text: str) -> str:
    """The first word once fillers are skipped ("ok so how long" -> "how"); "" if none."""
    return next((w for w in _words(text) if w not in FILLERS), "")


def looks_like_a_question(text: str) -> bool:
    """A question (not "ok cool, doing that now"): a question mark, or a question word first
    once fillers are skipped ("ok how long am i supposed to wait")."""
    return "?" in text or _first_word(text) in QUESTION_WORDS


_COURTESY = {"please", "pls", "plz", "thanks", "thank", "you", "thx", "ty"}
_YES = {
    "yes", "yeah", "yea", "yep", "yup", "ya", "yess", "sure", "absolutely", "definitely",
    "do", "go", "ahead",
}  # fmt: skip
_OK = {"ok", "okay", "alright", "k", "kk", "okey"}
_AGREEING = _YES | _OK | _COURTESY | {"cool", "np", "great", "fine", "good", "perfect", "sounds"}


def plain_yes(text: str) -> bool:
    """ "yes please, thank you", "please do, thanks", "ok thanks", "Okay, thank you": a yes or
    an okay and courtesy only, which takes a pending offer of a person (NLU read the first as
    affirm at 0.60, the others as thanks). After "Would you like me to bring in a person? Or
    you can ask it another way." an okay asks nothing else: on the dev splits all seven such
    replies take the offer (read as thanks, the bot said "you're welcome" and dropped it).
    Not a goodbye ("ok thanks, bye"), a no ("no thanks", "ok nevermind") or a bare thanks."""
    if "?" in text:  # "do you?" asks something
        return False
    words = [w for w in _words(text) if w]
    return any(w in _YES or w in _OK for w in words) and all(w in _AGREEING for w in words)


_HESITATION = re.compile(r"^(u+h+m*|u+m+|h+m+|e+r+m*|e+h+|a+h+|m{2,}|\.+|(.)\2{3,})$")


def hesitation(text: str) -> bool:
    """ "uh", "hmm...", "umm": a sound, not a message (NLU read "uh" as affirm at 0.81, which
    would take a pending offer of a person); "ssssssss" too: a key held down (NLU read it as a
    complaint at 0.35)."""
    words = _words(text)
    return bool(words) and all(not w or _HESITATION.match(w) for w in words)


def foreign(u: Understood, cfg: Config) -> bool:
    """ "bonjour, c'est pour le... comment dire": mostly words NLU never saw, which it places
    somewhere anyway (out_of_scope at 0.4-0.6, or a yes). Not understood, unless NLU reads a
    support topic or a reason to hand over in it ("wo ist meine bestellung" as order tracking
    is worth answering)."""
    return (
        u.words >= cfg.foreign_min_words
        and u.known <= cfg.foreign_known_share
        and u.intent not in TOPICS | ESCALATING
    )


_THANKS_AT_END = re.compile(
    r"\b(thanks?( you)?( (so|very) much)?|thx|ty|tysm|cheers|appreciate it)[\s.!:)]*$", re.I
)


def signing_off(u: Understood, memory: Memory) -> bool:
    """ "ok will call my bank, thanks" after an answer: the customer is done, although NLU
    reads the message as the topic it mentions. A statement ending in thanks, not a question:
    no question mark, and it does not start like one once fillers are skipped ("also where
    is my invoice thanks" is a new question; "will" starts "will do", "will call them")."""
    if not memory.answered or memory.bot_move not in (ANSWER, REPLY):
        return False
    if "?" in u.text or not _THANKS_AT_END.search(u.text.strip()):
        return False
    first = _first_word(u.text)
    return first in ACKNOWLEDGING or first not in QUESTION_WORDS


def not_helped(text: str, cfg: Config) -> bool:
    return any(p.search(text) for p in cfg.not_helped_patterns)


def asks_again(text: str, cfg: Config) -> bool:
    """ "sorry asking again. ...", "let me ask this a different way": the same question."""
    return any(p.search(text) for p in cfg.asking_again_patterns)


def follow_up_query(u: Understood, memory: Memory, cfg: Config) -> str | None:
    """A short message right after an answer is searched with the question before it."""
    context = context_query(u, memory, cfg)
    return context if context and u.words <= cfg.followup_words else None


def context_query(
    u: Understood, memory: Memory, cfg: Config, searching: bool = False
) -> str | None:
    """The message with the question of the latest answer before it (for a follow-up that
    is searched on its own first, and with this only when nothing answers it alone).

    When ``searching`` (the help center is asked anyway), also a longer message that calls the
    answer's subject "it" or "they" ("nice. does it work in the portland store too or only on
    the website", "oh wait they might be going to my old hotmail"); the turn policy's choices
    (``decide``) stay with the shorter ones."""
    recent = memory.bot_move in (ANSWER, REPLY)
    leans = u.words <= cfg.substantive_words or (
        searching
        and u.words <= cfg.follow_up_context_words
        and not _SUBJECT_BACK.isdisjoint(_words(u.text))
    )
    if memory.last_question and recent and leans:
        return f"{memory.last_question} {u.text}"
    return None


def read_follow_up(
    alone: list[dict[str, Any]],
    after: list[dict[str, Any]],
    threshold: float,
    short: bool,
    within: float = Config.follow_up_confirm_within,
    alone_margin: float = Config.follow_up_alone_margin,
    points_back: bool = False,
) -> tuple[str, dict[str, Any] | None]:
    """Which reading of a follow-up answers it: the message alone, or read after the previous
    question (``after``, which pulls towards that question's article).

    A message that alone finds an article ``alone_margin`` above the threshold is read alone
    ("also do u take apple pay" after a shipping answer), unless it ``points_back`` at the
    previous question's subject ("can I use it together with my points?" after a promo-code
    answer is about the code, not about points). A short one is read after the question when
    that reading does not rank its article alone in its top 3, or ranks it more than ``within``
    below its best.

    Returns ("alone", None), ("after", None), or ("confirmed", result): the article the
    message alone points to, which the reading after the question confirms (it is among that
    reading's top 3, its answer score ``within`` of that reading's best) and scores high
    enough: "and how long until I see the money?" alone finds refund-timing, weakly; after
    "how do I start a return?" it is confirmed. Not "what if it already shipped?" after "can
    I cancel my order?": alone it finds shipping-options, which the reading after the question
    ranks third, 0.35 below cancel-order.
    """
    if not after:
        return "alone", None
    top_after = {r["slug"]: r for r in after[:3]}
    best = alone[0] if alone else None
    if best is not None and not points_back and _answer(best) >= threshold + alone_margin:
        return "alone", None  # "also do u take apple pay" says what it is about
    if best is None or (
        short
        and (
            best["slug"] not in top_after
            or _answer(after[0]) - _answer(top_after[best["slug"]]) > within
        )
    ):
        # "and for members?" means nothing alone: after a kayak rental answer, the reading
        # after the question puts membership-benefits (alone, 0.44) 0.39 below rentals
        return "after", None
    if answers(best, threshold):
        return "alone", None
    confirmed = top_after.get(best["slug"])
    if (
        confirmed is not None
        and answers(confirmed, threshold)
        and _answer(after[0]) - _answer(confirmed) <= within
    ):
        return "confirmed", {**best, "score": confirmed["score"], "answer": _answer(confirmed)}
    return "after", None


def follow_up_threshold(
    memory: Memory, after: list[dict[str, Any]], threshold: float, cfg: Config
) -> float:
    """The answer bar for a follow-up read after the previous question (``after``): lower by
    ``follow_up_same_article_relief`` when that reading's best article is the one just
    answered from (another of its passages: "and how many days does he have to get over
    there?" after a store-pickup answer), since the conversation is still on that subject."""
    same = after and after[0]["slug"] == memory.last_slug
    return threshold - cfg.follow_up_same_article_relief if same else threshold


def needs_after_reading(alone: list[dict[str, Any]], threshold: float, short: bool) -> bool:
    """Whether ``read_follow_up`` can choose anything but "alone" (so the search read after
    the previous question is worth running): not when a message that is not short is
    answered alone."""
    return short or not (alone and answers(alone[0], threshold))


def _answer(result: dict[str, Any]) -> float:
    return float(result.get("answer", result["score"]))


def answers(result: dict[str, Any], threshold: float) -> bool:
    """Whether a search result answers the question: its answer score (the app's score less
    what says the article may not answer it) reaches the threshold."""
    return _answer(result) >= threshold


def ambiguous_alone(
    u: Understood, memory: Memory, cfg: Config, searching: bool = False
) -> bool:
    """A follow-up that may well mean something else on its own: short, NLU unsure of it
    ("and if I don't like it, how do I cancel?" after a Club answer), or about "it"
    (``searching``: see ``context_query``)."""
    return follow_up_query(u, memory, cfg) is not None or (
        context_query(u, memory, cfg, searching) is not None
        and (u.confidence < cfg.topic_confidence or refers_back(u.text))
    )


_BACK = {"it", "them", "they"}
# in a longer message "them" is mostly its own things ("test climbing shoes before I buy them")
_SUBJECT_BACK = {"it", "they"}
# "that" as a pronoun ("do I need the receipt for that?", "does that work online too?"), not
# as the conjunction before a clause ("does it say that I paid?", "is it true that the...").
_THAT_BACK = re.compile(
    r"\bthat\b(?!\s+(?:i|you|we|they|he|she|it|its|the|my|your|our|their|a|an|there|this)\b)",
    re.IGNORECASE,
)


def refers_back(text: str) -> bool:
    """ "can I mail it in?" after a trade-in answer: the thing is the previous question's;
    "do I need the original receipt for that?" after a warranty answer: so is "that"."""
    return not _BACK.isdisjoint(_words(text)) or bool(_THAT_BACK.search(text))


def contentless(text: str) -> bool:
    """ "ok and the other thing", "u know. the one from b4": no word names anything, so
    there is nothing to search, even read after the previous question (which would answer
    it with another passage of the last article)."""
    return any(_words(text)) and not _content_words(text)


# "ok so about the thing": the start of a subject (one NLU could not make out), not a reply
# to the answer.
_SUBJECT_NEXT = {"about", "regarding"}


def question_clauses(u: Understood, cfg: Config) -> list[str]:
    """The question sentences of a long message, the last two (a story comes first and the
    question at its end), to search on their own when the whole message is not answered."""
    if u.words < cfg.clause_search_words:
        return []
    return [text for text, _, _ in u.clauses if looks_like_a_question(text)][-2:]


def acknowledgement(u: Understood, memory: Memory, cfg: Config) -> bool:
    """ "ok cool, signing up now" right after an answer: not a new question. After the bot's
    "anything else?" only a message that starts like one ("ok", "great", "will do") is:
    "wait so the one w the, ugh" there is a message the bot did not understand."""
    if not (
        memory.bot_move in (ANSWER, REPLY)
        and u.words <= cfg.followup_words
        and not looks_like_a_question(u.text)
        and (u.intent in UNCLEAR or u.confidence < cfg.topic_confidence)
        and _SUBJECT_NEXT.isdisjoint(_words(u.text))
    ):
        return False
    first = next(iter(_words(u.text)), "")
    return memory.bot_move == ANSWER or first in ACKNOWLEDGING


def decide(u: Understood, memory: Memory, cfg: Config) -> Decision:
    """What to do with this message, before any search."""
    offered = memory.pending_offer
    reason = escalation_reason(u, cfg)
    if reason == "requested" and offered and u.words <= cfg.acceptance_words:
        # "ok sure, a person is fine" takes the offer: its reason stands. A longer message
        # that asks for a person says why ("it says shipped 9 days ago and the tracking hasnt
        # moved since. id like a real person to look into this please"): requested
        reason = offered
    if reason:
        return Decision("handoff", reason=reason)
    if hesitation(u.text) or foreign(u, cfg):
        return _unclear(memory, cfg)

    if offered and (
        (u.intent == "affirm" and u.confidence >= cfg.accept_confidence) or plain_yes(u.text)
    ):
        return Decision("handoff", reason=offered)
    if offered and u.intent in ("affirm", "deny"):
        return Decision("reply", response="utter_anything_else")

    if memory.bot_move == ANSWER:
        if u.intent == "deny":
            return Decision("handoff", reason="negative_feedback")
        if not_helped(u.text, cfg) or asks_again(u.text, cfg):
            return Decision("handoff", reason="repeated")
        if u.intent == "affirm":
            return Decision("reply", response="utter_glad_to_help")
    if (u.intent in ("thank", "goodbye") and not says_more(u, cfg)) or signing_off(u, memory):
        response = "utter_goodbye" if u.intent == "goodbye" else "utter_you_are_welcome"
        if memory.answered:
            return Decision("end", response=response)
        return Decision("reply", response=response)
    if u.intent in ("affirm", "deny") and memory.bot_move == REPHRASE:
        # "yeah that" after "could you say it another way?": still nothing to go on
        return _unclear(memory, cfg)
    if (
        u.intent in ("affirm", "deny")
        and not memory.bot_spoke
        and u.confidence < cfg.accept_confidence
    ):
        # The session's first message, a yes or no NLU is unsure of: it answers nothing.
        # "I was wondering if maybe" (deny at 0.55) is a message not understood; a long one
        # ("no, I never got my package and tracking says delivered...") is searched.
        if u.words >= cfg.substantive_words:
            return Decision("search", on_miss="offer")
        return _unclear(memory, cfg)
    if u.intent in ("affirm", "deny"):
        return Decision("reply", response="utter_anything_else")
    if u.intent == "greet":
        return Decision("reply", response="utter_greet")
    if u.intent == "bot_challenge":
        return Decision("reply", response="utter_iamabot")

    miss = "handoff" if offered == "no_kb_answer" else "offer"
    lean = leaning_reason(u, cfg)
    if acknowledgement(u, memory, cfg):
        return Decision("reply", response="utter_anything_else")
    if u.intent in ESCALATING:  # not sure enough to hand over: read it as a question
        return Decision("search", on_miss=miss, leaning=lean)
    if u.intent in UNCLEAR:
        if (
            context_query(u, memory, cfg)
            and looks_like_a_question(u.text)
            and not contentless(u.text)
        ):
            return Decision("search", on_miss="rephrase", leaning=lean)
        if u.words >= cfg.substantive_words:
            # a long message: a story with the question inside, searched as it is; if the
            # help center has nothing for it, a person is offered (no_kb_answer comes before
            # low_confidence)
            return Decision("search", on_miss=miss, leaning=lean)
        if names_a_subject(u, cfg):
            # a shorter question that names its subject ("I lost a physical Northpeak gift
            # card. Can it be replaced?"): asked to rephrase only if nothing answers it
            return Decision("search", on_miss="rephrase", leaning=lean)
        return _unclear(memory, cfg)
    if (
        u.intent == "out_of_scope"
        and memory.bot_move == REPHRASE
        and u.confidence < cfg.topic_confidence
        and not names_a_subject(u, cfg)
    ):
        # after "could you say it another way?", a message NLU only weakly puts off-topic
        # ("ja genau das": out_of_scope at 0.49) is still not understood
        return _unclear(memory, cfg)
    if u.intent == "out_of_scope" and ambiguous_alone(u, memory, cfg):
        return Decision("search", on_miss=miss)  # "can i use it in store too?"
    if u.intent == "out_of_scope":
        # Nothing the help center covers (NLU learnt the shop questions it does not answer,
        # as well as off-topic ones): say so, and offer a person rather than a dead end.
        if u.confidence < cfg.search_out_of_scope_below:
            # unsure ("how can I find out if a store near me has a jacket in stock?"): the
            # help center is asked first; its answer score already counts NLU's doubt
            return Decision("search", on_miss="offer", response="utter_out_of_scope")
        return Decision("offer", reason="no_kb_answer", response="utter_out_of_scope")
    return Decision("search", on_miss=miss, leaning=lean)


def _names_something(u: Understood, cfg: Config) -> bool:
    return len(_content_words(u.text)) >= cfg.question_content_words


def names_a_subject(u: Understood, cfg: Config) -> bool:
    """A question, with its question mark, that names what it is about ("I lost a physical
    Northpeak gift card. Can it be replaced?"), not "and the other place??" nor "k but hte
    othr thng w teh": worth searching however NLU read it."""
    return "?" in u.text and _names_something(u, cfg)


def says_more(u: Understood, cfg: Config) -> bool:
    """ "thanks! unrelated but can i get fewer emails from you, like only the club stuff": a
    thanks NLU is unsure of (0.32) that goes on to name a subject is a new question."""
    return u.confidence < cfg.topic_confidence and _names_something(u, cfg)


def _unclear(memory: Memory, cfg: Config) -> Decision:
    """A message the bot could not make anything of: ask to rephrase, or hand over when the
    previous one was not understood either. Small talk the bot answered before any question
    (a greeting, above all) is nothing to go on either: "hi", then "???" is two messages the
    bot could make nothing of."""
    only_greeted = memory.bot_spoke and memory.bot_move is None and not memory.answered
    if memory.unclear_in_row + only_greeted + 1 >= cfg.max_unclear_in_row:
        return Decision("handoff", reason="low_confidence")
    return Decision("rephrase")


def passage(result: dict[str, Any]) -> str:
    return f"{result['slug']}#{result['section']}"


def is_rephrase(
    u: Understood, memory: Memory, results: list[dict[str, Any]], cfg: Config
) -> bool:
    """A question on a support topic, right after an answer and without a "yes", that leads
    back to the passage just shown on the same subject (``same_passage_shared_words``), or to
    its article in the previous question's own words
    ("ok but when will the refund for the jacket actually be on my card" after "when do i get
    my refund for the jacket i sent back"): the answer did not help. Not one that takes the
    answer or builds on it (``moves_on``): if that leads back to the same passage, the help
    center has nothing more for it."""
    if not (
        results
        and u.intent in TOPICS
        and looks_like_a_question(u.text)
        and memory.bot_move == ANSWER
        and not moves_on(u.text)
    ):
        return False
    if passage(results[0]) == memory.last_passage:
        shared = _content_words(u.text) & _content_words(memory.last_question or "")
        return len(shared) >= cfg.same_passage_shared_words
    same_article = results[0]["slug"] == memory.last_slug
    return same_article and restates(u.text, memory.last_question or "", cfg)


_MOVING_ON = re.compile(
    # after an optional "ok" ("ok and if it still fails can i just use paypal instead?"; but
    # "ok but when will the refund actually be on my card" asks again)
    r"^(?:(?:ok|okay|alright)\b[,.!]*\s*)?"
    r"(and|also|plus|what about|how about|good to know|thanks|thank you|thx|great|perfect|"
    r"cool|got it|makes sense)\b",
    re.I,
)


def moves_on(text: str) -> bool:
    """ "and if im not in the club how much does a tune cost", "Good to know. My real problem
    is width...": a question that builds on the answer or takes it, not one asked again
    (which sounds like "ok but when will the refund actually be on my card")."""
    return bool(_MOVING_ON.match(text.strip()))


_NOT_CONTENT = FILLERS | QUESTION_WORDS | {
    "the", "for", "you", "your", "my", "mine", "me", "get", "got", "with", "that", "this", "not",
    "from", "have", "has", "had", "was", "were", "its", "it's", "i'm", "im", "they", "them",
    "there", "their", "about", "just", "still", "did", "dont", "don't", "cant", "can't", "want",
    "need", "like", "know", "please", "pls", "into", "out", "then", "than", "our",
    # words that point at something without naming it ("the other thing", "the one from b4")
    "thing", "things", "stuff", "one", "other", "another", "before", "b4", "earlier", "same",
    "said", "mentioned",
}  # fmt: skip


def _content_words(text: str) -> set[str]:
    """Words that carry the subject, a plural "s" dropped ("shoes" = "shoe")."""
    out = set()
    for word in _words(text):
        word = word.strip("'\"()")
        if len(word) < 3 or word in _NOT_CONTENT:
            continue
        out.add(word[:-1] if word.endswith("s") and not word.endswith("ss") else word)
    return out


def restates(text: str, previous: str, cfg: Config) -> bool:
    """``text`` asks ``previous`` again: at least ``restate_shared_words`` subject words in
    common, and that much of the two messages' subject words together."""
    now, before = _content_words(text), _content_words(previous)
    shared = now & before
    return (
        len(shared) >= cfg.restate_shared_words
        and len(shared) / len(now | before) >= cfg.restate_overlap
    )


def after_search(
    memory: Memory,
    decision: Decision,
    results: list[dict[str, Any]],
    threshold: float,
    cfg: Config,
) -> Decision:
    """Answer with the best passage not shown yet (``results`` exclude shown passages),
    or what a miss leads to."""
    if results and answers(results[0], threshold):
        return Decision("answer")
    if decision.leaning:
        return Decision("handoff", reason=decision.leaning)
    if decision.on_miss == "rephrase":
        if memory.unclear_in_row + 1 >= cfg.max_unclear_in_row:
            return Decision("handoff", reason="low_confidence")
        return Decision("rephrase")
    if decision.on_miss == "handoff":
        return Decision("handoff", reason="no_kb_answer")
    return Decision("offer", reason="no_kb_answer", response=decision.response)
