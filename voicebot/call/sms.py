"""Sending a text message (문자) to a caller: a pluggable sender with two implementations.

- ``OutboxSender`` (the default): one JSON file per message in an outbox folder (folder 0700, files
  0600), for a relay or an operator to pick up. Nothing leaves the machine.
- ``HttpGatewaySender``: POSTs ``{"to", "text", "sender", "id"}`` as JSON to an SMS gateway URL with
  ``Authorization: Bearer <token>``; any 2xx is success. Configure it under ``sms:`` in the serve
  config (``backend: http``, ``url``, ``token_env``, ``timeout_s``, ``sender``). Never called in tests
  except against a local stub.

Phone numbers are logged only masked (``mask_number``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # an LMS is 2,000 bytes at most; longer answers are cut with "…"


class SmsError(RuntimeError):
    pass


@dataclass(frozen=True)
class SmsReceipt:
    message_id: str
    to_masked: str
    backend: str


class SmsSender(Protocol):
    def send(self, to: str, text: str) -> SmsReceipt:
        """Send ``text`` to the phone number ``to``; raise ``SmsError`` when it cannot be handed over."""
        ...


def normalize_number(raw: str) -> str:
    """Digits of a phone number (``+82 10-1234-5678`` -> ``01012345678``); ``SmsError`` if it is not one."""
    digits = re.sub(r"\D", "", raw or "")
    if digits.startswith("82") and len(digits) >= 11:
        digits = "0" + digits[2:]
    if not 9 <= len(digits) <= 12 or not digits.startswith("0"):
        raise SmsError("문자를 받을 수 있는 전화번호가 아닙니다")
    return digits


_MOBILE = re.compile(r"01[016789]\d{7,8}")


def mobile_number(raw: str | None) -> str | None:
    """The caller's number when a text can reach it (a Korean mobile number, ``+82 10-…`` or ``010…``),
    else None: landlines, withheld and non-numeric callers get no offer to text them."""
    try:
        digits = normalize_number(raw or "")
    except SmsError:
        return None
    return digits if _MOBILE.fullmatch(digits) else None


def mask_number(raw: str) -> str:
    """Log-safe form keeping the last four digits: ``01012345678`` -> ``*******5678``."""
    digits = re.sub(r"\D", "", raw or "")
    return "*" * max(len(digits) - 4, 1) + digits[-4:] if digits else "***"


def _clip(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise SmsError("보낼 내용이 없습니다")
    while len(text.encode("utf-8")) > MAX_TEXT:
        text = text[: max(len(text) - 50, 1)]
        text = text.rstrip() + "…"
    return text


class OutboxSender:
    """Writes each message as ``<UTC time>-<id>.json`` into ``directory``."""

    def __init__(self, directory: str | Path, sender: str = ""):
        self.directory = Path(directory)
        self.sender = sender

    def send(self, to: str, text: str) -> SmsReceipt:
        number, body = normalize_number(to), _clip(text)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        message_id = uuid.uuid4().hex
        now = dt.datetime.now(dt.UTC)
        path = self.directory / f"{now:%Y%m%dT%H%M%S%fZ}-{message_id}.json"
        record = {"id": message_id, "to": number, "text": body, "sender": self.sender, "at": now.isoformat()}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
        log.info("SMS %s to %s written to the outbox", message_id, mask_number(number))
        return SmsReceipt(message_id, mask_number(number), "outbox")


class HttpGatewaySender:
    """POSTs each message to an HTTP SMS gateway (see the module docstring for the request shape)."""

    def __init__(self, url: str, token: str | None = None, timeout_s: float = 5.0, sender: str = ""):
        if not url.startswith(("https://", "http://")):
            raise SmsError("SMS gateway URL must be http(s)")
        self.url, self.token, self.timeout_s, self.sender = url, token, timeout_s, sender

    def send(self, to: str, text: str) -> SmsReceipt:
        number, body = normalize_number(to), _clip(text)
        message_id = uuid.uuid4().hex
        payload = json.dumps(
            {"id": message_id, "to": number, "text": body, "sender": self.sender}, ensure_ascii=False
        ).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            log.warning("SMS %s to %s: gateway unreachable (%s)", message_id, mask_number(number), exc)
            raise SmsError("SMS gateway unreachable") from exc
        if not 200 <= status < 300:
            log.warning("SMS %s to %s: gateway answered %s", message_id, mask_number(number), status)
            raise SmsError(f"SMS gateway answered {status}")
        log.info("SMS %s to %s handed to the gateway", message_id, mask_number(number))
        return SmsReceipt(message_id, mask_number(number), "http")
