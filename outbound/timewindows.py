"""Daily time windows (local wall-clock time, minutes since midnight), shared by contacts and the scheduler.

A window never crosses midnight: ``22:00-02:00`` is rejected with advice to split it into
``22:00-24:00`` and ``00:00-02:00``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Words staff write in a "선호시간" column, with the window each one means.
NAMED_WINDOWS: dict[str, tuple[int, int]] = {
    "오전": (9 * 60, 12 * 60),
    "morning": (9 * 60, 12 * 60),
    "점심": (12 * 60, 13 * 60),
    "오후": (13 * 60, 18 * 60),
    "afternoon": (13 * 60, 18 * 60),
    "저녁": (18 * 60, 20 * 60),
    "evening": (18 * 60, 20 * 60),
}

_TIME = r"(\d{1,2})(?::?(\d{2}))?\s*(시)?"
_WINDOW = re.compile(rf"^\s*{_TIME}\s*(?:-|~|to|부터)\s*{_TIME}\s*(?:까지)?\s*$", re.IGNORECASE)


class WindowError(ValueError):
    """A time window that cannot be used; the message says why."""


@dataclass(frozen=True, order=True)
class TimeWindow:
    start_min: int  # minutes since local midnight, 0..1439
    end_min: int  # exclusive, 1..1440 (1440 = 24:00)

    def __post_init__(self) -> None:
        if not (0 <= self.start_min < 1440 and 0 < self.end_min <= 1440):
            raise WindowError(f"window {self.start_min}-{self.end_min} is outside 00:00-24:00")
        if self.end_min <= self.start_min:
            raise WindowError(
                f"window {_fmt(self.start_min)}-{_fmt(self.end_min)} crosses midnight or is empty; "
                f"split it into {_fmt(self.start_min)}-24:00 and 00:00-{_fmt(self.end_min)}"
            )

    def __str__(self) -> str:
        return f"{_fmt(self.start_min)}-{_fmt(self.end_min)}"

    def contains(self, minute: int) -> bool:
        return self.start_min <= minute < self.end_min

    def intersect(self, other: TimeWindow) -> TimeWindow | None:
        start, end = max(self.start_min, other.start_min), min(self.end_min, other.end_min)
        return TimeWindow(start, end) if start < end else None


def _fmt(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute(hour: str, minute: str | None) -> int:
    h, m = int(hour), int(minute or 0)
    if h > 24 or m > 59 or (h == 24 and m):
        raise WindowError(f"{hour}:{minute or '00'} is not a time of day")
    return h * 60 + m


def parse_window(text: str) -> TimeWindow:
    """``"09:00-12:00"``, ``"9-12"``, ``"0900~1200"``, ``"9시~12시"`` or a named window such as ``"오전"``."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if cleaned.lower() in NAMED_WINDOWS:
        return TimeWindow(*NAMED_WINDOWS[cleaned.lower()])
    match = _WINDOW.match(cleaned)
    if not match:
        raise WindowError(f"cannot read time window {text!r}; write it as 09:00-12:00")
    return TimeWindow(_minute(match.group(1), match.group(2)), _minute(match.group(4), match.group(5)))


def parse_windows(text: str) -> tuple[TimeWindow, ...]:
    """Several windows separated by ``;``, ``,``, ``/`` or ``|``; returned sorted and merged."""
    parts = [p for p in re.split(r"[;,/|]", unicodedata.normalize("NFKC", text or "")) if p.strip()]
    return merge_windows(parse_window(p) for p in parts)


def merge_windows(windows) -> tuple[TimeWindow, ...]:  # type: ignore[no-untyped-def]
    merged: list[TimeWindow] = []
    for w in sorted(windows):
        if merged and w.start_min <= merged[-1].end_min:
            last = merged.pop()
            w = TimeWindow(last.start_min, max(last.end_min, w.end_min))
        merged.append(w)
    return tuple(merged)


def intersect_windows(a: tuple[TimeWindow, ...], b: tuple[TimeWindow, ...]) -> tuple[TimeWindow, ...]:
    """The parts of ``a`` that are also in ``b`` (campaign windows ∩ a contact's preferred times)."""
    out = [x for wa in a for wb in b if (x := wa.intersect(wb)) is not None]
    return merge_windows(out)
