"""What one utterance means, and the bot turn that answers it: the part of the dialog shared by the
single-shot ``DialogEngine.ask`` and the per-call ``DialogSession``.

``Interpreter`` holds the knowledge base, matcher and emergency detector; ``render`` turns an
``Interpretation`` into a ``BotTurn`` and ``make_handoff`` builds the record an agent receives. Both
``dialog.engine`` and ``dialog.session`` import this module, and it imports neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from . import prompts, rules
from .emergency import EmergencyDetector
from .kb import KBEntry, KnowledgeBase, SlotValue
from .matcher import Matcher, MatcherConfig, MatchResult
from .normalize import compact, hangul_ratio
from .privacy import REFUSAL_INTENT, asks_for_others_data
from .turns import Action, BotTurn, Handoff, Reason

Kind = Literal[
    "emergency",
    "agent_request",
    "frustration",
    "foreign_language",
    "answer",
    "staff",
    "slot_needed",
    "clarify",
    "not_understood",
    "personal_data",
]


@dataclass(frozen=True)
class EngineConfig:
    # Below this STT confidence (when the call loop supplies one) the caller is asked to repeat.
    min_stt_confidence: float = 0.35
    # Consecutive uncertain turns (not understood / clarifying) before handing over to an agent.
    low_confidence_limit: int = 2
    # Silent turns answered with a reprompt before the agent offer (or goodbye after an answer).
    no_input_reprompts: int = 2


@dataclass(frozen=True)
class Interpretation:
    """What one utterance means, before any call state is applied."""

    kind: Kind
    lang: str
    match: MatchResult | None = None
    entry: KBEntry | None = None
    slot_values: Mapping[str, SlotValue] = field(default_factory=dict)
    options: tuple[KBEntry, ...] = ()
    emergency: str | None = None

    @property
    def confidence(self) -> float:
        if self.kind in ("emergency", "agent_request", "frustration", "personal_data"):
            return 1.0
        return self.match.confidence if self.match else 0.0


def names_programme(text: str, names: Iterable[str]) -> bool:
    """Whether ``text`` names one of a programme's ``names`` (spacing and punctuation ignored)."""
    said = compact(text)
    return any(compact(name) in said for name in names)


def effective_language(text: str, reported: str | None) -> str:
    """The language to answer in: Hangul text is Korean whatever the recogniser's language id says
    (code-switching makes Whisper's id unreliable), Latin text reported as ko or en is English."""
    reported = (reported or "ko").lower().split("-")[0]
    ratio = hangul_ratio(text)
    if ratio >= 0.5:
        return "ko"
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return reported
    if reported in ("ko", "en") and all(ch.isascii() for ch in letters):
        return "en"
    return reported


class Interpreter:
    """Knowledge base + matcher, built once and shared read-only by all concurrent calls."""

    def __init__(
        self,
        kb: KnowledgeBase,
        matcher: Matcher | None = None,
        config: EngineConfig | None = None,
        matcher_config: MatcherConfig | None = None,
    ):
        self.kb = kb
        self.matcher = matcher or Matcher(kb, matcher_config)
        self.config = config or EngineConfig()
        self.emergencies = EmergencyDetector(self.matcher.tokenize)

    # ------------------------------------------------------------------------------ interpretation
    def safety_check(self, text: str, lang: str) -> Interpretation | None:
        """Emergencies, unsupported languages, explicit agent requests, frustration and requests for
        someone else's personal data (``dialog.privacy``: refused, not escalated), in that order."""
        emergency = self.emergencies.detect(text, "en" if lang == "en" else "ko")
        if emergency is not None:
            return Interpretation("emergency", lang, emergency=emergency.kind)
        if lang not in ("ko", "en"):
            return Interpretation("foreign_language", lang)
        if rules.agent_request_strength(text, lang) == "strong":
            return Interpretation("agent_request", lang)
        if rules.is_frustrated(text, lang):
            return Interpretation("frustration", lang)
        if lang == "ko" and asks_for_others_data(text):
            return Interpretation("personal_data", lang)
        return None

    def interpret_question(
        self,
        text: str,
        lang: str = "ko",
        category: str | None = None,
        restrict: Iterable[str] | None = None,
    ) -> Interpretation:
        """Match ``text`` as a question (no safety checks)."""
        result = self.matcher.match(text, lang, category if lang == "ko" else None, restrict)
        if result.decision == "answer" and result.top is not None:
            entry = result.top.entry
            if entry.programme and not names_programme(text, entry.programme):
                # An answer about one named programme (기초연금, 청년수당 ...) to a question that does not
                # name it would answer a neighbouring question with confidence: ask whether it is the one.
                return Interpretation("clarify", lang, result, entry, options=(entry,))
            if entry.requires_staff:
                return Interpretation("staff", lang, result, entry)
            values = {s.name: self.matcher.slots.find(s.name, text) for s in entry.slots}
            if any(v is None for v in values.values()):
                return Interpretation("slot_needed", lang, result, entry)
            return Interpretation("answer", lang, result, entry, slot_values=values)  # type: ignore[arg-type]
        if lang == "en" and result.decision == "reject":
            return Interpretation("foreign_language", lang, result)
        if lang == "ko" and rules.agent_request_strength(text, lang) == "weak":
            return Interpretation("agent_request", lang, result)
        if result.decision in ("clarify", "confirm"):
            # Two close intents: ask which one; one plausible intent: ask whether it is the one.
            n = 2 if result.decision == "clarify" else 1
            options = tuple(c.entry for c in result.candidates[:n])
            return Interpretation("clarify", lang, result, options[0], options=options)
        return Interpretation("not_understood", lang, result)

    def interpret(self, text: str, language: str = "ko", category: str | None = None) -> Interpretation:
        lang = effective_language(text, language)
        return self.safety_check(text, lang) or self.interpret_question(text, lang, category)


def render(interp: Interpretation, follow_up: bool) -> BotTurn:
    """The bot turn for an interpretation; ``follow_up`` appends '더 궁금하신 점 있으세요?' to answers.

    Escalating turns come back without their Handoff; the caller attaches one built from its history.
    """
    en = interp.lang == "en"
    kind = interp.kind
    entry = interp.entry
    conf = interp.confidence
    if kind == "emergency":
        reply = prompts.EMERGENCY_REPLY_EN if en else prompts.EMERGENCY_REPLIES[interp.emergency or "general"]
        return BotTurn(Action.ESCALATE, reply, confidence=1.0, expects="none", interruptible=False)
    if kind == "agent_request":
        reply = prompts.ESCALATE_AGENT_EN if en else prompts.ESCALATE_AGENT
        return BotTurn(Action.ESCALATE, reply, confidence=conf, expects="none")
    if kind == "frustration":
        reply = prompts.ESCALATE_FRUSTRATION_EN if en else prompts.ESCALATE_FRUSTRATION
        return BotTurn(Action.ESCALATE, reply, confidence=conf, expects="none")
    if kind == "foreign_language":
        return BotTurn(
            Action.ESCALATE, prompts.ESCALATE_FOREIGN, category="foreign", confidence=conf, expects="none"
        )
    if kind == "personal_data":  # a refusal that says why and what to do instead: an answer
        reply = prompts.PERSONAL_DATA_REFUSAL + (" " + prompts.FOLLOW_UP if follow_up else "")
        expects = "yes_no" if follow_up else "question"
        return BotTurn(Action.ANSWER, reply, "general", REFUSAL_INTENT, 1.0, expects=expects)
    assert kind in ("answer", "staff", "slot_needed", "clarify", "not_understood")
    if kind == "not_understood" or entry is None:
        return BotTurn(Action.CLARIFY, prompts.NOT_UNDERSTOOD, confidence=conf, expects="question")
    if kind == "answer":
        reply = entry.render(interp.slot_values)
        text = entry.render(interp.slot_values, chat=True) if entry.chat_answer else None
        if follow_up:
            suffix = prompts.ENGLISH_FOLLOW_UP if en else " " + prompts.FOLLOW_UP
            reply += suffix
            text = text + suffix if text else None
        expects = "yes_no" if follow_up else "question"
        return BotTurn(Action.ANSWER, reply, entry.category, entry.id, conf, expects=expects, text_reply=text)
    if kind == "staff":
        reply = entry.render() + prompts.ESCALATE_STAFF
        text = entry.render(chat=True) + prompts.ESCALATE_STAFF if entry.chat_answer else None
        return BotTurn(
            Action.ESCALATE, reply, entry.category, entry.id, conf, expects="none", text_reply=text
        )
    if kind == "slot_needed":
        return BotTurn(Action.CLARIFY, entry.slots[0].prompt, entry.category, entry.id, conf, expects="slot")
    if len(interp.options) == 1:
        (a,) = interp.options
        reply = (prompts.CLARIFY_ONE_EN if en else prompts.CLARIFY_ONE).format(a=a.title)
    else:
        a, b = interp.options
        reply = (prompts.CLARIFY_TWO_EN if en else prompts.CLARIFY_TWO).format(a=a.title, b=b.title)
    return BotTurn(Action.CLARIFY, reply, a.category, a.id, conf, expects="choice")


_REASONS: dict[str, Reason] = {
    "emergency": Reason.EMERGENCY,
    "agent_request": Reason.AGENT_REQUEST,
    "frustration": Reason.FRUSTRATION,
    "foreign_language": Reason.FOREIGN_LANGUAGE,
    "staff": Reason.REQUIRES_STAFF,
    "not_understood": Reason.LOW_CONFIDENCE,
    "clarify": Reason.LOW_CONFIDENCE,
}


def make_handoff(
    interp: Interpretation | None,
    turn: BotTurn,
    caller: Iterable[str],
    bot: Iterable[str],
    language: str,
    reason: Reason | None = None,
    detail: str = "",
    call_id: str | None = None,
) -> Handoff:
    if reason is None:
        reason = _REASONS[interp.kind] if interp is not None else Reason.AGENT_REQUEST
    if not detail and interp is not None and interp.emergency:
        detail = interp.emergency
    return Handoff(
        reason=reason,
        category=turn.category,
        intent=turn.intent,
        caller_utterances=tuple(caller),
        bot_replies=tuple(bot),
        timestamp=dt.datetime.now(dt.UTC),
        language=language,
        detail=detail,
        call_id=call_id,
    )
