"""Audio primitives shared by every stage: loading, validation, resampling and framing.

The pipeline runs at 16 kHz mono. Samples travel as float32 in [-1, 1] between stages that compute
(STT, TTS) and as 16-bit PCM frames at the edges (VAD, transports), so both conversions live here.
"""

from __future__ import annotations

import io
import math
import os
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

PIPELINE_RATE = 16_000
TELEPHONY_RATE = 8_000
MAX_INPUT_SECONDS = 3_600.0


class AudioError(ValueError):
    """Audio that cannot be used, with a message fit to show the person who supplied it."""


@dataclass(frozen=True)
class Audio:
    """A mono float32 signal and its sample rate."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    def resampled(self, sample_rate: int) -> Audio:
        return Audio(resample(self.samples, self.sample_rate, sample_rate), sample_rate)

    def pcm16(self) -> bytes:
        return float_to_pcm16(self.samples)


@dataclass(frozen=True)
class AudioFrame:
    """One fixed-length slice of 16-bit mono PCM as it moves through the pipeline."""

    pcm: bytes
    sample_rate: int
    start_s: float

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def samples(self) -> np.ndarray:
        return pcm16_to_float(self.pcm)


def float_to_pcm16(samples: np.ndarray) -> bytes:
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return (clipped * 32767.0).round().astype("<i2").tobytes()


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited polyphase resampling (anti-aliased when going down, e.g. 16 kHz to 8 kHz)."""
    samples = np.asarray(samples, dtype=np.float32)
    if from_rate == to_rate or len(samples) == 0:
        return samples
    g = math.gcd(from_rate, to_rate)
    return resample_poly(samples, to_rate // g, from_rate // g).astype(np.float32)


def to_mono(samples: np.ndarray) -> np.ndarray:
    if samples.ndim == 1:
        return samples
    return samples.mean(axis=1).astype(np.float32)


def load_audio(
    source: str | Path | bytes,
    sample_rate: int = PIPELINE_RATE,
    max_seconds: float = MAX_INPUT_SECONDS,
) -> Audio:
    """Read a sound file (WAV, FLAC, OGG) or its bytes as mono float32 at ``sample_rate``.

    Raises AudioError for a missing, empty, corrupt or over-long file; stereo is averaged to mono and
    any input rate is resampled, so callers never see a format they must handle themselves.
    """
    name = "audio data" if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes):
        path = Path(source)
        if not path.is_file():
            raise AudioError(f"{name}: no such file")
        if path.stat().st_size == 0:
            raise AudioError(f"{name}: the file is empty")
        data: io.BytesIO | Path = path
    else:
        if not source:
            raise AudioError("audio data: empty")
        data = io.BytesIO(source)
    try:
        info = sf.info(data)
        if info.frames / max(info.samplerate, 1) > max_seconds:
            raise AudioError(
                f"{name}: {info.frames / info.samplerate:.0f} s is longer than the limit of {max_seconds:.0f} s"
            )
        if isinstance(data, io.BytesIO):
            data.seek(0)
        samples, rate = sf.read(data, dtype="float32", always_2d=False)
    except AudioError:
        raise
    except Exception as exc:  # soundfile raises several types for undecodable input
        raise AudioError(f"{name}: not a readable audio file ({exc})") from exc
    samples = to_mono(samples)
    if len(samples) == 0:
        raise AudioError(f"{name}: contains no audio samples")
    if not np.all(np.isfinite(samples)):
        raise AudioError(f"{name}: contains invalid (NaN or infinite) samples")
    return Audio(resample(samples, rate, sample_rate), sample_rate)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int, channels: int = 1) -> Path:
    """Write 16-bit PCM WAV; ``samples`` is (n,) for mono or (n, channels) interleaved. Call recordings
    are personal data: the file is created 0600, a missing folder 0700 (issue 17)."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(float_to_pcm16(np.asarray(samples).reshape(-1)))
    return path


def iter_frames(audio: Audio, frame_ms: int = 20, start_s: float = 0.0) -> Iterator[AudioFrame]:
    """Cut audio into whole frames of ``frame_ms``; a short tail is zero-padded to a full frame."""
    size = audio.sample_rate * frame_ms // 1000
    pcm = audio.pcm16()
    step = size * 2
    for offset in range(0, len(pcm), step):
        chunk = pcm[offset : offset + step]
        if len(chunk) < step:
            chunk = chunk + b"\x00" * (step - len(chunk))
        yield AudioFrame(chunk, audio.sample_rate, start_s + offset / 2 / audio.sample_rate)


def silence(seconds: float, sample_rate: int = PIPELINE_RATE) -> np.ndarray:
    return np.zeros(int(round(seconds * sample_rate)), dtype=np.float32)
