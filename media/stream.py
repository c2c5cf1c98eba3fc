"""Audio between a transport's clock and the call: caller audio into 20 ms pipeline frames, block
resampling, and the bot's outgoing frame queue.

Every transport (PJSIP's 8 kHz conference bridge, aiortc's 48 kHz track, a file) hands over caller audio in
its own blocks and reads the bot's frames on its own clock; these pieces are the same for each.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np

from media.audio import PIPELINE_RATE, AudioFrame, float_to_pcm16, resample

_SILENCE_PEAK = 2  # int16 units: resampler tails below this are silence


def is_silent(pcm: bytes) -> bool:
    """16-bit PCM with nothing above a resampler's rounding noise."""
    return not pcm or int(np.abs(np.frombuffer(pcm, dtype="<i2")).max(initial=0)) <= _SILENCE_PEAK


class StreamResampler:
    """Block-by-block resampling that gives what resampling the whole stream at once gives (no clicks at
    block edges): each block is resampled with as much of its neighbours as the polyphase filter of
    ``media.audio.resample`` reaches, so the output lags the input by that reach (``lag_samples`` input
    samples, 1.25 ms between 8 and 16 kHz), not by a whole block."""

    def __init__(self, from_rate: int, to_rate: int, block: int):
        self.from_rate, self.to_rate, self.block = from_rate, to_rate, block
        g = math.gcd(from_rate, to_rate)
        self._up, self._down = to_rate // g, from_rate // g
        # resample_poly's default filter has 10 * max(up, down) taps each side at the upsampled rate;
        # the look-ahead is that many input samples, rounded up so each block starts on an output sample.
        reach = math.ceil(10 * max(self._up, self._down) / self._up)
        self.lag_samples = math.ceil(reach / self._down) * self._down
        self._out_size = block * self._up // self._down
        self._history = np.zeros(2 * self.lag_samples, np.float32)  # context before, look-ahead after

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Feed one block (float32); return one block's worth of output, ``lag_samples`` behind."""
        samples = np.asarray(samples, np.float32)
        if len(samples) != self.block:
            samples = np.resize(samples, self.block) if len(samples) else np.zeros(self.block, np.float32)
        window = np.concatenate([self._history, samples])
        out = resample(window, self.from_rate, self.to_rate)
        start = self.lag_samples * self._up // self._down  # the output of the block that just left look-ahead
        self._history = window[-2 * self.lag_samples :]
        return out[start : start + self._out_size]


class FrameQueue:
    """The bot's 16-bit PCM frames (``frame_bytes`` each) waiting for the transport's clock: filled by the
    call's thread, emptied by the transport's. ``deque`` appends and pops are atomic, so no lock.

    Speech is always kept; silence beyond ``max_silent_backlog`` frames is dropped on the way in, so a call
    that catches up after a slow decode cannot build up latency with queued silence, and silence still
    queued when speech comes is dropped, so the reply starts on the transport's next tick.
    """

    def __init__(
        self, frame_bytes: int, max_silent_backlog: int = 3, keep_silence_before_speech: bool = False
    ):
        self.silent_frame = b"\x00" * frame_bytes
        self.keep_silence_before_speech = keep_silence_before_speech  # a recording played as it is
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
        elif (
            not self.keep_silence_before_speech
            and self._frames
            and all(frame is self.silent_frame for frame in self._frames)
        ):
            # Speech after queued silence: the silence would only delay the reply by its length.
            self.dropped_silence += len(self._frames)
            self._frames.clear()
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


FRAME_MS = 20


class CallerAudio:
    """Caller audio at any rate and block size -> 20 ms 16-bit PCM frames at the 16 kHz pipeline rate."""

    def __init__(self, frame_ms: int = FRAME_MS) -> None:
        self.frame_ms = frame_ms
        self._rate: int | None = None
        self._block = 0
        self._resampler: StreamResampler | None = None
        self._pending = np.zeros(0, np.float32)

    def push(self, samples: np.ndarray, rate: int) -> list[bytes]:
        if rate != self._rate:  # first audio, or the far end changed codec
            self._rate, self._block = rate, rate * self.frame_ms // 1000
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


def paced(frames: Iterable[AudioFrame]) -> Iterator[AudioFrame]:
    """Release each frame no earlier than its time in the stream, as a live source would."""
    started = time.perf_counter()
    for frame in frames:
        delay = frame.end_s - (time.perf_counter() - started)
        if delay > 0:
            time.sleep(delay)
        yield frame
