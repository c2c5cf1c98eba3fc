"""Knowledge-base versions (issue 19): draft, review, published, archived; the KB document as YAML

The model is ``outbound/kb_versions.py``; the shipped KB becomes version 1 on the server's first start.

Revision ID: 0013_kb_versions
Revises: 0012_callbacks
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_kb_versions"
down_revision = "0012_callbacks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=500), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("published_by", sa.String(length=100), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("evaluation", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "state IN ('draft', 'review', 'published', 'archived')", name="ck_kb_versions_state"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_kb_versions_published",
        "kb_versions",
        ["state"],
        unique=True,
        sqlite_where=sa.text("state = 'published'"),
        postgresql_where=sa.text("state = 'published'"),
    )


def downgrade() -> None:
    op.drop_index("uq_kb_versions_published", table_name="kb_versions")
    op.drop_table("kb_versions")
