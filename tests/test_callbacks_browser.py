"""The console's 콜백 예약 tab (issue 18) in headless Debian Chromium (tests/browser/callbacks.mjs) against
``voicebot serve``'s app with call-backs on and the server's clock on a Monday 14:20 in Seoul: an operator
reads the queue with full numbers and Korean labels, sets the desk's figures (the expected wait follows:
10 waiting x 300 s / 2 agents = 약 25분) and marks a call-back done; a viewer sees masked numbers and no
controls; no policy violation, console error or outside request. Screenshots go to
var/test-artifacts/callbacks/."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from browser_support import REPO, browser_test_marks, console_server, run_page_script, staff_database

from outbound import callbacks, service, store
from outbound.schema import AuditEvent

ARTIFACTS = REPO / "var" / "test-artifacts" / "callbacks"
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 12, 7, 14, 20, tzinfo=SEOUL)

pytestmark = browser_test_marks()


def test_staff_see_the_desk_and_the_call_back_queue(tmp_path: Path) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    db, engine = staff_database(tmp_path, "callbacks")
    with store.session_factory(engine).begin() as s:
        operator = service.create_token(s, "상담사", "operator")
        viewer = service.create_token(s, "열람자", "viewer")
        for hour, number in ((15, "010-2345-6789"), (16, "02-120-1234")):
            start = NOW.replace(hour=hour, minute=0)
            callbacks.book(
                s, number, start, start + timedelta(hours=1), channel="sip", handoff_id="0123456789abcdef",
                reason="agent_request", category="water",
            )  # fmt: skip
    engine.dispose()
    no_models = SimpleNamespace(engine=None, transcriber=None, synthesizer=None)  # no call is placed here
    env = {"VOICEBOT_CALLBACKS_ENABLED": "true", "VOICEBOT_CALLBACKS_AGENTS": "5"}
    with console_server(db, "callbacks", env=env, models=no_models, clock=lambda: NOW) as url:
        result = run_page_script(
            "callbacks.mjs",
            ["--url", url, "--operator", operator, "--viewer", viewer, "--out", str(ARTIFACTS)],
            ARTIFACTS,
        )
    assert result["ok"], result.get("error")
    assert result["violations"] == [] and result["consoleErrors"] == []
    assert result["externalRequests"] == []
    assert result["headers"] == ["예약 시간대", "전화번호", "상담 내용", "상태", "전화 시도", ""]
    first, second = result["operatorRows"]
    assert (
        first[0] == "12월 07일 15:00 ~ 16:00" and first[1] == "010-2345-6789" and second[1] == "02-120-1234"
    )
    assert (
        first[2].startswith("상담원 연결 요청 · 상수도") and first[3] == "예약됨" and first[4] == "아직 없음"
    )
    assert "근무 상담원 5명" in result["deskBefore"] and "약 0분" in result["deskBefore"]
    assert "근무 상담원 2명 · 대기 10건" in result["deskAfter"] and "혼잡" in result["deskAfter"]
    assert [row[1] for row in result["afterDone"]] == ["02-120-1234"]
    assert [(row[1], row[3]) for row in result["closed"]] == [("010-2345-6789", "처리 완료")]
    assert [row[1] for row in result["viewerRows"]] == ["02-***-1234"]
    assert result["viewerButtons"] == 0 and not result["viewerForm"]

    engine = store.make_engine(db)
    with store.session_factory(engine)() as s:
        actions = [(e.action, e.actor) for e in s.query(AuditEvent).order_by(AuditEvent.id)]
    engine.dispose()
    assert ("capacity.changed", "상담사") in actions and ("callback.closed", "상담사") in actions


def test_every_call_back_state_and_category_has_a_korean_label() -> None:
    from test_console_labels import console_labels

    from outbound.inquiries import CATEGORY_KO

    labels = console_labels()
    assert set(labels["callbackState"]) == set(callbacks.STATES)
    assert labels["category"] == CATEGORY_KO
