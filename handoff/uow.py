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
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def emit(self, channel: str, event: dict[str, Any]) -> None:
        """Queues a live event; it is sent only if the transaction commits."""
        self.events.append((channel, event))


@contextmanager
def unit_of_work(sessions: sessionmaker[Session], bus: EventBus) -> Iterator[UnitOfWork]:
    """The one place handoff work commits; subscribers never see uncommitted state."""
    session = sessions()
    uow = UnitOfWork(session)
    try:
        yield uow
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    for channel, event in uow.events:
        try:
            bus.publish(channel, event)
        except Exception:  # the write committed; a lost live event is recovered on reload
            logger.exception("could not publish %s event on %s", event.get("type"), channel)
