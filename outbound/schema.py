"""SQLAlchemy 2 tables for the outbound service (typed declarative mapping).

Datetimes are stored as naive UTC in both SQLite and PostgreSQL and come back timezone-aware (UTC) through
:class:`UTCDateTime`; pass aware datetimes in. The attempt state machine lives in :data:`TRANSITIONS`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

CAMPAIGN_KINDS = ("covid_notice", "welfare_check")
CAMPAIGN_STATUSES = ("draft", "running", "paused", "cancelled", "completed")
# How a call ended, typed (issue 16). A person: "human" (the answering-machine detector heard one, or a key
# or an answer came), "answered" (picked up, the script ran, but who answered is not known: the SIMULATED
# dialer, calls placed before detection existed, a line silent throughout). A machine: "voicemail",
# "carrier_message" (the network's announcement: number not in service, phone off), "screened" (the phone's
# call screening). Nobody: "no_answer", "busy", "rejected" (403/603: declined), "hung_up_early" (picked up
# and hung up before anyone could tell who), "failed" (our side or the network; the SIP status is kept).
REACHED_OUTCOMES = ("human", "answered")
MACHINE_OUTCOMES = ("voicemail", "carrier_message", "screened")
NOT_REACHED_OUTCOMES = (*MACHINE_OUTCOMES, "no_answer", "busy", "rejected", "hung_up_early", "failed")
# Outcomes an attempt ends with before it becomes "completed".
OUTCOMES = (*REACHED_OUTCOMES, *NOT_REACHED_OUTCOMES)
ATTEMPT_STATES = (
    "scheduled",
    "dialing",
    "ringing",
    "answered",
    *(o for o in OUTCOMES if o != "answered"),
    "completed",
    "cancelled",
)
IN_CALL_STATES = ("dialing", "ringing", "answered")
TRANSITIONS: dict[str, frozenset[str]] = {
    "scheduled": frozenset({"dialing", "cancelled"}),
    # A dialer reports the call's outcome at its end, so every outcome is reachable from every state a
    # call can be in when it ends: straight from dialing (the worker records no ringing step) or ringing.
    "dialing": frozenset({"ringing", *OUTCOMES}),
    "ringing": frozenset(OUTCOMES),
    # Who answered (a person, a machine) is only known after the line was picked up.
    "answered": frozenset({"completed", "human", *MACHINE_OUTCOMES, "hung_up_early", "failed"}),
    **{outcome: frozenset({"completed"}) for outcome in OUTCOMES if outcome != "answered"},
    "completed": frozenset(),
    "cancelled": frozenset(),
}
# no_response: check-ins picked up several times in a row with no answer ("연락은 되나 응답 없음").
ALERT_KINDS = ("welfare_concern", "emergency", "unreachable", "no_response")
ALERT_SEVERITIES = ("info", "warning", "critical")


class InvalidTransition(ValueError):
    """An attempt was asked to move to a state its current state cannot reach."""


def check_transition(current: str, new: str) -> None:
    if new not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "nothing (final state)"
        raise InvalidTransition(f"attempt cannot go from {current!r} to {new!r}; allowed: {allowed}")


def one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's condition: ``column`` holds one of ``values``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, naive UTC stored, aware UTC out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store timezone-aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(one_of("kind", CAMPAIGN_KINDS), name="ck_campaigns_kind"),
        CheckConstraint(one_of("status", CAMPAIGN_STATUSES), name="ck_campaigns_status"),
        CheckConstraint("end_date >= start_date", name="ck_campaigns_dates"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    script: Mapped[str | None] = mapped_column(String(500))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    weekdays: Mapped[str] = mapped_column(String(20), default="0,1,2,3,4")  # 0 = Monday
    windows: Mapped[str] = mapped_column(String(200))  # "09:00-12:00;14:00-18:00"
    recurrence_weekdays: Mapped[str | None] = mapped_column(String(20))  # rounds, e.g. "0,3"
    recurrence_every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    # Script slot values shared by everyone called (e.g. {"place": "중구 보건소"}); a member's own override.
    slots: Mapped[dict[str, str] | None] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Seoul")
    skip_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    retry_delay_s: Mapped[int] = mapped_column(Integer, default=1800)
    channel_limit: Mapped[int] = mapped_column(Integer, default=4)
    pace_per_min: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    members: Mapped[list[CampaignContact]] = relationship(back_populates="campaign")


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    preferred_times: Mapped[str] = mapped_column(String(200), default="")
    # The guard against two calls at once: the attempt currently holding this person (claimed or in a call).
    active_attempt_id: Mapped[int | None] = mapped_column(Integer)
    # Check-ins in a row picked up with no answer at all (issue 16): they take another path.
    silent_calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignContact(Base):
    __tablename__ = "campaign_contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id", name="uq_campaign_contacts"),
        CheckConstraint(
            one_of("status", ("pending", "done", "unreachable", "do_not_call", "cancelled")),
            name="ck_campaign_contacts_status",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts_made: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    # What this campaign's contact file said about the person: the notes column as written, and the script
    # values (date, place, …) from its ``key=value`` pairs, editable in the console. Per campaign: the same
    # person in another campaign has values of their own there.
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    slots: Mapped[dict[str, str] | None] = mapped_column(JSON)

    campaign: Mapped[Campaign] = relationship(back_populates="members")
    contact: Mapped[Contact] = relationship()


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        CheckConstraint(one_of("state", ATTEMPT_STATES), name="ck_attempts_state"),
        UniqueConstraint("campaign_contact_id", "round_date", "attempt_number", name="uq_attempts_round"),
        Index("ix_attempts_due", "state", "due_at"),
        Index("ix_attempts_campaign_claimed", "campaign_id", "claimed_at"),
        Index("ix_attempts_campaign_state", "campaign_id", "state", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    campaign_contact_id: Mapped[int] = mapped_column(ForeignKey("campaign_contacts.id", ondelete="CASCADE"))
    attempt_number: Mapped[int] = mapped_column(Integer, default=1)
    round_date: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="scheduled")
    outcome: Mapped[str | None] = mapped_column(String(16))  # one of OUTCOMES
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dialing_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ringing_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sip_status: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    transcript: Mapped[str | None] = mapped_column(Text)
    keypad: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    latency_ms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # How the answering-machine detector decided (outcome, reason, decision and beep times, the words it
    # heard), for calls it listened to.
    amd: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recording_path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(500))
    # Placed by the SIMULATED dialer: no real call was made, whatever the outcome and answers say.
    simulated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Past the outbound retention period (issue 17, outbound.retention): the words and recording are gone.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contact: Mapped[Contact] = relationship()
    campaign: Mapped[Campaign] = relationship()


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(one_of("kind", ALERT_KINDS), name="ck_alerts_kind"),
        CheckConstraint(one_of("severity", ALERT_SEVERITIES), name="ck_alerts_severity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str | None] = mapped_column(Text)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DoNotCall(Base):
    __tablename__ = "do_not_call"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), unique=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


ROLES = ("viewer", "operator", "admin")


class ApiToken(Base):
    """A staff member's API / console token. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="ck_api_tokens_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # none: valid until revoked


class CallLog(Base):
    """One inbound call (phone or browser), for the console's statistics. Holds no words and no number:
    what the caller said is personal data and stays in the call's own recording and handoff record."""

    __tablename__ = "call_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    transport: Mapped[str] = mapped_column(String(16))  # sip | webrtc
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    intents: Mapped[list[str]] = mapped_column(JSON, default=list)
    escalation: Mapped[str | None] = mapped_column(String(64))  # handoff reason, when handed to an agent
    ended_reason: Mapped[str | None] = mapped_column(String(64))
    voice_to_voice_ms: Mapped[list[float]] = mapped_column(JSON, default=list)


WELFARE_VALUES = ("fine", "not_fine", "concern", "unclear")


class WelfareMemory(Base):
    """One remembered check-in answer of a person (issue 16): the topic, how it was (``value``), the clause a
    follow-up quotes (``summary``: "허리가 아프다고") and the words said. ``follow_up`` marks the concern
    the next check-in asks about first; ``follows`` is the memory a follow-up answer was about. Staff may
    edit or delete rows; all rows go after the retention period (``outbound.welfare.purge``)."""

    __tablename__ = "welfare_memories"
    __table_args__ = (
        CheckConstraint(one_of("value", WELFARE_VALUES), name="ck_welfare_memories_value"),
        CheckConstraint(one_of("source", ("call", "staff")), name="ck_welfare_memories_source"),
        Index("ix_welfare_memories_contact", "contact_id", "created_at"),
        Index("ix_welfare_memories_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"))
    topic: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(200), default="", server_default="")
    said: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    follows: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="call", server_default="call")
    edited_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AuditEvent(Base):
    """Who did or saw what, for the audit log (issue 17, :mod:`outbound.audit`). Append-only: the database
    refuses UPDATE and DELETE on this table (triggers made by migration 0008). Holds ids and fixed codes
    only, never a citizen's name, number or words; ``actor`` is the staff token's name."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_target", "target_kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(16))
    token_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the log outlives what it names
    action: Mapped[str] = mapped_column(String(48))
    target_kind: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str | None] = mapped_column(String(64))  # chats and handoffs have text ids
    detail: Mapped[str] = mapped_column(String(200), default="", server_default="")
