"""Typed call outcomes (issue 16): who answered, and how the answering-machine detector decided

Attempts may now end as human, carrier_message, screened, rejected or hung_up_early besides the outcomes
before (answered, voicemail, no_answer, busy, failed), so the attempt-state check allows them; the new
``attempts.amd`` column keeps the detector's decision. Existing rows keep their outcome: an "answered"
call of before stays "answered" (picked up, who answered not known).

Revision ID: 0006_typed_outcomes
Revises: 0005_chat
Create Date: 2026-12-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_typed_outcomes"
down_revision = "0005_chat"
branch_labels = None
depends_on = None

# As outbound.schema.ATTEMPT_STATES before and at this revision (a migration never imports code that may
# change).
_BEFORE = (
    "scheduled",
    "dialing",
    "ringing",
    "answered",
    "busy",
    "no_answer",
    "failed",
    "voicemail",
    "completed",
    "cancelled",
)
_AFTER = (
    "scheduled",
    "dialing",
    "ringing",
    "answered",
    "human",
    "voicemail",
    "carrier_message",
    "screened",
    "no_answer",
    "busy",
    "rejected",
    "hung_up_early",
    "failed",
    "completed",
    "cancelled",
)

_alerts = sa.table("alerts", sa.column("id", sa.Integer()), sa.column("attempt_id", sa.Integer()))


def _check(states: tuple[str, ...]) -> str:
    return f"state IN ({', '.join(repr(s) for s in states)})"


def _set_states(states: tuple[str, ...]) -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        op.drop_constraint("ck_attempts_state", "attempts", type_="check")
        op.create_check_constraint("ck_attempts_state", "attempts", _check(states))
        return
    # SQLite changes a CHECK by copying the table. Dropping the old copy, with foreign keys on, runs the
    # alerts' ON DELETE SET NULL: keep which attempt each alert is about and put it back afterwards.
    kept = conn.execute(
        sa.select(_alerts.c.id, _alerts.c.attempt_id).where(_alerts.c.attempt_id.is_not(None))
    ).all()
    with op.batch_alter_table("attempts", recreate="always") as batch:
        batch.drop_constraint("ck_attempts_state", type_="check")
        batch.create_check_constraint("ck_attempts_state", _check(states))
    if kept:
        conn.execute(
            _alerts.update()
            .where(_alerts.c.id == sa.bindparam("alert_id"))
            .values(attempt_id=sa.bindparam("attempt")),
            [{"alert_id": alert_id, "attempt": attempt_id} for alert_id, attempt_id in kept],
        )


def upgrade() -> None:
    op.add_column("attempts", sa.Column("amd", sa.JSON(), nullable=True))
    _set_states(_AFTER)


def downgrade() -> None:
    # The typed outcomes of before: a person is "answered", a machine "voicemail", the rest "failed".
    attempts = sa.table("attempts", sa.column("state", sa.String()), sa.column("outcome", sa.String()))
    members = sa.table("campaign_contacts", sa.column("last_outcome", sa.String()))
    older = {
        "human": "answered",
        "carrier_message": "voicemail",
        "screened": "voicemail",
        "rejected": "failed",
        "hung_up_early": "failed",
    }
    for new, old in older.items():
        op.execute(attempts.update().where(attempts.c.outcome == new).values(outcome=old))
        op.execute(attempts.update().where(attempts.c.state == new).values(state=old))
        op.execute(members.update().where(members.c.last_outcome == new).values(last_outcome=old))
    op.drop_column("attempts", "amd")  # in place (SQLite >= 3.35), before the copy
    _set_states(_BEFORE)
