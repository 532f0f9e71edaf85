"""Every analytics table by name, and the headline numbers (one row per KPI)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from handoff.analytics import agents, articles, conversations, handoffs
from handoff.analytics.period import Period
from handoff.analytics.sql import Sql, count_if, ratio
from handoff.analytics.table import Table
from handoff.models import RESOLVED, RESOLVED_BY_BOT, Conversation

C = Conversation.__table__.c

# name -> (what it is, function(session, period) -> Table)
TABLES: dict[str, tuple[str, Callable[..., Table]]] = {
    "series": ("volume, containment, escalation rate and CSAT per bucket", conversations.series),
    "fcr": ("first-contact resolution per bucket", conversations.fcr),
    "csat": ("CSAT distribution, bot- and person-resolved", conversations.csat),
    "reasons": ("handoffs by reason code", handoffs.reasons),
    "wait_times": ("queue wait, first reply, resolution time p50/p90", handoffs.wait_times),
    "wait_series": ("queue wait and first reply p50/p90 per bucket", handoffs.wait_series),
    "articles": ("articles served, thumbs, handoffs after", articles.articles),
    "stale_articles": ("often served, not updated for 90 days", articles.stale),
    "agents": ("per agent: resolved, median reply, CSAT", agents.agents),
}


def totals(session: Session, period: Period) -> dict:
    """The conversation counts and CSAT averages over the whole range (one pass)."""
    sql = Sql.of(session)
    bot_end = C.status == RESOLVED_BY_BOT
    person_end = C.status == RESOLVED
    row = session.execute(
        select(
            func.count().label("conversations"),
            count_if(and_(bot_end, C.queued_at.is_(None))).label("contained"),
            count_if(C.queued_at.is_not(None)).label("escalated"),
            ratio(
                func.sum(C.csat_score).filter(bot_end), func.count(C.csat_score).filter(bot_end)
            ).label("csat_bot_avg"),
            ratio(
                func.sum(C.csat_score).filter(person_end),
                func.count(C.csat_score).filter(person_end),
            ).label("csat_person_avg"),
        ).where(sql.started_in(C.created_at, period))
    ).one()
    return dict(row._mapping)


def summary(session: Session, period: Period) -> Table:
    """The headline KPIs of the range, one per row."""
    found = totals(session, period)
    n = found["conversations"] or 0
    fcr = conversations.fcr(session, period).rows
    resolved = sum(r["resolved"] or 0 for r in fcr)
    first_contact = sum(r["fcr"] or 0 for r in fcr)
    reasons = handoffs.reasons(session, period)
    table = Table("summary", ["metric", "value"], notes=_range(period))
    values = {
        "conversations": n,
        "contained": found["contained"] or 0,
        "containment": (found["contained"] or 0) / n if n else None,
        "escalated": found["escalated"] or 0,
        "escalation_rate": (found["escalated"] or 0) / n if n else None,
        "handoffs": reasons.notes["total"],
        "fcr_rate": first_contact / resolved if resolved else None,
        "csat_bot_avg": found["csat_bot_avg"],
        "csat_person_avg": found["csat_person_avg"],
    }
    times = handoffs.handoff_times(session, period, grouped=False).get(None, {})
    resolution = handoffs.time_percentiles(session, period, "resolution")
    times.update({f"resolution_{k}": v for k, v in resolution.items()})
    for metric in handoffs.TIMES:
        values[f"{metric}_n"] = times.get(f"{metric}_n") or 0
        values[f"{metric}_p50_s"] = times.get(f"{metric}_p50")
        values[f"{metric}_p90_s"] = times.get(f"{metric}_p90")
    for metric, value in values.items():
        table.add(metric=metric, value=value)
    return table


def _range(period: Period) -> dict:
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "granularity": period.granularity,
    }


def table(session: Session, name: str, period: Period, **options: object) -> Table:
    """The named table over ``period`` (``options``: ``only`` for agents)."""
    if name == "summary":
        return summary(session, period)
    found = TABLES[name][1](session, period, **options)
    found.notes = {**_range(period), **found.notes}
    return found
