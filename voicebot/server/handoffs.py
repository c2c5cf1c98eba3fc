"""Handoff records over the API: calls the bot handed to an agent (phone or browser), for operators.

A record holds what the caller said (personal data), so only operators and admins read it, like the
transcripts of calls in progress; opening one is written to the audit log (``handoff.viewed``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from outbound import service
from outbound.api import Auth
from voicebot.call.handoff import HandoffRegistry


def make_handoff_router(registry: HandoffRegistry, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api/handoffs", tags=["operations"])

    @router.get("", summary="Calls handed to an agent, newest first (reason, intent, summary)")
    def handoffs(
        limit: int = Query(50, ge=1, le=500),
        who: service.Principal = Depends(auth.require("operator")),
    ) -> list[dict[str, Any]]:
        return registry.recent(limit)

    @router.get("/{handoff_id}", summary="One handoff record with what was said")
    def handoff(
        handoff_id: str, who: service.Principal = Depends(auth.require("operator"))
    ) -> dict[str, Any]:
        record = registry.get(handoff_id)
        if record is None:
            raise HTTPException(404, f"상담원 연결 기록 {handoff_id}을(를) 찾을 수 없습니다")
        auth.audit(who, "handoff.viewed", "handoff", handoff_id)
        return record

    return router
