"""Rasa's SQL tracker store with SQLite set up for a server (the embedded default).

Rasa opens its SQLite tracker database with SQLite's defaults: a rollback journal and a
full fsync on every commit, and Rasa commits several times per turn. This store is Rasa's
``SQLTrackerStore`` unchanged, except that SQLite connections use write-ahead logging and
``synchronous=NORMAL`` (durable across process crashes; a power cut can lose the last
commits, never corrupt the file) — as the app's own database does (api/db.py). Configured in
bot/endpoints.yml (``type: bot.tracker_store.SQLiteTrackerStore``); PostgreSQL deployments
use Rasa's store as it is (bot/endpoints.scale.yml).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class SQLiteTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _pragmas)
            self.engine.dispose()  # connections opened while creating tables: reopen
