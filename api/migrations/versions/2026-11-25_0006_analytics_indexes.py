"""analytics: facts recorded as they happen, and the indexes the KPI queries read

Columns (recorded by the conversation services from now on, backfilled here from the
transcripts' activity lines for existing conversations):
- conversations.first_resolved_at, reopened_at, resolved_by, transferred_at
- escalations.first_reply_at, article_slug
- messages.article_slug (a bot answer's source article), feedback.article_slug

Indexes: covering indexes the KPIs scan by date range (on SQLite the conversations index
leads with the UTC day, so per-day sums need no sort), partial indexes for the rows that
matter (resolved conversations by agent, answers citing an article, grouped by article or
agent without a sort),
and on PostgreSQL statistics on the UTC-day expression the queries group by.

Revision ID: 0006_analytics_indexes
Revises: 0005_resolved_by_bot
Create Date: 2026-11-25 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_analytics_indexes"
down_revision = "0005_resolved_by_bot"
branch_labels = None
depends_on = None

ARTICLE = sa.text("article_slug IS NOT NULL")
RESOLVED = sa.text("status = 'resolved'")
REPLIED = sa.text("first_reply_at IS NOT NULL")
RATED = sa.text("csat_score IS NOT NULL")
CONVERSATION_FACTS = [
    "status", "queued_at", "resolved_at", "csat_score", "resolved_by", "first_resolved_at",
    "reopened_at", "transferred_at",
]  # fmt: skip
# name -> (table, columns, partial-index condition)
INDEXES = {
    "ix_escalations_analytics": (
        "escalations",
        ["created_at", "reason", "claimed_at", "first_reply_at", "claimed_by"],
        None,
    ),
    # Per agent: the handoffs each agent claimed and replied to, in agent order.
    "ix_escalations_replier": (
        "escalations",
        ["claimed_by", "created_at", "claimed_at", "first_reply_at"],
        REPLIED,
    ),
    "ix_escalations_article": ("escalations", ["article_slug", "created_at"], ARTICLE),
    "ix_messages_article": ("messages", ["article_slug", "created_at"], ARTICLE),
    "ix_feedback_article": ("feedback", ["article_slug", "created_at", "helpful"], ARTICLE),
}
# PostgreSQL groups conversations and handoffs by this UTC day (handoff/analytics/sql.py);
# statistics on it let the planner aggregate in parallel.
PG_DAY = "date_bin(INTERVAL '1 day', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
PG_STATISTICS = {"st_conversations_day": "conversations", "st_escalations_day": "escalations"}


def create_indexes(dialect: str) -> None:
    """Also used by bench/analytics.py, which loads a million rows first and indexes after."""
    if dialect == "sqlite":
        # SQLite sorts to GROUP BY unless rows arrive in the key's order: the conversations
        # index leads with the UTC day itself (the day prefix of the stored UTC text), so
        # per-day sums stream. created_at at the end keeps the index covering.
        day = sa.text("substr(created_at, 1, 10)")
        op.create_index(
            "ix_conversations_analytics",
            "conversations",
            [day, *CONVERSATION_FACTS, "created_at"],
        )
        # Covering for the per-agent table and for resolution times.
        resolver = ["resolved_by", day, "status", "csat_score", "queued_at", "resolved_at",
                    "created_at"]  # fmt: skip
        rated = [day, "status", "csat_score", "created_at"]
    else:
        op.create_index(
            "ix_conversations_analytics", "conversations", ["created_at", *CONVERSATION_FACTS]
        )
        resolver = ["resolved_by", "created_at", "csat_score", "queued_at", "resolved_at"]
        rated = ["created_at", "status", "csat_score"]
        for name, table in PG_STATISTICS.items():
            op.execute(f"CREATE STATISTICS {name} ON ({PG_DAY}) FROM {table}")
    # The per-agent table groups the conversations each agent resolved.
    op.create_index(
        "ix_conversations_resolver",
        "conversations",
        resolver,
        sqlite_where=RESOLVED,
        postgresql_where=RESOLVED,
    )
    # The CSAT distribution reads only the rated conversations.
    op.create_index(
        "ix_conversations_rated", "conversations", rated, sqlite_where=RATED, postgresql_where=RATED
    )
    for name, (table, columns, where) in INDEXES.items():
        op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)


def _json(dialect: str, path: str, alias: str = "m") -> str:
    """A JSON text value of messages.data: "kind" or "articles.0.slug"."""
    parts = path.split(".")
    if dialect == "sqlite":
        dotted = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts)
        return f"json_extract({alias}.data, '${dotted}')"
    steps = [p if p.isdigit() else f"'{p}'" for p in parts]
    return f"({alias}.data" + "".join(f" -> {s}" for s in steps[:-1]) + f" ->> {steps[-1]})"


def backfill(dialect: str) -> None:
    """Existing conversations: the same facts, read from their activity lines."""
    kind = _json(dialect, "kind")
    slug = _json(dialect, "articles.0.slug", "messages")
    op.execute(f"UPDATE messages SET article_slug = substr({slug}, 1, 80) WHERE sender = 'bot'")
    op.execute(
        "UPDATE feedback SET article_slug = "
        "(SELECT m.article_slug FROM messages m WHERE m.id = feedback.message_id)"
    )
    lines = "FROM messages m WHERE m.conversation_id = conversations.id AND m.sender = 'system'"
    op.execute(
        f"UPDATE conversations SET first_resolved_at = COALESCE((SELECT min(m.created_at) "
        f"{lines} AND {kind} IN ('resolved', 'resolved_by_bot')), resolved_at) "
        "WHERE status IN ('resolved', 'resolved_by_bot') OR EXISTS (SELECT 1 "
        f"{lines} AND {kind} IN ('resolved', 'resolved_by_bot'))"
    )
    op.execute(
        f"UPDATE conversations SET reopened_at = (SELECT min(m.created_at) {lines} "
        f"AND {kind} = 'reopened')"
    )
    op.execute(
        f"UPDATE conversations SET resolved_by = (SELECT m.agent_id {lines} "
        f"AND {kind} = 'resolved' ORDER BY m.id DESC LIMIT 1) WHERE status = 'resolved'"
    )
    during = (
        "m.conversation_id = escalations.conversation_id "
        "AND m.created_at >= escalations.created_at "
        "AND (escalations.closed_at IS NULL OR m.created_at <= escalations.closed_at)"
    )
    op.execute(
        "UPDATE escalations SET first_reply_at = (SELECT min(m.created_at) FROM messages m "
        f"WHERE {during} AND m.sender = 'agent' AND m.audience = 'public')"
    )
    handed = (
        "m.conversation_id = e.conversation_id AND m.created_at >= e.created_at "
        "AND (e.closed_at IS NULL OR m.created_at <= e.closed_at)"
    )
    op.execute(
        "UPDATE conversations SET transferred_at = (SELECT min(m.created_at) FROM messages m "
        f"JOIN escalations e ON {handed} WHERE m.conversation_id = conversations.id "
        f"AND m.sender = 'system' AND ({kind} = 'reassigned' OR ({kind} = 'claimed' "
        "AND m.agent_id <> e.claimed_by)))"
    )
    boundary = (
        "SELECT max(b.id) FROM messages b WHERE b.conversation_id = escalations.conversation_id "
        "AND b.sender = 'system' AND b.created_at < escalations.created_at AND "
        + _json(dialect, "kind", "b")
        + " IN ('escalated', 'returned_to_bot', 'reopened', 'resolved', 'resolved_by_bot')"
    )
    op.execute(
        "UPDATE escalations SET article_slug = (SELECT m.article_slug FROM messages m "
        "WHERE m.conversation_id = escalations.conversation_id AND m.article_slug IS NOT NULL "
        f"AND m.created_at <= escalations.created_at AND m.id > COALESCE(({boundary}), 0) "
        "ORDER BY m.id DESC LIMIT 1)"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    timestamp = sa.DateTime(timezone=True)
    op.add_column("conversations", sa.Column("first_resolved_at", timestamp, nullable=True))
    op.add_column("conversations", sa.Column("reopened_at", timestamp, nullable=True))
    op.add_column("conversations", sa.Column("transferred_at", timestamp, nullable=True))
    if dialect == "sqlite":
        # SQLite adds a column with a foreign key in place (batch mode would copy the table,
        # and dropping the old copy would cascade to every message).
        op.execute(
            "ALTER TABLE conversations ADD COLUMN resolved_by INTEGER "
            "REFERENCES agents (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("conversations", sa.Column("resolved_by", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_conversations_resolved_by_agents",
            "conversations",
            "agents",
            ["resolved_by"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column("escalations", sa.Column("first_reply_at", timestamp, nullable=True))
    op.add_column("escalations", sa.Column("article_slug", sa.String(80), nullable=True))
    op.add_column("messages", sa.Column("article_slug", sa.String(80), nullable=True))
    op.add_column("feedback", sa.Column("article_slug", sa.String(80), nullable=True))
    backfill(dialect)
    create_indexes(dialect)


def downgrade() -> None:
    for name, (table, _columns, _where) in INDEXES.items():
        op.drop_index(name, table_name=table)
    op.drop_index("ix_conversations_analytics", table_name="conversations")
    op.drop_index("ix_conversations_resolver", table_name="conversations")
    op.drop_index("ix_conversations_rated", table_name="conversations")
    if op.get_bind().dialect.name != "sqlite":
        for name in PG_STATISTICS:
            op.execute(f"DROP STATISTICS IF EXISTS {name}")
        op.drop_constraint("fk_conversations_resolved_by_agents", "conversations", "foreignkey")
    # SQLite 3.35+ drops a column in place.
    for table, column in [
        ("feedback", "article_slug"),
        ("messages", "article_slug"),
        ("escalations", "article_slug"),
        ("escalations", "first_reply_at"),
        ("conversations", "transferred_at"),
        ("conversations", "resolved_by"),
        ("conversations", "reopened_at"),
        ("conversations", "first_resolved_at"),
    ]:
        op.drop_column(table, column)
