"""The staff console (/console/) in a real browser: headless Debian Chromium driven by playwright-core
(tests/browser/console.mjs) against ``voicebot serve``'s app on 127.0.0.1 with the SIMULATED dialer.

An operator logs in, creates a welfare check-in campaign from a CSV with a bad row (row 3 is listed with its
reason), starts it, waits while the server's worker calls everyone, sees the results and a person's history,
acknowledges the welfare-concern alert with a note, exports the CSV and looks at the charts; then a viewer
logs in and sees masked names and numbers and no control that changes anything. Screenshots of each step go
to var/test-artifacts/console/. Install the browser side with ``bash scripts/browser-deps.sh``.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import uvicorn
from browser_support import BROWSER_DIR, REPO, browser_test_marks

from outbound import service, store
from outbound.schema import Alert, CallLog, Contact

ARTIFACTS = REPO / "var" / "test-artifacts" / "console"

pytestmark = browser_test_marks()

# Row 1 is the header (spreadsheet numbering).
CONTACTS_CSV = (
    "이름,전화번호,메모\n"
    "김영희,010-2345-6789,\n"
    "이상한,12345,\n"  # row 3: not a phone number
    "박철수,010-3333-4444,\n"  # always busy
    "최민수,010-9876-5432,\n"
)
# The COVID notice's own file: 김영희, already in the check-in campaign, with this campaign's place.
COVID_CSV = "이름,전화번호,메모\n김영희,010-2345-6789,place=종로구 보건소 별관\n"
# Everyone answers and mentions back pain (a welfare concern), except 박철수.
CALLEES_YAML = """\
default:
  replies: ["잘 먹었어요", "허리가 너무 아파요", "잘 잤어요", "괜찮아요", "없어요"]
callees:
  "010-3333-4444": {outcomes: [busy]}
"""


def inbound_calls() -> list[CallLog]:
    """Finished inbound calls as the server's call monitor logs them (no words, no numbers), for the charts."""
    now = datetime.now(UTC)
    rows = []
    for i, (intents, escalation, latencies) in enumerate(
        (
            (["covid.vaccine_booking"], None, [820.0, 950.0]),
            (["covid.vaccine_booking", "covid.testing"], "agent_request", [1100.0]),
            (["covid.screening_clinic"], "low_confidence", [640.0, 2400.0]),
            ([], "agent_request", []),
        )
    ):
        rows.append(
            CallLog(
                call_id=f"inbound-{i}",
                transport="sip" if i % 2 else "webrtc",
                started_at=now - timedelta(minutes=30 - i),
                ended_at=now - timedelta(minutes=29 - i),
                duration_s=60.0,
                turns=3,
                intents=intents,
                escalation=escalation,
                ended_reason="transfer" if escalation else "goodbye",
                voice_to_voice_ms=latencies,
            )
        )
    return rows


def add_many_alerts(session) -> None:
    """One person with four open alerts from earlier rounds: the console shows them on one card."""
    person = Contact(phone_e164="+821055556666", name="정미숙", tags=[], preferred_times="")
    session.add(person)
    session.flush()
    session.add_all(
        Alert(kind=kind, severity=severity, contact_id=person.id, message=message)
        for kind, severity, message in (
            ("unreachable", "warning", "2번 걸었지만 연결되지 않았습니다 (마지막 결과: 받지 않음)."),
            ("unreachable", "warning", "2번 걸었지만 연결되지 않았습니다 (마지막 결과: 통화 중)."),
            ("welfare_concern", "warning", "다음 항목의 답변에 우려가 있습니다: 식사"),
            ("emergency", "critical", "통화 중 긴급 상황 표현이 있어 바로 상담원에게 연결했습니다 (의료)."),
        )
    )


def handoff_record(app) -> None:
    """A browser call handed to an agent, stored the way the WebRTC transport stores it."""
    from voicebot.call.handoff import file_handoff

    record = {
        "reason": "agent_request",
        "category": "water",
        "intent": "water.leak",
        "caller_utterances": ["수도가 새는데 상담원 연결해 주세요"],
        "bot_replies": ["상담원에게 연결해 드리겠습니다."],
        "timestamp": datetime.now(UTC).isoformat(),
    }
    file_handoff(app.state.runtime.handoffs, record, transport="webrtc", call_id="webrtc-test-1")


def live_call(app) -> None:
    """A call in progress, registered the way the SIP and WebRTC transports register theirs."""
    turns = [
        SimpleNamespace(caller_text=None, bot_text="안녕하세요, 120 다산콜센터 인공지능 상담입니다."),
        SimpleNamespace(
            caller_text="따릉이 요금이 얼마예요?", bot_text="따릉이 1시간 이용권은 1,000원입니다."
        ),
    ]
    session = SimpleNamespace(
        turns=turns, events=[SimpleNamespace(kind="bot_reply")], ended=False, handoff=None
    )
    app.state.runtime.monitor.wrap(lambda call_id, caller_number=None: session, "sip")("sip-test-1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def server(tmp_path: Path):
    """``voicebot serve``'s app (API, console, outbound worker with the SIMULATED dialer) on 127.0.0.1;
    no speech models are needed: calls are only placed by the simulated dialer."""
    from voicebot.server.app import create_app
    from voicebot.server.config import load_config

    db = f"sqlite:///{tmp_path / 'console.db'}"
    store.upgrade(db)
    engine = store.make_engine(db)
    with store.session_factory(engine).begin() as s:
        tokens = {
            role: service.create_token(s, name, role)
            for role, name in (
                ("operator", "사회복지사 김하늘"),
                ("viewer", "열람 담당 이바다"),
            )
        }
        s.add_all(inbound_calls())
        add_many_alerts(s)
    engine.dispose()
    callees = tmp_path / "callees.yaml"
    callees.write_text(CALLEES_YAML, encoding="utf-8")
    port = free_port()
    config = load_config(
        None,
        {
            "VOICEBOT_DB_URL": db,
            "VOICEBOT_PORT": str(port),
            "VOICEBOT_WEBRTC_ENABLED": "false",
            "VOICEBOT_OUTBOUND_DIALER": "simulated",
            "VOICEBOT_OUTBOUND_CALLEES": str(callees),
            "VOICEBOT_SIP_HANDOFF_DIR": str(tmp_path / "handoffs"),
        },
    )
    app = create_app(config, models=SimpleNamespace(engine=None, transcriber=None, synthesizer=None))
    live_call(app)
    handoff_record(app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-console-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", tokens
    finally:
        server.should_exit = True
        thread.join(30)


def test_console_campaign_results_alert_export_and_viewer(server, tmp_path: Path) -> None:
    base_url, tokens = server
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    csv_path = tmp_path / "contacts.csv"
    csv_path.write_text(CONTACTS_CSV, encoding="utf-8")
    covid_csv = tmp_path / "covid.csv"
    covid_csv.write_text(COVID_CSV, encoding="utf-8")
    started = time.monotonic()
    run = subprocess.run(
        [
            "node",
            "console.mjs",
            "--url",
            base_url,
            "--operator",
            tokens["operator"],
            "--viewer",
            tokens["viewer"],
            "--csv",
            str(csv_path),
            "--covid-csv",
            str(covid_csv),
            "--out",
            str(ARTIFACTS),
            "--timeout",
            "75",
        ],
        cwd=BROWSER_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    assert lines, f"console.mjs printed no result (exit {run.returncode}): {run.stderr[-2000:]}"
    result = json.loads(lines[-1])
    (ARTIFACTS / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    assert result["ok"], result.get("error")

    # Everything came from the voicebot; nothing went wrong in the page.
    assert result["externalRequests"] == []
    assert result["consoleErrors"] == []
    assert len(result["expectedHttpErrors"]) == 2  # the wrong token (401) and the bad window (422)
    assert "토큰" in result["wrongTokenMessage"]

    assert result["operator"] == {"name": "사회복지사 김하늘 님", "role": "운영자", "viewerBanner": False}
    assert result["dialerBanner"].startswith("모의 발신 모드: 실제 전화가 걸리지 않습니다")
    # The bad row is listed with its row number and reason; the three good rows were added.
    assert result["importReport"]["rejected"][0][:2] == ["3행", "전화번호 형식이 올바르지 않습니다"]
    assert len(result["importReport"]["rejected"]) == 1
    assert "3명을 추가했습니다" in result["importReport"]["text"]
    assert result["statusBeforeStart"] == "준비 중"
    assert "통화 3건을 예약했습니다" in result["startNotice"]
    # The COVID notice's people with this campaign's values; an operator fixes one in place.
    assert result["memberBefore"][:2] == ["김영희", "010-2345-6789"]
    assert result["memberBefore"][3] == "장소: 종로구 보건소 별관"
    assert result["memberAfter"][3] == "장소: 중구 보건소 2층"
    assert "김영희 님의 값을 저장했습니다" in result["memberNotice"]
    assert "0건 남음" in result["progressText"]

    # Results: 김영희 and 최민수 answered, 박철수 busy twice (max 2 attempts), names in clear.
    outcomes = sorted(row["outcome"] for row in result["results"])
    assert outcomes == ["answered", "answered", "busy", "busy"]
    assert any("김영희" in row["cells"] and "010-2345-6789" in row["cells"] for row in result["results"])
    assert all(any("모의" in cell for cell in row["cells"]) for row in result["results"])  # simulated calls
    assert result["busyRows"] == 2
    health = next(row for row in result["history"]["rows"] if row[0] == "건강")
    assert health[1:] == ["우려"]
    assert result["history"]["title"] == "김영희 님 안부 확인 이력"
    # What is remembered (issue 16): the health concern, asked about first next time; staff corrected it.
    memory = result["memory"]
    assert memory["title"].startswith("기억하는 내용 (최근 180일")
    assert "본인 확인 뒤 먼저 여쭐 내용" in memory["followUp"]
    assert any(row[0] == "건강" and "우려" in row[2] for row in memory["trends"])
    assert "지난번에 허리가 많이 아프다고 하셨는데 요즘은 좀 어떠세요?" in memory["followUpAfter"]

    # Alerts: two welfare concerns and one unreachable; one concern acknowledged with its note.
    # One card per person: 정미숙's four earlier alerts share one card (the emergency on top), acknowledged
    # together from it.
    kinds = sorted(alert["kind"] for alert in result["openAlertsBefore"])
    assert kinds == ["emergency", "unreachable", "welfare_concern", "welfare_concern"]
    assert result["alertBadgeBefore"] == "7"
    assert result["groupedCard"] == {
        "kind": "emergency",
        "count": "4",
        "total": "알림 4건",
        "shown": 3,
        "folded": 1,
        "button": "알림 4건 모두 확인 처리",
    }
    assert sorted(result["openAlertsAfter"]) == ["unreachable", "welfare_concern"]
    assert "방문 상담 예정 (브라우저 시험)" in result["ackedText"]
    assert "사회복지사 김하늘" in result["ackedText"]

    # The export is the campaign's CSV.
    assert result["export"]["suggested"].endswith(".csv")
    assert result["export"]["firstLine"].startswith("attempt_id,")
    exported = Path(result["export"]["path"]).read_text(encoding="utf-8-sig").splitlines()
    assert len(exported) == 5  # header + 4 attempts

    # Charts drawn as SVG from the server's statistics.
    charts = result["charts"]
    assert charts["chart-outcomes"]["svg"] == 1 and charts["chart-outcomes"]["rects"] >= 2
    assert charts["chart-reached"]["svg"] == 1 and "67%" in charts["chart-reached"]["summary"]
    for name in ("chart-intents", "chart-escalations", "chart-latency"):
        assert charts[name]["svg"] == 1 and charts[name]["rects"] >= 2, (name, charts[name])
    assert "상담원 연결 요청 2건" in charts["chart-escalations"]["summary"]
    assert "5건" in charts["chart-latency"]["summary"] and "중앙값" in charts["chart-latency"]["summary"]

    # The live call with its state and transcript.
    live = result["live"]
    assert live["count"] == "진행 중인 통화 1건"
    assert live["calls"][0]["state"] == "상담봇 답변 중" and live["calls"][0]["transport"] == "전화"
    (handoff,) = result["handoffs"]  # a browser call handed to an agent, with its record
    assert handoff["reason"] == "상담원 연결 요청" and handoff["transport"] == "webrtc"
    assert "water.leak" in handoff["intent"] and "수도가 새는데" in handoff["summary"]
    # The API docs, from the server's own files: every operation listed, the Authorize button there.
    assert result["docs"]["operations"] >= 20 and result["docs"]["authorize"]
    assert result["docs"]["locks"] >= 20
    assert ["시민", "따릉이 요금이 얼마예요?"] in live["calls"][0]["lines"]
    assert result["keyboardTab"] == "alerts"  # ArrowLeft from 실시간 통화

    # The viewer: masked names and numbers, nothing that changes anything.
    viewer = result["viewer"]
    assert viewer["role"] == "조회 전용" and viewer["banner"]
    assert viewer["createButtons"] == 0
    assert viewer["campaignActionButtons"] == 0 and viewer["uploadForms"] == 0
    assert viewer["memberEditButtons"] == 0
    assert viewer["memberRows"][0][:2] == ["김*희", "010-****-6789"]
    assert viewer["memberRows"][0][3] == "운영자만 볼 수 있습니다"
    assert viewer["historyButtons"] == 0 and viewer["exportButtons"] == 0 and viewer["ackButtons"] == 0
    flat = " ".join(" ".join(row) for row in viewer["results"])
    assert (
        "김영희" not in flat and "010-2345-6789" not in flat and "김*희" in flat and "010-****-6789" in flat
    )
    assert all("*" in person for person in viewer["alertPeople"])
    assert viewer["notes"] == 0  # notes are for operators
    assert "운영자 이상 권한" in viewer["liveText"] and "따릉이" not in viewer["liveText"]

    # The acknowledgement reached the server.
    with httpx.Client(base_url=base_url, timeout=10) as http:
        op = {"Authorization": f"Bearer {tokens['operator']}"}
        alerts = http.get("/api/alerts", headers=op).json()
        acked = [a for a in alerts if a["acknowledged_at"]]
        assert len(acked) == 5
        assert sorted(a["note"] for a in acked) == ["가족과 통화함 (브라우저 시험)"] * 4 + [
            "방문 상담 예정 (브라우저 시험)"
        ]
        covid = http.get("/api/campaigns", headers=op).json()[0]
        assert covid["kind"] == "covid_notice" and covid["status"] == "draft"
        assert covid["slots"] == {"date": "11월 25일", "place": "중구 보건소", "result": "음성"}
        # The place fixed in the console is the COVID notice's; the check-in campaign's values are untouched.
        (person,) = http.get(f"/api/campaigns/{covid['id']}/members", headers=op).json()["items"]
        assert person["contact"]["name"] == "김영희" and person["slots"] == {"place": "중구 보건소 2층"}
        welfare = http.get("/api/campaigns", headers=op).json()[1]["id"]
        kept = http.get(f"/api/campaigns/{welfare}/members", headers=op).json()["items"]
        assert all(m["slots"] == {} and m["notes"] == "" for m in kept)

    names = [Path(p).name for p in result["screenshots"]]
    assert names[0] == "01-login.png" and "failure" not in " ".join(names)
    assert all(Path(p).stat().st_size > 10_000 for p in result["screenshots"])
    assert elapsed < 90, f"the browser part took {elapsed:.0f} s"
