"""Welfare memory (issue 16): what each person said on recent check-ins, kept for the next call and staff

``welfare_memories`` holds one row per remembered answer (topic, value, the clause the follow-up quotes,
the words said), a ``follow_up`` flag for the concern the next check-in asks about first, and who last
edited it. ``contacts.silent_calls`` counts the check-ins in a row that were picked up and got no answer;
alerts may now be ``no_response`` ("연락은 되나 응답 없음").

Revision ID: 0007_welfare_memory
Revises: 0006_typed_outcomes
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_welfare_memory"
down_revision = "0006_typed_outcomes"
branch_labels = None
depends_on = None

# As outbound.schema.ALERT_KINDS before and at this revision.
_BEFORE = ("welfare_concern", "emergency", "unreachable")
_AFTER = (*_BEFORE, "no_response")


def _set_kinds(kinds: tuple[str, ...]) -> None:
    check = f"kind IN ({', '.join(repr(k) for k in kinds)})"
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("ck_alerts_kind", "alerts", type_="check")
        op.create_check_constraint("ck_alerts_kind", "alerts", check)
        return
    # Nothing refers to alerts, so SQLite's copy of the table keeps every row as it was.
    with op.batch_alter_table("alerts", recreate="always") as batch:
        batch.drop_constraint("ck_alerts_kind", type_="check")
        batch.create_check_constraint("ck_alerts_kind", check)


def upgrade() -> None:
    op.create_table(
        "welfare_memories",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "contact_id", sa.Integer(), sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("attempt_id", sa.Integer(), sa.ForeignKey("attempts.id", ondelete="SET NULL")),
        sa.Column("topic", sa.String(16), nullable=False),
        sa.Column("value", sa.String(16), nullable=False),
        sa.Column("summary", sa.String(200), nullable=False, server_default=""),
        sa.Column("said", sa.Text()),
        sa.Column("follow_up", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("follows", sa.Integer()),
        sa.Column("source", sa.String(16), nullable=False, server_default="call"),
        sa.Column("edited_by", sa.String(100)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "value IN ('fine', 'not_fine', 'concern', 'unclear')", name="ck_welfare_memories_value"
        ),
        sa.CheckConstraint("source IN ('call', 'staff')", name="ck_welfare_memories_source"),
    )
    op.create_index("ix_welfare_memories_contact", "welfare_memories", ["contact_id", "created_at"])
    op.create_index("ix_welfare_memories_created", "welfare_memories", ["created_at"])
    op.add_column(
        "contacts", sa.Column("silent_calls", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    _set_kinds(_AFTER)


def downgrade() -> None:
    alerts = sa.table("alerts", sa.column("kind", sa.String()))
    op.execute(alerts.update().where(alerts.c.kind == "no_response").values(kind="welfare_concern"))
    _set_kinds(_BEFORE)
    op.drop_column("contacts", "silent_calls")
    op.drop_index("ix_welfare_memories_created", "welfare_memories")
    op.drop_index("ix_welfare_memories_contact", "welfare_memories")
    op.drop_table("welfare_memories")
