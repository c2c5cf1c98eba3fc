"""Classifying the answers of an outbound call: welfare answers, yes/no confirmations, control requests.

Korean first, on ``dialog.normalize.compact`` text (no spaces: STT spacing is unreliable). The order of the
checks is what makes negation work:

1. emergency (``dialog.rules.detect_emergency``, plus "119" and "정신이 없어요", which only a check-in
   treats as emergencies) -> ``emergency``: the call raises an alert and is transferred at once;
2. a negated complaint ("안 아파요", "아프지 않아요", "외롭지 않아요", "필요한 거 없어요") -> ``fine``;
3. a complaint with an intensifier ("너무", "통", "며칠째" ...) or a complaint that is itself serious
   (loneliness, nobody visiting, out of food or medicine) -> ``concern``;
4. a complaint ("몸이 안 좋아요", "입맛이 없어서 못 먹었어요", "잠을 잘 못 자요") -> ``not_fine``;
5. a positive answer ("밥 잘 먹었어요", "괜찮아요", "잘 잤어요") or a bare "네" -> ``fine``; a bare "아니요"
   -> ``not_fine`` (every welfare question is asked so that "yes" means fine; for ``needs`` a bare "없어요"
   or "아니요" also means nothing is needed);
6. anything else -> ``unclear``.

Keypad: 1 = fine, 2 = not fine (the scripts say so in every question).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from dialog.normalize import compact
from dialog.rules import agent_request_strength, detect_emergency

Value = Literal["fine", "not_fine", "concern", "emergency", "unclear"]
TOPICS = ("meals", "health", "sleep", "mood", "needs", "medication", "going_out", "general")

# Only in a check-in are these emergencies: an inbound caller says "119에 전화했는데…" when asking about
# something else, and "정신이 없어요" for "I am very busy"; an older person alone answering how they are
# means it. Everything else that is an emergency for any caller lives in dialog.rules.detect_emergency.
_CHECKIN_EMERGENCY = re.compile(r"119|일일구|정신이(없|가물)")

# Negated complaints: the person says the bad thing is NOT the case.
_NEGATED = re.compile(
    r"안아파|안아프|아프지(는|도)?않|아픈(데|곳|건|것)(은|는|도)?(하나도|별로|딱히)?없|"
    r"안외로|외롭지(는|도)?않|안쓸쓸|쓸쓸하지않|안적적|적적하지않|안우울|우울하지않|"
    r"안힘들|힘들지(는|도)?않|불편한(데|곳|거|것|건)(은|는|도)?(하나도|별로|딱히)?없|"
    r"필요한(거|것|건|게)(은|는|도)?(하나도|별로|딱히)?없|부족한(거|것|건|게)(은|는|도)?(하나도|별로)?없|"
    r"걱정(은|도)?없|문제(는|가)?없|별일(은)?없|별탈(은)?없|탈(은)?없|이상(은)?없|"
    r"굶지(는)?않|안굶|밥(은)?안거르|거르지(는)?않"
)

# Serious by themselves: isolation, loneliness, out of food or medicine, days without eating or sleeping.
_CONCERN = re.compile(
    r"외로[워웠운우]|외롭|쓸쓸|적적|우울|아무도(안|없|찾아|오지|연락)|찾아오는사람(이)?없|연락(하는|할)?(사람|데)(이)?없|"
    r"혼자(라서|서|사니까)?.{0,4}(무섭|힘들|서럽|슬퍼|슬프)|살맛(이)?(안|없)|사는게.{0,4}(힘들|재미없|싫)|"
    r"(쌀|먹을(거|것|게)|반찬|약|돈)(이|도|은)?(다)?(떨어|없어|없다|없고|부족)|굶었|굶고|굶어|"
    r"며칠(째|동안|간)|하루종일.{0,6}(못|안)|한숨도못|통못|전혀못|하나도못|"
    r"넘어졌|다쳤|병원에.{0,6}(못가|가야|가고싶)|약을.{0,4}(못|안)먹|죽겠"
)
_INTENSIFIER = re.compile(
    r"너무|많이|엄청|매우|아주|정말|진짜|심하|심해|계속|자꾸|통|전혀|하나도|도저히|매일|밤새"
)

_NOT_FINE = re.compile(
    r"안좋|좋지(는|가)?않|안괜찮|괜찮지(는|가)?않|별로|그저그래|그냥그래|그럭저럭|시원찮|"
    r"아파|아프|아픈|쑤시|쑤셔|저리|저려|결리|결려|어지러|어지럽|기운(이)?없|힘(이)?없|힘들|피곤|"
    r"입맛(이)?(없|떨어|안)|못먹|안먹|거르|걸렀|굶|밥맛(이)?없|소화(가)?(안|잘안)|"
    r"잠(을|이)?(잘)?(못|안)(자|잤|와|오)|못자|못잤|잠이안|깨|뒤척|불면|"
    r"속상|답답|걱정|불안|무서|심심|"
    r"필요해|필요한(게|거|것)(이)?있|도와주|도움(이)?필요|부탁|있으면좋겠|주면좋겠|주셨으면|보내주|갖다주|가져다"
)
_FINE = re.compile(
    r"잘먹|먹었|드셨|먹고있|챙겨먹|괜찮|좋아|좋습|좋았|좋네|좋지|편안|편해|건강|멀쩡|튼튼|"
    r"잘잤|잘자|푹잤|푹자|잘지내|잘있|잘계|그럼요|물론|덕분에|걱정마|걱정하지마|"
    r"없어요|없습니다|됐어|충분"
)

_YES = re.compile(
    r"^(네|넵|예|응|어|그래|그럼|맞|알겠|알았|잘들었|들었|확인했|예예|네네|그렇)"
    r"|(맞아요|맞습니다|맞는데|맞네|네맞|알겠습니다|들었어요|들었습니다)"
)
_NO = re.compile(
    r"^(아니|아뇨|아녜|노|안|틀|잘못)|(아닌데|아닙니다|아니에요|아니예요|잘못거|틀렸|그런사람없)"
)
_REPEAT = re.compile(
    r"다시(한번)?(말|들려|얘기|이야기|해)|한번더|한번만더|못들었|안들려|잘안들|뭐라고|네\?|예\?|다시요"
)


@dataclass(frozen=True)
class Classified:
    value: Value
    reason: str = ""  # the rule that decided (no caller text in it)
    emergency: str | None = None  # dialog.rules EmergencyKind when value == "emergency"


def detect_emergency_answer(text: str) -> str | None:
    """The emergency kind for ``text`` (fire, gas, medical, police, suicide, general), or None."""
    found = detect_emergency(text)
    if found is not None:
        return found.kind
    if _CHECKIN_EMERGENCY.search(compact(text)):
        return "medical"
    return None


def classify_welfare(text: str | None, topic: str = "general", digit: str | None = None) -> Classified:
    """Classify one welfare check-in answer given by speech (``text``) or keypad (``digit``)."""
    if digit:
        if digit == "1":
            return Classified("fine", "key_1")
        if digit == "2":
            return Classified("not_fine", "key_2")
        return Classified("unclear", "key_other")
    if not text or not text.strip():
        return Classified("unclear", "empty")
    kind = detect_emergency_answer(text)
    if kind is not None:
        return Classified("emergency", "emergency", kind)
    c = compact(text)
    if _NEGATED.search(c) and not _CONCERN.search(_NEGATED.sub("", c)):
        rest = _NEGATED.sub("", c)
        if not _NOT_FINE.search(rest):
            return Classified("fine", "negated_complaint")
    if _CONCERN.search(c):
        return Classified("concern", "serious_complaint")
    if _NOT_FINE.search(c):
        if (
            topic == "needs"
            and _FINE.search(c)
            and not re.search(r"필요해|도와주|도움|부탁|있어요|좋겠|주셨으면|보내주|갖다주|가져다", c)
        ):
            return Classified("fine", "nothing_needed")
        if _INTENSIFIER.search(c):
            return Classified("concern", "intense_complaint")
        return Classified("not_fine", "complaint")
    if topic == "needs" and re.search(r"있어|있습|있긴", c):
        return Classified("not_fine", "something_needed")
    if topic == "needs" and re.search(r"^(아니|아뇨|없)", c):
        return Classified("fine", "nothing_needed")
    if _FINE.search(c):
        return Classified("fine", "positive")
    if _YES.search(c):
        return Classified("fine", "yes")
    if _NO.search(c):
        return Classified("not_fine", "no")
    return Classified("unclear", "no_rule")


# A follow-up on a remembered concern ("지난번에 허리가 아프다고 하셨는데 요즘은 좀 어떠세요?"): "아직",
# "여전히" first (so "아직 안 나았어요" is not better), then "나아졌어요", "좋아졌어요" (better).
_STILL = re.compile(r"아직|여전|그대로|똑같|마찬가지|안나아|안나았|안좋아졌|못나았")
_WORSE = re.compile(r"더(심|아프|아파|나빠|안좋|힘들)|심해졌|악화")
_BETTER = re.compile(r"나아|나았|좋아졌|괜찮아졌|덜(아프|아파|해|하)|회복|없어졌|사라졌|멀쩡해")


def classify_follow_up(text: str | None, topic: str = "general", digit: str | None = None) -> Classified:
    """Classify the answer to a follow-up question about a remembered concern: better is ``fine``, the
    same is ``not_fine`` (or what the words say when worse than that), worse is ``concern``."""
    if digit or not text or not text.strip():
        return classify_welfare(text, topic, digit)
    got = classify_welfare(text, topic)
    if got.value == "emergency":
        return got
    c = compact(text)
    if _WORSE.search(c):
        return Classified("concern", "worse")
    if _STILL.search(c):
        return got if got.value == "concern" else Classified("not_fine", "still")
    if _BETTER.search(c):
        return Classified("fine", "better")
    return got


def yes_no(text: str | None) -> Literal["yes", "no"] | None:
    """A confirmation answer: "yes" ("네", "맞아요", "잘 들었어요"), "no" ("아니요", "잘못 거셨어요") or None."""
    if not text:
        return None
    c = compact(text)
    if not c:
        return None
    if _NO.search(c):
        return "no"
    if _YES.search(c):
        return "yes"
    return None


def wants_repeat(text: str | None) -> bool:
    return bool(text) and bool(_REPEAT.search(compact(text or "")))


def wants_agent(text: str | None) -> bool:
    return bool(text) and agent_request_strength(text or "") == "strong"


def overall(values: list[str]) -> str:
    """One figure for a whole check-in: emergency > concern (any, or two or more not_fine) > not_fine > fine."""
    if "emergency" in values:
        return "emergency"
    if "concern" in values or values.count("not_fine") >= 2:
        return "concern"
    if "not_fine" in values:
        return "not_fine"
    if "fine" in values:
        return "fine"
    return "unclear"
