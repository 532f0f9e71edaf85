"""Logistic-regression intent classifier over sentence embeddings, with tunable regularisation.

Rasa's built-in LogisticRegressionClassifier fixes C=1.0, which on unit-length sentence
embeddings over-regularises: confidences come out flat and the fallback threshold can no
longer separate in-scope from out-of-scope messages. This subclass exposes ``C``.

At inference it computes the same probabilities without building a sparse matrix per message
and going through scikit-learn's input checks: the model is multinomial, so the
probabilities are the softmax of ``[sparse | dense] @ coef_.T + intercept_``, here the sparse
(character n-gram) part times its block of ``coef_`` plus the dense (embedding) part times
its block. Rasa's way (``hstack``/``vstack`` of the two, ``predict_proba``) took about a tenth
of the Rasa server's time on a message (py-spy, `make bench-chat`); the probabilities agree to
1e-9 (tests/bot/test_intent_classifier.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import RANKING_LENGTH
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

    def _blocks(self, n_sparse: int) -> tuple[np.ndarray, np.ndarray] | None:
        """``coef_.T`` split into its sparse rows and its dense rows (None if the model is not
        the multinomial one this shortcut computes)."""
        coef = getattr(self.clf, "coef_", None)
        if coef is None or len(self.clf.classes_) <= 2 or self.clf.solver == "liblinear":
            return None
        if self.clf.multi_class not in ("auto", "multinomial"):
            return None
        cached = getattr(self, "_cached_blocks", None)
        if cached is None or cached[0] is not coef or cached[1] != n_sparse:
            weights = coef.T
            blocks = (
                np.ascontiguousarray(weights[:n_sparse]),
                np.ascontiguousarray(weights[n_sparse:]),
            )
            self._cached_blocks = cached = (coef, n_sparse, blocks)
        return cached[2]

    def probabilities(self, rows: list[tuple[Any, np.ndarray]]) -> np.ndarray:
        """Intent probabilities (columns in ``clf.classes_`` order) of (sparse row or None,
        dense row) pairs: the softmax of the decision function, as ``predict_proba``."""
        n_sparse = next((s.shape[1] for s, _ in rows if s is not None), 0)
        dense_width = rows[0][1].shape[-1] if rows else 0
        blocks = self._blocks(n_sparse)
        if blocks is None or n_sparse + dense_width != self.clf.coef_.shape[1]:
            return self.clf.predict_proba(
                vstack([hstack([csr_matrix(s if s is not None else []),
                                csr_matrix(d.reshape(1, -1))]) for s, d in rows])
            )  # fmt: skip
        sparse_w, dense_w = blocks
        dense = np.vstack([d.reshape(1, -1) for _, d in rows])
        # einsum, not `@`: a matrix product goes to OpenBLAS, whose threads then spin-wait
        # after each tiny product (the Rasa server's CPU per turn doubled); einsum's own loop
        # takes microseconds here
        decision = np.einsum("ij,jk->ik", dense.astype(np.float64), dense_w)
        decision += self.clf.intercept_
        for i, (s, _) in enumerate(rows):
            if s is not None and s.nnz:
                coo = s.tocoo()  # one row: its columns and values
                decision[i] += np.einsum("i,ij->j", coo.data, sparse_w[coo.col])
        decision -= decision.max(axis=1, keepdims=True)
        np.exp(decision, out=decision)
        decision /= decision.sum(axis=1, keepdims=True)
        return decision

    def _rows(self, messages: list[Message]) -> list[tuple[Any, np.ndarray]] | None:
        rows = []
        for message in messages:
            sparse = message.get_sparse_features(attribute=TEXT)[1]
            dense = message.get_dense_features(attribute=TEXT)[1]
            if dense is None:
                return None  # no embedding: Rasa's own path
            rows.append((sparse.features if sparse is not None else None, dense.features))
        return rows

    def process(self, messages: list[Message]) -> list[Message]:
        """The message's intent, and (for long messages) each clause's intent."""
        rows = self._rows(messages)
        if rows is None:
            messages = super().process(messages)
        else:
            probas = self.probabilities(rows) if rows else []
            intents = self.clf.classes_
            for message, proba in zip(messages, probas):
                # as LogisticRegressionClassifier.process sets them
                ranking = sorted(
                    ({"name": k, "confidence": v} for k, v in zip(intents, proba)),
                    key=lambda e: -e["confidence"],
                )
                message.set("intent", ranking[0], add_to_output=True)
                if self.config[RANKING_LENGTH] > 0:
                    ranking = ranking[: self.config[RANKING_LENGTH]]
                message.set("intent_ranking", ranking, add_to_output=True)
        for message in messages:
            parts = message.get(PARTS) or []
            if not parts or not all("sparse" in p for p in parts):
                continue
            probas = self.probabilities([(p["sparse"], p["dense"]) for p in parts])
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
