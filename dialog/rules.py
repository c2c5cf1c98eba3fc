"""Rule-based detectors that run before intent matching.

They work on ``compact`` text (normalised, no spaces) because STT spacing is unreliable. Emergencies
are found by ``dialog.emergency`` (keywords checked against morphemes, negation and context); idioms
that only sound alarming are deliberately left out there (짜증나 죽겠네, 시끄러워 못 살겠어요).
"""

from __future__ import annotations

import re
from typing import Literal

from .emergency import Emergency, shared_detector
from .normalize import compact

_LANGUAGE_NAMES = r"(영어|중국어|일본어|외국어|베트남어|몽골어|러시아어|태국어|통역)"
_AGENT_WORD = r"(상담원|상담사|상당원|상담원님|상담사님|직원|교환원|담당자|담당직원|사람)"
_AGENT_STRONG = re.compile(
    r"상담원|상담사|상당원|교환원|담당자(연결|바꿔|통화|랑|하고|좀)|"
    + _AGENT_WORD
    + r"(님|분)?(이랑|하고|과|와|한테|을|를|좀|으로|로)?.{0,4}(바꿔|바꾸|연결|통화|얘기|이야기|대화)|"
    r"(진짜|실제|진짜로)사람|사람목소리|사람(이|은)?없(어|나|어요|나요|습니까)?$|기계말고|로봇말고|에이알에스말고|ars말고|"
    r"직원(이요|분이요|분요)$|사람(이요|요)$"
)
_AGENT_WEAK = re.compile(r"연결(해|시켜)(주|줘|줄)|바꿔(주|줘)|연결부탁")
# What may surround a bare "연결해 주세요" that names nothing to connect to (then it means an agent).
_AGENT_BARE_FILLER = re.compile(
    r"그냥|빨리|얼른|저기요|저기|좀|네|예|드립니다|드려요|합니다|하세요|세요|십시오|요"
)
_AGENT_EN = re.compile(
    r"(talk|speak|connect)( me)? (to|with) (a |an |the )?(real |live )?(person|human|agent|operator|someone|somebody|counsel)|"
    r"real person|human please|live agent|operator please"
)
_FRUSTRATION = re.compile(
    r"짜증|(?<![전대])화나|화가나|열받|몇번을(말|얘기|이야기|해야|반복|설명)|몇번이나(말|얘기|전화)|몇번째(전화|말|얘기|똑같)|"
    r"몇번말|같은말|똑같은(말|얘기|소리)|같은얘기|말귀|못알아듣|못알아들|"
    r"알아듣지|답답|장난하|장난해|장난치|뭐하는거|어이없|세번째전화|계속같은|자꾸같은|제대로좀|말을못알아"
)
_FRUSTRATION_EN = re.compile(
    r"useless|stupid|annoying|frustrat|ridiculous|you don't understand|not listening"
)

_NO = re.compile(
    r"^(아니|아뇨|아닙니다|없어|없습니다|없네|없구|됐어|됐습니다|됐고|괜찮|감사|고맙|고마워|수고|끊을게|끊겠|끊어|그만|"
    r"이제됐|이제없|더없|충분|알겠|알았|잘알|네감사|예감사|네고맙|네괜찮|네없|네됐|네알겠|예알겠)"
)
_YES = re.compile(
    r"^(네|예|응|맞아|맞습니다|맞아요|맞는|그래요|그렇습니다|있어|있습니다|있는데|있어요|하나더|또있|그리고|질문|물어볼|궁금한거)"
)

_FILLERS = {"아", "어", "음", "으음", "저", "에"}
_NO_EN = re.compile(r"^(no|nope|nothing|thatsall|thankyou|thanks|bye|goodbye)")
_YES_EN = re.compile(r"^(yes|yeah|yep|sure|ok|okay)")
_MAX_YES_NO_CHARS = 16

_MENU_DIGIT_WORDS = {
    "0": ("0번", "영번", "공번"),
    "1": ("1번", "일번"),
    "2": ("2번", "이번"),
    "3": ("3번", "삼번"),
    "4": ("4번", "사번"),
    "9": ("9번", "구번"),
}
_MENU_TOPIC_WORDS = {
    "0": ("코로나", "코로나19", "코비드"),
    "1": ("교통",),
    "2": ("상수도", "수도", "수돗물"),
    "3": ("일반", "시정", "일반시정", "일반민원"),
    "4": ("전화번호", "전화번호안내", "번호안내"),
    "9": ("외국어", "영어", "english", "외국어상담"),
}
_POLITE_TAIL = re.compile(r"(이요|요|입니다|이에요|예요|으로|로|할게요|해주세요|주세요|눌렀어요)$")


def detect_emergency(text: str, lang: str = "ko") -> Emergency | None:
    """``EmergencyDetector.detect`` on a detector shared by callers without a dialog engine."""
    return shared_detector().detect(text, lang)


def agent_request_strength(text: str, lang: str = "ko") -> Literal["strong", "weak", "none"]:
    """'strong': the caller clearly asks for a person; 'weak': a bare '연결해 주세요' that may instead
    name an office to be connected to, so the caller's topic is checked first."""
    if lang == "en":
        return "strong" if _AGENT_EN.search(text.lower()) else "none"
    c = compact(text)
    if re.search(_LANGUAGE_NAMES + r".{0,6}" + _AGENT_WORD, c):
        return "none"  # "영어 하는 상담원 있어요?" asks about the foreign-language service
    if _AGENT_STRONG.search(c):
        return "strong"
    if _AGENT_WEAK.search(c):
        # "연결해 주세요" alone names no office to connect to: the caller wants an agent.
        rest = _AGENT_BARE_FILLER.sub("", _AGENT_WEAK.sub("", c))
        return "strong" if not rest else "weak"
    return "none"


def is_frustrated(text: str, lang: str = "ko") -> bool:
    if lang == "en":
        return bool(_FRUSTRATION_EN.search(text.lower()))
    return bool(_FRUSTRATION.search(compact(text)))


def is_no(text: str) -> bool:
    """A short closing answer to '더 궁금하신 점 있으세요?' (아니요, 없어요, 됐어요, 감사합니다 ...)."""
    c = compact(text)
    if len(c) > _MAX_YES_NO_CHARS:
        return False
    words = text.replace(",", " ").split()
    while len(words) > 1 and words[0].strip(".") in _FILLERS:  # "아 없어요", "음, 아니요"
        words.pop(0)
    c = compact(" ".join(words))
    return bool(_NO.match(c) or _NO_EN.match(c))


# The words of a closing answer; a "no" made only of these has nothing after it ("아니요 따릉이 요금이요" has).
_CLOSING_WORDS = sorted(
    (
        "아니요 아니오 아니에요 아니야 아니 아뇨 아닙니다 없어요 없습니다 없어 없네요 없구요 없고요 됐어요 됐습니다 "
        "됐어 됐고요 괜찮아요 괜찮습니다 괜찮아 감사합니다 감사해요 고맙습니다 고마워요 고마워 수고하세요 "
        "수고하셨습니다 수고많으셨습니다 그만 이제 더 다 충분해요 충분합니다 알겠어요 알겠습니다 알았어요 잘 "
        "네 예 아 어 음 으음 저 에 요 그럼 이만 끊을게요 끊겠습니다 정말 진짜 물어볼 궁금한 거 것 게 건 없"
    ).split(),
    key=len,
    reverse=True,
)
_BARE_NO = re.compile("^(" + "|".join(_CLOSING_WORDS) + ")+$")  # fillers are among the words


def is_bare_no(text: str) -> bool:
    """A closing answer and nothing more ("아 없어요", "아니요 괜찮습니다", "네 감사합니다")."""
    return is_no(text) and bool(_BARE_NO.match(compact(text)))


_BARE_YES = re.compile(
    r"^((네|예|응|맞아|맞습니다|맞아요|맞는데요|그래요|그렇습니다|있어|있습니다|있는데요|있어요|좀|그|저|요)+|"
    r"(yes|yeah|yep|sure|ok|okay)+)$"
)


def is_bare_yes(text: str) -> bool:
    """Only a yes ("네", "네 있어요", "예 맞아요"), with no question in it."""
    return bool(_BARE_YES.match(compact(text)))


def is_yes(text: str) -> bool:
    c = compact(text)
    return len(c) <= _MAX_YES_NO_CHARS and bool(_YES.match(c) or _YES_EN.match(c)) and not is_no(text)


def spoken_menu_digit(text: str) -> str | None:
    """A menu choice said instead of pressed ("2번이요", "교통이요"); only for short utterances."""
    c = compact(text)
    if len(c) > 8:
        return None
    core = _POLITE_TAIL.sub("", c)
    for digit, words in _MENU_DIGIT_WORDS.items():
        if core in words or core == digit:
            return digit
    for digit, words in _MENU_TOPIC_WORDS.items():
        if core in words:
            return digit
    return None


def ordinal_choice(text: str) -> int | None:
    """0 or 1 when the caller picks the first or second offered option by position."""
    c = compact(text)
    if re.search(r"첫번째|첫째|처음거|앞에거|앞의거|앞에꺼|앞엣거|1번|일번|전자", c):
        return 0
    if re.search(r"두번째|둘째|뒤에거|뒤의거|뒤에꺼|나중거|2번|이번거|후자", c):
        return 1
    return None
