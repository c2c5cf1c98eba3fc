"""Optional two-channel recording of a call as it went over the wire: caller left, bot right (8 kHz)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from media.audio import write_wav
from voicebot.sip.media import FRAME_BYTES, TELEPHONY_RATE


class PortRecorder:
    """Collects both directions in PJSIP's clock thread (appends only), written once the call ends."""

    def __init__(self, max_s: float = 3_600.0):
        self.caller: list[bytes] = []
        self.bot: list[bytes] = []
        self._max_frames = int(max_s * 50)

    def add_caller(self, pcm: bytes) -> None:
        if len(self.caller) < self._max_frames:
            self.caller.append(pcm)

    def add_bot(self, pcm: bytes) -> None:
        if len(self.bot) < self._max_frames:
            self.bot.append(pcm)

    def write(self, path: str | Path) -> Path:
        frames = max(len(self.caller), len(self.bot))
        left = b"".join(self.caller).ljust(frames * FRAME_BYTES, b"\x00")
        right = b"".join(self.bot).ljust(frames * FRAME_BYTES, b"\x00")
        stereo = (
            np.stack([np.frombuffer(left, "<i2"), np.frombuffer(right, "<i2")], axis=1).astype(np.float32)
            / 32768.0
        )
        return write_wav(path, stereo, TELEPHONY_RATE, channels=2)
