"""The intent classifier's inference shortcut (bot/components/intent_classifier.py): the same
intents, rankings and clause intents as scikit-learn's ``predict_proba`` on Rasa's matrix."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack
from scipy.sparse import random as sparse_random

from bot.components.intent_classifier import EmbeddingIntentClassifier
from bot.components.sentences import INTENTS, PARTS

N_SPARSE, N_DENSE = 300, 384
INTENT_NAMES = [f"intent_{i}" for i in range(6)]


def _features(rng: np.random.Generator, nnz: int) -> tuple[coo_matrix, np.ndarray]:
    sparse = sparse_random(1, N_SPARSE, density=nnz / N_SPARSE, random_state=rng, format="coo")
    dense = rng.normal(size=(1, N_DENSE)).astype(np.float32)
    return sparse, dense / np.linalg.norm(dense)


def _message(text: str, sparse: coo_matrix, dense: np.ndarray) -> Message:
    message = Message(data={TEXT: text})
    message.add_features(Features(sparse, "sentence", TEXT, "tfidf"))
    message.add_features(Features(dense, "sentence", TEXT, "onnx"))
    return message


@pytest.fixture(scope="module")
def trained(tmp_path_factory):  # noqa: ANN201
    rng = np.random.default_rng(3)
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    component = EmbeddingIntentClassifier.create(
        EmbeddingIntentClassifier.get_default_config(),
        storage,
        Resource("classifier"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    rows, labels = [], []
    for i in range(240):
        sparse, dense = _features(rng, 20)
        dense[0, i % len(INTENT_NAMES)] += 2.0  # something to learn
        rows.append(hstack([csr_matrix(sparse), csr_matrix(dense)]).tocsr())
        labels.append(INTENT_NAMES[i % len(INTENT_NAMES)])
    component.clf.fit(vstack(rows), labels)
    return component, rng


def test_probabilities_match_predict_proba(trained):
    component, rng = trained
    pairs = [_features(rng, nnz) for nnz in (0, 1, 15, 60)]
    ours = component.probabilities(pairs)
    matrix = np.vstack(
        [hstack([csr_matrix(s), csr_matrix(d)]).toarray() for s, d in pairs]
    )  # fmt: skip
    sklearn = component.clf.predict_proba(matrix)
    assert ours.shape == sklearn.shape == (4, len(INTENT_NAMES))
    assert np.abs(ours - sklearn).max() < 1e-9
    assert np.allclose(ours.sum(axis=1), 1.0)


def test_process_sets_what_rasas_classifier_sets(trained):
    component, rng = trained
    texts = ["where is my order", "refund pls", "hi"]
    features = [_features(rng, 12) for _ in texts]
    ours = [_message(t, *f) for t, f in zip(texts, features)]
    rasas = [_message(t, *f) for t, f in zip(texts, features)]
    component.process(ours)
    LogisticRegressionClassifier.process(component, rasas)
    for a, b in zip(ours, rasas):
        assert a.get("intent")["name"] == b.get("intent")["name"]
        assert abs(a.get("intent")["confidence"] - b.get("intent")["confidence"]) < 1e-9
        assert [r["name"] for r in a.get("intent_ranking")] == [
            r["name"] for r in b.get("intent_ranking")
        ]
        assert len(a.get("intent_ranking")) == len(b.get("intent_ranking"))


def test_clause_intents_match_predict_proba(trained):
    component, rng = trained
    parts = []
    for text in ("my order is late", "and I want a person"):
        sparse, dense = _features(rng, 10)
        parts.append({"text": text, "sparse": sparse, "dense": dense[0]})
    message = _message("my order is late and I want a person", *_features(rng, 12))
    message.set(PARTS, parts)
    component.process([message])
    matrix = np.vstack(
        [hstack([csr_matrix(p["sparse"]), csr_matrix(p["dense"].reshape(1, -1))]).toarray()
         for p in parts]
    )  # fmt: skip
    expected = component.clf.predict_proba(matrix)
    labelled = message.get(INTENTS)
    assert [c["text"] for c in labelled] == ["my order is late", "and I want a person"]
    for clause, proba in zip(labelled, expected):
        best = int(np.argmax(proba))
        assert clause["intent"] == component.clf.classes_[best]
        assert clause["confidence"] == round(float(proba[best]), 4)
