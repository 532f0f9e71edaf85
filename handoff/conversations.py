"""Conversation lifecycle: messages, escalation, claim, reply, resolve, hand back to bot.

Every state change writes an activity message into the transcript and emits live events
(published by the unit of work after commit). Services flush; they never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from handoff.config import HandoffSettings
from handoff.events import AGENTS, conversation_channel
from handoff.identity import Identity
from handoff.models import (
    AGENT,
    ASSIGNED,
    BOT,
    BOT_SENDER,
    CUSTOMER,
    ENDED,
    INTERNAL,
    PUBLIC,
    QUEUED,
    RESOLVED,
    RESOLVED_BY_BOT,
    SYSTEM,
    Agent,
    Conversation,
    EmailDelivery,
    Escalation,
    Feedback,
    Message,
    SuggestionUse,
)
from handoff.queue import QueueService
from handoff.uow import UnitOfWork

REASONS = (
    "requested",
    "sensitive_topic",
    "low_confidence",
    "no_kb_answer",
    "negative_feedback",
    "frustration",
    "repeated",
)


class NotFound(LookupError):
    pass


class Unauthorized(PermissionError):
    pass


class Conflict(Exception):
    """The conversation is not in a state that allows this (e.g. claimed by someone else)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def message_out(m: Message, *, agent_view: bool = False) -> dict[str, Any]:
    """A message as the API returns it (customers never get internal fields)."""
    out: dict[str, Any] = {
        "id": m.id,
        "sender": m.sender,
        "text": m.text,
        # SQLite hands back naive datetimes; every stored time is UTC.
        "created_at": (
            (m.created_at if m.created_at.tzinfo else m.created_at.replace(tzinfo=UTC)).isoformat()
            if m.created_at
            else None
        ),
    }
    for key in ("articles", "buttons", "kind", "agent_name"):
        if m.data.get(key):
            out[key] = m.data[key]
    if m.client_message_id:  # lets the widget match its optimistic copy to the stored one
        out["client_message_id"] = m.client_message_id
    if agent_view:
        out["audience"] = m.audience
        out["agent_id"] = m.agent_id
        if m.data.get("suggestion"):
            out["suggestion"] = m.data["suggestion"]
    return out


class ConversationService:
    def __init__(self, uow: UnitOfWork, settings: HandoffSettings) -> None:
        self.uow = uow
        self.session = uow.session
        self.settings = settings
        self.queue = QueueService(self.session, settings)

    # ---- customers --------------------------------------------------------------------
    def create(
        self, *, channel: dict[str, Any] | None = None, identity: Identity | None = None
    ) -> tuple[Conversation, str]:
        """A new conversation and its secret bearer token (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        conversation = Conversation(
            id=str(uuid.uuid4()), token_hash=_hash(token), channel=channel or {}
        )
        if identity is not None:  # verified by the caller (handoff.identity.verify)
            conversation.customer_user_id = identity.user_id
            conversation.customer_name = identity.name
            conversation.customer_email = identity.email
        self.session.add(conversation)
        self.session.flush()
        return conversation, token

    def get(self, conversation_id: str) -> Conversation:
        conversation = self.session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id}")
        return conversation

    def authorize(self, conversation_id: str, token: str | None) -> Conversation:
        """The conversation, if ``token`` is its token; another conversation's token fails."""
        conversation = self.session.get(Conversation, conversation_id)
        if conversation is None or not token:
            raise Unauthorized("missing or invalid conversation token")
        given = _hash(token)
        valid = [conversation.token_hash, *(conversation.channel.get("extra_token_hashes") or [])]
        # Every candidate is compared (no early exit) so timing says nothing about which.
        if not any([hmac.compare_digest(h, given) for h in valid]):
            raise Unauthorized("missing or invalid conversation token")
        return conversation

    def add_customer_message(
        self, conversation: Conversation, *, text: str, client_message_id: str | None
    ) -> tuple[Message, bool]:
        """Stores the message first of all; a repeated client_message_id returns the original."""
        if client_message_id:
            existing = self.session.scalars(
                select(Message).where(
                    Message.conversation_id == conversation.id,
                    Message.client_message_id == client_message_id,
                )
            ).first()
            if existing is not None:
                return existing, True
        if conversation.status in ENDED:
            # A new message after the end reopens the conversation as a fresh bot session:
            # nothing said or shown before decides the new turns.
            channel = {**conversation.channel, "session_restart": True}
            if conversation.status == RESOLVED:
                channel["resume_pending"] = True  # a person had it: Rasa is paused
            try:
                self._compare_and_set(conversation, status=BOT, channel=channel)
                self._activity(conversation, "Conversation reopened", "reopened")
            except Conflict:
                pass  # a concurrent message reopened it already
        message = Message(
            conversation_id=conversation.id,
            sender=CUSTOMER,
            text=text,
            client_message_id=client_message_id,
        )
        self.session.add(message)
        try:
            with self.session.begin_nested():
                self.session.flush()
        except IntegrityError:  # the same client_message_id raced in from a retry
            existing = self.session.scalars(
                select(Message).where(
                    Message.conversation_id == conversation.id,
                    Message.client_message_id == client_message_id,
                )
            ).one()
            return existing, True
        conversation.updated_at = datetime.now(UTC)
        self._emit_message(conversation, message)
        return message, False

    def add_bot_messages(
        self,
        conversation: Conversation,
        *,
        reply_to: int,
        messages: list[dict[str, Any]],
        sender: str = BOT_SENDER,
    ) -> list[Message]:
        stored = []
        for item in messages:
            data = {
                k: item[k] for k in ("articles", "buttons", "kind", "unanswered") if item.get(k)
            }
            message = Message(
                conversation_id=conversation.id,
                sender=sender,
                text=item.get("text", ""),
                reply_to=reply_to,
                data=data,
            )
            self.session.add(message)
            stored.append(message)
        self.session.flush()
        conversation.updated_at = datetime.now(UTC)
        if any(m.data.get("articles") for m in stored) and not conversation.channel.get("answered"):
            conversation.channel = {**conversation.channel, "answered": True}
        for message in stored:
            self._emit_message(conversation, message)
        return stored

    def end_by_bot(self, conversation: Conversation) -> bool:
        """The bot handled it and the customer is done: resolved_by_bot, rating asked.

        False when the conversation is no longer the bot's (a person took it meanwhile).
        """
        if conversation.status != BOT:
            return False
        try:
            self._compare_and_set(
                conversation, status=RESOLVED_BY_BOT, resolved_at=datetime.now(UTC)
            )
        except Conflict:
            return False
        self._activity(conversation, "Conversation resolved by the assistant", "resolved_by_bot")
        self._system_prompt(
            conversation,
            "Glad we could help! How did we do? Rate this conversation from 1 (poor) to 5 (great).",
            kind="csat_prompt",
        )
        self._emit_status(conversation)
        self.uow.emit(
            AGENTS,
            {"type": "conversation.closed", "conversation_id": conversation.id,
             "status": RESOLVED_BY_BOT},
        )  # fmt: skip
        return True

    def idle_answered(self, *, older_than: datetime, limit: int = 200) -> list[Conversation]:
        """Bot conversations where the bot answered and nothing happened since ``older_than``."""
        rows = self.session.scalars(
            select(Conversation)
            .where(Conversation.status == BOT, Conversation.updated_at < older_than)
            .order_by(Conversation.updated_at)
            .limit(limit)
        )
        return [c for c in rows if c.channel.get("answered")]

    def mark_restarted(self, conversation: Conversation) -> None:
        conversation.channel = {
            k: v for k, v in conversation.channel.items() if k != "session_restart"
        }

    def replies_to(self, message: Message) -> list[Message]:
        return list(
            self.session.scalars(
                select(Message)
                .where(Message.reply_to == message.id, Message.audience == PUBLIC)
                .order_by(Message.id)
            )
        )

    def replies_after(self, conversation: Conversation, message_id: int) -> list[Message]:
        """Public messages after ``message_id`` (the end-of-conversation lines and prompt)."""
        return list(
            self.session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == conversation.id,
                    Message.id > message_id,
                    Message.audience == PUBLIC,
                    Message.sender == SYSTEM,
                )
                .order_by(Message.id)
            )
        )

    def last_customer_message(self, conversation: Conversation) -> Message | None:
        return self.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.sender == CUSTOMER)
            .order_by(Message.id.desc())
            .limit(1)
        ).first()

    def transcript(
        self, conversation: Conversation, *, include_internal: bool = False
    ) -> list[Message]:
        query = select(Message).where(Message.conversation_id == conversation.id)
        if not include_internal:
            query = query.where(Message.audience == PUBLIC)
        return list(self.session.scalars(query.order_by(Message.id)))

    def handoff_info(self, conversation: Conversation) -> dict[str, Any] | None:
        """What the customer is told while a person owns (or will own) the conversation."""
        if conversation.status not in (QUEUED, ASSIGNED):
            return None
        position = self.queue.position(conversation)
        online = self.queue.agents_online()
        agent = (
            self.session.get(Agent, conversation.assigned_agent_id)
            if conversation.assigned_agent_id
            else None
        )
        return {
            "reason": conversation.reason,
            "position": position,
            "expected_wait_s": self.queue.expected_wait_s(position) if online else None,
            "agents_online": online > 0,
            "email_on_file": bool(conversation.customer_email),
            "agent_name": agent.name if agent else None,
        }

    def feedback(self, conversation: Conversation, *, message_id: int, helpful: bool) -> Feedback:
        message = self.session.get(Message, message_id)
        if (
            message is None
            or message.conversation_id != conversation.id
            or message.sender != BOT_SENDER
        ):
            raise NotFound("no bot answer with that id in this conversation")
        query = select(Feedback).where(Feedback.message_id == message_id)
        row = self.session.scalars(query).first()
        if row is None:
            row = Feedback(conversation_id=conversation.id, message_id=message_id, helpful=helpful)
            try:
                with self.session.begin_nested():
                    self.session.add(row)
                    self.session.flush()
                return row
            except IntegrityError:  # a second click raced in: update that row instead
                row = self.session.scalars(query).one()
        row.helpful = helpful
        self.session.flush()
        return row

    def latest_feedback_unhelpful(self, conversation: Conversation) -> bool:
        latest = self.session.scalars(
            select(Feedback)
            .where(Feedback.conversation_id == conversation.id)
            .order_by(Feedback.id.desc())
            .limit(1)
        ).first()
        return latest is not None and not latest.helpful

    def csat(self, conversation: Conversation, *, score: int, comment: str | None) -> None:
        if conversation.status not in ENDED:
            raise Conflict("the conversation can be rated once it is resolved")
        conversation.csat_score = score
        conversation.csat_comment = comment
        self._activity(
            conversation, f"Customer rated the conversation {score}/5", "csat", internal=True
        )

    def leave_email(self, conversation: Conversation, *, email: str) -> None:
        conversation.customer_email = email
        # Left because nobody was online: agent replies are emailed there too.
        conversation.channel = {**conversation.channel, "reply_by_email": True}
        self._activity(conversation, "Customer left an email address for a reply", "email_left")
        self.uow.emit(AGENTS, {"type": "conversation.updated", "conversation_id": conversation.id})

    # ---- escalation and queue ----------------------------------------------------------
    def escalate(
        self, conversation_id: str, *, reason: str, context: dict[str, Any]
    ) -> tuple[Conversation, Escalation, bool]:
        """Queues the conversation for a person; idempotent while it is queued or assigned."""
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}; one of {', '.join(REASONS)}")
        now = datetime.now(UTC)
        priority = self.settings.priorities.get(reason, 0)
        # A conditional update is atomic on SQLite and PostgreSQL alike: of two concurrent
        # escalations of one conversation, only one moves it to the queue.
        moved = self.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.status.in_((BOT, *ENDED)))
            .values(
                status=QUEUED,
                reason=reason,
                priority=priority,
                queued_at=now,
                assigned_agent_id=None,
                assigned_at=None,
                resolved_at=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        conversation = self.get(conversation_id)
        self.session.refresh(conversation)
        if moved != 1:
            return conversation, self._open_escalation(conversation), False
        escalation = Escalation(
            conversation_id=conversation.id,
            reason=reason,
            priority=priority,
            context=context,
            created_at=now,
        )
        self.session.add(escalation)
        self._activity(
            conversation, "Conversation handed to the support team", "escalated", reason=reason
        )
        self.session.flush()
        self._emit_status(conversation)
        self.uow.emit(
            AGENTS,
            {
                "type": "queue.escalated",
                "conversation_id": conversation.id,
                "reason": reason,
                "priority": priority,
            },
        )
        return conversation, escalation, True

    def _open_escalation(self, conversation: Conversation) -> Escalation:
        return self.session.scalars(
            select(Escalation)
            .where(Escalation.conversation_id == conversation.id, Escalation.closed_at.is_(None))
            .order_by(Escalation.id.desc())
        ).first()

    def escalation(self, conversation: Conversation) -> Escalation | None:
        """The open escalation, or the latest one."""
        return self.session.scalars(
            select(Escalation)
            .where(Escalation.conversation_id == conversation.id)
            .order_by(Escalation.id.desc())
        ).first()

    def claim(self, conversation_id: str, *, agent: Agent) -> Conversation:
        """Atomic: of two agents claiming at once, exactly one wins; the other gets Conflict."""
        now = datetime.now(UTC)
        result = self.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.status == QUEUED)
            .values(status=ASSIGNED, assigned_agent_id=agent.id, assigned_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            conversation = self.session.get(Conversation, conversation_id)
            if conversation is None:
                raise NotFound(f"no conversation {conversation_id}")
            self.session.refresh(conversation)
            owner = (
                self.session.get(Agent, conversation.assigned_agent_id)
                if conversation.assigned_agent_id
                else None
            )
            if conversation.status == ASSIGNED and owner is not None:
                who = "You already have" if owner.id == agent.id else f"{owner.name} took"
                raise Conflict(f"{who} this conversation")
            raise Conflict(f"conversation is {conversation.status}, not queued")
        conversation = self.session.get(Conversation, conversation_id)
        self.session.refresh(conversation)
        escalation = self._open_escalation(conversation)
        if escalation is not None and escalation.claimed_at is None:
            escalation.claimed_at = now
            escalation.claimed_by = agent.id
        self._activity(
            conversation, f"{agent.name} joined the conversation", "claimed", agent_id=agent.id
        )
        self._emit_status(conversation)
        self.uow.emit(
            AGENTS,
            {"type": "queue.claimed", "conversation_id": conversation_id, "agent_id": agent.id},
        )
        return conversation

    def _require_owner(self, conversation: Conversation, agent: Agent) -> None:
        if conversation.status != ASSIGNED:
            raise Conflict(f"conversation is {conversation.status}, not assigned")
        if conversation.assigned_agent_id != agent.id and agent.role != "admin":
            raise Conflict("conversation is assigned to another agent")

    def agent_message(
        self,
        conversation: Conversation,
        *,
        agent: Agent,
        text: str,
        internal: bool = False,
        suggestion: dict[str, str] | None = None,
    ) -> Message:
        """A reply the customer sees live, or an internal note only agents see."""
        if not internal:
            self._require_owner(conversation, agent)
        data: dict[str, Any] = {"agent_name": agent.name}
        if suggestion:
            data["suggestion"] = suggestion
        message = Message(
            conversation_id=conversation.id,
            sender=AGENT,
            audience=INTERNAL if internal else PUBLIC,
            text=text,
            agent_id=agent.id,
            data=data,
        )
        self.session.add(message)
        self.session.flush()
        if suggestion:
            self.session.add(
                SuggestionUse(
                    conversation_id=conversation.id,
                    agent_id=agent.id,
                    source=suggestion["source"],
                    ref=suggestion["ref"],
                    action=suggestion["action"],
                    message_id=message.id,
                )
            )
        conversation.updated_at = datetime.now(UTC)
        self._emit_message(conversation, message)
        return message

    def email_reply(
        self, conversation: Conversation, message: Message, *, enabled: bool
    ) -> int | None:
        """Queues an agent's public reply for the address the customer left (offline path).

        Returns the delivery id to send after commit, or None when nothing is to be sent.
        """
        if not (conversation.customer_email and conversation.channel.get("reply_by_email")):
            return None
        if message.audience != PUBLIC:
            return None
        delivery = EmailDelivery(
            conversation_id=conversation.id,
            message_id=message.id,
            to_address=conversation.customer_email,
            status="pending" if enabled else "failed",
            error=None if enabled else "email is not configured (SUPPORTBOT_SMTP_HOST)",
        )
        self.session.add(delivery)
        self.session.flush()
        if not enabled:
            self.note(
                conversation,
                f"The customer left {conversation.customer_email}, but email is not "
                "configured (SUPPORTBOT_SMTP_HOST), so this reply was not emailed",
                "email_failed",
            )
            return None
        return delivery.id

    def note(self, conversation: Conversation, text: str, kind: str) -> None:
        """A line only agents see (email outcomes and other system notes)."""
        self._activity(conversation, text, kind, internal=True)

    def add_resume_token(self, conversation: Conversation) -> str:
        """Another token for this conversation (the customer reopened it from an email)."""
        token = secrets.token_urlsafe(32)
        extra = list(conversation.channel.get("extra_token_hashes") or [])[-4:]
        conversation.channel = {
            **conversation.channel,
            "extra_token_hashes": [*extra, _hash(token)],
        }
        self.session.flush()
        return token

    def record_suggestion(
        self, conversation: Conversation, *, agent: Agent, source: str, ref: str, action: str
    ) -> None:
        self.session.add(
            SuggestionUse(
                conversation_id=conversation.id,
                agent_id=agent.id,
                source=source,
                ref=ref,
                action=action,
            )
        )

    def release(
        self, conversation: Conversation, *, agent: Agent, to_agent: Agent | None = None
    ) -> None:
        """Back to the queue (keeping its place), or straight to another agent."""
        self._require_owner(conversation, agent)
        if to_agent is not None:
            self._compare_and_set(
                conversation, assigned_agent_id=to_agent.id, assigned_at=datetime.now(UTC)
            )
            self._activity(
                conversation,
                f"{to_agent.name} took over the conversation",
                "reassigned",
                agent_id=to_agent.id,
            )
        else:
            self._compare_and_set(
                conversation, status=QUEUED, assigned_agent_id=None, assigned_at=None
            )
            self._activity(conversation, "Conversation returned to the queue", "released")
        self._emit_status(conversation)
        self.uow.emit(AGENTS, {"type": "queue.released", "conversation_id": conversation.id})

    def resolve(self, conversation: Conversation, *, agent: Agent) -> None:
        """Ends the conversation and asks the customer to rate it."""
        if conversation.status not in (QUEUED, ASSIGNED):
            raise Conflict(f"conversation is {conversation.status}")
        if conversation.status == ASSIGNED:
            self._require_owner(conversation, agent)
        self._close(conversation, RESOLVED, resolved_at=datetime.now(UTC))
        self._activity(conversation, "Conversation resolved", "resolved", agent_id=agent.id)
        self._system_prompt(
            conversation,
            "How did we do? Rate this conversation from 1 (poor) to 5 (great).",
            kind="csat_prompt",
        )

    def return_to_bot(self, conversation: Conversation, *, agent: Agent) -> None:
        """The assistant takes over again (the Rasa conversation is resumed by the caller)."""
        if conversation.status not in (QUEUED, ASSIGNED):
            raise Conflict(f"conversation is {conversation.status}")
        if conversation.status == ASSIGNED:
            self._require_owner(conversation, agent)
        self._close(conversation, BOT)
        self._activity(
            conversation,
            "The assistant is back in the conversation",
            "returned_to_bot",
            agent_id=agent.id,
        )

    def mark_resumed(self, conversation: Conversation) -> None:
        conversation.channel = {
            k: v for k, v in conversation.channel.items() if k != "resume_pending"
        }

    def _close(self, conversation: Conversation, status: str, **values: Any) -> None:
        if status == BOT:
            values["assigned_agent_id"] = None
        self._compare_and_set(
            conversation,
            status=status,
            channel={**conversation.channel, "resume_pending": True},
            **values,
        )
        escalation = self._open_escalation(conversation)
        if escalation is not None:
            escalation.closed_at = datetime.now(UTC)
        self._emit_status(conversation)
        self.uow.emit(
            AGENTS,
            {"type": "conversation.closed", "conversation_id": conversation.id, "status": status},
        )

    # ---- helpers -----------------------------------------------------------------------
    def _compare_and_set(self, conversation: Conversation, **values: Any) -> None:
        """Writes ``values`` only if status and owner are still what this request read.

        Two agents acting at once (resolve vs claim, release vs reassign) cannot overwrite
        each other: the loser gets Conflict (HTTP 409). Atomic on SQLite and PostgreSQL.
        """
        owner = conversation.assigned_agent_id
        result = self.session.execute(
            update(Conversation)
            .where(
                Conversation.id == conversation.id,
                Conversation.status == conversation.status,
                Conversation.assigned_agent_id.is_(None)
                if owner is None
                else Conversation.assigned_agent_id == owner,
            )
            .values(updated_at=datetime.now(UTC), **values)
            .execution_options(synchronize_session=False)
        )
        self.session.refresh(conversation)
        if result.rowcount != 1:
            raise Conflict(f"conversation changed meanwhile (now {conversation.status}); reload it")

    def _activity(
        self,
        conversation: Conversation,
        text: str,
        kind: str,
        *,
        internal: bool = False,
        **data: Any,
    ) -> None:
        message = Message(
            conversation_id=conversation.id,
            sender=SYSTEM,
            audience=INTERNAL if internal else PUBLIC,
            text=text,
            agent_id=data.pop("agent_id", None),
            data={"kind": kind, **data},
        )
        self.session.add(message)
        self.session.flush()
        self._emit_message(conversation, message)

    def _system_prompt(self, conversation: Conversation, text: str, *, kind: str) -> None:
        self._activity(conversation, text, kind)

    def _emit_message(self, conversation: Conversation, message: Message) -> None:
        if message.audience == PUBLIC:
            self.uow.emit(
                conversation_channel(conversation.id),
                {
                    "type": "message",
                    "conversation_id": conversation.id,
                    "message": message_out(message),
                },
            )
        self.uow.emit(
            AGENTS,
            {
                "type": "message",
                "conversation_id": conversation.id,
                "status": conversation.status,
                "message": message_out(message, agent_view=True),
            },
        )

    def _emit_status(self, conversation: Conversation) -> None:
        self.uow.emit(
            conversation_channel(conversation.id),
            {
                "type": "status",
                "conversation_id": conversation.id,
                "status": conversation.status,
                "handoff": self.handoff_info(conversation),
            },
        )
        self._emit_queue_positions(skip=conversation.id)

    def _emit_queue_positions(self, *, skip: str | None = None) -> None:
        """Every waiting customer's widget learns its new place and expected wait."""
        queued = self.queue.queued()
        if not queued:
            return
        online = self.queue.agents_online() > 0
        average = self.queue.average_wait_s() if online else None
        for position, waiting in enumerate(queued, start=1):
            if waiting.id == skip:
                continue
            self.uow.emit(
                conversation_channel(waiting.id),
                {
                    "type": "queue",
                    "conversation_id": waiting.id,
                    "status": QUEUED,
                    "position": position,
                    "expected_wait_s": round(average * position) if average is not None else None,
                    "agents_online": online,
                },
            )
