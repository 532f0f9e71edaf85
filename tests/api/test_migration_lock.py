"""Workers starting together on a fresh database: one migrates, the others wait, all start."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from api.db import make_engine, migrate
from tests.db import postgres_engine


def _migrate_together(url: str, workers: int = 4) -> list[str]:
    def worker(_: int) -> str:
        engine = make_engine(url)  # each worker has its own engine, as each process does
        try:
            migrate(engine)
            with engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        finally:
            engine.dispose()

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(worker, range(workers)))


@pytest.mark.postgres
def test_concurrent_migrations_on_a_fresh_postgresql_all_succeed():
    engines = postgres_engine()
    engine = next(engines)
    try:
        url = engine.url.render_as_string(hide_password=False)
        versions = _migrate_together(url)
        assert len(set(versions)) == 1 and versions[0]
    finally:
        engines.close()


def test_concurrent_migrations_on_a_fresh_sqlite_file_all_succeed(tmp_path):
    versions = _migrate_together(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert len(set(versions)) == 1 and versions[0]
