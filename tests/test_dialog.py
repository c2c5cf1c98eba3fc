"""Dialog engine: knowledge base, intent matching, the 120-style ARS flow and escalation.

The engine is loaded once per module (kiwipiepy takes a few seconds); every session is fresh.
Nothing here asserts timings.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from dialog import (
    Action,
    DialogEngine,
    Handoff,
    KBError,
    Reason,
    load_default_engine,
    load_kb,
    parse_kb,
    turn_to_dict,
)
from dialog.kb import CATEGORIES, default_kb_path

REPO = Path(__file__).resolve().parents[1]
VOICEBOT = REPO / ".venv" / "bin" / "voicebot"

ACTIONS = {"answer", "clarify", "escalate", "menu", "goodbye"}
CATEGORY_VALUES = {*CATEGORIES, None}
# Polite sentence endings (존댓말): 요, 니다, 까 and their question forms.
POLITE_END = re.compile(r"(요|니다|까|세요|나요|가요|시겠어요)[.?!]?$")
EMERGENCY_NUMBER = re.compile(r"119|112")


@pytest.fixture(scope="module")
def engine() -> DialogEngine:
    return load_default_engine()


def new_call(engine: DialogEngine, call_id: str = "test-call"):
    session = engine.new_session(call_id)
    session.start()
    return session


def korean_sentences(reply: str) -> list[str]:
    """The Korean sentences of a reply (English sentences of the foreign prompts are skipped)."""
    parts = [p.strip() for p in re.split(r"(?<=[.?!])\s+", reply) if p.strip()]
    return [p for p in parts if re.search(r"[가-힣]", p)]


def assert_polite(reply: str) -> None:
    sentences = korean_sentences(reply)
    assert sentences, reply
    for sentence in sentences:
        assert POLITE_END.search(sentence), f"not polite speech: {sentence!r}"


def assert_handoff(handoff: Handoff | None, reason: Reason) -> Handoff:
    assert handoff is not None
    assert handoff.reason is reason
    assert handoff.bot_replies, "the agent sees what the bot said"
    assert handoff.timestamp.tzinfo is not None
    return handoff


# ------------------------------------------------------------------------------------ knowledge base
def test_kb_loads_with_complete_entries():
    kb = load_kb()
    assert len(kb) >= 80
    ids = [e.id for e in kb]
    assert len(ids) == len(set(ids))
    assert kb.categories() >= {"covid", "transport", "water", "general", "directory", "foreign"}
    for entry in kb:
        assert entry.category in CATEGORIES
        assert entry.id.startswith(entry.category + ".")
        assert len(entry.questions) >= 2 and all(q.strip() for q in entry.questions)
        assert entry.answer.strip()
        assert entry.source.strip()
        assert entry.updated.year >= 2020
        assert entry.title.strip()
    assert any(e.requires_staff for e in kb)
    assert any(e.slots for e in kb)
    assert any(e.lang == "en" for e in kb)


def _raw_kb() -> dict:
    return yaml.safe_load(default_kb_path().read_text(encoding="utf-8"))


def test_malformed_kb_entry_is_a_clear_error(tmp_path):
    data = _raw_kb()
    victim = data["entries"][5]
    del victim["answer"]
    path = tmp_path / "kb.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KBError) as err:
        load_kb(path)
    message = str(err.value)
    assert (
        victim["id"] in message and "entry #6" in message and "'answer'" in message and "missing" in message
    )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("category", "weather", ["'category'", "weather"]),
        ("updated", "last tuesday", ["'updated'", "date"]),
        ("questions", ["하나뿐이에요"], ["'questions'", "at least 2"]),
        ("colour", "blue", ["'colour'", "unknown field"]),
    ],
)
def test_malformed_kb_fields_name_entry_and_field(field, value, words):
    data = _raw_kb()
    data["entries"][0][field] = value
    entry_id = data["entries"][0]["id"]
    with pytest.raises(KBError) as err:
        parse_kb(data, source="broken.yaml")
    message = str(err.value)
    assert "broken.yaml" in message and entry_id in message
    for word in words:
        assert word in message


def test_duplicate_id_and_bad_yaml(tmp_path):
    data = _raw_kb()
    data["entries"][1]["id"] = data["entries"][0]["id"]
    with pytest.raises(KBError, match="duplicate id"):
        parse_kb(data)
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries: [\n  - id: x", encoding="utf-8")
    with pytest.raises(KBError, match="not valid YAML"):
        load_kb(bad)
    with pytest.raises(KBError, match="cannot read"):
        load_kb(tmp_path / "missing.yaml")


# --------------------------------------------------------------------------------------- ARS flow
def test_start_greets_with_menu(engine):
    turn = engine.new_session("c1").start()
    assert turn.action is Action.MENU and turn.expects == "menu"
    assert "120 다산콜센터" in turn.reply
    for key in ("0번", "1번", "2번", "3번", "4번", "9번", "별표"):
        assert key in turn.reply
    assert turn.interruptible and not turn.end_call


@pytest.mark.parametrize(
    ("digit", "category", "word"),
    [("0", "covid", "코로나19"), ("1", "transport", "교통"), ("2", "water", "상수도"), ("3", "general", "일반 시정"),
     ("4", "directory", "전화번호")],
)  # fmt: skip
def test_keypad_menus(engine, digit, category, word):
    session = new_call(engine)
    turn = session.on_dtmf(digit)
    assert turn.action is Action.MENU and turn.category == category
    assert word in turn.reply and "우물 정" in turn.reply
    assert session.category == category and not session.ended


def test_keypad_9_foreign_language_agent(engine):
    session = new_call(engine)
    turn = session.on_dtmf("9")
    assert turn.action is Action.ESCALATE and turn.category == "foreign"
    assert "외국어 상담원" in turn.reply
    assert_handoff(session.handoff, Reason.FOREIGN_LANGUAGE)
    assert session.ended


def test_keypad_star_repeats_and_hash_returns_to_menu(engine):
    session = new_call(engine)
    again = session.on_dtmf("*")
    assert again.action is Action.MENU and again.reply.startswith("다시 안내해 드리겠습니다")
    sub = session.on_dtmf("1")
    assert session.on_dtmf("*").reply == sub.reply  # * repeats the last prompt
    main = session.on_dtmf("#")
    assert main.action is Action.MENU and main.expects == "menu" and "1번" in main.reply
    assert session.state == "menu" and session.category is None
    invalid = session.on_dtmf("7")
    assert invalid.reply.startswith("잘못 누르셨습니다")


def test_keypad_0_in_submenu_connects_agent(engine):
    session = new_call(engine)
    session.on_dtmf("2")
    turn = session.on_dtmf("0")
    assert turn.action is Action.ESCALATE
    handoff = assert_handoff(session.handoff, Reason.AGENT_REQUEST)
    assert handoff.category == "water"


def test_question_at_greeting_answered_then_polite_close(engine):
    session = new_call(engine)
    answer = session.on_speech("지갑을 버스에 두고 내렸어요")
    assert answer.action is Action.ANSWER and answer.intent == "transport.lost_bus"
    assert answer.category == "transport" and answer.expects == "yes_no"
    assert answer.reply.endswith("더 궁금하신 점 있으세요?")
    assert_polite(answer.reply)
    bye = session.on_speech("아니요, 없어요")
    assert bye.action is Action.GOODBYE and bye.end_call and not bye.interruptible
    assert "감사합니다" in bye.reply and "좋은 하루" in bye.reply
    assert session.ended and session.handoff is None
    assert session.on_speech("여보세요") is bye  # events after the end return the final turn


def test_yes_after_answer_asks_for_the_next_question(engine):
    session = new_call(engine)
    session.on_speech("따릉이 빌리는 방법 좀 알려 주세요")
    turn = session.on_speech("네 있어요")
    assert turn.action is Action.MENU and turn.expects == "question"
    nxt = session.on_speech("수도요금 납부 방법 알려 주세요")
    assert nxt.action is Action.ANSWER and nxt.category == "water"


@pytest.mark.parametrize("closing", ["아 없어요", "음, 아니요 됐어요", "네 감사합니다"])
def test_nothing_more_after_yes_closes_the_call(engine, closing):
    """ "더 궁금하신 점 있으세요?" "네" "네, 궁금하신 내용을 말씀해 주세요." "아 없어요": goodbye, not a
    clarifying question about towed cars."""
    session = new_call(engine)
    session.on_speech("따릉이 빌리는 방법 좀 알려 주세요")
    session.on_speech("네")
    bye = session.on_speech(closing)
    assert bye.action is Action.GOODBYE and session.ended


@pytest.mark.parametrize("state", ["follow_up", "question"])
def test_no_with_a_new_question_is_the_question(engine, state):
    session = new_call(engine)
    session.on_speech("지갑을 버스에 두고 내렸어요")
    if state == "question":
        session.on_speech("네")
    turn = session.on_speech("아니요 따릉이 빌리는 방법이요")
    assert not session.ended and turn.action in (Action.ANSWER, Action.CLARIFY)
    assert "따릉이" in turn.reply


def test_spoken_menu_choice(engine):
    session = new_call(engine)
    turn = session.on_speech("교통이요")
    assert turn.action is Action.MENU and turn.category == "transport"


def test_no_input_reprompts_then_offers_agent_then_closes(engine):
    session = new_call(engine)
    first, second = session.on_no_input(), session.on_no_input()
    assert first.action is Action.MENU and second.action is Action.MENU
    offer = session.on_no_input()
    assert offer.expects == "yes_no" and "상담원" in offer.reply
    bye = session.on_no_input()
    assert bye.action is Action.GOODBYE and bye.end_call and session.ended


def test_no_input_after_offer_accepted_escalates(engine):
    session = new_call(engine)
    for _ in range(3):
        session.on_no_input()
    turn = session.on_speech("네")
    assert turn.action is Action.ESCALATE
    assert_handoff(session.handoff, Reason.AGENT_REQUEST)


def test_no_input_after_an_answer_closes(engine):
    session = new_call(engine)
    session.on_speech("지갑을 버스에 두고 내렸어요")
    assert session.on_no_input().action is Action.MENU
    assert session.on_no_input().action is Action.MENU
    bye = session.on_no_input()
    assert bye.action is Action.GOODBYE and bye.end_call


@pytest.mark.parametrize(
    "text", ["상담원 연결해 주세요", "사람 바꿔 주세요", "직원 바꿔주세요", "연결해 주세요"]
)
def test_agent_request_escalates_with_context(engine, text):
    session = new_call(engine, "call-42")
    session.on_speech("따릉이 빌리는 방법 좀 알려 주세요")
    turn = session.on_speech(text)
    assert turn.action is Action.ESCALATE and turn.expects == "none"
    assert "상담원" in turn.reply
    handoff = assert_handoff(turn.handoff, Reason.AGENT_REQUEST)
    assert handoff is session.handoff
    assert handoff.caller_utterances == ("따릉이 빌리는 방법 좀 알려 주세요", text)
    assert handoff.category == "transport"
    assert handoff.call_id == "call-42" and handoff.language == "ko"
    assert handoff.bot_replies[-1] == turn.reply and len(handoff.bot_replies) >= 3
    data = handoff.to_dict()
    assert data["reason"] == "agent_request" and data["caller_utterances"][-1] == text


def test_office_connection_is_not_an_agent_request(engine):
    turn = engine.ask("강남구청 연결해 주세요")
    assert turn.action is not Action.ESCALATE or turn.handoff.reason is not Reason.AGENT_REQUEST


def test_low_confidence_twice_escalates(engine):
    session = new_call(engine)
    first = session.on_speech("음 그러니까 그게 저기 뭐냐면")
    assert first.action is Action.CLARIFY and not session.ended
    second = session.on_speech("아 그거 있잖아요 그거")
    assert second.action is Action.ESCALATE
    handoff = assert_handoff(session.handoff, Reason.LOW_CONFIDENCE)
    assert len(handoff.caller_utterances) == 2


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("여보세요?", "들립니다"),
        ("네, 여보세요 들리세요?", "들립니다"),
        ("안녕하세요.", "안녕하세요"),
        ("저기요", "말씀해"),
    ],
)
def test_hello_and_greetings_are_answered_in_kind_not_as_misunderstood(engine, text, word):
    session = new_call(engine)
    turn = session.on_speech(text)
    assert turn.action is Action.MENU and word in turn.reply and "말씀해 주세요" in turn.reply
    assert session.state == "menu"  # the keypad menu still works
    assert session.on_dtmf("1").category == "transport"


def test_hello_does_not_count_against_the_caller_but_does_not_loop(engine):
    session = new_call(engine)
    session.on_speech("여보세요?")
    assert session.on_speech("버스에 지갑을 두고 내렸어요").action is Action.ANSWER
    assert session.on_speech("안녕하세요").action is Action.MENU  # after an answer, too
    session = new_call(engine)
    turns = [session.on_speech("여보세요?") for _ in range(4)]
    assert [t.action for t in turns] == [Action.MENU, Action.MENU, Action.CLARIFY, Action.ESCALATE]


def test_unclear_speech_from_the_recogniser_asks_to_repeat(engine):
    session = new_call(engine)
    turn = session.on_speech("지갑을 버스에", stt_confidence=0.1)
    assert turn.action is Action.CLARIFY and "다시" in turn.reply


@pytest.mark.parametrize("text", ["아 진짜 짜증나네 왜 이렇게 못 알아들어요", "몇 번을 말해야 돼요"])
def test_frustration_escalates(engine, text):
    session = new_call(engine)
    turn = session.on_speech(text)
    assert turn.action is Action.ESCALATE and "죄송합니다" in turn.reply
    assert_handoff(session.handoff, Reason.FRUSTRATION)


def test_repeated_question_after_answer_escalates(engine):
    session = new_call(engine)
    session.on_speech("따릉이 빌리는 방법 좀 알려 주세요")
    turn = session.on_speech("따릉이 빌리는 방법 좀 알려 주세요")
    assert turn.action is Action.ESCALATE
    handoff = assert_handoff(session.handoff, Reason.FRUSTRATION)
    assert handoff.detail == "repeated question"


def test_requires_staff_entry_escalates(engine):
    staff = [e for e in engine.kb if e.requires_staff]
    assert staff
    session = new_call(engine)
    turn = session.on_speech("제가 신청한 코로나 생활지원비 지급 상태 조회해 주세요")
    assert turn.action is Action.ESCALATE and turn.intent == "covid.support_payment_status"
    assert "상담원" in turn.reply
    handoff = assert_handoff(session.handoff, Reason.REQUIRES_STAFF)
    assert handoff.intent == "covid.support_payment_status" and handoff.category == "covid"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("아버지가 갑자기 쓰러졌어요", "119"),
        ("엄마가 숨을 못 쉬어요", "119"),
        ("누가 집에 침입했어요", "112"),
        ("죽고 싶어요", "109"),
        ("부엌에서 불이 났어요", "119"),
        ("가스 냄새가 나요", "119"),
        ("할머니가 스러지셨어요", "119"),  # Whisper often hears 쓰 as 스
        ("가슴이 아파요", "119"),
        ("숨이 너무 차요", "119"),
        ("넘어졌는데 못 일어나겠어요", "119"),
    ],
)
def test_emergency_escalates_at_once_with_119_or_112(engine, text, number):
    session = new_call(engine)
    turn = session.on_speech(text)
    assert turn.action is Action.ESCALATE
    assert EMERGENCY_NUMBER.search(turn.reply) and number in turn.reply
    assert turn.interruptible is False
    assert_handoff(turn.handoff, Reason.EMERGENCY)
    assert session.ended
    single = engine.ask(text)
    assert single.action is Action.ESCALATE and single.handoff.reason is Reason.EMERGENCY
    assert single.interruptible is False and EMERGENCY_NUMBER.search(single.reply)


@pytest.mark.parametrize(
    "text",
    [
        "새로운 서비스 개발 작업에 들어갔다고 들었어요",  # 개발 작업 holds 발작
        "개발작업 때문에 도로가 막혔어요",  # the same without the space STT may drop
        "교통사고 과태료는 어디서 내요",
        "구급차 전용 주차구역에 주차하면 과태료가 얼마예요",
        "사고 났을 때 과태료 감면 받을 수 있나요",
        "발작 증상이 있으면 어느 병원으로 가야 하나요",
        "가스 냄새가 나면 어디에 신고해야 돼요",
        "운동 강도가 높은 프로그램도 있나요",
        "폭설로 교통 마비가 됐는데 버스 운행하나요",
        "쓰러지지는 않았는데 요즘 어지러워서 보건소 검진 받고 싶어요",
    ],
)
def test_emergency_words_in_ordinary_questions_are_not_emergencies(engine, text):
    turn = engine.ask(text)
    assert not (turn.handoff and turn.handoff.reason is Reason.EMERGENCY), turn.reply
    assert "119" not in turn.reply


@pytest.mark.parametrize(
    "text",
    [
        "교통사고가 났어요 빨리 와 주세요",
        "애가 갑자기 발작을 해요",
        "경련이 멈추지 않아요",  # the negation belongs to 멈추다, not to the seizure
        "가스 냄새가 나는데 어디에 신고해요",  # present, not hypothetical
        "불이 났는데 어디로 대피해요",
        "교통사고로 크게 다쳤는데 구급차 좀 보내 주세요",
    ],
)
def test_emergencies_that_mention_information_topics_still_escalate(engine, text):
    turn = engine.ask(text)
    assert turn.handoff is not None and turn.handoff.reason is Reason.EMERGENCY
    assert EMERGENCY_NUMBER.search(turn.reply)


def test_emergency_wins_in_every_state(engine):
    session = new_call(engine)
    session.on_dtmf("2")
    session.on_speech("수도요금 납부 방법 알려 주세요")
    turn = session.on_speech("잠깐만요 할머니가 쓰러지셨어요")
    assert turn.action is Action.ESCALATE and "119" in turn.reply and not turn.interruptible


def test_idioms_are_not_emergencies(engine):
    for text in ("짜증나 죽겠네", "층간소음 때문에 시끄러워 못 살겠어요"):
        turn = engine.ask(text)
        assert not (turn.handoff and turn.handoff.reason is Reason.EMERGENCY), text


def test_english_speech_goes_to_english_path(engine):
    session = new_call(engine)
    turn = session.on_speech("Where do I buy a transport card", language="en")
    assert turn.action is Action.ANSWER and turn.intent == "foreign.en_tmoney"
    assert turn.reply.endswith("Is there anything else?")
    bye = session.on_speech("No, thank you", language="en")
    assert bye.action is Action.GOODBYE and bye.end_call


def test_english_out_of_faq_and_other_languages_go_to_foreign_agent(engine):
    for text, lang in [("My landlord will not return my deposit", "en"), ("我想问一下怎么办理交通卡", "zh")]:
        session = new_call(engine)
        turn = session.on_speech(text, language=lang)
        assert turn.action is Action.ESCALATE and turn.category == "foreign"
        assert_handoff(session.handoff, Reason.FOREIGN_LANGUAGE)
    emergency = engine.ask("Help, my friend collapsed and is not breathing", language="en")
    assert emergency.handoff.reason is Reason.EMERGENCY and "119" in emergency.reply


def test_hangul_reported_as_english_is_korean(engine):
    turn = engine.ask("따릉이 빌리는 방법 알려주세요", language="en")
    assert turn.action is Action.ANSWER and turn.intent == "transport.bike_rental"


def test_close_candidates_get_a_clarify_question(engine):
    session = new_call(engine)
    turn = session.on_speech("카드 충전이요")
    assert turn.action is Action.CLARIFY and turn.expects == "choice"
    assert "문의이신가요, 아니면" in turn.reply
    first, second = engine.kb.get("transport.climate_card"), engine.kb.get("transport.transport_card")
    assert first.title in turn.reply and second.title in turn.reply
    answer = session.on_speech("두 번째요")
    assert answer.action is Action.ANSWER and answer.intent == "transport.transport_card"


def test_single_plausible_intent_is_confirmed(engine):
    session = new_call(engine)
    turn = session.on_speech("구청에 물어볼 게 있어요")
    assert turn.action is Action.CLARIFY and turn.expects == "choice"
    assert "문의이신가요?" in turn.reply and "문의이신가요, 아니면" not in turn.reply
    assert turn.intent is not None
    answer = session.on_speech("네 맞아요")
    assert answer.intent == turn.intent and answer.action in (Action.ANSWER, Action.ESCALATE, Action.CLARIFY)
    other = new_call(engine)
    other.on_speech("구청에 물어볼 게 있어요")
    rejected = other.on_speech("아니요")
    assert rejected.action is Action.CLARIFY and rejected.expects == "question" and not other.ended


def test_out_of_scope_is_not_answered(engine):
    for text in ("오늘 주식 뭐 살까요", "재미있는 영화 추천해 주세요", "우리 강아지 이름 지어 주세요"):
        assert engine.ask(text).action is not Action.ANSWER, text


def test_barge_in_is_recorded(engine):
    session = new_call(engine)
    session.on_barge_in()
    history = session.history
    assert history[0].role == "bot" and history[0].interrupted
    assert history[-1].kind == "barge_in"


# ----------------------------------------------------------------------------------- ask contract
@pytest.mark.parametrize(
    "text",
    ["지갑을 버스에 두고 내렸어요", "상담원 바꿔 주세요", "카드 충전이요", "오늘 날씨 어때요", "쓰러졌어요"],
)
def test_ask_turn_to_dict_contract(engine, text):
    data = turn_to_dict(engine.ask(text))
    assert {"action", "category", "intent", "confidence", "reply"} <= set(data)
    assert data["action"] in ACTIONS
    assert data["category"] in CATEGORY_VALUES
    assert data["intent"] is None or data["intent"] in engine.kb
    assert 0.0 <= data["confidence"] <= 1.0
    assert isinstance(data["reply"], str) and data["reply"]
    assert (data["handoff"] is not None) == (data["action"] == "escalate")
    json.dumps(data, ensure_ascii=False)


@pytest.mark.parametrize(
    "text",
    ["지갑을 버스에 두고 내렸어요", "수도 계량기가 얼어서 터졌어요", "주민등록등본 어디서 떼요", "상담원 연결해 주세요",
     "카드 충전이요", "음 그게 뭐냐면", "쓰러졌어요", "강남구청 전화번호 알려 주세요"],
)  # fmt: skip
def test_replies_are_polite_korean(engine, text):
    assert_polite(engine.ask(text).reply)


def test_all_kb_answers_and_prompts_are_polite(engine):
    from dialog import prompts

    for entry in engine.kb:
        if entry.lang == "ko":
            assert_polite(entry.answer)
    for name in ("GREETING", "MENU", "FOLLOW_UP", "NOT_UNDERSTOOD", "NOT_HEARD", "GOODBYE", "ESCALATE_AGENT",
                 "ESCALATE_LOW_CONFIDENCE", "ESCALATE_FRUSTRATION", "OFFER_AGENT", "REPROMPT_QUESTION"):  # fmt: skip
        assert_polite(getattr(prompts, name))
    for reply in prompts.EMERGENCY_REPLIES.values():
        assert_polite(reply)


def test_cli_ask_json():
    if not VOICEBOT.exists():
        pytest.skip("voicebot entry point not installed in .venv")
    proc = subprocess.run(
        [str(VOICEBOT), "ask", "지갑을 버스에 두고 내렸어요", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data["action"] == "answer"
    assert data["category"] == "transport" and data["intent"] == "transport.lost_bus"
    assert 0.5 <= data["confidence"] <= 1.0
    assert "버스" in data["reply"]


# ------------------------------------------------------------------------------- eval quality gate
def test_eval_set_quality_gate(engine):
    """Accuracy on the labelled eval set (independent of the KB examples). Quality, not timing."""
    from benchmarks import dialog as bench

    items = bench.load_eval()
    kb_questions = {q for e in engine.kb for q in e.questions}
    assert not [i["text"] for i in items if i["text"] in kb_questions], "eval items copied into the KB"
    report = bench.evaluate(engine, items)
    assert report["in_scope_items"] >= 250
    assert report["intent_accuracy"] >= 0.90  # the target
    assert report["wrong_answer_rate"] <= 0.02
    assert report["emergency_recall"] == 1.0
    assert report["not_emergency_items"] >= 40
    assert report["emergency_precision"] >= 0.95
    assert report["explicit_request_recall"] == 1.0
    assert report["escalation_recall_by_reason"]["frustration"] == 1.0
    assert report["oos_false_answer_rate"] <= 0.10
