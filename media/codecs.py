"""G.711 mu-law (PCMU) and A-law (PCMA), the codecs every telephone network speaks.

Vectorised with numpy; ``audioop`` is gone from Python 3.13, so it is not used.
"""

from __future__ import annotations

import numpy as np

_MULAW_BIAS = 0x84
_MULAW_CLIP14 = 8159


def _as_int16(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.int32)


def _segment(magnitude: np.ndarray, first_bit: int) -> np.ndarray:
    """G.711 segment number 0..7: the position of the highest set bit, counted from ``first_bit``."""
    highest = np.floor(np.log2(np.maximum(magnitude, 1))).astype(np.int32)
    return np.clip(highest - first_bit, 0, 7)


def ulaw_encode(pcm: bytes) -> bytes:
    # Sun's reference g711.c: work on 14-bit magnitudes, bias 0x21, clip at 8159.
    x = _as_int16(pcm) >> 2
    sign = np.where(x < 0, 0x00, 0x80)
    mag = np.minimum(np.minimum(np.where(x < 0, -x, x), _MULAW_CLIP14) + (_MULAW_BIAS >> 2), 0x1FFF)
    seg = _segment(mag, 5)
    mantissa = (mag >> (seg + 1)) & 0x0F
    code = (sign | (seg << 4) | mantissa) ^ 0x7F
    return code.astype(np.uint8).tobytes()


def ulaw_decode(data: bytes) -> bytes:
    code = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    sign = code & 0x80
    seg = (code >> 4) & 0x07
    mantissa = code & 0x0F
    mag = (((mantissa << 3) + _MULAW_BIAS) << seg) - _MULAW_BIAS
    return np.where(sign != 0, -mag, mag).astype("<i2").tobytes()


def alaw_encode(pcm: bytes) -> bytes:
    x = _as_int16(pcm)
    sign = np.where(x >= 0, 0x80, 0)
    mag = np.minimum(np.where(x >= 0, x, -x - 1), 32767) >> 3
    seg = _segment(mag, 4)
    mantissa = np.where(seg == 0, mag >> 1, mag >> seg) & 0x0F
    code = (sign | (seg << 4) | mantissa) ^ 0x55
    return code.astype(np.uint8).tobytes()


def alaw_decode(data: bytes) -> bytes:
    code = np.frombuffer(data, dtype=np.uint8).astype(np.int32) ^ 0x55
    sign = code & 0x80
    seg = (code >> 4) & 0x07
    mantissa = code & 0x0F
    mag = np.where(seg == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(seg - 1, 0))
    return np.where(sign != 0, mag, -mag).astype("<i2").tobytes()


CODECS = {
    "PCMU": (ulaw_encode, ulaw_decode),
    "PCMA": (alaw_encode, alaw_decode),
}
