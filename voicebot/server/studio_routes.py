"""The prompt studio's API (admin): the catalogue and coverage, recordings in and out, voice packs.

A recording arrives as WAV bytes (the console turns the browser's MediaRecorder capture into 16-bit WAV;
an uploaded file is sent as it is). The server trims the silence at both ends, brings the level to
-20 dBFS RMS, transcribes it with the server's Whisper and compares it with the prompt text: the
character error rate is stored with the version and a mismatch is returned as a warning (the recording
is kept: the staff member decides). What was said is a fixed prompt, not a caller's words, so the
transcript may be shown and stored.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from rapidfuzz.distance import Levenshtein

from media.audio import AudioError, load_audio
from outbound import service
from outbound.api import NOT_FOUND, Auth, file_response
from tts import normalize_korean
from tts.editing import normalize_level, trim_silence
from tts.library import MAX_RECORDING_S, STORE_RATE, PromptLibrary
from voicebot.server.studio import Catalogue, apply_heard, catalogue, heard_counts

log = logging.getLogger(__name__)

CER_WARN = 0.25
HEARD_DAYS = 30  # the call statistics that order the list (most heard first)
MAX_UPLOAD_BYTES = 40 * 1024 * 1024
_STATE_ORDER = {"stale": 0, "synthesized": 1, "recorded": 2}
_KIND_ORDER = {"sentence": 0, "piece": 1, "unit": 2}


def _letters(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z가-힣]", "", normalize_korean(text)).lower()


def prompt_cer(prompt: str, transcript: str) -> float:
    """Character error rate of a transcript against the prompt, both read as they are spoken."""
    reference, hypothesis = _letters(prompt), _letters(transcript)
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return Levenshtein.distance(reference, hypothesis) / len(reference)


def make_studio_router(
    library: PromptLibrary, auth: Auth, transcriber: Callable[[], Any | None]
) -> APIRouter:
    """``transcriber()`` is the server's shared Whisper (None while models load or STT is off)."""
    router = APIRouter(prefix="/api/prompts", tags=["prompt studio"])
    admin = Depends(auth.require("admin"))
    try:  # the slot templates of the texts deployed now, for the calls (the listing refreshes them too)
        catalogue(library)
    except OSError as exc:
        log.warning("could not update the prompt library's slot templates: %s", exc)

    def current() -> Catalogue:
        return catalogue(library)

    def counted() -> Catalogue:
        """The catalogue with each entry's calls of the last HEARD_DAYS days."""
        built = current()
        with auth.factory.begin() as session:
            apply_heard(built, heard_counts(session, auth.clock() - timedelta(days=HEARD_DAYS)))
        return built

    @router.get(
        "", summary="Every sentence the bot can say, its state, and coverage per flow; most heard first"
    )
    def listing(who: service.Principal = admin) -> dict[str, Any]:
        built = counted()
        entries = sorted(
            built.entries,
            key=lambda e: (_STATE_ORDER[e.state], -e.heard, _KIND_ORDER[e.kind], -e.estimated_s),
        )
        return {
            "entries": [e.as_dict() for e in entries],
            "coverage": built.coverage(),
            "templates": built.templates,
            "whisper": transcriber() is not None,
        }

    @router.get("/coverage", summary="Share of spoken time played from recordings, per flow")
    def coverage(who: service.Principal = admin) -> list[dict[str, Any]]:
        return counted().coverage()

    @router.get(
        "/audio/{key}",
        summary="A recording (current version unless ?version=)",
        response_class=Response,
        responses=file_response("audio/wav"),
    )
    def audio(key: str, version: int | None = None, who: service.Principal = admin) -> Response:
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise HTTPException(404, "녹음이 없습니다")
        path = library.path_for(key, version)
        if path is None or not path.is_file():
            raise HTTPException(404, "녹음이 없습니다")
        return Response(path.read_bytes(), media_type="audio/wav", headers={"Cache-Control": "no-store"})

    @router.post(
        "/recording", responses=NOT_FOUND, summary="Save a recording (WAV body) for a catalogue entry"
    )
    async def record(
        request: Request,
        id: str = Query(..., description="catalogue entry id"),
        trim: bool = True,
        normalize: bool = True,
        origin: str = Query("studio", pattern="^(studio|upload)$"),
        who: service.Principal = admin,
    ) -> JSONResponse:
        entry = current().entry(id)
        if entry is None:
            raise HTTPException(404, "목록에 없는 문구입니다")
        body = await request.body()
        if len(body) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, "파일이 너무 큽니다 (최대 40MB)")
        try:
            samples = load_audio(body, STORE_RATE, max_seconds=MAX_RECORDING_S).samples
        except AudioError as exc:
            raise HTTPException(400, f"녹음 파일을 읽을 수 없습니다: {exc}") from exc
        if trim:
            samples = trim_silence(samples, STORE_RATE)
        if normalize:
            samples = normalize_level(samples)
        transcript, cer = None, None
        model = transcriber()
        if model is not None:
            result = await asyncio.to_thread(model.transcribe, samples, language="ko")
            transcript = result.text.strip()
            cer = prompt_cer(entry.text, transcript)
        mismatch = cer is not None and cer > CER_WARN
        recording = library.save(
            entry.text,
            samples,
            STORE_RATE,
            prompt_id=entry.id,
            origin=origin,
            transcript=transcript,
            cer=cer,
            make_current=not mismatch,
        )
        version = max(v.version for v in recording.versions)
        log.info("prompt recording saved: %s v%d (%s)", recording.key[:12], version, origin)
        warning = None
        if cer is None:
            warning = "음성 인식을 사용할 수 없어 녹음 내용을 확인하지 못했습니다."
        elif mismatch:
            warning = (
                f"녹음 내용이 문구와 다릅니다 (문자 오류율 {cer:.0%}). 이 녹음은 아직 통화에 쓰이지 않습니다. "
                "다시 들어 보시고, 문구대로 녹음하셨다면 '이 녹음 사용'을 누르세요."
            )
        return JSONResponse(
            {
                "recording": recording.as_dict(),
                "version": version,
                "in_use": recording.current == version,
                "transcript": transcript,
                "cer": None if cer is None else round(cer, 3),
                "warning": warning,
            }
        )

    @router.post("/current", responses=NOT_FOUND, summary="Play another version of a recording")
    def choose(key: str, version: int, who: service.Principal = admin) -> dict[str, Any]:
        try:
            return library.set_current(key, version).as_dict()
        except KeyError as exc:
            raise HTTPException(404, "그 버전의 녹음이 없습니다") from exc

    @router.get(
        "/export",
        summary="The voice pack: a zip of the current recordings with voicepack.json",
        response_class=Response,
        responses=file_response("application/zip"),
    )
    def export(who: service.Principal = admin) -> Response:
        return Response(
            library.export_pack(),
            media_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="voicepack.zip"'},
        )

    @router.post("/import", summary="Add the recordings of a voice pack (zip body)")
    async def import_pack(request: Request, who: service.Principal = admin) -> dict[str, Any]:
        body = await request.body()
        if len(body) > 20 * MAX_UPLOAD_BYTES:
            raise HTTPException(413, "파일이 너무 큽니다")
        try:
            added = await asyncio.to_thread(library.import_pack, body)
        except (ValueError, AudioError) as exc:
            raise HTTPException(400, f"음성 팩을 가져올 수 없습니다: {exc}") from exc
        return {"added": added}

    return router
