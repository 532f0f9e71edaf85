"""staff pages: questions an article answers, handled unanswered questions, email deliveries

Revision ID: 0004_staff_pages
Revises: 0003_customer_identity
Create Date: 2026-11-25 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_staff_pages"
down_revision = "0003_customer_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kb_revisions", schema=None) as batch_op:
        # Customer questions this article answers (searched beside its passages).
        batch_op.add_column(
            sa.Column("questions", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    op.create_table(
        "unanswered_handled",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("article_slug", sa.String(length=80), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_unanswered_handled_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_unanswered_handled_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered_handled")),
        sa.UniqueConstraint("message_id", name=op.f("uq_unanswered_handled_message_id")),
    )
    op.create_table(
        "email_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_email_deliveries_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_email_deliveries_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_deliveries")),
    )
    with op.batch_alter_table("email_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_email_deliveries_conversation_id", ["conversation_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("email_deliveries")
    op.drop_table("unanswered_handled")
    with op.batch_alter_table("kb_revisions", schema=None) as batch_op:
        batch_op.drop_column("questions")
