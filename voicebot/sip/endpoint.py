"""PJSIP's endpoint, account and calls, all driven from one dedicated event-loop thread.

PJSIP runs with the null audio device, ``threadCnt=0`` and ``mainThreadOnly=True``: SIP callbacks run in
the thread that polls ``libHandleEvents()``, and every other thread talks to PJSIP only by submitting a
job to that loop (``SipEndpoint.submit``). The media clock thread only moves frames (``media.py``).
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from media.audio import pcm16_to_float
from stt import Transcriber
from voicebot.call.driver import CallDriver, DriverConfig
from voicebot.call.handoff import HandoffRegistry
from voicebot.call.keypad import check_dtmf
from voicebot.call.protocols import AgentQueue, HandlerFactory
from voicebot.call.record import CallRecord
from voicebot.call.sms import SmsError, SmsSender, mobile_number, normalize_number
from voicebot.sip.config import SipConfig
from voicebot.sip.media import TELEPHONY_RATE, codec_rate, make_bridge_port
from voicebot.sip.pjsua_glue import make_account, make_call_class, make_log_writer, quiet_stdout, refer_target
from voicebot.sip.privacy import mask_uri, uri_user
from voicebot.sip.transport import SipTransport

log = logging.getLogger(__name__)


BUSY_CODES = {486, 600}
NO_ANSWER_CODES = {408, 480, 487}
REJECTED_CODES = {403, 488, 603, 606}


def classify(status: int, answered: bool, ring_timed_out: bool) -> str:
    """Outbound outcome from the final SIP status."""
    if answered:
        return "answered"
    if ring_timed_out or status in NO_ANSWER_CODES:
        return "no_answer"
    if status in BUSY_CODES:
        return "busy"
    if status in REJECTED_CODES:
        return "rejected"
    return "failed"


@dataclass
class CallState:
    """Everything the loop thread keeps for one call (PJSIP objects are touched only by that thread)."""

    key: str
    direction: str
    call: object  # pjsua2.Call subclass
    record: CallRecord
    handler_factory: HandlerFactory | None
    caller_number: str | None = None  # inbound, from the From header: personal data, never logged
    callback_number: str | None = None  # inbound: any phone number in From (landlines too), for call-backs
    created: float = field(default_factory=time.monotonic)
    port: object | None = None
    driver: CallDriver | None = None
    media_connected: bool = False
    answered: bool = False
    ring_timed_out: bool = False
    disconnected_at: float | None = None
    answer_due: float | None = None
    media_index: int | None = None
    rx_packets: int = -1
    rx_changed_at: float = field(default_factory=time.monotonic)
    outcome: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)
    finished: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)


def _phone(user: str | None, direction: str) -> str | None:
    """The caller's number for a call-back (inbound only), or None when From carries none."""
    if direction != "inbound":
        return None
    try:
        return normalize_number(user or "")
    except SmsError:
        return None


class SipEndpoint:
    """A SIP user agent serving calls with a handler per call.

    ``handler_factory`` builds the handler of each inbound call; ``place_call`` takes its own. Each
    answered call is run by a ``voicebot.call.CallDriver`` over a ``SipTransport``; finished calls are
    reported to ``on_call_end`` as ``CallRecord``s (from the call's driver thread).
    """

    def __init__(
        self,
        config: SipConfig,
        handler_factory: HandlerFactory | None = None,
        synthesizer=None,
        on_call_end: Callable[[CallRecord], None] | None = None,
        handoffs: HandoffRegistry | None = None,
        agents: AgentQueue | None = None,
        sms: SmsSender | None = None,
        listener: Transcriber | None = None,
    ):
        self.config = config
        self.agents = agents  # congestion notice and call-back booking for inbound calls (issue 18)
        self.sms = sms
        self.listener = listener  # a transcriber: spoken answers to the congestion and slot questions
        self.handler_factory = handler_factory
        self.synthesizer = synthesizer
        self.on_call_end = on_call_end
        self.handoffs = handoffs if handoffs is not None else HandoffRegistry(config.handoff_dir)
        self._jobs: queue.Queue = queue.Queue()
        self._calls: dict[str, CallState] = {}
        self._graveyard: list[CallState] = []
        self._ids = itertools.count(1)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._reg_done = threading.Event()
        self.registration_status: int | None = None  # last REGISTER result (200 = registered)
        self._thread: threading.Thread | None = None
        self._ep = None
        self._account = None
        self.pj = None
        self.local_address: str | None = None  # host:port actually bound

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> SipEndpoint:
        self._thread = threading.Thread(target=self._loop, name="pjsip-loop", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise RuntimeError("PJSIP did not start in time")
        if self._error is not None:
            raise RuntimeError(f"PJSIP failed to start: {self._error}") from self._error
        if self.config.registrar is not None and not self._reg_done.wait(timeout_s):
            log.warning(
                "registrar did not answer within %.0f s; registration goes on in the background", timeout_s
            )
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def __enter__(self) -> SipEndpoint:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def active_calls(self) -> int:
        return sum(1 for s in list(self._calls.values()) if s.disconnected_at is None)

    def submit(self, fn: Callable[[], object]) -> concurrent.futures.Future:
        """Run ``fn`` on PJSIP's thread; the future holds its result or exception."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((fn, future))
        return future

    # -- calls, from any thread ------------------------------------------------------------------

    def place_call(self, uri: str, handler_factory: HandlerFactory) -> CallState:
        """Dial ``uri``; ``state.outcome`` resolves to (outcome, status), ``state.finished`` to the record."""
        return self.submit(lambda: self._make_call(uri, handler_factory)).result(10)

    def hangup_call(self, key: str) -> None:
        self.submit(lambda: self._hangup(key))

    def transfer_call(self, key: str, target: str, headers: dict[str, str]) -> None:
        self.submit(lambda: self._transfer(key, target, headers))

    def send_dtmf(self, key: str, digits: str) -> concurrent.futures.Future:
        """Send keypad digits to the far end as RFC 4733 telephone-events (PJSIP offers them as payload
        type 120). A bad digit raises ValueError here; the future resolves to whether PJSIP queued them
        (False when the call is gone or the far end did not accept telephone-event)."""
        digits = check_dtmf(digits)
        return self.submit(lambda: self._send_dtmf(key, digits))

    # -- the loop thread --------------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            self._init_pjsip()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            self._destroy()
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                try:
                    self._ep.libHandleEvents(10)
                    self._run_jobs()
                    self._tick()
                except Exception:  # the loop serves every call: log and go on
                    log.exception("PJSIP event loop error")
                    time.sleep(0.01)
        finally:
            self._shutdown()

    def _init_pjsip(self) -> None:
        import pjsua2 as pj

        self.pj = pj
        cfg = self.config
        ep = pj.Endpoint()
        self._ep = ep
        with quiet_stdout():  # libCreate logs before any log level can be set
            ep.libCreate()
        ep_cfg = pj.EpConfig()
        ep_cfg.uaConfig.threadCnt = 0
        ep_cfg.uaConfig.mainThreadOnly = True
        ep_cfg.uaConfig.maxCalls = max(1, cfg.max_calls)
        ep_cfg.uaConfig.userAgent = cfg.user_agent
        ep_cfg.logConfig.level = cfg.pjsip_log_level
        ep_cfg.logConfig.consoleLevel = cfg.pjsip_log_level
        # PJSIP logs go to logging (stderr), never stdout; libDestroy() deletes the writer, so C++ owns it
        self._log_writer = make_log_writer(pj)
        self._log_writer.__disown__()
        ep_cfg.logConfig.writer = self._log_writer
        ep_cfg.logConfig.decor = 0
        ep_cfg.medConfig.clockRate = cfg.bridge_rate  # G.722 calls stay wideband; G.711 ports run at 8 kHz
        ep_cfg.medConfig.sndClockRate = cfg.bridge_rate
        ep_cfg.medConfig.channelCount = 1
        ep_cfg.medConfig.ecTailLen = 0
        ep_cfg.medConfig.noVad = True
        ep_cfg.medConfig.hasIoqueue = True
        ep.libInit(ep_cfg)
        ep.audDevManager().setNullDev()

        tcfg = pj.TransportConfig()
        tcfg.port = cfg.listen_port
        tcfg.boundAddress = cfg.listen_host
        if cfg.public_address:
            tcfg.publicAddress = cfg.public_address
        self._transport_id = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        ep.libStart()
        self._set_codecs()

        acfg = pj.AccountConfig()
        host = cfg.public_address or cfg.listen_host
        if cfg.registrar:
            reg = cfg.registrar
            registrar_host = reg.uri.split(":", 1)[-1]
            acfg.idUri = reg.id_uri or f"sip:{reg.username}@{registrar_host}"
            acfg.regConfig.registrarUri = reg.uri
            acfg.regConfig.timeoutSec = reg.expires_s
            acfg.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", reg.realm, reg.username, 0, reg.password)
            )
        else:
            acfg.idUri = f"sip:voicebot@{host}:{cfg.listen_port}"
        acfg.mediaConfig.transportConfig.boundAddress = cfg.listen_host
        if cfg.public_address:
            acfg.mediaConfig.transportConfig.publicAddress = cfg.public_address
        self._account = make_account(pj, self)
        self._account.create(acfg, True)
        self.local_address = str(ep.transportGetInfo(self._transport_id).localName)
        log.info("SIP listening on %s (codecs %s)", self.local_address, ",".join(cfg.codecs))

    def _set_codecs(self) -> None:
        """Offer exactly the configured codecs, in their order; each at one rate (G.711 at 8 kHz, G.722 at
        its one entry, Opus at 48 kHz), every other codec the build has disabled (priority 0)."""
        wanted = {c.upper(): 255 - i for i, c in enumerate(self.config.codecs)}
        available = set()
        for info in self._ep.codecEnum2():
            name, rate = (info.codecId.split("/") + ["", ""])[:2]
            one_rate = {"PCMU": "8000", "PCMA": "8000", "OPUS": "48000"}.get(name.upper(), rate)
            priority = wanted.get(name.upper(), 0) if rate == one_rate else 0
            if priority:
                available.add(name.upper())
            self._ep.codecSetPriority(info.codecId, priority)
        missing = [c for c in self.config.codecs if c.upper() not in available]
        if missing:
            log.warning("this PJSIP build lacks codecs %s: not offered", ",".join(missing))

    def _run_jobs(self) -> None:
        while True:
            try:
                fn, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

    def _tick(self) -> None:
        now = time.monotonic()
        for state in list(self._calls.values()):
            if state.disconnected_at is not None:
                continue
            if state.answer_due is not None and now >= state.answer_due:
                state.answer_due = None
                self._answer(state, 200)
            if (
                state.direction == "outbound"
                and not state.answered
                and not state.ring_timed_out
                and now - state.created >= self.config.ring_timeout_s
            ):
                state.ring_timed_out = True
                self._hangup(state.key)  # unanswered: PJSIP sends CANCEL
            if state.media_connected and state.media_index is not None:
                self._check_rtp(state, now)
        # PJSIP objects of ended calls are released once their driver is done and their call slot is
        # free: pjsua2's Call destructor hangs up whatever call now holds its old id, so deleting a Call
        # whose slot PJSIP already reused would end (and orphan) a stranger's call.
        for state in list(self._graveyard):
            if now - (state.disconnected_at or now) < 2.0:
                continue
            if state.driver is not None and not state.driver.done.is_set():
                continue
            if state.call is not None and self._slot_in_use(state.call):
                continue
            self._graveyard.remove(state)
            self._release(state)

    @staticmethod
    def _slot_in_use(call) -> bool:
        try:
            return bool(call.isActive())
        except Exception:
            return True

    def _check_rtp(self, state: CallState, now: float) -> None:
        """Hang up a call whose RTP stopped (peer crashed or network gone) after ``rtp_timeout_s``."""
        if now - state.rx_changed_at < 0.5 and state.rx_packets >= 0:
            return
        try:
            packets = int(state.call.getStreamStat(state.media_index).rtcp.rxStat.pkt)
        except Exception:
            return
        if packets != state.rx_packets:
            state.rx_packets, state.rx_changed_at = packets, now
        elif now - state.rx_changed_at >= self.config.rtp_timeout_s:
            log.info("call %s: no RTP for %.0f s", state.key, now - state.rx_changed_at)
            state.rx_changed_at = now  # once
            if state.driver is not None:
                state.driver.media_lost()  # the driver ends the call as media_timeout
            else:
                self._hangup(state.key)

    def _release(self, state: CallState) -> None:
        """Drop the PJSIP objects of an ended call (the Call <-> CallState cycle is broken here, so the
        destructors run now, on this thread, and not later from the garbage collector)."""
        if state.port is not None:
            state.port.active = False
        if state.call is not None:
            state.call.state = None
        state.port = None
        state.call = None

    def _shutdown(self) -> None:
        try:
            if self._ep is not None and self._calls:
                self._ep.hangupAllCalls()
                deadline = time.monotonic() + 3.0
                while self.active_calls and time.monotonic() < deadline:
                    self._ep.libHandleEvents(10)
                    self._run_jobs()
            drivers = [s.driver for s in list(self._calls.values()) + self._graveyard if s.driver is not None]
            for driver in drivers:
                if not driver.done.is_set():
                    driver.remote_hangup("shutdown")
            deadline = time.monotonic() + 30.0  # a driver may be inside STT
            for driver in drivers:
                driver.done.wait(max(0.0, deadline - time.monotonic()))
        finally:
            self._destroy()

    def _destroy(self) -> None:
        if self._ep is None:
            return
        # Call and port objects go before libDestroy(): their destructors call into PJSUA, which
        # asserts (aborting the process) once the library is gone.
        for state in list(self._calls.values()) + self._graveyard:
            self._release(state)
        self._calls.clear()
        self._graveyard.clear()
        try:
            if self._account is not None:
                self._account.shutdown()
            self._account = None
            self._ep.libDestroy()
        except Exception:
            log.exception("PJSIP shutdown failed")
        self._ep = None

    # -- calls (loop thread) ----------------------------------------------------------------------

    def _new_state(self, direction: str, call, remote: str, factory: HandlerFactory | None) -> CallState:
        key = f"{direction[:2]}{next(self._ids)}"
        record = CallRecord(call_id=key, transport="sip", direction=direction, remote=mask_uri(remote))
        caller = mobile_number(uri_user(remote)) if direction == "inbound" else None
        state = CallState(key, direction, call, record, factory, caller, _phone(uri_user(remote), direction))
        call.state = state
        self._calls[key] = state
        return state

    # -- PJSIP callbacks (loop thread, via mainThreadOnly; see pjsua_glue.SipCallbacks) ----------------

    def on_reg_state(self, code: int, reason: str) -> None:
        self.registration_status = code
        if code // 100 == 2:
            log.info("registered with the registrar (%d)", code)
        else:
            log.warning("registration failed: %d %s", code, reason)
        if code >= 200:
            self._reg_done.set()

    def on_incoming(self, call_id: int) -> None:
        pj = self.pj
        call = make_call_class(pj, self)(self._account, call_id)
        info = call.getInfo()
        state = self._new_state("inbound", call, info.remoteUri, self.handler_factory)
        log.info("call %s: incoming from %s", state.key, mask_uri(info.remoteUri))
        if self.handler_factory is None:
            self._answer(state, 486)
            return
        self._answer(state, 180)
        state.answer_due = time.monotonic() + self.config.answer_delay_s

    def _answer(self, state: CallState, code: int) -> None:
        prm = self.pj.CallOpParam(True)
        prm.statusCode = code
        try:
            state.call.answer(prm)
        except Exception as exc:
            log.warning("call %s: answer %d failed: %s", state.key, code, exc)
            return
        if code == 200:
            state.record.setup_ms = (time.monotonic() - state.created) * 1000

    def _make_call(self, uri: str, factory: HandlerFactory) -> CallState:
        pj = self.pj
        call = make_call_class(pj, self)(self._account)
        state = self._new_state("outbound", call, uri, factory)
        prm = pj.CallOpParam(True)
        try:
            call.makeCall(uri, prm)
        except Exception as exc:
            status = getattr(exc, "status", 0) or 0
            state.record.outcome, state.record.sip_status = "failed", status
            state.record.error = f"makeCall failed: {getattr(exc, 'reason', exc)}"
            state.disconnected_at = time.monotonic()
            self._calls.pop(state.key, None)
            state.outcome.set_result(("failed", status))
            state.finished.set_result(state.record)
            return state
        log.info("call %s: dialling %s", state.key, mask_uri(uri))
        return state

    def _hangup(self, key: str) -> None:
        state = self._calls.get(key)
        if state is None or state.disconnected_at is not None or state.call is None:
            return
        prm = self.pj.CallOpParam(True)
        try:
            state.call.hangup(prm)
        except Exception as exc:
            log.warning("call %s: hang-up failed: %s", key, exc)

    def _transfer(self, key: str, target: str, headers: dict[str, str]) -> None:
        state = self._calls.get(key)
        if state is None or state.disconnected_at is not None:
            return
        pj = self.pj
        prm = pj.CallOpParam(True)
        for name, value in headers.items():
            header = pj.SipHeader()
            header.hName, header.hValue = name, value
            prm.txOption.headers.append(header)
        log.info("call %s: transferring to %s", key, mask_uri(target))
        try:
            state.call.xfer(refer_target(target, headers), prm)
        except Exception as exc:
            log.warning("call %s: REFER failed: %s", key, getattr(exc, "reason", exc))
            if state.driver is not None:
                state.driver.transfer_result(getattr(exc, "status", 500) or 500)

    def _send_dtmf(self, key: str, digits: str) -> bool:
        state = self._calls.get(key)
        if state is None or state.disconnected_at is not None or state.call is None:
            return False
        try:
            state.call.dialDtmf(digits)
        except Exception as exc:  # e.g. PJMEDIA_RTP_EREMNORFC2833: the far end takes no telephone-event
            log.warning(
                "call %s: sending %d keypad digits failed: %s", key, len(digits), getattr(exc, "reason", exc)
            )
            return False
        log.info("call %s: sending %d keypad digits (RFC 4733)", key, len(digits))
        return True

    def on_call_state(self, call) -> None:
        pj = self.pj
        state: CallState | None = call.state
        if state is None:
            return
        info = call.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and not state.answered:
            state.answered = True
            if state.direction == "outbound":
                state.record.setup_ms = (time.monotonic() - state.created) * 1000
            state.record.outcome, state.record.sip_status = "answered", 200
            if not state.outcome.done():
                state.outcome.set_result(("answered", 200))
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED and state.disconnected_at is None:
            state.disconnected_at = time.monotonic()
            status = int(info.lastStatusCode)
            if not state.answered:
                state.record.setup_ms = (time.monotonic() - state.created) * 1000
                outcome = classify(status, False, state.ring_timed_out)
                state.record.outcome, state.record.sip_status = outcome, status
                if not state.outcome.done():
                    state.outcome.set_result((outcome, status))
            log.info("call %s: disconnected (%d)", state.key, status)
            self._calls.pop(state.key, None)
            self._graveyard.append(state)
            if state.port is not None:
                state.port.active = False
            if state.driver is not None:
                # While stopping, every call is hung up by us (hangupAllCalls): not the far end's doing.
                state.driver.remote_hangup("shutdown" if self._stop.is_set() else "caller_hangup")
            else:
                state.record.ended_reason = state.record.ended_reason or (
                    "not_answered" if state.direction == "outbound" else "caller_hangup"
                )
                self._finished(state.record)

    def on_media_state(self, call) -> None:
        pj = self.pj
        state: CallState | None = call.state
        if state is None or state.media_connected or state.disconnected_at is not None:
            return  # fires more than once (e.g. twice on answer, again on re-INVITE): connect once
        info = call.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                state.media_index = index
                rate = TELEPHONY_RATE
                try:
                    stream = call.getStreamInfo(index)
                    state.record.codec = str(stream.codecName)
                    rate = codec_rate(state.record.codec, int(stream.codecClockRate))
                except Exception:
                    pass
                self._connect_media(state, call.getAudioMedia(index), rate)
                return

    def _connect_media(self, state: CallState, audio, rate: int) -> None:
        state.media_connected = True
        factory = state.handler_factory
        try:
            handler = factory(state.key, state.caller_number)
        except Exception as exc:
            log.exception("call %s: could not create its session", state.key)
            state.record.error = f"{type(exc).__name__}: {exc}"
            self._hangup(state.key)
            return
        cfg = self.config
        driver = CallDriver(
            state.record,
            handler,
            SipTransport(self, state.key, rate),
            DriverConfig(
                agent_uri=cfg.agent_uri,
                transfer_timeout_s=cfg.transfer_timeout_s,
                callback_wait_s=cfg.callback_wait_s,
                media_timeout_s=cfg.rtp_timeout_s,
                record_dir=cfg.record_dir,
                recording_notice=cfg.recording_notice,
                chat_link=cfg.chat_link,
            ),
            synthesizer=self.synthesizer,
            handoffs=self.handoffs,
            on_done=self._finished,
            agents=self.agents if state.direction == "inbound" else None,
            sms=self.sms,
            caller_number=state.callback_number,
            listener=self.listener if state.direction == "inbound" else None,
        )

        def on_frame(pcm: bytes, d=driver) -> None:  # PJSIP's media clock thread
            d.caller_audio(pcm16_to_float(pcm), rate)

        state.port = make_bridge_port(on_frame, driver.outgoing, name=f"vb-{state.key}", rate=rate)
        state.driver = driver
        audio.startTransmit(state.port)
        state.port.startTransmit(audio)
        driver.start()

    def on_dtmf(self, call, digit: str) -> None:
        state: CallState | None = call.state
        if state is not None and state.driver is not None:
            state.driver.dtmf(digit.upper())

    def on_transfer_status(self, call, status: int, final: bool) -> bool:
        """Returns whether PJSIP should keep reporting this transfer."""
        state: CallState | None = call.state
        if final and state is not None and state.driver is not None:
            state.driver.transfer_result(status)
        return not final

    def _finished(self, record: CallRecord) -> None:
        state = next((s for s in self._graveyard + list(self._calls.values()) if s.record is record), None)
        if state is not None and not state.finished.done():
            state.finished.set_result(record)
        if self.on_call_end is not None:
            try:
                self.on_call_end(record)
            except Exception:
                log.exception("call record callback failed")
