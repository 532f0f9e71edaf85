"""Rasa's SQL tracker store with the per-turn costs that are not dialogue state taken out.

Same table, same rows, same ordering as Rasa's ``SQLTrackerStore`` (a database written by one
reads in the other). What a turn no longer pays for, measured with py-spy on `make bench-chat`
(about a third of the Rasa server's CPU per turn went to the tracker store):

- **A count query per save.** Rasa's ``save`` counts the stored events of the session to know
  which of the tracker's events are new. This store remembers how many events a tracker had
  when it was read from (or last written to) the database, so ``save`` writes the rest without
  asking. A tracker it did not read itself (or one with a bounded event history) is saved the
  way Rasa does it.
- **One ORM object per event.** The new events go in with one INSERT statement for all of them
  (executemany), in order (the table is read back ordered by id).
- **An empty save before every new conversation.** Rasa's ``create_tracker`` saves the new,
  empty tracker (a count query and a commit for nothing), then the turn saves it again. This
  store knows a sender it just found no rows for has none stored, and a save with nothing new
  opens no transaction.
- **Building the read query each turn.** Rasa builds its ORM query (the events of the latest
  session) anew for every read, and SQLAlchemy derives its cache key each time: 5-6% of the
  server's samples. The same SQL is written once here, as text; the read returns the same
  rows in the same order (the tests read one store with the other).
- **A new SQLite connection per query** (SQLAlchemy 1.4 opens file databases without a pool),
  each with its PRAGMAs: one pooled connection set up once, in write-ahead-log mode with
  ``synchronous=NORMAL`` (durable across process crashes; a power cut can lose the last
  commits, never corrupt the file), as the app's own database (api/db.py).

Messages of one conversation are handled one at a time (Rasa's lock store: in memory for one
server, Redis for several), so the count read with a tracker is still right when it is saved.
Configured in bot/endpoints.yml (SQLite) and bot/endpoints.scale.yml (PostgreSQL).
"""

from __future__ import annotations

import json
import weakref
from collections import OrderedDict
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

# Senders remembered as new between a retrieve that found nothing and the first save
# (bounded: a retrieve that is never followed by a save must not grow it forever).
MAX_NEW_SENDERS = 10_000


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class TurnTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that writes a turn's events in one statement and counts nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(tracker) -> (weak reference, how many of its events are in the database), for the
        # trackers this store read or wrote. Not on the tracker itself: a copy of it must be
        # counted again. (Trackers compare by value and cannot be dictionary keys.)
        self._stored: dict[int, tuple[weakref.ref, int]] = {}
        # senders the last retrieve found no rows for, until their tracker's first save
        self._new_senders: OrderedDict[str, None] = OrderedDict()
        if self.engine.dialect.name == "sqlite":
            url = self.engine.url
            self.engine.dispose()  # connections opened while creating tables
            self.engine = sa.create_engine(
                url,
                poolclass=sa.pool.QueuePool,
                pool_size=2,
                max_overflow=4,
                # Rasa runs its queries on the event loop's thread; a pooled connection may
                # still be closed from another (garbage collection), which SQLite allows.
                connect_args={"check_same_thread": False},
            )
            sa.event.listen(self.engine, "connect", _pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    @cached_property
    def _latest_session_query(self) -> sa.sql.elements.TextClause:
        """Rasa's ``_event_query`` for the latest session, as SQL: the sender's events from
        the latest ``session_started`` on (all of them if there is none), in id order."""
        table = self.SQLEvent.__table__.name
        assert table.isidentifier(), table
        return sa.text(
            f"SELECT e.data FROM {table} e, "
            f"(SELECT max(timestamp) AS session_start FROM {table} "
            " WHERE sender_id = :sender_id AND type_name = :session_started) s "
            "WHERE e.sender_id = :sender_id "
            "AND (e.timestamp >= s.session_start OR s.session_start IS NULL) "
            "ORDER BY e.id"
        )

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        if fetch_events_from_all_sessions:
            # not what save() counts: such a tracker is counted when saved
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            rows = session.execute(
                self._latest_session_query,
                {"sender_id": sender_id, "session_started": SessionStarted.type_name},
            ).all()
        events = [json.loads(data) for (data,) in rows]
        tracker = (
            DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            if self.domain and events
            else None
        )
        if tracker is None:
            # Rasa creates the tracker next and saves it, under the conversation's lock.
            self._new_senders[sender_id] = None
            while len(self._new_senders) > MAX_NEW_SENDERS:
                self._new_senders.popitem(last=False)
        else:
            # A tracker of the latest session holds exactly the rows save() would count.
            self._remember(tracker, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Writes the events of ``tracker`` that are not in the database yet."""
        stored = self._known(tracker)
        if self._new_senders.pop(tracker.sender_id, False) is None and stored is None:
            stored = 0  # the first save after a retrieve that found no rows
        if stored is None or tracker.events.maxlen is not None or self.event_broker:
            await super().save(tracker)
            self._remember(tracker, len(tracker.events))
            return
        events = list(tracker.events)[stored:]
        if events:
            rows = []
            for event in events:
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {})
                        .get("intent", {})
                        .get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            with self.session_scope() as session:
                session.execute(self.SQLEvent.__table__.insert(), rows)
                session.commit()
        self._remember(tracker, stored + len(events))

    def _remember(self, tracker: DialogueStateTracker, stored: int) -> None:
        key = id(tracker)
        ref = weakref.ref(tracker, lambda _ref, key=key: self._stored.pop(key, None))
        self._stored[key] = (ref, stored)

    def _known(self, tracker: DialogueStateTracker) -> int | None:
        entry = self._stored.get(id(tracker))
        return entry[1] if entry is not None and entry[0]() is tracker else None
