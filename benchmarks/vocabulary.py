"""Domain vocabulary for the recogniser, built from the knowledge base (issue 15): the lexicon, the nouns
of the entry titles (most frequent across titles and questions first) and the district names, as one short
Korean text for Whisper's ``initial_prompt`` or faster-whisper's ``hotwords``. Measured by ``benchmarks.stt
--variant prompt``: it made the shared clips worse (they are not service questions), so the product does
not set it. Whisper keeps only the last
224 prompt tokens, and a Korean syllable is one to three of them, so the text is capped."""

from __future__ import annotations

from collections import Counter

from dialog.kb import KnowledgeBase, load_kb

MAX_CHARS = 180


def vocabulary(kb: KnowledgeBase) -> list[str]:
    from kiwipiepy import Kiwi

    kiwi = Kiwi()

    def nouns(text: str) -> list[str]:
        return [t.form for t in kiwi.tokenize(text) if t.tag in ("NNG", "NNP") and len(t.form) > 1]

    title_nouns = {n for entry in kb for n in nouns(entry.title)}
    counts = Counter(n for entry in kb for text in (entry.title, *entry.questions) for n in nouns(text))
    ranked = sorted(title_nouns, key=lambda n: (-counts[n], n))
    districts = [v.name for values in kb.slot_values.values() for v in values if v.name.endswith("구")]
    return list(dict.fromkeys([*kb.lexicon, *ranked[:15], *districts]))


def recognition_prompt(kb: KnowledgeBase | None = None, max_chars: int = MAX_CHARS) -> str:
    """Comma-separated vocabulary, most useful first, at most ``max_chars`` characters."""
    text = ""
    for word in vocabulary(kb if kb is not None else load_kb()):
        candidate = f"{text}, {word}" if text else word
        if len(candidate) > max_chars:
            break
        text = candidate
    return text
