"""When a caller does not speak the expected language: switch on Whisper's own language probabilities.

The voicebot decodes with a fixed language ("ko"), which is faster and more accurate for Korean than
letting Whisper guess on every utterance. Forced to Korean, an English utterance comes out as Korean
gibberish or as English text with low confidence, which sets off Whisper's temperature fallback: up to
five more decodes, each sampling several hypotheses at random (8-14 s for a 6.6 s clip, different text on
every run). The language probabilities cost one decoder step on the encoder output the decode needs
anyway, so they are read first and a clearly foreign utterance is decoded in its own language instead.

An utterance that is unlike the expected language but not clearly another one keeps the expected
language and is decoded once as well (no fallback): deterministic and bounded, if not always right.

Thresholds, measured on the first window (benchmarks/README.md has the table): real Korean (the 11
shared clips at 16 kHz and through an 8 kHz G.711 phone band, and their first 0.7/1.2/2 s with and without
the endpointer's padding) never put Korean below 0.019 (openai-whisper 0.042) nor another language above
0.81 (0.69); cut to 0.7 s it comes out up to 72 % English. The shared English clips put Korean at 0.001
or below and English at 0.952 or above, also in the phone band. espeak-ng's Korean voice is not Korean to
Whisper base (up to 0.98 Thai with Korean at 0.002), which is why short utterances, where it reached 0.93
Thai, keep the expected language whatever the probabilities say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageSwitch:
    """Decode in another language only when all three hold: the utterance (as the recogniser gets it,
    with the endpointer's 0.3 s pre-roll and up to 0.6 s hangover) lasts ``min_audio_s``, the expected
    language's probability is at most ``max_expected_p`` and another language's at least ``min_other_p``.
    When only the first two hold, keep the expected language but decode once, without the fallback."""

    min_audio_s: float = 3.0
    max_expected_p: float = 0.01
    min_other_p: float = 0.9


@dataclass(frozen=True)
class LanguageChoice:
    language: str
    probability: float  # Whisper's probability for ``language`` on the first window
    switched: bool  # not the expected language
    # Decode once, without Whisper's temperature fallback (random sampling, up to five more decodes): the
    # utterance is unlike the expected language, whether or not another one is clear enough to switch to.
    single_pass: bool


def choose_language(
    probabilities: Mapping[str, float], expected: str, audio_s: float, rule: LanguageSwitch
) -> LanguageChoice:
    """``probabilities``: language code -> probability, as Whisper's language detection gives them."""
    expected_p = float(probabilities.get(expected, 0.0))
    unlike = audio_s >= rule.min_audio_s and expected_p <= rule.max_expected_p
    others = [(p, code) for code, p in probabilities.items() if code != expected]
    if unlike and others:
        best_p, best = max(others)
        if best_p >= rule.min_other_p:
            return LanguageChoice(best, float(best_p), switched=True, single_pass=True)
    return LanguageChoice(expected, expected_p, switched=False, single_pass=unlike)
