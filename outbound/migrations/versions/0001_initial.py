"""initial outbound tables

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23 (datetimes are naive UTC; see outbound.schema.UTCDateTime)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("script", sa.String(length=500), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("weekdays", sa.String(length=20), nullable=False),
        sa.Column("windows", sa.String(length=200), nullable=False),
        sa.Column("recurrence_weekdays", sa.String(length=20), nullable=True),
        sa.Column("recurrence_every_weeks", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("skip_holidays", sa.Boolean(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("retry_delay_s", sa.Integer(), nullable=False),
        sa.Column("channel_limit", sa.Integer(), nullable=False),
        sa.Column("pace_per_min", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('covid_notice', 'welfare_check')", name="ck_campaigns_kind"),
        sa.CheckConstraint(
            "status IN ('draft', 'running', 'paused', 'cancelled', 'completed')", name="ck_campaigns_status"
        ),
        sa.CheckConstraint("end_date >= start_date", name="ck_campaigns_dates"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("preferred_times", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("active_attempt_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone_e164"),
    )
    op.create_table(
        "do_not_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone_e164"),
    )
    op.create_table(
        "campaign_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts_made", sa.Integer(), nullable=False),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'unreachable', 'do_not_call', 'cancelled')",
            name="ck_campaign_contacts_status",
        ),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "contact_id", name="uq_campaign_contacts"),
    )
    with op.batch_alter_table("campaign_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_contacts_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_contacts_contact_id"), ["contact_id"], unique=False)

    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("campaign_contact_id", sa.Integer(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("round_date", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("dialing_at", sa.DateTime(), nullable=True),
        sa.Column("ringing_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("sip_status", sa.Integer(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("keypad", sa.String(length=64), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("latency_ms", sa.JSON(), nullable=True),
        sa.Column("recording_path", sa.String(length=500), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('scheduled', 'dialing', 'ringing', 'answered', 'busy', 'no_answer', 'failed', 'voicemail', 'completed', 'cancelled')",
            name="ck_attempts_state",
        ),
        sa.ForeignKeyConstraint(["campaign_contact_id"], ["campaign_contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_contact_id", "round_date", "attempt_number", name="uq_attempts_round"),
    )
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attempts_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attempts_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index("ix_attempts_due", ["state", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_attempts_lease_expires_at"), ["lease_expires_at"], unique=False)

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('welfare_concern', 'emergency', 'unreachable')", name="ck_alerts_kind"),
        sa.CheckConstraint("severity IN ('info', 'warning', 'critical')", name="ck_alerts_severity"),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:

    op.drop_table("alerts")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempts_lease_expires_at"))
        batch_op.drop_index("ix_attempts_due")
        batch_op.drop_index(batch_op.f("ix_attempts_contact_id"))
        batch_op.drop_index(batch_op.f("ix_attempts_campaign_id"))

    op.drop_table("attempts")
    with op.batch_alter_table("campaign_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_contacts_contact_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_contacts_campaign_id"))

    op.drop_table("campaign_contacts")
    op.drop_table("do_not_call")
    op.drop_table("contacts")
    op.drop_table("campaigns")
