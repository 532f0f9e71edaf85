"""A customer turn, whatever the transport (REST API, WebSocket widget, socket.io widgets):
store the message, let the bot answer while it owns the conversation, store the replies,
return what the customer should see.

At most two transactions per turn: one stores the customer message (and reads the state the
turn depends on), one stores the replies and reads the snapshot. The bot is called between
them, never inside a transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from handoff import pending
from handoff.bot_input import BUTTON_PAYLOADS, TALK_TO_PERSON
from handoff.config import HandoffSettings
from handoff.conversations import ConversationService, Unauthorized
from handoff.events import EventBus
from handoff.identity import Identity
from handoff.models import BOT, RESOLVED_BY_BOT, SYSTEM
from handoff.pending import StoredTurn, stored_turn
from handoff.ports import Bot, BotUnavailable, Limiter, RateLimited
from handoff.uow import UnitOfWork, unit_of_work

logger = logging.getLogger("supportbot.chat")

RASA_DOWN = (
    "Sorry, our assistant is having trouble right now, and your message is saved. "
    "You can try again in a moment or talk to a person."
)
BOT_DOWN_NOTICE = {"text": RASA_DOWN, "buttons": [TALK_TO_PERSON], "kind": "bot_unavailable"}


class ChatService:
    """One customer turn; the REST route and the socket.io channel both call this."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        bus: EventBus,
        settings: HandoffSettings,
        bot: Bot,
        limiter: Limiter,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.settings = settings
        self.bot = bot
        self.limiter = limiter

    def _uow(self):  # noqa: ANN202
        return unit_of_work(self.sessions, self.bus)

    def _service(self, uow: UnitOfWork) -> ConversationService:
        return ConversationService(uow, self.settings)

    # ---- starting ---------------------------------------------------------------------
    def start(
        self, *, metadata: dict[str, Any], identity: Identity | None = None
    ) -> tuple[str, str]:
        """A new conversation: its id and the customer's secret token."""
        with self._uow() as uow:
            conversation, token = self._service(uow).create(
                channel={"metadata": metadata}, identity=identity
            )
            return conversation.id, token

    def authorized(self, conversation_id: str, token: str | None) -> bool:
        """Whether ``token`` opens ``conversation_id`` (for transports that keep sessions)."""
        try:
            with self._uow() as uow:
                self._service(uow).authorize(conversation_id, token)
            return True
        except Unauthorized:
            return False

    def rate(self, *, conversation_id: str, token: str | None, score: int) -> None:
        """The customer's 1-5 rating of a resolved conversation (Conflict if not resolved)."""
        with self._uow() as uow:
            service = self._service(uow)
            service.csat(service.authorize(conversation_id, token), score=score, comment=None)

    # ---- the turn ---------------------------------------------------------------------
    async def send(
        self,
        *,
        conversation_id: str,
        token: str | None,
        text: str,
        client_message_id: str | None = None,
        payload: str | None = None,
        channel: str = "widget",
    ) -> dict[str, Any]:
        """Stores the message, then lets the bot answer while it owns the conversation.

        Raises ``Unauthorized`` (from handoff.conversations) for a wrong token and
        ``RateLimited`` when this conversation sends faster than the configured rate.
        """
        stored = await run_in_threadpool(
            self._store, conversation_id, token, text, client_message_id, payload
        )
        if stored.replay or stored.status != BOT:
            # A retry gets the original answer; while a person owns it the bot stays silent.
            return await run_in_threadpool(
                self._finish, conversation_id, stored, [], SYSTEM, False, False, None
            )
        return await self._answer(conversation_id, stored, channel)

    async def due_messages(self, limit: int) -> list[tuple[str, int]]:
        """Unanswered customer messages of bot-owned conversations (handoff/pending.py)."""

        def find() -> list[tuple[str, int]]:
            with self._uow() as uow:
                return pending.due_messages(uow.session, limit)

        return await run_in_threadpool(find)

    async def retry(self, conversation_id: str, message_id: int) -> bool:
        """Asks the bot again about a message it has not answered (the sweeper); True if
        the bot answered this time."""
        stored = await run_in_threadpool(self._claim_retry, conversation_id, message_id)
        if stored is None:
            return False
        snapshot = await self._answer(conversation_id, stored, "widget")
        return any(m["sender"] == "bot" for m in snapshot["messages"])

    async def _answer(self, conversation_id: str, stored: StoredTurn, channel: str) -> dict:
        """Asks the bot (resuming or restarting its session first if due), stores what it
        said, returns the snapshot; if the bot is down, says so once and keeps the message."""
        resumed = restarted = False
        if stored.resume_pending:
            try:
                await self.bot.resume(conversation_id)
                resumed = True
            except BotUnavailable as exc:
                logger.warning("could not resume bot conversation %s: %s", conversation_id, exc)
        if stored.restart_session and not (stored.resume_pending and not resumed):
            try:
                await self.bot.restart(conversation_id)
                restarted = True
            except BotUnavailable as exc:
                logger.warning("could not restart bot session %s: %s", conversation_id, exc)
        bot_text = stored.bot_text
        outcome = pending.ANSWERED
        try:
            outgoing = await self.bot.send(
                sender=conversation_id,
                text=bot_text,
                metadata={"channel": channel, **stored.metadata},
            )
            sender = "bot"
        except BotUnavailable as exc:
            logger.error("bot unavailable for %s: %s", conversation_id, exc)
            outgoing, sender = [], SYSTEM
            if bot_text == TALK_TO_PERSON["payload"]:
                await run_in_threadpool(self._escalate_direct, conversation_id, "requested")
            else:
                outcome = pending.FAILED
                if not stored.reply_ids:  # told once; retries stay quiet until the bot answers
                    outgoing = [BOT_DOWN_NOTICE]
        return await run_in_threadpool(
            self._finish, conversation_id, stored, outgoing, sender, resumed, restarted, outcome
        )

    async def request_person(self, *, conversation_id: str, token: str | None) -> dict[str, Any]:
        """ "Talk to a person": works even when the bot is down."""

        def run() -> dict[str, Any]:
            with self._uow() as uow:
                service = self._service(uow)
                service.authorize(conversation_id, token)
                service.escalate_from_chat(conversation_id, "requested")
                return service.live.snapshot(service.get(conversation_id), [])

        return await run_in_threadpool(run)

    # ---- transactions -------------------------------------------------------------------
    def _store(
        self,
        conversation_id: str,
        token: str | None,
        text: str,
        client_message_id: str | None,
        payload: str | None,
    ) -> StoredTurn:
        with self._uow() as uow:
            service = self._service(uow)
            conversation = service.authorize(conversation_id, token)
            # Counted only for the token's owner: a stranger cannot use up someone's budget.
            allowed, retry = self.limiter.allow(
                f"conv:{conversation_id}", self.settings.rate_per_conversation
            )
            if not allowed:
                raise RateLimited(retry, "too many messages; please wait a moment")
            message, replay = service.add_customer_message(
                conversation, text=text.strip() or text, client_message_id=client_message_id
            )
            replies = [m.id for m in service.repo.replies_to(message)] if replay else []
            if replay and conversation.status == BOT and pending.due(message):
                replay = False  # never answered (the bot was down, or the process died)
            elif not replay and conversation.status != BOT:
                replies += service.capture_email(conversation, message)
            if not replay and conversation.status == BOT:
                if payload in BUTTON_PAYLOADS:
                    message.data = {**(message.data or {}), "payload": payload}
                pending.mark_asking(uow.session, message)
            return stored_turn(conversation, message, replay, replies)

    def _claim_retry(self, conversation_id: str, message_id: int) -> StoredTurn | None:
        with self._uow() as uow:
            service = self._service(uow)
            conversation = service.get(conversation_id)
            message = service.repo.message(message_id)
            if message is None or conversation.status != BOT or not pending.due(message):
                return None  # answered, superseded or taken over meanwhile
            pending.mark_asking(uow.session, message)
            replies = [m.id for m in service.repo.replies_to(message)]
            return stored_turn(conversation, message, False, replies)

    def _finish(
        self,
        conversation_id: str,
        stored: StoredTurn,
        outgoing: list[dict[str, Any]],
        sender: str,
        resumed: bool,
        restarted: bool,
        outcome: str | None,
    ) -> dict[str, Any]:
        with self._uow() as uow:
            service = self._service(uow)
            conversation = service.get(conversation_id)
            message = service.repo.message(stored.message_id)
            if sender == "bot" and not outgoing and conversation.status == BOT:
                # Rasa answered nothing and kept the conversation: an action failed there
                # (the action server down). Not an answer: told once, retried like an outage.
                outcome = pending.FAILED
                if message is not None:
                    pending.count_silent_answer(message)
                if not stored.reply_ids:
                    outgoing, sender = [BOT_DOWN_NOTICE], SYSTEM
            if outcome and message is not None and message.bot_state == pending.PENDING:
                message.bot_state = outcome
            if resumed:
                service.mark_resumed(conversation)
            if restarted:
                service.mark_restarted(conversation)
            ids = list(stored.reply_ids)
            ended = any(m.get("end") == RESOLVED_BY_BOT for m in outgoing)
            if outgoing:
                ids += [
                    m.id
                    for m in service.add_bot_messages(
                        conversation, reply_to=stored.message_id, messages=outgoing, sender=sender
                    )
                ]
            if ended and service.end_by_bot(conversation):
                after = ids[-1] if ids else 0
                ids += [m.id for m in service.repo.system_lines_after(conversation, after)]
            return service.live.snapshot(conversation, ids)

    def _escalate_direct(self, conversation_id: str, reason: str) -> None:
        with self._uow() as uow:
            self._service(uow).escalate_from_chat(conversation_id, reason)
