"""``CallDriver``: one call, driven the same way on every transport (SIP, WebRTC, a file).

The transport only enqueues (caller audio, keypad digits, hang-up, transfer results) from its own threads
and plays the frames it takes from ``outgoing`` on its own clock; the driver's thread is the only one that
touches the handler, so a slow STT step delays this call alone and an exception ends this call alone.

The driver owns the call clock (stream time = caller frames x 20 ms), resampling between the wire rate
and the 16 kHz pipeline, play-out of the closing words, the no-media timeout, keypad digits both ways,
transfer and its fallback (an apology and a call-back offer on key 1: with an ``AgentQueue`` a booked
slot), the handoff record, the
recording (a recorded call's handler is told at start to say ``DriverConfig.recording_notice`` once), and
the one ``CallRecord`` every transport reports. Waits are measured in stream time, so a fast file
simulation runs through them at once and a live call takes them in real time.

Congestion (issue 18): with an ``AgentQueue``, before a transfer the driver asks the expected wait; over
the desk's threshold (or outside business hours) the caller hears it and chooses by key (or, with a
``listener``, by saying it: "기다릴게요", "전화 주세요", "문자로", "두 번째"; ``choices``): 1 keep waiting
(the transfer goes on), 2 a call-back in one of the next free slots (booked with the handoff's context;
the caller keys in the number when the transport gives none), 3 the web chat's link by text (only to a
mobile number, with an SMS sender and ``DriverConfig.chat_link``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from dialog import Reason
from dialog.prompts import RECORDING_NOTICE
from media.audio import PIPELINE_RATE, AudioFrame, float_to_pcm16, pcm16_to_float
from media.stream import FRAME_MS, CallerAudio, FrameQueue, StreamResampler
from media.vad import EndpointConfig, Endpointer, SpeechEnd, create_vad
from stt import Transcriber
from tts import Synthesizer
from voicebot.call.choices import spoken_choice, spoken_slot
from voicebot.call.handoff import HandoffRegistry, file_handoff
from voicebot.call.keypad import is_key
from voicebot.call.progress import Progress, ended_message
from voicebot.call.protocols import AgentQueue, CallbackSlot, CallHandler, Transport, WaitEstimate
from voicebot.call.record import CallRecord
from voicebot.call.recording import CallRecorder
from voicebot.call.sms import SmsError, SmsSender, mask_number, mobile_number, normalize_number

log = logging.getLogger(__name__)

FRAME_S = FRAME_MS / 1000
PIPELINE_FRAME = PIPELINE_RATE * FRAME_MS // 1000  # 320 samples

TRANSFER_FAILED_KO = (
    "죄송합니다. 지금은 상담원 연결이 원활하지 않습니다. "
    "상담원의 전화를 다시 받기를 원하시면 1번을 눌러 주세요."
)
CALLBACK_BOOKED_KO = (
    "콜백 요청이 접수되었습니다. 상담원이 확인하는 대로 다시 전화드리겠습니다. 이용해 주셔서 감사합니다."
)
CALLBACK_DECLINED_KO = "이용해 주셔서 감사합니다. 다음에 다시 전화해 주세요. 안녕히 계세요."
# Said when the call's handler fails (speech recognition or synthesis broke, say): the caller is handed to
# an agent where one can take the call, else the bot says goodbye.
FAILED_TRANSFER_KO = "죄송합니다. 잠시 문제가 생겨 상담원에게 연결해 드리겠습니다."
FAILED_GOODBYE_KO = "죄송합니다. 잠시 문제가 생겨 통화를 종료합니다. 잠시 후 다시 걸어 주세요."
# Congestion (상담혼잡도 사전 알림): what each key offers, in the order said.
CONGESTION_CHOICES_KO = {
    "wait": "계속 기다리시려면 1번",
    "callback": "원하시는 시간에 다시 전화를 받으시려면 2번",
    "sms": "문자로 상담 링크를 받으시려면 3번",
}
CONGESTION_KEYS = {"wait": "1", "callback": "2", "sms": "3"}
KEEP_WAITING_KO = "상담원과 연결될 때까지 잠시만 기다려 주세요."
CHOOSE_SLOT_KO = "원하시는 시간을 골라 주세요."
ENTER_NUMBER_KO = "다시 전화받으실 전화번호를 누르신 뒤 우물 정 자를 눌러 주세요."
NUMBER_AGAIN_KO = "전화번호를 확인하지 못했습니다."
NO_SLOT_KO = "죄송합니다. 지금은 예약할 수 있는 시간이 없습니다. 상담 시간에 다시 전화해 주세요. 감사합니다."
BOOKING_FAILED_KO = "죄송합니다. 예약을 하지 못했습니다. 잠시 후 다시 전화해 주세요. 감사합니다."
CHAT_SMS_KO = "[120 다산콜센터] 채팅 상담은 이 주소에서 바로 하실 수 있습니다: {link}"
CHAT_SENT_KO = "상담 링크를 문자로 보내 드렸습니다. 채팅으로 상담을 이어가실 수 있습니다. 감사합니다."
CHAT_FAILED_KO = "죄송합니다. 문자를 보내지 못했습니다. 잠시 후 다시 전화해 주세요."


def congestion_prompt(estimate: WaitEstimate, offered: list[str]) -> str:
    """The notice and the choices: "현재 상담 대기 시간은 약 N분입니다. 계속 기다리시려면 1번, …"."""
    if estimate.wait_s is None and estimate.hours_text:
        notice = f"지금은 상담 시간이 아닙니다. 상담 시간은 {estimate.hours_text}입니다."
    elif estimate.wait_s is None:  # within business hours, but nobody on duty
        notice = "지금은 상담원과 연결할 수 없습니다."
    else:
        notice = f"현재 상담 대기 시간은 약 {max(1, round(estimate.wait_s / 60))}분입니다."
    choices = ", ".join(CONGESTION_CHOICES_KO[c] for c in offered)
    return f"{notice} {choices}을 눌러 주세요."


def slots_prompt(slots: list[CallbackSlot]) -> str:
    said = ", ".join(f"{slot.label}는 {n}번" for n, slot in enumerate(slots, 1))
    return f"{CHOOSE_SLOT_KO} {said}을 눌러 주세요."


def booked_prompt(slot: CallbackSlot, keyed_number: str | None = None) -> str:
    """The confirmation; a number the caller keyed in is named by its last four digits."""
    to = f" 끝자리 {' '.join(keyed_number[-4:])} 번호로" if keyed_number else ""
    return (
        f"콜백 예약이 접수되었습니다. {slot.label}에{to} 상담원이 다시 전화드리겠습니다. "
        "이용해 주셔서 감사합니다."
    )


@dataclass(frozen=True)
class DriverConfig:
    agent_uri: str | None = None  # where a handed-over call is transferred (SIP REFER target)
    transfer_timeout_s: float = 15.0  # waiting for the transfer's outcome
    callback_wait_s: float = 8.0  # waiting for key 1 after the call-back offer
    media_timeout_s: float = 30.0  # no caller audio for this long (wall time) ends the call
    play_out_limit_s: float = 60.0  # the longest closing prompt waited for
    record_dir: Path | None = None  # two-channel WAV of every call, when set
    # Said once at the start of a recorded call (with ``record_dir``), inbound and outbound alike, after
    # the greeting; None or "" only where it is turned off on purpose.
    recording_notice: str | None = RECORDING_NOTICE
    # The web chat's address, texted when a caller on a congested line chooses chat (key 3).
    chat_link: str | None = None


class Inbox(Protocol):
    """Where the transport's events wait for the driver: a ``queue.Queue`` for live calls."""

    def put(self, item: tuple[str, object]) -> None: ...
    def get(self, block: bool = True, timeout: float | None = None) -> tuple[str, object]: ...


class CallDriver:
    """Drives one handler over one transport. ``start()`` runs it in its own thread, ``run()`` here."""

    def __init__(
        self,
        record: CallRecord,
        handler: CallHandler,
        transport: Transport,
        config: DriverConfig = DriverConfig(),
        *,
        synthesizer: Synthesizer | None = None,
        handoffs: HandoffRegistry | None = None,
        on_done: Callable[[CallRecord], None] | None = None,
        inbox: Inbox | None = None,
        agents: AgentQueue | None = None,
        sms: SmsSender | None = None,
        caller_number: str | None = None,
        listener: Transcriber | None = None,
    ):
        self.record = record
        self.handler = handler
        self.transport = transport
        self.config = config
        self.synthesizer = synthesizer  # speaks the transfer fallback
        self.handoffs = handoffs
        self.on_done = on_done
        self.agents = agents  # the wait for an agent and call-back booking (None: transfer as is)
        self.sms = sms  # texts the chat link on a congested line
        self.caller_number = caller_number  # personal data: never logged, never in the record
        self.listener = listener  # recognises spoken answers to the congestion and slot questions
        self._listening: Endpointer | None = None  # while the driver asks: the caller's speech, endpointed
        self._heard: str | None = None
        self.inbox: Inbox = inbox if inbox is not None else queue.Queue()
        wire_frame = transport.wire_rate * FRAME_MS // 1000
        self.outgoing = FrameQueue(wire_frame * 2)  # the bot's frames at the wire rate, for the transport
        self._wire_frame = wire_frame
        self._caller = CallerAudio(FRAME_MS)
        self._down = (
            StreamResampler(PIPELINE_RATE, transport.wire_rate, PIPELINE_FRAME)
            if transport.wire_rate != PIPELINE_RATE
            else None
        )
        self._recorder = (
            CallRecorder(min(transport.wire_rate, PIPELINE_RATE)) if config.record_dir is not None else None
        )
        self._progress = Progress(handler, transport.publish)
        self._frames = 0
        self._remote_gone = False
        self.remote_gone = threading.Event()  # set from the transport's thread: skip the queued audio
        self.done = threading.Event()
        self._thread = threading.Thread(
            target=self.run, name=f"{transport.name}-call-{record.call_id}", daemon=True
        )

    # -- from the transport's threads: enqueue only --------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float | None = None) -> bool:
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        return self.done.is_set()

    def caller_audio(self, samples: np.ndarray, rate: int) -> None:
        """Caller audio, float32 mono at ``rate``, in any block size."""
        self.inbox.put(("audio", (samples, rate)))

    def dtmf(self, digit: str) -> bool:
        """A key the caller pressed; False (and nothing queued) for anything but 0-9 * # A-D."""
        if not is_key(digit):
            return False
        self.inbox.put(("dtmf", digit))
        return True

    def remote_hangup(self, reason: str = "caller_hangup") -> None:
        self.remote_gone.set()
        self.inbox.put(("hangup", reason))

    def media_lost(self) -> None:
        """The transport saw the caller's media stop (e.g. no RTP): the bot ends the call."""
        self.inbox.put(("media_lost", None))

    def transfer_result(self, status: int | None) -> None:
        self.inbox.put(("transfer", status))

    @property
    def _recording_notice(self) -> str | None:
        """What the handler tells the caller about the recording: only when this call is recorded."""
        notice = (self.config.recording_notice or "").strip()
        return notice if self._recorder is not None and notice else None

    @property
    def now_s(self) -> float:
        return self._frames * FRAME_S

    # -- the driver's thread ---------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self.handler.start(0.0, recording_notice=self._recording_notice)
            self._send_handler_dtmf()
            self._progress.update()
            if self._serve_until_ended():
                self._close()
            else:
                self._file_abandoned_handoff()
        except Exception as exc:  # isolate: this call ends, the others go on
            log.exception("call %s failed", self.record.call_id)
            self.record.error = f"{type(exc).__name__}: {exc}"
            self.record.ended_reason = "error"
            if not self._remote_gone:
                self._after_failure()
        finally:
            self._finish()

    def _after_failure(self) -> None:
        """The handler failed mid-call: an apology, then an agent (when one can be reached) or goodbye."""
        try:
            self.outgoing.clear()  # whatever was left of the handler's reply
            to_agent = self.transport.can_transfer and bool(self.config.agent_uri)
            if self._say(FAILED_TRANSFER_KO if to_agent else FAILED_GOODBYE_KO) == "hangup":
                return
            if to_agent:
                self._transfer(
                    {"reason": Reason.SYSTEM_ERROR, "caller_utterances": self._caller_utterances()}
                )
        except Exception:
            log.exception("call %s: ending the failed call politely failed", self.record.call_id)
        if not self._remote_gone:
            self.record.hangup_by = self.record.hangup_by or "bot"
            self._safe(self.transport.hangup)

    def _caller_utterances(self) -> list[str]:
        try:
            return [turn.caller_text for turn in self.handler.turns if turn.caller_text]
        except Exception:
            return []

    def _next(self, timeout_s: float) -> tuple[str, object]:
        try:
            return self.inbox.get(timeout=timeout_s)
        except queue.Empty:
            return ("media_lost", None)

    def _serve_until_ended(self) -> bool:
        """Run the handler until it ends; False if the remote side hung up (or went silent) first."""
        while not self.handler.ended:
            kind, value = self._next(self.config.media_timeout_s)
            if kind == "audio":
                self._audio(*value, feed=not self.remote_gone.is_set())
            elif kind == "dtmf":
                self.handler.on_dtmf(value, self.now_s)
            elif kind in ("hangup", "media_lost"):
                self._remote_left(kind, value)
                self.handler.hangup(self.now_s)
                self._progress.update()
                return False
            self._send_handler_dtmf()
            self._progress.update()
        self.record.ended_reason = self.handler.ended_reason
        return True

    def _remote_left(self, kind: str, reason: object) -> None:
        """The far end hung up or its media stopped. A call the handler had already ended (a goodbye or a
        transfer still being spoken) keeps the handler's reason."""
        record = self.record
        if kind == "media_lost":
            log.info("call %s: no caller audio, hanging up", record.call_id)
            record.ended_reason = record.ended_reason or self.handler.ended_reason or "media_timeout"
            record.hangup_by = record.hangup_by or "bot"
            self._safe(self.transport.hangup)
        else:
            record.ended_reason = (
                record.ended_reason or self.handler.ended_reason or str(reason or "caller_hangup")
            )
            record.hangup_by = record.hangup_by or "remote"
        self._remote_gone = True

    def _audio(self, samples: np.ndarray, rate: int, feed: bool) -> None:
        frames = self._caller.push(samples, rate)
        recorder = self._recorder
        if recorder is not None and rate == recorder.rate:
            recorder.add_caller(samples, rate)
        for pcm in frames:
            if recorder is not None and rate != recorder.rate:
                recorder.add_caller(pcm16_to_float(pcm), PIPELINE_RATE)
            if feed:
                self._feed(pcm)
            else:
                if self._listening is not None:  # the driver's own question: a spoken answer
                    self._listen(pcm)
                self._frames += 1  # nobody needs the caller's audio any more: keep the clock, skip the work

    def _listen(self, pcm: bytes) -> None:
        frame = AudioFrame(pcm, PIPELINE_RATE, self.now_s)
        for event in self._listening.process(frame):
            if isinstance(event, SpeechEnd) and self.listener is not None and self._heard is None:
                try:
                    self._heard = self.listener.transcribe(event.samples, language="ko").text.strip()
                except Exception as exc:  # a failed recognition is no answer; the keys still work
                    log.error(
                        "call %s: recognising an answer failed (%s)", self.record.call_id, type(exc).__name__
                    )

    def _feed(self, pcm: bytes) -> None:
        bot = self.handler.on_caller_frame(AudioFrame(pcm, PIPELINE_RATE, self.now_s))
        wire = self._down.push(bot) if self._down is not None else bot
        self.outgoing.put(float_to_pcm16(wire))
        if self._recorder is not None:
            if self._recorder.rate == self.transport.wire_rate:
                self._recorder.add_bot(wire, self.transport.wire_rate)
            else:
                self._recorder.add_bot(bot, PIPELINE_RATE)
        self._frames += 1

    def _send_handler_dtmf(self) -> None:
        """Send the keypad digits the handler asked for (an outbound script step), if any."""
        digits = self.handler.take_dtmf()
        if digits:
            self._safe(lambda: self.transport.send_dtmf(digits))

    def _wait(self, until: Callable[[], bool], timeout_s: float, stop_on_dtmf: bool = True):
        """Keep taking the transport's events (caller audio only moves the clock now) until ``until()``
        or ``timeout_s`` of stream time (or of wall time, when no audio comes).

        Returns "ok", "timeout", "hangup", ("transfer", status), ("dtmf", digit) or, while the driver asks
        its own question with a listener, ("speech", words)."""
        stream_deadline = self.now_s + timeout_s
        wall_deadline = time.monotonic() + timeout_s
        while not until():
            remaining = wall_deadline - time.monotonic()
            if remaining <= 0 or self.now_s >= stream_deadline:
                return "timeout"
            try:
                kind, value = self.inbox.get(timeout=min(remaining, 0.05))
            except queue.Empty:
                continue
            if kind == "audio":
                self._audio(*value, feed=False)
                if self._heard and stop_on_dtmf:
                    heard, self._heard = self._heard, None
                    return ("speech", heard)
                self._heard = None  # words that are no answer (or said while nothing was asked)
            elif kind in ("hangup", "media_lost"):
                self._remote_left(kind, value)
                return "hangup"
            elif kind == "transfer":
                return ("transfer", value)
            elif kind == "dtmf" and stop_on_dtmf:
                return ("dtmf", value)
        return "ok"

    def _play_out(self, stop_on_dtmf: bool = False):
        """Wait for the queued bot audio to reach the wire (plus the resampler's last block)."""
        if self._down is not None:  # flush the resampler's last block
            self.outgoing.put(float_to_pcm16(self._down.push(np.zeros(PIPELINE_FRAME, np.float32))))
        result = self._wait(lambda: self.outgoing.drained, self.config.play_out_limit_s, stop_on_dtmf)
        if result == "ok":  # the last frame leaves the transport's buffer
            result = self._wait(lambda: False, 0.1, stop_on_dtmf)
            result = "ok" if result == "timeout" else result
        return result

    def _say(self, text: str, stop_on_dtmf: bool = False):
        if self.synthesizer is None:
            return "ok"
        rate = self.transport.wire_rate
        try:
            speech = self.synthesizer.synthesize(text, sample_rate=rate)
        except Exception as exc:
            log.error("call %s: TTS failed: %s", self.record.call_id, exc)
            return "ok"
        if self._recorder is not None:
            self._recorder.align()
            self._recorder.add_bot(speech.samples, rate)
        pcm = float_to_pcm16(speech.samples)
        step = self._wire_frame * 2
        for offset in range(0, len(pcm), step):
            self.outgoing.put(pcm[offset : offset + step].ljust(step, b"\x00"))
        return self._play_out(stop_on_dtmf)

    def _close(self) -> None:
        """The handler ended the call: let its last words play, then transfer or hang up."""
        if self._play_out() == "hangup":
            self._file_abandoned_handoff()
            return
        if self.handler.ended_reason == "transfer":
            self._transfer()
        if not self._remote_gone:
            self.record.hangup_by = self.record.hangup_by or "bot"
            self._safe(self.transport.hangup)

    def _transfer(self, handoff: dict | None = None) -> None:
        handoff_id = self._file_handoff(handoff)
        cfg = self.config
        status: int | None = None
        if self.transport.can_transfer and cfg.agent_uri and not self._keeps_waiting(handoff_id):
            return  # the caller booked a call-back, took the chat link, declined or left
        if not self.transport.can_transfer:
            self.record.transfer = "unavailable"
        elif not cfg.agent_uri:
            self.record.transfer = "not_configured"
        else:
            self.transport.transfer(cfg.agent_uri, {"X-Handoff-Id": handoff_id} if handoff_id else {})
            result = self._wait(lambda: False, cfg.transfer_timeout_s, stop_on_dtmf=False)
            if result == "hangup":
                # the caller's side left the call after accepting the REFER: the usual blind transfer
                self.record.hangup_by = "remote"
                self.record.transfer = "ok"
                self._update_handoff(handoff_id, transfer="ok")
                return
            status = result[1] if isinstance(result, tuple) and result[0] == "transfer" else None
            if status is not None and 200 <= status < 300:
                self.record.transfer = "ok"
                self.record.hangup_by = "bot"
                self._update_handoff(handoff_id, transfer="ok")
                return
            self.record.transfer = f"failed:{status if status is not None else 'timeout'}"
        self._update_handoff(handoff_id, transfer=self.record.transfer)
        self._offer_callback(handoff_id)

    def _offer_callback(self, handoff_id: str | None) -> None:
        self.transport.publish({"type": "state", "state": "callback_offer"})
        answer = self._say(TRANSFER_FAILED_KO, stop_on_dtmf=True)  # a key during the prompt answers it
        if answer == "hangup":
            return
        if isinstance(answer, tuple):
            self.outgoing.clear()  # the caller answered: stop the question
        else:
            answer = self._wait(lambda: False, self.config.callback_wait_s)
        if answer == "hangup":
            return
        wants = answer == ("dtmf", "1")
        if wants and self.agents is not None:  # a real booking: a slot, and the number when unknown
            self.record.congestion = {"wait_s": None, "offered": ["callback"], "choice": "callback"}
            self._update_handoff(handoff_id, callback_requested=True)
            self._book_callback(handoff_id)
            return
        self.record.callback_requested = wants
        self._update_handoff(handoff_id, callback_requested=wants)
        self._say(CALLBACK_BOOKED_KO if wants else CALLBACK_DECLINED_KO)

    # -- congestion ------------------------------------------------------------------------------------

    def _keeps_waiting(self, handoff_id: str | None) -> bool:
        """Tell a caller facing a long wait (or a closed desk) and let them choose; True: transfer now."""
        if self.agents is None:
            return True
        try:
            estimate = self.agents.estimate(self.transport.name)
        except Exception:  # the desk's figures are a courtesy: without them the transfer goes on
            log.exception("call %s: no wait estimate", self.record.call_id)
            return True
        if not estimate.congested:
            return True
        offered = ["wait", "callback"] if estimate.wait_s is not None else ["callback"]
        if self.sms is not None and self.config.chat_link and mobile_number(self.caller_number):
            offered.append("sms")
        congestion = {"wait_s": estimate.wait_s, "offered": offered, "choice": None}
        self.record.congestion = congestion
        self.transport.publish(
            {"type": "state", "state": "congestion_offer", "wait_s": estimate.wait_s, "choices": offered}
        )
        keys = {CONGESTION_KEYS[c]: c for c in offered}
        answer = self._ask(
            congestion_prompt(estimate, offered),
            lambda words: CONGESTION_KEYS.get(spoken_choice(words, offered) or ""),
        )
        choice = "hangup" if answer == "hangup" else keys.get(answer or "")
        if choice is None:  # no key, or another one: waiting is what a silent caller does
            choice = "wait" if "wait" in offered else "none"
        congestion["choice"] = choice
        self._update_handoff(handoff_id, congestion=dict(congestion))
        if choice == "wait":
            return self._say(KEEP_WAITING_KO) != "hangup"
        if choice == "callback":
            self._book_callback(handoff_id)
        elif choice == "sms":
            self._text_chat_link()
        elif choice == "none":
            self._say(CALLBACK_DECLINED_KO)
        return False

    def _ask(self, prompt: str, spoken: Callable[[str], str | None] = lambda _: None) -> str | None:
        """Say ``prompt`` (a key or an answer cuts it) and wait for a key: the key, None for none, or
        "hangup". With a listener, words are an answer too: ``spoken`` gives the key they mean."""
        if self.listener is not None:
            self._listening = Endpointer(create_vad("webrtc"), EndpointConfig())
            self._heard = None
        try:
            answer = self._say(prompt, stop_on_dtmf=True)
            if isinstance(answer, tuple):
                self.outgoing.clear()  # the caller answered: stop the question
            elif answer != "hangup":
                answer = self._wait(lambda: False, self.config.callback_wait_s)
        finally:
            self._listening, self._heard = None, None
        if answer == "hangup":
            return "hangup"
        if isinstance(answer, tuple) and answer[0] == "speech":
            key = spoken(str(answer[1]))
            if key and self.record.congestion is not None:
                self.record.congestion["by"] = "speech"  # the words stay out of the record
            return key
        return answer[1] if isinstance(answer, tuple) and answer[0] == "dtmf" else None

    def _book_callback(self, handoff_id: str | None) -> None:
        congestion = self.record.congestion if self.record.congestion is not None else {}
        try:
            slots = self.agents.callback_slots(3) if self.agents is not None else []
        except Exception:
            log.exception("call %s: no call-back slots", self.record.call_id)
            slots = []
        if not slots:
            congestion["choice"] = "no_slot"
            self._say(NO_SLOT_KO)
            return
        self.transport.publish(
            {"type": "state", "state": "callback_slots", "slots": [slot.label for slot in slots]}
        )
        keys = {str(n): slot for n, slot in enumerate(slots, 1)}
        answer = None
        for _ in range(2):  # a key that picks no slot: the choices once more
            answer = self._ask(slots_prompt(slots), lambda words: spoken_slot(words, len(slots)))
            if answer == "hangup" or answer in keys:
                break
        if answer == "hangup":
            congestion["choice"] = "hangup"
            return
        if answer not in keys:
            congestion["choice"] = "none"
            self._say(CALLBACK_DECLINED_KO)
            return
        slot = keys[answer]
        number, keyed = self.caller_number, None
        if number is None:  # a browser call or a withheld number: the caller keys it in
            keyed = self._ask_number()
            if keyed in (None, "hangup"):
                congestion["choice"] = "hangup" if keyed == "hangup" else "no_number"
                if keyed is None:
                    self._say(CALLBACK_DECLINED_KO)
                return
            number = keyed
        try:
            callback_id = self.agents.book_callback(
                number,
                slot,
                channel=self.transport.name,
                handoff_id=handoff_id,
                handoff=self.record.handoff,
            )
        except Exception as exc:
            log.error(
                "call %s: the call-back could not be booked (%s)", self.record.call_id, type(exc).__name__
            )
            congestion["choice"] = "booking_failed"
            self._say(BOOKING_FAILED_KO)
            return
        congestion.update(callback_id=callback_id, slot_start=slot.start.isoformat())
        self.record.callback_requested = True
        self._update_handoff(
            handoff_id, callback_requested=True, callback_id=callback_id, callback_slot=slot.label
        )
        self.transport.publish({"type": "state", "state": "callback_booked", "slot": slot.label})
        self._say(booked_prompt(slot, keyed))

    def _ask_number(self) -> str | None:
        """The number a caller keys in, ended by #: its digits, None when none could be read (twice), or
        "hangup". Personal data: kept for the booking only."""
        for attempt in range(2):
            if attempt:
                self._say(NUMBER_AGAIN_KO)
            self.transport.publish({"type": "state", "state": "callback_number"})
            answer = self._say(ENTER_NUMBER_KO, stop_on_dtmf=True)
            if answer == "hangup":
                return "hangup"
            digits = ""
            if isinstance(answer, tuple) and answer[0] == "dtmf":
                self.outgoing.clear()
                if answer[1] == "#":
                    continue
                digits = answer[1]
            while len(digits) < 13:
                got = self._wait(lambda: False, self.config.callback_wait_s)
                if got == "hangup":
                    return "hangup"
                if not (isinstance(got, tuple) and got[0] == "dtmf") or got[1] == "#":
                    break
                digits += got[1]
            try:
                return normalize_number(digits)
            except SmsError:
                continue
        return None

    def _text_chat_link(self) -> None:
        number = self.caller_number or ""
        congestion = self.record.congestion or {}
        try:
            receipt = self.sms.send(number, CHAT_SMS_KO.format(link=self.config.chat_link))
        except SmsError as exc:
            log.warning(
                "call %s: chat link to %s not sent: %s", self.record.call_id, mask_number(number), exc
            )
            congestion["sms"] = {"ok": False}
            self._say(CHAT_FAILED_KO)
            return
        congestion["sms"] = {"ok": True, "id": receipt.message_id, "to": receipt.to_masked}
        self._say(CHAT_SENT_KO)

    def _file_abandoned_handoff(self) -> None:
        """The caller hung up while the transfer was announced: the agent still gets the record, to call
        back. Only when the handler handed the call over; nothing is transferred."""
        if self.handler.handoff is None:
            return
        handoff_id = self._file_handoff()
        self.record.transfer = "caller_hangup"
        self._update_handoff(handoff_id, transfer="caller_hangup")

    def _file_handoff(self, handoff: dict | None = None) -> str | None:
        self.record.handoff = handoff or self.handler.handoff
        self.record.handoff_id = file_handoff(
            self.handoffs, self.record.handoff, transport=self.transport.name, call_id=self.record.call_id
        )
        return self.record.handoff_id

    def _update_handoff(self, handoff_id: str | None, **fields) -> None:
        if self.handoffs is not None and handoff_id:
            self.handoffs.update(handoff_id, **fields)

    def _safe(self, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:
            log.exception("call %s: transport request failed", self.record.call_id)

    def _finish(self) -> None:
        record = self.record
        record.duration_s = self.now_s
        record.ended_reason = record.ended_reason or self.handler.ended_reason or "error"
        record.bot_speech_s = self.outgoing.played_speech * FRAME_S
        try:
            record.turns = [turn.as_dict() for turn in self.handler.turns]
            if record.handoff is None:
                record.handoff = self.handler.handoff
        except Exception:
            log.exception("call %s: no turns", record.call_id)
        if self._recorder is not None and self.config.record_dir is not None:
            try:
                name = f"{time.strftime('%Y%m%d-%H%M%S')}-{record.call_id}.wav"
                record.recording = str(self._recorder.write(self.config.record_dir / name))
            except Exception as exc:  # a full or unwritable folder costs the recording, never the call
                why = (
                    f"{type(exc).__name__}: {exc.strerror}"
                    if isinstance(exc, OSError)
                    else type(exc).__name__
                )
                record.recording_error = why
                log.error("call %s: the recording could not be written (%s)", record.call_id, why)
        self._safe(
            lambda: self.transport.publish(ended_message(record.ended_reason, record.callback_requested))
        )
        self.done.set()
        if self.on_done is not None:
            try:
                self.on_done(record)
            except Exception:
                log.exception("call %s: end callback failed", record.call_id)
