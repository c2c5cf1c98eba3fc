"""Versions of the dialog knowledge base kept in the database (issue 19, the staff's 상담 지식 lifecycle).

One row per version: the whole knowledge base as YAML text (``dialog/kb.py``'s format), its state and who
moved it. A version is made as a ``draft`` (from the published one, or by an import), edited by operators,
submitted for ``review`` and published by an admin after the evaluation gate; the version it replaces
becomes ``archived`` and can be published again (a rollback). At most one version is ``published`` (a
partial unique index). The shipped ``dialog/data/kb_ko.yaml`` is version 1 when the table is empty. The
lifecycle itself is :mod:`outbound.knowledge`; migration ``0013_kb_versions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from outbound.schema import Base, UTCDateTime, one_of, utcnow

KB_STATES = ("draft", "review", "published", "archived")


class KBVersion(Base):
    __tablename__ = "kb_versions"
    __table_args__ = (
        CheckConstraint(one_of("state", KB_STATES), name="ck_kb_versions_state"),
        Index(
            "uq_kb_versions_published",
            "state",
            unique=True,
            sqlite_where=text("state = 'published'"),
            postgresql_where=text("state = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    document: Mapped[str] = mapped_column(Text)  # the knowledge base, YAML
    entries: Mapped[int] = mapped_column(Integer, default=0)
    based_on: Mapped[int | None] = mapped_column(Integer)  # the version it was made from
    author: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by: Mapped[str | None] = mapped_column(String(100))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The gate's figures when it was published: intent accuracy and the rest (dialog.evaluate.GATE_FIGURES),
    # the eval set's size, and whether an admin overrode a failed gate.
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
