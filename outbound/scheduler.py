"""Pure scheduling decisions: when may the next call be placed, and should a failed attempt be retried.

All inputs are timezone-aware datetimes; decisions are made in the campaign's zone (Asia/Seoul by
default) and returned in that zone. Nothing here reads a clock or a database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from outbound.holidays_kr import korean_holidays
from outbound.timewindows import TimeWindow, intersect_windows, merge_windows

SEOUL = "Asia/Seoul"
ALL_DAYS = frozenset(range(7))  # Monday = 0 … Sunday = 6, as date.weekday()
WEEKDAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
WEEKDAY_NAMES_KO = {"월": 0, "화": 1, "수": 2, "목": 3, "금": 4, "토": 5, "일": 6}
# Outcomes worth another call: every outcome that reached nobody is retried (a machine that answered reached nobody); a person reached
# ("human", "answered") is not. As outbound.schema.NOT_REACHED_OUTCOMES.
RETRYABLE = frozenset(
    {"voicemail", "carrier_message", "screened", "no_answer", "busy", "rejected", "hung_up_early", "failed"}
)


class ScheduleError(ValueError):
    """A schedule that can never place a call (empty days, no window, end before start)."""


def parse_weekdays(text: str) -> frozenset[int]:
    """``"mon,thu"``, ``"월,목"``, ``"월목"`` or ``"0,3"`` → {0, 3}."""
    out: set[int] = set()
    for token in text.replace(" ", ",").replace("/", ",").split(","):
        token = token.strip().lower()
        if not token:
            continue
        if token[:3] in WEEKDAY_NAMES:
            out.add(WEEKDAY_NAMES[token[:3]])
        elif token.isdigit() and int(token) < 7:
            out.add(int(token))
        elif all(ch in WEEKDAY_NAMES_KO for ch in token.replace("요일", "")):
            out.update(WEEKDAY_NAMES_KO[ch] for ch in token.replace("요일", ""))
        else:
            raise ScheduleError(f"unknown weekday {token!r}; use mon..sun or 월..일")
    return frozenset(out)


@dataclass(frozen=True)
class Schedule:
    start_date: date
    end_date: date
    windows: tuple[TimeWindow, ...]
    weekdays: frozenset[int] = frozenset(range(5))  # Monday to Friday
    holidays: frozenset[date] = field(default_factory=korean_holidays)
    skip_holidays: bool = True
    timezone: str = SEOUL

    def __post_init__(self) -> None:
        if self.end_date < self.start_date:
            raise ScheduleError(f"end date {self.end_date} is before start date {self.start_date}")
        if not self.windows:
            raise ScheduleError("a schedule needs at least one daily calling window")
        if not self.weekdays or not self.weekdays <= ALL_DAYS:
            raise ScheduleError("weekdays must be a non-empty subset of 0 (Monday) .. 6 (Sunday)")
        object.__setattr__(self, "windows", merge_windows(self.windows))
        ZoneInfo(self.timezone)  # raises for an unknown zone

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_calling_day(self, day: date) -> bool:
        return (
            self.start_date <= day <= self.end_date
            and day.weekday() in self.weekdays
            and not (self.skip_holidays and day in self.holidays)
        )

    def calling_days(self, start: date | None = None) -> Iterator[date]:
        day = max(start or self.start_date, self.start_date)
        while day <= self.end_date:
            if self.is_calling_day(day):
                yield day
            day += timedelta(days=1)


def local_today(now: datetime, timezone: str = SEOUL) -> date:
    """The calendar date at ``now`` in ``timezone`` (Asia/Seoul): what "today" means for a campaign."""
    _require_aware(now)
    return now.astimezone(ZoneInfo(timezone)).date()


def local_text(moment: datetime, timezone: str = SEOUL) -> str:
    """``2026-12-07(월) 10:00``: a moment as staff read it, in ``timezone`` (Asia/Seoul)."""
    _require_aware(moment)
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d}({'월화수목금토일'[local.weekday()]}) {local:%H:%M}"


def weekdays_text(weekdays: frozenset[int]) -> str:
    """{0, 3} → ``월·목``."""
    return "·".join("월화수목금토일"[d] for d in sorted(weekdays))


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    if minute >= 1440:
        return datetime.combine(day + timedelta(days=1), time(0), tz)
    return datetime.combine(day, time(minute // 60, minute % 60), tz)


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware (use ZoneInfo('Asia/Seoul') or UTC)")


def in_window(schedule: Schedule, moment: datetime, windows: tuple[TimeWindow, ...] | None = None) -> bool:
    """True when a call may start at ``moment``."""
    _require_aware(moment)
    local = moment.astimezone(schedule.tz)
    minute = local.hour * 60 + local.minute
    return schedule.is_calling_day(local.date()) and any(
        w.contains(minute) for w in (windows or schedule.windows)
    )


def next_allowed_time(
    schedule: Schedule,
    after: datetime,
    *,
    preferred: tuple[TimeWindow, ...] = (),
    margin: timedelta = timedelta(0),
) -> datetime | None:
    """The earliest moment at or after ``after`` when a call may start, or None when the campaign is over.

    ``preferred`` (a contact's preferred times) narrows the campaign windows when the two overlap and is
    ignored when they do not. ``margin`` keeps the start that far before a window closes (room for the
    call itself). The result is always inside a window, on a calling day, in the schedule's time zone.
    """
    _require_aware(after)
    tz = schedule.tz
    windows = schedule.windows
    if preferred:
        windows = intersect_windows(schedule.windows, preferred) or schedule.windows
    margin_min = -(-int(margin.total_seconds()) // 60)
    local = after.astimezone(tz)
    for day in schedule.calling_days(local.date()):
        for window in windows:
            start, end = _at(day, window.start_min, tz), _at(day, window.end_min - margin_min, tz)
            if end <= start:
                continue
            if local < end:
                return max(local, start)
    return None


def recurrence_dates(schedule: Schedule, weekdays: frozenset[int], every_weeks: int = 1) -> list[date]:
    """Days a new round starts, e.g. welfare calls every Monday and Thursday (``{0, 3}``).

    ``every_weeks=2`` keeps every other week counted from the week of ``start_date``. A round that falls
    on a holiday or a day the schedule does not call is skipped, not moved.
    """
    if every_weeks < 1:
        raise ScheduleError("every_weeks must be 1 or more")
    week0 = schedule.start_date - timedelta(days=schedule.start_date.weekday())
    return [
        d
        for d in schedule.calling_days()
        if d.weekday() in weekdays and ((d - week0).days // 7) % every_weeks == 0
    ]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    delays: tuple[timedelta, ...] = (timedelta(minutes=30),)  # delay before retry n; the last one repeats
    retry_on: frozenset[str] = RETRYABLE

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ScheduleError("max_attempts must be at least 1")
        if not self.delays or any(d < timedelta(0) for d in self.delays):
            raise ScheduleError("retry delays must be one or more non-negative durations")

    def delay_after(self, attempt_number: int) -> timedelta:
        return self.delays[min(attempt_number, len(self.delays)) - 1]


def next_retry(
    schedule: Schedule,
    policy: RetryPolicy,
    outcome: str,
    attempt_number: int,
    finished_at: datetime,
    *,
    preferred: tuple[TimeWindow, ...] = (),
) -> datetime | None:
    """When attempt ``attempt_number + 1`` should be placed, or None (answered, out of attempts, or over)."""
    if outcome not in policy.retry_on or attempt_number >= policy.max_attempts:
        return None
    return next_allowed_time(schedule, finished_at + policy.delay_after(attempt_number), preferred=preferred)
