"""Handoff records: what an agent needs to pick up a call the bot handed over, kept for every transport.

:func:`file_handoff` is the one way a finished call's handoff is stored, for SIP calls (where the id then
travels in the REFER as ``X-Handoff-Id``) and for browser calls alike; the console lists the records
through :meth:`HandoffRegistry.recent`. A record holds what the caller said: personal data, for operators.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_ID = re.compile(r"^[0-9a-f]{16}$")
SUMMARY_UTTERANCES = 3  # the caller's last utterances quoted in the summary
SUMMARY_CHARS = 80  # each cut to this many characters


def summarize(record: dict[str, Any]) -> str:
    """A one-line Korean summary for the operator who picks the call up: the caller's last words."""
    said = [str(u).strip() for u in record.get("caller_utterances") or [] if str(u).strip()]
    if not said:
        return "시민 말씀 없음 (버튼으로만 이용)"
    quoted = [
        f"“{u[:SUMMARY_CHARS]}{'…' if len(u) > SUMMARY_CHARS else ''}”" for u in said[-SUMMARY_UTTERANCES:]
    ]
    more = "… " if len(said) > SUMMARY_UTTERANCES else ""
    return f"시민 말씀 {len(said)}건: {more}{' → '.join(quoted)}"


def file_handoff(
    registry: HandoffRegistry | None,
    handoff: dict[str, Any] | None,
    *,
    transport: str,
    call_id: str,
) -> str | None:
    """Store the handoff record of a call handed to an agent (reason, intent, what was said, a summary
    for operators) and return its id; None when the process keeps no records."""
    if registry is None:
        return None
    record = dict(handoff or {})
    record.setdefault("call_id", call_id)
    record["transport"] = transport  # sip | webrtc
    record["summary"] = summarize(record)
    return registry.put(record)


class HandoffRegistry:
    """Thread-safe in-memory store of handoff records, mirrored to ``DIR/<id>.json`` when a directory is set
    (then also read back from there: records outlive a restart)."""

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory else None
        self._records: dict[str, dict] = {}
        self._lock = threading.Lock()

    def put(self, record: dict) -> str:
        handoff_id = uuid.uuid4().hex[:16]
        with self._lock:
            self._records[handoff_id] = dict(record, handoff_id=handoff_id)
            self._save(handoff_id)
        return handoff_id

    def update(self, handoff_id: str, **fields) -> None:
        with self._lock:
            if handoff_id in self._records:
                self._records[handoff_id].update(fields)
                self._save(handoff_id)

    def get(self, handoff_id: str) -> dict | None:
        with self._lock:
            record = self._records.get(handoff_id)
            if record:
                return dict(record)
        if self.directory is None or not _ID.match(handoff_id):
            return None
        return _read(self.directory / f"{handoff_id}.json")

    def recent(self, limit: int = 50) -> list[dict]:
        """The newest records first (from the directory when there is one, else this process's)."""
        if self.directory is None:
            with self._lock:
                records = [dict(r) for r in self._records.values()]
            return records[::-1][:limit]
        try:
            paths = sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        except OSError:
            return []
        records = (_read(p) for p in paths[: limit * 2] if _ID.match(p.stem))
        return [r for r in records if r is not None][:limit]

    def forget(self, handoff_ids: list[str]) -> None:
        """Drop records from memory (their files went after the retention period): ``get`` and ``update``
        no longer find them."""
        with self._lock:
            for handoff_id in handoff_ids:
                self._records.pop(handoff_id, None)

    def _save(self, handoff_id: str) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"{handoff_id}.json"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data (issue 17)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(self._records[handoff_id], ensure_ascii=False, indent=1))
        tmp.replace(path)


def _read(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None
