"""Whisper recognition on the real recordings, both backends, and the guards against bad input.

Bounds come from runs on this 2-core machine (see benchmarks/README.md): Whisper base int8 gives about
8-9 % CER on the Korean clips with numbers spelled out; the bounds leave room for run-to-run variation
but would catch a broken window strategy (CER 75 %+) or a broken conversion.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.metrics import character_error_rate, word_error_rate
from media.audio import load_audio, resample, silence
from media.codecs import ulaw_decode, ulaw_encode
from stt.guard import collapse_repeats, filter_segments, is_known_hallucination
from stt.types import Segment

pytestmark = pytest.mark.slow


def mean_cer(transcriber, clips, **kwargs) -> float:
    rates = []
    for clip in clips:
        result = transcriber.transcribe(load_audio(clip.path).samples, **kwargs)
        rates.append(character_error_rate(clip.transcript, result.text))
    return float(np.mean(rates))


def test_korean_cer_within_bound(faster_transcriber, korean_clips):
    assert len(korean_clips) >= 10
    assert mean_cer(faster_transcriber, korean_clips) < 0.13


def test_full_window_is_no_more_accurate_than_adaptive_by_much(faster_transcriber, korean_clips):
    subset = korean_clips[:4]
    adaptive = mean_cer(faster_transcriber, subset, window="adaptive")
    full = mean_cer(faster_transcriber, subset, window="full")
    assert adaptive <= full + 0.03


def test_english_clips_are_recognised(faster_transcriber, english_clips):
    for clip in english_clips:
        result = faster_transcriber.transcribe(load_audio(clip.path).samples, language="auto")
        assert result.language == "en"
        assert word_error_rate(clip.transcript, result.text) < 0.2, result.text
    jfk = next(c for c in english_clips if "jfk" in c.path.name)
    text = faster_transcriber.transcribe(load_audio(jfk.path).samples, language="en").text.lower()
    assert "ask not what your country can do for you" in text


def test_language_detection_finds_korean(faster_transcriber, korean_clips):
    result = faster_transcriber.transcribe(load_audio(korean_clips[0].path).samples, language="auto")
    assert result.language == "ko" and result.language_probability > 0.5


def test_openai_backend_agrees_with_faster_whisper_on_english(
    faster_transcriber, openai_transcriber, english_clips
):
    for clip in english_clips[:3]:
        samples = load_audio(clip.path).samples
        a = faster_transcriber.transcribe(samples, language="en").text
        b = openai_transcriber.transcribe(samples, language="en").text
        assert word_error_rate(a, b) < 0.15, (a, b)
        assert word_error_rate(clip.transcript, b) < 0.2


def test_openai_backend_korean(openai_transcriber, korean_clips):
    assert mean_cer(openai_transcriber, korean_clips[:3]) < 0.15


def test_silence_and_empty_audio_give_empty_text(faster_transcriber, openai_transcriber):
    for transcriber in (faster_transcriber, openai_transcriber):
        assert transcriber.transcribe(np.zeros(0, dtype=np.float32)).text == ""
        result = transcriber.transcribe(silence(3.0))
        assert result.text == "" and result.dropped


def test_noise_does_not_become_a_hallucinated_sentence(faster_transcriber):
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(16_000 * 4) * 0.003).astype(np.float32)
    result = faster_transcriber.transcribe(noise)
    assert not is_known_hallucination(result.text)
    assert len(result.text) < 10, result.text


def test_telephone_quality_korean(faster_transcriber, korean_clips):
    """8 kHz G.711 mu-law, the way a call arrives, upsampled back for Whisper."""
    rates = []
    for clip in korean_clips[:4]:
        narrow = resample(load_audio(clip.path).samples, 16_000, 8_000)
        pcm = (np.clip(narrow, -1, 1) * 32767).astype("<i2").tobytes()
        decoded = np.frombuffer(ulaw_decode(ulaw_encode(pcm)), dtype="<i2").astype(np.float32) / 32768
        text = faster_transcriber.transcribe(resample(decoded, 8_000, 16_000)).text
        rates.append(character_error_rate(clip.transcript, text))
    assert np.mean(rates) < 0.2


def test_long_input_uses_full_windows(faster_transcriber, korean_clips):
    """40 s of speech (beyond one window) is transcribed end to end in 30 s windows."""
    parts = []
    for clip in korean_clips[:4]:
        parts += [load_audio(clip.path).samples, silence(0.5)]
    samples = np.concatenate(parts)
    result = faster_transcriber.transcribe(samples)
    assert result.window_s == 30.0
    reference = " ".join(c.transcript for c in korean_clips[:4])
    assert character_error_rate(reference, result.text) < 0.2


def test_guard_drops_outros_and_loops():
    segments = [
        Segment(0, 2, "시청해 주셔서 감사합니다.", -0.3, 0.2, 1.2),
        Segment(2, 4, "MBC 뉴스 이덕영입니다.", -0.3, 0.1, 1.1),
        Segment(4, 6, "안녕하세요", -1.5, 0.9, 1.0),
        Segment(6, 8, "버스 분실물 어디서 찾아요?", -0.2, 0.05, 1.1),
    ]
    kept, dropped = filter_segments(segments)
    assert [s.text for s in kept] == ["버스 분실물 어디서 찾아요?"]
    assert len(dropped) == 3
    assert (
        collapse_repeats("감사합니다 감사합니다 감사합니다 감사합니다 감사합니다") == "감사합니다 감사합니다"
    )


def test_a_long_phrase_said_twice_in_a_row_is_whisper_repeating_itself():
    """Whisper base gave a 3.3 s cut of a shared clip as its words twice over; a caller who repeats a
    whole sentence meant it once, and short repeats ("여보세요 여보세요", "버스 카드요 버스 카드요") stay."""
    twice = "현재 백화점과 영화관 등은 오픈의 영화 파고 있고 현재 백화점과 영화관 등은 오픈의 영화 파고 있고"
    assert collapse_repeats(twice) == "현재 백화점과 영화관 등은 오픈의 영화 파고 있고"
    assert collapse_repeats("버스 카드 충전은 어디서 해요? 버스 카드 충전은 어디서 해요?") == (
        "버스 카드 충전은 어디서 해요?"
    )
    for kept in ("여보세요 여보세요", "버스 카드요 버스 카드요", "지하철 지하철 막차 시간이요"):
        assert collapse_repeats(kept) == kept


def test_encoder_window_fits_the_utterance_with_trailing_silence():
    """A short turn gets the 10 s window (its encoder pass about a third cheaper than 15 s); sentences
    up to 12 s share the 15 s one, so concurrent calls batch; longer ones get 3 s of silence after them."""
    from stt import STTConfig
    from stt.backends import window_seconds

    config = STTConfig()
    assert [window_seconds(s, config) for s in (0.5, 4.0, 7.0)] == [10.0, 10.0, 10.0]
    assert [window_seconds(s, config) for s in (7.5, 12.0)] == [15.0, 15.0]
    assert window_seconds(20.0, config) == 23.0 and window_seconds(29.0, config) == 30.0
    assert window_seconds(2.0, STTConfig(short_window_s=0)) == 15.0
    assert window_seconds(2.0, config, window="full") == 30.0


def test_cer_scores_spelled_numbers_like_digits():
    assert character_error_rate("지난해 삼 월", "지난해 3월") == 0.0
    assert character_error_rate("이천 십 팔 년 완공", "2018년 완공") == 0.0


def test_short_utterances_get_a_token_cap_long_ones_do_not():
    """A 0.3 s "네네" once decoded into a hallucination loop through every fallback temperature (10 s):
    a short utterance may not decode into more tokens than Korean speech of its length can hold."""
    from stt.backends import token_cap

    assert token_cap(0.3) == 25 and token_cap(1.0) == 46
    assert token_cap(2.0) == 76
    assert token_cap(3.0) is None and token_cap(20.0) is None  # long ones keep the model's own limit
