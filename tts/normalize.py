"""Korean text normalisation for speech: numbers, dates, times, units, Latin letters and symbols to Hangul.

``normalize_korean`` turns written Korean into what a call-centre agent would say, so that any TTS engine
reads it the way a caller expects. The output holds only Hangul syllables, spaces, the punctuation
``. , ? !`` (kept for prosody; a comma is a short pause) and, rarely, a longer Latin word with no Korean
reading, which espeak then reads in English. Normalising twice gives the same text.

The passes run in a fixed order, because the earlier ones need the digits and symbols that the later
ones turn into words: lexicon, AM/PM, web addresses, currency signs, telephone numbers, ranges, dates,
times, numbers with counters, Latin letters, symbols.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tts.numbers import (
    decimal_to_sino,
    digits_to_korean,
    month_name,
    number_to_native,
    number_to_sino,
)

__all__ = ["normalize_korean", "number_to_native", "number_to_sino"]

Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

# ---------------------------------------------------------------------------------------------------
# Tables


@dataclass(frozen=True)
class Counter:
    """How a number before this counter is read. ``native_up_to``: native Korean for 1..that, else Sino."""

    spoken: str
    native_up_to: int = 0


_NATIVE = 99
COUNTERS: dict[str, Counter] = {
    # Native Korean counters: 세 시, 두 명, 한 개, 일곱 살, 두 번째.
    "시": Counter("시", 24),
    "시간": Counter("시간", 19),  # 세 시간, but 이십사 시간 as a 120 agent says it
    "개": Counter("개", _NATIVE),
    "명": Counter("명", _NATIVE),
    "분들": Counter("분들", _NATIVE),
    "사람": Counter("사람", _NATIVE),
    "살": Counter("살", _NATIVE),
    "번째": Counter("번째", _NATIVE),
    "마리": Counter("마리", _NATIVE),
    "권": Counter("권", _NATIVE),
    "장": Counter("장", _NATIVE),
    "대": Counter("대", _NATIVE),  # 두 대 (cars); 이십 대 (age group) is handled in _counter_number
    "잔": Counter("잔", _NATIVE),
    "곳": Counter("곳", _NATIVE),
    "군데": Counter("군데", _NATIVE),
    "가지": Counter("가지", _NATIVE),
    "달": Counter("달", _NATIVE),
    "배": Counter("배", _NATIVE),
    "벌": Counter("벌", _NATIVE),
    "켤레": Counter("켤레", _NATIVE),
    "그루": Counter("그루", _NATIVE),
    "송이": Counter("송이", _NATIVE),
    "병": Counter("병", _NATIVE),
    "채": Counter("채", _NATIVE),
    # Sino-Korean counters.
    "번": Counter("번"),  # menu options and numbers: 일 번; frequency (하루 세 번) in _counter_number
    "원": Counter("원"),
    "달러": Counter("달러"),
    "엔": Counter("엔"),
    "유로": Counter("유로"),
    "년": Counter("년"),
    "년도": Counter("년도"),
    "월": Counter("월"),
    "개월": Counter("개월"),
    "개국": Counter("개국"),
    "개소": Counter("개소"),
    "개년": Counter("개년"),
    "주": Counter("주"),
    "주일": Counter("주일"),
    "주년": Counter("주년"),
    "일": Counter("일"),
    "일간": Counter("일간"),
    "분": Counter("분"),
    "초": Counter("초"),
    "세": Counter("세"),
    "층": Counter("층"),
    "호": Counter("호"),
    "호선": Counter("호선"),
    "호실": Counter("호실"),
    "동": Counter("동"),
    "번지": Counter("번지"),
    "번길": Counter("번길"),
    "길": Counter("길"),
    "회": Counter("회"),
    "회차": Counter("회차"),
    "차": Counter("차"),
    "위": Counter("위"),
    "등": Counter("등"),
    "등급": Counter("등급"),
    "점": Counter("점"),
    "인": Counter("인"),
    "인분": Counter("인분"),
    "박": Counter("박"),
    "단계": Counter("단계"),
    "학년": Counter("학년"),
    "반": Counter("반"),
    "쪽": Counter("쪽"),
    "페이지": Counter("페이지"),
    "건": Counter("건"),
    "평": Counter("평"),
    "도": Counter("도"),
    "퍼센트": Counter("퍼센트"),
    "%": Counter("퍼센트"),
    "℃": Counter("도"),
    "°C": Counter("도"),
    "°": Counter("도"),
    # Units (Sino-Korean numbers). NFKC has already turned ㎞ into km, ㎡ into m2, ㎍ into μg.
    "km/h": Counter("킬로미터"),  # read 시속 N 킬로미터, see _counter_reading
    "km": Counter("킬로미터"),
    "cm": Counter("센티미터"),
    "mm": Counter("밀리미터"),
    "m": Counter("미터"),
    "m2": Counter("제곱미터"),
    "m3": Counter("세제곱미터"),
    "km2": Counter("제곱킬로미터"),
    "kg": Counter("킬로그램"),
    "mg": Counter("밀리그램"),
    "g": Counter("그램"),
    "t": Counter("톤"),
    "톤": Counter("톤"),
    "L": Counter("리터"),
    "l": Counter("리터"),
    "mL": Counter("밀리리터"),
    "ml": Counter("밀리리터"),
    "ha": Counter("헥타르"),
    "kWh": Counter("킬로와트시"),
    "kW": Counter("킬로와트"),
    "W": Counter("와트"),
    "MB": Counter("메가바이트"),
    "GB": Counter("기가바이트"),
    "TB": Counter("테라바이트"),
    "Mbps": Counter("메가비피에스"),
    "dB": Counter("데시벨"),
    "ppm": Counter("피피엠"),
    "μg/m3": Counter("마이크로그램 퍼 세제곱미터"),  # fine-dust readings
    "mg/L": Counter("밀리그램 퍼 리터"),
    "min": Counter("분"),
}
_DEGREES = {"℃", "°C", "°", "도"}
_TIME_COUNTERS = {"시", "월"}

# Well-known short telephone numbers: read digit by digit when they stand alone (120 -> 일이공).
SERVICE_NUMBERS = {
    "110", "111", "112", "113", "114", "117", "118", "119", "120", "122", "125", "127", "128", "129",
    "131", "132", "182", "1330", "1332", "1333", "1345", "1350", "1366", "1388", "1399",
}  # fmt: skip

# Context that makes 번 a frequency (하루 세 번, 최대 두 번) rather than a number (일 번).
_FREQUENCY_BEFORE = re.compile(r"(?:하루|한\s?달|일주일|매주|매달|매월|매년|주|월|연|최대|최소|총|모두)\s*$")
_FREQUENCY_AFTER = re.compile(r"^\s?(?:씩|정도|이상|만에|더|까지만|밖에|다시)")
# Context that makes a bare number a quantity even when it looks like a service number (총 120).
_QUANTITY_BEFORE = re.compile(r"(?:총|약|최대|최소|모두|제|무려|대략)\s*$")

LETTER_NAMES = {
    "A": "에이", "B": "비", "C": "씨", "D": "디", "E": "이", "F": "에프", "G": "지", "H": "에이치",
    "I": "아이", "J": "제이", "K": "케이", "L": "엘", "M": "엠", "N": "엔", "O": "오", "P": "피",
    "Q": "큐", "R": "알", "S": "에스", "T": "티", "U": "유", "V": "브이", "W": "더블유", "X": "엑스",
    "Y": "와이", "Z": "제트",
}  # fmt: skip

# Latin words with a conventional Korean reading; anything else in capitals is spelled (ARS -> 에이알에스).
LATIN_WORDS = {
    "ok": "오케이", "pin": "핀", "fax": "팩스", "covid": "코로나", "app": "앱", "apps": "앱",
    "email": "이메일", "e-mail": "이메일", "wifi": "와이파이", "wi-fi": "와이파이", "kakao": "카카오",
    "kakaotalk": "카카오톡", "naver": "네이버", "google": "구글", "youtube": "유튜브", "seoul": "서울",
    "tmoney": "티머니", "t-money": "티머니", "www": "더블유 더블유 더블유", "homepage": "홈페이지",
    "online": "온라인", "mobile": "모바일", "web": "웹", "zoom": "줌", "iphone": "아이폰",
    "android": "안드로이드", "bus": "버스", "taxi": "택시", "dasan": "다산", "call": "콜",
    "center": "센터", "gov": "거브", "com": "컴", "net": "넷", "lte": "엘티이", "nasa": "나사",
    "tel": "전화", "unesco": "유네스코", "unicef": "유니세프",
}  # fmt: skip

# Exact terms checked first (before any digit is touched).
LEXICON: list[Rule] = [
    (re.compile(r"코로나\s?-?\s?19|(?i:covid\s?-?\s?19)"), "코로나 일구"),
    (re.compile(r"120\s?다산"), "일이공 다산"),
    (re.compile(r"(?<![0-9A-Za-z])5G(?![A-Za-z])"), "파이브지"),
    (re.compile(r"(?<![0-9A-Za-z])4G(?![A-Za-z])"), "포지"),
    (re.compile(r"(?<![0-9A-Za-z])3D(?![A-Za-z])"), "쓰리디"),
    (re.compile(r"(?<![0-9A-Za-z])A4(?![0-9A-Za-z])"), "에이포"),
    (re.compile(r"(?<![0-9A-Za-z])Q\s?&\s?A(?![A-Za-z])"), "큐 앤 에이"),
    (re.compile(r"(?<![0-9A-Za-z])A\s?/\s?S(?![A-Za-z])"), "에이에스"),
    (re.compile(r"(?<![0-9A-Za-z])K-(?=[가-힣A-Za-z])"), "케이 "),
    (re.compile(r"(?<![0-9A-Za-z])B(\d{1,2})\s?(?:층|F\b)"), r"지하 \1층"),
    (re.compile(r"(?<![0-9A-Za-z])(\d{1,3})F(?![A-Za-z])"), r"\1층"),
    (re.compile(r"3\s?[.·ㆍ]\s?1\s?절"), "삼일절"),
    (re.compile(r"6\s?[.·ㆍ]\s?25(?=\s?(?:전쟁|참전|사변))"), "육이오"),
    (re.compile(r"4\s?[.·ㆍ]\s?19(?=\s?(?:혁명|민주|기념))"), "사일구"),
    (re.compile(r"5\s?[.·ㆍ]\s?18(?=\s?(?:민주|광주|기념))"), "오일팔"),
    (re.compile(r"8\s?[.·ㆍ]\s?15(?=\s?(?:광복|해방))"), "팔일오"),
    (re.compile(r"[☎☏℡]\s?|(?<![A-Za-z])(?:TEL|Tel|tel)\s?[.:)]?\s?(?=[\d(])"), "전화 "),
]

_PERIODS = "오전|오후|새벽|아침|낮|저녁|밤"
_WEEKDAYS = "월화수목금토일"
_UNIT_VALUES = {
    "조": 10**12,
    "천억": 10**11,
    "백억": 10**10,
    "십억": 10**9,
    "억": 10**8,
    "천만": 10**7,
    "백만": 10**6,
    "십만": 10**5,
    "만": 10**4,
    "천": 10**3,
    "백": 10**2,
}

# Symbols that carry meaning become words; decorative ones become a space; anything else left that is
# not Hangul, a Latin letter or . , ? ! is dropped at the end.
SYMBOL_WORDS = {
    "&": " 앤 ",
    "+": " 플러스 ",
    "@": " 골뱅이 ",
    "%": " 퍼센트 ",
    "$": " 달러 ",
    "₩": " 원 ",
    "·": ", ",
    "ㆍ": ", ",
    "・": ", ",
    ":": ", ",
    ";": ", ",
    "|": ", ",
    "…": ", ",
    "~": " ",
}

# ---------------------------------------------------------------------------------------------------
# Helpers


def _clean_unicode(text: str) -> str:
    # NFKC folds full-width digits, ㎞, ㎡, ℃ and friends into ASCII, but it would also turn Hangul
    # compatibility jamo (ㄱ, ㆍ) into conjoining jamo, so those are left alone.
    text = "".join(c if "\u3130" <= c <= "\u318f" else unicodedata.normalize("NFKC", c) for c in text)
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[\u200b-\u200f\u2060\ufeff]", "", text)  # zero-width characters
    text = text.replace("−", "-").replace("–", "-").replace("—", "-").replace("∼", "~").replace("〜", "~")
    return text.replace("\u00b5", "μ")


def _digits_grouped(groups: list[str]) -> str:
    """Telephone-style reading: each group digit by digit (0 is 공), groups separated by a short pause."""
    return ", ".join(digits_to_korean(g) for g in groups if g)


def _reference_groups(digits: str) -> list[str]:
    """Split a written number into the groups it is read in: at hyphens and spaces, else by four."""
    groups = [g for g in re.split(r"[\s-]+", digits) if g]
    if len(groups) == 1 and len(groups[0]) > 4:
        return [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return groups


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _apply(rules: list[Rule], text: str) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


# ---------------------------------------------------------------------------------------------------
# Passes


def _am_pm(text: str) -> str:
    text = re.sub(r"(?i)(?<![a-z])a\.?m\.?\s*(?=\d)", "오전 ", text)
    text = re.sub(r"(?i)(?<![a-z])p\.?m\.?\s*(?=\d)", "오후 ", text)
    # 9:00 AM -> 오전 9:00
    text = re.sub(r"(?i)(\d{1,2}(?::\d{2})?)\s*a\.?m\.?(?![a-z])", r"오전 \1", text)
    return re.sub(r"(?i)(\d{1,2}(?::\d{2})?)\s*p\.?m\.?(?![a-z])", r"오후 \1", text)


_DOMAIN = r"(?:[A-Za-z0-9-]+\.)+(?:kr|com|net|org|go\.kr|or\.kr|co\.kr|ac\.kr|seoul)"
_EMAIL = re.compile(rf"(?<![\w.])([A-Za-z0-9._-]+)@({_DOMAIN})(?![\w])")
_URL = re.compile(rf"(?i)(?:https?://)?({_DOMAIN})((?:/[A-Za-z0-9._~-]*)*)")


def _read_label(label: str) -> str:
    runs = re.findall(r"\d+|[A-Za-z]+|-", label)
    if len(runs) > 1:  # 120dasan -> 일이공 다산
        return " ".join(_read_label(run) for run in runs if run != "-")
    if label.isdigit():
        return digits_to_korean(label)
    if label.lower() in LATIN_WORDS:
        return LATIN_WORDS[label.lower()]
    return "".join(LETTER_NAMES.get(c.upper(), digits_to_korean(c) if c.isdigit() else " ") for c in label)


def _read_address(address: str) -> str:
    return " 점 ".join(_read_label(label) for label in re.split(r"[.]", address) if label)


def _web_addresses(text: str) -> str:
    text = _EMAIL.sub(
        lambda m: f" {_read_address(m.group(1))} 골뱅이 {_read_address(m.group(2))} ",
        text,
    )

    def url(m: re.Match[str]) -> str:
        spoken = _read_address(m.group(1))
        for part in m.group(2).split("/"):
            if part:
                spoken += f" 슬래시 {_read_address(part)}"
        return f" {spoken} "

    return _URL.sub(url, text)


def _currency(text: str) -> str:
    amount = r"(\d[\d,]*(?:\.\d+)?(?:\s?(?:조|억|만|천)\s?\d*)*)"
    text = re.sub(rf"(?:US)?\$\s?{amount}", r"\1달러", text)
    return re.sub(rf"₩\s?{amount}", r"\1원", text)


def _phone_numbers(text: str) -> str:
    def grouped(m: re.Match[str]) -> str:
        return _digits_grouped(list(m.groups()))

    # A number after 번호 (전화번호, 접수번호, 계좌번호 …) is always read digit by digit.
    text = re.sub(
        r"(번호\s?(?:는|은|가|이|:)?\s?)(\d[\d\s-]*\d|\d)(?![\d,.])",
        lambda m: m.group(1) + _digits_grouped(_reference_groups(m.group(2))),
        text,
    )
    text = re.sub(r"(?<![\d-])\(?(0\d{1,2})\)?[-\s.)]?(\d{3,4})[-.\s](\d{4})(?![\d-])", grouped, text)
    text = re.sub(r"(?<![\d-])(1[5-9]\d{2})-(\d{4})(?![\d-])", grouped, text)  # 1588-1234
    text = re.sub(r"(?<![\d-])(01[016789])(\d{3,4})(\d{4})(?!\d)", grouped, text)  # 01012345678
    text = re.sub(r"(?<![\d-])(02)(\d{3,4})(\d{4})(?!\d)", grouped, text)
    text = re.sub(r"(?<![\d-])(0[3-6]\d)(\d{3,4})(\d{4})(?!\d)", grouped, text)
    text = re.sub(r"(?<![\d-])(\d{3,4})-(\d{4})(?![\d-])", grouped, text)  # 2133-1234
    return re.sub(r"(?<![\d-])(0\d{1,2})-(\d{3,4})(?![\d-])", grouped, text)  # 02-120


_COPULA = re.compile(r"(?:입니다|입니까|이며|이고|이다|예요|이에요|이요)")
_RANGE_SIDE = r"\d[\d,.:/-]*\d|\d"
_COUNTER_ALTERNATIVES = sorted(COUNTERS, key=len, reverse=True)


def _counter_prefix(word: str) -> str:
    for counter in _COUNTER_ALTERNATIVES:
        if word.startswith(counter):
            return counter
    return ""


def _is_datelike(side: str) -> bool:
    return ":" in side or "/" in side or side.count("-") >= 2 or side.count(".") >= 2


def _until(rest: str) -> str:
    """The particle after the end of a time range: 18시 -> 18시까지, 18시에 -> 18시까지, 18시입니다 -> 18시까지입니다."""
    if not rest or _COPULA.match(rest):
        return "까지" + rest
    if rest.startswith("에") and not rest.startswith("에서"):  # 9시~18시에 운영 -> 9시부터 18시까지 운영
        return "까지" + rest[1:]
    return rest


def _ranges(text: str) -> str:
    """9시~18시 -> 9시부터 18시까지; 2~3일 -> 2일에서 3일. Digits stay digits for the later passes."""
    pattern = re.compile(
        rf"(?<![\d.])(?P<a>{_RANGE_SIDE})(?P<ua>[가-힣%℃°]*)\s*~\s*"
        rf"(?P<pb>(?:{_PERIODS})\s*)?(?P<b>{_RANGE_SIDE})(?P<ub>[가-힣%℃°A-Za-z]*)"
    )

    def replace(m: re.Match[str]) -> str:
        a, ua, b, ub = m.group("a"), m.group("ua"), m.group("b"), m.group("ub")
        counter_b = _counter_prefix(ub)
        rest = ub[len(counter_b) :]
        if not ua:
            ua = counter_b
        preceding = m.string[: m.start()]
        timelike = (
            _is_datelike(a)
            or _is_datelike(b)
            or _counter_prefix(ua) in _TIME_COUNTERS
            or counter_b in _TIME_COUNTERS
            or re.search(r"월\s*$", preceding) is not None
        )
        pb = m.group("pb") or ""
        if timelike:
            return f"{a}{ua}부터 {pb}{b}{counter_b}{_until(rest)}"
        return f"{a}{ua}에서 {pb}{b}{ub}"

    # 11월 23일~12월 4일: the right side is a whole month-and-day, so 까지 goes after its day, not its month.
    weekday = rf"(?:\s?\([{_WEEKDAYS}](?:요일)?\))?"  # 23일(월)
    text = re.sub(
        rf"(?<![\d.])((?:\d{{4}}\s?년\s?)?\d{{1,2}}\s?월\s?\d{{1,2}}\s?일{weekday})\s*~\s*"
        rf"(?P<b>(?:\d{{4}}\s?년\s?)?\d{{1,2}}\s?월\s?\d{{1,2}}\s?일{weekday})(?P<rest>[가-힣]*)",
        lambda m: f"{m.group(1)}부터 {m.group('b')}{_until(m.group('rest'))}",
        text,
    )
    text = pattern.sub(replace, text)
    # 3-5일: a hyphenated range of small numbers directly followed by a counter.
    counters = "|".join(re.escape(c) for c in _COUNTER_ALTERNATIVES if re.match(r"[가-힣]", c))
    return re.sub(
        rf"(?<![\d.-])([1-9]\d{{0,2}})\s?-\s?([1-9]\d{{0,2}})\s?({counters})",
        lambda m: f"{m.group(1)}{m.group(3)}에서 {m.group(2)}{m.group(3)}",
        text,
    )


def _valid_date(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def _spoken_date(year: int | None, month: int, day: int) -> str:
    parts = [f"{number_to_sino(year)} 년"] if year is not None else []
    parts += [month_name(month), f"{number_to_sino(day)} 일"]
    return " ".join(parts)


def _dates(text: str) -> str:
    def ymd(m: re.Match[str]) -> str:
        year, month, day = int(m.group(1)), int(m.group(3)), int(m.group(4))
        return _spoken_date(year, month, day) if _valid_date(month, day) else m.group(0)

    def md(m: re.Match[str]) -> str:
        month, day = int(m.group(1)), int(m.group(2))
        return _spoken_date(None, month, day) if _valid_date(month, day) else m.group(0)

    # 2026-11-23, 2026.11.23, 2026. 11. 23, 2026/11/23 (the same separator twice)
    text = re.sub(r"(?<![\d.])((?:19|20)\d{2})\s?([-./])\s?(\d{1,2})\s?\2\s?(\d{1,2})(?!\d)", ymd, text)
    text = re.sub(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])", md, text)  # 11/23
    # 23일(월) / 23일 (월요일) -> 23일 월요일
    return re.sub(rf"(?<=일)\.?\s?\(([{_WEEKDAYS}])(?:요일)?\)", r" \1요일", text)


def _spoken_hour(period: str | None, hour: int) -> str:
    if period:
        if period in ("오후", "저녁", "밤") and hour > 12:
            hour -= 12
        return f"{period} {number_to_native(hour, attributive=True) if hour else '영'} 시"
    # A 24-hour clock time is said the way an agent says it: 14:30 -> 오후 두 시 삼십 분.
    if hour in (0, 24):
        return "밤 열두 시"
    if hour == 12:
        return "낮 열두 시"
    period = "오전" if hour < 12 else "오후"
    return f"{period} {number_to_native(hour if hour < 12 else hour - 12, attributive=True)} 시"


def _times(text: str) -> str:
    pattern = re.compile(
        rf"(?:(?P<period>{_PERIODS})\s*)?(?<![\d:])(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?::(?P<s>\d{{2}}))?(?![\d:])"
    )

    def replace(m: re.Match[str]) -> str:
        hour, minute = int(m.group("h")), int(m.group("m"))
        second = int(m.group("s")) if m.group("s") else 0
        if hour > 24 or minute > 59 or second > 59:
            return m.group(0)
        words = [_spoken_hour(m.group("period"), hour)]
        if minute:
            words.append(f"{number_to_sino(minute)} 분")
        if second:
            words.append(f"{number_to_sino(second)} 초")
        return " ".join(words)

    return pattern.sub(replace, text)


_INT = r"\d{1,3}(?:,\d{3})+(?![\d])|\d+"
_UNITS = "|".join(sorted(_UNIT_VALUES, key=len, reverse=True))
_AMOUNT = rf"(?:(?:{_INT})(?:\.\d+)?\s?(?:{_UNITS}))(?:\s?(?:{_INT})(?:\.\d+)?\s?(?:{_UNITS}))*(?:{_INT})?"


def _counter_regex() -> str:
    alternatives = []
    for counter in _COUNTER_ALTERNATIVES:
        escaped = re.escape(counter)
        # A Latin unit must end the word: 5m is 미터, 5min is not 5m + in.
        alternatives.append(escaped + ("(?![A-Za-z0-9])" if re.search(r"[A-Za-z0-9]$", counter) else ""))
    return "|".join(alternatives)


_NUMBER = re.compile(
    rf"(?P<sign>(?<![^\s(,])[-])?(?<![\d.])"
    rf"(?:(?P<amount>{_AMOUNT})|(?P<int>{_INT})(?:\.(?P<frac>\d+))?)"
    rf"(?:(?P<space>\s?)(?P<counter>{_counter_regex()}))?"
)


def _amount_value(amount: str) -> tuple[int | None, str]:
    """3만 5천 -> 35000. Returns (None, reading) when the amount is not a whole number of won."""
    total = Decimal(0)
    spoken = []
    for number, unit in re.findall(rf"((?:{_INT})(?:\.\d+)?)\s?({_UNITS})?", amount):
        total += Decimal(number.replace(",", "")) * _UNIT_VALUES.get(unit, 1)
        spoken.append(_read_plain_decimal(number) + unit)
    if total == total.to_integral_value():
        return int(total), number_to_sino(int(total))
    return None, " ".join(spoken)


def _read_plain_decimal(number: str) -> str:
    if "." in number:
        whole, fraction = number.split(".", 1)
        return decimal_to_sino(whole.replace(",", ""), fraction)
    return number_to_sino(_number(number))


def _counter_number(n: int, counter: str, before: str, after: str) -> str:
    spec = COUNTERS[counter]
    if counter == "월" and 1 <= n <= 12:
        return month_name(n)
    if counter == "번째" and n == 1:
        return "첫"
    if counter == "번":
        if str(n) in SERVICE_NUMBERS and n >= 100:
            return digits_to_korean(str(n))
        if 1 <= n <= _NATIVE and (_FREQUENCY_BEFORE.search(before) or _FREQUENCY_AFTER.match(after)):
            return number_to_native(n, attributive=True)
    if counter == "대" and n % 10 == 0:
        return number_to_sino(n)
    if 1 <= n <= spec.native_up_to:
        return number_to_native(n, attributive=True)
    return number_to_sino(n)


def _plain_number(digits: str, before: str) -> str:
    if digits in SERVICE_NUMBERS and not _QUANTITY_BEFORE.search(before):
        return digits_to_korean(digits)
    if len(digits) > 1 and digits.startswith("0"):
        return digits_to_korean(digits)
    if len(digits) >= 9:  # reference and account numbers: digit by digit in groups of four
        return _digits_grouped(_reference_groups(digits))
    return number_to_sino(int(digits))


def _numbers(text: str) -> str:
    def replace(m: re.Match[str]) -> str:
        counter = m.group("counter")
        before, after = m.string[: m.start()], m.string[m.end() :]
        if m.group("amount"):
            _, spoken = _amount_value(m.group("amount").strip())
        elif m.group("frac") is not None:
            spoken = decimal_to_sino(m.group("int").replace(",", ""), m.group("frac"))
        elif counter:
            spoken = _counter_number(_number(m.group("int")), counter, before, after)
        else:
            spoken = _plain_number(m.group("int").replace(",", ""), before)
        if m.group("sign"):
            if counter not in _DEGREES:
                spoken = "마이너스 " + spoken
            elif not re.search(r"영하\s*$", before):  # 영하 -5℃ is not 영하 영하 오 도
                spoken = "영하 " + spoken
        if not counter:
            return spoken
        if counter == "월" and spoken.endswith("월"):  # month_name already says 월
            return spoken
        if counter == "km/h":
            return f"시속 {spoken} 킬로미터"
        return f"{spoken} {COUNTERS[counter].spoken}"

    text = re.sub(r"제\s?(?=\d)", "제 ", text)
    return _NUMBER.sub(replace, text)


def _latin(text: str) -> str:
    def replace(m: re.Match[str]) -> str:
        word = m.group(0)
        known = LATIN_WORDS.get(word.lower())
        if known:
            return f" {known} "
        if word.isupper() or len(word) <= 3:
            # Spelled letter by letter; a hyphen inside (e-b, K-T-X) is a short pause.
            return " " + "".join(LETTER_NAMES.get(c.upper(), " ") for c in word) + " "
        return f" {word} "  # a real English word: espeak reads it in English

    return re.sub(r"[A-Za-z]+(?:-[A-Za-z]+)*", replace, text)


def _symbols(text: str) -> str:
    # # and * mean the telephone keys when they stand alone or before 버튼/키/a particle.
    for key, word in (("#", "우물 정자"), (r"(?<![*])\*(?![*])", "별표")):
        # Both words end in a vowel, so a particle written for the symbol is adjusted: #을 -> 우물 정자를.
        text = re.sub(
            rf"{key}({'|'.join(_AFTER_VOWEL)})(?![가-힣])",
            lambda m, word=word: f" {word}{_AFTER_VOWEL[m.group(1)]}",
            text,
        )
        text = re.sub(rf"{key}\s?(?=\s|$|[.,?!]|버튼|키)", f" {word} ", text)
    text = re.sub(r"\s*\n\s*", ". ", text)
    text = re.sub(r"(?<=[가-힣])\s*~\s*(?=[가-힣])", "에서 ", text)  # 서울~부산 -> 서울에서 부산
    text = text.replace("...", "…")
    for symbol, word in SYMBOL_WORDS.items():
        text = text.replace(symbol, word)
    # Everything espeak would spell or mis-read: brackets, quotes, bullets, arrows, emoji, hanja, jamo.
    return re.sub(r"[^가-힣A-Za-z.,?!\s]", " ", text)


_AFTER_VOWEL = {
    "으로": "로",
    "을": "를",
    "를": "를",
    "이": "가",
    "가": "가",
    "은": "는",
    "는": "는",
    "과": "와",
    "와": "와",
    "로": "로",
}


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([.,?!])", r"\1", text)
    text = re.sub(r"([.,?!])(?:\s*[.,?!])+", _keep_strongest, text)
    text = re.sub(r"([.,?!])(?=[^\s.,?!])", r"\1 ", text)
    text = re.sub(r"^[\s.,?!]+", "", text)
    return text.strip()


def _keep_strongest(m: re.Match[str]) -> str:
    marks = re.sub(r"\s", "", m.group(0))
    for mark in "?!.":
        if mark in marks:
            return mark
    return ","


def normalize_korean(text: str) -> str:
    """Written Korean -> the words a 120 agent would say, e.g. '02-120' -> '공이, 일이공'."""
    text = _clean_unicode(text)
    text = _apply(LEXICON, text)
    text = _am_pm(text)
    text = _web_addresses(text)
    text = _currency(text)
    text = _phone_numbers(text)
    text = _ranges(text)
    text = _dates(text)
    text = _times(text)
    text = _numbers(text)
    text = _latin(text)
    text = _symbols(text)
    return _tidy(text)
