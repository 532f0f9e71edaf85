"""How much of a message is in the bot's language: the share of its words seen in training.

The bot speaks English and its NLU was trained on English only. A message in another
language ("bonjour, c'est pour le... comment dire", "ja genau das") still gets an intent, often
out_of_scope at a middling confidence, and the bot would answer "not something I can help
with here" to someone who only needs to be understood. This component learns the words of the
training examples and adds ``known_words`` to each parse: the share (0-1) of the message's
words among them. The turn policy reads a message of a few words that are mostly unknown as
not understood (bot/actions/policy.py, ``foreign``). Typos lower the share a little; a message
of English words keeps most of its words known ("newsleter welcome code": 2 of 3).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

KNOWN = "known_words"  # output key: share of the message's words seen in training, 0-1
_FILE = "known_words.json"
_WORD = re.compile(r"[^\W\d_]+")  # letters only: numbers and order numbers are not words


def message_words(text: str) -> list[str]:
    """The words of ``text``, lowercased; "c'est" is "c" and "est"."""
    return _WORD.findall(text.lower())


def known_share(text: str, vocabulary: frozenset[str] | set[str]) -> float:
    """Share of the words of ``text`` in ``vocabulary``; 1.0 for a message without words
    (an emoji, an order number: nothing says it is another language)."""
    words = message_words(text)
    if not words:
        return 1.0
    return sum(w in vocabulary for w in words) / len(words)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class KnownWords(GraphComponent):
    """Adds ``known_words`` (the share of the message's words seen in training) to the parse."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: frozenset[str] = frozenset(),
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KnownWords:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        words: set[str] = set()
        for message in training_data.training_examples:
            words.update(message_words(message.get(TEXT) or ""))
        self.vocabulary = frozenset(words)
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / _FILE).write_text(json.dumps(sorted(words)))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> KnownWords:
        try:
            with model_storage.read_from(resource) as directory:
                words = json.loads((Path(directory) / _FILE).read_text())
        except (ValueError, FileNotFoundError):
            return cls(model_storage, resource)  # untrained: adds nothing
        return cls(model_storage, resource, frozenset(words))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if not self.vocabulary:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if text:
                message.set(KNOWN, round(known_share(text, self.vocabulary), 4), add_to_output=True)
        return messages
