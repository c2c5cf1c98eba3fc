"""Guards against Whisper's known failure modes on telephone audio.

Whisper was trained on subtitled video, so on silence or noise it "hears" video outros ("시청해주셔서
감사합니다", "MBC 뉴스 …입니다") and on hard audio it can loop on a phrase. A segment is dropped when it
looks like silence to Whisper itself (high no-speech probability with low confidence), when it is a known
outro phrase, or when it is compressible beyond what speech produces; loops that survive are collapsed.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from stt.types import Segment

# Matched after removing spaces and punctuation; a segment consisting only of these is dropped.
HALLUCINATION_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"^(시청|구독|청취)(해|하여)?주셔서감사(합니다|드립니다)$",
        r"^구독(과|하고)?좋아요",  # "구독과 좋아요 부탁드립니다", "구독, 좋아요…"
        r"^(다음|오늘)?영상에서(만나요|뵙겠습니다)",
        r"^(한국어)?자막(제공|제작|by)",
        r"^mbc뉴스.{0,12}(입니다|였습니다)$",
        r"^(kbs|sbs|ytn|jtbc)뉴스.{0,12}(입니다|였습니다)$",
        r"^thank(s|you)forwatching",
        r"^(subtitles|captions)(by|provided)",
        r"^pleasesubscribe",
    )
)

_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)


def squash(text: str) -> str:
    return _STRIP.sub("", text).lower()


def is_known_hallucination(text: str) -> bool:
    squashed = squash(text)
    return bool(squashed) and any(p.search(squashed) for p in HALLUCINATION_PATTERNS)


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


# A run of words at least this long (letters, no spaces) said twice back to back is Whisper repeating
# itself: a caller who says the same sentence twice meant it once.
LONG_REPEAT_CHARS = 8


def collapse_repeats(text: str, max_repeats: int = 2) -> str:
    """Cut a phrase repeated back to back more than ``max_repeats`` times down to ``max_repeats``, and a
    run of words of ``LONG_REPEAT_CHARS`` letters or more said twice in a row down to once."""
    pattern = re.compile(r"(.{2,40}?)(?:\s*\1){" + str(max_repeats) + ",}", re.DOTALL)
    return _drop_long_repeats(pattern.sub(lambda m: " ".join([m.group(1)] * max_repeats), text))


def _drop_long_repeats(text: str) -> str:
    words = text.split()
    keys = [squash(w) for w in words]  # compared without punctuation: "해요?" repeats "해요"
    found = _long_repeat(keys)
    if found is None:
        return text
    while found is not None:
        start, size = found
        del words[start + size : start + 2 * size], keys[start + size : start + 2 * size]
        found = _long_repeat(keys)
    return " ".join(words)


def _long_repeat(keys: list[str]) -> tuple[int, int] | None:
    """(start, size) of the longest run of words said twice back to back that holds at least
    ``LONG_REPEAT_CHARS`` letters, or None."""
    for size in range(len(keys) // 2, 0, -1):
        for start in range(len(keys) - 2 * size + 1):
            run = keys[start : start + size]
            if len("".join(run)) >= LONG_REPEAT_CHARS and keys[start + size : start + 2 * size] == run:
                return start, size
    return None


def speech_rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0


def filter_segments(
    segments: Iterable[Segment],
    no_speech_threshold: float = 0.6,
    log_prob_threshold: float = -1.0,
    compression_ratio_threshold: float = 2.4,
) -> tuple[list[Segment], list[str]]:
    """Return the segments worth keeping and a reason for each one dropped."""
    kept: list[Segment] = []
    dropped: list[str] = []
    for seg in segments:
        text = collapse_repeats(seg.text.strip())
        if not squash(text):
            continue
        if seg.no_speech_prob > no_speech_threshold and seg.avg_logprob < log_prob_threshold:
            dropped.append(f"no speech (p={seg.no_speech_prob:.2f}, logprob={seg.avg_logprob:.2f})")
            continue
        if is_known_hallucination(text):
            dropped.append("known hallucination phrase")
            continue
        if compression_ratio(text) > compression_ratio_threshold:
            dropped.append(f"repetitive (compression ratio {compression_ratio(text):.2f})")
            continue
        kept.append(replace(seg, text=text))
    return kept, dropped
