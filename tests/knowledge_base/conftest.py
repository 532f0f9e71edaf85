from __future__ import annotations

import pytest

from knowledge_base.embedder import Embedder


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real model, loaded once (about 2 s)."""
    return Embedder()


class CountingEncoder:
    """Wraps the real embedder and counts what gets embedded (to prove incremental work)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.embedded = 0

    def encode(self, texts):
        self.embedded += len(texts)
        return self.inner.encode(texts)


@pytest.fixture
def counting(embedder) -> CountingEncoder:
    return CountingEncoder(embedder)
