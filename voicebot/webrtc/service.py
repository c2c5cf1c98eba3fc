"""Browser calls for one server process: answers offers, enforces the call limit, ends every call on close."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dialog.prompts import RECORDING_NOTICE
from stt import Transcriber
from voicebot.call.driver import CallDriver, DriverConfig
from voicebot.call.handoff import HandoffRegistry
from voicebot.call.protocols import AgentQueue, CallHandler
from voicebot.call.record import CallRecord
from voicebot.webrtc.peer import OfferError, PeerCall
from voicebot.webrtc.transport import WebRTCTransport

log = logging.getLogger(__name__)

BUSY_KO = "죄송합니다. 지금은 통화량이 많아 연결할 수 없습니다. 잠시 후 다시 걸어 주세요."
NO_FINGERPRINT_KO = "암호화 정보(a=fingerprint)가 없는 연결 요청입니다. 최신 브라우저로 다시 걸어 주세요."
PER_CLIENT_KO = "같은 곳에서 이미 통화 중입니다. 진행 중인 통화를 마치신 뒤 다시 걸어 주세요."


@dataclass(frozen=True)
class WebRTCConfig:
    max_calls: int = 4  # browser calls at once; each decodes on the shared, locked Whisper model
    # Also offer a 127.0.0.1 host candidate (a browser on the same machine, tests); see voicebot.webrtc.ice.
    ice_loopback: bool = False
    media_timeout_s: float = 30.0  # no caller audio for this long ends the call
    record_dir: Path | None = None  # two-channel WAV per call (caller left, bot right), as for SIP
    recording_notice: str | None = RECORDING_NOTICE  # with record_dir: said once at the start; None: not
    # An answered offer whose media has not connected by then gives its slot back (issue 17: four
    # offers that never connect would otherwise hold every slot for half a minute).
    connect_timeout_s: float = 8.0
    # Calls (and offers being answered) from one client address at once: one browser cannot take every
    # line (issue 17). The address is the connection's, or a trusted proxy's X-Forwarded-For.
    max_calls_per_client: int = 2


class CallsBusy(RuntimeError):
    """Every call slot is taken; the message is shown to the caller."""

    def __init__(self, message: str = BUSY_KO):
        super().__init__(message)
        self.message = message


class ClientBusy(CallsBusy):
    """The caller's address already holds ``max_calls_per_client`` calls."""

    def __init__(self) -> None:
        super().__init__(PER_CLIENT_KO)


@dataclass(frozen=True)
class Answer:
    call_id: str
    sdp: str
    type: str = "answer"


class WebRTCService:
    """Owns the live browser calls. Use from one event loop; ``close()`` on shutdown."""

    def __init__(
        self,
        session_factory: Callable[[str], CallHandler],
        config: WebRTCConfig = WebRTCConfig(),
        on_call_end: Callable[[CallRecord], None] | None = None,
        handoffs: HandoffRegistry | None = None,
        synthesizer=None,
        on_abandoned: Callable[[str], None] | None = None,
        agents: AgentQueue | None = None,
        listener: Transcriber | None = None,
    ):
        self.listener = listener  # a transcriber: spoken answers to the call-back questions
        self.agents = agents  # a browser caller who cannot be transferred may book a call-back (issue 18)
        self.on_abandoned = on_abandoned  # a call whose offer failed: its session was made, no driver ran
        self.session_factory = session_factory
        self.config = config
        self.on_call_end = on_call_end  # called from the call's driver thread with its CallRecord
        self.handoffs = handoffs  # where the records of calls handed to an agent are kept
        self.synthesizer = synthesizer  # speaks the call-back offer when a call is handed over
        self._calls: dict[str, PeerCall] = {}
        self._reserved = 0  # slots taken by offers still being answered
        self._client_of: dict[str, str] = {}  # call id -> client address, for calls and offers in hand
        self._watchdogs: set[asyncio.Task] = set()

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    async def answer(self, sdp: str, kind: str = "offer", client: str | None = None) -> Answer:
        """Answer a browser's offer with a new call; raises ``CallsBusy`` (``ClientBusy`` when ``client``,
        the caller's address, already holds its share) or ``OfferError``."""
        if len(self._calls) + self._reserved >= self.config.max_calls:
            raise CallsBusy()
        if client is not None and self._held_by(client) >= self.config.max_calls_per_client:
            raise ClientBusy()
        if "a=fingerprint:" not in sdp.lower():  # DTLS-SRTP is mandatory; refused before any slot is held
            raise OfferError(NO_FINGERPRINT_KO)
        call_id = uuid.uuid4().hex[:12]
        if client is not None:
            self._client_of[call_id] = client
        self._reserved += 1  # held while the session is built off the loop
        try:
            session = await asyncio.to_thread(self.session_factory, call_id)
        except BaseException:
            self._client_of.pop(call_id, None)
            raise
        finally:
            self._reserved -= 1

        def make_driver(publish: Callable[[dict], None]) -> CallDriver:
            return CallDriver(
                CallRecord(call_id, transport="webrtc"),
                session,
                WebRTCTransport(publish),
                DriverConfig(
                    media_timeout_s=self.config.media_timeout_s,
                    record_dir=self.config.record_dir,
                    recording_notice=self.config.recording_notice,
                ),
                synthesizer=self.synthesizer,
                handoffs=self.handoffs,
                on_done=self.on_call_end,
                agents=self.agents,
                listener=self.listener,
            )

        call = PeerCall(call_id, make_driver, ice_loopback=self.config.ice_loopback, on_closed=self._forget)
        self._calls[call_id] = call
        try:
            answer = await call.answer(sdp, kind)
        except BaseException:
            await call.close()
            self._client_of.pop(call_id, None)
            if self.on_abandoned is not None:
                self.on_abandoned(call_id)
            raise
        log.info("webrtc call %s answered (%d active)", call_id, len(self._calls))
        watchdog = asyncio.ensure_future(self._drop_if_unconnected(call))
        self._watchdogs.add(watchdog)
        watchdog.add_done_callback(self._watchdogs.discard)
        return Answer(call_id, answer.sdp, answer.type)

    async def _drop_if_unconnected(self, call: PeerCall) -> None:
        await asyncio.sleep(self.config.connect_timeout_s)
        if self._calls.get(call.call_id) is call and call.pc.connectionState != "connected":
            log.info(
                "webrtc call %s: no media after %.0f s, slot released",
                call.call_id,
                self.config.connect_timeout_s,
            )
            await call.close("no_media")

    def _held_by(self, client: str) -> int:
        return sum(1 for held in self._client_of.values() if held == client)

    def _forget(self, call: PeerCall) -> None:
        if self._calls.get(call.call_id) is call:
            del self._calls[call.call_id]
            self._client_of.pop(call.call_id, None)
            log.info("webrtc call %s closed (%d active)", call.call_id, len(self._calls))

    async def hangup(self, call_id: str) -> bool:
        call = self._calls.get(call_id)
        if call is None:
            return False
        await call.close()
        return True

    async def close(self) -> None:
        """End every call (the page is told why) and wait for their threads."""
        for watchdog in list(self._watchdogs):
            watchdog.cancel()
        await asyncio.gather(*(call.close("shutdown") for call in list(self._calls.values())))


__all__ = ["Answer", "CallsBusy", "OfferError", "WebRTCConfig", "WebRTCService"]
