"""Telephone channels simulated offline, for the STT benchmark (issue 15).

Each channel takes 16 kHz float32 speech and returns what the call driver would hand the recogniser after
the caller's audio crossed that line: the far end's codec at its own rate, then the production upsampler
(``media.audio.resample``, the one ``StreamResampler`` uses) back to 16 kHz.

- ``wideband``: 16 kHz PCM untouched (the WebRTC page, a file).
- ``g711u`` / ``g711a``: anti-aliased down to 8 kHz, G.711 mu-law / A-law by ``media.codecs``, back to 16 kHz.
- ``g722``: FFmpeg's G.722 (64 kbit/s) through PyAV, which aiortc already depends on.
- ``loss1`` / ``loss3``: ``g711u`` with 1 % / 3 % of the 20 ms packets dropped at random (seeded), each gap
  filled the way a jitter buffer's packet-loss concealment does it: the last good pitch period repeated
  and faded out over consecutive losses (after G.711 Appendix I; PJSIP's own PLC is WSOLA-based).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from media.audio import PIPELINE_RATE, TELEPHONY_RATE, float_to_pcm16, pcm16_to_float, resample
from media.codecs import CODECS

FRAME_MS = 20


Resampler = Callable[[np.ndarray, int, int], np.ndarray]


def wideband(samples: np.ndarray, up: Resampler = resample) -> np.ndarray:
    return np.asarray(samples, np.float32)


def hq_resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """A sharper polyphase filter than ``media.audio.resample`` (161 taps, Kaiser beta 10, cutoff 0.95
    of the narrow band's Nyquist): less imaging above 4 kHz when going up from 8 kHz."""
    from scipy.signal import firwin, resample_poly

    up, down = to_rate // math.gcd(from_rate, to_rate), from_rate // math.gcd(from_rate, to_rate)
    taps = firwin(80 * max(up, down) + 1, 0.95 / max(up, down), window=("kaiser", 10.0)) * up
    return resample_poly(np.asarray(samples, np.float32), up, down, window=taps).astype(np.float32)


def folded_resample(samples: np.ndarray, from_rate: int, to_rate: int, gain: float = 0.1) -> np.ndarray:
    """``resample`` plus the 8 kHz band's mirror image above 4 kHz at ``gain`` (spectral folding, the
    cheapest bandwidth extension): Whisper was trained on audio with something in that band."""
    smooth = resample(samples, from_rate, to_rate)
    if to_rate != 2 * from_rate:
        return smooth
    stuffed = np.zeros(2 * len(samples), np.float32)
    stuffed[::2] = 2.0 * np.asarray(samples, np.float32)  # baseband + mirror, both at full level
    mirror = stuffed[: len(smooth)] - smooth
    return (smooth + gain * mirror).astype(np.float32)


def noise_filled_resample(
    samples: np.ndarray, from_rate: int, to_rate: int, below_db: float = 40.0
) -> np.ndarray:
    """``resample`` plus seeded white noise above the narrow band's Nyquist, ``below_db`` under the
    signal's RMS: the empty top band of an 8 kHz call filled with a noise floor instead of the mirror
    image (``folded_resample``) of the speech."""
    from scipy.signal import butter, sosfilt

    smooth = resample(samples, from_rate, to_rate)
    if to_rate <= from_rate or not len(smooth):
        return smooth
    noise = np.random.default_rng(15).standard_normal(len(smooth))
    noise = sosfilt(butter(8, 0.55 * from_rate, "highpass", fs=to_rate, output="sos"), noise)
    rms = float(np.sqrt(np.mean(np.square(smooth, dtype=np.float64)))) or 1e-4
    noise *= rms * 10 ** (-below_db / 20) / (float(np.sqrt(np.mean(np.square(noise)))) or 1.0)
    return (smooth + noise).astype(np.float32)


UPSAMPLERS: dict[str, Resampler] = {
    "production": resample,
    "hq": hq_resample,
    "fold10": folded_resample,
    "fold30": lambda s, f, t: folded_resample(s, f, t, 0.3),
    "noise30": lambda s, f, t: noise_filled_resample(s, f, t, 30.0),
    "noise45": lambda s, f, t: noise_filled_resample(s, f, t, 45.0),
    "noise25": lambda s, f, t: noise_filled_resample(s, f, t, 25.0),
    "noise35": lambda s, f, t: noise_filled_resample(s, f, t, 35.0),
}


def g711(samples: np.ndarray, codec: str = "PCMU", up: Resampler = resample) -> np.ndarray:
    encode, decode = CODECS[codec]
    narrow = resample(samples, PIPELINE_RATE, TELEPHONY_RATE)
    wire = decode(encode(float_to_pcm16(narrow)))
    return up(pcm16_to_float(wire), TELEPHONY_RATE, PIPELINE_RATE)


def g722(samples: np.ndarray, up: Resampler = resample) -> np.ndarray:
    from av import AudioFrame, CodecContext, Packet

    pcm = np.frombuffer(float_to_pcm16(samples), dtype="<i2")
    encoder = CodecContext.create("g722", "w")
    encoder.format, encoder.layout, encoder.sample_rate = "s16", "mono", PIPELINE_RATE
    decoder = CodecContext.create("g722", "r")
    decoder.format, decoder.layout, decoder.sample_rate = "s16", "mono", PIPELINE_RATE
    step = PIPELINE_RATE * FRAME_MS // 1000
    out: list[np.ndarray] = []
    padded = np.concatenate([pcm, np.zeros(-len(pcm) % step, "<i2")])
    for pts, offset in enumerate(range(0, len(padded), step)):
        frame = AudioFrame.from_ndarray(
            padded[offset : offset + step].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts = PIPELINE_RATE, pts * step
        for packet in encoder.encode(frame):
            for decoded in decoder.decode(Packet(bytes(packet))):
                out.append(decoded.to_ndarray().reshape(-1))
    decoded_pcm = np.concatenate(out) if out else np.zeros(0, "<i2")
    return pcm16_to_float(decoded_pcm.astype("<i2").tobytes())[: len(samples)]


def conceal_losses(narrow: np.ndarray, rate: int, loss: float, seed: int) -> np.ndarray:
    """Drop ``loss`` of the 20 ms frames and conceal each gap: repeat the last pitch period, fading out
    by 50 % per consecutive lost frame (silence after three)."""
    step = rate * FRAME_MS // 1000
    out = np.asarray(narrow, np.float32).copy()
    rng = np.random.default_rng(seed)
    lost = rng.random(len(out) // step) < loss
    run = 0
    for index, is_lost in enumerate(lost):
        if not is_lost:
            run = 0
            continue
        start = index * step
        history = out[max(0, start - step) : start]
        if len(history) == 0:
            out[start : start + step] = 0.0
            continue
        period = _pitch_period(history, rate)
        cycle = history[-period:]
        fill = np.resize(cycle, step)
        gain_from, gain_to = 0.5**run, 0.5 ** (run + 1)
        fill = fill * np.linspace(gain_from, gain_to, step, dtype=np.float32)
        fade = min(step // 4, len(history))  # cross-fade into the repeat so the seam does not click
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            fill[:fade] = fill[:fade] * ramp + out[start - 1] * (1.0 - ramp)
        out[start : start + step] = fill if run < 3 else 0.0
        run += 1
    return out


def _pitch_period(history: np.ndarray, rate: int) -> int:
    """The lag (2.5-15 ms) with the highest normalised autocorrelation, as G.711 Appendix I searches it."""
    lo, hi = rate * 25 // 10_000, min(rate * 15 // 1000, len(history) - 1)
    if hi <= lo:
        return len(history)
    best, best_score = hi, -np.inf
    for lag in range(lo, hi + 1):
        a, b = history[lag:], history[:-lag]
        denom = float(np.sqrt(np.dot(a, a) * np.dot(b, b))) or 1.0
        score = float(np.dot(a, b)) / denom
        if score > best_score:
            best, best_score = lag, score
    return best


def lossy_g711(samples: np.ndarray, loss: float, seed: int = 15, up: Resampler = resample) -> np.ndarray:
    encode, decode = CODECS["PCMU"]
    narrow = resample(samples, PIPELINE_RATE, TELEPHONY_RATE)
    wire = pcm16_to_float(decode(encode(float_to_pcm16(narrow))))
    return up(conceal_losses(wire, TELEPHONY_RATE, loss, seed), TELEPHONY_RATE, PIPELINE_RATE)


# Each takes (samples, up): ``up`` is the 8 kHz -> 16 kHz resampler (ignored by the 16 kHz channels).
CHANNELS: dict[str, Callable[[np.ndarray, Resampler], np.ndarray]] = {
    "wideband": wideband,
    "g711u": lambda s, up: g711(s, "PCMU", up),
    "g711a": lambda s, up: g711(s, "PCMA", up),
    "g722": g722,
    "loss1": lambda s, up: lossy_g711(s, 0.01, up=up),
    "loss3": lambda s, up: lossy_g711(s, 0.03, up=up),
}
