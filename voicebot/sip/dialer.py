"""The outbound dialer over SIP: ``outbound`` campaigns call people through a started ``SipEndpoint``.

``outbound`` never imports ``voicebot``; the CLI (``campaign run --dialer sip``) and ``voicebot serve``
make this dialer and hand it to the worker.
"""

from __future__ import annotations

from typing import Any

from outbound.runner import CallRequest, DialOutcome
from outbound.script import Conversation
from voicebot.call.conversation import ConversationSession


class SipDialer:
    """Places each call on a started ``voicebot.sip`` endpoint (``SipEndpoint``) and runs the script live
    with ``voicebot.call.conversation.ConversationSession``: answers by keypad or speech, 9 repeats, 0 or
    emergency words transfer the call to the endpoint's agent URI with a handoff record.

    The result's ``conversation`` is :meth:`Conversation.result` plus ``call`` (how the call ended, the
    transfer and its handoff id); a callee who hangs up mid-script leaves the outcome ``caller_hangup``.
    ``latency_ms`` has per answer the milliseconds from the end of the callee's speech (or the key) to
    the reply being ready: endpointing, STT, script and TTS.
    """

    simulated = False

    def __init__(
        self,
        endpoint: Any,
        uri_template: str,
        synthesizer: Any,
        transcriber: Any = None,
        *,
        no_input_s: float = 8.0,
        max_call_s: float = 900.0,
    ):
        self.endpoint = endpoint
        self.uri_template = uri_template  # e.g. "sip:{phone}@gateway.example:5060"
        self.synthesizer = synthesizer
        self.transcriber = transcriber
        self.no_input_s = no_input_s
        self.max_call_s = max_call_s  # waiting for the call's outcome and its end, ringing included

    def dial(self, request: CallRequest) -> DialOutcome:
        conv = Conversation(request.script, request.slots)
        sessions: list[ConversationSession] = []

        def session_for(call_id: str) -> ConversationSession:  # on PJSIP's thread, once media is up
            session = ConversationSession(
                conv, self.synthesizer, self.transcriber, no_input_s=self.no_input_s, call_id=call_id
            )
            sessions.append(session)
            return session

        state = self.endpoint.place_call(self.uri_template.format(phone=request.phone_e164), session_for)
        outcome, status = state.outcome.result(self.max_call_s)
        record = state.finished.result(self.max_call_s)
        outcome = {"rejected": "failed"}.get(outcome, outcome)
        duration_s = round(record.duration_s, 2)
        if outcome != "answered":
            return DialOutcome(outcome, status, duration_s, error=record.error)
        if not sessions:
            return DialOutcome("failed", status, duration_s, error=record.error or "answered without audio")
        conversation = conv.result()
        if not conv.ended:
            conversation["outcome"] = "caller_hangup"
        conversation["call"] = {
            "ended_reason": record.ended_reason,
            "hangup_by": record.hangup_by,
            "transfer": record.transfer,
            "handoff_id": record.handoff_id,
            "callback_requested": record.callback_requested,
        }
        answers = [{"step": t.step, "via": t.via, **t.latency_ms} for t in sessions[0].turns if t.latency_ms]
        return DialOutcome(
            "answered",
            status,
            duration_s,
            conversation=conversation,
            transcript="\n".join(conv.heard) or None,
            keypad=conv.keypad or None,
            error=record.error,
            recording_path=record.recording,
            latency_ms={"answers": answers, "max_total": max((a["total"] for a in answers), default=None)},
        )
