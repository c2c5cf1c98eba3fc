"""The telephone channels of benchmarks.stt (issue 15), the front ends and the KB vocabulary prompt it tries."""

from __future__ import annotations

import numpy as np

from benchmarks.channels import CHANNELS, conceal_losses, g722
from benchmarks.frontends import normalise, pre_emphasis
from benchmarks.vocabulary import recognition_prompt, vocabulary
from media.audio import PIPELINE_RATE, TELEPHONY_RATE, resample


def _voice(seconds: float = 1.0, rate: int = PIPELINE_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    tones = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((220, 440, 880, 1760, 3000), 1))
    return (0.2 * tones * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def _snr_db(clean: np.ndarray, coded: np.ndarray, delay: int = 0) -> float:
    n = len(clean) - delay
    error = clean[:n] - coded[delay : delay + n]
    return float(10 * np.log10(np.sum(clean[:n] ** 2) / np.sum(error**2)))


def test_every_channel_returns_16k_audio_of_the_same_length():
    voice = _voice()
    for name, channel in CHANNELS.items():
        out = channel(voice, resample)
        assert abs(len(out) - len(voice)) <= 1, name
        assert out.dtype == np.float32 and np.all(np.isfinite(out)), name


def test_g722_is_a_real_codec_close_to_the_input_after_its_delay():
    voice = _voice()
    coded = g722(voice)
    assert not np.array_equal(coded, voice)
    best = max(_snr_db(voice, coded, d) for d in range(0, 40))
    assert best > 20.0


def test_g711_loses_the_band_above_4_khz():
    t = np.arange(PIPELINE_RATE) / PIPELINE_RATE
    high = (0.3 * np.sin(2 * np.pi * 6000 * t)).astype(np.float32)
    assert np.sqrt(np.mean(CHANNELS["g711u"](high, resample) ** 2)) < 0.01
    assert np.sqrt(np.mean(CHANNELS["g722"](high, resample) ** 2)) > 0.1


def test_concealment_fills_lost_frames_from_the_last_period_and_fades_long_gaps():
    narrow = resample(_voice(2.0), PIPELINE_RATE, TELEPHONY_RATE)
    out = conceal_losses(narrow, TELEPHONY_RATE, loss=0.3, seed=1)
    frames = len(narrow) // 160
    changed = [
        i
        for i in range(frames)
        if not np.array_equal(out[i * 160 : (i + 1) * 160], narrow[i * 160 : (i + 1) * 160])
    ]
    assert 0.15 * frames < len(changed) < 0.45 * frames
    concealed = [i for i in changed if i > 0 and (i - 1) not in changed]
    assert all(np.abs(out[i * 160 : (i + 1) * 160]).max() > 0.01 for i in concealed)  # no hole of silence
    assert np.array_equal(conceal_losses(narrow, TELEPHONY_RATE, 0.0, 1), narrow)
    assert np.array_equal(out, conceal_losses(narrow, TELEPHONY_RATE, 0.3, 1))  # seeded


def test_normalise_brings_a_quiet_line_to_speech_level_without_clipping():
    quiet = 0.01 * _voice()
    out = normalise(quiet)
    assert np.abs(out).max() <= 0.99
    assert np.sqrt(np.mean(out**2)) > 5 * np.sqrt(np.mean(quiet**2))
    assert np.array_equal(normalise(np.zeros(800, np.float32)), np.zeros(800, np.float32))


def test_pre_emphasis_lifts_high_frequencies_over_low():
    t = np.arange(PIPELINE_RATE) / PIPELINE_RATE
    low, high = np.sin(2 * np.pi * 200 * t), np.sin(2 * np.pi * 3000 * t)
    gain = np.std(pre_emphasis(high)) / np.std(pre_emphasis(low))
    assert gain > 10


def test_recognition_prompt_holds_the_service_words_and_districts():
    words = vocabulary_from_default()
    assert {"지하철", "버스", "강남구", "따릉이"} <= set(words)
    prompt = recognition_prompt()
    assert len(prompt) <= 180 and "지하철" in prompt and "종로구" in prompt


def vocabulary_from_default() -> list[str]:
    from dialog.kb import load_kb

    return vocabulary(load_kb())
