"""``voicebot call``: a whole inbound call simulated from a WAV file, with keypad presses at given times.

The file is a transport like SIP and WebRTC: the same ``CallDriver`` runs the call (keypad, transfer and
its call-back offer, play-out, the ``CallRecord``). The caller's side is the file, streamed in real time
or as fast as possible; after it ends the line stays open and silent, as a caller who stopped talking
would, until the bot closes the call or ``max_call_s`` passes. The bot's side is what the line took from
the driver, frame by frame, so the recording is what the caller would have heard and when.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media.audio import PIPELINE_RATE, Audio, AudioFrame, iter_frames, pcm16_to_float, write_wav
from media.stream import FrameQueue, paced
from voicebot.call.driver import CallDriver, DriverConfig
from voicebot.call.handoff import HandoffRegistry
from voicebot.call.protocols import CallHandler
from voicebot.call.record import CallRecord

_DTMF = re.compile(r"^([0-9*#A-D])@(\d+(?:\.\d+)?)$")
FRAME_MS = 20


@dataclass(frozen=True)
class KeyPress:
    digit: str
    at_s: float


def parse_dtmf(spec: str | None) -> list[KeyPress]:
    """``"1@3.5,*@10"`` -> presses sorted by time; a malformed item raises ValueError naming it."""
    if not spec:
        return []
    presses = []
    for item in spec.split(","):
        match = _DTMF.match(item.strip())
        if not match:
            raise ValueError(f"bad keypad press {item.strip()!r}: expected DIGIT@SECONDS, e.g. 1@3.5")
        presses.append(KeyPress(match.group(1), float(match.group(2))))
    return sorted(presses, key=lambda p: p.at_s)


def caller_frames(audio: Audio, frame_ms: int, max_s: float) -> Iterator[AudioFrame]:
    """The file's frames, then silence until ``max_s``."""
    yield from iter_frames(audio, frame_ms)
    size = audio.sample_rate * frame_ms // 1000
    index = -(-len(audio.samples) // size)
    silent = b"\x00" * size * 2
    while index * frame_ms / 1000 < max_s:
        yield AudioFrame(silent, audio.sample_rate, index * frame_ms / 1000)
        index += 1


class FileLine:
    """The file as the driver's transport and inbox: each ``get`` is the next caller frame (after the keys
    due by then), and each frame also takes one bot frame off the driver's queue, as a line's clock would.
    Nothing can be transferred to an agent from a file, so the driver offers a call-back instead."""

    name = "file"
    wire_rate = PIPELINE_RATE
    can_transfer = False

    def __init__(self, caller: Audio, presses: list[KeyPress], max_s: float, realtime: bool):
        if caller.sample_rate != PIPELINE_RATE:
            caller = caller.resampled(PIPELINE_RATE)
        frames = caller_frames(caller, FRAME_MS, max_s)
        self._frames = paced(frames) if realtime else frames
        self._presses = deque(presses)
        self._queued: deque[tuple[str, object]] = deque()
        self.outgoing: FrameQueue | None = None  # the driver's, once it exists
        self.caller: list[np.ndarray] = []
        self.heard: list[bytes] = []
        self.published: list[dict] = []

    # -- the driver's inbox -----------------------------------------------------------------------

    def put(self, item: tuple[str, object]) -> None:
        self._queued.append(item)

    def get(self, block: bool = True, timeout: float | None = None) -> tuple[str, object]:
        if self._queued:
            return self._queued.popleft()
        frame = next(self._frames, None)
        if frame is None:
            return ("hangup", "caller_hangup")  # max_call_s of line time: the caller gives up
        if self.outgoing is not None:
            self.heard.append(self.outgoing.pop())
        samples = frame.samples()
        self.caller.append(samples)
        while self._presses and self._presses[0].at_s <= frame.start_s:
            self._queued.append(("dtmf", self._presses.popleft().digit))
        self._queued.append(("audio", (samples, PIPELINE_RATE)))
        return self._queued.popleft()

    # -- the driver's transport -------------------------------------------------------------------

    def hangup(self) -> None:
        """The bot hung up: the driver stops reading the file."""

    def transfer(self, target: str, headers: dict[str, str]) -> None:
        raise RuntimeError("a file call cannot be transferred (can_transfer is False)")

    def send_dtmf(self, digits: str) -> None:
        self.published.append({"type": "dtmf", "digits": digits})

    def publish(self, message: dict) -> None:
        self.published.append(message)


@dataclass
class SimulatedCall:
    record: CallRecord
    caller: np.ndarray  # what the file sent, 16 kHz
    bot: np.ndarray  # what the line took from the driver, 16 kHz, frame-aligned with ``caller``
    sample_rate: int = PIPELINE_RATE


def simulate_call(
    handler: CallHandler,
    caller: Audio,
    presses: list[KeyPress] = (),
    realtime: bool = False,
    *,
    max_call_s: float = 600.0,
    synthesizer=None,
    handoffs: HandoffRegistry | None = None,
    call_id: str = "file-1",
) -> SimulatedCall:
    """Run one call over the file in this thread; returns once the call is over."""
    line = FileLine(caller, list(presses), max_call_s, realtime)
    driver = CallDriver(
        CallRecord(call_id, transport="file"),
        handler,
        line,
        DriverConfig(),
        synthesizer=synthesizer,
        handoffs=handoffs,
        inbox=line,
    )
    line.outgoing = driver.outgoing
    driver.run()
    return SimulatedCall(
        record=driver.record,
        caller=np.concatenate(line.caller) if line.caller else np.zeros(0, np.float32),
        bot=pcm16_to_float(b"".join(line.heard)),
    )


def write_recording(result: SimulatedCall, path: str | Path) -> Path:
    """Two-channel WAV: caller left, bot right."""
    size = max(len(result.caller), len(result.bot))
    caller = np.pad(result.caller, (0, size - len(result.caller)))
    bot = np.pad(result.bot, (0, size - len(result.bot)))
    return write_wav(path, np.stack([caller, bot], axis=1), result.sample_rate, channels=2)
