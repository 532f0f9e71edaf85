"""messages.bot_state: where the bot's answer to a customer message stands

pending (stored, the bot is being asked), failed (the bot could not be reached: the customer
was told, the message waits), answered, superseded (a newer message came first). A retry
with the same client_message_id, or the sweeper, finishes pending and failed messages.

Revision ID: 0007_message_bot_state
Revises: 0006_analytics_indexes
Create Date: 2026-11-25 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_message_bot_state"
down_revision = "0006_analytics_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bot_state", sa.String(length=10), nullable=True))
        batch_op.create_index("ix_messages_bot_state", ["bot_state"])


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_bot_state")
        batch_op.drop_column("bot_state")
