"""One browser call's ``CallSession``, run in its own thread and fed through a queue.

The asyncio side only enqueues (caller audio, keypad digits, hang-up); this thread is the only one that
touches the session, so a Whisper decode (up to about a second) delays this call alone and never the
event loop that carries every call's media. The session's stream time is the caller frame index x 20 ms.
What the page should show (transcript lines, call state, the end of the call) leaves through ``publish``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from media.audio import PIPELINE_RATE, AudioFrame, float_to_pcm16
from media.stream import FrameQueue, StreamResampler
from voicebot.session import CallSession
from voicebot.sip.handoff import HandoffRegistry, file_handoff
from voicebot.webrtc.media import FRAME_S, PIPELINE_FRAME, WEBRTC_FRAME, WEBRTC_RATE, CallerAudio

log = logging.getLogger(__name__)

DTMF_KEYS = frozenset("0123456789*#")

# What the page shows when the call ends, by reason (Korean first: the caller reads it).
ENDED_KO = {
    "goodbye": "통화가 종료되었습니다. 이용해 주셔서 감사합니다.",
    "transfer": "상담원 연결 요청이 접수되었습니다. 통화를 종료합니다.",
    "caller_hangup": "통화를 종료했습니다. 이용해 주셔서 감사합니다.",
    "timeout": "최대 통화 시간이 지나 통화를 종료했습니다. 필요하시면 다시 걸어 주세요.",
    "media_timeout": "음성이 한동안 전달되지 않아 통화를 종료했습니다. 다시 걸어 주세요.",
    "error": "죄송합니다. 통화 중 문제가 생겨 통화를 종료했습니다. 잠시 후 다시 걸어 주세요.",
    "shutdown": "서비스 점검으로 통화를 종료했습니다. 잠시 후 다시 걸어 주세요.",
}

# Session events that change what the page says the call is doing.
_STATE_EVENTS = {"speech_start": "listening", "utterance": "thinking", "bot_reply": "speaking"}


@dataclass
class CallSummary:
    """One finished browser call (no transcript text: it is personal data)."""

    call_id: str
    ended_reason: str | None = None
    hangup_by: str | None = None  # bot | caller
    duration_s: float = 0.0
    turns: int = 0
    bot_speech_s: float = 0.0
    handoff: dict | None = None
    handoff_id: str | None = None  # the stored record (file_handoff), when the call was handed to an agent
    error: str | None = None

    def as_dict(self) -> dict:
        data = dict(self.__dict__)
        data["duration_s"] = round(self.duration_s, 2)
        data["bot_speech_s"] = round(self.bot_speech_s, 2)
        return data


class SessionThread:
    """Drives one ``CallSession`` from a queue of caller events in a dedicated thread."""

    def __init__(
        self,
        call_id: str,
        session: CallSession,
        publish: Callable[[dict], None],
        on_done: Callable[[CallSummary], None] | None = None,
        media_timeout_s: float = 30.0,
        play_out_limit_s: float = 60.0,
        handoffs: HandoffRegistry | None = None,
    ):
        self.call_id = call_id
        self.handoffs = handoffs
        self.session = session
        self.publish = publish
        self.on_done = on_done
        self.media_timeout_s = media_timeout_s
        self.play_out_limit_s = play_out_limit_s
        self.outgoing = FrameQueue(WEBRTC_FRAME * 2)
        self.summary = CallSummary(call_id)
        self.done = threading.Event()
        self._inbox: queue.Queue = queue.Queue()
        self._caller = CallerAudio()
        self._up = StreamResampler(PIPELINE_RATE, WEBRTC_RATE, PIPELINE_FRAME)
        self._frames = 0
        self._sent_turns = 0
        self._seen_events = 0
        self._bot_was_speaking = False
        self._thread = threading.Thread(target=self._run, name=f"webrtc-call-{call_id}", daemon=True)

    # -- called from the event loop: enqueue only ---------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def caller_audio(self, samples: np.ndarray, rate: int) -> None:
        self._inbox.put(("audio", (samples, rate)))

    def dtmf(self, digit: str) -> bool:
        if digit not in DTMF_KEYS:
            return False
        self._inbox.put(("dtmf", digit))
        return True

    def hangup(self, reason: str = "caller_hangup") -> None:
        self._inbox.put(("hangup", reason))

    def join(self, timeout_s: float | None = None) -> bool:
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def now_s(self) -> float:
        return self._frames * FRAME_S

    # -- the worker thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.session.start(0.0)
            self._publish_progress()
            if self._serve_until_ended():
                self.summary.hangup_by = "bot"
                self._play_out()
        except Exception as exc:  # isolate: this call ends, the others go on
            log.exception("webrtc call %s failed", self.call_id)
            self.summary.error = f"{type(exc).__name__}: {exc}"
            self.summary.ended_reason = "error"
        finally:
            self._finish()

    def _serve_until_ended(self) -> bool:
        """Run the session until it ends; False if the caller hung up (or went silent) first."""
        while not self.session.ended:
            try:
                kind, value = self._inbox.get(timeout=self.media_timeout_s)
            except queue.Empty:
                kind, value = "hangup", "media_timeout"
            if kind == "audio":
                for pcm in self._caller.push(*value):
                    self._feed(pcm)
            elif kind == "dtmf":
                self.session.on_dtmf(value, self.now_s)
            elif kind == "hangup":
                self.session.hangup(self.now_s)
                self.summary.ended_reason = value
                self.summary.hangup_by = "caller"
                self._publish_progress()
                return False
            self._publish_progress()
        self.summary.ended_reason = self.session.ended_reason
        return True

    def _feed(self, pcm: bytes) -> None:
        bot = self.session.on_caller_frame(AudioFrame(pcm, PIPELINE_RATE, self.now_s))
        self.outgoing.put(float_to_pcm16(self._up.push(bot)))
        self._frames += 1

    def _play_out(self) -> None:
        """Let the closing prompt reach the caller; a hang-up meanwhile ends the wait."""
        self.outgoing.put(float_to_pcm16(self._up.push(np.zeros(PIPELINE_FRAME, np.float32))))
        deadline = time.monotonic() + self.play_out_limit_s
        while not self.outgoing.drained and time.monotonic() < deadline:
            try:
                kind, _ = self._inbox.get(timeout=0.05)
            except queue.Empty:
                continue
            if kind == "audio":
                self._frames += 1  # keep the clock; nobody needs the caller's audio any more
            elif kind == "hangup":
                self.summary.hangup_by = "caller"
                return
        time.sleep(0.1)  # the last frame leaves the encoder

    def _publish_progress(self) -> None:
        session = self.session
        for event in session.events[self._seen_events :]:
            state = _STATE_EVENTS.get(event.kind)
            if state:
                self.publish({"type": "state", "state": state})
            elif event.kind == "barge_in":
                self.publish({"type": "barge_in", "turn": self._sent_turns - 1})
        self._seen_events = len(session.events)
        speaking = session.bot.pending
        if self._bot_was_speaking and not speaking and session.ended_reason is None:
            # the prompt has played out: the caller's turn
            self.publish({"type": "state", "state": "waiting"})
        self._bot_was_speaking = speaking
        for turn in session.turns[self._sent_turns :]:
            if turn.trigger in ("speech", "dtmf") and turn.caller_text:
                self.publish(
                    {
                        "type": "transcript",
                        "speaker": "caller",
                        "trigger": turn.trigger,
                        "text": turn.caller_text,
                        "turn": turn.index,
                    }
                )
            self.publish(
                {
                    "type": "transcript",
                    "speaker": "bot",
                    "trigger": turn.trigger,
                    "text": turn.bot_text,
                    "turn": turn.index,
                    "action": turn.action,
                    "category": turn.category,
                }
            )
        self._sent_turns = len(session.turns)

    def _finish(self) -> None:
        summary = self.summary
        summary.ended_reason = summary.ended_reason or self.session.ended_reason or "error"
        summary.duration_s = self.now_s
        summary.turns = len(self.session.turns)
        summary.bot_speech_s = self.outgoing.played_speech * FRAME_S
        try:
            summary.handoff = self.session.handoff
            if summary.handoff is not None:  # handed to an agent: kept as a SIP call's record is
                summary.handoff_id = file_handoff(
                    self.handoffs, summary.handoff, transport="webrtc", call_id=self.call_id
                )
        except Exception:
            log.exception("webrtc call %s: no handoff record", self.call_id)
        message = ENDED_KO.get(summary.ended_reason, ENDED_KO["caller_hangup"])
        self.publish({"type": "ended", "reason": summary.ended_reason, "message": message})
        self.done.set()
        if self.on_done is not None:
            try:
                self.on_done(summary)
            except Exception:
                log.exception("webrtc call %s: end callback failed", self.call_id)
