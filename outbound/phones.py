"""Korean phone numbers: validate, normalise to E.164, format for display, mask for logs.

Accepted input: mobile ``010-1234-5678`` (and the legacy 011/016/017/018/019), Seoul ``02-123-4567`` /
``02-1234-5678``, the other area codes 031–064, internet phones ``070-1234-5678``, representative numbers
``1588-1234`` (15XX/16XX/18XX), and the international forms ``+82 10-1234-5678``, ``+82 (0)10 …`` and
``0082 10 …``. Spaces, dots, dashes (also full-width and Unicode dashes) and parentheses are ignored.

The canonical form is E.164 (``+821012345678``); :func:`parse_phone` also gives the national display form
(``010-1234-5678``). Use :func:`mask_phone` whenever a number goes to a log.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

PhoneKind = Literal["mobile", "landline", "voip", "representative"]

MOBILE_PREFIXES = ("010", "011", "016", "017", "018", "019")
AREA_CODES: dict[str, str] = {
    "02": "서울",
    "031": "경기",
    "032": "인천",
    "033": "강원",
    "041": "충남",
    "042": "대전",
    "043": "충북",
    "044": "세종",
    "051": "부산",
    "052": "울산",
    "053": "대구",
    "054": "경북",
    "055": "경남",
    "061": "전남",
    "062": "광주",
    "063": "전북",
    "064": "제주",
}
REPRESENTATIVE_PREFIXES = ("15", "16", "18")

# Separators people and spreadsheets put into numbers; removed before validation.
_SEPARATORS = re.compile(r"[\s.\-‐‑‒–—―−~()/]")


class PhoneError(ValueError):
    """An input that is not a Korean phone number we can dial; ``reason`` is a short English sentence."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class PhoneNumber:
    e164: str  # "+821012345678": the canonical form, stored and compared
    national: str  # "01012345678": digits as dialled inside Korea
    display: str  # "010-1234-5678"
    kind: PhoneKind
    prefix: str  # "010", "02", "031", "070", "1588"

    def __str__(self) -> str:
        return self.display

    @property
    def masked(self) -> str:
        return _mask_groups(self.display)


def _national_digits(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise PhoneError("phone number is empty", "empty")
    if re.search(r"(?i)(ext|내선|#|\*|,)", text):
        raise PhoneError("phone number has an extension or pause; give the number alone", "extension")
    compact = _SEPARATORS.sub("", text)
    international = False
    if compact.startswith("+"):
        if not compact.startswith("+82"):
            raise PhoneError("only Korean numbers (+82) can be called", "foreign")
        compact, international = compact[3:], True
    elif compact.startswith("0082"):
        compact, international = compact[4:], True
    if not compact.isdigit():
        bad = sorted({c for c in compact if not c.isdigit()})
        raise PhoneError(
            f"phone number contains characters that are not digits: {''.join(bad)!r}", "characters"
        )
    if international:
        # "+82 (0)10 …" keeps the trunk zero; "+82 10 …" drops it.
        if compact.startswith("0"):
            compact = compact[1:]
        if compact[:2] in REPRESENTATIVE_PREFIXES and len(compact) == 8:
            return compact
        return "0" + compact
    return compact


def _expect(digits: str, prefix: str, lengths: tuple[int, ...], what: str) -> None:
    if len(digits) not in lengths:
        want = " or ".join(str(n) for n in lengths)
        raise PhoneError(
            f"{what} number starting {prefix} must have {want} digits, not {len(digits)}", "length"
        )


def parse_phone(raw: str) -> PhoneNumber:
    """Validate ``raw`` and return its canonical and display forms; raises :class:`PhoneError`."""
    if not isinstance(raw, str):
        raise PhoneError("phone number must be text", "type")
    digits = _national_digits(raw)
    if len(digits) == 10 and digits.startswith("10"):
        digits = "0" + digits  # Excel stores 010… as a number and drops the leading zero
    if digits[:2] in REPRESENTATIVE_PREFIXES and not digits.startswith("0"):
        _expect(digits, digits[:4], (8,), "representative")
        return PhoneNumber("+82" + digits, digits, f"{digits[:4]}-{digits[4:]}", "representative", digits[:4])
    if not digits.startswith("0"):
        raise PhoneError(
            "phone number must start with 0 (010, 02, 031 …), +82, or be a 15XX/16XX/18XX number", "prefix"
        )
    if digits.startswith("02"):
        prefix, kind, lengths, what = "02", "landline", (9, 10), "Seoul"
    elif digits[:3] in MOBILE_PREFIXES:
        prefix, kind, what = digits[:3], "mobile", "mobile"
        lengths = (11,) if prefix == "010" else (10, 11)
    elif digits[:3] in AREA_CODES:
        prefix, kind, lengths, what = digits[:3], "landline", (10, 11), "area-code"
    elif digits[:3] == "070":
        prefix, kind, lengths, what = "070", "voip", (11,), "internet-phone"
    else:
        raise PhoneError(f"unknown area code or prefix {digits[:3]!r}", "prefix")
    _expect(digits, prefix, lengths, what)
    if digits[len(prefix)] == "0":
        raise PhoneError("the exchange part after the prefix cannot start with 0", "exchange")
    rest = digits[len(prefix) :]
    display = f"{prefix}-{rest[:-4]}-{rest[-4:]}"
    return PhoneNumber("+82" + digits[1:], digits, display, kind, prefix)  # type: ignore[arg-type]


def normalize_phone(raw: str) -> str:
    """E.164 form of ``raw`` (``+821012345678``); raises :class:`PhoneError`."""
    return parse_phone(raw).e164


def is_valid_phone(raw: str) -> bool:
    try:
        parse_phone(raw)
    except PhoneError:
        return False
    return True


def _mask_groups(display: str) -> str:
    groups = display.split("-")
    if len(groups) == 3:
        return f"{groups[0]}-{'*' * len(groups[1])}-{groups[2]}"
    if len(groups) == 2:  # 1588-1234: the last four digits stay
        return f"{groups[0][:2]}**-{groups[1]}"
    return "*" * max(len(display) - 2, 0) + display[-2:]


def mask_phone(raw: str) -> str:
    """Log-safe form: ``010-****-5678``; anything unparseable keeps only its last two digits."""
    try:
        return parse_phone(raw).masked
    except PhoneError:
        digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", str(raw)))
        return "*" * max(len(digits) - 2, 1) + digits[-2:] if digits else "***"


def mask_name(name: str) -> str:
    """Log-safe form of a person's name: ``김*수``, ``이*``; longer names keep the first and last letter."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
