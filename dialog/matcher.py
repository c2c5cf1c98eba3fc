"""Intent matcher: ranks knowledge base entries for one caller utterance.

Each entry is indexed through its example questions and keywords with three views of the text:

- content morphemes from kiwipiepy (nouns, verb/adjective stems, roots, foreign words, negation
  adverbs), mapped through the KB synonym groups and reduced to a phonetic key, so that inflection
  (빌려요/빌리는) and recogniser spelling slips (등뽄/등본) land on the same token;
- character n-grams of the phonetic key of the space-free text, which survive wrong spacing and
  garbled syllables that break morpheme analysis (다릉이 -> 다릉/이);
- a rapidfuzz similarity between the space-free phonetic keys.

Per question the cosine similarities (TF-IDF, IDF over entries) and the fuzzy ratio are combined;
an entry scores its best question plus how much of the query's information its whole vocabulary
explains ("coverage", which drops for out-of-scope questions full of unknown words). A logistic
curve turns the score into a confidence in 0..1. The curve is deliberately steeper and later than a
fit on in-scope questions alone (``python -m benchmarks.dialog --calibrate`` prints that fit), so
that out-of-scope questions land near 0; the decision thresholds were read off the same command's
table (K-fold held-out KB questions and a separate list of out-of-scope calibration questions),
never off the eval set.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from kiwipiepy import Kiwi, Token
from rapidfuzz import fuzz, process

from .kb import KBEntry, KnowledgeBase
from .normalize import char_ngrams, normalize_text, phonetic_key
from .slots import SlotFinder

# answer: confident, clear winner; clarify: two close intents, ask which; confirm: one plausible intent
# below the answer threshold, ask "X 문의이신가요?"; reject: nothing plausible, ask to rephrase.
Decision = Literal["answer", "clarify", "confirm", "reject"]

_CONTENT_TAGS = frozenset({"NNG", "NNP", "VV", "VA", "XR", "SL", "SN", "SH"})
_CONTENT_ADVERBS = frozenset({"안", "못"})
_KO_STOPWORDS = frozenset(
    "하 되 있 것 거 수 좀 알 싶 주 보 말 말씀 문의 궁금 어떻 어떡하 그렇 이렇 같 혹시 그냥 지금 제 저 "
    "우리 네 예 안녕 감사 고맙 여보세요 요 그 이 정도 때 경우 방법 가능 부탁 드리 필요 관련 내용 "
    "아 어 음 저기 좋 여쭈 묻 얘기 이야기 되게 너무 진짜 정말 그런데 근데".split()
)
# Stopwords as verb stems only; the nouns are kept by tag below: "물" (묻다 -> 물어보다, noun: water),
# "오"/"가" (오다/가다: 문자로 오는, 어디로 가면; they matched anything with a motion verb, e.g. 비 와요).
_KO_STOP_VERB_ONLY = frozenset({"물", "오", "가"})
_EN_STOPWORDS = frozenset(
    "a an the i im i'm me my mine you your to of in on at for from is are am be been was were do does did "
    "can could would should will shall how what where when which who whom why please want wanna like "
    "need know tell about it its this that these those with and or but get got there here hi hello "
    "hey sir madam so just some any there's thank thanks okay ok yes no not if by as us we our".split()
)
_EN_WORD = re.compile(r"[a-z0-9]+")
_SEOUL = ZoneInfo("Asia/Seoul")


def seoul_today() -> dt.date:
    return dt.datetime.now(_SEOUL).date()


@dataclass(frozen=True)
class MatcherConfig:
    """Weights, calibration and decision thresholds (confidences are after calibration)."""

    w_morph: float = 0.05
    w_char: float = 0.05
    w_fuzz: float = 0.03
    w_morph_coverage: float = 0.17
    w_char_coverage: float = 0.02
    w_answer_coverage: float = 0.24
    w_entry_morph: float = 0.32
    w_entry_char: float = 0.15
    calibration_slope: float = 12.0
    calibration_offset: float = 0.42
    # Answer at or above this confidence (held-out KB precision levels off around 0.92 here).
    answer_threshold: float = 0.55
    # Below this nothing is plausible: ask to rephrase. Between it and answer_threshold the best
    # intent is offered for confirmation. About 10 % of the out-of-scope calibration questions and
    # 88 % of held-out KB questions reach it.
    clarify_floor: float = 0.20
    # Two candidates closer than this (both above clarify_floor) are offered as a choice ...
    clarify_margin: float = 0.10
    # ... unless their raw scores are this far apart: near confidence 1 the curve saturates and two
    # clearly different scores (0.99 vs 0.90) would otherwise look close.
    clarify_score_margin: float = 0.10
    # Added to the raw score of entries in the category the caller picked from the menu.
    category_bonus: float = 0.05


@dataclass(frozen=True)
class Candidate:
    entry: KBEntry
    confidence: float
    score: float


@dataclass(frozen=True)
class MatchResult:
    text: str
    candidates: tuple[Candidate, ...]
    decision: Decision

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def confidence(self) -> float:
        return self.candidates[0].confidence if self.candidates else 0.0


@dataclass(frozen=True)
class _Vectors:
    """Sparse vectors of all questions as an inverted index (term -> rows, weights)."""

    postings: dict[str, tuple[np.ndarray, np.ndarray]]
    entry_postings: dict[str, tuple[np.ndarray, np.ndarray]]
    answer_postings: dict[str, np.ndarray]
    idf: dict[str, float]
    unknown_idf: float


@dataclass(frozen=True)
class _Index:
    entries: tuple[KBEntry, ...]
    question_entry: np.ndarray  # question row -> entry index
    question_keys: tuple[str, ...]
    morph: _Vectors
    char: _Vectors
    categories: np.ndarray  # entry index -> category name


class Matcher:
    """Ranks KB entries for an utterance. Build once and share: matching is read-only.

    The kiwipiepy analyser is created (or taken from ``kiwi``) once per Matcher; calls into it are
    serialised with a lock because the wrapper is not documented as thread-safe. Entries outside their
    ``valid_from``/``valid_until`` dates on ``today()`` (Seoul) are not ranked: a seasonal answer is
    given only in its season, and the next best entry (or nothing) is offered instead.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        config: MatcherConfig | None = None,
        kiwi: Kiwi | None = None,
        today: Callable[[], dt.date] = seoul_today,
    ):
        self.kb = kb
        self.config = config or MatcherConfig()
        self.today = today
        self._seasonal = any(e.valid_from or e.valid_until for e in kb.entries)
        self._kiwi = kiwi or Kiwi()
        self._kiwi_lock = threading.Lock()
        for word in kb.lexicon:
            self._kiwi.add_user_word(word.replace(" ", ""), "NNP", 0.0)
        self._synonyms = _synonym_map(kb.synonyms)
        self.slots = SlotFinder(kb.slot_values)
        self._indexes = {
            lang: self._build_index([e for e in kb.entries if e.lang == lang], lang)
            for lang in sorted({e.lang for e in kb.entries})
        }

    # ----------------------------------------------------------------------------------- analysis
    def tokenize(self, text: str) -> list[Token]:
        """kiwipiepy morphemes of ``text``, from the matcher's analyser (with the KB's words)."""
        with self._kiwi_lock:
            return self._kiwi.tokenize(text)

    def content_tokens(self, text: str, lang: str = "ko") -> list[str]:
        """Canonical content tokens of ``text`` (the morpheme view used for matching)."""
        norm = self.slots.mask(normalize_text(text))
        if lang == "en":
            return [self._canonical(_en_stem(w)) for w in _EN_WORD.findall(norm) if w not in _EN_STOPWORDS]
        tokens = self.tokenize(norm)
        out = []
        for tok in tokens:
            tag = tok.tag.split("-", 1)[0]
            form = tok.form
            if tag == "MAG" and form in _CONTENT_ADVERBS:
                out.append(form)
                continue
            if tag not in _CONTENT_TAGS:
                continue
            if form in _KO_STOP_VERB_ONLY:
                if not tag.startswith("N"):
                    continue
            elif form in _KO_STOPWORDS:
                continue
            out.append(self._canonical(form))
        return out

    def _canonical(self, form: str) -> str:
        form = self._synonyms.get(form, form)
        return phonetic_key(form) or form

    def _char_key(self, text: str, lang: str) -> str:
        masked = self.slots.mask(normalize_text(text)).replace(" ", "")
        return masked if lang == "en" else phonetic_key(masked)

    # -------------------------------------------------------------------------------------- index
    def _build_index(self, entries: list[KBEntry], lang: str) -> _Index:
        rows_entry: list[int] = []
        keys: list[str] = []
        morph_docs: list[set[str]] = []
        char_docs: list[set[str]] = []
        entry_morph: list[set[str]] = []
        entry_char: list[set[str]] = []
        entry_answer: list[set[str]] = []
        for ei, entry in enumerate(entries):
            entry_answer.append(set(self.content_tokens(entry.answer, lang)))
            union_m: set[str] = set()
            union_c: set[str] = set()
            for question in (*entry.questions, entry.title):
                m = set(self.content_tokens(question, lang))
                key = self._char_key(question, lang)
                c = set(char_ngrams(key))
                union_m |= m
                union_c |= c
                if question is entry.title:
                    continue
                rows_entry.append(ei)
                keys.append(key)
                morph_docs.append(m)
                char_docs.append(c)
            for keyword in entry.keywords:
                union_m |= set(self.content_tokens(keyword, lang))
                union_c |= set(char_ngrams(self._char_key(keyword, lang)))
            entry_morph.append(union_m)
            entry_char.append(union_c)
        return _Index(
            entries=tuple(entries),
            question_entry=np.asarray(rows_entry, dtype=np.int32),
            question_keys=tuple(keys),
            morph=_vectorize(morph_docs, entry_morph, len(entries), entry_answer),
            char=_vectorize(char_docs, entry_char, len(entries)),
            categories=np.asarray([e.category for e in entries]),
        )

    # ----------------------------------------------------------------------------------- matching
    def features(self, text: str, lang: str = "ko") -> _Features | None:
        """Raw similarity features of ``text`` against the index of ``lang`` (None: nothing to match)."""
        index = self._indexes.get(lang)
        if index is None or not normalize_text(text):
            return None
        n_entries = len(index.entries)
        n_rows = len(index.question_keys)
        key = self._char_key(text, lang)
        morph = _similarity(index.morph, set(self.content_tokens(text, lang)), n_rows, n_entries)
        char = _similarity(index.char, set(char_ngrams(key)), n_rows, n_entries)
        fuzzy = process.cdist([key], index.question_keys, scorer=fuzz.ratio, dtype=np.float32)[0] / 100.0
        return _Features(index, morph, char, fuzzy.astype(np.float64))

    def score(self, feats: _Features, category: str | None = None) -> np.ndarray:
        """Combined raw score per entry of the index the features were computed on."""
        cfg = self.config
        index = feats.index
        per_question = cfg.w_morph * feats.morph.cos + cfg.w_char * feats.char.cos + cfg.w_fuzz * feats.fuzzy
        best = np.full(len(index.entries), -1.0, dtype=np.float64)
        np.maximum.at(best, index.question_entry, per_question)
        scores = (
            best
            + cfg.w_morph_coverage * feats.morph.cover
            + cfg.w_char_coverage * feats.char.cover
            + cfg.w_answer_coverage * feats.morph.cover_answer
            + cfg.w_entry_morph * feats.morph.entry_cos
            + cfg.w_entry_char * feats.char.entry_cos
        )
        if category is not None:
            scores = scores + cfg.category_bonus * (index.categories == category)
        return scores

    def rank(
        self,
        text: str,
        lang: str = "ko",
        category: str | None = None,
        restrict: Iterable[str] | None = None,
        limit: int = 5,
    ) -> list[Candidate]:
        """Candidates best first. ``restrict`` limits the ranking to the given entry ids."""
        feats = self.features(text, lang)
        if feats is None:
            return []
        scores = self.score(feats, category)
        entries = feats.index.entries
        allowed = set(restrict) if restrict is not None else None
        day = self.today() if self._seasonal else None
        out: list[Candidate] = []
        for ei in np.argsort(-scores, kind="stable"):
            entry = entries[int(ei)]
            if allowed is not None and entry.id not in allowed:
                continue
            if day is not None and not entry.active_on(day):
                continue
            value = float(scores[ei])
            out.append(Candidate(entry=entry, confidence=self.calibrate(value), score=value))
            if len(out) >= limit:
                break
        return out

    def calibrate(self, score: float) -> float:
        cfg = self.config
        return 1.0 / (1.0 + math.exp(-cfg.calibration_slope * (score - cfg.calibration_offset)))

    def match(
        self,
        text: str,
        lang: str = "ko",
        category: str | None = None,
        restrict: Iterable[str] | None = None,
    ) -> MatchResult:
        """Rank and decide: answer (confident, clear winner), clarify (two close intents), confirm
        (one plausible intent below the answer threshold) or reject."""
        candidates = tuple(self.rank(text, lang, category, restrict))
        return MatchResult(text=text, candidates=candidates, decision=self.decide(candidates))

    def decide(self, candidates: Sequence[Candidate]) -> Decision:
        cfg = self.config
        if not candidates or candidates[0].confidence < cfg.clarify_floor:
            return "reject"
        top = candidates[0]
        second = candidates[1] if len(candidates) > 1 else None
        close = (
            second is not None
            and second.entry.id != top.entry.id
            and second.confidence >= cfg.clarify_floor
            and top.confidence - second.confidence < cfg.clarify_margin
            and top.score - second.score < cfg.clarify_score_margin
        )
        if close:
            return "clarify"
        return "answer" if top.confidence >= cfg.answer_threshold else "confirm"


def _vectorize(
    docs: list[set[str]],
    entry_docs: list[set[str]],
    n_entries: int,
    answer_docs: list[set[str]] | None = None,
) -> _Vectors:
    df: dict[str, int] = {}
    for terms in entry_docs:
        for t in terms:
            df[t] = df.get(t, 0) + 1
    idf = {t: math.log((n_entries + 1) / (d + 1)) + 1.0 for t, d in df.items()}
    return _Vectors(
        postings=_weighted_inverted(docs, idf),
        entry_postings=_weighted_inverted(entry_docs, idf),
        answer_postings=_inverted(answer_docs or []),
        idf=idf,
        unknown_idf=math.log(n_entries + 1) + 1.0,
    )


def _weighted_inverted(
    docs: list[set[str]], idf: dict[str, float]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """term -> (document rows, L2-normalised idf weight of the term in each document)."""
    rows: dict[str, list[int]] = {}
    weights: dict[str, list[float]] = {}
    for row, terms in enumerate(docs):
        known = [t for t in terms if t in idf]
        norm = math.sqrt(sum(idf[t] ** 2 for t in known)) or 1.0
        for t in known:
            rows.setdefault(t, []).append(row)
            weights.setdefault(t, []).append(idf[t] / norm)
    return {t: (np.asarray(rows[t], np.int32), np.asarray(weights[t], np.float64)) for t in rows}


def _inverted(docs: list[set[str]]) -> dict[str, np.ndarray]:
    rows: dict[str, list[int]] = {}
    for i, terms in enumerate(docs):
        for t in terms:
            rows.setdefault(t, []).append(i)
    return {t: np.asarray(r, np.int32) for t, r in rows.items()}


@dataclass(frozen=True)
class _Similarity:
    cos: np.ndarray  # per question: cosine with the query
    cover: np.ndarray  # per entry: share of the query's idf mass in the entry's question vocabulary
    cover_answer: np.ndarray  # per entry: the same for the answer's vocabulary
    entry_cos: np.ndarray  # per entry: cosine with all the entry's questions taken as one document


@dataclass(frozen=True)
class _Features:
    index: _Index
    morph: _Similarity
    char: _Similarity
    fuzzy: np.ndarray  # per question: rapidfuzz ratio of the phonetic keys, 0..1


def _similarity(vectors: _Vectors, terms: set[str], n_rows: int, n_entries: int) -> _Similarity:
    cos = np.zeros(n_rows, dtype=np.float64)
    cover = np.zeros(n_entries, dtype=np.float64)
    cover_answer = np.zeros(n_entries, dtype=np.float64)
    entry_cos = np.zeros(n_entries, dtype=np.float64)
    if terms:
        weights = {t: vectors.idf.get(t, vectors.unknown_idf) for t in terms}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        total = sum(weights.values())
        for t, w in weights.items():
            posting = vectors.postings.get(t)
            if posting is not None:
                cos[posting[0]] += posting[1] * (w / norm)
            entry_posting = vectors.entry_postings.get(t)
            if entry_posting is not None:
                cover[entry_posting[0]] += w / total
                entry_cos[entry_posting[0]] += entry_posting[1] * (w / norm)
            answers = vectors.answer_postings.get(t)
            if answers is not None:
                cover_answer[answers] += w / total
    return _Similarity(cos, cover, cover_answer, entry_cos)


def _synonym_map(groups: Iterable[Sequence[str]]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for group in groups:
        head = group[0].replace(" ", "")
        for word in group:
            mapping.setdefault(word.replace(" ", ""), head)
    return mapping


def _en_stem(word: str) -> str:
    for suffix, min_len in (("ing", 6), ("ed", 5), ("es", 5), ("s", 4)):
        if word.endswith(suffix) and len(word) >= min_len and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word
