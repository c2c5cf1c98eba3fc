"""Korean text-to-speech for the voicebot: espeak-ng by default, Coqui optional, behind a prompt cache.

Public interface:
- ``create_synthesizer(config: TTSConfig | None = None) -> Synthesizer``: the configured engine
  ("espeak" or "coqui") wrapped by the prompt cache and the operators' recorded-prompt overrides
  (see ``tts.cache`` for the cache layout and the ``overrides.yaml`` scheme).
- ``Synthesizer``: ``name``; ``synthesize(text, sample_rate=16000) -> Speech`` for the whole text;
  ``stream(text, sample_rate=16000) -> Iterator[Speech]``, one sentence or clause run at a time, each
  yielded as soon as it is synthesised. The cached synthesizer also takes ``prompt_id=`` to find an
  override by id. Empty or unspeakable text raises ``TTSError``; long text is synthesised in chunks.
- ``Speech``: ``samples`` (float32 mono), ``sample_rate``, ``text`` (as given), ``spoken_text``
  (normalised), ``engine``, ``elapsed_s``, ``source`` ("synth" | "cache" | "override"), ``duration_s``.
- ``TTSConfig``: ``engine``, ``voice``, ``rate_wpm``, ``pitch``, ``word_gap_ms``, ``cache_dir``,
  ``overrides_dir``, ``prompts_dir``, ``use_prompts``, ``coqui_model_dir``, ``coqui_python``, ``use_cache``.
- ``PromptLibrary`` (``tts.library``): staff recordings by text hash, versioned, played at once by every
  call; ``tts.units`` assembles numbers, dates, times and slot sentences from recorded units;
  ``tts.editing`` trims, levels and crossfades recordings.
- ``TTSError``: a RuntimeError whose message can be shown to an operator.
- ``normalize_korean(text)``: numbers, dates, times, units and Latin letters as a 120 agent says them;
  ``number_to_sino(n)`` and ``number_to_native(n)`` for the number words themselves.

All audio a caller hears is Korean; the engines run offline. libespeak-ng is loaded once per process.
"""

from __future__ import annotations

from tts.base import Speech, Synthesizer, TTSConfig, TTSError, split_for_speech
from tts.cache import CachedSynthesizer, OverrideStore, PromptCache, default_cache_dir
from tts.library import PromptLibrary, default_prompts_dir
from tts.normalize import normalize_korean
from tts.numbers import number_to_native, number_to_sino

__all__ = [
    "PromptLibrary",
    "Speech",
    "Synthesizer",
    "TTSConfig",
    "TTSError",
    "create_synthesizer",
    "normalize_korean",
    "number_to_native",
    "number_to_sino",
    "split_for_speech",
]

ENGINES = ("espeak", "coqui")


def _create_engine(config: TTSConfig) -> object:
    if config.engine == "espeak":
        from tts.espeak import EspeakSettings, EspeakSynthesizer

        return EspeakSynthesizer(
            EspeakSettings(
                voice=config.voice,
                rate_wpm=config.rate_wpm,
                pitch=config.pitch,
                word_gap_ms=config.word_gap_ms,
            )
        )
    if config.engine == "coqui":
        try:
            from tts.coqui import CoquiSynthesizer
        except ImportError as exc:
            raise TTSError(f"the Coqui TTS engine is not available in this installation: {exc}") from exc
        try:
            return CoquiSynthesizer(config)
        except TTSError:
            raise
        except Exception as exc:  # a missing model, interpreter or package surfaces as many types
            raise TTSError(f"the Coqui TTS engine could not start: {exc}") from exc
    raise TTSError(f"unknown TTS engine {config.engine!r}; choose one of {', '.join(ENGINES)}")


def _engine_settings(engine: object, config: TTSConfig) -> dict[str, object]:
    settings = getattr(engine, "settings", None)
    if isinstance(settings, dict) and settings:
        return dict(settings)
    # An engine that does not describe itself is keyed by everything in the config that could matter.
    return {
        "voice": config.voice,
        "rate_wpm": config.rate_wpm,
        "pitch": config.pitch,
        "model_dir": str(config.coqui_model_dir) if config.coqui_model_dir else None,
    }


def create_synthesizer(config: TTSConfig | None = None) -> CachedSynthesizer:
    """The engine named by ``config`` behind the override and cache layers; TTSError if it cannot run."""
    config = config or TTSConfig()
    engine = _create_engine(config)
    cache = PromptCache(config.cache_dir or default_cache_dir()) if config.use_cache else None
    overrides = OverrideStore(config.overrides_dir) if config.overrides_dir else None
    library = PromptLibrary(config.prompts_dir or default_prompts_dir()) if config.use_prompts else None
    return CachedSynthesizer(
        engine, cache, overrides, settings=_engine_settings(engine, config), library=library
    )
