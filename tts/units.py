"""Recorded units for what changes, and sentences assembled from recorded pieces.

Numbers, dates, times, amounts and phone numbers are read by ``normalize_korean`` exactly as the bot
would synthesise them ("2026년 12월 5일 오후 3시" -> "이천이십육 년 십이 월 오 일 오후 세 시"); each spoken
word is then played from the recording of the whole word, or else from the longest recorded units that
cover it (이 + 천 + 이 + 십 + 육), the way an ARS plays sound files for SayNumber. ``UNIT_SET`` lists the
units staff record in the studio.

A slot sentence ("{date} {time}에 {place}에서 접종하실 수 있습니다") is matched against what the bot says;
its fixed pieces and its slot values are each played from recordings where there are some, joined with
short crossfades, and only a piece nobody recorded is synthesised. A sentence that matches no template is
assembled only when recordings cover every word of it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tts.editing import join_crossfaded
from tts.normalize import normalize_korean

# group -> unit texts. A text appears once even where it has two uses (일: one, and the day).
UNIT_SET: dict[str, tuple[str, ...]] = {
    "한자어 숫자": ("영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구", "십", "백", "천", "만", "억"),
    "고유어 숫자": (
        "하나",
        "둘",
        "셋",
        "넷",
        "다섯",
        "여섯",
        "일곱",
        "여덟",
        "아홉",
        "열",
        "한",
        "두",
        "세",
        "네",
        "스무",
        "스물",
        "서른",
        "마흔",
        "쉰",
        "예순",
        "일흔",
        "여든",
        "아흔",
    ),  # fmt: skip
    "전화번호": ("공",),
    "날짜": (
        "년",
        "월",
        "유월",
        "시월",
        "월요일",
        "화요일",
        "수요일",
        "목요일",
        "금요일",
        "토요일",
        "일요일",
    ),  # fmt: skip
    "시각": ("오전", "오후", "시", "분", "반"),
    "금액·단위": ("원", "번", "명", "개", "살", "층", "호"),
    "조사": ("에", "에서", "은", "는", "가", "을", "를", "도", "와", "과", "까지", "부터", "입니다"),
}

DEFAULT_TEMPLATES: tuple[str, ...] = ("{date} {time}에 {place}에서 접종하실 수 있습니다.",)

WORD_GAP_S = 0.05
COMMA_GAP_S = 0.2
_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PUNCT = re.compile(r"[.,?!]")
# What a slot of these names can hold; any other slot takes the shortest text that lets the rest match.
SLOT_PATTERNS = {
    "date": r"(?:\d{4}년\s*)?\d{1,2}월\s*\d{1,2}일(?:\s*\(?[월화수목금토일](?:요일)?\)?)?",
    "time": r"(?:(?:오전|오후)\s*)?\d{1,2}시(?:\s*(?:\d{1,2}분|반))?|\d{1,2}:\d{2}",
    "amount": r"[\d,]+\s*원",
    "phone": r"\d[\d-]{5,}\d",
    "number": r"\d[\d,]*",
}


def unit_texts() -> list[str]:
    seen: dict[str, None] = {}
    for texts in UNIT_SET.values():
        for text in texts:
            seen.setdefault(text, None)
    return list(seen)


@dataclass(frozen=True)
class Piece:
    text: str  # spoken (normalised) text of the piece
    source: str  # "recorded" | "synth"
    samples: np.ndarray | None  # None: to be synthesised (neighbouring synth pieces are spoken together)
    gap_after_s: float = 0.0
    space_before: bool = True  # False: written joined to the piece before (a particle after a slot value)


def template_regex(template: str) -> re.Pattern[str]:
    """The template as a regex over the sentence: slots are lazy groups, spacing and final stops are loose."""
    body = template.strip().rstrip(".?!")
    parts: list[str] = []
    last = 0
    for m in _SLOT.finditer(body):
        parts.append(re.escape(body[last : m.start()]).replace(r"\ ", r"\s*"))
        parts.append(f"(?P<{m.group(1)}>{SLOT_PATTERNS.get(m.group(1), '.+?')})")
        last = m.end()
    parts.append(re.escape(body[last:]).replace(r"\ ", r"\s*"))
    return re.compile(r"\s*" + "".join(parts) + r"\s*[.?!]?\s*")


def template_pieces(template: str) -> list[str]:
    """The fixed text between a template's slots, each a prompt to record ("에", "에서 접종하실 수 있습니다")."""
    return [p.strip(" .?!,") for p in _SLOT.split(template)[::2] if p.strip(" .?!,")]


class Assembler:
    """Builds a sentence from recordings: ``has``/``load`` read the prompt library (normalised text),
    ``synth`` speaks a piece nobody recorded."""

    def __init__(
        self,
        has: Callable[[str], bool],
        load: Callable[[str, int], np.ndarray | None],
        synth: Callable[[str, int], np.ndarray],
    ) -> None:
        self.has = has
        self.load = load
        self.synth = synth

    def _units(self, word: str, sample_rate: int) -> list[np.ndarray] | None:
        """The word covered left to right by the longest recorded units, or None where a gap is left."""
        out: list[np.ndarray] = []
        start = 0
        while start < len(word):
            for end in range(len(word), start, -1):
                if self.has(word[start:end]):
                    samples = self.load(word[start:end], sample_rate)
                    if samples is not None:
                        out.append(samples)
                        start = end
                        break
            else:
                return None
        return out

    def phrase(self, text: str, sample_rate: int, allow_synth: bool = True) -> list[Piece] | None:
        """Pieces for ``text``: its own recording, else word by word; None when synthesis would be needed
        and ``allow_synth`` is false."""
        spoken = normalize_korean(text).strip()
        bare = _PUNCT.sub("", spoken).strip()
        if not bare:
            return []
        for candidate in dict.fromkeys((spoken, bare)):
            if self.has(candidate):
                samples = self.load(candidate, sample_rate)
                if samples is not None:
                    return [Piece(bare, "recorded", samples, WORD_GAP_S)]
        pieces: list[Piece] = []
        pending: list[str] = []  # words to synthesise together (better prosody than one by one)

        def flush(gap: float) -> None:
            if pending:
                pieces.append(Piece(" ".join(pending), "synth", None, gap))
                pending.clear()

        for token in spoken.split():
            gap = COMMA_GAP_S if token.endswith(",") else WORD_GAP_S
            word = _PUNCT.sub("", token)
            if not word:
                continue
            units = self._units(word, sample_rate)
            if units is None:
                if not allow_synth:
                    return None
                pending.append(word)
                if gap > WORD_GAP_S:
                    flush(gap)
                continue
            flush(WORD_GAP_S)
            pieces.append(Piece(word, "recorded", join_crossfaded(units, sample_rate), gap))
        flush(WORD_GAP_S)
        return pieces

    def fixed(self, text: str, sample_rate: int, joined: bool = False) -> list[Piece]:
        """A template's fixed text: its own recording, else synthesised whole (never patched word by word
        with units, which would switch voices inside a phrase)."""
        spoken = normalize_korean(text).strip()
        bare = _PUNCT.sub("", spoken).strip()
        if not bare:
            return []
        for candidate in dict.fromkeys((spoken, bare)):
            if self.has(candidate):
                samples = self.load(candidate, sample_rate)
                if samples is not None:
                    return [Piece(bare, "recorded", samples, WORD_GAP_S, not joined)]
        gap = COMMA_GAP_S if spoken.endswith(",") else WORD_GAP_S
        return [Piece(bare, "synth", None, gap, not joined)]

    def _spoken(self, pieces: list[Piece], sample_rate: int) -> list[Piece]:
        """Neighbouring pieces still to synthesise joined into one (kept joined where the text is, as a
        particle after a slot value), then synthesised; no pause before a joined piece."""
        merged: list[Piece] = []
        for piece in pieces:
            if piece.samples is None and merged and merged[-1].samples is None:
                last = merged.pop()
                text = f"{last.text}{' ' if piece.space_before else ''}{piece.text}"
                piece = Piece(text, "synth", None, piece.gap_after_s, last.space_before)
            merged.append(piece)
        out = []
        for index, p in enumerate(merged):
            joined_next = index + 1 < len(merged) and not merged[index + 1].space_before
            samples = p.samples if p.samples is not None else self.synth(p.text, sample_rate)
            out.append(
                Piece(p.text, p.source, samples, 0.0 if joined_next else p.gap_after_s, p.space_before)
            )
        return out

    def sentence(self, text: str, sample_rate: int, templates: list[str]) -> list[Piece] | None:
        """Pieces for one sentence when recordings can carry it (a template with a recorded piece, or
        recordings for every word); None when it should simply be synthesised."""
        for template in templates:
            match = template_regex(template).fullmatch(text)
            if match is None:
                continue
            pieces: list[Piece] = []
            body = template.strip().rstrip(".?!")
            last = 0
            for m in _SLOT.finditer(body):
                before = body[last : m.start()]
                pieces += self.fixed(before, sample_rate, joined=last > 0 and not before[:1].isspace())
                value = self.phrase(match.group(m.group(1)), sample_rate) or []
                if value and before and not before[-1:].isspace():
                    value[0] = dataclasses.replace(value[0], space_before=False)
                pieces += value
                last = m.end()
            rest = body[last:]
            pieces += self.fixed(rest, sample_rate, joined=last > 0 and not rest[:1].isspace())
            if any(p.source == "recorded" for p in pieces):
                return self._spoken(pieces, sample_rate)
            return None
        pieces = self.phrase(text, sample_rate, allow_synth=False)
        return pieces or None


def render(pieces: list[Piece], sample_rate: int) -> np.ndarray:
    """The pieces joined with short crossfades and the pause each asks for after it."""
    chunks: list[np.ndarray] = []
    for index, piece in enumerate(pieces):
        if piece.samples is None:
            raise ValueError(f"piece {piece.text!r} was never synthesised")
        chunks.append(piece.samples)
        if index < len(pieces) - 1 and piece.gap_after_s > 0:
            chunks.append(np.zeros(int(piece.gap_after_s * sample_rate), dtype=np.float32))
    return join_crossfaded(chunks, sample_rate)
