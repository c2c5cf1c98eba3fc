"""KB gaps (맞춤분석, issue 19): questions the bot could not answer, grouped by meaning.

Each question becomes a TF-IDF vector over its content morphemes (kiwipiepy, through the matcher's
``content_tokens``: synonyms and spelling variants folded) and their bigrams; groups are formed by
average-linkage agglomerative clustering on cosine similarity, stopping below ``threshold``. Everything
runs in this process: no text leaves the machine. Examples are masked (digits replaced) before they are
shown; ranking is by group size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

_DIGITS = re.compile(r"\d")


def mask(text: str) -> str:
    """A question as staff may see it: every digit replaced (phone, resident and account numbers)."""
    return _DIGITS.sub("○", text).strip()


@dataclass(frozen=True)
class Group:
    members: tuple[int, ...]  # indexes into the questions given
    terms: tuple[str, ...]  # the group's heaviest features
    examples: tuple[str, ...]  # up to three masked questions

    @property
    def size(self) -> int:
        return len(self.members)


def _features(tokens: list[str]) -> list[str]:
    return tokens + [f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def tfidf(docs: Sequence[list[str]]) -> tuple[np.ndarray, list[str]]:
    vocab = sorted({t for doc in docs for t in doc})
    index = {t: i for i, t in enumerate(vocab)}
    counts = np.zeros((len(docs), len(vocab)))
    for row, doc in enumerate(docs):
        for t in doc:
            counts[row, index[t]] += 1
    df = (counts > 0).sum(axis=0)
    idf = np.log((1 + len(docs)) / (1 + df)) + 1
    weights = np.log1p(counts) * idf
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    return weights / np.where(norms == 0, 1, norms), vocab


def cluster(
    questions: Sequence[str],
    tokenize: Callable[[str], list[str]],
    *,
    threshold: float = 0.25,
    examples: int = 3,
) -> list[Group]:
    """Groups of ``questions`` by meaning, largest first."""
    if not questions:
        return []
    vectors, vocab = tfidf([_features(tokenize(q)) for q in questions])
    sim = vectors @ vectors.T
    groups: list[list[int]] = [[i] for i in range(len(questions))]
    while len(groups) > 1:
        best, pair = threshold, None
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                score = float(sim[np.ix_(groups[a], groups[b])].mean())
                if score >= best:
                    best, pair = score, (a, b)
        if pair is None:
            break
        a, b = pair
        groups[a] = groups[a] + groups[b]
        del groups[b]
    out = []
    for members in sorted(groups, key=len, reverse=True):
        centroid = vectors[members].mean(axis=0)
        top = [vocab[i] for i in np.argsort(-centroid)[:3] if centroid[i] > 0]
        shown = tuple(mask(questions[i]) for i in members[:examples])
        out.append(Group(tuple(members), tuple(top), shown))
    return out
