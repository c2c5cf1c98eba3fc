"""Audio between PJSIP's conference bridge (8 kHz, 20 ms, 16-bit) and the 16 kHz pipeline.

PJSIP decodes and encodes G.711 itself; its media clock thread calls ``BridgePort.onFrameReceived`` and
``onFrameRequested`` every 20 ms. Those callbacks never block and never touch the call session: caller
frames go into the call worker's queue, bot frames come out of an ``OutboundAudio`` buffer (silence when
it is empty).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from voicebot.audio import resample

TELEPHONY_RATE = 8_000
FRAME_MS = 20
FRAME_SAMPLES = TELEPHONY_RATE * FRAME_MS // 1000  # 160
FRAME_BYTES = FRAME_SAMPLES * 2
SILENT_FRAME = b"\x00" * FRAME_BYTES
_SILENCE_PEAK = 2  # int16 units: resampler tails below this are silence


def is_silent(pcm: bytes) -> bool:
    return not pcm or int(np.abs(np.frombuffer(pcm, dtype="<i2")).max(initial=0)) <= _SILENCE_PEAK


class StreamResampler:
    """Block-by-block resampling without edge clicks: each block is resampled with its neighbours as
    context, so the output lags the input by exactly one block (20 ms)."""

    def __init__(self, from_rate: int, to_rate: int, block: int):
        self.from_rate, self.to_rate, self.block = from_rate, to_rate, block
        self._prev = np.zeros(block, np.float32)
        self._cur = np.zeros(block, np.float32)

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Feed one block (float32); return the resampled previous block."""
        samples = np.asarray(samples, np.float32)
        if len(samples) != self.block:
            samples = np.resize(samples, self.block) if len(samples) else np.zeros(self.block, np.float32)
        window = np.concatenate([self._prev, self._cur, samples])
        out = resample(window, self.from_rate, self.to_rate)
        ratio = self.to_rate / self.from_rate
        start, size = int(round(self.block * ratio)), int(round(self.block * ratio))
        self._prev, self._cur = self._cur, samples
        return out[start : start + size]


class OutboundAudio:
    """The bot's 8 kHz frames waiting for PJSIP's clock. Thread-safe without locks on the hot path.

    Speech is always kept; silence beyond ``max_silent_backlog`` frames is dropped on the way in, so a
    worker that catches up after a stall cannot build up latency with queued silence.
    """

    def __init__(self, max_silent_backlog: int = 3):
        self._frames: deque[bytes] = deque()
        self.max_silent_backlog = max_silent_backlog
        self.played_speech = 0  # frames of speech handed to PJSIP
        self.underruns = 0
        self.dropped_silence = 0

    def put(self, pcm: bytes) -> None:
        if is_silent(pcm):
            if len(self._frames) >= self.max_silent_backlog:
                self.dropped_silence += 1
                return
            pcm = SILENT_FRAME
        self._frames.append(pcm)

    def pop(self) -> bytes:
        try:
            pcm = self._frames.popleft()
        except IndexError:
            self.underruns += 1
            return SILENT_FRAME
        if pcm is not SILENT_FRAME:
            self.played_speech += 1
        return pcm

    def clear(self) -> None:
        self._frames.clear()

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def drained(self) -> bool:
        return not self._frames


def make_bridge_port(
    on_caller_frame: Callable[[bytes], None], outbound: OutboundAudio, name: str = "voicebot", recorder=None
):
    """An ``AudioMediaPort`` registered on the conference bridge (8 kHz mono, 20 ms)."""
    import pjsua2 as pj

    class BridgePort(pj.AudioMediaPort):
        def __init__(self) -> None:
            super().__init__()
            self.active = True

        def onFrameReceived(self, frame) -> None:  # PJSIP media clock thread
            if not self.active or frame.type != pj.PJMEDIA_FRAME_TYPE_AUDIO:
                return
            try:
                pcm = bytes(frame.buf)
                if len(pcm) == FRAME_BYTES:
                    on_caller_frame(pcm)
                    if recorder is not None:
                        recorder.add_caller(pcm)
            except Exception:  # never let an exception unwind into PJSIP's clock thread
                pass

        def onFrameRequested(self, frame) -> None:  # PJSIP media clock thread
            try:
                pcm = outbound.pop() if self.active else SILENT_FRAME
                if recorder is not None and self.active:
                    recorder.add_bot(pcm)
                frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
                frame.buf = pj.ByteVector(pcm)
                frame.size = len(pcm)
            except Exception:
                pass

    port = BridgePort()
    fmt = pj.MediaFormatAudio()
    fmt.type = pj.PJMEDIA_TYPE_AUDIO
    fmt.clockRate = TELEPHONY_RATE
    fmt.channelCount = 1
    fmt.bitsPerSample = 16
    fmt.frameTimeUsec = FRAME_MS * 1000
    port.createPort(name, fmt)
    return port
