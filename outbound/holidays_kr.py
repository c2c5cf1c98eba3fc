"""Korean public holidays (공휴일), from the ``holidays`` package (PyPI), for any year it covers.

The package follows the official calendar: lunar holidays (설날, 부처님오신날, 추석), substitute holidays
(대체공휴일), election days, 제헌절 (a public holiday again from 2026) and 노동절. It replaced a hand-written
2026-2027 table (the two agreed on every date of those years), so calling windows keep working after 2027.
:func:`holidays_for` raises for a year outside the package's range (1948-2100 in 0.109).
"""

from __future__ import annotations

from datetime import date
from functools import cache

import holidays

# Years the default calendar (:func:`korean_holidays`) covers: campaigns and forecasts of this century.
DEFAULT_YEARS = range(2020, 2101)


def _known(year: int) -> bool:
    return holidays.KR.start_year <= year <= holidays.KR.end_year


@cache
def _names(year: int) -> tuple[tuple[date, str], ...]:
    return tuple(sorted(holidays.country_holidays("KR", years=year, language="ko").items()))


def holiday_names(*years: int) -> dict[date, str]:
    """Date -> Korean name (e.g. "추석", "대체공휴일(광복절)") for the given years."""
    unknown = sorted(y for y in set(years) if not _known(y))
    if unknown:
        raise KeyError(
            f"no Korean holiday data for {unknown}; known years: "
            f"{holidays.KR.start_year}-{holidays.KR.end_year}"
        )
    return {day: name for year in sorted(set(years)) for day, name in _names(year)}


def holidays_for(*years: int) -> frozenset[date]:
    return frozenset(holiday_names(*years))


@cache
def korean_holidays() -> frozenset[date]:
    """Every public holiday of :data:`DEFAULT_YEARS` (about 1,700 dates), computed once."""
    return holidays_for(*DEFAULT_YEARS)
