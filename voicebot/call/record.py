"""``CallRecord``: how one call went, the same type for every transport and direction."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CallRecord:
    """One call, filled in by the transport (set-up) and the call driver (everything after answer).

    ``remote`` is masked; ``turns`` and ``handoff`` hold what the caller said, which is personal data:
    they go to operators and the caller's own page, never to logs.
    """

    call_id: str
    transport: str  # sip | webrtc | file
    direction: str = "inbound"  # inbound | outbound
    remote: str | None = None
    outcome: str = "answered"  # outbound: answered | busy | no_answer | rejected | failed
    sip_status: int | None = None
    codec: str | None = None
    setup_ms: float | None = (
        None  # SIP: INVITE -> 200 OK sent (inbound); -> answer or final failure (outbound)
    )
    duration_s: float = 0.0  # stream time: caller frames x 20 ms
    ended_reason: str | None = (
        None  # goodbye | transfer | caller_hangup | timeout | media_timeout | error ...
    )
    hangup_by: str | None = None  # bot | remote
    turns: list[dict] = field(default_factory=list)
    bot_speech_s: float = 0.0  # bot frames with sound handed to the transport
    handoff: dict | None = None  # the record for the agent when the call was handed over
    handoff_id: str | None = None  # where that record is kept (``file_handoff``)
    transfer: str | None = None  # ok | failed:<status> | not_configured | unavailable | caller_hangup
    callback_requested: bool | None = None  # after a failed transfer: the caller pressed 1
    # A congested desk (issue 18): {"wait_s", "offered", "choice": wait | callback | sms | none | hangup,
    # and for a booking "callback_id", "slot_start"}; no number, no words.
    congestion: dict | None = None
    recording: str | None = None
    recording_error: str | None = None  # why the recording could not be written (error type, no path)
    error: str | None = None

    def as_dict(self) -> dict:
        data = dict(self.__dict__)
        data["duration_s"] = round(self.duration_s, 2)
        data["bot_speech_s"] = round(self.bot_speech_s, 2)
        if self.setup_ms is not None:
            data["setup_ms"] = round(self.setup_ms, 1)
        return data
