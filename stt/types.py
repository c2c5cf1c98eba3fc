"""Data shared by the STT backends."""

from __future__ import annotations

from dataclasses import dataclass, field

from stt.language import LanguageSwitch


class STTError(RuntimeError):
    """Recognition could not run (model missing, bad options); bad audio raises ``AudioError`` instead."""


@dataclass(frozen=True)
class STTConfig:
    backend: str = "faster-whisper"  # or "openai-whisper"
    model: str = "base"
    model_path: str | None = None  # an operator's own CTranslate2 directory or .pt checkpoint
    device: str = "cpu"  # "cpu", "cuda" or "auto"
    compute_type: str | None = None  # default: int8 on CPU, float16 on CUDA
    cpu_threads: int = 2
    # faster-whisper: model replicas that decode in parallel (calls sharing one transcriber); each
    # replica uses cpu_threads, so on 2 cores try workers=2, cpu_threads=1 when many calls run at once.
    workers: int = 1
    language: str | None = "ko"  # None: detect
    # With a fixed language, an utterance Whisper clearly hears as another language is decoded in that one
    # (stt/language.py); None: always decode in the fixed language.
    language_switch: LanguageSwitch | None = LanguageSwitch()
    beam_size: int = 5
    # "adaptive": encoder window of max(min_window_s, utterance + tail_pad_s), at most 30 s (short_window_s
    # for short utterances); "full": 30 s.
    window: str = "adaptive"
    min_window_s: float = 15.0
    # A short utterance (audio + tail_pad_s within this) gets this window instead: a caller's "네" or a
    # 4 s question is encoded about a third faster, with the same trailing silence. Between the two,
    # utterances keep the shared min_window_s, so concurrent calls still batch (stt/batching.py).
    short_window_s: float = 10.0
    tail_pad_s: float = 3.0
    initial_prompt: str | None = None  # domain vocabulary for Whisper's context
    hotwords: str | None = None  # faster-whisper only
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    # Utterances shorter than this are decoded once, at temperature 0: on a word or two ("네", "응", a
    # cough) Whisper is unsure by nature, its fallback fires and samples made-up words at up to 3x the time.
    fallback_min_s: float = 2.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    temperature: float = 0.0  # of the decode that produced it: above 0, Whisper's sampling fallback ran


@dataclass
class Transcript:
    text: str
    language: str
    language_probability: float
    audio_s: float
    elapsed_s: float
    backend: str
    window_s: float = 30.0
    segments: list[Segment] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # why text was removed by the hallucination guard

    @property
    def rtf(self) -> float:
        return self.elapsed_s / self.audio_s if self.audio_s else 0.0

    @property
    def confidence(self) -> float:
        """Mean per-token probability over kept segments, 0 when nothing was recognised."""
        import math

        kept = [s for s in self.segments if s.text.strip()]
        if not kept:
            return 0.0
        return sum(math.exp(max(s.avg_logprob, -10.0)) for s in kept) / len(kept)
