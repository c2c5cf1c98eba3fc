"""Congestion notice and call-back booking in the call driver (issue 18), on the fake line of
tests/test_driver.py with the real ``CallSession`` (dialog engine, espeak-ng, VAD), the server's real
``AgentDesk`` on a real SQLite database with a fixed clock, and the real outbox SMS sender. The SIP path
(SIPp, ``voicebot serve``, the SIMULATED dialer calling back) is in tests/test_callback_sip.py."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from test_driver import AGENT, FakeLine, HearsNothing

import outbound
from outbound import callbacks, store
from stt.types import Transcript
from voicebot.call.choices import spoken_choice, spoken_slot
from voicebot.call.driver import (
    CallDriver,
    DriverConfig,
    booked_prompt,
    congestion_prompt,
    slots_prompt,
)
from voicebot.call.handoff import HandoffRegistry
from voicebot.call.protocols import CallbackSlot, WaitEstimate
from voicebot.call.record import CallRecord
from voicebot.call.session import CallConfig, CallSession
from voicebot.call.sms import OutboxSender
from voicebot.server.agents import AgentDesk, DeskSettings

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY_1420 = datetime(2026, 12, 7, 14, 20, tzinfo=SEOUL)
SUNDAY = datetime(2026, 12, 6, 11, 0, tzinfo=SEOUL)
MOBILE = "01023456789"
CHAT = "https://120.example.go.kr/chat"
CONFIG = DriverConfig(
    agent_uri="sip:agent@127.0.0.1",
    transfer_timeout_s=2.0,
    callback_wait_s=3.0,
    media_timeout_s=0.5,
    chat_link=CHAT,
)


@pytest.fixture()
def desk(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    outbound.upgrade(url)
    engine = store.make_engine(url)
    now = {"t": MONDAY_1420}
    registry = CollectorRegistry()
    made = AgentDesk(
        store.session_factory(engine), DeskSettings(agents=2, waiting=10), lambda: now["t"], registry
    )
    made.now, made.registry = now, registry  # the test moves the clock and reads the figures
    yield made
    engine.dispose()


def call(
    engine,
    synthesizer,
    desk,
    tmp_path,
    keys: dict[str, str],
    *,
    number: str | None = MOBILE,
    sms=True,
    transport: str = "sip",
    said: dict[str, tuple[str, str]] | None = None,
):
    """One escalated call (2 = water, then 0 = an agent) on the fake line; ``keys`` maps a state the
    driver publishes (congestion_offer, callback_slots, callback_number, callback_offer) to the keys the
    caller presses from 1 s into it, 0.2 s apart. A "webrtc" line cannot transfer (a browser call).
    ``said`` maps a state to (words, heard): the caller speaks ``words`` (espeak-ng) 1 s into it, and
    the driver's listener, a stand-in transcriber, hears ``heard``."""
    line = FakeLine(AGENT, transfer_answer=202, can_transfer=transport != "webrtc")
    line.name = transport  # the channel in the booking and the figures
    handoffs = HandoffRegistry(tmp_path / "handoffs")
    outbox = OutboxSender(tmp_path / "outbox") if sms else None
    session = CallSession(engine, HearsNothing(), synthesizer, CallConfig(), call_id="c1")
    driver = line.attach(
        CallDriver(
            CallRecord("c1", transport=transport),
            session,
            line,
            CONFIG,
            inbox=line,
            synthesizer=synthesizer,
            handoffs=handoffs,
            agents=desk,
            sms=outbox,
            caller_number=number,
            listener=Hears(*(heard for _, heard in said.values())) if said else None,
        )
    )

    def press(message, _publish=line.publish):
        _publish(message)
        words = (said or {}).get(message.get("state", ""))
        if words:  # the caller speaks from 1 s into the question
            speech = synthesizer.synthesize(words[0], sample_rate=16_000).samples
            start = (line.frame + 50) * 320
            line.audio = np.concatenate([np.zeros(start, np.float32), speech.astype(np.float32)])
        for n, key in enumerate(keys.get(message.get("state", ""), "")):
            line.schedule.append((line.frame + 50 + 10 * n, ("dtmf", key)))
        line.schedule.sort(key=lambda item: item[0])

    line.publish = press
    driver.run()
    desk.call_ended(driver.record)
    return driver.record, line, handoffs


class Hears:
    """Stand-in transcriber for the driver's listener: each utterance reads as the next of ``texts``
    (Whisper is tested on real recordings elsewhere; here only what the driver does with words matters)."""

    in_flight = 0

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.heard = 0

    def transcribe(self, samples, *args, **kwargs) -> Transcript:
        self.heard += 1
        text = self.texts.pop(0) if self.texts else ""
        return Transcript(text, "ko", 1.0, len(samples) / 16_000, 0.0, "stand-in")


def booked_rows(desk) -> list[callbacks.Callback]:
    with desk.factory() as session:
        return callbacks.list_callbacks(session)


def test_the_prompts_say_the_wait_and_only_what_is_offered() -> None:
    assert congestion_prompt(WaitEstimate(1500.0, True), ["wait", "callback", "sms"]) == (
        "현재 상담 대기 시간은 약 25분입니다. 계속 기다리시려면 1번, 원하시는 시간에 다시 전화를 받으시려면 2번, "
        "문자로 상담 링크를 받으시려면 3번을 눌러 주세요."
    )
    closed = congestion_prompt(WaitEstimate(None, True, "평일 오전 9시부터 오후 6시까지"), ["callback"])
    assert closed == (
        "지금은 상담 시간이 아닙니다. 상담 시간은 평일 오전 9시부터 오후 6시까지입니다. "
        "원하시는 시간에 다시 전화를 받으시려면 2번을 눌러 주세요."
    )
    slot = CallbackSlot(MONDAY_1420, MONDAY_1420, "오늘 오후 3시부터 4시 사이")
    assert (
        slots_prompt([slot]) == "원하시는 시간을 골라 주세요. 오늘 오후 3시부터 4시 사이는 1번을 눌러 주세요."
    )


def test_the_desk_estimates_the_wait_from_capacity_and_hours(desk) -> None:
    assert desk.wait().wait_s == 10 * 300 / 2 and desk.wait().congested
    desk.set_capacity(10, 2, "상담팀장")
    estimate = desk.wait()
    assert estimate.wait_s == 60 and not estimate.congested  # 2 x 300 s / 10 agents
    desk.set_capacity(0, 0, "상담팀장")
    assert desk.wait() == WaitEstimate(None, True)  # nobody on duty
    assert congestion_prompt(desk.wait(), ["callback"]).startswith(
        "지금은 상담원과 연결할 수 없습니다. 원하시는"
    )
    desk.set_capacity(10, 0, "상담팀장")
    desk.now["t"] = SUNDAY
    assert desk.wait() == WaitEstimate(None, True, "평일 오전 9시부터 오후 6시까지")


def test_key_1_keeps_waiting_and_the_call_is_transferred(engine, synthesizer, desk, tmp_path) -> None:
    record, line, handoffs = call(engine, synthesizer, desk, tmp_path, {"congestion_offer": "1"})
    assert record.congestion == {"wait_s": 1500.0, "offered": ["wait", "callback", "sms"], "choice": "wait"}
    assert record.transfer == "ok" and len(line.transfers) == 1 and not booked_rows(desk)
    assert handoffs.get(record.handoff_id)["congestion"]["choice"] == "wait"
    assert desk.queue() == 11  # the bot's own transfer joins the queue
    text = generate_latest(desk.registry).decode()
    assert 'voicebot_congestion_offers_total{channel="sip",choice="wait"} 1.0' in text
    assert 'voicebot_call_handoffs_total{channel="sip",transfer="ok"} 1.0' in text
    assert 'voicebot_agent_wait_expected_seconds_count{channel="sip"} 1.0' in text


def test_no_key_is_waiting_too(engine, synthesizer, desk, tmp_path) -> None:
    record, line, _ = call(engine, synthesizer, desk, tmp_path, {})
    assert record.congestion["choice"] == "wait" and record.transfer == "ok" and line.transfers


def test_key_2_books_a_call_back_in_the_chosen_slot_with_the_handoff(
    engine, synthesizer, desk, tmp_path
) -> None:
    record, line, handoffs = call(
        engine, synthesizer, desk, tmp_path, {"congestion_offer": "2", "callback_slots": "2"}
    )
    assert not line.transfers and record.transfer is None and record.hangup_by == "bot" and line.hangups == 1
    (row,) = booked_rows(desk)
    assert row.slot_start == datetime(2026, 12, 7, 16, tzinfo=SEOUL)  # the second slot: 4시부터 5시
    assert row.phone_e164 == "+821023456789" and row.state == "booked" and row.channel == "sip"
    assert row.handoff_id == record.handoff_id and row.reason == "agent_request" and row.category == "water"
    assert record.callback_requested is True
    assert record.congestion["choice"] == "callback" and record.congestion["callback_id"] == row.id
    stored = handoffs.get(record.handoff_id)
    assert stored["callback_id"] == row.id and stored["callback_slot"] == "오늘 오후 4시부터 5시 사이"
    assert MOBILE not in json.dumps(record.as_dict())  # the number stays out of the call's record
    text = generate_latest(desk.registry).decode()
    assert 'voicebot_callbacks_booked_total{channel="sip"} 1.0' in text


def test_key_3_texts_the_chat_link(engine, synthesizer, desk, tmp_path) -> None:
    record, line, _ = call(engine, synthesizer, desk, tmp_path, {"congestion_offer": "3"})
    assert not line.transfers and record.congestion["choice"] == "sms" and record.congestion["sms"]["ok"]
    (message,) = [json.loads(p.read_text()) for p in (tmp_path / "outbox").glob("*.json")]
    assert message["to"] == MOBILE and CHAT in message["text"]
    assert not booked_rows(desk)


def test_a_closed_desk_offers_no_waiting_and_silence_says_goodbye(
    engine, synthesizer, desk, tmp_path
) -> None:
    desk.now["t"] = SUNDAY
    record, line, _ = call(engine, synthesizer, desk, tmp_path, {})
    assert record.congestion["offered"] == ["callback", "sms"] and record.congestion["choice"] == "none"
    assert not line.transfers and line.hangups == 1 and not booked_rows(desk)
    desk.now["t"] = SUNDAY
    record, _, _ = call(engine, synthesizer, desk, tmp_path, {"congestion_offer": "2", "callback_slots": "1"})
    (row,) = booked_rows(desk)
    assert row.slot_start == datetime(2026, 12, 7, 9, tzinfo=SEOUL)  # Monday 오전 9시


def test_no_offer_without_congestion_or_without_a_number(engine, synthesizer, desk, tmp_path) -> None:
    desk.set_capacity(10, 0, "상담팀장")
    record, line, _ = call(engine, synthesizer, desk, tmp_path, {"congestion_offer": "2"})
    assert record.congestion is None and record.transfer == "ok" and line.transfers
    desk.set_capacity(2, 10, "상담팀장")
    record, line, _ = call(engine, synthesizer, desk, tmp_path, {"congestion_offer": "1"}, number=None)
    assert record.congestion["offered"] == ["wait", "callback"] and record.transfer == "ok"  # no text
    record, line, _ = call(
        engine, synthesizer, desk, tmp_path, {"congestion_offer": "3"}, number="0212345678"
    )
    assert record.congestion["offered"] == ["wait", "callback"]  # a landline gets no text either


def test_a_caller_without_a_known_number_keys_it_in(engine, synthesizer, desk, tmp_path) -> None:
    """A withheld number: 2, a slot, then the number and #; the confirmation names its last digits."""
    keys = {"congestion_offer": "2", "callback_slots": "1", "callback_number": "01098765432#"}
    record, line, handoffs = call(engine, synthesizer, desk, tmp_path, keys, number=None)
    (row,) = booked_rows(desk)
    assert row.phone_e164 == "+821098765432" and row.slot_start == datetime(2026, 12, 7, 15, tzinfo=SEOUL)
    assert record.congestion["callback_id"] == row.id and not line.transfers
    assert "01098765432" not in json.dumps(record.as_dict()) + json.dumps(handoffs.get(record.handoff_id))
    assert booked_prompt(
        CallbackSlot(row.slot_start, row.slot_end, "오늘 오후 3시부터 4시 사이"), "01098765432"
    ) == (
        "콜백 예약이 접수되었습니다. 오늘 오후 3시부터 4시 사이에 끝자리 5 4 3 2 번호로 상담원이 다시 "
        "전화드리겠습니다. 이용해 주셔서 감사합니다."
    )
    # a number that is not one, twice: nothing is booked
    keys = {"congestion_offer": "2", "callback_slots": "1", "callback_number": "12#"}
    record, _, _ = call(engine, synthesizer, desk, tmp_path, keys, number=None)
    assert record.congestion["choice"] == "no_number" and len(booked_rows(desk)) == 1


def test_a_browser_call_that_cannot_be_transferred_books_a_slot(engine, synthesizer, desk, tmp_path) -> None:
    """A browser call (no transfer on the transport): the apology's call-back offer, 1, a slot, the number."""
    keys = {"callback_offer": "1", "callback_slots": "2", "callback_number": "0212345678#"}
    record, line, handoffs = call(engine, synthesizer, desk, tmp_path, keys, number=None, transport="webrtc")
    assert record.transfer == "unavailable" and record.callback_requested is True
    (row,) = booked_rows(desk)
    assert row.phone_e164 == "+82212345678" and row.channel == "webrtc"
    assert row.slot_start == datetime(2026, 12, 7, 16, tzinfo=SEOUL)
    assert handoffs.get(record.handoff_id)["callback_id"] == row.id
    assert any(m.get("state") == "callback_booked" for m in line.published)


def test_a_chats_wait_for_an_agent_is_measured_per_channel(engine, tmp_path) -> None:
    """Wait times per channel in /metrics: a web chat handed over waits 95 s until an operator takes it
    (the real ChatService on SQLite with the server's Metrics and a moved clock)."""
    from voicebot.chat import ChatService
    from voicebot.server.monitor import Metrics

    url = f"sqlite:///{tmp_path / 'chat.db'}"
    outbound.upgrade(url)
    db = store.make_engine(url)
    now = {"t": MONDAY_1420}
    metrics = Metrics()
    chats = ChatService(
        engine,
        store.session_factory(db),
        HandoffRegistry(tmp_path / "handoffs"),
        clock=lambda: now["t"],
        on_event=metrics.chat_event,
    )
    conversation = chats.start("web").conversation.id
    assert chats.send_text(conversation, "상담원 연결해 주세요").conversation.state == "waiting"
    now["t"] = MONDAY_1420.replace(minute=21, second=35)
    chats.take(conversation, "상담사")
    text = generate_latest(metrics.registry).decode()
    assert 'voicebot_agent_wait_seconds_count{channel="web"} 1.0' in text
    assert 'voicebot_agent_wait_seconds_sum{channel="web"} 95.0' in text
    db.dispose()


def test_spoken_answers_name_a_choice_or_a_slot() -> None:
    offered = ["wait", "callback", "sms"]
    assert spoken_choice("네 기다릴게요", offered) == "wait"
    assert spoken_choice("나중에 다시 전화 주세요", offered) == "callback"
    assert spoken_choice("문자로보내주세요", offered) == "sms"
    assert spoken_choice("문자로 보내 주세요", ["wait", "callback"]) is None  # not offered
    assert spoken_choice("음 글쎄요", offered) is None
    assert spoken_choice("기다릴게요 아니 문자로", offered) is None  # two choices: no answer
    assert [spoken_slot(w, 3) for w in ("첫 번째요", "두 번째", "3번이요", "이번 주", "마지막 거")] == [
        "1", "2", "3", None, "3",
    ]  # fmt: skip


def test_the_caller_may_say_the_choice_and_the_slot(engine, synthesizer, desk, tmp_path) -> None:
    said = {
        "congestion_offer": ("전화 주세요", "다시 전화 주세요"),
        "callback_slots": ("두 번째요", "두 번째요"),
    }
    record, line, _ = call(engine, synthesizer, desk, tmp_path, {}, said=said)
    (row,) = booked_rows(desk)
    assert row.slot_start == datetime(2026, 12, 7, 16, tzinfo=SEOUL) and not line.transfers
    assert record.congestion["choice"] == "callback" and record.congestion["by"] == "speech"
    assert "전화" not in json.dumps(record.congestion, ensure_ascii=False)  # the words are not kept
