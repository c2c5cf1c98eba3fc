"""Call-back bookings (issue 18): a caller who would wait too long for an agent books a slot and is called
back in it (``outbound/callbacks.py``)

Revision ID: 0012_callbacks
Revises: 0011_retention
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_callbacks"
down_revision = "0011_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("slot_start", sa.DateTime(), nullable=False),
        sa.Column("slot_end", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("handoff_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_outcome", sa.String(length=32), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('booked', 'dialing', 'done', 'missed', 'cancelled')", name="ck_callbacks_state"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callbacks_due", "callbacks", ["state", "due_at"])
    op.create_index("ix_callbacks_slot_start", "callbacks", ["slot_start"])


def downgrade() -> None:
    op.drop_index("ix_callbacks_slot_start", table_name="callbacks")
    op.drop_index("ix_callbacks_due", table_name="callbacks")
    op.drop_table("callbacks")
