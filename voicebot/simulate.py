"""``voicebot call``: a whole inbound call simulated from a WAV file, with keypad presses at given times.

The caller's side is the file, streamed in real time (or as fast as possible); after it ends the line
stays open and silent, as a caller who stopped talking would, until the bot closes or transfers the call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media.audio import Audio, AudioFrame, iter_frames, write_wav
from voicebot.listen import paced
from voicebot.session import CallConfig, CallSession, TurnRecord

_DTMF = re.compile(r"^([0-9*#A-D])@(\d+(?:\.\d+)?)$")


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


@dataclass
class CallResult:
    turns: list[TurnRecord]
    ended_reason: str
    duration_s: float
    handoff: dict | None
    caller: np.ndarray
    bot: np.ndarray
    sample_rate: int


def caller_frames(audio: Audio, frame_ms: int, max_s: float) -> Iterator[AudioFrame]:
    """The file's frames, then silence until ``max_s``."""
    yield from iter_frames(audio, frame_ms)
    size = audio.sample_rate * frame_ms // 1000
    index = -(-len(audio.samples) // size)
    silent = b"\x00" * size * 2
    while index * frame_ms / 1000 < max_s:
        yield AudioFrame(silent, audio.sample_rate, index * frame_ms / 1000)
        index += 1


def simulate_call(
    session: CallSession,
    caller: Audio,
    presses: list[KeyPress] = (),
    realtime: bool = False,
) -> CallResult:
    config: CallConfig = session.config
    if caller.sample_rate != config.sample_rate:
        caller = caller.resampled(config.sample_rate)
    pending = list(presses)
    caller_out: list[np.ndarray] = []
    bot_out: list[np.ndarray] = []
    session.start(0.0)
    frames = caller_frames(caller, config.frame_ms, config.max_call_s)
    now = 0.0
    for frame in paced(frames) if realtime else frames:
        now = frame.start_s
        while pending and pending[0].at_s <= now:
            session.on_dtmf(pending.pop(0).digit, now)
        bot_out.append(session.on_caller_frame(frame))
        caller_out.append(frame.samples())
        if session.ended:
            break
    if not session.ended_reason:
        session.hangup(now)
    return CallResult(
        turns=session.turns,
        ended_reason=session.ended_reason or "caller_hangup",
        duration_s=now,
        handoff=session.handoff,
        caller=np.concatenate(caller_out) if caller_out else np.zeros(0, np.float32),
        bot=np.concatenate(bot_out) if bot_out else np.zeros(0, np.float32),
        sample_rate=config.sample_rate,
    )


def write_recording(result: CallResult, path: str | Path) -> Path:
    """Two-channel WAV: caller left, bot right."""
    stereo = np.stack([result.caller, result.bot], axis=1)
    return write_wav(path, stereo, result.sample_rate, channels=2)
