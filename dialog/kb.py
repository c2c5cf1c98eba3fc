"""Knowledge base: the YAML format, its validation and the immutable in-memory form.

File layout (see ``dialog/data/kb_ko.yaml`` for a full sample)::

    version: 1
    synonyms:            # optional; morpheme forms that mean the same thing, canonical first
      - [분실, 분실물, 잃어버리]
    lexicon: [따릉이]     # optional; domain words the morphological analyser must keep whole
    slot_values:         # optional; values a slot can take, each with aliases and answer fields
      district:
        강남구: {aliases: [강남], office: "02-3423-5114"}
    entries:
      - id: transport.lost_bus          # "<category>.<name>", unique
        category: transport             # covid | transport | water | general | directory | foreign
        title: 버스 분실물               # short spoken label, used in clarifying questions
        questions: [버스에 두고 내렸어요, ...]   # at least 2 example phrasings
        answer: 버스에 두고 내리신 물건은 ...    # spoken Korean (English for lang: en)
        source: 서울시 교통정책과
        updated: 2024-05-01
        lang: ko                         # optional, ko (default) or en
        keywords: [분실물, 버스]          # optional
        requires_staff: false            # optional; true hands the caller to an agent
        slots:                           # optional; the answer uses {slot} and value fields
          district: {prompt: 어느 구청을 찾으세요?}
        chat_answer: ...                 # optional; the answer for text channels (chat, KakaoTalk)
        valid_from: 2026-12-01           # optional; seasonal answers: not answered before this day ...
        valid_until: 2027-02-28          # ... nor after this one (both inclusive, Seoul dates)
        programme: [기초연금, 노령연금]    # optional; an answer about a named programme is given only when
                                         # the question names it (spacing ignored); otherwise the bot asks

``kb_to_data`` turns a ``KnowledgeBase`` back into the same layout (the staff console edits entries as
such mappings, ``dialog.evaluate`` and the server build engines from them).
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

CATEGORIES: tuple[str, ...] = ("covid", "transport", "water", "general", "directory", "foreign")
LANGUAGES: tuple[str, ...] = ("ko", "en")

_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")
_REQUIRED = ("id", "category", "title", "questions", "answer", "source", "updated")
_OPTIONAL = (
    "lang",
    "keywords",
    "requires_staff",
    "slots",
    "chat_answer",
    "valid_from",
    "valid_until",
    "programme",
)
_TOP_LEVEL = ("version", "sample", "description", "synonyms", "lexicon", "slot_values", "entries")


def is_entry_id(text: str) -> bool:
    """Whether ``text`` is a valid entry id ("<category>.<name>", lower case ASCII)."""
    return bool(_ID_PATTERN.match(text))


class KBError(ValueError):
    """A knowledge base file that cannot be used; the message names the entry and field."""


@dataclass(frozen=True)
class SlotValue:
    """One value a slot can take (e.g. the district 강남구) with its aliases and answer fields."""

    name: str
    aliases: tuple[str, ...]
    fields: Mapping[str, str]


@dataclass(frozen=True)
class SlotSpec:
    name: str
    prompt: str


@dataclass(frozen=True)
class KBEntry:
    id: str
    category: str
    title: str
    questions: tuple[str, ...]
    answer: str
    source: str
    updated: dt.date
    lang: str = "ko"
    keywords: tuple[str, ...] = ()
    requires_staff: bool = False
    slots: tuple[SlotSpec, ...] = ()
    chat_answer: str | None = None  # text channels; the spoken answer when None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    programme: tuple[str, ...] = ()  # the named programme the answer is about (name and aliases)

    def render(self, values: Mapping[str, SlotValue] | None = None, chat: bool = False) -> str:
        """The answer text (``chat``: the text channels' one when the entry has it), with slot
        placeholders filled from ``values`` when the entry has slots."""
        text = self.chat_answer if chat and self.chat_answer else self.answer
        if not self.slots:
            return text
        values = values or {}
        params: dict[str, str] = {}
        for spec in self.slots:
            value = values[spec.name]
            params[spec.name] = value.name
            params.update(value.fields)
        return text.format(**params)

    def active_on(self, day: dt.date) -> bool:
        """Whether the entry may be answered on ``day`` (a seasonal answer outside its dates is not)."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[KBEntry, ...]
    synonyms: tuple[tuple[str, ...], ...] = ()
    lexicon: tuple[str, ...] = ()
    slot_values: Mapping[str, tuple[SlotValue, ...]] = field(default_factory=lambda: MappingProxyType({}))
    source: str = "<memory>"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", MappingProxyType({e.id: e for e in self.entries}))

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[KBEntry]:
        return iter(self.entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id  # type: ignore[attr-defined]

    def get(self, entry_id: str) -> KBEntry:
        return self._by_id[entry_id]  # type: ignore[attr-defined]

    def categories(self) -> set[str]:
        return {e.category for e in self.entries}


def default_kb_path() -> Path:
    return Path(str(resources.files("dialog") / "data" / "kb_ko.yaml"))


def load_kb(path: str | Path | None = None) -> KnowledgeBase:
    """Read and validate a knowledge base file (the packaged sample when ``path`` is None)."""
    path = Path(path) if path is not None else default_kb_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KBError(f"{path}: cannot read knowledge base ({exc.strerror or exc})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KBError(f"{path}: not valid YAML ({exc})") from exc
    return parse_kb(data, source=str(path))


def parse_kb(data: Any, source: str = "<memory>") -> KnowledgeBase:
    """Validate already-parsed YAML data and build a ``KnowledgeBase``."""
    if not isinstance(data, dict):
        raise KBError(f"{source}: the top level must be a mapping with an 'entries' list")
    unknown = sorted(set(data) - set(_TOP_LEVEL))
    if unknown:
        raise KBError(f"{source}: unknown top-level field(s) {', '.join(map(repr, unknown))}")
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise KBError(f"{source}: field 'entries' must be a non-empty list")

    synonyms = _parse_synonyms(data.get("synonyms", []), source)
    lexicon = _string_list(data.get("lexicon", []), f"{source}: field 'lexicon'", min_items=0)
    slot_values = _parse_slot_values(data.get("slot_values", {}), source)

    entries: list[KBEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_entries, start=1):
        entry = _parse_entry(raw, index, source, slot_values)
        if entry.id in seen:
            raise KBError(f"{source}: entry #{index} ({entry.id!r}): field 'id': duplicate id")
        seen.add(entry.id)
        entries.append(entry)
    return KnowledgeBase(
        entries=tuple(entries),
        synonyms=synonyms,
        lexicon=tuple(lexicon),
        slot_values=MappingProxyType(slot_values),
        source=source,
    )


def _parse_entry(
    raw: Any, index: int, source: str, slot_values: Mapping[str, tuple[SlotValue, ...]]
) -> KBEntry:
    if not isinstance(raw, dict):
        raise KBError(f"{source}: entry #{index}: must be a mapping of fields")
    label = f"{source}: entry #{index} ({raw.get('id')!r})"

    def fail(name: str, problem: str) -> KBError:
        return KBError(f"{label}: field '{name}': {problem}")

    for name in _REQUIRED:
        if name not in raw or raw[name] is None:
            raise fail(name, "missing")
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise fail(unknown[0], f"unknown field (allowed: {', '.join(_REQUIRED + _OPTIONAL)})")

    entry_id = raw["id"]
    if not isinstance(entry_id, str) or not _ID_PATTERN.match(entry_id):
        raise fail("id", "must look like 'category.name' (lower case letters, digits, underscores)")
    category = raw["category"]
    if category not in CATEGORIES:
        raise fail("category", f"must be one of {', '.join(CATEGORIES)}, got {category!r}")
    if entry_id.split(".", 1)[0] != category:
        raise fail("id", f"must start with its category '{category}.'")
    for name in ("title", "answer", "source"):
        if not isinstance(raw[name], str) or not raw[name].strip():
            raise fail(name, "must be a non-empty string")
    questions = _string_list(raw["questions"], f"{label}: field 'questions'", min_items=2)
    keywords = _string_list(raw.get("keywords", []), f"{label}: field 'keywords'", min_items=0)
    programme = _string_list(raw.get("programme", []), f"{label}: field 'programme'", min_items=0)
    updated = _date(raw["updated"], "updated", fail)
    valid_from = _date(raw.get("valid_from"), "valid_from", fail)
    valid_until = _date(raw.get("valid_until"), "valid_until", fail)
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        raise fail("valid_until", "must not be before valid_from")
    chat_answer = raw.get("chat_answer")
    if chat_answer is not None and (not isinstance(chat_answer, str) or not chat_answer.strip()):
        raise fail("chat_answer", "must be a non-empty string when given")
    lang = raw.get("lang", "ko")
    if lang not in LANGUAGES:
        raise fail("lang", f"must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    requires_staff = raw.get("requires_staff", False)
    if not isinstance(requires_staff, bool):
        raise fail("requires_staff", "must be true or false")

    slots = _parse_slots(raw.get("slots"), fail, slot_values)
    answer = raw["answer"].strip()
    texts = {"answer": answer} | ({"chat_answer": chat_answer.strip()} if chat_answer else {})
    for name, text in texts.items():
        if slots:
            allowed = {s.name for s in slots}
            for spec in slots:
                values = slot_values[spec.name]
                allowed |= set.intersection(*(set(v.fields) for v in values)) if values else set()
            for _, placeholder, _, _ in string.Formatter().parse(text):
                if placeholder is not None and placeholder not in allowed:
                    raise fail(
                        name, f"placeholder {{{placeholder}}} is not a slot or a field of every slot value"
                    )
        elif "{" in text or "}" in text:
            raise fail(name, "braces are only allowed in entries with slots")

    return KBEntry(
        id=entry_id,
        category=category,
        title=raw["title"].strip(),
        questions=tuple(q.strip() for q in questions),
        answer=" ".join(answer.split()),
        source=raw["source"].strip(),
        updated=updated,
        lang=lang,
        keywords=tuple(k.strip() for k in keywords),
        requires_staff=requires_staff,
        slots=slots,
        chat_answer=chat_answer.strip() if chat_answer else None,
        valid_from=valid_from,
        valid_until=valid_until,
        programme=tuple(name.strip() for name in programme),
    )


def _date(value: Any, name: str, fail: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise fail(name, f"must be a date like 2024-05-01, got {value!r}") from None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise fail(name, f"must be a date like 2024-05-01, got {value!r}")
    return value


def _parse_slots(
    raw: Any, fail: Any, slot_values: Mapping[str, tuple[SlotValue, ...]]
) -> tuple[SlotSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise fail("slots", "must be a mapping of slot name to {prompt: ...}")
    specs = []
    for name, spec in raw.items():
        if name not in slot_values:
            raise fail("slots", f"slot {name!r} has no values under top-level 'slot_values'")
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("prompt"), str)
            or not spec["prompt"].strip()
        ):
            raise fail("slots", f"slot {name!r} needs a non-empty 'prompt'")
        specs.append(SlotSpec(name=name, prompt=spec["prompt"].strip()))
    return tuple(specs)


def _parse_slot_values(raw: Any, source: str) -> dict[str, tuple[SlotValue, ...]]:
    if not isinstance(raw, dict):
        raise KBError(f"{source}: field 'slot_values' must be a mapping of slot name to values")
    result: dict[str, tuple[SlotValue, ...]] = {}
    for slot, values in raw.items():
        where = f"{source}: slot_values '{slot}'"
        if not isinstance(values, dict) or not values:
            raise KBError(f"{where}: must be a non-empty mapping of value name to fields")
        parsed = []
        for name, spec in values.items():
            spec = spec or {}
            if not isinstance(spec, dict):
                raise KBError(f"{where}: value {name!r}: must be a mapping")
            aliases = _string_list(spec.get("aliases", []), f"{where}: value {name!r}: field 'aliases'", 0)
            fields = {k: v for k, v in spec.items() if k != "aliases"}
            for key, val in fields.items():
                if not isinstance(val, str | int):
                    raise KBError(f"{where}: value {name!r}: field {key!r} must be text")
            parsed.append(
                SlotValue(
                    name=str(name),
                    aliases=tuple(aliases),
                    fields=MappingProxyType({k: str(v) for k, v in fields.items()}),
                )
            )
        result[str(slot)] = tuple(parsed)
    return result


def _parse_synonyms(raw: Any, source: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(raw, list):
        raise KBError(f"{source}: field 'synonyms' must be a list of lists of words")
    groups = []
    for i, group in enumerate(raw, start=1):
        groups.append(tuple(_string_list(group, f"{source}: synonyms group #{i}", min_items=2)))
    return tuple(groups)


def _string_list(raw: Any, where: str, min_items: int) -> list[str]:
    need = f"a list of at least {min_items} non-empty strings" if min_items else "a list of non-empty strings"
    if not isinstance(raw, list) or len(raw) < min_items:
        raise KBError(f"{where}: must be {need}")
    for item in raw:
        if not isinstance(item, str) or not item.strip():
            raise KBError(f"{where}: must be {need}, got {item!r}")
    return list(raw)


def parse_entry(raw: Any, kb: KnowledgeBase | None = None, source: str = "<entry>") -> KBEntry:
    """Validate one entry's mapping on its own (its slots against ``kb``'s slot values)."""
    return _parse_entry(raw, 1, source, kb.slot_values if kb is not None else {})


def entry_to_data(entry: KBEntry) -> dict[str, Any]:
    """One entry as the file's mapping (JSON-safe: dates as ISO text); optional fields only when set."""
    data: dict[str, Any] = {
        "id": entry.id,
        "category": entry.category,
        "title": entry.title,
        "questions": list(entry.questions),
        "answer": entry.answer,
        "source": entry.source,
        "updated": entry.updated.isoformat(),
    }
    if entry.chat_answer:
        data["chat_answer"] = entry.chat_answer
    if entry.lang != "ko":
        data["lang"] = entry.lang
    if entry.keywords:
        data["keywords"] = list(entry.keywords)
    if entry.requires_staff:
        data["requires_staff"] = True
    if entry.slots:
        data["slots"] = {s.name: {"prompt": s.prompt} for s in entry.slots}
    if entry.valid_from is not None:
        data["valid_from"] = entry.valid_from.isoformat()
    if entry.valid_until is not None:
        data["valid_until"] = entry.valid_until.isoformat()
    if entry.programme:
        data["programme"] = list(entry.programme)
    return data


def kb_to_data(kb: KnowledgeBase) -> dict[str, Any]:
    """The whole knowledge base as the file's layout; ``parse_kb(kb_to_data(kb))`` gives it back."""
    data: dict[str, Any] = {"version": 1}
    if kb.synonyms:
        data["synonyms"] = [list(group) for group in kb.synonyms]
    if kb.lexicon:
        data["lexicon"] = list(kb.lexicon)
    if kb.slot_values:
        data["slot_values"] = {
            slot: {v.name: {"aliases": list(v.aliases), **dict(v.fields)} for v in values}
            for slot, values in kb.slot_values.items()
        }
    data["entries"] = [entry_to_data(e) for e in kb.entries]
    return data
