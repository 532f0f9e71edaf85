"""Where the bot's answer to a customer message stands (``Message.bot_state``), and the
sweeper that finishes the ones left unanswered.

A customer message to the bot is stored first (``pending``), then the bot is asked, then the
answer is stored (``answered``). If the bot cannot be reached the customer is told and the
message waits (``failed``); if the process dies in between, it stays ``pending``. Either
way it is finished later: by a retry with the same ``client_message_id``, or by the sweeper
once the bot answers again. Only a conversation's newest message is finished: a newer one
marks the older ones ``superseded``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handoff.bot_input import for_bot
from handoff.models import BOT, Conversation, Message

if TYPE_CHECKING:
    from handoff.chat import ChatService

logger = logging.getLogger("supportbot.chat")

PENDING, ANSWERED, FAILED, SUPERSEDED = "pending", "answered", "failed", "superseded"
# A pending message younger than this may still be in flight (the bot has a 10 s timeout).
IN_FLIGHT = timedelta(seconds=30)
# Older unanswered messages are not answered any more (the customer has gone), nor one the
# bot answered with nothing this many times (each such ask is a turn in Rasa's tracker;
# asks that could not reach Rasa do not count).
GIVE_UP_AFTER = timedelta(hours=24)
MAX_SILENT_ANSWERS = 5


@dataclass(frozen=True)
class StoredTurn:
    """A stored customer message and what answering it depends on (read in the turn's
    first transaction, used after it)."""

    message_id: int
    replay: bool
    status: str
    resume_pending: bool
    restart_session: bool
    reply_ids: list[int]
    metadata: dict[str, Any]
    bot_text: str = ""


def stored_turn(
    conversation: Conversation, message: Message, replay: bool, replies: list[int]
) -> StoredTurn:
    return StoredTurn(
        message_id=message.id,
        replay=replay,
        status=conversation.status,
        resume_pending=bool(conversation.channel.get("resume_pending")),
        restart_session=bool(conversation.channel.get("session_restart")),
        reply_ids=replies,
        metadata=dict(conversation.channel.get("metadata") or {}),
        bot_text=for_bot(message.text, (message.data or {}).get("payload")),
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def mark_asking(session: Session, message: Message) -> None:
    """The bot is being asked about ``message`` now; older unanswered ones are superseded."""
    session.execute(
        update(Message)
        .where(
            Message.conversation_id == message.conversation_id,
            Message.id < message.id,
            Message.bot_state.in_((PENDING, FAILED)),
        )
        .values(bot_state=SUPERSEDED)
    )
    message.bot_state = PENDING
    message.data = {**(message.data or {}), "bot_asked_at": datetime.now(UTC).isoformat()}


def count_silent_answer(message: Message) -> None:
    """Rasa answered, with nothing: an action failed there."""
    data = message.data or {}
    message.data = {**data, "bot_silent": int(data.get("bot_silent", 0)) + 1}


def due(message: Message, now: datetime | None = None) -> bool:
    """Whether ``message`` waits for the bot and nobody is asking it right now."""
    now = now or datetime.now(UTC)
    if int((message.data or {}).get("bot_silent", 0)) >= MAX_SILENT_ANSWERS:
        return False  # given up: the customer was told and can ask for a person
    if message.bot_state == FAILED:
        return True
    if message.bot_state != PENDING:
        return False
    asked = (message.data or {}).get("bot_asked_at")
    since = datetime.fromisoformat(asked) if asked else _aware(message.created_at)
    return now - since > IN_FLIGHT


def due_messages(session: Session, limit: int = 20) -> list[tuple[str, int]]:
    """(conversation id, message id) of the unanswered messages of bot-owned conversations."""
    now = datetime.now(UTC)
    rows = session.scalars(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.bot_state.in_((PENDING, FAILED)),
            Message.created_at > now - GIVE_UP_AFTER,
            Conversation.status == BOT,
        )
        .order_by(Message.id)
        .limit(limit * 5)
    )
    return [(m.conversation_id, m.id) for m in rows if due(m, now)][:limit]


async def answer_pending(chat: ChatService, limit: int = 20) -> int:
    """Asks the bot again about unanswered messages; returns how many got an answer."""
    answered = 0
    for conversation_id, message_id in await chat.due_messages(limit):
        try:
            answered += await chat.retry(conversation_id, message_id)
        except Exception:  # noqa: BLE001 - one bad conversation must not stop the others
            logger.exception("could not finish message %s in %s", message_id, conversation_id)
    return answered
