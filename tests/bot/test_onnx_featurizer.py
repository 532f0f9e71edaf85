"""The featurizer's encoder: texts batched by token length give, in order, the vectors each
text gets alone (the message and its clauses are embedded together at every turn)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.components.onnx_featurizer import _default_model_dir, _OnnxEncoder

TEXTS = [
    "my order from 2019 isnt showing up in my account anymore, did it get deleted?",
    "my order from 2019 isnt showing up in my account anymore",
    "did it get deleted?",
    "where is my order",  # the same token length as the next: one batch
    "when is my refund",
    "hi",
]


@pytest.fixture(scope="module")
def encoder() -> _OnnxEncoder:
    if not (_default_model_dir() / "model.onnx").exists():
        pytest.fail("needs the exported model: run `make embedder`")
    return _OnnxEncoder(_default_model_dir(), batch_size=64)


def test_batched_by_length_equals_one_by_one(encoder):
    together = encoder.encode(TEXTS)
    alone = np.concatenate([encoder.encode([t]) for t in TEXTS])
    assert together.shape == (len(TEXTS), 384) and together.dtype == np.float32
    assert np.abs(together - alone).max() < 1e-5
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)
    assert encoder.encode([]).shape == (0, 384)
