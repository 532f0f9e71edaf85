"""The one Rasa override (bot/rasa_patches.py): in place once the bot's components load, and
the same verdicts and errors as Rasa's own method."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import bot.components  # noqa: F401 - what Rasa imports when it loads the model
from bot import rasa_patches

ACTION = RemoteAction("action_answer_from_kb", None)

VALID = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "kb_articles_tried", "value": ["a"]}],
        "responses": [{"text": "hi", "buttons": [{"title": "Yes", "payload": "/affirm"}]}],
    },
    {"responses": [{"custom": {"articles": [{"slug": "return-policy"}]}}]},
]
INVALID = [
    {"events": [{"name": "no event key"}], "responses": []},
    {"events": "not a list"},
    {"events": [], "responses": ["not an object"]},
]


def test_the_components_package_installs_the_override():
    assert RemoteAction._validate_action_result is rasa_patches._validate_action_result


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass_both(result):
    assert rasa_patches.original_validate_action_result(ACTION, result) is True
    assert ACTION._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_raise_the_same_error(result):
    with pytest.raises(ValidationError) as original:
        rasa_patches.original_validate_action_result(ACTION, result)
    with pytest.raises(ValidationError) as patched:
        ACTION._validate_action_result(result)
    assert patched.value.message == original.value.message
    assert list(patched.value.path) == list(original.value.path)
    assert "Failed to validate Action server response" in patched.value.message
