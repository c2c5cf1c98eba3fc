"""합성 데모 데이터: seeded, clearly labelled synthetic inquiry history (issue 19).

For the analytics page on a fresh machine (``voicebot serve --demo-data``), the forecast benchmark and the
tests. Every row is written with ``synthetic=True``; readers show real or synthetic rows, never both, and
the console labels synthetic data as such. The same seed gives the same history.

The shape: a weekly pattern (Monday busiest, Sunday quietest), a daytime hour profile, public holidays at
about a third of an ordinary day, a slow yearly swing per category (water in winter, covid fading), and
Poisson noise; channels, outcomes, intents and districts drawn from fixed shares.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from outbound.inquiries import SEOUL_DISTRICTS, Inquiry

SEOUL = ZoneInfo("Asia/Seoul")
LABEL = "합성 데모 데이터 (실제 민원이 아닙니다)"

# category -> (share of an ordinary day, intents of the bundled knowledge base)
CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "transport": (0.30, ("transport.bus_info", "transport.lost_subway", "transport.parking_fine_payment", "transport.bike_rental")),
    "water": (0.18, ("water.bill_amount", "water.leak_report", "water.frozen_pipe", "water.no_supply")),
    "general": (0.30, ("general.garbage_days", "general.bulky_waste", "general.basic_pension", "general.id_card_reissue")),
    "directory": (0.14, ("directory.district_office", "directory.health_center", "directory.city_hall")),
    "covid": (0.08, ("covid.testing", "covid.vaccine_booking", "covid.support_payment")),
}  # fmt: skip
WEEKDAY = np.array([1.25, 1.1, 1.05, 1.0, 1.05, 0.55, 0.4])  # Monday .. Sunday
HOLIDAY = 0.35
HOURS = np.array([1, 1, 1, 1, 1, 2, 4, 8, 14, 20, 20, 17, 12, 16, 18, 16, 14, 11, 8, 6, 5, 4, 3, 2], float)
CHANNELS = (("phone", 0.62), ("browser", 0.05), ("web_chat", 0.13), ("kakao", 0.18), ("outbound", 0.02))
OUTCOMES = (("answered", 0.68), ("clarified", 0.1), ("escalated", 0.17), ("abandoned", 0.05))
REASONS = (("agent_request", 0.5), ("low_confidence", 0.25), ("requires_staff", 0.15), ("frustration", 0.1))


def _season(category: str, day_of_year: int) -> float:
    phase = 2 * np.pi * day_of_year / 365.25
    if category == "water":  # frozen pipes and meters in winter
        return 1.0 + 0.35 * np.cos(phase)
    if category == "covid":
        return 0.8 + 0.2 * np.cos(phase)
    return 1.0 + 0.05 * np.sin(phase)


def daily_counts(
    start: date, days: int, holidays: Collection[date], *, per_day: float = 275.0, seed: int = 19
) -> dict[str, np.ndarray]:
    """Counts per category per day from ``start`` (for ``days`` days)."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for category, (share, _) in CATEGORIES.items():
        rates = []
        for i in range(days):
            day = start + timedelta(days=i)
            rate = per_day * share * WEEKDAY[day.weekday()] * _season(category, day.timetuple().tm_yday)
            rates.append(rate * (HOLIDAY if day in holidays else 1.0))
        out[category] = rng.poisson(np.array(rates)).astype(float)
    return out


def _pick(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    names, weights = zip(*table, strict=True)
    return rng.choice(np.array(names), size=n, p=np.array(weights) / sum(weights))


def populate(
    session: Session,
    start: date,
    days: int,
    holidays: Collection[date],
    *,
    per_day: float = 275.0,
    seed: int = 19,
    surge: tuple[str, date, int] | None = None,
) -> int:
    """Write the synthetic history (``synthetic=True``) into ``session``; returns the number of rows.
    ``surge`` adds (category, day, extra contacts) on top, e.g. a water-main break."""
    counts = daily_counts(start, days, holidays, per_day=per_day, seed=seed)
    if surge is not None:
        category, day, extra = surge
        counts[category][(day - start).days] += extra
    rng = np.random.default_rng(seed + 1)
    rows: list[dict] = []
    for category, series in counts.items():
        intents = CATEGORIES[category][1]
        for i, n in enumerate(series.astype(int)):
            if n <= 0:
                continue
            day = start + timedelta(days=i)
            hours = rng.choice(24, size=n, p=HOURS / HOURS.sum())
            seconds = rng.integers(0, 3600, size=n)
            channels = _pick(rng, CHANNELS, n)
            outcomes = _pick(rng, OUTCOMES, n)
            reasons = _pick(rng, REASONS, n)
            chosen = rng.choice(np.array(intents), size=n)
            districts = rng.choice(np.array(SEOUL_DISTRICTS), size=n)
            named = rng.random(n) < 0.3
            turns = rng.integers(1, 7, size=n)
            durations = rng.gamma(3.0, 30.0, size=n)
            for j in range(n):
                local = datetime.combine(day, time(int(hours[j]))) + timedelta(seconds=int(seconds[j]))
                outcome = str(outcomes[j])
                rows.append(
                    {
                        "started_at": local.replace(tzinfo=SEOUL).astimezone(UTC),
                        "channel": str(channels[j]),
                        "category": category,
                        "intent": str(chosen[j]),
                        "outcome": outcome,
                        "escalation_reason": str(reasons[j]) if outcome == "escalated" else None,
                        "turns": int(turns[j]) if outcome != "abandoned" else 0,
                        "duration_s": round(float(durations[j]), 1),
                        "district": str(districts[j]) if named[j] else None,
                        "synthetic": True,
                    }
                )
    session.bulk_insert_mappings(Inquiry, rows)  # type: ignore[arg-type]
    return len(rows)
