"""정기분석 PDF (issue 19): ``voicebot report --period week|month`` over a real SQLite file with a seeded
synthetic history. The PDF opens (pdftotext from poppler-utils), has the expected pages and Korean text,
prints counts under 5 as "<5", is labelled synthetic, and holds no name or phone number from the database.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from outbound import demo_data, inquiries, store
from outbound.analytics import holidays_around
from outbound.report import masked
from outbound.schema import Alert, Contact

TODAY = date(2026, 12, 5)
NAME, PHONE = "김영희", "+821023456789"

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs pdftotext: run scripts/test-deps.sh (poppler-utils)"
)


def seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'report.db'}"
    store.upgrade(url)
    factory = store.session_factory(store.make_engine(url))
    start = TODAY - timedelta(days=100)
    with factory.begin() as db:
        demo_data.populate(db, start, 100, frozenset(holidays_around(start, TODAY)), per_day=120, seed=2)
        for hour in (1, 2):  # two foreign-language contacts in the week: printed "<5"
            inquiries.record(
                db,
                started_at=datetime(2026, 11, 25, hour, tzinfo=UTC),
                channel="phone",
                summary=inquiries.summarize(
                    [inquiries.Step("escalate", "foreign", None)], "foreign_language"
                ),
                turns=1,
                duration_s=20,
                synthetic=True,
            )
        person = Contact(phone_e164=PHONE, name=NAME, tags=[], preferred_times="")
        db.add(person)
        db.flush()
        db.add(
            Alert(
                kind="welfare_concern",
                severity="warning",
                contact_id=person.id,
                message=f"{NAME}님 ({PHONE}) 답변에 우려가 있습니다",
                acknowledged_by="상담사",
                acknowledged_at=datetime(2026, 11, 26, 5, tzinfo=UTC),
            )
        )
    return url


def run_report(url: str, period: str, out: Path) -> dict:
    got = subprocess.run(
        [sys.executable, "-m", "voicebot.cli", "report", "--period", period, "--out", str(out), "--db", url,
         "--demo-data", "--today", TODAY.isoformat()],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr[-2000:]
    return json.loads(got.stdout.strip().splitlines()[-1])


def pdf_text(path: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")


def test_weekly_and_monthly_reports(tmp_path: Path) -> None:
    url = seeded(tmp_path)
    week = run_report(url, "week", tmp_path / "week.pdf")
    assert (week["from"], week["to"]) == ("2026-11-23", "2026-11-29") and week["pages"] >= 3
    pages = [p for p in pdf_text(tmp_path / "week.pdf") if p.strip()]
    assert len(pages) == week["pages"]
    text = "\n".join(pages)
    for heading in (
        "주간 정기분석 보고서",
        "한눈에 보기",
        "무엇을 물었나",
        "민원예보",
        "다음 14일 예측",
        "상담봇 자체 해결률",
    ):
        assert heading in text, heading
    assert "합성 데모 데이터" in text
    assert "외국어" in text and "<5" in text
    assert "처리(확인)한 알림" in text
    for secret in (NAME, PHONE, "010-2345-6789", "2345-6789", "우려가 있습니다"):
        assert secret not in text
    month = run_report(url, "month", tmp_path / "month.pdf")
    assert (month["from"], month["to"]) == ("2026-11-01", "2026-11-30")
    assert "월간 정기분석 보고서" in pdf_text(tmp_path / "month.pdf")[0]
    assert month["total"] > week["total"]
    shutil.copy(
        tmp_path / "week.pdf",
        Path(__file__).resolve().parents[1] / "var" / "test-artifacts" / "report-week.pdf",
    )


def test_small_counts_are_masked() -> None:
    assert [masked(n) for n in (0, 1, 4, 5, 1234)] == ["0", "<5", "<5", "5", "1,234"]


def test_the_server_writes_each_period_once_and_serves_it(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from outbound import service
    from voicebot.server.app import create_app
    from voicebot.server.config import load_config

    url = seeded(tmp_path)
    env = {"VOICEBOT_DB_URL": url, "VOICEBOT_WEBRTC_ENABLED": "false"}
    now = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    app = create_app(
        load_config(None, env), clock=lambda: now, demo_data=True, reports_dir=tmp_path / "reports"
    )
    analytics = app.state.runtime.analytics
    written = analytics.write_due_reports()
    assert sorted(p.name for p in written) == ["month-2026-11-01.pdf", "week-2026-11-23.pdf"]
    assert analytics.write_due_reports() == []  # each period once
    with app.state.runtime.factory.begin() as db:
        viewer = {"Authorization": f"Bearer {service.create_token(db, '열람자', 'viewer')}"}
    with TestClient(app) as http:
        assert http.get("/api/trends/reports", headers=viewer).json() == {
            "reports": ["week-2026-11-23.pdf", "month-2026-11-01.pdf"]
        }
        got = http.get("/api/trends/reports/week-2026-11-23.pdf", headers=viewer)
        assert got.status_code == 200 and got.content.startswith(b"%PDF")
        assert http.get("/api/trends/reports/..%2Fa.db", headers=viewer).status_code == 404
        assert http.get("/api/trends/reports/week-2026-11-23.pdf").status_code == 401
