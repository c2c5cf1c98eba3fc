"""``voicebot serve``: one process that answers SIP and browser calls, runs the outbound dialer worker,
and serves the REST API, the staff console, /healthz and /metrics.

:func:`create_app` builds the FastAPI app; everything with a life (models, SIP endpoint, WebRTC peers,
worker thread) starts in its lifespan and stops with it. ``models`` can be passed in to share loaded
models (tests); otherwise Whisper, espeak-ng and the dialog engine are loaded once at start-up.
"""

from __future__ import annotations

import copy
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import DataError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from dialog.evaluate import DEFAULT_EVAL, load_eval
from outbound import service, store
from outbound.api import Auth, file_response, make_router
from outbound.api_errors import install_error_handlers
from outbound.login_limits import FailedLogins, LoginLimits
from outbound.runner import Dialer
from tts.library import PromptLibrary, default_prompts_dir
from voicebot.call.handoff import HandoffRegistry
from voicebot.call.protocols import HandlerFactory
from voicebot.chat import CallbackSender, ChatService, KakaoConfig, KakaoSkill
from voicebot.server.agents import AgentDesk
from voicebot.server.apidocs import install_docs
from voicebot.server.callback_routes import make_callback_router
from voicebot.server.chat_routes import make_chat_router, make_chat_staff_router, make_kakao_router
from voicebot.server.config import ConfigError, ServeConfig, build_sms_sender
from voicebot.server.handoffs import make_handoff_router
from voicebot.server.knowledge import Knowledge, make_knowledge_router
from voicebot.server.limits import BodyLimit, SecurityHeaders, id_out_of_range
from voicebot.server.monitor import CallMonitor, Metrics
from voicebot.server.openapi_errors import document_errors
from voicebot.server.retention import RetentionJob, make_retention_router, places_from_config
from voicebot.server.stats import _titles, make_stats_router
from voicebot.server.studio_routes import make_studio_router
from voicebot.server.trends import Analytics, make_trends_router

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Runtime:
    """What the running server holds; ``app.state.runtime``."""

    def __init__(
        self,
        config: ServeConfig,
        models: Any = None,
        clock: Callable[[], datetime] = utc_now,
        kakao_sender: CallbackSender | None = None,
    ):
        self.config = config
        self.clock = clock
        store.upgrade(config.db_url)
        self.db = store.make_engine(config.db_url)  # the database engine (the dialog engine is models.engine)
        self.factory = store.session_factory(self.db)
        self.metrics = Metrics()
        self.monitor = CallMonitor(self.metrics, self.factory)
        # A copy: publishing a knowledge base swaps this runtime's dialog engine, never the caller's.
        self.models = copy.copy(models)
        # 상담 지식 (issue 19): the published knowledge base, reloaded here when staff publish one.
        self.knowledge = Knowledge(
            self.factory,
            clock,
            lambda: self.models.engine if self.models is not None else None,
            self._set_engine,
        )
        self.knowledge.ensure_initial()
        # One store of handoff records for every transport (the SIP section names its directory).
        handoff_dir = config.sip.handoff_dir
        self.handoffs = HandoffRegistry(Path(handoff_dir) if handoff_dir else None)
        # Answers texted to phone callers whose mobile number is known (off unless sms.enabled).
        self.sms = build_sms_sender(config.sms)
        # Congestion notice and call-back booking for phone calls (issue 18; callbacks.enabled).
        self.agents: AgentDesk | None = (
            AgentDesk(self.factory, config.callbacks.desk(), clock, self.metrics.registry)
            if config.callbacks.enabled
            else None
        )
        # Text channels (web chat, KakaoTalk) on the same dialog engine, once the models are loaded.
        self.chat = ChatService(
            lambda: getattr(self.models, "engine", None),
            self.factory,
            self.handoffs,
            clock=clock,
            idle_s=config.chat.idle_minutes * 60,
            on_event=self.metrics.chat_event,
        )
        # Personal data past its period goes at start and then daily (issue 17).
        self.retention = RetentionJob(
            self.factory, config.retention, places_from_config(config), registry=self.handoffs, clock=clock
        )
        self.kakao: KakaoSkill | None = None
        if config.chat.enabled and config.kakao.enabled and config.kakao.secret:
            kakao = config.kakao
            self.kakao = KakaoSkill(
                self.chat,
                KakaoConfig(
                    secret=kakao.secret,
                    header=kakao.header,
                    budget_s=kakao.budget_ms / 1000,
                    callback_hosts=tuple(
                        h.strip().lower() for h in kakao.callback_hosts.split(",") if h.strip()
                    ),
                ),
                kakao_sender,
            )
        self.webrtc: Any = None
        self.sip_endpoint: Any = None
        self.worker_thread: threading.Thread | None = None
        self.stop = threading.Event()
        self.started_at = clock()

    # --- start and stop ---------------------------------------------------------------------------

    def start(self) -> None:
        retention = threading.Thread(
            target=self.retention.run, args=(self.stop,), name="retention", daemon=True
        )
        retention.start()
        if self.models is None:
            from stt import STTConfig
            from voicebot.sip.app import load_models

            speech = self.config.speech
            stt_config = STTConfig(
                backend=speech.stt_backend,
                beam_size=speech.beam_size,
                cpu_threads=speech.threads,
                language=speech.language,
            )
            self.models = load_models(stt_config)
        self.knowledge.activate()
        if self.config.sip.enabled:
            self._start_sip()
        if self.config.webrtc.enabled:
            self._start_webrtc()
        threading.Thread(target=self._end_idle_chats, name="chat-idle", daemon=True).start()
        dialer = self._dialer()
        if dialer is None:
            log.warning(
                "outbound dialling is off (outbound.dialer: none): campaigns can be prepared, no call is placed"
            )
        else:
            self._start_worker(dialer)
            if self.agents is not None:
                threading.Thread(
                    target=self.agents.run_dialer,
                    args=(dialer, f"{socket.gethostname()}:callbacks", self.stop),
                    name="callback-dialer",
                    daemon=True,
                ).start()

    async def close(self) -> None:
        self.stop.set()
        if self.webrtc is not None:
            await self.webrtc.close()
        # Calls end before the worker is waited for: the endpoint hangs up every call (BYE), so the worker's
        # calls in flight return at once, are recorded (cut ones as failed, to be called again) and it stops.
        if self.sip_endpoint is not None:
            self.sip_endpoint.__exit__(None, None, None)
        if self.worker_thread is not None:
            self.worker_thread.join(30)
        if self.kakao is not None:
            self.kakao.close()
        self.db.dispose()

    def _set_engine(self, engine: Any) -> None:
        """New calls and chats get ``engine``; those in progress keep the one they started with."""
        self.models.engine = engine

    def _session_factory(self, transport: str) -> HandlerFactory:
        from voicebot.sip.app import session_factory

        return self.monitor.wrap(session_factory(self.models, sms=self.sms), transport)

    def _start_webrtc(self) -> None:
        from voicebot.webrtc import WebRTCConfig, WebRTCService

        cfg = self.config.webrtc
        self.webrtc = WebRTCService(
            self._session_factory("webrtc"),
            WebRTCConfig(
                max_calls=cfg.max_calls,
                max_calls_per_client=cfg.max_calls_per_client,
                ice_loopback=cfg.loopback,
            ),
            on_call_end=self._call_ended,
            handoffs=self.handoffs,
            synthesizer=self.models.synthesizer,
            on_abandoned=self.monitor.discard,
            agents=self.agents,
            listener=self.models.transcriber if self.agents is not None else None,
        )

    def _call_ended(self, record: Any) -> None:
        """Any transport's ``CallRecord``; outbound calls are the campaign worker's to count."""
        if record.recording_error:
            self.metrics.recording_failures.labels(record.transport).inc()
        if record.direction == "inbound":
            self.monitor.finished(record.call_id, record.ended_reason, record.duration_s)
            if self.agents is not None:
                self.agents.call_ended(record)

    def _start_sip(self) -> None:
        from voicebot.sip.commands import require_pjsua2
        from voicebot.sip.config import RegistrarConfig, SipConfig, parse_codecs, parse_hostport
        from voicebot.sip.endpoint import SipEndpoint

        require_pjsua2()
        cfg = self.config.sip
        host, port = parse_hostport(cfg.listen)
        registrar = None
        if cfg.registrar:
            import os

            registrar = RegistrarConfig(
                cfg.registrar, cfg.username or "", os.environ.get(cfg.password_env, "")
            )
        sip_config = SipConfig(
            listen_host=host,
            listen_port=port,
            public_address=cfg.public_address,
            codecs=parse_codecs(cfg.codecs),
            agent_uri=cfg.agent_uri,
            registrar=registrar,
            record_dir=Path(cfg.record_dir) if cfg.record_dir else None,
            recording_notice=cfg.notice,
            handoff_dir=Path(cfg.handoff_dir) if cfg.handoff_dir else None,
            chat_link=self.config.callbacks.chat_link,
        )

        self.sip_endpoint = SipEndpoint(
            sip_config,
            self._session_factory("sip"),
            synthesizer=self.models.synthesizer,
            on_call_end=self._call_ended,
            handoffs=self.handoffs,
            agents=self.agents,
            sms=self.sms,
            listener=self.models.transcriber if self.agents is not None else None,
        )
        self.sip_endpoint.__enter__()

    def _dialer(self) -> Dialer | None:
        """The configured dialer; None when no call is to be placed. Never a fallback to another kind."""
        from outbound.runner import SimulatedCallee, SimulatedDialer
        from voicebot.sip.dialer import SipDialer

        cfg = self.config.outbound
        if self.config.dialer == "sip":
            if self.sip_endpoint is None:
                raise ConfigError("outbound.dialer: sip, but the SIP endpoint did not start")
            return SipDialer(
                self.sip_endpoint, cfg.uri_template, self.models.synthesizer, self.models.transcriber
            )
        if self.config.dialer == "simulated":
            log.warning(
                "outbound dialer is SIMULATED: no real call is placed; every result is marked simulated"
            )
            if cfg.callees:
                return SimulatedDialer.from_file(cfg.callees)
            return SimulatedDialer(default=SimulatedCallee(replies=["1"] * 12))
        return None

    def _start_worker(self, dialer: Dialer) -> None:
        from outbound.worker import Worker, WorkerConfig

        cfg = self.config.outbound
        worker = Worker(
            self.factory,
            dialer,
            WorkerConfig(cfg.worker_id or f"{socket.gethostname()}:serve", channels=cfg.channels),
            clock=self.clock,
            on_report=self._count_outbound,
            on_wait=lambda waiting: log.info(
                "outbound worker waiting (%s): %s", waiting.reason, waiting.message
            ),
        )
        self.worker_thread = threading.Thread(
            target=worker.run, args=(self.stop,), name="outbound-worker", daemon=True
        )
        self.worker_thread.start()

    def _end_idle_chats(self) -> None:
        """Chats left idle end (and get their inquiry record, issue 19) without waiting for a message."""
        while not self.stop.wait(60):
            try:
                self.chat.end_idle()
            except Exception:  # a failed sweep is retried next minute
                log.exception("ending idle chats failed")

    def _count_outbound(self, report: Any) -> None:
        for outcome, count in report.outcomes.items():
            self.metrics.outbound.labels(outcome).inc(count)
        self.metrics.outbound_alerts.inc(report.alerts)

    # --- health -----------------------------------------------------------------------------------

    def health(self) -> tuple[bool, dict[str, Any]]:
        checks: dict[str, Any] = {}
        try:
            with self.db.connect() as conn:
                conn.execute(text("select 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure is "down"
            checks["database"] = f"down ({type(exc).__name__})"
        checks["models"] = "ok" if self.models is not None else "loading"
        checks["sip"] = "listening" if self.sip_endpoint is not None else "off"
        checks["webrtc"] = "ok" if self.webrtc is not None else "off"
        checks["dialer"] = self.config.dialer  # none | sip | simulated (no real calls)
        if self.worker_thread is None:
            checks["outbound_worker"] = "off"
        else:
            checks["outbound_worker"] = "running" if self.worker_thread.is_alive() else "stopped"
        healthy = (
            checks["database"] == "ok" and checks["models"] == "ok" and checks["outbound_worker"] != "stopped"
        )
        return healthy, checks


def preflight(config: ServeConfig) -> None:
    """What the configuration needs from this machine, checked before anything starts: a real dialer that
    cannot work stops the server with a clear error instead of leaving campaigns to fail or fall back."""
    if config.sip.enabled:
        from voicebot.sip.commands import require_pjsua2

        try:
            require_pjsua2()
        except ValueError as exc:
            raise ConfigError(f"sip.enabled (outbound.dialer: {config.dialer}): {exc}") from exc
    if config.knowledge.eval_path is not None:
        try:
            load_eval(config.knowledge.eval_path)
        except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
            raise ConfigError(
                f"knowledge.eval_path: {config.knowledge.eval_path}: not a readable evaluation set ({exc})"
            ) from exc


def create_app(
    config: ServeConfig,
    *,
    models: Any = None,
    clock: Callable[[], datetime] = utc_now,
    kakao_sender: CallbackSender | None = None,
    demo_data: bool = False,
    reports_dir: Path | None = None,
    kb_eval: Path | None | Literal["config"] = "config",
) -> FastAPI:
    """``kakao_sender`` delivers late KakaoTalk replies to Open Builder's callback URL (default: HTTP POST;
    tests pass their own: nothing calls Kakao). ``demo_data``: the analytics show only a labelled synthetic
    history (issue 19), written when the database has none. ``reports_dir``: the weekly and monthly 정기분석
    PDFs are written there (checked hourly); none without it. ``kb_eval``: the labelled questions a new
    knowledge base is checked on before it is published: ``knowledge.eval_path`` of the configuration, or the
    shipped set (None: no gate; an admin publishes with force)."""
    preflight(config)
    runtime = Runtime(config, models, clock, kakao_sender)
    if kb_eval == "config":
        kb_eval = Path(config.knowledge.eval_path) if config.knowledge.eval_path else DEFAULT_EVAL
    runtime.knowledge.eval_path = kb_eval
    runtime.analytics = Analytics(
        runtime.factory,
        clock,
        demo=demo_data,
        titles=lambda: _titles(runtime),
        reports_dir=reports_dir,
        tokenizer=lambda: (
            runtime.models.engine.matcher.content_tokens
            if runtime.models is not None and runtime.models.engine is not None
            else None
        ),
    )
    runtime.analytics.register(runtime.metrics.registry)
    runtime.analytics.ensure_demo_history()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        if reports_dir is not None:
            threading.Thread(
                target=runtime.analytics.run_reports, args=(runtime.stop,), name="reports", daemon=True
            ).start()
        log.info(
            "serving on http://%s:%d (console /console/, caller page /call, chat /chat)",
            config.host,
            config.port,
        )
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="120 voicebot",
        version="1",
        description="Voicebot, outbound campaigns and the staff console. API tokens: `voicebot token create`.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load Swagger UI and ReDoc from a CDN: ours is local (apidocs)
        redoc_url=None,
    )
    install_docs(app)
    document_errors(app)
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(BodyLimit)  # issue 17: bodies capped while read, before parsing and auth
    app.add_middleware(SecurityHeaders)
    if config.security.proxies:  # outermost: the client address and https as the trusted proxy saw them
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=config.security.proxies)
    app.add_exception_handler(OverflowError, id_out_of_range)  # SQLite: an id above 2^63
    app.add_exception_handler(DataError, id_out_of_range)  # PostgreSQL: integer out of range
    security = config.security
    limits = LoginLimits(security.login_max_failures, security.login_window_s)
    auth = Auth(runtime.factory, clock, FailedLogins(limits))
    app.include_router(make_router(runtime.factory, clock, auth))
    app.include_router(make_stats_router(runtime, auth))
    app.include_router(make_trends_router(runtime.analytics, auth))
    app.include_router(make_handoff_router(runtime.handoffs, auth))
    app.include_router(make_retention_router(runtime.retention, auth))
    if runtime.agents is not None:
        app.include_router(make_callback_router(runtime.agents, auth))
    app.include_router(make_knowledge_router(runtime.knowledge, auth))
    app.include_router(
        make_studio_router(
            PromptLibrary(default_prompts_dir()),
            auth,
            lambda: runtime.models.transcriber if runtime.models is not None else None,
        )
    )

    @app.get("/healthz", tags=["operations"], summary="Liveness and readiness")
    def healthz() -> JSONResponse:
        healthy, checks = runtime.health()
        uptime = (clock() - runtime.started_at).total_seconds()
        body = {"status": "ok" if healthy else "unhealthy", "uptime_s": round(uptime, 1), **checks}
        return JSONResponse(body, status_code=200 if healthy else 503)

    scrape = [] if config.metrics_public else [Depends(auth.require("viewer"))]

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics (a viewer token unless metrics_public)",
        dependencies=scrape,
        response_class=Response,
        responses=file_response("text/plain"),
    )
    def metrics() -> Response:
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/api/calls/live", tags=["operations"], summary="Calls in progress with their transcript")
    def live_calls(who: service.Principal = Depends(auth.require("operator"))) -> list[dict[str, Any]]:
        return runtime.monitor.live()

    if config.chat.enabled:
        app.include_router(make_chat_router(runtime.chat))
        app.include_router(make_chat_staff_router(runtime.chat, auth))
    if runtime.kakao is not None:
        app.include_router(make_kakao_router(runtime.kakao))

    if config.webrtc.enabled:
        from voicebot.server.webrtc_routes import make_webrtc_router

        app.include_router(make_webrtc_router(_Lazy(lambda: runtime.webrtc)))

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/console/")

    console = STATIC / "console"
    if console.is_dir():
        app.mount("/console", StaticFiles(directory=console, html=True), name="console")
    return app


class _Lazy:
    """Routes are declared before the lifespan starts the service; calls reach it once it exists."""

    def __init__(self, get: Callable[[], Any]):
        self._get = get

    def __getattr__(self, name: str) -> Any:
        target = self._get()
        if target is None:
            raise RuntimeError("the WebRTC service is not started")
        return getattr(target, name)
