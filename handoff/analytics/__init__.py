"""Support analytics: KPIs computed in SQL over the conversation store (SQLite and
PostgreSQL). ``kpis.table(session, name, period)`` is the entry point; ``record`` holds what
the conversation services write as things happen so the queries stay index-only."""
