"""One call, the same on every transport: the driver, the handlers it runs, and what a call leaves behind.

Public interface
----------------
``CallDriver(record, handler, transport, DriverConfig(...), synthesizer=, handoffs=, on_done=)`` (``driver``)
    Runs one call: the inbox of caller audio, keypad digits and hang-ups, the call clock, resampling to
    and from the wire rate, play-out, the no-media timeout, transfer with its fallback (an apology and a
    call-back offer on key 1), the handoff record, the recording and the finished ``CallRecord``.
    ``start()`` runs it in its own thread (SIP, WebRTC), ``run()`` in the caller's (the file simulator).
``Transport`` / ``CallHandler`` / ``HandlerFactory`` (``protocols``)
    What a transport offers the driver (hang up, transfer, send digits, publish progress; its wire rate),
    what a call handler is (caller frame in, bot frame out, keys, hang-up, ``ended``), and how a transport
    gets one per call (``factory(call_id, caller_number)``; the number only where the caller's mobile is
    known, for texting answers).
``AgentQueue`` / ``WaitEstimate`` / ``CallbackSlot`` (``protocols``)
    The agents' desk as the driver sees it (issue 18): the expected wait before a transfer and call-back
    booking; over the desk's threshold the caller chooses 1 wait, 2 a call-back slot, 3 the chat link by text.
``CallRecord`` (``record``)
    How one call went, for every transport and direction.
``CallSession`` / ``CallConfig`` (``session``)
    The inbound ARS handler: VAD/endpointing -> STT -> dialog -> TTS, with barge-in and keypad.
``ConversationSession`` (``conversation``) and ``ScriptSession`` (``dial_script``)
    Outbound handlers: a campaign's conversation, and the fixed prompts of ``voicebot dial``.
``AnsweringMachineDetector`` / ``AmdConfig`` / ``MachinePolicy`` (``amd``)
    Who answered an outbound call (a person, a voicemail, a carrier announcement, a call screening), from
    the first seconds after answer: timing, the recognised Korean words and the beep; a campaign's
    ``ConversationSession`` stays silent until it is decided and then follows the campaign's policy.
``HandoffRegistry`` / ``file_handoff`` (``handoff``)
    The records an agent picks a handed-over call up from, kept for every transport.
``check_dtmf`` / ``DTMF_KEYS`` (``keypad``)
    The keys, the same on every transport: 0-9 * # A-D.

Layers: media <- stt / tts / dialog <- call <- sip / webrtc / simulate <- server / cli. Nothing here
imports a transport.
"""

from voicebot.call.driver import CallDriver, DriverConfig
from voicebot.call.handoff import HandoffRegistry, file_handoff
from voicebot.call.keypad import DTMF_KEYS, check_dtmf
from voicebot.call.protocols import (
    AgentQueue,
    CallbackSlot,
    CallHandler,
    HandlerFactory,
    Transport,
    WaitEstimate,
)
from voicebot.call.record import CallRecord

__all__ = [
    "DTMF_KEYS",
    "AgentQueue",
    "CallbackSlot",
    "WaitEstimate",
    "CallDriver",
    "CallHandler",
    "CallRecord",
    "DriverConfig",
    "HandlerFactory",
    "HandoffRegistry",
    "Transport",
    "check_dtmf",
    "file_handoff",
]
