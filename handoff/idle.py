"""The background sweep: unanswered messages finished, quiet bot conversations ended
(answered and then silent: ``resolved_by_bot``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from handoff.chat import ChatService
from handoff.config import HandoffSettings
from handoff.conversations import ConversationService
from handoff.events import EventBus
from handoff.pending import answer_pending
from handoff.uow import unit_of_work

logger = logging.getLogger("supportbot.chat")


def close_idle(sessions: sessionmaker[Session], bus: EventBus, settings: HandoffSettings) -> int:
    """Ends the quiet answered conversations; returns how many. Safe with several app
    workers: each close is a compare-and-set on the status."""
    cutoff = datetime.now(UTC) - timedelta(minutes=settings.bot_idle_minutes)
    closed = 0
    with unit_of_work(sessions, bus) as uow:
        service = ConversationService(uow, settings)
        for conversation in service.repo.idle_answered(older_than=cutoff):
            closed += service.end_by_bot(conversation)
    return closed


async def sweep_forever(
    sessions: sessionmaker[Session],
    bus: EventBus,
    settings: HandoffSettings,
    chat: ChatService | None = None,
    every_s: float = 30.0,
    stop: asyncio.Event | None = None,
) -> None:
    """The sweeper the app runs in the background: finishes messages the bot has not
    answered (handoff/pending.py), then ends quiet answered conversations.

    Setting ``stop`` ends it between sweeps. The app stops it that way rather than by
    cancelling: a cancelled sweep leaves its worker thread running with a database connection
    checked out, which the engine's disposal at shutdown then never closes."""
    stop = stop or asyncio.Event()
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
        if stop.is_set():
            return
        try:
            if chat is not None:
                answered = await answer_pending(chat)
                if answered:
                    logger.info("answered %d messages left waiting for the bot", answered)
            closed = await run_in_threadpool(close_idle, sessions, bus, settings)
            if closed:
                logger.info("closed %d idle conversations as resolved by the bot", closed)
        except Exception:  # noqa: BLE001 - a failed sweep is retried next time
            logger.exception("sweep failed")
