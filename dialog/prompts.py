"""Everything the bot says that does not come from the knowledge base.

Spoken by TTS on the phone: short polite sentences (존댓말), digits for numbers, no symbols.
Keypad keys are named the way Korean ARS menus do: 별표 (*) and 우물 정 (#).
"""

from __future__ import annotations

import re

CATEGORY_BY_DIGIT: dict[str, str] = {
    "0": "covid",
    "1": "transport",
    "2": "water",
    "3": "general",
    "4": "directory",
    "9": "foreign",
}

CATEGORY_NAMES: dict[str, str] = {
    "covid": "코로나19",
    "transport": "교통",
    "water": "상수도",
    "general": "일반 시정",
    "directory": "전화번호 안내",
    "foreign": "외국어 상담",
}

GREETING = "안녕하세요, 서울시 120 다산콜센터 인공지능 상담원입니다."
# Said once, after the greeting, on every call that is being recorded (inbound and outbound; the text is
# set by ``DriverConfig.recording_notice``, serve's ``sip.recording_notice``).
RECORDING_NOTICE = "상담 품질 향상을 위해 통화 내용이 녹음됩니다."
MENU = (
    "궁금하신 내용을 편하게 말씀해 주시거나 메뉴 번호를 눌러 주세요. "
    "코로나19는 0번, 교통은 1번, 상수도는 2번, 일반 시정은 3번, 전화번호 안내는 4번, 외국어 상담은 9번입니다. "
    "For English, press 9. "
    "다시 들으시려면 별표를 눌러 주세요."
)
MENU_AGAIN = "다시 안내해 드리겠습니다. "
MENU_INVALID = "잘못 누르셨습니다. "

CATEGORY_PROMPTS: dict[str, str] = {
    "covid": "코로나19 안내입니다. 백신 접종, 검사, 격리, 지원금처럼 궁금하신 내용을 말씀해 주세요.",
    "transport": "교통 안내입니다. 분실물, 따릉이, 심야버스, 주정차 과태료처럼 궁금하신 내용을 말씀해 주세요.",
    "water": "상수도 안내입니다. 수도요금, 단수, 계량기 동파, 누수처럼 궁금하신 내용을 말씀해 주세요.",
    "general": "일반 시정 안내입니다. 등본 발급, 전입신고, 대형폐기물, 복지처럼 궁금하신 내용을 말씀해 주세요.",
    "directory": (
        "전화번호 안내입니다. 찾으시는 기관 이름을 말씀해 주세요. "
        "예를 들어 강남구청, 서울시청처럼 말씀해 주시면 됩니다."
    ),
}
SUBMENU_HINT = " 처음 메뉴는 우물 정, 상담원 연결은 0번입니다."

FOLLOW_UP = "더 궁금하신 점 있으세요?"
# "문자로 받아보시겠어요?": offered once per phone call after an answer, only when a text can be sent.
SMS_OFFER = "방금 안내를 문자로 받아보시겠어요? 받으시려면 네 라고 말씀하시거나 1번을, 원하지 않으시면 2번을 눌러 주세요."
SMS_SENT = "네, 안내 내용을 문자로 보내 드렸습니다."
SMS_FAILED = "죄송합니다. 지금은 문자를 보내 드리지 못했습니다."
SMS_HEADER = "[민원 안내] "
ASK_QUESTION = "네, 궁금하신 내용을 말씀해 주세요."
# A turn of only social words (dialog.turn_end.Phatic): answered as a person would, then the invitation.
HELLO_HEARD = "네, 잘 들립니다. 궁금하신 내용을 말씀해 주세요."
GREETING_BACK = "네, 안녕하세요. 궁금하신 내용을 말씀해 주세요."
REPROMPT_QUESTION = "궁금하신 내용을 말씀해 주세요. 처음 메뉴로 가시려면 우물 정 버튼을 눌러 주세요."
REPROMPT_FOLLOW_UP = "더 궁금하신 점이 있으시면 말씀해 주세요. 없으시면 없어요 라고 말씀해 주세요."
OFFER_AGENT = (
    "계속 말씀이 없으십니다. 상담원 연결을 원하시면 상담원이라고 말씀하시거나 0번을 눌러 주세요. "
    "응답이 없으시면 통화를 종료하겠습니다."
)

# Someone else's personal data is never given out, on any channel (dialog.privacy): why, and what to do.
PERSONAL_DATA_REFUSAL = (
    "죄송하지만 개인정보 보호를 위해 다른 분의 연락처나 주소, 주민등록번호, 진료 기록 같은 개인정보는 "
    "안내해 드릴 수 없습니다. "
    "본인의 정보는 신분증을 가지고 주민센터를 방문하시거나 정부24에서 직접 확인하실 수 있고, "
    "가족의 서류가 필요하시면 위임장과 신분증을 준비하셔서 주민센터를 방문해 주세요. "
    "연락이 닿지 않는 분의 안전이 걱정되시면 112나 가까운 주민센터에 도움을 요청해 주세요."
)

NOT_UNDERSTOOD = "죄송합니다. 잘 이해하지 못했습니다. 궁금하신 내용을 조금 더 자세히 말씀해 주시겠어요?"
NOT_HEARD = "죄송합니다. 잘 듣지 못했습니다. 다시 한 번 말씀해 주시겠어요?"
CLARIFY_TWO = "{a} 문의이신가요, 아니면 {b} 문의이신가요?"
CLARIFY_ONE = "{a} 문의이신가요? 맞으시면 네, 아니면 아니요라고 말씀해 주세요."
CLARIFY_REJECTED = "그럼 궁금하신 내용을 다시 한 번 말씀해 주시겠어요?"

GOODBYE = "120 다산콜센터를 이용해 주셔서 감사합니다. 좋은 하루 보내세요."
GOODBYE_AFTER_SILENCE = "응답이 없으셔서 통화를 종료하겠습니다. " + GOODBYE
GOODBYE_NO_MORE = "더 문의하실 내용이 없으신 것 같아 통화를 마치겠습니다. " + GOODBYE

HOLD = " 잠시만 기다려 주세요."
ESCALATE_AGENT = "네, 상담원에게 연결해 드리겠습니다." + HOLD
ESCALATE_LOW_CONFIDENCE = "정확한 안내를 위해 상담원에게 연결해 드리겠습니다." + HOLD
ESCALATE_FRUSTRATION = "불편을 드려 죄송합니다. 바로 상담원에게 연결해 드리겠습니다." + HOLD
ESCALATE_STAFF = " 담당 상담원에게 연결해 드리겠습니다." + HOLD
ESCALATE_FOREIGN = (
    "I will connect you to a foreign language counsellor. Please hold. "
    "외국어 상담원에게 연결해 드리겠습니다." + HOLD
)
MENU_FOREIGN = (
    "For English, Chinese, Japanese, Vietnamese and Mongolian, "
    "I will connect you to a foreign language counsellor. Please hold. "
    "외국어 상담을 선택하셨습니다. 외국어 상담원에게 연결해 드리겠습니다." + HOLD
)

EMERGENCY_REPLIES: dict[str, str] = {
    "fire": (
        "불이 났다면 지금 바로 안전한 곳으로 대피하시고 119에 신고해 주세요. "
        "저도 상담원에게 바로 연결해 드리겠습니다."
    ),
    "gas": (
        "가스 냄새가 나면 전기 스위치를 만지지 마시고 창문을 연 뒤 밖으로 나가서 119에 신고해 주세요. "
        "저도 상담원에게 바로 연결해 드리겠습니다."
    ),
    "medical": (
        "응급 상황이면 지금 바로 119에 전화해 주세요. 119에서 응급처치 방법도 알려 드립니다. "
        "저도 상담원에게 바로 연결해 드리겠습니다."
    ),
    "police": (
        "위험한 상황이면 먼저 안전한 곳으로 피하시고 지금 바로 112에 신고해 주세요. "
        "저도 상담원에게 바로 연결해 드리겠습니다."
    ),
    "suicide": (
        "많이 힘드시군요. 혼자 견디지 않으셔도 됩니다. 위급하시면 바로 119나 112에 전화해 주세요. "
        "자살예방 상담전화 109에서도 24시간 도와드립니다. 지금 상담원에게 바로 연결해 드리겠습니다."
    ),
    "general": (
        "위급한 상황이면 지금 바로 119나 112에 전화해 주세요. 저도 상담원에게 바로 연결해 드리겠습니다."
    ),
}
EMERGENCY_REPLY_EN = (
    "If this is an emergency, call 119 for fire or ambulance, or 112 for the police, right now. "
    "I am connecting you to a counsellor. "
    "위급한 상황이면 119나 112에 바로 전화해 주세요."
)
ENGLISH_FOLLOW_UP = " Is there anything else?"
CLARIFY_ONE_EN = "Is your question about {a}? Please say yes or no."
CLARIFY_TWO_EN = "Is your question about {a}, or about {b}?"
ENGLISH_GOODBYE = "Thank you for calling Seoul 120 Dasan call centre. Goodbye."
ESCALATE_AGENT_EN = "I will connect you to a counsellor. Please hold. 상담원에게 연결해 드리겠습니다."
ESCALATE_FRUSTRATION_EN = "I am sorry. I will connect you to a counsellor now. Please hold."


_INTRODUCTION_END = re.compile(r"니다\.(?:\s+|$)")


def with_notice(text: str, notice: str | None) -> str:
    """``text`` with ``notice`` said right after its first sentence that ends in "-니다." (the greeting
    that names the centre: "... 다산콜센터입니다."), or before it when it has none."""
    notice = (notice or "").strip()
    if not notice:
        return text
    found = _INTRODUCTION_END.search(text)
    if found is None:
        return f"{notice} {text}".strip()
    head, rest = text[: found.end()].rstrip(), text[found.end() :].strip()
    return f"{head} {notice} {rest}".strip()
