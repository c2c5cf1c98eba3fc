"""Call-backs and agent capacity over the API (issue 18), for the console's 콜백 예약 tab.

- ``GET /api/agents/capacity`` (viewer): agents on duty, callers waiting, the expected wait, the hours.
- ``PUT /api/agents/capacity`` (operator): staff set agents on duty and callers waiting (audited).
- ``GET /api/callbacks`` (viewer): the call-back queue; numbers masked below operator, and an operator's
  view of the numbers is audited (once per ten minutes of polling).
- ``POST /api/callbacks/{id}/done`` and ``/cancel`` (operator): an agent called the person, or the call-back
  is dropped (audited).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from outbound import audit as audit_log
from outbound import callbacks, service
from outbound.api import CONFLICT, Auth
from voicebot.server.agents import AgentDesk

Filter = Literal["open", "missed", "closed", "all"]
_STATES: dict[str, tuple[str, ...] | None] = {
    "open": callbacks.OPEN_STATES,
    "missed": ("missed",),
    "closed": ("done", "cancelled"),
    "all": None,
}


class CapacityIn(BaseModel):
    agents: int = Field(ge=0, le=10_000, description="상담원 근무 인원 (agents on duty)")
    waiting: int = Field(ge=0, le=100_000, description="대기 중인 통화 수 (callers waiting)")


def make_callback_router(desk: AgentDesk, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["operations"])

    @router.get("/agents/capacity", summary="Agents on duty, callers waiting and the expected wait")
    def capacity(who: service.Principal = Depends(auth.require("viewer"))) -> dict[str, Any]:
        return {**desk.status(), "open_callbacks": desk.open_callbacks()}

    @router.put("/agents/capacity", summary="Set agents on duty and callers waiting")
    def set_capacity(
        body: CapacityIn, who: service.Principal = Depends(auth.require("operator"))
    ) -> dict[str, Any]:
        desk.set_capacity(body.agents, body.waiting, who.name)
        auth.audit(who, "capacity.changed", "capacity", None, f"agents={body.agents} waiting={body.waiting}")
        return {**desk.status(), "open_callbacks": desk.open_callbacks()}

    @router.get("/callbacks", summary="The call-back queue, by slot")
    def list_callbacks(
        state: Filter = "open",
        limit: int = Query(200, ge=1, le=500),
        who: service.Principal = Depends(auth.require("viewer")),
    ) -> list[dict[str, Any]]:
        masked = not who.allows("operator")
        with auth.factory.begin() as session:
            rows = callbacks.list_callbacks(session, _STATES[state], limit)
            if rows and not masked:
                audit_log.record(
                    session,
                    who,
                    "callbacks.viewed",
                    "callback",
                    None,
                    f"state={state} rows={len(rows)}",
                    at=auth.clock(),
                    once_within=audit_log.REPEATED_VIEW,
                )
            return [callbacks.callback_dict(r, masked=masked) for r in rows]

    def close(callback_id: int, state: str, who: service.Principal) -> dict[str, Any]:
        with auth.factory.begin() as session:
            try:
                row = callbacks.close(session, callback_id, state, who.name, auth.clock())
            except callbacks.CallbackError as exc:
                raise HTTPException(409, str(exc)) from exc
            if row is None:
                raise HTTPException(404, f"콜백 예약 {callback_id}을(를) 찾을 수 없습니다")
            audit_log.record(
                session, who, "callback.closed", "callback", callback_id, f"state={state}", at=auth.clock()
            )
            return callbacks.callback_dict(row, masked=False)

    @router.post(
        "/callbacks/{callback_id}/done", responses=CONFLICT, summary="An agent called the person back"
    )
    def done(callback_id: int, who: service.Principal = Depends(auth.require("operator"))) -> dict[str, Any]:
        return close(callback_id, "done", who)

    @router.post("/callbacks/{callback_id}/cancel", responses=CONFLICT, summary="Drop a call-back")
    def cancel(
        callback_id: int, who: service.Principal = Depends(auth.require("operator"))
    ) -> dict[str, Any]:
        return close(callback_id, "cancelled", who)

    return router
