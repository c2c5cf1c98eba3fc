"""The call timeline charges every decode its time, wasted speculative ones included.

A caller pauses mid-sentence (a speculative decode starts) and goes on talking; the final decode cannot
start before the speculative one has finished, on the simulated timeline as on a live call.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from media.audio import Audio, iter_frames, load_audio, silence
from voicebot.call.session import CallConfig, CallSession

pytestmark = pytest.mark.slow


class SlowMachine:
    """Stand-in for a machine busy with other calls: the real model, and then a fixed extra wait.
    (A loaded CPU cannot be arranged deterministically in a test.)"""

    in_flight = 0  # the load is the extra wait: pauses are still decoded

    def __init__(self, inner, extra_s: float):
        self.inner = inner
        self.extra_s = extra_s
        self.name = inner.name
        self.config = inner.config

    def transcribe(self, samples, *args, **kwargs):
        result = self.inner.transcribe(samples, *args, **kwargs)
        time.sleep(self.extra_s)
        return result


def test_a_wasted_speculative_decode_delays_the_final_one(
    engine, synthesizer, faster_transcriber, korean_clips
):
    speech = load_audio(korean_clips[0].path).samples
    cut = int(len(speech) * 0.6)  # mid-sentence: about 4 s of speech follow the pause
    first, rest = speech[:cut], speech[cut:]
    caller = np.concatenate([silence(1.0), first, silence(0.3), rest, silence(4.0)])
    session = CallSession(
        engine, SlowMachine(faster_transcriber, extra_s=6.0), synthesizer, CallConfig(), call_id="timeline"
    )
    session.start(0.0)
    for frame in iter_frames(Audio(caller, 16_000), 20):
        session.on_caller_frame(frame)
        if any(t.trigger == "speech" for t in session.turns):
            break
    speculative = [e for e in session.events if e.kind == "speculative_stt"]
    utterances = [e for e in session.events if e.kind == "utterance"]
    assert speculative and utterances
    wasted = speculative[0]
    assert wasted.time_s < utterances[-1].time_s
    reply = next(t for t in session.turns if t.trigger == "speech")
    busy_until = wasted.time_s + wasted.detail["stt_ms"] / 1000
    final_stt = utterances[-1].detail["stt_ms"] / 1000
    assert reply.bot_start_s >= busy_until + final_stt - 0.001


@pytest.mark.parametrize("stem", ["0352", "0294"])
def test_fast_and_real_time_simulations_agree(engine, synthesizer, faster_transcriber, korean_clips, stem):
    """``voicebot call --fast`` and the real-time run hear the same words and reply at the same stream
    times (within a decode's jitter): the fast timeline is what a live caller would hear."""
    from voicebot.simulate import simulate_call

    clip = next(c for c in korean_clips if c.path.stem.endswith(stem))
    caller = Audio(
        np.concatenate([silence(36.0), load_audio(clip.path).samples]), 16_000
    )  # after the greeting
    runs = {}
    for realtime in (False, True):
        session = CallSession(
            engine, faster_transcriber, synthesizer, CallConfig(max_call_s=60.0), call_id=stem
        )
        record = simulate_call(session, caller, realtime=realtime, max_call_s=caller.duration_s + 4.0).record
        runs[realtime] = [t for t in record.turns if t["trigger"] == "speech"]
    fast, live = runs[False], runs[True]
    assert fast and [t["caller_text"] for t in fast] == [t["caller_text"] for t in live]

    def compute_s(turn: dict) -> float:  # decoding, dialog and synthesis after the endpoint
        latency = turn["latency_ms"]
        return (latency["stt_wait_ms"] + latency["dialog_ms"] + latency["tts_first_ms"]) / 1000

    for a, b in zip(fast, live, strict=True):
        assert a["caller_end_s"] == b["caller_end_s"]  # the same frames, the same endpoint
        # the replies start apart by no more than the two runs' compute times differ (a loaded CPU)
        jitter = abs(compute_s(a) - compute_s(b))
        assert abs(a["bot_start_s"] - b["bot_start_s"]) <= jitter + 0.05, (a, b)
