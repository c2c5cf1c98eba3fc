"""Voice activity detection and endpointing.

A ``VoiceActivityDetector`` scores one frame; the ``Endpointer`` turns those scores into speech-start and
speech-end events with pre-roll, hangover, a minimum speech length and a maximum utterance length. While
the bot is speaking (``bot_speaking``), a confirmed speech start is reported as a barge-in, and a short
one is closed after a shorter hangover, so the session can tell an acknowledgement ("네") quickly. The
session can also lengthen (``hold_open``) or shorten (``allow_early_end``) the hangover of the open
utterance from what its words say.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from media.audio import AudioFrame


class VoiceActivityDetector(Protocol):
    name: str

    def is_speech(self, frame: AudioFrame) -> bool: ...


def frame_dbfs(frame: AudioFrame) -> float:
    samples = np.frombuffer(frame.pcm, dtype="<i2").astype(np.float64)
    return 10 * np.log10(np.mean(samples**2) / 32768.0**2 + 1e-12)


class WebRtcVad:
    """Google's WebRTC GMM VAD: 10/20/30 ms frames at 8, 16, 32 or 48 kHz; aggressiveness 0-3.

    The GMM is level-independent and calls breaths and line hiss at -55 dBFS speech, so frames quieter
    than ``min_dbfs`` are never speech; spoken words on a phone line sit between -35 and -10 dBFS.
    """

    name = "webrtc"

    def __init__(self, aggressiveness: int = 2, min_dbfs: float = -50.0):
        import webrtcvad

        if aggressiveness not in (0, 1, 2, 3):
            raise ValueError("webrtcvad aggressiveness must be 0, 1, 2 or 3")
        self._vad = webrtcvad.Vad(aggressiveness)
        self._min_dbfs = min_dbfs

    def is_speech(self, frame: AudioFrame) -> bool:
        return frame_dbfs(frame) >= self._min_dbfs and self._vad.is_speech(frame.pcm, frame.sample_rate)


class SileroVad:
    """Silero VAD (ONNX model shipped in the ``silero-vad`` package); scores 512-sample windows at 16 kHz."""

    name = "silero"
    WINDOW = 512

    def __init__(self, threshold: float = 0.5):
        try:
            from silero_vad import load_silero_vad
        except ImportError as exc:
            raise RuntimeError("Silero VAD needs the optional extra: pip install 'voicebot[silero]'") from exc
        self._model = load_silero_vad(onnx=True)
        self._threshold = threshold
        self._pending = np.zeros(0, dtype=np.float32)
        self._last = 0.0

    def is_speech(self, frame: AudioFrame) -> bool:
        import torch

        if frame.sample_rate != 16_000:
            raise ValueError("Silero VAD runs at 16 kHz")
        self._pending = np.concatenate([self._pending, frame.samples()])
        while len(self._pending) >= self.WINDOW:
            window, self._pending = self._pending[: self.WINDOW], self._pending[self.WINDOW :]
            self._last = float(self._model(torch.from_numpy(window), 16_000).item())
        return self._last >= self._threshold


def create_vad(kind: str = "webrtc", aggressiveness: int = 2) -> VoiceActivityDetector:
    if kind == "webrtc":
        return WebRtcVad(aggressiveness)
    if kind == "silero":
        return SileroVad()
    raise ValueError(f"unknown VAD {kind!r}; use 'webrtc' or 'silero'")


@dataclass(frozen=True)
class EndpointConfig:
    frame_ms: int = 20
    start_window_ms: int = 200  # speech must fill start_ratio of this window to open an utterance
    start_ratio: float = 0.6
    hangover_ms: int = 600  # silence after the last voiced frame that closes an utterance
    pre_roll_ms: int = 300  # audio kept from before the detected start
    min_speech_ms: int = 250  # shorter bursts (clicks, coughs) are discarded
    max_utterance_ms: int = 20_000  # forced end: Whisper's window is 30 s
    # A pause this long inside an utterance emits SpeechPause, so that the final transcript can be
    # decoded speculatively while the hangover runs; 0 disables.
    pause_ms: int = 200
    # When the speculative transcript of a pause reads as a finished sentence, the session may let the
    # utterance close after this much silence instead of the full hangover (adaptive endpointing).
    early_hangover_ms: int = 360
    # When it reads as a sentence the caller goes on after (-는데요, -거든요, "네,", a particle), the
    # session may hold the utterance open this long instead, so the second half is not answered out of
    # context. Callers searching for a word mid-sentence pause for well over a second.
    long_hangover_ms: int = 2_000
    # When it reads as a finished statement that is not yet a request the dialog can act on ("수도 요금이
    # 많이 나왔어요."), the caller often goes on with the question: wait this long.
    statement_hangover_ms: int = 1_000
    # Speech over the bot's prompt is closed after this much silence while it is no longer than
    # ``backchannel_max_ms`` of voice: a "네" is judged quickly and the prompt goes on. The prompt is
    # held (silent) from the speech's start, so a longer limit costs a real barge-in nothing audible; an
    # older caller's slow "그렇죠" or "아 그렇군요" runs past 1 s.
    backchannel_hangover_ms: int = 300
    backchannel_max_ms: int = 1_200


@dataclass(frozen=True)
class SpeechStart:
    time_s: float
    barge_in: bool = False


@dataclass(frozen=True)
class SpeechEnd:
    """A finished utterance: ``last_voiced_s`` is the end of the last voiced frame, ``time_s`` when it was
    declared (after the hangover), ``forced`` when the maximum length cut it."""

    start_s: float
    last_voiced_s: float
    time_s: float
    samples: np.ndarray = field(repr=False)
    sample_rate: int = 16_000
    forced: bool = False

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class SpeechDiscarded:
    start_s: float
    time_s: float
    reason: str


@dataclass(frozen=True)
class SpeechPause:
    """The caller paused for ``pause_ms`` inside an utterance. ``samples`` are exactly what SpeechEnd will
    carry if no more speech follows, so a transcript of them can stand for the final one."""

    start_s: float
    last_voiced_s: float
    time_s: float
    samples: np.ndarray = field(repr=False)
    sample_rate: int = 16_000


EndpointEvent = SpeechStart | SpeechEnd | SpeechDiscarded | SpeechPause


class Endpointer:
    """Frame-by-frame utterance segmentation. Not thread-safe: one per call."""

    def __init__(self, vad: VoiceActivityDetector, config: EndpointConfig = EndpointConfig()):
        self.vad = vad
        self.config = config
        self.bot_speaking = False
        window = max(1, config.start_window_ms // config.frame_ms)
        self._recent: collections.deque[tuple[AudioFrame, bool]] = collections.deque(maxlen=window)
        self._pre_roll: collections.deque[AudioFrame] = collections.deque(
            maxlen=max(1, config.pre_roll_ms // config.frame_ms)
        )
        self._frames: list[AudioFrame] = []
        self._in_speech = False
        self._start_s = 0.0
        self._last_voiced_s = 0.0
        self._voiced_ms = 0
        self._paused = False  # SpeechPause already sent for the current silence run
        self._early_end_after: float | None = None  # stream time from which the short hangover applies
        self._held_ms: int | None = None  # a longer hangover for the current silence run
        self._over_bot = False  # the utterance started while the bot was speaking

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def current_samples(self) -> np.ndarray:
        """The open utterance so far (pre-roll included), for partial hypotheses."""
        pcm = b"".join(f.pcm for f in self._frames)
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0

    @property
    def voiced_ms(self) -> int:
        """Voiced milliseconds in the open utterance (0 when none is open)."""
        return self._voiced_ms if self._in_speech else 0

    def hold_open(self, last_voiced_s: float, hangover_ms: int | None = None) -> None:
        """Close the utterance only after ``hangover_ms`` (default ``long_hangover_ms``) of silence if no
        speech follows ``last_voiced_s``; the session calls this when the sentence so far is one callers
        go on after."""
        if self._in_speech and last_voiced_s == self._last_voiced_s:
            self._held_ms = self.config.long_hangover_ms if hangover_ms is None else hangover_ms
            self._early_end_after = None

    def allow_early_end(self, last_voiced_s: float, not_before_s: float) -> None:
        """Close the utterance after ``early_hangover_ms`` of silence (not before ``not_before_s``) if no
        speech follows ``last_voiced_s``; the session calls this once it knows the sentence is finished."""
        if self._in_speech and last_voiced_s == self._last_voiced_s:
            self._early_end_after = not_before_s
            self._held_ms = None

    def process(self, frame: AudioFrame) -> Iterator[EndpointEvent]:
        voiced = self.vad.is_speech(frame)
        if not self._in_speech:
            yield from self._idle(frame, voiced)
        else:
            yield from self._speaking(frame, voiced)

    def flush(self, now_s: float) -> Iterator[EndpointEvent]:
        """End of input: close an open utterance as if the hangover had elapsed."""
        if self._in_speech:
            yield from self._close(now_s, forced=False)

    def _idle(self, frame: AudioFrame, voiced: bool) -> Iterator[EndpointEvent]:
        self._recent.append((frame, voiced))
        self._pre_roll.append(frame)
        speech = sum(v for _, v in self._recent)
        if len(self._recent) == self._recent.maxlen and speech >= self.config.start_ratio * len(self._recent):
            first_voiced = next(f for f, v in self._recent if v)
            self._in_speech = True
            self._start_s = first_voiced.start_s
            self._frames = list(self._pre_roll)
            self._voiced_ms = speech * self.config.frame_ms
            self._last_voiced_s = max(f.end_s for f, v in self._recent if v)
            self._recent.clear()
            self._pre_roll.clear()
            self._over_bot = self.bot_speaking
            yield SpeechStart(self._start_s, barge_in=self.bot_speaking)

    def _speaking(self, frame: AudioFrame, voiced: bool) -> Iterator[EndpointEvent]:
        self._frames.append(frame)
        if voiced:
            self._voiced_ms += self.config.frame_ms
            self._last_voiced_s = frame.end_s
            self._paused = False
            self._early_end_after = None
            self._held_ms = None
        silence_ms = (frame.end_s - self._last_voiced_s) * 1000
        length_ms = (frame.end_s - self._frames[0].start_s) * 1000
        early = (
            self._early_end_after is not None
            and frame.end_s >= self._early_end_after
            and silence_ms >= self.config.early_hangover_ms
        )
        if length_ms >= self.config.max_utterance_ms:
            yield from self._close(frame.end_s, forced=True)
        elif silence_ms >= self._hangover_ms() or early:
            yield from self._close(frame.end_s, forced=False)
        elif (
            self.config.pause_ms
            and not self._paused
            and silence_ms >= self.config.pause_ms
            and self._voiced_ms >= self.config.min_speech_ms
        ):
            self._paused = True
            samples, rate = self._utterance_samples(self._frames)
            yield SpeechPause(self._frames[0].start_s, self._last_voiced_s, frame.end_s, samples, rate)

    def _hangover_ms(self) -> int:
        config = self.config
        if self._over_bot and self._voiced_ms <= config.backchannel_max_ms:
            return config.backchannel_hangover_ms
        return self._held_ms if self._held_ms is not None else config.hangover_ms

    def _close(self, now_s: float, forced: bool) -> Iterator[EndpointEvent]:
        frames, self._frames = self._frames, []
        self._in_speech = False
        self._paused = False
        self._early_end_after = None
        self._held_ms = None
        self._over_bot = False
        if self._voiced_ms < self.config.min_speech_ms:
            yield SpeechDiscarded(self._start_s, now_s, f"only {self._voiced_ms} ms of speech")
            return
        samples, rate = self._utterance_samples(frames)
        yield SpeechEnd(
            frames[0].start_s if frames else self._start_s, self._last_voiced_s, now_s, samples, rate, forced
        )

    def _utterance_samples(self, frames: list[AudioFrame]) -> tuple[np.ndarray, int]:
        # Keep a little trailing silence (Whisper ends words better with it) but not the whole hangover.
        keep_until = self._last_voiced_s + 0.2
        pcm = b"".join(f.pcm for f in frames if f.start_s < keep_until)
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        return samples, frames[0].sample_rate if frames else 16_000
