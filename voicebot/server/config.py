"""``voicebot serve`` configuration: one YAML file (docs/serve.example.yaml) plus environment variables.

Environment variables override the file: ``VOICEBOT_<SECTION>_<KEY>`` (e.g. ``VOICEBOT_SIP_LISTEN``,
``VOICEBOT_OUTBOUND_DIALER``), and the short forms ``VOICEBOT_DB_URL``, ``VOICEBOT_HOST``, ``VOICEBOT_PORT``.
Unknown keys are errors, not silently ignored.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from dialog.prompts import RECORDING_NOTICE
from outbound.retention import RetentionSettings
from voicebot.call.sms import HttpGatewaySender, OutboxSender, SmsSender
from voicebot.server.agents import DeskSettings


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SipSection:
    enabled: bool = False  # answer inbound SIP calls (and dial outbound ones with dialer: sip)
    listen: str = "127.0.0.1:5070"
    public_address: str | None = None
    agent_uri: str | None = None  # where calls handed to an agent go (REFER)
    codecs: str = "G722,PCMU,PCMA"  # offered in this order; G.722 keeps a wideband caller at 16 kHz
    registrar: str | None = None
    username: str | None = None
    password_env: str = "VOICEBOT_SIP_PASSWORD"
    record_dir: str | None = None
    handoff_dir: str | None = "var/handoffs"
    # A recorded call (record_dir set; inbound and outbound) first hears that it is recorded, once, after
    # the greeting: off only with recording_notice: false; recording_notice_text replaces the words.
    recording_notice: bool = True
    recording_notice_text: str | None = None

    @property
    def notice(self) -> str | None:
        """What a recorded call is told about the recording (None: nothing)."""
        return (self.recording_notice_text or RECORDING_NOTICE) if self.recording_notice else None


@dataclass(frozen=True)
class WebRTCSection:
    enabled: bool = True
    max_calls: int = 4
    max_calls_per_client: int = 2  # calls at once from one address (a trusted proxy's X-Forwarded-For)
    loopback: bool = False  # offer a 127.0.0.1 candidate (local tests and demos on one machine)


DIALERS = ("none", "sip", "simulated")
SIP_URI = re.compile(r"^sips?:[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class OutboundSection:
    enabled: bool = True  # run the dialer worker inside the server (when a dialer is chosen)
    # none: no calls are placed (campaigns can be prepared; the console says dialling is off);
    # sip: real calls over sip.*; simulated: SIMULATED calls only, marked as such everywhere.
    # Never simulated by default: fake results must be an explicit choice.
    dialer: str = "none"
    worker_id: str | None = None
    channels: int = 4
    uri_template: str = "sip:{phone}@127.0.0.1:5060"
    callees: str | None = None  # SIMULATED dialer: YAML of callee behaviour


@dataclass(frozen=True)
class SpeechSection:
    stt_backend: str = "faster-whisper"
    beam_size: int = 5
    threads: int = 2
    language: str = "ko"


@dataclass(frozen=True)
class ChatSection:
    enabled: bool = True  # the web chat at /chat and its API under /api/chat
    idle_minutes: int = 30  # a KakaoTalk conversation left this long with the bot starts over


KAKAO_SECRET_MIN_CHARS = 16


@dataclass(frozen=True)
class KakaoSection:
    enabled: bool = False  # the Kakao i Open Builder skill at /kakao/skill
    # The shared secret Open Builder sends in ``header`` (set it in the skill's header settings). Keep it out
    # of the file: VOICEBOT_KAKAO_SECRET.
    secret: str | None = None
    header: str = "X-Voicebot-Skill-Secret"
    budget_ms: int = 3500  # answer within this, else the callback form (Open Builder waits 5 s)
    callback_hosts: str = "kakao.com"  # comma-separated: a callbackUrl must be https on one of these


SMS_BACKENDS = ("outbox", "http")


@dataclass(frozen=True)
class SmsSection:
    # Off: phone callers are not offered "문자로 받아보시겠어요?" (an offer nobody can receive is worse
    # than none). On: voicebot.call.sms, the outbox (one 0600 JSON file per message) unless backend: http.
    enabled: bool = False
    backend: str = "outbox"  # outbox | http
    outbox_dir: str = "var/sms-outbox"
    url: str | None = None  # http: the gateway's POST endpoint
    token_env: str = "VOICEBOT_SMS_TOKEN"  # http: bearer token, read from this environment variable
    timeout_s: float = 5.0
    sender: str = ""  # the 발신번호 the gateway shows (registered with the carrier)


@dataclass(frozen=True)
class KnowledgeSection:
    # The labelled questions every knowledge-base publish is checked on (issue 19): a centre's own set, or
    # None for the set shipped with the product (dialog/data/dialog_eval.yaml).
    eval_path: str | None = None


@dataclass(frozen=True)
class CallbacksSection:
    # Congestion notice and call-back booking for inbound phone calls (issue 18): off by default.
    enabled: bool = False
    agents: int = 10  # agents on duty at start (staff change it in the console)
    waiting: int = 0  # callers waiting for an agent at start (staff, or an ACD feed, update it)
    handle_s: int = 300  # average handling time of one call, seconds
    threshold_s: int = 120  # a longer expected wait is announced with a call-back and the chat link
    hours: str = "09:00-18:00"  # business hours (agents answer and call back), Asia/Seoul
    weekdays: str = "월,화,수,목,금"
    skip_holidays: bool = True  # public holidays (공휴일) are closed
    slot_minutes: int = 60  # a call-back slot
    per_slot: int = 4  # call-backs per slot at most
    retry_min: int = 10  # an unanswered call-back is tried again this much later, within its slot
    max_attempts: int = 2
    chat_link: str | None = None  # the web chat's address texted on request (needs sms.enabled)
    poll_s: float = 5.0  # how often due call-backs are looked for

    def desk(self) -> DeskSettings:
        from datetime import timedelta

        from outbound.callbacks import BusinessHours, CallbackPolicy

        return DeskSettings(
            agents=self.agents,
            waiting=self.waiting,
            handle_s=self.handle_s,
            threshold_s=self.threshold_s,
            hours=BusinessHours.parse(self.hours, self.weekdays, self.skip_holidays),
            slot_minutes=self.slot_minutes,
            per_slot=self.per_slot,
            policy=CallbackPolicy(timedelta(minutes=self.retry_min), self.max_attempts),
            poll_s=self.poll_s,
        )


@dataclass(frozen=True)
class SecuritySection:
    # Refused tokens (issue 17): this many from one address within login_window_s lock it out (429) for
    # login_window_s seconds.
    login_max_failures: int = 10
    login_window_s: int = 60
    # Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For names the client.
    # None: the connection's own address is the client (a header anyone can send is never believed).
    trusted_proxies: str | None = None
    header_timeout_s: float = 10.0  # a connection's request head must arrive within this (slow clients)

    @property
    def proxies(self) -> list[str]:
        return [item.strip() for item in (self.trusted_proxies or "").split(",") if item.strip()]


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    db_url: str | None = None  # default: sqlite:///var/voicebot.db
    log_format: str = "json"  # json | text
    # /metrics names campaigns' outcomes, escalations and load: off, a scraper sends a viewer token.
    metrics_public: bool = False
    sip: SipSection = field(default_factory=SipSection)
    webrtc: WebRTCSection = field(default_factory=WebRTCSection)
    outbound: OutboundSection = field(default_factory=OutboundSection)
    speech: SpeechSection = field(default_factory=SpeechSection)
    chat: ChatSection = field(default_factory=ChatSection)
    kakao: KakaoSection = field(default_factory=KakaoSection)
    sms: SmsSection = field(default_factory=SmsSection)
    # Days each kind of personal data is kept (issue 17): voicebot.server.retention, daily.
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    security: SecuritySection = field(default_factory=SecuritySection)
    callbacks: CallbacksSection = field(default_factory=CallbacksSection)
    knowledge: KnowledgeSection = field(default_factory=KnowledgeSection)

    @property
    def dialer(self) -> str:
        """The dialer calls are placed with: ``none`` when the worker does not run."""
        return self.outbound.dialer if self.outbound.enabled else "none"

    def checked(self) -> ServeConfig:
        outbound = self.outbound
        if outbound.dialer not in DIALERS:
            raise ConfigError(f"outbound.dialer must be one of {', '.join(DIALERS)}, not {outbound.dialer!r}")
        if outbound.enabled and outbound.dialer == "sip" and not self.sip.enabled:
            raise ConfigError("outbound.dialer: sip needs sip.enabled: true")
        _check_uri_template(outbound.uri_template)
        if outbound.callees and outbound.dialer != "simulated":
            raise ConfigError(
                "outbound.callees is for the SIMULATED dialer only: set outbound.dialer: simulated"
            )
        _check_chat(self.chat, self.kakao)
        _check_sms(self.sms)
        try:
            self.retention.checked()
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        _check_security(self.security)
        _check_callbacks(self.callbacks)
        if self.webrtc.max_calls_per_client < 1:
            raise ConfigError("webrtc.max_calls_per_client must be 1 or more")
        if self.log_format not in ("json", "text"):
            raise ConfigError("log_format must be json or text")
        if (self.db_url or "").split("?")[0] in ("sqlite://", "sqlite:///:memory:", "sqlite+pysqlite://"):
            # Each connection would get its own empty database, and every result would go at exit.
            raise ConfigError(
                "db_url: an in-memory SQLite database keeps no consultation or call result; "
                "give a file (sqlite:///var/voicebot.db) or PostgreSQL"
            )
        if not 0 < self.port < 65536:
            raise ConfigError(f"port {self.port} is out of range")
        return self


def _check_chat(chat: ChatSection, kakao: KakaoSection) -> None:
    if chat.idle_minutes < 1:
        raise ConfigError("chat.idle_minutes must be at least 1")
    if not kakao.enabled:
        return
    if not chat.enabled:
        raise ConfigError("kakao.enabled needs chat.enabled: true (KakaoTalk runs on the chat conversations)")
    if not kakao.secret:
        raise ConfigError("kakao.enabled needs a shared secret: set VOICEBOT_KAKAO_SECRET")
    if len(kakao.secret) < KAKAO_SECRET_MIN_CHARS:
        raise ConfigError(f"kakao.secret must be at least {KAKAO_SECRET_MIN_CHARS} characters")
    if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", kakao.header):
        raise ConfigError(f"kakao.header {kakao.header!r} is not a header name")
    if not 100 <= kakao.budget_ms <= 4500:
        raise ConfigError("kakao.budget_ms must be between 100 and 4500 (Open Builder waits 5 s)")
    if not [h for h in kakao.callback_hosts.split(",") if h.strip()]:
        raise ConfigError("kakao.callback_hosts needs at least one host")


def _check_sms(sms: SmsSection) -> None:
    if sms.backend not in SMS_BACKENDS:
        raise ConfigError(f"sms.backend must be one of {', '.join(SMS_BACKENDS)}, not {sms.backend!r}")
    if sms.enabled and sms.backend == "http" and not (sms.url or "").startswith(("https://", "http://")):
        raise ConfigError("sms.backend: http needs sms.url (http:// or https://)")
    if not 0 < sms.timeout_s <= 30:
        raise ConfigError("sms.timeout_s must be between 0 and 30 seconds")


def _check_callbacks(cb: CallbacksSection) -> None:
    try:
        cb.desk()
    except ValueError as exc:
        raise ConfigError(f"callbacks.hours / callbacks.weekdays: {exc}") from exc
    if not 0 <= cb.agents <= 10_000 or not 0 <= cb.waiting <= 100_000:
        raise ConfigError("callbacks.agents and callbacks.waiting must be 0 or more")
    if not 1 <= cb.handle_s <= 7200 or not 0 <= cb.threshold_s <= 86400:
        raise ConfigError("callbacks.handle_s must be 1-7200 s and callbacks.threshold_s 0-86400 s")
    if not 5 <= cb.slot_minutes <= 240 or cb.per_slot < 1 or not 1 <= cb.max_attempts <= 5:
        raise ConfigError("callbacks: slot_minutes 5-240, per_slot 1 or more, max_attempts 1-5")
    if cb.retry_min < 1 or not 0.1 <= cb.poll_s <= 300:
        raise ConfigError("callbacks: retry_min 1 or more, poll_s 0.1-300")
    if cb.chat_link and not cb.chat_link.startswith(("https://", "http://")):
        raise ConfigError("callbacks.chat_link must be an http(s) address")


def _check_security(security: SecuritySection) -> None:
    if not 1 <= security.login_max_failures <= 1000:
        raise ConfigError("security.login_max_failures must be between 1 and 1000")
    if not 1 <= security.login_window_s <= 86400:
        raise ConfigError("security.login_window_s must be between 1 and 86400 seconds")
    if not 1 <= security.header_timeout_s <= 300:
        raise ConfigError("security.header_timeout_s must be between 1 and 300 seconds")
    for item in security.proxies:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ConfigError(f"security.trusted_proxies: {item!r} is not an IP address or network") from exc


def build_sms_sender(sms: SmsSection, environ: dict[str, str] | None = None) -> SmsSender | None:
    """The configured SMS sender, or None when SMS is off."""
    if not sms.enabled:
        return None
    if sms.backend == "http":
        token = (os.environ if environ is None else environ).get(sms.token_env)
        return HttpGatewaySender(sms.url or "", token, sms.timeout_s, sms.sender or "")
    return OutboxSender(sms.outbox_dir, sms.sender or "")


def _check_uri_template(template: str) -> None:
    """A real dialer with a template it cannot dial must stop the server at start, not fail every call."""
    if "{phone}" not in template:
        raise ConfigError("outbound.uri_template needs {phone}")
    try:
        uri = template.format(phone="+821012345678")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"outbound.uri_template {template!r} is not a valid template ({exc})") from exc
    if not SIP_URI.match(uri):
        raise ConfigError(
            f"outbound.uri_template {template!r} does not make a SIP URI (expected sip:{{phone}}@host[:port])"
        )


_SECTIONS = {
    "sip": SipSection,
    "webrtc": WebRTCSection,
    "outbound": OutboundSection,
    "speech": SpeechSection,
    "chat": ChatSection,
    "kakao": KakaoSection,
    "sms": SmsSection,
    "retention": RetentionSettings,
    "security": SecuritySection,
    "callbacks": CallbacksSection,
    "knowledge": KnowledgeSection,
}
_SHORT = {
    "VOICEBOT_DB_URL": "db_url",
    "VOICEBOT_HOST": "host",
    "VOICEBOT_PORT": "port",
    "VOICEBOT_METRICS_PUBLIC": "metrics_public",
}


def _coerce(value: Any, like: Any, where: str) -> Any:
    if isinstance(like, bool) or like is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if isinstance(like, int) and not isinstance(like, bool):
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from exc
    if isinstance(like, float):
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from exc
    return None if value in (None, "") else str(value)


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    defaults = cls()
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    values = {}
    for name, value in data.items():
        current = getattr(defaults, name)
        if name in _SECTIONS and cls is ServeConfig:
            if not isinstance(value, dict):
                raise ConfigError(f"{name}: expected a mapping")
            values[name] = _build(_SECTIONS[name], value, name)
        else:
            values[name] = _coerce(value, current if current is not None else "", f"{where}{name}")
    return replace(defaults, **values)


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> ServeConfig:
    environ = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping at the top")
    for key, value in environ.items():
        if key in _SHORT:
            data[_SHORT[key]] = value
            continue
        if not key.startswith("VOICEBOT_"):
            continue
        section, _, name = key[len("VOICEBOT_") :].lower().partition("_")
        if section in _SECTIONS and name in {f.name for f in fields(_SECTIONS[section])}:
            data.setdefault(section, {})
            if isinstance(data[section], dict):
                data[section][name] = value
    return _build(ServeConfig, data, "").checked()
