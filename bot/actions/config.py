"""Action server settings, read from the environment on first use (never at import)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseSettings, Field, root_validator  # Rasa 3.6 pins pydantic 1

DEV_SECRETS = {"dev-service-token", "dev-actions-token"}


class ActionSettings(BaseSettings):
    """``SUPPORTBOT_*`` environment variables shared with the app (see .env.example)."""

    environment: str = "local"
    app_url: str = "http://127.0.0.1:8000"
    # Bearer token the app expects on service-to-service calls (escalations).
    service_token: str = "dev-service-token"
    # Bearer token Rasa presents to the action server (bot/endpoints.yml headers).
    actions_token: str = "dev-actions-token"
    # Loopback by default: only Rasa on this machine calls the action server.
    actions_host: str = "127.0.0.1"
    http_timeout_s: float = Field(5.0, gt=0)
    # The escalation policy's thresholds live in bot/policy.yml (bot/actions/policy.py).
    # Number of passages requested from the knowledge base per question.
    kb_results: int = Field(3, ge=1, le=10)

    class Config:
        env_prefix = "SUPPORTBOT_"
        env_file = ".env"

    @root_validator(skip_on_failure=True)
    def _no_default_secrets(cls, values: dict) -> dict:  # noqa: N805
        if values.get("environment") in ("staging", "production"):
            weak = [
                f"SUPPORTBOT_{name.upper()}"
                for name in ("service_token", "actions_token")
                if values.get(name, "") in DEV_SECRETS or len(values.get(name, "")) < 16
            ]
            if weak:
                raise ValueError(
                    f"set strong values for {', '.join(weak)} in {values['environment']} "
                    "(at least 16 characters, not the dev defaults)"
                )
        if not values.get("actions_token"):
            raise ValueError("SUPPORTBOT_ACTIONS_TOKEN must not be empty")
        return values


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    return ActionSettings()
