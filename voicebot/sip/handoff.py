"""Handoff records passed to agents by id (the id travels in the REFER as ``X-Handoff-Id``)."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path


class HandoffRegistry:
    """Thread-safe in-memory store of handoff records, mirrored to ``DIR/<id>.json`` when a directory is set."""

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
            return dict(record) if record else None

    def _save(self, handoff_id: str) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{handoff_id}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._records[handoff_id], ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
