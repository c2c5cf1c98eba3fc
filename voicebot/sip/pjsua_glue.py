"""PJSIP's Python classes subclassed for the endpoint: call and account callbacks, log forwarding.

Every callback only forwards to ``SipEndpoint`` (through the ``SipCallbacks`` protocol) (which runs them on PJSIP's event-loop thread, thanks
to ``mainThreadOnly``) and never lets an exception unwind into PJSIP.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Protocol

log = logging.getLogger("voicebot.sip.endpoint")


@contextlib.contextmanager
def quiet_stdout():
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.close(devnull)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def refer_target(target: str, headers: dict[str, str]) -> str:
    """``sip:agent@host`` + {"X-Handoff-Id": "abc"} -> ``<sip:agent@host?X-Handoff-Id=abc>``: the
    transferee copies URI headers into its INVITE, so the agent's side receives the id too."""
    uri = target.strip().strip("<>")
    if headers:
        uri += ("&" if "?" in uri else "?") + "&".join(f"{k}={v}" for k, v in headers.items())
    return f"<{uri}>"


class SipCallbacks(Protocol):
    """What PJSIP's callbacks are forwarded to (``SipEndpoint``); the call objects carry ``state``."""

    def on_incoming(self, call_id: int) -> None: ...
    def on_reg_state(self, code: int, reason: str) -> None: ...
    def on_call_state(self, call) -> None: ...
    def on_media_state(self, call) -> None: ...
    def on_dtmf(self, call, digit: str) -> None: ...
    def on_transfer_status(self, call, status: int, final: bool) -> bool: ...


def make_log_writer(pj):
    pjsip_log = logging.getLogger("voicebot.sip.pjsip")

    class LogWriter(pj.LogWriter):
        def write(self, entry) -> None:
            pjsip_log.info("%s", entry.msg.rstrip())

    return LogWriter()


def make_account(pj, endpoint: SipCallbacks):
    class Account(pj.Account):
        def onIncomingCall(self, prm) -> None:
            try:
                endpoint.on_incoming(prm.callId)
            except Exception:
                log.exception("incoming call could not be handled")

        def onRegState(self, prm) -> None:
            endpoint.on_reg_state(int(prm.code), str(prm.reason))

    return Account()


_CALL_CLASSES: dict[int, type] = {}


def make_call_class(pj, endpoint: SipCallbacks) -> type:
    cached = _CALL_CLASSES.get(id(endpoint))
    if cached is not None:
        return cached

    class SipCall(pj.Call):
        state: object | None = None  # the endpoint's CallState

        def onCallState(self, prm) -> None:
            try:
                endpoint.on_call_state(self)
            except Exception:
                log.exception("call state handling failed")

        def onCallMediaState(self, prm) -> None:
            try:
                endpoint.on_media_state(self)
            except Exception:
                log.exception("media state handling failed")

        def onDtmfDigit(self, prm) -> None:
            try:
                endpoint.on_dtmf(self, prm.digit)
            except Exception:
                log.exception("DTMF handling failed")

        def onCallTransferStatus(self, prm) -> None:
            try:
                prm.cont = endpoint.on_transfer_status(self, int(prm.statusCode), bool(prm.finalNotify))
            except Exception:
                log.exception("transfer status handling failed")

    _CALL_CLASSES[id(endpoint)] = SipCall
    return SipCall
