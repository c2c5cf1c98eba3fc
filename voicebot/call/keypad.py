"""Keypad digits, the same on every transport: what a caller may press and what the bot may send."""

from __future__ import annotations

DTMF_KEYS = frozenset("0123456789*#ABCD")
MAX_DTMF_DIGITS = 32  # what one PJSIP stream queues for sending at a time
DTMF_DIGIT_S = 0.3  # PJSIP sends each digit for 200 ms, then its end packets


def is_key(digit: object) -> bool:
    """One keypad key as received (0-9, *, #, A-D)."""
    return isinstance(digit, str) and len(digit) == 1 and digit in DTMF_KEYS


def check_dtmf(digits: str) -> str:
    """Keypad digits to send by RFC 4733 (0-9, *, #, A-D; a-d read as A-D), or a ValueError naming the bad one."""
    if not isinstance(digits, str) or not digits:
        raise ValueError("no keypad digits to send: give one or more of 0-9 * # A-D")
    if len(digits) > MAX_DTMF_DIGITS:
        raise ValueError(f"too many keypad digits ({len(digits)}): at most {MAX_DTMF_DIGITS} at a time")
    for position, key in enumerate(digits, 1):
        if key.upper() not in DTMF_KEYS:
            raise ValueError(
                f"bad keypad digit {key!r} at position {position} of {digits!r}: use 0-9 * # A-D"
            )
    return digits.upper()
