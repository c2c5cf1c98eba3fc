"""Error bodies of the HTTP API: ``{"detail": "<Korean first> (english)"}`` for every refusal.

:func:`install_error_handlers` maps the service's errors to their status and replaces FastAPI's 422 body,
which echoes the whole input (and cannot serialise a NaN), with a Korean-first ``detail`` and per-field
errors that quote at most a short excerpt of what was sent.
"""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from outbound import service

EXCERPT_CHARS = 80  # the most of a caller's input an error message quotes back

_KO = {
    "missing": "값이 필요합니다",
    "json_invalid": "JSON 형식이 올바르지 않습니다",
    "finite_number": "유한한 숫자여야 합니다 (NaN/Infinity 불가)",
    "string_too_long": "너무 깁니다",
    "string_too_short": "비어 있을 수 없습니다",
    "string_type": "문자열이어야 합니다 (null 불가)",
    "int_parsing": "정수여야 합니다",
    "int_type": "정수여야 합니다 (null 불가)",
    "bool_type": "true 또는 false여야 합니다",
    "date_type": "날짜(YYYY-MM-DD)여야 합니다",
    "date_from_datetime_parsing": "날짜(YYYY-MM-DD)여야 합니다",
    "less_than_equal": "값이 너무 큽니다",
    "greater_than_equal": "값이 너무 작습니다",
    "literal_error": "허용된 값 중 하나여야 합니다",
    "enum": "허용된 값 중 하나여야 합니다",
    "extra_forbidden": "알 수 없는 항목입니다",
    "too_long": "항목이 너무 많습니다",
    "too_short": "항목이 필요합니다",
}


def excerpt(value: object) -> str:
    """A short, JSON-safe quotation of an input value (never the whole of it)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with a Korean-first ``detail`` string and per-field errors quoting at most an excerpt."""
    fields = []
    for error in exc.errors()[:20]:
        loc = ".".join(str(part) for part in error.get("loc", ()))
        kind = str(error.get("type", ""))
        item = {"loc": loc, "type": kind, "msg": str(error.get("msg", ""))[:200]}
        if "input" in error and kind != "missing":
            item["input"] = excerpt(error["input"])
        fields.append(item)
    first = fields[0] if fields else {"loc": "", "type": ""}
    reason = _KO.get(first["type"], "값이 올바르지 않습니다")
    detail = f"입력값을 확인해 주세요: {first['loc']} — {reason}. (invalid input)"
    return JSONResponse({"detail": detail, "errors": fields}, status_code=422)


async def service_error(_request: Request, exc: service.ServiceError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=exc.status)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(service.ServiceError, service_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
