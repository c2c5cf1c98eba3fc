"""The two interfaces of a call: what a transport offers the driver, and what a call handler is.

A transport (SIP, WebRTC, a file) pushes caller audio, keypad digits and the end of the call into a
``CallDriver`` and plays the bot frames it takes from ``CallDriver.outgoing``; the driver asks it only for
what is below. A handler (the ARS ``CallSession``, an outbound ``ConversationSession``, a ``voicebot dial``
script) turns caller frames into bot frames and says when the call is over. An ``AgentQueue`` (handed in
by the server) tells the driver how long a caller would wait for an agent and books call-backs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True)
class WaitEstimate:
    """How long a caller handed over now would wait for an agent."""

    wait_s: float | None  # None: no agent can take the call now (outside business hours, nobody on duty)
    congested: bool  # the caller is told the wait and offered a call-back or a text instead
    hours_text: str = ""  # outside business hours: the hours as said ("평일 오전 9시부터 오후 6시까지")


@dataclass(frozen=True)
class CallbackSlot:
    start: datetime
    end: datetime
    label: str  # as the bot says it: "오늘 오후 3시부터 4시 사이"


class AgentQueue(Protocol):
    """The agents' desk as the driver sees it (``voicebot serve``: capacity from its config and the
    console, call-backs in the database). Called from the call's driver thread."""

    def estimate(self, channel: str) -> WaitEstimate: ...

    def callback_slots(self, count: int) -> list[CallbackSlot]:
        """The next free call-back slots inside business hours (possibly none)."""
        ...

    def book_callback(
        self, number: str, slot: CallbackSlot, *, channel: str, handoff_id: str | None, handoff: dict | None
    ) -> int:
        """Book a call-back to ``number`` (personal data) in ``slot`` with the handoff's context; its id."""
        ...
