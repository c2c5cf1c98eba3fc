"""The centre's consultation DB (표준상담DB) from a CSV or XLSX file, as knowledge-base entries (issue 19).

One entry per row, Korean or English headers (see :data:`COLUMNS`); CSV in UTF-8 (with or without BOM),
CP949/EUC-KR or UTF-16 (``outbound.contacts.decode_csv_bytes``), XLSX through openpyxl (the first sheet).
Questions are separated by line breaks, ``;`` or ``|``; keywords also by commas. A row with any problem is
reported (row number as the spreadsheet shows it, the column's header, a Korean message) and nothing of it
is imported; every good row is. Without an id column (or with the centre's own codes such as ``A-0012``),
ids are made from the category and the code or the row number.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dialog.kb import CATEGORIES, KBError, KnowledgeBase, is_entry_id, parse_entry
from outbound.contacts import decode_csv_bytes

MAX_ROWS = 20_000

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "항목id", "항목번호", "관리번호", "코드", "번호"),
    "category": ("category", "분야", "분류", "카테고리", "상담분야"),
    "title": ("title", "제목", "항목명", "상담제목", "주제"),
    "questions": ("questions", "question", "질문", "질문예시", "예상질문", "질문문구", "질문들"),
    "answer": ("answer", "답변", "음성답변", "답변음성", "전화답변", "voiceanswer"),
    "chat_answer": ("chatanswer", "채팅답변", "문자답변", "텍스트답변", "채팅용답변"),
    "source": ("source", "출처", "담당부서", "부서", "소관부서"),
    "updated": ("updated", "수정일", "갱신일", "최종수정일", "작성일"),
    "keywords": ("keywords", "keyword", "키워드", "핵심어"),
    "requires_staff": ("requiresstaff", "상담사연결", "상담원연결", "직원연결"),
    "valid_from": ("validfrom", "시작일", "안내시작일", "적용시작일", "게시시작일"),
    "valid_until": ("validuntil", "종료일", "안내종료일", "적용종료일", "게시종료일"),
    "lang": ("lang", "language", "언어"),
    "programme": ("programme", "program", "사업명", "제도명", "사업"),
}
REQUIRED = ("category", "title", "questions", "answer", "source")
COLUMN_KO = {
    "id": "항목 ID",
    "category": "분야",
    "title": "제목",
    "questions": "질문",
    "answer": "답변",
    "chat_answer": "채팅 답변",
    "source": "출처",
    "updated": "수정일",
    "keywords": "키워드",
    "requires_staff": "상담사 연결",
    "valid_from": "시작일",
    "valid_until": "종료일",
    "lang": "언어",
    "programme": "사업명",
}
CATEGORY_NAMES: dict[str, str] = {
    **{c: c for c in CATEGORIES},
    "코로나": "covid",
    "코로나19": "covid",
    "교통": "transport",
    "상수도": "water",
    "수도": "water",
    "일반": "general",
    "일반행정": "general",
    "행정": "general",
    "전화안내": "directory",
    "전화번호안내": "directory",
    "외국어": "foreign",
}
_TRUE = {"y", "yes", "true", "1", "o", "예", "네", "필요", "연결"}
_FALSE = {"", "n", "no", "false", "0", "x", "아니오", "아니요", "불필요"}
_QUESTION_SPLIT = re.compile(r"[\n;|]+")
_KEYWORD_SPLIT = re.compile(r"[\n;|,]+")
_DATE = re.compile(r"^(\d{4})[-./](\d{1,2})[-./](\d{1,2})\.?$")


class KBImportError(ValueError):
    """The file as a whole cannot be read (not CSV/XLSX, no header, required columns missing)."""


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str  # the header as written in the file ("" for the row as a whole)
    message: str  # Korean

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportedRows:
    entries: list[dict[str, Any]] = field(default_factory=list)  # entry mappings (dialog/kb.py's format)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    format: str = "csv"  # csv (with its encoding) or xlsx


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-./()]", "", unicodedata.normalize("NFKC", str(text or "")).strip().lower())


_ALIASES = {_norm(a): column for column, aliases in COLUMNS.items() for a in aliases}


def _csv_rows(data: bytes) -> tuple[Iterator[list[Any]], str]:
    text, encoding, _bad = decode_csv_bytes(data)
    first = text[:4096].splitlines()[0] if text.strip() else ""
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    return csv.reader(io.StringIO(text, newline=None), delimiter=delimiter), f"csv ({encoding})"


def _xlsx_rows(data: bytes) -> tuple[Iterator[list[Any]], str]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - zipfile, XML and openpyxl errors alike: not a workbook
        raise KBImportError(f"엑셀(XLSX) 파일을 열 수 없습니다 ({type(exc).__name__})") from exc
    sheet = book.worksheets[0]
    return (list(row) for row in sheet.iter_rows(values_only=True)), "xlsx"


def read_rows(data: bytes, kb: KnowledgeBase | None = None, today: date | None = None) -> ImportedRows:
    """Entries from a CSV or XLSX file (told apart by content); ``kb`` validates slots (none imported)."""
    if data.startswith(b"PK\x03\x04"):
        rows, kind = _xlsx_rows(data)
    else:
        rows, kind = _csv_rows(data)
    result = ImportedRows(format=kind)
    header: list[Any] | None = None
    number = 0
    for cells in rows:
        number += 1
        if any(_text(c) for c in cells):
            header = list(cells)
            break
    if header is None:
        raise KBImportError("빈 파일입니다: 첫 줄에 제목 행(분야, 제목, 질문, 답변, 출처)이 필요합니다")
    columns: dict[str, int] = {}
    titles: dict[str, str] = {}
    for index, title in enumerate(header):
        column = _ALIASES.get(_norm(_text(title)))
        if column and column not in columns:
            columns[column] = index
            titles[column] = _text(title)
    missing = [COLUMN_KO[c] for c in REQUIRED if c not in columns]
    if missing:
        raise KBImportError(
            f"필수 열이 없습니다: {', '.join(missing)} (제목 행: {', '.join(_text(h) for h in header if _text(h))})"
        )
    seen: dict[str, int] = {}
    for cells in rows:
        number += 1
        cells = list(cells)
        if not any(_text(c) for c in cells):
            continue
        result.rows += 1
        if result.rows > MAX_ROWS:
            raise KBImportError(f"행이 너무 많습니다 (최대 {MAX_ROWS:,}행)")
        values = {c: cells[i] if i < len(cells) else None for c, i in columns.items()}
        entry, errors = _row_entry(values, number, titles, kb, today)
        if entry is not None and entry["id"] in seen:
            errors.append(
                RowError(
                    number, titles.get("id", ""), f"항목 ID {entry['id']}가 {seen[entry['id']]}행과 겹칩니다"
                )
            )
        if errors:
            result.errors.extend(errors)
            continue
        assert entry is not None
        seen[entry["id"]] = number
        result.entries.append(entry)
    return result


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _row_entry(
    values: dict[str, Any], row: int, titles: dict[str, str], kb: KnowledgeBase | None, today: date | None
) -> tuple[dict[str, Any] | None, list[RowError]]:
    errors: list[RowError] = []

    def error(column: str, message: str) -> None:
        errors.append(RowError(row, titles.get(column, COLUMN_KO[column]), message))

    raw: dict[str, Any] = {}
    for column in ("title", "answer", "source"):
        text = _text(values.get(column))
        if not text:
            error(column, f"{COLUMN_KO[column]}이(가) 비어 있습니다")
        raw[column] = text
    category_text = _text(values.get("category"))
    category = CATEGORY_NAMES.get(_norm(category_text))
    if category is None:
        names = "코로나19, 교통, 상수도, 일반 행정, 전화 안내, 외국어"
        error(
            "category",
            f"분야 '{category_text}'을(를) 알 수 없습니다 ({names} 중 하나)"
            if category_text
            else "분야가 비어 있습니다",
        )
    raw["category"] = category
    questions = [q.strip() for q in _QUESTION_SPLIT.split(_text(values.get("questions"))) if q.strip()]
    if len(questions) < 2:
        error("questions", "질문 예시가 두 개 이상 필요합니다 (줄바꿈이나 ; 로 나눠 주세요)")
    raw["questions"] = questions
    chat = _text(values.get("chat_answer"))
    if chat:
        raw["chat_answer"] = chat
    keywords = [k.strip() for k in _KEYWORD_SPLIT.split(_text(values.get("keywords"))) if k.strip()]
    if keywords:
        raw["keywords"] = keywords
    programme = [k.strip() for k in _KEYWORD_SPLIT.split(_text(values.get("programme"))) if k.strip()]
    if programme:
        raw["programme"] = programme
    flag = _norm(_text(values.get("requires_staff")))
    if flag in _TRUE:
        raw["requires_staff"] = True
    elif flag not in _FALSE:
        error("requires_staff", "상담사 연결은 예/아니오(Y/N)로 적어 주세요")
    lang = _text(values.get("lang")).lower() or "ko"
    if lang in ("한국어", "ko"):
        lang = "ko"
    elif lang in ("영어", "en"):
        lang = "en"
    else:
        error("lang", "언어는 ko(한국어) 또는 en(영어)이어야 합니다")
    if lang != "ko":
        raw["lang"] = lang
    for column in ("updated", "valid_from", "valid_until"):
        value = values.get(column)
        day = _date(value)
        if day is None and _text(value):
            error(column, f"{COLUMN_KO[column]}은(는) 2026-12-01 같은 날짜여야 합니다")
        elif day is not None:
            raw[column] = day.isoformat()
    raw.setdefault("updated", (today or date.today()).isoformat())
    if raw.get("valid_from") and raw.get("valid_until") and raw["valid_until"] < raw["valid_from"]:
        error("valid_until", "종료일이 시작일보다 빠릅니다")
    raw["id"] = _entry_id(_text(values.get("id")), category or "general", row)
    if errors:
        return None, errors
    ordered = {"id": raw.pop("id"), **raw}
    try:
        parse_entry(ordered, kb, source=f"row {row}")
    except KBError as exc:
        name = re.search(r"field '(\w+)'", str(exc))
        column = name.group(1) if name and name.group(1) in COLUMN_KO else "id"
        return None, [
            RowError(row, titles.get(column, COLUMN_KO[column]), f"항목이 올바르지 않습니다: {exc}")
        ]
    return ordered, []


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(_text(value))
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _entry_id(given: str, category: str, row: int) -> str:
    """The file's id when it is one already (``transport.lost_bus``); else one made from the centre's code
    (``A-0012`` -> ``general.kb_a_0012``) or from the row number."""
    if given and is_entry_id(given) and given.startswith(category + "."):
        return given
    slug = re.sub(r"[^a-z0-9]+", "_", given.lower()).strip("_")
    return f"{category}.kb_{slug or f'row{row}'}"
