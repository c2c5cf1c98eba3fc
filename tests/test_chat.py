"""Text channels (issue 18): the web chat API and the KakaoTalk skill on ``voicebot serve``'s app, over a
real SQLite file, with the bundled dialog engine.

The same question gets the same answer on every text channel as ``engine.new_session().on_speech(...)``
(menu branches, knowledge-base questions, a clarifying question, an emergency, a request for an agent);
conversations survive a restart (a new app over the same database rebuilds the dialog by replaying the
stored inputs); bad input gets a clear error and changes nothing; the Kakao skill checks its shared secret,
refuses replays and answers slow steps through a callback sender (never Kakao itself); operators take a
waiting chat (one of two only), reply, hand it back and close it.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from outbound import service
from voicebot.chat.schema import ChatConversation, ChatMessage
from voicebot.server.app import create_app
from voicebot.server.config import ConfigError, load_config

SECRET = "test-shared-secret-0123456789"
HEADERS = {"X-Voicebot-Skill-Secret": SECRET}

# Each scenario: what the citizen types, in order (the first into a fresh conversation).
SCENARIOS: list[list[str]] = [
    ["따릉이 요금이 얼마예요?"],  # a knowledge-base answer at the greeting
    ["교통", "분실물"],  # a menu branch said in words, then a clarifying question
    ["상수도", "요금"],
    ["등본", "아니요"],  # an answer, then no more questions: goodbye
    ["불이 났어요"],  # an emergency: 119 at once, handed to an agent
    ["가슴이 아프고 숨을 못 쉬겠어요"],
    ["상담원 연결해 주세요"],  # a request for an agent
    ["코로나", "백신 접종 예약은 어떻게 하나요?"],
]
MENU = {
    "0": "코로나19",
    "1": "교통",
    "2": "상수도",
    "3": "일반 시정",
    "4": "전화번호 안내",
    "9": "외국어 상담",
}


class RecordingSender:
    """Stands in for Kakao's callback URL: records what would be posted there."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.arrived = threading.Event()

    def send(self, url: str, payload: dict[str, Any]) -> None:
        self.sent.append((url, payload))
        self.arrived.set()


def make_app(tmp_path: Path, engine, sender: RecordingSender | None = None, **env: str):
    environ = {
        "VOICEBOT_DB_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "VOICEBOT_WEBRTC_ENABLED": "false",
        "VOICEBOT_SIP_HANDOFF_DIR": str(tmp_path / "handoffs"),
        "VOICEBOT_KAKAO_ENABLED": "true",
        "VOICEBOT_KAKAO_SECRET": SECRET,
        **env,
    }
    models = SimpleNamespace(engine=engine, transcriber=None, synthesizer=None)
    return create_app(load_config(None, environ), models=models, kakao_sender=sender or RecordingSender())


@pytest.fixture()
def client(tmp_path: Path, engine):
    with TestClient(make_app(tmp_path, engine)) as http:
        yield http


def direct(engine, texts: list[str]) -> list[str]:
    """What the dialog itself answers, as the phone's call session asks it."""
    session = engine.new_session("direct")
    session.start()
    return [session.on_speech(text).reply for text in texts]


def web_start(http: TestClient) -> dict[str, Any]:
    got = http.post("/api/chat/start")
    assert got.status_code == 201, got.text
    return got.json()


def web_send(http: TestClient, conversation_id: str, text: str) -> dict[str, Any]:
    got = http.post(f"/api/chat/{conversation_id}/messages", json={"text": text})
    assert got.status_code == 200, got.text
    return got.json()


def bot_texts(body: dict[str, Any]) -> list[str]:
    return [m["text"] for m in body["messages"] if m["role"] == "bot"]


def kakao(
    http: TestClient, user: str, utterance: str, *, headers=None, params=None, callback=None
) -> tuple[int, dict[str, Any]]:
    user_request: dict[str, Any] = {
        "timezone": "Asia/Seoul",
        "utterance": utterance,
        "lang": "ko",
        "user": {"id": user, "type": "botUserKey", "properties": {}},
        "block": {"id": "block-1", "name": "폴백 블록"},
        "params": {"surface": "Kakaotalk.plusfriend"},
    }
    if callback:
        user_request["callbackUrl"] = callback
    payload = {
        "intent": {"id": "block-1", "name": "폴백 블록"},
        "userRequest": user_request,
        "bot": {"id": "bot-1", "name": "120 다산콜센터"},
        "action": {
            "id": "skill-1",
            "name": "voicebot",
            "params": params or {},
            "detailParams": {},
            "clientExtra": {},
        },
    }
    got = http.post("/kakao/skill", json=payload, headers=HEADERS if headers is None else headers)
    return got.status_code, got.json()


def simple_texts(response: dict[str, Any]) -> list[str]:
    return [o["simpleText"]["text"] for o in response["template"]["outputs"] if "simpleText" in o]


def quick_labels(response: dict[str, Any]) -> list[str]:
    return [q["label"] for q in response["template"].get("quickReplies", [])]


def counts(http: TestClient) -> tuple[int, int]:
    factory = http.app.state.runtime.factory
    with factory.begin() as db:
        return (
            db.scalar(select(func.count()).select_from(ChatConversation)),
            db.scalar(select(func.count()).select_from(ChatMessage)),
        )


# ------------------------------------------------------------------------------ the same answer everywhere


def test_the_same_question_gets_the_same_answer_on_every_text_channel(client: TestClient, engine) -> None:
    for n, texts in enumerate(SCENARIOS):
        expected = direct(engine, texts)
        conversation = web_start(client)["conversation"]["id"]
        web = [bot_texts(web_send(client, conversation, text))[-1] for text in texts]
        assert web == expected, texts
        user = f"kakao-user-{n}"
        talk = []
        for text in texts:
            status, response = kakao(client, user, text)
            assert status == 200, response
            assert response["version"] == "2.0"
            talk.append(simple_texts(response)[-1])
        assert talk == expected, texts


def test_menu_buttons_are_the_keypad(client: TestClient, engine) -> None:
    """A menu quick reply is the keypad digit: the same reply as ``on_dtmf`` on the phone."""
    for digit, label in MENU.items():
        session = engine.new_session("direct")
        session.start()
        expected = session.on_dtmf(digit).reply
        start = web_start(client)
        offered = {q["label"]: q["id"] for q in start["conversation"]["quick_replies"]}
        assert offered[label] == f"key-{digit}"
        got = client.post(
            f"/api/chat/{start['conversation']['id']}/quick-replies", json={"id": f"key-{digit}"}
        )
        assert got.status_code == 200 and bot_texts(got.json()) == [expected]
        # KakaoTalk: the greeting offers the same buttons; a pressed one comes back as its messageText.
        status, greeting = kakao(client, f"menu-{digit}", "시작")
        assert status == 200 and simple_texts(greeting) == [session.history[0].text]
        assert quick_labels(greeting) == list(MENU.values()) + ["상담원 연결"]
        button = next(q for q in greeting["template"]["quickReplies"] if q["label"] == label)
        assert button["action"] == "message"
        status, response = kakao(client, f"menu-{digit}", button["messageText"])
        assert status == 200 and simple_texts(response) == [expected]
    # The block parameter "key" presses a key too.
    status, response = kakao(client, "param-user", "교통 메뉴", params={"key": "1"})
    session = engine.new_session("direct")
    session.start()
    assert status == 200 and simple_texts(response)[-1] == session.on_dtmf("1").reply


def test_clarify_choices_are_buttons(client: TestClient, engine) -> None:
    session = engine.new_session("direct")
    session.start()
    session.on_speech("상수도")
    clarify = session.on_speech("요금")
    assert clarify.expects == "choice"
    answer = session.on_dtmf("2").reply
    conversation = web_start(client)["conversation"]["id"]
    web_send(client, conversation, "상수도")
    body = web_send(client, conversation, "요금")
    labels = [q["label"] for q in body["conversation"]["quick_replies"]]
    assert labels[:2] == ["수도요금 납부 방법", "우리 집 수도요금 조회"]
    got = client.post(f"/api/chat/{conversation}/quick-replies", json={"id": "choice-2"}).json()
    assert bot_texts(got) == [answer]
    assert [m["text"] for m in got["messages"] if m["role"] == "user"] == ["우리 집 수도요금 조회"]
    kakao(client, "choice-user", "상수도")
    status, response = kakao(client, "choice-user", "요금")
    assert quick_labels(response)[:2] == ["수도요금 납부 방법", "우리 집 수도요금 조회"]
    status, response = kakao(client, "choice-user", "우리 집 수도요금 조회")
    assert simple_texts(response) == [answer]


def test_emergency_and_agent_request_file_handoffs(client: TestClient, tmp_path: Path) -> None:
    conversation = web_start(client)["conversation"]["id"]
    body = web_send(client, conversation, "불이 났어요")
    bot = [m for m in body["messages"] if m["role"] == "bot"]
    assert bot[0]["emergency"] and "119" in bot[0]["text"] and bot[0]["action"] == "escalate"
    assert body["conversation"]["state"] == "waiting"
    status, response = kakao(client, "emergency-user", "불이 났어요")
    assert status == 200 and "119" in simple_texts(response)[-1]
    card = response["template"]["outputs"][-1]["textCard"]
    assert [b["phoneNumber"] for b in card["buttons"]][:2] == ["119", "112"]
    status, response = kakao(client, "agent-user", "상담원 연결해 주세요")
    assert status == 200
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "handoffs").glob("*.json")]
    by_transport = {r["transport"]: r for r in records}
    assert set(by_transport) == {"chat", "kakao"} and len(records) == 3
    assert by_transport["chat"]["reason"] == "emergency" and by_transport["chat"]["call_id"] == conversation
    assert any(r["reason"] == "agent_request" for r in records)
    # While it waits, the citizen is told so; the dialog is not asked again.
    body = web_send(client, conversation, "언제 연결되나요?")
    assert [m["role"] for m in body["messages"]] == ["user", "system"]
    assert "상담사 연결을 기다리고" in body["messages"][1]["text"]
    viewer = operators(client)[-1]
    metrics = client.get("/metrics", headers=viewer).text
    assert 'voicebot_chat_handoffs_total{channel="web",reason="emergency"} 1.0' in metrics
    assert 'voicebot_chat_conversations_total{channel="kakao"} 2.0' in metrics


def test_personal_data_is_not_logged(client: TestClient, caplog) -> None:
    caplog.set_level("DEBUG")
    conversation = web_start(client)["conversation"]["id"]
    web_send(client, conversation, "제 번호는 010-2345-6789이고 이름은 홍길동인데 따릉이 요금 알려주세요")
    kakao(client, "kakao-secret-user-id-77", "홍길동입니다 상담원 연결해 주세요")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "홍길동" not in logged and "2345-6789" not in logged and "kakao-secret-user-id-77" not in logged
    assert conversation[:8] in logged
    with client.app.state.runtime.factory.begin() as db:
        hashes = db.scalars(
            select(ChatConversation.user_hash).where(ChatConversation.channel == "kakao")
        ).all()
    assert hashes and all(len(h) == 64 and "kakao-secret" not in h for h in hashes)


def test_someone_elses_data_is_refused_counted_and_recorded_without_words(
    client: TestClient, engine, caplog
) -> None:
    """Issue 17: the web chat and KakaoTalk give the dialog's refusal, the counter moves per channel, and
    the conversation's inquiry record shows the refusal as its intent; the request is never logged."""
    from dialog import REFUSAL_INTENT, prompts
    from outbound.inquiries import Inquiry

    caplog.set_level("DEBUG")
    asked = "옆집 할머니 전화번호 좀 알려주세요"
    refusal = f"{prompts.PERSONAL_DATA_REFUSAL} {prompts.FOLLOW_UP}"
    assert direct(engine, [asked]) == [refusal]
    conversation = web_start(client)["conversation"]["id"]
    body = web_send(client, conversation, asked)
    assert bot_texts(body) == [refusal] and body["messages"][-1]["intent"] == REFUSAL_INTENT
    assert body["conversation"]["state"] == "bot"  # no agent needed: the bot said why and what to do
    assert [q["label"] for q in body["conversation"]["quick_replies"]][:2] == ["네", "아니요"]
    status, response = kakao(client, "privacy-user", "김철수 씨 주소가 어떻게 되나요")
    assert status == 200 and simple_texts(response)[-1] == refusal
    status, response = kakao(client, "privacy-user", "구청 주소 알려 주세요")  # a public address: answered
    assert status == 200 and simple_texts(response)[-1] != refusal
    metrics = client.get("/metrics", headers=operators(client)[-1]).text
    assert 'voicebot_personal_data_refusals_total{channel="web"} 1.0' in metrics
    assert 'voicebot_personal_data_refusals_total{channel="kakao"} 1.0' in metrics
    web_send(client, conversation, "아니요")  # goodbye: the conversation ends with its inquiry record
    with client.app.state.runtime.factory.begin() as db:
        (row,) = db.scalars(select(Inquiry).where(Inquiry.channel == "web_chat")).all()
        assert (row.intent, row.outcome, row.category) == (REFUSAL_INTENT, "answered", "general")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "할머니" not in logged and "김철수" not in logged and REFUSAL_INTENT in logged


# ------------------------------------------------------------------------------------------ restart


def test_conversations_survive_a_restart(tmp_path: Path, engine) -> None:
    session = engine.new_session("direct")
    session.start()
    session.on_speech("교통")
    session.on_speech("분실물")
    after_restart = session.on_dtmf("2").reply  # the second option, pressed after the restart
    following = session.on_speech("네").reply

    with TestClient(make_app(tmp_path, engine)) as http:
        conversation = web_start(http)["conversation"]["id"]
        web_send(http, conversation, "교통")
        before = web_send(http, conversation, "분실물")
        assert before["conversation"]["quick_replies"][1]["id"] == "choice-2"
        kakao(http, "restart-user", "교통")
        kakao(http, "restart-user", "분실물")
        seen = http.get(f"/api/chat/{conversation}").json()["messages"]

    with TestClient(make_app(tmp_path, engine)) as http:  # a new process: nothing cached
        assert http.get(f"/api/chat/{conversation}").json()["messages"] == seen
        got = http.post(f"/api/chat/{conversation}/quick-replies", json={"id": "choice-2"})
        assert got.status_code == 200 and bot_texts(got.json()) == [after_restart]
        assert bot_texts(web_send(http, conversation, "네")) == [following]
        second = simple_texts(kakao(http, "restart-user", "지하철 분실물")[1])
        assert second == [after_restart]
        with http.app.state.runtime.factory.begin() as db:
            kakao_rows = db.scalar(
                select(func.count()).select_from(ChatConversation).where(ChatConversation.channel == "kakao")
            )
        assert kakao_rows == 1  # the same KakaoTalk conversation continued


def test_a_kakao_conversation_left_idle_starts_over(tmp_path: Path, engine) -> None:
    from datetime import UTC, datetime, timedelta

    now = [datetime(2026, 12, 7, 10, 0, tzinfo=UTC)]
    app = make_app(tmp_path, engine)
    app.state.runtime.chat.clock = lambda: now[0]
    with TestClient(app) as http:
        kakao(http, "idle-user", "교통")
        now[0] += timedelta(minutes=31)
        status, response = kakao(http, "idle-user", "분실물")
        texts = simple_texts(response)
        assert status == 200 and texts[0].startswith("안녕하세요") and len(texts) == 2
        with http.app.state.runtime.factory.begin() as db:
            states = sorted(db.scalars(select(ChatConversation.ended_reason)).all(), key=str)
        assert states == [None, "idle"] or states == ["idle", None]


# ----------------------------------------------------------------------------------------- bad input


def test_bad_web_input_gets_a_clear_error_and_changes_nothing(client: TestClient) -> None:
    conversation = web_start(client)["conversation"]["id"]
    web_send(client, conversation, "교통")
    before = counts(client)
    history = client.get(f"/api/chat/{conversation}").json()
    url = f"/api/chat/{conversation}/messages"
    cases = [
        (client.post(url, json={"text": ""}), 422, "입력해 주세요"),
        (client.post(url, json={"text": "  \n "}), 422, "입력해 주세요"),
        (client.post(url, json={"text": "가" * 2001}), 422, "2,000자"),
        (client.post(url, json={"text": "가" * 100_000}), 413, "너무 큽니다"),
        (client.post(url, content='{"text": "따릉이'.encode()), 400, "JSON"),
        (client.post(url, content=b"\xff\xfe"), 400, "JSON"),
        (client.post(url, json=["따릉이"]), 400, "JSON 객체"),
        (client.post(url, json={"message": "따릉이"}), 422, "text"),
        (client.post(url, json={"text": 12}), 422, "글자"),
        (
            client.post("/api/chat/" + "0" * 32 + "/messages", json={"text": "따릉이"}),
            404,
            "찾을 수 없습니다",
        ),
        (client.post("/api/chat/../../etc/messages", json={"text": "따릉이"}), 404, None),
        (client.post("/api/chat/not-an-id/messages", json={"text": "따릉이"}), 404, "찾을 수 없습니다"),
        (client.get("/api/chat/" + "f" * 32), 404, "찾을 수 없습니다"),
        (client.post(f"/api/chat/{conversation}/quick-replies", json={"id": "key-1"}), 409, "누를 수 없는"),
        (client.post(f"/api/chat/{conversation}/quick-replies", json={}), 422, "버튼"),
    ]
    for got, status, words in cases:
        assert got.status_code == status, (got.status_code, got.text)
        if words is not None:
            body = got.json()
            assert words in body["message"] and body["error"], body
    assert counts(client) == before
    assert client.get(f"/api/chat/{conversation}").json() == history
    # A request sent twice (a double tap, a network retry) is done once.
    first = client.post(url, json={"text": "분실물", "request_id": "tap-1"})
    assert first.status_code == 200
    after_first = counts(client)
    again = client.post(url, json={"text": "분실물", "request_id": "tap-1"})
    assert again.status_code == 409 and again.json()["error"] == "replayed"
    assert counts(client) == after_first


def test_kakao_checks_the_secret_and_refuses_bad_or_replayed_requests(client: TestClient) -> None:
    status, _ = kakao(
        client, "first-user", "따릉이 요금이 얼마예요?", callback="https://bot-api.kakao.com/cb/one"
    )
    assert status == 200
    before = counts(client)
    good = {
        "userRequest": {"utterance": "따릉이", "user": {"id": "u-1"}},
        "action": {"params": {}},
    }
    cases = [
        (client.post("/kakao/skill", json=good), 401, "unauthorized"),
        (
            client.post("/kakao/skill", json=good, headers={"X-Voicebot-Skill-Secret": "wrong"}),
            401,
            "unauthorized",
        ),
        (client.post("/kakao/skill", content=b"{nope", headers=HEADERS), 400, "bad_json"),
        (client.post("/kakao/skill", json=[1, 2], headers=HEADERS), 400, "bad_request"),
        (client.post("/kakao/skill", json={"action": {}}, headers=HEADERS), 400, "bad_request"),
        (
            client.post(
                "/kakao/skill", json={"userRequest": {"utterance": "따릉이", "user": {}}}, headers=HEADERS
            ),
            400,
            "missing_user",
        ),
        (
            client.post(
                "/kakao/skill",
                json={"userRequest": {"utterance": "", "user": {"id": "u-2"}}},
                headers=HEADERS,
            ),
            422,
            "bad_input",
        ),
        (
            client.post(
                "/kakao/skill",
                json={"userRequest": {"utterance": "가" * 2001, "user": {"id": "u-2"}}},
                headers=HEADERS,
            ),
            422,
            "bad_input",
        ),
        (
            client.post(
                "/kakao/skill",
                json={"userRequest": {"utterance": "가" * 100_000, "user": {"id": "u-2"}}},
                headers=HEADERS,
            ),
            413,
            "too_large",
        ),
        (
            client.post(
                "/kakao/skill",
                json={**good, "action": {"params": {"key": "12"}}},
                headers=HEADERS,
            ),
            400,
            "bad_request",
        ),
        (
            client.post(
                "/kakao/skill",
                json={"userRequest": {**good["userRequest"], "callbackUrl": "http://169.254.169.254/x"}},
                headers=HEADERS,
            ),
            400,
            "bad_callback",
        ),
    ]
    for got, status, code in cases:
        assert got.status_code == status, (got.status_code, got.text)
        assert got.json()["error"] == code and got.json()["message"]
    # The same request again (its one-time callback URL, or the same X-Request-Id): refused.
    status, body = kakao(
        client, "first-user", "따릉이 요금이 얼마예요?", callback="https://bot-api.kakao.com/cb/one"
    )
    assert status == 409 and body["error"] == "replayed"
    assert counts(client) == before
    with_id = {**HEADERS, "X-Request-Id": "req-77"}
    assert kakao(client, "first-user", "네", headers=with_id)[0] == 200
    after = counts(client)
    status, body = kakao(client, "first-user", "네", headers=with_id)
    assert status == 409 and body["error"] == "replayed" and counts(client) == after


def test_kakao_answers_a_slow_step_through_the_callback(tmp_path: Path, engine) -> None:
    sender = RecordingSender()
    app = make_app(tmp_path, engine, sender, VOICEBOT_KAKAO_BUDGET_MS="200")
    chat = app.state.runtime.chat
    converse = chat.converse

    release = threading.Event()  # the step takes as long as the test says: no clock in the asserts

    def slow(*args, **kwargs):
        release.wait(10)
        return converse(*args, **kwargs)

    session = engine.new_session("direct")
    session.start()
    expected = session.on_speech("따릉이 요금이 얼마예요?").reply
    with TestClient(app) as http:
        chat.converse = slow
        status, body = kakao(
            http, "slow-user", "따릉이 요금이 얼마예요?", callback="https://bot-api.kakao.com/cb/slow"
        )
        # answered while the step is still running; the answer itself goes to the callback afterwards
        assert status == 200 and body["useCallback"] is True and body["data"]["text"]
        assert not sender.sent
        release.set()
        assert sender.arrived.wait(10)
        ((url, payload),) = sender.sent
        assert url == "https://bot-api.kakao.com/cb/slow"
        assert payload["version"] == "2.0" and simple_texts(payload)[-1] == expected
        # Without a callback URL: a short "please wait", and the answer comes with the next reply.
        release.clear()
        status, body = kakao(http, "late-user", "따릉이 요금이 얼마예요?")
        assert status == 200 and "시간이 걸리고" in simple_texts(body)[0]
        release.set()
        time.sleep(0.8)  # the step finishes in the background
        chat.converse = converse
        status, body = kakao(http, "late-user", "아니요")
        texts = simple_texts(body)
        assert texts[0].startswith("안녕하세요")  # the late greeting and answer, then the reply
        assert expected in texts[1] and texts[-1] == session.on_speech("아니요").reply


def test_kakao_needs_a_secret_when_enabled() -> None:
    with pytest.raises(ConfigError, match="VOICEBOT_KAKAO_SECRET"):
        load_config(None, {"VOICEBOT_KAKAO_ENABLED": "true"})
    with pytest.raises(ConfigError, match="16 characters"):
        load_config(None, {"VOICEBOT_KAKAO_ENABLED": "true", "VOICEBOT_KAKAO_SECRET": "short"})
    config = load_config(None, {"VOICEBOT_KAKAO_ENABLED": "true", "VOICEBOT_KAKAO_SECRET": SECRET})
    assert config.kakao.secret == SECRET and config.kakao.header == "X-Voicebot-Skill-Secret"


def test_the_skill_is_not_served_unless_enabled(tmp_path: Path, engine) -> None:
    with TestClient(make_app(tmp_path, engine, VOICEBOT_KAKAO_ENABLED="false")) as http:
        assert http.post("/kakao/skill", json={}, headers=HEADERS).status_code == 404
        assert http.get("/chat").status_code == 200


# ------------------------------------------------------------------------------------ agent takeover


def operators(http: TestClient) -> list[dict[str, str]]:
    with http.app.state.runtime.factory.begin() as db:
        tokens = [service.create_token(db, name, "operator") for name in ("상담사 김하늘", "상담사 이바다")]
        viewer = service.create_token(db, "열람자", "viewer")
    return [{"Authorization": f"Bearer {t}"} for t in (*tokens, viewer)]


def test_operators_take_reply_hand_back_and_close(client: TestClient, engine) -> None:
    first, second, viewer = operators(client)
    conversation = web_start(client)["conversation"]["id"]
    web_send(client, conversation, "상담원 연결해 주세요")
    assert client.get("/api/chats/queue", headers=viewer).status_code == 403
    (queued,) = client.get("/api/chats/queue", headers=first).json()
    assert queued["id"] == conversation and queued["state"] == "waiting"
    assert queued["handoff_reason"] == "agent_request" and queued["handoff_id"]

    # Two operators press "take" at once: exactly one gets the chat.
    barrier = threading.Barrier(2)
    results: list[int] = []

    def take(headers: dict[str, str]) -> None:
        barrier.wait()
        results.append(client.post(f"/api/chats/{conversation}/take", headers=headers).status_code)

    threads = [threading.Thread(target=take, args=(h,)) for h in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == [200, 409]
    chat = client.get(f"/api/chats/{conversation}", headers=first).json()["conversation"]
    winner, loser = (first, second) if chat["agent_name"] == "상담사 김하늘" else (second, first)

    citizen = client.get(f"/api/chat/{conversation}").json()
    assert citizen["conversation"]["state"] == "agent"
    assert citizen["messages"][-1]["text"] == "상담사가 연결되었습니다."
    seq = citizen["messages"][-1]["seq"]
    assert (
        client.post(
            f"/api/chats/{conversation}/reply", json={"text": "안녕하세요"}, headers=loser
        ).status_code
        == 409
    )
    got = client.post(
        f"/api/chats/{conversation}/reply", json={"text": "무엇을 도와드릴까요?"}, headers=winner
    )
    assert got.status_code == 200
    body = web_send(client, conversation, "분실물 찾고 있어요")
    assert [m["role"] for m in body["messages"]] == ["user"]  # the agent answers, not the bot
    news = client.get(f"/api/chat/{conversation}?after={seq}").json()["messages"]
    assert [(m["role"], m["text"]) for m in news] == [
        ("agent", "무엇을 도와드릴까요?"),
        ("user", "분실물 찾고 있어요"),
    ]

    back = client.post(f"/api/chats/{conversation}/hand-back", headers=winner)
    assert back.status_code == 200 and back.json()["conversation"]["state"] == "bot"
    assert bot_texts(web_send(client, conversation, "따릉이 요금이 얼마예요?")) == direct(
        engine, ["따릉이 요금이 얼마예요?"]
    )
    web_send(client, conversation, "상담원 연결해 주세요")
    assert client.post(f"/api/chats/{conversation}/take", headers=second).status_code == 200
    closed = client.post(f"/api/chats/{conversation}/close", headers=second)
    assert closed.status_code == 200 and closed.json()["conversation"]["state"] == "ended"
    assert client.get("/api/chats/queue", headers=first).json() == []


def test_kakao_user_sees_the_agent_reply_with_the_next_message(client: TestClient) -> None:
    first, _, _ = operators(client)
    kakao(client, "talk-user", "상담원 연결해 주세요")
    (queued,) = client.get("/api/chats/queue", headers=first).json()
    assert queued["channel"] == "kakao"
    assert client.post(f"/api/chats/{queued['id']}/take", headers=first).status_code == 200
    client.post(f"/api/chats/{queued['id']}/reply", json={"text": "네, 말씀하세요."}, headers=first)
    status, response = kakao(client, "talk-user", "분실물 문의예요")
    texts = simple_texts(response)
    assert status == 200 and texts[:2] == ["상담사가 연결되었습니다.", "[상담사] 네, 말씀하세요."]
    status, response = kakao(client, "talk-user", "지갑이에요")
    assert simple_texts(response) == [
        "상담사에게 전달했습니다. 상담사의 답변은 다음 메시지를 보내실 때 함께 보여 드립니다."
    ]


def test_chat_page_and_assets_are_local(client: TestClient) -> None:
    page = client.get("/chat")
    assert page.status_code == 200 and "채팅 상담" in page.text and "큰 글씨" in page.text
    assert "http://" not in page.text and "https://" not in page.text
    for asset in ("chat.js", "chat.css"):
        got = client.get(f"/chat/assets/{asset}")
        assert got.status_code == 200 and len(got.text) > 500
        assert "http://" not in got.text and "https://" not in got.text
    assert client.get("/chat/assets/../app.py").status_code == 404
    spec = client.get("/openapi.json").json()["paths"]
    assert "/api/chat/{conversation_id}/messages" in spec and "/kakao/skill" in spec
    body = spec["/api/chat/{conversation_id}/messages"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["required"] == ["text"]


def test_kakao_holds_the_callback_for_the_agent_reply(tmp_path: Path, engine) -> None:
    sender = RecordingSender()
    with TestClient(make_app(tmp_path, engine, sender)) as http:
        first, _, _ = operators(http)
        kakao(http, "callback-user", "상담원 연결해 주세요")
        (queued,) = http.get("/api/chats/queue", headers=first).json()
        http.post(f"/api/chats/{queued['id']}/take", headers=first)
        status, body = kakao(
            http, "callback-user", "지갑을 잃어버렸어요", callback="https://bot-api.kakao.com/cb/agent"
        )
        # The first message after the take shows the notice at once; the next one waits for the agent.
        assert status == 200 and simple_texts(body) == ["상담사가 연결되었습니다."]
        status, body = kakao(
            http, "callback-user", "검정색이에요", callback="https://bot-api.kakao.com/cb/agent-2"
        )
        assert status == 200 and body["useCallback"] is True and "상담사" in body["data"]["text"]
        assert not sender.sent
        http.post(
            f"/api/chats/{queued['id']}/reply", json={"text": "어디에서 잃어버리셨나요?"}, headers=first
        )
        assert sender.arrived.wait(10)
        ((url, payload),) = sender.sent
        assert url == "https://bot-api.kakao.com/cb/agent-2"
        assert simple_texts(payload) == ["[상담사] 어디에서 잃어버리셨나요?"]
        # Shown once: the next message does not repeat it.
        status, body = kakao(http, "callback-user", "지하철이요")
        assert simple_texts(body) == [
            "상담사에게 전달했습니다. 상담사의 답변은 다음 메시지를 보내실 때 함께 보여 드립니다."
        ]
