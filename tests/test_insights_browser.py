"""The console's 민원 분석 tab (issue 19) in headless Debian Chromium (tests/browser/insights.mjs) against
``voicebot serve --demo-data``'s app on 127.0.0.1: the synthetic history is labelled as such, a surge in
water inquiries today shows as a spike alert, the trend charts and a 민원예보 chart per category (with its
prediction interval) are drawn from charts.js. Screenshots go to var/test-artifacts/insights/.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from browser_support import REPO, browser_test_marks, console_server, run_page_script, staff_database

from outbound import demo_data, service, store
from outbound.analytics import SEOUL, holidays_around

ARTIFACTS = REPO / "var" / "test-artifacts" / "insights"

pytestmark = browser_test_marks()


def test_insights_tab_shows_trends_forecasts_and_the_spike(tmp_path: Path) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    db, engine = staff_database(tmp_path, "insights")
    today = datetime.now(SEOUL).date()
    start = today - timedelta(days=120)
    with store.session_factory(engine).begin() as s:
        viewer = service.create_token(s, "분석 담당 상담사", "operator")
        # A shorter synthetic history than --demo-data writes, with a water-main break today.
        holidays = frozenset(holidays_around(start, today))
        demo_data.populate(s, start, 121, holidays, seed=8, surge=("water", today, 200))
    engine.dispose()
    with console_server(db, "insights", demo_data=True) as url:
        result = run_page_script(
            "insights.mjs", ["--url", url, "--token", viewer, "--out", str(ARTIFACTS)], ARTIFACTS
        )
    assert result["ok"], result.get("error")
    assert result["externalRequests"] == [] and result["consoleErrors"] == []
    assert "합성 데모 데이터" in result["banner"]
    assert result["spike"] and "급증 경보" in result["spike"] and "상수도" in result["spike"]
    assert "교통" not in result["spike"]
    assert result["trendCharts"] >= 6
    assert result["forecastCharts"] == len(demo_data.CATEGORIES) == result["forecastBands"]
    assert any("일별 문의와 처리 결과" in c for c in result["captions"])
    assert any(text.startswith("전체 문의") for text in result["figures"])
    # Per channel (issue 18): every channel of the history with its containment and handoffs.
    channels = {row[0]: row[1:] for row in result["channelOutcomes"]}
    assert set(channels) == {"전화", "카카오톡", "웹 채팅", "브라우저 통화", "발신 응답"}
    assert all(re.fullmatch(r"\d+건 \(\d+%\)", row[2]) and row[1].endswith("%") for row in channels.values())
    assert len(result["screenshots"]) == 3
    assert "답하지 못한 질문이 없습니다" in result["gaps"]  # no chat in this database
