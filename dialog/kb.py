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
_OPTIONAL = ("lang", "keywords", "requires_staff", "slots")
_TOP_LEVEL = ("version", "sample", "description", "synonyms", "lexicon", "slot_values", "entries")


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

    def render(self, values: Mapping[str, SlotValue] | None = None) -> str:
        """The answer text, with slot placeholders filled from ``values`` when the entry has slots."""
        if not self.slots:
            return self.answer
        values = values or {}
        params: dict[str, str] = {}
        for spec in self.slots:
            value = values[spec.name]
            params[spec.name] = value.name
            params.update(value.fields)
        return self.answer.format(**params)


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
    updated = raw["updated"]
    if isinstance(updated, str):
        try:
            updated = dt.date.fromisoformat(updated)
        except ValueError:
            raise fail("updated", f"must be a date like 2024-05-01, got {updated!r}") from None
    if isinstance(updated, dt.datetime):
        updated = updated.date()
    if not isinstance(updated, dt.date):
        raise fail("updated", f"must be a date like 2024-05-01, got {updated!r}")
    lang = raw.get("lang", "ko")
    if lang not in LANGUAGES:
        raise fail("lang", f"must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    requires_staff = raw.get("requires_staff", False)
    if not isinstance(requires_staff, bool):
        raise fail("requires_staff", "must be true or false")

    slots = _parse_slots(raw.get("slots"), fail, slot_values)
    answer = raw["answer"].strip()
    if slots:
        allowed = {s.name for s in slots}
        for spec in slots:
            values = slot_values[spec.name]
            allowed |= set.intersection(*(set(v.fields) for v in values)) if values else set()
        for _, name, _, _ in string.Formatter().parse(answer):
            if name is not None and name not in allowed:
                raise fail("answer", f"placeholder {{{name}}} is not a slot or a field of every slot value")
    elif "{" in answer or "}" in answer:
        raise fail("answer", "braces are only allowed in entries with slots")

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
    )


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
