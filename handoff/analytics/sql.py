"""The few SQL expressions that differ between SQLite and PostgreSQL: the UTC day of a
timestamp, weeks and months of days, seconds between two timestamps, exact percentiles.

Both databases are fast at scanning an index and slow at sorting a million rows, so the
queries group by keys that come in index order or aggregate with FILTER in one pass.
Constants that indexes and statistics must recognise go into the SQL text, not parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    Integer,
    Select,
    and_,
    cast,
    func,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from handoff.analytics.period import GRANULARITIES, Period

# PostgreSQL: whole UTC days (fixed 24 h strides from a UTC origin, whatever the session's
# TimeZone). The migration creates statistics on exactly this expression.
PG_DAY = "INTERVAL '1 day'"
PG_ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"
PG_RANDOM_PAGE_COST = 1.1
TUNED = "analytics_tuned_transaction"


def label(p: float) -> str:
    """0.5 -> "p50", 0.9 -> "p90"."""
    return f"p{round(p * 100)}"


def count_if(condition: ColumnElement) -> ColumnElement:
    return func.count().filter(condition)


def ratio(part: ColumnElement, whole: ColumnElement) -> ColumnElement:
    """part / whole as a float; NULL when whole is 0 or NULL."""
    return cast(part, Float) / func.nullif(whole, 0)


class Sql:
    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    @classmethod
    def of(cls, session: Session) -> Sql:
        """The dialect's expressions. On PostgreSQL this also sets random_page_cost to 1.1 for
        the rest of this transaction (index pages cost about what table pages do on SSDs or in
        cache; the default 4 is for spinning disks), so the KPI queries read their covering
        indexes instead of the tables. (A bigger work_mem made the percentile sorts slower:
        an in-memory quicksort of a year of handoffs lost to the default external merge.)"""
        sql = cls(session.get_bind().dialect.name)
        if not sql.sqlite:
            tuned = session.info.get(TUNED)
            if tuned is None or tuned is not session.get_transaction():
                session.execute(text(f"SET LOCAL random_page_cost = {PG_RANDOM_PAGE_COST}"))
                session.info[TUNED] = session.get_transaction()
        return sql

    # ---- days and buckets ---------------------------------------------------------------------
    def day(self, moment: ColumnElement) -> ColumnElement:
        """A key per UTC day of a stored timestamp, cheap per row. SQLite: the 'YYYY-MM-DD'
        prefix of the stored UTC text (the expression ix_conversations_analytics indexes);
        PostgreSQL: the day's first instant (date_bin)."""
        if self.sqlite:
            return func.substr(moment, literal_column("1"), literal_column("10"))
        return func.date_bin(literal_column(PG_DAY), moment, literal_column(PG_ORIGIN))

    def bucket(self, day: ColumnElement, granularity: str) -> ColumnElement:
        """The first day of a ``day`` key's bucket: the day, its ISO week's Monday, its month."""
        if granularity not in GRANULARITIES:
            raise ValueError(granularity)
        if self.sqlite:
            if granularity == "week":
                return func.date(day, literal_column("'-6 days'"), literal_column("'weekday 1'"))
            if granularity == "month":  # string work, cheaper per row than date()
                return func.substr(day, literal_column("1"), literal_column("7")).concat("-01")
            return day
        plain = func.timezone(literal_column("'UTC'"), day)  # timestamp without time zone
        if granularity == "day":
            return cast(plain, Date)
        return cast(func.date_trunc(literal_column(f"'{granularity}'"), plain), Date)

    def started_in(self, moment: ColumnElement, period: Period) -> ColumnElement:
        """``moment`` within the period, as a range the conversations index can seek: SQLite
        on its day expression, PostgreSQL on the timestamp."""
        if self.sqlite:
            day = self.day(moment)
            return and_(day >= period.start.isoformat(), day <= period.end.isoformat())
        return and_(moment >= period.since, moment < period.until)

    @staticmethod
    def between(moment: ColumnElement, period: Period) -> ColumnElement:
        return and_(moment >= period.since, moment < period.until)

    # ---- durations ------------------------------------------------------------------------------
    def seconds(self, start: ColumnElement, end: ColumnElement) -> ColumnElement:
        """Seconds from ``start`` to ``end`` (a float)."""
        if self.sqlite:
            return (func.julianday(end) - func.julianday(start)) * literal_column("86400.0")
        # date_part returns a float (EXTRACT returns numeric, much slower to sort).
        return func.date_part(literal_column("'epoch'"), end - start, type_=Float)

    # ---- percentiles --------------------------------------------------------------------------
    def percentiles(
        self,
        session: Session,
        source: Select,
        ps: Sequence[float] = (0.5, 0.9),
        grouped: bool = False,
        values: Sequence[str] = ("v",),
    ) -> dict[Any, dict[str, Any]]:
        """Exact percentiles (linear interpolation between the two nearest ranks, as
        PostgreSQL's percentile_cont) of the non-null ``v`` column of ``source``, per its
        ``g`` column when ``grouped``: {g: {"n": .., "p50": .., "p90": ..}} (g is None when
        not grouped). With several ``values`` columns: {g: {"<value>_n": .., "<value>_p50":
        ..}}.

        PostgreSQL sorts inside percentile_cont (one scan for all the value columns). SQLite
        ranks every value once with ROW_NUMBER() over (g, v), counts each group apart (where
        its ranks start and how many), and reads only the rows at the ranks around each
        percentile.
        """
        src = source.cte("src")
        if self.sqlite:  # read twice (counts, ranks): scanned twice, never copied
            src = src.prefix_with("NOT MATERIALIZED")
        if not self.sqlite:
            return self._pg_percentiles(session, src, ps, grouped, values)
        if values == ("v",):
            return self._sqlite_percentiles(session, src, ps, grouped)
        found: dict[Any, dict[str, Any]] = {}
        for name in values:
            keys = [src.c.g] if grouped else []
            one = select(*keys, src.c[name].label("v")).where(src.c[name].is_not(None))
            got = self._sqlite_percentiles(session, one.cte(f"src_{name}"), ps, grouped)
            for g, each in got.items():
                found.setdefault(g, {}).update({f"{name}_{k}": v for k, v in each.items()})
        return found

    def _pg_percentiles(self, session, src, ps, grouped, values):  # noqa: ANN001, ANN202
        cols = []
        for name in values:
            v = src.c[name]
            cols.append(func.count(v))
            cols += [func.percentile_cont(literal_column(repr(float(p)))).within_group(v)
                     for p in ps]  # fmt: skip
        query = select(src.c.g if grouped else literal_column("''"), *cols)
        found: dict[Any, dict[str, Any]] = {}
        single = values == ("v",)
        for row in session.execute(query.group_by(src.c.g) if grouped else query):
            out: dict[str, Any] = {}
            at = 1
            for name in values:
                prefix = "" if single else f"{name}_"
                out[f"{prefix}n"] = row[at] or 0
                for p in ps:
                    at += 1
                    out[f"{prefix}{label(p)}"] = row[at]
                at += 1
            found[row[0] if grouped else None] = out
        return found

    def _sqlite_percentiles(self, session, src, ps, grouped):  # noqa: ANN001, ANN202
        g = src.c.g if grouped else literal_column("''")
        found: dict[Any, dict[str, Any]] = {}
        n = func.count()
        if grouped:  # each group's size, and how many values rank before it
            before = func.sum(n).over(order_by=g, rows=(None, 0)) - n
            counts = select(g.label("g"), n.label("n"), before.label("before")).group_by(g)
        else:
            counts = select(g.label("g"), n.label("n"), literal_column("0").label("before"))
        counts = counts.select_from(src).cte("counts")
        wanted_ps = union_all(
            *[select(literal_column(repr(float(p))).label("p")) for p in ps]
        ).subquery("ps")
        position = wanted_ps.c.p * (counts.c.n - 1)
        wanted = (
            select(
                counts.c.g,
                counts.c.n,
                wanted_ps.c.p,
                (counts.c.before + 1 + cast(position, Integer)).label("lo"),
                (position - cast(position, Integer)).label("frac"),
            )
            .select_from(counts.join(wanted_ps, literal_column("1") == literal_column("1")))
            .cte("wanted")
        )
        ranked = select(
            src.c.v, func.row_number().over(order_by=(g, src.c.v)).label("rn")
        ).subquery("ranked")
        ranks = union_all(select(wanted.c.lo), select(wanted.c.lo + 1))
        picked = select(ranked.c.rn, ranked.c.v).where(ranked.c.rn.in_(ranks)).cte("picked")
        a, b = picked.alias("a"), picked.alias("b")
        query = select(
            wanted.c.g,
            wanted.c.n,
            wanted.c.p,
            (a.c.v + wanted.c.frac * (func.coalesce(b.c.v, a.c.v) - a.c.v)).label("value"),
        ).select_from(
            wanted.join(a, a.c.rn == wanted.c.lo).outerjoin(
                b, and_(b.c.rn == wanted.c.lo + 1, wanted.c.frac > 0)
            )
        )
        for row in session.execute(query):
            key = row.g if grouped else None
            found.setdefault(key, {"n": row.n})[label(row.p)] = row.value
        return found


__all__ = ["Sql", "count_if", "label", "ratio"]
