"""Per agent: conversations resolved, median reply time, CSAT of what they resolved."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff.analytics.period import Period
from handoff.analytics.sql import Sql, ratio
from handoff.analytics.table import Table
from handoff.models import RESOLVED, Agent, Conversation, Escalation

A = Agent.__table__.c
C = Conversation.__table__.c
E = Escalation.__table__.c
COLUMNS = [
    "agent_id",
    "name",
    "resolved",
    "handoffs_replied",
    "median_reply_s",
    "csat_avg",
    "csat_n",
]


def agents(session: Session, period: Period, *, only: int | None = None) -> Table:
    """One row per agent (only agent ``only`` when given).

    - resolved: conversations started in the range that a person resolved last, by this agent;
    - median reply: from the agent claiming a handoff (started in the range) to its first
      agent reply, over the handoffs the agent claimed;
    - CSAT: average rating of the conversations counted in ``resolved``.
    """
    sql = Sql.of(session)
    resolved = (
        select(
            C.resolved_by.label("agent_id"),
            func.count().label("resolved"),
            func.sum(C.csat_score).label("csat_sum"),
            func.count(C.csat_score).label("csat_n"),
        )
        .where(
            sql.started_in(C.created_at, period),
            C.status == RESOLVED,
            C.resolved_by.is_not(None),
        )
        .group_by(C.resolved_by)
        .subquery("resolved")
    )
    replies = select(
        E.claimed_by.label("g"), sql.seconds(E.claimed_at, E.first_reply_at).label("v")
    ).where(
        Sql.between(E.created_at, period),
        E.claimed_by.is_not(None),
        E.claimed_at.is_not(None),
        E.first_reply_at.is_not(None),
    )
    if only is not None:
        replies = replies.where(E.claimed_by == only)
    medians = sql.percentiles(session, replies, ps=(0.5,), grouped=True)
    query = (
        select(
            A.id,
            A.name,
            (A.is_active & A.role.in_(("agent", "admin"))).label("on_duty"),
            func.coalesce(resolved.c.resolved, 0).label("resolved"),
            ratio(resolved.c.csat_sum, resolved.c.csat_n).label("csat_avg"),
            func.coalesce(resolved.c.csat_n, 0).label("csat_n"),
        )
        .select_from(Agent.__table__.outerjoin(resolved, resolved.c.agent_id == A.id))
        .order_by(func.coalesce(resolved.c.resolved, 0).desc(), A.name, A.id)
    )
    if only is not None:
        query = query.where(A.id == only)
    table = Table("agents", COLUMNS)
    for row in session.execute(query):
        reply = medians.get(row.id, {})
        if not (row.on_duty or row.resolved or reply):  # editors, inactive without numbers
            continue
        table.add(
            agent_id=row.id,
            name=row.name,
            resolved=row.resolved,
            handoffs_replied=reply.get("n", 0),
            median_reply_s=reply.get("p50"),
            csat_avg=row.csat_avg,
            csat_n=row.csat_n,
        )
    return table
