"""Semantic search over help articles: one result per article, best passage as snippet."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from knowledge_base.chunking import Passage, plain_text
from knowledge_base.index import Encoder, PassageIndex

MAX_QUERY_CHARS = 1000
MAX_K = 20
SNIPPET_CHARS = 480
# Passages fetched per requested article: several passages of one article often rank
# together, and results are grouped per article.
OVERFETCH = 4


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


def clean_query(query: str) -> str:
    """Validates and normalises a customer query; raises QueryError with a clear message."""
    if not isinstance(query, str):
        raise QueryError("query must be text")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in query):
        raise QueryError("query contains control characters")
    if "\ufffd" in query:  # what undecodable bytes become on the way in
        raise QueryError("query is not valid UTF-8 text")
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
    """Embeds the query and ranks articles by their best passage's cosine similarity."""

    def __init__(self, index: PassageIndex, encoder: Encoder) -> None:
        self.index = index
        self.encoder = encoder

    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        if not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}")
        query = clean_query(query)
        self.index.reload_if_changed()
        vector = self.encoder.encode([query])[0]
        best: dict[str, tuple[Passage, float]] = {}
        for passage, score in self.index.search_vector(vector, k * OVERFETCH):
            if passage.slug not in best:
                best[passage.slug] = (passage, score)
            if len(best) == k:
                break
        return [
            SearchResult(
                slug=p.slug,
                title=p.title,
                section=p.section,
                snippet=snippet(p),
                score=round(s, 4),
                url=f"/help/{p.slug}",
            )
            for p, s in best.values()
        ]
