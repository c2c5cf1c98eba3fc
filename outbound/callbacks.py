"""Call-back bookings (issue 18): a caller who would wait too long for an agent books a time slot, and the
centre calls back in it.

- :class:`BusinessHours`: when agents answer (daily windows, weekdays, Korean public holidays skipped),
  in Asia/Seoul; :func:`free_slots` gives the next slots a caller may choose, each with the words the bot
  says (``오늘 오후 3시부터 4시 사이``), skipping full ones.
- :class:`Callback` (table ``callbacks``, migration ``0012_callbacks``): one booking. The number is stored
  as contacts' numbers are (E.164); lists for viewers and every log line mask it. What the caller said
  stays in the handoff record (``handoff_id``); a booking keeps only its labels (reason, category, intent).
- :func:`dial_due`: one pass of the call-back dialer, run by ``voicebot serve`` next to the campaign
  worker with the same :class:`~outbound.runner.Dialer`: call-backs whose slot has come are dialled
  inside business hours only, never to a number on the do-not-call list, each attempt recorded; an
  unanswered one is tried again within its slot, then left to staff (``missed``). The call says it is the
  call-back the person asked for and hands them to an agent (:data:`CALLBACK_SCRIPT`).

States: booked -> dialing -> done | booked (tried again) | missed; booked -> cancelled (staff, or the
number is on the do-not-call list); staff may close booked or missed ones as done (an agent called).
Closed ones go after the inbound retention period (:func:`purge`).
This package never imports ``voicebot``: the server hands the dialer in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from outbound.holidays_kr import korean_holidays
from outbound.phones import mask_phone, normalize_phone
from outbound.runner import CallRequest, Dialer, DialOutcome
from outbound.scheduler import SEOUL, Schedule, in_window, parse_weekdays
from outbound.schema import REACHED_OUTCOMES, Base, DoNotCall, UTCDateTime, one_of, utcnow
from outbound.script import Script, parse_script
from outbound.timewindows import TimeWindow, parse_windows

log = logging.getLogger(__name__)

STATES = ("booked", "dialing", "done", "missed", "cancelled")
OPEN_STATES = ("booked", "dialing")


class Callback(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        CheckConstraint(one_of("state", STATES), name="ck_callbacks_state"),
        Index("ix_callbacks_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20))
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    slot_end: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the next try (the slot's start at first)
    state: Mapped[str] = mapped_column(String(16), default="booked")
    channel: Mapped[str] = mapped_column(String(16))  # the caller's transport: sip | webrtc | ...
    handoff_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(32))  # the handoff's reason code
    category: Mapped[str | None] = mapped_column(String(32))
    intent: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # how the last call went (no words)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)  # dialled by the SIMULATED dialer
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(100))  # a staff name, "dialer" or "do_not_call"
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- business hours and slots -------------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessHours:
    """When agents answer and call back: ``windows`` on ``weekdays``, public holidays off."""

    windows: tuple[TimeWindow, ...] = (TimeWindow(9 * 60, 18 * 60),)
    weekdays: frozenset[int] = frozenset(range(5))
    skip_holidays: bool = True
    timezone: str = SEOUL
    holidays: frozenset[date] = field(default_factory=korean_holidays)

    @classmethod
    def parse(cls, windows: str, weekdays: str, skip_holidays: bool = True) -> BusinessHours:
        """``"09:00-18:00"`` and ``"월,화,수,목,금"``; ValueError (WindowError, ScheduleError) when unusable."""
        parsed = parse_windows(windows)
        days = parse_weekdays(weekdays)
        if not parsed or not days:
            raise ValueError("business hours need at least one window and one weekday")
        return cls(parsed, days, skip_holidays)

    def schedule(self, around: datetime) -> Schedule:
        today = around.astimezone(_tz(self.timezone)).date()
        return Schedule(
            today - timedelta(days=1),
            today + timedelta(days=60),
            self.windows,
            self.weekdays,
            self.holidays,
            self.skip_holidays,
            self.timezone,
        )

    def open_at(self, moment: datetime) -> bool:
        return in_window(self.schedule(moment), moment)

    def text(self) -> str:
        """As said to a caller: ``평일 오전 9시부터 오후 6시까지``."""
        if self.weekdays == frozenset(range(5)):
            days = "평일"
        elif self.weekdays == frozenset(range(7)):
            days = "매일"
        else:
            days = "·".join("월화수목금토일"[d] for d in sorted(self.weekdays)) + "요일"
        spans = ", ".join(f"{_clock(w.start_min)}부터 {_clock(w.end_min)}까지" for w in self.windows)
        return f"{days} {spans}"


def _tz(name: str):  # noqa: ANN202 - a ZoneInfo
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _clock(minute: int, period: bool = True) -> str:
    """Minutes since midnight as said: ``오후 3시``, ``오전 9시 30분``, ``낮 12시`` (``3시`` without period)."""
    hour, rest = divmod(minute, 60)
    if hour == 24:
        said, name = "밤", 12
    elif hour < 12:
        said, name = "오전", hour or 12
    elif hour == 12:
        said, name = "낮", 12
    else:
        said, name = "오후", hour - 12
    words = f"{name}시" + (f" {rest}분" if rest else "")
    return f"{said} {words}" if period else words


def _period(minute: int) -> str:
    return _clock(minute).split(" ", 1)[0]


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    label: str  # what the bot says: "오늘 오후 3시부터 4시 사이"


def slot_label(start: datetime, end: datetime, now: datetime, timezone: str = SEOUL) -> str:
    tz = _tz(timezone)
    s, e, today = start.astimezone(tz), end.astimezone(tz), now.astimezone(tz).date()
    days = (s.date() - today).days
    if days == 0:
        day = "오늘"
    elif days == 1:
        day = "내일"
    elif days == 2:
        day = "모레"
    else:
        day = f"{s.month}월 {s.day}일 {'월화수목금토일'[s.weekday()]}요일"
    start_min = s.hour * 60 + s.minute
    end_min = e.hour * 60 + e.minute if e.date() == s.date() else 1440
    same = _period(start_min) == _period(end_min)
    return f"{day} {_clock(start_min)}부터 {_clock(end_min, period=not same)} 사이"


def free_slots(
    hours: BusinessHours,
    now: datetime,
    booked: dict[datetime, int],
    *,
    count: int = 3,
    slot_minutes: int = 60,
    per_slot: int = 4,
    lead: timedelta = timedelta(minutes=10),
    days_ahead: int = 14,
) -> list[Slot]:
    """The next ``count`` slots of ``slot_minutes`` inside business hours starting at least ``lead`` from
    ``now``, each with fewer than ``per_slot`` call-backs booked (``booked``: slot start -> bookings)."""
    tz = _tz(hours.timezone)
    local_now = now.astimezone(tz)
    earliest = now + lead
    schedule = hours.schedule(now)
    found: list[Slot] = []
    day = local_now.date()
    for _ in range(days_ahead + 1):
        if schedule.is_calling_day(day):
            for window in hours.windows:
                minute = window.start_min
                while minute + slot_minutes <= window.end_min:
                    start = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=minute)
                    end = start + timedelta(minutes=slot_minutes)
                    if start >= earliest and booked.get(start, 0) < per_slot:
                        found.append(Slot(start, end, slot_label(start, end, now, hours.timezone)))
                        if len(found) == count:
                            return found
                    minute += slot_minutes
        day += timedelta(days=1)
    return found


# --- bookings -----------------------------------------------------------------------------------------


def booked_counts(session: Session, since: datetime, until: datetime) -> dict[datetime, int]:
    """Open call-backs per slot start between ``since`` and ``until``."""
    rows = session.execute(
        select(Callback.slot_start, func.count())
        .where(Callback.state.in_(OPEN_STATES), Callback.slot_start >= since, Callback.slot_start < until)
        .group_by(Callback.slot_start)
    )
    return {start: n for start, n in rows}


def book(
    session: Session,
    phone: str,
    start: datetime,
    end: datetime,
    *,
    channel: str,
    handoff_id: str | None = None,
    reason: str | None = None,
    category: str | None = None,
    intent: str | None = None,
) -> Callback:
    """Book a call-back to ``phone`` (any Korean number; PhoneError when it is not one) in a slot."""
    row = Callback(
        phone_e164=normalize_phone(phone),
        slot_start=start,
        slot_end=end,
        due_at=start,
        state="booked",
        channel=channel[:16],
        handoff_id=handoff_id,
        reason=(reason or None) and reason[:32],
        category=(category or None) and category[:32],
        intent=(intent or None) and intent[:64],
    )
    session.add(row)
    session.flush()
    log.info("call-back %s booked for %s (%s)", row.id, mask_phone(row.phone_e164), channel)
    return row


def list_callbacks(
    session: Session, states: tuple[str, ...] | None = None, limit: int = 200
) -> list[Callback]:
    query = select(Callback).order_by(Callback.slot_start, Callback.id).limit(limit)
    if states:
        query = query.where(Callback.state.in_(states))
    return list(session.scalars(query))


class CallbackError(ValueError):
    """A change staff asked for that the call-back's state does not allow (the message is Korean)."""


def close(session: Session, callback_id: int, state: str, who: str, now: datetime) -> Callback | None:
    """Staff close a call-back: ``done`` (an agent called) or ``cancelled``. None when there is none."""
    if state not in ("done", "cancelled"):
        raise CallbackError(f"'{state}'(으)로는 바꿀 수 없습니다 (done 또는 cancelled)")
    row = session.get(Callback, callback_id)
    if row is None:
        return None
    if row.state == "dialing":
        raise CallbackError("지금 전화를 거는 중입니다; 통화가 끝난 뒤에 바꿔 주세요")
    if row.state in ("done", "cancelled"):
        raise CallbackError("이미 처리된 콜백입니다")
    row.state, row.closed_by, row.closed_at = state, who[:100], now
    return row


def purge(session: Session, cutoff: datetime, *, dry_run: bool = False) -> int:
    """Closed call-backs (done, cancelled, missed) whose slot ended before ``cutoff`` go, number and all
    (retention of inbound personal data, run by ``voicebot.server.retention``); their count."""
    old = select(Callback.id).where(
        Callback.state.in_(("done", "cancelled", "missed")), Callback.slot_end < cutoff
    )
    ids = list(session.scalars(old))
    if ids and not dry_run:
        session.execute(delete(Callback).where(Callback.id.in_(ids)))
    return len(ids)


def callback_dict(row: Callback, *, masked: bool) -> dict[str, Any]:
    return {
        "id": row.id,
        "phone": mask_phone(row.phone_e164) if masked else row.phone_e164,
        "slot_start": row.slot_start.isoformat(),
        "slot_end": row.slot_end.isoformat(),
        "state": row.state,
        "channel": row.channel,
        "handoff_id": row.handoff_id,
        "reason": row.reason,
        "category": row.category,
        "intent": row.intent,
        "attempts": row.attempts,
        "last_outcome": row.last_outcome,
        "last_attempt_at": row.last_attempt_at.isoformat() if row.last_attempt_at else None,
        "simulated": row.simulated,
        "closed_by": row.closed_by,
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }


# --- the call-back dialer -----------------------------------------------------------------------------

# What the call-back says. Whoever answers may not be the caller, so it names no topic and no name.
CALLBACK_SCRIPT: Script = parse_script(
    {
        "kind": "callback",
        "title": "상담 콜백",
        # Ids and codes only (never said): they reach the agent in the call's handoff record.
        "slots": {"required": [], "optional": ["callback_id", "handoff_id", "reason"]},
        "global_keys": {"9": "repeat"},
        "max_repeats": 1,
        "agent_say": "상담원에게 연결해 드리겠습니다. 잠시만 기다려 주세요.",
        "steps": [
            {
                "id": "offer",
                "say": (
                    "안녕하세요, 서울시 120 다산콜센터입니다. 예약하신 상담 콜백 전화를 드렸습니다. "
                    "지금 상담원과 연결해 드릴까요? 연결을 원하시면 1번, 다음에 하시려면 2번을 눌러 주세요."
                ),
                "expect": "yes_no",
                "keys": {"1": "yes", "2": "no"},
                "then": {"yes": "agent", "no": "later", "no_input": "hangup"},
            },
            {
                "id": "later",
                "say": "알겠습니다. 필요하시면 언제든 120번으로 전화해 주세요. 감사합니다.",
                "end": True,
                "outcome": "declined",
            },
        ],
    },
    "callback",
    kinds=("callback",),
)


@dataclass(frozen=True)
class CallbackPolicy:
    retry_after: timedelta = timedelta(minutes=10)  # an unanswered call-back is tried again this much later
    max_attempts: int = 2  # within the slot; then it is left to staff (missed)
    lease: timedelta = timedelta(minutes=10)


@dataclass
class DialReport:
    dialled: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0  # do-not-call numbers
    missed: int = 0  # slots that passed without a call that reached the person


def dial_due(
    factory: sessionmaker[Session],
    dialer: Dialer,
    worker_id: str,
    now: datetime,
    hours: BusinessHours,
    *,
    policy: CallbackPolicy = CallbackPolicy(),
    limit: int = 2,
    clock: Callable[[], datetime] | None = None,
) -> DialReport:
    """One pass: close call-backs whose slot is over, then (inside business hours only) dial those due,
    one after another, and record each result. Numbers on the do-not-call list are never dialled."""
    report = DialReport()
    stamp = clock or (lambda: now)
    with factory.begin() as session:
        stale = session.scalars(
            select(Callback).where(Callback.state == "dialing", Callback.lease_expires_at < now)
        )
        for row in stale:  # a worker died mid-call: the result is unknown, try again in the slot
            row.state, row.lease_owner, row.lease_expires_at = "booked", None, None
        over = session.scalars(
            select(Callback).where(Callback.state == "booked", Callback.slot_end <= now)
        ).all()
        for row in over:
            row.state = "missed"
        report.missed = len(over)
        if not hours.open_at(now):
            return report
        due = session.scalars(
            select(Callback)
            .where(Callback.state == "booked", Callback.due_at <= now, Callback.slot_end > now)
            .order_by(Callback.due_at, Callback.id)
            .limit(limit)
        ).all()
        blocked = set(
            session.scalars(
                select(DoNotCall.phone_e164).where(DoNotCall.phone_e164.in_([r.phone_e164 for r in due]))
            )
        )
        claimed: list[tuple[int, str, dict[str, str]]] = []
        for row in due:
            if row.phone_e164 in blocked:
                row.state, row.closed_by, row.closed_at = "cancelled", "do_not_call", now
                row.last_outcome = "do_not_call"
                report.cancelled += 1
                log.info("call-back %s: the number is on the do-not-call list; cancelled", row.id)
                continue
            row.state, row.lease_owner = "dialing", worker_id
            row.lease_expires_at = now + policy.lease
            row.simulated = row.simulated or dialer.simulated
            context = {
                "callback_id": str(row.id),
                "handoff_id": row.handoff_id or "",
                "reason": row.reason or "",
            }
            claimed.append((row.id, row.phone_e164, context))
    for callback_id, phone, context in claimed:
        try:
            result = dialer.dial(CallRequest(callback_id, phone, CALLBACK_SCRIPT, context))
        except Exception as exc:  # one bad call never stops the dialer
            log.exception("call-back %s: dialer failed", callback_id)
            result = DialOutcome("failed", error=type(exc).__name__)
        _record(factory, callback_id, result, stamp(), policy)
        report.dialled += 1
        report.outcomes[result.outcome] = report.outcomes.get(result.outcome, 0) + 1
    return report


def _record(
    factory: sessionmaker[Session],
    callback_id: int,
    result: DialOutcome,
    now: datetime,
    policy: CallbackPolicy,
) -> None:
    with factory.begin() as session:
        row = session.get(Callback, callback_id)
        if row is None:
            return
        row.attempts += 1
        row.last_outcome, row.last_attempt_at = result.outcome, now
        row.lease_owner = row.lease_expires_at = None
        ended = (result.conversation or {}).get("outcome")
        row.result = {"outcome": result.outcome, "call": ended, "sip_status": result.sip_status}
        retry = now + policy.retry_after
        if result.outcome in REACHED_OUTCOMES:
            row.state, row.closed_by, row.closed_at = "done", "dialer", now
        elif row.attempts < policy.max_attempts and retry < row.slot_end:
            row.state, row.due_at = "booked", retry
        else:
            row.state = "missed"
        log.info("call-back %s: %s (%s)", callback_id, result.outcome, row.state)
