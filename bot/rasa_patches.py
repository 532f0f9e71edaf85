"""One documented override of Rasa 3.6, loaded with the bot's components.

``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result, spec)`` on every
custom-action response. ``validate`` re-checks the *schema* against the draft 2020-12
metaschema each time before checking the response: about 21 ms of CPU per action call with
jsonschema 4.17 (Rasa 3.6 allows >=3.2,<4.18), most of the Rasa server's CPU on a
knowledge-base turn. The override checks the same response against the same schema with a
validator built once (the schema is a constant): about 0.3 ms, the same errors raised with
the same message. ``tests/bot/test_rasa_patches.py`` pins both (same verdicts, same errors)
and that the patch is in place once the bot's components are imported.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)  # once, as jsonschema.validate does on every call
    return cls(spec)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
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


apply()
