"""The console's 상담 지식 tab (issue 19) in headless Debian Chromium (tests/browser/knowledge.mjs) against
``voicebot serve``'s app on 127.0.0.1 with the real dialog engine: an admin's draft that deletes an entry
the eval questions need is blocked at publish with those questions listed, the diff names the removal, an
imported file's bad row is listed with its row and column, and the question box answers from the version
in service. The gate runs on a short labelled set. Screenshots go to var/test-artifacts/knowledge/.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from types import SimpleNamespace

import yaml
from browser_support import REPO, browser_test_marks, console_server, run_page_script, staff_database

from outbound import service, store

ARTIFACTS = REPO / "var" / "test-artifacts" / "knowledge"

pytestmark = browser_test_marks()

EVAL = {
    "items": [
        {"text": "지하철에서 노트북 가방을 잃어버렸어요", "expect": "transport.lost_subway"},
        {"text": "4호선 타고 오다가 선반에 쇼핑백 두고 내렸어요", "expect": "transport.lost_subway"},
        {"text": "아까 버스에서 내리면서 지갑을 놓고 왔어요", "expect": "transport.lost_bus"},
        {"text": "오늘 날씨 어때요", "expect": "out_of_scope"},
    ]
}


def test_knowledge_tab_blocks_a_harmful_publish_and_imports_a_file(tmp_path: Path, engine) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    db, database = staff_database(tmp_path, "knowledge")
    with store.session_factory(database).begin() as s:
        admin = service.create_token(s, "지식 관리자", "admin")
    database.dispose()
    eval_path = tmp_path / "eval.yaml"
    eval_path.write_text(yaml.safe_dump(EVAL, allow_unicode=True), encoding="utf-8")
    upload = tmp_path / "상담DB.csv"
    with upload.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(
            [
                ["관리번호", "분야", "제목", "질문", "음성답변", "출처"],
                [
                    "B-1",
                    "일반 행정",
                    "한파 쉼터",
                    "한파 쉼터 어디예요;추울 때 쉴 곳",
                    "가까운 주민센터입니다.",
                    "안전총괄과",
                ],
                ["B-2", "교통", "", "버스 노선;노선 변경", "120으로 문의해 주세요.", "버스정책과"],
            ]
        )
    models = SimpleNamespace(engine=engine, transcriber=None, synthesizer=None)
    with console_server(db, "knowledge", models=models, kb_eval=eval_path) as url:
        result = run_page_script(
            "knowledge.mjs",
            ["--url", url, "--token", admin, "--csv", str(upload), "--out", str(ARTIFACTS)],
            ARTIFACTS,
        )
    assert result["ok"], result.get("error")
    assert result["externalRequests"] == [] and result["consoleErrors"] == []
    assert "게시 중" in result["versions"][0] and "사용 중" in result["versions"][0]
    assert "버전 2" in result["draftTitle"] and "초안" in result["draftTitle"]
    assert (
        "게시 전 검사를 통과하지 못했습니다" in result["gate"]
        and "의도 정확도가 지금보다 낮습니다" in result["gate"]
    )
    assert len(result["failing"]) == 2 and any("지하철에서 노트북 가방을" in row for row in result["failing"])
    # Entries by title for staff; the deleted entry (the harmful edit) by its id.
    assert all(row.endswith("버스 분실물 (transport.lost_bus)") for row in result["failing"])
    assert "검사 결과를 알고도 게시" in result["gate"]  # the admin's override, not used here
    assert "삭제 1개" in result["diff"] and "transport.lost_subway" in result["diff"]
    assert "가져오기 완료: 초안 3" in result["imported"] and "2행 중 1행" in result["imported"]
    (bad,) = result["rowErrors"]
    assert bad.split("\t")[:2] == ["3", "제목"] and "비어 있습니다" in bad
    assert "transport.lost_subway" in result["asked"] and "버전 1" in result["asked"]
    states = [row.split("\t")[1] for row in result["finalVersions"]]
    assert states[0].startswith("초안") and states[1].startswith("검토 중") and "게시 중" in states[2]
    assert len(result["screenshots"]) == 3
