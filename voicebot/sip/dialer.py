"""The outbound dialer over SIP: ``outbound`` campaigns call people through a started ``SipEndpoint``.

``outbound`` never imports ``voicebot``; the CLI (``campaign run --dialer sip``) and ``voicebot serve``
make this dialer and hand it to the worker.
"""

from __future__ import annotations

from typing import Any

from outbound.runner import CallRequest, DialOutcome
from voicebot.call.amd import MachinePolicy
from voicebot.call.conversation import ConversationSession

# Of the statuses the endpoint calls "rejected", those that are the callee (or the network on its
# behalf) declining the call; 488/606 (no common codec) are our failure.
DECLINED = {403, 603}


class SipDialer:
    """Places each call on a started ``voicebot.sip`` endpoint (``SipEndpoint``) and runs the script live
    with ``voicebot.call.conversation.ConversationSession``: answers by keypad or speech, 9 repeats, 0 or
    emergency words transfer the call to the endpoint's agent URI with a handoff record.

    Who answered is detected first (``voicebot.call.amd``, the script's ``answering_machine`` policy;
    ``detect: false`` turns it off) and the result is a typed outcome: ``human`` (a person: the detector
    heard one, or a key or an answer came), ``answered`` (the script ran but nobody ever replied and the
    detector could not tell: a silent line), ``voicemail`` / ``carrier_message`` / ``screened`` (a
    machine: no script, no answers, so no welfare alert), ``hung_up_early`` (hung up before anyone could
    tell), or ``busy`` / ``no_answer`` / ``rejected`` / ``failed`` from the SIP status, which is kept.
    ``amd`` holds how the detector decided (and ``message_left`` for a voicemail message).

    For a person the result's ``conversation`` is :meth:`Conversation.result` plus ``call`` (how the call
    ended, the transfer and its handoff id); a callee who hangs up mid-script leaves the outcome
    ``caller_hangup``. ``latency_ms`` has per answer the milliseconds from the end of the callee's speech
    (or the key) to the reply being ready: endpointing, STT, script and TTS.
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
        conv = request.conversation()
        policy = MachinePolicy.from_dict(getattr(request.script, "answering_machine", None))
        sessions: list[ConversationSession] = []

        def session_for(call_id: str, caller_number: str | None = None) -> ConversationSession:
            # on PJSIP's thread, once media is up; an outbound call has no caller to text
            session = ConversationSession(
                conv,
                self.synthesizer,
                self.transcriber,
                no_input_s=self.no_input_s,
                call_id=call_id,
                machines=policy,
            )
            sessions.append(session)
            return session

        state = self.endpoint.place_call(self.uri_template.format(phone=request.phone_e164), session_for)
        outcome, status = state.outcome.result(self.max_call_s)
        record = state.finished.result(self.max_call_s)
        duration_s = round(record.duration_s, 2)
        if outcome == "rejected" and status not in DECLINED:
            outcome = "failed"
        if outcome != "answered":
            return DialOutcome(outcome, status, duration_s, error=record.error)
        if not sessions:
            return DialOutcome("failed", status, duration_s, error=record.error or "answered without audio")
        if record.ended_reason == "shutdown" and not conv.ended:
            # Cut by our side stopping (voicebot serve shutting down), not by the person: called again later.
            return DialOutcome(
                "failed", status, duration_s, error="call cut by the server stopping; called again later"
            )
        session = sessions[0]
        detection = session.detection
        amd = None
        if detection is not None:
            amd = {**detection.as_dict(), "message_left": session.message_left}
        call = {
            "ended_reason": record.ended_reason,
            "hangup_by": record.hangup_by,
            "transfer": record.transfer,
            "handoff_id": record.handoff_id,
            "callback_requested": record.callback_requested,
        }
        if session.machines is not None and detection is None:  # gone before anyone could tell who
            typed = "failed" if record.error else "hung_up_early"
            return DialOutcome(typed, status, duration_s, error=record.error, amd={"call": call})
        if detection is not None and detection.machine:
            return DialOutcome(
                detection.outcome,
                status,
                duration_s,
                error=record.error,
                recording_path=record.recording,
                amd={**(amd or {}), "call": call},
            )
        replied = bool(conv.heard or conv.keypad)
        person = detection is not None and detection.outcome == "human"
        conversation = conv.result()
        if not conv.ended:
            conversation["outcome"] = "caller_hangup"
        conversation["call"] = call
        answers = [{"step": t.step, "via": t.via, **t.latency_ms} for t in session.turns if t.latency_ms]
        return DialOutcome(
            "human" if person or replied else "answered",
            status,
            duration_s,
            conversation=conversation,
            transcript="\n".join(conv.heard) or None,
            keypad=conv.keypad or None,
            error=record.error,
            recording_path=record.recording,
            latency_ms={"answers": answers, "max_total": max((a["total"] for a in answers), default=None)},
            amd=amd,
        )
