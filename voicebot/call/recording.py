"""Optional two-channel recording of a call: caller left, bot right.

The call driver keeps it at the narrower of the wire rate and the pipeline rate (8 kHz for SIP: what PJSIP
decoded and what it was given to encode; 16 kHz for WebRTC and files). Both channels advance one frame per
caller frame, so they stay aligned in call time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from media.audio import float_to_pcm16, resample, write_wav


class CallRecorder:
    """Collects both directions (appends only) and writes them once the call ends."""

    def __init__(self, rate: int, max_s: float = 3_600.0):
        self.rate = rate
        self.caller: list[bytes] = []
        self.bot: list[bytes] = []
        self._max_bytes = int(max_s * rate) * 2
        self._sizes = {"caller": 0, "bot": 0}

    def add_caller(self, samples: np.ndarray, rate: int) -> None:
        self._add(self.caller, "caller", samples, rate)

    def add_bot(self, samples: np.ndarray, rate: int) -> None:
        self._add(self.bot, "bot", samples, rate)

    def align(self) -> None:
        """Pad the bot's side with silence up to the caller's, before bot audio that starts now."""
        gap = self._sizes["caller"] - self._sizes["bot"]
        if gap > 0:
            self.bot.append(b"\x00" * gap)
            self._sizes["bot"] += gap

    def _add(self, chunks: list[bytes], side: str, samples: np.ndarray, rate: int) -> None:
        if self._sizes[side] >= self._max_bytes:
            return
        if rate != self.rate:
            samples = resample(np.asarray(samples, np.float32), rate, self.rate)
        pcm = float_to_pcm16(samples)
        chunks.append(pcm)
        self._sizes[side] += len(pcm)

    def write(self, path: str | Path) -> Path:
        size = max(self._sizes.values())
        left = b"".join(self.caller).ljust(size, b"\x00")
        right = b"".join(self.bot).ljust(size, b"\x00")
        stereo = (
            np.stack([np.frombuffer(left, "<i2"), np.frombuffer(right, "<i2")], axis=1).astype(np.float32)
            / 32768.0
        )
        return write_wav(path, stereo, self.rate, channels=2)
