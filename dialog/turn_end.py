"""Has the caller finished their turn? And is what they said while the bot spoke only "네"?

Both read the words, not the sound: kiwipiepy morphemes of the transcript so far.

- ``turn_status``: a question or a request ending (-나요, -ㄹ까요, -습니까, -세요, -주세요, -고 싶어요 ...)
  closes the turn; words that cannot end a Korean sentence keep it open: an ending callers go on after
  (-는데요, -거든요, -고요, -아서요, -면요, a bare connective), a case or topic particle without 요
  ("국민의당은", "손을"), a determiner or adnominal form ("여러", "피어난"), an adverb ("아무리", "좀"), a
  conjunction such as 그래서, an interjection such as "네," alone, or a bare noun after a clause that has
  no final ending yet ("손을 내밀면 안철수"), or a greeting alone ("안녕하세요."). A plain statement
  (-어요, -습니다, -려고요, a wish softened as -고 싶은데요 / -고 싶어서요, a noun phrase such as "여권
  재발급") is left to the caller's pause, unless the words already make a request the dialog recognises
  with confidence (the caller of ``turn_status`` decides that).
- ``is_backchannel``: an acknowledgement (네, 예, 응, 음, 아, 그렇죠, 맞아요 ...) said over the bot's prompt,
  which is not a barge-in.
- ``is_babble``: the same few syllables over and over, which Whisper makes of a mumble.
- ``is_interruption``: words that ask the bot to stop or listen (잠깐만요, 아니요, 저기요, 여보세요, 다시요 ...),
  a barge-in however short.
- ``phatic``: a whole turn that only keeps the conversation going: checking the line ("여보세요?",
  "들리세요?"), a greeting ("안녕하세요"), or calling for attention ("저기요", "네").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Protocol


class Morpheme(Protocol):
    form: str
    tag: str


Tokenize = Callable[[str], Sequence[Morpheme]]


class Phatic(StrEnum):
    HELLO = "hello"  # 여보세요? 들리세요?: is anyone there, can you hear me
    GREETING = "greeting"  # 안녕하세요, 수고하십니다
    ATTENTION = "attention"  # 저기요, 네, 음: the caller is about to speak


class TurnStatus(StrEnum):
    COMPLETE = "complete"  # a question or request: close the turn at a short pause
    INCOMPLETE = "incomplete"  # the caller is going on: wait longer before answering
    STATEMENT = "statement"  # a finished sentence that may or may not be the request


# Final endings after which Korean speakers usually go on (kiwipiepy tags them EF).
_CONTINUING_EF = {
    "거든요",
    "거든",
    "ᆫ데요",
    "는데요",
    "은데요",
    "던데요",
    "ᆫ데",
    "는데",
    "은데",
    "데요",
    "어서요",
    "아서요",
}
# The same continuing endings as connectives before a polite 요 ("싶은데요" is 은데 + 요).
_CONTINUING_EC_WITH_YO = {"ᆫ데", "는데", "은데", "어서", "아서"}
# Connectives that, with 요, make a whole polite sentence more often than not ("여권 받으려고요").
_STATEMENT_EC = {"려고", "으려고"}
# Tags of morphemes that cannot end a sentence: particles (without 요), determiners, adnominal endings,
# adverbs, prefixes.
_OPEN_TAGS = {"JKS", "JKC", "JKG", "JKO", "JKB", "JKV", "JKQ", "JX", "JC", "MM", "ETM", "MAG", "XPN"}
_CASE_TAGS = {"JKS", "JKO", "JKB", "JX"}
_NOUN_TAGS = {"NNG", "NNP", "NNB", "NR", "NP", "SN", "SL", "SH"}
_PREDICATE_TAGS = {"VV", "VA", "VX", "VCP", "VCN", "XSV", "XSA"}
# Final endings of questions and requests.
_ASKING_EF = re.compile(
    r"(나요|까요|ᆯ까요|을까요|가요|습니까|ᆸ니까|니까|세요|으세요|십시오|으십시오|죠|지요|래요|ᆯ래요|나|니|냐|까|ᆯ까)$"
)
_PUNCT_TAGS = {"SF", "SP", "SS", "SE", "SO", "SW"}
# Connective endings that also end spoken sentences (banmal and rhetorical questions).
_FINAL_LIKE_EC = {"어", "아", "여", "나", "지", "니", "게", "네", "래", "데"}
# Question words: a sentence with one that ends in a final ending is a question, "?" or not.
_WH = {
    "어디",
    "언제",
    "누구",
    "무엇",
    "뭐",
    "무어",
    "어떻게",
    "왜",
    "얼마",
    "얼마나",
    "몇",
    "무슨",
    "어느",
    "어떤",
    "어때",
    "어떻",
    "어떠",
}

_BACKCHANNEL = re.compile(
    r"^(네|내|예|에|응|어|음|으음|흠|아|아하|오|와|그렇죠|그렇지요|그렇군요|그래요|그렇네요|맞아요|맞습니다|맞죠|"
    r"알겠어요|알겠습니다|네네|예예|그럼요|그렇구나|좋아요|감사합니다)+$"
)
_INTERRUPTION = re.compile(
    r"(잠깐|잠시만|아니|아뇨|그게|저기|여보세요|그만|멈춰|스톱|다시|뭐라고|뭐요|상담|직원|사람|"
    r"stop|wait|sorry|hello|agent)"
)
_NOT_WORDS = re.compile(r"[\s.,!?~…·\-'\"]+")
# Greetings callers open with before the request ("안녕하세요. 버스 분실물 때문에요").
_GREETING = re.compile(
    r"^(네|예|아)?(안녕하세요|안녕하십니까|수고하십니다|수고하세요|수고많으십니다|수고많으세요)+$"
)


_HELLO = re.compile(
    r"^(네|예|아)*(여보세요)*(거기요?|저기요)?"
    r"(잘?(안)?들리세요|잘?(안)?들리시나요|잘?(안)?들려요|잘?(안)?들리나요|계세요|거기계세요)?(여보세요)*$"
)
_ATTENTION = re.compile(r"^(네|예|아|음|어|저|저기|저기요|거기요|저어|있잖아요)+$")


def phatic(text: str) -> Phatic | None:
    """What a turn of only social words does (see ``Phatic``); None when it says anything more."""
    compact = _NOT_WORDS.sub("", text)
    if not compact:
        return None
    if _HELLO.match(compact) and ("여보세요" in compact or "들리" in compact or "계세요" in compact):
        return Phatic.HELLO
    if _GREETING.match(compact):
        return Phatic.GREETING
    if _ATTENTION.match(compact) or is_backchannel(text):
        return Phatic.ATTENTION
    return None


def is_backchannel(text: str) -> bool:
    """An acknowledgement only (one or more of 네/예/응/음/아/그렇죠/맞아요 ...), no request in it."""
    compact = _NOT_WORDS.sub("", text)
    return bool(compact) and len(compact) <= 12 and bool(_BACKCHANNEL.match(compact))


def is_interruption(text: str) -> bool:
    """Words that ask the bot to stop, repeat or listen, said over its prompt."""
    return bool(_INTERRUPTION.search(re.sub(r"\s+", "", text).lower()))


def is_babble(text: str) -> bool:
    """A string of the same few syllables ("릴릴 릴릴릴", "네네네네 네"): what Whisper makes, sure of itself,
    of a short mumble; no request sounds like it."""
    compact = _NOT_WORDS.sub("", text)
    return len(compact) >= 4 and len(set(compact)) * 2 <= len(compact)


def is_short_answer(text: str) -> bool:
    """A word or two ("네", "아니요", "강남구요"): a whole answer to a yes/no or slot question."""
    return 0 < len(_NOT_WORDS.sub(" ", text).split()) <= 2


def turn_status(text: str, tokenize: Tokenize) -> TurnStatus:
    """Where the transcript so far leaves the caller's turn (see the module docstring)."""
    stripped = text.strip()
    if not stripped:
        return TurnStatus.INCOMPLETE
    morphemes = [m for m in tokenize(stripped) if m.tag not in _PUNCT_TAGS]
    if not morphemes:
        return TurnStatus.INCOMPLETE
    if all(m.tag in ("SL", "SN", "SH") for m in morphemes):  # English (or other Latin) words
        return TurnStatus.COMPLETE if stripped[-1] in ".?!" else TurnStatus.STATEMENT
    last = morphemes[-1]
    before = morphemes[-2] if len(morphemes) > 1 else None
    asked = stripped.rstrip().endswith("?")
    if all(m.tag == "IC" for m in morphemes):  # "네," "음" "아니요?": the caller is only starting
        # but "여보세요?" asks whether anyone is there, and waits for the answer
        return TurnStatus.STATEMENT if asked and phatic(stripped) is Phatic.HELLO else TurnStatus.INCOMPLETE
    if _GREETING.match(_NOT_WORDS.sub("", stripped)):  # "안녕하세요.": the request follows
        return TurnStatus.INCOMPLETE
    polite = False
    if last.form == "요" and before is not None:  # kiwipiepy tags this 요 JX (or MM, after -냐면)
        last, before, polite = before, None, True  # -는데요, -어서요, -고요: the polite form of a connective
        if last.tag == "MAJ":  # 그러니까요
            return TurnStatus.INCOMPLETE
        if last.tag == "EC" and last.form in _STATEMENT_EC:
            return TurnStatus.COMPLETE if asked else TurnStatus.STATEMENT
        if last.tag.startswith("J") or last.tag in _NOUN_TAGS:  # "분실물은요?", "강남구에서요", "여권이요"
            return TurnStatus.COMPLETE if asked else TurnStatus.STATEMENT
    if last.tag == "MAJ":
        return TurnStatus.INCOMPLETE
    if last.form == "이요" and last.tag == "JX":  # "여권이요": a noun said politely
        return TurnStatus.COMPLETE if asked else TurnStatus.STATEMENT
    if not polite and last.tag in _OPEN_TAGS:
        # "충전은 어디서?": an elliptical question still ends the turn
        return TurnStatus.COMPLETE if asked and _has_wh(morphemes) else TurnStatus.INCOMPLETE
    # "…신청하고 싶어서요", "…만들고 싶은데요": a wish with a softening ending is how callers make a request
    wish = len(morphemes) >= (3 if polite else 2) and _is_wish(morphemes[-3 if polite else -2])
    if last.tag == "EC":
        if polite and wish and last.form in _CONTINUING_EC_WITH_YO:
            return TurnStatus.STATEMENT
        # Spoken endings kiwipiepy reads as connectives also end sentences ("어떻게 신청해", "어딨나."):
        # Whisper's "?" or a question word makes it a question, its full stop (a falling pitch) a statement.
        if last.form in _FINAL_LIKE_EC:
            if asked or any(m.form in _WH for m in morphemes):
                return TurnStatus.COMPLETE
            if stripped[-1] in ".!":
                return TurnStatus.STATEMENT
        return TurnStatus.INCOMPLETE
    if last.tag == "EF":
        if last.form in _CONTINUING_EF:
            return (
                TurnStatus.STATEMENT if wish and not last.form.startswith("거든") else TurnStatus.INCOMPLETE
            )
        if asked or _ASKING_EF.search(last.form) or _has_wh(morphemes) or _wishes(morphemes):
            return TurnStatus.COMPLETE
        return TurnStatus.STATEMENT
    if asked:
        return TurnStatus.COMPLETE
    if last.tag in _NOUN_TAGS and _open_clause(morphemes, punctuated=stripped[-1] in ".!?"):
        return TurnStatus.INCOMPLETE  # "손을 내밀면 안철수", "커피가 소비자": a sentence still being built
    return TurnStatus.STATEMENT  # a noun phrase ("여권 재발급"): the ARS way of asking, or a pause


def _has_wh(morphemes: Sequence[Morpheme]) -> bool:
    return any(m.form in _WH for m in morphemes)


def _wishes(morphemes: Sequence[Morpheme]) -> bool:
    """-고 싶어요 / -고 싶습니다: a wish, which a caller says as a request."""
    return len(morphemes) >= 2 and _is_wish(morphemes[-2])


def _is_wish(morpheme: Morpheme) -> bool:
    return morpheme.form == "싶" and morpheme.tag.startswith("VX")


def _open_clause(morphemes: Sequence[Morpheme], punctuated: bool) -> bool:
    """No final ending anywhere, and either a predicate with a connective ending, or (with no full stop
    from Whisper, which hears the falling pitch of a finished sentence) a case or topic particle: a
    sentence still being built, not a noun phrase such as "여권 재발급"."""
    if any(m.tag == "EF" for m in morphemes):
        return False
    has_predicate = any(m.tag.split("-")[0] in _PREDICATE_TAGS for m in morphemes)
    if has_predicate and any(m.tag == "EC" for m in morphemes):
        return True
    return not punctuated and any(m.tag in _CASE_TAGS for m in morphemes)
