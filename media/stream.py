"""Audio between a transport's clock and the call: block resampling and the bot's outgoing frame queue.

Both transports (PJSIP's 8 kHz conference bridge, aiortc's 48 kHz track) read the bot's frames on their
own clock, and both feed the caller's audio in fixed blocks; these two pieces are the same for each.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from media.audio import resample

_SILENCE_PEAK = 2  # int16 units: resampler tails below this are silence


def is_silent(pcm: bytes) -> bool:
    """16-bit PCM with nothing above a resampler's rounding noise."""
    return not pcm or int(np.abs(np.frombuffer(pcm, dtype="<i2")).max(initial=0)) <= _SILENCE_PEAK


class StreamResampler:
    """Block-by-block resampling without edge clicks: each block is resampled with its neighbours as
    context, so the output lags the input by exactly one block."""

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


class FrameQueue:
    """The bot's 16-bit PCM frames (``frame_bytes`` each) waiting for the transport's clock: filled by the
    call's thread, emptied by the transport's. ``deque`` appends and pops are atomic, so no lock.

    Speech is always kept; silence beyond ``max_silent_backlog`` frames is dropped on the way in, so a call
    that catches up after a slow decode cannot build up latency with queued silence.
    """

    def __init__(self, frame_bytes: int, max_silent_backlog: int = 3):
        self.silent_frame = b"\x00" * frame_bytes
        self._frames: deque[bytes] = deque()
        self.max_silent_backlog = max_silent_backlog
        self.played_speech = 0  # frames of speech handed to the transport
        self.underruns = 0
        self.dropped_silence = 0

    def put(self, pcm: bytes) -> None:
        if is_silent(pcm):
            if len(self._frames) >= self.max_silent_backlog:
                self.dropped_silence += 1
                return
            pcm = self.silent_frame
        self._frames.append(pcm)

    def pop(self) -> bytes:
        try:
            pcm = self._frames.popleft()
        except IndexError:
            self.underruns += 1
            return self.silent_frame
        if pcm is not self.silent_frame:
            self.played_speech += 1
        return pcm

    def clear(self) -> None:
        self._frames.clear()

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def drained(self) -> bool:
        return not self._frames
