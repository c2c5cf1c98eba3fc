"""VAD and endpointing on real speech placed at known times in silence."""

from __future__ import annotations

import numpy as np
import pytest

from media.audio import Audio, iter_frames, load_audio, silence
from media.vad import (
    EndpointConfig,
    Endpointer,
    SpeechDiscarded,
    SpeechEnd,
    SpeechPause,
    SpeechStart,
    create_vad,
)


def energy_bounds(samples: np.ndarray, rate: int = 16_000) -> tuple[float, float]:
    """First and last 20 ms window within 35 dB of the loudest: the clip's speech span."""
    size = rate // 50
    windows = samples[: len(samples) // size * size].reshape(-1, size)
    db = 10 * np.log10(np.mean(windows**2, axis=1) + 1e-12)
    active = np.nonzero(db > db.max() - 35)[0]
    return active[0] * size / rate, (active[-1] + 1) * size / rate


def run(samples: np.ndarray, config: EndpointConfig = EndpointConfig(), bot_speaking: bool = False):
    endpointer = Endpointer(create_vad("webrtc"), config)
    endpointer.bot_speaking = bot_speaking
    events = []
    for frame in iter_frames(Audio(samples, 16_000), config.frame_ms):
        events.extend(endpointer.process(frame))
    events.extend(endpointer.flush(len(samples) / 16_000))
    return events


@pytest.fixture(scope="module")
def two_utterances(korean_clips):
    first = load_audio(korean_clips[0].path).samples
    second = load_audio(korean_clips[1].path).samples
    lead, gap = 1.5, 2.0
    signal = np.concatenate([silence(lead), first, silence(gap), second, silence(1.5)])
    spans = []
    for offset, clip in ((lead, first), (lead + len(first) / 16_000 + gap, second)):
        start, end = energy_bounds(clip)
        spans.append((offset + start, offset + end))
    return signal, spans


def test_two_utterances_are_found_at_their_boundaries(two_utterances):
    signal, spans = two_utterances
    events = run(signal)
    starts = [e for e in events if isinstance(e, SpeechStart)]
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert len(starts) == 2 and len(ends) == 2
    for (true_start, true_end), start, end in zip(spans, starts, ends, strict=True):
        # An audible in-breath just before the first word may open the utterance early; starting late
        # would clip the first syllable, so that side is tight.
        assert true_start - 1.0 < start.time_s < true_start + 0.15
        assert abs(end.last_voiced_s - true_end) < 0.35
        assert end.time_s - end.last_voiced_s == pytest.approx(0.6, abs=0.05)  # the hangover
        assert not end.forced
        # the utterance audio covers the speech, with pre-roll
        assert end.start_s <= start.time_s
        assert end.duration_s >= (true_end - true_start) - 0.3


def test_hangover_is_configurable(two_utterances):
    signal, _ = two_utterances
    ends = [e for e in run(signal, EndpointConfig(hangover_ms=300)) if isinstance(e, SpeechEnd)]
    assert ends and all(abs((e.time_s - e.last_voiced_s) - 0.3) < 0.05 for e in ends)


def test_silence_and_low_noise_produce_no_utterance():
    rng = np.random.default_rng(0)
    signal = np.concatenate([silence(2.0), (rng.standard_normal(16_000 * 2) * 0.001).astype(np.float32)])
    assert not [e for e in run(signal) if isinstance(e, SpeechEnd | SpeechStart)]


def test_a_click_is_discarded_as_too_short():
    burst = np.concatenate(
        [silence(1.0), np.sin(np.arange(3_200) * 0.3).astype(np.float32) * 0.5, silence(1.5)]
    )
    events = run(burst, EndpointConfig(min_speech_ms=250))
    assert not [e for e in events if isinstance(e, SpeechEnd)]
    assert all(isinstance(e, SpeechStart | SpeechDiscarded) for e in events)


def test_max_utterance_forces_an_end(korean_clips):
    clip = load_audio(korean_clips[0].path).samples
    ends = [e for e in run(clip, EndpointConfig(max_utterance_ms=3_000)) if isinstance(e, SpeechEnd)]
    assert ends[0].forced
    assert ends[0].duration_s <= 3.1


def test_speech_while_the_bot_talks_is_a_barge_in(two_utterances):
    signal, _ = two_utterances
    starts = [e for e in run(signal, bot_speaking=True) if isinstance(e, SpeechStart)]
    assert starts and all(s.barge_in for s in starts)


def test_8khz_telephone_frames_work(korean_clips):
    clip = load_audio(korean_clips[0].path, sample_rate=8_000).samples
    signal = np.concatenate([silence(1.0, 8_000), clip, silence(1.5, 8_000)])
    endpointer = Endpointer(create_vad("webrtc"))
    events = []
    for frame in iter_frames(Audio(signal, 8_000), 20):
        events.extend(endpointer.process(frame))
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert len(ends) == 1 and ends[0].sample_rate == 8_000


def test_silero_vad_option_finds_the_same_utterances(two_utterances):
    pytest.importorskip("silero_vad")
    signal, spans = two_utterances
    endpointer = Endpointer(create_vad("silero"))
    events = []
    for frame in iter_frames(Audio(signal, 16_000), 20):
        events.extend(endpointer.process(frame))
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert len(ends) == 2
    for (_, true_end), end in zip(spans, ends, strict=True):
        assert abs(end.last_voiced_s - true_end) < 0.4


def test_pause_event_carries_exactly_the_final_utterance(two_utterances):
    """The speculative decode at a pause sees the same samples the endpoint will deliver."""
    signal, _ = two_utterances
    events = run(signal)
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    for end in ends:
        pauses = [e for e in events if isinstance(e, SpeechPause) and e.last_voiced_s == end.last_voiced_s]
        assert len(pauses) == 1
        pause = pauses[0]
        assert pause.time_s == pytest.approx(end.last_voiced_s + 0.2, abs=0.021)
        assert np.array_equal(pause.samples, end.samples)


def test_early_end_applies_only_after_the_transcript_is_ready(korean_clips):
    speech = load_audio(korean_clips[0].path).samples
    signal = np.concatenate([silence(1.0), speech, silence(2.0)])
    config = EndpointConfig()
    for ready_after_s, expected_ms in ((0.0, config.early_hangover_ms), (0.5, 500), (5.0, config.hangover_ms)):
        endpointer = Endpointer(create_vad("webrtc"), config)
        events = []
        for frame in iter_frames(Audio(signal, 16_000), config.frame_ms):
            for event in endpointer.process(frame):
                if isinstance(event, SpeechPause):
                    endpointer.allow_early_end(event.last_voiced_s, event.last_voiced_s + ready_after_s)
                events.append(event)
        (end,) = [e for e in events if isinstance(e, SpeechEnd)]
        assert (end.time_s - end.last_voiced_s) * 1000 == pytest.approx(expected_ms, abs=21)
