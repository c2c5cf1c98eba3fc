"""The console's 감사 기록 tab (issue 17) in headless Debian Chromium (tests/browser/audit.mjs) against
``voicebot serve``'s app: an admin reads the audit log newest first with Korean labels, pages back with
"더 보기", filters by action and by staff name, with no policy violation or console error; an operator has
no such tab. Screenshots go to var/test-artifacts/audit/."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from browser_support import REPO, browser_test_marks, console_server, run_page_script, staff_database

from outbound import audit, service, store
from outbound.schema import AuditEvent

ARTIFACTS = REPO / "var" / "test-artifacts" / "audit"

pytestmark = browser_test_marks()


def test_admins_read_page_and_filter_the_audit_log(tmp_path: Path) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    db, engine = staff_database(tmp_path, "audit")
    start = datetime.now(UTC) - timedelta(hours=3)
    with store.session_factory(engine).begin() as s:
        admin = service.create_token(s, "관리자", "admin")
        operator = service.create_token(s, "사회복지사 김하늘", "operator")
        kim = service.Principal("사회복지사 김하늘", "operator", 2)
        lee = service.Principal("상담사 이바다", "operator", 3)
        for i in range(60):  # 120 events, alternating: two pages of 100
            at = start + timedelta(minutes=i)
            audit.record(s, kim, "campaign.paused", "campaign", 7, at=at)
            audit.record(s, lee, "contact.history.viewed", "contact", 100 + i, at=at)
    engine.dispose()
    no_models = SimpleNamespace(engine=None, transcriber=None, synthesizer=None)  # no call is placed here
    with console_server(db, "audit", models=no_models) as url:
        result = run_page_script(
            "audit.mjs",
            ["--url", url, "--admin", admin, "--operator", operator, "--out", str(ARTIFACTS)],
            ARTIFACTS,
        )
    assert result["ok"], result.get("error")
    assert result["violations"] == [] and result["consoleErrors"] == []
    assert result["externalRequests"] == []
    assert result["headers"] == ["번호", "시각", "직원", "권한", "한 일", "대상", "내용"]

    first = result["firstPage"]
    assert [int(row[0]) for row in first] == list(range(120, 20, -1))  # newest first
    assert first[0][2:6] == ["상담사 이바다", "운영자", "안부 확인 이력 열람", "대상자 #159"]
    assert first[1][2:6] == ["사회복지사 김하늘", "운영자", "캠페인 일시정지", "캠페인 #7"]
    assert result["moreVisible"] and "더 있음" in result["countText"]
    assert [int(row[0]) for row in result["allRows"]] == list(range(120, 0, -1))
    assert not result["moreAfter"]
    assert {row[4] for row in result["paused"]} == {"캠페인 일시정지"}
    assert {row[2] for row in result["byActor"]} == {"상담사 이바다"}
    assert not result["operatorSeesTab"]
    # Retention in the same tab: the period of each kind and what the start-up run deleted (nothing here).
    kinds = {row[0]: row[1:] for row in result["retention"]}
    assert [days for days, _ in kinds.values()] == ["60일", "60일", "60일"]
    assert kinds["채팅 상담 (끝난 대화)"][1] == "대화 0건, 메시지 0건, 연결 기록 0건"
    assert result["retentionNote"].startswith(("마지막 정리:", "정리는 서버 시작 때와"))

    # Each load of the tab was itself recorded: the first view, "더 보기", the two filtered views.
    engine = store.make_engine(db)
    with store.session_factory(engine)() as s:
        viewed = s.query(AuditEvent).filter(AuditEvent.action == "audit.viewed").all()
    engine.dispose()
    assert len(viewed) == 4 and {e.actor for e in viewed} == {"관리자"}
    assert any(e.detail == "action=campaign.paused" for e in viewed)
