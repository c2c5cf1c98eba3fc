"""Emergency detection: acute danger words, checked against morphemes, negation and context.

A caller who says an emergency word is not always in an emergency: "개발 작업" contains "발작",
"운동 강도" is not a robber, "교통사고 과태료" and "발작 증상이 있으면 어디로 가요" are information
questions. Telling such a caller to ring 119 and ending the call is a real harm, so a keyword hit on
the compact text (no spaces: STT spacing is unreliable) only counts when

1. it starts on a morpheme boundary (kiwipiepy), so a keyword inside another word does not count;
2. it is not a known homonym or figure of speech (유서 깊은, 폭발적인, 교통 마비, 담배 연기);
3. its clause is not past ("났던") nor negated right after it ("쓰러지지는 않았는데");
4. for *topic* words (교통사고, 구급차, 발작, 화재가, 다쳤 ...): the clause is not hypothetical
   ("-면", "-ㄹ 때", "발생 시") and the utterance is not an information question about procedures,
   money or services (과태료, 보험, 신청, 지원, 주차 ...), unless it also says the matter is urgent
   (빨리, 살려, 움직이지 않아요 ...).

*Acute* patterns describe danger happening now (의식이 없어요, 피를 흘려요, 불이 났어요, 죽고 싶어요):
a hypothetical clause cancels them only in a question about what to do ("가스 냄새가 나면 어디에
신고해요"), because Whisper often turns "-며" into "-면". Recall still comes first: when in doubt a hit stands (measured by
``python -m benchmarks.dialog``: emergency precision and recall over labelled sets of both).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from .normalize import normalize_text

EmergencyKind = Literal["fire", "gas", "medical", "police", "suicide", "general"]


@dataclass(frozen=True)
class Emergency:
    kind: EmergencyKind


class Morpheme(Protocol):
    """What the detector reads of a kiwipiepy ``Token``."""

    form: str
    tag: str
    start: int
    len: int


Tokenize = Callable[[str], Sequence[Morpheme]]


@dataclass(frozen=True)
class _Rule:
    kind: EmergencyKind
    pattern: re.Pattern[str]
    acute: bool  # danger happening now: an information-question context does not cancel it


# Order matters: the first kind that matches decides which number the caller is told to ring.
_RULES_KO: tuple[_Rule, ...] = (
    _Rule(
        "suicide",
        re.compile(
            r"죽고싶|죽고만싶|자살|살고싶지않|살기싫|살아서뭐|죽어버[리린릴]|죽으려고|뛰어내리|목숨을끊|"
            r"극단적(인)?선택|생을마감|유서|스스로목숨|목을매"
        ),
        acute=True,
    ),
    _Rule("gas", re.compile(r"가스(가)?(새|냄새|누출|샌)"), acute=True),
    _Rule(
        "fire",
        re.compile(
            r"불이났|불났|불이붙|불붙었|불을질렀|불을지르|불길|타는냄새|"
            r"연기가(막|너무|계속|엄청|많이|자꾸)?(나|자욱|올라|새|들어|피어|가득|심하|많이)"
        ),
        acute=True,
    ),
    _Rule("fire", re.compile(r"화재가|화재났|화재발생|폭발"), acute=False),
    _Rule(
        "police",
        re.compile(
            r"누(가|군가).{0,12}(들어오|들어왔|문을열|문열)|따라와|따라오고|쫓아|"
            r"때려|때리고|맞고있|폭행당|칼(을|들|로|든)|흉기|난동|납치|죽여버[리린릴렸]|죽이겠|죽인다|죽이려"
        ),
        acute=True,
    ),
    _Rule(
        "police",
        re.compile(r"도둑|강도|침입|스토킹|스토커|폭행하|폭행을|협박|위협|성추행|성폭행|몰래카메라|묻지마"),
        acute=False,
    ),
    _Rule(
        "medical",
        # [쓰스]: Whisper base often loses the tense onset (쓰러지며 -> 스러지면); recall beats precision here.
        re.compile(
            r"[쓰스]러[지졌져]|의식(이|을)?(없|잃)|숨(을|이)?(잘|제대로)?(못|안)쉬|숨이.{0,4}(차|막|안|가빠)|"
            r"숨쉬기.{0,4}(힘들|어렵)|호흡(이)?(곤란|어렵|힘들)|심정지|가슴이.{0,4}(아파|아프|조이|조여|답답|뻐근)|"
            r"넘어졌는데.{0,6}못|일어날수가없|어지러워서.{0,6}(쓰러|못)|피를.{0,4}흘|피가.{0,4}(나|멈|흘)|"
            r"물에빠|못일어나|목에걸|질식|갇혔|갇혀|토하고쓰러|"
            r"(안|못)깨어나|깨어나지(않|못)|약을.{0,8}(한꺼번에|많이|왕창|통째로).{0,4}먹|"
            r"(차|트럭|버스|오토바이)에치였|치여서|뺑소니|"
            r"(손가락|손|발가락|발|다리|팔)(이|가)?(잘렸|절단)|(뼈|다리|팔|발목|손목|갈비뼈|허리)(가|이)?부러졌|"
            # Someone living alone not seen for days: the fire service opens the door.
            r"두드려도.{0,6}(대답|인기척|반응)(이|도)?(없|안)|며칠(째|동안|간)?.{0,8}(연락이안|연락이없|안보이)"
        ),
        acute=True,
    ),
    _Rule(
        "medical",
        re.compile(
            r"출혈|경련|발작|기절|다쳤|크게다|사고가났|사고났|교통사고|심장마비|"
            r"구급차|응급실|응급상황|앰뷸런스|의식불명|마비가"
        ),
        acute=False,
    ),
    _Rule("general", re.compile(r"살려주|살려줘|도와주세요빨리|빨리와주세요"), acute=True),
    _Rule("general", re.compile(r"긴급상황|위급"), acute=False),
)

# Homonyms and figures of speech, matched on the compact text from the hit's start (or, for the
# "before" list, ending where the hit starts).
_NOT_DANGER_AT = re.compile(
    r"유서(가)?깊|폭발적|강도(가|를|는|도)?(높|낮|세|약하|강하|조절|완화|강화)|출혈경쟁|쫓아내|때려치|"
    r"불길하|불길한|기절할정도|기절하는줄|기절초풍|도둑고양이"
)
# Safety equipment named after the danger it watches for (가스 누출 경보기, 화재 감지기).
_EQUIPMENT_AFTER = re.compile(r"(의)?(경보기|감지기|탐지기|차단기|소화기|경보장치)")
_NOT_DANGER_BEFORE = re.compile(
    r"(교통|도로|전산|시스템|통신|업무|기능|행정|정체)(이|가)?$|"  # 교통 마비: traffic, not paralysis
    r"(담배|흡연|고기굽는|생선굽는|굽는|매연|배기가스|모기향|향)(의)?$"  # smoke that is not a fire
)

# Information questions about procedures, money and services: a topic word in them is the topic.
_INFO_CONTEXT = re.compile(
    r"과태료|벌금|범칙금|보험|보상|배상|신청|지원|제도|서류|발급|증명|확인원|확인서|교육|예방|훈련|"
    r"캠페인|주차|전용|구역|요금|비용|진료비|병원비|수수료|규정|절차|조회|통계|처리결과|민원|위반|"
    r"단속|고지서|납부|감면|환급|자격|기준|혜택|등록|안내|견학|체험|대비|대처|요령|건의|설치|점검|"
    r"대여|청구|철거|운행|예약|예매|관람|걱정되|중성화|순찰"
)
# ... unless the caller also says it is happening and urgent.
_URGENT = re.compile(
    r"빨리|급해|급합|급한|당장|살려|어떡|큰일|와주세요|와줘|보내주세요|보내줘|불러주세요|불러줘|"
    r"움직이지않|안움직|못움직|의식|숨을|숨이|피가|피를|다친사람이있|119|112"
)

# A question about what to do or where to go.
_ASKS = re.compile(r"어떻게|어디|어느|뭐|무엇|무슨|몇|방법|요령|알려|궁금|되나요|하나요|있나요")

Mood = Literal["now", "hypothetical", "past", "negated"]

# Connective endings that make the clause hypothetical ("-면", "-거든", "-려면").
_HYPOTHETICAL_EC = frozenset({"면", "으면", "다면", "라면", "이면", "거든", "려면", "으려면"})
# Nouns after an adnominal ending that make it hypothetical or past ("났을 때", "다친 경우", "다친 적").
_HYPOTHETICAL_NOUNS = frozenset({"때", "경우", "시", "적", "뒤", "후"})
# Connective endings that join an auxiliary verb to the same predicate ("쓰러져 있어요", "-지 않아요").
_AUX_EC = frozenset({"지", "게", "어", "아", "고"})
_MAX_CLAUSE_TOKENS = 8


class EmergencyDetector:
    """Finds an emergency in a caller's utterance. Thread-safe; build once and share.

    ``tokenize`` is a kiwipiepy ``Kiwi.tokenize`` (or a locked wrapper of one); without it the detector
    makes its own analyser on first use (about two seconds).
    """

    def __init__(self, tokenize: Tokenize | None = None):
        self._tokenize = tokenize
        self._lock = threading.Lock()

    def detect(self, text: str, lang: str = "ko") -> Emergency | None:
        if lang == "en":
            low = " ".join(text.lower().split())
            for kind, pattern in _RULES_EN:
                if pattern.search(low):
                    return Emergency(kind)
            return None
        norm = normalize_text(text)
        c = norm.replace(" ", "")
        if not any(rule.pattern.search(c) for rule in _RULES_KO):
            return None  # the common case: no morpheme analysis needed
        tokens = _compact_tokens(norm, self._tokens(norm))
        starts = {t.start for t in tokens}
        urgent = _URGENT.search(c) is not None
        info = _INFO_CONTEXT.search(c) is not None and not urgent
        asks = (info or _ASKS.search(c) is not None) and not urgent
        for rule in _RULES_KO:
            for hit in rule.pattern.finditer(c):
                if hit.start() not in starts:
                    continue  # inside another word: 개발작업 is not 발작
                if _NOT_DANGER_AT.match(c, hit.start()) or _NOT_DANGER_BEFORE.search(c[: hit.start()]):
                    continue
                if _EQUIPMENT_AFTER.match(c, hit.end()):
                    continue
                mood = _clause_mood(tokens, hit.end())
                if mood in ("negated", "past"):
                    continue
                if not rule.acute and (info or mood == "hypothetical"):
                    continue
                # "쓰러지면 어떻게 해요" asks what to do; a bare "…쓰러지면" is as often Whisper's
                # slip for "쓰러지며" (a collapse now), so an acute hit needs the question too.
                if mood == "hypothetical" and asks:
                    continue
                return Emergency(rule.kind)
        return None

    def _tokens(self, norm: str) -> Sequence[Morpheme]:
        with self._lock:
            if self._tokenize is None:
                from kiwipiepy import Kiwi

                self._tokenize = Kiwi().tokenize
            tokenize = self._tokenize
        return tokenize(norm)


@dataclass(frozen=True)
class _Tok:
    form: str
    tag: str
    start: int  # in the compact text


def _compact_tokens(norm: str, tokens: Sequence[Morpheme]) -> list[_Tok]:
    """Tokens of ``norm`` with their start mapped onto the compact (space-free) text."""
    to_compact: list[int] = []
    n = 0
    for ch in norm:
        to_compact.append(n)
        n += ch != " "
    to_compact.append(n)
    return [_Tok(t.form, t.tag.split("-", 1)[0], to_compact[min(t.start, len(norm))]) for t in tokens]


def _clause_mood(tokens: list[_Tok], end: int) -> Mood:
    """What the clause after a hit makes of it: hypothetical ("발작 증상이 있으면", "났을 때",
    "발생 시"), past ("났던"), negated ("쓰러지지는 않았는데", "난 건 아니고") or happening now."""
    tail = [t for t in tokens if t.start >= end][:_MAX_CLAUSE_TOKENS]
    # A negator after another predicate negates that one: "경련이 멈추지 않아요" is an emergency.
    own_predicate = True
    for i, tok in enumerate(tail):
        nxt = tail[i + 1] if i + 1 < len(tail) else None
        if i == 0 and tok.tag in ("NNG", "NNB") and tok.form in _HYPOTHETICAL_NOUNS:
            return "hypothetical"
        if tok.tag == "ETM":
            if tok.form == "던":
                return "past"
            if nxt is not None and nxt.form in _HYPOTHETICAL_NOUNS:
                return "hypothetical"
            if own_predicate and nxt is not None and nxt.form in ("건", "것", "거"):
                return "negated" if _negated_next(tail[i + 2 :]) else "now"
            return "now"
        if tok.tag == "EC":
            if tok.form in _HYPOTHETICAL_EC:
                return "hypothetical"
            if tok.form in _AUX_EC:
                if own_predicate and _negated_next(tail[i + 1 :]):
                    return "negated"
                continue
            return "now"
        if tok.tag in ("EF", "SF"):
            return "now"
        if tok.tag.startswith(("VV", "VA", "NN", "XR")):
            own_predicate = False
    return "now"


def _negated_next(rest: list[_Tok]) -> bool:
    """A negator comes next, with only particles between ("-지는 않", "건 아니")."""
    for tok in rest:
        if tok.tag.startswith("J"):
            continue
        return (tok.tag == "VX" and tok.form == "않") or tok.tag == "VCN" or (
            tok.tag == "VA" and tok.form == "없"
        )
    return False


_RULES_EN: tuple[tuple[EmergencyKind, re.Pattern[str]], ...] = (
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


@functools.cache
def shared_detector() -> EmergencyDetector:
    """One detector with its own analyser for code that has no dialog engine (outbound answers)."""
    return EmergencyDetector()
