"""Korean number words: Sino-Korean (일, 이, 삼 …) and native Korean (하나, 둘 … / 한, 두 …)."""

from __future__ import annotations

SINO_DIGITS = "영일이삼사오육칠팔구"
# On the phone a zero in a digit string (telephone, account or reference numbers) is 공, never 영.
PHONE_DIGITS = "공일이삼사오육칠팔구"

_SMALL_UNITS = ((1000, "천"), (100, "백"), (10, "십"))
_LARGE_UNITS = ("", "만", "억", "조", "경")
_MAX_SINO = 10**20

_NATIVE_ONES = ("", "하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉")
# The forms used in front of a counter: 한 개, 두 명, 세 시, 네 살.
_NATIVE_ONES_ATTRIBUTIVE = ("", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉")
_IRREGULAR_MONTHS = {6: "유월", 10: "시월"}
_NATIVE_TENS = ("", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔")


def _below_10000(n: int) -> str:
    words = []
    for value, unit in _SMALL_UNITS:
        digit = n // value % 10
        if digit:
            # 1 before 십/백/천 is silent: 십, 백, 천 (not 일십, 일백, 일천).
            words.append(("" if digit == 1 else SINO_DIGITS[digit]) + unit)
    if n % 10:
        words.append(SINO_DIGITS[n % 10])
    return "".join(words)


def number_to_sino(n: int) -> str:
    """Sino-Korean reading, spaced every four digits as Korean spelling does: 35000 -> 삼만 오천.

    Numbers too large for the 경 unit (10^20 and up) are read digit by digit.
    """
    if n < 0:
        return "마이너스 " + number_to_sino(-n)
    if n == 0:
        return "영"
    if n >= _MAX_SINO:
        return digits_to_korean(str(n), zero="영")
    groups = []
    for power in range(len(_LARGE_UNITS) - 1, -1, -1):
        group = n // 10 ** (4 * power) % 10000
        if not group:
            continue
        unit = _LARGE_UNITS[power]
        # 10000 is 만, not 일만; but 억 and 조 keep their 일 (일억, 일조).
        word = "" if (group == 1 and unit == "만") else _below_10000(group)
        groups.append(word + unit)
    return " ".join(groups)


def number_to_native(n: int, attributive: bool = False) -> str:
    """Native Korean reading for 1..99: 21 -> 스물하나, or with ``attributive`` (before a counter) 스물한.

    Native numerals stop at 99; callers fall back to Sino-Korean outside that range.
    """
    if not 1 <= n <= 99:
        raise ValueError(f"native Korean numbers cover 1..99, not {n}")
    tens, ones = divmod(n, 10)
    if attributive and n == 20:
        return "스무"
    ones_words = _NATIVE_ONES_ATTRIBUTIVE if attributive else _NATIVE_ONES
    return _NATIVE_TENS[tens] + ones_words[ones]


def digits_to_korean(digits: str, zero: str = "공") -> str:
    """Read a digit string one digit at a time: '010' -> 공일공 (or 영일영 with ``zero='영'``)."""
    table = zero + SINO_DIGITS[1:]
    return "".join(table[int(d)] for d in digits if d.isdigit())


def decimal_to_sino(integer_part: str, fraction_part: str) -> str:
    """3.25 -> 삼 점 이오: the fraction is read digit by digit, with 영 for zero."""
    return f"{number_to_sino(int(integer_part))} 점 {digits_to_korean(fraction_part, zero='영')}"


def month_name(month: int) -> str:
    """1..12 -> 일 월 … 유월 … 시월 … 십이 월: 6 and 10 drop their final consonant and are one word."""
    if not 1 <= month <= 12:
        raise ValueError(f"no month {month}")
    return _IRREGULAR_MONTHS.get(month) or f"{number_to_sino(month)} 월"
