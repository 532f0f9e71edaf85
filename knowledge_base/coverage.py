"""How much of a question an article speaks to: the answer signal beside the cosine score.

Sentence embeddings rank articles well but do not tell a question the help center answers
from one on the same subject that it does not: "do you have a student discount?" finds the
Club benefits at 0.63, above many right answers. Such a question usually names something no
article mentions (student, embroidery, parking). ``Vocabulary.uncovered`` is the share of a
question's informative words, weighted by how rare they are among the articles (a word no
article uses weighs most), that the article does not contain. In a long message only the
sentences that ask count (``asking_part``): the story around the question names people,
places and occasions no article mentions ("my fiancée Ingrid and I are hiking the Dolomites").

The search subtracts it, with NLU's out-of-scope probability, from the article's score (and
adds the best article's lead over the second) to give the answer score the bot compares with
the answer threshold (SearchEngine). Measured on the dev split of the retrieval questions, at
most 5% of unanswerable questions answered: right answers 0.670 -> 0.729 of answerable
questions (bench/results/kb.md, kb-levers.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Words that carry no subject ("how do I", "can you", "my order"'s "my"), and chat fillers.
STOPWORDS = frozenset(
    {
        "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "for", "with",
        "from", "by", "about", "as", "is", "are", "was", "were", "be", "been", "being", "do",
        "does", "did", "done", "have", "has", "had", "i", "me", "my", "mine", "we", "our", "us",
        "you", "your", "yours", "it", "its", "this", "that", "these", "those", "can", "could",
        "would", "should", "will", "shall", "may", "might", "must", "not", "no", "yes", "so",
        "what", "when", "where", "why", "how", "who", "whom", "which", "there", "here", "than",
        "then", "just", "also", "very", "too", "any", "some", "all", "more", "most", "other",
        "such", "only", "own", "same", "few", "each", "both", "into", "over", "under", "again",
        "further", "once", "up", "down", "out", "off", "am", "pls", "please", "plz", "hi",
        "hello", "hey", "thanks", "thank", "thx", "get", "got", "im", "dont", "cant", "want",
        "need", "like", "know", "still", "they", "them", "their", "he", "she", "his", "her",
        "him", "one", "way",
        # texting forms of the same ("wat time"; "whats", "wats" stem to "what", "wat")
        "wat", "wht", "abt", "bc", "cuz", "gonna", "wanna", "gotta", "lol",
        "okay", "yeah", "yea", "nah", "yep", "nope",
    }
)  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
# Inside a word an apostrophe joins ("Arc'teryx" is the "arcteryx" customers type; "doesn't"
# is "doesnt"), as customers often leave it out.
_APOSTROPHE = re.compile(r"(?<=[a-z])['\u2019](?=[a-z])")


def stem(word: str) -> str:
    """A light stem, the same for the forms customers and articles use: shipping, shipped,
    ship -> ship; stores, stored, store -> stor; batteries -> battery."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    else:
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3 and word[-2:] != "ss":
                word = word[: -len(suffix)]
                break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # shipp -> ship
    if len(word) >= 3 and word.endswith("e"):
        word = word[:-1]
    return word


def words(text: str) -> set[str]:
    """The informative words of ``text``: lowercased, stemmed, no stopwords (before or after
    the stem: "whats" -> "what", "uses" -> "us"), no numbers (an amount, a count or an order
    number is not a subject: "got 460 points")."""
    stems = (
        stem(word)
        for word in _WORD.findall(_APOSTROPHE.sub("", text.lower()))
        if len(word) >= 3 and not word.isdigit() and word not in STOPWORDS
    )
    return {s for s in stems if s not in STOPWORDS}


# A message this long is often a story around its question (bench-kb, dev split: focusing on
# the asking sentences from 20 words up answers 0.756 -> 0.769 of the answerable questions
# right with unanswerable ones answered unchanged at 0.049; from 0 words up, shorter messages
# lose: "Please, how I can follow my parcel? I did not receive any link." needs all its words).
STORY_WORDS = 20
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_ASKING_FIRST = frozenset(
    {
        "how", "what", "whats", "when", "where", "why", "who", "which", "can", "could", "do",
        "does", "did", "is", "are", "will", "would", "should", "may", "am", "any", "anything",
        "wat", "wht", "hw",
    }
)  # fmt: skip
_FILLER_FIRST = frozenset({"ok", "okay", "so", "and", "but", "also", "hi", "hey", "um", "well"})


def asking_part(text: str) -> str:
    """The sentences of a long message that ask something ("... paid with paypal. when does
    the money show up" -> "when does the money show up"): those with a question mark or that
    start with a question word. A message under ``STORY_WORDS`` words, of one sentence, or
    with none that asks, is all of it. The story around a question names people, places and
    occasions no article mentions; they do not make the question one the help center cannot
    answer."""
    if len(text.split()) < STORY_WORDS:
        return text
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    if len(sentences) < 2:
        return text
    asking = []
    for sentence in sentences:
        first = next((w for w in _WORD.findall(sentence.lower()) if w not in _FILLER_FIRST), "")
        if "?" in sentence or first in _ASKING_FIRST:
            asking.append(sentence)
    return " ".join(asking) or text


# Asking sentences with fewer informative words than this point back at the story ("is that
# covered or nah", "is that a problem"): then the whole message is the question.
MIN_ASKED_WORDS = 3


def asked_words(question: str) -> set[str]:
    """The informative words coverage counts: in a long message, those of the sentences that
    ask (``asking_part``), if they name enough to stand alone."""
    asked = words(asking_part(question))
    return asked if len(asked) >= MIN_ASKED_WORDS else words(question)


# A word of at least this many letters (stemmed) one typo away from an article's word counts
# as that word ("packege" for "package", "recieve" for "receive"). Shorter words have too many
# real neighbours; from 5 letters up an unanswerable dev question got answered (bench-kb dev:
# from 6 letters up, one more answerable question answered right, no unanswerable one more).
TYPO_MIN_LETTERS = 6


def one_deletion(word: str) -> set[str]:
    """The word and every form of it with one letter left out: two words one insertion,
    deletion, substitution or swap of neighbours apart share one of these (symmetric-delete
    matching; so do some two edits apart, a letter moved: "abxd" and "aybd" share "abd")."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass(frozen=True)
class Vocabulary:
    """The words of each article (title, text and stored questions) and how many use each."""

    by_article: dict[str, frozenset[str]]
    document_frequency: dict[str, int]
    # per article, ``one_deletion`` of its words long enough to match a misspelt one
    near_by_article: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, texts: Iterable[tuple[str, str]]) -> Vocabulary:
        """From (slug, text) pairs; an article's texts are pooled."""
        pooled: dict[str, set[str]] = {}
        for slug, text in texts:
            pooled.setdefault(slug, set()).update(words(text))
        frequency: dict[str, int] = {}
        for article_words in pooled.values():
            for word in article_words:
                frequency[word] = frequency.get(word, 0) + 1
        near = {
            slug: frozenset().union(
                *(one_deletion(w) for w in article_words if len(w) >= TYPO_MIN_LETTERS - 1)
            )
            for slug, article_words in pooled.items()
        }
        return cls({s: frozenset(w) for s, w in pooled.items()}, frequency, near)

    def weight(self, word: str) -> float:
        """Inverse document frequency of a stemmed word (a word no article uses weighs most)."""
        n = len(self.by_article)
        return math.log((n + 1) / (self.document_frequency.get(word, 0) + 0.5))

    def uncovered(self, question: str, slug: str) -> float:
        """Share (0-1, weighted) of the question's informative words the article lacks."""
        return self.uncovered_words(asked_words(question), slug)

    def covers(self, slug: str, word: str) -> bool:
        """Whether the article has the word, or (a long word) one a typo away from it."""
        if word in self.by_article.get(slug, frozenset()):
            return True
        near = self.near_by_article.get(slug)
        return bool(near) and len(word) >= TYPO_MIN_LETTERS and not near.isdisjoint(
            one_deletion(word)
        )

    def uncovered_words(self, asked: set[str], slug: str) -> float:
        """``uncovered`` for the question's ``asked_words``, found once per search."""
        if not asked:
            return 0.0
        total = sum(self.weight(w) for w in asked)
        missing = sum(self.weight(w) for w in asked if not self.covers(slug, w))
        return missing / total if total > 0 else 0.0
