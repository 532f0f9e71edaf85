"""The app's ONNX encoder gives PyTorch's vectors (the index and Rasa agree with search)."""

from __future__ import annotations

import numpy as np
import pytest

from api.config import Settings
from knowledge_base.embedder import Embedder
from knowledge_base.onnx_embedder import OnnxEmbedder, OnnxModelMissing, load_embedder

TEXTS = [
    "how many days do i have to return something?",
    "hey i ordered a tent on monday and still no tracking number?? order NP-4481203",
    "cancel order pls",
    "where is my order",  # the same token length as the next: one batch
    "when is my refund",
    "",
    "ünïcödé and emoji 🏕️ " * 40,  # longer than the model's 256 tokens: truncated alike
]


@pytest.fixture(scope="module")
def onnx() -> OnnxEmbedder:
    embedder = load_embedder(Settings().embedder_onnx_dir)
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


def test_onnx_vectors_match_pytorch(onnx):
    expected = Embedder().encode(TEXTS)
    got = onnx.encode(TEXTS)
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert np.abs(got - expected).max() < 1e-4
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)


def test_batches_give_the_same_vectors_as_one_by_one(onnx):
    one_by_one = np.stack([onnx.encode_one(t) for t in TEXTS])
    batched = OnnxEmbedder(Settings().embedder_onnx_dir, batch_size=2).encode(TEXTS)
    assert np.abs(one_by_one - batched).max() < 1e-5
    assert onnx.encode([]).shape == (0, 384)


def test_a_missing_export_is_named(tmp_path):
    with pytest.raises(OnnxModelMissing, match="make embedder"):
        OnnxEmbedder(tmp_path)
