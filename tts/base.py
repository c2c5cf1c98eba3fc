"""Types shared by every TTS engine: the result, the error, the configuration and the engine interface."""

from __future__ import annotations

import numbers
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media.audio import PIPELINE_RATE, resample
from tts.normalize import normalize_korean

DEFAULT_RATE_WPM = 145
DEFAULT_PITCH = 50
DEFAULT_WORD_GAP_MS = 0
MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 48_000
# Chunks for stream(): a sentence, or a run of clauses when a sentence is longer than this.
STREAM_MAX_CHARS = 80
STREAM_MIN_CHARS = 8


class TTSError(RuntimeError):
    """Text that cannot be spoken or an engine that cannot run, with a message fit for an operator."""


@dataclass(frozen=True)
class Speech:
    """Synthesised (or recorded) mono float32 audio for one piece of text.

    ``source`` is "synth" (an engine ran), "cache" (read from the prompt cache), "override" (a file in
    the overrides folder), "recorded" (the prompt library's recording of the whole text) or "composed"
    (assembled from recorded sentences, pieces and units, any unrecorded rest synthesised); ``engine``
    is the configured engine's name in every case.
    """

    samples: np.ndarray
    sample_rate: int
    text: str
    spoken_text: str
    engine: str
    elapsed_s: float
    source: str = "synth"

    @classmethod
    def from_engine(
        cls,
        audio: np.ndarray,
        native_rate: int,
        sample_rate: int,
        text: str,
        spoken: str,
        engine: str,
        started: float,
        engine_label: str | None = None,
    ) -> Speech:
        """An engine's raw output at its own rate, resampled and clipped; TTSError when it is empty."""
        if not len(audio):
            raise TTSError(f"{engine_label or engine} produced no audio for {text[:40]!r}")
        samples = resample(np.asarray(audio, dtype=np.float32), native_rate, sample_rate)
        return cls(
            samples=np.clip(samples, -1.0, 1.0).astype(np.float32),
            sample_rate=sample_rate,
            text=text,
            spoken_text=spoken,
            engine=engine,
            elapsed_s=time.perf_counter() - started,
        )

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass
class TTSConfig:
    """How create_synthesizer builds a synthesizer. Rates and pitch are espeak units (words/min, 0-100)."""

    engine: str = "espeak"  # "espeak" | "coqui"
    voice: str = "ko"
    rate_wpm: int = DEFAULT_RATE_WPM
    pitch: int = DEFAULT_PITCH
    word_gap_ms: int = DEFAULT_WORD_GAP_MS
    cache_dir: Path | None = None  # None: $XDG_CACHE_HOME/voicebot/tts or ~/.cache/voicebot/tts
    overrides_dir: Path | None = None
    # The prompt studio's recordings (tts.library); None: $VOICEBOT_PROMPTS_DIR or var/prompts.
    prompts_dir: Path | None = None
    use_prompts: bool = True
    coqui_model_dir: Path | None = None
    coqui_python: str | None = None  # interpreter of the separate venv that has Coqui TTS installed
    use_cache: bool = True


def spoken_or_raise(text: str) -> str:
    """Normalise ``text`` for speech; TTSError when nothing speakable is left."""
    if not isinstance(text, str):
        raise TTSError(f"text to speak must be a str, not {type(text).__name__}")
    if not text.strip():
        raise TTSError("nothing to say: the text is empty or only whitespace")
    spoken = normalize_korean(text)
    if not re.search(r"[가-힣A-Za-z]", spoken):
        raise TTSError(f"nothing to say: {text[:40]!r} has no speakable words after normalisation")
    return spoken


def check_sample_rate(sample_rate: int) -> int:
    """The rate as a plain int; numpy integers (from soundfile or an array's metadata) are accepted."""
    if (
        not isinstance(sample_rate, numbers.Integral)
        or isinstance(sample_rate, bool)
        or not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE
    ):
        raise TTSError(
            f"sample_rate must be an int from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE}, not {sample_rate!r}"
        )
    return int(sample_rate)


# A sentence ends at . ? ! (or their full-width forms) before whitespace, or at a line break; the dots in
# a written date such as "2026. 11. 23." are not sentence ends.
_SENTENCE_END = re.compile(r"(?<=[.?!。？！])(?<!\d\.)\s+|(?<=\d\.)\s+(?!\d)|\s*\n+\s*")
_CLAUSE_END = re.compile(r"(?<=[,，;])\s+")


def split_for_speech(
    text: str, max_chars: int = STREAM_MAX_CHARS, min_chars: int = STREAM_MIN_CHARS
) -> list[str]:
    """Split text into chunks that can be synthesised one after another without sounding cut.

    Each sentence is a chunk; a sentence longer than ``max_chars`` is cut at clause commas into runs of
    at most ``max_chars`` (a single clause may be longer), and pieces shorter than ``min_chars`` are
    joined to their neighbour so that no chunk is a lone word.
    """
    chunks: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        sentence = sentence.strip()
        if not sentence:
            continue
        if len(sentence) <= max_chars:
            chunks.append(sentence)
            continue
        current = ""
        for clause in _CLAUSE_END.split(sentence):
            if current and len(current) + 1 + len(clause) > max_chars and len(current) >= min_chars:
                chunks.append(current)
                current = clause
            else:
                current = f"{current} {clause}" if current else clause
        if current:
            chunks.append(current)
    merged: list[str] = []
    for chunk in chunks:
        if merged and (len(chunk) < min_chars or len(merged[-1]) < min_chars):
            merged[-1] = f"{merged[-1]} {chunk}"
        else:
            merged.append(chunk)
    return merged


class Synthesizer(ABC):
    """A TTS engine: ``synthesize`` returns all the audio at once, ``stream`` one chunk at a time."""

    name: str = "base"

    @property
    def settings(self) -> dict[str, object]:
        """Everything besides the text that changes the audio; part of the prompt-cache key."""
        return {}

    @abstractmethod
    def synthesize(self, text: str, sample_rate: int = PIPELINE_RATE) -> Speech: ...

    def stream(self, text: str, sample_rate: int = PIPELINE_RATE) -> Iterator[Speech]:
        """Yield one Speech per sentence (or clause run) as soon as it is ready, for a low time to first audio.

        Chunks that hold nothing speakable (a lone symbol) are skipped; TTSError if the whole text is.
        """
        sample_rate = check_sample_rate(sample_rate)
        spoken_or_raise(text)
        for chunk in split_for_speech(text):
            try:
                spoken_or_raise(chunk)
            except TTSError:
                continue
            yield self.synthesize(chunk, sample_rate)
