"""Outbound runner: YAML scripts, welfare answer classification, the worker loop with the SIMULATED
dialer (no SIP), CSV export and the campaign summary. Real SQLite files in tmp_path; no audio."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import outbound
from outbound import RetryPolicy, Schedule, import_contacts, parse_windows
from outbound.answers import classify_welfare, yes_no
from outbound.results import campaign_summary, export_attempts_csv
from outbound.runner import SimulatedCallee, SimulatedDialer, run_due, run_until_done
from outbound.schema import Alert, Attempt, CampaignContact
from outbound.script import Conversation, ScriptError, bundled_scripts, load_script, parse_script

DATA = Path(__file__).parent / "data" / "outbound"
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 9, 21, 10, 0, tzinfo=SEOUL)  # a Monday


@pytest.mark.parametrize(
    ("text", "topic", "value"),
    [
        ("밥 잘 먹었어요", "meals", "fine"),
        ("네, 잘 챙겨 먹고 있어요", "meals", "fine"),
        ("입맛이 없어서 못 먹었어요", "meals", "not_fine"),
        ("며칠째 아무것도 못 먹었어요", "meals", "concern"),
        ("허리가 너무 아파요", "health", "concern"),
        ("무릎이 좀 쑤셔요", "health", "not_fine"),
        ("몸이 안 좋아요", "health", "not_fine"),
        ("괜찮지 않아요", "health", "not_fine"),
        ("안 아파요", "health", "fine"),
        ("아픈 데는 없어요", "health", "fine"),
        ("아프지 않아요", "health", "fine"),
        ("잠을 통 못 자요", "sleep", "concern"),
        ("잠이 잘 안 와요", "sleep", "not_fine"),
        ("푹 잘 잤어요", "sleep", "fine"),
        ("외로워요", "mood", "concern"),
        ("아무도 안 와요", "mood", "concern"),
        ("외롭지는 않아요", "mood", "fine"),
        ("그냥 그래요", "mood", "not_fine"),
        ("기분 좋아요", "mood", "fine"),
        ("필요한 거 없어요", "needs", "fine"),
        ("아니요, 괜찮아요", "needs", "fine"),
        ("쌀이 다 떨어졌어요", "needs", "concern"),
        ("반찬 좀 있으면 좋겠어요", "needs", "not_fine"),
        ("네", "meals", "fine"),
        ("아니요", "sleep", "not_fine"),
        ("죽고 싶어요", "mood", "emergency"),
        ("숨이 차요", "health", "emergency"),
        ("숨이 너무 차요", "health", "emergency"),
        ("가슴이 아파요", "health", "emergency"),
        ("넘어졌는데 못 일어나겠어요", "health", "emergency"),
        ("글쎄요", "mood", "unclear"),
    ],
)
def test_welfare_answer_classification(text: str, topic: str, value: str) -> None:
    assert classify_welfare(text, topic).value == value


def test_keypad_answers_and_yes_no() -> None:
    assert classify_welfare(None, "meals", digit="1").value == "fine"
    assert classify_welfare(None, "meals", digit="2").value == "not_fine"
    assert [yes_no(t) for t in ("네 맞아요", "예", "아니요", "잘못 거셨어요", "누구세요")] == [
        "yes",
        "yes",
        "no",
        "no",
        None,
    ]


# --- scripts ------------------------------------------------------------------------------------------


def test_bundled_scripts_load() -> None:
    assert {"covid_notice", "welfare_check"} <= set(bundled_scripts())
    welfare = load_script("welfare_check")
    topics = [s.topic for s in welfare.steps if s.expect == "answer"]
    assert 3 <= len(topics) <= 5 and {"meals", "health", "sleep", "mood"} <= set(topics)
    assert welfare.global_keys == {"9": "repeat", "0": "agent"}


COVID_SLOTS = {"name": "홍길동", "date": "3월 5일", "place": "중구 보건소", "result": "음성"}


def test_covid_script_repeat_agent_and_confirm() -> None:
    script = load_script("covid_notice")
    conv = Conversation(script, COVID_SLOTS)
    assert "홍길동 님" in conv.start()
    message = conv.respond(digit="1")
    assert "중구 보건소" in message and "음성" in message and "3월 5일" in message
    assert conv.respond(digit="9") == message  # 9 repeats the message
    assert conv.respond(text="한 번 더 말씀해 주세요") == message
    conv.respond(text="네, 잘 들었어요")
    assert conv.ended and conv.outcome == "completed"
    assert conv.result()["steps"]["result_notice"]["value"] == "yes"

    conv = Conversation(script, COVID_SLOTS)
    conv.start()
    conv.respond(text="네")
    assert "상담원" in conv.respond(digit="0")
    assert conv.ended and conv.outcome == "transfer"

    conv = Conversation(script, COVID_SLOTS)
    conv.start()
    conv.respond(digit="2")
    assert conv.ended and conv.outcome == "wrong_person"

    appointment = dict(COVID_SLOTS, result="", appointment="오후 2시에 1차 접종이 예약되어 있습니다")
    conv = Conversation(script, appointment)
    conv.start()
    assert "예방접종" in conv.respond(text="예 맞습니다")
    with pytest.raises(ScriptError, match="missing slot value.*place"):
        Conversation(script, {"name": "홍길동", "date": "3월 5일"})


def test_welfare_emergency_transfers_at_once() -> None:
    conv = Conversation(load_script("welfare_check"), {"name": "김순자"})
    conv.start()
    conv.respond(text="밥은 먹었어요")
    said = conv.respond(text="숨이 차요")
    assert conv.ended and conv.outcome == "emergency" and "연결" in said
    assert conv.result()["emergency"] == "medical" and conv.result()["overall"] == "emergency"


def test_bad_script_files_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match=r"bad_script\.yaml: step #2 'meals': expect 'answr'"):
        load_script(DATA / "bad_script.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: welfare_check\nsteps: [\n  - id: a\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"broken\.yaml: line \d+, column \d+: not valid YAML"):
        load_script(broken)
    base = {"kind": "welfare_check", "slots": {"required": ["name"]}}
    cases = [
        ({**base, "kind": "sales"}, r"kind: 'sales' is not one of"),
        ({**base, "steps": []}, r"steps: expected a non-empty list"),
        (
            {**base, "steps": [{"id": "a", "say": "{nmae} 님"}]},
            r"step #1 'a': uses undeclared slot\(s\) nmae",
        ),
        ({**base, "steps": [{"id": "a", "say": "x"}, {"id": "a", "say": "y"}]}, r"step #2 'a': duplicate"),
        (
            {**base, "steps": [{"id": "a", "say": "x", "expect": "yes_no", "then": {"yes": "nowhere"}}]},
            r"step #1 'a' then 'yes': action 'nowhere' is not one of",
        ),
        (
            {**base, "steps": [{"id": "a", "say": "x", "expect": "answer", "topic": "money"}]},
            r"step #1 'a': topic 'money'",
        ),
    ]
    for data, pattern in cases:
        with pytest.raises(ScriptError, match=r"staff\.yaml: " + pattern):
            parse_script(data, "staff.yaml")
    with pytest.raises(ScriptError, match="no such script"):
        load_script("nonexistent")


# --- the runner ---------------------------------------------------------------------------------------


def make_campaign(tmp_path: Path, csv_text: str, kind: str = "welfare_check") -> tuple[object, int]:
    url = f"sqlite:///{tmp_path / 'runner.db'}"
    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    factory = outbound.session_factory(engine)
    with factory.begin() as s:
        campaign = outbound.create_campaign(
            s,
            name="test",
            kind=kind,
            status="running",
            schedule=Schedule(
                start_date=date(2026, 9, 21),
                end_date=date(2026, 10, 30),
                windows=parse_windows("09:00-18:00"),
                weekdays=frozenset(range(5)),
            ),
            policy=RetryPolicy(max_attempts=3, delays=(timedelta(minutes=30),)),
        )
        people = import_contacts(csv_text.encode())
        assert not people.rejected
        outbound.add_contacts(s, campaign, people.contacts)
        outbound.schedule_first_attempts(s, campaign, NOW)
        campaign_id = campaign.id
    return factory, campaign_id


WELFARE_CSV = "이름,전화번호\n김순자,010-1111-0001\n이영희,010-1111-0002\n박철수,010-1111-0003\n"


def test_welfare_campaign_with_simulated_dialer(tmp_path: Path) -> None:
    factory, campaign_id = make_campaign(tmp_path, WELFARE_CSV)
    dialer = SimulatedDialer(
        {
            "+821011110001": SimulatedCallee(
                ["answered"], ["밥 잘 먹었어요", "1", "네, 잘 자요", "괜찮아요", "필요한 거 없어요"]
            ),
            "+821011110002": SimulatedCallee(
                ["busy", "answered"],
                ["입맛이 없어서 못 먹었어요", "허리가 너무 아파요", "2", "외로워요", "1"],
            ),
            "+821011110003": SimulatedCallee(["no_answer"]),
        }
    )
    first = run_due(factory, dialer, "w1", NOW)
    assert first.claimed == 3 and first.outcomes == {"answered": 1, "busy": 1, "no_answer": 1}
    assert first.alerts == 0 and first.retries == 2
    assert run_due(factory, dialer, "w1", NOW).claimed == 0  # retries are not due yet
    run_until_done(factory, dialer, "w1", NOW)
    assert len(dialer.dialled) == len(set(dialer.dialled)) == 1 + 2 + 3

    with factory() as s:
        attempts = s.scalars(select(Attempt).order_by(Attempt.id)).all()
        assert all(a.state == "completed" for a in attempts)
        assert all(a.due_at.astimezone(SEOUL).hour in range(9, 18) for a in attempts)
        by_phone: dict[str, list[Attempt]] = {}
        for a in attempts:
            by_phone.setdefault(a.contact.phone_e164, []).append(a)
        fine = by_phone["+821011110001"][0]
        assert fine.outcome == "answered" and fine.answers["overall"] == "fine"
        assert fine.answers["steps"]["health"] == {
            "step": "health",
            "value": "fine",
            "via": "dtmf",
            "topic": "health",
            "reason": "key_1",
        }
        assert fine.keypad == "1" and "밥 잘 먹었어요" in fine.transcript and fine.sip_status == 200
        worry = by_phone["+821011110002"]
        assert [a.outcome for a in worry] == ["busy", "answered"]
        values = {k: v["value"] for k, v in worry[1].answers["steps"].items()}
        assert values == {
            "meals": "not_fine",
            "health": "concern",
            "sleep": "not_fine",
            "mood": "concern",
            "needs": "fine",
        }
        assert [a.outcome for a in by_phone["+821011110003"]] == ["no_answer"] * 3
        alerts = {(a.kind, a.contact_id, a.attempt_id) for a in s.scalars(select(Alert))}
        assert alerts == {
            ("welfare_concern", worry[1].contact_id, worry[1].id),
            ("unreachable", by_phone["+821011110003"][2].contact_id, by_phone["+821011110003"][2].id),
        }
        statuses = dict(s.execute(select(CampaignContact.contact_id, CampaignContact.status)).all())
        assert sorted(statuses.values()) == ["done", "done", "unreachable"]

        summary = campaign_summary(s, campaign_id)
        assert summary["contacts"] == 3 and summary["attempts"] == 6 and summary["pending_attempts"] == 0
        assert summary["reached"] == 2 and summary["reached_rate"] == pytest.approx(2 / 3, abs=1e-4)
        assert summary["outcomes"] == {"answered": 2, "busy": 1, "no_answer": 3}
        assert summary["welfare"] == {"concern": 1, "fine": 1}
        assert summary["concerns"] == 1 and summary["unreachable"] == 1
        assert summary["alerts"] == {"unreachable": 1, "welfare_concern": 1} and summary["alerts_open"] == 2

        masked = export_attempts_csv(s, campaign_id)
        rows = list(csv.DictReader(io.StringIO(masked)))
        assert len(rows) == 6
        for personal in ("김순자", "이영희", "박철수", "1111-0001", "+821011110002", "밥 잘 먹었어요"):
            assert personal not in masked
        worry_row = next(r for r in rows if r["attempt_id"] == str(worry[1].id))
        assert worry_row["overall"] == "concern" and "health=concern" in worry_row["answers"]
        assert worry_row["outcome"] == "answered" and worry_row["transcript"] == ""
        assert worry_row["answered_at"].endswith("+09:00")
        out = tmp_path / "results.csv"
        full = export_attempts_csv(s, campaign_id, out, unmasked=True)
        assert "김순자" in full and "+821011110001" in full and "밥 잘 먹었어요" in full
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")
        with pytest.raises(LookupError, match="no campaign 999"):
            campaign_summary(s, 999)


def test_emergency_and_covid_runs(tmp_path: Path) -> None:
    factory, campaign_id = make_campaign(tmp_path, WELFARE_CSV)
    dialer = SimulatedDialer({"+821011110001": SimulatedCallee(["answered"], ["죽고 싶어요"])})
    run_due(factory, dialer, "w1", NOW, limit=1)
    with factory() as s:
        alert = s.scalars(select(Alert)).one()
        assert (alert.kind, alert.severity) == ("emergency", "critical")
        attempt = s.get(Attempt, alert.attempt_id)
        assert attempt.answers["outcome"] == "emergency" and attempt.answers["emergency"] == "suicide"
        assert "죽고" not in alert.message


def test_covid_campaign_slots_from_notes(tmp_path: Path) -> None:
    csv_text = (
        "이름,전화번호,메모\n"
        "홍길동,010-2222-0001,date=3월 5일; place=중구 보건소; result=음성\n"
        "최민수,010-2222-0002,date=3월 6일\n"  # place missing: failed with a clear error, not dialled
    )
    factory, campaign_id = make_campaign(tmp_path, csv_text, kind="covid_notice")
    dialer = SimulatedDialer({"+821022220001": SimulatedCallee(["answered"], ["네", "9", "1"])})
    report = run_due(factory, dialer, "w1", NOW)
    assert report.claimed == 2 and report.errors == 1
    with factory() as s:
        done = s.scalars(select(Attempt).where(Attempt.outcome == "answered")).one()
        assert done.answers["outcome"] == "completed" and done.keypad == "91"
        bad = s.scalars(select(Attempt).where(Attempt.outcome == "failed")).one()
        assert "missing slot value(s): place" in bad.error and len(dialer.dialled) == 1
