"""Engine, migrations and the storage operations of the outbound service.

SQLite (``sqlite:///var/voicebot.db``) is the default; PostgreSQL URLs (``postgresql://…``) use psycopg 3.
Several workers share a campaign through :func:`claim_due`: on PostgreSQL it takes rows with
``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite every transaction is ``BEGIN IMMEDIATE`` so claims are
serialised. A claim is a lease: when a worker dies, its claimed-but-not-dialled attempts are claimed again
after the lease expires, and its attempts that were in a call are closed as failed (the call's result is
unknown, so it is retried as a new attempt rather than redialled blindly).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, event, func, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from outbound import contacts as csv_contacts
from outbound import members
from outbound.scheduler import (
    RetryPolicy,
    Schedule,
    in_window,
    next_allowed_time,
    next_retry,
    recurrence_dates,
)
from outbound.schema import (
    IN_CALL_STATES,
    OUTCOMES,
    REACHED_OUTCOMES,
    Alert,
    Attempt,
    Campaign,
    CampaignContact,
    Contact,
    DoNotCall,
    InvalidTransition,
    check_transition,
)
from outbound.timewindows import TimeWindow, parse_windows

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///var/voicebot.db"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class LeaseLost(RuntimeError):
    """The worker no longer holds the attempt (lease expired and taken over, or never held)."""


def resolve_url(url: str | None) -> str:
    """``url``, else ``$VOICEBOT_DB_URL``, else the SQLite default; a plain file path (``var/x.db``) is that
    SQLite file; ``postgresql://`` means psycopg 3."""
    url = url or os.environ.get("VOICEBOT_DB_URL") or DEFAULT_URL
    if "://" not in url:
        url = "sqlite:///" + url
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = resolve_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    private: Path | None = None
    if parsed.database and parsed.database != ":memory:":
        private = Path(parsed.database)
        if not private.parent.exists():
            private.parent.mkdir(mode=0o700, parents=True)
        # Personal data: a new database file is created owner-only (issue 17). An existing file, or a path
        # SQLite cannot use (a directory, no permission), is left to SQLite to open or to refuse.
        with contextlib.suppress(OSError):
            os.close(os.open(private, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # Safe in WAL mode against a killed process (the crash tests); only power loss can undo the last commits.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        if private is not None:
            for path in (private, Path(f"{private}-wal"), Path(f"{private}-shm")):
                with contextlib.suppress(OSError):
                    path.chmod(0o600)

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
    updated: list[members.Update] = field(default_factory=list)  # members whose values the file changed


def add_contacts(session: Session, campaign: Campaign, people: Iterable[csv_contacts.Contact]) -> AddResult:
    """Upsert contacts by phone number and make them members of ``campaign``; do-not-call numbers skipped.

    The notes column and its script values (``date=…; place=…``) go on the membership of this campaign:
    a person already in another campaign keeps that campaign's values there, and a person already in this
    one gets the file's values (see :func:`outbound.members.apply_file_values`)."""
    people = list(people)
    phones = [p.phone.e164 for p in people]
    blocked = set(session.scalars(select(DoNotCall.phone_e164).where(DoNotCall.phone_e164.in_(phones))))
    existing = {
        c.phone_e164: c for c in session.scalars(select(Contact).where(Contact.phone_e164.in_(phones)))
    }
    current = {
        m.contact_id: m
        for m in session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign.id))
    }
    result = AddResult(0, 0, 0)
    joining: list[tuple[Contact, str]] = []
    joined: set[str] = set()
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
            )
            session.add(row)
            existing[row.phone_e164] = row
        if row.phone_e164 in joined or row.id in current:
            result.already_members += 1
            if row.id in current:
                changed = members.apply_file_values(current[row.id], person.notes)
                if changed:
                    result.updated.append(members.Update(person.rows, person.phone.masked, changed))
            continue
        joining.append((row, person.notes))
        joined.add(row.phone_e164)
        result.added += 1
    session.flush()  # one batch of inserts gives the new contacts their ids
    session.add_all(
        CampaignContact(
            campaign_id=campaign.id,
            contact_id=row.id,
            notes=notes,
            slots=members.note_slots(notes) or None,
        )
        for row, notes in joining
    )
    session.flush()
    return result


def _preferred(contact: Contact) -> tuple[TimeWindow, ...]:
    try:
        return parse_windows(contact.preferred_times)
    except ValueError:
        return ()


def round_days(campaign: Campaign) -> list[date] | None:
    """The days a new round starts for a recurring campaign (e.g. every Monday and Thursday), else None."""
    if not campaign.recurrence_weekdays:
        return None
    weekdays = frozenset(int(d) for d in campaign.recurrence_weekdays.split(",") if d.strip())
    return recurrence_dates(campaign_schedule(campaign), weekdays, campaign.recurrence_every_weeks)


def _round_start(
    campaign: Campaign, contact: Contact, after: datetime, after_day: date | None
) -> datetime | None:
    """When the next round's first call may start: at or after ``after`` and on a round day later than
    ``after_day`` (None for the first round); plain campaigns have one round starting at ``after``."""
    schedule = campaign_schedule(campaign)
    days = round_days(campaign)
    if days is None:
        return (
            next_allowed_time(schedule, after, preferred=_preferred(contact)) if after_day is None else None
        )
    tz = schedule.tz
    today = after.astimezone(tz).date()
    for day in days:
        if day < today or (after_day is not None and day <= after_day):
            continue
        start = datetime.combine(day, time(0), tz) if day > today else after
        due = next_allowed_time(schedule, start, preferred=_preferred(contact))
        if due is not None and due.astimezone(tz).date() == day:
            return due
    return None


def _new_round(
    session: Session, campaign: Campaign, member_id: int, contact_id: int, due: datetime
) -> Attempt:
    attempt = Attempt(
        campaign_id=campaign.id,
        contact_id=contact_id,
        campaign_contact_id=member_id,
        attempt_number=1,
        round_date=due.astimezone(ZoneInfo(campaign.timezone)).date(),
        due_at=due,
    )
    session.add(attempt)
    return attempt


def schedule_first_attempts(session: Session, campaign: Campaign, now: datetime) -> int:
    """One scheduled attempt (the first round's) for every pending member without one; returns how many."""
    have = set(session.scalars(select(Attempt.campaign_contact_id).where(Attempt.campaign_id == campaign.id)))
    created = 0
    for member in session.scalars(
        select(CampaignContact)
        .where(CampaignContact.campaign_id == campaign.id, CampaignContact.status == "pending")
        .options(selectinload(CampaignContact.contact))
    ):
        if member.id in have:
            continue
        due = _round_start(campaign, member.contact, now, None)
        if due is None:
            continue
        _new_round(session, campaign, member.id, member.contact_id, due)
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
        _close_unknown(session, attempt, now, "worker lease expired during the call; result unknown")
        log.warning(
            "attempt %s: lease of worker %s expired mid-call; closed as %s",
            attempt.id,
            owner,
            attempt.outcome,
        )
        closed += 1
    session.flush()
    return closed


def _close_unknown(session: Session, attempt: Attempt, now: datetime, why: str) -> None:
    outcome = "answered" if attempt.state == "answered" else "failed"
    if outcome == "failed":
        check_transition(attempt.state, "failed")
    session.flush()
    _complete_rows(
        session,
        [(_row(session, attempt.id), outcome, {"error": why, "ended_at": attempt.ended_at or now})],
        now,
    )


def _campaign_budgets(session: Session, now: datetime) -> dict[int, int]:
    """How many more calls each running campaign may start now: its channel limit (calls held at once,
    counting attempts claimed but not yet dialled) and its pacing limit (calls started in the last minute)."""
    query = (
        select(Campaign.id, Campaign.channel_limit, Campaign.pace_per_min)
        .where(Campaign.status == "running")
        .order_by(Campaign.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Workers claiming for the same campaign take turns here, so the limits hold across machines.
        query = query.with_for_update(of=Campaign)
    campaigns = session.execute(query).all()
    if not campaigns:
        return {}
    ids = [c.id for c in campaigns]
    held = dict(
        session.execute(
            select(Attempt.campaign_id, func.count())
            .where(
                Attempt.campaign_id.in_(ids),
                or_(
                    Attempt.state.in_(IN_CALL_STATES),
                    (Attempt.state == "scheduled") & (Attempt.lease_expires_at >= now),
                ),
            )
            .group_by(Attempt.campaign_id)
        ).all()
    )
    started = dict(
        session.execute(
            select(Attempt.campaign_id, func.count())
            .where(Attempt.campaign_id.in_(ids), Attempt.claimed_at > now - timedelta(minutes=1))
            .group_by(Attempt.campaign_id)
        ).all()
    )
    return {
        c.id: max(0, min(c.channel_limit - held.get(c.id, 0), c.pace_per_min - started.get(c.id, 0)))
        for c in campaigns
    }


def claim_due(
    session: Session,
    worker_id: str,
    limit: int,
    lease_s: float,
    now: datetime,
    campaign_ids: Iterable[int] | None = None,
) -> list[Attempt]:
    """Claim up to ``limit`` due attempts for ``worker_id`` with a lease of ``lease_s`` seconds.

    Only attempts of running campaigns whose contact is not held by another attempt are taken, at most one
    per contact, within each campaign's channel and pacing limits, and only inside the calling window (a
    due attempt found outside it, say after a pause or a worker outage, is moved to the next window).
    ``campaign_ids`` limits the claim to those campaigns. Commit the session right after to publish it.
    """
    if limit <= 0:
        return []
    recover_expired(session, now)
    only = None if campaign_ids is None else set(campaign_ids)
    budgets = {
        cid: n
        for cid, n in _campaign_budgets(session, now).items()
        if n > 0 and (only is None or cid in only)
    }
    if not budgets:
        session.flush()
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    query = (
        select(Attempt, Contact)
        .join(Contact, Contact.id == Attempt.contact_id)
        .where(
            Attempt.state == "scheduled",
            Attempt.due_at <= now,
            Attempt.campaign_id.in_(list(budgets)),
            or_(Attempt.lease_expires_at.is_(None), Attempt.lease_expires_at < now),
            or_(Contact.active_attempt_id.is_(None), Contact.active_attempt_id == Attempt.id),
        )
        .order_by(Attempt.due_at, Attempt.id)
        .limit(min(limit, sum(budgets.values())) * 2)
    )
    if postgres:
        # Locking the contact row too makes PostgreSQL re-check the guard on its newest version.
        query = query.with_for_update(skip_locked=True, of=[Attempt, Contact])
    expires = now + timedelta(seconds=lease_s)
    schedules: dict[int, Schedule] = {}
    claimed: list[tuple[Attempt, Contact]] = []
    seen: set[int] = set()
    for attempt, contact in session.execute(query).all():
        if contact.id in seen or budgets.get(attempt.campaign_id, 0) <= 0:
            continue
        if attempt.campaign_id not in schedules:
            schedules[attempt.campaign_id] = campaign_schedule(attempt.campaign)
        schedule = schedules[attempt.campaign_id]
        if not in_window(schedule, now):
            _move_to_next_window(session, attempt, schedule, now)
            continue
        seen.add(contact.id)
        budgets[attempt.campaign_id] -= 1
        claimed.append((attempt, contact))
        if len(claimed) >= limit:
            break
    session.flush()
    if not claimed:
        return []
    # Two statements for the whole claim; the loaded objects are given the same values, unflushed.
    session.execute(
        update(Attempt)
        .where(Attempt.id.in_([a.id for a, _ in claimed]))
        .values(lease_owner=worker_id, lease_expires_at=expires, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(update(Contact), [{"id": c.id, "active_attempt_id": a.id} for a, c in claimed])
    for attempt, contact in claimed:
        set_committed_value(attempt, "contact", contact)
        set_committed_value(attempt, "lease_owner", worker_id)
        set_committed_value(attempt, "lease_expires_at", expires)
        set_committed_value(attempt, "claimed_at", now)
        set_committed_value(contact, "active_attempt_id", attempt.id)
    return [a for a, _ in claimed]


def _move_to_next_window(session: Session, attempt: Attempt, schedule: Schedule, now: datetime) -> None:
    due = next_allowed_time(schedule, now, preferred=_preferred(attempt.contact))
    if due is not None:
        log.info("attempt %s: due outside the calling window; moved to the next window", attempt.id)
        attempt.due_at = due
        return
    log.warning("attempt %s: the campaign's calling days are over; attempt cancelled", attempt.id)
    attempt.state = "cancelled"
    attempt.error = "campaign calling days over before the call could be placed"
    member = session.get(CampaignContact, attempt.campaign_contact_id)
    if member is not None and member.status == "pending":
        member.status = "unreachable"


def release_own(session: Session, worker_id: str, now: datetime) -> int:
    """A restarted worker gives up what its previous life held, without waiting for the leases to expire.

    Claimed-but-not-dialled attempts go back to the queue; attempts that were in a call are closed as failed
    (result unknown) and retried through the campaign's policy, as :func:`recover_expired` does.
    """
    released = 0
    for attempt in session.scalars(
        select(Attempt).where(
            Attempt.lease_owner == worker_id, Attempt.state.in_(("scheduled", *IN_CALL_STATES))
        )
    ).all():
        if attempt.state == "scheduled":
            attempt.lease_owner = None
            attempt.lease_expires_at = None
            session.execute(
                update(Contact)
                .where(Contact.id == attempt.contact_id, Contact.active_attempt_id == attempt.id)
                .values(active_attempt_id=None)
            )
        else:
            _close_unknown(session, attempt, now, "worker restarted during the call; result unknown")
        released += 1
    session.flush()
    if released:
        log.warning("worker %s restarted: released %d attempt(s) of its previous run", worker_id, released)
    return released


def _held(session: Session, attempt_id: int, worker_id: str, now: datetime) -> Attempt:
    # Sessions here live for one transaction (expire_on_commit=False), so what this one loaded is current.
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise LookupError(f"no attempt {attempt_id}")
    if attempt.lease_owner != worker_id or attempt.lease_expires_at is None or attempt.lease_expires_at < now:
        raise LeaseLost(f"worker {worker_id} does not hold attempt {attempt_id}")
    return attempt


def renew_leases(
    session: Session, attempt_ids: list[int], worker_id: str, lease_s: float, now: datetime
) -> int:
    """Extend the worker's leases on calls still in progress (one statement), so a call longer than the
    lease is never closed as "result unknown" by another worker's :func:`recover_expired` while it runs.
    Leases the worker lost already stay lost. Returns how many were renewed."""
    if not attempt_ids:
        return 0
    return session.execute(
        update(Attempt)
        .where(
            Attempt.id.in_(attempt_ids),
            Attempt.state.in_(IN_CALL_STATES),
            Attempt.lease_owner == worker_id,
            Attempt.lease_expires_at >= now,
        )
        .values(lease_expires_at=now + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    ).rowcount


_OUTCOME_KO = {
    "human": "사람이 받음",
    "answered": "받음",
    "voicemail": "음성사서함",
    "carrier_message": "통신사 안내",
    "screened": "통화 선별",
    "busy": "통화 중",
    "no_answer": "받지 않음",
    "rejected": "수신 거부",
    "hung_up_early": "받자마자 끊음",
    "failed": "연결 실패",
}
_STAMPS = {"dialing": "dialing_at", "ringing": "ringing_at", "answered": "answered_at"}


def transition(
    session: Session, attempt_id: int, worker_id: str, new_state: str, now: datetime, **fields: Any
) -> Attempt:
    """Move an attempt the worker holds to ``new_state`` (checked against the state machine)."""
    attempt = _held(session, attempt_id, worker_id, now)
    _move(attempt, new_state, now)
    for key, value in fields.items():
        if not hasattr(Attempt, key) or key in {"id", "state", "lease_owner"}:
            raise AttributeError(f"attempt has no settable field {key!r}")
        setattr(attempt, key, value)
    session.flush()
    return attempt


def _move(attempt: Attempt, new_state: str, now: datetime) -> None:
    check_transition(attempt.state, new_state)
    attempt.state = new_state
    if new_state in _STAMPS:
        setattr(attempt, _STAMPS[new_state], now)


def start_dialing(
    session: Session, attempt_ids: list[int], worker_id: str, now: datetime, *, simulated: bool = False
) -> None:
    """``scheduled`` → ``dialing`` for attempts the worker holds, in one statement (the hot path).
    Commit before the calls start: a worker killed mid-call then leaves them as calls with unknown result.
    ``simulated``: the SIMULATED dialer places them (marked now, so a lost result is marked too)."""
    if not attempt_ids:
        return
    moved = session.execute(
        update(Attempt)
        .where(
            Attempt.id.in_(attempt_ids),
            Attempt.state == "scheduled",
            Attempt.lease_owner == worker_id,
            Attempt.lease_expires_at >= now,
        )
        .values(state="dialing", dialing_at=now, simulated=simulated)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != len(attempt_ids):
        raise LeaseLost(f"worker {worker_id} no longer holds all of attempts {attempt_ids}")


@dataclass(frozen=True)
class Outcome:
    """What one call ended with, for :func:`finish_many`."""

    attempt_id: int
    outcome: str
    fields: dict[str, Any]


def finish(
    session: Session, attempt_id: int, worker_id: str, outcome: str, now: datetime, **fields: Any
) -> Attempt | None:
    """Record the outcome of a call, complete the attempt, release the contact and schedule a retry.

    Returns the retry attempt (or the next round's) when one was booked. The last failed attempt raises
    an ``unreachable`` alert for the social worker. Raises :class:`LeaseLost` if the worker no longer holds
    the attempt, ``ValueError`` (:class:`InvalidTransition`) for an outcome it cannot take, ``LookupError``
    for an unknown attempt.
    """
    finished = finish_many(session, worker_id, [Outcome(attempt_id, outcome, fields)], now)
    if attempt_id in finished.rejected:
        raise finished.rejected[attempt_id]
    if finished.lost:
        raise LeaseLost(f"worker {worker_id} does not hold attempt {attempt_id}")
    return finished.booked[attempt_id]


@dataclass
class Finished:
    """What :func:`finish_many` did with each outcome of a batch."""

    booked: dict[int, Attempt | None]  # recorded: the retry or next round booked, else None
    lost: list[int]  # the worker no longer held these: left untouched, another worker's record stands
    # Refused (unknown outcome or attempt, a move the state machine forbids): left untouched. The
    # messages name ids, states and outcomes only, never personal data.
    rejected: dict[int, ValueError | LookupError]


def finish_many(session: Session, worker_id: str, outcomes: list[Outcome], now: datetime) -> Finished:
    """:func:`finish` for several calls in one go (a few statements for the whole batch). An outcome that
    cannot be recorded is rejected on its own: the others of the batch are recorded all the same."""
    session.flush()
    rows = {r.id: r for r in session.execute(_ROW.where(Attempt.id.in_([o.attempt_id for o in outcomes])))}
    done, lost, rejected = [], [], {}
    for item in outcomes:
        row = rows.get(item.attempt_id)
        if row is None:
            rejected[item.attempt_id] = LookupError(f"no attempt {item.attempt_id}")
            continue
        if row.lease_owner != worker_id or row.lease_expires_at is None or row.lease_expires_at < now:
            lost.append(item.attempt_id)
            continue
        if item.outcome not in OUTCOMES:
            rejected[item.attempt_id] = ValueError(f"outcome {item.outcome!r} is not one of {OUTCOMES}")
            continue
        changes = dict(item.fields)
        if row.state != item.outcome:
            try:
                check_transition(row.state, item.outcome)
            except InvalidTransition as exc:
                rejected[item.attempt_id] = exc
                continue
            if item.outcome in _STAMPS:
                changes[_STAMPS[item.outcome]] = now
        changes["ended_at"] = row.ended_at or now
        done.append((row, item.outcome, changes))
    return Finished(_complete_rows(session, done, now), lost, rejected)


# What completing an attempt needs to know of it, read without making ORM objects (the hot path).
_ROW = select(
    Attempt.id,
    Attempt.state,
    Attempt.lease_owner,
    Attempt.lease_expires_at,
    Attempt.campaign_id,
    Attempt.contact_id,
    Attempt.campaign_contact_id,
    Attempt.attempt_number,
    Attempt.round_date,
    Attempt.ended_at,
)


def _row(session: Session, attempt_id: int) -> Any:
    return session.execute(_ROW.where(Attempt.id == attempt_id)).one()


def _complete(session: Session, attempt: Attempt, now: datetime) -> Attempt | None:
    session.flush()
    outcome = attempt.outcome or attempt.state
    return _complete_rows(session, [(_row(session, attempt.id), outcome, {})], now)[attempt.id]


def _expire(session: Session, cls: type, ids: Iterable[int]) -> None:
    """Objects of ``cls`` this session already holds reload after a bulk statement changed their rows."""
    for ident in ids:
        loaded = session.identity_map.get(identity_key(cls, ident))
        if loaded is not None:
            session.expire(loaded)


def _complete_rows(
    session: Session, done: list[tuple[Any, str, dict[str, Any]]], now: datetime
) -> dict[int, Attempt | None]:
    """Complete ended attempts: record them, release their people, book retries or next rounds, raise
    unreachable alerts. ``done`` holds (attempt row, outcome, extra column values)."""
    if not done:
        return {}
    for row, outcome, _ in done:
        state = outcome if row.state != outcome and row.state not in OUTCOMES else row.state
        check_transition(state, "completed")
    ids = [row.id for row, _, _ in done]
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row, outcome, changes in done:  # one executemany per set of columns: none is overwritten with None
        by_columns.setdefault(tuple(sorted(changes)), []).append(
            {
                "id": row.id,
                "state": "completed",
                "outcome": outcome,
                "completed_at": now,
                "lease_owner": None,
                "lease_expires_at": None,
                **changes,
            }
        )
    for values in by_columns.values():
        session.execute(update(Attempt), values)
    _expire(session, Attempt, ids)
    session.execute(
        update(Contact)
        .where(Contact.active_attempt_id.in_(ids))
        .values(active_attempt_id=None)
        .execution_options(synchronize_session=False)
    )
    _expire(session, Contact, {row.contact_id for row, _, _ in done})
    members = {
        m.id: m
        for m in session.execute(
            select(CampaignContact.id, CampaignContact.attempts_made).where(
                CampaignContact.id.in_({row.campaign_contact_id for row, _, _ in done})
            )
        )
    }
    # Held in a local: the identity map keeps only what is referenced.
    campaigns = {
        c.id: c
        for c in session.scalars(
            select(Campaign).where(Campaign.id.in_({row.campaign_id for row, _, _ in done}))
        )
    }
    policies = {cid: campaign_policy(c) for cid, c in campaigns.items()}
    schedules = {cid: campaign_schedule(c) for cid, c in campaigns.items()}

    def may_retry(row: Any, outcome: str) -> bool:
        policy = policies[row.campaign_id]
        return outcome in policy.retry_on and row.attempt_number < policy.max_attempts

    needs_contact = {
        row.contact_id
        for row, outcome, _ in done
        if may_retry(row, outcome) or campaigns[row.campaign_id].recurrence_weekdays
    }
    contacts = (
        {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(needs_contact)))}
        if needs_contact
        else {}
    )
    booked: dict[int, Attempt | None] = {}
    member_changes = []
    for row, outcome, _ in done:
        campaign = campaigns[row.campaign_id]
        retry_at = None
        if may_retry(row, outcome):
            retry_at = next_retry(
                schedules[campaign.id],
                policies[campaign.id],
                outcome,
                row.attempt_number,
                now,
                preferred=_preferred(contacts[row.contact_id]),
            )
        if retry_at is None and outcome not in REACHED_OUTCOMES:
            session.add(
                Alert(
                    kind="unreachable",
                    severity="warning",
                    campaign_id=campaign.id,
                    contact_id=row.contact_id,
                    attempt_id=row.id,
                    message=_unreachable_message(session, row, outcome),
                )
            )
        retry = None
        if retry_at is not None:
            retry = Attempt(
                campaign_id=row.campaign_id,
                contact_id=row.contact_id,
                campaign_contact_id=row.campaign_contact_id,
                attempt_number=row.attempt_number + 1,
                round_date=row.round_date,
                due_at=retry_at,
            )
            session.add(retry)
        elif campaign.recurrence_weekdays and campaign.status not in ("cancelled", "completed"):
            # This round is over for the person; a recurring campaign books the next round.
            next_round = _round_start(campaign, contacts[row.contact_id], now, row.round_date)
            if next_round is not None:
                retry = _new_round(session, campaign, row.campaign_contact_id, row.contact_id, next_round)
        change: dict[str, Any] = {
            "id": row.campaign_contact_id,
            "attempts_made": max(members[row.campaign_contact_id].attempts_made, row.attempt_number),
            "last_outcome": outcome,
            "status": "pending",
        }
        if retry is None:
            change["status"] = "done" if outcome in REACHED_OUTCOMES else "unreachable"
        member_changes.append(change)
        booked[row.id] = retry
    session.execute(update(CampaignContact), member_changes)
    _expire(session, CampaignContact, {c["id"] for c in member_changes})
    session.flush()
    return booked


def _unreachable_message(session: Session, row: Any, outcome: str) -> str:
    """The alert for a person no call of this round reached: how many calls reached nobody, and what each
    ended as (a machine that answered reached nobody). Counted from the round's attempts, this one
    included (its row is recorded already)."""
    outcomes = session.scalars(
        select(Attempt.outcome).where(
            Attempt.campaign_contact_id == row.campaign_contact_id,
            Attempt.round_date.is_(None) if row.round_date is None else Attempt.round_date == row.round_date,
            Attempt.state == "completed",
            Attempt.outcome.is_not(None),
            Attempt.outcome.not_in(REACHED_OUTCOMES),
        )
    ).all()
    counts: dict[str, int] = {}
    for each in outcomes or [outcome]:
        counts[each] = counts.get(each, 0) + 1
    detail = ", ".join(
        f"{_OUTCOME_KO.get(o, o)} {n}번" for o, n in sorted(counts.items(), key=lambda c: -c[1])
    )
    last = _OUTCOME_KO.get(outcome, outcome)
    return f"{sum(counts.values())}번 걸었지만 본인과 통화하지 못했습니다 ({detail}; 마지막 결과: {last})."


def acknowledge_alert(session: Session, alert_id: int, user: str, note: str, now: datetime) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise LookupError(f"no alert {alert_id}")
    alert.acknowledged_by = user
    alert.acknowledged_at = now
    alert.note = note
    session.flush()
    return alert
