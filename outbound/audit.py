"""The audit log (issue 17): who changed what, and who saw whose personal data, kept in the database.

:func:`record` adds one :class:`~outbound.schema.AuditEvent` in the caller's session, so the event commits
or rolls back with the action it describes. Events hold a fixed action code (:data:`ACTIONS`), the kind
and id of what was acted on, and a short detail made of codes, field names and counts: never a citizen's
name, phone number or words. The table is append-only in the database (migration 0008's triggers refuse
UPDATE and DELETE), so :func:`list_events` is the only other thing this module does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from outbound.schema import AuditEvent, utcnow

# The action codes, grouped by what they are about. Each one has a Korean label in the staff console
# (voicebot/server/static/console/format.js, group "auditAction").
ACTIONS = (
    "campaign.created",
    "campaign.changed",
    "campaign.started",
    "campaign.paused",
    "campaign.resumed",
    "campaign.cancelled",
    "campaign.exported",
    "campaign.transcripts.exported",
    "contacts.imported",
    "member.changed",
    "contact.history.viewed",
    "attempts.transcripts.viewed",
    "alert.acknowledged",
    "do_not_call.added",
    "memory.viewed",
    "memory.added",
    "memory.changed",
    "memory.deleted",
    "handoff.viewed",
    "chat.viewed",
    "chat.taken",
    "callbacks.viewed",
    "callback.closed",
    "capacity.changed",
    "token.created",
    "token.revoked",
    "audit.viewed",
    # the knowledge base's versions (issue 19, outbound.knowledge); the detail names the entry id
    "kb.draft.created",
    "kb.entry.saved",
    "kb.entry.deleted",
    "kb.imported",
    "kb.submitted",
    "kb.reopened",
    "kb.published",
    "kb.publish.blocked",
    "kb.rolled_back",
)
# "attempts": a list of attempts (the filter is in the detail); "do_not_call": numbers added (no id: the
# numbers are personal data); "audit": the audit log itself.
TARGET_KINDS = (
    "campaign",
    "contact",
    "attempts",
    "alert",
    "do_not_call",
    "memory",
    "handoff",
    "chat",
    "callback",
    "capacity",
    "token",
    "audit",
    "kb_version",
)
MAX_LIMIT = 500
# A view polled by the console (the same rows again) is recorded once in this long; see ``once_within``.
REPEATED_VIEW = timedelta(minutes=10)
DETAIL_MAX = 200


class Actor(Protocol):
    """Whoever acts: :class:`outbound.service.Principal` (a staff token's name, role and id)."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def token_id(self) -> int | None: ...


@dataclass(frozen=True)
class AuditFilter:
    """What :func:`list_events` keeps; None matches everything. ``since`` inclusive, ``until`` exclusive."""

    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    target_kind: str | None = None
    target_id: str | None = None


def record(
    session: Session,
    principal: Actor,
    action: str,
    target_kind: str,
    target_id: int | str | None = None,
    detail: str = "",
    *,
    at: datetime | None = None,
    once_within: timedelta | None = None,
) -> AuditEvent | None:
    """Add one event to ``session`` (flushed, committed with the caller's transaction). ``detail`` must hold
    no personal data: ids, counts, field names, codes. An unknown action or target kind is a bug: ValueError.
    With ``once_within``, nothing is added (None) when the same token recorded the very same event that
    recently: a view the console polls is one view, not one per poll."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if target_kind not in TARGET_KINDS:
        raise ValueError(f"unknown audit target kind {target_kind!r}")
    event = AuditEvent(
        at=at or utcnow(),
        actor=principal.name[:100],
        actor_role=principal.role,
        token_id=principal.token_id,
        action=action,
        target_kind=target_kind,
        target_id=None if target_id is None else str(target_id)[:64],
        detail=detail[:DETAIL_MAX],
    )
    if once_within is not None and _recorded_since(session, event, event.at - once_within):
        return None
    session.add(event)
    session.flush()
    return event


def _recorded_since(session: Session, event: AuditEvent, since: datetime) -> bool:
    same = select(AuditEvent.id).where(
        AuditEvent.actor == event.actor,
        AuditEvent.token_id == event.token_id,  # == None is IS NULL
        AuditEvent.action == event.action,
        AuditEvent.target_kind == event.target_kind,
        AuditEvent.target_id == event.target_id,
        AuditEvent.detail == event.detail,
        AuditEvent.at >= since,
    )
    return session.scalar(same.limit(1)) is not None


def list_events(
    session: Session, filters: AuditFilter | None = None, limit: int = 100, before_id: int | None = None
) -> list[AuditEvent]:
    """Events newest first, at most ``limit`` (capped at :data:`MAX_LIMIT`); ``before_id`` pages on: pass
    the last id of the previous page."""
    f = filters or AuditFilter()
    query = select(AuditEvent)
    if f.action is not None:
        query = query.where(AuditEvent.action == f.action)
    if f.actor is not None:
        query = query.where(AuditEvent.actor == f.actor)
    if f.since is not None:
        query = query.where(AuditEvent.at >= f.since)
    if f.until is not None:
        query = query.where(AuditEvent.at < f.until)
    if f.target_kind is not None:
        query = query.where(AuditEvent.target_kind == f.target_kind)
    if f.target_id is not None:
        query = query.where(AuditEvent.target_id == f.target_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    limit = max(1, min(limit, MAX_LIMIT))
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


def event_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "actor_role": event.actor_role,
        "token_id": event.token_id,
        "action": event.action,
        "target_kind": event.target_kind,
        "target_id": event.target_id,
        "detail": event.detail,
    }
