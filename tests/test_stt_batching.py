"""Calls sharing one Whisper model: batched decodes give the words a decode alone gives, and the queue
batches what waits, keeps one bad utterance from failing the others, and reports how busy it is."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from media.audio import load_audio, silence
from stt import BatchingTranscriber, DecodeCall, STTError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def korean_samples(korean_clips):
    return [load_audio(clip.path).samples for clip in korean_clips[:4]]


def test_a_batch_decodes_each_utterance_as_it_would_be_decoded_alone(faster_transcriber, korean_samples):
    alone = [faster_transcriber.transcribe(s, language="ko").text for s in korean_samples]
    calls = [DecodeCall(s, "ko") for s in korean_samples] + [DecodeCall(silence(2.0), "ko")]
    together = faster_transcriber.transcribe_batch(calls)
    assert [t.text for t in together[:-1]] == alone
    assert together[-1].text == "" and together[-1].dropped == ["silence"]
    assert all(t.window_s == 15.0 for t in together[:-1])


def test_utterances_of_different_windows_go_in_separate_groups(faster_transcriber, korean_samples):
    long = np.concatenate([korean_samples[0], korean_samples[1]])  # over 12 s: a longer encoder window
    results = faster_transcriber.transcribe_batch(
        [DecodeCall(korean_samples[2], "ko"), DecodeCall(long, "ko")]
    )
    assert results[0].text == faster_transcriber.transcribe(korean_samples[2], language="ko").text
    assert results[1].window_s > results[0].window_s
    assert results[1].text == faster_transcriber.transcribe(long, language="ko").text


def test_the_queue_batches_concurrent_calls_and_isolates_a_bad_request(faster_transcriber, korean_samples):
    queue = BatchingTranscriber(faster_transcriber)
    expected = [faster_transcriber.transcribe(s, language="ko").text for s in korean_samples]
    texts: dict[int, str] = {}
    errors: dict[int, BaseException] = {}
    busy: list[int] = []

    def caller(index: int, samples) -> None:
        try:
            texts[index] = queue.transcribe(samples, language="ko").text
        except Exception as exc:
            errors[index] = exc

    bad = np.zeros((2, 16_000), dtype=np.float32)  # stereo: rejected with a clear error
    inputs = [*korean_samples, bad]
    threads = [threading.Thread(target=caller, args=(i, s)) for i, s in enumerate(inputs)]
    for thread in threads:
        thread.start()
        busy.append(queue.in_flight)
    for thread in threads:
        thread.join()
    assert [texts[i] for i in range(len(korean_samples))] == expected
    assert set(errors) == {len(inputs) - 1} and isinstance(errors[len(inputs) - 1], STTError)
    assert queue.requests == len(inputs)
    assert queue.batches < queue.requests  # the callers that waited shared a decode
    assert max(busy) >= 1 and queue.in_flight == 0
    assert queue.name == faster_transcriber.name and queue.config is faster_transcriber.config
