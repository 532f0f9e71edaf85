"""The known-words component (bot/components/known_words.py): the share of a message's words
seen in training, stored with the model and added to the parse."""

from __future__ import annotations

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.known_words import KNOWN, KnownWords, known_share, message_words

TRAIN = ["where is my order", "I want a refund for my boots", "it's not what I asked"]


def _served(tmp_path) -> KnownWords:  # noqa: ANN001
    storage = LocalModelStorage(tmp_path)
    resource = Resource("known")
    context = ExecutionContext(GraphSchema({}), "test")
    component = KnownWords.create({}, storage, resource, context)
    component.train(TrainingData([Message(data={"text": t}) for t in TRAIN]))
    return KnownWords.load({}, storage, resource, context)  # as served: from the stored list


def test_words_are_letters_only_and_split_at_apostrophes():
    assert message_words("C'est NP-1234567, ok?? Ünï") == ["c", "est", "np", "ok", "ünï"]


def test_the_share_of_known_words_is_stored_with_the_model_and_added_to_the_parse(tmp_path):
    component = _served(tmp_path)
    messages = [
        Message(data={"text": "where is my refund"}),
        Message(data={"text": "wo ist meine bestellung"}),
        Message(data={"text": "where is my parcel"}),
        Message(data={"text": "NP-1234567 🙂"}),
    ]
    component.process(messages)
    shares = [m.get(KNOWN) for m in messages]
    assert shares == [1.0, 0.0, 0.75, 0.0]  # "np" is not a training word
    assert KNOWN in messages[0].as_dict(only_output_properties=True)


def test_a_message_without_words_is_not_another_language():
    assert known_share("123 🙂 ???", {"order"}) == 1.0


def test_an_untrained_component_adds_nothing(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    component = KnownWords.load({}, storage, Resource("never-trained"), context)
    message = Message(data={"text": "hello"})
    component.process([message])
    assert message.get(KNOWN) is None
