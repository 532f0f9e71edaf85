"""What the handoff package needs from the app around it, as protocols: the bot, the rate
limiter and the per-app state requests reach. ``api/state.py`` provides them; handoff never
imports ``api`` (tests check the app's state satisfies ``AppState``)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session, sessionmaker

from handoff.config import HandoffSettings
from handoff.events import EventBus


class BotUnavailable(Exception):
    """The bot could not be reached or failed; the customer is told, nothing is lost."""


class RateLimited(Exception):
    """Too many requests for one key; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "too many requests; wait a moment"):
        super().__init__(message)
        self.retry_after = retry_after


class Limiter(Protocol):
    def allow(self, key: str, limit: int, window_s: float = 60.0) -> tuple[bool, float]:
        """(allowed, seconds until the next slot); counts the hit only when allowed."""
        ...

    def exceeded(self, key: str, limit: int, window_s: float = 60.0) -> tuple[bool, float]:
        """(over the limit, seconds until a slot frees) without counting a hit."""
        ...


class Bot(Protocol):
    """The dialogue engine as the chat service needs it (Rasa, through api.rasa_client)."""

    async def send(
        self, *, sender: str, text: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The bot's replies as ``{text, buttons?, articles?}``; raises BotUnavailable."""
        ...

    async def resume(self, sender: str) -> None:
        """Un-pauses the bot's side of a conversation a person handed back."""
        ...

    async def restart(self, sender: str) -> None:
        """Starts a fresh bot session (nothing from before decides new turns)."""
        ...

    async def set_slot(self, sender: str, name: str, value: Any) -> None:
        """Tells the bot about something that happened in the app (a thumbs-down offer)."""
        ...


class AppSettings(Protocol):
    environment: Any
    secret_key: str
    service_token: str
    public_base_url: str


@runtime_checkable
class AppState(Protocol):
    """The per-app state handoff routes use (``request.app.state.supportbot``)."""

    settings: AppSettings
    sessions: sessionmaker[Session]
    bus: EventBus
    handoff: HandoffSettings
    limiter: Limiter
    rasa: Bot
    chat: Any  # handoff.chat.ChatService (imported lazily: chat depends on this module)
    mailer: Any  # handoff.mailer.Mailer
    search: Any  # knowledge_base.search.SearchEngine
    embedder: Any  # knowledge_base.embedder.Embedder
    reply_vectors: OrderedDict
