"""Persistent FAISS passage index with per-article incremental updates.

Files under the index directory: ``vectors.npy`` (float32, unit rows), ``passages.json``,
``titles.npy`` (one title vector per article, in slug order),
``index.faiss`` (the FAISS structure) and ``manifest.json`` (model, dimension, index kind,
per-article content hashes and a SHA-256 of every other file). The manifest is written
last, so a crash mid-save or a damaged file is caught on load and the index is rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from knowledge_base.articles import Article
from knowledge_base.chunking import CHUNKING_VERSION, Passage, plain_text, split_passages
from knowledge_base.coverage import Vocabulary, words

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2
INDEX_KINDS = ("flat", "hnsw")


class Encoder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


class IndexCorrupt(Exception):
    """The files on disk do not form a valid index for this model (rebuild needed)."""


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    embedded_passages: int = 0
    rebuilt: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def _rows(passages: list[Passage], kind: str) -> dict[str, np.ndarray]:
    """Row numbers of each article's passages of one kind (text or question)."""
    rows: dict[str, list[int]] = {}
    for i, passage in enumerate(passages):
        if passage.kind == kind:
            rows.setdefault(passage.slug, []).append(i)
    return {slug: np.array(r, dtype=np.int64) for slug, r in rows.items()}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class PassageIndex:
    """Passages, their vectors and a FAISS index over them, kept in sync with the articles."""

    def __init__(
        self,
        directory: Path,
        encoder: Encoder,
        *,
        kind: str = "flat",
        hnsw_m: int = 32,
        hnsw_ef_search: int = 64,
    ) -> None:
        if kind not in INDEX_KINDS:
            raise ValueError(f"index kind must be one of {INDEX_KINDS}, not {kind!r}")
        self.directory = Path(directory)
        self.encoder = encoder
        self.kind = kind
        self.hnsw_m = hnsw_m
        self.hnsw_ef_search = hnsw_ef_search
        self._lock = threading.Lock()
        self.passages: list[Passage] = []
        self.vectors = np.zeros((0, encoder.dimension), dtype=np.float32)
        self.hashes: dict[str, str] = {}
        self.titles: dict[str, np.ndarray] = {}
        self.text_rows: dict[str, np.ndarray] = {}
        self.question_rows: dict[str, np.ndarray] = {}
        self.intents: dict[str, str] = {}
        self.vocabulary = Vocabulary.from_texts(())
        self.passage_words: list[frozenset[str]] = []
        self.faiss_index: faiss.Index = self._new_faiss(self.vectors)
        self._loaded_stamp: tuple[int, int] | None = None

    # ---- building -------------------------------------------------------------------
    def _new_faiss(self, vectors: np.ndarray) -> faiss.Index:
        dim = self.encoder.dimension
        if self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = self.hnsw_ef_search
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return index

    def sync(self, articles: Iterable[Article]) -> SyncReport:
        """Brings the index in line with ``articles``, embedding only what changed."""
        wanted = {a.slug: a for a in articles}
        report = SyncReport()
        with self._lock:
            by_slug: dict[str, tuple[list[Passage], np.ndarray]] = {}
            titles = {}
            for slug in wanted:
                if slug in self.hashes and self.hashes[slug] == wanted[slug].content_hash():
                    rows = [i for i, p in enumerate(self.passages) if p.slug == slug]
                    by_slug[slug] = ([self.passages[i] for i in rows], self.vectors[rows])
                    titles[slug] = self.titles[slug]
            stale = [a for s, a in wanted.items() if s not in by_slug]
            report.added = sorted(a.slug for a in stale if a.slug not in self.hashes)
            report.updated = sorted(a.slug for a in stale if a.slug in self.hashes)
            report.removed = sorted(s for s in self.hashes if s not in wanted)
            if stale:
                new_passages = [p for a in stale for p in split_passages(a)]
                vectors = self.encoder.encode(
                    [p.embed_text for p in new_passages] + [a.title for a in stale]
                )
                for a, vector in zip(stale, vectors[len(new_passages) :]):
                    titles[a.slug] = vector
                vectors = vectors[: len(new_passages)]
                report.embedded_passages = len(new_passages)
                for slug in {a.slug for a in stale}:
                    rows = [i for i, p in enumerate(new_passages) if p.slug == slug]
                    by_slug[slug] = ([new_passages[i] for i in rows], vectors[rows])
            if not report.changed and self._loaded_stamp is not None:
                return report
            passages: list[Passage] = []
            blocks: list[np.ndarray] = []
            for slug in sorted(by_slug):
                passages += by_slug[slug][0]
                blocks.append(by_slug[slug][1])
            vectors = (
                np.ascontiguousarray(np.vstack(blocks), dtype=np.float32)
                if blocks
                else np.zeros((0, self.encoder.dimension), dtype=np.float32)
            )
            self._install(passages, vectors, {s: wanted[s].content_hash() for s in by_slug}, titles)
            self._save()
        return report

    def rebuild(self, articles: Iterable[Article]) -> SyncReport:
        """Re-embeds everything from scratch."""
        with self._lock:
            self._install([], np.zeros((0, self.encoder.dimension), np.float32), {}, {})
            self._loaded_stamp = None
        report = self.sync(articles)
        report.rebuilt = True
        return report

    def _install(
        self,
        passages: list[Passage],
        vectors: np.ndarray,
        hashes: dict[str, str],
        titles: dict[str, np.ndarray],
    ) -> None:
        faiss_index = self._new_faiss(vectors)
        # One assignment; readers see either the old or the new index, never a mix.
        self.passages, self.vectors, self.hashes, self.titles, self.faiss_index = (
            passages,
            vectors,
            hashes,
            titles,
            faiss_index,
        )
        self._derive()

    # ---- persistence ----------------------------------------------------------------
    def _paths(self) -> dict[str, Path]:
        d = self.directory
        return {
            "vectors": d / "vectors.npy",
            "passages": d / "passages.json",
            "titles": d / "titles.npy",
            "faiss": d / "index.faiss",
            "manifest": d / "manifest.json",
        }

    def _save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        paths = self._paths()

        buf = io.BytesIO()
        np.save(buf, self.vectors, allow_pickle=False)
        _atomic_write(paths["vectors"], buf.getvalue())
        buf = io.BytesIO()
        title_matrix = [self.titles[s] for s in sorted(self.hashes)]
        np.save(
            buf,
            np.array(title_matrix, dtype=np.float32).reshape(-1, self.encoder.dimension),
            allow_pickle=False,
        )
        _atomic_write(paths["titles"], buf.getvalue())
        _atomic_write(paths["passages"], json.dumps([asdict(p) for p in self.passages]).encode())
        _atomic_write(paths["faiss"], faiss.serialize_index(self.faiss_index).tobytes())
        manifest = {
            "format": FORMAT_VERSION,
            "chunking": CHUNKING_VERSION,
            "model": self.encoder.name,
            "model_id": self._model_id(),
            "dimension": self.encoder.dimension,
            "kind": self.kind,
            "count": len(self.passages),
            "articles": self.hashes,
            "sha256": {k: _sha256(p) for k, p in paths.items() if k != "manifest"},
        }
        _atomic_write(paths["manifest"], json.dumps(manifest, indent=1).encode())
        self._loaded_stamp = self._stamp()

    def _model_id(self) -> str | None:
        """Which export of the model made the vectors (None: PyTorch's): the model's name
        alone did not tell a float export from the int8 one, and an index from one is
        rebuilt, not searched with the other's questions."""
        return getattr(self.encoder, "model_id", None)

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self._paths()["manifest"].stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def load(self) -> None:
        """Loads the index from disk; raises IndexCorrupt when anything does not check out."""
        paths = self._paths()
        with self._lock:
            try:
                manifest = json.loads(paths["manifest"].read_text())
            except FileNotFoundError as exc:
                raise IndexCorrupt("no index on disk") from exc
            except (ValueError, UnicodeDecodeError) as exc:
                raise IndexCorrupt(f"manifest unreadable: {exc}") from exc
            expected = {
                "format": FORMAT_VERSION,
                "chunking": CHUNKING_VERSION,
                "model": self.encoder.name,
                "model_id": self._model_id(),
                "dimension": self.encoder.dimension,
                "kind": self.kind,
            }
            for key, value in expected.items():
                if manifest.get(key) != value:
                    raise IndexCorrupt(f"{key} is {manifest.get(key)!r}, expected {value!r}")
            for key, digest in (manifest.get("sha256") or {}).items():
                if key not in paths or not paths[key].exists() or _sha256(paths[key]) != digest:
                    raise IndexCorrupt(f"{key} file missing or damaged")
            try:
                vectors = np.load(paths["vectors"], allow_pickle=False)
                title_matrix = np.load(paths["titles"], allow_pickle=False)
                passages = [Passage(**p) for p in json.loads(paths["passages"].read_text())]
                raw = np.frombuffer(paths["faiss"].read_bytes(), dtype=np.uint8)
                faiss_index = faiss.deserialize_index(raw)
            except Exception as exc:  # any parse error means the files are unusable
                raise IndexCorrupt(f"cannot read index files: {exc}") from exc
            n = manifest.get("count")
            if not (
                vectors.ndim == 2
                and vectors.shape == (n, self.encoder.dimension)
                and len(passages) == n
                and faiss_index.ntotal == n
                and faiss_index.d == self.encoder.dimension
                and title_matrix.shape
                == (len(manifest.get("articles") or {}), self.encoder.dimension)
            ):
                raise IndexCorrupt("file contents disagree with the manifest")
            self.passages = passages
            self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            self.hashes = dict(manifest.get("articles") or {})
            self.titles = dict(zip(sorted(self.hashes), title_matrix.astype(np.float32)))
            if self.kind == "hnsw":
                faiss_index.hnsw.efSearch = self.hnsw_ef_search
            self.faiss_index = faiss_index
            self._derive()
            self._loaded_stamp = self._stamp()

    def open(self, articles: Iterable[Article]) -> SyncReport:
        """Loads the index if valid (rebuilding when corrupt or mismatched), then syncs."""
        articles = list(articles)
        try:
            self.load()
        except IndexCorrupt as exc:
            if self._paths()["manifest"].exists():
                logger.warning("index at %s unusable (%s): rebuilding", self.directory, exc)
            report = self.rebuild(articles)
            return report
        return self.sync(articles)

    def reload_if_changed(self) -> bool:
        """Picks up an index another worker saved (cheap stat per call)."""
        stamp = self._stamp()
        if stamp is None or stamp == self._loaded_stamp:
            return False
        try:
            self.load()
        except IndexCorrupt as exc:
            logger.warning("index changed on disk but is unusable (%s); keeping current", exc)
            self._loaded_stamp = stamp
            return False
        return True

    # ---- querying -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.passages)

    def _derive(self) -> None:
        """Lookups derived from the passages (rebuilt whenever they change)."""
        passages = self.passages
        self.text_rows = _rows(passages, "text")
        self.question_rows = _rows(passages, "question")
        self.intents = {p.slug: p.intent for p in passages if p.intent}
        self.vocabulary = Vocabulary.from_texts((p.slug, p.embed_text) for p in passages)
        # each text passage's own words (its heading and text), to choose among an article's
        # (stored questions are never shown: none)
        self.passage_words = [
            frozenset(words(f"{p.section} {plain_text(p.text)}") if p.kind == "text" else ())
            for p in passages
        ]

    def search_vector(self, query: np.ndarray, n: int) -> list[tuple[Passage, float]]:
        """The ``n`` passages with the highest cosine similarity to a unit query vector."""
        passages, index = self.passages, self.faiss_index
        if not passages or n <= 0:
            return []
        scores, ids = index.search(query.reshape(1, -1).astype(np.float32), min(n, len(passages)))
        return [(passages[i], float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
