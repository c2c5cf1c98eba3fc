"""Recording call results (issue 12, item 2): every outcome a dialer reports is recorded from the state the
attempt is in, a voicemail is retried like no answer, and one result that cannot be recorded never voids
the others of its batch. Real SQLite files, the SIMULATED dialer; no audio."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import outbound
from outbound import RetryPolicy, Schedule, import_contacts, parse_windows
from outbound.runner import (
    CallRequest,
    DialOutcome,
    SimulatedCallee,
    SimulatedDialer,
    run_due,
    run_until_done,
)
from outbound.schema import IN_CALL_STATES, OUTCOMES, TRANSITIONS, Alert, Attempt, CampaignContact

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 9, 21, 10, 0, tzinfo=SEOUL)  # a Monday, inside the window
PEOPLE = "이름,전화번호\n김순자,010-1111-0001\n이영희,010-1111-0002\n박철수,010-1111-0003\n"
VOICEMAIL, FINE_1, FINE_2 = "+821011110002", "+821011110001", "+821011110003"
FINE = SimulatedCallee(["answered"], ["1", "1", "1", "1", "1"])


def campaign(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'recording.db'}"
    outbound.upgrade(url)
    factory = outbound.session_factory(outbound.make_engine(url))
    with factory.begin() as s:
        created = outbound.create_campaign(
            s,
            name="안심콜",
            kind="welfare_check",
            status="running",
            schedule=Schedule(
                start_date=date(2026, 9, 21),
                end_date=date(2026, 10, 30),
                windows=parse_windows("09:00-18:00"),
            ),
            policy=RetryPolicy(max_attempts=3, delays=(timedelta(minutes=30),)),
        )
        outbound.add_contacts(s, created, import_contacts(PEOPLE.encode()).contacts)
        outbound.schedule_first_attempts(s, created, NOW)
    return factory


def by_phone(factory) -> dict[str, list[Attempt]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[Attempt]] = {}
    with factory() as s:
        for a in s.scalars(select(Attempt).order_by(Attempt.attempt_number)):
            out.setdefault(a.contact.phone_e164, []).append(a)
    return out


def test_every_outcome_a_dialer_reports_ends_a_call_in_any_state() -> None:
    for state in ("dialing", "ringing"):  # the worker records from dialing; a SIP step may add ringing
        assert set(OUTCOMES) <= TRANSITIONS[state], state
    assert {"failed", "voicemail"} <= TRANSITIONS["answered"]  # a machine is heard after the pick-up
    assert all("failed" in TRANSITIONS[s] for s in IN_CALL_STATES)  # a call can always end as unknown


def test_voicemail_in_a_batch_is_recorded_with_the_others_and_retried(tmp_path: Path) -> None:
    factory = campaign(tmp_path)
    dialer = SimulatedDialer({VOICEMAIL: SimulatedCallee(["voicemail"])}, default=FINE)
    first = run_due(factory, dialer, "w1", NOW)
    assert first.claimed == 3 and first.outcomes == {"answered": 2, "voicemail": 1}
    assert first.errors == first.unrecorded == 0 and first.retries == 1 and first.alerts == 0
    attempts = by_phone(factory)
    machine = attempts[VOICEMAIL][0]
    assert (machine.state, machine.outcome, machine.sip_status) == ("completed", "voicemail", 200)
    retry = attempts[VOICEMAIL][1]  # not the person reached: retried like no answer
    assert retry.state == "scheduled" and retry.due_at == NOW + timedelta(minutes=30)
    for phone in (FINE_1, FINE_2):
        (answered,) = attempts[phone]
        assert answered.outcome == "answered" and answered.answers["overall"] == "fine"
        assert answered.error is None

    run_until_done(factory, dialer, "w1", NOW)
    assert len(dialer.dialled) == len(set(dialer.dialled)) == 3 + 2
    attempts = by_phone(factory)
    assert [a.outcome for a in attempts[VOICEMAIL]] == ["voicemail"] * 3  # max_attempts, then no more
    with factory() as s:
        (alert,) = s.scalars(select(Alert)).all()
        assert alert.kind == "unreachable" and alert.attempt_id == attempts[VOICEMAIL][2].id
        assert "음성사서함" in alert.message
        statuses = sorted(s.scalars(select(CampaignContact.status)))
        assert statuses == ["done", "done", "unreachable"]
        assert not any("lease" in (a.error or "") for a in s.scalars(select(Attempt)))


class OneBadResult:
    """The SIMULATED dialer, except that one number's result is something the store cannot take."""

    instant = True
    simulated = True

    def __init__(self, phone: str, bad: DialOutcome):
        self.inner = SimulatedDialer(default=FINE)
        self.phone, self.bad = phone, bad

    def dial(self, request: CallRequest) -> DialOutcome:
        result = self.inner.dial(request)
        return self.bad if request.phone_e164 == self.phone else result


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (DialOutcome("hung_up", 200), "'hung_up' not recorded"),  # an outcome the state machine lacks
        (  # a value the database cannot store: the batch's transaction fails as a whole
            DialOutcome("answered", 200, conversation={"steps": {}, "odd": object()}),
            "'answered' could not be recorded (StatementError)",
        ),
    ],
    ids=["unknown-outcome", "unstorable-value"],
)
def test_a_result_that_cannot_be_recorded_never_voids_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, bad: DialOutcome, why: str
) -> None:
    factory = campaign(tmp_path)
    with caplog.at_level(logging.INFO, logger="outbound"):
        report = run_due(factory, OneBadResult(VOICEMAIL, bad), "w1", NOW)
    assert report.claimed == 3 and report.outcomes == {"answered": 2, "failed": 1}
    assert report.errors == 1 and report.unrecorded == 1 and report.retries == 1
    attempts = by_phone(factory)
    for phone in (FINE_1, FINE_2):  # stored as they came
        (answered,) = attempts[phone]
        assert answered.state == "completed" and answered.outcome == "answered"
        assert answered.answers["overall"] == "fine" and answered.keypad == "11111"
    unknown, retry = attempts[VOICEMAIL]
    assert (unknown.state, unknown.outcome) == ("completed", "failed")
    assert why in unknown.error and "result unknown" in unknown.error
    assert retry.state == "scheduled" and retry.attempt_number == 2  # the campaign's policy applies
    with factory() as s:
        assert s.get(CampaignContact, unknown.campaign_contact_id).status == "pending"
        assert not s.scalars(select(Alert)).all()  # no false "unreachable"
    logged = caplog.text
    assert f"attempt {unknown.id}: result" in logged and "closing it as failed" in logged
    for personal in ("김순자", "이영희", "1111-000", "+8210", "01011110"):
        assert personal not in logged


def test_cli_run_with_a_voicemail_callee_prints_counts(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    callees = tmp_path / "callees.yaml"
    callees.write_text(
        "default: {replies: ['1', '1', '1', '1', '1']}\n"
        "callees:\n  '010-1111-0002': {outcomes: [voicemail, answered]}\n",
        encoding="utf-8",
    )

    def voicebot(*args: str) -> dict:
        proc = subprocess.run(
            [sys.executable, "-m", "voicebot.cli", *args, "--db", db, "--json"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        return json.loads(proc.stdout)

    all_day = ("--windows", "00:00-24:00", "--weekdays", "월,화,수,목,금,토,일", "--call-on-holidays")
    created = voicebot(
        "campaign", "create", "--kind", "welfare_check", "--name", "음성사서함", "--contacts", str(people),
        "--retry-delay-min", "0", *all_day,
    )  # fmt: skip
    ran = voicebot(
        "campaign", "run", str(created["campaign_id"]), "--dialer", "simulated", "--callees", str(callees),
        "--until-done", "--clock", "simulated",
    )  # fmt: skip
    assert ran["status"] == "completed" and ran["outcomes"] == {"answered": 3, "voicemail": 1}
    assert ran["errors"] == 0 and ran["unrecorded"] == 0 and ran["alerts"] == 0


def test_a_simulated_call_whose_result_is_lost_is_still_marked_simulated(tmp_path: Path) -> None:
    from outbound import store

    factory = campaign(tmp_path)
    with factory.begin() as s:
        ids = [a.id for a in store.claim_due(s, "w1", limit=3, lease_s=60, now=NOW)]
        store.start_dialing(s, ids, "w1", NOW, simulated=True)
    with factory.begin() as s:  # the worker died in the calls: another one finds the leases expired
        assert store.recover_expired(s, NOW + timedelta(minutes=5)) == 3
    with factory() as s:
        lost = s.scalars(select(Attempt).where(Attempt.id.in_(ids))).all()
        assert {(a.outcome, a.simulated) for a in lost} == {("failed", True)}
        assert all("result unknown" in (a.error or "") for a in lost)


def test_alerts_and_results_of_a_simulated_run_say_so(tmp_path: Path) -> None:
    from outbound import cli_text, service
    from outbound.results import campaign_summary

    factory = campaign(tmp_path)
    run_until_done(
        factory, SimulatedDialer({VOICEMAIL: SimulatedCallee(["voicemail"])}, default=FINE), "w1", NOW
    )
    with factory() as s:
        (alert,) = s.scalars(select(Alert)).all()
        shown = service.alert_dict(alert, s)
        assert shown["simulated"] is True
        assert cli_text.alerts([shown]).splitlines()[1].split("  ")[-1].startswith("[모의] ")
        campaign_id = alert.campaign_id
    with factory() as s:
        text = cli_text.results(
            {
                "summary": campaign_summary(s, campaign_id),
                "attempts": [],
                "attempts_total": 0,
            }
        )
    assert "모의 발신: 통화 시도 5건은 실제로 걸지 않은 모의 통화입니다." in text


def test_a_call_longer_than_the_lease_keeps_its_result(tmp_path: Path) -> None:
    """The worker renews the leases of calls in progress: another worker's recovery, running all the time,
    never closes a long call as "result unknown" (which would lose the answers and call the person again)."""
    import threading
    import time

    from outbound import store

    factory = campaign(tmp_path)
    start = time.monotonic()

    def clock() -> datetime:
        return NOW + timedelta(seconds=time.monotonic() - start)

    stop = threading.Event()
    recovered: list[int] = []

    def other_worker() -> None:
        while not stop.is_set():
            with factory.begin() as s:
                recovered.append(store.recover_expired(s, clock()))
            time.sleep(0.1)

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        dialer = SimulatedDialer(default=FINE, call_seconds=3.0)  # each call outlasts the 1.2 s lease
        report = run_due(factory, dialer, "w1", NOW, lease_s=1.2, clock=clock)
    finally:
        stop.set()
        thread.join()
    assert sum(recovered) == 0 and report.outcomes == {"answered": 3} and report.unrecorded == 0
    with factory() as s:
        attempts = s.scalars(select(Attempt)).all()
        assert [(a.outcome, a.error) for a in attempts] == [("answered", None)] * 3
        assert all(a.answers["overall"] == "fine" for a in attempts)
