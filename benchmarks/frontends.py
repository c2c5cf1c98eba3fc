"""Signal conditioning tried before Whisper per telephone channel by ``benchmarks.stt --channel`` (issue 15):
level normalisation and pre-emphasis. Neither helped on both bands (benchmarks/README.md), so the product
does not use them; they stay here to be measured again on other recordings."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TARGET_RMS_DBFS = -20.0
MAX_GAIN_DB = 20.0  # do not lift a near-silent line's noise floor into "speech"


def none(samples: np.ndarray) -> np.ndarray:
    return np.asarray(samples, np.float32)


def normalise(samples: np.ndarray) -> np.ndarray:
    """Scale the utterance to -20 dBFS RMS over its louder half (speech, not the pauses), no clipping."""
    samples = np.asarray(samples, np.float32)
    if len(samples) == 0:
        return samples
    frames = samples[: len(samples) // 320 * 320].reshape(-1, 320) if len(samples) >= 320 else samples[None]
    energy = np.sort(np.mean(frames**2, axis=1))
    loud = float(np.sqrt(np.mean(energy[len(energy) // 2 :])))
    if loud <= 0.0:
        return samples
    gain = min(10 ** ((TARGET_RMS_DBFS - 20 * np.log10(loud)) / 20), 10 ** (MAX_GAIN_DB / 20))
    peak = float(np.abs(samples).max())
    gain = min(gain, 0.99 / peak) if peak > 0 else gain
    return (samples * gain).astype(np.float32)


def pre_emphasis(samples: np.ndarray, coefficient: float = 0.97) -> np.ndarray:
    """First-order high-pass y[n] = x[n] - a x[n-1]: lifts the consonant band a telephone line dulls."""
    samples = np.asarray(samples, np.float32)
    if len(samples) == 0:
        return samples
    out = np.empty_like(samples)
    out[0] = samples[0]
    out[1:] = samples[1:] - coefficient * samples[:-1]
    return out


FRONTENDS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": none,
    "normalise": normalise,
    "pre-emphasis": pre_emphasis,
}
