"""How much of a question an article speaks to: the answer signal beside the cosine score.

Sentence embeddings rank articles well but do not tell a question the help center answers
from one on the same subject that it does not: "do you have a student discount?" finds the
Club benefits at 0.63, above many right answers. Such a question usually names something no
article mentions (student, embroidery, parking). ``Vocabulary.uncovered`` is the share of a
question's informative words, weighted by how rare they are among the articles (a word no
article uses weighs most), that the article does not contain.

The search subtracts it, with NLU's out-of-scope probability, from the article's score to
give the answer score the bot compares with the answer threshold (SearchEngine). Measured on
the dev split of the retrieval questions, at most 5% of unanswerable questions answered:
right answers 0.670 -> 0.729 of answerable questions (bench/results/kb.md, kb-levers.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

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
    }
)  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")


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
    """The informative words of ``text``: lowercased, stemmed, no stopwords."""
    return {
        stem(word)
        for word in _WORD.findall(text.lower())
        if len(word) >= 3 and word not in STOPWORDS
    }


@dataclass(frozen=True)
class Vocabulary:
    """The words of each article (title, text and stored questions) and how many use each."""

    by_article: dict[str, frozenset[str]]
    document_frequency: dict[str, int]

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
        return cls({s: frozenset(w) for s, w in pooled.items()}, frequency)

    def weight(self, word: str) -> float:
        """Inverse document frequency of a stemmed word (a word no article uses weighs most)."""
        n = len(self.by_article)
        return math.log((n + 1) / (self.document_frequency.get(word, 0) + 0.5))

    def uncovered(self, question: str, slug: str) -> float:
        """Share (0-1, weighted) of the question's informative words the article lacks."""
        asked = words(question)
        if not asked:
            return 0.0
        article = self.by_article.get(slug, frozenset())
        total = sum(self.weight(w) for w in asked)
        missing = sum(self.weight(w) for w in asked if w not in article)
        return missing / total if total > 0 else 0.0
