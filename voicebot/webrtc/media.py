"""Audio between WebRTC (Opus at 48 kHz) and the 16 kHz pipeline.

Inbound, aiortc hands over decoded ``av.AudioFrame`` objects (48 kHz stereo s16 for Opus); they go to the
call driver as mono float samples. Outbound, the call driver queues the bot's 20 ms frames, already
resampled to 48 kHz, in a ``media.stream.FrameQueue``, and ``BotTrack.recv`` hands aiortc one frame
every 20 ms (silence when the buffer is empty).
"""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.stream import FrameQueue
from voicebot.webrtc.transport import WEBRTC_RATE

FRAME_MS = 20
WEBRTC_FRAME = WEBRTC_RATE * FRAME_MS // 1000  # 960 samples
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


class BotTrack(MediaStreamTrack):
    """The bot's voice as an outgoing audio track: one 48 kHz mono frame every 20 ms."""

    kind = "audio"

    def __init__(self, audio: FrameQueue):
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
