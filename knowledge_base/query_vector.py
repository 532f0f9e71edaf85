"""A question's embedding as it travels from the bot to the search: embed each message once.

Rasa's featurizer embeds every customer message with the same ONNX export of the same model
the app searches with (bot/components/onnx_featurizer.py). It puts that vector in its parse
result, the turn policy's action sends it with the search, and the app ranks with it instead
of embedding the same text a second time (about 4 ms of CPU per search on 2 cores).

Wire format: ``{"model": <model id>, "vector": <base64 of 384 little-endian float32>}``. The
model id is the start of the export's source fingerprint (``manifest.json``), so a vector
from another model or export is never compared with this index: the search embeds the
question itself then.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

import numpy as np

MODEL_ID_CHARS = 16
# base64 of 384 float32 is 2048 characters; room for a larger model, not for abuse
MAX_VECTOR_CHARS = 8192


class VectorError(ValueError):
    """The embedding sent with a question cannot be used as one (malformed, not unit length)."""


def model_id(export_dir: Path) -> str | None:
    """The id of the ONNX export in ``export_dir`` (None when it has no manifest)."""
    try:
        manifest = json.loads((export_dir / "manifest.json").read_text())
        return str(manifest["source_sha256"])[:MODEL_ID_CHARS]
    except (OSError, ValueError, KeyError):
        return None


def encode(vector: np.ndarray) -> str:
    """The wire form of a vector (what the bot's featurizer writes)."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def decode(text: str, dimension: int) -> np.ndarray:
    """A unit-length float32 vector of ``dimension`` from its wire form, or VectorError."""
    if len(text) > MAX_VECTOR_CHARS:
        raise VectorError(f"vector is longer than {MAX_VECTOR_CHARS} characters")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise VectorError("vector is not base64") from exc
    if len(raw) != 4 * dimension:
        raise VectorError(f"vector must hold {dimension} float32 values ({4 * dimension} bytes)")
    vector = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if not np.isfinite(vector).all():
        raise VectorError("vector has values that are not finite numbers")
    norm = float(np.linalg.norm(vector))
    if not 0.99 <= norm <= 1.01:
        raise VectorError(f"vector must have unit length (has {norm:.3f})")
    return vector / norm
