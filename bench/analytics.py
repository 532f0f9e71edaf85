"""`make bench-analytics`: every KPI query over 1,000,000 synthetic conversations, on a fresh
SQLite file and a fresh PostgreSQL database, for a 30-day and a 365-day range.

Both databases are built by the real Alembic migrations; their secondary indexes are set
aside while a year of conversations is bulk-loaded (executemany on SQLite, COPY on
PostgreSQL) and then rebuilt with the migrations' own DDL. The mix: contained by the bot,
abandoned, escalated for every reason code (some twice), claimed or not, transferred between
agents, handed back to the bot, reopened within and after 7 days, rated or not; answers cite
help-center articles (Zipf-popular), some get thumbs.

Targets: every KPI query for 365 days under 300 ms on PostgreSQL and under 1 s on SQLite.
BENCH_ANALYTICS_N overrides the number of conversations (for a quick try); KEEP=1 keeps the
databases.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, create_engine, insert, text, update
from sqlalchemy.orm import Session

from api.db import make_engine, migrate
from bench.common import ROOT, progress, save, table
from handoff.analytics import agents, articles, conversations, handoffs, kpis
from handoff.analytics.period import Period
from handoff.models import REASONS, Agent
from knowledge_base.models import ArticleRow, RevisionRow

N = int(os.environ.get("BENCH_ANALYTICS_N", "1000000"))
DAYS = 365
CHUNK = 25_000
RUNS = 5
TARGET_MS = {"sqlite": 1000, "postgresql": 300}
PG_ADMIN = os.environ.get(
    "SUPPORTBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_DB = "bench_analytics"
TABLES = ("conversations", "messages", "escalations", "feedback")
COLUMNS = {
    "conversations": "id token_hash status created_at updated_at reason priority queued_at "
    "assigned_agent_id assigned_at resolved_at channel csat_score first_resolved_at "
    "reopened_at resolved_by transferred_at",
    "messages": "id conversation_id sender audience text reply_to agent_id data created_at "
    "article_slug",
    "escalations": "id conversation_id reason priority context created_at claimed_at "
    "claimed_by closed_at first_reply_at article_slug",
    "feedback": "id conversation_id message_id helpful created_at article_slug",
}
SLUGS = sorted(p.stem for p in (ROOT / "knowledge_base" / "articles").glob("*.md"))
N_AGENTS = 40
REASON_MIX = [0.34, 0.07, 0.15, 0.19, 0.10, 0.09, 0.06]  # in REASONS order
CSAT_BOT = [0.03, 0.04, 0.10, 0.30, 0.53]
CSAT_PERSON = [0.06, 0.06, 0.12, 0.30, 0.46]


class Generator:
    """One conversation at a time, as the app would have written it (same columns, same
    activity lines, same recorded analytics facts)."""

    def __init__(self, n: int, first_day: date, seed: int = 20261125) -> None:
        self.rng = random.Random(seed)
        self.n = n
        self.t0 = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC).timestamp()
        self.now = self.t0 + DAYS * 86400
        self.ids = {"messages": 0, "escalations": 0, "feedback": 0}
        weights = [1 / (k + 1) ** 1.1 for k in range(len(SLUGS))]
        self.slug_cum = list(_cumulative(weights))
        self.day_strings: dict[int, str] = {}

    def ts(self, t: float) -> str:
        """SQLAlchemy's SQLite format (UTC), which PostgreSQL also reads (TimeZone=UTC)."""
        day, rest = divmod(t, 86400)
        day = int(day)
        if day not in self.day_strings:
            self.day_strings[day] = date.fromordinal(719163 + day).isoformat()
        us = round(rest * 1_000_000)
        s, us = divmod(us, 1_000_000)
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        return f"{self.day_strings[day]} {h:02d}:{m:02d}:{s:02d}.{us:06d}"

    def start_times(self) -> list[float]:
        """Creation times over the year: busier on weekdays and in the day, growing."""
        r = self.rng
        out = []
        for _ in range(self.n):
            while True:
                day = r.random() * DAYS
                weekday = (date.fromordinal(int(self.t0 // 86400) + 719163 + int(day))).weekday()
                if r.random() < (0.6 + 0.4 * day / DAYS) * (1.0 if weekday < 5 else 0.7):
                    break
            hour = min(23.99, max(0.0, r.gauss(14, 4.5)))
            out.append(self.t0 + int(day) * 86400 + hour * 3600 + r.random() * 60)
        out.sort()
        return out

    def chunks(self) -> Iterator[dict[str, list[tuple]]]:
        starts = self.start_times()
        for first in range(0, self.n, CHUNK):
            rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
            for start in starts[first : first + CHUNK]:
                Conversation1(self, rows, start).play()
            yield rows

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def slug(self) -> str:
        x = self.rng.random()
        for slug, edge in zip(SLUGS, self.slug_cum, strict=True):
            if x <= edge:
                return slug
        return SLUGS[-1]


def _cumulative(weights: list[float]) -> Iterator[float]:
    total, run = sum(weights), 0.0
    for w in weights:
        run += w / total
        yield run


class Conversation1:
    """Plays one conversation into ``rows``."""

    def __init__(self, g: Generator, rows: dict[str, list[tuple]], start: float) -> None:
        self.g, self.rows, self.r = g, rows, g.rng
        self.id = str(uuid.UUID(int=self.r.getrandbits(128), version=4))
        self.t = start
        self.start = start
        self.c = {"status": "bot", "reason": None, "priority": 0, "queued_at": None,
                  "assigned_agent_id": None, "assigned_at": None, "resolved_at": None,
                  "csat": None, "first_resolved_at": None, "reopened_at": None,
                  "resolved_by": None, "transferred_at": None}  # fmt: skip
        self.last_answer: str | None = None

    def later(self, median_s: float, sigma: float = 0.8) -> float:
        self.t += median_s * self.r.lognormvariate(0, sigma)
        return self.t

    def message(self, sender: str, kind: str | None = None, *, slug: str | None = None,
                agent: int | None = None, audience: str = "public") -> int:  # fmt: skip
        mid = self.g.next_id("messages")
        if slug:
            data = '{"articles": [{"slug": "' + slug + '"}], "buttons": []}'
        elif kind:
            data = '{"kind": "' + kind + '"}'
        else:
            data = "{}"
        text_ = {"customer": "a question", "bot": "an answer", "agent": "a reply"}.get(sender, kind)
        self.rows["messages"].append(
            (mid, self.id, sender, audience, text_, None, agent, data, self.g.ts(self.t), slug)
        )
        if sender == "bot":
            self.last_answer = slug
        elif kind in ("escalated", "returned_to_bot", "reopened", "resolved", "resolved_by_bot"):
            self.last_answer = None
        return mid

    def answer(self, helpful_p: float) -> None:
        self.message("customer")
        self.later(1.5, 0.3)
        slug = self.g.slug()
        mid = self.message("bot", slug=slug)
        if self.r.random() < 0.15:
            self.later(20)
            helpful = self.r.random() < helpful_p
            self.rows["feedback"].append(
                (self.g.next_id("feedback"), self.id, mid, helpful, self.g.ts(self.t), slug)
            )
        self.later(40)

    def end_by_bot(self) -> None:
        if self.r.random() < 0.6:
            self.message("customer")
            self.later(1.2, 0.3)
            self.message("bot")
        else:
            self.t += 1800
        self.c["status"], self.c["resolved_at"] = "resolved_by_bot", self.t
        self.c["first_resolved_at"] = self.c["first_resolved_at"] or self.t
        self.message("system", "resolved_by_bot")
        self.message("system", "csat_prompt")
        if self.r.random() < 0.2:
            self.rate(CSAT_BOT)

    def rate(self, mix: list[float]) -> None:
        self.later(60)
        self.c["csat"] = self.r.choices(range(1, 6), mix)[0]
        self.message("system", "csat", audience="internal")

    def escalate(self, reason: str) -> None:
        r, g = self.r, self.g
        self.later(3, 0.5)
        created = self.t
        article = self.last_answer
        self.c.update(status="queued", reason=reason, priority=REASONS.index(reason) * 10,
                      queued_at=created, resolved_at=None, assigned_agent_id=None)  # fmt: skip
        self.message("system", "escalated")
        claimed_at = claimed_by = first_reply = None
        if r.random() < 0.92:
            claimed_at = self.later(100, 1.1)
            claimed_by = agent = r.randrange(N_AGENTS) + 1
            self.message("system", "claimed", agent=agent)
            if r.random() < 0.06:
                self.later(120)
                agent = (agent + r.randrange(N_AGENTS - 1)) % N_AGENTS + 1  # someone else
                self.c["transferred_at"] = self.c["transferred_at"] or self.t
                self.message("system", "reassigned", agent=agent)
            first_reply = self.later(50, 0.9)
            self.message("agent", agent=agent)
            for _ in range(r.randrange(3)):
                self.later(60)
                self.message("customer")
                self.later(90)
                self.message("agent", agent=agent)
            self.c.update(assigned_agent_id=agent, assigned_at=claimed_at)
        else:
            agent = r.randrange(N_AGENTS) + 1
            self.later(3600, 1.0)
        if claimed_at and r.random() < 0.07:
            self.later(120)
            self.message("system", "returned_to_bot", agent=agent)
            self.c.update(status="bot", assigned_agent_id=None)
            closed = self.t
            if r.random() < 0.5:
                self.answer(0.8)
                self.end_by_bot()
        else:
            self.later(300)
            closed = self.t
            self.c.update(status="resolved", resolved_at=self.t, resolved_by=agent)
            self.c["first_resolved_at"] = self.c["first_resolved_at"] or self.t
            self.message("system", "resolved", agent=agent)
            self.message("system", "csat_prompt")
            if r.random() < 0.35:
                self.rate(CSAT_PERSON)
        self.rows["escalations"].append(
            (g.next_id("escalations"), self.id, reason, REASONS.index(reason) * 10, "{}",
             g.ts(created), _ts(g, claimed_at), claimed_by, g.ts(closed), _ts(g, first_reply),
             article)
        )  # fmt: skip

    def play(self) -> None:
        r = self.r
        x = r.random()
        if x < 0.06:  # abandoned: asked once, never came back
            self.message("customer")
            self.later(1.5, 0.3)
            self.message("bot")
        elif x < 0.64:  # contained
            for _ in range(1 + (r.random() < 0.45)):
                self.answer(0.85)
            self.end_by_bot()
        else:
            reason = r.choices(REASONS, REASON_MIX)[0]
            if reason in ("negative_feedback", "repeated") or r.random() < 0.5:
                self.answer(0.3 if reason == "negative_feedback" else 0.6)
            else:
                self.message("customer")
            self.escalate(reason)
        if self.c["status"] in ("resolved", "resolved_by_bot") and r.random() < 0.05:
            self.t += r.uniform(3600, 7 * 86400) if r.random() < 0.5 else r.uniform(8, 30) * 86400
            if self.t < self.g.now:
                self.c["reopened_at"] = self.c["reopened_at"] or self.t
                self.c["status"] = "bot"
                self.message("system", "reopened")
                if r.random() < 0.6:
                    self.answer(0.8)
                    self.end_by_bot()
                else:
                    self.message("customer")
                    self.escalate(r.choice(["requested", "repeated"]))
        g, c = self.g, self.c
        self.rows["conversations"].append(
            (self.id, self.id.replace("-", "") * 2, c["status"], g.ts(self.start), g.ts(self.t),
             c["reason"], c["priority"], _ts(g, c["queued_at"]), c["assigned_agent_id"],
             _ts(g, c["assigned_at"]), _ts(g, c["resolved_at"]), "{}", c["csat"],
             _ts(g, c["first_resolved_at"]), _ts(g, c["reopened_at"]), c["resolved_by"],
             _ts(g, c["transferred_at"]))
        )  # fmt: skip


def _ts(g: Generator, t: float | None) -> str | None:
    return None if t is None else g.ts(t)


# ---- databases ---------------------------------------------------------------------------
def reference_data(engine: Engine, today: date) -> None:
    """Agents and the help-center articles (published revisions of various ages)."""
    rng = random.Random(7)
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    with Session(engine) as session, session.begin():
        session.execute(
            insert(Agent),
            [
                {
                    "email": f"agent{i}@bench.example",
                    "name": f"Agent {i:02d}",
                    "role": "admin" if i == 1 else "agent",
                    "password_hash": "-",
                    "is_active": True,
                    "created_at": now - timedelta(days=400),
                }
                for i in range(1, N_AGENTS + 1)
            ],  # fmt: skip
        )
        for number, slug in enumerate(SLUGS, start=1):
            written = now - timedelta(days=rng.choice([5, 20, 45, 80, 120, 200, 300]))
            session.execute(insert(ArticleRow).values(id=number, slug=slug, created_at=written))
            session.execute(
                insert(RevisionRow).values(
                    id=number, article_id=number, number=1, title=slug.replace("-", " ").title(),
                    body="...", category="", intent="", tags=[], questions=[], author="bench",
                    note="", created_at=written,
                )
            )  # fmt: skip
            session.execute(
                update(ArticleRow)
                .where(ArticleRow.id == number)
                .values(published_revision_id=number, published_at=written)
            )


def secondary_indexes(engine: Engine) -> list[tuple[str, str]]:
    """(name, DDL) of the indexes on the big tables that no constraint owns."""
    tables = ", ".join(f"'{t}'" for t in TABLES)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            q = f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({tables})"  # noqa: E501
        else:
            q = (
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                f"({tables}) AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        return [(name, ddl) for name, ddl in conn.execute(text(q))]


def load(engine: Engine, chunks: Callable[[], Iterator[dict[str, list[tuple]]]]) -> dict:
    """Bulk-loads the generated rows with the secondary indexes set aside."""
    indexes = secondary_indexes(engine)
    with engine.begin() as conn:
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
    started = time.perf_counter()
    counts = dict.fromkeys(TABLES, 0)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA cache_size=-400000")
        else:
            cur.execute("SET session_replication_role = replica")  # no FK triggers while loading
            cur.execute("SET TIME ZONE 'UTC'")
        for rows in chunks():
            for name in TABLES:
                cols = COLUMNS[name].split()
                if engine.dialect.name == "sqlite":
                    marks = ", ".join("?" for _ in cols)
                    cur.executemany(
                        f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})", rows[name]
                    )
                else:
                    with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in rows[name]:
                            copy.write_row(row)
                counts[name] += len(rows[name])
            raw.commit()
            progress(f"{engine.dialect.name}: {counts['conversations']:,} conversations loaded")
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        if engine.dialect.name != "sqlite":
            cur.execute("SET session_replication_role = DEFAULT")
            cur.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                ("messages", counts["messages"]),
            )  # noqa: E501
            for name in ("escalations", "feedback"):
                cur.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    (name, max(1, counts[name])),
                )  # noqa: E501
        for _name, ddl in indexes:
            cur.execute(ddl)
        raw.commit()
        indexed = time.perf_counter() - started
        started = time.perf_counter()
        if engine.dialect.name == "sqlite":
            cur.execute("ANALYZE")
            raw.commit()
        else:
            raw.commit()
            raw.driver_connection.autocommit = True
            for name in (*TABLES, "agents", "kb_articles", "kb_revisions"):
                cur.execute(f"VACUUM ANALYZE {name}")
        analyzed = time.perf_counter() - started
    finally:
        raw.close()
    return {"rows": counts, "load_s": round(loaded, 1), "index_s": round(indexed, 1),
            "analyze_s": round(analyzed, 1)}  # fmt: skip


@contextmanager
def sqlite_db() -> Iterator[Engine]:
    folder = ROOT / "var" / "bench-analytics"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "analytics.db"
    for leftover in folder.glob("analytics.db*"):
        leftover.unlink()
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()
        if not os.environ.get("KEEP"):
            for leftover in folder.glob("analytics.db*"):
                leftover.unlink()


@contextmanager
def postgres_db() -> Iterator[Engine]:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    engine = make_engine(admin.url.set(database=PG_DB).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        if not os.environ.get("KEEP"):
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        admin.dispose()


# ---- the KPI queries -----------------------------------------------------------------------
def _time(name: str) -> Callable[[Session, Period], object]:
    return lambda s, p: handoffs.time_percentiles(s, p, name)


def _per_bucket(name: str) -> Callable[[Session, Period], object]:
    return lambda s, p: handoffs.per_bucket(s, p, name)


QUERIES: dict[str, Callable[[Session, Period], object]] = {
    "series (volume, containment, CSAT)": conversations.series,
    "first-contact resolution": conversations.fcr,
    "CSAT distribution": conversations.csat,
    "handoff reasons": handoffs.reasons,
    "queue wait p50/p90": _time("queue_wait"),
    "first reply p50/p90": _time("first_reply"),
    "resolution time p50/p90": _time("resolution"),
    "queue wait p50/p90 per bucket": _per_bucket("queue_wait"),
    "first reply p50/p90 per bucket": _per_bucket("first_reply"),
    "articles (served, thumbs, handoffs)": articles.articles,
    "stale articles": articles.stale,
    "per agent": agents.agents,
    "totals": kpis.totals,
}
# Tables that run several of the queries above (not single KPI queries; PostgreSQL computes
# both wait_series metrics in one statement, SQLite ranks each apart).
COMPOSITE = {
    "wait_series table (both per bucket)": handoffs.wait_series,
    "summary (dashboard headline)": kpis.summary,
}


def time_queries(engine: Engine, periods: dict[str, Period]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {"load average": {"before": os.getloadavg()[0]}}
    for name, fn in {**QUERIES, **COMPOSITE}.items():
        out[name] = {}
        for label, period in periods.items():
            samples = []
            with Session(engine) as session:
                fn(session, period)  # warm-up
                for _ in range(RUNS):
                    started = time.perf_counter()
                    fn(session, period)
                    samples.append((time.perf_counter() - started) * 1000)
            out[name][label] = {"p50_ms": round(statistics.median(samples), 1),
                                "max_ms": round(max(samples), 1)}  # fmt: skip
        progress(f"{engine.dialect.name}: {name}: " + ", ".join(
            f"{k} {v['p50_ms']} ms" for k, v in out[name].items()))  # fmt: skip
    out["load average"]["after"] = os.getloadavg()[0]
    return out


def run(backend: str, db, first_day: date, periods: dict[str, Period]) -> dict:  # noqa: ANN001
    with db() as engine:
        migrate(engine)
        reference_data(engine, first_day + timedelta(days=DAYS))
        started = time.perf_counter()
        stats = load(engine, lambda: Generator(N, first_day).chunks())
        stats["build_s"] = round(time.perf_counter() - started, 1)
        progress(f"{backend}: built in {stats['build_s']} s: {stats}")
        return {"build": stats, "queries": time_queries(engine, periods)}


def report(results: dict, periods: dict[str, Period]) -> str:
    labels = list(periods)
    headers = ["KPI query"] + [f"{b} {label}" for b in results for label in labels]
    rows = []
    for name in {**QUERIES, **COMPOSITE}:
        rows.append([name] + [f"{results[b]['queries'][name][label]['p50_ms']:.1f}"
                              for b in results for label in labels])  # fmt: skip
    worst = {
        b: max(
            results[b]["queries"][q][label]["p50_ms"]
            for q in QUERIES
            for label in labels
            if label.startswith("365")
        )  # fmt: skip
        for b in results
    }
    verdict = ", ".join(
        f"{b}: slowest 365-day query {worst[b]} ms (target < {TARGET_MS[b]} ms): "
        + ("met" if worst[b] < TARGET_MS[b] else "NOT met")
        for b in results
    )
    builds = "\n".join(
        f"- {b}: {r['build']['rows']['conversations']:,} conversations, "
        f"{r['build']['rows']['messages']:,} messages, {r['build']['rows']['escalations']:,} "
        f"handoffs, {r['build']['rows']['feedback']:,} thumbs; generated and loaded in "
        f"{r['build']['load_s']} s, indexed in {r['build']['index_s']} s, analyzed in "
        f"{r['build']['analyze_s']} s"
        for b, r in results.items()
    )
    ranges = ", ".join(f"{k}: {p.start} to {p.end} by {p.granularity}" for k, p in periods.items())
    loads = "; ".join(
        f"{b} {r['queries']['load average']['before']:.1f} before, "
        f"{r['queries']['load average']['after']:.1f} after"
        for b, r in results.items()
    )
    return (
        f"# Analytics benchmark ({date.today()}, {os.cpu_count()} cores)\n\n"
        f"Median of {RUNS} runs after a warm-up, in ms, per KPI query ({ranges}).\n\n"
        + table(headers, rows)
        + f"\n\nThe last {len(COMPOSITE)} rows are API tables that run several of the "
        "queries above; the targets are per KPI query.\n\n"
        f"{verdict}\n\n{builds}\n\nMachine load average (1 min) while timing: {loads}. "
        "The machine is shared: a busy neighbour slows every number down.\n"
    )


def main() -> None:
    last_day = datetime.now(UTC).date() - timedelta(days=1)
    first_day = last_day - timedelta(days=DAYS - 1)
    periods = {
        "30 d": Period(last_day - timedelta(days=29), last_day, "day"),
        "365 d": Period(first_day, last_day, "day"),
        "365 d by week": Period(first_day, last_day, "week"),
    }
    results = {}
    only = os.environ.get("BENCH_ANALYTICS_ONLY")
    for backend, db in (("sqlite", sqlite_db), ("postgresql", postgres_db)):
        if only and only != backend:
            continue
        progress(f"{backend}: generating and loading {N:,} conversations")
        results[backend] = run(backend, db, first_day, periods)
    markdown = report(results, periods)
    print(markdown)
    save("analytics" if N == 1_000_000 else f"analytics-{N}", markdown,
         {"n": N, "results": results})  # fmt: skip


if __name__ == "__main__":
    main()
