"""민원예보 backtest (issue 19): MASE of each forecasting method against the weekly seasonal-naive forecast.

On a seeded synthetic year of daily inquiry counts per category (``outbound.demo_data``: weekly pattern,
Korean public holidays from the ``holidays`` package, yearly swings, Poisson noise), each method forecasts
the 14 days after each of ``--folds`` rolling origins; MASE is the mean absolute error over the in-sample
MAE of the seasonal-naive forecast (below 1: better than naive in-sample; compare with the seasonal-naive
row, which is measured the same way out of sample). Coverage: the share of actual days inside the 95 %
prediction interval.

    python -m benchmarks.forecast --json
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta

import numpy as np

from outbound import demo_data, forecast
from outbound.holidays_kr import holidays_for


def run(days: int, folds: int, seed: int, start: date) -> dict:
    holidays = holidays_for(*range(start.year, (start + timedelta(days=days)).year + 1))
    counts = demo_data.daily_counts(start, days, holidays, seed=seed)
    dates = [start + timedelta(days=i) for i in range(days)]
    began = time.perf_counter()
    per_category = {
        category: forecast.backtest(series, dates, holidays, horizon=14, folds=folds)
        for category, series in counts.items()
    }
    methods = [m for m in forecast.METHODS]
    overall = {m: round(float(np.mean([r[m] for r in per_category.values()])), 3) for m in methods}
    coverage = {
        m: round(float(np.mean([r[f"{m}:coverage"] for r in per_category.values()])), 3) for m in methods
    }
    best = min(overall, key=overall.get)
    return {
        "data": f"synthetic, seed {seed}, {days} days from {start.isoformat()}, {len(counts)} categories",
        "horizon_days": 14,
        "folds": folds,
        "mase": overall,
        "coverage_95": coverage,
        "best": best,
        "default_method": forecast.DEFAULT_METHOD,
        "per_category": per_category,
        "seconds": round(time.perf_counter() - began, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--folds", type=int, default=8)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 10, 1))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.days, args.folds, args.seed, args.start)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(result["data"])
    for method, score in result["mase"].items():
        print(f"{method:24s} MASE {score:.3f}  95% coverage {result['coverage_95'][method]:.0%}")


if __name__ == "__main__":
    main()
