"""Handoff settings (``SUPPORTBOT_HANDOFF_*``): business hours, priorities, limits."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Queue priority per escalation reason (higher first; then longest wait first).
DEFAULT_PRIORITIES = {
    "sensitive_topic": 100,
    "frustration": 50,
    "repeated": 30,
    "negative_feedback": 30,
    "no_kb_answer": 20,
    "low_confidence": 20,
    "requested": 10,
}


class HandoffSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SUPPORTBOT_HANDOFF_", env_file=".env", extra="ignore"
    )

    # When people answer: "mon-fri 08:00-20:00; sat-sun 09:00-17:00" in `timezone`.
    business_hours: str = "mon-fri 08:00-20:00; sat-sun 09:00-17:00"
    timezone: str = "America/Denver"
    # An agent counts as online if their console or API was active this recently.
    agent_online_window_s: int = Field(300, ge=10)
    # Expected wait = moving average of the last N queue waits (default before any data).
    wait_average_window: int = Field(20, ge=1)
    default_wait_s: int = Field(180, ge=0)
    priorities: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    max_message_chars: int = Field(2000, ge=1)
    # Rate limits (per app worker): messages per minute per conversation and per client IP.
    rate_per_conversation: int = Field(30, ge=1)
    rate_per_ip: int = Field(120, ge=1)
    conversations_per_ip_per_hour: int = Field(60, ge=1)
    login_attempts_per_minute: int = Field(10, ge=1)
    agent_token_ttl_hours: int = Field(12, ge=1)
    # A conversation the bot answered ends as resolved_by_bot after this long without a word.
    bot_idle_minutes: int = Field(30, ge=1)
    # How often the background sweep runs: messages the bot has not answered yet (bot down,
    # process died) are finished, quiet bot conversations ended (handoff/idle.py).
    sweep_every_s: float = Field(30.0, gt=0, le=3600)
    # Past agent replies are suggested when their customer message is at least this similar.
    past_reply_min_similarity: float = Field(0.5, ge=-1, le=1)

    @field_validator("business_hours")
    @classmethod
    def _valid_hours(cls, value: str) -> str:
        from handoff.hours import parse_hours

        parse_hours(value)  # raises ValueError naming the bad part
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like America/Denver)"
            ) from exc
        return value
