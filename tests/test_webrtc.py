"""Browser calls without a browser: an aiortc client peer calls the caller page's offer endpoint on 127.0.0.1.

The client sends a real Korean recording as its microphone (Opus at 48 kHz, as a browser does), hears the
bot over the returned track, presses keys on the data channel and reads the transcript messages. The fast
tests use a stand-in transcriber (every utterance it gets is recorded, and it hears nothing), so they guard
the media path and the control channel without Whisper; the slow one transcribes the caller for real.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from fastapi import FastAPI

from benchmarks.metrics import character_error_rate
from media.audio import float_to_pcm16, load_audio, resample, silence
from media.stream import FrameQueue
from stt.types import Transcript
from voicebot.call.handoff import HandoffRegistry
from voicebot.call.protocols import HandlerFactory
from voicebot.call.session import CallConfig, CallSession
from voicebot.server.webrtc_routes import make_webrtc_router
from voicebot.webrtc import WebRTCConfig, WebRTCService
from voicebot.webrtc.ice import include_loopback
from voicebot.webrtc.media import WEBRTC_FRAME, BotTrack, frame_to_mono

RATE = 16_000
CLIP = (
    "0352"  # 8.0 s: "다른 지역에서는 그곳이 아무리 넓다 하더라도 푸야 라이몬디를 발견하기가 어려울 것입니다"
)


# -- the server: the router mounted in a tiny app, uvicorn in a thread ------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_calls(service: WebRTCService) -> Iterator[str]:
    """Serve ``make_webrtc_router(service)`` on 127.0.0.1; yields the base URL. Calls end on shutdown."""

    @asynccontextmanager
    async def lifespan(_app):
        yield
        await service.close()

    app = FastAPI(lifespan=lifespan)
    app.include_router(make_webrtc_router(service))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def call_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("webrtc-call-")]


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# -- models ------------------------------------------------------------------------------------------


class EarOnlyTranscriber:
    """Records every utterance the session asks it to decode and hears no words in it."""

    in_flight = 0  # no other calls share this model

    def __init__(self) -> None:
        self.utterances: list[np.ndarray] = []

    def transcribe(self, samples: np.ndarray, *args, **kwargs) -> Transcript:
        self.utterances.append(np.array(samples, np.float32))
        return Transcript("", "ko", 1.0, len(samples) / RATE, 0.0, "test")


def sessions(engine, transcriber, synthesizer) -> HandlerFactory:
    def make(call_id: str, caller_number: str | None = None) -> CallSession:
        return CallSession(engine, transcriber, synthesizer, CallConfig(), call_id=call_id)

    return make


# -- the client peer -----------------------------------------------------------------------------------


def microphone_track(samples: np.ndarray) -> BotTrack:
    """A microphone playing 16 kHz samples once, then silence: the server's own paced 48 kHz track,
    fed every frame of the clip up front (silence kept: it is part of the caller's timing)."""
    pcm = float_to_pcm16(resample(samples, RATE, 48_000))
    size = WEBRTC_FRAME * 2
    frames = [pcm[k : k + size].ljust(size, b"\x00") for k in range(0, len(pcm), size)]
    audio = FrameQueue(WEBRTC_FRAME * 2, max_silent_backlog=len(frames), keep_silence_before_speech=True)
    for frame in frames:
        audio.put(frame)
    return BotTrack(audio)


@dataclass
class Caller:
    """One call from the test's side: what it heard and every control message it got."""

    base_url: str
    microphone: np.ndarray
    messages: list[dict] = field(default_factory=list)
    heard: list[np.ndarray] = field(default_factory=list)  # 48 kHz mono
    answer: dict | None = None

    def microphone_track(self) -> MediaStreamTrack:
        """What the caller sends: ``microphone``, played once."""
        return microphone_track(self.microphone)

    async def __aenter__(self) -> Caller:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTrack(self.microphone_track())
        self.channel = self.pc.createDataChannel("control")
        self.channel.on("message", lambda text: self.messages.append(json.loads(text)))
        self._tasks: list[asyncio.Task] = []
        self.pc.on("track", lambda track: self._tasks.append(asyncio.ensure_future(self._listen(track))))
        include_loopback(self.pc)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(
                f"{self.base_url}/api/webrtc/offer",
                json={"sdp": self.pc.localDescription.sdp, "type": self.pc.localDescription.type},
            )
        assert response.status_code == 200, response.text
        self.answer = response.json()
        await self.pc.setRemoteDescription(RTCSessionDescription(self.answer["sdp"], self.answer["type"]))
        return self

    async def __aexit__(self, *exc) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()

    async def _listen(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                self.heard.append(frame_to_mono(await track.recv()))

    def loudest(self, window_s: float = 0.5) -> float:
        """The highest RMS over any half-second of what the caller heard."""
        heard = np.concatenate(self.heard) if self.heard else np.zeros(0, np.float32)
        size = int(48_000 * window_s)
        if len(heard) < size:
            return 0.0
        return max(
            float(np.sqrt(np.mean(np.square(heard[i : i + size]))))
            for i in range(0, len(heard) - size, size // 2)
        )

    def lines(self, speaker: str) -> list[dict]:
        return [m for m in self.messages if m.get("type") == "transcript" and m["speaker"] == speaker]

    async def wait_for(self, predicate: Callable[[dict], bool], timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for message in self.messages:
                if predicate(message):
                    return message
            await asyncio.sleep(0.05)
        raise AssertionError(f"no such message within {timeout_s} s; got {self.messages}")

    async def send(self, message: dict) -> None:
        deadline = time.monotonic() + 10
        while self.channel.readyState != "open":
            assert time.monotonic() < deadline, "the data channel did not open"
            await asyncio.sleep(0.05)
        self.channel.send(json.dumps(message))


def microphone(clip_path: Path, before_s: float, after_s: float) -> np.ndarray:
    audio = load_audio(clip_path, RATE)
    return np.concatenate([silence(before_s), audio.samples, silence(after_s)])


def clip_named(clips, stem: str):
    return next(c for c in clips if c.path.stem.endswith(stem))


# -- tests -------------------------------------------------------------------------------------------


def test_call_over_webrtc_keypad_and_hangup(engine, synthesizer, korean_clips):
    """Greeting heard and shown, 2 opens the water menu, the recording reaches the session at 16 kHz with
    its real length, and the caller's hang-up ends the call and its thread."""
    clip = clip_named(korean_clips, CLIP)
    clip_s = load_audio(clip.path, RATE).duration_s
    ear = EarOnlyTranscriber()
    service = WebRTCService(sessions(engine, ear, synthesizer), WebRTCConfig(ice_loopback=True))

    def heard_s() -> float:
        return sum(len(u) for u in ear.utterances) / RATE

    async def call(base_url: str) -> Caller:
        async with Caller(base_url, microphone(clip.path, before_s=2.0, after_s=30.0)) as caller:
            assert "127.0.0.1" in caller.answer["sdp"]  # the loopback host candidate
            greeting = await caller.wait_for(lambda m: m.get("turn") == 0 and m.get("speaker") == "bot", 10)
            assert greeting["trigger"] == "start" and "다산콜센터" in greeting["text"]
            await asyncio.sleep(1.5)
            assert caller.loudest() > 0.02, "the caller heard only silence from the bot"
            await caller.send({"type": "dtmf", "digit": "2"})
            water = await caller.wait_for(
                lambda m: m.get("speaker") == "bot" and m.get("trigger") == "dtmf", 5
            )
            assert water["category"] == "water" and "상수도" in water["text"]
            pressed = caller.lines("caller")
            assert pressed and pressed[0]["trigger"] == "dtmf" and pressed[0]["text"] == "2"
            await caller.send({"type": "dtmf", "digit": "x"})
            await caller.wait_for(lambda m: m.get("type") == "error" and "버튼" in m["message"], 5)
            # the recording (2 s of silence, then speech) is endpointed and handed to the transcriber
            assert await asyncio.to_thread(wait_until, lambda: heard_s() > clip_s - 2.5, 20), heard_s()
            await caller.send({"type": "hangup"})
            ended = await caller.wait_for(lambda m: m.get("type") == "ended", 10)
            assert ended["reason"] == "caller_hangup" and "종료" in ended["message"]
            return caller

    with serve_calls(service) as base_url:
        asyncio.run(call(base_url))
        assert wait_until(lambda: service.active_calls == 0 and not call_threads(), 10), call_threads()
    # the clip's own leading/trailing silence (and a pause, where the VAD splits the sentence) is left
    # out; each utterance carries up to 300 ms of pre-roll and 600 ms of hangover
    assert clip_s - 2.5 < heard_s() < clip_s + 1.0 * len(ear.utterances), heard_s()
    assert all(float(np.sqrt(np.mean(np.square(u)))) > 0.01 for u in ear.utterances)


def test_busy_bad_offer_and_page(engine, synthesizer, korean_clips):
    """Beyond max_calls an offer gets 503 with a Korean message; a broken offer 400; the page is local-only."""
    ear = EarOnlyTranscriber()
    clip = clip_named(korean_clips, CLIP)
    service = WebRTCService(sessions(engine, ear, synthesizer), WebRTCConfig(max_calls=1, ice_loopback=True))

    async def two_calls(base_url: str) -> None:
        async with Caller(base_url, microphone(clip.path, 1.0, 20.0)) as caller:
            await caller.wait_for(lambda m: m.get("speaker") == "bot", 10)
            async with httpx.AsyncClient(timeout=10) as http:
                busy = await http.post(
                    f"{base_url}/api/webrtc/offer", json={"sdp": "v=0\r\n", "type": "offer"}
                )
                status = (await http.get(f"{base_url}/api/webrtc/status")).json()
            assert busy.status_code == 503 and busy.json()["error"] == "busy"
            assert "통화량이 많아" in busy.json()["message"]
            assert status == {"active_calls": 1, "max_calls": 1}

    with serve_calls(service) as base_url:
        asyncio.run(two_calls(base_url))  # leaving the block closes the client's peer connection
        assert wait_until(lambda: service.active_calls == 0 and not call_threads(), 40), call_threads()
        with httpx.Client(base_url=base_url, timeout=10) as http:
            bad = http.post("/api/webrtc/offer", json={"sdp": "this is not SDP", "type": "offer"})
            assert bad.status_code == 400 and bad.json()["error"] == "bad_offer"
            assert "다시 걸어 주세요" in bad.json()["message"]
            wrong_type = http.post("/api/webrtc/offer", json={"sdp": "v=0", "type": "answer"})
            assert wrong_type.status_code == 422  # refused by the schema (type is "offer")
            assert service.active_calls == 0 and not call_threads()
            page = http.get("/call")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "전화 걸기" in page.text and "끊기" in page.text and 'lang="ko"' in page.text
            for name in ("call.js", "call.css"):
                asset = http.get(f"/call/assets/{name}")
                assert asset.status_code == 200, name
                assert "http://" not in asset.text and "https://" not in asset.text, name
            assert "http://" not in page.text and "https://" not in page.text
            assert http.get("/call/assets/../webrtc_routes.py").status_code == 404


@pytest.mark.slow
def test_caller_speech_is_transcribed_over_webrtc(engine, synthesizer, korean_clips):
    """A real recording over Opus, 48 kHz -> 16 kHz, endpointed and transcribed by Whisper base."""
    from stt import BatchingTranscriber, create_transcriber

    clip = clip_named(korean_clips, CLIP)
    transcriber = BatchingTranscriber(create_transcriber())
    service = WebRTCService(sessions(engine, transcriber, synthesizer), WebRTCConfig(ice_loopback=True))

    async def call(base_url: str) -> str:
        async with Caller(base_url, microphone(clip.path, before_s=2.0, after_s=30.0)) as caller:
            heard = await caller.wait_for(
                lambda m: m.get("speaker") == "caller" and m["trigger"] == "speech", 30
            )
            await caller.wait_for(lambda m: m.get("speaker") == "bot" and m.get("turn") == heard["turn"], 10)
            return heard["text"]

    with serve_calls(service) as base_url:
        text = asyncio.run(call(base_url))
        assert wait_until(lambda: service.active_calls == 0 and not call_threads(), 40), call_threads()
    cer = character_error_rate(clip.transcript, text)
    assert cer < 0.35, (text, cer)


def test_handed_over_call_offers_a_call_back(engine, synthesizer, korean_clips, tmp_path):
    """2 then 0 asks for an agent: the bot's reply plays out in full; a browser call cannot be transferred,
    so the caller hears the same apology and call-back offer as a SIP caller whose transfer failed, presses
    1, and the server ends the call, keeping the handoff record as a SIP call's is kept (file_handoff)."""
    ear = EarOnlyTranscriber()
    records = []
    handoffs = HandoffRegistry(tmp_path / "handoffs")
    service = WebRTCService(
        sessions(engine, ear, synthesizer),
        WebRTCConfig(ice_loopback=True),
        on_call_end=records.append,
        handoffs=handoffs,
        synthesizer=synthesizer,
    )

    async def call(base_url: str) -> Caller:
        async with Caller(base_url, silence(90.0)) as caller:
            await caller.wait_for(lambda m: m.get("turn") == 0, 10)
            await caller.send({"type": "dtmf", "digit": "2"})
            await caller.wait_for(lambda m: m.get("category") == "water", 5)
            await caller.send({"type": "dtmf", "digit": "0"})
            agent = await caller.wait_for(lambda m: m.get("action") == "escalate", 5)
            assert "상담원" in agent["text"]
            asked_at = time.monotonic()
            await caller.wait_for(lambda m: m.get("state") == "callback_offer", 20)
            assert time.monotonic() - asked_at > 5.0  # the 6.6 s reply was played, not cut off
            await asyncio.sleep(3.0)  # the offer is heard ...
            await caller.send({"type": "dtmf", "digit": "1"})  # ... and answered before it ends
            ended = await caller.wait_for(lambda m: m.get("type") == "ended", 30)
            assert ended["reason"] == "transfer" and "다시 연락" in ended["message"]
            return caller

    with serve_calls(service) as base_url:
        asyncio.run(call(base_url))
        assert wait_until(lambda: service.active_calls == 0 and not call_threads(), 10), call_threads()
    (call_record,) = records
    assert call_record.ended_reason == "transfer" and call_record.hangup_by == "bot"
    assert call_record.transfer == "unavailable" and call_record.callback_requested is True
    assert call_record.handoff and call_record.handoff["reason"] == "agent_request"
    assert call_record.bot_speech_s > 8.0  # frames with sound; the pauses between words do not count
    record = handoffs.get(call_record.handoff_id)
    assert record["reason"] == "agent_request" and record["category"] == "water"
    assert record["transport"] == "webrtc" and record["call_id"] == call_record.call_id
    assert record["summary"] == "시민 말씀 없음 (버튼으로만 이용)"  # keypad only
    assert record["transfer"] == "unavailable" and record["callback_requested"] is True
    assert handoffs.recent() == [record]
    assert (tmp_path / "handoffs" / f"{call_record.handoff_id}.json").is_file()


def test_loopback_is_the_only_interface(engine, synthesizer, monkeypatch):
    """With no host address but 127.0.0.1 (a bare container), both peers still connect over loopback."""
    import aioice.ice

    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: [])
    service = WebRTCService(
        sessions(engine, EarOnlyTranscriber(), synthesizer), WebRTCConfig(ice_loopback=True)
    )

    async def call(base_url: str) -> None:
        async with Caller(base_url, silence(30.0)) as caller:
            candidates = [
                line for line in caller.answer["sdp"].splitlines() if line.startswith("a=candidate")
            ]
            assert candidates and all(" 127.0.0.1 " in line for line in candidates), candidates
            await caller.wait_for(lambda m: m.get("turn") == 0, 10)
            await asyncio.sleep(1.5)
            assert caller.loudest() > 0.02

    with serve_calls(service) as base_url:
        asyncio.run(call(base_url))
        assert wait_until(lambda: service.active_calls == 0 and not call_threads(), 10), call_threads()


def test_the_private_aiortc_parts_the_loopback_candidate_needs_are_still_there():
    """voicebot/webrtc/ice.py is the one place that touches aiortc/aioice internals (the gatherer's
    ``_connection`` and aioice's ``_local_candidates``); this fails by name when a new aiortc or aioice
    moves them, before any call test fails in a less obvious way."""
    import aioice
    import aiortc

    from voicebot.webrtc.ice import _ice_gatherers

    async def check() -> None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        try:
            pc.addTransceiver("audio")
            (gatherer,) = _ice_gatherers(pc)
            versions = f"aiortc {aiortc.__version__}, aioice {aioice.__version__}"
            connection = getattr(gatherer, "_connection", None)
            assert isinstance(connection, aioice.Connection), (
                f"RTCIceGatherer._connection is gone ({versions})"
            )
            assert isinstance(getattr(connection, "_local_candidates", None), list), (
                f"aioice Connection._local_candidates is gone ({versions})"
            )
            for public in ("gather_candidates", "get_component_candidates", "local_candidates"):
                assert hasattr(connection, public), f"aioice Connection.{public} is gone ({versions})"
            assert include_loopback(pc) == 1 and include_loopback(pc) == 0  # wrapped once
        finally:
            await pc.close()

    asyncio.run(check())
