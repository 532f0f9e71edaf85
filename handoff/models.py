"""Conversations, messages, escalations, agents: the handoff service's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from knowledge_base.models import NAMING, utcnow

# Conversation status (DESIGN.md): bot -> queued -> assigned -> resolved, plus hand-back to bot;
# bot -> resolved_by_bot when the customer is done and the bot handled it alone.
BOT, QUEUED, ASSIGNED, RESOLVED = "bot", "queued", "assigned", "resolved"
RESOLVED_BY_BOT = "resolved_by_bot"
ENDED = (RESOLVED, RESOLVED_BY_BOT)
# Escalation reason codes (DESIGN.md contract).
REASONS = (
    "requested",
    "sensitive_topic",
    "low_confidence",
    "no_kb_answer",
    "negative_feedback",
    "frustration",
    "repeated",
)
# Message senders. "customer" / "bot" / "agent" write public messages; "system" writes
# activity lines (status changes) and prompts; internal notes are agent messages with
# audience "internal" and never reach the customer.
CUSTOMER, BOT_SENDER, AGENT, SYSTEM = "customer", "bot", "agent", "system"
PUBLIC, INTERNAL = "public", "internal"


class HandoffBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Agent(HandoffBase):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))  # agent | editor | admin
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AgentToken(HandoffBase):
    """Bearer tokens and session cookies (only the SHA-256 of the secret is stored)."""

    __tablename__ = "agent_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Conversation(HandoffBase):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_status_queued_at", "status", "queued_at"),
        Index("ix_conversations_customer_user_id", "customer_user_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=BOT)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Queue state (set while queued/assigned)
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    assigned_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    customer_email: Mapped[str | None] = mapped_column(String(254), default=None)
    # A shopper the website vouched for (widget data-user-id + data-user-hash, verified).
    customer_user_id: Mapped[str | None] = mapped_column(String(255), default=None)
    customer_name: Mapped[str | None] = mapped_column(String(120), default=None)
    channel: Mapped[dict] = mapped_column(JSON, default=dict)
    csat_score: Mapped[int | None] = mapped_column(Integer, default=None)
    csat_comment: Mapped[str | None] = mapped_column(String(1000), default=None)
    # Recorded for analytics (handoff/analytics): queued_at above stays set once escalated.
    first_resolved_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )  # first end (resolved or resolved_by_bot), never changed after
    reopened_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )  # first reopen after an end
    resolved_by: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )  # the agent who last resolved it
    transferred_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )  # first time it passed from one agent to another


class Message(HandoffBase):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "client_message_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(10))
    audience: Mapped[str] = mapped_column(String(10), default=PUBLIC)
    text: Mapped[str] = mapped_column(Text)
    # Idempotency key from the widget (customer messages only).
    client_message_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # The customer message a bot/system reply answers (idempotent replays return these).
    reply_to: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    # Customer messages to the bot: pending -> answered | failed (bot unreachable; retried
    # by the client or the sweeper, handoff/pending.py) | superseded (a newer one came).
    bot_state: Mapped[str | None] = mapped_column(String(10), default=None, index=True)
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    # articles, buttons, activity kind, suggestion provenance
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A bot answer's source article (data["articles"][0]), for analytics.
    article_slug: Mapped[str | None] = mapped_column(String(80), default=None)


class Escalation(HandoffBase):
    """Why and with what context a conversation went to a person (one per handoff)."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer)
    # intent/confidence per turn, articles tried with scores, entities, topic intent
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    claimed_by: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # Recorded for analytics: the first public agent reply in this handoff, and the article
    # of the bot answer it followed (if any).
    first_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    article_slug: Mapped[str | None] = mapped_column(String(80), default=None)


class Feedback(HandoffBase):
    """A customer's thumbs up/down on one bot answer."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    article_slug: Mapped[str | None] = mapped_column(String(80), default=None)  # the answer's


class SuggestionUse(HandoffBase):
    """Whether an agent used, edited or ignored a suggested answer."""

    __tablename__ = "suggestion_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20))  # kb | past_reply
    ref: Mapped[str] = mapped_column(String(120))  # article slug or message id
    action: Mapped[str] = mapped_column(String(10))  # used | edited | ignored
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UnansweredHandled(HandoffBase):
    """A customer question from the unanswered list that an editor dealt with."""

    __tablename__ = "unanswered_handled"
    __table_args__ = (UniqueConstraint("message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(12))  # attached | drafted | dismissed
    article_slug: Mapped[str | None] = mapped_column(String(80), default=None)
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EmailDelivery(HandoffBase):
    """An agent reply emailed to a customer who left an address (nobody was online)."""

    __tablename__ = "email_deliveries"
    __table_args__ = (Index("ix_email_deliveries_conversation_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    to_address: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10))  # pending | sent | failed
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
