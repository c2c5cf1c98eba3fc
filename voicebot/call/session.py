"""One call, frame in and frame out: VAD/endpointing -> STT -> dialog -> TTS, with barge-in and keypad.

``CallSession`` is transport-neutral. The call driver (``voicebot.call.driver``, for SIP, WebRTC and the
file simulator alike) gives it every caller frame with its stream time and takes one bot frame back for
the same tick; keypad digits arrive through ``on_dtmf``. Heavy work (STT, TTS) runs inside
``on_caller_frame`` when an utterance ends, and the bot's reply is scheduled to start once that work is
done (``ready_at = decision time + processing time``), so the latency a caller would hear is what the
timeline shows, in real time and in fast simulation alike.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from dialog import Action, BotTurn, DialogEngine, TurnStatus, is_backchannel, prompts, quick
from media.audio import AudioFrame
from media.vad import (
    EndpointConfig,
    Endpointer,
    SpeechDiscarded,
    SpeechEnd,
    SpeechPause,
    SpeechStart,
    create_vad,
)
from stt import Transcriber
from tts import Synthesizer, TTSError

from .sms import SmsError, SmsSender, mask_number

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallConfig:
    sample_rate: int = 16_000
    frame_ms: int = 20
    vad: str = "webrtc"
    endpoint: EndpointConfig = EndpointConfig()
    language: str | None = "ko"  # "auto" lets Whisper identify the language (foreign callers)
    no_input_s: float = 7.0  # silence after a prompt before the bot reprompts
    max_call_s: float = 600.0
    # Decode at each short pause, so the transcript is usually ready when the endpoint is declared, and
    # close the utterance early when that transcript reads as a finished sentence.
    speculative: bool = True
    # Each speculative decode starts from the previous one's text (minus its last word). Off: with
    # CTranslate2 the forced prefix saves no decoding time, and it carries a misheard word forward
    # (Korean CER 8.2 % without it, 10.6 % with it on the multi-sentence turn set; benchmarks.latency).
    speculative_prefix: bool = False


# Speech that starts this soon after a spoken answer began is the caller going on, not a reaction to it
# (people take longer than this to start answering what they hear).
CONTINUATION_S = 0.5


@dataclass
class _Speculation:
    start_s: float
    last_voiced_s: float
    samples: int
    transcript: object
    stt_ms: float
    ready_s: float  # stream time at which the transcript exists


@dataclass
class _Parked:
    """Words over the prompt that stopped it but do not end the caller's turn ("그러니까 제가", "잠깐만요"):
    answered at ``until_s`` unless the caller goes on, in which case they open the next utterance."""

    event: SpeechEnd
    transcript: object
    stt_ms: float
    decided_s: float
    until_s: float


@dataclass
class Latency:
    endpoint_ms: float = 0.0  # last voiced frame -> end of speech declared
    stt_ms: float = 0.0
    stt_wait_ms: float = 0.0  # STT still running after the endpoint (0 when a speculative decode finished)
    dialog_ms: float = 0.0
    tts_first_ms: float = 0.0  # synthesis of the first sentence
    voice_to_voice_ms: float = 0.0  # last voiced caller frame -> first bot audio frame


@dataclass
class TurnRecord:
    index: int
    trigger: str  # start | speech | dtmf | no_input
    caller_text: str
    caller_language: str | None
    bot_text: str
    action: str
    category: str | None
    intent: str | None
    confidence: float
    caller_start_s: float | None
    caller_end_s: float | None  # last voiced frame
    bot_start_s: float  # first bot audio frame
    latency: Latency | None
    interrupted: bool = False  # the caller barged in on this reply
    handoff: dict | None = None
    backchannels: list[str] = field(default_factory=list)  # "네" said over this reply, which went on
    # The caller went on talking before this reply began (or within ``CONTINUATION_S`` of it): it was
    # cut, and the next utterance was answered together with this one.
    withdrawn: bool = False
    # What the caller's screen offers with this reply (보이는 ARS): keys to press and words to say,
    # ``dialog.quick`` quick replies as dicts.
    choices: list[dict] = field(default_factory=list)
    # The caller accepted "문자로 받아보시겠어요?": {"to" (masked), "ok", "id", "backend"}.
    sms: dict | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["latency_ms"] = (
            {k: round(v, 1) for k, v in data.pop("latency").items()} if self.latency else data.pop("latency")
        )
        for key in ("caller_start_s", "caller_end_s", "bot_start_s"):
            if data[key] is not None:
                data[key] = round(data[key], 3)
        data["confidence"] = round(self.confidence, 3)
        return data


@dataclass
class CallEvent:
    time_s: float
    kind: str
    detail: dict = field(default_factory=dict)


class BotAudio:
    """The bot's outgoing audio: chunks queued to start no earlier than a stream time."""

    def __init__(self, sample_rate: int, rewind_s: float = 0.3):
        self.sample_rate = sample_rate
        self._chunks: list[np.ndarray] = []
        self._not_before = 0.0
        self.held = False
        self._tail = np.zeros(0, np.float32)  # the last ``rewind_s`` played, replayed on ``resume``
        self._tail_size = int(rewind_s * sample_rate)

    @property
    def pending(self) -> bool:
        return bool(self._chunks)

    def not_before(self, time_s: float) -> None:
        """Nothing more plays before ``time_s`` (a resumed prompt waits for the decision to resume it)."""
        self._not_before = max(self._not_before, time_s)

    def hold(self) -> None:
        """Stop playing (silence out) but keep what is queued: the caller may only be saying "네"."""
        self.held = True

    def resume(self) -> None:
        """Play on from a little before where the hold cut in, so no syllable is lost."""
        if self.held and self._chunks and len(self._tail):
            self._chunks.insert(0, self._tail)
        self.held = False
        self._tail = np.zeros(0, np.float32)

    def schedule(self, samples: np.ndarray, not_before: float) -> None:
        if not self._chunks:
            self._not_before = not_before
        self._chunks.append(samples.astype(np.float32, copy=False))

    def clear(self) -> None:
        self._chunks.clear()
        self.held = False
        self._tail = np.zeros(0, np.float32)

    def read(self, now_s: float, count: int) -> np.ndarray:
        out = np.zeros(count, dtype=np.float32)
        if not self._chunks or now_s < self._not_before or self.held:
            return out
        filled = 0
        while filled < count and self._chunks:
            head = self._chunks[0]
            take = min(count - filled, len(head))
            out[filled : filled + take] = head[:take]
            filled += take
            if take == len(head):
                self._chunks.pop(0)
            else:
                self._chunks[0] = head[take:]
        if self._tail_size:
            self._tail = np.concatenate([self._tail, out[:filled]])[-self._tail_size :]
        return out


class CallSession:
    """Runs the ARS dialog over one call's audio. Not thread-safe: one thread feeds it in order."""

    def __init__(
        self,
        engine: DialogEngine,
        transcriber: Transcriber,
        synthesizer: Synthesizer,
        config: CallConfig = CallConfig(),
        call_id: str | None = None,
        sms: SmsSender | None = None,
        caller_number: str | None = None,
    ):
        self.config = config
        self.transcriber = transcriber
        self.synthesizer = synthesizer
        self.dialog = engine.new_session(call_id) if call_id else engine.new_session()
        # Texting the answer is offered only when it can reach the caller.
        self._sms, self._caller_number = (sms, caller_number) if sms and caller_number else (None, None)
        if self._sms is not None:
            self.dialog.enable_sms_offer()
        self.endpointer = Endpointer(create_vad(config.vad), config.endpoint)
        self.bot = BotAudio(config.sample_rate)
        self.turns: list[TurnRecord] = []
        self.events: list[CallEvent] = []
        self.ended_reason: str | None = None
        self._current: TurnRecord | None = None
        self._current_turn: BotTurn | None = None
        self._speech_start: float | None = None
        self._held_at = 0.0  # when speech over the prompt held it
        self._checkpoint: dict | None = None  # the dialog before the last spoken turn
        self._continued: TurnRecord | None = None  # a withdrawn turn the next utterance continues
        self._bot_done_at: float | None = 0.0  # when the last prompt finished; None while it plays
        self._frame_samples = config.sample_rate * config.frame_ms // 1000
        self._speculation: _Speculation | None = None
        self._parked: _Parked | None = None
        # Stream time at which this call's last decode finished. Decodes run one after another, so a
        # decode asked for before then starts then: the timeline of a fast simulation charges a wasted
        # speculative decode the way a live call pays for it.
        self._stt_free_at = 0.0

    # -- transport-facing API ---------------------------------------------------------------------

    def start(self, now_s: float = 0.0, recording_notice: str | None = None) -> None:
        self._event(now_s, "call_started")
        started = time.perf_counter()
        turn = self.dialog.start(recording_notice)
        dialog_ms = (time.perf_counter() - started) * 1000
        self._reply(turn, now_s, "start", "", None, None, None, Latency(dialog_ms=dialog_ms))

    @property
    def ended(self) -> bool:
        """The call is over once the closing reply has been played out."""
        return self.ended_reason is not None and not self.bot.pending

    def on_caller_frame(self, frame: AudioFrame) -> np.ndarray:
        """Consume one caller frame; return the bot's samples for the same tick."""
        now = frame.start_s
        self.endpointer.bot_speaking = self.bot.pending
        for event in self.endpointer.process(frame):
            self._on_endpoint(event, frame.end_s)
        self._check_held_prompt()
        self._check_parked(frame.end_s)
        out = self.bot.read(now, len(frame.pcm) // 2)
        self._track_playback(now)
        self._check_no_input(frame.end_s)
        if now >= self.config.max_call_s and self.ended_reason is None:
            self._finish(now, "timeout")
        return out

    def on_dtmf(self, digit: str, now_s: float) -> None:
        if self.ended_reason is not None:
            return
        self._event(now_s, "dtmf", {"digit": digit})
        self._parked = None  # the keypad answers; half-said words over the prompt are dropped
        self._interrupt(now_s, "dtmf")
        started = time.perf_counter()
        turn = self.dialog.on_dtmf(digit)
        dialog_ms = (time.perf_counter() - started) * 1000
        self._reply(turn, now_s, "dtmf", digit, None, None, None, Latency(dialog_ms=dialog_ms))

    def hangup(self, now_s: float) -> None:
        """The caller hung up."""
        if self.ended_reason is None:
            self.bot.clear()
            self._finish(now_s, "caller_hangup")

    @property
    def handoff(self) -> dict | None:
        handoff = self.dialog.handoff
        return handoff.to_dict() if handoff else None

    @property
    def bot_speaking(self) -> bool:
        return self.bot.pending

    def take_dtmf(self) -> str:
        """The ARS never sends keypad digits."""
        return ""

    # -- internals --------------------------------------------------------------------------------

    def _event(self, time_s: float, kind: str, detail: dict | None = None) -> None:
        self.events.append(CallEvent(round(time_s, 3), kind, detail or {}))

    def _on_endpoint(self, event, now_s: float) -> None:
        if self.ended_reason is not None:
            return
        if isinstance(event, SpeechStart):
            self._speech_start = event.time_s
            self._event(event.time_s, "speech_start", {"barge_in": event.barge_in})
            if event.barge_in and self._interruptible:
                # Stop the prompt at once, but keep it: a "네" or a cough lets it go on.
                self.bot.hold()
                self._held_at = event.time_s
                self._event(event.time_s, "prompt_held")
        elif isinstance(event, SpeechDiscarded):
            self._speech_start = None
            self._event(event.time_s, "noise_ignored", {"reason": event.reason})
            self._resume(event.time_s)
        elif isinstance(event, SpeechPause):
            # A busy shared model (other calls decoding) would only queue a guess behind real work;
            # speech over a held prompt is judged whole once it ends.
            if self.config.speculative and not self.bot.held:
                if self.transcriber.in_flight:
                    # No words to judge the pause by: wait as for a statement, not the bare hangover,
                    # so that busy hours do not bring back half-answered questions.
                    self.endpointer.hold_open(event.last_voiced_s, self.config.endpoint.statement_hangover_ms)
                else:
                    self._speculate(event)
        elif isinstance(event, SpeechEnd):
            if self.bot.held:
                self._judge_speech_over_prompt(event, now_s)
            else:
                self._on_utterance(event, now_s)

    @property
    def _interruptible(self) -> bool:
        return self.bot.pending and self._current_turn is not None and self._current_turn.interruptible

    def _interrupt(self, now_s: float, by: str) -> None:
        """Barge-in: stop the prompt if it may be interrupted. A spoken answer that had not begun when
        the caller went on talking is withdrawn: the dialog goes back to before it, and the caller's next
        utterance is taken with the words that answer was for, as one question."""
        if not self._interruptible:
            return
        self.bot.clear()
        current = self._current
        if (
            by == "speech"
            and current is not None
            and current.trigger == "speech"
            and now_s < current.bot_start_s + CONTINUATION_S
            and self._checkpoint is not None
        ):
            self.dialog.rollback(self._checkpoint)
            self._checkpoint = None
            current.withdrawn = True
            self._continued = current
            self._bot_done_at = now_s
            self._event(now_s, "reply_withdrawn", {"turn": current.index})
            return
        self.dialog.on_barge_in()
        if self._current is not None:
            self._current.interrupted = True
        self._bot_done_at = now_s
        self._event(now_s, "barge_in", {"by": by})

    def _check_held_prompt(self) -> None:
        """Speech over a held prompt that outlasts any acknowledgement is a barge-in: the prompt stopped
        when the speech began."""
        if self.bot.held and self.endpointer.voiced_ms > self.config.endpoint.backchannel_max_ms:
            self._interrupt(self._held_at, "speech")

    def _resume(self, at_s: float) -> None:
        if self.bot.held:
            self.bot.resume()
            self.bot.not_before(at_s)
            self._event(at_s, "prompt_resumed")

    def _judge_speech_over_prompt(self, event: SpeechEnd, now_s: float) -> None:
        """A short utterance over the prompt: an acknowledgement, or words that mean nothing to the dialog
        (a cough or line noise Whisper made words of), lets the prompt go on from where it stopped; words
        meant to stop it (``DialogSession.barges_in``) are a barge-in, answered as any utterance."""
        started = time.perf_counter()
        transcript = self.transcriber.transcribe(event.samples, language=self.config.language)
        stt_ms = (time.perf_counter() - started) * 1000
        decided_s = max(event.time_s, self._stt_free_at) + stt_ms / 1000
        self._stt_free_at = decided_s
        text = transcript.text.strip()
        if not self.dialog.barges_in(text, transcript.confidence):
            ack = is_backchannel(text)
            self._event(
                event.time_s, "backchannel", {"stt_ms": round(stt_ms, 1), "heard": bool(text), "ack": ack}
            )
            if ack and self._current is not None:
                self._current.backchannels.append(text)
            self._speech_start = None
            self._resume(decided_s)
            return
        self._interrupt(self._held_at, "speech")
        status = self.dialog.turn_status(text)
        self._event(event.time_s, "turn_status", {"status": str(status)})
        if status is TurnStatus.COMPLETE:
            self._on_utterance(event, now_s, (transcript, stt_ms, decided_s))
            return
        # The prompt is stopped, but the words so far are how a sentence starts, or a statement: the
        # caller goes on as they would after any such pause (the hangover the same words get without a
        # prompt), and the next utterance is taken together with these words.
        until_s = event.last_voiced_s + self._open_hangover_ms(status) / 1000
        self._parked = _Parked(event, transcript, stt_ms, decided_s, until_s)

    def _open_hangover_ms(self, status: TurnStatus) -> int:
        """How long a silence ends a turn whose words are not yet a whole request."""
        endpoint = self.config.endpoint
        return (
            endpoint.long_hangover_ms if status is TurnStatus.INCOMPLETE else endpoint.statement_hangover_ms
        )

    def _check_parked(self, now_s: float) -> None:
        """Answer parked words once the caller has said nothing more for their hangover."""
        parked = self._parked
        if parked is None or self.endpointer.in_speech or now_s < parked.until_s:
            return
        self._parked = None
        event = replace(parked.event, time_s=parked.until_s)
        self._on_utterance(event, now_s, (parked.transcript, parked.stt_ms, max(parked.decided_s, now_s)))

    def _speculate(self, pause: SpeechPause) -> None:
        previous = self._speculation
        prefix = None
        if self.config.speculative_prefix and previous and previous.start_s == pause.start_s:
            words = previous.transcript.text.split()
            prefix = " ".join(words[:-1]) or None  # the last word may have been cut by the pause
        started = time.perf_counter()
        transcript = self.transcriber.transcribe(pause.samples, language=self.config.language, prefix=prefix)
        stt_s = time.perf_counter() - started
        ready_s = max(pause.time_s, self._stt_free_at) + stt_s
        self._stt_free_at = ready_s
        self._speculation = _Speculation(
            pause.start_s, pause.last_voiced_s, len(pause.samples), transcript, stt_s * 1000, ready_s
        )
        self._event(pause.time_s, "speculative_stt", {"stt_ms": round(stt_s * 1000, 1)})
        if not transcript.text:
            return
        status = self.dialog.turn_status(transcript.text)
        self._event(pause.time_s, "turn_status", {"status": str(status)})
        if status is TurnStatus.COMPLETE:
            self.endpointer.allow_early_end(pause.last_voiced_s, ready_s)
        else:
            self.endpointer.hold_open(pause.last_voiced_s, self._open_hangover_ms(status))

    def _on_utterance(self, event: SpeechEnd, now_s: float, decoded: tuple | None = None) -> None:
        spec, self._speculation = self._speculation, None
        if decoded is not None:
            transcript, stt_ms, decided_s = decoded
        elif spec and spec.last_voiced_s == event.last_voiced_s and spec.samples == len(event.samples):
            transcript, stt_ms = spec.transcript, spec.stt_ms
            decided_s = max(event.time_s, spec.ready_s)
        else:
            started = time.perf_counter()
            transcript = self.transcriber.transcribe(event.samples, language=self.config.language)
            stt_ms = (time.perf_counter() - started) * 1000
            decided_s = max(event.time_s, self._stt_free_at) + stt_ms / 1000
            self._stt_free_at = decided_s
        self._event(event.time_s, "utterance", {"stt_ms": round(stt_ms, 1), "dropped": transcript.dropped})
        text, caller_start = transcript.text, event.start_s
        parked, self._parked = self._parked, None
        if parked is not None:  # words over the prompt that this utterance goes on from
            text, caller_start = f"{parked.transcript.text} {text}".strip(), parked.event.start_s
        continued, self._continued = self._continued, None
        if continued is not None:  # the rest of a question whose answer was withdrawn
            text, caller_start = f"{continued.caller_text} {text}".strip(), continued.caller_start_s
        if not text:
            self._speech_start = None
            self._bot_done_at = now_s if not self.bot.pending else self._bot_done_at
            return
        self._checkpoint = self.dialog.checkpoint()
        started = time.perf_counter()
        turn = self.dialog.on_speech(text, language=transcript.language, stt_confidence=transcript.confidence)
        dialog_ms = (time.perf_counter() - started) * 1000
        latency = Latency(
            endpoint_ms=(event.time_s - event.last_voiced_s) * 1000,
            stt_ms=stt_ms,
            stt_wait_ms=(decided_s - event.time_s) * 1000,
            dialog_ms=dialog_ms,
        )
        self._reply(
            turn,
            decided_s,
            "speech",
            text,
            transcript.language,
            caller_start,
            event.last_voiced_s,
            latency,
        )
        self._speech_start = None

    def _reply(
        self,
        turn: BotTurn,
        decided_s: float,
        trigger: str,
        caller_text: str,
        language: str | None,
        caller_start: float | None,
        caller_end: float | None,
        latency: Latency,
    ) -> None:
        turn, sms = self._send_sms(turn)
        processing_s = latency.dialog_ms / 1000  # ``decided_s`` is when the transcript (if any) existed
        first = True
        ready_at = decided_s
        try:
            for chunk in self.synthesizer.stream(turn.reply, sample_rate=self.config.sample_rate):
                if first:
                    latency.tts_first_ms = chunk.elapsed_s * 1000
                    ready_at = decided_s + processing_s + chunk.elapsed_s
                    first = False
                self.bot.schedule(chunk.samples, ready_at)
        except TTSError as exc:
            log.error("TTS failed for a %s reply: %s", turn.action, exc)
            self._event(decided_s, "tts_error", {"error": str(exc)})
            if first and turn.reply.strip():  # the caller would hear nothing: the call cannot go on
                raise
        if caller_end is not None:
            latency.voice_to_voice_ms = (ready_at - caller_end) * 1000
        record = TurnRecord(
            index=len(self.turns),
            trigger=trigger,
            caller_text=caller_text,
            caller_language=language,
            bot_text=turn.reply,
            action=str(turn.action),
            category=turn.category,
            intent=turn.intent,
            confidence=float(turn.confidence),
            caller_start_s=caller_start,
            caller_end_s=caller_end,
            bot_start_s=ready_at,
            latency=latency,
            handoff=turn.handoff.to_dict() if turn.handoff else None,
            choices=[
                q.to_dict()
                for q in quick.for_turn(turn, ended=turn.end_call or self.dialog.ended)
                if q.kind != "restart"  # a call is not restarted from the screen
            ],
            sms=sms,
        )
        self.turns.append(record)
        self._current, self._current_turn = record, turn
        self._bot_done_at = None
        self._event(ready_at, "bot_reply", {"action": str(turn.action), "category": turn.category})
        if turn.action == Action.ESCALATE:
            self._finish(ready_at, "transfer")
        elif turn.end_call or self.dialog.ended:
            self._finish(ready_at, "goodbye")

    def _send_sms(self, turn: BotTurn) -> tuple[BotTurn, dict | None]:
        """Send the text the caller accepted; when it cannot be sent the bot says so instead."""
        if not turn.sms_text or self._sms is None or self._caller_number is None:
            return turn, None
        masked = mask_number(self._caller_number)
        try:
            receipt = self._sms.send(self._caller_number, turn.sms_text)
        except SmsError as exc:
            log.warning("SMS to %s not sent: %s", masked, exc)
            failed = f"{prompts.SMS_FAILED} {prompts.FOLLOW_UP}"
            return replace(turn, reply=failed), {"to": masked, "ok": False, "id": None, "backend": None}
        return turn, {
            "to": receipt.to_masked,
            "ok": True,
            "id": receipt.message_id,
            "backend": receipt.backend,
        }

    def _track_playback(self, now_s: float) -> None:
        if self._bot_done_at is None and not self.bot.pending:
            self._bot_done_at = now_s

    def _check_no_input(self, now_s: float) -> None:
        if (
            self.ended_reason is not None
            or self._bot_done_at is None
            or self.endpointer.in_speech
            or self._parked is not None
        ):
            return
        if self._current_turn is not None and self._current_turn.expects == "none":
            return
        if now_s - self._bot_done_at >= self.config.no_input_s:
            self._event(now_s, "no_input")
            started = time.perf_counter()
            turn = self.dialog.on_no_input()
            dialog_ms = (time.perf_counter() - started) * 1000
            self._reply(turn, now_s, "no_input", "", None, None, None, Latency(dialog_ms=dialog_ms))

    def _finish(self, now_s: float, reason: str) -> None:
        self.ended_reason = reason
        self._event(now_s, "call_ended", {"reason": reason})
