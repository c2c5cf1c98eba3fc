"""Trends over the inquiry records (issue 19): volume by category, intent, channel, hour of day and weekday,
containment and escalation rate per day, 민원예보 per category and today's spikes.

Times are Seoul's (Asia/Seoul). ``synthetic`` picks real rows (False) or the demo history (True), never
both. Containment: contacts the bot settled itself (answered or clarified, not handed over) among those that
asked something (abandoned contacts left out); escalation rate: handed to an agent among the same.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from outbound import forecast
from outbound.holidays_kr import holiday_names
from outbound.inquiries import CATEGORY_KO, CHANNEL_KO, OUTCOME_KO, Inquiry

SEOUL = ZoneInfo("Asia/Seoul")
WEEKDAYS_KO = ("월", "화", "수", "목", "금", "토", "일")
UNCATEGORISED = "unknown"


def _rows(session: Session, since: datetime, until: datetime, synthetic: bool) -> list[tuple[Any, ...]]:
    return list(
        session.execute(
            select(
                Inquiry.started_at, Inquiry.channel, Inquiry.category, Inquiry.intent, Inquiry.outcome,
                Inquiry.escalation_reason,
            ).where(Inquiry.synthetic.is_(synthetic), Inquiry.started_at >= since, Inquiry.started_at < until)
        )
    )  # fmt: skip


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), SEOUL).astimezone(UTC)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _outcome_figures(counts: Counter[str]) -> dict[str, Any]:
    """Each outcome's count, and the containment and escalation rates over the contacts that asked."""
    asked = sum(counts.values()) - counts["abandoned"]
    return {
        **{o: counts[o] for o in OUTCOME_KO},
        "containment": _rate(counts["answered"] + counts["clarified"], asked),
        "escalation": _rate(counts["escalated"], asked),
    }


def trends(
    session: Session,
    first: date,
    last: date,
    *,
    synthetic: bool = False,
    titles: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Figures for the Seoul days ``first`` .. ``last`` (inclusive)."""
    titles = titles or {}
    rows = _rows(session, _day_start(first), _day_start(last + timedelta(days=1)), synthetic)
    categories: Counter[str] = Counter()
    intents: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    by_channel: dict[str, Counter[str]] = defaultdict(Counter)  # channel -> outcome -> count
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    hours = [0] * 24
    weekdays = [0] * 7
    daily: dict[date, Counter[str]] = defaultdict(Counter)
    for started, channel, category, intent, outcome, reason in rows:
        local = started.astimezone(SEOUL)
        categories[category or UNCATEGORISED] += 1
        if intent:
            intents[intent] += 1
        channels[channel] += 1
        by_channel[channel][outcome] += 1
        outcomes[outcome] += 1
        if reason:
            reasons[reason] += 1
        hours[local.hour] += 1
        weekdays[local.weekday()] += 1
        daily[local.date()][outcome] += 1
    days = []
    for i in range((last - first).days + 1):
        day = first + timedelta(days=i)
        counts = daily.get(day, Counter())
        days.append({"date": day.isoformat(), "total": sum(counts.values()), **_outcome_figures(counts)})
    asked = len(rows) - outcomes["abandoned"]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "total": len(rows),
        "containment": _rate(outcomes["answered"] + outcomes["clarified"], asked),
        "escalation": _rate(outcomes["escalated"], asked),
        "by_category": [
            {"category": k, "label": CATEGORY_KO.get(k, "미분류" if k == UNCATEGORISED else k), "count": v}
            for k, v in categories.most_common()
        ],
        "by_intent": [
            {"intent": k, "title": titles.get(k, k), "count": v} for k, v in intents.most_common(15)
        ],
        "by_channel": [
            {"channel": k, "label": CHANNEL_KO.get(k, k), "count": v, **_outcome_figures(by_channel[k])}
            for k, v in channels.most_common()
        ],
        "by_outcome": [{"outcome": k, "label": OUTCOME_KO[k], "count": outcomes[k]} for k in OUTCOME_KO],
        "escalation_reasons": [{"reason": k, "count": v} for k, v in reasons.most_common()],
        "by_hour": [{"hour": h, "count": c} for h, c in enumerate(hours)],
        "by_weekday": [{"weekday": WEEKDAYS_KO[d], "count": c} for d, c in enumerate(weekdays)],
        "daily": days,
    }


def daily_by_category(
    session: Session, first: date, last: date, *, synthetic: bool = False
) -> tuple[list[date], dict[str, np.ndarray]]:
    """Counts per category per Seoul day ``first`` .. ``last`` (zeros where none)."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    index = {d: i for i, d in enumerate(days)}
    out: dict[str, np.ndarray] = {}
    for started, _, category, *_ in _rows(
        session, _day_start(first), _day_start(last + timedelta(days=1)), synthetic
    ):
        key = category or UNCATEGORISED
        series = out.setdefault(key, np.zeros(len(days)))
        series[index[started.astimezone(SEOUL).date()]] += 1
    return days, out


def holidays_around(first: date, last: date) -> dict[date, str]:
    return holiday_names(*range(first.year, last.year + 2))


def outlook(
    session: Session,
    today: date,
    *,
    synthetic: bool = False,
    history_days: int = 182,
    horizon: int = 14,
    min_total: int = 28,
) -> dict[str, Any]:
    """민원예보 from ``today`` on (history: the ``history_days`` before today) per category with enough
    history (``min_total`` contacts), and the categories whose count so far today is a spike."""
    first, last = today - timedelta(days=history_days), today - timedelta(days=1)
    days, series = daily_by_category(session, first, today, synthetic=synthetic)
    names = holidays_around(first, today + timedelta(days=horizon))
    holidays = frozenset(names)
    categories, spikes = [], []
    for category, counts in sorted(series.items(), key=lambda kv: -kv[1].sum()):
        history, today_count = counts[:-1], int(counts[-1])
        if history.sum() < min_total:
            continue
        got = forecast.forecast(history, days[:-1], holidays, horizon=horizon)
        categories.append(
            {
                "category": category,
                "label": CATEGORY_KO.get(category, category),
                "method": got.method,
                "today": today_count,
                "history": [
                    {"date": d.isoformat(), "count": int(c)}
                    for d, c in zip(days[-29:-1], history[-28:], strict=True)
                ],
                "forecast": got.as_rows(),
            }
        )
        found = forecast.spike_in(category, got, today_count)
        if found is not None:
            spikes.append({**found.as_dict(), "label": CATEGORY_KO.get(category, category)})
    coming = [
        {"date": d.isoformat(), "name": n}
        for d, n in sorted(names.items())
        if today <= d < today + timedelta(days=horizon)
    ]
    return {"today": today.isoformat(), "from": first.isoformat(), "to": last.isoformat(),
            "categories": categories, "spikes": spikes, "holidays": coming}  # fmt: skip
