"""Support analytics: every KPI against values computed by hand on a fixed week of ten
conversations (contained, abandoned, reopened within and after 7 days, transferred, unrated,
escalated twice, never claimed, handed back to the bot), on SQLite and PostgreSQL; and the
facts the conversation services record as things happen."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, DateTime, insert, select, update
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session

import api.db
from api.db import make_engine
from handoff.analytics import agents, articles, conversations, handoffs, kpis
from handoff.analytics.period import Period, PeriodError
from handoff.models import Agent, Conversation, Escalation, Feedback, Message
from handoff.uow import unit_of_work
from knowledge_base.models import ArticleRow, RevisionRow
from tests.db import postgres_engine

WEEK = Period(date(2024, 3, 4), date(2024, 3, 10), "day")  # Monday to Sunday


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, second, tzinfo=UTC)


def conv(cid: str, created: datetime, status: str, **values) -> dict:
    row = {"id": cid, "token_hash": "x" * 64, "status": status, "created_at": created,
           "updated_at": created, "priority": 0, "channel": {}}  # fmt: skip
    return {**row, **values}


def esc(cid: str, reason: str, created: datetime, **values) -> dict:
    return {"conversation_id": cid, "reason": reason, "priority": 0, "context": {},
            "created_at": created, **values}  # fmt: skip


@pytest.fixture(scope="module")
def week(handoff):
    """The fixed week, written straight into the store (the services are tested below)."""
    ana_h, ben_h = handoff.agent("ana.kpi@example.com"), handoff.agent("ben.kpi@example.com")
    handoff.agent("root.kpi@example.com", role="admin")
    handoff.agent("ed.kpi@example.com", role="editor")
    state = handoff.client.app.state.supportbot
    with unit_of_work(state.sessions, state.bus) as uow:
        s = uow.session
        ids = dict(s.execute(select(Agent.email, Agent.id)).all())
        ana, ben = ids["ana.kpi@example.com"], ids["ben.kpi@example.com"]
        bot_end = {"status": "resolved_by_bot"}
        s.execute(insert(Conversation), [
            # c1, c2: contained (c2 unrated); c3: abandoned with the bot
            conv("c1", at(4, 10), **bot_end, resolved_at=at(4, 10, 5),
                 first_resolved_at=at(4, 10, 5), csat_score=5),
            conv("c2", at(4, 11), **bot_end, resolved_at=at(4, 11, 10),
                 first_resolved_at=at(4, 11, 10)),
            conv("c3", at(5, 9), "bot"),
            # c4: one handoff, resolved by Ana, rated 4
            conv("c4", at(5, 10), "resolved", queued_at=at(5, 10, 2), resolved_at=at(5, 10, 12),
                 first_resolved_at=at(5, 10, 12), resolved_by=ana, assigned_agent_id=ana,
                 csat_score=4),
            # c5: transferred from Ana to Ben, resolved by Ben, rated 2
            conv("c5", at(6, 9), "resolved", queued_at=at(6, 9, 1), resolved_at=at(6, 9, 21),
                 first_resolved_at=at(6, 9, 21), resolved_by=ben, csat_score=2,
                 transferred_at=at(6, 9, 5)),
            # c6: contained, reopened 2 days after its end, ended by the bot again, rated 3
            conv("c6", at(6, 12), **bot_end, resolved_at=at(8, 12, 30),
                 first_resolved_at=at(6, 12, 10), reopened_at=at(8, 12), csat_score=3),
            # c7: handed over twice (reopened 29 minutes after the first end), unrated
            conv("c7", at(7, 8), "resolved", queued_at=at(7, 9, 1), resolved_at=at(7, 9, 26),
                 first_resolved_at=at(7, 8, 31), reopened_at=at(7, 9), resolved_by=ana),
            # c8: handed over, nobody claimed it yet
            conv("c8", at(8, 15), "queued", queued_at=at(8, 15, 1)),
            # c9: contained, reopened 9 days after its end (still first-contact resolved)
            conv("c9", at(9, 10), **bot_end, resolved_at=at(18, 10, 30),
                 first_resolved_at=at(9, 10, 10), reopened_at=at(18, 10), csat_score=4),
            # c10: handed over, Ana handed it back, the bot ended it; rated 5
            conv("c10", at(10, 10), **bot_end, queued_at=at(10, 10, 1), resolved_at=at(10, 10, 20),
                 first_resolved_at=at(10, 10, 20), csat_score=5),
        ])  # fmt: skip
        s.execute(insert(Escalation), [
            esc("c4", "requested", at(5, 10, 2), claimed_at=at(5, 10, 3), claimed_by=ana,
                first_reply_at=at(5, 10, 4), closed_at=at(5, 10, 12),
                article_slug="return-policy"),
            esc("c5", "no_kb_answer", at(6, 9, 1), claimed_at=at(6, 9, 1, 30), claimed_by=ana,
                first_reply_at=at(6, 9, 2), closed_at=at(6, 9, 21)),
            esc("c7", "low_confidence", at(7, 8, 1), claimed_at=at(7, 8, 3), claimed_by=ben,
                first_reply_at=at(7, 8, 5), closed_at=at(7, 8, 31)),
            esc("c7", "requested", at(7, 9, 1), claimed_at=at(7, 9, 11), claimed_by=ana,
                first_reply_at=at(7, 9, 12), closed_at=at(7, 9, 26)),
            esc("c8", "frustration", at(8, 15, 1)),
            esc("c10", "sensitive_topic", at(10, 10, 1), claimed_at=at(10, 10, 6), claimed_by=ana,
                first_reply_at=at(10, 10, 7), closed_at=at(10, 10, 10)),
        ])  # fmt: skip
        answers = [("c1", at(4, 10, 1), "return-policy"), ("c2", at(4, 11, 1), "return-policy"),
                   ("c2", at(4, 11, 3), "shipping-costs"), ("c3", at(5, 9, 1), "shipping-costs"),
                   ("c4", at(5, 10, 1), "return-policy")]  # fmt: skip
        mids = []
        for cid, when, slug in answers:
            mids.append(
                s.execute(
                    insert(Message).returning(Message.id),
                    {
                        "conversation_id": cid,
                        "sender": "bot",
                        "text": "an answer",
                        "created_at": when,
                        "data": {"articles": [{"slug": slug}]},
                        "article_slug": slug,
                    },  # fmt: skip
                ).scalar_one()
            )
        s.execute(insert(Feedback), [
            {"conversation_id": "c1", "message_id": mids[0], "helpful": True,
             "created_at": at(4, 10, 2), "article_slug": "return-policy"},
            {"conversation_id": "c2", "message_id": mids[2], "helpful": False,
             "created_at": at(4, 11, 4), "article_slug": "shipping-costs"},
        ])  # fmt: skip
    return {"ana": ana, "ben": ben, "ana_headers": ana_h, "ben_headers": ben_h}


@pytest.fixture
def session(handoff):
    state = handoff.client.app.state.supportbot
    with state.sessions() as s:
        yield s


def rows(table, key="bucket"):
    return {r[key]: r for r in table.rows}


def test_series_per_day_week_and_month(week, session):
    daily = rows(conversations.series(session, WEEK))
    assert [d for d in daily] == [f"2024-03-{d:02d}" for d in range(4, 11)]
    assert daily["2024-03-04"]["conversations"] == 2 and daily["2024-03-04"]["contained"] == 2
    assert daily["2024-03-05"]["conversations"] == 2 and daily["2024-03-05"]["escalated"] == 1
    assert daily["2024-03-08"]["escalation_rate"] == 1.0  # c8, still queued
    assert daily["2024-03-10"]["contained"] == 0 and daily["2024-03-10"]["resolved_by_bot"] == 1
    (weekly,) = conversations.series(session, Period(WEEK.start, WEEK.end, "week")).rows
    assert weekly == {
        "bucket": "2024-03-04", "conversations": 10, "contained": 4, "containment": 0.4,
        "escalated": 5, "escalation_rate": 0.5, "resolved_by_bot": 5, "resolved_by_person": 3,
        "csat_bot_avg": 4.25, "csat_bot_n": 4, "csat_person_avg": 3.0, "csat_person_n": 2,
    }  # fmt: skip
    (monthly,) = conversations.series(session, Period(WEEK.start, WEEK.end, "month")).rows
    assert monthly["bucket"] == "2024-03-01" and monthly["conversations"] == 10
    # A day with nothing is a zero row, not a gap.
    empty = conversations.series(session, Period(date(2024, 2, 1), date(2024, 2, 2))).rows
    assert [r["conversations"] for r in empty] == [0, 0]


def test_first_contact_resolution(week, session):
    (weekly,) = conversations.fcr(session, Period(WEEK.start, WEEK.end, "week")).rows
    # Ended: c1 c2 c4 c5 c6 c7 c9 c10. Not first-contact: c5 (transferred), c6 and c7
    # (reopened within 7 days). c9 reopened after 9 days still counts.
    assert weekly == {"bucket": "2024-03-04", "resolved": 8, "fcr": 5, "fcr_rate": 0.625,
                      "reopened_7d": 2, "transferred": 1}  # fmt: skip
    daily = rows(conversations.fcr(session, WEEK))
    assert daily["2024-03-06"]["resolved"] == 2 and daily["2024-03-06"]["fcr"] == 0
    assert daily["2024-03-09"]["fcr_rate"] == 1.0


def test_csat_distribution(week, session):
    table = conversations.csat(session, WEEK)
    counts = {(r["resolved_by"], r["score"]): r["ratings"] for r in table.rows}
    assert counts == {("bot", 1): 0, ("bot", 2): 0, ("bot", 3): 1, ("bot", 4): 1, ("bot", 5): 2,
                      ("person", 1): 0, ("person", 2): 1, ("person", 3): 0, ("person", 4): 1,
                      ("person", 5): 0}  # fmt: skip
    shares = {(r["resolved_by"], r["score"]): r["share"] for r in table.rows}
    assert shares[("bot", 5)] == 0.5 and shares[("person", 2)] == 0.5


def test_handoff_reasons_count_a_second_handoff_again(week, session):
    table = handoffs.reasons(session, WEEK)
    counts = {r["reason"]: r["escalations"] for r in table.rows}
    assert table.notes["total"] == 6
    assert counts == {"requested": 2, "no_kb_answer": 1, "low_confidence": 1, "frustration": 1,
                      "sensitive_topic": 1, "negative_feedback": 0, "repeated": 0}  # fmt: skip
    assert table.rows[0]["reason"] == "requested" and table.rows[0]["share"] == pytest.approx(
        1 / 3, abs=1e-4
    )


def test_wait_times_are_exact_percentiles(week, session):
    times = rows(handoffs.wait_times(session, WEEK), "metric")
    # queue wait 30 60 120 300 600 (c8 never claimed); first reply 60 120 240 360 660;
    # resolution (latest handoff to a person's resolution) 600 1200 1500.
    assert times["queue_wait"]["n"] == 5
    assert times["queue_wait"]["p50_s"] == pytest.approx(120, abs=0.01)
    assert times["queue_wait"]["p90_s"] == pytest.approx(480, abs=0.01)
    assert times["first_reply"]["p50_s"] == pytest.approx(240, abs=0.01)
    assert times["first_reply"]["p90_s"] == pytest.approx(540, abs=0.01)
    assert times["resolution"]["n"] == 3
    assert times["resolution"]["p50_s"] == pytest.approx(1200, abs=0.01)
    assert times["resolution"]["p90_s"] == pytest.approx(1440, abs=0.01)
    per_day = rows(handoffs.wait_series(session, WEEK))
    assert per_day["2024-03-07"]["queue_wait_n"] == 2  # c7's two handoffs: 120 and 600 s
    assert per_day["2024-03-07"]["queue_wait_p50_s"] == pytest.approx(360, abs=0.01)
    assert per_day["2024-03-07"]["queue_wait_p90_s"] == pytest.approx(552, abs=0.01)
    assert per_day["2024-03-08"]["queue_wait_n"] == 0
    assert per_day["2024-03-08"]["queue_wait_p50_s"] is None
    (weekly,) = handoffs.wait_series(session, Period(WEEK.start, WEEK.end, "week")).rows
    assert weekly["first_reply_p90_s"] == pytest.approx(540, abs=0.01)


def test_per_agent(week, session):
    table = rows(agents.agents(session, WEEK), "name")
    assert table["Ana.Kpi"] == {"agent_id": week["ana"], "name": "Ana.Kpi", "resolved": 2,
                                "handoffs_replied": 4, "csat_avg": 4.0, "csat_n": 1,
                                "median_reply_s": pytest.approx(60, abs=0.01)}  # fmt: skip
    assert table["Ben.Kpi"]["resolved"] == 1 and table["Ben.Kpi"]["csat_avg"] == 2.0
    assert table["Ben.Kpi"]["median_reply_s"] == pytest.approx(120, abs=0.01)
    assert table["Root.Kpi"]["resolved"] == 0  # an admin on duty, nothing this week
    assert "Ed.Kpi" not in table  # editors are not agents
    only = agents.agents(session, WEEK, only=week["ben"]).rows
    assert [r["name"] for r in only] == ["Ben.Kpi"]


def test_articles_served_thumbs_and_handoffs(week, session):
    table = rows(articles.articles(session, WEEK), "slug")
    assert table["return-policy"]["served"] == 3
    assert table["return-policy"]["thumbs_up"] == 1 and table["return-policy"]["thumbs_down"] == 0
    assert table["return-policy"]["handoffs_after"] == 1
    assert table["return-policy"]["handoff_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert table["return-policy"]["title"]  # from the published revision
    assert table["shipping-costs"] == {
        **table["shipping-costs"],
        "served": 2,
        "thumbs_up": 0,
        "thumbs_down": 1,
        "helpful_rate": 0.0,
        "handoffs_after": 0,
    }
    assert list(table)[0] == "return-policy"  # most served first


def test_stale_articles(week, session, handoff):
    now = datetime.now(UTC)
    assert articles.stale(session, WEEK, now=now, min_served=2).rows == []
    state = handoff.client.app.state.supportbot
    with unit_of_work(state.sessions, state.bus) as uow:
        revision = uow.session.scalar(
            select(ArticleRow.published_revision_id).where(ArticleRow.slug == "shipping-costs")
        )
        old = uow.session.scalar(select(RevisionRow.created_at).where(RevisionRow.id == revision))
        uow.session.execute(
            update(RevisionRow)
            .where(RevisionRow.id == revision)
            .values(created_at=now - timedelta(days=120))
        )
    try:
        session.rollback()
        found = articles.stale(session, WEEK, now=now, min_served=2).rows
        assert [r["slug"] for r in found] == ["shipping-costs"] and found[0]["stale"] is True
        assert articles.stale(session, WEEK, now=now, min_served=3).rows == []  # not often
    finally:
        with unit_of_work(state.sessions, state.bus) as uow:
            uow.session.execute(
                update(RevisionRow).where(RevisionRow.id == revision).values(created_at=old)
            )


def test_summary(week, session):
    found = {r["metric"]: r["value"] for r in kpis.summary(session, WEEK).rows}
    assert found["conversations"] == 10 and found["containment"] == 0.4
    assert found["escalation_rate"] == 0.5 and found["handoffs"] == 6
    assert found["fcr_rate"] == 0.625
    assert found["csat_bot_avg"] == 4.25 and found["csat_person_avg"] == 3.0
    assert found["queue_wait_p90_s"] == pytest.approx(480, abs=0.01)
    assert found["resolution_p50_s"] == pytest.approx(1200, abs=0.01)


def test_an_empty_range_has_no_numbers(week, session):
    empty = Period(date(2023, 1, 2), date(2023, 1, 8), "week")
    found = {r["metric"]: r["value"] for r in kpis.summary(session, empty).rows}
    assert found["conversations"] == 0 and found["containment"] is None
    assert found["queue_wait_p50_s"] is None and found["fcr_rate"] is None


def test_period_validation():
    with pytest.raises(PeriodError, match="before"):
        Period(date(2024, 3, 10), date(2024, 3, 4))
    with pytest.raises(PeriodError, match="at most 400"):
        Period(date(2023, 1, 1), date(2024, 3, 4))
    with pytest.raises(PeriodError, match="granularity"):
        Period(date(2024, 3, 4), date(2024, 3, 4), "hour")
    assert Period(date(2024, 3, 5), date(2024, 3, 20), "week").buckets()[0] == date(2024, 3, 4)


# ---- what the services record ------------------------------------------------------------
def chat(handoff, cid, auth, text):
    response = handoff.client.post(
        f"/api/conversations/{cid}/messages", json={"text": text}, headers=auth
    )
    assert response.status_code == 200, response.text
    return response.json()


def load(handoff, model, **where):
    state = handoff.client.app.state.supportbot
    with state.sessions() as s:
        query = (
            select(model).filter_by(**where).order_by(model.id if hasattr(model, "id") else None)
        )
        return list(s.scalars(query))


def test_services_record_the_facts_the_kpis_read(handoff):
    ana, ben = handoff.agent("ana.rec@example.com"), handoff.agent("ben.rec@example.com")
    ben_id = handoff.client.get("/api/auth/me", headers=ben).json()["id"]
    cid, auth = handoff.new_conversation()
    answer = [m for m in chat(handoff, cid, auth, "can I return boots?")["messages"]
              if m.get("articles")][0]  # fmt: skip
    (stored,) = [m for m in load(handoff, Message, conversation_id=cid) if m.id == answer["id"]]
    assert stored.article_slug == "return-policy"
    handoff.client.post(f"/api/conversations/{cid}/feedback", headers=auth,
                        json={"message_id": answer["id"], "helpful": False})  # fmt: skip
    assert load(handoff, Feedback, conversation_id=cid)[0].article_slug == "return-policy"
    assert handoff.escalate(cid, "negative_feedback").status_code in (200, 201)
    base = f"/api/handoff/conversations/{cid}"
    handoff.client.post(f"{base}/claim", headers=ana)
    handoff.client.post(f"{base}/messages", headers=ana, json={"text": "note", "internal": True})
    (escalation,) = load(handoff, Escalation, conversation_id=cid)
    assert escalation.article_slug == "return-policy" and escalation.first_reply_at is None
    handoff.client.post(f"{base}/messages", headers=ana, json={"text": "Hi, Ana here"})
    handoff.client.post(f"{base}/release", headers=ana, json={"to_agent_id": ben_id})
    handoff.client.post(f"{base}/messages", headers=ben, json={"text": "Ben now"})
    assert handoff.client.post(f"{base}/resolve", headers=ben).status_code == 200
    (escalation,) = load(handoff, Escalation, conversation_id=cid)
    assert escalation.first_reply_at is not None
    (c,) = load(handoff, Conversation, id=cid)
    assert c.resolved_by == ben_id and c.first_resolved_at is not None and c.reopened_at is None
    assert c.first_resolved_at > c.transferred_at > escalation.first_reply_at
    first_end = c.first_resolved_at
    chat(handoff, cid, auth, "thanks, that's all")  # a new message reopens it
    (c,) = load(handoff, Conversation, id=cid)
    assert c.reopened_at is not None and c.first_resolved_at == first_end

    # Released to the queue by one agent and claimed by another: a transfer too; claimed
    # back by the same agent: not one.
    other, _ = handoff.new_conversation()
    handoff.escalate(other, "requested")
    base = f"/api/handoff/conversations/{other}"
    handoff.client.post(f"{base}/claim", headers=ana)
    handoff.client.post(f"{base}/release", headers=ana)
    handoff.client.post(f"{base}/claim", headers=ana)
    assert load(handoff, Conversation, id=other)[0].transferred_at is None
    handoff.client.post(f"{base}/release", headers=ana)
    handoff.client.post(f"{base}/claim", headers=ben)
    assert load(handoff, Conversation, id=other)[0].transferred_at is not None
    assert load(handoff, Escalation, conversation_id=other)[0].article_slug is None


# ---- the migration fills the facts in for conversations that happened before it ----------
def _upgrade(engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(api.db.__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _rows(name: str, *columns: str):
    typed = {"created_at": DateTime(timezone=True), "resolved_at": DateTime(timezone=True),
             "updated_at": DateTime(timezone=True), "claimed_at": DateTime(timezone=True),
             "closed_at": DateTime(timezone=True), "data": JSON(), "context": JSON(),
             "channel": JSON()}  # fmt: skip
    return sa_table(name, *[sa_column(c, typed.get(c)) for c in columns])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine_at_0005(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        _upgrade(engine, "0005_resolved_by_bot")
        yield engine
        engine.dispose()
        return
    engines = postgres_engine()
    engine = next(engines)
    _upgrade(engine, "0005_resolved_by_bot")
    yield engine
    engines.close()


def test_the_migration_backfills_conversations_from_before_it(engine_at_0005):
    engine = engine_at_0005
    t = {k: at(4, 10, k) for k in range(10)}
    agents_t = _rows("agents", "id", "email", "name", "role", "password_hash", "is_active",
                     "created_at")  # fmt: skip
    convs = _rows("conversations", "id", "token_hash", "status", "created_at", "updated_at",
                  "priority", "channel", "resolved_at")  # fmt: skip
    msgs = _rows("messages", "id", "conversation_id", "sender", "audience", "text", "agent_id",
                 "data", "created_at")  # fmt: skip
    with engine.begin() as c:
        c.execute(insert(agents_t), [
            {"id": i, "email": f"a{i}@x", "name": f"A{i}", "role": "agent", "password_hash": "-",
             "is_active": True, "created_at": t[0]} for i in (1, 2)
        ])  # fmt: skip
        c.execute(insert(convs), [
            {"id": "old1", "token_hash": "-", "status": "resolved", "created_at": t[0],
             "updated_at": t[9], "priority": 0, "channel": {}, "resolved_at": t[6]},
            {"id": "old2", "token_hash": "-", "status": "bot", "created_at": t[0],
             "updated_at": t[9], "priority": 0, "channel": {}, "resolved_at": t[2]},
        ])  # fmt: skip
        line = {"sender": "system", "audience": "public", "text": "-", "agent_id": None}
        c.execute(insert(msgs), [
            {**line, "id": 1, "conversation_id": "old1", "sender": "bot", "created_at": t[1],
             "data": {"articles": [{"slug": "return-policy"}, {"slug": "refund-timing"}]}},
            {**line, "id": 2, "conversation_id": "old1", "data": {"kind": "escalated"},
             "created_at": t[2]},
            {**line, "id": 3, "conversation_id": "old1", "data": {"kind": "claimed"},
             "agent_id": 1, "created_at": t[3]},
            {**line, "id": 4, "conversation_id": "old1", "sender": "agent", "agent_id": 1,
             "data": {}, "created_at": t[4]},
            {**line, "id": 5, "conversation_id": "old1", "data": {"kind": "reassigned"},
             "agent_id": 2, "created_at": t[5]},
            {**line, "id": 6, "conversation_id": "old1", "data": {"kind": "resolved"},
             "agent_id": 2, "created_at": t[6]},
            {**line, "id": 7, "conversation_id": "old2", "data": {"kind": "resolved_by_bot"},
             "created_at": t[2]},
            {**line, "id": 8, "conversation_id": "old2", "data": {"kind": "reopened"},
             "created_at": t[8]},
        ])  # fmt: skip
        c.execute(insert(_rows("escalations", "conversation_id", "reason", "priority", "context",
                               "created_at", "claimed_at", "claimed_by", "closed_at")),
                  {"conversation_id": "old1", "reason": "requested", "priority": 0, "context": {},
                   "created_at": t[2], "claimed_at": t[3], "claimed_by": 1,
                   "closed_at": t[6]})  # fmt: skip
        c.execute(insert(_rows("feedback", "conversation_id", "message_id", "helpful",
                               "created_at")),
                  {"conversation_id": "old1", "message_id": 1, "helpful": True,
                   "created_at": t[2]})  # fmt: skip
    _upgrade(engine, "head")
    with Session(engine) as s:
        old1, old2 = s.get(Conversation, "old1"), s.get(Conversation, "old2")
        assert utc(old1.first_resolved_at) == t[6] and old1.resolved_by == 2
        assert old1.reopened_at is None and utc(old1.transferred_at) == t[5]
        assert utc(old2.first_resolved_at) == t[2] and utc(old2.reopened_at) == t[8]
        (escalation,) = s.scalars(select(Escalation))
        assert utc(escalation.first_reply_at) == t[4]
        assert escalation.article_slug == "return-policy"
        assert s.get(Message, 1).article_slug == "return-policy"
        assert s.get(Message, 4).article_slug is None
        assert s.scalar(select(Feedback.article_slug)) == "return-policy"


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)
