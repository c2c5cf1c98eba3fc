"""Every status a route can answer, in the OpenAPI document (issue 17).

FastAPI documents a route's success and a 422 shaped like its own validation error; this server answers
with ``{"detail": "<Korean first> (english)"}`` (see :mod:`voicebot.server.limits`) and also with 400 (a
body that is not JSON, a malformed Content-Length), 401 / 403 / 429 (the token checks), 404 (a path that
names nothing), 409 (an action the current state forbids, declared by the route) and 413 (a body over its
limit). :func:`document_errors` makes ``/openapi.json`` list those, read from the routes themselves: the
role each operation's bearer requirement names (see :class:`outbound.api.RoleCheck`), its path
parameters, whether it takes a body.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from outbound.schema import ROLES

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "Korean first, an English hint in parentheses"},
        "errors": {
            "type": "array",
            "description": "per field, for an input that failed validation (at most an excerpt is quoted)",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "string"},
                    "type": {"type": "string"},
                    "msg": {"type": "string"},
                    "input": {},
                },
            },
        },
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}

DESCRIPTIONS = {
    "400": "요청 본문을 읽을 수 없습니다 (a body that is not valid JSON, or a malformed Content-Length)",
    "401": "로그인이 필요합니다 (missing, invalid, revoked or expired token)",
    "403": "권한이 부족합니다 (the token's role is below what the route needs)",
    "404": "해당 항목을 찾을 수 없습니다 (nothing with that id)",
    "409": "지금 상태에서는 할 수 없습니다 (the item's current state forbids it)",
    "413": "요청이 너무 큽니다 (body over the route's limit)",
    "422": "입력값을 확인해 주세요 (invalid input; per-field errors)",
    "429": "요청이 너무 많습니다 (too many failed logins from this address; see Retry-After)",
    "503": "지금은 받을 수 없습니다 (busy; see Retry-After)",
}

METHODS = {"get", "post", "put", "patch", "delete"}
METHODS_WITH_BODY = {"post", "put", "patch"}


def document_errors(app: FastAPI) -> None:
    """Serve an OpenAPI document whose operations list their error statuses with the ``Error`` body."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            add_error_responses(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_error_responses(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in METHODS:
                responses = operation.setdefault("responses", {})
                for status in sorted(error_statuses(method, operation)):
                    response = responses.setdefault(status, {"description": DESCRIPTIONS[status]})
                    if status == "422":  # FastAPI's own says "Validation Error" and names its own shape
                        response["description"] = DESCRIPTIONS[status]
                    response["content"] = {"application/json": {"schema": ERROR_REF}}


def error_statuses(method: str, operation: dict[str, Any]) -> set[str]:
    """The error statuses an operation can answer, from what it declares and how it is called."""
    statuses = {status for status in operation.get("responses", {}) if status in DESCRIPTIONS}
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    if parameters or has_body:
        statuses.add("422")
    role = needed_role(operation)
    if role is not None:
        statuses |= {"401", "429"}
        if role != ROLES[0]:
            statuses.add("403")
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.add("404")
    if has_body or method in METHODS_WITH_BODY:
        statuses |= {"400", "413"}
    return statuses


def needed_role(operation: dict[str, Any]) -> str | None:
    """The role a token needs (the bearer requirement's scope, see :class:`outbound.api.RoleCheck`), or
    None for a public route."""
    roles = [role for requirement in operation.get("security", []) for role in requirement.get("bearer", [])]
    if not operation.get("security"):
        return None
    return max(roles, key=ROLES.index) if roles else ROLES[0]
