"""Engine, migrations and the storage operations of the outbound service.

SQLite (``sqlite:///var/voicebot.db``) is the default; PostgreSQL URLs (``postgresql://…``) use psycopg 3.
Several workers share a campaign through :func:`claim_due`: on PostgreSQL it takes rows with
``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite every transaction is ``BEGIN IMMEDIATE`` so claims are
serialised. A claim is a lease: when a worker dies, its claimed-but-not-dialled attempts are claimed again
after the lease expires, and its attempts that were in a call are closed as failed (the call's result is
unknown, so it is retried as a new attempt rather than redialled blindly).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from outbound import contacts as csv_contacts
from outbound.scheduler import RetryPolicy, Schedule, next_allowed_time, next_retry
from outbound.schema import (
    IN_CALL_STATES,
    OUTCOMES,
    Alert,
    Attempt,
    Campaign,
    CampaignContact,
    Contact,
    DoNotCall,
    check_transition,
)
from outbound.timewindows import TimeWindow, parse_windows

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///var/voicebot.db"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class LeaseLost(RuntimeError):
    """The worker no longer holds the attempt (lease expired and taken over, or never held)."""


def resolve_url(url: str | None) -> str:
    """``url``, else ``$VOICEBOT_DB_URL``, else the SQLite default; ``postgresql://`` means psycopg 3."""
    url = url or os.environ.get("VOICEBOT_DB_URL") or DEFAULT_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = resolve_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = resolve_url(url)
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Create or migrate the outbound tables at ``url`` (Alembic, programmatically)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


# --- campaigns and contacts -------------------------------------------------------------------------


def campaign_schedule(campaign: Campaign) -> Schedule:
    return Schedule(
        start_date=campaign.start_date,
        end_date=campaign.end_date,
        windows=parse_windows(campaign.windows),
        weekdays=frozenset(int(d) for d in campaign.weekdays.split(",") if d.strip()),
        skip_holidays=campaign.skip_holidays,
        timezone=campaign.timezone,
    )


def campaign_policy(campaign: Campaign) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=campaign.max_attempts, delays=(timedelta(seconds=campaign.retry_delay_s),)
    )


def create_campaign(
    session: Session,
    *,
    name: str,
    kind: str,
    schedule: Schedule,
    policy: RetryPolicy = RetryPolicy(),
    status: str = "draft",
    **fields: Any,
) -> Campaign:
    campaign = Campaign(
        name=name,
        kind=kind,
        status=status,
        start_date=schedule.start_date,
        end_date=schedule.end_date,
        weekdays=",".join(str(d) for d in sorted(schedule.weekdays)),
        windows=";".join(str(w) for w in schedule.windows),
        timezone=schedule.timezone,
        skip_holidays=schedule.skip_holidays,
        max_attempts=policy.max_attempts,
        retry_delay_s=int(policy.delays[0].total_seconds()),
        **fields,
    )
    session.add(campaign)
    session.flush()
    return campaign


def add_do_not_call(session: Session, numbers: Iterable[str], reason: str = "", source: str = "") -> int:
    wanted = csv_contacts.normalize_do_not_call(numbers)
    known = set(session.scalars(select(DoNotCall.phone_e164).where(DoNotCall.phone_e164.in_(wanted))))
    for e164 in sorted(wanted - known):
        session.add(DoNotCall(phone_e164=e164, reason=reason, source=source))
    session.flush()
    return len(wanted - known)


@dataclass
class AddResult:
    added: int
    skipped_do_not_call: int
    already_members: int


def add_contacts(session: Session, campaign: Campaign, people: Iterable[csv_contacts.Contact]) -> AddResult:
    """Upsert contacts by phone number and make them members of ``campaign``; do-not-call numbers skipped."""
    people = list(people)
    phones = [p.phone.e164 for p in people]
    blocked = set(session.scalars(select(DoNotCall.phone_e164).where(DoNotCall.phone_e164.in_(phones))))
    existing = {
        c.phone_e164: c for c in session.scalars(select(Contact).where(Contact.phone_e164.in_(phones)))
    }
    members = set(
        session.scalars(select(CampaignContact.contact_id).where(CampaignContact.campaign_id == campaign.id))
    )
    result = AddResult(0, 0, 0)
    for person in people:
        if person.phone.e164 in blocked:
            result.skipped_do_not_call += 1
            continue
        row = existing.get(person.phone.e164)
        if row is None:
            row = Contact(
                phone_e164=person.phone.e164,
                name=person.name,
                tags=list(person.tags),
                preferred_times=";".join(str(w) for w in person.preferred_times),
                notes=person.notes,
            )
            session.add(row)
            session.flush()
            existing[row.phone_e164] = row
        if row.id in members:
            result.already_members += 1
            continue
        session.add(CampaignContact(campaign_id=campaign.id, contact_id=row.id))
        members.add(row.id)
        result.added += 1
    session.flush()
    return result


def _preferred(contact: Contact) -> tuple[TimeWindow, ...]:
    try:
        return parse_windows(contact.preferred_times)
    except ValueError:
        return ()


def schedule_first_attempts(session: Session, campaign: Campaign, now: datetime) -> int:
    """One scheduled attempt for every pending member without one; returns how many were created."""
    schedule = campaign_schedule(campaign)
    have = set(session.scalars(select(Attempt.campaign_contact_id).where(Attempt.campaign_id == campaign.id)))
    created = 0
    for member in session.scalars(
        select(CampaignContact).where(
            CampaignContact.campaign_id == campaign.id, CampaignContact.status == "pending"
        )
    ):
        if member.id in have:
            continue
        due = next_allowed_time(schedule, now, preferred=_preferred(member.contact))
        if due is None:
            continue
        session.add(
            Attempt(
                campaign_id=campaign.id,
                contact_id=member.contact_id,
                campaign_contact_id=member.id,
                attempt_number=1,
                round_date=due.date(),
                due_at=due,
            )
        )
        created += 1
    session.flush()
    return created


# --- claiming and the attempt state machine ---------------------------------------------------------


def recover_expired(session: Session, now: datetime) -> int:
    """Close attempts whose worker died in a call (lease expired in dialing/ringing/answered) as failed.

    The contact is released and a retry is scheduled through the campaign's retry policy. Attempts that
    were only claimed need nothing here: :func:`claim_due` takes them again. Returns the number closed.
    """
    query = (
        select(Attempt)
        .where(Attempt.state.in_(IN_CALL_STATES), Attempt.lease_expires_at < now)
        .order_by(Attempt.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    closed = 0
    for attempt in session.scalars(query).all():
        owner = attempt.lease_owner or ""
        if attempt.state != "answered":
            check_transition(attempt.state, "failed")
            attempt.state = "failed"
            attempt.outcome = "failed"
        attempt.error = "worker lease expired during the call; result unknown"
        _complete(session, attempt, now)
        log.warning(
            "attempt %s: lease of worker %s expired mid-call; closed as %s",
            attempt.id,
            owner,
            attempt.outcome,
        )
        closed += 1
    session.flush()
    return closed


def claim_due(session: Session, worker_id: str, limit: int, lease_s: float, now: datetime) -> list[Attempt]:
    """Claim up to ``limit`` due attempts for ``worker_id`` with a lease of ``lease_s`` seconds.

    Only attempts of running campaigns whose contact is not held by another attempt are taken, and at most
    one per contact. Commit the session right after to publish the claim.
    """
    if limit <= 0:
        return []
    recover_expired(session, now)
    postgres = session.get_bind().dialect.name == "postgresql"
    query = (
        select(Attempt, Contact)
        .join(Contact, Contact.id == Attempt.contact_id)
        .join(Campaign, Campaign.id == Attempt.campaign_id)
        .where(
            Attempt.state == "scheduled",
            Attempt.due_at <= now,
            or_(Attempt.lease_expires_at.is_(None), Attempt.lease_expires_at < now),
            Campaign.status == "running",
            or_(Contact.active_attempt_id.is_(None), Contact.active_attempt_id == Attempt.id),
        )
        .order_by(Attempt.due_at, Attempt.id)
        .limit(limit * 2)
    )
    if postgres:
        # Locking the contact row too makes PostgreSQL re-check the guard on its newest version.
        query = query.with_for_update(skip_locked=True, of=[Attempt, Contact])
    expires = now + timedelta(seconds=lease_s)
    claimed: list[Attempt] = []
    seen: set[int] = set()
    for attempt, contact in session.execute(query).all():
        if contact.id in seen:
            continue
        seen.add(contact.id)
        attempt.lease_owner = worker_id
        attempt.lease_expires_at = expires
        attempt.claimed_at = now
        contact.active_attempt_id = attempt.id
        claimed.append(attempt)
        if len(claimed) >= limit:
            break
    session.flush()
    return claimed


def _held(session: Session, attempt_id: int, worker_id: str, now: datetime) -> Attempt:
    attempt = session.get(Attempt, attempt_id, populate_existing=True)
    if attempt is None:
        raise LookupError(f"no attempt {attempt_id}")
    if attempt.lease_owner != worker_id or attempt.lease_expires_at is None or attempt.lease_expires_at < now:
        raise LeaseLost(f"worker {worker_id} does not hold attempt {attempt_id}")
    return attempt


def renew_lease(session: Session, attempt_id: int, worker_id: str, lease_s: float, now: datetime) -> None:
    _held(session, attempt_id, worker_id, now).lease_expires_at = now + timedelta(seconds=lease_s)


_STAMPS = {"dialing": "dialing_at", "ringing": "ringing_at", "answered": "answered_at"}


def transition(
    session: Session, attempt_id: int, worker_id: str, new_state: str, now: datetime, **fields: Any
) -> Attempt:
    """Move an attempt the worker holds to ``new_state`` (checked against the state machine)."""
    attempt = _held(session, attempt_id, worker_id, now)
    check_transition(attempt.state, new_state)
    attempt.state = new_state
    if new_state in _STAMPS:
        setattr(attempt, _STAMPS[new_state], now)
    for key, value in fields.items():
        if not hasattr(Attempt, key) or key in {"id", "state", "lease_owner"}:
            raise AttributeError(f"attempt has no settable field {key!r}")
        setattr(attempt, key, value)
    session.flush()
    return attempt


def finish(
    session: Session, attempt_id: int, worker_id: str, outcome: str, now: datetime, **fields: Any
) -> Attempt | None:
    """Record the outcome of a call, complete the attempt, release the contact and schedule a retry.

    Returns the retry attempt when one was scheduled. The last failed attempt raises an ``unreachable``
    alert for the social worker.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    attempt = _held(session, attempt_id, worker_id, now)
    if attempt.state != outcome:
        transition(session, attempt_id, worker_id, outcome, now)
    for key, value in fields.items():
        setattr(attempt, key, value)
    attempt.outcome = outcome
    attempt.ended_at = attempt.ended_at or now
    return _complete(session, attempt, now)


def _complete(session: Session, attempt: Attempt, now: datetime) -> Attempt | None:
    outcome = attempt.outcome or attempt.state
    check_transition(attempt.state, "completed")
    attempt.state = "completed"
    attempt.completed_at = now
    attempt.lease_owner = None
    attempt.lease_expires_at = None
    session.execute(
        update(Contact)
        .where(Contact.id == attempt.contact_id, Contact.active_attempt_id == attempt.id)
        .values(active_attempt_id=None)
    )
    member = session.get(CampaignContact, attempt.campaign_contact_id)
    campaign = session.get(Campaign, attempt.campaign_id)
    assert member is not None and campaign is not None
    member.attempts_made = max(member.attempts_made, attempt.attempt_number)
    member.last_outcome = outcome
    retry_at = next_retry(
        campaign_schedule(campaign),
        campaign_policy(campaign),
        outcome,
        attempt.attempt_number,
        now,
        preferred=_preferred(attempt.contact),
    )
    if outcome == "answered":
        member.status = "done"
    elif retry_at is None:
        member.status = "unreachable"
        session.add(
            Alert(
                kind="unreachable",
                severity="warning",
                campaign_id=campaign.id,
                contact_id=attempt.contact_id,
                attempt_id=attempt.id,
                message=f"not reached after {attempt.attempt_number} attempt(s); last outcome {outcome}",
            )
        )
    retry = None
    if retry_at is not None:
        retry = Attempt(
            campaign_id=attempt.campaign_id,
            contact_id=attempt.contact_id,
            campaign_contact_id=attempt.campaign_contact_id,
            attempt_number=attempt.attempt_number + 1,
            round_date=attempt.round_date,
            due_at=retry_at,
        )
        session.add(retry)
    session.flush()
    return retry


def acknowledge_alert(session: Session, alert_id: int, user: str, note: str, now: datetime) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise LookupError(f"no alert {alert_id}")
    alert.acknowledged_by = user
    alert.acknowledged_at = now
    alert.note = note
    session.flush()
    return alert
