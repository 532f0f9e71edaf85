"""KPIs over the conversations that started in the range: volume, containment, escalation
rate, CSAT (bot- and person-resolved), first-contact resolution, resolution time.

The queries read one covering index (ix_conversations_analytics) by date range and sum per
UTC day in one pass; the days are then rolled up into the requested buckets (a few hundred
rows at most).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from handoff.analytics.period import Period
from handoff.analytics.sql import Sql, count_if, ratio
from handoff.analytics.table import Table
from handoff.models import RESOLVED, RESOLVED_BY_BOT, Conversation

C = Conversation.__table__.c
REOPEN_WINDOW_DAYS = 7
BOT, PERSON = "bot", "person"
BOT_END = C.status == RESOLVED_BY_BOT
PERSON_END = C.status == RESOLVED
NEVER_ESCALATED = C.queued_at.is_(None)  # queued_at is set by a handoff and never cleared


def as_day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def per_day(sql: Sql, period: Period, *aggregates) -> Select:  # noqa: ANN002
    """``aggregates`` per UTC day over the conversations started in the period."""
    day = sql.day(C.created_at)
    return (
        select(day.label("day"), *aggregates)
        .where(sql.started_in(C.created_at, period))
        .group_by(day)
    )


def rolled_up(sql: Sql, period: Period, daily, sums: list[str], extra=()) -> Select:  # noqa: ANN001
    """The daily rows summed per bucket, ordered by bucket."""
    d = daily.subquery("daily")
    bucket = sql.bucket(d.c.day, period.granularity)
    return (
        select(bucket.label("bucket"), *[func.sum(d.c[s]).label(s) for s in sums], *extra(d))
        .group_by(bucket)
        .order_by(bucket)
    )


def fill(table: Table, period: Period, found: dict[date, dict], zeros: dict) -> Table:
    """One row per bucket of the period, zeros where nothing happened."""
    for bucket in period.buckets():
        table.add(**{**zeros, **found.get(bucket, {}), "bucket": bucket})
    return table


SERIES_SUMS = [
    "conversations",
    "contained",
    "escalated",
    "resolved_by_bot",
    "resolved_by_person",
    "csat_bot_n",
    "csat_person_n",
]
SERIES_COLUMNS = [
    "bucket",
    "conversations",
    "contained",
    "containment",
    "escalated",
    "escalation_rate",
    "resolved_by_bot",
    "resolved_by_person",
    "csat_bot_avg",
    "csat_bot_n",
    "csat_person_avg",
    "csat_person_n",
]


def series(session: Session, period: Period) -> Table:
    """Per bucket: conversations started; contained (ended by the bot, never handed to a
    person) and containment; handed to a person at least once and the escalation rate; how
    many ended with the bot / a person; the average CSAT of each."""
    sql = Sql.of(session)
    daily = per_day(
        sql,
        period,
        func.count().label("conversations"),
        count_if(and_(BOT_END, NEVER_ESCALATED)).label("contained"),
        count_if(C.queued_at.is_not(None)).label("escalated"),
        count_if(BOT_END).label("resolved_by_bot"),
        count_if(PERSON_END).label("resolved_by_person"),
        func.sum(C.csat_score).filter(BOT_END).label("csat_bot_sum"),
        func.count(C.csat_score).filter(BOT_END).label("csat_bot_n"),
        func.sum(C.csat_score).filter(PERSON_END).label("csat_person_sum"),
        func.count(C.csat_score).filter(PERSON_END).label("csat_person_n"),
    )

    def rates(d):  # noqa: ANN001, ANN202
        s = func.sum
        return (
            ratio(s(d.c.contained), s(d.c.conversations)).label("containment"),
            ratio(s(d.c.escalated), s(d.c.conversations)).label("escalation_rate"),
            ratio(s(d.c.csat_bot_sum), s(d.c.csat_bot_n)).label("csat_bot_avg"),
            ratio(s(d.c.csat_person_sum), s(d.c.csat_person_n)).label("csat_person_avg"),
        )

    query = rolled_up(sql, period, daily, SERIES_SUMS, rates)
    found = {as_day(r.bucket): dict(r._mapping) for r in session.execute(query)}
    table = Table("series", SERIES_COLUMNS, notes={"granularity": period.granularity})
    return fill(table, period, found, dict.fromkeys(SERIES_SUMS, 0))


def fcr(session: Session, period: Period) -> Table:
    """First-contact resolution per bucket: of the conversations that ended (by the bot or a
    person), the share not reopened within 7 days of that first end and not passed from one
    agent to another before it."""
    sql = Sql.of(session)
    end = C.first_resolved_at
    reopened = and_(
        C.reopened_at.is_not(None),
        sql.seconds(end, C.reopened_at) <= REOPEN_WINDOW_DAYS * 86400,
    )
    transferred = and_(C.transferred_at.is_not(None), C.transferred_at <= end)
    daily = per_day(
        sql,
        period,
        func.count().label("resolved"),
        count_if(and_(~reopened, ~transferred)).label("fcr"),
        count_if(reopened).label("reopened_7d"),
        count_if(and_(~reopened, transferred)).label("transferred"),
    ).where(end.is_not(None))
    sums = ["resolved", "fcr", "reopened_7d", "transferred"]

    def rate(d):  # noqa: ANN001, ANN202
        return (ratio(func.sum(d.c.fcr), func.sum(d.c.resolved)).label("fcr_rate"),)

    query = rolled_up(sql, period, daily, sums, rate)
    found = {as_day(r.bucket): dict(r._mapping) for r in session.execute(query)}
    columns = ["bucket", "resolved", "fcr", "fcr_rate", "reopened_7d", "transferred"]
    table = Table("fcr", columns, notes={"granularity": period.granularity})
    return fill(table, period, found, dict.fromkeys(sums, 0))


def csat(session: Session, period: Period) -> Table:
    """CSAT distribution (1-5) of the conversations ended by the bot and by a person."""
    sql = Sql.of(session)
    combos = [(who, end, score) for who, end in ((BOT, BOT_END), (PERSON, PERSON_END))
              for score in range(1, 6)]  # fmt: skip
    row = session.execute(
        select(*[count_if(and_(end, C.csat_score == score)) for _, end, score in combos]).where(
            sql.started_in(C.created_at, period),
            C.csat_score.is_not(None),  # only the rated ones (a partial index holds them)
            C.status.in_((RESOLVED, RESOLVED_BY_BOT)),
        )
    ).one()
    table = Table("csat", ["resolved_by", "score", "ratings", "share"])
    totals = {BOT: sum(row[:5]), PERSON: sum(row[5:])}
    for (who, _, score), n in zip(combos, row, strict=True):
        share = n / totals[who] if totals[who] else None
        table.add(resolved_by=who, score=score, ratings=n, share=share)
    return table


def resolution_times(session: Session, period: Period, grouped: bool = False) -> Select:
    """Seconds from a conversation's latest handoff to its resolution by a person (``v``),
    for the conversations started in the range; ``g`` its bucket."""
    sql = Sql.of(session)
    keys = [sql.bucket(sql.day(C.created_at), period.granularity).label("g")] if grouped else []
    return select(*keys, sql.seconds(C.queued_at, C.resolved_at).label("v")).where(
        sql.started_in(C.created_at, period),
        PERSON_END,
        C.queued_at.is_not(None),
        C.resolved_at.is_not(None),
    )
