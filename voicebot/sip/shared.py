"""Models shared by concurrent calls: one lock each, since espeak-ng and Whisper are not re-entrant."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np


class LockedTranscriber:
    """One decode at a time; ``in_flight`` counts calls decoding or waiting (sessions skip speculative
    decodes while the shared model is busy)."""

    def __init__(self, inner):
        self.inner = inner
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def transcribe(self, samples: np.ndarray, *args, **kwargs):
        with self._count_lock:
            self._in_flight += 1
        try:
            with self._lock:
                return self.inner.transcribe(samples, *args, **kwargs)
        finally:
            with self._count_lock:
                self._in_flight -= 1

    def __getattr__(self, name):
        return getattr(self.inner, name)


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
