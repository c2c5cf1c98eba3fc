"""Calendar dates in Asia/Seoul and campaigns that book no call (issue 12, item 6), through the CLI (in
process, with a fixed clock in ``args.now``) and the REST API (``make_app(clock=…)``). Real SQLite files."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import outbound
from outbound import service
from outbound.api import make_app
from outbound.scheduler import local_today
from outbound.schema import Attempt
from voicebot.cli import build_parser

SEOUL = ZoneInfo("Asia/Seoul")
# Tuesday 00:30 in Seoul is still Monday (15:30) in UTC: the dates differ.
LATE = datetime(2026, 12, 8, 0, 30, tzinfo=SEOUL)
PEOPLE = "이름,전화번호\n김순자,010-1111-0001\n이영희,010-1111-0002\n"


def cli(capsys: pytest.CaptureFixture[str], *argv: str, now: datetime = LATE) -> dict:
    args = build_parser().parse_args([*argv, "--json"])
    args.now = lambda: now.astimezone(UTC)  # the clock the commands read (UTC, as the real one)
    assert args.func(args) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture()
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    return path


def test_today_is_the_seoul_date() -> None:
    assert LATE.astimezone(UTC).date() == date(2026, 12, 7)
    assert local_today(LATE.astimezone(UTC)) == date(2026, 12, 8)


def test_default_start_date_is_the_seoul_date(tmp_path: Path, people: Path, capsys) -> None:
    db = str(tmp_path / "kst.db")
    created = cli(
        capsys, "campaign", "create", "--kind", "welfare_check", "--name", "하루", "--contacts", str(people),
        "--days", "1", "--db", db,
    )  # fmt: skip
    assert created["status"] == "running" and created["booked"] == 2 and created["notice"] is None
    shown = cli(capsys, "campaign", "show", str(created["campaign_id"]), "--db", db)
    assert shown["start_date"] == shown["end_date"] == "2026-12-08"
    factory = outbound.session_factory(outbound.make_engine(f"sqlite:///{db}"))
    with factory() as s:
        dues = {a.due_at.astimezone(SEOUL) for a in s.scalars(select(Attempt))}
    assert dues == {datetime(2026, 12, 8, 10, 0, tzinfo=SEOUL)}


def test_a_campaign_that_books_no_call_says_why(tmp_path: Path, people: Path, capsys) -> None:
    db = str(tmp_path / "none.db")
    base = ("campaign", "create", "--kind", "welfare_check", "--db", db)
    # A period already over is refused at creation (issue 17): it could only ever look finished.
    args = build_parser().parse_args(
        [*base, "--name", "지난", "--contacts", str(people), "--start", "2026-12-07", "--days", "1", "--json"]
    )
    args.now = lambda: LATE.astimezone(UTC)
    with pytest.raises(
        service.Invalid, match="종료일 2026-12-07이\\(가\\) 이미 지났습니다 \\(오늘 2026-12-08\\)"
    ):
        args.func(args)
    weekend = cli(
        capsys,
        *base,
        "--name",
        "주말",
        "--contacts",
        str(people),
        "--start",
        "2026-12-12",
        "--end",
        "2026-12-13",
    )
    assert weekend["booked"] == 0 and weekend["status"] == "draft"
    assert "통화 시간대가 없습니다" in weekend["notice"]
    assert "통화 요일 월·화·수·목·금" in weekend["notice"]
    nobody = cli(capsys, *base, "--name", "빈 캠페인")
    assert nobody["booked"] == 0 and "대상자가 없습니다" in nobody["notice"]
    assert nobody["notice"].endswith("캠페인은 준비 상태로 남아 있습니다 (nothing to call)")
    draft = cli(capsys, *base, "--name", "준비", "--start", "2026-12-08", "--days", "3", "--draft")
    assert draft["notice"] is None  # a draft books nothing yet: nothing to explain
    args = build_parser().parse_args(["campaign", "start", str(draft["campaign_id"]), "--db", db, "--json"])
    args.now = lambda: (LATE + timedelta(days=5)).astimezone(UTC)  # started after its period ended
    with pytest.raises(service.NothingToCall) as refused:
        args.func(args)
    assert "기간(2026-12-08 ~ 2026-12-10)이 이미 지났습니다" in str(refused.value)
    assert "대상자가 없습니다" in str(refused.value)  # every reason found
    shown = cli(capsys, "campaign", "show", str(draft["campaign_id"]), "--db", db)
    assert shown["status"] == "draft"


def test_api_start_says_why_nothing_was_booked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    outbound.upgrade(url)
    factory = outbound.session_factory(outbound.make_engine(url))
    with factory.begin() as s:
        token = service.create_token(s, "복지사", "operator")
    client = TestClient(make_app(factory, clock=lambda: LATE))
    headers = {"Authorization": f"Bearer {token}"}

    def start(start_date: str, end_date: str) -> dict:
        body = {"name": "안심콜", "kind": "welfare_check", "start_date": start_date, "end_date": end_date}
        campaign = client.post("/api/campaigns", json=body, headers=headers).json()
        imported = client.post(
            f"/api/campaigns/{campaign['id']}/contacts", content=PEOPLE.encode(), headers=headers
        )
        assert imported.status_code == 200, imported.text
        reply = client.post(f"/api/campaigns/{campaign['id']}/start", headers=headers)
        reply_body = reply.json()
        reply_body["code"] = reply.status_code
        reply_body["campaign_status"] = client.get(
            f"/api/campaigns/{campaign['id']}", headers=headers
        ).json()["status"]
        return reply_body

    body = {"name": "안심콜", "kind": "welfare_check", "start_date": "2026-12-01", "end_date": "2026-12-07"}
    over = client.post("/api/campaigns", json=body, headers=headers)  # its period is over: refused at once
    assert over.status_code == 422 and "종료일 2026-12-07이(가) 이미 지났습니다" in over.json()["detail"]
    assert client.get("/api/campaigns", headers=headers).json() == []
    weekend = start("2026-12-12", "2026-12-13")  # no calling day in it: created, its start refused
    assert weekend["code"] == 409 and weekend["campaign_status"] == "draft"
    assert weekend["detail"].startswith("예약된 통화가 없습니다:") and "통화 요일" in weekend["detail"]
    today = start("2026-12-08", "2026-12-08")
    assert today["booked"] == 2 and today["notice"] is None
