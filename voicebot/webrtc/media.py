"""Audio between WebRTC (Opus at 48 kHz) and the 16 kHz pipeline.

Inbound, aiortc hands over decoded ``av.AudioFrame`` objects (48 kHz stereo s16 for Opus); they become
20 ms mono 16-bit frames at 16 kHz. Outbound, the call's worker thread queues the bot's 20 ms frames,
already resampled to 48 kHz, in an ``OutgoingAudio`` buffer, and ``BotTrack.recv`` hands aiortc one frame
every 20 ms (silence when the buffer is empty).
"""

from __future__ import annotations

import asyncio
import fractions
from collections import deque

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from voicebot.audio import PIPELINE_RATE, float_to_pcm16
from voicebot.sip.media import StreamResampler

WEBRTC_RATE = 48_000
FRAME_MS = 20
FRAME_S = FRAME_MS / 1000
PIPELINE_FRAME = PIPELINE_RATE * FRAME_MS // 1000  # 320 samples
WEBRTC_FRAME = WEBRTC_RATE * FRAME_MS // 1000  # 960 samples
_SILENCE_PEAK = 2  # int16 units: resampler tails below this are silence
_SCALE = {"s16": 32768.0, "s16p": 32768.0, "s32": 2147483648.0, "s32p": 2147483648.0}


def frame_to_mono(frame: av.AudioFrame) -> np.ndarray:
    """One decoded frame as mono float32 in [-1, 1] (channels averaged)."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        mono = data.astype(np.float32).mean(axis=0)
    else:
        mono = data.reshape(-1, channels).astype(np.float32).mean(axis=1)
    return mono / _SCALE.get(frame.format.name, 1.0)


class CallerAudio:
    """Caller audio at any rate and frame size -> 20 ms 16-bit PCM frames at 16 kHz."""

    def __init__(self) -> None:
        self._rate: int | None = None
        self._block = 0
        self._resampler: StreamResampler | None = None
        self._pending = np.zeros(0, np.float32)

    def push(self, samples: np.ndarray, rate: int) -> list[bytes]:
        if rate != self._rate:  # first frame, or the browser renegotiated the codec
            self._rate, self._block = rate, rate * FRAME_MS // 1000
            self._resampler = (
                StreamResampler(rate, PIPELINE_RATE, self._block) if rate != PIPELINE_RATE else None
            )
            self._pending = np.zeros(0, np.float32)
        self._pending = np.concatenate([self._pending, np.asarray(samples, np.float32)])
        frames = []
        while len(self._pending) >= self._block:
            block, self._pending = self._pending[: self._block], self._pending[self._block :]
            out = self._resampler.push(block) if self._resampler else block
            frames.append(float_to_pcm16(out))
        return frames


def is_silent(pcm: bytes) -> bool:
    return not pcm or int(np.abs(np.frombuffer(pcm, dtype="<i2")).max(initial=0)) <= _SILENCE_PEAK


class OutgoingAudio:
    """The bot's 48 kHz 20 ms frames waiting for the track's clock; fed by one thread, read by the loop.

    Speech is always kept; silence beyond ``max_silent_backlog`` frames is dropped on the way in, so a
    worker catching up after a slow decode cannot build up latency with queued silence.
    """

    SILENT = b"\x00" * WEBRTC_FRAME * 2

    def __init__(self, max_silent_backlog: int = 3):
        self._frames: deque[bytes] = deque()
        self.max_silent_backlog = max_silent_backlog
        self.speech_frames = 0  # frames of speech handed to the encoder
        self.underruns = 0

    def put(self, pcm: bytes) -> None:
        if is_silent(pcm):
            if len(self._frames) >= self.max_silent_backlog:
                return
            pcm = self.SILENT
        self._frames.append(pcm)

    def pop(self) -> bytes:
        try:
            pcm = self._frames.popleft()
        except IndexError:
            self.underruns += 1
            return self.SILENT
        if pcm is not self.SILENT:
            self.speech_frames += 1
        return pcm

    def clear(self) -> None:
        self._frames.clear()

    @property
    def drained(self) -> bool:
        return not self._frames


class BotTrack(MediaStreamTrack):
    """The bot's voice as an outgoing audio track: one 48 kHz mono frame every 20 ms."""

    kind = "audio"

    def __init__(self, audio: OutgoingAudio):
        super().__init__()
        self.audio = audio
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        else:
            self._pts += WEBRTC_FRAME
            await asyncio.sleep(self._start + self._pts / WEBRTC_RATE - loop.time())
        frame = av.AudioFrame(format="s16", layout="mono", samples=WEBRTC_FRAME)
        frame.planes[0].update(self.audio.pop())
        frame.pts = self._pts
        frame.sample_rate = WEBRTC_RATE
        frame.time_base = fractions.Fraction(1, WEBRTC_RATE)
        return frame
