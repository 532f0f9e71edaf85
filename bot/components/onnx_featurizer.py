"""Dense sentence features from all-MiniLM-L6-v2, run with onnxruntime (no PyTorch needed).

The model is exported once from the app environment (``knowledge_base.onnx_export``) and copied
into the trained Rasa model at training time, so a trained model is self-contained.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.sentences import EMBEDDING, PARTS, clauses

logger = logging.getLogger(__name__)

_REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_DIR = _REPO_ROOT / "var" / "embedder-onnx"
_FILES = ("model.onnx", "tokenizer.json", "manifest.json")
# model input -> tokenizer Encoding attribute
_FEEDS = (
    ("input_ids", "ids"),
    ("attention_mask", "attention_mask"),
    ("token_type_ids", "type_ids"),
)


def _default_model_dir() -> Path:
    return Path(os.environ.get("SUPPORTBOT_EMBEDDER_ONNX_DIR", DEFAULT_MODEL_DIR))


def model_dir_of(config: dict[str, Any]) -> Path:
    """The export directory a component's ``model_dir`` setting names (empty: the default)."""
    return Path(config.get("model_dir") or _default_model_dir())


def export_fingerprint(model_dir: Path) -> str | None:
    """The export's manifest, hashed: the tuned model it was made from and how its weights are
    stored (a float and an int8 export of one model embed differently). None if missing."""
    try:
        return hashlib.sha256((model_dir / "manifest.json").read_bytes()).hexdigest()
    except OSError:
        return None


class _OnnxEncoder:
    """Tokenizer + ONNX session producing unit-length sentence vectors."""

    def __init__(self, model_dir: Path) -> None:
        import onnxruntime
        import tokenizers

        manifest = json.loads((model_dir / "manifest.json").read_text())
        self.dimension = int(manifest["dimension"])
        # The export's id: the app uses a vector sent with a search only from its own export
        # (knowledge_base/query_vector.py reads the same manifest the same way).
        self.model_id = str(manifest["source_sha256"])[:16]
        self.tokenizer = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(manifest["max_seq_length"]))
        self.tokenizer.no_padding()  # one text per run (encode)
        options = onnxruntime.SessionOptions()
        # Two threads that sleep when idle. ONNX Runtime's default (a thread per core,
        # spin-waiting) burns CPU the other processes need. But the Rasa server is one
        # process, and at load it is the stack's bottleneck: a second thread lets the
        # inference (half of its CPU per turn) use the core the app leaves idle. Measured with
        # `make bench-chat`, 1 and 2 threads alternated twice on 2 cores: 50 customers
        # 30.4 / 40.9 -> 33.2 / 45.8 turns/s, one customer's reply p50 46.6 / 39.8 -> 43.2 /
        # 32.4 ms. Again with the int8 export (bench/results/chat-int8.md): 54.3 / 65.8 ->
        # 58.7 / 72.1 turns/s, 36.4 / 27.1 -> 34.5 / 25.6 ms. SUPPORTBOT_ONNX_THREADS sets it
        # (0: all cores, as training uses).
        options.intra_op_num_threads = int(os.environ.get("SUPPORTBOT_ONNX_THREADS", "2"))
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for ``texts``, in order, one text per run. The model's activations
        are quantized with one scale per run (knowledge_base/onnx_export.py), so a text run
        in a batch with others would get a slightly different vector than alone (up to 0.03
        per value, measured): training, serving and the app's index must agree. Batching
        also bought nothing here: a message comes with at most a few clauses."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, encoding in enumerate(self.tokenizer.encode_batch(texts) if texts else []):
            feeds = {
                name: np.array([getattr(encoding, field)], dtype=np.int64)
                for name, field in _FEEDS
            }
            out[i] = self.session.run(None, feeds)[0][0]
        return out


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class OnnxSentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 384-d sentence embedding (all-MiniLM-L6-v2) as dense sentence features."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # Directory holding model.onnx, tokenizer.json and manifest.json. Empty means
            # $SUPPORTBOT_EMBEDDER_ONNX_DIR or var/embedder-onnx in the repository.
            "model_dir": "",
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["onnxruntime", "tokenizers"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The export's fingerprint: Rasa's training cache keys a component's output on its
        config and inputs, which do not change when the model in the export directory does
        (a new export, or SUPPORTBOT_EMBEDDER_ONNX_DIR pointed elsewhere). Without this, a
        retrain reused the old model's cached features and trained the classifier on them."""
        return export_fingerprint(model_dir_of(config))

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
        model_dir: Path | None = None,
    ) -> None:
        super().__init__(name, config)
        self._model_storage = model_storage
        self._resource = resource
        source = model_dir or model_dir_of(config)
        missing = [f for f in _FILES if not (source / f).exists()]
        if missing:
            raise InvalidConfigException(
                f"ONNX embedding model not found in '{source}' (missing {missing}). "
                "Run `make embedder` (python -m knowledge_base.onnx_export var/embedder-onnx)."
            )
        self._source = source
        self._encoder = _OnnxEncoder(source)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OnnxSentenceFeaturizer:
        return cls(config, execution_context.node_name, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> OnnxSentenceFeaturizer:
        # The trained model carries its own copy of the encoder; load it from there.
        with model_storage.read_from(resource) as directory:
            # read_from yields a temporary directory: keep the session alive past it by
            # building the encoder inside the block (onnxruntime reads the file eagerly).
            return cls(
                config, execution_context.node_name, model_storage, resource, Path(directory)
            )

    def train(self, training_data: TrainingData) -> Resource:
        """Copies the encoder into the trained model so serving needs nothing else."""
        with self._model_storage.write_to(self._resource) as directory:
            for name in _FILES:
                shutil.copy(self._source / name, Path(directory) / name)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize([m for m in training_data.training_examples if m.get(TEXT)])
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """At inference: the message and, for a long message, each of its clauses
        (sentences.py), embedded one by one. The message's vector is also in the parse
        result (``text_embedding``): the turn policy's action sends it with its search, so the
        app does not embed the same text again."""
        messages_with_text = [m for m in messages if m.get(TEXT)]
        split = [(m, clauses(m.get(TEXT))) for m in messages_with_text]
        texts = [m.get(TEXT) for m in messages_with_text]
        texts += [c for _, parts in split for c in parts]
        if not texts:
            return messages
        vectors = iter(self._encoder.encode(texts))
        for message in messages_with_text:
            vector = next(vectors)
            self._add(message, vector)
            message.set(EMBEDDING, self._wire(vector), add_to_output=True)
        for message, parts in split:
            if parts:
                message.set(PARTS, [{"text": p, "dense": next(vectors)} for p in parts])
        return messages

    def _wire(self, vector: np.ndarray) -> dict[str, str]:
        # the wire format of knowledge_base/query_vector.py (the app's side)
        data = np.asarray(vector, dtype="<f4").tobytes()
        return {"model": self._encoder.model_id, "vector": base64.b64encode(data).decode()}

    def _featurize(self, messages: list[Message]) -> None:
        if not messages:
            return
        vectors = self._encoder.encode([m.get(TEXT) for m in messages])
        for message, vector in zip(messages, vectors):
            self._add(message, vector)

    def _add(self, message: Message, vector: np.ndarray) -> None:
        self.add_features_to_message(
            sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT, message=message
        )

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to check beyond the model directory (the constructor names what is
        missing there)."""
