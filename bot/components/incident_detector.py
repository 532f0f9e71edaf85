"""Serious incidents: a customer hurt, harassed, stalked, exposed or taking legal steps.

Such a message goes to a person at once (``sensitive_topic``), whatever else it asks, and no
support-topic intent says so: "my wife needed stitches above her eye from that pole, ive
already spoken to a lawyer" reads as out_of_scope or product_info. Patterns for the words
(bot/policy.yml, ``harm_or_legal_patterns``) catch the phrasings someone thought of; this
component learns the meaning from examples instead. It is a binary logistic regression over
the same sentence embedding the intent classifier reads: positives are the serious incidents
of ``nlu_data/incidents/incidents.yml``; negatives are that file's near misses and every NLU
training example. The intents stay as DESIGN.md fixes them: this adds ``incident`` (0-1) to
the parse and the turn policy reads it (``incident_sensitive``).

The whole message only, not its clauses (sentences.py): on the dev conversations a clause
alone ("my dad is 78", "I got a replacement with the same number") read as part of an incident
story far more often than a clause found an incident the whole message missed (bot/policy.yml).

Measured on the held-out ``nlu_data/eval/incidents.yml`` by ``make bench-nlu``.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.onnx_featurizer import _OnnxEncoder, export_fingerprint, model_dir_of

logger = logging.getLogger(__name__)

INCIDENT = "incident"  # output key: probability (0-1) that the message reports one
_FILE = "incident_detector.npz"
_REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EXAMPLES = _REPO_ROOT / "nlu_data" / "incidents" / "incidents.yml"


def load_examples(path: Path) -> tuple[list[str], list[str]]:
    """(incidents, near misses) of an examples file; a clear error if it is malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidConfigException(f"incident examples '{path}': {exc}") from exc
    if not isinstance(data, dict) or set(data) != {"incident", "not_incident"}:
        raise InvalidConfigException(
            f"incident examples '{path}' must have exactly the keys incident and not_incident"
        )
    positives, negatives = data["incident"] or [], data["not_incident"] or []
    if not all(isinstance(t, str) and t.strip() for t in [*positives, *negatives]):
        raise InvalidConfigException(f"incident examples '{path}': every example is a text")
    if not positives or not negatives:
        raise InvalidConfigException(f"incident examples '{path}': both lists need examples")
    return positives, negatives


def _normalised(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IncidentDetector(GraphComponent):
    """Adds ``incident`` (probability of a serious incident, 0-1) to the parse."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # The examples file; empty means nlu_data/incidents/incidents.yml.
            "examples": "",
            # Directory of the ONNX export that embeds the examples: the featurizer's
            # (empty means $SUPPORTBOT_EMBEDDER_ONNX_DIR or var/embedder-onnx).
            "model_dir": "",
            # Inverse regularisation strength of the logistic regression.
            "C": 10.0,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "onnxruntime", "tokenizers"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The examples file's contents and the export that embeds them: Rasa's training
        cache does not see either change on its own."""
        export = export_fingerprint(model_dir_of(config))
        try:
            examples = _examples_path(config).read_bytes()
        except OSError:
            return None  # train() says what is missing
        if export is None:
            return None
        return hashlib.sha256(examples + export.encode()).hexdigest()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: np.ndarray | None = None,
        bias: float = 0.0,
    ) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.weights = weights
        self.bias = bias

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IncidentDetector:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> IncidentDetector:
        try:
            with (
                model_storage.read_from(resource) as directory,
                np.load(Path(directory) / _FILE) as saved,
            ):
                weights, bias = saved["weights"], float(saved["bias"])
        except (ValueError, FileNotFoundError, KeyError) as exc:
            # a model trained without the detector's weights: no incident is ever flagged
            logger.warning("incident detector not trained (%s): it adds nothing", exc)
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, weights, bias)

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        positives, near_misses = load_examples(_examples_path(self.config))
        model_dir = model_dir_of(self.config)
        if not (model_dir / "manifest.json").exists():
            raise InvalidConfigException(
                f"ONNX embedding model not found in '{model_dir}'. Run `make embedder`."
            )
        encoder = _OnnxEncoder(model_dir)
        incident_texts = {_normalised(t) for t in positives}
        # every NLU training example is a negative (the featurizer embedded them already),
        # unless it is one of the incidents
        others = [
            dense.features.reshape(-1)
            for m in training_data.intent_examples
            if m.get(TEXT) and _normalised(m.get(TEXT)) not in incident_texts
            for dense in [m.get_dense_features(attribute=TEXT)[1]]
            if dense is not None
        ]
        if not others or any(v.shape != (encoder.dimension,) for v in others):
            raise InvalidConfigException(
                "the incident detector needs the NLU examples' sentence embeddings from "
                "OnnxSentenceFeaturizer alone: put it after that featurizer in bot/config.yml, "
                "with no other dense featurizer"
            )
        x = np.vstack([encoder.encode(positives), encoder.encode(near_misses), *others])
        y = np.zeros(len(x))
        y[: len(positives)] = 1
        clf = LogisticRegression(
            C=float(self.config["C"]), class_weight="balanced", max_iter=2000, random_state=42
        )
        clf.fit(x, y)
        self.weights = clf.coef_[0].astype(np.float64)
        self.bias = float(clf.intercept_[0])
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(Path(directory) / _FILE, weights=self.weights, bias=self.bias)
        return self._resource

    def probability(self, vector: np.ndarray) -> float:
        """P(incident) for one sentence embedding."""
        assert self.weights is not None
        # einsum, not `@`: see intent_classifier.py (OpenBLAS threads spin after tiny products)
        z = float(np.einsum("i,i->", vector.reshape(-1).astype(np.float64), self.weights))
        return 1.0 / (1.0 + float(np.exp(-(z + self.bias))))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if self.weights is None:
            return messages
        for message in messages:
            dense = message.get_dense_features(attribute=TEXT)[1]
            if dense is None:
                continue
            message.set(INCIDENT, round(self.probability(dense.features), 4), add_to_output=True)
        return messages


def _examples_path(config: dict[str, Any]) -> Path:
    return Path(config.get("examples") or DEFAULT_EXAMPLES)
