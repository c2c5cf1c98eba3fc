"""Staff routes for welfare memory (issue 16): what is remembered about one person, editable.

Mounted by :func:`outbound.api.make_router` under ``/api``. Personal data: every route needs the operator
role (as the person's check-in history does); views and changes go to the audit log (:mod:`outbound.audit`)
with ids only, never the words. No
``from __future__ import annotations`` here: FastAPI reads the route signatures' local Annotated aliases.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from outbound import audit, service, welfare

log = logging.getLogger(__name__)

Topic = Literal["meals", "health", "sleep", "mood", "needs", "medication", "going_out", "general"]
Value = Literal["fine", "not_fine", "concern", "unclear"]


class MemoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic
    value: Value
    summary: str = Field(
        "", max_length=200, description='the clause the next follow-up quotes: "허리가 아프다고"'
    )
    said: str | None = Field(None, max_length=2000)
    follow_up: bool = Field(False, description="ask about it first on the next check-in")


class MemoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic | None = None
    value: Value | None = None
    summary: str | None = Field(None, max_length=200)
    said: str | None = Field(None, max_length=2000)
    follow_up: bool | None = None


def make_router(
    db: Callable[..., Any],
    operator: Callable[..., service.Principal],
    clock: Callable[[], datetime],
    settings: welfare.WelfareSettings,
) -> APIRouter:
    router = APIRouter()
    DB = Annotated[Session, Depends(db)]
    Operator = Annotated[service.Principal, Depends(operator)]

    def edit(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except LookupError as exc:
            raise service.NotFound(f"기억한 내용을 찾을 수 없습니다 ({exc})") from exc
        except welfare.WelfareEditError as exc:
            raise service.Invalid(str(exc)) from exc

    @router.get("/contacts/{contact_id}/memory", summary="What is remembered about a person, and the trends")
    def memory(contact_id: int, session: DB, who: Operator) -> dict[str, Any]:
        view = edit(lambda: welfare.memory_view(session, contact_id, clock(), settings))
        audit.record(session, who, "memory.viewed", "contact", contact_id, at=clock())
        return view

    @router.post(
        "/contacts/{contact_id}/memory", status_code=201, summary="Add a memory (e.g. after a visit)"
    )
    def add(contact_id: int, body: MemoryIn, session: DB, who: Operator) -> dict[str, Any]:
        row = edit(
            lambda: welfare.add_memory(
                session, contact_id, body.model_dump(exclude_none=True), who.name, clock()
            )
        )
        audit.record(session, who, "memory.added", "memory", row.id, f"contact={contact_id}", at=clock())
        log.info("api: %s (%s) added welfare memory %s", who.name, who.role, row.id)
        return welfare.memory_dict(row)

    @router.patch("/memory/{memory_id}", summary="Correct a remembered answer")
    def update(memory_id: int, body: MemoryPatch, session: DB, who: Operator) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        row = edit(lambda: welfare.update_memory(session, memory_id, changes, who.name, clock()))
        fields = "fields=" + ",".join(sorted(changes))
        audit.record(session, who, "memory.changed", "memory", memory_id, fields, at=clock())
        log.info("api: %s (%s) edited welfare memory %s", who.name, who.role, memory_id)
        return welfare.memory_dict(row)

    @router.delete("/memory/{memory_id}", status_code=204, summary="Forget a remembered answer")
    def forget(memory_id: int, session: DB, who: Operator) -> Response:
        edit(lambda: welfare.delete_memory(session, memory_id))
        audit.record(session, who, "memory.deleted", "memory", memory_id, at=clock())
        log.info("api: %s (%s) deleted welfare memory %s", who.name, who.role, memory_id)
        return Response(status_code=204)

    return router
