"""Answering-machine detection (issue 16): the beep detector (media.beep), the detector
(voicebot.call.amd) on real human greetings and espeak-ng carrier and voicemail sentences, and an outbound
ConversationSession that stays silent until it knows who answered and then follows the campaign's policy.

Whisper base reads espeak-ng's Korean voice badly (benchmarks/README.md), so the words path is tested with
a fixed transcript of the real carrier sentence; the timing and the beep are tested on the audio itself.
"""

from __future__ import annotations

import time
from dataclasses import fields
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks import amd_set
from media.audio import AudioFrame, float_to_pcm16, silence
from media.beep import BeepConfig, BeepDetector, BeepEnd, BeepStart
from outbound.script import AMD_DETECTOR_SETTINGS, Conversation, ScriptError, load_script, parse_script
from voicebot.call.amd import (
    AmdConfig,
    AnsweringMachineDetector,
    MachinePolicy,
    classify_text,
    match_phrases,
)
from voicebot.call.conversation import ConversationSession

RATE = 16_000
FRAME = RATE // 50

VOICEMAIL_KO = "고객이 전화를 받을 수 없어 삐 소리 후 소리샘으로 연결됩니다. 통화료가 부과됩니다."
NO_NUMBER_KO = "지금 거신 번호는 없는 번호입니다. 다시 확인하시고 걸어 주시기 바랍니다."


def frames(samples: np.ndarray, start_s: float = 0.0, rate: int = RATE):
    size = rate // 50
    for i, offset in enumerate(range(0, len(samples) - size + 1, size)):
        yield AudioFrame(float_to_pcm16(samples[offset : offset + size]), rate, start_s + i * size / rate)


def beeps(samples: np.ndarray, rate: int = RATE) -> list:
    detector = BeepDetector()
    events = []
    for frame in frames(samples, rate=rate):
        events += list(detector.process(frame))
    return events + list(detector.flush())


def tone(freq: float, seconds: float, level: float = 0.2, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# --- the beep detector -----------------------------------------------------------------------------------


@pytest.mark.parametrize("freq", [400.0, 425.0, 1000.0, 1400.0, 1950.0])
def test_a_steady_tone_in_the_band_is_a_beep_with_its_start_end_and_pitch(freq):
    events = beeps(np.concatenate([silence(0.5), tone(freq, 0.4), silence(0.5)]))
    start, end = events
    assert isinstance(start, BeepStart) and isinstance(end, BeepEnd)
    assert start.time_s == pytest.approx(0.5, abs=0.021) and start.detected_s <= 0.5 + 0.2
    assert end.time_s == pytest.approx(0.9, abs=0.021) and end.duration_s == pytest.approx(0.4, abs=0.04)
    assert start.frequency_hz == pytest.approx(freq, abs=10)


def test_not_beeps_short_tones_out_of_band_two_tone_signals_noise_and_line_tones():
    rng = np.random.default_rng(16)
    assert beeps(tone(1000, 0.12)) == []  # shorter than 150 ms
    assert beeps(tone(300, 0.5)) == [] and beeps(tone(2400, 0.5)) == []
    assert beeps(tone(440, 1.0, 0.1) + tone(480, 1.0, 0.1)) == []  # Korean ringback
    assert beeps(tone(480, 0.5, 0.1) + tone(620, 0.5, 0.1)) == []  # busy
    assert beeps(tone(770, 0.3, 0.1) + tone(1336, 0.3, 0.1)) == []  # DTMF 5
    assert beeps(rng.normal(0, 0.05, RATE).astype(np.float32)) == []
    assert beeps(tone(1000, 0.5, 0.001)) == []  # -63 dBFS: too quiet
    line_tone = beeps(tone(1000, 5.0))
    assert [type(e) for e in line_tone] == [BeepStart]  # a candidate, never a beep that ended


def test_a_beep_is_found_through_line_noise_and_the_telephone_path():
    rng = np.random.default_rng(1)
    noisy = np.concatenate([silence(0.3), tone(1000, 0.3), silence(0.3)])
    noisy = noisy + rng.normal(0, 10 ** (-50 / 20), len(noisy)).astype(np.float32)
    narrow = amd_set.telephone(noisy)
    assert [type(e) for e in beeps(narrow)] == [BeepStart, BeepEnd]
    from media.audio import resample

    assert [type(e) for e in beeps(resample(noisy, RATE, 8000), 8000)] == [BeepStart, BeepEnd]


def test_speech_is_not_a_beep(korean_clips, synthesizer):
    from media.audio import load_audio, resample

    for clip in korean_clips:
        audio = load_audio(clip.path)
        assert beeps(resample(audio.samples, audio.sample_rate, RATE)) == [], clip.path.name
    for text in (VOICEMAIL_KO, NO_NUMBER_KO, "아아아아아", "음"):
        assert beeps(synthesizer.synthesize(text, sample_rate=RATE).samples) == [], text


def test_beep_config_bounds_are_used():
    detector = BeepDetector(BeepConfig(low_hz=900, high_hz=1100, min_duration_ms=300))
    events = []
    for frame in frames(np.concatenate([tone(1000, 0.25), silence(0.1), tone(800, 0.5)])):
        events += list(detector.process(frame))
    assert events == []


# --- the detector ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def greetings(clips):
    """Greeting-length openings of the real Korean recordings (one or two words, 0.35-1.4 s of voice)."""
    cuts = amd_set.human_cuts()
    assert len(cuts) >= 8
    return cuts


@pytest.fixture(scope="module")
def machine_speech(synthesizer):
    return {
        text: synthesizer.synthesize(text, sample_rate=RATE).samples for text in (VOICEMAIL_KO, NO_NUMBER_KO)
    }


class FixedTranscriber:
    in_flight = 0  # no other calls share this model

    def __init__(self, text: str, delay_s: float = 0.0):
        self.text, self.delay_s, self.calls = text, delay_s, 0

    def transcribe(self, samples, language=None):
        self.calls += 1
        time.sleep(self.delay_s)
        return SimpleNamespace(text=self.text)


def run(detector: AnsweringMachineDetector, samples: np.ndarray, stop_when_final: bool = True):
    for frame in frames(samples):
        detector.process(frame)
        if stop_when_final and detector.final and (not detector.decision.machine or detector.message_from_s):
            break
    return detector.decision


def test_a_person_saying_a_short_greeting_is_human_within_three_seconds(greetings):
    for cut in greetings:
        lead = 0.5
        audio = np.concatenate([silence(lead), amd_set.at_level(cut["samples"], -20), silence(3.0)])
        decision = run(AnsweringMachineDetector(AmdConfig(words=False)), audio)
        assert decision.outcome == "human" and decision.reason == "after_greeting_silence", cut["text"]
        spoken_to = lead + len(cut["samples"]) / RATE
        assert decision.decided_s <= 3.0 and decision.decided_s - spoken_to < 1.0, (cut["text"], decision)
        assert decision.final and not decision.machine


def test_a_voicemail_greeting_is_a_machine_before_its_beep_and_a_message_may_follow_the_beep(machine_speech):
    said = machine_speech[VOICEMAIL_KO]
    beep_at = 0.4 + len(said) / RATE + 0.5
    audio = np.concatenate([silence(0.4), said, silence(0.5), tone(1000, 0.5), silence(3.0)])
    decision = run(AnsweringMachineDetector(AmdConfig(words=False)), audio)
    assert decision.outcome == "voicemail" and decision.reason == "long_greeting"
    assert decision.decided_s < 3.5 and decision.decided_s < beep_at
    assert decision.type_reason == "beep" and decision.beep_hz == pytest.approx(1000, abs=10)
    assert decision.beep_s == pytest.approx(beep_at, abs=0.05)
    assert decision.message_from_s == pytest.approx(beep_at + 0.5, abs=0.05)


def test_a_carrier_announcement_without_a_beep_is_a_carrier_message(machine_speech):
    said = machine_speech[NO_NUMBER_KO]
    audio = np.concatenate([silence(0.3), said, silence(3.0)])
    decision = run(AnsweringMachineDetector(AmdConfig(words=False)), audio)
    assert decision.outcome == "carrier_message" and decision.type_reason == "message_end"
    assert decision.decided_s < 3.5 and decision.typed_s >= 0.3 + len(said) / RATE


def test_the_words_name_the_machine_before_the_announcement_ends(machine_speech):
    said = machine_speech[NO_NUMBER_KO]
    audio = np.concatenate([silence(0.3), said, silence(3.0)])
    decision = run(AnsweringMachineDetector(AmdConfig(), FixedTranscriber(NO_NUMBER_KO)), audio)
    assert decision.outcome == "carrier_message" and decision.type_reason == "phrase"
    assert decision.phrase == "없는번호" and decision.typed_s < 0.3 + len(said) / RATE
    screening = "안녕하세요, 빅스비 텍스트콜입니다. 용건을 말씀해 주세요."
    decision = run(AnsweringMachineDetector(AmdConfig(), FixedTranscriber(screening)), audio)
    assert decision.outcome == "screened"


def test_a_short_recorded_greeting_with_a_machine_phrase_is_not_taken_for_a_person(greetings):
    short = np.concatenate([silence(0.3), amd_set.at_level(greetings[0]["samples"], -20), silence(3.0)])
    decision = run(AnsweringMachineDetector(AmdConfig(), FixedTranscriber("소리샘으로 연결됩니다")), short)
    assert decision.outcome == "voicemail" and decision.reason == "phrase"
    decision = run(AnsweringMachineDetector(AmdConfig(), FixedTranscriber("여보세요")), short)
    assert decision.outcome == "human" and decision.text == "여보세요"


def test_a_slow_transcriber_in_the_background_never_holds_up_a_person(greetings):
    audio = np.concatenate([silence(0.3), amd_set.at_level(greetings[0]["samples"], -20), silence(3.0)])
    slow = FixedTranscriber("여보세요", delay_s=0.5)
    detector = AnsweringMachineDetector(AmdConfig(words_grace_s=0.2), slow, background=True)
    decision = run(detector, audio)  # fed faster than real time: the decode is still running
    detector.close()
    assert decision.outcome == "human" and slow.calls == 1
    spoken_to = 0.3 + len(greetings[0]["samples"]) / RATE
    assert decision.decided_s <= spoken_to + 0.8 + 0.2 + 0.021


def test_silence_is_unknown_a_key_is_a_person_and_a_hang_up_decides_nothing():
    decision = run(AnsweringMachineDetector(AmdConfig(words=False)), silence(4.0))
    assert decision.outcome == "unknown" and decision.reason == "initial_silence"
    assert decision.decided_s == pytest.approx(2.5, abs=0.021)
    detector = AnsweringMachineDetector(AmdConfig(words=False))
    run(detector, silence(1.0))
    assert detector.on_dtmf(1.0).outcome == "human" and detector.decision.reason == "dtmf"
    detector = AnsweringMachineDetector(AmdConfig(words=False))
    run(detector, silence(1.0))
    assert detector.hangup(1.0) is None and detector.decision is None


def test_a_machine_that_hangs_up_before_its_kind_is_known_was_a_carrier_message(machine_speech):
    detector = AnsweringMachineDetector(AmdConfig(words=False))
    run(detector, np.concatenate([silence(0.2), machine_speech[NO_NUMBER_KO][: 3 * RATE]]), False)
    assert detector.decision.machine and not detector.final
    assert detector.hangup(3.2).outcome == "carrier_message" and detector.decision.type_reason == "hangup"


def test_korean_phrases():
    assert classify_text("고객이 전화를 받을 수 없어 삐 소리 후 소리샘으로 연결됩니다").outcome == "voicemail"
    assert classify_text("지금 거신 전화는 전원이 꺼져 있어").outcome == "carrier_message"
    assert not classify_text("지금 거신 전화는 전원이 꺼져 있어").final
    # phone off, then the mailbox: a voicemail
    assert classify_text("지금 거신 전화는 전원이 꺼져 있어 음성사서함으로 연결됩니다").outcome == "voicemail"
    assert classify_text("지금 거신 번호는 없는 번호입니다").outcome == "carrier_message"
    assert classify_text("연결이 되지 않아").outcome == "carrier_message"
    assert classify_text("통화 목적을 말씀해 주시면 전달해 드리겠습니다").outcome == "screened"
    for person in ("여보세요", "네 여보세요", "누구세요?", "네, 말씀하세요", "여보세요 김순자입니다", ""):
        assert classify_text(person) is None, person
    assert [p.outcome for p in match_phrases("소 리 샘,")] == ["voicemail"]  # Whisper's spacing


def test_settings_are_checked_and_outbound_scripts_name_the_same_ones():
    assert AmdConfig.from_dict({"greeting_s": 1.5, "max_words": 3}).greeting_s == 1.5
    for bad in ({"greting_s": 1}, {"max_words": 2.5}, {"words": 1}, {"greeting_s": "1"}, {"greeting_s": -1}):
        with pytest.raises(ValueError):
            AmdConfig.from_dict(bad)
    kinds = {"float": "number", "int": "whole", "bool": "flag"}
    assert AMD_DETECTOR_SETTINGS == {f.name: kinds[f.type] for f in fields(AmdConfig)}
    policy = MachinePolicy.from_dict(load_script("covid_notice").answering_machine)
    assert policy.voicemail == "leave_message" and "120" in policy.message and policy.detect
    assert MachinePolicy.from_dict(load_script("welfare_check").answering_machine).voicemail == "hang_up"
    base = {"kind": "welfare_check", "slots": {"required": ["name"]}, "steps": [{"id": "a", "say": "안녕"}]}
    for bad in (
        {"voicemail": "leave_message"},  # no message
        {"voicemail": "leave_message", "message": "{name} 님께 전화드렸습니다"},  # personal
        {"voicemail": "shout"},
        {"detector": {"greeting": 1}},
        {"detector": {"max_words": True}},
        {"detect": "no"},
    ):
        with pytest.raises(ScriptError):
            parse_script({**base, "answering_machine": bad})
    script = parse_script({**base, "answering_machine": {"detect": False, "detector": {"greeting_s": 2}}})
    assert not MachinePolicy.from_dict(script.answering_machine).detect


# --- the outbound session ----------------------------------------------------------------------------------


class ToneSynth:
    """Stands in for espeak-ng: half a second of a quiet tone for any text."""

    def stream(self, text, sample_rate=RATE):
        yield SimpleNamespace(samples=tone(440, 0.5, 0.1, sample_rate))


def session_for(kind: str, slots: dict, transcriber=None) -> tuple[ConversationSession, Conversation]:
    script = load_script(kind)
    conv = Conversation(script, slots)
    policy = MachinePolicy.from_dict(script.answering_machine)
    session = ConversationSession(
        conv, ToneSynth(), transcriber, no_input_s=5.0, machines=policy, amd_background=False
    )
    return session, conv


def play(session: ConversationSession, samples: np.ndarray, start_s: float = 0.0) -> tuple[np.ndarray, float]:
    out = []
    now = start_s
    for frame in frames(samples, start_s):
        out.append(session.on_caller_frame(frame))
        now = frame.end_s
    return np.concatenate(out) if out else np.zeros(0, np.float32), now


COVID_SLOTS = {"name": "김순자", "date": "3월 5일", "place": "중구 보건소", "result": "음성"}


def test_a_person_hears_the_script_only_once_the_detector_has_decided(greetings):
    session, conv = session_for("welfare_check", {"name": "김순자"})
    session.start(0.0)
    assert session.turns == [] and not session.bot_speaking
    greeting = amd_set.at_level(greetings[1]["samples"], -20)
    heard, now = play(session, np.concatenate([silence(0.4), greeting, silence(2.0)]))
    decided = session.detection
    assert decided.outcome == "human" and decided.decided_s < 3.0
    first_sound = np.nonzero(np.abs(heard) > 0.01)[0][0] / RATE
    assert first_sound >= decided.decided_s - 0.021  # silent until decided
    assert session.turns[0].step == "meals" and "김순자 어르신" in session.turns[0].bot_text
    assert [e.kind for e in session.events] == ["amd"] and session.events[0].detail["outcome"] == "human"


def test_a_key_during_detection_is_a_person_and_answers_the_first_question():
    session, conv = session_for("welfare_check", {"name": "김순자"})
    session.start(0.0)
    _, now = play(session, silence(1.0))
    session.on_dtmf("1", now)
    assert session.detection.outcome == "human" and session.detection.reason == "dtmf"
    assert [t.step for t in session.turns] == ["meals", "health"] and session.turns[0].via == "dtmf"


def test_covid_voicemail_gets_the_short_message_after_the_beep_and_no_script(machine_speech):
    session, conv = session_for("covid_notice", COVID_SLOTS)
    session.start(0.0)
    said = machine_speech[VOICEMAIL_KO]
    beep_end = 0.3 + len(said) / RATE + 0.4 + 0.4
    heard, now = play(
        session, np.concatenate([silence(0.3), said, silence(0.4), tone(1000, 0.4), silence(3.0)])
    )
    assert session.detection.outcome == "voicemail" and session.detection.decided_s < beep_end - 0.4
    assert session.ended_reason == "voicemail" and session.ended and session.message_left
    assert [t.bot_text for t in session.turns] == [load_script("covid_notice").answering_machine["message"]]
    assert "김순자" not in session.turns[0].bot_text and conv.said == []  # nothing personal, no script
    first_sound = np.nonzero(np.abs(heard) > 0.01)[0][0] / RATE
    assert first_sound == pytest.approx(beep_end, abs=0.05)


def test_welfare_voicemail_hangs_up_without_a_word(machine_speech):
    session, conv = session_for("welfare_check", {"name": "김순자"})
    session.start(0.0)
    said = machine_speech[VOICEMAIL_KO]
    heard, _ = play(
        session, np.concatenate([silence(0.3), said, silence(0.4), tone(1000, 0.4), silence(1.0)])
    )
    assert session.ended and session.ended_reason == "voicemail" and not session.message_left
    assert session.turns == [] and conv.said == [] and np.abs(heard).max() == 0


def test_a_hang_up_before_the_detector_decides_leaves_no_detection():
    session, conv = session_for("welfare_check", {"name": "김순자"})
    session.start(0.0)
    _, now = play(session, silence(1.0))
    session.hangup(now)
    assert session.detection is None and session.ended_reason == "caller_hangup" and session.turns == []


def test_detection_off_starts_the_script_at_answer():
    script = load_script("welfare_check")
    conv = Conversation(script, {"name": "김순자"})
    policy = MachinePolicy.from_dict({**script.answering_machine, "detect": False})
    session = ConversationSession(conv, ToneSynth(), machines=policy)
    session.start(0.0)
    assert session.detector is None and session.turns[0].step == "meals"


# --- the SIP dialer's typed outcome, on a fake endpoint -----------------------------------------------------


class FakeEndpoint:
    """Answers (or not) with ``status``, plays ``audio`` into the call's session frame by frame and then
    hangs up as the far end, as ``SipEndpoint.place_call`` reports it."""

    def __init__(self, status: int = 200, audio: np.ndarray | None = None, keys: dict | None = None):
        self.status, self.audio, self.keys = status, audio, keys or {}

    def place_call(self, uri, session_for):
        from concurrent.futures import Future

        from voicebot.call.record import CallRecord

        record = CallRecord("c1", "sip", direction="outbound")
        outcome, finished = Future(), Future()
        if self.status != 200:
            outcome.set_result(("rejected" if self.status in (403, 488, 603, 606) else "failed", self.status))
            finished.set_result(record)
            return SimpleNamespace(outcome=outcome, finished=finished)
        outcome.set_result(("answered", 200))
        session = session_for("c1")
        session.start(0.0)
        now = 0.0
        for frame in frames(self.audio):
            session.on_caller_frame(frame)
            now = frame.end_s
            for at_s, key in self.keys.items():
                if abs(now - at_s) < 1e-6:
                    session.on_dtmf(key, now)
            if session.ended:
                record.ended_reason, record.hangup_by = session.ended_reason, "bot"
                break
        else:
            session.hangup(now)
            record.ended_reason, record.hangup_by = "caller_hangup", "remote"
        record.duration_s = now
        finished.set_result(record)
        return SimpleNamespace(outcome=outcome, finished=finished)


def dial(endpoint: FakeEndpoint, kind: str = "welfare_check"):
    from outbound.runner import CallRequest
    from voicebot.sip.dialer import SipDialer

    script = load_script(kind)
    slots = COVID_SLOTS if kind == "covid_notice" else {"name": "김순자"}
    dialer = SipDialer(endpoint, "sip:{phone}@127.0.0.1", ToneSynth(), None)
    return dialer.dial(CallRequest(1, "+821011110001", script, slots))


def test_the_sip_dialer_reports_who_answered(machine_speech, greetings):
    said = machine_speech[VOICEMAIL_KO]
    voicemail = dial(
        FakeEndpoint(audio=np.concatenate([silence(0.3), said, silence(0.4), tone(1000, 0.4), silence(2)]))
    )
    assert voicemail.outcome == "voicemail" and voicemail.conversation is None and voicemail.sip_status == 200
    assert voicemail.amd["message_left"] is False and voicemail.amd["call"]["ended_reason"] == "voicemail"
    early = dial(FakeEndpoint(audio=silence(1.0)))  # picked up and gone before anyone could tell
    assert early.outcome == "hung_up_early" and early.conversation is None and early.amd["call"]
    greeting = amd_set.at_level(greetings[0]["samples"], -20)
    person = dial(FakeEndpoint(audio=np.concatenate([silence(0.3), greeting, silence(3.0)])))
    assert person.outcome == "human" and person.amd["outcome"] == "human"
    assert person.conversation["outcome"] == "caller_hangup"  # hung up during the first question
    silent = dial(FakeEndpoint(audio=silence(4.0)))  # nobody to tell from: the script ran, nobody replied
    assert silent.outcome == "answered" and silent.amd["outcome"] == "unknown"
    keyed = dial(FakeEndpoint(audio=silence(4.0), keys={3.0: "1"}))  # a reply to the script: a person
    assert keyed.outcome == "human" and keyed.keypad == "1"
    assert dial(FakeEndpoint(603)).outcome == "rejected" and dial(FakeEndpoint(488)).outcome == "failed"


# --- the labelled set and the benchmark ---------------------------------------------------------------------


def test_the_labelled_set_is_half_machines_and_the_detector_tells_people_from_machines(clips, tmp_path):
    """``scripts/make_amd_set.py``'s set, built here, run through ``benchmarks.amd`` without the words
    (Whisper adds nothing on espeak-ng's voice): every person is a person, every machine a machine and
    decided before its beep. Timings are printed by the benchmark, never asserted."""
    from benchmarks import amd as bench

    items = amd_set.load_items(amd_set.ensure_built(tmp_path / "set"))
    labels = [i["label"] for i in items]
    assert len(items) >= 40 and labels.count("human") * 2 == len(items)
    assert {i["sha256"] for i in items} == {i["sha256"] for i in amd_set.build(tmp_path / "again")}
    summary = bench.run(items, AmdConfig(words=False), None)
    assert summary["person_or_machine_accuracy"] == 1.0 and summary["people_taken_for_machines"] == []
    assert summary["machines_decided_before_beep"] == "12/12"
    assert summary["confusion"]["rows"]["human"][0] == 24
