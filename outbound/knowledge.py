"""The knowledge base's lifecycle for staff (issue 19): drafts, entry edits, review, publish, diff.

Versions are rows of :class:`outbound.kb_versions.KBVersion` holding the whole knowledge base as YAML
(``dialog/kb.py``'s format, validated by ``dialog.kb.parse_kb`` on every change, so a stored version
always loads). The states::

    draft --submit--> review --publish (admin, evaluation gate)--> published --(next publish)--> archived
      ^                 |                                                                        |
      +----reopen-------+                        rollback (admin): an archived version published again

Operators make drafts (from the published version or any other), edit, add and delete entries and submit
them; admins publish. Publishing itself, with the evaluation gate and the reload of the running dialog
engine, is the server's (``voicebot.server.knowledge``): this module only moves the rows.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialog.kb import KBError, KnowledgeBase, default_kb_path, entry_to_data, parse_kb
from outbound.kb_import import ImportedRows, KBImportError, read_rows
from outbound.kb_versions import KBVersion
from outbound.service import Conflict, Invalid, NotFound

SEOUL = ZoneInfo("Asia/Seoul")
SYSTEM_AUTHOR = "system"
# Fields an entry's editor may set; "slots" stays as the entry had it (slot values are a developer's).
EDITABLE = (
    "id",
    "category",
    "title",
    "questions",
    "answer",
    "chat_answer",
    "source",
    "updated",
    "lang",
    "keywords",
    "requires_staff",
    "valid_from",
    "valid_until",
    "programme",
)


def seoul_today(now: datetime) -> date:
    return now.astimezone(SEOUL).date()


# --- reading ------------------------------------------------------------------------------------------


def document_data(document: str, source: str = "<kb>") -> dict[str, Any]:
    data = yaml.safe_load(document)
    if not isinstance(data, dict):
        raise Invalid(f"지식 문서의 형식이 올바르지 않습니다 ({source})")
    return data


def load_version(version: KBVersion) -> KnowledgeBase:
    """The version's knowledge base (stored versions were validated when written)."""
    source = f"kb-version-{version.id}"
    return parse_kb(document_data(version.document, source), source=source)


def get_version(session: Session, version_id: int) -> KBVersion:
    version = session.get(KBVersion, version_id)
    if version is None:
        raise NotFound(f"지식 버전 {version_id}을(를) 찾을 수 없습니다 (no such knowledge base version)")
    return version


def published(session: Session) -> KBVersion | None:
    return session.scalar(select(KBVersion).where(KBVersion.state == "published"))


def list_versions(session: Session, limit: int = 100) -> list[KBVersion]:
    return list(session.scalars(select(KBVersion).order_by(KBVersion.id.desc()).limit(limit)))


def ensure_initial(session: Session, now: datetime, path: Path | None = None) -> KBVersion | None:
    """The shipped knowledge base (or ``path``) as version 1, published, when no version exists yet;
    None when there are versions already."""
    if session.scalar(select(func.count()).select_from(KBVersion)):
        return None
    path = path or default_kb_path()
    document = path.read_text(encoding="utf-8")
    kb = parse_kb(yaml.safe_load(document), source=str(path))
    version = KBVersion(
        state="published",
        document=document,
        entries=len(kb),
        author=SYSTEM_AUTHOR,
        note=f"기본 제공 지식 ({path.name})",
        created_at=now,
        updated_at=now,
        published_by=SYSTEM_AUTHOR,
        published_at=now,
    )
    session.add(version)
    session.flush()
    return version


def version_dict(version: KBVersion) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": version.id,
        "state": version.state,
        "entries": version.entries,
        "based_on": version.based_on,
        "author": version.author,
        "note": version.note,
        "created_at": iso(version.created_at),
        "updated_at": iso(version.updated_at),
        "submitted_by": version.submitted_by,
        "submitted_at": iso(version.submitted_at),
        "published_by": version.published_by,
        "published_at": iso(version.published_at),
        "evaluation": version.evaluation,
    }


def entries_of(kb: KnowledgeBase, today: date) -> list[dict[str, Any]]:
    """The entries as the editor shows them, each with whether it is answered today (seasonal dates)."""
    return [{**entry_to_data(e), "active": e.active_on(today)} for e in kb.entries]


# --- drafts -------------------------------------------------------------------------------------------


def create_draft(
    session: Session, author: str, now: datetime, based_on: int | None = None, note: str = ""
) -> KBVersion:
    """A draft copy of version ``based_on`` (default: the published one)."""
    source = get_version(session, based_on) if based_on is not None else published(session)
    if source is None:
        raise Conflict("게시된 지식 버전이 없습니다 (no published version to start from)")
    draft = KBVersion(
        state="draft",
        document=source.document,
        entries=source.entries,
        based_on=source.id,
        author=author,
        note=note,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def _editable(session: Session, version_id: int) -> KBVersion:
    version = get_version(session, version_id)
    if version.state != "draft":
        raise Conflict(
            f"초안 상태의 버전만 고칠 수 있습니다 (version {version_id} is {version.state}; make a draft)"
        )
    return version


def _korean(exc: KBError) -> str:
    return f"지식 항목이 올바르지 않습니다: {exc} (invalid knowledge base entry)"


def write_document(version: KBVersion, data: dict[str, Any], now: datetime) -> KnowledgeBase:
    """Validate ``data`` as a whole knowledge base and store it in ``version`` (422 when it is not valid)."""
    try:
        kb = parse_kb(data, source=f"kb-version-{version.id}")
    except KBError as exc:
        raise Invalid(_korean(exc)) from exc
    data = {**data, "entries": [entry_to_data(e) for e in kb.entries]}
    version.document = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    version.entries = len(kb)
    version.updated_at = now
    return kb


def save_entry(
    session: Session, version_id: int, entry_id: str | None, fields: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Add (``entry_id`` None) or replace the entry ``entry_id`` of a draft with ``fields`` (EDITABLE keys;
    None or empty optional values are dropped; ``updated`` defaults to today). A renamed entry keeps its
    place; its slots, if any, are kept."""
    version = _editable(session, version_id)
    data = document_data(version.document)
    entries: list[dict[str, Any]] = list(data.get("entries") or [])
    ids = [raw.get("id") if isinstance(raw, dict) else None for raw in entries]
    raw = {k: v for k, v in fields.items() if k in EDITABLE and v not in (None, "", [])}
    raw.setdefault("updated", seoul_today(now).isoformat())
    for key in ("updated", "valid_from", "valid_until"):
        if isinstance(raw.get(key), date):
            raw[key] = raw[key].isoformat()
    new_id = raw.get("id")
    if entry_id is None:
        if new_id in ids:
            raise Conflict(f"이미 있는 항목 ID입니다: {new_id} (entry id exists)")
        entries.append(raw)
    else:
        if entry_id not in ids:
            raise NotFound(f"항목 {entry_id}이(가) 이 버전에 없습니다 (no such entry)")
        at = ids.index(entry_id)
        if new_id != entry_id and new_id in ids:
            raise Conflict(f"이미 있는 항목 ID입니다: {new_id} (entry id exists)")
        old = entries[at]
        if isinstance(old, dict) and old.get("slots"):
            raw["slots"] = old["slots"]
        entries[at] = raw
    data["entries"] = entries
    kb = write_document(version, data, now)
    return {**entry_to_data(kb.get(new_id)), "active": kb.get(new_id).active_on(seoul_today(now))}


def delete_entry(session: Session, version_id: int, entry_id: str, now: datetime) -> None:
    version = _editable(session, version_id)
    data = document_data(version.document)
    entries = [
        raw for raw in data.get("entries") or [] if not (isinstance(raw, dict) and raw.get("id") == entry_id)
    ]
    if len(entries) == len(data.get("entries") or []):
        raise NotFound(f"항목 {entry_id}이(가) 이 버전에 없습니다 (no such entry)")
    if not entries:
        raise Conflict("마지막 항목은 지울 수 없습니다 (a knowledge base needs at least one entry)")
    data["entries"] = entries
    write_document(version, data, now)


def submit(session: Session, version_id: int, who: str, now: datetime) -> KBVersion:
    version = _editable(session, version_id)
    version.state = "review"
    version.submitted_by = who
    version.submitted_at = now
    version.updated_at = now
    return version


def reopen(session: Session, version_id: int, now: datetime) -> KBVersion:
    """A version under review goes back to draft (for changes asked by the reviewer)."""
    version = get_version(session, version_id)
    if version.state != "review":
        raise Conflict(
            f"검토 중인 버전만 초안으로 되돌릴 수 있습니다 (version {version_id} is {version.state})"
        )
    version.state = "draft"
    version.updated_at = now
    return version


def check_publishable(version: KBVersion, rollback: bool) -> None:
    if rollback and version.state != "archived":
        raise Conflict(
            f"이전에 게시했던(보관된) 버전만 되돌려 게시할 수 있습니다 (version {version.id} is {version.state})"
        )
    if not rollback and version.state != "review":
        raise Conflict(
            f"검토 중인 버전만 게시할 수 있습니다 (version {version.id} is {version.state}; submit it)"
        )


def mark_published(
    session: Session,
    version_id: int,
    who: str,
    now: datetime,
    evaluation: dict[str, Any] | None,
    rollback: bool,
) -> KBVersion:
    """``version_id`` becomes the published version; the one before it is archived."""
    version = get_version(session, version_id)
    check_publishable(version, rollback)
    current = published(session)
    if current is not None:
        current.state = "archived"
        session.flush()  # the partial unique index: one published version at a time
    version.state = "published"
    version.published_by = who
    version.published_at = now
    version.updated_at = now
    version.evaluation = evaluation
    session.flush()
    return version


def import_file(
    session: Session, data: bytes, author: str, now: datetime, replace: bool = False, note: str = ""
) -> tuple[KBVersion | None, ImportedRows, dict[str, int]]:
    """A new draft from the published version with the file's good rows (``outbound.kb_import``): an entry
    with the same id is replaced, a new one added; with ``replace`` the draft holds the file's entries only.
    No draft (None) when no row is good; the bad rows are in the ImportedRows either way."""
    current = published(session)
    if current is None:
        raise Conflict("게시된 지식 버전이 없습니다 (no published version to start from)")
    try:
        rows = read_rows(data, load_version(current), seoul_today(now))
    except KBImportError as exc:
        raise Invalid(f"{exc} (cannot read the file)") from exc
    counts = {
        "rows": rows.rows,
        "imported": len(rows.entries),
        "rejected_rows": len({e.row for e in rows.errors}),
    }
    if not rows.entries:
        return None, rows, counts
    draft = create_draft(session, author, now, note=note or "파일 가져오기")
    data_ = document_data(draft.document)
    old = [raw for raw in data_.get("entries") or [] if isinstance(raw, dict)]
    by_id = {raw.get("id"): i for i, raw in enumerate(old)}
    if replace:
        entries = list(rows.entries)
        counts["removed"] = len([i for i in by_id if i not in {e["id"] for e in rows.entries}])
    else:
        entries = list(old)
        for entry in rows.entries:
            if entry["id"] in by_id:
                entries[by_id[entry["id"]]] = entry
            else:
                entries.append(entry)
    counts["replaced"] = sum(1 for e in rows.entries if e["id"] in by_id)
    counts["added"] = len(rows.entries) - counts["replaced"]
    data_["entries"] = entries
    write_document(draft, data_, now)
    return draft, rows, counts


# --- differences --------------------------------------------------------------------------------------


def diff(old: KnowledgeBase, new: KnowledgeBase) -> dict[str, Any]:
    """Entries added, removed and changed (field by field, before and after) from ``old`` to ``new``,
    and whether the shared word lists (synonyms, lexicon, slot values) changed."""
    before = {e.id: entry_to_data(e) for e in old.entries}
    after = {e.id: entry_to_data(e) for e in new.entries}
    changed = []
    for entry_id in after:
        if entry_id not in before or before[entry_id] == after[entry_id]:
            continue
        a, b = before[entry_id], after[entry_id]
        fields = {
            name: {"before": a.get(name), "after": b.get(name)}
            for name in dict.fromkeys([*a, *b])
            if a.get(name) != b.get(name)
        }
        changed.append({"id": entry_id, "title": b["title"], "fields": fields})
    return {
        "added": [{"id": i, "title": after[i]["title"], "entry": after[i]} for i in after if i not in before],
        "removed": [
            {"id": i, "title": before[i]["title"], "entry": before[i]} for i in before if i not in after
        ],
        "changed": changed,
        "synonyms_changed": old.synonyms != new.synonyms,
        "lexicon_changed": old.lexicon != new.lexicon,
        "slot_values_changed": dict(old.slot_values) != dict(new.slot_values),
    }
