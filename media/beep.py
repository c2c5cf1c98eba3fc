"""A streaming beep detector: the tone an answering machine plays before it records a message.

Voicemail systems (the carriers' 소리샘 / 음성사서함, a phone's own answering machine) end their greeting
with one steady sine tone, usually between 400 and 2,000 Hz and 0.2-1 s long; the message is recorded from
its end. :class:`BeepDetector` takes 20 ms frames (any rate of 8 kHz or more), measures each frame's
spectrum (Hann window, zero-padded DFT: a bank of Goertzel filters 8-16 Hz apart over the band) and calls a
frame *tonal* when one narrow peak inside the band holds most of the frame's energy. A run of tonal frames
at the same pitch (within ``max_drift_hz``) for ``min_duration_ms`` is a beep: :class:`BeepStart` is
reported then, :class:`BeepEnd` at the first frame that is no longer that tone (none for a tone that
outlasts ``max_duration_ms``: a line tone, not a beep, so a ``BeepStart`` is only a candidate).

What it does not take for a beep: speech (the energy is spread over many harmonics, and vowels glide),
the Korean ringback and busy tones (two frequencies at once: 440+480 Hz, 480+620 Hz, so no single peak
holds most of the energy), line hiss and clicks (no peak, or too short), DTMF (two tones).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from media.audio import AudioFrame


@dataclass(frozen=True)
class BeepConfig:
    low_hz: float = 400.0
    high_hz: float = 2_000.0
    min_duration_ms: int = 150  # a steady tone at least this long is a beep
    max_duration_ms: int = 4_000  # longer is a line tone (a fax, a dead line), not a beep
    min_level_dbfs: float = -45.0  # quieter frames are never tonal
    min_purity: float = 0.75  # share of the frame's energy (100 Hz - Nyquist) within the peak
    peak_width_hz: float = 40.0  # the peak: +- this around its centre
    max_drift_hz: float = 25.0  # frame-to-frame pitch change still counted as the same tone
    frame_ms: int = 20


@dataclass(frozen=True)
class BeepStart:
    time_s: float  # start of the first tonal frame
    frequency_hz: float
    detected_s: float  # end of the frame that confirmed it (time_s + min_duration_ms)


@dataclass(frozen=True)
class BeepEnd:
    start_s: float
    time_s: float  # end of the last tonal frame: a message may start here
    frequency_hz: float

    @property
    def duration_s(self) -> float:
        return self.time_s - self.start_s


BeepEvent = BeepStart | BeepEnd


@dataclass(frozen=True)
class Tone:
    """One frame's strongest in-band peak."""

    frequency_hz: float
    purity: float  # share of the frame's energy in the peak
    level_dbfs: float


class BeepDetector:
    """Frame-by-frame beep detection. Not thread-safe: one per call."""

    def __init__(self, config: BeepConfig = BeepConfig()):
        self.config = config
        self._rate = 0
        self._fft_size = 0
        self._window = np.zeros(0)
        self._band = slice(0, 0)
        self._floor_bin = 0
        self._bin_hz = 0.0
        self._half_width = 0
        self._run_start: float | None = None
        self._run_end = 0.0
        self._run_freqs: list[float] = []
        self._reported = False
        self._too_long = False  # the current run outlasted max_duration_ms: a line tone, never a beep
        self.beeps: list[BeepEnd] = []  # every beep heard so far

    @property
    def in_beep(self) -> bool:
        """A beep has been reported and has not ended yet."""
        return self._reported

    def _setup(self, rate: int, length: int) -> None:
        cfg = self.config
        self._rate = rate
        self._fft_size = max(1024, 1 << (length - 1).bit_length()) * (2 if rate > 8_000 else 1)
        self._window = np.hanning(length)
        self._bin_hz = rate / self._fft_size
        self._band = slice(int(cfg.low_hz / self._bin_hz), int(cfg.high_hz / self._bin_hz) + 1)
        self._floor_bin = int(100 / self._bin_hz)
        self._half_width = max(1, int(round(cfg.peak_width_hz / self._bin_hz)))

    def measure(self, samples: np.ndarray, rate: int) -> Tone:
        """The strongest in-band peak of one frame (float samples in -1..1)."""
        if rate != self._rate or len(samples) != len(self._window):
            self._setup(rate, len(samples))
        x = samples.astype(np.float64)
        level = 10 * np.log10(np.mean(x**2) + 1e-12)
        power = np.abs(np.fft.rfft(x * self._window, self._fft_size)) ** 2
        total = float(power[self._floor_bin :].sum()) + 1e-18
        band = power[self._band]
        peak = int(np.argmax(band)) + self._band.start
        lo, hi = max(0, peak - self._half_width), peak + self._half_width + 1
        purity = float(power[lo:hi].sum()) / total
        # parabolic interpolation of the peak bin for a finer frequency estimate
        if 0 < peak < len(power) - 1:
            a, b, c = np.log(power[peak - 1 : peak + 2] + 1e-30)
            denom = a - 2 * b + c
            offset = 0.5 * (a - c) / denom if denom else 0.0
        else:
            offset = 0.0
        return Tone((peak + offset) * self._bin_hz, purity, level)

    def process(self, frame: AudioFrame) -> Iterator[BeepEvent]:
        return self.process_samples(frame.samples(), frame.sample_rate, frame.start_s)

    def process_samples(self, samples: np.ndarray, rate: int, start_s: float) -> Iterator[BeepEvent]:
        cfg = self.config
        end_s = start_s + len(samples) / rate
        tone = self.measure(samples, rate)
        tonal = (
            tone.level_dbfs >= cfg.min_level_dbfs
            and tone.purity >= cfg.min_purity
            and cfg.low_hz <= tone.frequency_hz <= cfg.high_hz
        )
        same = (
            tonal
            and self._run_start is not None
            and abs(tone.frequency_hz - float(np.median(self._run_freqs))) <= cfg.max_drift_hz
        )
        if self._run_start is not None and not same:
            yield from self._end_run()
        if tonal:
            if self._run_start is None:
                self._run_start, self._run_freqs = start_s, []
            self._run_freqs.append(tone.frequency_hz)
            self._run_end = end_s
            length_ms = (end_s - self._run_start) * 1000
            if not self._reported and not self._too_long and length_ms >= cfg.min_duration_ms - 1e-6:
                self._reported = True
                yield BeepStart(self._run_start, self._frequency(), end_s)
            if length_ms > cfg.max_duration_ms:  # a line tone, not a beep: no BeepEnd for it
                self._reported = False
                self._too_long = True

    def flush(self) -> Iterator[BeepEvent]:
        """End of input: close a beep still sounding."""
        if self._run_start is not None:
            yield from self._end_run()

    def _frequency(self) -> float:
        return round(float(np.median(self._run_freqs)), 1)

    def _end_run(self) -> Iterator[BeepEvent]:
        if self._reported and self._run_start is not None:
            beep = BeepEnd(self._run_start, self._run_end, self._frequency())
            self.beeps.append(beep)
            yield beep
        self._run_start = None
        self._run_freqs = []
        self._reported = False
        self._too_long = False
