"""Retention per kind (issue 17): attempts past the outbound period are marked once their words and
recording are gone (``outbound.retention.purge_outbound``)

Revision ID: 0011_retention
Revises: 0010_token_expiry
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_retention"
down_revision = "0010_token_expiry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy of the attempts): a nullable column, nothing purged yet.
    op.add_column("attempts", sa.Column("purged_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("purged_at")
