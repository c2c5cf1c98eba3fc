"""A caller who does not speak Korean on the Korean default: Whisper's language probabilities from the
utterance's first window hand a clearly foreign utterance to its own language, decoded once (no random
temperature fallback); Korean, and anything short, keeps Korean."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import pytest

from benchmarks.metrics import word_error_rate
from media.audio import load_audio, silence
from stt import BatchingTranscriber, DecodeCall
from stt.language import LanguageSwitch, choose_language
from voicebot.listen import listen

NIGHTFALL = "1089-134686-0002"  # 6.6 s of English that Korean decoding turned into 8-14 s of sampling


def clip_named(clips, stem: str):
    return next(c for c in clips if stem in c.path.name)


def endpointed(samples: np.ndarray) -> np.ndarray:
    """What the endpointer hands over: 0.3 s of pre-roll and 0.6 s of hangover around the speech."""
    return np.concatenate([silence(0.3), samples, silence(0.6)])


class CountingModel:
    """Stands in for faster-whisper's CTranslate2 model and counts encoder passes, language detections
    and decodes (each temperature of Whisper's fallback is one more ``generate``)."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name):
        attribute = getattr(self.inner, name)
        if name not in ("encode", "detect_language", "generate"):
            return attribute

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


@contextmanager
def counting(transcriber):
    model = CountingModel(transcriber.model.model)
    transcriber.model.model = model
    try:
        yield model.calls
    finally:
        transcriber.model.model = model.inner


@contextmanager
def strict_language(transcriber):
    config = transcriber.config
    transcriber.config = replace(config, language_switch=None)
    try:
        yield
    finally:
        transcriber.config = config


def test_a_short_or_korean_sounding_utterance_keeps_the_expected_language():
    rule = LanguageSwitch()
    english = {"en": 0.998, "ko": 0.0004, "la": 0.001}
    assert choose_language(english, "ko", 6.6, rule).language == "en"
    # 2.9 s as the endpointer hands it over is about 2 s of speech: too short to trust the language id
    short = choose_language(english, "ko", 2.9, rule)
    assert (short.language, short.switched, short.single_pass) == ("ko", False, False)
    # the worst real Korean measured: Korean at 0.019, another language at 0.81
    korean = choose_language({"ja": 0.81, "ko": 0.019}, "ko", 10.0, rule)
    assert (korean.language, korean.single_pass) == ("ko", False)
    # unlike Korean, but no language clear enough: Korean, decoded once
    unclear = choose_language({"en": 0.6, "nn": 0.3, "ko": 0.001}, "ko", 10.0, rule)
    assert (unclear.language, unclear.switched, unclear.single_pass) == ("ko", False, True)


@pytest.mark.slow
def test_english_on_the_korean_default_is_decoded_once_in_english(faster_transcriber, english_clips):
    for clip in english_clips:
        samples = load_audio(clip.path).samples
        with counting(faster_transcriber) as calls:
            first = faster_transcriber.transcribe(samples, language="ko")
        second = faster_transcriber.transcribe(samples, language="ko")
        assert first.language == "en" and first.language_probability > 0.9, (clip.path.name, first)
        assert word_error_rate(clip.transcript, first.text) < 0.2, first.text
        assert second.text == first.text
        # the language check reuses the decode's encoder pass; one decode, no sampling
        assert calls == {"encode": 1, "detect_language": 1, "generate": 1}, (clip.path.name, calls)
        assert [s.temperature for s in first.segments] == [0.0]


@pytest.mark.slow
def test_korean_keeps_korean_and_its_words(faster_transcriber, korean_clips):
    for clip in korean_clips:
        samples = load_audio(clip.path).samples
        result = faster_transcriber.transcribe(samples)
        with strict_language(faster_transcriber):
            strict = faster_transcriber.transcribe(samples)
        assert result.language == "ko" and result.text == strict.text, clip.path.name
        assert result.language_probability > 0.9  # Whisper's own probability, not a placeholder 1.0


@pytest.mark.slow
def test_short_korean_is_never_switched(faster_transcriber, korean_clips):
    """The first 0.7 s of a Korean sentence is up to 72 % English to Whisper: as short as that, a caller's
    '네' or '아니요' keeps Korean without the language being looked at."""
    for clip in korean_clips:
        head = endpointed(load_audio(clip.path).samples[: int(0.7 * 16_000)])
        with counting(faster_transcriber) as calls:
            result = faster_transcriber.transcribe(head)
        assert result.language == "ko" and calls["detect_language"] == 0, clip.path.name


@pytest.mark.slow
def test_a_batch_switches_only_the_foreign_utterance(faster_transcriber, korean_clips, english_clips):
    korean = [load_audio(c.path).samples for c in korean_clips[:2]]
    english = load_audio(clip_named(english_clips, NIGHTFALL).path).samples
    alone = [faster_transcriber.transcribe(s, language="ko") for s in (korean[0], english, korean[1])]
    together = faster_transcriber.transcribe_batch(
        [DecodeCall(s, "ko") for s in (korean[0], english, korean[1])]
    )
    assert [t.language for t in together] == ["ko", "en", "ko"]
    assert [t.text for t in together] == [t.text for t in alone]
    queue = BatchingTranscriber(faster_transcriber)
    assert queue.transcribe(english, language="ko").text == alone[1].text


@pytest.mark.slow
def test_the_call_path_hears_english_on_the_korean_default(faster_transcriber, english_clips):
    """VAD, streaming partials and the final decode, as ``voicebot listen`` and a call run them."""
    clip = clip_named(english_clips, NIGHTFALL)
    utterances = list(listen(load_audio(clip.path), faster_transcriber, realtime=False, language="ko"))
    assert utterances and all(u.language == "en" for u in utterances), utterances
    assert word_error_rate(clip.transcript, " ".join(u.text for u in utterances)) < 0.2
    # a speculative decode at a pause carries the words heard so far as a prefix
    samples = load_audio(clip.path).samples
    text = faster_transcriber.transcribe(samples, language="ko", prefix="After early nightfall").text
    assert text.startswith("After early nightfall") and word_error_rate(clip.transcript, text) < 0.2


@pytest.mark.slow
def test_openai_backend_switches_too(openai_transcriber, english_clips, korean_clips):
    samples = load_audio(clip_named(english_clips, NIGHTFALL).path).samples
    first = openai_transcriber.transcribe(samples, language="ko")
    second = openai_transcriber.transcribe(samples, language="ko")
    assert first.language == "en" and first.language_probability > 0.9
    assert first.text == second.text and [s.temperature for s in first.segments] == [0.0]
    korean = openai_transcriber.transcribe(load_audio(korean_clips[0].path).samples)
    assert korean.language == "ko" and korean.language_probability > 0.9


@pytest.mark.slow
def test_a_word_or_two_is_decoded_once(faster_transcriber, korean_clips):
    """Whisper is unsure of a word or two by nature: its temperature fallback fired on a third of these
    0.4-0.7 s cuts of real speech, took three to four times as long and sampled made-up words
    ("1,2, 1,2,1,1,2"). Under ``fallback_min_s`` an utterance gets one pass at temperature 0."""
    heads = [
        endpointed(load_audio(c.path).samples[8_000 : 8_000 + int(cut * 16_000)])
        for c in korean_clips
        for cut in (0.4, 0.7)
    ]
    config = faster_transcriber.config
    assert config.fallback_min_s >= 1.5
    fell_back = 0
    for head in heads:
        with counting(faster_transcriber) as calls:
            result = faster_transcriber.transcribe(head, language="ko")
        assert calls["generate"] <= 1 and all(s.temperature == 0.0 for s in result.segments), calls
        faster_transcriber.config = replace(config, fallback_min_s=0.0)
        try:
            with counting(faster_transcriber) as calls:
                faster_transcriber.transcribe(head, language="ko")
        finally:
            faster_transcriber.config = config
        fell_back += calls["generate"] > 1
    assert fell_back >= 2  # the rule, not the audio, is what keeps these to one pass
