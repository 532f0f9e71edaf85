"""The action server's settings refuse the dev tokens outside local runs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.actions.config import ActionSettings

STRONG = "s3cret-token-with-length"


def test_local_runs_take_the_dev_defaults():
    settings = ActionSettings(environment="local")
    assert settings.actions_token == "dev-actions-token"
    assert settings.actions_host == "127.0.0.1"


@pytest.mark.parametrize("weak", ["dev-actions-token", "short"])
def test_production_refuses_a_weak_actions_token(weak):
    with pytest.raises(ValidationError, match="SUPPORTBOT_ACTIONS_TOKEN"):
        ActionSettings(environment="production", service_token=STRONG, actions_token=weak)


def test_production_refuses_the_dev_service_token():
    with pytest.raises(ValidationError, match="SUPPORTBOT_SERVICE_TOKEN"):
        ActionSettings(environment="production", actions_token=STRONG)


def test_production_with_strong_tokens_starts_and_an_empty_token_never_does():
    ActionSettings(environment="production", service_token=STRONG, actions_token=STRONG + "2")
    with pytest.raises(ValidationError, match="must not be empty"):
        ActionSettings(environment="local", actions_token="")
