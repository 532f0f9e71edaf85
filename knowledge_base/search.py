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
# Candidate passages (by passage cosine) that are re-scored with the title boost and grouped
# per article; several passages of one article often rank together.
CANDIDATES = 50
# score = (passage cosine + TITLE_WEIGHT * title cosine) / (1 + TITLE_WEIGHT): a weighted
# cosine in [-1, 1], comparable across queries. On the dev split of the eval questions it
# raised Recall@1 from 0.883 to 0.914 and MRR from 0.920 to 0.940; BM25 hybrids (weighted or
# reciprocal-rank fusion) lowered Recall@1 (0.828-0.865) and were not kept.
TITLE_WEIGHT = 0.2


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

    def __init__(
        self, index: PassageIndex, encoder: Encoder, *, title_weight: float = TITLE_WEIGHT
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.title_weight = title_weight

    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        if not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}")
        query = clean_query(query)
        self.index.reload_if_changed()
        vector = self.encoder.encode([query])[0]
        titles = self.index.titles
        w = self.title_weight
        best: dict[str, tuple[Passage, float]] = {}
        for passage, cosine in self.index.search_vector(vector, max(CANDIDATES, 4 * k)):
            title = titles.get(passage.slug)
            title_cosine = float(title @ vector) if title is not None else cosine
            score = (cosine + w * title_cosine) / (1 + w)
            if passage.slug not in best or score > best[passage.slug][1]:
                best[passage.slug] = (passage, score)
        ranked = sorted(best.values(), key=lambda ps: -ps[1])[:k]
        # An article found through a question it answers is quoted from its own text.
        for i, (passage, score) in enumerate(ranked):
            if passage.kind == "question":
                text = self.index.best_text_passage(passage.slug, vector)
                if text is not None:
                    ranked[i] = (text[0], score)
        return [
            SearchResult(
                slug=p.slug,
                title=p.title,
                section=p.section,
                snippet=snippet(p),
                score=round(s, 4),
                url=f"/help/{p.slug}",
            )
            for p, s in ranked
        ]
