"""Calls in progress and finished, for /metrics, the console's live view and the call log.

:class:`CallMonitor` wraps the session factory of each transport: every session it makes is registered as
live; when the transport reports the call's end, the call's turns become a :class:`~outbound.schema.CallLog`
row (intents, escalation, latencies; no words, no number) and Prometheus figures. The live view shows the
transcript of calls in progress to operators only; it is never stored or logged.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy.orm import Session, sessionmaker

from dialog import REFUSAL_INTENT
from outbound import inquiries
from outbound.schema import CallLog
from voicebot.call.protocols import HandlerFactory
from voicebot.call.session import CallSession

log = logging.getLogger(__name__)

INQUIRY_CHANNEL = {"sip": "phone", "webrtc": "browser"}
LATENCY_BUCKETS = (0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0)


class Metrics:
    """The server's Prometheus figures, in a registry of its own (no process-wide state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.calls_in_progress = Gauge(
            "voicebot_calls_in_progress", "Calls in progress", ["transport"], registry=r
        )
        self.calls = Counter(
            "voicebot_calls_total", "Finished inbound calls", ["transport", "ended_reason"], registry=r
        )
        self.turns = Counter("voicebot_turns_total", "Bot turns", ["trigger"], registry=r)
        self.escalations = Counter(
            "voicebot_escalations_total", "Calls handed to an agent", ["reason"], registry=r
        )
        self.voice_to_voice = Histogram(
            "voicebot_voice_to_voice_seconds",
            "End of the caller's speech to the bot's first audio",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.stt = Histogram(
            "voicebot_stt_seconds",
            "Speech recognition time per utterance",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tts = Histogram(
            "voicebot_tts_first_audio_seconds",
            "Synthesis time of a reply's first sentence",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.outbound = Counter(
            "voicebot_outbound_attempts_total", "Outbound call attempts", ["outcome"], registry=r
        )
        self.outbound_alerts = Counter(
            "voicebot_outbound_alerts_total", "Alerts raised by outbound calls", registry=r
        )
        # Calls (inbound and outbound) whose recording could not be written (a full or unwritable folder).
        self.recording_failures = Counter(
            "voicebot_recording_failures_total",
            "Call recordings that could not be written",
            ["transport"],
            registry=r,
        )
        # Text channels (web chat, KakaoTalk): voicebot.chat reports events through chat_event.
        self.chat_conversations = Counter(
            "voicebot_chat_conversations_total", "Text conversations started", ["channel"], registry=r
        )
        self.chat_messages = Counter(
            "voicebot_chat_messages_total", "Text messages", ["channel", "role"], registry=r
        )
        self.chat_handoffs = Counter(
            "voicebot_chat_handoffs_total",
            "Text conversations handed to an agent",
            ["channel", "reason"],
            registry=r,
        )
        self.chat_taken = Counter(
            "voicebot_chat_taken_total", "Text conversations an operator took", ["channel"], registry=r
        )
        # How long a citizen handed to an agent waited for one (chats: until an operator took it); phone
        # calls' expected waits are voicebot_agent_wait_expected_seconds (voicebot.server.agents).
        self.agent_wait = Histogram(
            "voicebot_agent_wait_seconds",
            "Wait for an agent after a handoff, by channel",
            ["channel"],
            buckets=(10, 30, 60, 120, 300, 600, 1200, 1800, 3600),
            registry=r,
        )
        self.chat_ended = Counter(
            "voicebot_chat_ended_total", "Text conversations ended", ["channel", "reason"], registry=r
        )
        # Requests for someone else's personal data, refused (dialog.privacy); channel: sip | webrtc (at
        # the call's end) | web | kakao.
        self.personal_data_refusals = Counter(
            "voicebot_personal_data_refusals_total",
            "Requests for someone else's personal data, refused",
            ["channel"],
            registry=r,
        )

    def chat_event(
        self, event: str, *, channel: str, role: str = "", reason: str = "", wait_s: float | None = None
    ) -> None:
        """One event of ``voicebot.chat.ChatService`` (its ``on_event``) as Prometheus counts."""
        if event == "conversation":
            self.chat_conversations.labels(channel).inc()
        elif event == "message":
            self.chat_messages.labels(channel, role).inc()
        elif event == "handoff":
            self.chat_handoffs.labels(channel, reason).inc()
        elif event == "taken":
            self.chat_taken.labels(channel).inc()
            if wait_s is not None:
                self.agent_wait.labels(channel).observe(max(0.0, wait_s))
        elif event == "ended":
            self.chat_ended.labels(channel, reason).inc()
        elif event == "personal_data_refusal":
            self.personal_data_refusals.labels(channel).inc()


@dataclass
class LiveCall:
    call_id: str
    transport: str
    started_at: datetime
    session: CallSession  # the ARS call handler


class CallMonitor:
    def __init__(self, metrics: Metrics, factory: sessionmaker[Session] | None = None):
        self.metrics = metrics
        self.factory = factory
        self._live: dict[str, LiveCall] = {}
        self._lock = threading.Lock()
        for transport in ("sip", "webrtc"):
            metrics.calls_in_progress.labels(transport).set_function(lambda t=transport: self.count(t))

    def count(self, transport: str) -> int:
        with self._lock:
            return sum(call.transport == transport for call in self._live.values())

    def wrap(self, make_session: HandlerFactory, transport: str) -> HandlerFactory:
        """A session factory that registers each call it makes."""

        def make(call_id: str, caller_number: str | None = None) -> CallSession:
            session = make_session(call_id, caller_number)
            with self._lock:
                self._live[call_id] = LiveCall(call_id, transport, datetime.now(UTC), session)
            return session

        return make

    def live(self) -> list[dict[str, Any]]:
        with self._lock:
            calls = list(self._live.values())
        return [self._describe(call) for call in calls]

    def _describe(self, call: LiveCall) -> dict[str, Any]:
        session = call.session
        transcript = []
        for turn in list(session.turns):
            if turn.caller_text:
                transcript.append({"who": "caller", "text": turn.caller_text})
            if turn.bot_text:
                transcript.append({"who": "bot", "text": turn.bot_text})
        events = list(session.events)
        state = "ended" if session.ended else (events[-1].kind if events else "starting")
        return {
            "call_id": call.call_id,
            "transport": call.transport,
            "state": state,
            "started_at": call.started_at.isoformat(),
            "transcript": transcript,
            "handoff": (session.handoff or {}).get("reason"),
        }

    def discard(self, call_id: str) -> None:
        """A call that never started (its offer was refused): forget it, count and log nothing."""
        with self._lock:
            self._live.pop(call_id, None)

    def finished(self, call_id: str, ended_reason: str | None = None, duration_s: float = 0.0) -> None:
        """The transport says the call is over: count it, log it (no words) and forget it."""
        with self._lock:
            call = self._live.pop(call_id, None)
        if call is None:
            return
        turns = list(call.session.turns)
        handoff = call.session.handoff or {}
        reason = ended_reason or ("transfer" if handoff else "ended")
        self.metrics.calls.labels(call.transport, reason).inc()
        v2v = []
        for turn in turns:
            self.metrics.turns.labels(turn.trigger).inc()
            if turn.intent == REFUSAL_INTENT:
                self.metrics.personal_data_refusals.labels(call.transport).inc()
            latency = turn.latency
            if latency is None or turn.trigger != "speech":
                continue
            self.metrics.stt.observe(latency.stt_ms / 1000)
            self.metrics.tts.observe(latency.tts_first_ms / 1000)
            if latency.voice_to_voice_ms > 0:
                self.metrics.voice_to_voice.observe(latency.voice_to_voice_ms / 1000)
                v2v.append(round(latency.voice_to_voice_ms, 1))
        if handoff.get("reason"):
            self.metrics.escalations.labels(handoff["reason"]).inc()
        if self.factory is None:
            return
        try:
            with self.factory.begin() as db:
                db.add(
                    CallLog(
                        call_id=call_id,
                        transport=call.transport,
                        started_at=call.started_at,
                        ended_at=datetime.now(UTC),
                        duration_s=round(duration_s, 2),
                        turns=len(turns),
                        intents=[t.intent for t in turns if t.intent],
                        escalation=handoff.get("reason"),
                        ended_reason=reason,
                        voice_to_voice_ms=v2v,
                    )
                )
                if call.transport in INQUIRY_CHANNEL:
                    record_call_inquiry(db, call, turns, handoff.get("reason"), duration_s)
        except Exception:  # the call is over either way; a lost log line must not break the transport
            log.exception("call %s: could not write the call log", call_id)


def record_call_inquiry(
    db: Session, call: LiveCall, turns: list[Any], escalation: str | None, duration_s: float
) -> None:
    """The call's inquiry record (issue 19): labels and counts only, the district's name at most."""
    steps = [inquiries.Step(t.action, t.category, t.intent) for t in turns]
    inquiries.record(
        db,
        started_at=call.started_at,
        channel=INQUIRY_CHANNEL[call.transport],
        summary=inquiries.summarize(steps, escalation),
        turns=sum(t.trigger in ("speech", "dtmf") for t in turns),
        duration_s=duration_s,
        district=inquiries.district_in(t.caller_text for t in turns if t.caller_text),
    )
