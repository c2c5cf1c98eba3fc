"""Rule-based detectors that run before intent matching.

They work on ``compact`` text (normalised, no spaces) because STT spacing is unreliable. Emergency
patterns favour recall: a false alarm costs an agent a minute, a missed emergency can cost a life.
Idioms that only sound alarming are deliberately left out (짜증나 죽겠네, 시끄러워 못 살겠어요).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .normalize import compact

EmergencyKind = Literal["fire", "gas", "medical", "police", "suicide", "general"]

# Order matters: the first kind that matches decides which number the caller is told to ring.
_EMERGENCY_KO: tuple[tuple[EmergencyKind, re.Pattern[str]], ...] = (
    (
        "suicide",
        re.compile(
            r"죽고싶|죽고만싶|자살|살고싶지않|살기싫|살아서뭐|죽어버리|죽으려고|뛰어내리|목숨을끊|"
            r"극단적(인)?선택|생을마감|유서|스스로목숨|목을매"
        ),
    ),
    ("gas", re.compile(r"가스(가)?(새|냄새|누출|샌)")),
    (
        "fire",
        re.compile(
            r"불이났|불났|불이붙|불붙었|불길|화재가|화재났|화재발생|타는냄새|폭발|연기나|"
            r"연기가(막|너무|계속|엄청|많이|자꾸)?(나|자욱|올라|새|들어|피어|가득|심하|많이)"
        ),
    ),
    (
        "police",
        re.compile(
            r"도둑|강도|침입|누(가|군가).{0,12}(들어오|들어왔|문을열|문열)|따라와|따라오고|쫓아|스토킹|스토커|"
            r"때려|때리고|맞고있|폭행당|폭행하|폭행을|칼(을|들|로|든)|흉기|난동|납치|협박|위협|성추행|성폭행|"
            r"몰래카메라|묻지마"
        ),
    ),
    (
        "medical",
        # [쓰스]: Whisper base often loses the tense onset (쓰러지며 -> 스러지면); recall beats precision here.
        re.compile(
            r"[쓰스]러[지졌져]|의식(이|을)?(없|잃)|숨(을|이)?(잘|제대로)?(못|안)쉬|숨이.{0,4}(차|막|안|가빠)|"
            r"숨쉬기.{0,4}(힘들|어렵)|호흡(이)?(곤란|어렵|힘들)|심장마비|심정지|가슴이.{0,4}(아파|아프|조이|조여|답답|뻐근)|"
            r"넘어졌는데.{0,6}못|일어날수가없|어지러워서.{0,6}(쓰러|못)|피를.{0,4}흘|피가.{0,4}(나|멈|흘)|"
            r"출혈|경련|발작|기절|물에빠|다쳤|크게다|사고가났|사고났|교통사고|못일어나|목에걸|질식|갇혔|갇혀|"
            r"구급차|응급실|응급상황|앰뷸런스|의식불명|토하고쓰러|마비가"
        ),
    ),
    ("general", re.compile(r"살려주|살려줘|도와주세요빨리|빨리와주세요|긴급상황|위급")),
)

_EMERGENCY_EN: tuple[tuple[EmergencyKind, re.Pattern[str]], ...] = (
    ("suicide", re.compile(r"kill myself|suicid|want to die|end my life")),
    ("gas", re.compile(r"gas leak|smell (of )?gas")),
    ("fire", re.compile(r"there is a fire|there's a fire|fire in|on fire|burning|smoke")),
    (
        "police",
        re.compile(
            r"intruder|break(ing)? in|broke in|attack|following me|stalk|robber|thief|knife|gun|hitting me|assault"
        ),
    ),
    (
        "medical",
        re.compile(
            r"collaps|not breathing|can't breathe|cannot breathe|can not breathe|unconscious|bleeding|heart attack|"
            r"seizure|overdose|drowning|choking|badly hurt|injured"
        ),
    ),
    # "help me in English / with my visa" asks for service, not rescue.
    (
        "general",
        re.compile(
            r"(^|\b(please|somebody|someone|anybody|anyone) )help\b(?! (me )?(in|with|to|find|for|about|understand|get)\b)|"
            r"help me( now| quick| please)?[.!?]*$|save me|urgent"
        ),
    ),
)

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


@dataclass(frozen=True)
class Emergency:
    kind: EmergencyKind


def detect_emergency(text: str, lang: str = "ko") -> Emergency | None:
    if lang == "en":
        low = " ".join(text.lower().split())
        for kind, pattern in _EMERGENCY_EN:
            if pattern.search(low):
                return Emergency(kind)
        return None
    c = compact(text)
    for kind, pattern in _EMERGENCY_KO:
        if pattern.search(c):
            return Emergency(kind)
    return None


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
    return bool(_NO.match(c) or _NO_EN.match(c))


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
