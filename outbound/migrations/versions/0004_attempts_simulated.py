"""Attempts placed by the SIMULATED dialer are marked: no real call was made, whatever the result says

Revision ID: 0004_attempts_simulated
Revises: 0003_member_values
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_attempts_simulated"
down_revision = "0003_member_values"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy): existing attempts were all placed before the mark existed.
    op.add_column("attempts", sa.Column("simulated", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("attempts", "simulated")
