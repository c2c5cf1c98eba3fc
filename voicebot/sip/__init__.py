"""Telephony: a SIP user agent on PJSIP's Python binding (``pjsua2-python``, PJSIP 2.15.1).

Public interface
----------------
``SipConfig`` / ``RegistrarConfig`` (``config``)
    Listen address and port, public address, codec order (default G722, PCMU, PCMA), agent URI for transfers,
    optional registrar with digest authentication, ring timeout, recording and handoff directories.
``SipEndpoint(config, handler_factory, synthesizer=None, on_call_end=None)`` (``endpoint``)
    Starts PJSIP (null audio device, ``threadCnt=0``, ``mainThreadOnly=True``) with its event loop in one
    dedicated thread; use as a context manager or ``start()``/``stop()``. Inbound calls get 180 Ringing at
    once and 200 OK after ``answer_delay_s``; each call's handler comes from
    ``handler_factory(call_id, caller_number)`` (``voicebot.call.HandlerFactory``; the number only when the
    From header carries a Korean mobile number, for texting answers).
    ``place_call(uri, factory)`` dials out. Finished calls are reported as ``voicebot.call.CallRecord``s.
``originate(endpoint, uri, handler_factory)`` (``commands``)
    One outbound call; returns its ``CallRecord`` (``outcome`` answered | busy | no_answer | rejected |
    failed, the final ``sip_status``, ``setup_ms``, ``duration_s`` and the script's ``turns``).
``SipTransport`` (``transport``)
    A SIP call as a ``voicebot.call`` transport (hang-up, REFER, RFC 4733 digits, marshalled to PJSIP).
``SipDialer`` (``dialer``)
    The outbound campaigns' dialer over a started endpoint.

How a call flows
----------------
PJSIP's media clock calls an ``AudioMediaPort`` subclass every 20 ms (16-bit, at the negotiated codec's
rate: 16 kHz for G.722, 8 kHz for G.711; PJSIP codes both). Caller frames go to the call's
``voicebot.call.CallDriver``, which runs the handler (the ARS ``CallSession`` or an outbound script) in its
own thread, exactly as for a browser call, and queues the bot's frames at that rate for the port to take
without blocking. RFC 4733 digits in go to the driver; digits out
(``voicebot dial --send-dtmf``, to reach an extension behind a PBX) go by ``SipTransport.send_dtmf``
(telephone-events, payload type 120 in PJSIP's offer). A transfer is a blind REFER to the agent URI
carrying the handoff id as ``X-Handoff-Id``.

Nothing here is imported at package import time that needs ``pjsua2``; the binding is loaded when an
endpoint starts. Log lines carry masked URIs only (``privacy.mask_uri``).
"""

from __future__ import annotations

from voicebot.sip.config import RegistrarConfig, SipConfig

__all__ = ["RegistrarConfig", "SipConfig", "SipDialer", "SipEndpoint", "SipTransport", "originate"]


def __getattr__(name: str):
    if name == "SipEndpoint":
        from voicebot.sip.endpoint import SipEndpoint

        return SipEndpoint
    if name == "SipTransport":
        from voicebot.sip.transport import SipTransport

        return SipTransport
    if name == "SipDialer":
        from voicebot.sip.dialer import SipDialer

        return SipDialer
    if name == "originate":
        from voicebot.sip.commands import originate

        return originate
    raise AttributeError(name)
