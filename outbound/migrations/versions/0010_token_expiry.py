"""Optional expiry of API tokens (issue 17): an expired token authenticates as nothing

Revision ID: 0010_token_expiry
Revises: 0009_inquiries
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_token_expiry"
down_revision = "0009_inquiries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
