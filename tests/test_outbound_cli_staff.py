"""The outbound CLI as staff read it (issue 12, item 9): the saved note after an acknowledgement, the worker
saying why it waits, ``--db`` as a plain file path and clear errors for a bad one, and Korean tables for
``campaign list``, ``campaign results`` and ``alerts`` without ``--json``. Real SQLite files; commands run in
process with a fixed clock, except those that need a process of their own."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import outbound
from outbound.runner import SimulatedDialer, run_until_done
from outbound.scheduler import local_today
from outbound.service import Conflict
from outbound.worker import Waiting, Worker, WorkerConfig
from voicebot.cli import build_parser

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 23, 10, 30, tzinfo=SEOUL)  # inside the default windows
PEOPLE = "이름,전화번호\n김순자,010-1111-0001\n이영희,010-1111-0002\n"


def cli(capsys: pytest.CaptureFixture[str], *argv: str, now: datetime = MONDAY) -> str:
    args = build_parser().parse_args(list(argv))
    args.now = lambda: now.astimezone(UTC)
    assert args.func(args) == 0
    return capsys.readouterr().out


def voicebot(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voicebot.cli", *argv], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture()
def finished(tmp_path: Path, capsys) -> tuple[str, int]:
    """A campaign run to its end: 김순자 fine, 이영희 never answers (one attempt: an unreachable alert)."""
    db = str(tmp_path / "staff.db")  # a plain path: a SQLite file
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    created = json.loads(
        cli(
            capsys, "campaign", "create", "--kind", "welfare_check", "--name", "11월 안심콜",
            "--contacts", str(people), "--max-attempts", "1", "--start", "2026-11-23", "--db", db, "--json",
        )
    )  # fmt: skip
    assert created["booked"] == 2 and Path(db).is_file()
    callees = tmp_path / "callees.yaml"
    callees.write_text(
        "default: {replies: ['1', '1', '1', '1', '1']}\ncallees:\n  '010-1111-0002': {outcomes: [no_answer]}\n",
        encoding="utf-8",
    )
    factory = outbound.session_factory(outbound.make_engine(db))  # a plain path here too
    run_until_done(factory, SimulatedDialer.from_file(callees), "w1", MONDAY)
    assert (
        json.loads(cli(capsys, "campaign", "show", str(created["campaign_id"]), "--db", db, "--json"))[
            "status"
        ]
        == "completed"
    )
    return db, created["campaign_id"]


def test_ack_prints_the_saved_note(finished: tuple[str, int], capsys) -> None:
    db, _ = finished
    (alert,) = json.loads(cli(capsys, "alerts", "--open", "--db", db, "--json"))
    acked = json.loads(
        cli(
            capsys,
            "alerts",
            "--ack",
            str(alert["id"]),
            "--note",
            "내일 방문 예정",
            "--user",
            "복지사1",
            "--db",
            db,
            "--json",
        )
    )
    assert acked["note"] == "내일 방문 예정" and acked["acknowledged_by"] == "복지사1"
    assert "*" in acked["contact"]["phone"] and acked["contact"]["name"] != "이영희"  # still masked
    # A second acknowledgement is refused and the first note kept (issue 17: nothing silently overwritten).
    with pytest.raises(Conflict, match="처음 메모는 그대로 둡니다"):
        cli(capsys, "alerts", "--ack", str(alert["id"]), "--note", "방문 완료", "--db", db)
    listed = json.loads(cli(capsys, "alerts", "--unmasked", "--db", db, "--json"))
    (kept,) = [a for a in listed if a["id"] == alert["id"]]
    assert kept["note"] == "내일 방문 예정" and kept["acknowledged_by"] == "복지사1"


def test_list_results_and_alerts_print_korean_tables(finished: tuple[str, int], capsys) -> None:
    db, cid = finished
    listed = cli(capsys, "campaign", "list", "--db", db)
    header, row = listed.splitlines()
    assert header.startswith("ID  상태") and "대상자  완료  연락 안 됨  예약 통화" in header
    assert row.split()[:2] == [str(cid), "완료"]
    assert "안심콜  11월 안심콜  2026-11-23 ~ 2026-12-06" in row
    results = cli(capsys, "campaign", "results", str(cid), "--db", db)
    assert "대상자 2명 · 연결 1명 (50.0%) · 연락 안 됨 1명" in results
    assert "통화 결과: 통화 연결 1, 받지 않음 1" in results and "안부: 괜찮음 1" in results
    assert "2026-11-23(월) 10:30" in results  # Seoul time
    assert "010-1111-0001" not in results and "김순자" not in results  # masked unless --unmasked
    alerts = cli(capsys, "alerts", "--db", db)
    assert "연락 안 됨" in alerts and "미확인" in alerts and "1번 걸었지만" in alerts
    assert "이영희" not in alerts
    for text in (listed, results, alerts):
        assert not text.lstrip().startswith(("{", "["))
    # --json keeps the JSON documents
    assert json.loads(cli(capsys, "campaign", "list", "--db", db, "--json"))[0]["id"] == cid
    assert (
        json.loads(cli(capsys, "campaign", "results", str(cid), "--db", db, "--json"))["attempts_total"] == 2
    )
    assert json.loads(cli(capsys, "alerts", "--db", db, "--json"))[0]["kind"] == "unreachable"


def test_bad_database_urls_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    for url, words in (
        ("foo://nowhere", "주소를 이해할 수 없습니다"),
        ("postgresql://staff:s3cret@127.0.0.1:1/voicebot", "127.0.0.1"),
        (str(tmp_path / "a-file" / "x.db"), "a-file"),  # its folder cannot be made
        (str(tmp_path), "unable to open database file"),  # a folder, not a file
    ):
        proc = voicebot("campaign", "list", "--db", url)
        assert proc.returncode == 1, (url, proc.stderr)
        assert proc.stderr.startswith("error: 데이터베이스를 열 수 없습니다") and words in proc.stderr, (
            proc.stderr
        )
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
        assert "s3cret" not in proc.stderr


def test_until_done_says_when_the_next_call_is_due(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "wait.db")
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    start = local_today(datetime.now(UTC)) + timedelta(days=3)  # nothing is due for days
    created = json.loads(
        cli(
            capsys, "campaign", "create", "--kind", "welfare_check", "--name", "다음 주", "--contacts", str(people),
            "--start", start.isoformat(), "--weekdays", "월,화,수,목,금,토,일", "--call-on-holidays",
            "--db", db, "--json", now=datetime.now(UTC),
        )
    )  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicebot.cli", "campaign", "run", str(created["campaign_id"]), "--dialer",
         "simulated", "--until-done", "--db", db],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    watchdog = threading.Timer(30, proc.kill)  # the old worker waited without a word
    watchdog.start()
    try:
        line = proc.stderr.readline()
        proc.send_signal(2)  # SIGINT: stop waiting
        out, _ = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
    assert line.startswith("대기 중: 다음 통화는 ") and f"{start.isoformat()}(" in line, line
    assert "10:00 (Asia/Seoul)" in line and "통화 시간이 아닙니다" in line
    assert proc.returncode == 0 and json.loads(out)["passes"] >= 1


def test_worker_says_why_it_waits_once_per_reason(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "reasons.db")
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    saturday_night = datetime(2026, 11, 28, 22, 0, tzinfo=SEOUL)
    created = json.loads(
        cli(capsys, "campaign", "create", "--kind", "welfare_check", "--name", "주중", "--contacts", str(people),
            "--db", db, "--json", now=saturday_night)
    )  # fmt: skip
    factory = outbound.session_factory(outbound.make_engine(f"sqlite:///{db}"))
    config = WorkerConfig("w1", campaign_ids=(created["campaign_id"],), idle_wait_s=0.01)

    def reasons(now: datetime) -> list[Waiting]:
        """What a worker says during a second of idle passes (dozens of them) at ``now``."""
        heard: list[Waiting] = []
        stop = threading.Event()
        timer = threading.Timer(1.0, stop.set)
        timer.start()
        try:
            Worker(factory, SimulatedDialer(), config, clock=lambda: now, on_wait=heard.append).run(stop)
        finally:
            timer.cancel()
        return heard

    (waiting,) = reasons(saturday_night)  # said once, not at every pass
    assert waiting.reason == "window_closed"
    assert waiting.next_due == datetime(2026, 11, 30, 10, 0, tzinfo=SEOUL)
    assert waiting.message.startswith("다음 통화는 2026-11-30(월) 10:00 (Asia/Seoul)입니다")
    assert "통화 요일 월·화·수·목·금, 시간 10:00-12:00, 14:00-17:00" in waiting.message

    cli(capsys, "campaign", "pause", str(created["campaign_id"]), "--db", db)
    (paused,) = reasons(MONDAY)
    assert paused.reason == "paused" and "일시정지" in paused.message


def test_readme_documents_simulated_runs_and_its_callees_example_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Simulated runs", 1)[1].split("\n## ", 1)[0]
    assert "--clock simulated" in section and "--callees" in section and "voicemail" in section
    example = tmp_path / "callees.yaml"
    example.write_text(
        "\n".join(line[4:] for line in section.splitlines() if line.startswith("    ")), encoding="utf-8"
    )
    dialer = SimulatedDialer.from_file(example)
    assert dialer.callees["+821012345678"].outcomes == ["busy", "answered"]
    assert dialer.callees["+821012345678"].replies == ["잘 먹었어요", "1", None, "가슴이 아파요"]
    assert dialer.callees["+8221234567"].outcomes == ["voicemail"]
    assert dialer.default is not None and dialer.default.replies == ["1"] * 5


def test_campaign_run_gets_its_sip_dialer_from_the_voicebot_cli(tmp_path: Path, capsys) -> None:
    """``outbound`` never imports ``voicebot``: ``--dialer sip`` goes through the opener the CLI handed in."""
    from voicebot.cli import _open_sip_dialer

    db = str(tmp_path / "sip.db")
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    created = json.loads(
        cli(capsys, "campaign", "create", "--kind", "welfare_check", "--name", "안심콜",
            "--contacts", str(people), "--db", db, "--json")
    )  # fmt: skip
    run_args = ["campaign", "run", str(created["campaign_id"]), "--db", db, "--dialer", "sip"]
    assert build_parser().parse_args(run_args).open_sip_dialer is _open_sip_dialer
    run = voicebot(*run_args, "--uri-template", "sip:x@127.0.0.1")
    assert run.returncode == 1 and "{phone}" in run.stderr, run.stderr[-2000:]


def test_commands_that_change_or_reveal_data_are_in_the_audit_log(finished: tuple[str, int], capsys) -> None:
    """Issue 17: the CLI is audited as the API is, under the operating-system user who ran it; views that
    stay masked leave no event, and no event holds a name or number."""
    import getpass

    from outbound import audit

    db, campaign = finished
    (alert,) = json.loads(cli(capsys, "alerts", "--open", "--db", db, "--json"))
    cli(capsys, "alerts", "--ack", str(alert["id"]), "--note", "내일 방문", "--db", db, "--json")
    cli(capsys, "campaign", "results", str(campaign), "--db", db, "--json")  # masked: not an event
    cli(capsys, "campaign", "results", str(campaign), "--unmasked", "--db", db, "--json")
    cli(capsys, "campaign", "export", str(campaign), "--db", db)
    cli(capsys, "campaign", "export", str(campaign), "--unmasked", "--db", db)
    token = json.loads(
        cli(capsys, "token", "create", "--name", "상담사", "--role", "operator", "--db", db, "--json")
    )
    (listed,) = json.loads(cli(capsys, "token", "list", "--db", db, "--json"))
    cli(capsys, "token", "revoke", "--id", str(listed["id"]), "--db", db, "--json")
    factory = outbound.session_factory(outbound.make_engine(db))
    with factory() as s:
        events = audit.list_events(s, audit.AuditFilter(), limit=100)
    got = [(e.action, e.target_kind, e.target_id, e.detail) for e in reversed(events)]
    c = str(campaign)
    assert got == [
        ("campaign.created", "campaign", c, ""),
        ("contacts.imported", "campaign", c, "added=2 rejected=0"),
        ("campaign.started", "campaign", c, ""),
        ("alert.acknowledged", "alert", str(alert["id"]), ""),
        ("attempts.transcripts.viewed", "attempts", None, f"rows=2 campaign={c}"),
        ("campaign.exported", "campaign", c, ""),
        ("campaign.transcripts.exported", "campaign", c, ""),
        ("token.created", "token", str(listed["id"]), "role=operator"),
        ("token.revoked", "token", str(listed["id"]), ""),
    ]
    assert {(e.actor, e.actor_role, e.token_id) for e in events} == {
        (f"명령줄 ({getpass.getuser()})", "admin", None)
    }
    assert token["token"] not in repr(got)
    assert {e.at.replace(tzinfo=UTC) for e in events} == {MONDAY.astimezone(UTC)}  # the command clock
