"""민원예보: the next days' inquiries per category, with prediction intervals, and spike alerts (issue 19).

Daily counts per category are forecast by additive Holt-Winters exponential smoothing with a weekly season
(statsmodels), after taking Korean public holidays out of the training series: a holiday's count is
replaced by its weekday's level, the model is fitted, and the forecast for a coming holiday is scaled by
how holidays compared with their weekday in the past. The method was chosen by backtest against the
seasonal-naive forecast and plain Holt-Winters (``python -m benchmarks.forecast --json``).

Prediction intervals use the ETS(A,N,A) forecast variance
``sigma^2 * (1 + alpha^2 (h-1) + gamma k (2 alpha + gamma))``, k = floor((h-1)/7), from the fit's residuals.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist

import numpy as np

SEASON = 7
DEFAULT_HOLIDAY_FACTOR = 0.6  # before the history holds a holiday
MIN_HISTORY = 3 * SEASON


@dataclass(frozen=True)
class Forecast:
    days: tuple[date, ...]
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float  # of the interval, e.g. 0.95
    method: str

    def as_rows(self) -> list[dict]:
        return [
            {
                "date": d.isoformat(),
                "mean": round(float(m), 1),
                "lower": round(float(lo), 1),
                "upper": round(float(hi), 1),
            }
            for d, m, lo, hi in zip(self.days, self.mean, self.lower, self.upper, strict=True)
        ]


Method = Callable[[np.ndarray, Sequence[date], Collection[date], int, float], Forecast]


def _future(days: Sequence[date], horizon: int) -> tuple[date, ...]:
    return tuple(days[-1] + timedelta(days=i) for i in range(1, horizon + 1))


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2)


def seasonal_naive(
    y: np.ndarray, days: Sequence[date], holidays: Collection[date], horizon: int, level: float = 0.95
) -> Forecast:
    """Each day as the same weekday of the last week (the benchmark every method must beat)."""
    y = np.asarray(y, float)
    mean = np.array([y[len(y) - SEASON + (h % SEASON)] for h in range(horizon)])
    resid = y[SEASON:] - y[:-SEASON]
    sigma = float(np.std(resid)) if len(resid) > 1 else 0.0
    width = _z(level) * sigma * np.sqrt(np.arange(horizon) // SEASON + 1)
    return Forecast(
        _future(days, horizon), mean, np.maximum(0, mean - width), mean + width, level, "seasonal_naive"
    )


def _weekday_level(y: np.ndarray, days: Sequence[date], holidays: Collection[date]) -> np.ndarray:
    """Each day's count with holidays replaced by the mean of the nearest ordinary same weekdays."""
    clean = y.copy()
    for i, day in enumerate(days):
        if day not in holidays:
            continue
        near = [y[j] for j in (i - 7, i + 7, i - 14, i + 14) if 0 <= j < len(y) and days[j] not in holidays][
            :2
        ]
        if near:
            clean[i] = float(np.mean(near))
    return clean


def _holt_winters(y: np.ndarray, horizon: int) -> tuple[np.ndarray, float, float, float]:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(y, trend=None, seasonal="add", seasonal_periods=SEASON).fit()
    alpha = float(fit.params["smoothing_level"])
    gamma = float(fit.params.get("smoothing_seasonal") or 0.0)
    sigma = float(np.std(np.asarray(fit.resid)[SEASON:]))
    return np.asarray(fit.forecast(horizon), float), alpha, gamma, sigma


def _hw_forecast(
    y: np.ndarray,
    days: Sequence[date],
    holidays: Collection[date],
    horizon: int,
    level: float,
    *,
    holiday_aware: bool,
) -> Forecast:
    y = np.asarray(y, float)
    future = _future(days, horizon)
    train = _weekday_level(y, days, holidays) if holiday_aware else y
    mean, alpha, gamma, sigma = _holt_winters(train, horizon)
    h = np.arange(1, horizon + 1)
    k = (h - 1) // SEASON
    sd = sigma * np.sqrt(1 + alpha**2 * (h - 1) + gamma * k * (2 * alpha + gamma))
    if holiday_aware:
        factor = holiday_factor(y, train, days, holidays)
        scale = np.array([factor if d in holidays else 1.0 for d in future])
        mean, sd = mean * scale, sd * scale
    mean = np.maximum(mean, 0.0)
    width = _z(level) * sd
    name = "holt_winters_holidays" if holiday_aware else "holt_winters"
    return Forecast(future, mean, np.maximum(0.0, mean - width), mean + width, level, name)


def holiday_factor(
    y: np.ndarray, clean: np.ndarray, days: Sequence[date], holidays: Collection[date]
) -> float:
    """How a holiday's count compared with its weekday's level, in the history (median ratio)."""
    ratios = [y[i] / clean[i] for i, d in enumerate(days) if d in holidays and clean[i] > 0]
    return float(np.clip(np.median(ratios), 0.0, 2.0)) if ratios else DEFAULT_HOLIDAY_FACTOR


def holt_winters(
    y: np.ndarray, days: Sequence[date], holidays: Collection[date], horizon: int, level: float = 0.95
) -> Forecast:
    return _hw_forecast(y, days, holidays, horizon, level, holiday_aware=False)


def holt_winters_holidays(
    y: np.ndarray, days: Sequence[date], holidays: Collection[date], horizon: int, level: float = 0.95
) -> Forecast:
    return _hw_forecast(y, days, holidays, horizon, level, holiday_aware=True)


METHODS: dict[str, Method] = {
    "seasonal_naive": seasonal_naive,
    "holt_winters": holt_winters,
    "holt_winters_holidays": holt_winters_holidays,
}
# Chosen by the backtest (benchmarks/forecast.py): lowest MASE on the synthetic year with holidays.
DEFAULT_METHOD = "holt_winters_holidays"


def forecast(
    y: Sequence[float],
    days: Sequence[date],
    holidays: Collection[date],
    horizon: int = 14,
    level: float = 0.95,
    method: str = DEFAULT_METHOD,
) -> Forecast:
    """The next ``horizon`` days after ``days[-1]``; with too short a history, seasonal naive (or a flat
    forecast of the mean when there is not even a week)."""
    arr = np.asarray(y, float)
    if len(arr) < SEASON:
        mean = np.full(horizon, float(arr.mean()) if len(arr) else 0.0)
        return Forecast(_future(days, horizon) if days else (), mean, mean * 0, mean * 2 + 5, level, "flat")
    if len(arr) < MIN_HISTORY:
        method = "seasonal_naive"
    return METHODS[method](arr, days, holidays, horizon, level)


def mase(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray) -> float:
    """Mean absolute error scaled by the in-sample MAE of the weekly seasonal-naive forecast."""
    scale = float(np.mean(np.abs(train[SEASON:] - train[:-SEASON])))
    return float(np.mean(np.abs(actual - predicted))) / scale if scale > 0 else math.inf


def backtest(
    y: Sequence[float],
    days: Sequence[date],
    holidays: Collection[date],
    *,
    horizon: int = 14,
    folds: int = 6,
    methods: Collection[str] = tuple(METHODS),
) -> dict[str, float]:
    """Mean MASE per method over ``folds`` rolling origins, each forecasting the ``horizon`` days after it;
    also the share of actual days inside the 95 % interval (``<method>:coverage``)."""
    arr = np.asarray(y, float)
    scores: dict[str, list[float]] = {m: [] for m in methods}
    inside: dict[str, list[float]] = {m: [] for m in methods}
    for fold in range(folds, 0, -1):
        cut = len(arr) - fold * horizon
        if cut < MIN_HISTORY:
            continue
        train, actual = arr[:cut], arr[cut : cut + horizon]
        for name in methods:
            got = METHODS[name](train, days[:cut], holidays, len(actual), 0.95)
            scores[name].append(mase(actual, got.mean[: len(actual)], train))
            inside[name].append(float(np.mean((actual >= got.lower) & (actual <= got.upper))))
    out = {name: round(float(np.mean(v)), 3) for name, v in scores.items() if v}
    out.update({f"{name}:coverage": round(float(np.mean(v)), 3) for name, v in inside.items() if v})
    return out


@dataclass(frozen=True)
class Spike:
    category: str
    day: date
    count: int
    expected: float
    upper: float

    def as_dict(self) -> dict:
        return {
            "category": self.category,
            "date": self.day.isoformat(),
            "count": self.count,
            "expected": round(self.expected, 1),
            "upper": round(self.upper, 1),
        }


def spike(
    category: str,
    y: Sequence[float],
    days: Sequence[date],
    holidays: Collection[date],
    today_count: int,
    *,
    level: float = 0.99,
    min_excess: int = 10,
) -> Spike | None:
    """A spike when today's count (so far) is above the upper end of the 99 % interval of today's forecast
    from the days before, and at least ``min_excess`` above the expected count. A dip never alerts."""
    if not days:
        return None
    return spike_in(
        category, forecast(y, days, holidays, horizon=1, level=level), today_count, level, min_excess
    )


def spike_in(
    category: str, got: Forecast, today_count: int, level: float = 0.99, min_excess: int = 10
) -> Spike | None:
    """:func:`spike` from a forecast already made whose first day is today (its interval widened or
    narrowed to ``level``)."""
    expected = float(got.mean[0])
    upper = expected + (float(got.upper[0]) - expected) * _z(level) / _z(got.level)
    if today_count > upper and today_count - expected >= min_excess:
        return Spike(category, got.days[0], today_count, expected, upper)
    return None
