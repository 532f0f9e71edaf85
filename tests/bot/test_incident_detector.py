"""The incident detector (bot/components/incident_detector.py): learned from its examples
file beside the NLU examples, stored with the model, and added to the parse."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.incident_detector import (
    DEFAULT_EXAMPLES,
    INCIDENT,
    IncidentDetector,
    load_examples,
)
from bot.components.onnx_featurizer import (
    OnnxSentenceFeaturizer,
    _default_model_dir,
    _OnnxEncoder,
)

INCIDENTS = [
    "my son burned his hand on your camp stove",
    "the shelf in your store fell on my mother, she is in the hospital",
    "I'm talking to my lawyer about this",
    "your security guard searched my bag in front of everyone and called me a thief",
    "someone keeps calling the store pretending to be me to get my address",
    "your email showed me another customer's name and home address",
]
NEAR_MISSES = [
    "the tent pole snapped, is that covered by warranty",
    "is this stove safe to use in a tent",
    "how do I delete my personal data",
    "can you ship my order to the hospital where I work",
]
NLU = [
    "where is my order",
    "I want a refund for my boots",
    "do you price match",
    "what are your store hours",
    "how do I change my password",
    "this is ridiculous, my parcel is late again",
]


@pytest.fixture(scope="module")
def encoder() -> _OnnxEncoder:
    if not (_default_model_dir() / "model.onnx").exists():
        pytest.fail("needs the exported model: run `make embedder`")
    return _OnnxEncoder(_default_model_dir())


def _featurized(encoder: _OnnxEncoder, text: str) -> Message:
    """A message as the featurizer leaves it: with its sentence vector."""
    message = Message(data={"text": text})
    vector = encoder.encode([text])
    message.add_features(Features(vector, "sentence", "text", "test"))
    return message


def _config(tmp_path, positives=INCIDENTS, negatives=NEAR_MISSES) -> dict:  # noqa: ANN001
    lines = ["incident:", *(f'  - "{t}"' for t in positives)]
    lines += ["not_incident:", *(f'  - "{t}"' for t in negatives)]
    path = tmp_path / "incidents.yml"
    path.write_text("\n".join(lines) + "\n")
    return {**IncidentDetector.get_default_config(), "examples": str(path)}


def _served(tmp_path, encoder, config) -> IncidentDetector:  # noqa: ANN001
    (tmp_path / "model").mkdir()
    storage = LocalModelStorage(tmp_path / "model")
    resource = Resource("incident")
    context = ExecutionContext(GraphSchema({}), "test")
    component = IncidentDetector.create(config, storage, resource, context)
    intent_examples = []
    for text in NLU:
        message = _featurized(encoder, text)
        message.set("intent", "some_intent")
        intent_examples.append(message)
    component.train(TrainingData(intent_examples))
    return IncidentDetector.load(config, storage, resource, context)  # as served


def test_incidents_score_above_near_misses_and_ordinary_questions(tmp_path, encoder):
    detector = _served(tmp_path, encoder, _config(tmp_path))
    unseen_incident = _featurized(encoder, "my daughter got a bad burn from the stove you sold us")
    unseen_near_miss = _featurized(encoder, "the stove's igniter broke, is it under warranty")
    unseen_question = _featurized(encoder, "when does my refund arrive")
    detector.process([unseen_incident, unseen_near_miss, unseen_question])
    assert unseen_incident.get(INCIDENT) > 0.5 > unseen_question.get(INCIDENT)
    assert unseen_incident.get(INCIDENT) > unseen_near_miss.get(INCIDENT)
    assert INCIDENT in unseen_incident.as_dict(only_output_properties=True)


def test_training_without_the_featurizers_embeddings_is_a_clear_error(tmp_path):
    (tmp_path / "model").mkdir()
    storage = LocalModelStorage(tmp_path / "model")
    context = ExecutionContext(GraphSchema({}), "test")
    detector = IncidentDetector.create(_config(tmp_path), storage, Resource("i"), context)
    bare = Message(data={"text": "where is my order", "intent": "order_tracking"})
    with pytest.raises(InvalidConfigException, match="after that featurizer"):
        detector.train(TrainingData([bare]))


def test_an_untrained_detector_adds_nothing(tmp_path, encoder):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    config = IncidentDetector.get_default_config()
    detector = IncidentDetector.load(config, storage, Resource("never-trained"), context)
    message = _featurized(encoder, "my son burned his hand on your stove")
    detector.process([message])
    assert message.get(INCIDENT) is None


@pytest.mark.parametrize(
    "content, error",
    [
        ("incident:\n  - a\n", "exactly the keys"),
        ("incident:\n  - a\nnot_incident: []\n", "both lists"),
        ("incident:\n  - a\nnot_incident:\n  - 3\n", "every example is a text"),
        ("incident: [a\n", "incidents.yml"),
    ],
)
def test_a_malformed_examples_file_is_a_clear_error(tmp_path, content, error):
    path = tmp_path / "incidents.yml"
    path.write_text(content)
    with pytest.raises(InvalidConfigException, match=error):
        load_examples(path)


def test_the_fingerprint_follows_the_examples_and_the_export(tmp_path):
    config = _config(tmp_path)
    before = IncidentDetector.fingerprint_addon(config)
    assert before is not None
    config_more = _config(tmp_path, positives=[*INCIDENTS, "a lawyer will call you"])
    assert IncidentDetector.fingerprint_addon(config_more) != before
    # another export of the same tuned model (float instead of int8 weights) embeds
    # differently: the detector and the featurizer are both retrained
    export = tmp_path / "export"
    export.mkdir()
    manifest = (_default_model_dir() / "manifest.json").read_text()
    (export / "manifest.json").write_text(manifest)
    fingerprint = IncidentDetector.fingerprint_addon
    same = {**config_more, "model_dir": str(export)}
    assert fingerprint(same) == fingerprint(config_more)
    (export / "manifest.json").write_text(manifest.replace('"int8', '"float32'))
    assert fingerprint(same) != fingerprint(config_more)
    featurized = OnnxSentenceFeaturizer.fingerprint_addon({"model_dir": str(export)})
    assert featurized != OnnxSentenceFeaturizer.fingerprint_addon({})


def test_the_repository_examples_file_is_well_formed():
    positives, negatives = load_examples(DEFAULT_EXAMPLES)
    assert len(positives) >= 150 and len(negatives) >= 100
