"""espeak-ng through ctypes, using the shared library and voice data bundled by ``espeakng-loader``.

libespeak-ng keeps all of its state (voice, rate, output callback) in C globals, so the library is
loaded and initialised once per process by a private holder, and every call into it holds that
holder's lock. No setting is trusted to persist between calls: each synthesis applies its own voice,
rate, pitch and word gap under the lock, so two engines with different settings never hear each other's.
"""

from __future__ import annotations

import ctypes
import threading
import time
from dataclasses import dataclass

import numpy as np

from media.audio import PIPELINE_RATE
from tts.base import (
    DEFAULT_PITCH,
    DEFAULT_RATE_WPM,
    DEFAULT_WORD_GAP_MS,
    Speech,
    Synthesizer,
    TTSError,
    check_sample_rate,
    spoken_or_raise,
)

# espeak_AUDIO_OUTPUT, espeak_PARAMETER, espeak_POSITION_TYPE and flag values from speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE, _PARAM_WORDGAP = 1, 2, 3, 4, 7
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_EE_OK = 0

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)

MIN_RATE_WPM, MAX_RATE_WPM = 80, 450
# espeak's word gap is in units of 10 ms.
_WORD_GAP_UNIT_MS = 10


@dataclass(frozen=True)
class EspeakSettings:
    voice: str = "ko"
    rate_wpm: int = DEFAULT_RATE_WPM
    pitch: int = DEFAULT_PITCH  # 0-100
    pitch_range: int = 50  # 0-100; 0 is a monotone
    word_gap_ms: int = DEFAULT_WORD_GAP_MS
    volume: int = 100  # espeak amplitude, 0-200

    def validated(self) -> EspeakSettings:
        if not MIN_RATE_WPM <= self.rate_wpm <= MAX_RATE_WPM:
            raise TTSError(f"espeak rate_wpm must be {MIN_RATE_WPM}-{MAX_RATE_WPM}, not {self.rate_wpm}")
        for name, value, top in (
            ("pitch", self.pitch, 100),
            ("pitch_range", self.pitch_range, 100),
            ("volume", self.volume, 200),
        ):
            if not 0 <= value <= top:
                raise TTSError(f"espeak {name} must be 0-{top}, not {value}")
        if not 0 <= self.word_gap_ms <= 1000:
            raise TTSError(f"espeak word_gap_ms must be 0-1000, not {self.word_gap_ms}")
        return self


class _EspeakLibrary:
    """The process's one initialised libespeak-ng; all use goes through ``render`` under ``lock``."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise TTSError("espeak-ng is not installed: pip install espeakng-loader") from exc
        self.lock = threading.Lock()
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (OSError, RuntimeError) as exc:
            raise TTSError(f"cannot load the bundled espeak-ng library: {exc}") from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        with self.lock:
            rate = lib.espeak_Initialize(
                _AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), _INITIALIZE_DONT_EXIT
            )
            if rate <= 0:
                raise TTSError(f"espeak-ng failed to initialise with the data at {data_path}")
            self._chunks: list[np.ndarray] = []
            # The C side keeps only a raw pointer, so the ctypes callback must live as long as the library.
            self._callback = _SYNTH_CALLBACK(self._on_audio)
            lib.espeak_SetSynthCallback(self._callback)
        self.lib = lib
        self.native_rate = rate
        self.version = (lib.espeak_Info(None) or b"?").decode()

    def _on_audio(self, wav: ctypes.Array, count: int, _events: ctypes.c_void_p) -> int:
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # 0: keep going

    def render(self, text: str, settings: EspeakSettings) -> np.ndarray:
        """Speak ``text`` with ``settings``; float32 samples at ``native_rate``."""
        encoded = text.encode("utf-8")
        with self.lock:
            if self.lib.espeak_SetVoiceByName(settings.voice.encode()) != _EE_OK:
                raise TTSError(f"espeak-ng has no voice {settings.voice!r}")
            for parameter, value in (
                (_PARAM_RATE, settings.rate_wpm),
                (_PARAM_PITCH, settings.pitch),
                (_PARAM_RANGE, settings.pitch_range),
                (_PARAM_VOLUME, settings.volume),
                (_PARAM_WORDGAP, round(settings.word_gap_ms / _WORD_GAP_UNIT_MS)),
            ):
                self.lib.espeak_SetParameter(parameter, value, 0)
            self._chunks = []
            try:
                status = self.lib.espeak_Synth(
                    encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None
                )
                chunks = self._chunks
            finally:
                self._chunks = []
        if status != _EE_OK:
            raise TTSError(f"espeak-ng could not synthesise the text (error {status})")
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(chunks).astype(np.float32) / 32768.0


class _LibraryHolder:
    """Loads libespeak-ng on first use, once per process, whichever thread gets there first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._library: _EspeakLibrary | None = None

    def get(self) -> _EspeakLibrary:
        with self._lock:
            if self._library is None:
                self._library = _EspeakLibrary()
            return self._library


_HOLDER = _LibraryHolder()


class EspeakSynthesizer(Synthesizer):
    """espeak-ng's Korean voice, tuned for intelligibility on an 8 kHz telephone line."""

    name = "espeak"

    def __init__(self, settings: EspeakSettings | None = None) -> None:
        self.config = (settings or EspeakSettings()).validated()
        self._library = _HOLDER.get()

    @property
    def settings(self) -> dict[str, object]:
        s = self.config
        return {
            "espeak": self._library.version,
            "voice": s.voice,
            "rate_wpm": s.rate_wpm,
            "pitch": s.pitch,
            "pitch_range": s.pitch_range,
            "word_gap_ms": s.word_gap_ms,
            "volume": s.volume,
        }

    def synthesize(self, text: str, sample_rate: int = PIPELINE_RATE) -> Speech:
        sample_rate = check_sample_rate(sample_rate)
        spoken = spoken_or_raise(text)
        started = time.perf_counter()
        audio = self._library.render(spoken, self.config)
        return Speech.from_engine(
            audio, self._library.native_rate, sample_rate, text, spoken, self.name, started, "espeak-ng"
        )
