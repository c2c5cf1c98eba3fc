"""Text channels over HTTP: the web chat page and its API, the staff side of chat takeover, and the
KakaoTalk skill endpoint. All of them are thin: the conversations are ``voicebot.chat``'s.

Errors are ``{"error": code, "message": Korean text}`` with a 4xx status, and change nothing: a body that
is not JSON or too large, an empty message or one over 2,000 characters, an unknown conversation, a button
that is not on offer, a replayed request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from outbound import service as outbound_service
from outbound.api import CONFLICT, Auth
from voicebot.chat import ChatError, ChatService, KakaoSkill

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {
    "chat.js": "text/javascript; charset=utf-8",
    "chat.css": "text/css; charset=utf-8",
}
MAX_BODY_BYTES = 64 * 1024


class BadBody(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error(status: int, code: str, message: str) -> JSONResponse:
    """The error body: ``detail`` as the rest of the API says it, with a code the chat page acts on."""
    return JSONResponse({"detail": message, "error": code, "message": message}, status_code=status)


async def json_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BadBody(413, "too_large", f"요청이 너무 큽니다 ({len(body):,}바이트, 최대 {MAX_BODY_BYTES:,}).")
    try:
        data = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError):
        raise BadBody(400, "bad_json", "요청 본문이 올바른 JSON이 아닙니다.") from None
    if not isinstance(data, dict):
        raise BadBody(400, "bad_json", '요청 본문은 JSON 객체여야 합니다 (예: {"text": "…"}).')
    return data


async def run(call: Callable[[], Any], status: int = 200) -> JSONResponse:
    try:
        reply = await run_in_threadpool(call)
    except ChatError as exc:
        return error(exc.status, exc.code, exc.message)
    body = reply.to_dict() if hasattr(reply, "to_dict") else reply
    return JSONResponse(body, status_code=status)


def _body_doc(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": properties, "required": required}
                }
            },
        }
    }


TEXT_DOC = _body_doc(
    {
        "text": {
            "type": "string",
            "minLength": 1,
            "maxLength": 2000,
            "pattern": "\\S",
            "description": "what the citizen typed (not blank)",
        },
        "request_id": {
            "type": "string",
            "maxLength": 128,
            "description": "optional; a second request with the same id is refused as a replay",
        },
    },
    ["text"],
)
PRESS_DOC = _body_doc(
    {
        "id": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "description": "the id of a quick reply offered with the latest bot message",
        },
        "request_id": {"type": "string", "maxLength": 128},
    },
    ["id"],
)
REPLY_DOC = _body_doc(
    {"text": {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": "\\S"}}, ["text"]
)


def make_chat_router(chat: ChatService) -> APIRouter:
    """The citizen's side: /chat and /api/chat (no login: the conversation id is the key to it)."""
    router = APIRouter()

    @router.get("/chat", include_in_schema=False)
    async def chat_page() -> FileResponse:
        return FileResponse(STATIC / "chat.html", media_type="text/html; charset=utf-8")

    @router.get("/chat/assets/{name}", include_in_schema=False)
    async def chat_asset(name: str):
        if name not in ASSETS:
            return error(404, "not_found", "찾으시는 파일이 없습니다.")
        return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})

    @router.post(
        "/api/chat/start",
        status_code=201,
        tags=["chat"],
        summary="Start a web chat: the greeting and the menu buttons",
    )
    async def start() -> JSONResponse:
        return await run(lambda: chat.start("web"), status=201)

    @router.post(
        "/api/chat/{conversation_id}/messages",
        responses=CONFLICT,
        tags=["chat"],
        summary="Send what the citizen typed; the dialog's reply",
        openapi_extra=TEXT_DOC,
    )
    async def send(conversation_id: str, request: Request) -> JSONResponse:
        try:
            body = await json_body(request)
        except BadBody as exc:
            return error(exc.status, exc.code, exc.message)
        if "text" not in body:
            return error(422, "bad_input", "메시지(text)가 없습니다.")
        return await run(
            lambda: chat.send_text(conversation_id, body["text"], request_key=_request_key(body))
        )

    @router.post(
        "/api/chat/{conversation_id}/quick-replies",
        responses=CONFLICT,
        tags=["chat"],
        summary="Press a quick reply (menu, choice, yes/no, start over)",
        openapi_extra=PRESS_DOC,
    )
    async def press(conversation_id: str, request: Request) -> JSONResponse:
        try:
            body = await json_body(request)
        except BadBody as exc:
            return error(exc.status, exc.code, exc.message)
        return await run(lambda: chat.press(conversation_id, body.get("id"), request_key=_request_key(body)))

    @router.get("/api/chat/{conversation_id}", tags=["chat"], summary="The conversation and its messages")
    async def history(conversation_id: str, after: int = 0) -> JSONResponse:
        return await run(lambda: chat.history(conversation_id, max(0, after)))

    return router


def _request_key(body: dict[str, Any]) -> Any:
    key = body.get("request_id")
    return None if key is None else ("web:" + key if isinstance(key, str) else key)


def make_chat_staff_router(chat: ChatService, auth: Auth) -> APIRouter:
    """The operators' side of live takeover: the queue, take, reply, hand back to the bot, close. Opening a
    chat (``after=0``; the console's polls for new messages pass ``after``) and taking one are audited."""
    router = APIRouter(prefix="/api/chats", tags=["chat"])
    operator = Depends(auth.require("operator"))

    @router.get("/queue", summary="Chats waiting for an agent or with one, oldest first")
    async def queue(who: outbound_service.Principal = operator) -> JSONResponse:
        return await run(chat.queue)

    @router.get("/{conversation_id}", summary="One chat with all its messages (staff view)")
    async def one(conversation_id: str, after: int = 0, who: outbound_service.Principal = operator):
        def view() -> dict[str, Any]:
            reply = chat.history(conversation_id, max(0, after))
            if after <= 0:
                auth.audit(who, "chat.viewed", "chat", conversation_id)
            return {
                "conversation": reply.conversation.to_dict(staff=True),
                "messages": [m.to_dict() for m in reply.messages],
            }

        return await run(view)

    @router.post(
        "/{conversation_id}/take", responses=CONFLICT, summary="Take a waiting chat (one operator only)"
    )
    async def take(conversation_id: str, who: outbound_service.Principal = operator) -> JSONResponse:
        def take_it() -> Any:
            taken = chat.take(conversation_id, who.name, who.token_id)
            auth.audit(who, "chat.taken", "chat", conversation_id)
            return taken

        return await run(take_it)

    @router.post(
        "/{conversation_id}/reply",
        responses=CONFLICT,
        summary="Reply to the citizen as the agent",
        openapi_extra=REPLY_DOC,
    )
    async def reply(
        conversation_id: str, request: Request, who: outbound_service.Principal = operator
    ) -> JSONResponse:
        try:
            body = await json_body(request)
        except BadBody as exc:
            return error(exc.status, exc.code, exc.message)
        if "text" not in body:
            return error(422, "bad_input", "메시지(text)가 없습니다.")
        return await run(lambda: chat.agent_reply(conversation_id, body["text"], who.token_id))

    @router.post(
        "/{conversation_id}/hand-back",
        responses=CONFLICT,
        summary="Give the chat back to the bot (menu again)",
    )
    async def hand_back(conversation_id: str, who: outbound_service.Principal = operator) -> JSONResponse:
        return await run(lambda: chat.hand_back(conversation_id, who.token_id))

    @router.post("/{conversation_id}/close", responses=CONFLICT, summary="Close the chat")
    async def close(conversation_id: str, who: outbound_service.Principal = operator) -> JSONResponse:
        return await run(lambda: chat.close(conversation_id, who.token_id))

    return router


def make_kakao_router(skill: KakaoSkill) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/kakao/skill",
        tags=["chat"],
        summary="Kakao i Open Builder skill (shared-secret header; skill payload in, skill response out)",
    )
    async def kakao_skill(request: Request) -> JSONResponse:
        body = await request.body()
        status, answer = await run_in_threadpool(skill.handle, dict(request.headers), body)
        return JSONResponse(answer, status_code=status)

    return router
