"""customer identity: verified user id and name on conversations

Revision ID: 0003_customer_identity
Revises: 0002_handoff
Create Date: 2026-11-25 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_customer_identity"
down_revision = "0002_handoff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        # Set only when the widget's data-user-hash verified (HMAC of the id, server secret).
        batch_op.add_column(sa.Column("customer_user_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("customer_name", sa.String(length=120), nullable=True))
        batch_op.create_index(
            "ix_conversations_customer_user_id", ["customer_user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_customer_user_id")
        batch_op.drop_column("customer_name")
        batch_op.drop_column("customer_user_id")
