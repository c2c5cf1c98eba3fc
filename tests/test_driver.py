"""The call driver on a fake line: keypad, barge-in, transfer and its fallback, media timeout, hang-up in
every state, recording and progress, with the real ``CallSession`` (real dialog engine, real espeak-ng
voice, real VAD) and no network.

The line stands in for SIP or WebRTC (which have their own end-to-end tests against baresip, SIPp,
kamailio, aiortc and Chromium): it hands the driver caller frames at stream times, takes one bot frame off
the driver's queue per caller frame (as a transport's clock does), answers transfers as told, and keeps
every request the driver made. The transcriber is a stand-in that "hears" a fixed sentence: Whisper is
tested on real recordings elsewhere; here only what the driver does with a transcript matters.
"""

from __future__ import annotations

import queue
from collections import deque
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from dialog import prompts
from media.audio import PIPELINE_RATE, AudioFrame, silence
from outbound.script import Conversation, load_script
from stt.types import Segment, Transcript
from voicebot.call.conversation import ConversationSession
from voicebot.call.dial_script import ScriptSession
from voicebot.call.driver import (
    CALLBACK_BOOKED_KO,
    TRANSFER_FAILED_KO,
    CallDriver,
    DriverConfig,
)
from voicebot.call.handoff import HandoffRegistry
from voicebot.call.record import CallRecord
from voicebot.call.session import CallConfig, CallEvent, CallSession
from voicebot.sip.transport import SipTransport
from voicebot.webrtc.transport import WebRTCTransport

FRAME_S = 0.02
AGENT = {2.0: [("dtmf", "2")], 5.0: [("dtmf", "0")]}  # the water menu, then 0: an agent, please
FAST = DriverConfig(
    agent_uri="sip:agent@127.0.0.1", transfer_timeout_s=2.0, callback_wait_s=3.0, media_timeout_s=0.5
)


class HearsNothing:
    """Stand-in transcriber: every utterance reads as ``text`` (empty: nothing understood)."""

    in_flight = 0  # no other calls share this model

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.heard: list[np.ndarray] = []

    def transcribe(self, samples, *args, **kwargs) -> Transcript:
        self.heard.append(np.asarray(samples))
        return Transcript(self.text, "ko", 1.0, len(samples) / PIPELINE_RATE, 0.0, "stand-in")


class HearsClearly(HearsNothing):
    """Stand-in transcriber that is sure of what it heard (as Whisper is of clear speech)."""

    def transcribe(self, samples, *args, **kwargs) -> Transcript:
        heard = super().transcribe(samples)
        sure = Segment(
            0.0, heard.audio_s, self.text, avg_logprob=-0.1, no_speech_prob=0.0, compression_ratio=1.0
        )
        return replace(heard, segments=[sure])


class FakeLine:
    """A phone line for one test: transport and inbox of the driver at once.

    ``events`` maps stream seconds to what the far end does then: ("dtmf", "2"), ("hangup", None),
    ("stop", None) (its media stops: no more frames). The caller sends ``audio`` (16 kHz) then silence.
    ``transfer_answer`` is what a REFER gets 0.5 s later: a SIP status, "hangup" (the caller's side leaves
    the call, as a blind transfer does) or None (no answer)."""

    name = "fake"

    def __init__(
        self,
        events: dict[float, list[tuple[str, object]]] | None = None,
        *,
        audio: np.ndarray | None = None,
        wire_rate: int = 8_000,
        can_transfer: bool = True,
        transfer_answer: int | str | None = 202,
        max_s: float = 120.0,
    ):
        self.wire_rate = wire_rate
        self.can_transfer = can_transfer
        self.transfer_answer = transfer_answer
        self.audio = np.zeros(0, np.float32) if audio is None else np.asarray(audio, np.float32)
        self.schedule = sorted((round(t / FRAME_S), e) for t, es in (events or {}).items() for e in es)
        self.max_frames = int(max_s / FRAME_S)
        self.frame = 0
        self.stopped = False
        self.queued: deque = deque()
        self.outgoing = None
        self.heard: list[bytes] = []
        self.hangups = 0
        self.transfers: list[tuple[str, dict]] = []
        self.dtmf_sent: list[str] = []
        self.published: list[dict] = []

    def attach(self, driver: CallDriver) -> CallDriver:
        self.outgoing = driver.outgoing
        return driver

    # inbox
    def put(self, item) -> None:
        self.queued.append(item)

    def get(self, block: bool = True, timeout: float | None = None):
        if self.queued:
            return self.queued.popleft()
        while self.schedule and self.schedule[0][0] <= self.frame:
            kind, value = self.schedule.pop(0)[1]
            if kind == "stop":
                self.stopped = True
            else:
                self.queued.append((kind, value))
        if self.queued:
            return self.queued.popleft()
        if self.stopped or self.frame >= self.max_frames:
            raise queue.Empty
        size = int(PIPELINE_RATE * FRAME_S)
        chunk = self.audio[self.frame * size : (self.frame + 1) * size]
        chunk = np.pad(chunk, (0, size - len(chunk)))
        self.heard.append(self.outgoing.pop())
        self.frame += 1
        return ("audio", (chunk, PIPELINE_RATE))

    # transport
    def hangup(self) -> None:
        self.hangups += 1
        self.stopped = True

    def transfer(self, target: str, headers: dict[str, str]) -> None:
        self.transfers.append((target, headers))
        if self.transfer_answer is not None:
            kind = "hangup" if self.transfer_answer == "hangup" else "transfer"
            value = None if kind == "hangup" else self.transfer_answer
            self.schedule.append((self.frame + 25, (kind, value)))
            self.schedule.sort(key=lambda item: item[0])

    def send_dtmf(self, digits: str) -> None:
        self.dtmf_sent.append(digits)

    def publish(self, message: dict) -> None:
        self.published.append(message)

    def bot_audio(self) -> np.ndarray:
        return np.frombuffer(b"".join(self.heard), "<i2").astype(np.float32) / 32768.0


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


@pytest.fixture(scope="module")
def session(engine, synthesizer):
    def make(transcriber=None) -> CallSession:
        return CallSession(engine, transcriber or HearsNothing(), synthesizer, CallConfig(), call_id="t1")

    return make


def drive(handler, line: FakeLine, config: DriverConfig = FAST, **kwargs) -> CallRecord:
    driver = line.attach(
        CallDriver(CallRecord("t1", transport=line.name), handler, line, config, inbox=line, **kwargs)
    )
    driver.run()
    return driver.record


def keyed(record: CallRecord) -> list[tuple[str, str | None]]:
    return [(t["caller_text"], t["category"]) for t in record.turns if t["trigger"] == "dtmf"]


# -- keypad ------------------------------------------------------------------------------------------


def test_keypad_menu_then_the_caller_hangs_up(session):
    line = FakeLine({3.0: [("dtmf", "2")], 12.0: [("hangup", "caller_hangup")]})
    record = drive(session(), line)
    assert keyed(record) == [("2", "water")]
    assert record.ended_reason == "caller_hangup" and record.hangup_by == "remote"
    assert line.hangups == 0  # the far end hung up: nothing to send
    assert 11.9 <= record.duration_s <= 12.1
    assert rms(line.bot_audio()) > 0.01  # the greeting and the water menu were heard
    assert record.transfer is None and record.handoff_id is None


@pytest.mark.parametrize("transport", ["sip", "webrtc"])
def test_keypad_keys_are_the_same_on_both_transports(transport):
    """0-9 * # A-D are keys on every transport; anything else is refused before it reaches the call."""

    class Calls:
        def __init__(self):
            self.sent = []

        def hangup_call(self, key):
            pass

        def transfer_call(self, key, target, headers):
            pass

        def send_dtmf(self, key, digits):
            self.sent.append(digits)

    line = SipTransport(Calls(), "in1") if transport == "sip" else WebRTCTransport(lambda m: None)
    driver = CallDriver(CallRecord("k", transport=transport), object(), line)
    for key in "0123456789*#ABCD":
        assert driver.dtmf(key), key
    for bad in ("", "E", "11", "x", "ㄱ", None):
        assert not driver.dtmf(bad), bad
    assert [driver.inbox.get_nowait()[1] for _ in range(16)] == list("0123456789*#ABCD")
    assert driver.inbox.empty()


def test_handler_keypad_digits_are_sent_by_the_transport():
    """An outbound step that dials an extension: the driver sends what the handler asks for."""
    handler = ScriptedHandler(send=["12#"], end_after_s=1.0)
    line = FakeLine()
    record = drive(handler, line)
    assert line.dtmf_sent == ["12#"] and record.ended_reason == "goodbye" and record.hangup_by == "bot"
    assert line.hangups == 1


# -- barge-in ----------------------------------------------------------------------------------------


def test_caller_barges_in_on_the_greeting(session, synthesizer):
    """Speech (a real synthesized Korean sentence) 1 s into the greeting cuts it; the utterance goes to
    the transcriber, and the bot's reply starts only after the caller stopped."""
    said = synthesizer.synthesize(
        "수도 요금이 얼마나 나왔는지 알고 싶어요", sample_rate=PIPELINE_RATE
    ).samples
    audio = np.concatenate([silence(1.0), said * 0.8, silence(8.0)])
    ear = HearsNothing("수도 요금 문의하려고요")
    line = FakeLine({20.0: [("hangup", "caller_hangup")]}, audio=audio)
    record = drive(session(ear), line)
    greeting = record.turns[0]
    assert greeting["interrupted"]
    assert len(ear.heard) >= 1
    spoken = [t for t in record.turns if t["trigger"] == "speech"]
    assert spoken and spoken[0]["caller_text"] == "수도 요금 문의하려고요"
    assert spoken[0]["bot_start_s"] > spoken[0]["caller_end_s"]
    assert any(m == {"type": "barge_in", "turn": 0} for m in line.published)


# -- transfer ----------------------------------------------------------------------------------------


def test_transfer_succeeds_with_the_handoff_id(session, tmp_path):
    handoffs = HandoffRegistry(tmp_path)
    line = FakeLine({3.0: [("dtmf", "2")], 6.0: [("dtmf", "0")]}, transfer_answer=202)
    record = drive(session(), line, handoffs=handoffs)
    assert record.ended_reason == "transfer" and record.transfer == "ok" and record.hangup_by == "bot"
    ((target, headers),) = line.transfers
    assert target == FAST.agent_uri and headers == {"X-Handoff-Id": record.handoff_id}
    stored = handoffs.get(record.handoff_id)
    assert stored["transport"] == "fake" and stored["transfer"] == "ok" and stored["category"] == "water"
    assert record.handoff["reason"] == "agent_request"
    assert record.callback_requested is None  # no apology, no offer


def test_blind_transfer_the_caller_side_leaves(session, tmp_path):
    line = FakeLine(AGENT, transfer_answer="hangup")
    record = drive(session(), line, handoffs=HandoffRegistry(tmp_path))
    assert record.transfer == "ok" and record.hangup_by == "remote" and line.hangups == 0


@pytest.mark.parametrize(
    ("answer", "can_transfer", "agent", "expected"),
    [
        (603, True, "sip:agent@127.0.0.1", "failed:603"),
        (None, True, "sip:agent@127.0.0.1", "failed:timeout"),
        (202, True, None, "not_configured"),
        (202, False, "sip:agent@127.0.0.1", "unavailable"),  # a browser or file call
    ],
)
def test_failed_transfer_offers_a_call_back(
    session, synthesizer, tmp_path, answer, can_transfer, agent, expected
):
    """Whatever stops the transfer, the caller hears the apology and the offer; 1 books the call-back."""
    handoffs = HandoffRegistry(tmp_path)
    config = DriverConfig(agent_uri=agent, transfer_timeout_s=1.0, callback_wait_s=10.0, media_timeout_s=0.5)
    line = FakeLine(AGENT, can_transfer=can_transfer, transfer_answer=answer)
    driver = line.attach(
        CallDriver(
            CallRecord("t1", transport="fake"),
            session(),
            line,
            config,
            inbox=line,
            synthesizer=synthesizer,
            handoffs=handoffs,
        )
    )
    published = line.published

    def press_one_when_offered(message, _publish=line.publish):
        _publish(message)
        if message == {"type": "state", "state": "callback_offer"}:
            line.schedule.append((line.frame + 100, ("dtmf", "1")))  # 2 s into the offer

    line.publish = press_one_when_offered
    driver.run()
    record = driver.record
    assert record.ended_reason == "transfer" and record.transfer == expected
    assert record.callback_requested is True and record.hangup_by == "bot"
    stored = handoffs.get(record.handoff_id)
    assert stored["transfer"] == expected and stored["callback_requested"] is True
    assert published[-1]["type"] == "ended" and "다시 연락" in published[-1]["message"]
    offer = len(synthesizer.synthesize(TRANSFER_FAILED_KO, sample_rate=8000).samples) / 8000
    booked = len(synthesizer.synthesize(CALLBACK_BOOKED_KO, sample_rate=8000).samples) / 8000
    # the offer was cut by the key 2 s in, then the whole confirmation played before the hang-up
    assert record.bot_speech_s > 2.0 + booked * 0.6
    assert record.bot_speech_s < offer + booked + 15


def test_no_key_after_the_offer_is_a_declined_call_back(session, synthesizer, tmp_path):
    line = FakeLine(AGENT, can_transfer=False)
    config = DriverConfig(callback_wait_s=2.0, media_timeout_s=0.5)
    record = drive(session(), line, config, synthesizer=synthesizer, handoffs=HandoffRegistry(tmp_path))
    assert record.transfer == "unavailable" and record.callback_requested is False
    assert record.hangup_by == "bot" and line.hangups == 1


# -- hang-up in every state, media timeout, errors -----------------------------------------------------


@pytest.mark.parametrize(
    ("at_s", "state"),
    [(0.5, "greeting"), (40.0, "waiting"), (5.0, "menu reply")],
)
def test_remote_hang_up_in_any_state_ends_the_call_cleanly(session, at_s, state):
    events = {3.0: [("dtmf", "1")]} if state == "menu reply" else {}
    events.setdefault(at_s, []).append(("hangup", "caller_hangup"))
    line = FakeLine(events)
    record = drive(session(), line)
    assert record.ended_reason == "caller_hangup" and record.hangup_by == "remote", state
    assert abs(record.duration_s - at_s) < 0.05 and line.hangups == 0 and record.error is None


def test_hang_up_while_the_transfer_is_announced_still_files_the_handoff(session, tmp_path):
    handoffs = HandoffRegistry(tmp_path)
    line = FakeLine({**AGENT, 6.0: [("hangup", "caller_hangup")]})
    record = drive(session(), line, handoffs=handoffs)
    assert record.hangup_by == "remote" and record.transfer == "caller_hangup" and not line.transfers
    assert handoffs.get(record.handoff_id)["transfer"] == "caller_hangup"


def test_hang_up_during_the_call_back_offer(session, synthesizer, tmp_path):
    line = FakeLine(AGENT, can_transfer=False)

    def leave_when_offered(message, _publish=line.publish):
        _publish(message)
        if message.get("state") == "callback_offer":
            line.schedule.append((line.frame + 50, ("hangup", "caller_hangup")))

    line.publish = leave_when_offered
    record = drive(session(), line, synthesizer=synthesizer, handoffs=HandoffRegistry(tmp_path))
    assert record.transfer == "unavailable" and record.callback_requested is None
    assert record.hangup_by == "remote" and line.hangups == 0


def test_media_timeout_hangs_up(session):
    line = FakeLine({4.0: [("stop", None)]})
    record = drive(session(), line)
    assert record.ended_reason == "media_timeout" and record.hangup_by == "bot" and line.hangups == 1
    assert line.published[-1]["reason"] == "media_timeout"


def test_a_failing_handler_ends_its_call_only():
    line = FakeLine()
    record = drive(ScriptedHandler(fail_at_s=1.0), line)
    assert record.ended_reason == "error" and "boom" in record.error and line.hangups == 1
    assert line.published[-1] == {
        "type": "ended",
        "reason": "error",
        "message": "죄송합니다. 통화 중 문제가 생겨 통화를 종료했습니다. 잠시 후 다시 걸어 주세요.",
    }


# -- recording and progress -------------------------------------------------------------------------


@pytest.mark.parametrize("wire_rate", [8_000, 48_000])
def test_recording_has_both_sides_aligned(session, tmp_path, wire_rate):
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(PIPELINE_RATE * 2) / PIPELINE_RATE)).astype(np.float32)
    audio = np.concatenate([silence(10.0), tone])  # after the greeting, 2 s of tone at 10 s
    line = FakeLine({14.0: [("hangup", "caller_hangup")]}, audio=audio, wire_rate=wire_rate)
    config = DriverConfig(media_timeout_s=0.5, record_dir=tmp_path)
    record = drive(session(), line, config)
    stereo, rate = sf.read(record.recording, dtype="float32")
    assert rate == min(wire_rate, PIPELINE_RATE) and stereo.shape[1] == 2
    assert abs(len(stereo) / rate - record.duration_s) < 0.1
    caller, bot = stereo[:, 0], stereo[:, 1]
    assert rms(caller[: 9 * rate]) < 0.001 and rms(caller[int(10.2 * rate) : 12 * rate]) > 0.1
    assert rms(bot[: 3 * rate]) > 0.01  # the greeting, on the right


# -- the recording notice (issue 17) -----------------------------------------------------------------


def said(record: CallRecord) -> list[str]:
    return [t["bot_text"] for t in record.turns]


@pytest.mark.parametrize("wire_rate", [8_000, 48_000])  # a phone line, a browser
def test_a_recorded_call_is_told_so_once_and_a_key_cuts_it_as_the_greeting(session, tmp_path, wire_rate):
    """A key during the notice (about 6-11 s in) cuts it as it cuts the greeting; going back to the main
    menu and asking for it again brings the menu without the notice."""
    events = {8.0: [("dtmf", "2")], 12.0: [("dtmf", "#")], 14.0: [("dtmf", "*")], 16.0: [("hangup", None)]}
    line = FakeLine(events, wire_rate=wire_rate)
    record = drive(session(), line, DriverConfig(media_timeout_s=0.5, record_dir=tmp_path))
    first, water, menu, again = said(record)
    assert first == f"{prompts.GREETING} {prompts.RECORDING_NOTICE} {prompts.MENU}"
    assert record.turns[0]["interrupted"] and record.turns[1]["category"] == "water"
    assert menu == prompts.MENU and again == prompts.MENU_AGAIN + prompts.MENU
    assert sum(text.count(prompts.RECORDING_NOTICE) for text in said(record)) == 1
    assert record.recording and rms(line.bot_audio()) > 0.01


def test_the_notice_is_not_repeated_when_the_caller_stays_silent(session, tmp_path):
    line = FakeLine({50.0: [("hangup", None)]})  # greeting and menu (~37 s), 7 s of silence: the menu again
    record = drive(session(), line, DriverConfig(media_timeout_s=0.5, record_dir=tmp_path))
    assert [t["trigger"] for t in record.turns] == ["start", "no_input"]
    assert prompts.RECORDING_NOTICE in said(record)[0] and prompts.RECORDING_NOTICE not in said(record)[1]


@pytest.mark.parametrize(
    ("record_it", "notice", "expected"),
    [
        (False, prompts.RECORDING_NOTICE, None),  # nothing is recorded: nothing to say
        (True, None, None),  # turned off on purpose
        (True, "", None),
        (True, "이 통화는 녹음되고 있습니다.", "이 통화는 녹음되고 있습니다."),  # the centre's own words
    ],
)
def test_the_notice_follows_the_recording_and_the_configuration(
    session, tmp_path, record_it, notice, expected
):
    config = DriverConfig(
        media_timeout_s=0.5, record_dir=tmp_path if record_it else None, recording_notice=notice
    )
    record = drive(session(), FakeLine({2.0: [("hangup", None)]}), config)
    greeting = f"{prompts.GREETING} {prompts.MENU}"
    assert said(record) == [prompts.with_notice(greeting, expected) if expected else greeting]
    assert bool(record.recording) is record_it


def test_an_outbound_recorded_call_says_it_with_the_first_prompt_only(synthesizer, tmp_path):
    """A campaign call (no machine detection): the notice follows the script's greeting; 9 repeats the
    question without it."""
    conv = Conversation(load_script("welfare_check"), {"name": "김순자"})
    handler = ConversationSession(conv, synthesizer, HearsNothing(), call_id="o1")
    line = FakeLine({3.0: [("dtmf", "9")], 5.0: [("hangup", None)]})
    record = drive(handler, line, DriverConfig(media_timeout_s=0.5, record_dir=tmp_path))
    first, repeated = said(record)
    assert f"다산콜센터입니다. {prompts.RECORDING_NOTICE} 요즘" in first and "김순자 어르신" in first
    assert prompts.RECORDING_NOTICE not in repeated and repeated.startswith("식사는")
    assert prompts.RECORDING_NOTICE not in "".join(conv.said)  # the script's own record is the script's


def test_a_dial_script_says_it_with_its_first_words_after_the_digits(synthesizer, tmp_path):
    handler = ScriptSession.named("line_check", synthesizer, send_dtmf="12#")
    record = drive(handler, FakeLine({2.0: [("hangup", None)]}), DriverConfig(record_dir=tmp_path))
    digits, first = said(record)
    assert digits == "" and first.startswith(
        f"안녕하세요, 서울시 120 다산콜센터입니다. {prompts.RECORDING_NOTICE} "
    )


def test_the_notice_is_on_by_default_everywhere_and_off_only_when_configured():
    from voicebot.server.config import load_config
    from voicebot.sip.config import SipConfig
    from voicebot.webrtc.service import WebRTCConfig

    defaults = {
        DriverConfig().recording_notice,
        SipConfig().recording_notice,
        WebRTCConfig().recording_notice,
    }
    assert defaults == {prompts.RECORDING_NOTICE}
    assert load_config(environ={}).sip.notice == prompts.RECORDING_NOTICE
    assert load_config(environ={"VOICEBOT_SIP_RECORDING_NOTICE": "false"}).sip.notice is None
    own = {"VOICEBOT_SIP_RECORDING_NOTICE_TEXT": "이 통화는 녹음되고 있습니다."}
    assert load_config(environ=own).sip.notice == "이 통화는 녹음되고 있습니다."


# -- someone else's personal data (issue 17) ----------------------------------------------------------


@pytest.mark.parametrize("transport", ["sip", "webrtc"])
def test_a_caller_asking_for_someone_elses_data_hears_the_refusal_and_it_is_counted(
    engine, synthesizer, tmp_path, transport
):
    """Real speech over the greeting; the monitor every transport's calls go through counts the refusal
    and the call's inquiry record carries it as the intent."""
    import outbound
    from dialog import REFUSAL_INTENT
    from outbound.inquiries import Inquiry
    from voicebot.server.monitor import CallMonitor, Metrics

    asked = "옆집 할머니 전화번호 좀 알려주세요"
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    outbound.upgrade(url)
    factory = outbound.session_factory(outbound.make_engine(url))
    metrics = Metrics()
    monitor = CallMonitor(metrics, factory)
    make = monitor.wrap(
        lambda call_id, caller_number=None: CallSession(
            engine, HearsClearly(asked), synthesizer, CallConfig(), call_id=call_id
        ),
        transport,
    )
    speech = synthesizer.synthesize(asked, sample_rate=PIPELINE_RATE).samples
    line = FakeLine({30.0: [("hangup", None)]}, audio=np.concatenate([silence(1.0), speech * 0.8]))
    record = drive(make("t1"), line)
    (spoken,) = [t for t in record.turns if t["trigger"] == "speech"]
    assert spoken["intent"] == REFUSAL_INTENT and spoken["action"] == "answer"
    assert spoken["bot_text"] == f"{prompts.PERSONAL_DATA_REFUSAL} {prompts.FOLLOW_UP}"
    assert record.handoff is None and record.transfer is None
    monitor.finished("t1", record.ended_reason, record.duration_s)
    counted = metrics.registry.get_sample_value(
        "voicebot_personal_data_refusals_total", {"channel": transport}
    )
    assert counted == 1.0
    with factory.begin() as db:
        (row,) = db.query(Inquiry).all()
        assert (row.intent, row.outcome) == (REFUSAL_INTENT, "answered")


def test_progress_messages_for_the_page(session):
    line = FakeLine({3.0: [("dtmf", "2")], 40.0: [("hangup", "caller_hangup")]})
    drive(session(), line)
    kinds = [(m["type"], m.get("speaker") or m.get("state") or m.get("reason")) for m in line.published]
    assert kinds[:2] == [("state", "speaking"), ("transcript", "bot")]  # the greeting
    assert ("transcript", "caller") in kinds and ("state", "waiting") in kinds
    keyed_line = next(m for m in line.published if m.get("speaker") == "caller")
    assert keyed_line["text"] == "2" and keyed_line["trigger"] == "dtmf"
    assert kinds[-1] == ("ended", "caller_hangup")
    # 보이는 ARS: each bot line carries what the screen may offer with it
    greeting, water = [m for m in line.published if m.get("speaker") == "bot"][:2]
    menu = {c["value"]: c["label"] for c in greeting["choices"] if c["kind"] == "key"}
    assert menu["2"] == "상수도" and set(menu) == {"0", "1", "2", "3", "4", "9"}
    assert {c["value"] for c in water["choices"] if c["kind"] == "key"} == {"#", "0"}


# -- a handler written for these tests --------------------------------------------------------------


class ScriptedHandler:
    """A ``CallHandler`` that says nothing, sends ``send`` digits at start, and ends or fails at a time."""

    def __init__(self, send=(), end_after_s: float | None = None, fail_at_s: float | None = None):
        self.ended_reason = None
        self.turns: list = []
        self.events: list[CallEvent] = []
        self._send = list(send)
        self._end_after_s = end_after_s
        self._fail_at_s = fail_at_s

    @property
    def ended(self) -> bool:
        return self.ended_reason is not None

    handoff = None
    bot_speaking = False

    def start(self, now_s: float = 0.0, recording_notice: str | None = None) -> None:
        pass

    def on_caller_frame(self, frame: AudioFrame) -> np.ndarray:
        if self._fail_at_s is not None and frame.start_s >= self._fail_at_s:
            raise RuntimeError("boom")
        if self._end_after_s is not None and frame.start_s >= self._end_after_s:
            self.ended_reason = "goodbye"
        return np.zeros(len(frame.pcm) // 2, np.float32)

    def on_dtmf(self, digit: str, now_s: float) -> None:
        pass

    def hangup(self, now_s: float) -> None:
        self.ended_reason = self.ended_reason or "caller_hangup"

    def take_dtmf(self) -> str:
        digits, self._send = "".join(self._send), []
        return digits


def test_the_fake_line_is_a_transport_and_an_inbox():
    """Guards the fakes above: they satisfy the declared protocols the driver relies on."""
    from voicebot.call.driver import Inbox
    from voicebot.call.protocols import CallHandler, Transport

    def members(protocol) -> set[str]:
        return {n for n in vars(protocol) if not n.startswith("_")} | set(protocol.__annotations__)

    for protocol, fake in ((Transport, FakeLine()), (Inbox, FakeLine()), (CallHandler, ScriptedHandler())):
        missing = [name for name in members(protocol) if not hasattr(fake, name)]
        assert not missing, (protocol.__name__, missing)
