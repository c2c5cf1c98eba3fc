"""Request-body limits enforced while the body is read, before parsing and before authentication (issue 17).

``BodyLimit`` is a plain ASGI middleware: a declared ``Content-Length`` above the route's limit is refused
at once (the body is never read); a chunked body is counted as it arrives and refused as soon as it
passes the limit. (The 422 body that quotes at most an excerpt of the input is
:func:`outbound.api_errors.validation_error`.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

DEFAULT_LIMIT = 1024 * 1024  # JSON bodies of the staff API are a few kB


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    limit: int


RULES: tuple[Rule, ...] = (
    Rule(re.compile(r"^/api/webrtc/offer$"), 70 * 1024),  # a browser offer is 3-6 kB
    Rule(re.compile(r"^/api/campaigns/[^/]+/contacts$"), 21 * 1024 * 1024),  # 20 MB CSV + form overhead
    Rule(re.compile(r"^/api/prompts/recording$"), 41 * 1024 * 1024),
    Rule(re.compile(r"^/api/prompts/import$"), 801 * 1024 * 1024),
    Rule(re.compile(r"^/api/kb/import$"), 21 * 1024 * 1024),  # a 20 MB consultation DB (CSV/XLSX)
)


def _message(limit: int) -> str:
    return (
        f"요청이 너무 큽니다 (최대 {limit:,}바이트). 내용을 줄여 다시 보내 주세요. (request body too large)"
    )


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once the body passes the limit; an HTTPException so FastAPI's body
    parsing re-raises it as it is (a 413) instead of turning it into a 400."""

    def __init__(self, limit: int):
        super().__init__(413, _message(limit))


class BodyLimit:
    def __init__(self, app, rules: Sequence[Rule] = RULES, default: int = DEFAULT_LIMIT):
        self.app = app
        self.rules = tuple(rules)
        self.default = default

    def limit_for(self, path: str) -> int:
        for rule in self.rules:
            if rule.pattern.match(path):
                return rule.limit
        return self.default

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared == -1 or (declared is not None and declared > limit):
            await _refuse(send, 400 if declared == -1 else 413, limit)
            return
        received = 0
        started = False

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, 413, limit)


def _content_length(scope) -> int | None:
    """The declared length; -1 when the header is malformed."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            if not text.isascii() or not text.isdigit() or len(text) > 15:
                return -1
            return int(text)
    return None


async def _refuse(send, status: int, limit: int) -> None:
    detail = _message(limit) if status == 413 else "요청 길이(Content-Length)가 올바르지 않습니다."
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# The pages (console, caller page, chat, /docs) load scripts, styles, images and media from this server
# only; no inline script or style attribute (dynamic styles go through the CSSOM, which CSP allows).
# img-src data: is the console's empty favicon and Swagger UI's icons; blob: is a recorded or downloaded
# take in the prompt studio. /docs adds the hash of Swagger UI's one inline script (voicebot.server.apidocs).
CSP_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data: blob:"),
    ("media-src", "'self' blob:"),
    ("connect-src", "'self'"),
    ("frame-ancestors", "'none'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'self'"),
)


def content_security_policy(script_hashes: Sequence[str] = ()) -> str:
    """The policy; ``script_hashes`` (base64 SHA-256 of inline scripts) are added to script-src."""
    extra = "".join(f" 'sha256-{digest}'" for digest in script_hashes)
    return "; ".join(
        f"{name} {value}{extra if name == 'script-src' else ''}" for name, value in CSP_DIRECTIVES
    )


SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", content_security_policy().encode()),
    # The caller page and the prompt studio record from the microphone; nothing else may, nor any frame.
    (b"permissions-policy", b"microphone=(self), camera=(), geolocation=(), payment=(), usb=()"),
)
# Over https only (a browser ignores it on http, and it must never pin a plain-http installation).
HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """Adds the headers above to every response that does not set them itself (HSTS when the request came
    over https: directly, or from a trusted proxy's X-Forwarded-Proto)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = SECURITY_HEADERS + ((HSTS,) if scope.get("scheme") == "https" else ())

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [(n, v) for n, v in headers if n not in present]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


async def id_out_of_range(request: Request, exc: Exception) -> JSONResponse:
    """An id beyond the database's integer range (SQLite: 2^63, PostgreSQL: 2^31) names nothing; any other
    value the database refuses is the request's fault, not a 500 (the value is not quoted back)."""
    if not isinstance(exc, OverflowError) and "out of range" not in str(exc):
        return JSONResponse({"detail": "입력값이 허용 범위를 벗어났습니다. (value refused)"}, status_code=422)
    return JSONResponse({"detail": "해당 번호의 항목을 찾을 수 없습니다. (id out of range)"}, status_code=404)
