"""Text normalisation for matching STT output against the knowledge base.

Three layers, each used by the matcher for a different feature:

- ``normalize_text``: Unicode/punctuation/spacing clean-up, lower case, spelled-out service numbers
  (일일구 -> 119) and a short table of frequent STT misspellings of domain words.
- ``compact``: ``normalize_text`` without spaces, because STT spacing is unreliable in Korean.
- ``phonetic_key``: a jamo-level key that is invariant to the confusions a Korean recogniser makes
  most often: tense/aspirated consonants (따릉이/다릉이, 등본/등뽄), liaison (전입/저닙), silent
  or weakened ㅇ/ㅎ, merged vowels (ㅐ/ㅔ, 계/게, 의/이) and neutralised final consonants.
"""

from __future__ import annotations

import re
import unicodedata

_HANGUL_BASE = 0xAC00
_HANGUL_LAST = 0xD7A3

_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_FINALS = ["", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ", "ㄿ", "ㅀ"]
_FINALS += ["ㅁ", "ㅂ", "ㅄ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ"]

# Initial consonants: tense and aspirated collapse onto the plain series; ㅇ and ㅎ are dropped
# (ㅇ is silent, ㅎ is often swallowed between voiced sounds: 전화 -> 저놔).
_INITIAL_KEY = {
    "ㄱ": "ㄱ", "ㄲ": "ㄱ", "ㅋ": "ㄱ", "ㄴ": "ㄴ", "ㄷ": "ㄷ", "ㄸ": "ㄷ", "ㅌ": "ㄷ",
    "ㄹ": "ㄹ", "ㅁ": "ㅁ", "ㅂ": "ㅂ", "ㅃ": "ㅂ", "ㅍ": "ㅂ", "ㅅ": "ㅅ", "ㅆ": "ㅅ",
    "ㅇ": "", "ㅈ": "ㅈ", "ㅉ": "ㅈ", "ㅊ": "ㅈ", "ㅎ": "",
}  # fmt: skip
_VOWEL_KEY = {
    "ㅐ": "ㅔ", "ㅒ": "ㅔ", "ㅖ": "ㅔ", "ㅙ": "ㅞ", "ㅚ": "ㅞ", "ㅢ": "ㅣ", "ㅕ": "ㅕ",
}  # fmt: skip
# Finals neutralise to the seven sounds a syllable can end in; they share symbols with the initials
# so that liaison (final consonant moving to the next syllable) gives the same key.
_FINAL_KEY = {
    "": "", "ㄱ": "ㄱ", "ㄲ": "ㄱ", "ㄳ": "ㄱ", "ㄺ": "ㄱ", "ㅋ": "ㄱ",
    "ㄴ": "ㄴ", "ㄵ": "ㄴ", "ㄶ": "ㄴ",
    "ㄷ": "ㄷ", "ㅅ": "ㄷ", "ㅆ": "ㄷ", "ㅈ": "ㄷ", "ㅊ": "ㄷ", "ㅌ": "ㄷ", "ㅎ": "ㄷ",
    "ㄹ": "ㄹ", "ㄼ": "ㄹ", "ㄽ": "ㄹ", "ㄾ": "ㄹ", "ㅀ": "ㄹ",
    "ㅁ": "ㅁ", "ㄻ": "ㅁ", "ㅂ": "ㅂ", "ㅍ": "ㅂ", "ㅄ": "ㅂ", "ㄿ": "ㅂ", "ㅇ": "ㅇ",
}  # fmt: skip

# Frequent recogniser spellings of domain words (after spaces are removed). Generic confusions are
# already covered by the phonetic key; these are the ones that also break morpheme analysis.
STT_FIXES: tuple[tuple[str, str], ...] = (
    ("다릉이", "따릉이"),
    ("따르미", "따릉이"),
    ("다르미", "따릉이"),
    ("등뽄", "등본"),
    ("저닙", "전입"),
    ("전닙", "전입"),
    ("페기물", "폐기물"),
    ("게량기", "계량기"),
    ("계랑기", "계량기"),
    ("과태로", "과태료"),
    ("선별진로소", "선별진료소"),
    ("보견소", "보건소"),
    ("백씬", "백신"),
    ("여꿘", "여권"),
    ("확찐", "확진"),
    ("층강소음", "층간소음"),
    ("수도요굼", "수도요금"),
    ("쓰래기", "쓰레기"),
    ("쓰레긔", "쓰레기"),
    ("올빼미뻐스", "올빼미버스"),
    ("보도블럭", "보도블록"),
)

_SPELLED_NUMBERS = (
    ("일일구", "119"),
    ("일일이", "112"),
    ("일이공", "120"),
    ("백이십", "120"),
)

_NON_WORD = re.compile(r"[^0-9a-z가-힣ㄱ-ㅎㅏ-ㅣ\s]+")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lower-cased text with punctuation removed, spacing collapsed and known STT slips repaired."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _NON_WORD.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    for wrong, right in _SPELLED_NUMBERS:
        text = text.replace(wrong, right)
    for wrong, right in STT_FIXES:
        if wrong in text:
            text = text.replace(wrong, right)
        elif wrong in text.replace(" ", ""):
            # The slip straddles a wrongly placed space ("저 닙신고"): repair on the compact form.
            text = text.replace(" ", "").replace(wrong, right)
    return text


def compact(text: str) -> str:
    """``normalize_text`` without any spaces."""
    return normalize_text(text).replace(" ", "")


def phonetic_key(text: str) -> str:
    """Jamo sequence of ``text`` with confusable sounds merged; non-Hangul characters pass through.

    Spaces are dropped. The input should already be normalised (lower case, no punctuation).
    """
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if _HANGUL_BASE <= code <= _HANGUL_LAST:
            index = code - _HANGUL_BASE
            initial = _INITIALS[index // 588]
            vowel = _VOWELS[(index % 588) // 28]
            final = _FINALS[index % 28]
            out.append(_INITIAL_KEY[initial])
            out.append(_VOWEL_KEY.get(vowel, vowel))
            out.append(_FINAL_KEY[final])
        elif not ch.isspace():
            out.append(ch)
    return "".join(out)


def char_ngrams(key: str, sizes: tuple[int, ...] = (2, 3)) -> list[str]:
    """Overlapping character n-grams of ``key``; a short key yields itself."""
    grams: list[str] = []
    for n in sizes:
        if len(key) < n:
            continue
        grams.extend(key[i : i + n] for i in range(len(key) - n + 1))
    if not grams and key:
        grams.append(key)
    return grams


def hangul_ratio(text: str) -> float:
    """Share of letters in ``text`` that are Hangul (0 when there are no letters)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    hangul = sum(1 for ch in letters if "가" <= ch <= "힣" or "ㄱ" <= ch <= "ㅣ")
    return hangul / len(letters)
