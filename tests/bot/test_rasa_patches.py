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


# A realistic response of our action server, then random damage: the dispatching check and
# Rasa's validator must agree on every one (the dispatching one decides valid responses alone).
REALISTIC = {
    "events": [
        {"event": "slot", "name": "kb_articles_tried", "timestamp": None,
         "value": [{"slug": "return-policy", "score": 0.61, "shown": True}]},
        {"event": "slot", "name": "unclear_in_row", "value": 0.0, "timestamp": None},
        {"event": "followup", "name": "action_handoff", "timestamp": None},
        {"event": "pause", "timestamp": None},
        {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet",
         "confidence": 0.9}, "entities": [{"entity": "email", "value": "a@b.c", "start": 0,
         "end": 5}]}},
        {"event": "action", "name": "action_listen", "policy": None, "confidence": None},
        {"event": "bot", "text": "hello", "data": {"buttons": []}},
    ],
    "responses": [
        {"text": "An answer", "buttons": [{"title": "Yes", "payload": "/affirm"}],
         "custom": {"articles": [{"slug": "return-policy"}]}, "image": None,
         "attachment": None, "elements": [], "quick_replies": [], "response": None},
    ],
}  # fmt: skip
JUNK = [None, 1, 1.5, "x", True, [], {}, [1], {"event": 3}, {"name": "n"}, {"event": "slot"},
        {"event": "no_such_event"}, {"event": "followup"}]


def _nodes(value, path=()):  # noqa: ANN001, ANN202
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _nodes(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _nodes(child, (*path, i))


def _damaged(rng):  # noqa: ANN001, ANN202
    import copy

    result = copy.deepcopy(REALISTIC)
    for _ in range(rng.randint(1, 3)):
        path, _value = rng.choice([n for n in _nodes(result) if n[0]])
        parent = result
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(JUNK))
    return result


def test_the_dispatching_check_agrees_with_rasas_validator():
    import random

    rng = random.Random(3)
    verdicts = {True: 0, False: 0}
    for _ in range(600):
        result = _damaged(rng)
        # Rasa's verdict (jsonschema.validate, without its per-call schema check)
        expected = rasa_patches._response_validator().is_valid(result)
        assert rasa_patches.is_valid_response(result) == expected, result
        verdicts[expected] += 1
    assert rasa_patches.original_validate_action_result(ACTION, REALISTIC) is True
    assert min(verdicts.values()) > 50  # both kinds were generated


def test_every_event_name_resolves_to_the_class_rasa_finds():
    from rasa.shared.core.events import ActionExecuted, Event, UserUttered
    from rasa.shared.utils.common import all_subclasses

    from bot import rasa_event_types

    assert Event.resolve_by_type is rasa_event_types.resolve_by_type  # in place
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in sorted(names):
        assert Event.resolve_by_type(name) is rasa_event_types.original_resolve_by_type(name)
    assert Event.resolve_by_type("user") is UserUttered
    # what Rasa does with names it does not know: the default, None for "topic", or its error
    assert Event.resolve_by_type("no-such-event", ActionExecuted) is ActionExecuted
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name 'no-such-event'"):
        Event.resolve_by_type("no-such-event")
    # a stored event comes back as the same object either way
    stored = {"event": "action", "name": "action_listen", "timestamp": 1.0}
    assert Event.from_parameters(stored) == ActionExecuted("action_listen", timestamp=1.0)


def test_an_event_class_imported_after_the_first_lookup_is_found():
    from rasa.shared.core.events import Event

    Event.resolve_by_type("user")  # the table is built

    class LateEvent(Event):  # noqa: B903 - a minimal concrete event
        type_name = "late_event_for_test"

        def __eq__(self, other):  # noqa: ANN001
            return isinstance(other, LateEvent)

        def __hash__(self):
            return 1

        def as_story_string(self):
            return None

    assert Event.resolve_by_type("late_event_for_test") is LateEvent
