"""Semantic search over help articles: one result per article, best passage as snippet."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from knowledge_base.chunking import Passage, plain_text
from knowledge_base.coverage import asked_words
from knowledge_base.index import Encoder, PassageIndex

# Longer than any chat message (SUPPORTBOT_HANDOFF_MAX_MESSAGE_CHARS, 2000 by default), so
# whatever a customer may send can be searched; the model reads the first 256 tokens.
MAX_QUERY_CHARS = 4000
MAX_EXCLUDE = 200
MAX_K = 20
SNIPPET_CHARS = 480
# Nearest passages and questions (by cosine) whose articles are scored; several entries of
# one article often rank together.
CANDIDATES = 50
# Title weight in the article score (see SearchEngine). Earlier, on passages alone, it raised
# Recall@1 from 0.883 to 0.914 on the first dev split; BM25 hybrids (weighted or reciprocal
# rank fusion) lowered Recall@1 (0.828-0.865) and were not kept. bench/results/kb-levers.md
# has the levers measured since.
TITLE_WEIGHT = 0.2
# The stored questions of an article count twice its best passage, averaged over its two
# closest questions (one lucky paraphrase should not carry an article).
QUESTION_WEIGHT = 2.0
QUESTIONS_AVERAGED = 2
# How much NLU's confidence in an article's topic intent adds to its score.
INTENT_WEIGHT = 0.1
# From this many words a message is a story around its question, and NLU's out-of-scope
# probability for the whole of it reads the story (trips, families, places) as much as the
# question: it lowers the answer score half as much. Dev, at threshold 0.35: bench-kb answered
# right 0.791 -> 0.796 with unanswerable questions answered unchanged (0.049); bench-e2e
# answered right dev-sixth 0.775 -> 0.800, dev-eighth 0.735 -> 0.750, nothing else changed.
# Not counting it at all answered 0.803 (the same from 30 to 50 words), but also a long
# question about sponsoring a climbing club that needs a person.
LONG_STORY_WORDS = 40
LONG_STORY_DOUBT = 0.5
# Which passage of an article is shown: the closest by cosine, plus PASSAGE_WORDS_WEIGHT times
# the share of the question's words (weighted by rarity) that the passage itself contains,
# less INTRO_PENALTY for the article's introduction ("This article explains how to ..."),
# which is close to many questions and answers few. Sections of one article are close in
# meaning, and the closest is often a neighbour of the one that names what was asked ("can I
# pay with paypal?" on an AVX2-only CPU: "Can I use promo codes and rewards with any payment
# method?" 0.405, "Which payment methods does Northpeak accept?" 0.397). Ranking and answer
# scores use the closest passage as before. `make bench-passages`, dev split of questions
# labelled with their sections: the right section of the article shown 0.801 -> 0.845 (a flat
# top: 0.842 with any words weight from 0.05 and penalty from 0.15). The labels never name an
# introduction, so dev cannot tell how large the penalty may be; an introduction still wins
# where it is that much closer than every section.
PASSAGE_WORDS_WEIGHT = 0.2
INTRO_PENALTY = 0.2
# An order number means "my order" to the customer and noise to the embedding model, whose
# nearest passages for it are the two that show the format ("where is NP-3390175": contact-
# support 0.32, track-order 0.34 below; "where is order": track-order 0.53). It is embedded as
# the word "order", with the words that name it ("order number: NP-3390175" -> "order").
ORDER_NUMBER = re.compile(
    r"\b(order\s*(?:number|no\.?|num)?\s*[:#]?\s*)?#?\bNP-?\s?\d{5,9}\b", re.IGNORECASE
)


# A thanks, okay or apology said as its own sentence before the question, with what leads
# from it to a new subject ("thanks! unrelated but can i get fewer emails from you": answer
# score 0.44 whole, 0.62 without it): the question is embedded without it.
LEAD_IN = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|great|perfect|cool|awesome|thanks?|thank you(?: so much)?|thx|ty"
    r"|sorry|hi|hey|hello)\b[\s,]*)+[!.]+\s*"
    r"(?:(?:also|unrelated|one more thing|another (?:question|thing)|btw|but|and|quick q"
    r"(?:uestion)?)\b[\s,:]*)*",
    re.IGNORECASE,
)
LEAD_IN_REST_WORDS = 3  # what is left must be a question of its own, not "ok thanks. bye"
# An apology for the garbled message before ("sorry cat on keyboard lol.", "sorry phone was in my
# pocket.", "oops toddler."): a short sentence that says nothing of the question.
MISHAP = re.compile(
    r"^\s*(?:sorry|oops|whoops|my bad)\b[,\s]*(?:\S+\s+){0,5}?"
    r"(?:phone|pocket|cat|dog|keyboard|toddler|kid|kids|baby|son|daughter|dial|typo|autocorrect"
    r"|butt)\b[^.!?]{0,12}[.!?]+\s*",
    re.IGNORECASE,
)


def for_embedding(query: str) -> str:
    """The query as the embedding model should read it: order numbers as "order", without a
    thanks, an okay or an apology said before the question (MISHAP, LEAD_IN)."""
    query = ORDER_NUMBER.sub("order", query)
    rest = LEAD_IN.sub("", MISHAP.sub("", query, count=1), count=1)
    return rest if len(rest.split()) >= LEAD_IN_REST_WORDS else query


class QueryError(ValueError):
    """The query cannot be searched (empty, too long, control characters)."""


@dataclass(frozen=True)
class SearchResult:
    slug: str
    title: str
    section: str
    snippet: str
    score: float
    url: str
    # ``score`` less what says the article may not answer this question (SearchEngine)
    answer_score: float


def clean_query(query: str) -> str:
    """Validates and normalises a customer query; raises QueryError with a clear message."""
    if not isinstance(query, str):
        raise QueryError("query must be text")
    # Whatever the chat accepts is searched (a refusal here would look like an outage to
    # the bot): control characters and undecodable bytes (U+FFFD) count as spaces.
    query = "".join(
        " " if c == "\ufffd" or unicodedata.category(c) == "Cc" else c for c in query
    )
    query = unicodedata.normalize("NFKC", query).strip()
    if not query:
        raise QueryError("query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"query is longer than {MAX_QUERY_CHARS} characters")
    return re.sub(r"\s+", " ", query)


def snippet(passage: Passage, limit: int = SNIPPET_CHARS) -> str:
    """The passage as plain text, cut at a sentence end near ``limit``."""
    text = plain_text(passage.text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    return (cut[: end + 1] if end > limit // 2 else cut.rsplit(" ", 1)[0] + " ...").strip()


class SearchEngine:
    """Ranks articles for a question from three cosine similarities and one prior.

    For every article among the nearest passages: ``p`` its best passage, ``q`` the mean of
    its two closest stored customer questions ("questions this article answers"), ``t`` its
    title. The score is ``((p + 2q) / 3 + w * t) / (1 + w)`` (``p`` alone for an article
    without questions), plus ``intent_weight`` times the probability NLU gave the article's
    topic intent, when the caller passes NLU's ranking. Measured on the dev split of the eval
    questions in bench/results/kb-levers.md.

    Each result also has an answer score: the score minus ``out_of_scope_weight`` times NLU's
    out-of-scope probability for the question (in ``intents``; half of it for a story of
    ``LONG_STORY_WORDS`` words or more) and ``uncovered_weight`` times
    the share of the question the article does not cover (coverage.py); the best result's
    answer score also gains ``margin_weight`` times its lead over the second (among the
    passages not excluded: for a follow-up, the lead of the best one not shown yet). It
    decides whether the article answers the question; the score alone ranks. The app's
    weights and answer threshold are chosen together by `make bench-kb` on the dev split
    (api/config.py).
    """

    def __init__(
        self,
        index: PassageIndex,
        encoder: Encoder,
        *,
        title_weight: float = TITLE_WEIGHT,
        intent_weight: float = INTENT_WEIGHT,
        question_weight: float = QUESTION_WEIGHT,
        questions_averaged: int = QUESTIONS_AVERAGED,
        out_of_scope_weight: float = 0.0,
        uncovered_weight: float = 0.0,
        margin_weight: float = 0.0,
        passage_words_weight: float = PASSAGE_WORDS_WEIGHT,
        intro_penalty: float = INTRO_PENALTY,
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.title_weight = title_weight
        self.intent_weight = intent_weight
        self.question_weight = question_weight
        self.questions_averaged = questions_averaged
        self.out_of_scope_weight = out_of_scope_weight
        self.uncovered_weight = uncovered_weight
        self.margin_weight = margin_weight
        self.passage_words_weight = passage_words_weight
        self.intro_penalty = intro_penalty

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        exclude: frozenset[str] | set[str] = frozenset(),
        intents: dict[str, float] | None = None,
        vector: np.ndarray | None = None,
    ) -> list[SearchResult]:
        """The ``k`` best articles for ``query``; ``exclude`` skips passages ("slug#section")
        the customer has seen already, so a follow-up gets the next best passage;
        ``intents`` is NLU's intent ranking for the message (name -> confidence);
        ``vector`` is the query's embedding by this model when the caller has it already
        (the bot's NLU embedded the message: knowledge_base/query_vector.py)."""
        if not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}")
        if len(exclude) > MAX_EXCLUDE:
            raise QueryError(f"at most {MAX_EXCLUDE} passages can be excluded")
        cleaned = clean_query(query)
        self.index.reload_if_changed()
        # The caller embedded the text as sent; this search would embed it NFKC-normalised
        # ("ｆｕｌｌｗｉｄｔｈ" -> "fullwidth"), which the tokenizer reads differently.
        # An order number is embedded as "order" (for_embedding): the caller's vector has it.
        embedded = for_embedding(cleaned)
        if vector is None or embedded != cleaned or not unicodedata.is_normalized("NFKC", query):
            vector = self.encoder.encode([embedded])[0]
        return self.rank(vector, k, exclude=exclude, intents=intents, text=cleaned)

    def _shown(self, rows: list[int], cosines: np.ndarray, asked: dict[str, float]) -> int:
        """Which of an article's passages (``rows``, their cosines) answers the question: the
        closest, unless another contains enough more of the ``asked`` words (with their
        rarity weights; PASSAGE_WORDS_WEIGHT) or the closest is the article's introduction
        (INTRO_PENALTY)."""
        if len(rows) < 2:
            return 0
        passages, passage_words = self.index.passages, self.index.passage_words
        choice = cosines - self.intro_penalty * np.array([passages[r].intro for r in rows])
        total = sum(asked.values())
        if self.passage_words_weight and total > 0:
            shared = np.array(
                [sum(v for word, v in asked.items() if word in passage_words[r]) for r in rows]
            )
            choice = choice + self.passage_words_weight * shared / total
        return int(np.argmax(choice))

    def rank(
        self,
        vector: np.ndarray,
        k: int,
        *,
        exclude: frozenset[str] | set[str] = frozenset(),
        intents: dict[str, float] | None = None,
        text: str = "",
    ) -> list[SearchResult]:
        """The ranking for an already embedded query (see ``search``); ``text`` is the query,
        for the answer score's coverage (none given: nothing counts as uncovered)."""
        index = self.index
        passages, vectors, titles = index.passages, index.vectors, index.titles
        candidates = dict.fromkeys(
            p.slug for p, _ in index.search_vector(vector, max(CANDIDATES, 4 * k))
        )
        w, iw = self.title_weight, self.intent_weight
        asked = asked_words(text)  # once for all the results
        # per article: its score, and its passages with their cosines (one is chosen to show
        # for the k returned only)
        scored: list[tuple[float, list[int], np.ndarray]] = []
        for slug in candidates:
            rows = [
                int(r)
                for r in index.text_rows.get(slug, ())
                if f"{slug}#{passages[int(r)].section}" not in exclude
            ]
            if not rows:
                continue
            text_scores = vectors[rows] @ vector
            base = float(text_scores.max())
            question_rows = index.question_rows.get(slug)
            if question_rows is not None and len(question_rows):
                top = np.sort(vectors[question_rows] @ vector)[-self.questions_averaged :]
                qw = self.question_weight
                base = (base + qw * float(top.mean())) / (1 + qw)
            title = titles.get(slug)
            title_cosine = float(title @ vector) if title is not None else base
            score = (base + w * title_cosine) / (1 + w)
            if intents and iw:
                score += iw * float(intents.get(index.intents.get(slug, ""), 0.0))
            scored.append((score, rows, text_scores))
        scored.sort(key=lambda entry: -entry[0])
        # How far the best article leads the next: a question the help center answers usually
        # has one clear article, one it does not answer lands between several.
        lead = scored[0][0] - scored[1][0] if len(scored) > 1 else 0.0
        weighted = {word: index.vocabulary.weight(word) for word in asked}
        ranked = [
            (passages[rows[self._shown(rows, cosines, weighted)]], score)
            for score, rows, cosines in scored[:k]
        ]
        doubt = self.out_of_scope_weight * float((intents or {}).get("out_of_scope", 0.0))
        if len(text.split()) >= LONG_STORY_WORDS:
            doubt *= LONG_STORY_DOUBT
        uncovered = index.vocabulary.uncovered_words
        return [
            SearchResult(
                slug=p.slug,
                title=p.title,
                section=p.section,
                snippet=snippet(p),
                score=round(s, 4),
                url=f"/help/{p.slug}",
                answer_score=round(
                    s
                    - doubt
                    - self.uncovered_weight * uncovered(asked, p.slug)
                    + (self.margin_weight * lead if i == 0 else 0.0),
                    4,
                ),
            )
            for i, (p, s) in enumerate(ranked)
        ]
