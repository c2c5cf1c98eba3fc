"""Requests for someone else's personal data (issue 17): refused politely by the real dialog engine with the
shipped knowledge base, in any state of a call; the caller's own data and offices' public numbers and
addresses are ordinary questions. (The chat and voice paths and their counter: tests/test_chat.py and
tests/test_driver.py.)"""

from __future__ import annotations

import re

import pytest

from dialog import REFUSAL_INTENT, Action, DialogEngine, asks_for_others_data, load_default_engine, prompts

# As callers say them, and as a phone recogniser writes them (spacing, 저나번호, 주민번오, 주쏘).
OTHERS = [
    "옆집 할머니 전화번호 좀 알려주세요",
    "우리 아들 주민등록번호 조회해 주세요",
    "김철수 씨 주소가 어떻게 되나요",
    "제 남편 병원 기록 알 수 있을까요",
    "다른 사람 민원 처리 결과 알려주세요",
    "옆집 할머니한테 급하게 연락해야 하는데 전화번호 좀 알려 주세요",
    "윗집 사람 연락처 좀 알 수 있을까요",
    "박영희님 휴대폰 번호 좀 가르쳐 주세요",
    "이 전화번호 주인이 누군지 알고 싶어요",
    "우리 딸 진료 기록 좀 확인해 주세요",
    "저희 어머니 주민 번호가 뭐예요",
    "이웃집 아저씨 어디 사시는지 알려 주세요",
    "전 남편 주소 좀 찾아 주세요",
    "홍길동이라는 사람 전화번호 알려줘",
    "친구 집 주소 조회 가능한가요",
    "우리 할아버지 건강검진 결과 좀 알려 주세요",
    "남의 민원 내용 좀 볼 수 있어요",
    "세입자 연락처 알려주실 수 있나요",
    "옆집 아줌마 핸드폰 번호요",
    "동생 계좌번호 좀 조회해 주세요",
    "이 차 주인 연락처 알려 주세요",
    "다른 분 개인정보 조회돼요",
    "전화번호 좀 알려 주세요 옆집 할머니요",
    "옆집할머니 저나번호 좀",
    "우리아들 주민번오 조회",
    "김철수씨 주쏘",
]
# The caller's own data, public office numbers and addresses, procedures done for a relative.
NOT_OTHERS = [
    "제 주민등록등본 발급 방법",
    "내 전화번호 변경",
    "주민센터 전화번호",
    "구청 주소",
    "제 주소 변경은 어떻게 해요",
    "강남구청 주소 알려 주세요",
    "서울 시청 대표 전화번호가 뭐예요",
    "노원구청 전화번호 좀 알려 주세요",
    "성북구 보건소 전화번호 알려 주세요",
    "전철 분실물 센터 전화번호 좀 알려 주세요",
    "지하철 고객 센터 전화번호 알려 주세요",
    "이사했는데 주소 이전은 언제까지 해야 돼요",
    "남편 주소 이전 신고는 어떻게 하나요",
    "우리 아들 등본 대리 발급하려면 뭐가 필요해요",
    "제 민원 처리 결과 알려 주세요",
    "민원 처리 결과 어디서 확인해요",
    "우리 아들 학교 전화번호 알려 주세요",
    "할머니가 주민센터 전화번호 알려 달래요",
    "제 전화번호를 옆집 할머니한테 알려줘도 되나요",
    "아이디 찾기 전화번호 알려 주세요",
    "개인정보 유출 신고는 어디서 해요",
    "담당자님 전화번호 알려 주세요",
    "버스 번호 알려 주세요",
    "민원 접수 번호 어떻게 확인해요",
    "친구가 강남구에 사는데 강남구청 전화번호 알려 주세요",
    "저희 할머니 코로나 주사 맞히려고 하는데 예약 어떻게 하죠",
    "옆집 개가 밤새 짖어서 시끄러워요",
]


@pytest.fixture(scope="module")
def engine() -> DialogEngine:
    return load_default_engine()


def test_the_sets_are_varied_enough():
    assert len(set(OTHERS)) >= 15 and len(set(NOT_OTHERS)) >= 15


@pytest.mark.parametrize("text", OTHERS)
def test_someone_elses_data_is_refused_with_why_and_what_to_do(engine, text):
    assert asks_for_others_data(text)
    turn = engine.ask(text)
    assert turn.action is Action.ANSWER and turn.intent == REFUSAL_INTENT and turn.handoff is None
    assert turn.reply == prompts.PERSONAL_DATA_REFUSAL
    call = engine.new_session("privacy")
    call.start()
    refused = call.on_speech(text)
    assert refused.intent == REFUSAL_INTENT and refused.expects == "yes_no"
    assert refused.reply == f"{prompts.PERSONAL_DATA_REFUSAL} {prompts.FOLLOW_UP}"
    assert call.state == "follow_up" and not call.ended


@pytest.mark.parametrize("text", NOT_OTHERS)
def test_own_data_and_public_offices_are_not_refused(engine, text):
    assert not asks_for_others_data(text)
    assert engine.ask(text).intent != REFUSAL_INTENT
    call = engine.new_session("privacy")
    call.start()
    assert call.on_speech(text).intent != REFUSAL_INTENT


def test_the_refusal_is_polite_and_says_why_and_what_instead():
    sentences = [s for s in re.split(r"(?<=[.?!])\s+", prompts.PERSONAL_DATA_REFUSAL) if s]
    assert all(re.search(r"(니다|세요|요)\.$", s) for s in sentences), sentences
    assert "개인정보 보호" in sentences[0] and "안내해 드릴 수 없습니다" in sentences[0]  # why
    assert "신분증" in sentences[1] and "주민센터" in sentences[1] and "정부24" in sentences[1]  # instead


def test_refused_in_any_state_and_again_when_asked_again(engine):
    """In a sub-menu and twice in a row: refused each time, never escalated as a repeated question, and
    never offered by text message."""
    call = engine.new_session("privacy-states")
    call.enable_sms_offer()
    call.start()
    call.on_dtmf("4")  # the directory menu: "찾으시는 기관 이름을 말씀해 주세요"
    first = call.on_speech("옆집 할머니 전화번호 좀 알려주세요")
    again = call.on_speech("옆집 할머니 전화번호 좀 알려주세요")
    assert first.intent == again.intent == REFUSAL_INTENT and not call.ended
    assert first.sms_text is None and prompts.SMS_OFFER not in first.reply
    assert call.on_speech("아니요").action is Action.GOODBYE


def test_a_request_for_an_agent_or_an_emergency_still_comes_first(engine):
    assert engine.ask("상담원 연결해서 김철수 씨 주소 좀 알려 주세요").action is Action.ESCALATE
    assert engine.ask("옆집 할머니가 쓰러지셨어요 주소 좀 알려주세요").action is Action.ESCALATE


def test_a_misheard_request_is_asked_again_not_refused(engine):
    call = engine.new_session("privacy-unclear")
    call.start()
    turn = call.on_speech("옆집 할머니 전화번호 좀 알려주세요", stt_confidence=0.1)
    assert turn.intent != REFUSAL_INTENT and turn.reply == prompts.NOT_HEARD
