"""The browser caller: ``GET /call`` serves the page, ``POST /api/webrtc/offer`` answers its SDP offer.

The page and its two assets are local files (no CDN): the caller page must work on an offline network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from voicebot.webrtc import CallsBusy, ClientBusy, OfferError, WebRTCService

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {
    "call.js": "text/javascript; charset=utf-8",
    "call.css": "text/css; charset=utf-8",
}
MAX_SDP_CHARS = 64_000  # a browser's audio + data channel offer is 3-6 kB


class Offer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS, description="the browser's SDP offer")
    type: Literal["offer"] = "offer"


def make_webrtc_router(service: WebRTCService) -> APIRouter:
    router = APIRouter()

    @router.get("/call", include_in_schema=False)
    async def call_page() -> FileResponse:
        return FileResponse(STATIC / "call.html", media_type="text/html; charset=utf-8")

    @router.get("/call/assets/{name}", include_in_schema=False)
    async def call_asset(name: str):
        if name not in ASSETS:
            return _error(404, "not_found", "찾으시는 파일이 없습니다.")
        return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})

    @router.post(
        "/api/webrtc/offer",
        tags=["calls"],
        summary="Answer the caller page's SDP offer (no login; a few calls at once)",
        responses={
            429: {"description": "이 주소에서 이미 통화 중입니다 (max_calls_per_client; see Retry-After)"},
            503: {"description": "모든 상담 회선이 사용 중입니다 (all lines busy; see Retry-After)"},
        },
    )
    async def offer(body: Offer, request: Request):
        client = request.client.host if request.client else None  # a trusted proxy's X-Forwarded-For
        try:
            answer = await service.answer(body.sdp, body.type, client)
        except ClientBusy as exc:
            return _error(429, "client_busy", exc.message, {"Retry-After": "30"})
        except CallsBusy as exc:
            return _error(503, "busy", exc.message, {"Retry-After": "30"})
        except OfferError as exc:
            return _error(400, "bad_offer", str(exc))
        return {"call_id": answer.call_id, "sdp": answer.sdp, "type": answer.type}

    @router.get("/api/webrtc/status", tags=["calls"], summary="Browser calls in progress and the limit")
    async def status() -> dict:
        return {"active_calls": service.active_calls, "max_calls": service.config.max_calls}

    return router


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """``detail`` as the rest of the API says it; ``error`` and ``message`` for the caller page."""
    body = {"detail": message, "error": code, "message": message}
    return JSONResponse(body, status_code=status, headers=headers)
