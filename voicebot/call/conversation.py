"""A live campaign call: an ``outbound.script.Conversation`` driven over the call's audio and keypad.

Each reply of the conversation is spoken with the synthesizer; the callee answers by keypad (RFC 4733)
or speech (VAD endpointing, then the shared transcriber); silence for ``no_input_s`` after a prompt is
``respond()`` with no answer. The conversation branches live (9 repeats, 0 asks for an agent, emergency
words end the call at once); when it ends with a transfer or an emergency the session ends with
``ended_reason == "transfer"`` and a ``handoff`` record, and the call driver transfers it the way it
transfers inbound calls (REFER to the agent URI, the record's id as ``X-Handoff-Id``).

Who answered (issue 16): with a :class:`~voicebot.call.amd.MachinePolicy` the session first listens
and says nothing: a :class:`~voicebot.call.amd.AnsweringMachineDetector` is fed the callee's frames from
answer on (its transcriptions in a background thread), and only a person (or a line the detector cannot
place: silence, no decision in time) hears the script. A keypad digit meanwhile is a person, and the
digit answers the first question as a digit pressed during it would. A machine never hears the script
(nothing personal is said to it): a voicemail gets the policy's short message once its beep has ended
(``leave_message``) or the call ends at once (``hang_up``); a call screening gets the ``identify`` words
or the call ends; a carrier announcement ends the call. The session then ends with ``ended_reason`` the
machine's outcome (``voicemail``, ``carrier_message``, ``screened``) and ``detection`` says how it was
decided, for the dialer's typed outcome.

The conversation is duck-typed (:class:`ScriptedConversation`), so this module does not import
``outbound``.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from dialog.prompts import with_notice
from media.audio import AudioFrame
from media.vad import SpeechEnd
from voicebot.call.amd import AnsweringMachineDetector, Detection, MachinePolicy
from voicebot.call.dial_script import PromptLoop
from voicebot.call.session import CallEvent

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
        machines: MachinePolicy | None = None,
        amd_background: bool = True,
    ):
        super().__init__(synthesizer, transcriber, sample_rate)
        self.conversation = conversation
        self.no_input_s = no_input_s
        self.call_id = call_id
        self.turns: list[ConversationTurn] = []
        self._handoff: dict[str, Any] | None = None
        # Answering-machine detection: None when the campaign turned it off (the script starts at answer).
        self.machines = machines if machines is not None and machines.detect else None
        self.detector: AnsweringMachineDetector | None = None
        self.message_left = False  # a voicemail message was played after the beep
        self._amd_background = amd_background  # False: transcriptions inline (offline runs, tests)
        self._listening_for_who = False  # undecided: the bot says nothing
        self._machine = False  # a machine: waiting for which one (and its beep), then the policy
        self._notice: str | None = None  # a recorded call: said with the script's first prompt

    @property
    def handoff(self) -> dict[str, Any] | None:
        return self._handoff

    @property
    def detection(self) -> Detection | None:
        """How the detector decided who answered; None without detection or before it decided."""
        return self.detector.decision if self.detector is not None else None

    def start(self, now_s: float = 0.0, recording_notice: str | None = None) -> None:
        self._notice = recording_notice  # a machine never hears it: nobody is there to be told
        if self.machines is None:
            self._begin(now_s)
            return
        self.detector = AnsweringMachineDetector(
            self.machines.detector, self.transcriber, language=self.language, background=self._amd_background
        )
        self._listening_for_who = True

    def on_caller_frame(self, frame: AudioFrame) -> np.ndarray:
        if self._listening_for_who or self._machine:
            self._detect(frame)
            if self._listening_for_who or self._machine or not self.bot.pending:
                return self.bot.read(frame.start_s, len(frame.pcm) // 2)
        return super().on_caller_frame(frame)

    def on_dtmf(self, digit: str, now_s: float) -> None:
        if self._listening_for_who and self.detector is not None:
            self.detector.on_dtmf(now_s)  # a person: machines press no keys
            self._decided(now_s)
        if self._machine:
            return
        super().on_dtmf(digit, now_s)

    def hangup(self, now_s: float) -> None:
        if self.detector is not None and (self._listening_for_who or self._machine):
            self.detector.hangup(now_s)  # undecided: hung up early; an announcement: a carrier message
            self.detector.close()
            self._note_detection(now_s)
            self._listening_for_who = self._machine = False
        super().hangup(now_s)

    # -- who answered -----------------------------------------------------------------------------

    def _begin(self, now_s: float) -> None:
        """A person (or nobody to tell from one): the script starts, with the recording notice on a
        recorded call, right after the script's greeting."""
        self._reply(with_notice(self.conversation.start(), self._notice), now_s)

    def _detect(self, frame: AudioFrame) -> None:
        detector = self.detector
        assert detector is not None
        if detector.process(frame) is None:
            if self._machine:
                self._machine_policy(frame.end_s)
            return
        self._decided(frame.end_s)

    def _decided(self, now_s: float) -> None:
        decision = self.detection
        if decision is None:
            return
        if self._listening_for_who:
            self._listening_for_who = False
            if not decision.machine:
                self.detector.close()
                self._note_detection(now_s)
                self._begin(now_s)
                return
            self._machine = True
        self._machine_policy(now_s)

    def _machine_policy(self, now_s: float) -> None:
        """A machine answered: once it is known which (and, to leave a message, when it records), act."""
        decision, policy = self.detection, self.machines
        assert decision is not None and policy is not None
        if not decision.final:
            return
        if decision.outcome == "voicemail" and policy.voicemail == "leave_message":
            if decision.message_from_s is None:
                if now_s - decision.decided_s < policy.detector.max_message_s:
                    return  # until the beep has ended (or the greeting ended without one)
                text = ""  # it never stopped talking: no message
            else:
                text = policy.message
        elif decision.outcome == "screened" and policy.screened == "identify":
            text = policy.identify
        else:
            text = ""
        self._machine = False
        self.detector.close()
        self._note_detection(now_s)
        if text:
            self.turns.append(ConversationTurn(None, text))
            self._speak(text, now_s)
            self.message_left = decision.outcome == "voicemail"
        self.ended_reason = decision.outcome

    def _note_detection(self, now_s: float) -> None:
        decision = self.detection
        if decision is not None:
            self.events.append(CallEvent(now_s, "amd", decision.as_dict(with_text=False)))

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
