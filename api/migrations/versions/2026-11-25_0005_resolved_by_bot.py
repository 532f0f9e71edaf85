"""conversation status resolved_by_bot (wider status column)

Revision ID: 0005_resolved_by_bot
Revises: 0004_staff_pages
Create Date: 2026-11-25 12:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_resolved_by_bot"
down_revision = "0004_staff_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=12),
            type_=sa.String(length=16),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=16),
            type_=sa.String(length=12),
            existing_nullable=False,
        )
