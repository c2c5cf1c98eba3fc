"""Welfare memory (issue 16): what a person said is remembered per topic, the next check-in asks about the
last concern first once the person is identified (never before), the answer moves the topic's trend,
people who pick up and say nothing get a call at another time and then a "연락은 되나 응답 없음" alert,
and memory goes after the retention period. Real SQLite files and PostgreSQL, the SIMULATED dialer."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

import outbound
from outbound import RetryPolicy, Schedule, import_contacts, parse_windows, welfare
from outbound.answers import classify_follow_up
from outbound.runner import SimulatedCallee, SimulatedDialer, run_due
from outbound.schema import Alert, Attempt, Campaign, Contact, WelfareMemory
from outbound.script import FOLLOW_UP_STEP, Conversation, FollowUp, ScriptError, load_script, parse_script
from outbound.store import alembic_config
from outbound.worker import Worker, WorkerConfig

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 10, 12, 10, 0, tzinfo=SEOUL)  # inside the window, no holiday near
KIM = "+821011110001"
QUESTION = "지난번에 허리가 아프다고 하셨는데 요즘은 좀 어떠세요?"
SETTINGS = welfare.WelfareSettings()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'welfare.db'}"
    return request.getfixturevalue("pg_url")


def _campaign(url: str) -> sa.orm.sessionmaker:
    outbound.upgrade(url)
    factory = outbound.session_factory(outbound.make_engine(url))
    with factory.begin() as s:
        created = outbound.create_campaign(
            s,
            name="어르신 안부",
            kind="welfare_check",
            status="running",
            schedule=Schedule(
                start_date=date(2026, 10, 12),
                end_date=date(2026, 12, 30),
                windows=parse_windows("09:00-12:00;14:00-18:00"),
            ),
            policy=RetryPolicy(max_attempts=3, delays=(timedelta(minutes=30),)),
        )
        outbound.add_contacts(
            s, created, import_contacts("이름,전화번호\n김순자,010-1111-0001\n".encode()).contacts
        )
        outbound.schedule_first_attempts(s, created, MONDAY)
    return factory


def _call(factory, replies, now, outcome="human") -> SimulatedDialer:  # type: ignore[no-untyped-def]
    dialer = SimulatedDialer({KIM: SimulatedCallee([outcome], list(replies))})
    with factory.begin() as s:  # the next check-in of this person is due now (a round of its own)
        s.execute(sa.update(Campaign).values(status="running"))
        due = s.scalars(select(Attempt).where(Attempt.state == "scheduled").order_by(Attempt.due_at)).first()
        if due is None:
            contact = s.scalars(select(Contact)).one()
            first = s.scalars(select(Attempt).order_by(Attempt.id)).first()
            due = Attempt(
                campaign_id=first.campaign_id,
                contact_id=contact.id,
                campaign_contact_id=first.campaign_contact_id,
                attempt_number=1,
                round_date=now.date(),
                due_at=now,
            )
            s.add(due)
        due.due_at = now
    run_due(factory, dialer, "w1", now)
    return dialer


def _said(factory) -> list[str]:  # type: ignore[no-untyped-def]
    with factory() as s:
        last = s.scalars(
            select(Attempt).where(Attempt.state == "completed").order_by(Attempt.id.desc())
        ).first()
        return [a.get("step") for a in (last.answers or {}).get("steps", {}).values()]


# --- the words --------------------------------------------------------------------------------------


def test_concern_summaries_quote_the_person_politely():
    assert welfare.concern_summary("health", "허리가 너무 아파요") == "허리가 아프다고"
    assert welfare.concern_summary("health", "무릎이 계속 쑤셔요") == "무릎이 아프다고"
    assert welfare.concern_summary("health", "그냥 별로예요") == "몸이 좀 편찮으시다고"
    assert welfare.concern_summary("meals", "입맛이 없어서 못 먹었어요") == "입맛이 없으시다고"
    assert welfare.concern_summary("mood", "혼자라 너무 외로워요") == "적적하시다고"
    assert welfare.concern_summary("sleep", None) == "잠을 잘 못 주무신다고"
    assert FollowUp(1, "health", "허리가 아프다고").question().startswith(QUESTION)


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("이제 많이 나아졌어요", "fine"),
        ("덜 아파요", "fine"),
        ("아직도 좀 아파요", "not_fine"),
        ("아직 안 나았어요", "not_fine"),
        ("여전히 그래요", "not_fine"),
        ("더 심해졌어요", "concern"),
        ("너무 아파서 119 불러야 할 것 같아요", "emergency"),
    ],
)
def test_follow_up_answers(said, value):
    assert classify_follow_up(said, "health").value == value


# --- the conversation -------------------------------------------------------------------------------


def test_follow_up_comes_first_after_the_person_is_identified():
    conv = Conversation(
        load_script("welfare_check"), {"name": "김순자"}, FollowUp(7, "health", "허리가 아프다고")
    )
    first = conv.start()
    assert QUESTION not in first and "본인 맞으세요" in first
    assert conv.respond(text="네 맞아요").startswith(QUESTION)
    assert conv.respond(text="좀 나아졌어요") == "식사는 잘 챙겨 드시고 계세요?"
    result = conv.result()
    assert result["identified"] is True
    assert result["follow_up"] == {"memory_id": 7, "topic": "health", "asked": True, "value": "fine"}


@pytest.mark.parametrize("answers", [["아니요"], ["2"], [None, None, None], ["글쎄요", "음", "글쎄"]])
def test_follow_up_is_never_read_to_someone_not_identified(answers):
    conv = Conversation(
        load_script("welfare_check"), {"name": "김순자"}, FollowUp(7, "health", "허리가 아프다고")
    )
    conv.start()
    for answer in answers:
        if answer is not None and len(answer) == 1:
            conv.respond(digit=answer)
        else:
            conv.respond(text=answer)
    while not conv.ended and len(conv.said) < 30:
        conv.respond(text="네")
    assert not any("허리" in said for said in conv.said)
    assert conv.result()["follow_up"]["asked"] is False
    assert conv.result()["identified"] is False


def test_a_script_step_may_identify_the_person():
    script = parse_script(
        {
            "kind": "welfare_check",
            "slots": {"required": ["name"]},
            "steps": [
                {"id": "who", "say": "{name} 님 맞으세요?", "expect": "yes_no", "identifies": True},
                {"id": "meals", "say": "식사는 하셨어요?", "expect": "answer", "topic": "meals"},
            ],
        }
    )
    conv = Conversation(script, {"name": "김순자"}, FollowUp(3, "meals", "식사를 거르셨다고"))
    assert conv.start() == "김순자 님 맞으세요?"
    assert conv.respond(text="네").startswith("지난번에 식사를 거르셨다고 하셨는데")
    with pytest.raises(ScriptError, match="identifies"):
        parse_script(
            {"kind": "welfare_check", "steps": [{"id": "a", "say": "안녕하세요", "identifies": True}]}
        )


# --- on the store -----------------------------------------------------------------------------------


def test_two_check_ins_follow_up_and_the_trend_moves(url):
    factory = _campaign(url)
    _call(factory, ["잘 먹었어요", "허리가 너무 아파요", "잘 자요", "괜찮아요", "없어요"], MONDAY)
    with factory() as s:
        kim = s.scalars(select(Contact)).one().id
        rows = s.scalars(select(WelfareMemory).order_by(WelfareMemory.id)).all()
        assert [(r.topic, r.value) for r in rows] == [
            ("meals", "fine"),
            ("health", "concern"),
            ("sleep", "fine"),
            ("mood", "fine"),
            ("needs", "fine"),
        ]
        open_one = welfare.follow_up_for(s, kim, MONDAY, SETTINGS)
        assert open_one is not None and open_one.summary == "허리가 아프다고"
    assert FOLLOW_UP_STEP not in _said(factory)

    thursday = MONDAY + timedelta(days=3)
    _call(
        factory,
        ["네", "이제 많이 나아졌어요", "잘 먹어요", "괜찮아요", "잘 자요", "괜찮아요", "없어요"],
        thursday,
    )
    assert _said(factory)[:2] == ["follow_up_identify", FOLLOW_UP_STEP]
    with factory() as s:
        view = welfare.memory_view(s, kim, thursday, SETTINGS)
        assert view["trends"]["health"]["trend"] == "better"
        assert [v["value"] for v in view["trends"]["health"]["values"]] == ["concern", "fine"]
        assert view["follow_up"] is None  # answered, nothing new to ask about
        followed = [m for m in view["memories"] if m["follows"]]
        assert followed and followed[0]["summary"] == "허리가 아프다고"
        assert not s.scalars(select(Alert).where(Alert.kind == "no_response")).all()


def test_an_unanswered_follow_up_is_asked_again(url):
    factory = _campaign(url)
    _call(factory, ["잘 먹었어요", "허리가 너무 아파요", "잘 자요", "괜찮아요", "없어요"], MONDAY)
    _call(factory, ["네", "글쎄", "음", "흠", "1", "1", "1", "1", "1"], MONDAY + timedelta(days=3))
    with factory() as s:
        kim = s.scalars(select(Contact)).one().id
        again = welfare.follow_up_for(s, kim, MONDAY + timedelta(days=3), SETTINGS)
        assert again is not None and again.summary == "허리가 아프다고"


def test_a_machine_or_a_wrong_person_leaves_memory_as_it_was(url):
    factory = _campaign(url)
    _call(factory, ["잘 먹었어요", "허리가 너무 아파요", "잘 자요", "괜찮아요", "없어요"], MONDAY)
    _call(factory, [], MONDAY + timedelta(days=1), outcome="voicemail")
    _call(factory, ["아니요"], MONDAY + timedelta(days=2))
    with factory() as s:
        assert len(s.scalars(select(WelfareMemory)).all()) == 5
        assert s.scalars(select(Contact)).one().silent_calls == 0
        assert welfare.follow_up_for(s, s.scalars(select(Contact)).one().id, MONDAY, SETTINGS) is not None


def test_silent_check_ins_get_another_time_then_an_alert(url):
    factory = _campaign(url)
    silence: list[str | None] = []
    _call(factory, silence, MONDAY)
    with factory() as s:
        assert s.scalars(select(Contact)).one().silent_calls == 1
        assert s.scalars(select(Attempt).where(Attempt.state == "scheduled")).first() is None
    tuesday = MONDAY + timedelta(days=1)
    _call(factory, silence, tuesday)
    with factory() as s:
        assert s.scalars(select(Contact)).one().silent_calls == 2
        other = s.scalars(select(Attempt).where(Attempt.state == "scheduled")).one()
        local = other.due_at.astimezone(SEOUL)
        assert local.date() == tuesday.date() and local.hour >= 14  # the afternoon window, same day
        assert not s.scalars(select(Alert)).all()
    run_due(factory, SimulatedDialer({KIM: SimulatedCallee(["human"], [])}), "w1", local)
    with factory() as s:
        alert = s.scalars(select(Alert).where(Alert.kind == "no_response")).one()
        assert alert.message.startswith("연락은 되나 응답 없음") and alert.severity == "warning"
        assert not s.scalars(select(WelfareMemory)).all()
    _call(factory, ["네 잘 먹었어요"], tuesday + timedelta(days=2))  # an answer ends the streak
    with factory() as s:
        assert s.scalars(select(Contact)).one().silent_calls == 0


def test_staff_edit_add_and_delete_memory(url):
    factory = _campaign(url)
    _call(factory, ["잘 먹었어요", "허리가 너무 아파요", "잘 자요", "괜찮아요", "없어요"], MONDAY)
    with factory.begin() as s:
        kim = s.scalars(select(Contact)).one().id
        concern = s.scalars(select(WelfareMemory).where(WelfareMemory.follow_up.is_(True))).one()
        # the console sends the checkbox with every save: the open concern stays open
        welfare.update_memory(
            s,
            concern.id,
            {"summary": "허리 통증으로 병원에 다니신다고", "follow_up": True},
            "복지사A",
            MONDAY,
        )
        with pytest.raises(welfare.WelfareEditError):
            welfare.update_memory(s, concern.id, {"value": "great"}, "복지사A", MONDAY)
        with pytest.raises(welfare.WelfareEditError):
            welfare.update_memory(s, concern.id, {"summary": "{name} 님"}, "복지사A", MONDAY)
    with factory() as s:
        assert welfare.follow_up_for(s, kim, MONDAY, SETTINGS).summary == "허리 통증으로 병원에 다니신다고"
    with factory.begin() as s:
        visit = welfare.add_memory(
            s,
            kim,
            {
                "topic": "medication",
                "value": "not_fine",
                "summary": "약을 자주 잊으신다고",
                "follow_up": True,
            },
            "복지사A",
            MONDAY,
        )
        assert visit.source == "staff"
    with factory() as s:
        assert welfare.follow_up_for(s, kim, MONDAY, SETTINGS).topic == "medication"  # one open at a time
    with factory.begin() as s:
        welfare.delete_memory(s, visit.id)
        assert welfare.follow_up_for(s, kim, MONDAY, SETTINGS) is None


def test_memory_past_retention_is_purged_by_the_worker(url):
    factory = _campaign(url)
    settings = welfare.WelfareSettings(retention_days=30)
    _call(factory, ["잘 먹었어요", "허리가 너무 아파요", "잘 자요", "괜찮아요", "없어요"], MONDAY)
    later = MONDAY + timedelta(days=31)
    with factory() as s:
        assert welfare.follow_up_for(s, s.scalars(select(Contact)).one().id, later, settings) is None
        assert welfare.purge(s, MONDAY + timedelta(days=29), settings) == 0
    clock = [later]
    worker = Worker(
        factory,
        SimulatedDialer({}),
        WorkerConfig(
            "w2", campaign_ids=None, until_done=True, simulated_clock=True, welfare_settings=settings
        ),
        clock=lambda: clock[0],
    )
    with factory.begin() as s:  # nothing left to call: the worker purges and stops
        for attempt in s.scalars(select(Attempt).where(Attempt.state == "scheduled")):
            attempt.state = "cancelled"
    worker.run(threading.Event())
    with factory() as s:
        assert not s.scalars(select(WelfareMemory)).all()


def test_migration_0007_up_and_down(url):
    outbound.upgrade(url)
    config = alembic_config(url)
    command.downgrade(config, "0006_typed_outcomes")
    engine = outbound.make_engine(url)
    assert "welfare_memories" not in sa.inspect(engine).get_table_names()
    engine.dispose()
    command.upgrade(config, "0007_welfare_memory")
    engine = outbound.make_engine(url)
    assert "welfare_memories" in sa.inspect(engine).get_table_names()
    assert "silent_calls" in {c["name"] for c in sa.inspect(engine).get_columns("contacts")}
    engine.dispose()


# --- the staff API ----------------------------------------------------------------------------------


def test_staff_see_and_edit_memory_through_the_api_with_role_checks(tmp_path):
    from fastapi.testclient import TestClient

    from outbound import service
    from outbound.api import make_app

    factory = _campaign(f"sqlite:///{tmp_path / 'api.db'}")
    _call(factory, ["잘 먹었어요", "허리가 너무 아파요", "잘 자요", "괜찮아요", "없어요"], MONDAY)
    with factory.begin() as s:
        kim = s.scalars(select(Contact)).one().id
        viewer = {"Authorization": f"Bearer {service.create_token(s, 'viewer-user', 'viewer')}"}
        operator = {"Authorization": f"Bearer {service.create_token(s, '복지사A', 'operator')}"}
    client = TestClient(make_app(factory, clock=lambda: MONDAY))

    assert client.get(f"/api/contacts/{kim}/memory").status_code == 401
    assert client.get(f"/api/contacts/{kim}/memory", headers=viewer).status_code == 403
    got = client.get(f"/api/contacts/{kim}/memory", headers=operator)
    assert got.status_code == 200
    view = got.json()
    assert view["follow_up"]["question"].startswith(QUESTION)
    assert view["trends"]["health"]["trend"] == "new" and view["retention_days"] == 180
    concern = next(m for m in view["memories"] if m["follow_up"])

    assert (
        client.patch(f"/api/memory/{concern['id']}", json={"value": "fine"}, headers=viewer).status_code
        == 403
    )
    bad = client.patch(f"/api/memory/{concern['id']}", json={"value": "great"}, headers=operator)
    assert bad.status_code == 422
    fixed = client.patch(
        f"/api/memory/{concern['id']}", json={"summary": "허리 통증으로 병원에 다니신다고"}, headers=operator
    )
    assert fixed.status_code == 200 and fixed.json()["edited_by"] == "복지사A"
    view = client.get(f"/api/contacts/{kim}/memory", headers=operator).json()
    assert view["follow_up"]["question"].startswith("지난번에 허리 통증으로 병원에 다니신다고 하셨는데")

    added = client.post(
        f"/api/contacts/{kim}/memory",
        json={"topic": "going_out", "value": "not_fine", "summary": "바깥출입이 어려우시다고"},
        headers=operator,
    )
    assert added.status_code == 201 and added.json()["source"] == "staff"
    assert client.delete(f"/api/memory/{added.json()['id']}", headers=viewer).status_code == 403
    assert client.delete(f"/api/memory/{added.json()['id']}", headers=operator).status_code == 204
    assert client.delete(f"/api/memory/{added.json()['id']}", headers=operator).status_code == 404
    assert client.get("/api/contacts/9999/memory", headers=operator).status_code == 404
