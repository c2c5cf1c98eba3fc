"""The web chat (/chat) in a real browser (issue 18): headless Debian Chromium on a phone-sized screen, driven
by playwright-core (tests/browser/chat.mjs), against ``voicebot serve``'s app on 127.0.0.1 with the bundled
dialog engine. Menu button, typed question, choice buttons, large text, reload, empty input, an emergency,
and an operator taking the chat and answering live. Screenshots go to var/test-artifacts/chat/.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from browser_support import REPO, browser_test_marks, console_server, run_page_script, staff_database

from outbound import service, store

ARTIFACTS = REPO / "var" / "test-artifacts" / "chat"

pytestmark = browser_test_marks()


@pytest.fixture()
def server(tmp_path: Path, engine):
    db, database = staff_database(tmp_path, "chat")
    with store.session_factory(database).begin() as s:
        operators = [service.create_token(s, name, "operator") for name in ("상담사 김하늘", "상담사 이바다")]
    database.dispose()
    models = SimpleNamespace(engine=engine, transcriber=None, synthesizer=None)
    env = {"VOICEBOT_SIP_HANDOFF_DIR": str(tmp_path / "handoffs")}
    with console_server(db, "chat", env=env, models=models) as url:
        yield url, operators


def run_script(script: str, out: Path, *args: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    result = run_page_script(script, [*args, "--out", str(out), "--timeout", "60"], out, timeout=120)
    assert result["ok"], result.get("error")
    return result


def test_web_chat_on_a_phone_screen(server, engine) -> None:
    base_url, operators = server
    result = run_script("chat.mjs", ARTIFACTS, "--url", base_url, "--operator", operators[0])
    assert result["externalRequests"] == [] and result["consoleErrors"] == []

    # What the page showed is what the dialog answers on the phone.
    session = engine.new_session("direct")
    greeting = session.start().reply
    assert result["greeting"] == greeting
    assert result["menuButtons"] == [
        "코로나19",
        "교통",
        "상수도",
        "일반 시정",
        "전화번호 안내",
        "외국어 상담",
        "상담원 연결",
    ]
    assert result["transport"] == session.on_dtmf("1").reply
    assert result["clarify"] == session.on_speech("분실물").reply
    assert result["choiceButtons"][:2] == ["택시 분실물", "지하철 분실물"]
    assert result["answer"] == session.on_dtmf("2").reply
    assert result["answerButtons"][:2] == ["네", "아니요"]

    # Large text, no sideways scrolling on a 390-pixel screen, and both survive a reload.
    assert (result["fontBefore"], result["fontAfter"], result["largePressed"]) == ("18px", "24px", "true")
    assert result["overflow"] <= 0
    assert result["afterReload"]["messages"] == result["afterReload"]["shownBefore"]
    assert result["afterReload"]["font"] == "24px"
    assert result["emptyError"] == "메시지를 입력해 주세요." and result["emptyBots"] == 0

    emergency = result["emergency"]
    assert "119" in emergency["text"] and "tel:119" in emergency["links"] and "tel:112" in emergency["links"]
    assert result["emergencyRole"] == "alert" and "상담사 연결을 기다리고" in result["waitingStatus"]

    assert result["queue"] == [{"id": True, "state": "waiting", "reason": "emergency"}]
    assert (result["take"], result["takeAgain"], result["reply"]) == (200, 409, 200)
    assert result["agentText"].startswith("119에 신고하셨나요?")
    assert "상담사와 대화 중" in result["agentStatus"]
    assert len(result["screenshots"]) == 5


def test_two_operators_race_for_one_chat_in_the_console(server) -> None:
    """Live takeover: the chat in the console's queue, 맡기 pressed by two operators at once (one wins, the
    other is told), the winner's answer on the citizen's screen and theirs in the console, then the bot."""
    base_url, operators = server
    result = run_script(
        "chat-console.mjs",
        REPO / "var" / "test-artifacts" / "chat-console",
        "--url",
        base_url,
        "--first",
        operators[0],
        "--second",
        operators[1],
    )
    assert result["externalRequests"] == [] and result["consoleErrors"] == []
    assert sorted(result["race"]) == ["lost", "won"]
    assert len(result["expectedHttpErrors"]) == 1  # the loser's 409
    assert "이미 다른 상담사가 맡았" in result["loserError"]
    assert result["loserTakeButtons"] == 0 and "상담 중" in result["loserCard"]
    assert result["queueCard"]["channel"] == "web" and "상담원 연결 요청" in result["queueCard"]["text"]
    assert "수도가 새는데" in result["queueCard"]["text"]  # the handoff summary
    assert result["badge"] == "1"
    roles = [role for role, _ in result["winnerTranscript"]]
    assert roles[:4] == ["bot", "user", "bot", "system"]
    assert result["citizenSystem"] == ["상담사가 연결되었습니다."]
    assert result["citizenAgent"] == "안녕하세요, 상담사입니다. 물이 새는 곳이 어디인가요?"
    assert "상담사와 대화 중" in result["citizenStatus"]
    assert "상담사가 상담을 마치고 상담봇으로 돌려 드렸습니다." in result["citizenAfter"]["notice"]
    assert result["citizenAfter"]["buttons"][:2] == ["코로나19", "교통"]
