"""민원예보 (issue 19): forecasts on generated series with a known weekly pattern and Korean public holidays
(from the ``holidays`` package) beat the seasonal-naive forecast; the spike alert fires on an injected
surge and not on a holiday dip; the synthetic demo history is seeded and labelled synthetic."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

import outbound
from outbound import demo_data, forecast
from outbound.holidays_kr import holidays_for
from outbound.inquiries import Inquiry

START = date(2025, 10, 1)
HOLIDAYS = holidays_for(2025, 2026, 2027)


def series(days: int = 280, seed: int = 7) -> tuple[list[date], dict[str, np.ndarray]]:
    return [START + timedelta(days=i) for i in range(days)], demo_data.daily_counts(
        START, days, HOLIDAYS, seed=seed
    )


def test_forecast_beats_seasonal_naive_and_has_intervals() -> None:
    days, counts = series()
    scores = forecast.backtest(counts["transport"], days, HOLIDAYS, horizon=14, folds=4)
    assert scores["holt_winters_holidays"] < scores["seasonal_naive"]
    assert scores["holt_winters_holidays:coverage"] >= 0.8
    got = forecast.forecast(counts["transport"], days, HOLIDAYS, horizon=14)
    assert len(got.days) == 14 and got.days[0] == days[-1] + timedelta(days=1)
    assert np.all(got.lower <= got.mean) and np.all(got.mean <= got.upper) and np.all(got.lower >= 0)
    monday = next(i for i, d in enumerate(got.days) if d.weekday() == 0 and d not in HOLIDAYS)
    sunday = next(i for i, d in enumerate(got.days) if d.weekday() == 6)
    assert got.mean[monday] > 1.8 * got.mean[sunday]  # the weekly pattern is learnt


def test_a_coming_holiday_is_forecast_low() -> None:
    # History up to the day before 설날 2026 (16-18 Feb, a Monday to Wednesday).
    end = date(2026, 2, 15)
    n = (end - START).days + 1
    days = [START + timedelta(days=i) for i in range(n)]
    counts = demo_data.daily_counts(START, n, HOLIDAYS, seed=3)["general"]
    got = forecast.forecast(counts, days, HOLIDAYS, horizon=14)
    seollal, next_monday = got.mean[0], got.mean[7]
    assert seollal < 0.6 * next_monday


def test_spike_fires_on_a_surge_not_on_a_holiday_dip() -> None:
    days, counts = series()
    water = counts["water"]
    train, history = water[:-1], days[:-1]
    ordinary = int(water[-1])
    assert forecast.spike("water", train, history, HOLIDAYS, ordinary) is None
    surge = forecast.spike("water", train, history, HOLIDAYS, ordinary + 120)  # a water-main break
    assert surge is not None and surge.category == "water" and surge.count == ordinary + 120
    assert surge.as_dict()["upper"] < surge.count
    # 추석 2026 (24-26 Sept): a day at a third of its usual volume is a dip, never an alert.
    end = date(2026, 9, 23)
    n = (end - START).days + 1
    hist = [START + timedelta(days=i) for i in range(n)]
    w = demo_data.daily_counts(START, n, HOLIDAYS, seed=5)["water"]
    assert forecast.spike("water", w, hist, HOLIDAYS, int(w[-7] * 0.3)) is None


def test_demo_history_is_seeded_and_synthetic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    outbound.upgrade(url)
    factory = outbound.session_factory(outbound.make_engine(url))
    with factory.begin() as db:
        n = demo_data.populate(db, START, 14, HOLIDAYS, seed=1)
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(Inquiry)) == n > 14 * 100
        assert db.scalar(select(func.count()).select_from(Inquiry).where(Inquiry.synthetic.is_(False))) == 0
    again = demo_data.daily_counts(START, 14, HOLIDAYS, seed=1)
    assert sum(int(v.sum()) for v in again.values()) == n
