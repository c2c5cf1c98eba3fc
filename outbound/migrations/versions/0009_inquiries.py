"""Inquiry records for analytics (issue 19)

Reserved in order so that work on several issues can land without two Alembic heads; this revision
changes nothing until its issue fills it in.

Revision ID: 0009_inquiries
Revises: 0008_audit_retention
Create Date: 2026-12-05
"""

from __future__ import annotations

revision = "0009_inquiries"
down_revision = "0008_audit_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
