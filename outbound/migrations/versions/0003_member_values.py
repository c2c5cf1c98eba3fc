"""Per-campaign values on the campaign membership: the contact file's notes and the script slot values

A person is shared by phone number across campaigns, so the notes of a campaign's contact file (and the
``date=…; place=…`` values in them) belong to that campaign's membership, not to the person. Every
membership gets its person's notes and the ``key=value`` pairs parsed from them; ``contacts.notes`` goes.
Downgrading puts back on each person the notes of their latest membership that has any.

Revision ID: 0003_member_values
Revises: 0002_api_tokens
Create Date: 2026-11-30
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0003_member_values"
down_revision = "0002_api_tokens"
branch_labels = None
depends_on = None

# As outbound.members.NOTE_SLOT at this revision (a migration never imports code that may change).
_NOTE_SLOT = re.compile(r"([A-Za-z_]+)\s*=\s*([^;\n]+)")

_members = sa.table(
    "campaign_contacts",
    sa.column("id", sa.Integer()),
    sa.column("contact_id", sa.Integer()),
    sa.column("notes", sa.Text()),
    sa.column("slots", sa.JSON()),
)
_contacts = sa.table("contacts", sa.column("id", sa.Integer()), sa.column("notes", sa.Text()))


def upgrade() -> None:
    # Plain ALTER TABLE on both databases (SQLite >= 3.35 drops columns in place): a batch copy would
    # drop and recreate the tables, and with foreign keys on that cascades into the attempts.
    op.add_column("campaign_contacts", sa.Column("notes", sa.Text(), server_default="", nullable=False))
    op.add_column("campaign_contacts", sa.Column("slots", sa.JSON(), nullable=True))
    person_notes = (
        sa.select(_contacts.c.notes).where(_contacts.c.id == _members.c.contact_id).scalar_subquery()
    )
    op.execute(_members.update().values(notes=sa.func.coalesce(person_notes, "")))
    conn = op.get_bind()
    rows = conn.execute(sa.select(_members.c.id, _members.c.notes).where(_members.c.notes != "")).all()
    values = []
    for member_id, notes in rows:
        slots = {key: value.strip() for key, value in _NOTE_SLOT.findall(notes or "") if value.strip()}
        if slots:
            values.append({"member_id": member_id, "new_slots": slots})
    if values:
        conn.execute(
            _members.update()
            .where(_members.c.id == sa.bindparam("member_id"))
            .values(slots=sa.bindparam("new_slots", type_=sa.JSON())),
            values,
        )
    op.drop_column("contacts", "notes")


def downgrade() -> None:
    op.add_column("contacts", sa.Column("notes", sa.Text(), server_default="", nullable=False))
    latest = (
        sa.select(_members.c.notes)
        .where(_members.c.contact_id == _contacts.c.id, _members.c.notes != "")
        .order_by(_members.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    op.execute(_contacts.update().values(notes=sa.func.coalesce(latest, "")))
    op.drop_column("campaign_contacts", "slots")
    op.drop_column("campaign_contacts", "notes")
