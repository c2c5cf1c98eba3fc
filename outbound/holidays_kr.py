"""Korean public holidays (공휴일) for 2026 and 2027, as data.

The lunar holidays (설날, 부처님오신날, 추석) are fixed dates for these years, and substitute holidays
(대체공휴일) are listed explicitly. Cross-checked against the ``holidays`` package (0.108, KR). Includes the
2026 local election day, 제헌절 (a public holiday again from 2026) and 노동절. Extend the table before
scheduling campaigns past 2027: :func:`holidays_for` raises for a year it does not know.
"""

from __future__ import annotations

from datetime import date

KOREAN_PUBLIC_HOLIDAYS: dict[date, str] = {
    date(2026, 1, 1): "신정",
    date(2026, 2, 16): "설날 연휴",
    date(2026, 2, 17): "설날",
    date(2026, 2, 18): "설날 연휴",
    date(2026, 3, 1): "삼일절",
    date(2026, 3, 2): "대체공휴일(삼일절)",
    date(2026, 5, 1): "노동절",
    date(2026, 5, 5): "어린이날",
    date(2026, 5, 24): "부처님오신날",
    date(2026, 5, 25): "대체공휴일(부처님오신날)",
    date(2026, 6, 3): "전국동시지방선거",
    date(2026, 6, 6): "현충일",
    date(2026, 7, 17): "제헌절",
    date(2026, 8, 15): "광복절",
    date(2026, 8, 17): "대체공휴일(광복절)",
    date(2026, 9, 24): "추석 연휴",
    date(2026, 9, 25): "추석",
    date(2026, 9, 26): "추석 연휴",
    date(2026, 10, 3): "개천절",
    date(2026, 10, 5): "대체공휴일(개천절)",
    date(2026, 10, 9): "한글날",
    date(2026, 12, 25): "성탄절",
    date(2027, 1, 1): "신정",
    date(2027, 2, 6): "설날 연휴",
    date(2027, 2, 7): "설날",
    date(2027, 2, 8): "설날 연휴",
    date(2027, 2, 9): "대체공휴일(설날)",
    date(2027, 3, 1): "삼일절",
    date(2027, 5, 1): "노동절",
    date(2027, 5, 3): "대체공휴일(노동절)",
    date(2027, 5, 5): "어린이날",
    date(2027, 5, 13): "부처님오신날",
    date(2027, 6, 6): "현충일",
    date(2027, 7, 17): "제헌절",
    date(2027, 7, 19): "대체공휴일(제헌절)",
    date(2027, 8, 15): "광복절",
    date(2027, 8, 16): "대체공휴일(광복절)",
    date(2027, 9, 14): "추석 연휴",
    date(2027, 9, 15): "추석",
    date(2027, 9, 16): "추석 연휴",
    date(2027, 10, 3): "개천절",
    date(2027, 10, 4): "대체공휴일(개천절)",
    date(2027, 10, 9): "한글날",
    date(2027, 10, 11): "대체공휴일(한글날)",
    date(2027, 12, 25): "성탄절",
    date(2027, 12, 27): "대체공휴일(성탄절)",
}
KNOWN_YEARS = frozenset(d.year for d in KOREAN_PUBLIC_HOLIDAYS)


def holidays_for(*years: int) -> frozenset[date]:
    unknown = sorted(set(years) - KNOWN_YEARS)
    if unknown:
        raise KeyError(f"no Korean holiday data for {unknown}; known years: {sorted(KNOWN_YEARS)}")
    return frozenset(d for d in KOREAN_PUBLIC_HOLIDAYS if d.year in years)


def korean_holidays() -> frozenset[date]:
    return frozenset(KOREAN_PUBLIC_HOLIDAYS)
