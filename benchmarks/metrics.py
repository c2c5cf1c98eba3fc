"""Error rates used by tests and benchmarks.

Korean is scored by character error rate ignoring spaces and punctuation: Korean spacing is inconsistent
(the Zeroth references split by morpheme) and Whisper writes numbers as digits where the references spell
them out, so ``spell_numbers`` reads digits the way the TTS normaliser does before comparing.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _chars(text: str) -> str:
    return _NON_WORD.sub("", text).lower()


def spell_numbers(text: str) -> str:
    from tts.normalize import normalize_korean

    return normalize_korean(text) if re.search(r"\d", text) else text


def character_error_rate(reference: str, hypothesis: str, spell_digits: bool = True) -> float:
    if spell_digits:
        reference, hypothesis = spell_numbers(reference), spell_numbers(hypothesis)
    ref, hyp = _chars(reference), _chars(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref = _NON_WORD.sub(" ", reference.lower().replace("'", "")).split()
    hyp = _NON_WORD.sub(" ", hypothesis.lower().replace("'", "")).split()
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)
