"""Logistic-regression intent classifier over sentence embeddings, with tunable regularisation.

Rasa's built-in LogisticRegressionClassifier fixes C=1.0, which on unit-length sentence
embeddings over-regularises: confidences come out flat and the fallback threshold can no
longer separate in-scope from out-of-scope messages. This subclass only exposes ``C``.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.exceptions import InvalidConfigException


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

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        super().validate_config(config)
        if float(config.get("C", 1.0)) <= 0:
            raise InvalidConfigException("C must be > 0")
