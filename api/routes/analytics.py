"""Support analytics API: every KPI table over a date range, as JSON or CSV.

``GET /api/analytics`` lists the tables; ``GET /api/analytics/{table}`` (or ``{table}.csv``)
returns one, with ``from`` / ``to`` (YYYY-MM-DD, UTC days, both included; default the last 30
days), ``granularity`` (day, week, month) and ``format`` (json, csv). Agents and admins only;
an agent sees the team-wide numbers and only their own row of the per-agent table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from handoff.analytics import kpis
from handoff.analytics.period import GRANULARITIES, MAX_DAYS, Period, PeriodError
from handoff.deps import AgentOnDuty, UowDep

router = APIRouter(prefix="/api/analytics", tags=["analytics"])
DEFAULT_DAYS = 30
NAMES = ["summary", *kpis.TABLES]
NO_STORE = {"Cache-Control": "no-store"}


def _date(name: str, value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(
            422, f"'{name}' must be a date like 2026-11-25 (got {value[:40]!r})"
        ) from None


def period_of(start: str | None, end: str | None, granularity: str) -> Period:
    """The requested range; 422 with a message for a bad date, order or length."""
    last = _date("to", end) or datetime.now(UTC).date()
    first = _date("from", start) or last - timedelta(days=DEFAULT_DAYS - 1)
    try:
        return Period(first, last, granularity)
    except PeriodError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("")
def index(agent: AgentOnDuty) -> dict[str, Any]:
    """The tables, what each holds, and the parameters."""
    return {
        "tables": {"summary": "the headline KPIs", **{k: v[0] for k, v in kpis.TABLES.items()}},
        "parameters": {
            "from": f"first UTC day, YYYY-MM-DD (default: {DEFAULT_DAYS} days before 'to')",
            "to": "last UTC day, included (default: today)",
            "granularity": " | ".join(GRANULARITIES),
            "format": "json | csv (or add .csv to the table name)",
            "max_days": MAX_DAYS,
        },
        "per_agent": "all agents" if agent.role == "admin" else "your own row only",
    }


@router.get("/{name}", response_model=None)
def analytics_table(
    name: str,
    agent: AgentOnDuty,
    uow: UowDep,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    granularity: Annotated[str, Query(max_length=10)] = "day",
    format: Annotated[str, Query(max_length=10)] = "json",  # noqa: A002
) -> Response:
    """One KPI table. ``{name}.csv`` is the same as ``?format=csv``."""
    if name.endswith(".csv"):
        name, format = name.removesuffix(".csv"), "csv"  # noqa: A001
    if name not in NAMES:
        raise HTTPException(404, f"no analytics table {name!r}; one of {', '.join(NAMES)}")
    if format not in ("json", "csv"):
        raise HTTPException(422, "'format' must be json or csv")
    if granularity not in GRANULARITIES:
        raise HTTPException(422, f"'granularity' must be one of {', '.join(GRANULARITIES)}")
    period = period_of(start, end, granularity)
    options = {"only": agent.id} if name == "agents" and agent.role != "admin" else {}
    result = kpis.table(uow.session, name, period, **options)
    if format == "csv":
        filename = f"supportbot-{name}-{period.start}-{period.end}.csv"
        return Response(
            result.csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
        )
    return JSONResponse(result.json(), headers=NO_STORE)
