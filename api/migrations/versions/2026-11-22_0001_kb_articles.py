"""knowledge-base articles and revisions

Revision ID: 0001_kb_articles
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_kb_articles"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_revision_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_kb_articles"),
        sa.UniqueConstraint("slug", name="uq_kb_articles_slug"),
    )
    op.create_index("ix_kb_articles_slug", "kb_articles", ["slug"])
    op.create_table(
        "kb_revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(80), nullable=False),
        sa.Column("intent", sa.String(80), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_revisions"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            ondelete="CASCADE",
            name="fk_kb_revisions_article_id_kb_articles",
        ),
        sa.UniqueConstraint("article_id", "number", name="uq_kb_revisions_article_id"),
    )
    op.create_index("ix_kb_revisions_article_id", "kb_revisions", ["article_id"])
    with op.batch_alter_table("kb_articles") as batch:
        batch.create_foreign_key(
            "fk_kb_articles_published_revision_id_kb_revisions",
            "kb_revisions",
            ["published_revision_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("kb_articles") as batch:
        batch.drop_constraint(
            "fk_kb_articles_published_revision_id_kb_revisions", type_="foreignkey"
        )
    op.drop_index("ix_kb_revisions_article_id", table_name="kb_revisions")
    op.drop_table("kb_revisions")
    op.drop_index("ix_kb_articles_slug", table_name="kb_articles")
    op.drop_table("kb_articles")
