"""Structured JSON logs for ``voicebot serve``, with phone numbers masked as a last line of defence.

Code logs ids, not personal data; this formatter still masks anything that looks like a Korean phone
number in a message or an exception, in case a library or a mistake puts one there.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from outbound.phones import mask_phone

_PHONE = re.compile(
    r"(?<!\d)(?:\+82[\s-]?|0)(?:1[016789]|2|[3-6][1-5]|70|50\d?)[\s.-]?\d{3,4}[\s.-]?\d{4}(?!\d)"
)


def mask_text(text: str) -> str:
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask_text(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


def configure_logging(fmt: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
