"""Action server settings, read from the environment on first use (never at import)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseSettings, Field  # Rasa 3.6 pins pydantic 1


class ActionSettings(BaseSettings):
    """``SUPPORTBOT_*`` environment variables shared with the app (see .env.example)."""

    app_url: str = "http://127.0.0.1:8000"
    # Bearer token the app expects on service-to-service calls (escalations).
    service_token: str = "dev-service-token"
    http_timeout_s: float = Field(5.0, gt=0)
    # The escalation policy's thresholds live in bot/policy.yml (bot/actions/policy.py).
    # Number of passages requested from the knowledge base per question.
    kb_results: int = Field(3, ge=1, le=10)

    class Config:
        env_prefix = "SUPPORTBOT_"
        env_file = ".env"


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    return ActionSettings()
