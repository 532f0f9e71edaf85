"""bot/tracker_store.py: the endpoints really load it (Rasa falls back to an in-memory store,
with only a warning, when a custom store cannot be imported), and what it writes is what
Rasa's own SQL store reads back: the same events, in order, none twice, on SQLite and on
PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import AwaitableTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.tracker_store import TurnTrackerStore

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = ROOT / "bot" / "endpoints.yml"
DOMAIN = Domain.load(str(ROOT / "bot" / "domain.yml"))
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)


def test_the_embedded_endpoints_load_the_turn_store_in_wal_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPPORTBOT_ACTIONS_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("SUPPORTBOT_ACTIONS_TOKEN", "test-actions-token")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    config = read_endpoint_config(str(ENDPOINTS), "tracker_store")
    store = TrackerStore.create(config, Domain.empty())
    assert isinstance(store, TurnTrackerStore)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert (tmp_path / "var" / "rasa-tracker.db").exists()


def test_the_sqlite_store_keeps_its_connection(tmp_path):
    store = TurnTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
    opened = []
    sa.event.listen(store.engine, "connect", lambda *_: opened.append(1))
    for _ in range(5):
        run(store.retrieve(f"nobody-{uuid.uuid4()}"))
    assert len(opened) <= 1


def _turn(tracker: DialogueStateTracker, text: str, answer: str) -> None:
    tracker.update(UserUttered(text, {"name": "order_tracking", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_answer_from_kb"))
    tracker.update(SlotSet("bot_move", "answer"))
    tracker.update(SlotSet("kb_shown", [f"{answer}#steps"]))
    tracker.update(BotUttered(f"about {answer}"))
    tracker.update(ActionExecuted("action_listen"))


def _session_start(tracker: DialogueStateTracker) -> None:
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))


def _events(store: TrackerStore, sender: str, all_sessions: bool = False) -> list[dict]:
    read = store.retrieve_full_tracker if all_sessions else store.retrieve
    tracker = run(read(sender))
    return [e.as_dict() for e in tracker.events] if tracker else []


def _stores(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[TrackerStore, TrackerStore]:
    if request.param == "sqlite":
        kwargs = {"dialect": "sqlite", "db": str(tmp_path / "tracker.db")}
    else:
        try:
            sa.create_engine(POSTGRES).connect().close()
        except sa.exc.OperationalError:
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (.ci/run starts it)")
        kwargs = {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432,
                  "db": "test", "username": "postgres"}  # fmt: skip
    return TurnTrackerStore(domain=DOMAIN, **kwargs), SQLTrackerStore(domain=DOMAIN, **kwargs)


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request, tmp_path):  # noqa: ANN001, ANN201
    return _stores(request, tmp_path)


def test_a_conversation_reads_back_the_same_in_rasas_store(stores):
    store, rasas = stores
    ours = AwaitableTrackerStore.create(store)  # as Rasa's agent wraps a custom store
    sender = f"t-{uuid.uuid4()}"
    tracker = run(ours.get_or_create_tracker(sender, append_action_listen=False))
    assert run(rasas.retrieve(sender)) is None  # a new tracker is written by its turn
    _session_start(tracker)
    _turn(tracker, "where is my order", "track-order")
    run(ours.save(tracker))
    for i in range(3):  # each turn reads the tracker again, as Rasa's processor does
        tracker = run(ours.retrieve(sender))
        _turn(tracker, f"question {i}", f"article-{i}")
        run(ours.save(tracker))
    run(ours.save(tracker))  # saving again writes nothing twice
    written = _events(rasas, sender, all_sessions=True)
    assert len(written) == 3 + 4 * 6
    assert [e["text"] for e in written if e["event"] == "user"] == [
        "where is my order", "question 0", "question 1", "question 2"
    ]  # fmt: skip
    assert written[1:] == [e.as_dict() for e in tracker.events]  # from session_started on
    assert _events(ours, sender) == _events(rasas, sender)


def test_a_new_session_in_the_middle_of_a_turn(stores):
    ours, rasas = stores
    sender = f"t-{uuid.uuid4()}"
    tracker = run(ours.get_or_create_tracker(sender, append_action_listen=False))
    _session_start(tracker)
    _turn(tracker, "first", "a")
    run(ours.save(tracker))
    tracker = run(ours.retrieve(sender))
    _session_start(tracker)  # the session expired: Rasa starts a new one in the same tracker
    _turn(tracker, "second", "b")
    run(ours.save(tracker))
    whole = _events(rasas, sender, all_sessions=True)
    assert len(whole) == 2 * (3 + 6)
    assert whole[1:] == [e.as_dict() for e in tracker.events]
    latest = _events(rasas, sender)
    assert [e.get("text") for e in latest if e["event"] == "user"] == ["second"]
    assert _events(ours, sender) == latest


def test_a_conversation_without_a_session_start_reads_whole(stores):
    ours, rasas = stores
    sender = f"t-{uuid.uuid4()}"
    tracker = run(rasas.get_or_create_tracker(sender, append_action_listen=False))
    _turn(tracker, "no session start", "a")  # written before sessions existed
    _turn(tracker, "then another", "b")
    run(rasas.save(tracker))
    assert len(_events(ours, sender)) == 12
    assert _events(ours, sender) == _events(rasas, sender)
    assert run(ours.retrieve(f"t-{uuid.uuid4()}")) is None  # no rows: no tracker


def test_a_tracker_it_did_not_read_is_saved_as_rasa_would(stores):
    ours, rasas = stores
    sender = f"t-{uuid.uuid4()}"
    tracker = run(rasas.get_or_create_tracker(sender, append_action_listen=False))
    _session_start(tracker)
    _turn(tracker, "from rasa's store", "a")
    run(rasas.save(tracker))
    tracker = run(rasas.retrieve(sender))  # read by the other store: this one counts
    _turn(tracker, "then ours", "b")
    run(ours.save(tracker))
    written = _events(rasas, sender, all_sessions=True)
    assert len(written) == 3 + 2 * 6
    assert written[1:] == [e.as_dict() for e in tracker.events]


def test_a_turn_is_one_read_and_one_insert(tmp_path):
    store = TurnTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
    ours = AwaitableTrackerStore.create(store)
    statements: list[str] = []
    sa.event.listen(
        store.engine, "before_cursor_execute", lambda *a: statements.append(a[2].split()[0])
    )
    sender = f"t-{uuid.uuid4()}"
    for text in ("first", "second"):
        statements.clear()
        tracker = run(ours.get_or_create_tracker(sender, append_action_listen=False))
        if text == "first":
            _session_start(tracker)
        _turn(tracker, text, "a")
        run(ours.save(tracker))
        assert statements == ["SELECT", "INSERT"], text  # read the session, write the turn
    assert len(_events(store, sender)) == 2 + 2 * 6
