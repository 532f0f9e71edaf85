"""bot/endpoints.yml really loads the WAL-mode SQLite tracker store (Rasa falls back to an
in-memory store, with only a warning, when a custom store cannot be imported)."""

from __future__ import annotations

from pathlib import Path

from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import read_endpoint_config

from bot.tracker_store import SQLiteTrackerStore

ENDPOINTS = Path(__file__).resolve().parents[2] / "bot" / "endpoints.yml"


def test_the_embedded_endpoints_load_the_wal_store(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPPORTBOT_ACTIONS_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("SUPPORTBOT_ACTIONS_TOKEN", "test-actions-token")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    config = read_endpoint_config(str(ENDPOINTS), "tracker_store")
    store = TrackerStore.create(config, Domain.empty())
    assert isinstance(store, SQLiteTrackerStore)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert (tmp_path / "var" / "rasa-tracker.db").exists()
