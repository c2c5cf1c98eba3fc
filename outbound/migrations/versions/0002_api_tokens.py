"""API tokens with roles; campaign-wide script slots; inbound call log; indexes for the limits

Revision ID: 0002_api_tokens
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_api_tokens"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("role IN ('viewer', 'operator', 'admin')", name="ck_api_tokens_role"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_index("ix_attempts_campaign_claimed", "attempts", ["campaign_id", "claimed_at"])
    op.create_index("ix_attempts_campaign_state", "attempts", ["campaign_id", "state", "lease_expires_at"])
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("slots", sa.JSON(), nullable=True))
    op.create_table(
        "call_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("intents", sa.JSON(), nullable=False),
        sa.Column("escalation", sa.String(length=64), nullable=True),
        sa.Column("ended_reason", sa.String(length=64), nullable=True),
        sa.Column("voice_to_voice_ms", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_call_log_call_id", "call_log", ["call_id"])
    op.create_index("ix_call_log_started_at", "call_log", ["started_at"])


def downgrade() -> None:
    op.drop_table("call_log")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("slots")
    op.drop_index("ix_attempts_campaign_state", table_name="attempts")
    op.drop_index("ix_attempts_campaign_claimed", table_name="attempts")
    op.drop_table("api_tokens")
