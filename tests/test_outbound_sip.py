"""Live outbound campaign calls: ``ConversationSession`` branching on keys, speech and silence, and the
``voicebot.sip.dialer.SipDialer`` calling a real baresip softphone on 127.0.0.1 from a real SQLite campaign.

The fast tests drive a session frame by frame with a tone for each prompt and a fixed transcript. The slow
ones load Whisper base and espeak-ng once, run one ``SipEndpoint`` in this process, and let
``outbound.runner.run_due`` place each call while the test presses the callee's keys through baresip's
ctrl_tcp or plays a real Korean recording as the callee's microphone. Every call first listens for who
answered (``voicebot.call.amd``): a key is a person; a voicemail greeting played by the callee is a
machine, stored as such (issue 16).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import soundfile as sf
from sip_peers import Baresip, free_port, needs_baresip, rms
from sqlalchemy import select

from benchmarks.metrics import character_error_rate
from media.audio import AudioFrame, float_to_pcm16, load_audio, resample, silence
from outbound import Schedule, import_contacts, parse_windows, store
from outbound.runner import RunReport, run_due
from outbound.schema import Alert, Attempt, CampaignContact
from outbound.script import Conversation, load_script
from voicebot.call.conversation import ConversationSession
from voicebot.sip.dialer import SipDialer

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 9, 21, 10, 0, tzinfo=SEOUL)  # a Monday, inside the calling window
CALLEE = "+821033330001"  # the contact's number, and the softphone's user part
RATE = 16_000
FRAME = RATE // 50  # 20 ms

# --- fast: one session fed frame by frame ----------------------------------------------------------------


@dataclass
class ToneSynth:
    """Stands in for espeak-ng: ``seconds`` of a quiet tone for any text."""

    seconds: float = 0.5

    def stream(self, text: str, sample_rate: int = RATE):
        t = np.arange(int(self.seconds * sample_rate)) / sample_rate
        yield SimpleNamespace(samples=(0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))


@dataclass
class FixedTranscriber:
    in_flight = 0  # no other calls share this model
    text: str

    def transcribe(self, samples: np.ndarray, language: str | None = None):
        return SimpleNamespace(text=self.text)


def feed(session: ConversationSession, samples: np.ndarray, start_s: float) -> float:
    """The callee's audio, frame by frame; returns the stream time after it."""
    for offset in range(0, len(samples) - FRAME + 1, FRAME):
        session.on_caller_frame(AudioFrame(float_to_pcm16(samples[offset : offset + FRAME]), RATE, start_s))
        start_s += FRAME / RATE
    return start_s


def korean_speech(korean_clips, stem_end: str) -> np.ndarray:
    clip = next(c for c in korean_clips if c.path.stem.endswith(stem_end))
    audio = load_audio(clip.path)
    return resample(audio.samples, audio.sample_rate, RATE)


def test_conversation_session_branches_on_keys_silence_and_emergency_words(korean_clips):
    conv = Conversation(load_script("welfare_check"), {"name": "김순자"})
    session = ConversationSession(
        conv, ToneSynth(), FixedTranscriber("숨이 너무 차요"), no_input_s=1.0, call_id="t1"
    )
    session.start(0.0)
    assert session.turns[0].step == "meals" and "김순자 어르신" in session.turns[0].bot_text
    now = feed(session, silence(0.2), 0.0)
    session.on_dtmf("1", now)  # during the prompt: cuts it short and answers
    session.on_dtmf("9", now)  # 9: the health question again
    assert [t.step for t in session.turns] == ["meals", "health", "health"]
    assert session.turns[1].bot_text == session.turns[2].bot_text
    now = feed(session, silence(1.8), now)  # 0.5 s prompt + 1.0 s of silence: asked once more
    assert [(t.step, t.via) for t in session.turns[2:]] == [("health", "timeout"), ("health", None)]
    assert not session.ended and session.handoff is None
    now = feed(session, korean_speech(korean_clips, "0294"), now)  # taken as "숨이 너무 차요"
    answered = session.turns[-2]
    assert answered.step == "health" and answered.via == "speech" and answered.answer == "숨이 너무 차요"
    assert set(answered.latency_ms) == {"endpoint", "stt", "reply", "total"}
    assert session.ended_reason == "transfer" and conv.outcome == "emergency"
    assert session.turns[-1].step is None and "연결" in session.turns[-1].bot_text
    handoff = session.handoff
    assert handoff["reason"] == "emergency" and handoff["detail"] == "medical"
    assert handoff["call_id"] == "t1" and handoff["caller_utterances"] == ["숨이 너무 차요"]
    assert handoff["conversation"]["steps"]["meals"]["value"] == "fine"
    feed(session, silence(0.6), now)
    assert session.ended
    session.on_dtmf("1", now)  # too late: nothing changes
    assert conv.keypad == "19"


def test_speech_over_a_prompt_is_no_answer_and_a_hang_up_ends_the_session(korean_clips):
    conv = Conversation(load_script("welfare_check"), {"name": "김순자"})
    session = ConversationSession(conv, ToneSynth(seconds=12.0), FixedTranscriber("네 잘 먹었어요"))
    session.start(0.0)
    now = feed(session, korean_speech(korean_clips, "0294"), 0.0)  # "여보세요" while the greeting plays
    feed(session, silence(2.0), now)
    assert [t.step for t in session.turns] == ["meals"] and session.turns[0].via is None
    session.hangup(now)
    assert session.ended and session.ended_reason == "caller_hangup" and session.handoff is None


# --- slow: real calls from a campaign ------------------------------------------------------------------


@pytest.fixture(scope="module")
def models():
    from voicebot.sip.app import load_models

    return load_models(dialog=False)


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    """A second softphone standing in for the agents' desk: answers any call at once."""
    work = tmp_path_factory.mktemp("agent")
    quiet = work / "quiet.wav"
    sf.write(quiet, silence(60.0), RATE)
    phone = Baresip(work / "baresip", quiet, answer=True)
    yield phone
    phone.close()


@pytest.fixture(scope="module")
def endpoint(models, agent, tmp_path_factory):
    from voicebot.sip.config import SipConfig
    from voicebot.sip.endpoint import SipEndpoint

    work = tmp_path_factory.mktemp("outbound-sip")
    config = SipConfig(
        listen_port=free_port(),
        agent_uri=agent.uri,
        ring_timeout_s=10.0,
        rtp_timeout_s=10.0,
        record_dir=work / "recordings",
        handoff_dir=work / "handoffs",
    )
    with SipEndpoint(config, None, synthesizer=models.synthesizer) as started:
        yield started


def campaign(tmp_path: Path, kind: str, notes: str = ""):
    """A running campaign with one contact in a real SQLite file, its first attempt due at NOW."""
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    store.upgrade(url)
    factory = store.session_factory(store.make_engine(url))
    with factory.begin() as session:
        created = store.create_campaign(
            session,
            name=f"{kind} test",
            kind=kind,
            schedule=Schedule(
                start_date=date(2026, 9, 21),
                end_date=date(2026, 10, 30),
                windows=parse_windows("09:00-18:00"),
                weekdays=frozenset(range(5)),
            ),
        )
        people = import_contacts(f"이름,전화번호,메모\n김순자,010-3333-0001,{notes}\n".encode())
        assert not people.rejected
        store.add_contacts(session, created, people.contacts)
        assert store.schedule_first_attempts(session, created, NOW) == 1
        created.status = "running"
    return factory


def uri_template(phone: Baresip) -> str:
    return f"sip:{{phone}}@127.0.0.1:{phone.sip_port}"


def place(factory, dialer, phone: Baresip, keys: list[tuple[float, str]]) -> RunReport:
    """``run_due`` in a thread places the call; the callee presses ``keys`` (seconds after the previous)."""
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_due, factory, dialer, "w1", NOW)
        phone.wait_event("CALL_ESTABLISHED", 30)
        for wait_s, key in keys:
            time.sleep(wait_s)
            phone.command("sndcode", key)
        return running.result(timeout=120)


def the_attempt(factory) -> tuple[Attempt, list[Alert]]:
    with factory() as session:
        return session.scalars(select(Attempt)).one(), list(session.scalars(select(Alert)))


def quiet_callee(tmp_path: Path) -> Baresip:
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, silence(90.0), RATE)
    return Baresip(tmp_path / "baresip", quiet, answer=True, user=CALLEE)


@needs_baresip
def test_welfare_check_by_keypad_raises_a_concern(models, endpoint, tmp_path):
    """1, 2, 9 (hear it again), 2, 1, 1: each step's answer is stored, two "not fine" make a concern."""
    phone = quiet_callee(tmp_path)
    factory = campaign(tmp_path, "welfare_check")
    dialer = SipDialer(endpoint, uri_template(phone), models.synthesizer, models.transcriber)
    try:
        report = place(
            factory, dialer, phone, [(1.5, "1"), (1.0, "2"), (1.0, "9"), (1.5, "2"), (1.0, "1"), (1.0, "1")]
        )
    finally:
        phone.close()  # the call is over once run_due returns
    assert report.outcomes == {"human": 1} and report.alerts == 1
    attempt, alerts = the_attempt(factory)
    assert attempt.state == "completed" and attempt.outcome == "human" and attempt.sip_status == 200
    # the line was silent until the first key: a key is a person (and answers the first question)
    assert attempt.amd["outcome"] == "human" and attempt.amd["reason"] == "dtmf"
    assert attempt.keypad == "129211" and attempt.transcript is None
    steps = attempt.answers["steps"]
    assert {k: (v["value"], v["via"]) for k, v in steps.items()} == {
        "meals": ("fine", "dtmf"),
        "health": ("not_fine", "dtmf"),
        "sleep": ("not_fine", "dtmf"),
        "mood": ("fine", "dtmf"),
        "needs": ("fine", "dtmf"),
    }
    assert attempt.answers["outcome"] == "completed" and attempt.answers["overall"] == "concern"
    call = attempt.answers["call"]
    assert call["ended_reason"] == "goodbye" and call["hangup_by"] == "bot" and call["transfer"] is None
    answers = attempt.latency_ms["answers"]
    assert [a["via"] for a in answers] == ["dtmf"] * 6 and all(a["total"] > 0 for a in answers)
    (alert,) = alerts
    assert alert.kind == "welfare_concern" and alert.attempt_id == attempt.id
    assert "건강" in alert.message and "수면" in alert.message
    assert attempt.duration_s > 5
    assert rms(phone.heard()) > 0.01  # the callee heard the questions
    stereo, rate = sf.read(attempt.recording_path, dtype="float32")
    assert rate == 8000 and stereo.shape[1] == 2  # the callee (silent here) left, the bot right
    assert rms(stereo[:, 1]) > 0.01


@needs_baresip
def test_welfare_check_answered_by_voice(models, endpoint, korean_clips, tmp_path):
    """The callee presses 1 for the first question, then its microphone plays a real Korean recording
    once the second has been asked: the transcript is stored and that step's answer is recorded as given
    by speech. The clip is a read news sentence, chosen because the answer rules do classify it (an
    unclear answer would be asked again)."""
    clip = next(c for c in korean_clips if c.path.stem.endswith("0360"))
    conv = Conversation(load_script("welfare_check"), {"name": "김순자"})
    conv.start()
    health = conv.respond(digit="1")
    key_at_s = 1.5
    lead_s = key_at_s + len(models.synthesizer.synthesize(health, sample_rate=8000).samples) / 8000 + 2.0
    audio = load_audio(clip.path)
    speech = resample(audio.samples, audio.sample_rate, 8000)
    mic = tmp_path / "mic.wav"
    sf.write(mic, np.concatenate([silence(lead_s, 8000), speech, silence(90.0, 8000)]), 8000)
    phone = Baresip(tmp_path / "baresip", mic, answer=True, user=CALLEE, mic_rate=8000)
    factory = campaign(tmp_path, "welfare_check")
    dialer = SipDialer(endpoint, uri_template(phone), models.synthesizer, models.transcriber)
    after_speech_s = lead_s - key_at_s + audio.duration_s + 3.0
    try:
        report = place(
            factory, dialer, phone, [(key_at_s, "1"), (after_speech_s, "1"), (1.0, "1"), (1.0, "1")]
        )
    finally:
        phone.close()  # the call is over once run_due returns
    assert report.outcomes == {"human": 1}
    attempt, _ = the_attempt(factory)
    assert attempt.state == "completed" and attempt.outcome == "human"
    cer = character_error_rate(clip.transcript, attempt.transcript)
    assert cer < 0.35, (attempt.transcript, cer)
    steps = attempt.answers["steps"]
    assert steps["health"]["via"] == "speech" and steps["health"]["text"] == attempt.transcript
    assert steps["health"]["value"] in ("fine", "not_fine", "concern")
    assert [steps[s]["via"] for s in ("meals", "sleep", "mood", "needs")] == ["dtmf"] * 4
    assert attempt.keypad == "1111" and attempt.answers["outcome"] == "completed"
    (spoken,) = [a for a in attempt.latency_ms["answers"] if a["via"] == "speech"]
    assert (
        spoken["step"] == "health"
        and spoken["stt"] > 0
        and spoken["total"] >= spoken["endpoint"] + spoken["stt"]
    )


@needs_baresip
def test_covid_notice_confirmed_with_1(models, endpoint, tmp_path):
    """Identity confirmed with 1, the result heard again with 9, then confirmed with 1."""
    phone = quiet_callee(tmp_path)
    notes = "date=3월 5일; place=중구 보건소; result=음성"
    factory = campaign(tmp_path, "covid_notice", notes)
    dialer = SipDialer(endpoint, uri_template(phone), models.synthesizer, models.transcriber)
    try:
        report = place(factory, dialer, phone, [(1.5, "1"), (1.5, "9"), (1.5, "1")])
    finally:
        phone.close()  # the call is over once run_due returns
    assert report.outcomes == {"human": 1} and report.alerts == 0
    attempt, alerts = the_attempt(factory)
    assert attempt.state == "completed" and attempt.outcome == "human" and not alerts
    steps = attempt.answers["steps"]
    assert {k: (v["value"], v["via"]) for k, v in steps.items()} == {
        "identify": ("yes", "dtmf"),
        "result_notice": ("yes", "dtmf"),
    }
    assert attempt.keypad == "191" and attempt.answers["outcome"] == "completed"
    assert attempt.answers["call"]["hangup_by"] == "bot"
    assert rms(phone.heard()) > 0.01


@needs_baresip
def test_0_transfers_to_an_agent_with_a_handoff_record(models, endpoint, agent, tmp_path):
    """0 during the check-in: the bot says it is connecting, REFERs the callee to the agent's phone with
    the handoff record's id, and the callee's phone calls the agent."""
    phone = quiet_callee(tmp_path)
    factory = campaign(tmp_path, "welfare_check")
    dialer = SipDialer(endpoint, uri_template(phone), models.synthesizer, models.transcriber)
    try:
        report = place(factory, dialer, phone, [(1.5, "1"), (1.0, "0")])
    finally:
        phone.close()  # the call is over once run_due returns
    assert report.outcomes == {"human": 1} and report.alerts == 0
    attempt, _ = the_attempt(factory)
    assert attempt.answers["outcome"] == "transfer" and attempt.keypad == "10"
    call = attempt.answers["call"]
    assert call["ended_reason"] == "transfer" and call["transfer"] == "ok", call
    record = endpoint.handoffs.get(call["handoff_id"])
    assert record["reason"] == "agent_request" and record["direction"] == "outbound"
    assert record["conversation"]["steps"]["meals"]["value"] == "fine" and record["transfer"] == "ok"
    assert agent.wait_event("CALL_ESTABLISHED", 5)["peeruri"].startswith(
        f"sip:{CALLEE}@"
    )  # the callee's phone


# --- a machine answers (issue 16) ------------------------------------------------------------------------

VOICEMAIL_KO = "고객이 전화를 받을 수 없어 삐 소리 후 소리샘으로 연결됩니다. 통화료가 부과됩니다."


def voicemail_callee(models, tmp_path: Path) -> tuple[Baresip, float]:
    """A softphone whose microphone plays a network voicemail greeting (espeak-ng saying the real SKT
    sentence), a 1 kHz beep and then the silence of the recording; returns it and when its beep starts."""
    rate = 8000
    said = models.synthesizer.synthesize(VOICEMAIL_KO, sample_rate=rate).samples
    t = np.arange(int(0.5 * rate)) / rate
    beep = (0.25 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    lead, gap = 0.3, 0.5
    greeting = np.concatenate([silence(lead, rate), said, silence(gap, rate), beep, silence(40.0, rate)])
    mic = tmp_path / "voicemail.wav"
    sf.write(mic, greeting, rate)
    phone = Baresip(tmp_path / "baresip", mic, answer=True, user=CALLEE, mic_rate=rate)
    return phone, lead + len(said) / rate + gap


def place_machine(factory, dialer, phone: Baresip) -> RunReport:
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_due, factory, dialer, "w1", NOW)
        phone.wait_event("CALL_ESTABLISHED", 30)
        return running.result(timeout=120)


def retry_of(factory, attempt: Attempt) -> Attempt | None:
    with factory() as session:
        return session.scalars(
            select(Attempt).where(Attempt.attempt_number == attempt.attempt_number + 1)
        ).first()


@needs_baresip
def test_covid_voicemail_is_classified_and_gets_a_short_message_after_the_beep(models, endpoint, tmp_path):
    """The callee's phone plays a voicemail greeting: the bot says nothing over it, decides "machine"
    before the beep, leaves the campaign's short message (nothing personal) after it and hangs up; the
    attempt is stored as voicemail with the SIP status and the detector's decision, no alert is raised
    and a retry is booked."""
    phone, beep_s = voicemail_callee(models, tmp_path)
    factory = campaign(tmp_path, "covid_notice", "date=3월 5일; place=중구 보건소; result=음성")
    dialer = SipDialer(endpoint, uri_template(phone), models.synthesizer, models.transcriber)
    try:
        report = place_machine(factory, dialer, phone)
    finally:
        phone.close()
    assert report.outcomes == {"voicemail": 1} and report.alerts == 0 and report.retries == 1
    attempt, alerts = the_attempt_of(factory, 1)
    assert attempt.state == "completed" and attempt.outcome == "voicemail" and attempt.sip_status == 200
    assert not alerts and attempt.answers is None and attempt.keypad is None
    amd = attempt.amd
    assert amd["outcome"] == "voicemail" and amd["message_left"] is True, amd
    assert amd["decided_s"] < beep_s, amd  # decided before the beep (stream time from answer)
    assert amd["beep_s"] == pytest.approx(beep_s, abs=0.3) and amd["message_from_s"] > amd["beep_s"]
    assert amd["call"]["ended_reason"] == "voicemail" and amd["call"]["hangup_by"] == "bot"
    # the call's recording (callee left, bot right): silence over the greeting, the message after the beep
    stereo, rate = sf.read(attempt.recording_path, dtype="float32")
    assert rms(stereo[: int(beep_s * rate), 0]) > 0.01
    assert rms(stereo[: int((beep_s - 0.2) * rate), 1]) < 0.003
    assert rms(stereo[int((beep_s + 0.6) * rate) :, 1]) > 0.01
    assert rms(phone.heard()) > 0.01  # the mailbox got the message
    assert attempt.duration_s > beep_s + 3
    assert retry_of(factory, attempt) is not None
    with factory() as session:
        assert session.get(CampaignContact, attempt.campaign_contact_id).last_outcome == "voicemail"


@needs_baresip
def test_welfare_voicemail_hangs_up_without_a_word_and_retries(models, endpoint, tmp_path):
    phone, beep_s = voicemail_callee(models, tmp_path)
    factory = campaign(tmp_path, "welfare_check")
    dialer = SipDialer(endpoint, uri_template(phone), models.synthesizer, models.transcriber)
    try:
        report = place_machine(factory, dialer, phone)
    finally:
        phone.close()
    assert report.outcomes == {"voicemail": 1} and report.alerts == 0 and report.retries == 1
    attempt, alerts = the_attempt_of(factory, 1)
    assert attempt.outcome == "voicemail" and not alerts and attempt.answers is None
    assert attempt.amd["message_left"] is False and attempt.amd["decided_s"] < beep_s
    assert attempt.duration_s < beep_s + 3  # hung up once the beep told which machine
    stereo, _ = sf.read(attempt.recording_path, dtype="float32")
    assert rms(stereo[:, 0]) > 0.01 and rms(stereo[:, 1]) < 0.003  # not a word to a machine


def the_attempt_of(factory, number: int) -> tuple[Attempt, list[Alert]]:
    with factory() as session:
        attempt = session.scalars(select(Attempt).where(Attempt.attempt_number == number)).one()
        return attempt, list(session.scalars(select(Alert)))
