"""Models shared by concurrent calls. espeak-ng is not re-entrant, so synthesis takes a lock; Whisper is
shared through ``stt.BatchingTranscriber``, which also batches the decodes of calls waiting at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator


class LockedSynthesizer:
    def __init__(self, inner):
        self.inner = inner
        self._lock = threading.Lock()

    def synthesize(self, text: str, sample_rate: int = 16_000):
        with self._lock:
            return self.inner.synthesize(text, sample_rate)

    def stream(self, text: str, sample_rate: int = 16_000) -> Iterator:
        with self._lock:
            chunks = list(self.inner.stream(text, sample_rate))
        yield from chunks

    def __getattr__(self, name):
        return getattr(self.inner, name)
