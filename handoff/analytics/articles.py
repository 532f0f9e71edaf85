"""Help-center articles as customers met them: how often the bot answered from each, the
thumbs on those answers, how often a handoff followed, and which often-served articles have
not been updated for a long time.

An answer "comes from" the first article it cites (messages.article_slug); a handoff
"follows" an answer when it is the bot's last answer before the handoff in that session
(escalations.article_slug). Both are recorded as they happen (handoff/analytics/record.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from handoff.analytics.period import Period
from handoff.analytics.sql import count_if, ratio
from handoff.analytics.table import Table
from handoff.models import Escalation, Feedback, Message
from knowledge_base.models import ArticleRow, RevisionRow

M = Message.__table__.c
F = Feedback.__table__.c
E = Escalation.__table__.c
A = ArticleRow.__table__.c
R = RevisionRow.__table__.c
STALE_DAYS = 90
MIN_SERVED = 10
COLUMNS = [
    "slug",
    "title",
    "served",
    "thumbs_up",
    "thumbs_down",
    "helpful_rate",
    "handoffs_after",
    "handoff_rate",
    "last_updated",
    "stale",
]


def _stats(period: Period):  # noqa: ANN202
    """Per article slug: answers served, thumbs up/down, handoffs that followed."""
    zero = literal_column("0")

    def between(column):  # noqa: ANN001, ANN202
        return and_(column >= period.since, column < period.until)

    served = (
        select(M.article_slug.label("slug"), func.count().label("served"),
               zero.label("up"), zero.label("down"), zero.label("handoffs"))
        .where(M.article_slug.is_not(None), between(M.created_at))
        .group_by(M.article_slug)
    )  # fmt: skip
    thumbs = (
        select(F.article_slug.label("slug"), zero.label("served"),
               count_if(F.helpful).label("up"), count_if(~F.helpful).label("down"),
               zero.label("handoffs"))
        .where(F.article_slug.is_not(None), between(F.created_at))
        .group_by(F.article_slug)
    )  # fmt: skip
    handoffs = (
        select(E.article_slug.label("slug"), zero.label("served"), zero.label("up"),
               zero.label("down"), func.count().label("handoffs"))
        .where(E.article_slug.is_not(None), between(E.created_at))
        .group_by(E.article_slug)
    )  # fmt: skip
    parts = union_all(served, thumbs, handoffs).subquery("parts")
    return (
        select(
            parts.c.slug,
            func.sum(parts.c.served).label("served"),
            func.sum(parts.c.up).label("up"),
            func.sum(parts.c.down).label("down"),
            func.sum(parts.c.handoffs).label("handoffs"),
        )
        .group_by(parts.c.slug)
        .subquery("stats")
    )


def _query(period: Period, now: datetime, *, stale_only: bool, min_served: int, limit: int):  # noqa: ANN202
    stats = _stats(period)
    cutoff = now - timedelta(days=STALE_DAYS)
    published = A.published_revision_id.is_not(None) & A.deleted_at.is_(None)
    is_stale = published & (R.created_at < cutoff) & (stats.c.served >= min_served)
    query = (
        select(
            stats.c.slug,
            R.title,
            stats.c.served,
            stats.c.up,
            stats.c.down,
            ratio(stats.c.up, stats.c.up + stats.c.down).label("helpful_rate"),
            stats.c.handoffs,
            ratio(stats.c.handoffs, stats.c.served).label("handoff_rate"),
            case((published, R.created_at)).label("last_updated"),
            case((is_stale, 1), else_=0).label("stale"),
        )
        .select_from(
            stats.outerjoin(ArticleRow.__table__, A.slug == stats.c.slug).outerjoin(
                RevisionRow.__table__, R.id == A.published_revision_id
            )
        )
        .order_by(stats.c.served.desc(), stats.c.slug)
        .limit(limit)
    )
    return query.where(is_stale) if stale_only else query


def _table(name: str, session: Session, query) -> Table:  # noqa: ANN001
    table = Table(name, COLUMNS)
    for row in session.execute(query):
        last = row.last_updated
        if isinstance(last, str):  # SQLite returns a CASE of timestamps as text
            last = datetime.fromisoformat(last)
        if isinstance(last, datetime) and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        table.add(
            slug=row.slug,
            title=row.title,
            served=row.served,
            thumbs_up=row.up,
            thumbs_down=row.down,
            helpful_rate=row.helpful_rate,
            handoffs_after=row.handoffs,
            handoff_rate=row.handoff_rate,
            last_updated=last,
            stale=bool(row.stale),
        )
    return table


def articles(
    session: Session, period: Period, *, now: datetime | None = None, limit: int = 200
) -> Table:
    """Every article answers came from in the range, most served first."""
    now = now or datetime.now(UTC)
    query = _query(period, now, stale_only=False, min_served=MIN_SERVED, limit=limit)
    return _table("articles", session, query)


def stale(
    session: Session,
    period: Period,
    *,
    now: datetime | None = None,
    min_served: int = MIN_SERVED,
    limit: int = 200,
) -> Table:
    """Published articles served at least ``min_served`` times in the range whose published
    text is older than 90 days."""
    now = now or datetime.now(UTC)
    query = _query(period, now, stale_only=True, min_served=min_served, limit=limit)
    table = _table("stale_articles", session, query)
    table.notes = {"stale_days": STALE_DAYS, "min_served": min_served}
    return table
