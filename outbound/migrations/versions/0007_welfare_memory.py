"""Welfare memory (issue 16)

Reserved in order so that work on several issues can land without two Alembic heads; this revision
changes nothing until its issue fills it in.

Revision ID: 0007_welfare_memory
Revises: 0006_typed_outcomes
Create Date: 2026-12-05
"""

from __future__ import annotations

revision = "0007_welfare_memory"
down_revision = "0006_typed_outcomes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
