"""One inquiry record per contact on every channel (issue 19), on real parts: the bundled dialog engine,
the server's call monitor, the web chat API, the outbound runner with the SIMULATED dialer, SQLite files
migrated by Alembic and (when a server answers) PostgreSQL.

A record holds labels and counts only: never what the citizen said or typed, never a number or a name.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy import select

import outbound
from outbound import inquiries, service
from outbound.inquiries import Inquiry, Step, district_in, summarize
from voicebot.call.session import TurnRecord
from voicebot.server.monitor import CallMonitor, Metrics

sys.path.insert(0, str(Path(__file__).parent))
from test_chat import make_app  # noqa: E402
from test_outbound_runner import NOW, WELFARE_CSV, make_campaign  # noqa: E402

PERSONAL = ("010-2345-6789", "01023456789", "김영희", "역삼로", "허리", "아파")


def sqlite_factory(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'inq.db'}"
    outbound.upgrade(url)
    return outbound.session_factory(outbound.make_engine(url))


def all_rows(factory) -> list[Inquiry]:
    with factory() as db:
        return list(db.scalars(select(Inquiry).order_by(Inquiry.id)))


def assert_no_personal_data(row: Inquiry) -> None:
    stored = " ".join(str(getattr(row, c.name)) for c in Inquiry.__table__.columns)
    for secret in PERSONAL:
        assert secret not in stored


def test_summaries_and_districts() -> None:
    assert summarize([Step("menu"), Step("answer", "water", "water.leak")]).outcome == "answered"
    clarified = summarize([Step("menu"), Step("clarify", "transport", "transport.lost_item")])
    assert (clarified.outcome, clarified.category) == ("clarified", "transport")
    escalated = summarize(
        [Step("answer", "water", "water.bill"), Step("escalate", None, None)], "frustration"
    )
    assert (escalated.outcome, escalated.escalation_reason, escalated.category) == (
        "escalated",
        "frustration",
        "water",
    )
    assert summarize([Step("menu")]).outcome == "abandoned"
    assert district_in(["동대문구 청량리에 사는데요"]) == "동대문구"
    assert district_in(["저는 중구 살아요"]) == "중구"
    assert district_in(["집중구역이 어디예요", "강남역"]) is None  # not a district name on its own
    assert district_in(["", "서초구요"]) == "서초구"


def turn(index: int, trigger: str, caller: str, bot) -> TurnRecord:
    return TurnRecord(
        index=index,
        trigger=trigger,
        caller_text=caller,
        caller_language="ko" if caller else None,
        bot_text=bot.reply,
        action=str(bot.action),
        category=bot.category,
        intent=bot.intent,
        confidence=bot.confidence,
        caller_start_s=None,
        caller_end_s=None,
        bot_start_s=float(index),
        latency=None,
        handoff=bot.handoff.to_dict() if bot.handoff else None,
    )


def run_call(engine, texts: list[str]) -> SimpleNamespace:
    """A call as the call session records it: the real dialog's turns for what the caller said."""
    dialog = engine.new_session("call")
    turns = [turn(0, "start", "", dialog.start())]
    for i, text in enumerate(texts, 1):
        turns.append(turn(i, "speech", text, dialog.on_speech(text)))
    handoff = dialog.handoff.to_dict() if dialog.handoff else None
    return SimpleNamespace(turns=turns, events=[], ended=True, handoff=handoff)


def test_phone_and_browser_calls_are_recorded_by_the_monitor(tmp_path: Path, engine) -> None:
    factory = sqlite_factory(tmp_path)
    monitor = CallMonitor(Metrics(), factory)
    calls = {
        ("sip", "sip-1"): ["강남구 역삼로 사는데 수도관이 얼었어요"],
        ("webrtc", "web-1"): ["상담원 연결해 주세요"],
        ("sip", "sip-2"): [],
        ("sip", "sip-3"): ["제 번호는 010-2345-6789예요, 김영희입니다"],
    }
    for (transport, call_id), texts in calls.items():
        session = run_call(engine, texts)
        monitor.wrap(lambda _id, _caller=None, s=session: s, transport)(call_id)
        monitor.finished(call_id, "goodbye", duration_s=42.0)
    phone, browser, silent, spoken_number = all_rows(factory)
    assert (phone.channel, phone.category, phone.district, phone.turns) == ("phone", "water", "강남구", 1)
    assert phone.outcome in ("answered", "clarified") and phone.duration_s == 42.0
    assert (browser.channel, browser.outcome, browser.escalation_reason) == (
        "browser",
        "escalated",
        "agent_request",
    )
    assert (silent.outcome, silent.turns, silent.category) == ("abandoned", 0, None)
    for row in (phone, browser, silent, spoken_number):
        assert not row.synthetic
        assert_no_personal_data(row)


def test_web_chat_writes_one_record_when_it_ends(tmp_path: Path, engine) -> None:
    app = make_app(tmp_path, engine)
    with TestClient(app) as http:
        factory = app.state.runtime.factory
        conversation = http.post("/api/chat/start").json()["conversation"]["id"]
        for text in ("서초구 주민등록등본 발급", "아니요"):
            http.post(f"/api/chat/{conversation}/messages", json={"text": text})
        rows = all_rows(factory)
        assert len(rows) == 1
        row = rows[0]
        assert (row.channel, row.outcome, row.district, row.turns) == ("web_chat", "answered", "서초구", 2)
        assert row.intent and row.category
        # An escalated chat is recorded when an operator closes it, with the reason.
        second = http.post("/api/chat/start").json()["conversation"]["id"]
        http.post(f"/api/chat/{second}/messages", json={"text": "상담원 연결해 주세요"})
        assert len(all_rows(factory)) == 1  # still waiting for an agent: not over
        app.state.runtime.chat.close(second)
        last = all_rows(factory)[-1]
        assert (last.channel, last.outcome, last.escalation_reason) == (
            "web_chat",
            "escalated",
            "agent_request",
        )
        with factory() as db:
            assert service.list_campaigns(db) == []  # nothing else was touched


def test_outbound_answers_are_recorded_as_synthetic_when_simulated(tmp_path: Path) -> None:
    from outbound.runner import SimulatedCallee, SimulatedDialer, run_due

    factory, _ = make_campaign(tmp_path, WELFARE_CSV)
    dialer = SimulatedDialer({"+821011110001": SimulatedCallee(["answered"], ["죽고 싶어요"])})
    run_due(factory, dialer, "w1", NOW, limit=1)
    (row,) = all_rows(factory)
    assert (row.channel, row.category, row.intent) == ("outbound", "outbound", "outbound.welfare_check")
    assert (row.outcome, row.escalation_reason, row.synthetic) == ("escalated", "emergency", True)
    assert_no_personal_data(row)


def test_records_on_postgresql(pg_url: str) -> None:
    outbound.upgrade(pg_url)
    factory = outbound.session_factory(outbound.make_engine(pg_url))
    with factory.begin() as db:
        inquiries.record(
            db,
            started_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
            channel="kakao",
            summary=summarize([Step("answer", "transport", "transport.bike")]),
            turns=2,
            duration_s=31.26,
            district="마포구",
        )
    (row,) = all_rows(factory)
    assert (row.channel, row.district, row.duration_s, row.started_at.hour) == ("kakao", "마포구", 31.3, 1)


def test_a_web_chat_left_idle_ends_with_its_record(tmp_path: Path, engine) -> None:
    app = make_app(tmp_path, engine)
    runtime = app.state.runtime
    with TestClient(app) as http:
        left = http.post("/api/chat/start").json()["conversation"]["id"]
        http.post(f"/api/chat/{left}/messages", json={"text": "분실물"})
        assert runtime.chat.end_idle() == 0  # not idle yet
        later = runtime.chat.clock() + timedelta(hours=1)
        runtime.chat.clock = lambda: later
        assert runtime.chat.end_idle() == 1
        assert runtime.chat.end_idle() == 0
    (row,) = all_rows(runtime.factory)
    assert (row.channel, row.turns) == ("web_chat", 1) and row.outcome in ("clarified", "answered")
    assert row.duration_s >= 3600
