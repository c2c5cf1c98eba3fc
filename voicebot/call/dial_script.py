"""Small scripted outbound calls: prompts spoken with TTS, answers captured by keypad or speech.

``PromptLoop`` is the prompt-then-answer turn shared by ``ScriptSession`` (the fixed prompt lists of
``voicebot dial``) and ``voicebot.call.conversation.ConversationSession`` (live campaign scripts). Both
are ``voicebot.call.protocols.CallHandler``s, like ``CallSession``, so the call driver runs any of them the
same way. A ``ScriptSession`` step may send keypad digits first (``Prompt.send_dtmf``; the driver takes
them from ``take_dtmf`` and the transport sends them, by RFC 4733 on SIP), e.g. an extension at a PBX.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np

from dialog.prompts import with_notice
from media.audio import AudioFrame
from media.vad import EndpointConfig, Endpointer, SpeechEnd, create_vad
from voicebot.call.keypad import DTMF_DIGIT_S, check_dtmf
from voicebot.call.session import BotAudio, CallEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prompt:
    key: str
    text: str  # polite Korean ("" for a step that only sends digits)
    expect: str = "any"  # any | dtmf | none
    timeout_s: float = 8.0  # after the prompt finished
    send_dtmf: str = ""  # keypad digits sent (RFC 4733) before the text, e.g. "1234#" for a PBX extension

    def __post_init__(self) -> None:
        if self.send_dtmf:
            object.__setattr__(self, "send_dtmf", check_dtmf(self.send_dtmf))


def dial_digits_step(digits: str) -> Prompt:
    """The step ``voicebot dial --send-dtmf`` puts first: the digits, right after answer, and nothing said."""
    return Prompt("send_dtmf", "", expect="none", send_dtmf=digits)


@dataclass
class ScriptTurn:
    key: str
    bot_text: str
    answer: str | None = None
    via: str | None = None  # dtmf | speech | timeout | none
    at_s: float | None = None
    dtmf_sent: str | None = None  # keypad digits the bot sent at this step

    def as_dict(self) -> dict:
        return asdict(self)


# Fixed scripts of ``voicebot dial``, for checking a line or a PBX route; named apart from the campaigns'
# own scripts (outbound/scripts/*.yaml, run by ``ConversationSession``).
DIAL_SCRIPTS: dict[str, tuple[Prompt, ...]] = {
    "line_check": (
        Prompt(
            "wellbeing",
            "안녕하세요, 서울시 120 다산콜센터입니다. 어르신 안부를 여쭙고자 전화드렸습니다. "
            "잘 지내고 계시면 1번, 도움이 필요하시면 2번을 눌러 주시거나 말씀해 주세요.",
        ),
        Prompt("goodbye", "말씀 감사합니다. 늘 건강하시고 좋은 하루 보내세요. 안녕히 계세요.", expect="none"),
    ),
    "line_notice": (
        Prompt(
            "notice",
            "안녕하세요, 서울시 120 다산콜센터입니다. 안내 말씀 드립니다. "
            "자세한 내용은 120번으로 문의해 주시기 바랍니다. 감사합니다.",
            expect="none",
        ),
    ),
}


class PromptLoop:
    """Speaks a prompt, then takes one answer: a key (which also cuts the prompt short), speech, or a
    timeout when nothing came. Subclasses decide what is said and what an answer leads to
    (``_answer``, ``_prompt_played``, ``_expects_answer``, ``_timeout_s``). Not thread-safe: the call driver
    feeds it; a ``CallHandler`` like ``CallSession``.

    Speech that ends while a prompt still plays is no answer: a callee's "여보세요" at pick-up would
    otherwise answer the first question before hearing it.
    """

    def __init__(self, synthesizer, transcriber=None, sample_rate: int = 16_000, language: str = "ko"):
        self.synthesizer = synthesizer
        self.transcriber = transcriber
        self.sample_rate = sample_rate
        self.language = language
        self.bot = BotAudio(sample_rate)
        self.endpointer = Endpointer(create_vad("webrtc"), EndpointConfig())
        self.ended_reason: str | None = None
        self.events: list[CallEvent] = []  # none yet: a phone line shows no call state
        self._prompt_done_at: float | None = None

    @property
    def ended(self) -> bool:
        return self.ended_reason is not None and not self.bot.pending

    @property
    def handoff(self) -> dict | None:
        return None

    @property
    def bot_speaking(self) -> bool:
        return self.bot.pending

    def take_dtmf(self) -> str:
        """Keypad digits a step wants sent now; "" when none."""
        return ""

    def start(self, now_s: float = 0.0, recording_notice: str | None = None) -> None:
        raise NotImplementedError

    def on_caller_frame(self, frame: AudioFrame) -> np.ndarray:
        listening = self._listening
        for event in self.endpointer.process(frame):
            if listening and isinstance(event, SpeechEnd):
                self._heard(event, frame.end_s)
        out = self.bot.read(frame.start_s, len(frame.pcm) // 2)
        if self._prompt_done_at is None and not self.bot.pending:
            self._prompt_done_at = frame.end_s
            self._prompt_played(frame.end_s)
        elif (
            self._listening
            and not self.endpointer.in_speech
            and frame.end_s - self._prompt_done_at >= self._timeout_s
        ):
            self._answer(None, "timeout", frame.end_s)
        return out

    def on_dtmf(self, digit: str, now_s: float) -> None:
        if self.ended_reason is None and self._expects_answer:
            self.bot.clear()  # a key press cuts the prompt short
            self._answer(digit, "dtmf", now_s)

    def hangup(self, now_s: float) -> None:
        if self.ended_reason is None:
            self.bot.clear()
            self.ended_reason = "caller_hangup"

    # -- for subclasses ---------------------------------------------------------------------------

    @property
    def _expects_answer(self) -> bool:
        raise NotImplementedError

    @property
    def _timeout_s(self) -> float:
        raise NotImplementedError

    def _answer(self, answer: str | None, via: str, now_s: float) -> None:
        """``via`` is dtmf, speech or timeout (``answer`` None)."""
        raise NotImplementedError

    def _prompt_played(self, now_s: float) -> None:
        """The prompt has been played out (or there was nothing to play)."""

    def _heard(self, event: SpeechEnd, now_s: float) -> None:
        self._answer(self._transcribe(event.samples), "speech", now_s)

    @property
    def _listening(self) -> bool:
        return self.ended_reason is None and self._prompt_done_at is not None and self._expects_answer

    def _transcribe(self, samples: np.ndarray) -> str:
        if self.transcriber is None:
            return "(speech)"
        try:
            return self.transcriber.transcribe(samples, language=self.language).text
        except Exception as exc:
            log.error("STT failed: %s", exc)
            return ""

    def _speak(self, text: str, now_s: float) -> None:
        """Queue ``text`` after whatever is queued; the answer is awaited once it has played."""
        try:
            if text:
                for chunk in self.synthesizer.stream(text, sample_rate=self.sample_rate):
                    self.bot.schedule(chunk.samples, now_s)
        except Exception as exc:
            log.error("TTS failed: %s", exc)
        self._prompt_done_at = None


class ScriptSession(PromptLoop):
    """Plays a script's prompts in order and records each answer."""

    def __init__(self, prompts: tuple[Prompt, ...], synthesizer, transcriber=None, sample_rate: int = 16_000):
        if not prompts:
            raise ValueError("a script needs at least one prompt")
        super().__init__(synthesizer, transcriber, sample_rate)
        self.prompts = prompts
        self.turns: list[ScriptTurn] = []
        self._index = -1
        self._dtmf_out: list[str] = []
        self._notice: str | None = None  # a recorded call: said with the first prompt that has words

    @classmethod
    def named(cls, name: str, synthesizer, transcriber=None, send_dtmf: str = "") -> ScriptSession:
        """A script from ``DIAL_SCRIPTS``; ``send_dtmf`` digits go out first, right after answer."""
        if name not in DIAL_SCRIPTS:
            raise ValueError(f"unknown script {name!r}: choose from {', '.join(sorted(DIAL_SCRIPTS))}")
        prompts = ((dial_digits_step(send_dtmf),) if send_dtmf else ()) + DIAL_SCRIPTS[name]
        return cls(prompts, synthesizer, transcriber)

    def start(self, now_s: float = 0.0, recording_notice: str | None = None) -> None:
        self._notice = recording_notice
        self._next(now_s)

    def take_dtmf(self) -> str:
        """Keypad digits a step wants sent now (the call driver sends them); "" when none."""
        digits, self._dtmf_out = "".join(self._dtmf_out), []
        return digits

    # -- internals --------------------------------------------------------------------------------

    @property
    def _expects_answer(self) -> bool:
        return 0 <= self._index < len(self.prompts) and self.prompts[self._index].expect != "none"

    @property
    def _timeout_s(self) -> float:
        return self.prompts[self._index].timeout_s

    def _prompt_played(self, now_s: float) -> None:
        if self.ended_reason is None and not self._expects_answer:
            self._next(now_s)

    def _answer(self, answer: str | None, via: str, now_s: float) -> None:
        turn = self.turns[-1]
        turn.answer, turn.via, turn.at_s = answer, via, round(now_s, 2)
        self._next(now_s)

    def _next(self, now_s: float) -> None:
        self._index += 1
        if self._index >= len(self.prompts):
            self.ended_reason = "goodbye"
            return
        prompt = self.prompts[self._index]
        text = prompt.text
        if text and self._notice:
            text, self._notice = with_notice(text, self._notice), None
        self.turns.append(
            ScriptTurn(
                prompt.key,
                text,
                via="none" if prompt.expect == "none" else None,
                dtmf_sent=prompt.send_dtmf or None,
            )
        )
        if prompt.send_dtmf:
            # the digits take the line first (PJSIP sends telephone-events instead of audio meanwhile);
            # silence for as long keeps the text from being cut and ends a digits-only step after them
            self._dtmf_out.append(prompt.send_dtmf)
            pause = np.zeros(int((len(prompt.send_dtmf) + 1) * DTMF_DIGIT_S * self.sample_rate), np.float32)
            self.bot.schedule(pause, now_s)
        self._speak(text, now_s)
