"""Conversations: create and authorize, the messages customers, the bot and agents write.

``ConversationService`` is the one service the routes use; its state transitions live in
handoff/lifecycle.py, customer actions in handoff/customer_actions.py, read queries in
handoff/repository.py and live events in handoff/live.py. Services flush; they never
commit (handoff/uow.py commits and then publishes).
"""

from __future__ import annotations

import hmac
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from handoff.agents import new_token, token_hash
from handoff.analytics.record import answer_article
from handoff.customer_actions import CustomerActions
from handoff.errors import Conflict, NotFound, Unauthorized
from handoff.identity import Identity
from handoff.lifecycle import Lifecycle
from handoff.models import (
    AGENT,
    BOT_SENDER,
    CUSTOMER,
    ENDED,
    INTERNAL,
    PUBLIC,
    REASONS,
    Agent,
    Conversation,
    EmailDelivery,
    Message,
    SuggestionUse,
)
from handoff.serialize import message_out

__all__ = [
    "REASONS",
    "Conflict",
    "ConversationService",
    "NotFound",
    "Unauthorized",
    "message_out",
]
# What the bot's replies may carry into the stored message (data column).
BOT_MESSAGE_FIELDS = ("articles", "buttons", "kind", "unanswered")


class ConversationService(Lifecycle, CustomerActions):
    # ---- customers --------------------------------------------------------------------
    def create(
        self, *, channel: dict[str, Any] | None = None, identity: Identity | None = None
    ) -> tuple[Conversation, str]:
        """A new conversation and its secret bearer token (only its hash is stored)."""
        token = new_token()
        conversation = Conversation(
            id=str(uuid.uuid4()), token_hash=token_hash(token), channel=channel or {}
        )
        if identity is not None:  # verified by the caller (handoff.identity.verify)
            conversation.customer_user_id = identity.user_id
            conversation.customer_name = identity.name
            conversation.customer_email = identity.email
        self.session.add(conversation)
        self.session.flush()
        return conversation, token

    def authorize(self, conversation_id: str, token: str | None) -> Conversation:
        """The conversation, if ``token`` is its token; another conversation's token fails."""
        conversation = self.repo.conversation(conversation_id)
        if conversation is None or not token:
            raise Unauthorized("missing or invalid conversation token")
        given = token_hash(token)
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
            existing = self.repo.by_client_message_id(conversation.id, client_message_id)
            if existing is not None:
                return existing, True
        if conversation.status in ENDED:
            self.reopen(conversation)
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
            existing = self.repo.by_client_message_id(conversation.id, client_message_id or "")
            if existing is None:
                raise
            return existing, True
        conversation.updated_at = datetime.now(UTC)
        self.live.message(conversation, message)
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
            data = {k: item[k] for k in BOT_MESSAGE_FIELDS if item.get(k)}
            message = Message(
                conversation_id=conversation.id,
                sender=sender,
                text=item.get("text", ""),
                reply_to=reply_to,
                data=data,
                article_slug=answer_article(data) if sender == BOT_SENDER else None,
            )
            self.session.add(message)
            stored.append(message)
        self.session.flush()
        conversation.updated_at = datetime.now(UTC)
        if any(m.data.get("articles") for m in stored) and not conversation.channel.get("answered"):
            conversation.channel = {**conversation.channel, "answered": True}
        for message in stored:
            self.live.message(conversation, message)
        return stored

    # ---- agents -------------------------------------------------------------------------
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
            # Compare-and-set: a reply cannot land after a concurrent resolve or reassign.
            self._compare_and_set(conversation)
            escalation = self.repo.open_escalation(conversation)
            if escalation is not None and escalation.first_reply_at is None:
                escalation.first_reply_at = datetime.now(UTC)
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
        self.live.message(conversation, message)
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
