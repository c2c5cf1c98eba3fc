"""A live campaign call: an ``outbound.script.Conversation`` driven over the call's audio and keypad.

Each reply of the conversation is spoken with the synthesizer; the callee answers by keypad (RFC 4733)
or speech (VAD endpointing, then the shared transcriber); silence for ``no_input_s`` after a prompt is
``respond()`` with no answer. The conversation branches live (9 repeats, 0 asks for an agent, emergency
words end the call at once); when it ends with a transfer or an emergency the session ends with
``ended_reason == "transfer"`` and a ``handoff`` record, and the call driver transfers it the way it
transfers inbound calls (REFER to the agent URI, the record's id as ``X-Handoff-Id``).

The conversation is duck-typed (:class:`ScriptedConversation`), so this module does not import
``outbound``.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from media.vad import SpeechEnd
from voicebot.call.dial_script import PromptLoop

# Conversation outcomes handed to an agent, and the handoff reason for each.
TRANSFER_REASONS = {"transfer": "agent_request", "emergency": "emergency"}


class ScriptedConversation(Protocol):
    """What ``outbound.script.Conversation`` offers: text to say for each answer, until ``ended``."""

    ended: bool
    outcome: str | None
    heard: list[str]
    said: list[str]

    @property
    def step(self) -> Any: ...  # the current step (``.id``), None once ended

    def start(self) -> str: ...
    def respond(self, text: str | None = None, digit: str | None = None) -> str: ...
    def result(self) -> dict[str, Any]: ...


@dataclass
class ConversationTurn:
    """One thing the bot said and the answer it got."""

    step: str | None  # the step the prompt asks; None for closing words
    bot_text: str
    answer: str | None = None  # the key or the transcript; None after a timeout
    via: str | None = None  # dtmf | speech | timeout
    at_s: float | None = None  # stream time of the answer
    latency_ms: dict[str, float] | None = None  # endpoint, stt, reply (answer known -> reply ready), total

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ConversationSession(PromptLoop):
    """Runs one ``ScriptedConversation`` over a call's frames. Not thread-safe: the call driver alone feeds it."""

    def __init__(
        self,
        conversation: ScriptedConversation,
        synthesizer: Any,
        transcriber: Any = None,
        *,
        no_input_s: float = 8.0,
        call_id: str | None = None,
        sample_rate: int = 16_000,
    ):
        super().__init__(synthesizer, transcriber, sample_rate)
        self.conversation = conversation
        self.no_input_s = no_input_s
        self.call_id = call_id
        self.turns: list[ConversationTurn] = []
        self._handoff: dict[str, Any] | None = None

    @property
    def handoff(self) -> dict[str, Any] | None:
        return self._handoff

    def start(self, now_s: float = 0.0) -> None:
        self._reply(self.conversation.start(), now_s)

    # -- PromptLoop hooks -------------------------------------------------------------------------

    @property
    def _expects_answer(self) -> bool:
        return not self.conversation.ended

    @property
    def _timeout_s(self) -> float:
        return self.no_input_s

    def _heard(self, event: SpeechEnd, now_s: float) -> None:
        if self.transcriber is None:
            return  # keypad only
        started = time.perf_counter()
        text = self._transcribe(event.samples).strip()
        stt_ms = (time.perf_counter() - started) * 1000
        if not text:
            self._prompt_done_at = now_s  # noise, or a guard-dropped hallucination: wait afresh
            return
        endpoint_ms = (event.time_s - event.last_voiced_s) * 1000
        self._answer(text, "speech", now_s, {"endpoint": endpoint_ms, "stt": stt_ms})

    def _answer(self, answer: str | None, via: str, now_s: float, latency: dict | None = None) -> None:
        turn = self.turns[-1]
        turn.answer, turn.via, turn.at_s = answer, via, round(now_s, 2)
        started = time.perf_counter()
        if via == "dtmf":
            reply = self.conversation.respond(digit=answer)
        elif via == "speech":
            reply = self.conversation.respond(text=answer)
        else:
            reply = self.conversation.respond()
        self._reply(reply, now_s)
        latency = dict(latency or {}, reply=(time.perf_counter() - started) * 1000)
        latency["total"] = sum(latency.values())
        turn.latency_ms = {k: round(v, 1) for k, v in latency.items()}

    # -- internals --------------------------------------------------------------------------------

    def _reply(self, text: str, now_s: float) -> None:
        step = self.conversation.step
        self.turns.append(ConversationTurn(step.id if step is not None else None, text))
        self._speak(text, now_s)
        if self.conversation.ended:
            self._finish()

    def _finish(self) -> None:
        conv = self.conversation
        reason = TRANSFER_REASONS.get(conv.outcome or "")
        if reason is None:
            self.ended_reason = "goodbye"
            return
        self.ended_reason = "transfer"
        asked = [t.step for t in self.turns if t.step is not None]
        result = conv.result()
        # the same keys as an inbound handoff (dialog.turns.Handoff.to_dict), plus the script's answers
        self._handoff = {
            "reason": reason,
            "category": result.get("kind"),
            "intent": result.get("script"),
            "caller_utterances": list(conv.heard),
            "bot_replies": list(conv.said),
            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
            "language": self.language,
            "detail": result.get("emergency") or (asked[-1] if asked else ""),
            "call_id": self.call_id,
            "direction": "outbound",
            "conversation": result,
        }
