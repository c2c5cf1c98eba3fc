"""The two interfaces of a call: what a transport offers the driver, and what a call handler is.

A transport (SIP, WebRTC, a file) pushes caller audio, keypad digits and the end of the call into a
``CallDriver`` and plays the bot frames it takes from ``CallDriver.outgoing``; the driver asks it only for
what is below. A handler (the ARS ``CallSession``, an outbound ``ConversationSession``, a ``voicebot dial``
script) turns caller frames into bot frames and says when the call is over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from media.audio import AudioFrame


class Transport(Protocol):
    """One call's line, as the driver sees it. Every method returns at once (work is queued)."""

    name: str  # sip | webrtc | file: kept in records and handoffs
    wire_rate: int  # rate of the bot frames the transport takes from ``CallDriver.outgoing``
    can_transfer: bool  # False: a transfer is offered as a call-back instead

    def hangup(self) -> None: ...

    def transfer(self, target: str, headers: dict[str, str]) -> None:
        """Blind transfer; the outcome comes back by ``CallDriver.transfer_result(status)``."""

    def send_dtmf(self, digits: str) -> None: ...

    def publish(self, message: dict) -> None:
        """Progress for the caller's screen (state, transcript lines, the end of the call); a phone
        line has no screen and ignores it."""


class Turn(Protocol):
    def as_dict(self) -> dict: ...


class Event(Protocol):
    kind: str  # speech_start | utterance | bot_reply | barge_in | ...


class CallHandler(Protocol):
    """What a call runs. Not thread-safe: the driver's thread alone calls it, in stream-time order."""

    ended_reason: str | None
    turns: Sequence[Turn]
    events: Sequence[Event]

    @property
    def ended(self) -> bool: ...  # over, and the closing words have been played

    @property
    def handoff(self) -> dict | None: ...  # the record for the agent when the call is handed over

    @property
    def bot_speaking(self) -> bool: ...  # bot audio is still queued

    def start(self, now_s: float = 0.0, recording_notice: str | None = None) -> None:
        """Begin the call. ``recording_notice``: the call is being recorded; say this once, with the
        first prompt a person hears (None: not recorded, or the notice is turned off)."""

    def on_caller_frame(self, frame: AudioFrame) -> np.ndarray: ...  # the bot's samples for the same tick
    def on_dtmf(self, digit: str, now_s: float) -> None: ...
    def hangup(self, now_s: float) -> None: ...  # the remote side hung up
    def take_dtmf(self) -> str: ...  # keypad digits the handler wants sent now; "" for none


class HandlerFactory(Protocol):
    def __call__(self, call_id: str, caller_number: str | None = None) -> CallHandler:
        """A fresh handler for one call; ``caller_number``: the caller's mobile number on an inbound call
        whose From carries one (the session may offer to text an answer), else None."""
        ...
