"""KPIs over the handoffs (escalations) that started in the range: reasons, queue wait,
first agent reply; and resolution time (from handoff to a person's resolution).

Times are exact percentiles computed in SQL (handoff/analytics/sql.py).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from handoff.analytics import conversations
from handoff.analytics.period import Period
from handoff.analytics.sql import Sql, count_if
from handoff.analytics.table import Table
from handoff.models import REASONS, Escalation

E = Escalation.__table__.c
TIMES = {
    "queue_wait": "handoff to an agent claiming it",
    "first_reply": "handoff to the first agent reply",
    "resolution": "handoff to resolution by a person",
}


def _in(period: Period) -> object:
    return and_(E.created_at >= period.since, E.created_at < period.until)


def reasons(session: Session, period: Period) -> Table:
    """Handoffs per reason code (a conversation handed over twice counts twice); one pass
    counting every reason at once."""
    row = session.execute(
        select(func.count(), *[count_if(E.reason == r) for r in REASONS]).where(_in(period))
    ).one()
    total, counts = row[0], dict(zip(REASONS, row[1:], strict=True))
    table = Table("reasons", ["reason", "escalations", "share"], notes={"total": total})
    for reason in sorted(REASONS, key=lambda r: (-counts[r], r)):
        n = counts[reason]
        table.add(reason=reason, escalations=n, share=n / total if total else None)
    return table


def _handoff_time(session: Session, period: Period, end, grouped: bool) -> Select:  # noqa: ANN001
    """Seconds from each handoff in the range to ``end`` (claim, first reply) as ``v``, its
    bucket as ``g``."""
    sql = Sql.of(session)
    keys = [sql.bucket(sql.day(E.created_at), period.granularity).label("g")] if grouped else []
    return select(*keys, sql.seconds(E.created_at, end).label("v")).where(
        _in(period), end.is_not(None)
    )


def _source(session: Session, period: Period, metric: str, grouped: bool) -> Select:
    if metric == "queue_wait":
        return _handoff_time(session, period, E.claimed_at, grouped)
    if metric == "first_reply":
        return _handoff_time(session, period, E.first_reply_at, grouped)
    return conversations.resolution_times(session, period, grouped)


def time_percentiles(session: Session, period: Period, metric: str) -> dict:
    """{n, p50, p90} in seconds for one of TIMES over the whole range."""
    found = Sql.of(session).percentiles(session, _source(session, period, metric, False))
    return {"n": 0, "p50": None, "p90": None, **found.get(None, {})}


def wait_times(session: Session, period: Period) -> Table:
    """p50/p90 of queue wait, first agent reply and resolution time over the range."""
    table = Table("wait_times", ["metric", "what", "n", "p50_s", "p90_s"])
    for metric, what in TIMES.items():
        found = time_percentiles(session, period, metric)
        table.add(metric=metric, what=what, n=found["n"], p50_s=found["p50"], p90_s=found["p90"])
    return table


def per_bucket(session: Session, period: Period, metric: str) -> dict:
    """{bucket: {n, p50, p90}} for one of TIMES (one query)."""
    source = _source(session, period, metric, True)
    return Sql.of(session).percentiles(session, source, grouped=True)


def handoff_times(session: Session, period: Period, grouped: bool) -> dict:
    """Queue wait and first reply percentiles of the range's handoffs (per bucket when
    ``grouped``): {g: {"queue_wait_n": .., "queue_wait_p50": .., "first_reply_p90": ..}}."""
    sql = Sql.of(session)
    keys = [sql.bucket(sql.day(E.created_at), period.granularity).label("g")] if grouped else []
    source = select(
        *keys,
        sql.seconds(E.created_at, E.claimed_at).label("queue_wait"),
        sql.seconds(E.created_at, E.first_reply_at).label("first_reply"),
    ).where(_in(period), E.claimed_at.is_not(None) | E.first_reply_at.is_not(None))
    values = ("queue_wait", "first_reply")
    return sql.percentiles(session, source, grouped=grouped, values=values)


def wait_series(session: Session, period: Period) -> Table:
    """Per bucket: p50/p90 of queue wait and of first agent reply."""
    columns = ["bucket"]
    for metric in ("queue_wait", "first_reply"):
        columns += [f"{metric}_n", f"{metric}_p50_s", f"{metric}_p90_s"]
    found: dict[date, dict] = {}
    for g, values in handoff_times(session, period, grouped=True).items():
        found[conversations.as_day(g)] = {
            (k if k.endswith("_n") else f"{k}_s"): v for k, v in values.items()
        }
    table = Table("wait_series", columns, notes={"granularity": period.granularity})
    zeros = {"queue_wait_n": 0, "first_reply_n": 0}
    return conversations.fill(table, period, found, zeros)
