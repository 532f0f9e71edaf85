"""Request bodies of the agent API and of the action server's escalation call."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from handoff.models import REASONS

MAX_CONTEXT_ITEMS = 50


class EscalationIn(BaseModel):
    """What the action server sends: the reason and what the bot understood."""

    conversation_id: str = Field(max_length=64)
    reason: Literal[REASONS]  # type: ignore[valid-type]
    intent: str | None = None
    topic_intent: str | None = None
    last_message: str | None = Field(None, max_length=4000)
    nlu_history: list[dict[str, Any]] = Field(default_factory=list)
    articles_tried: list[dict[str, Any]] = Field(default_factory=list)
    entities: dict[str, Any] = Field(default_factory=dict)

    @field_validator("nlu_history", "articles_tried")
    @classmethod
    def _keep_latest(cls, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Long conversations must still reach a person: keep the most recent context.
        return items[-MAX_CONTEXT_ITEMS:]


class SuggestionRef(BaseModel):
    source: Literal["kb", "past_reply"]
    ref: str = Field(max_length=120)
    action: Literal["used", "edited", "ignored"]


class AgentMessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    internal: bool = False
    suggestion: SuggestionRef | None = None


class ReleaseIn(BaseModel):
    to_agent_id: int | None = Field(None, ge=1, le=2**63 - 1)
