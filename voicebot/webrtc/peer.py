"""One browser call's aiortc peer: SDP answer, the two audio directions and the control data channel.

Everything here runs on the asyncio event loop and only hands work to the call's ``CallDriver``.
Control messages on the data channel are JSON: the page sends ``{"type": "dtmf", "digit": "2"}`` and
``{"type": "hangup"}``; the server sends transcript lines, call state and the end of the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from voicebot.call.driver import CallDriver
from voicebot.webrtc.ice import include_loopback
from voicebot.webrtc.media import BotTrack, frame_to_mono

log = logging.getLogger(__name__)

MAX_CONTROL_MESSAGE = 1024  # bytes; a keypad press is about 30
BAD_KEY_KO = "사용할 수 없는 버튼입니다. 0~9, 별표, 우물 정 버튼을 눌러 주세요."
_CLOSE_GRACE_S = 0.5  # lets the "ended" message leave before the transport closes


class OfferError(ValueError):
    """An offer this server cannot answer; the message is shown to the caller."""


class PeerCall:
    """The peer connection of one call and the call driver behind it."""

    def __init__(
        self,
        call_id: str,
        make_driver: Callable[[Callable[[dict], None]], CallDriver],
        ice_loopback: bool = False,
        on_closed: Callable[[PeerCall], None] | None = None,
    ):
        self.call_id = call_id
        self.ice_loopback = ice_loopback
        self.on_closed = on_closed
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN: nothing outside is reached
        self.driver = make_driver(self._publish_threadsafe)
        self._loop = asyncio.get_running_loop()
        self._channel: RTCDataChannel | None = None
        self._outbox: list[str] = []  # messages published before the data channel opened
        self._tasks: set[asyncio.Task] = set()
        self._closing: asyncio.Task | None = None
        self._closed = asyncio.Event()
        self.pc.on("track", self._on_track)
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("connectionstatechange", self._on_connection_state)

    async def answer(self, sdp: str, kind: str = "offer") -> RTCSessionDescription:
        """Answer the browser's offer (all candidates gathered: aiortc does not trickle)."""
        if kind != "offer" or not isinstance(sdp, str) or not sdp.strip():
            raise OfferError("통화 연결 요청이 올바르지 않습니다. 페이지를 새로 고친 뒤 다시 걸어 주세요.")
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:
            log.info("webrtc call %s: unusable offer (%s)", self.call_id, type(exc).__name__)
            raise OfferError(
                "브라우저의 통화 연결 정보를 처리하지 못했습니다. 다른 브라우저로 다시 걸어 주세요."
            ) from exc
        if not any(t.kind == "audio" for t in self.pc.getTransceivers()):
            raise OfferError("마이크 음성이 없는 연결 요청입니다. 마이크를 허용한 뒤 다시 걸어 주세요.")
        self.pc.addTrack(BotTrack(self.driver.outgoing))  # takes the offered audio transceiver
        if self.ice_loopback:
            include_loopback(self.pc)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self.driver.start()
        return self.pc.localDescription

    # -- media and control ------------------------------------------------------------------------

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._spawn(self._pump_caller(track))

    async def _pump_caller(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                break
            self.driver.caller_audio(frame_to_mono(frame), frame.sample_rate)
        self.driver.remote_hangup()

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        self._channel = channel
        channel.on("message", self._on_message)
        if channel.readyState == "open":
            self._flush()
        else:
            channel.on("open", self._flush)

    def _on_message(self, message) -> None:
        if not isinstance(message, str) or len(message) > MAX_CONTROL_MESSAGE:
            return
        try:
            data = json.loads(message)
        except ValueError:
            return
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "dtmf":
            if not self.driver.dtmf(str(data.get("digit", "")).upper()):
                self._send({"type": "error", "message": BAD_KEY_KO})
        elif kind == "hangup":
            self.driver.remote_hangup()

    def _on_connection_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self.driver.remote_hangup()
            self.close_soon()

    def _publish_threadsafe(self, message: dict) -> None:
        """Called from the driver's thread."""
        with contextlib.suppress(RuntimeError):  # the loop is gone: the server is shutting down
            self._loop.call_soon_threadsafe(self._deliver, message)

    def _deliver(self, message: dict) -> None:
        self._send(message)
        if message.get("type") == "ended":
            self.close_soon(_CLOSE_GRACE_S)

    def _send(self, message: dict) -> None:
        text = json.dumps(message, ensure_ascii=False)
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(text)
        else:
            self._outbox.append(text)

    def _flush(self) -> None:
        outbox, self._outbox = self._outbox, []
        for text in outbox:
            self._channel.send(text)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- ending -----------------------------------------------------------------------------------

    def close_soon(self, delay_s: float = 0.0) -> None:
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close(delay_s))

    async def close(self, reason: str = "caller_hangup") -> None:
        """Hang up (if still up), close the peer connection and wait for the driver's thread to end."""
        self.driver.remote_hangup(reason)
        self.close_soon()
        await self._closed.wait()

    async def _close(self, delay_s: float) -> None:
        try:
            if delay_s:
                await asyncio.sleep(delay_s)
            self.driver.remote_hangup()
            await self.pc.close()
            for task in list(self._tasks):
                task.cancel()
            if not await asyncio.to_thread(self.driver.join, 10.0):
                log.error("webrtc call %s: driver thread did not stop", self.call_id)
        finally:
            self._closed.set()
            if self.on_closed is not None:
                self.on_closed(self)
