"""Audit log and retention (issue 17)

Reserved in order so that work on several issues can land without two Alembic heads; this revision
changes nothing until its issue fills it in.

Revision ID: 0008_audit_retention
Revises: 0007_welfare_memory
Create Date: 2026-12-05
"""

from __future__ import annotations

revision = "0008_audit_retention"
down_revision = "0007_welfare_memory"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
