"""Typed call outcomes (issue 16): who answered is stored, shown and counted. A person is "human" (or
"answered" when nobody could tell who), a machine is voicemail / carrier_message / screened and never
raises a welfare alert, and "unreachable after N tries" counts only calls that reached nobody. Real SQLite
files (and PostgreSQL for the migration), the SIMULATED dialer or a fixed one; no audio."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import select

import outbound
from outbound import RetryPolicy, Schedule, cli_text, import_contacts, parse_windows, service
from outbound.results import EXPORT_COLUMNS, campaign_summary, export_attempts_csv
from outbound.runner import (
    CallRequest,
    DialOutcome,
    SimulatedCallee,
    SimulatedDialer,
    run_due,
    run_until_done,
)
from outbound.scheduler import RETRYABLE
from outbound.schema import (
    ATTEMPT_STATES,
    MACHINE_OUTCOMES,
    NOT_REACHED_OUTCOMES,
    OUTCOMES,
    REACHED_OUTCOMES,
    TRANSITIONS,
    Alert,
    Attempt,
    CampaignContact,
    Contact,
)

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 9, 21, 10, 0, tzinfo=SEOUL)  # a Monday, inside the window
PEOPLE = "이름,전화번호\n김순자,010-1111-0001\n이영희,010-1111-0002\n박철수,010-1111-0003\n"
KIM, LEE, PARK = "+821011110001", "+821011110002", "+821011110003"
AMD = {"outcome": "voicemail", "reason": "long_greeting", "decided_s": 2.4, "text": "김민수입니다 메시지를"}


def campaign(tmp_path: Path, kind: str = "welfare_check", max_attempts: int = 3):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'outcomes.db'}"
    outbound.upgrade(url)
    factory = outbound.session_factory(outbound.make_engine(url))
    with factory.begin() as s:
        created = outbound.create_campaign(
            s,
            name="안심콜",
            kind=kind,
            status="running",
            schedule=Schedule(
                start_date=date(2026, 9, 21),
                end_date=date(2026, 10, 30),
                windows=parse_windows("09:00-18:00"),
            ),
            policy=RetryPolicy(max_attempts=max_attempts, delays=(timedelta(minutes=30),)),
            slots={"date": "3월 5일", "place": "중구 보건소", "result": "음성"}
            if kind == "covid_notice"
            else None,
        )
        outbound.add_contacts(s, created, import_contacts(PEOPLE.encode()).contacts)
        outbound.schedule_first_attempts(s, created, NOW)
    return factory


class MachineDialer:
    """A dialer whose every call reaches a machine but (wrongly) reports a concerning conversation: the
    runner must not raise a welfare alert for it."""

    simulated = False
    instant = True

    def dial(self, request: CallRequest) -> DialOutcome:
        conversation = {
            "overall": "concern",
            "steps": {"health": {"value": "concern"}},
            "outcome": "completed",
        }
        return DialOutcome(
            "voicemail", 200, 9.0, conversation=conversation, amd={**AMD, "message_left": True}
        )


def test_outcome_groups_states_and_retries_agree():
    assert set(REACHED_OUTCOMES) | set(NOT_REACHED_OUTCOMES) == set(OUTCOMES)
    assert not set(REACHED_OUTCOMES) & set(NOT_REACHED_OUTCOMES)
    assert set(MACHINE_OUTCOMES) <= set(NOT_REACHED_OUTCOMES)
    assert RETRYABLE == set(NOT_REACHED_OUTCOMES)  # everything that reached nobody is tried again
    assert set(OUTCOMES) <= set(ATTEMPT_STATES)
    for outcome in OUTCOMES:
        assert outcome in TRANSITIONS["dialing"] and outcome in TRANSITIONS["ringing"]
        assert "completed" in TRANSITIONS[outcome]
    # picked up, then found to be a person or a machine, or gone before anyone could tell
    assert {"human", *MACHINE_OUTCOMES, "hung_up_early"} <= TRANSITIONS["answered"]
    assert not {"busy", "no_answer", "rejected"} & TRANSITIONS["answered"]
    assert all(len(o) <= 16 for o in OUTCOMES)  # attempts.outcome is String(16)


def test_a_machine_never_raises_a_welfare_alert_and_is_retried(tmp_path):
    factory = campaign(tmp_path)
    report = run_due(factory, MachineDialer(), "w1", NOW)
    assert report.outcomes == {"voicemail": 3} and report.alerts == 0 and report.retries == 3
    with factory() as s:
        assert not s.scalars(select(Alert)).all()
        first = s.scalars(select(Attempt).where(Attempt.attempt_number == 1)).all()
        assert {a.outcome for a in first} == {"voicemail"} and all(a.amd["message_left"] for a in first)
        assert {m.status for m in s.scalars(select(CampaignContact))} == {"pending"}


def test_unreachable_after_n_tries_counts_only_calls_that_reached_nobody(tmp_path):
    factory = campaign(tmp_path)
    dialer = SimulatedDialer(
        {
            KIM: SimulatedCallee(["voicemail", "no_answer", "carrier_message"]),
            LEE: SimulatedCallee(["screened", "human"], ["1", "1", "1", "1", "1"]),
            PARK: SimulatedCallee(["hung_up_early", "rejected", "busy"]),
        }
    )
    run_until_done(factory, dialer, "w1", NOW)
    with factory() as s:
        members = {m.contact.phone_e164: m for m in s.scalars(select(CampaignContact))}
        assert members[LEE].status == "done" and members[LEE].last_outcome == "human"
        assert members[KIM].status == members[PARK].status == "unreachable"
        alerts = {s.get(Contact, a.contact_id).phone_e164: a for a in s.scalars(select(Alert))}
        assert set(alerts) == {KIM, PARK} and {a.kind for a in alerts.values()} == {"unreachable"}
        kim = alerts[KIM].message
        assert kim.startswith("3번 걸었지만 본인과 통화하지 못했습니다")
        assert "음성사서함 1번" in kim and "받지 않음 1번" in kim and "통신사 안내 1번" in kim
        assert "마지막 결과: 통신사 안내" in kim
        assert "받자마자 끊음 1번" in alerts[PARK].message and "수신 거부 1번" in alerts[PARK].message
        summary = campaign_summary(s, members[KIM].campaign_id)
    assert summary["reached"] == 1 and summary["unreachable"] == 2 and summary["machines"] == 3
    assert summary["outcomes"]["human"] == 1 and "answered" not in summary["outcomes"]


def test_the_simulated_answered_outcome_still_counts_as_reached(tmp_path):
    factory = campaign(tmp_path)
    fine = SimulatedCallee(["answered"], ["1", "1", "1", "1", "1"])
    run_due(factory, SimulatedDialer(default=fine), "w1", NOW)
    with factory() as s:
        assert {m.status for m in s.scalars(select(CampaignContact))} == {"done"}
        assert campaign_summary(s, 1)["reached"] == 3


def test_outcomes_and_the_detection_are_shown_masked_exported_and_filtered(tmp_path):
    factory = campaign(tmp_path, "covid_notice")
    run_due(factory, MachineDialer(), "w1", NOW)
    with factory() as s:
        total, attempts = service.list_attempts(s, service.AttemptFilter(campaign_id=1, outcome="voicemail"))
        assert total == 3
        masked = service.attempt_dict(attempts[0])
        assert masked["outcome"] == "voicemail" and masked["amd"]["reason"] == "long_greeting"
        assert masked["amd"]["message_left"] is True and "text" not in masked["amd"]  # words: unmasked only
        assert service.attempt_dict(attempts[0], masked=False)["amd"]["text"] == AMD["text"]
        with pytest.raises(service.Invalid):
            service.list_attempts(s, service.AttemptFilter(campaign_id=1, outcome="machine"))
        text = export_attempts_csv(s, 1)
        summary = campaign_summary(s, 1)
    header, first = text.splitlines()[:2]
    assert header.split(",") == list(EXPORT_COLUMNS)
    row = dict(zip(EXPORT_COLUMNS, first.split(","), strict=True))
    assert row["outcome"] == "voicemail" and row["amd_outcome"] == "voicemail"
    assert row["amd_reason"] == "long_greeting" and row["amd_decision_s"] == "2.4"
    assert row["voicemail_message"] == "true" and row["overall"] == "concern"  # as the dialer sent it
    assert summary["voicemail_messages"] == 3 and summary["reached"] == 0 and summary["welfare"] == {}
    shown = cli_text.results({"summary": summary, "attempts": [], "attempts_total": 0})
    assert "음성사서함 3" in shown and "기계 응답" in shown and "음성 메시지 남김 3건" in shown
    assert set(cli_text.OUTCOME) == set(OUTCOMES)


def _alerts_keep_their_attempt(url: str) -> None:
    """A database at 0005 with an alert about an attempt: after 0006 the alert still names its attempt
    (SQLite copies the attempts table to change its CHECK; the copy must not null the alerts' link), the
    new outcomes are allowed, and a downgrade maps them back."""
    from alembic import command

    from outbound.store import alembic_config

    outbound.upgrade(url, "0005_chat")
    engine = outbound.make_engine(url)
    with engine.begin() as c:
        c.execute(
            sa.text(
                "insert into campaigns (id, name, kind, status, start_date, end_date, weekdays, windows,"
                " recurrence_every_weeks, timezone, skip_holidays, max_attempts, retry_delay_s, channel_limit,"
                " pace_per_min, created_at, updated_at) values (1, 'c', 'welfare_check', 'running',"
                " '2026-09-21', '2026-10-30', '0,1,2,3,4', '09:00-18:00', 1, 'Asia/Seoul', true, 3, 1800, 4, 30,"
                " '2026-09-01', '2026-09-01')"
            )
        )
        c.execute(
            sa.text(
                "insert into contacts (id, phone_e164, name, tags, preferred_times, created_at)"
                " values (1, '+821011110001', '김순자', '[]', '', '2026-09-01')"
            )
        )
        c.execute(
            sa.text(
                "insert into campaign_contacts (id, campaign_id, contact_id, status, attempts_made, notes)"
                " values (1, 1, 1, 'done', 1, '')"
            )
        )
        c.execute(
            sa.text(
                "insert into attempts (id, campaign_id, contact_id, campaign_contact_id, attempt_number, state,"
                " outcome, due_at, created_at, simulated) values (7, 1, 1, 1, 1, 'completed', 'answered',"
                " '2026-09-21', '2026-09-21', false)"
            )
        )
        c.execute(
            sa.text(
                "insert into alerts (id, kind, severity, campaign_id, contact_id, attempt_id, message,"
                " created_at) values (3, 'welfare_concern', 'warning', 1, 1, 7, '우려', '2026-09-21')"
            )
        )
    engine.dispose()
    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    with engine.begin() as c:
        assert c.execute(sa.text("select id, attempt_id from alerts")).all() == [(3, 7)]
        assert c.execute(sa.text("select outcome, amd from attempts")).all() == [("answered", None)]
        c.execute(sa.text("update attempts set state = 'carrier_message' where id = 7"))
        c.execute(sa.text("update attempts set state = 'completed', outcome = 'human' where id = 7"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as c:
        c.execute(sa.text("update attempts set state = 'machine' where id = 7"))
    engine.dispose()
    command.downgrade(alembic_config(url), "0005_chat")
    engine = outbound.make_engine(url)
    with engine.begin() as c:
        assert c.execute(sa.text("select outcome from attempts")).all() == [("answered",)]
        assert c.execute(sa.text("select id, attempt_id from alerts")).all() == [(3, 7)]
    engine.dispose()


def test_migration_0006_keeps_alerts_on_sqlite(tmp_path):
    _alerts_keep_their_attempt(f"sqlite:///{tmp_path / 'm.db'}")


def test_migration_0006_keeps_alerts_on_postgresql(pg_url):
    _alerts_keep_their_attempt(pg_url)
