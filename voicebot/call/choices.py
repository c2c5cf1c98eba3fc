"""Spoken answers to the driver's own questions (issue 18): the congestion choice and the call-back slot.

The caller may say what the keys do instead of pressing them: "기다릴게요" (1, keep waiting), "전화 주세요"
(2, a call-back), "문자로 보내 주세요" (3, the chat link), and for a slot "첫 번째" / "1번" / "하나". Matching
is on compact text (no spaces), so STT's spacing does not matter; anything else is no answer.
"""

from __future__ import annotations

import re

_CHOICE_WORDS = {
    "wait": ("기다릴", "기다리겠", "기다려", "계속", "대기할"),
    "callback": ("전화주", "전화해주", "다시전화", "콜백", "연락주", "전화받", "전화를받", "예약"),
    "sms": ("문자", "링크", "채팅", "메시지", "카톡"),
}
_ORDINALS = (
    ("1", ("첫번째", "첫째", "일번", "1번", "하나", "처음")),
    ("2", ("두번째", "둘째", "2번", "둘")),  # not 이번: "this" as often as "number two"
    ("3", ("세번째", "셋째", "삼번", "3번", "셋", "마지막")),
)


def _compact(text: str) -> str:
    return re.sub(r"[\s.,!?~]", "", text or "")


def spoken_choice(text: str, offered: list[str]) -> str | None:
    """Which offered choice the words name (exactly one of them), or None."""
    said = _compact(text)
    named = [c for c in offered if any(word in said for word in _CHOICE_WORDS.get(c, ()))]
    return named[0] if len(named) == 1 else None


def spoken_slot(text: str, count: int) -> str | None:
    """The slot number ("1".."count") the words name, or None."""
    said = _compact(text)
    named = [key for key, words in _ORDINALS[:count] if any(word in said for word in words)]
    return named[0] if len(named) == 1 else None
