"""Masking of personal data (phone numbers, SIP user parts) before anything is logged."""

from __future__ import annotations

import re

_SIP_USER = re.compile(r"(sips?:)([^@;>\s:]+)@", re.IGNORECASE)
_TEL = re.compile(r"(tel:)([^;>\s]+)", re.IGNORECASE)


def mask_user(user: str) -> str:
    """Keep the first two and last one characters: ``01012345678`` -> ``01********8``."""
    if len(user) <= 3:
        return "*" * len(user)
    return user[:2] + "*" * (len(user) - 3) + user[-1]


def uri_user(text: str | None) -> str | None:
    """The user part of the first SIP/tel URI in a header value (``"홍길동" <sip:010…@pbx>`` -> ``010…``)."""
    found = _SIP_USER.search(text or "") or _TEL.search(text or "")
    return found.group(2) if found else None


def mask_uri(text: str | None) -> str:
    """Mask the user part of every SIP/tel URI in ``text`` (display names are dropped)."""
    if not text:
        return ""
    text = re.sub(r'"[^"]*"\s*', "", text)
    text = _SIP_USER.sub(lambda m: m.group(1) + mask_user(m.group(2)) + "@", text)
    return _TEL.sub(lambda m: m.group(1) + mask_user(m.group(2)), text)
