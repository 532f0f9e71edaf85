"""The featurizer's encoder: a text's vector does not depend on the texts embedded with it
(the message and its clauses are embedded together at every turn, training examples in
thousands), and it is the vector the app's encoder gives (the app ranks with it)."""

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
    return _OnnxEncoder(_default_model_dir())


def test_a_vector_does_not_depend_on_its_companions(encoder):
    together = encoder.encode(TEXTS)
    alone = np.concatenate([encoder.encode([t]) for t in TEXTS])
    assert together.shape == (len(TEXTS), 384) and together.dtype == np.float32
    # batched runs of the quantized model differed by up to 0.03 per value
    assert np.abs(together - alone).max() < 1e-5
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)
    assert encoder.encode([]).shape == (0, 384)


def test_the_app_encoder_gives_the_same_vectors(encoder):
    from knowledge_base.onnx_embedder import OnnxEmbedder

    app = OnnxEmbedder(_default_model_dir())
    assert app.model_id == encoder.model_id
    assert np.abs(app.encode(TEXTS) - encoder.encode(TEXTS)).max() < 1e-5
