"""A browser call as a ``voicebot.call`` transport: progress goes to the page, the line cannot transfer.

The page's data channel carries what the driver publishes (call state, transcript lines, the end of the
call); the peer closes the connection once the "ended" message has left, so hanging up is that message.
A browser call cannot be handed to a phone agent directly: the driver offers a call-back instead, the way
it does when a SIP transfer fails.
"""

from __future__ import annotations

from collections.abc import Callable

WEBRTC_RATE = 48_000


class WebRTCTransport:
    name = "webrtc"
    wire_rate = WEBRTC_RATE
    can_transfer = False

    def __init__(self, publish: Callable[[dict], None]):
        self._publish = publish  # thread-safe: hands the message to the event loop

    def hangup(self) -> None:
        """Nothing to send: the driver's closing "ended" message makes the peer close the call."""

    def transfer(self, target: str, headers: dict[str, str]) -> None:
        raise RuntimeError("a browser call cannot be transferred (can_transfer is False)")

    def send_dtmf(self, digits: str) -> None:
        self._publish({"type": "dtmf", "digits": digits})

    def publish(self, message: dict) -> None:
        self._publish(message)
