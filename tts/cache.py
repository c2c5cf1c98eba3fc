"""Prompt cache and operators' recorded-prompt overrides, wrapped around any TTS engine.

Cache: one float32 WAV per (engine, engine settings, sample rate, normalised text), named by the
sha256 of those, under ``<cache_dir>/<first two hex digits>/<sha256>.wav``. Files are written to a
temporary name in the same directory and renamed into place, so several processes can share a cache
and a reader never sees half a file. A file that cannot be read is deleted and synthesised again.

Overrides: a studio recording an operator puts in the overrides directory replaces synthesis. It is
found, in this order, by
  1. ``overrides.yaml`` in that directory, a mapping of prompt id or prompt text to a file name
     relative to the directory (text keys are compared after normalisation, ignoring spacing and
     punctuation, so "0번을 눌러주세요." and "영 번을 눌러주세요" match)::

         greeting: greeting-2026.wav
         "코로나19 관련 문의는 0번을 눌러주세요.": menu-covid.wav

  2. a file named ``<sha256 of the normalised text>.wav`` (or .flac / .ogg) in that directory;
     ``python -m tts.cache "문장"`` prints the name to use.
Recordings are converted to mono at the requested rate. A missing or unreadable recording is logged
as a warning and the text is synthesised instead: an override never breaks a call.

Prompt library: the recordings staff make in the console's prompt studio (``tts.library``), found by the
hash of the normalised text after the overrides. Text nobody recorded whole is assembled sentence by
sentence, and a sentence from recorded pieces and units (``tts.units``), synthesising only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf
import yaml

from media.audio import PIPELINE_RATE, AudioError, load_audio
from tts.base import (
    Speech,
    Synthesizer,
    TTSError,
    check_sample_rate,
    split_for_speech,
    spoken_or_raise,
)
from tts.normalize import normalize_korean


class RecordingSource(Protocol):
    """The prompt library as the synthesizer reads it (``tts.library.PromptLibrary``)."""

    def has(self, spoken_text: str) -> bool: ...
    def load(self, spoken_text: str, sample_rate: int) -> np.ndarray | None: ...
    def recordings_present(self) -> bool: ...
    def templates(self) -> list[str]: ...


log = logging.getLogger(__name__)

OVERRIDES_FILE = "overrides.yaml"
OVERRIDE_EXTENSIONS = (".wav", ".flac", ".ogg")
# Text longer than this is synthesised sentence by sentence and joined (engines have input limits).
ENGINE_MAX_CHARS = 400
SENTENCE_GAP_S = 0.3  # between sentences joined from recorded and synthesised parts


def _match_key(spoken_text: str) -> str:
    """How overrides.yaml text keys are compared: normalised text without spaces or . , ? !"""
    return re.sub(r"[\s.,?!]+", "", spoken_text)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "voicebot" / "tts"


def text_key(text: str) -> str:
    """sha256 of the normalised text: the file name stem of an override recorded for ``text``."""
    return hashlib.sha256(normalize_korean(text).encode("utf-8")).hexdigest()


def cache_key(engine: str, settings: dict[str, object], sample_rate: int, spoken_text: str) -> str:
    payload = json.dumps(
        {"engine": engine, "settings": settings, "sample_rate": sample_rate, "text": spoken_text},
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class PromptCache:
    """WAV files keyed by cache_key, safe to share between processes."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory).expanduser()

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.wav"

    def load(self, key: str, sample_rate: int) -> np.ndarray | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            samples, rate = sf.read(path, dtype="float32", always_2d=False)
            if rate != sample_rate or samples.ndim != 1 or len(samples) == 0:
                raise ValueError(f"{rate} Hz, shape {samples.shape}")
            return samples
        except Exception as exc:  # soundfile raises several types for a damaged file
            log.warning("TTS cache file %s is unreadable (%s); synthesising again", path, exc)
            path.unlink(missing_ok=True)
            return None

    def store(self, key: str, samples: np.ndarray, sample_rate: int) -> None:
        """Write atomically; a failure (disk full, read-only) is logged and otherwise ignored."""
        path = self.path(key)
        tmp_name = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}-", suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                sf.write(out, samples, sample_rate, format="WAV", subtype="FLOAT")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, path)
            tmp_name = None
        except OSError as exc:
            log.warning("could not write TTS cache file %s: %s", path, exc)
        finally:
            if tmp_name:
                Path(tmp_name).unlink(missing_ok=True)


class OverrideStore:
    """Operator recordings by prompt id, prompt text or sha256 file name (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory).expanduser()
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_key: dict[str, Path] = {}

    def _mapping(self) -> dict[str, Path]:
        """overrides.yaml parsed, re-read whenever the file changes so operators need no restart."""
        index = self.directory / OVERRIDES_FILE
        try:
            stat = index.stat()
        except OSError:
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._by_key = self._parse(index)
                self._stamp = stamp
            return self._by_key

    def _parse(self, index: Path) -> dict[str, Path]:
        try:
            data = yaml.safe_load(index.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise ValueError("expected a mapping of prompt id or text to file name")
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
            log.warning("ignoring TTS overrides file %s: %s", index, exc)
            return {}
        mapping: dict[str, Path] = {}
        for key, name in data.items():
            if not isinstance(key, str | int) or not isinstance(name, str) or not name.strip():
                log.warning("ignoring TTS override entry %r: %r in %s", key, name, index)
                continue
            path = self.directory / name
            mapping[str(key)] = path
            normalised = _match_key(normalize_korean(str(key)))
            if normalised:
                mapping.setdefault(f"text:{normalised}", path)
        return mapping

    def find(self, spoken_text: str, prompt_id: str | None = None) -> Path | None:
        mapping = self._mapping()
        if prompt_id is not None and prompt_id in mapping:
            return mapping[prompt_id]
        by_text = mapping.get(f"text:{_match_key(spoken_text)}")
        if by_text is not None:
            return by_text
        stem = hashlib.sha256(spoken_text.encode("utf-8")).hexdigest()
        for extension in OVERRIDE_EXTENSIONS:
            path = self.directory / f"{stem}{extension}"
            if path.is_file():
                return path
        return None

    def load(self, spoken_text: str, sample_rate: int, prompt_id: str | None = None) -> np.ndarray | None:
        path = self.find(spoken_text, prompt_id)
        if path is None:
            return None
        try:
            return load_audio(path, sample_rate, max_seconds=600.0).samples
        except AudioError as exc:
            log.warning("TTS override for %r is unusable (%s); synthesising instead", spoken_text[:60], exc)
            return None


class CachedSynthesizer(Synthesizer):
    """Overrides, then the prompt library (whole text, then sentence by sentence and piece by piece), then
    the prompt cache, then the wrapped engine (whose result is cached)."""

    def __init__(
        self,
        engine: object,
        cache: PromptCache | None = None,
        overrides: OverrideStore | None = None,
        settings: dict[str, object] | None = None,
        library: RecordingSource | None = None,
    ) -> None:
        if not callable(getattr(engine, "synthesize", None)):
            raise TTSError(f"{type(engine).__name__} has no synthesize(text, sample_rate) method")
        self.engine = engine
        self.name = str(getattr(engine, "name", type(engine).__name__))
        self.cache = cache
        self.overrides = overrides
        self.library = library
        self._settings = settings if settings is not None else dict(getattr(engine, "settings", {}) or {})

    @property
    def settings(self) -> dict[str, object]:
        return dict(self._settings)

    def synthesize(self, text: str, sample_rate: int = PIPELINE_RATE, prompt_id: str | None = None) -> Speech:
        """Speech for ``text``; ``prompt_id`` lets an overrides.yaml entry keyed by id replace it."""
        sample_rate = check_sample_rate(sample_rate)
        spoken = spoken_or_raise(text)
        started = time.perf_counter()
        found = self._recording(spoken, sample_rate, prompt_id)
        if found is not None:
            return self._speech(found[0], sample_rate, text, spoken, started, found[1])
        assembled = self._assembled(text, sample_rate)
        if assembled is not None:
            return self._speech(assembled, sample_rate, text, spoken, started, "composed")
        samples, source = self._plain(spoken, sample_rate)
        return self._speech(samples, sample_rate, text, spoken, started, source)

    def _plain(self, spoken: str, sample_rate: int) -> tuple[np.ndarray, str]:
        """The engine's audio for normalised text, through the prompt cache."""
        key = cache_key(self.name, self._settings, sample_rate, spoken)
        if self.cache is not None:
            cached = self.cache.load(key, sample_rate)
            if cached is not None:
                return cached, "cache"
        samples = self._render(spoken, sample_rate)
        if self.cache is not None:
            self.cache.store(key, samples, sample_rate)
        return samples, "synth"

    def _recording(
        self, spoken: str, sample_rate: int, prompt_id: str | None
    ) -> tuple[np.ndarray, str] | None:
        if self.overrides is not None:
            samples = self.overrides.load(spoken, sample_rate, prompt_id)
            if samples is not None:
                return samples, "override"
        if self.library is not None:
            samples = self.library.load(spoken, sample_rate)
            if samples is not None:
                return samples, "recorded"
        return None

    def _assembled(self, text: str, sample_rate: int) -> np.ndarray | None:
        """``text`` from recorded sentences, pieces and units, with only the unrecorded rest synthesised;
        None when nothing of it is recorded."""
        if self.library is None or not self.library.recordings_present():
            return None
        from tts.editing import join_crossfaded
        from tts.units import DEFAULT_TEMPLATES, Assembler, render

        assembler = Assembler(
            self.library.has, self.library.load, lambda words, rate: self._plain(words, rate)[0]
        )
        templates = self.library.templates() + list(DEFAULT_TEMPLATES)
        sentences = split_for_speech(text)
        if len(sentences) == 1:
            pieces = assembler.sentence(sentences[0], sample_rate, templates)
            return None if pieces is None else render(pieces, sample_rate)
        parts: list[np.ndarray | str] = []
        for sentence in sentences:
            try:
                spoken = spoken_or_raise(sentence)
            except TTSError:
                continue
            whole = self.library.load(spoken, sample_rate)
            if whole is None:
                pieces = assembler.sentence(sentence, sample_rate, templates)
                whole = None if pieces is None else render(pieces, sample_rate)
            parts.append(spoken if whole is None else whole)
        if all(isinstance(part, str) for part in parts):
            return None
        gap = np.zeros(int(SENTENCE_GAP_S * sample_rate), dtype=np.float32)
        audio: list[np.ndarray] = []
        for part in parts:
            audio += [self._plain(part, sample_rate)[0] if isinstance(part, str) else part, gap]
        return join_crossfaded(audio[:-1], sample_rate)

    def _speech(
        self, samples: np.ndarray, sample_rate: int, text: str, spoken: str, started: float, source: str
    ) -> Speech:
        return Speech(
            samples=np.asarray(samples, dtype=np.float32),
            sample_rate=sample_rate,
            text=text,
            spoken_text=spoken,
            engine=self.name,
            elapsed_s=time.perf_counter() - started,
            source=source,
        )

    def _render(self, spoken: str, sample_rate: int) -> np.ndarray:
        chunks = [spoken] if len(spoken) <= ENGINE_MAX_CHARS else split_for_speech(spoken, ENGINE_MAX_CHARS)
        parts = []
        for chunk in chunks:
            speech = self.engine.synthesize(chunk, sample_rate)  # type: ignore[attr-defined]
            if speech.sample_rate != sample_rate:
                raise TTSError(f"{self.name} returned {speech.sample_rate} Hz audio, not {sample_rate} Hz")
            parts.append(np.asarray(speech.samples, dtype=np.float32).reshape(-1))
        return np.concatenate(parts)

    def stream(
        self, text: str, sample_rate: int = PIPELINE_RATE, prompt_id: str | None = None
    ) -> Iterator[Speech]:
        """As Synthesizer.stream, but a recording of the whole text is played whole rather than split."""
        sample_rate = check_sample_rate(sample_rate)
        spoken = spoken_or_raise(text)
        started = time.perf_counter()
        found = self._recording(spoken, sample_rate, prompt_id)
        if found is not None:
            yield self._speech(found[0], sample_rate, text, spoken, started, found[1])
            return
        yield from super().stream(text, sample_rate)


def main(argv: list[str] | None = None) -> int:
    """Print the override file name for each text given: python -m tts.cache "문장" ..."""
    texts = sys.argv[1:] if argv is None else argv
    if not texts:
        print('usage: python -m tts.cache "prompt text" ...', file=sys.stderr)
        return 2
    for text in texts:
        print(f"{text_key(text)}.wav\t{normalize_korean(text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
