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
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops a plain column in place. Alembic's batch mode would copy the table, and
        # dropping the old copy runs the alerts' ON DELETE SET NULL (see 0006): alerts would lose their call.
        op.execute("ALTER TABLE attempts DROP COLUMN purged_at")
    else:
        op.drop_column("attempts", "purged_at")
