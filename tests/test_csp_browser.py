"""Issue 17 in headless Debian Chromium (tests/browser/tokens-csp.mjs): under the strict Content-Security-
Policy /docs (Swagger UI) still renders and the console's 토큰 관리 tab lists the tokens with their expiry in
Korean, with no policy violation. (The other browser tests fail on any console error, which is how Chromium
reports a violation on the caller page, the chat and the other console tabs.) Screenshots go to
var/test-artifacts/tokens-csp/."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from browser_support import REPO, browser_test_marks, console_server, run_page_script, staff_database

from outbound import service, store

ARTIFACTS = REPO / "var" / "test-artifacts" / "tokens-csp"

pytestmark = browser_test_marks()


def test_docs_and_the_tokens_tab_under_the_policy(tmp_path: Path) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    db, engine = staff_database(tmp_path, "csp")
    now = datetime.now(UTC)
    with store.session_factory(engine).begin() as s:
        admin = service.create_token(s, "관리자", "admin")
        service.create_token(s, "지난 점검", "viewer", now - timedelta(days=1))
        service.create_token(s, "임시 직원", "operator", now + timedelta(days=5, hours=1))
        service.create_token(s, "외부 감사", "viewer", now + timedelta(days=200))
    engine.dispose()
    with console_server(db, "csp") as url:
        result = run_page_script(
            "tokens-csp.mjs", ["--url", url, "--admin", admin, "--out", str(ARTIFACTS)], ARTIFACTS
        )
    assert result["ok"], result.get("error")
    assert result["violations"] == [] and result["consoleErrors"] == []
    assert result["externalRequests"] == []
    assert result["docsOperations"] > 20
    assert result["headers"] == ["번호", "이름", "권한", "만든 때", "마지막 사용", "만료일", "상태"]
    rows = {row[1]: row for row in result["rows"]}
    assert rows["관리자"][5] == "없음" and rows["관리자"][6] == "사용 중"
    assert rows["지난 점검"][6] == "만료됨" and rows["지난 점검"][2] == "조회 전용"
    assert rows["임시 직원"][6] == "6일 후 만료" or rows["임시 직원"][6] == "5일 후 만료"
    assert rows["외부 감사"][6] == "사용 중" and "년" in rows["외부 감사"][5]
