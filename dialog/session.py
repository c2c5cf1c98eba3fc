"""DialogSession: the ARS flow of one call as a small state machine.

States and what moves between them::

    MENU ──digit / spoken menu──> QUESTION ──answer──> FOLLOW_UP ──no──> (goodbye, ended)
      │  └─question at greeting────────────────────────┘   │ └─yes──> QUESTION
      │   clarifying question (two options, or one to confirm) ──> CLARIFY / SLOT ──resolved──> FOLLOW_UP
      └─ silence x3 (never answered) ──> AGENT_OFFER ──yes / 0──> (escalate, ended)

Keypad: in MENU 0,1,2,3,4,9 pick a menu and * or # repeat it. Everywhere else * repeats the last
prompt (or answer), # goes back to the main menu, 0 connects to an agent, 1-4 and 9 jump to that
menu, and in CLARIFY 1 or 2 pick the first or second option offered (yes / no when one was offered).

Checked on every utterance, before the state: emergency (escalate at once, 119/112 instructions),
non-Korean language, explicit agent request, frustration, and the same question repeated after an
answer; then a request for someone else's personal data (``dialog.privacy``) is refused politely in any
state (an answer with intent ``personal_data_refusal``, then the follow-up question). Escalation and
goodbye end the session; further events return the final turn unchanged.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from rapidfuzz import fuzz

from . import prompts, rules
from .interpret import Interpretation, Interpreter, effective_language, make_handoff, render
from .kb import KBEntry
from .normalize import compact
from .turn_end import (
    Phatic,
    TurnStatus,
    is_babble,
    is_backchannel,
    is_interruption,
    is_short_answer,
    phatic,
    turn_status,
)
from .turns import Action, BotTurn, Handoff, HistoryItem, Reason

_REPEAT_SIMILARITY = 90.0
# Turns of only social words in a row answered in kind; the next one is taken as not understood.
_PHATIC_LIMIT = 2
_PHATIC_REPLY = {
    Phatic.HELLO: prompts.HELLO_HEARD,
    Phatic.GREETING: prompts.GREETING_BACK,
    Phatic.ATTENTION: prompts.ASK_QUESTION,
}
# What the dialog acts on at once (a clarify question is not: it also comes of words made up of noise).
_ACTIONABLE = ("answer", "staff", "slot_needed", "emergency", "agent_request", "frustration", "personal_data")
# Whisper's mean token probability above which short words over a prompt were heard, not made up of a
# cough or a mumble (on espeak-ng and real speech cut to 1.6 s: made-up words 0.11-0.26, real 0.45-0.77).
CLEAR_WORDS = 0.4


class State(StrEnum):
    MENU = "menu"
    QUESTION = "question"
    FOLLOW_UP = "follow_up"
    CLARIFY = "clarify"
    SLOT = "slot"
    AGENT_OFFER = "agent_offer"
    SMS_OFFER = "sms_offer"
    ENDED = "ended"


# States in which the bot asked for a short answer (yes/no, one of two, a district name).
_SHORT_ANSWER_STATES = (State.CLARIFY, State.SLOT, State.AGENT_OFFER, State.SMS_OFFER)


class DialogSession:
    """One call. Not thread-safe: the call loop feeds it events one at a time."""

    def __init__(self, engine: Interpreter, call_id: str | None = None):
        self.engine = engine
        self.call_id = call_id
        self._state = State.MENU
        self._category: str | None = None
        self._language = "ko"
        self._no_input = 0
        self._uncertain = 0
        self._phatic = 0  # turns of only social words in a row ("여보세요?", "안녕하세요")
        self._answered = False
        self._last_answered_text: str | None = None
        self._options: tuple[KBEntry, ...] = ()
        self._pending_text = ""  # the question a clarifying prompt is about
        self._slot_entry: KBEntry | None = None
        self._last_prompt: BotTurn | None = None
        self._final: BotTurn | None = None
        self._handoff: Handoff | None = None
        self._history: list[HistoryItem] = []
        self._sms_offer = False  # a text message can reach this caller (enable_sms_offer)
        self._sms_offered = False
        self._sms_body = ""

    # -------------------------------------------------------------------------------- properties
    @property
    def ended(self) -> bool:
        return self._state is State.ENDED

    @property
    def handoff(self) -> Handoff | None:
        return self._handoff

    @property
    def history(self) -> list[HistoryItem]:
        return list(self._history)

    @property
    def state(self) -> str:
        return self._state.value

    @property
    def category(self) -> str | None:
        return self._category

    def enable_sms_offer(self) -> None:
        """The call side can text this caller: after the first Korean answer, offer to send it by SMS
        (yes / 1: the next turn carries ``sms_text``; no / 2 / silence: on to the follow-up question)."""
        self._sms_offer = True

    # ------------------------------------------------------------------------------------ events
    def start(self, recording_notice: str | None = None) -> BotTurn:
        """The greeting with the menu; the caller may answer with a key or with a question. A recorded
        call passes its ``recording_notice``: said once, after the greeting (reprompts repeat the menu only)."""
        self._state = State.MENU
        reply = prompts.with_notice(f"{prompts.GREETING} {prompts.MENU}", recording_notice)
        return self._emit(BotTurn(Action.MENU, reply, expects="menu"))

    def on_speech(self, text: str, language: str = "ko", stt_confidence: float | None = None) -> BotTurn:
        if self._final is not None:
            return self._final
        text = " ".join((text or "").split())
        if not any(ch.isalnum() for ch in text):  # not compact(): it drops Chinese, Japanese, ...
            return self.on_no_input()
        self._history.append(HistoryItem("caller", "speech", text, language=language))
        self._no_input = 0
        lang = effective_language(text, language)
        self._language = lang

        safety = self.engine.safety_check(text, lang)
        if safety is not None and safety.kind != "personal_data":
            return self._escalate_for(safety)
        if stt_confidence is not None and stt_confidence < self.engine.config.min_stt_confidence:
            return self._uncertain_turn(prompts.NOT_HEARD, None)
        if self._is_repeat(text):
            return self._escalate(
                Reason.FRUSTRATION, prompts.ESCALATE_FRUSTRATION, detail="repeated question"
            )
        if safety is not None:  # someone else's personal data: refused in any state
            return self._refuse(safety)

        handler = {
            State.MENU: self._speech_in_menu,
            State.QUESTION: self._speech_in_question,
            State.FOLLOW_UP: self._speech_in_follow_up,
            State.CLARIFY: self._speech_in_clarify,
            State.SLOT: self._speech_in_slot,
            State.AGENT_OFFER: self._speech_in_agent_offer,
            State.SMS_OFFER: self._speech_in_sms_offer,
        }.get(self._state)
        if handler is not None:
            turn = handler(text, lang)
            if turn is not None:
                return turn
        return self._question(text, lang)

    def on_dtmf(self, digit: str) -> BotTurn:
        if self._final is not None:
            return self._final
        digit = (digit or "").strip()
        self._history.append(HistoryItem("caller", "dtmf", digit))
        self._no_input = 0
        if self._state is State.MENU:
            if digit in ("*", "#"):
                return self._menu(prompts.MENU_AGAIN)
            if digit in prompts.CATEGORY_BY_DIGIT:
                return self._select_menu(digit)
            return self._menu(prompts.MENU_INVALID)
        if digit == "*":
            return self._repeat_last()
        if digit == "#":
            return self._menu("")
        if digit == "0":
            return self._escalate(Reason.AGENT_REQUEST, prompts.ESCALATE_AGENT, detail="keypad 0")
        if self._state is State.SMS_OFFER and digit in ("1", "2"):
            return self._sms_answer(digit == "1")
        if self._state is State.CLARIFY and digit in ("1", "2") and len(self._options) == 2:
            return self._answer_entry(self._options[int(digit) - 1], self._pending_text, self._language)
        if digit in prompts.CATEGORY_BY_DIGIT:
            return self._select_menu(digit)
        last = self._last_prompt
        reply = prompts.MENU_INVALID + (last.reply if last else prompts.MENU)
        return self._emit(
            dataclasses.replace(last, reply=reply) if last else BotTurn(Action.MENU, reply, expects="menu")
        )

    def on_no_input(self) -> BotTurn:
        if self._final is not None:
            return self._final
        self._history.append(HistoryItem("caller", "no_input", ""))
        self._no_input += 1
        if self._state is State.AGENT_OFFER:
            return self._goodbye(prompts.GOODBYE_AFTER_SILENCE)
        if self._no_input <= self.engine.config.no_input_reprompts:
            return self._reprompt()
        if self._answered:
            return self._goodbye(prompts.GOODBYE_NO_MORE)
        self._state = State.AGENT_OFFER
        return self._emit(BotTurn(Action.MENU, prompts.OFFER_AGENT, self._category, expects="yes_no"))

    def checkpoint(self) -> dict:
        """The call's dialog state, to ``rollback`` to when an answer is withdrawn before it was heard
        (the caller went on talking: the next utterance is the rest of the same question)."""
        state = dict(self.__dict__)
        state["_history"] = list(self._history)
        return state

    def rollback(self, checkpoint: dict) -> None:
        self.__dict__.update(checkpoint)
        self._history = list(checkpoint["_history"])

    def turn_status(self, text: str) -> TurnStatus:
        """Whether the caller's words so far end their turn (``dialog.turn_end``), in this call's state:
        a menu choice in the menu ("2번이요") and, after a yes/no, choice or slot question, a short answer
        ("네", "강남구") are a whole turn, and a plain statement is one when it is already a request this
        dialog would act on (an answer it knows, an emergency, a request for an agent)."""
        status = turn_status(text, self.engine.matcher.tokenize)
        if self._state is State.MENU and rules.spoken_menu_digit(text) is not None:
            return TurnStatus.COMPLETE  # "2번이요", "교통이요": a menu choice
        if self._state in _SHORT_ANSWER_STATES and (status is TurnStatus.STATEMENT or is_short_answer(text)):
            return TurnStatus.COMPLETE
        if status is not TurnStatus.STATEMENT:
            return status
        interp = self.engine.interpret(text, self._language, self._category)
        if interp.kind in _ACTIONABLE:
            return TurnStatus.COMPLETE
        return TurnStatus.STATEMENT

    def barges_in(self, text: str, stt_confidence: float | None = None) -> bool:
        """Whether short words said over the current prompt are meant to stop it: a request to stop or
        listen, an answer to what the prompt asks (a menu choice, yes or no, a choice), a request the
        dialog acts on at once, or other words heard clearly (``stt_confidence`` at least
        ``CLEAR_WORDS``: the caller is saying something). An acknowledgement, a greeting said back, an
        interjection, or words Whisper made, unsure, of a cough or a mumble ("그버트 히옷", "Good luck"),
        or a string of the same syllables ("릴릴 릴릴릴", however sure) are not: the prompt goes on."""
        if not text.strip() or is_backchannel(text) or phatic(text) is Phatic.GREETING:
            return False  # "네", or "네, 안녕하세요" said back to the bot's greeting: a courtesy
        if is_interruption(text):
            return True
        if self._state is State.MENU and rules.spoken_menu_digit(text) is not None:
            return True
        if self._state in _SHORT_ANSWER_STATES and (rules.is_yes(text) or rules.is_no(text)):
            return True
        interp = self.engine.interpret(text, self._language, self._category)
        if interp.kind in _ACTIONABLE:
            return True
        if stt_confidence is None or stt_confidence < CLEAR_WORDS or is_babble(text):
            return False
        words = [m for m in self.engine.matcher.tokenize(text) if not m.tag.startswith("S")]
        return any(m.tag != "IC" for m in words)

    def on_barge_in(self) -> None:
        """The caller started speaking over the current prompt (the call loop stopped TTS)."""
        for item in reversed(self._history):
            if item.role == "bot":
                item.interrupted = True
                break
        self._history.append(HistoryItem("caller", "barge_in", ""))

    # ------------------------------------------------------------------------------ state handlers
    def _speech_in_menu(self, text: str, lang: str) -> BotTurn | None:
        digit = rules.spoken_menu_digit(text)
        return self._select_menu(digit) if digit is not None else None

    def _speech_in_follow_up(self, text: str, lang: str) -> BotTurn | None:
        if rules.is_no(text):
            return self._closing(text, lang)
        if rules.is_yes(text):
            interp = self.engine.interpret_question(text, lang, self._category)
            if rules.is_bare_yes(text) or interp.kind not in ("answer", "staff", "slot_needed"):
                self._state = State.QUESTION
                return self._emit(
                    BotTurn(Action.MENU, prompts.ASK_QUESTION, self._category, expects="question")
                )
        return None

    def _speech_in_clarify(self, text: str, lang: str) -> BotTurn | None:
        options = self._options
        if len(options) == 1 and rules.is_yes(text):  # "X 문의이신가요?" - "네, 맞아요"
            return self._answer_entry(
                options[0], self._pending_text, lang, slot_text=f"{self._pending_text} {text}"
            )
        choice = rules.ordinal_choice(text)
        if choice is not None and choice < len(options):
            return self._answer_entry(
                options[choice], self._pending_text, lang, slot_text=f"{self._pending_text} {text}"
            )
        for entry in options:
            if compact(entry.title) in compact(text):
                return self._answer_entry(entry, text, lang, slot_text=f"{self._pending_text} {text}")
        if rules.is_no(text) and len(compact(text)) <= 8:
            if lang == "en":  # the English FAQ has nothing closer: hand over to a foreign-language counsellor
                return self._escalate(
                    Reason.FOREIGN_LANGUAGE,
                    prompts.ESCALATE_FOREIGN,
                    category="foreign",
                    detail="rejected option",
                )
            self._state = State.QUESTION
            return self._emit(
                BotTurn(Action.CLARIFY, prompts.CLARIFY_REJECTED, self._category, expects="question")
            )
        restricted = self.engine.matcher.match(text, lang, restrict=[e.id for e in options])
        full = self.engine.interpret_question(text, lang, self._category)
        if full.kind in ("answer", "staff", "slot_needed") and full.entry not in options:
            return None  # a different, clear question: answer it normally
        top = restricted.top
        if top is not None and len(restricted.candidates) > 1:
            gap = top.score - restricted.candidates[1].score
            if gap > 0.05:
                return self._answer_entry(top.entry, text, lang, slot_text=f"{self._pending_text} {text}")
        return None

    def _speech_in_slot(self, text: str, lang: str) -> BotTurn | None:
        entry = self._slot_entry
        if entry is None:
            return None
        values = {s.name: self.engine.matcher.slots.find(s.name, text) for s in entry.slots}
        if all(v is not None for v in values.values()):
            self._slot_entry = None
            return self._answer_entry(entry, text, lang, slot_text=text)
        full = self.engine.interpret_question(text, lang, self._category)
        if full.kind in ("answer", "staff", "clarify") and full.entry is not entry:
            return None
        return self._uncertain_turn(f"{prompts.NOT_HEARD} {entry.slots[0].prompt}", entry, expects="slot")

    def _speech_in_agent_offer(self, text: str, lang: str) -> BotTurn | None:
        if rules.is_yes(text):
            return self._escalate(Reason.AGENT_REQUEST, prompts.ESCALATE_AGENT, detail="accepted agent offer")
        if rules.is_no(text):
            return self._goodbye("네, " + prompts.GOODBYE)
        return None

    def _speech_in_question(self, text: str, lang: str) -> BotTurn | None:
        # After an answer and "네, 궁금하신 내용을 말씀해 주세요.", "아 없어요" means there is nothing more.
        return self._closing(text, lang) if self._answered and rules.is_no(text) else None

    def _closing(self, text: str, lang: str) -> BotTurn | None:
        """A caller who says there is nothing more (아니요, 없어요, 감사합니다) hears goodbye, unless the
        same words ask something the knowledge base answers."""
        if not rules.is_bare_no(text):
            interp = self.engine.interpret_question(text, lang, self._category)
            if interp.kind in ("answer", "staff", "slot_needed", "clarify"):  # "아니요 따릉이 요금이요"
                return None
        return self._goodbye(prompts.ENGLISH_GOODBYE if lang == "en" else "네, " + prompts.GOODBYE)

    def _speech_in_sms_offer(self, text: str, lang: str) -> BotTurn | None:
        # "1번", "2번이요" as on the keypad (a longer sentence with 1번 in it is a question)
        choice = rules.ordinal_choice(text) if len(compact(text)) <= 5 else None
        if rules.is_yes(text) or choice == 0:
            return self._sms_answer(True)
        if (rules.is_no(text) and len(compact(text)) <= 8) or choice == 1:
            return self._sms_answer(False)
        return None  # a new question: answer it

    def _sms_answer(self, accepted: bool) -> BotTurn:
        self._state = State.FOLLOW_UP
        if not accepted:
            return self._emit(
                BotTurn(Action.MENU, "네, " + prompts.FOLLOW_UP, self._category, expects="yes_no")
            )
        turn = BotTurn(
            Action.MENU,
            f"{prompts.SMS_SENT} {prompts.FOLLOW_UP}",
            self._category,
            confidence=1.0,
            expects="yes_no",
            sms_text=prompts.SMS_HEADER + self._sms_body,
        )
        return self._emit(turn)

    # ------------------------------------------------------------------------------ question flow
    def _question(self, text: str, lang: str) -> BotTurn:
        kind = phatic(text) if lang == "ko" else None
        if kind is None:
            self._phatic = 0
        else:
            self._phatic += 1
            if self._phatic <= _PHATIC_LIMIT:
                # "여보세요?", "안녕하세요": not a question the bot failed to understand; the state stays.
                reply = _PHATIC_REPLY[kind]
                return self._emit(BotTurn(Action.MENU, reply, self._category, expects="question"))
        interp = self.engine.interpret_question(text, lang, self._category)
        return self._apply(interp, text)

    def _apply(self, interp: Interpretation, text: str) -> BotTurn:
        kind = interp.kind
        if kind in ("emergency", "agent_request", "frustration", "foreign_language", "staff"):
            return self._escalate_for(interp)
        if kind == "answer":
            return self._answered_turn(render(interp, follow_up=True), text)
        if kind == "slot_needed":
            self._state = State.SLOT
            self._slot_entry = interp.entry
            self._uncertain = 0
            return self._emit(render(interp, follow_up=True))
        if kind == "clarify":
            self._options = interp.options
            self._pending_text = text
            return self._uncertain_turn(
                render(interp, follow_up=True).reply, interp.entry, expects="choice", interp=interp
            )
        return self._uncertain_turn(prompts.NOT_UNDERSTOOD, None, interp=interp)

    def _refuse(self, interp: Interpretation) -> BotTurn:
        """The polite refusal (``dialog.privacy``), then '더 궁금하신 점 있으세요?'. Not offered by text
        message, and asking again is refused again rather than taken for frustration."""
        self._state = State.FOLLOW_UP
        self._answered = True
        self._uncertain = 0
        self._options = ()
        return self._emit(render(interp, follow_up=True))

    def _answer_entry(self, entry: KBEntry, text: str, lang: str, slot_text: str | None = None) -> BotTurn:
        """Answer a known entry (after a clarifying question or a slot prompt)."""
        if entry.requires_staff:
            interp = Interpretation("staff", lang, entry=entry)
            return self._escalate_for(interp)
        values = {s.name: self.engine.matcher.slots.find(s.name, slot_text or text) for s in entry.slots}
        if any(v is None for v in values.values()):
            self._state = State.SLOT
            self._slot_entry = entry
            return self._emit(
                BotTurn(Action.CLARIFY, entry.slots[0].prompt, entry.category, entry.id, expects="slot")
            )
        interp = Interpretation("answer", lang, entry=entry, slot_values=values)  # type: ignore[arg-type]
        turn = dataclasses.replace(render(interp, follow_up=True), confidence=1.0)
        return self._answered_turn(turn, text)

    def _answered_turn(self, turn: BotTurn, text: str) -> BotTurn:
        self._state = State.FOLLOW_UP
        self._answered = True
        self._uncertain = 0
        self._options = ()
        self._last_answered_text = text
        if turn.category and turn.category != "foreign":
            self._category = turn.category
        suffix = " " + prompts.FOLLOW_UP
        if self._sms_offer and not self._sms_offered and turn.reply.endswith(suffix):
            self._sms_offered = True
            self._sms_body = turn.reply.removesuffix(suffix)
            self._state = State.SMS_OFFER
            turn = dataclasses.replace(turn, reply=f"{self._sms_body} {prompts.SMS_OFFER}")
        return self._emit(turn)

    def _uncertain_turn(
        self,
        reply: str,
        entry: KBEntry | None,
        expects: str = "question",
        interp: Interpretation | None = None,
    ) -> BotTurn:
        """A clarifying question or a request to repeat; too many in a row hand over to an agent."""
        self._uncertain += 1
        limit = self.engine.config.low_confidence_limit
        is_choice = expects == "choice"
        if (not is_choice and self._uncertain >= limit) or self._uncertain > limit:
            return self._escalate(
                Reason.LOW_CONFIDENCE,
                prompts.ESCALATE_LOW_CONFIDENCE,
                intent=entry.id if entry else None,
                confidence=interp.confidence if interp else 0.0,
            )
        if is_choice:
            self._state = State.CLARIFY
        elif self._state not in (State.SLOT,):
            self._state = State.QUESTION
        turn = BotTurn(
            Action.CLARIFY,
            reply,
            entry.category if entry else self._category,
            entry.id if entry else None,
            interp.confidence if interp else 0.0,
            expects=expects,  # type: ignore[arg-type]
        )
        return self._emit(turn)

    def _is_repeat(self, text: str) -> bool:
        """The caller says the same thing again right after it was answered: the answer did not help."""
        last = self._last_answered_text
        if self._state is not State.FOLLOW_UP or not last:
            return False
        a, b = compact(text), compact(last)
        return len(a) >= 4 and fuzz.ratio(a, b) >= _REPEAT_SIMILARITY

    # ----------------------------------------------------------------------------- menus, prompts
    def _menu(self, prefix: str) -> BotTurn:
        self._state = State.MENU
        self._category = None
        return self._emit(BotTurn(Action.MENU, prefix + prompts.MENU, expects="menu"))

    def _select_menu(self, digit: str) -> BotTurn:
        category = prompts.CATEGORY_BY_DIGIT[digit]
        self._category = category
        if category == "foreign":
            return self._escalate(
                Reason.FOREIGN_LANGUAGE, prompts.MENU_FOREIGN, category="foreign", detail="menu 9"
            )
        self._state = State.QUESTION
        reply = prompts.CATEGORY_PROMPTS[category] + prompts.SUBMENU_HINT
        return self._emit(BotTurn(Action.MENU, reply, category, expects="question"))

    def _reprompt(self) -> BotTurn:
        state = self._state
        if state is State.MENU:
            return self._emit(BotTurn(Action.MENU, prompts.MENU_AGAIN + prompts.MENU, expects="menu"))
        if state is State.SMS_OFFER:  # silence is no
            self._state = state = State.FOLLOW_UP
        if state is State.FOLLOW_UP:
            return self._emit(
                BotTurn(Action.MENU, prompts.REPROMPT_FOLLOW_UP, self._category, expects="yes_no")
            )
        if state in (State.CLARIFY, State.SLOT) and self._last_prompt is not None:
            return self._emit(dataclasses.replace(self._last_prompt, action=Action.MENU))
        return self._emit(BotTurn(Action.MENU, prompts.REPROMPT_QUESTION, self._category, expects="question"))

    def _repeat_last(self) -> BotTurn:
        if self._last_prompt is None:
            return self._menu("")
        return self._emit(self._last_prompt)

    # ------------------------------------------------------------------------------- call endings
    def _escalate_for(self, interp: Interpretation) -> BotTurn:
        turn = render(interp, follow_up=False)
        if turn.category is None:
            turn = dataclasses.replace(turn, category=self._category)
        reason = {
            "emergency": Reason.EMERGENCY,
            "agent_request": Reason.AGENT_REQUEST,
            "frustration": Reason.FRUSTRATION,
            "foreign_language": Reason.FOREIGN_LANGUAGE,
            "staff": Reason.REQUIRES_STAFF,
        }[interp.kind]
        return self._finish_escalation(turn, reason, interp.emergency or "")

    def _escalate(
        self,
        reason: Reason,
        reply: str,
        category: str | None = None,
        intent: str | None = None,
        confidence: float = 1.0,
        detail: str = "",
    ) -> BotTurn:
        turn = BotTurn(Action.ESCALATE, reply, category or self._category, intent, confidence, expects="none")
        return self._finish_escalation(turn, reason, detail)

    def _finish_escalation(self, turn: BotTurn, reason: Reason, detail: str) -> BotTurn:
        caller = [h.text for h in self._history if h.role == "caller" and h.kind == "speech"]
        bot = [h.text for h in self._history if h.role == "bot"] + [turn.reply]
        handoff = make_handoff(
            None, turn, caller, bot, self._language, reason=reason, detail=detail, call_id=self.call_id
        )
        turn = dataclasses.replace(turn, handoff=handoff)
        self._handoff = handoff
        return self._end(turn)

    def _goodbye(self, reply: str) -> BotTurn:
        turn = BotTurn(
            Action.GOODBYE,
            reply,
            self._category,
            confidence=1.0,
            end_call=True,
            expects="none",
            interruptible=False,
        )
        return self._end(turn)

    def _end(self, turn: BotTurn) -> BotTurn:
        self._state = State.ENDED
        self._final = turn
        return self._emit(turn)

    def _emit(self, turn: BotTurn) -> BotTurn:
        self._history.append(
            HistoryItem("bot", str(turn.action), turn.reply, language=self._language, turn=turn)
        )
        if turn.action is not Action.GOODBYE and turn.action is not Action.ESCALATE:
            self._last_prompt = turn
        return turn
