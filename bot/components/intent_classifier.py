"""Logistic-regression intent classifier over sentence embeddings, with tunable regularisation.

Rasa's built-in LogisticRegressionClassifier fixes C=1.0, which on unit-length sentence
embeddings over-regularises: confidences come out flat and the fallback threshold can no
longer separate in-scope from out-of-scope messages. This subclass only exposes ``C``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, vstack

from bot.components.sentences import INTENTS, PARTS


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EmbeddingIntentClassifier(LogisticRegressionClassifier):
    """LogisticRegressionClassifier with configurable inverse regularisation strength C."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 10.0}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))

    def process(self, messages: list[Message]) -> list[Message]:
        """The message's intent, and (for long messages) each clause's intent."""
        messages = super().process(messages)
        for message in messages:
            parts = message.get(PARTS) or []
            if not parts or not all("sparse" in p for p in parts):
                continue
            rows = [
                hstack([csr_matrix(p["sparse"]), csr_matrix(p["dense"].reshape(1, -1))])
                for p in parts
            ]
            probas = self.clf.predict_proba(vstack(rows))
            labelled = []
            for part, proba in zip(parts, probas):
                best = int(np.argmax(proba))
                labelled.append(
                    {
                        "text": part["text"],
                        "intent": str(self.clf.classes_[best]),
                        "confidence": round(float(proba[best]), 4),
                    }
                )
            message.set(INTENTS, labelled, add_to_output=True)
        return messages

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        super().validate_config(config)
        if float(config.get("C", 1.0)) <= 0:
            raise InvalidConfigException("C must be > 0")
