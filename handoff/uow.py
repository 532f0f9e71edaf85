"""Unit of work: one transaction plus the live events it produced, published after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from handoff.events import EventBus

logger = logging.getLogger("supportbot.events")


@dataclass
class UnitOfWork:
    session: Session
    bus: EventBus | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def emit(self, channel: str, event: dict[str, Any]) -> None:
        """Queues a live event; it is sent only if the transaction commits."""
        self.events.append((channel, event))

    def commit(self) -> None:
        """Commits now and publishes what was emitted so far; for work that must not hold
        the transaction (and its locks) across slow I/O, such as a call to Rasa. The unit
        of work stays usable and commits again when it ends."""
        self.session.commit()
        self.publish()

    def publish(self) -> None:
        events, self.events = self.events, []
        if self.bus is None:
            return
        for channel, event in events:
            try:
                self.bus.publish(channel, event)
            except Exception:  # the write committed; a lost live event is recovered on reload
                logger.exception("could not publish %s event on %s", event.get("type"), channel)


@contextmanager
def unit_of_work(sessions: sessionmaker[Session], bus: EventBus) -> Iterator[UnitOfWork]:
    """The one place handoff work commits; subscribers never see uncommitted state."""
    session = sessions()
    uow = UnitOfWork(session, bus)
    try:
        yield uow
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    uow.publish()
