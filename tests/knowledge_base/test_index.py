"""Passage index: incremental sync, persistence, corruption and mismatch recovery."""

from __future__ import annotations

import json

import numpy as np
import pytest

from knowledge_base.articles import make_article
from knowledge_base.index import IndexCorrupt, PassageIndex


def articles(n: int = 3, changed: str | None = None):
    out = []
    for i in range(n):
        body = (
            f"Intro for article {i}.\n\n## Section A{i}\nReturn boots within 60 days.\n\n"
            f"## Section B{i}\nShipping costs $5.95."
        )
        if changed == f"a{i}":
            body += "\n\n## New section\nGift cards never expire."
        out.append(make_article(slug=f"a{i}", title=f"Article {i}", body=body))
    return out


def test_first_open_embeds_everything_and_persists(tmp_path, counting):
    index = PassageIndex(tmp_path, counting)
    report = index.open(articles())
    assert report.rebuilt and sorted(report.added) == ["a0", "a1", "a2"]
    assert len(index) == 9
    assert counting.embedded == 9 + 3  # passages and one title per article
    assert {p.name for p in tmp_path.iterdir()} >= {
        "vectors.npy",
        "passages.json",
        "index.faiss",
        "manifest.json",
    }


def test_reopening_unchanged_embeds_nothing(tmp_path, counting):
    PassageIndex(tmp_path, counting).open(articles())
    counting.embedded = 0
    index = PassageIndex(tmp_path, counting)
    report = index.open(articles())
    assert not report.changed and not report.rebuilt
    assert counting.embedded == 0
    assert len(index) == 9


def test_publishing_one_article_reembeds_only_that_article(tmp_path, counting):
    index = PassageIndex(tmp_path, counting)
    index.open(articles())
    counting.embedded = 0
    report = index.sync(articles(changed="a1"))
    assert report.updated == ["a1"] and report.added == [] and report.removed == []
    assert counting.embedded == 5  # a1's 4 passages and its title; a0 and a2 untouched
    assert len(index) == 10
    hits = index.search_vector(counting.inner.encode_one("do gift cards expire"), 1)
    assert hits[0][0].slug == "a1" and hits[0][0].section == "New section"


def test_removed_article_disappears(tmp_path, counting):
    index = PassageIndex(tmp_path, counting)
    index.open(articles())
    report = index.sync(articles(n=2))
    assert report.removed == ["a2"]
    assert {p.slug for p in index.passages} == {"a0", "a1"}
    assert index.faiss_index.ntotal == len(index) == 6


@pytest.mark.parametrize(
    "damage", ["truncate_vectors", "garbage_faiss", "bad_manifest_json", "delete_passages"]
)
def test_corrupt_index_is_detected_and_rebuilt(tmp_path, counting, damage):
    PassageIndex(tmp_path, counting).open(articles())
    if damage == "truncate_vectors":
        data = (tmp_path / "vectors.npy").read_bytes()
        (tmp_path / "vectors.npy").write_bytes(data[: len(data) // 2])
    elif damage == "garbage_faiss":
        (tmp_path / "index.faiss").write_bytes(b"not a faiss index")
    elif damage == "bad_manifest_json":
        (tmp_path / "manifest.json").write_text("{oops")
    else:
        (tmp_path / "passages.json").unlink()

    fresh = PassageIndex(tmp_path, counting)
    with pytest.raises(IndexCorrupt):
        fresh.load()
    report = fresh.open(articles())
    assert report.rebuilt
    assert len(fresh) == 9
    hits = fresh.search_vector(counting.inner.encode_one("how much is shipping"), 3)
    assert hits and all("Shipping" in p.text for p, _ in hits)
    PassageIndex(tmp_path, counting).load()  # and the rebuilt files are valid again


def test_index_from_another_model_or_kind_is_rebuilt(tmp_path, counting):
    PassageIndex(tmp_path, counting).open(articles())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["model"] = "some-other-model"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="model"):
        PassageIndex(tmp_path, counting).load()
    assert PassageIndex(tmp_path, counting).open(articles()).rebuilt

    with pytest.raises(IndexCorrupt, match="kind"):
        PassageIndex(tmp_path, counting, kind="hnsw").load()


def test_index_from_another_export_of_the_model_is_rebuilt(tmp_path, counting):
    """The float and the int8 export share the model's name; their vectors do not mix."""
    counting.model_id = "float-export"
    PassageIndex(tmp_path, counting).open(articles())
    counting.model_id = "int8-export"
    with pytest.raises(IndexCorrupt, match="model_id"):
        PassageIndex(tmp_path, counting).load()
    assert PassageIndex(tmp_path, counting).open(articles()).rebuilt
    PassageIndex(tmp_path, counting).load()


def test_hnsw_index_agrees_with_flat_on_small_data(tmp_path, counting):
    flat = PassageIndex(tmp_path / "flat", counting)
    flat.open(articles(5))
    hnsw = PassageIndex(tmp_path / "hnsw", counting, kind="hnsw")
    hnsw.open(articles(5))
    q = counting.inner.encode_one("return window for boots")
    assert [p.slug + p.section for p, _ in flat.search_vector(q, 5)] == [
        p.slug + p.section for p, _ in hnsw.search_vector(q, 5)
    ]
    scores = [s for _, s in flat.search_vector(q, 5)]
    assert scores == sorted(scores, reverse=True) and -1.0 <= scores[-1] <= scores[0] <= 1.0 + 1e-6


def test_other_worker_save_is_picked_up(tmp_path, counting):
    reader = PassageIndex(tmp_path, counting)
    reader.open(articles())
    writer = PassageIndex(tmp_path, counting)
    writer.open(articles())
    writer.sync(articles(changed="a0"))
    assert reader.reload_if_changed()
    assert len(reader) == 10


def test_vectors_are_unit_length(tmp_path, counting):
    index = PassageIndex(tmp_path, counting)
    index.open(articles())
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-4)
