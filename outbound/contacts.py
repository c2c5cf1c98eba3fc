"""Contact lists from CSV: Korean or English headers, UTF-8 (with or without BOM), CP949/EUC-KR or UTF-16.

:func:`import_contacts` never raises for a bad row: each one is reported in ``rejected`` with its row
number (spreadsheet numbering: the header is row 1) and a reason, and every good row is kept. Rows with
the same normalised phone number are merged into one contact. Numbers on the do-not-call list, and rows
marked as opted out, are skipped and reported with the reason ``do_not_call``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from outbound.phones import PhoneError, PhoneNumber, mask_phone, parse_phone
from outbound.timewindows import TimeWindow, WindowError, merge_windows, parse_windows

# Canonical column -> header spellings (compared after NFKC, lower-casing, dropping spaces, _ and -).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "이름", "성명", "성함", "고객명", "대상자", "대상자명"),
    "phone": (
        "phone",
        "phonenumber",
        "tel",
        "telephone",
        "mobile",
        "number",
        "전화번호",
        "전화",
        "연락처",
        "휴대폰",
        "휴대폰번호",
        "휴대전화",
        "휴대전화번호",
        "핸드폰",
    ),
    "tags": ("tags", "tag", "태그", "분류", "그룹"),
    "preferred_times": (
        "preferredtimes",
        "preferredtime",
        "선호시간",
        "선호통화시간",
        "통화가능시간",
        "희망시간",
    ),
    "notes": ("notes", "note", "memo", "메모", "비고"),
    "opt_out": ("optout", "donotcall", "dnc", "수신거부", "통화거부"),
}
REQUIRED_COLUMNS = ("name", "phone")
_TRUE_WORDS = {"1", "y", "yes", "true", "o", "예", "네", "거부", "수신거부", "v", "✓"}
MAX_NAME_LEN = 100
MAX_NOTES_LEN = 2000


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (no header, or no name/phone column); no row was imported."""


@dataclass(frozen=True)
class Contact:
    name: str
    phone: PhoneNumber
    tags: tuple[str, ...] = ()
    preferred_times: tuple[TimeWindow, ...] = ()
    notes: str = ""
    rows: tuple[int, ...] = ()  # source rows (more than one when duplicates were merged)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RowIssue:
    row: int  # spreadsheet row number; the header is row 1
    code: str  # "invalid_phone", "missing_name", "do_not_call", "duplicate_merged", "bad_preferred_times", …
    reason: str
    masked_phone: str = ""  # log-safe: never the number in clear


@dataclass
class ImportResult:
    contacts: list[Contact] = field(default_factory=list)
    rejected: list[RowIssue] = field(default_factory=list)  # rows not imported (includes do-not-call)
    warnings: list[RowIssue] = field(default_factory=list)  # rows imported with something dropped or merged
    encoding: str = "utf-8"
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header as written

    @property
    def skipped_do_not_call(self) -> list[RowIssue]:
        return [r for r in self.rejected if r.code == "do_not_call"]

    def summary(self) -> dict[str, object]:
        """Counts and reasons only: safe to log (no names, numbers masked)."""
        return {
            "imported": len(self.contacts),
            "rejected": [{"row": r.row, "code": r.code, "reason": r.reason} for r in self.rejected],
            "warnings": [{"row": r.row, "code": r.code, "reason": r.reason} for r in self.warnings],
            "encoding": self.encoding,
        }


def _norm_header(text: str) -> str:
    return re.sub(r"[\s_\-./()]", "", unicodedata.normalize("NFKC", text or "").strip().lower())


_ALIAS_INDEX = {_norm_header(a): col for col, aliases in HEADER_ALIASES.items() for a in aliases}


def decode_csv_bytes(data: bytes) -> tuple[str, str, set[int]]:
    """Decode ``data`` and return (text, encoding, bad physical line numbers, 1-based).

    UTF-8 BOM → utf-8-sig; UTF-16 BOM → utf-16; valid UTF-8 → utf-8; else CP949 (a superset of EUC-KR).
    A file mixing encodings is decoded line by line, and lines that are neither are marked bad rather than
    failing the whole file.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data, bom = data[3:], True
    else:
        bom = False
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16", set()
    try:
        return data.decode("utf-8"), "utf-8-sig" if bom else "utf-8", set()
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp949"), "cp949", set()
    except UnicodeDecodeError:
        pass
    lines, bad = [], set()
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        for encoding in ("utf-8", "cp949"):
            try:
                lines.append(raw.decode(encoding))
                break
            except UnicodeDecodeError:
                continue
        else:
            lines.append(raw.decode("utf-8", errors="replace"))
            bad.add(number)
    return "".join(lines), "mixed", bad


def _split_tags(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for part in re.split(r"[,;|/#]", unicodedata.normalize("NFKC", text or "")):
        if part.strip():
            seen.setdefault(part.strip(), None)
    return tuple(seen)


def _merge(first: Contact, other: Contact) -> Contact:
    tags = tuple(dict.fromkeys(first.tags + other.tags))
    notes = first.notes
    if other.notes and other.notes not in notes:
        notes = f"{notes}\n{other.notes}" if notes else other.notes
    return replace(
        first,
        tags=tags,
        preferred_times=merge_windows(first.preferred_times + other.preferred_times),
        notes=notes,
        rows=first.rows + other.rows,
        extra={**other.extra, **first.extra},
    )


def normalize_do_not_call(numbers: Iterable[str]) -> set[str]:
    """E.164 forms of a do-not-call list; entries that are not phone numbers are ignored."""
    out: set[str] = set()
    for raw in numbers:
        try:
            out.add(parse_phone(raw).e164)
        except PhoneError:
            continue
    return out


def load_do_not_call(path: str | Path) -> set[str]:
    """A do-not-call file: one number per line, or a CSV whose phone column is found by its header."""
    text, _, _ = decode_csv_bytes(Path(path).read_bytes())
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return set()
    header = [_ALIAS_INDEX.get(_norm_header(h)) for h in rows[0]]
    if "phone" in header:
        col = header.index("phone")
        return normalize_do_not_call(r[col] for r in rows[1:] if len(r) > col)
    return normalize_do_not_call(cell for r in rows for cell in r[:1])


def import_contacts(
    source: str | Path | bytes, do_not_call: Iterable[str] = (), *, text: str | None = None
) -> ImportResult:
    """Read a contact CSV from a path or bytes (or already decoded ``text=``); see the module docstring.
    :class:`CsvFormatError` when the file as a whole cannot be read (nothing is imported then)."""
    try:
        return _import(source, do_not_call, text)
    except csv.Error as exc:  # e.g. a cell longer than the csv module's field limit (128 KiB)
        raise CsvFormatError(
            f"the CSV cannot be read ({exc}); check the file's quotes and cell lengths"
        ) from exc


def _import(source: str | Path | bytes, do_not_call: Iterable[str], text: str | None) -> ImportResult:
    if text is not None:
        encoding, bad_lines = "text", set()
    else:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        text, encoding, bad_lines = decode_csv_bytes(data)
    result = ImportResult(encoding=encoding)
    blocked = normalize_do_not_call(do_not_call)

    sample = text[:4096]
    first_line = sample.splitlines()[0] if sample.strip() else ""
    delimiter = max((",", "\t", ";"), key=first_line.count) if first_line else ","
    # newline=None: rows may end in CR alone (old Mac spreadsheets), CRLF or LF.
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    header: list[str] | None = None
    row_number = 0  # spreadsheet row of each record (blank leading rows count, as in Excel)
    for cells in reader:
        row_number += 1
        if any(c.strip() for c in cells):
            header = cells
            break
    if header is None:
        raise CsvFormatError("the file is empty: no header row with name and phone columns")
    header_row = reader.line_num
    columns: dict[str, int] = {}
    extras: dict[int, str] = {}
    for index, title in enumerate(header):
        canonical = _ALIAS_INDEX.get(_norm_header(title))
        if canonical and canonical not in columns:
            columns[canonical] = index
            result.columns[canonical] = title.strip()
        elif title.strip():
            extras[index] = title.strip()
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise CsvFormatError(
            f"missing column(s) {', '.join(missing)}; the header row has {[h.strip() for h in header]} "
            "(use 이름/전화번호 or name/phone)"
        )

    by_phone: dict[str, int] = {}
    previous_line = header_row
    for cells in reader:
        row_number += 1
        lines = set(range(previous_line + 1, reader.line_num + 1))
        previous_line = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank rows that spreadsheets leave at the end

        def cell(column: str, cells: list[str] = cells) -> str:
            index = columns.get(column)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        phone_text = cell("phone")
        masked = ""
        if lines & bad_lines:
            result.rejected.append(
                RowIssue(row_number, "encoding", "row has bytes that are neither UTF-8 nor CP949/EUC-KR")
            )
            continue
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            result.rejected.append(
                RowIssue(
                    row_number,
                    "too_many_fields",
                    f"row has {len(cells)} fields but the header has {len(header)}; "
                    "quote values that contain commas",
                )
            )
            continue
        try:
            phone = parse_phone(phone_text)
        except PhoneError as exc:
            masked = mask_phone(phone_text) if phone_text else ""
            result.rejected.append(RowIssue(row_number, "invalid_phone", f"phone: {exc.reason}", masked))
            continue
        masked = phone.masked
        name = unicodedata.normalize("NFC", cell("name"))
        if not name:
            result.rejected.append(RowIssue(row_number, "missing_name", "name is empty", masked))
            continue
        if len(name) > MAX_NAME_LEN:
            result.rejected.append(
                RowIssue(row_number, "bad_name", f"name is longer than {MAX_NAME_LEN} characters", masked)
            )
            continue
        if phone.e164 in blocked or _norm_header(cell("opt_out")) in _TRUE_WORDS:
            result.rejected.append(
                RowIssue(row_number, "do_not_call", "number is on the do-not-call (opt-out) list", masked)
            )
            continue
        try:
            windows = parse_windows(cell("preferred_times"))
        except WindowError as exc:
            windows = ()
            result.warnings.append(
                RowIssue(row_number, "bad_preferred_times", f"preferred times ignored: {exc}", masked)
            )
        notes = cell("notes")
        if len(notes) > MAX_NOTES_LEN:
            notes = notes[:MAX_NOTES_LEN]
            result.warnings.append(
                RowIssue(row_number, "notes_truncated", f"notes cut to {MAX_NOTES_LEN} characters", masked)
            )
        contact = Contact(
            name=name,
            phone=phone,
            tags=_split_tags(cell("tags")),
            preferred_times=windows,
            notes=notes,
            rows=(row_number,),
            extra={
                title: cells[i].strip() for i, title in extras.items() if i < len(cells) and cells[i].strip()
            },
        )
        if phone.e164 in by_phone:
            index = by_phone[phone.e164]
            first = result.contacts[index]
            result.contacts[index] = _merge(first, contact)
            reason = f"same number as row {first.rows[0]}; merged into it"
            if first.name != name:
                reason += " (names differ; the first name is kept)"
            result.warnings.append(RowIssue(row_number, "duplicate_merged", reason, masked))
            continue
        by_phone[phone.e164] = len(result.contacts)
        result.contacts.append(contact)
    return result
