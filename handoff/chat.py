"""A customer turn, whatever the transport (REST API, WebSocket widget, socket.io widgets):
store the message, let the bot answer while it owns the conversation, store the replies,
return what the customer should see.

At most two transactions per turn: one stores the customer message (and reads the state the
turn depends on), one stores the replies and reads the snapshot. The bot is called between
them, never inside a transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from handoff.bot_input import TALK_TO_PERSON, for_bot
from handoff.config import HandoffSettings
from handoff.conversations import ConversationService, Unauthorized, message_out
from handoff.events import EventBus
from handoff.identity import Identity
from handoff.models import BOT, QUEUED, RESOLVED_BY_BOT, SYSTEM, Message
from handoff.ports import Bot, BotUnavailable, Limiter, RateLimited
from handoff.uow import UnitOfWork, unit_of_work

logger = logging.getLogger("supportbot.chat")

RASA_DOWN = (
    "Sorry, our assistant is having trouble right now, and your message is saved. "
    "You can try again in a moment or talk to a person."
)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
EMAIL_THANKS = "Thanks! We'll reply to {email} as soon as we're back."


@dataclass(frozen=True)
class _Stored:
    message_id: int
    replay: bool
    status: str
    resume_pending: bool
    restart_session: bool
    reply_ids: list[int]
    metadata: dict[str, Any]


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
            self._store, conversation_id, token, text, client_message_id
        )
        if stored.replay or stored.status != BOT:
            # A retry gets the original answer; while a person owns it the bot stays silent.
            return await run_in_threadpool(
                self._finish, conversation_id, stored, [], SYSTEM, False, False
            )

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
        bot_text = for_bot(text, payload)
        try:
            outgoing = await self.bot.send(
                sender=conversation_id,
                text=bot_text,
                metadata={"channel": channel, **stored.metadata},
            )
            sender = "bot"
        except BotUnavailable as exc:
            logger.error("bot unavailable for %s: %s", conversation_id, exc)
            if bot_text == TALK_TO_PERSON["payload"]:
                await run_in_threadpool(self._escalate_direct, conversation_id, "requested")
                outgoing, sender = [], SYSTEM
            else:
                outgoing = [
                    {"text": RASA_DOWN, "buttons": [TALK_TO_PERSON], "kind": "bot_unavailable"}
                ]
                sender = SYSTEM
        return await run_in_threadpool(
            self._finish, conversation_id, stored, outgoing, sender, resumed, restarted
        )

    async def request_person(self, *, conversation_id: str, token: str | None) -> dict[str, Any]:
        """ "Talk to a person": works even when the bot is down."""

        def run() -> dict[str, Any]:
            with self._uow() as uow:
                service = self._service(uow)
                service.authorize(conversation_id, token)
                self._escalate(service, conversation_id, "requested")
                return self._snapshot(uow, service, conversation_id, [])

        return await run_in_threadpool(run)

    # ---- transactions -------------------------------------------------------------------
    def _store(
        self, conversation_id: str, token: str | None, text: str, client_message_id: str | None
    ) -> _Stored:
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
            if not replay and conversation.status != BOT:
                replies += self._capture_email(service, conversation, message)
            return _Stored(
                message_id=message.id,
                replay=replay,
                status=conversation.status,
                resume_pending=bool(conversation.channel.get("resume_pending")),
                restart_session=bool(conversation.channel.get("session_restart")),
                reply_ids=replies,
                metadata=dict(conversation.channel.get("metadata") or {}),
            )

    @staticmethod
    def _capture_email(service: ConversationService, conversation, message) -> list[int]:  # noqa: ANN001
        """Nobody online and the customer typed an email address: store it, as the email
        form would, and confirm."""
        found = EMAIL.search(message.text)
        if (
            found is None
            or conversation.status != QUEUED
            or conversation.customer_email
            or service.queue.agents_online() > 0
        ):
            return []
        email = found.group(0)
        service.leave_email(conversation, email=email)
        thanks = service.add_bot_messages(
            conversation,
            reply_to=message.id,
            messages=[{"text": EMAIL_THANKS.format(email=email), "kind": "email_captured"}],
            sender=SYSTEM,
        )
        return [m.id for m in thanks]

    def _finish(
        self,
        conversation_id: str,
        stored: _Stored,
        outgoing: list[dict[str, Any]],
        sender: str,
        resumed: bool,
        restarted: bool,
    ) -> dict[str, Any]:
        with self._uow() as uow:
            service = self._service(uow)
            conversation = service.get(conversation_id)
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
            return self._snapshot(uow, service, conversation_id, ids)

    def _escalate_direct(self, conversation_id: str, reason: str) -> None:
        with self._uow() as uow:
            self._escalate(self._service(uow), conversation_id, reason)

    @staticmethod
    def _escalate(service: ConversationService, conversation_id: str, reason: str) -> None:
        conversation = service.get(conversation_id)
        if reason == "requested" and service.repo.latest_feedback_unhelpful(conversation):
            reason = "negative_feedback"
        last = service.repo.last_customer_message(conversation)
        context = {
            "source": "gateway",
            "last_message": last.text if last else None,
            "nlu_history": [],
            "articles_tried": [],
            "note": "the customer asked for a person from the chat window",
        }
        service.escalate(conversation.id, reason=reason, context=context)

    @staticmethod
    def _snapshot(
        uow: UnitOfWork, service: ConversationService, conversation_id: str, reply_ids: list[int]
    ) -> dict[str, Any]:
        conversation = service.get(conversation_id)
        replies = [uow.session.get(Message, i) for i in reply_ids]
        return {
            "messages": [message_out(m) for m in replies if m is not None],
            "status": conversation.status,
            "handoff": service.live.handoff_info(conversation),
        }
