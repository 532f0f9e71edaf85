"""Articles in the database: the source of truth (Markdown files are import/export)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class KBBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ArticleRow(KBBase):
    """One help article; its content lives in revisions."""

    __tablename__ = "kb_articles"
    __table_args__ = (UniqueConstraint("slug"), Index("ix_kb_articles_slug", "slug"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The revision customers and the search index see; None = never published.
    published_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_revisions.id", use_alter=True, ondelete="SET NULL"), default=None
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    revisions: Mapped[list[RevisionRow]] = relationship(
        back_populates="article",
        foreign_keys="RevisionRow.article_id",
        order_by="RevisionRow.number",
        cascade="all, delete-orphan",
    )
    published_revision: Mapped[RevisionRow | None] = relationship(
        foreign_keys=[published_revision_id], post_update=True
    )


class RevisionRow(KBBase):
    """An immutable version of an article's content, with its author and time."""

    __tablename__ = "kb_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(80), default="")
    intent: Mapped[str] = mapped_column(String(80), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Customer questions this article answers (editors add them from the unanswered list);
    # searched beside the article's passages.
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    author: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    article: Mapped[ArticleRow] = relationship(
        back_populates="revisions", foreign_keys=[article_id]
    )
