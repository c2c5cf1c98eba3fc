"""Call-back bookings (issue 18): business hours and slots, the bookings and the migration on real SQLite
and PostgreSQL, and the call-back dialer with the SIMULATED dialer (no audio: the SIP path is in
tests/test_callback_sip.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

import outbound
from outbound import callbacks, store
from outbound.callbacks import BusinessHours, Callback, CallbackPolicy, free_slots, slot_label
from outbound.runner import SimulatedCallee, SimulatedDialer
from outbound.timewindows import TimeWindow

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY_1420 = datetime(2026, 12, 7, 14, 20, tzinfo=SEOUL)
HOURS = BusinessHours()  # 평일 09:00-18:00, public holidays off


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SEOUL)


# --- business hours and slots (pure) ------------------------------------------------------------------


def test_business_hours_are_said_in_korean_and_skip_weekends_and_holidays() -> None:
    assert HOURS.text() == "평일 오전 9시부터 오후 6시까지"
    assert HOURS.open_at(MONDAY_1420) and not HOURS.open_at(at(7, 18, 0)) and not HOURS.open_at(at(7, 8, 59))
    assert not HOURS.open_at(at(5, 10))  # Saturday
    assert not HOURS.open_at(datetime(2026, 12, 25, 10, tzinfo=SEOUL))  # 기독탄신일
    custom = BusinessHours.parse("09:00-12:00, 13:00-18:00", "월,수,금,토")
    assert custom.text() == "월·수·금·토요일 오전 9시부터 낮 12시까지, 오후 1시부터 오후 6시까지"
    with pytest.raises(ValueError):
        BusinessHours.parse("", "월")


def test_the_next_slots_are_in_business_hours_with_their_spoken_labels() -> None:
    slots = free_slots(HOURS, MONDAY_1420, {})
    assert [s.label for s in slots] == [
        "오늘 오후 3시부터 4시 사이",
        "오늘 오후 4시부터 5시 사이",
        "오늘 오후 5시부터 6시 사이",
    ]
    # Friday evening: the next working day is Monday; a full slot is skipped.
    friday = at(4, 17, 55)
    slots = free_slots(HOURS, friday, {at(7, 9): 4}, count=2)
    assert [s.label for s in slots] == [
        "12월 7일 월요일 오전 10시부터 11시 사이",
        "12월 7일 월요일 오전 11시부터 낮 12시 사이",
    ]
    # Christmas (a Friday) is skipped; a booking count in UTC matches the local slot.
    slots = free_slots(HOURS, datetime(2026, 12, 24, 17, 30, tzinfo=SEOUL), {}, count=1)
    assert slots[0].start == datetime(2026, 12, 28, 9, tzinfo=SEOUL)
    utc_key = at(7, 15).astimezone(ZoneInfo("UTC"))
    assert free_slots(HOURS, MONDAY_1420, {utc_key: 4}, count=1)[0].start == at(7, 16)
    # the lead time: at 14:55 the 15:00 slot is too close
    assert free_slots(HOURS, at(7, 14, 55), {}, count=1)[0].start == at(7, 16)
    assert slot_label(at(8, 9, 30), at(8, 10, 0), MONDAY_1420) == "내일 오전 9시 30분부터 10시 사이"
    half = free_slots(BusinessHours((TimeWindow(9 * 60, 10 * 60),)), at(7, 8), {}, slot_minutes=30)
    assert [s.label for s in half][:2] == [
        "오늘 오전 9시부터 9시 30분 사이",
        "오늘 오전 9시 30분부터 10시 사이",
    ]


# --- bookings and the dialer (SQLite and PostgreSQL) -----------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request, tmp_path: Path):
    """The store on SQLite, and on PostgreSQL (skipped when no test server answers)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cb.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    outbound.upgrade(url)
    engine = store.make_engine(url)
    yield store.session_factory(engine)
    engine.dispose()


def booked(factory, phone: str = "010-2345-6789", start: datetime = at(7, 15)) -> int:
    with factory.begin() as session:
        row = callbacks.book(
            session, phone, start, start + timedelta(hours=1), channel="sip", handoff_id="ab" * 8,
            reason="agent_request", category="water",
        )  # fmt: skip
        return row.id


def state(factory, callback_id: int) -> Callback:
    with factory() as session:
        row = session.get(Callback, callback_id)
        session.expunge(row)
        return row


def test_a_booking_is_stored_as_contacts_are_and_listed_masked(factory) -> None:
    callback_id = booked(factory)
    with factory() as session:
        (row,) = callbacks.list_callbacks(session)
        assert row.phone_e164 == "+821023456789" and row.state == "booked" and row.due_at == at(7, 15)
        assert callbacks.callback_dict(row, masked=True)["phone"] == "010-****-6789"
        assert callbacks.callback_dict(row, masked=False)["phone"] == "+821023456789"
        assert callbacks.booked_counts(session, at(7, 0), at(8, 0)) == {at(7, 15): 1}
    with pytest.raises(outbound.PhoneError):
        with factory.begin() as session:
            callbacks.book(session, "12", at(7, 15), at(7, 16), channel="sip")
    with factory.begin() as session:
        assert callbacks.close(session, callback_id, "cancelled", "상담사", MONDAY_1420).state == "cancelled"
        assert callbacks.close(session, 999, "done", "상담사", MONDAY_1420) is None
    with factory.begin() as session, pytest.raises(callbacks.CallbackError, match="이미 처리"):
        callbacks.close(session, callback_id, "done", "상담사", MONDAY_1420)


def test_the_dialer_calls_in_the_slot_only_and_hands_the_person_to_an_agent(factory) -> None:
    callback_id = booked(factory)
    dialer = SimulatedDialer(default=SimulatedCallee(replies=["1"]))
    placed_calls = []
    dial = dialer.dial
    dialer.dial = lambda request: placed_calls.append(dial(request)) or placed_calls[-1]
    report = callbacks.dial_due(factory, dialer, "w1", at(7, 14, 59), HOURS)
    assert report.dialled == 0 and dialer.dialled == []  # not yet
    report = callbacks.dial_due(factory, dialer, "w1", at(7, 15, 0), HOURS)
    assert report.dialled == 1 and dialer.dialled == [callback_id]
    row = state(factory, callback_id)
    assert row.state == "done" and row.closed_by == "dialer" and row.attempts == 1 and row.simulated
    assert row.result["call"] == "transfer"  # the person asked to be put through to an agent
    # what the agent's handoff record of the call-back gets: the booking and the caller's first handoff
    (placed,) = placed_calls
    assert placed.conversation["callback"] == {
        "callback_id": str(callback_id),
        "handoff_id": "ab" * 8,
        "reason": "agent_request",
    }
    assert callbacks.dial_due(factory, dialer, "w1", at(7, 15, 30), HOURS).dialled == 0  # once only


def test_an_unanswered_call_back_is_tried_again_in_its_slot_then_left_to_staff(factory) -> None:
    callback_id = booked(factory)
    dialer = SimulatedDialer(default=SimulatedCallee(outcomes=["no_answer"]))
    policy = CallbackPolicy(retry_after=timedelta(minutes=20), max_attempts=3)
    callbacks.dial_due(factory, dialer, "w1", at(7, 15, 0), HOURS, policy=policy)
    row = state(factory, callback_id)
    assert row.state == "booked" and row.due_at == at(7, 15, 20) and row.last_outcome == "no_answer"
    assert callbacks.dial_due(factory, dialer, "w1", at(7, 15, 10), HOURS, policy=policy).dialled == 0
    callbacks.dial_due(factory, dialer, "w1", at(7, 15, 20), HOURS, policy=policy)
    # a third try would be at 15:40 + 20 min = past the slot: left to staff
    callbacks.dial_due(factory, dialer, "w1", at(7, 15, 40), HOURS, policy=policy)
    row = state(factory, callback_id)
    assert row.attempts == 3 and row.state == "missed"
    with factory.begin() as session:  # an agent called the person: staff close it
        assert callbacks.close(session, callback_id, "done", "상담사", at(7, 16, 5)).state == "done"


def test_business_hours_holidays_and_do_not_call_are_respected(factory) -> None:
    dialer = SimulatedDialer(default=SimulatedCallee(replies=["1"]))
    # Booked in an evening slot hours that were changed since: never dialled outside business hours,
    # and closed as missed once the slot is over.
    late = booked(factory, start=at(7, 18))
    assert callbacks.dial_due(factory, dialer, "w1", at(7, 18, 5), HOURS).dialled == 0
    callbacks.dial_due(factory, dialer, "w1", at(7, 19, 0), HOURS)
    assert state(factory, late).state == "missed"
    holiday = booked(factory, "010-3456-7890", start=datetime(2026, 12, 25, 10, tzinfo=SEOUL))
    assert (
        callbacks.dial_due(factory, dialer, "w1", datetime(2026, 12, 25, 10, 5, tzinfo=SEOUL), HOURS).dialled
        == 0
    )
    assert state(factory, holiday).state == "booked"
    refused = booked(factory, "010-4567-8901")
    with factory.begin() as session:
        store.add_do_not_call(session, ["010-4567-8901"], reason="수신 거부")
    report = callbacks.dial_due(factory, dialer, "w1", at(7, 15, 0), HOURS)
    assert report.cancelled == 1 and report.dialled == 0 and dialer.dialled == []
    row = state(factory, refused)
    assert row.state == "cancelled" and row.last_outcome == "do_not_call" and row.closed_by == "do_not_call"


def test_a_call_back_left_dialing_by_a_dead_worker_is_tried_again(factory) -> None:
    callback_id = booked(factory)
    with factory.begin() as session:
        row = session.get(Callback, callback_id)
        row.state, row.lease_owner, row.lease_expires_at = "dialing", "gone", at(7, 15, 1)
    dialer = SimulatedDialer(default=SimulatedCallee(replies=["2"]))
    callbacks.dial_due(factory, dialer, "w2", at(7, 15, 2), HOURS)
    row = state(factory, callback_id)
    assert row.state == "done" and row.result["call"] == "declined" and dialer.dialled == [callback_id]


# --- the migration --------------------------------------------------------------------------------------


def _up_down_up(url: str) -> None:
    from alembic import command

    outbound.upgrade(url)
    engine = store.make_engine(url)
    try:
        assert "callbacks" in sa.inspect(engine).get_table_names()
        command.downgrade(store.alembic_config(url), "0011_retention")
        assert "callbacks" not in sa.inspect(engine).get_table_names()
        command.upgrade(store.alembic_config(url), "0012_callbacks")
        factory = store.session_factory(engine)
        with factory.begin() as session:
            callbacks.book(session, "02-120-1234", at(7, 15), at(7, 16), channel="sip")
        with factory() as session:
            assert [r.phone_e164 for r in callbacks.list_callbacks(session)] == ["+8221201234"]
    finally:
        engine.dispose()


def test_migration_0012_up_and_down_on_sqlite(tmp_path: Path) -> None:
    _up_down_up(f"sqlite:///{tmp_path / 'migrate.db'}")


def test_migration_0012_up_and_down_on_postgres(pg_url: str) -> None:
    _up_down_up(pg_url)
