"""Inquiry records for analytics (issue 19): one row per contact on every channel, no personal data

The model is ``outbound/inquiries.py`` (on the outbound store's declarative base).

Revision ID: 0009_inquiries
Revises: 0008_audit_retention
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_inquiries"
down_revision = "0008_audit_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inquiries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("escalation_reason", sa.String(length=32), nullable=True),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("district", sa.String(length=8), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('phone', 'browser', 'web_chat', 'kakao', 'outbound')", name="ck_inquiries_channel"
        ),
        sa.CheckConstraint(
            "outcome IN ('answered', 'clarified', 'escalated', 'abandoned')", name="ck_inquiries_outcome"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inquiries_time", "inquiries", ["synthetic", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_inquiries_time", table_name="inquiries")
    op.drop_table("inquiries")
