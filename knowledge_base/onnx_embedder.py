"""The same embedding model through ONNX Runtime: what the app serves with.

``knowledge_base.onnx_export`` writes the model once (token ids -> mean-pooled, normalised
sentence vector, int8 weights; the Rasa featurizer uses the same files). Its vectors are
close to PyTorch's (cosine above 0.98, ``tests/knowledge_base/test_onnx_embedder.py``) at
about a seventh of the CPU per question (one thread, no spin-waiting: ~2 ms against ~15 ms),
and the app never imports PyTorch while serving (~500 MB less resident memory).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge_base import query_vector
from knowledge_base.embedder import DIMENSION, MODEL_NAME

# model input -> tokenizer Encoding attribute
_FEEDS = (
    ("input_ids", "ids"),
    ("attention_mask", "attention_mask"),
    ("token_type_ids", "type_ids"),
)


class OnnxModelMissing(RuntimeError):
    """The exported model is not there (run ``make embedder``)."""


def session_options(threads: int = 1):  # noqa: ANN201 - onnxruntime is imported lazily
    """One thread that sleeps when idle: every process of the stack shares the same cores,
    and ONNX Runtime's default (a thread per core, spin-waiting) burns CPU for nothing."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class OnnxEmbedder:
    """Encodes text into L2-normalised float32 vectors; inner product = cosine similarity."""

    name = MODEL_NAME
    dimension = DIMENSION

    def __init__(self, model_dir: Path, *, threads: int = 1) -> None:
        import onnxruntime
        import tokenizers

        manifest_path = model_dir / "manifest.json"
        if not manifest_path.exists():
            raise OnnxModelMissing(f"no exported model in {model_dir}: run `make embedder`")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("model") != MODEL_NAME or int(manifest["dimension"]) != DIMENSION:
            raise OnnxModelMissing(f"{model_dir} holds {manifest.get('model')}, not {MODEL_NAME}")
        # vectors sent with a search by the bot's featurizer are used when they carry this id
        self.model_id = query_vector.model_id(model_dir)
        self.tokenizer = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(manifest["max_seq_length"]))
        self.tokenizer.no_padding()  # one text per run (encode)
        self.session = onnxruntime.InferenceSession(
            str(model_dir / "model.onnx"),
            session_options(threads),
            providers=["CPUExecutionProvider"],
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; returns an (n, 384) float32 array of unit vectors.

        One text per run, as the bot's featurizer does: the model's activations are quantized
        with one scale per run (knowledge_base/onnx_export.py), so a passage batched with
        others would get a slightly different vector than the same text alone, and a
        question's vector from the bot must be the one this index would compute."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, encoding in enumerate(self.tokenizer.encode_batch(list(texts)) if texts else []):
            feeds = {
                name: np.array([getattr(encoding, field)], dtype=np.int64)
                for name, field in _FEEDS
            }
            out[i] = self.session.run(None, feeds)[0][0]
        return out

    def encode_one(self, text: str) -> np.ndarray:
        """Embed one text; returns a (384,) float32 unit vector."""
        return self.encode([text])[0]


def load_embedder(model_dir: Path, backend: str = "onnx"):  # noqa: ANN201
    """The app's encoder: ONNX Runtime over the exported model (exported on first use if
    missing, which needs PyTorch once), or PyTorch itself with ``backend="torch"``."""
    if backend == "torch":
        from knowledge_base.embedder import Embedder

        return Embedder()
    if not (model_dir / "manifest.json").exists():
        from knowledge_base.onnx_export import export

        export(model_dir)
    return OnnxEmbedder(model_dir)


def release_unused_memory() -> None:
    """Returns freed heap pages to the system after a large one-off job (the start-up index
    build); glibc keeps them otherwise. A no-op where glibc is not the C library."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(name).malloc_trim(0)
