"""Wiring for the commands: shared models, a CallSession per inbound call, serve until a signal."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from voicebot.call.protocols import HandlerFactory
from voicebot.call.record import CallRecord
from voicebot.call.sms import SmsSender
from voicebot.sip.config import SipConfig
from voicebot.sip.endpoint import SipEndpoint
from voicebot.sip.shared import LockedSynthesizer

log = logging.getLogger(__name__)


@dataclass
class Models:
    """Loaded once per process and shared by every call (TTS behind a lock, STT behind a batching queue)."""

    engine: object | None
    transcriber: object | None
    synthesizer: object


def load_models(stt_config=None, tts_config=None, dialog: bool = True, stt: bool = True) -> Models:
    from tts import TTSConfig, create_synthesizer

    synthesizer = LockedSynthesizer(create_synthesizer(tts_config or TTSConfig()))
    transcriber = None
    if stt:
        from stt import BatchingTranscriber, create_transcriber

        transcriber = BatchingTranscriber(create_transcriber(stt_config))
    engine = None
    if dialog:
        from dialog import load_default_engine

        engine = load_default_engine()
    return Models(engine, transcriber, synthesizer)


def session_factory(models: Models, call_config=None, sms: SmsSender | None = None) -> HandlerFactory:
    """A fresh ``CallSession`` (the ARS dialog) for each inbound call; with ``sms``, a caller whose mobile
    number is known is offered answers by text."""
    from voicebot.call.session import CallConfig, CallSession

    config = call_config or CallConfig()

    def make(call_id: str, caller_number: str | None = None):
        return CallSession(
            models.engine,
            models.transcriber,
            models.synthesizer,
            config,
            call_id=call_id,
            sms=sms,
            caller_number=caller_number,
        )

    return make


def serve(
    config: SipConfig,
    models: Models,
    on_call_end: Callable[[CallRecord], None],
    call_config=None,
    stop: threading.Event | None = None,
) -> None:
    """Answer inbound calls until SIGINT/SIGTERM (or ``stop`` is set); finished calls go to ``on_call_end``."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    endpoint = SipEndpoint(
        config,
        session_factory(models, call_config),
        synthesizer=models.synthesizer,
        on_call_end=on_call_end,
    )
    with endpoint:
        log.info("serving inbound calls on %s:%d", config.listen_host, config.listen_port)
        while not stop.wait(0.2):
            pass
