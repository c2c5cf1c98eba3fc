"""The browser caller: ``GET /call`` serves the page, ``POST /api/webrtc/offer`` answers its SDP offer.

The page and its two assets are local files (no CDN): the caller page must work on an offline network.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from voicebot.webrtc import CallsBusy, OfferError, WebRTCService

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {
    "call.js": "text/javascript; charset=utf-8",
    "call.css": "text/css; charset=utf-8",
}
MAX_SDP_CHARS = 64_000  # a browser's audio + data channel offer is 3-6 kB


class Offer(BaseModel):
    sdp: str = Field(max_length=MAX_SDP_CHARS)
    type: str = "offer"


def make_webrtc_router(service: WebRTCService) -> APIRouter:
    router = APIRouter()

    @router.get("/call", include_in_schema=False)
    async def call_page() -> FileResponse:
        return FileResponse(STATIC / "call.html", media_type="text/html; charset=utf-8")

    @router.get("/call/assets/{name}", include_in_schema=False)
    async def call_asset(name: str):
        if name not in ASSETS:
            return JSONResponse(
                {"error": "not_found", "message": "찾으시는 파일이 없습니다."}, status_code=404
            )
        return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})

    @router.post("/api/webrtc/offer")
    async def offer(body: Offer):
        try:
            answer = await service.answer(body.sdp, body.type)
        except CallsBusy as exc:
            return JSONResponse(
                {"error": "busy", "message": exc.message}, status_code=503, headers={"Retry-After": "30"}
            )
        except OfferError as exc:
            return JSONResponse({"error": "bad_offer", "message": str(exc)}, status_code=400)
        return {"call_id": answer.call_id, "sdp": answer.sdp, "type": answer.type}

    @router.get("/api/webrtc/status")
    async def status() -> dict:
        return {"active_calls": service.active_calls, "max_calls": service.config.max_calls}

    return router
