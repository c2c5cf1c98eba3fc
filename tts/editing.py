"""What the prompt studio does to a recording before it is stored: trim silence, normalise the level,
and join pieces with short crossfades."""

from __future__ import annotations

import numpy as np

TRIM_THRESHOLD_DB = -40.0  # below the loudest 20 ms frame
TRIM_PAD_S = 0.08
TARGET_RMS_DBFS = -20.0
PEAK_CEILING = 0.89  # -1 dBFS
CROSSFADE_S = 0.015


def _frame_db(samples: np.ndarray, frame: int) -> np.ndarray:
    count = max(1, len(samples) // frame)
    frames = samples[: count * frame].reshape(count, frame) if len(samples) >= frame else samples[None, :]
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) + 1e-12
    return 20 * np.log10(rms)


def trim_silence(
    samples: np.ndarray, sample_rate: int, threshold_db: float = TRIM_THRESHOLD_DB, pad_s: float = TRIM_PAD_S
) -> np.ndarray:
    """Cut leading and trailing frames quieter than ``threshold_db`` below the loudest, keeping ``pad_s``."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    frame = max(1, sample_rate // 50)
    if len(samples) < frame:
        return samples
    levels = _frame_db(samples, frame)
    loud = np.flatnonzero(levels > levels.max() + threshold_db)
    if not len(loud):
        return samples
    pad = int(pad_s * sample_rate)
    start = max(0, loud[0] * frame - pad)
    end = min(len(samples), (loud[-1] + 1) * frame + pad)
    return samples[start:end]


def normalize_level(samples: np.ndarray, target_dbfs: float = TARGET_RMS_DBFS) -> np.ndarray:
    """Scale the voiced part to ``target_dbfs`` RMS without letting a peak pass -1 dBFS."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if not len(samples) or not np.any(samples):
        return samples
    frame = 320
    levels = _frame_db(samples, frame)
    voiced = levels > levels.max() - 30
    if len(samples) >= frame:
        count = len(levels)
        frames = samples[: count * frame].reshape(count, frame)[voiced]
        rms = float(np.sqrt(np.mean(frames.astype(np.float64) ** 2)))
    else:
        rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    gain = 10 ** (target_dbfs / 20) / max(rms, 1e-9)
    peak = float(np.max(np.abs(samples)))
    gain = min(gain, PEAK_CEILING / max(peak, 1e-9))
    return (samples * gain).astype(np.float32)


def join_crossfaded(pieces: list[np.ndarray], sample_rate: int, fade_s: float = CROSSFADE_S) -> np.ndarray:
    """Concatenate pieces, each overlapping the next by ``fade_s`` with a linear crossfade."""
    pieces = [np.asarray(p, dtype=np.float32).reshape(-1) for p in pieces if len(p)]
    if not pieces:
        return np.zeros(0, dtype=np.float32)
    out = pieces[0].copy()
    for piece in pieces[1:]:
        fade = min(int(fade_s * sample_rate), len(out) // 2, len(piece) // 2)
        if fade <= 0:
            out = np.concatenate([out, piece])
            continue
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        mixed = out[-fade:] * (1 - ramp) + piece[:fade] * ramp
        out = np.concatenate([out[:-fade], mixed, piece[fade:]])
    return out
