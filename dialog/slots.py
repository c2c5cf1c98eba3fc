"""Slot values (e.g. which district) found in an utterance, tolerant of spacing and STT spelling."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .kb import SlotValue
from .normalize import compact, normalize_text, phonetic_key

# Phonetic (jamo key) matching is only trusted for names long enough not to occur by accident.
_MIN_PHONETIC_KEY = 6


class SlotFinder:
    """Finds slot values by name or alias; longer names win (강서구 before 서구)."""

    def __init__(self, slot_values: Mapping[str, tuple[SlotValue, ...]]):
        self._forms: dict[str, list[tuple[str, str, SlotValue]]] = {}
        names: set[str] = set()
        for slot, values in slot_values.items():
            forms = []
            for value in values:
                for form in (value.name, *value.aliases):
                    c = compact(form)
                    forms.append((c, phonetic_key(c), value))
                names.add(normalize_text(value.name))
            forms.sort(key=lambda f: len(f[0]), reverse=True)
            self._forms[slot] = forms
        self._placeholder: dict[str, str] = {}
        for slot, values in slot_values.items():
            for value in values:
                self._placeholder[normalize_text(value.name)] = slot
        ordered = sorted(names, key=len, reverse=True)
        self._name_pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def find(self, slot: str, text: str) -> SlotValue | None:
        text_c = compact(text)
        text_k = phonetic_key(text_c)
        for form_c, _, value in self._forms.get(slot, ()):
            if form_c and form_c in text_c:
                return value
        for _, form_k, value in self._forms.get(slot, ()):
            if len(form_k) >= _MIN_PHONETIC_KEY and form_k in text_k:
                return value
        return None

    def mask(self, normalized_text: str) -> str:
        """Replace slot value names with their slot name, so matching does not depend on the value."""
        if self._name_pattern is None:
            return normalized_text
        return self._name_pattern.sub(lambda m: f" {self._placeholder[m.group(0)]} ", normalized_text)
