"""Telephony: a SIP user agent on PJSIP's Python binding (``pjsua2-python``, PJSIP 2.15.1).

Public interface
----------------
``SipConfig`` / ``RegistrarConfig`` (``config``)
    Listen address and port, public address, codec order (PCMU, PCMA), agent URI for transfers,
    optional registrar with digest authentication, ring timeout, recording and handoff directories.
``SipEndpoint(config, handler_factory, synthesizer=None, on_call_end=None)`` (``endpoint``)
    Starts PJSIP (null audio device, ``threadCnt=0``, ``mainThreadOnly=True``) with its event loop in one
    dedicated thread; use as a context manager or ``start()``/``stop()``. Inbound calls get 180 Ringing at
    once and 200 OK after ``answer_delay_s``; each call's handler comes from ``handler_factory(call_id)``.
    ``place_call(uri, factory)`` dials out. Finished calls are reported as ``CallReport`` objects.
``originate(endpoint, uri, handler_factory)`` (``commands``)
    One outbound call; returns ``DialResult`` with ``outcome`` answered | busy | no_answer | rejected |
    failed, the final ``sip_status``, ``duration_s`` and the script's ``turns``.
``ScriptSession`` / ``SCRIPTS`` (``script``)
    A small scripted outbound conversation: prompts by TTS, answers by keypad or speech.
``HandoffRegistry`` / ``file_handoff`` (``handoff``)
    Handoff records keyed by the id sent to the agent as ``X-Handoff-Id``; ``file_handoff`` stores the
    record of any call handed to an agent (SIP or browser) with a summary for operators.

How a call flows
----------------
PJSIP's media clock calls an ``AudioMediaPort`` subclass every 20 ms (8 kHz, 16-bit; G.711 is coded by
PJSIP). Caller frames go into the call's ``CallWorker`` queue; the worker thread resamples them to
16 kHz ``AudioFrame``s (stream time = frame index x 20 ms), drives the ``CallSession`` and queues the
bot's audio, resampled to 8 kHz, for the port to take without blocking (silence when empty; surplus
queued silence is dropped, so latency cannot build up). RFC 4733 digits go to ``on_dtmf``; a remote
hang-up to ``hangup``. Digits go the other way by ``CallControls.send_dtmf`` (RFC 4733 telephone-events,
payload type 120 in PJSIP's offer): a script step with ``send_dtmf`` (``voicebot dial --send-dtmf``)
reaches an extension behind a PBX or IVR before the bot speaks. When the session ends with "goodbye" the bot hangs up after its last audio has
played; with "transfer" it sends a blind REFER to the agent URI carrying the handoff id, and if that
fails it tells the caller in Korean and offers a call-back (key 1). An exception in one call's worker
hangs up that call only.

Nothing here is imported at package import time that needs ``pjsua2``; the binding is loaded when an
endpoint starts. Log lines carry masked URIs only (``privacy.mask_uri``).
"""

from __future__ import annotations

from voicebot.sip.config import RegistrarConfig, SipConfig

__all__ = [
    "CallReport",
    "DialResult",
    "HandoffRegistry",
    "RegistrarConfig",
    "SCRIPTS",
    "ScriptSession",
    "SipConfig",
    "SipEndpoint",
    "originate",
]


def __getattr__(name: str):
    if name == "SipEndpoint":
        from voicebot.sip.endpoint import SipEndpoint

        return SipEndpoint
    if name == "CallReport":
        from voicebot.sip.worker import CallReport

        return CallReport
    if name in ("DialResult", "originate"):
        from voicebot.sip import commands

        return getattr(commands, name)
    if name in ("SCRIPTS", "ScriptSession"):
        from voicebot.sip import script

        return getattr(script, name)
    if name == "HandoffRegistry":
        from voicebot.sip.handoff import HandoffRegistry

        return HandoffRegistry
    raise AttributeError(name)
