"""KakaoTalk: a skill server for Kakao i Open Builder (챗봇 관리자센터) on the same conversations.

Open Builder posts a *skill payload* for each message the user sends in the channel's chat room::

    {"userRequest": {"utterance": "따릉이 요금", "user": {"id": "…", "type": "botUserKey"},
                     "callbackUrl": "https://…"},            # only on blocks with the callback option
     "action": {"params": {"key": "1"}, …}, "bot": {…}, "intent": {…}}

and shows the skill response::

    {"version": "2.0", "template": {"outputs": [{"simpleText": {"text": "…"}}],
                                    "quickReplies": [{"label": "교통", "action": "message",
                                                      "messageText": "교통"}]}}

What the user typed goes to :meth:`ChatService.converse` (channel ``kakao``): the dialog's reply is the
first text, its quick replies the buttons (a pressed button comes back as its ``messageText``); the
optional block parameter ``key`` (0-9, * or #) presses that keypad key. An emergency adds a card with
119/112 call buttons after the reply. Open Builder waits 5 seconds for a skill: the reply is awaited for
``budget_s`` (3.5 s); past that, with a ``callbackUrl``, the answer is ``{"version": "2.0", "useCallback":
true, "data": {"text": "…"}}`` at once and the full response goes to the callback URL through a
:class:`CallbackSender` when ready (within Kakao's minute); without one, a short "please wait" reply, and
the late answer is shown before the reply to the user's next message. While an agent has the chat, a
message with a ``callbackUrl`` is answered ``useCallback`` and the callback is held (``agent_wait_s``, 50 s)
for the agent's reply; without one, the agent's replies come with the reply to the user's next message.

Every request must carry the operator's shared secret in a header (``X-Voicebot-Skill-Secret`` by
default: Open Builder's skill settings add custom headers). A request that repeats the ``callbackUrl`` (one
use only, by Kakao's contract) or the ``X-Request-Id`` of an earlier one is a replay: refused, nothing
changes. The user id is stored only as a SHA-256 and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from dialog.quick import KAKAO_LABEL_CHARS, KAKAO_MAX_QUICK_REPLIES, QuickReply

from .service import MAX_USER_ID_CHARS, ChatError, ChatReply, ChatService, MessageView

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_OUTPUTS = 3  # Open Builder shows at most three output components
SIMPLE_TEXT_CHARS = 1000
KEY_PARAM = "key"
WAIT_TEXT = "답변을 준비하고 있습니다. 잠시만 기다려 주세요."
LATE_TEXT = "답변을 준비하는 데 시간이 걸리고 있습니다. 잠시 후 아무 말이나 보내 주시면 준비된 답변을 보여 드리겠습니다."
AGENT_PREFIX = "[상담사] "
AGENT_WAIT_TEXT = "상담사에게 전달했습니다. 상담사가 답변을 쓰고 있습니다."
AGENT_LATER_TEXT = "상담사가 아직 답변을 쓰고 있습니다. 답변은 다음 메시지를 보내실 때 함께 보여 드립니다."
AGENT_RELAYED = "상담사에게 전달했습니다. 상담사의 답변은 다음 메시지를 보내실 때 함께 보여 드립니다."


class CallbackSender(Protocol):
    """Delivers a late skill response to Open Builder's one-time callback URL."""

    def send(self, url: str, payload: dict[str, Any]) -> None: ...


class HttpCallbackSender:
    """POSTs the response as JSON to the callback URL (the real one; tests pass their own sender)."""

    def __init__(self, timeout_s: float = 10.0):
        self.timeout_s = timeout_s

    def send(self, url: str, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310 - https only
            answer.read()


@dataclass(frozen=True)
class KakaoConfig:
    secret: str
    header: str = "X-Voicebot-Skill-Secret"
    budget_s: float = 3.5  # Open Builder gives up after 5 s
    agent_wait_s: float = 50.0  # how long a callback is held for an agent's reply (Kakao keeps it 1 min)
    agent_poll_s: float = 0.5
    callback_hosts: tuple[str, ...] = ("kakao.com",)  # callbackUrl must be https on one of these (or below)


class SkillError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


@dataclass(frozen=True)
class SkillRequest:
    user_id: str
    utterance: str
    key: str | None
    callback_url: str | None
    request_key: str | None


class KakaoSkill:
    def __init__(
        self,
        chat: ChatService,
        config: KakaoConfig,
        sender: CallbackSender | None = None,
        *,
        workers: int = 8,
    ):
        if not config.secret:
            raise ValueError("the Kakao skill needs a shared secret")
        self.chat = chat
        self.config = config
        self.sender: CallbackSender = sender or HttpCallbackSender()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kakao-skill")
        # Callbacks held for an agent's reply wait here, apart from the pool that answers messages.
        self._waits = ThreadPoolExecutor(max_workers=16, thread_name_prefix="kakao-agent-wait")
        self._closing = threading.Event()

    def close(self) -> None:
        self._closing.set()
        self._waits.shutdown(wait=True, cancel_futures=True)
        self._pool.shutdown(wait=True, cancel_futures=False)

    # ------------------------------------------------------------------------------------ request
    def handle(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for one skill request."""
        try:
            self._check_secret(headers)
            request = self.parse(headers, body)
        except SkillError as exc:
            log.warning("kakao skill request refused: %s", exc.code)
            return exc.status, exc.body()
        return self._answer(request)

    def _check_secret(self, headers: Mapping[str, str]) -> None:
        given = _header(headers, self.config.header)
        if given is None or not hmac.compare_digest(given.encode(), self.config.secret.encode()):
            raise SkillError(
                401, "unauthorized", f"공유 비밀값({self.config.header} 헤더)이 없거나 맞지 않습니다."
            )

    def parse(self, headers: Mapping[str, str], body: bytes) -> SkillRequest:
        if len(body) > MAX_BODY_BYTES:
            raise SkillError(
                413, "too_large", f"요청이 너무 큽니다 ({len(body):,}바이트, 최대 {MAX_BODY_BYTES:,})."
            )
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise SkillError(400, "bad_json", "요청 본문이 올바른 JSON이 아닙니다.") from exc
        if not isinstance(payload, dict):
            raise SkillError(400, "bad_request", "요청 본문은 JSON 객체여야 합니다.")
        user_request = payload.get("userRequest")
        if not isinstance(user_request, dict):
            raise SkillError(400, "bad_request", "userRequest가 없습니다.")
        user = user_request.get("user")
        user_id = user.get("id") if isinstance(user, dict) else None
        if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > MAX_USER_ID_CHARS:
            raise SkillError(
                400, "missing_user", "사용자 id(userRequest.user.id)가 없거나 올바르지 않습니다."
            )
        utterance = user_request.get("utterance", "")
        if not isinstance(utterance, str):
            raise SkillError(400, "bad_request", "userRequest.utterance는 글자여야 합니다.")
        action = payload.get("action", {})
        params = action.get("params", {}) if isinstance(action, dict) else None
        if not isinstance(params, dict):
            raise SkillError(400, "bad_request", "action.params는 객체여야 합니다.")
        key = params.get(KEY_PARAM)
        if key is not None and (not isinstance(key, str) or key not in set("0123456789*#")):
            raise SkillError(400, "bad_request", "action.params.key는 0-9, *, # 중 하나여야 합니다.")
        callback = user_request.get("callbackUrl")
        if callback is not None:
            callback = self._check_callback(callback)
        request_id = _header(headers, "X-Request-Id")
        if request_id is not None and not (0 < len(request_id) <= 200):
            raise SkillError(400, "bad_request", "X-Request-Id는 200자 이하여야 합니다.")
        marker = callback or request_id
        request_key = "kakao:" + hashlib.sha256(marker.encode()).hexdigest()[:48] if marker else None
        return SkillRequest(user_id.strip(), utterance, key, callback, request_key)

    def _check_callback(self, url: Any) -> str:
        if not isinstance(url, str) or len(url) > 2000:
            raise SkillError(400, "bad_callback", "userRequest.callbackUrl이 올바르지 않습니다.")
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        allowed = any(host == h or host.endswith("." + h) for h in self.config.callback_hosts)
        if parts.scheme != "https" or not allowed:
            raise SkillError(
                400,
                "bad_callback",
                "userRequest.callbackUrl은 카카오의 https 주소여야 합니다 (kakao.callback_hosts).",
            )
        return url

    # ------------------------------------------------------------------------------------ answer
    def _answer(self, request: SkillRequest) -> tuple[int, dict[str, Any]]:
        future = self._pool.submit(
            self.chat.converse,
            "kakao",
            request.user_id,
            request.utterance,
            key=request.key,
            request_key=request.request_key,
        )
        try:
            reply = future.result(timeout=self.config.budget_s)
        except FutureTimeout:
            return self._slow(request, future)
        except ChatError as exc:
            log.info("kakao skill message refused: %s", exc.code)
            return exc.status, {"error": exc.code, "message": exc.message}
        if _awaits_agent(reply) and request.callback_url is not None:
            # A person answers: hold the one-time callback for the agent's reply (Kakao keeps it a minute).
            url = request.callback_url
            self._waits.submit(self._agent_reply, url, reply)
            log.info("kakao skill: the agent's reply goes through the callback")
            return 200, {"version": "2.0", "useCallback": True, "data": {"text": AGENT_WAIT_TEXT}}
        self._delivered(reply)
        return 200, skill_response(reply)

    def _agent_reply(self, url: str, reply: ChatReply) -> None:
        """Poll the conversation for what the agent writes, up to ``agent_wait_s``; send it (or, when none
        came, that the answer will follow with the next message) to the callback URL."""
        conversation = reply.conversation.id
        after = reply.messages[-1].seq if reply.messages else 0
        shown = reply.messages
        deadline = time.monotonic() + self.config.agent_wait_s
        current = reply
        while time.monotonic() < deadline and not self._closing.is_set():
            try:
                current = self.chat.history(conversation, after)
            except ChatError:
                break
            if (
                any(m.role in ("agent", "system") for m in current.messages)
                or current.conversation.state != "agent"
            ):
                break
            self._closing.wait(self.config.agent_poll_s)
        news = tuple(m for m in current.messages if m.role in ("agent", "system"))
        if news:
            late = ChatReply(current.conversation, (*shown, *news))
            payload = skill_response(late)
        else:
            late = None
            payload = text_response(AGENT_LATER_TEXT)
        try:
            self.sender.send(url, payload)
        except Exception as exc:  # noqa: BLE001 - Kakao unreachable: shown with the next reply instead
            log.warning("kakao skill: callback delivery failed (%s)", type(exc).__name__)
            return
        if late is not None:
            self._delivered(late)

    def _slow(self, request: SkillRequest, future: Future[ChatReply]) -> tuple[int, dict[str, Any]]:
        if request.callback_url is not None:
            url = request.callback_url
            future.add_done_callback(lambda done: self._deliver(url, done))
            log.info("kakao skill: slow reply, answering through the callback")
            return 200, {"version": "2.0", "useCallback": True, "data": {"text": WAIT_TEXT}}
        # Not marked delivered: the reply goes out with the reply to the user's next message.
        log.info("kakao skill: slow reply and no callback; shown with the next reply")
        return 200, text_response(LATE_TEXT)

    def _delivered(self, reply: ChatReply) -> None:
        if reply.messages:
            self.chat.mark_delivered(reply.conversation.id, reply.messages[-1].seq)

    def _deliver(self, url: str, done: Future[ChatReply]) -> None:
        reply = None
        try:
            reply = done.result()
            payload = skill_response(reply)
        except ChatError as exc:
            payload = text_response(exc.message)
        except Exception:  # noqa: BLE001 - the user must get an answer rather than silence
            log.exception("kakao skill: the slow reply failed")
            payload = text_response("죄송합니다. 답변을 준비하지 못했습니다. 다시 한 번 말씀해 주세요.")
        try:
            self.sender.send(url, payload)
        except Exception as exc:  # noqa: BLE001 - Kakao unreachable: shown with the next reply instead
            log.warning("kakao skill: callback delivery failed (%s)", type(exc).__name__)
            return
        if reply is not None:
            self._delivered(reply)


def _awaits_agent(reply: ChatReply) -> bool:
    """The message went to an agent who has not answered it yet (nothing new to show but the user's own)."""
    return reply.conversation.state == "agent" and not any(
        m.role in ("agent", "system") for m in reply.messages
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


# ---------------------------------------------------------------------------------------- responses


def text_response(text: str) -> dict[str, Any]:
    return {"version": "2.0", "template": {"outputs": [{"simpleText": {"text": text[:SIMPLE_TEXT_CHARS]}}]}}


def _shown_text(message: MessageView) -> str:
    return AGENT_PREFIX + message.text if message.role == "agent" else message.text


def emergency_card(texts: list[str]) -> dict[str, Any]:
    buttons = [
        {"action": "phone", "label": "119 전화 (화재·구급)", "phoneNumber": "119"},
        {"action": "phone", "label": "112 전화 (경찰)", "phoneNumber": "112"},
    ]
    if any("109" in t for t in texts):
        buttons.append({"action": "phone", "label": "109 전화 (자살예방)", "phoneNumber": "109"})
    return {
        "textCard": {
            "title": "긴급 전화",
            "description": "위급한 상황이면 지금 바로 전화해 주세요.",
            "buttons": buttons,
        }
    }


def quick_reply_json(reply: QuickReply) -> dict[str, str]:
    label = reply.label
    if len(label) > KAKAO_LABEL_CHARS:
        label = label[: KAKAO_LABEL_CHARS - 1] + "…"
    return {"label": label, "action": "message", "messageText": reply.label}


def skill_response(reply: ChatReply) -> dict[str, Any]:
    """The skill response for the messages the user has not seen yet: the bot's, the agent's and notices as
    simple texts (at most three components, the earliest merged), a 119/112 card after an emergency, the
    offered quick replies."""
    shown = [m for m in reply.messages if m.role in ("bot", "agent", "system") and m.text]
    texts = [_shown_text(m) for m in shown]
    emergency = any(m.emergency for m in shown)
    room = MAX_OUTPUTS - (1 if emergency else 0)
    if len(texts) > room:
        texts = ["\n\n".join(texts[: len(texts) - room + 1]), *texts[len(texts) - room + 1 :]]
    outputs: list[dict[str, Any]] = [{"simpleText": {"text": t[:SIMPLE_TEXT_CHARS]}} for t in texts]
    if emergency:
        outputs.append(emergency_card(texts))
    if not outputs:
        relayed = AGENT_RELAYED if reply.conversation.state == "agent" else "메시지를 받았습니다."
        outputs = [{"simpleText": {"text": relayed}}]
    template: dict[str, Any] = {"outputs": outputs}
    offered = reply.conversation.quick_replies[:KAKAO_MAX_QUICK_REPLIES]
    if offered:
        template["quickReplies"] = [quick_reply_json(q) for q in offered]
    return {"version": "2.0", "template": template}
