"""The conversation store's read queries, in one place (services write; this reads)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import (
    BOT,
    CUSTOMER,
    PUBLIC,
    SYSTEM,
    Agent,
    Conversation,
    Escalation,
    Feedback,
    Message,
)


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def conversation(self, conversation_id: str) -> Conversation | None:
        return self.session.get(Conversation, conversation_id)

    def agent(self, agent_id: int | None) -> Agent | None:
        return self.session.get(Agent, agent_id) if agent_id else None

    def message(self, message_id: int) -> Message | None:
        return self.session.get(Message, message_id)

    def by_client_message_id(self, conversation_id: str, client_message_id: str) -> Message | None:
        return self.session.scalars(
            select(Message).where(
                Message.conversation_id == conversation_id,
                Message.client_message_id == client_message_id,
            )
        ).first()

    def replies_to(self, message: Message) -> list[Message]:
        return list(
            self.session.scalars(
                select(Message)
                .where(Message.reply_to == message.id, Message.audience == PUBLIC)
                .order_by(Message.id)
            )
        )

    def system_lines_after(self, conversation: Conversation, message_id: int) -> list[Message]:
        """Public system lines after ``message_id`` (the end-of-conversation lines, prompt)."""
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
        self,
        conversation: Conversation,
        *,
        include_internal: bool = False,
        after: int = 0,
        limit: int | None = None,
    ) -> list[Message]:
        """Messages in order; ``after`` a message id and at most ``limit`` of them."""
        query = select(Message).where(Message.conversation_id == conversation.id)
        if not include_internal:
            query = query.where(Message.audience == PUBLIC)
        if after:
            query = query.where(Message.id > after)
        query = query.order_by(Message.id)
        if limit is not None:
            query = query.limit(limit)
        return list(self.session.scalars(query))

    def open_escalation(self, conversation: Conversation) -> Escalation | None:
        return self.session.scalars(
            select(Escalation)
            .where(Escalation.conversation_id == conversation.id, Escalation.closed_at.is_(None))
            .order_by(Escalation.id.desc())
        ).first()

    def latest_escalation(self, conversation: Conversation) -> Escalation | None:
        """The open escalation, or the latest one."""
        return self.session.scalars(
            select(Escalation)
            .where(Escalation.conversation_id == conversation.id)
            .order_by(Escalation.id.desc())
        ).first()

    def idle_answered(self, *, older_than: datetime, limit: int = 200) -> list[Conversation]:
        """Bot conversations where the bot answered and nothing happened since ``older_than``."""
        rows = self.session.scalars(
            select(Conversation)
            .where(Conversation.status == BOT, Conversation.updated_at < older_than)
            .order_by(Conversation.updated_at)
            .limit(limit)
        )
        return [c for c in rows if c.channel.get("answered")]

    def feedback_for(self, message_id: int) -> Feedback | None:
        query = select(Feedback).where(Feedback.message_id == message_id)
        return self.session.scalars(query).first()

    def latest_feedback_unhelpful(self, conversation: Conversation) -> bool:
        latest = self.session.scalars(
            select(Feedback)
            .where(Feedback.conversation_id == conversation.id)
            .order_by(Feedback.id.desc())
            .limit(1)
        ).first()
        return latest is not None and not latest.helpful
