"""The character TF-IDF featurizer's own transform (bot/components/char_tfidf_featurizer.py)
gives what scikit-learn's ``TfidfVectorizer.transform`` gives (to 1e-12)."""

from __future__ import annotations

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.char_tfidf_featurizer import CharTfidfFeaturizer

TRAIN = [
    "where is my order", "wheres my order??", "I want a refund", "refund pls",
    "how do I return boots", "can I return a used tent", "my card was charged twice",
    "talk to a person", "TRACKING number not working", "is shipping free to Canada",
    "reset my password", "the jacket arrived torn", "Thanks!", "hi there", "ok",
]  # fmt: skip
TEXTS = [
    "where is my order NP-1234567",
    "  refund   pls\\nnow  ",
    "Ünïcödé café – naïve",
    "zzzz qqqq",  # nothing in the vocabulary
    "",
    "a",
    "how do i return boots i only wore inside, tags still on, bought 3 weeks ago?",
]


def _trained(tmp_path) -> CharTfidfFeaturizer:  # noqa: ANN001
    storage = LocalModelStorage(tmp_path)
    resource = Resource("tfidf")
    context = ExecutionContext(GraphSchema({}), "test")
    config = CharTfidfFeaturizer.get_default_config()
    component = CharTfidfFeaturizer.create(config, storage, resource, context)
    component.train(TrainingData([Message(data={"text": t}) for t in TRAIN]))
    # as served: loaded back from the stored vocabulary and IDF weights
    return CharTfidfFeaturizer.load(config, storage, resource, context)


def test_transform_equals_scikit_learns(tmp_path):
    component = _trained(tmp_path)
    ours = component.transform(TEXTS)
    sklearn = component.vectorizer.transform(TEXTS).tocsr()
    sklearn.sort_indices()
    assert ours.shape == sklearn.shape and ours.dtype == sklearn.dtype == np.float64
    assert np.array_equal(ours.indptr, sklearn.indptr)
    assert np.array_equal(ours.indices, sklearn.indices)
    # the same to the last bit or two (scikit-learn's compiled norm may round differently)
    assert np.abs(ours.data - sklearn.data).max() < 1e-12
    assert ours[0].nnz > 10 and ours[3].nnz == 0 and ours[4].nnz == 0
    assert np.isclose(np.linalg.norm(ours[0].toarray()), 1.0, atol=1e-6)
    assert component.transform([]).shape == (0, sklearn.shape[1])
