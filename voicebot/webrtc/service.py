"""Browser calls for one server process: answers offers, enforces the call limit, ends every call on close."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from voicebot.session import CallSession
from voicebot.sip.handoff import HandoffRegistry
from voicebot.webrtc.call import CallSummary, SessionThread
from voicebot.webrtc.peer import OfferError, PeerCall

log = logging.getLogger(__name__)

BUSY_KO = "죄송합니다. 지금은 통화량이 많아 연결할 수 없습니다. 잠시 후 다시 걸어 주세요."


@dataclass(frozen=True)
class WebRTCConfig:
    max_calls: int = 4  # browser calls at once; each decodes on the shared, locked Whisper model
    # Also offer a 127.0.0.1 host candidate (a browser on the same machine, tests); see voicebot.webrtc.ice.
    ice_loopback: bool = False
    media_timeout_s: float = 30.0  # no caller audio for this long ends the call


class CallsBusy(RuntimeError):
    """Every call slot is taken; the message is shown to the caller."""

    def __init__(self, message: str = BUSY_KO):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Answer:
    call_id: str
    sdp: str
    type: str = "answer"


class WebRTCService:
    """Owns the live browser calls. Use from one event loop; ``close()`` on shutdown."""

    def __init__(
        self,
        session_factory: Callable[[str], CallSession],
        config: WebRTCConfig = WebRTCConfig(),
        on_call_end: Callable[[CallSummary], None] | None = None,
        handoffs: HandoffRegistry | None = None,
    ):
        self.session_factory = session_factory
        self.config = config
        self.on_call_end = on_call_end  # called from the call's thread with its CallSummary
        self.handoffs = handoffs  # where the records of calls handed to an agent are kept
        self._calls: dict[str, PeerCall] = {}
        self._reserved = 0  # slots taken by offers still being answered

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    async def answer(self, sdp: str, kind: str = "offer") -> Answer:
        """Answer a browser's offer with a new call; raises ``CallsBusy`` or ``OfferError``."""
        if len(self._calls) + self._reserved >= self.config.max_calls:
            raise CallsBusy()
        call_id = uuid.uuid4().hex[:12]
        self._reserved += 1  # held while the session is built off the loop
        try:
            session = await asyncio.to_thread(self.session_factory, call_id)
        finally:
            self._reserved -= 1

        def make_thread(publish: Callable[[dict], None]) -> SessionThread:
            return SessionThread(
                call_id,
                session,
                publish,
                on_done=self.on_call_end,
                media_timeout_s=self.config.media_timeout_s,
                handoffs=self.handoffs,
            )

        call = PeerCall(call_id, make_thread, ice_loopback=self.config.ice_loopback, on_closed=self._forget)
        self._calls[call_id] = call
        try:
            answer = await call.answer(sdp, kind)
        except BaseException:
            await call.close()
            raise
        log.info("webrtc call %s answered (%d active)", call_id, len(self._calls))
        return Answer(call_id, answer.sdp, answer.type)

    def _forget(self, call: PeerCall) -> None:
        if self._calls.get(call.call_id) is call:
            del self._calls[call.call_id]
            log.info("webrtc call %s closed (%d active)", call.call_id, len(self._calls))

    async def hangup(self, call_id: str) -> bool:
        call = self._calls.get(call_id)
        if call is None:
            return False
        await call.close()
        return True

    async def close(self) -> None:
        """End every call (the page is told why) and wait for their threads."""
        await asyncio.gather(*(call.close("shutdown") for call in list(self._calls.values())))


__all__ = ["Answer", "CallsBusy", "OfferError", "WebRTCConfig", "WebRTCService"]
