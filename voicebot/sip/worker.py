"""One call's session, run in its own thread and fed through a queue.

PJSIP callbacks only enqueue (caller frames, keypad digits, hang-up, transfer results); this thread is
the only one that touches the session, so a slow STT step delays this call alone and an exception here
ends this call alone. The session's stream time is the caller frame index x 20 ms.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from media.audio import PIPELINE_RATE, AudioFrame, float_to_pcm16, pcm16_to_float
from media.stream import FrameQueue, StreamResampler
from voicebot.sip.handoff import HandoffRegistry, file_handoff
from voicebot.sip.media import FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, TELEPHONY_RATE

log = logging.getLogger(__name__)

FRAME_S = FRAME_MS / 1000

TRANSFER_FAILED_KO = (
    "죄송합니다. 지금은 상담원 연결이 원활하지 않습니다. "
    "상담원의 전화를 다시 받기를 원하시면 1번을 눌러 주세요."
)
CALLBACK_BOOKED_KO = (
    "콜백 요청이 접수되었습니다. 상담원이 확인하는 대로 다시 전화드리겠습니다. 이용해 주셔서 감사합니다."
)
CALLBACK_DECLINED_KO = "이용해 주셔서 감사합니다. 다음에 다시 전화해 주세요. 안녕히 계세요."


class CallHandler(Protocol):
    """What a call runs: ``voicebot.session.CallSession`` or an outbound ``ScriptSession``."""

    ended_reason: str | None

    @property
    def handoff(self) -> dict | None: ...  # the record for the agent when the call is handed over

    def start(self, now_s: float = 0.0) -> None: ...
    def on_caller_frame(self, frame: AudioFrame) -> np.ndarray: ...
    def on_dtmf(self, digit: str, now_s: float) -> None: ...
    def hangup(self, now_s: float) -> None: ...

    @property
    def ended(self) -> bool: ...


DTMF_KEYS = frozenset("0123456789*#ABCD")
MAX_DTMF_DIGITS = 32  # what one PJSIP stream queues for sending at a time
DTMF_DIGIT_S = 0.3  # PJSIP sends each digit for 200 ms, then its end packets


def check_dtmf(digits: str) -> str:
    """Keypad digits to send by RFC 4733 (0-9, *, #, A-D; a-d read as A-D), or a ValueError naming the bad one."""
    if not isinstance(digits, str) or not digits:
        raise ValueError("no keypad digits to send: give one or more of 0-9 * # A-D")
    if len(digits) > MAX_DTMF_DIGITS:
        raise ValueError(f"too many keypad digits ({len(digits)}): at most {MAX_DTMF_DIGITS} at a time")
    for position, key in enumerate(digits, 1):
        if key.upper() not in DTMF_KEYS:
            raise ValueError(
                f"bad keypad digit {key!r} at position {position} of {digits!r}: use 0-9 * # A-D"
            )
    return digits.upper()


class CallControls(Protocol):
    """What the worker asks of the SIP side; every method only enqueues work for PJSIP's thread."""

    def hangup(self) -> None: ...
    def transfer(self, target: str, headers: dict[str, str]) -> None: ...
    def send_dtmf(self, digits: str) -> object: ...


@dataclass
class CallReport:
    """One finished call, as ``voicebot sip`` prints it (remote URI masked)."""

    call_id: str
    direction: str  # inbound | outbound
    remote: str
    outcome: str = "answered"  # outbound: answered | busy | no_answer | rejected | failed
    sip_status: int | None = None
    codec: str | None = None
    answer_ms: float | None = None  # inbound: INVITE received -> 200 OK sent
    duration_s: float = 0.0  # media time
    ended_reason: str | None = None  # goodbye | transfer | caller_hangup | timeout | error ...
    hangup_by: str | None = None  # bot | remote
    turns: list[dict] = field(default_factory=list)
    handoff_id: str | None = None
    transfer: str | None = None  # ok | failed:<status> | not_configured
    callback_requested: bool | None = None
    recording: str | None = None
    error: str | None = None

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items()}
        data["duration_s"] = round(self.duration_s, 2)
        if self.answer_ms is not None:
            data["answer_ms"] = round(self.answer_ms, 1)
        return data


def _turn_dicts(handler) -> list[dict]:
    turns = getattr(handler, "turns", [])
    return [t.as_dict() if hasattr(t, "as_dict") else dict(t) for t in turns]


class CallWorker:
    """Drives one handler from a queue of caller events; speaks, hangs up or transfers when it ends."""

    def __init__(
        self,
        name: str,
        handler: CallHandler,
        controls: CallControls,
        report: CallReport,
        synthesizer=None,
        agent_uri: str | None = None,
        handoffs: HandoffRegistry | None = None,
        transfer_timeout_s: float = 15.0,
        callback_wait_s: float = 8.0,
        on_done: Callable[[CallReport], None] | None = None,
    ):
        self.name = name
        self.handler = handler
        self.controls = controls
        self.report = report
        self.synthesizer = synthesizer
        self.agent_uri = agent_uri
        self.handoffs = handoffs
        self.transfer_timeout_s = transfer_timeout_s
        self.callback_wait_s = callback_wait_s
        self.on_done = on_done
        self.inbox: queue.Queue = queue.Queue()
        self.outbound = FrameQueue(FRAME_BYTES)
        self._up = StreamResampler(TELEPHONY_RATE, PIPELINE_RATE, FRAME_SAMPLES)
        self._down = StreamResampler(PIPELINE_RATE, TELEPHONY_RATE, FRAME_SAMPLES * 2)
        self._frames = 0
        self._remote_gone = False
        self._thread = threading.Thread(target=self._run, name=f"call-{name}", daemon=True)
        self.done = threading.Event()
        self.remote_gone = threading.Event()

    # -- called from PJSIP's threads: enqueue only --------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def caller_frame(self, pcm: bytes) -> None:
        self.inbox.put(("frame", pcm))

    def dtmf(self, digit: str) -> None:
        self.inbox.put(("dtmf", digit))

    def remote_hangup(self) -> None:
        self.remote_gone.set()  # lets the worker skip the caller audio still queued
        self.inbox.put(("hangup", None))

    def transfer_result(self, status: int) -> None:
        self.inbox.put(("transfer", status))

    # -- the worker thread ----------------------------------------------------------------------------

    @property
    def now_s(self) -> float:
        return self._frames * FRAME_S

    def _run(self) -> None:
        try:
            self.handler.start(0.0)
            self._send_handler_dtmf()
            if self._serve_until_ended():
                self._close()
            else:
                self._file_abandoned_handoff()
        except Exception as exc:  # isolate: this call ends, the others go on
            log.exception("call %s failed", self.name)
            self.report.error = f"{type(exc).__name__}: {exc}"
            self.report.ended_reason = self.report.ended_reason or "error"
            if not self._remote_gone:
                self._safe_hangup()
        finally:
            self.report.duration_s = self.now_s
            self.report.ended_reason = self.report.ended_reason or getattr(self.handler, "ended_reason", None)
            try:
                self.report.turns = _turn_dicts(self.handler)
            except Exception:
                pass
            self.done.set()
            if self.on_done:
                try:
                    self.on_done(self.report)
                except Exception:
                    log.exception("call %s: report callback failed", self.name)

    def _feed(self, pcm: bytes) -> None:
        up = self._up.push(pcm16_to_float(pcm))
        frame = AudioFrame(float_to_pcm16(up), PIPELINE_RATE, self.now_s)
        bot = self.handler.on_caller_frame(frame)
        self.outbound.put(float_to_pcm16(self._down.push(bot)))
        self._frames += 1

    def _serve_until_ended(self) -> bool:
        """Run the handler until it ends; False if the remote side hung up first."""
        while not self.handler.ended:
            kind, value = self.inbox.get()
            if kind == "frame":
                if self.remote_gone.is_set():
                    self._frames += 1  # nobody is listening any more: keep the clock, skip the work
                else:
                    self._feed(value)
            elif kind == "dtmf":
                self.handler.on_dtmf(value, self.now_s)
            elif kind == "hangup":
                self._remote_gone = True
                self.handler.hangup(self.now_s)
                self.report.hangup_by = self.report.hangup_by or "remote"
                return False
            self._send_handler_dtmf()
        self.report.ended_reason = self.handler.ended_reason
        return True

    def _send_handler_dtmf(self) -> None:
        """Send the keypad digits the handler asked for (an outbound script step), if any."""
        take = getattr(self.handler, "take_dtmf", None)
        digits = take() if take is not None else ""
        if not digits:
            return
        try:
            self.controls.send_dtmf(digits)
        except Exception:
            log.exception("call %s: could not send keypad digits", self.name)

    def _wait(self, until: Callable[[], bool], timeout_s: float, stop_on_dtmf: bool = True):
        """Keep consuming caller events (frames are only counted now) until ``until()`` or a timeout.

        Returns "ok", "timeout", "hangup", ("transfer", status) or ("dtmf", digit)."""
        deadline = time.monotonic() + timeout_s
        while not until():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            try:
                kind, value = self.inbox.get(timeout=min(remaining, 0.05))
            except queue.Empty:
                continue
            if kind == "frame":
                self._frames += 1
            elif kind == "hangup":
                self._remote_gone = True
                self.report.hangup_by = self.report.hangup_by or "remote"
                return "hangup"
            elif kind == "transfer":
                return ("transfer", value)
            elif kind == "dtmf" and stop_on_dtmf:
                return ("dtmf", value)
        return "ok"

    def _play_out(self, stop_on_dtmf: bool = False):
        """Wait for the queued bot audio to reach the wire (plus the resampler's last block)."""
        self.outbound.put(float_to_pcm16(self._down.push(np.zeros(FRAME_SAMPLES * 2, np.float32))))
        result = self._wait(lambda: self.outbound.drained, 60.0, stop_on_dtmf)
        if result == "ok":
            result = self._wait(lambda: False, 0.1, stop_on_dtmf)  # the last frame leaves PJSIP's buffer
            result = "ok" if result == "timeout" else result
        return result

    def _say(self, text: str, stop_on_dtmf: bool = False):
        if self.synthesizer is None:
            return "ok"
        try:
            speech = self.synthesizer.synthesize(text, sample_rate=TELEPHONY_RATE)
        except Exception as exc:
            log.error("call %s: TTS failed: %s", self.name, exc)
            return "ok"
        pcm = float_to_pcm16(speech.samples)
        step = FRAME_SAMPLES * 2
        for offset in range(0, len(pcm), step):
            chunk = pcm[offset : offset + step]
            self.outbound.put(chunk + b"\x00" * (step - len(chunk)))
        return self._play_out(stop_on_dtmf)

    def _close(self) -> None:
        if self._play_out() == "hangup":
            self._file_abandoned_handoff()
            return
        if self.handler.ended_reason == "transfer":
            self._transfer()
        if not self._remote_gone:
            self.report.hangup_by = self.report.hangup_by or "bot"
            self._safe_hangup()

    def _file_abandoned_handoff(self) -> None:
        """The caller hung up while the transfer was announced: the agent still gets the record, to call
        back. Only when the dialog handed the call over; nothing is transferred."""
        if self.handler.handoff is None:
            return
        self.report.handoff_id = file_handoff(
            self.handoffs, self.handler.handoff, transport="sip", call_id=self.report.call_id
        )
        self.report.transfer = "caller_hangup"
        self._update_handoff(self.report.handoff_id, transfer="caller_hangup")

    def _safe_hangup(self) -> None:
        try:
            self.controls.hangup()
        except Exception:
            log.exception("call %s: hang-up request failed", self.name)

    def _transfer(self) -> None:
        handoff_id = file_handoff(
            self.handoffs, self.handler.handoff, transport="sip", call_id=self.report.call_id
        )
        self.report.handoff_id = handoff_id
        if not self.agent_uri:
            self.report.transfer = "not_configured"
            status: int | None = None
        else:
            self.controls.transfer(self.agent_uri, {"X-Handoff-Id": handoff_id} if handoff_id else {})
            result = self._wait(lambda: False, self.transfer_timeout_s, stop_on_dtmf=False)
            if result == "hangup":
                # the caller's side left the call after accepting the REFER: the usual blind transfer
                self.report.transfer = "ok"
                self._update_handoff(handoff_id, transfer="ok")
                return
            status = result[1] if isinstance(result, tuple) and result[0] == "transfer" else None
            if status is not None and 200 <= status < 300:
                self.report.transfer = "ok"
                self.report.hangup_by = "bot"
                self._update_handoff(handoff_id, transfer="ok")
                return
            self.report.transfer = f"failed:{status if status is not None else 'timeout'}"
        self._update_handoff(handoff_id, transfer=self.report.transfer)
        self._offer_callback(handoff_id)

    def _offer_callback(self, handoff_id: str | None) -> None:
        answer = self._say(TRANSFER_FAILED_KO, stop_on_dtmf=True)  # a key during the prompt answers it
        if answer == "hangup":
            return
        if isinstance(answer, tuple):
            self.outbound.clear()  # the caller answered: stop the question
        else:
            answer = self._wait(lambda: False, self.callback_wait_s)
        if answer == "hangup":
            return
        wants = isinstance(answer, tuple) and answer == ("dtmf", "1")
        self.report.callback_requested = wants
        self._update_handoff(handoff_id, callback_requested=wants)
        self._say(CALLBACK_BOOKED_KO if wants else CALLBACK_DECLINED_KO)

    def _update_handoff(self, handoff_id: str | None, **fields) -> None:
        if self.handoffs is not None and handoff_id:
            self.handoffs.update(handoff_id, **fields)
