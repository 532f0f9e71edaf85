"""Documented overrides of Rasa 3.6, loaded with the bot's components: the action-response
check below, and the event-class lookup (bot/rasa_event_types.py).

``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result, spec)`` on every
custom-action response. ``validate`` re-checks the *schema* against the draft 2020-12
metaschema each time before checking the response: about 21 ms of CPU per action call with
jsonschema 4.17 (Rasa 3.6 allows >=3.2,<4.18), most of the Rasa server's CPU on a
knowledge-base turn. Even with the schema checked once, the response check itself costs
2-3 ms: each event is tried against all 23 event schemas of a ``oneOf``.

The override answers the same question in about 0.2 ms. Every event schema of that ``oneOf``
pins a different ``event`` name (``const``) and the enclosing schema requires ``event``, so an
event matches exactly one of them if and only if it matches the one named by its ``event``:
the response is checked without the ``oneOf``, then each event against its own schema, with
validators built once. A response that fails goes through Rasa's full check (schema checked
once), which raises the error Rasa raises, with the same message.
``tests/bot/test_rasa_patches.py`` pins the verdicts (hand-picked and 600 generated
responses), the errors, and that the patch is in place once the bot's components are imported.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

from bot import rasa_event_types


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)  # once, as jsonschema.validate does on every call
    return cls(spec)


@lru_cache(maxsize=1)
def _dispatching_validators() -> tuple[Any, dict[str, Any]]:
    """The response schema without the events' ``oneOf``, and one validator per event name."""
    spec = copy.deepcopy(RemoteAction.action_response_format_spec())
    cls = validators.validator_for(spec)
    event_schema = spec["properties"]["events"]["items"]
    assert "event" in event_schema["required"]
    by_name = {}
    for schema in event_schema.pop("oneOf"):
        name = schema["properties"]["event"]["const"]
        assert name not in by_name, f"two event schemas for {name!r}"
        by_name[name] = cls(schema)
    return cls(spec), by_name


def is_valid_response(result: Any) -> bool:
    """Rasa's verdict on an action server response, without trying every event schema."""
    response_validator, by_name = _dispatching_validators()
    if not response_validator.is_valid(result):
        return False
    for event in result.get("events") or []:
        validator = by_name.get(event["event"])
        if validator is None or not validator.is_valid(event):
            return False
    return True


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if is_valid_response(result):
        return True
    # jsonschema.validate without the per-call schema check: raise the best-matching error.
    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


# Rasa's own method, kept for the equivalence test.
original_validate_action_result = RemoteAction.__dict__["_validate_action_result"]


def apply() -> None:
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    rasa_event_types.apply()


apply()
