"""A SIP call as a ``voicebot.call`` transport: the driver's requests, marshalled to PJSIP's loop thread.

Caller audio comes from the call's conference-bridge port (``media.make_bridge_port``, at the negotiated
codec's rate: 16 kHz for G.722, 8 kHz for G.711) straight into
``CallDriver.caller_audio``; the port plays ``CallDriver.outgoing``. Everything the driver asks for here
only submits a job to the endpoint's loop and returns.
"""

from __future__ import annotations

from typing import Protocol

from voicebot.call.keypad import check_dtmf
from voicebot.sip.media import TELEPHONY_RATE


class SipCalls(Protocol):
    """What ``SipEndpoint`` offers for one of its calls, by key (each runs on PJSIP's thread)."""

    def hangup_call(self, key: str) -> None: ...
    def transfer_call(self, key: str, target: str, headers: dict[str, str]) -> None: ...
    def send_dtmf(self, key: str, digits: str) -> object: ...


class SipTransport:
    name = "sip"
    can_transfer = True

    def __init__(self, calls: SipCalls, key: str, wire_rate: int = TELEPHONY_RATE):
        self.calls, self.key = calls, key
        self.wire_rate = wire_rate  # the negotiated codec's audio rate

    def hangup(self) -> None:
        self.calls.hangup_call(self.key)

    def transfer(self, target: str, headers: dict[str, str]) -> None:
        self.calls.transfer_call(self.key, target, headers)

    def send_dtmf(self, digits: str) -> None:
        self.calls.send_dtmf(self.key, check_dtmf(digits))

    def publish(self, message: dict) -> None:
        """A phone line has no screen."""
