"""`voicebot campaign …`, `voicebot alerts` and `voicebot token` as staff run them, on a real SQLite file,
with the SIMULATED dialer (tests/test_outbound_sip.py dials real SIP peers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data" / "outbound"
ALL_DAY = ["--windows", "00:00-24:00", "--weekdays", "월,화,수,목,금,토,일", "--call-on-holidays"]


def run(*args: str, db: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "voicebot.cli", *args, "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_create_run_results_alerts_and_export(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    callees = tmp_path / "callees.yaml"
    callees.write_text(
        "default: {replies: ['1', '1', '1', '1', '1']}\n"
        "callees:\n"
        "  '010-1234-5678': {replies: ['잘 먹었어요', '가슴이 아파요']}\n"
        "  '02-123-4567': {outcomes: [busy, no_answer]}\n",
        encoding="utf-8",
    )
    created = json.loads(
        run(
            "campaign", "create", "--kind", "welfare_check", "--name", "안심콜 시험",
            "--contacts", str(DATA / "contacts_cp949.csv"), "--max-attempts", "2", "--retry-delay-min", "10",
            *ALL_DAY, "--json", db=db,
        ).stdout
    )  # fmt: skip
    assert (
        created["status"] == "running"
        and created["imported"] >= 2
        and created["booked"] == created["imported"]
    )
    rows = {r["row"]: r["code"] for r in created["rejected"]}
    assert rows[4] == "missing_name" and rows[5] == "invalid_phone"
    cid = str(created["campaign_id"])

    ran = json.loads(
        run(
            "campaign", "run", cid, "--dialer", "simulated", "--callees", str(callees),
            "--until-done", "--clock", "simulated", "--json", db=db,
        ).stdout
    )  # fmt: skip
    assert ran["status"] == "completed" and ran["outcomes"]["busy"] == 1 and ran["outcomes"]["no_answer"] == 1

    results = json.loads(run("campaign", "results", cid, "--json", db=db).stdout)
    assert results["summary"]["emergencies"] == 1 and results["summary"]["unreachable"] == 1
    assert all("*" in a["contact"]["phone"] for a in results["attempts"])
    assert all(a["transcript"] is None for a in results["attempts"])

    alerts = json.loads(run("alerts", "--open", "--json", db=db).stdout)
    assert sorted(a["kind"] for a in alerts) == ["emergency", "unreachable"]
    assert alerts[0]["severity"] == "critical"  # the emergency comes first
    acked = json.loads(
        run(
            "alerts",
            "--ack",
            str(alerts[0]["id"]),
            "--note",
            "119 연계 확인",
            "--user",
            "복지사1",
            "--json",
            db=db,
        ).stdout
    )
    assert acked["acknowledged_by"] == "복지사1"
    assert len(json.loads(run("alerts", "--open", "--json", db=db).stdout)) == 1

    out = tmp_path / "results.csv"
    run("campaign", "export", cid, "--out", str(out), db=db)
    text = out.read_text(encoding="utf-8-sig")
    assert text.startswith("attempt_id,") and "010-1234-5678" not in text


def test_bad_input_is_a_clear_error_and_nothing_else_changes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bad.db'}"
    good = json.loads(
        run(
            "campaign", "create", "--kind", "welfare_check", "--name", "정상", "--json", *ALL_DAY, db=db
        ).stdout
    )
    for args, words in (
        (("campaign", "show", "999"), "999"),
        (("campaign", "run", "999", "--dialer", "simulated"), "999"),
        (
            ("campaign", "create", "--kind", "welfare_check", "--name", "x", "--windows", "18:00-09:00"),
            "통화 시간대",
        ),
        (
            (
                "campaign",
                "create",
                "--kind",
                "welfare_check",
                "--name",
                "x",
                "--script",
                str(DATA / "bad_script.yaml"),
            ),
            "answr",
        ),
        (
            (
                "campaign",
                "create",
                "--kind",
                "covid_notice",
                "--name",
                "x",
                "--contacts",
                str(DATA / "contacts_cp949.csv"),
            ),
            "place",
        ),
        (("campaign", "import", str(good["campaign_id"]), str(tmp_path / "missing.csv")), "missing.csv"),
        (("alerts", "--ack", "42", "--note", "x"), "42"),
    ):
        proc = run(*args, db=db, ok=False)
        assert proc.returncode == 1, (args, proc.stderr)
        assert proc.stderr.startswith("error: ") and words in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    campaigns = json.loads(run("campaign", "list", "--json", db=db).stdout)
    assert [c["name"] for c in campaigns] == ["정상"]  # the refused creations left nothing behind


def test_tokens(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    made = json.loads(
        run("token", "create", "--name", "복지사", "--role", "operator", "--json", db=db).stdout
    )
    assert made["token"].startswith("vb_")
    listed = json.loads(run("token", "list", "--json", db=db).stdout)
    assert listed[0]["role"] == "operator" and "token" not in listed[0]


def test_second_campaign_from_a_csv_with_the_same_people_starts_with_its_values(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    import outbound
    from outbound.runner import SimulatedCallee, SimulatedDialer, run_due
    from outbound.schema import CampaignContact
    from outbound.script import Conversation

    db = f"sqlite:///{tmp_path / 'two.db'}"
    welfare_csv, covid_csv, fixed_csv = (tmp_path / n for n in ("welfare.csv", "covid.csv", "fixed.csv"))
    welfare_csv.write_text("이름,전화번호,메모\n김순자,010-3333-0001,당뇨 관리\n이영희,010-3333-0002,\n")
    covid_csv.write_text(
        "이름,전화번호,메모\n"
        "김순자,010-3333-0001,date=11월 25일; place=중구 보건소; result=음성\n"
        "이영희,010-3333-0002,date=11월 26일; place=종로구 보건소; result=음성\n"
    )
    fixed_csv.write_text("이름,전화번호,메모\n이영희,010-3333-0002,place=종로구 보건소 별관\n")
    create = ("campaign", "create", "--json", *ALL_DAY)
    welfare = json.loads(
        run(
            *create, "--kind", "welfare_check", "--name", "안심콜", "--contacts", str(welfare_csv), db=db
        ).stdout
    )
    assert welfare["status"] == "running" and welfare["booked"] == 2
    covid = json.loads(
        run(
            *create, "--kind", "covid_notice", "--name", "검사 결과", "--contacts", str(covid_csv), db=db
        ).stdout
    )
    assert covid["status"] == "running" and covid["booked"] == 2
    fixed = json.loads(
        run("campaign", "import", str(covid["campaign_id"]), str(fixed_csv), "--json", db=db).stdout
    )
    assert fixed["updated"] == 1 and fixed["updated_rows"][0]["changed"] == ["place", "notes"]

    engine = outbound.make_engine(db)
    factory = outbound.session_factory(engine)
    said: dict[str, str] = {}

    class Rendering(SimulatedDialer):
        def dial(self, request):  # type: ignore[no-untyped-def]
            conv = Conversation(request.script, request.slots)
            conv.start()
            said[request.phone_e164] = conv.respond(digit="1")
            return super().dial(request)

    dialer = Rendering(default=SimulatedCallee(replies=["1"] * 8))
    soon = datetime.now(UTC) + timedelta(minutes=1)
    report = run_due(factory, dialer, "w1", soon, limit=10, campaign_ids=[covid["campaign_id"]])
    assert report.claimed == 2 and report.errors == 0
    assert "11월 25일에 중구 보건소에서" in said["+821033330001"]
    assert "11월 26일에 종로구 보건소 별관에서" in said["+821033330002"]
    with factory() as s:
        kept = s.scalars(
            select(CampaignContact)
            .where(CampaignContact.campaign_id == welfare["campaign_id"])
            .order_by(CampaignContact.id)
        ).all()
        assert [(m.notes, m.slots) for m in kept] == [("당뇨 관리", None), ("", None)]
    engine.dispose()
