"""Offline Whisper speech recognition, batch and streaming.

Public interface:
- ``STTConfig``: backend ("faster-whisper" default, "openai-whisper"), model, device, language ("ko"),
  beam size, encoder window strategy, domain prompt/hotwords and the hallucination thresholds.
- ``LanguageSwitch`` (``STTConfig.language_switch``): with a fixed language, an utterance Whisper clearly
  hears as another language is decoded once in that one and reported with its language and probability.
- ``create_transcriber(config) -> Transcriber``: ``transcribe(samples, language=None, prompt=None)`` on 16 kHz
  mono float32 returns a ``Transcript`` (text, language, segments, timings, what the guard dropped).
- ``BatchingTranscriber(transcriber)``: one model shared by concurrent calls; decodes run one at a time
  and requests that arrive meanwhile are decoded together as one batch (``transcribe_batch``).
- ``StreamingRecognizer``: feed ``AudioFrame``s, get ``SpeechStarted`` / ``PartialTranscript`` /
  ``FinalTranscript`` events as the caller speaks and at each endpoint.
- ``character_error_rate``: the Korean-aware scoring used by tests and benchmarks.
- ``STTError``.
"""

from stt.backends import DecodeCall, Transcriber, create_transcriber
from stt.batching import BatchingTranscriber
from stt.language import LanguageSwitch
from stt.types import Segment, STTConfig, STTError, Transcript

__all__ = [
    "BatchingTranscriber",
    "DecodeCall",
    "LanguageSwitch",
    "STTConfig",
    "STTError",
    "Segment",
    "Transcriber",
    "Transcript",
    "create_transcriber",
]
