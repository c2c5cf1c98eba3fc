"""``voicebot sip`` (serve inbound calls) and ``voicebot dial`` (one outbound call): options and bodies."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from voicebot.call.record import CallRecord
from voicebot.sip.config import (
    DEFAULT_CODECS,
    SUPPORTED_CODECS,
    RegistrarConfig,
    SipConfig,
    parse_codecs,
    parse_hostport,
)


def add_sip_options(parser: argparse.ArgumentParser, default_listen: str) -> None:
    group = parser.add_argument_group("SIP")
    group.add_argument("--listen", default=default_listen, help="HOST:PORT to bind (UDP)")
    group.add_argument("--public-address", help="address to advertise in SIP and SDP (behind NAT)")
    group.add_argument(
        "--codecs",
        default=",".join(DEFAULT_CODECS),
        help="preference order, from " + ",".join(SUPPORTED_CODECS),
    )
    group.add_argument("--agent-uri", help="blind-transfer target for calls handed to an agent")
    group.add_argument("--registrar", help="registrar/trunk URI, e.g. sip:pbx.example.org")
    group.add_argument("--username", help="digest user name for --registrar")
    group.add_argument("--password-env", default="VOICEBOT_SIP_PASSWORD", help="env var holding the password")
    group.add_argument("--realm", default="*")
    group.add_argument("--ring-timeout", type=float, default=30.0, help="outbound: seconds before CANCEL")
    group.add_argument("--rtp-timeout", type=float, default=30.0, help="hang up after this long without RTP")
    group.add_argument("--record-dir", help="write a two-channel WAV per call (caller left, bot right)")
    group.add_argument("--handoff-dir", help="write handoff records as JSON files keyed by id")
    group.add_argument(
        "--pjsip-log-level", type=int, default=0, help="PJSIP log level (>0 logs SIP in clear)"
    )


def require_pjsua2() -> None:
    """A clear setup error (exit code 2) instead of a traceback when the binding is missing."""
    try:
        import pjsua2  # noqa: F401
    except ImportError as exc:
        raise ValueError(
            "PJSIP's Python binding is not installed: run scripts/setup.sh "
            "(or pip install --require-hashes -r requirements/sip.txt)"
        ) from exc


def sip_config(args: argparse.Namespace) -> SipConfig:
    host, port = parse_hostport(args.listen)
    registrar = None
    if args.registrar:
        if not args.username:
            raise ValueError("--registrar needs --username (and the password in $" + args.password_env + ")")
        registrar = RegistrarConfig(
            args.registrar, args.username, os.environ.get(args.password_env, ""), realm=args.realm
        )
    return SipConfig(
        listen_host=host,
        listen_port=port,
        public_address=args.public_address,
        codecs=parse_codecs(args.codecs),
        agent_uri=args.agent_uri,
        registrar=registrar,
        ring_timeout_s=args.ring_timeout,
        rtp_timeout_s=args.rtp_timeout,
        record_dir=Path(args.record_dir) if args.record_dir else None,
        handoff_dir=Path(args.handoff_dir) if args.handoff_dir else None,
        pjsip_log_level=args.pjsip_log_level,
    )


def run_sip(args: argparse.Namespace, stt_config=None) -> int:
    """Serve inbound calls until SIGINT/SIGTERM; one JSON line per finished call."""
    from voicebot.sip.app import load_models, serve

    require_pjsua2()
    config = sip_config(args)
    models = load_models(stt_config)

    def emit(report) -> None:
        print(json.dumps(report.as_dict(), ensure_ascii=False), flush=True)

    serve(config, models, emit)
    return 0


def originate(endpoint, uri: str, handler_factory, timeout_s: float = 600.0) -> CallRecord:
    """Place one call on a started ``SipEndpoint``, run ``handler_factory``'s handler if answered, and
    return its record once the call is over (``outcome`` answered | busy | no_answer | rejected | failed)."""
    state = endpoint.place_call(uri, handler_factory)
    state.outcome.result(timeout_s)
    return state.finished.result(timeout_s)


def run_dial(args: argparse.Namespace, stt_config=None) -> int:
    """One outbound call running a named script (after ``--send-dtmf`` digits, if given); its outcome as
    one JSON object."""
    from voicebot.call.dial_script import DIAL_SCRIPTS, ScriptSession
    from voicebot.call.keypad import check_dtmf
    from voicebot.sip.app import load_models
    from voicebot.sip.endpoint import SipEndpoint

    if args.script not in DIAL_SCRIPTS:
        raise ValueError(f"unknown script {args.script!r}: choose from {', '.join(sorted(DIAL_SCRIPTS))}")
    send_dtmf = getattr(args, "send_dtmf", None)
    send_dtmf = check_dtmf(send_dtmf) if send_dtmf is not None else ""
    require_pjsua2()
    config = sip_config(args)
    needs_stt = any(p.expect == "any" for p in DIAL_SCRIPTS[args.script]) and not args.no_stt
    models = load_models(stt_config, dialog=False, stt=needs_stt)

    def factory(call_id: str, caller_number: str | None = None):
        return ScriptSession.named(args.script, models.synthesizer, models.transcriber, send_dtmf=send_dtmf)

    with SipEndpoint(config, None, synthesizer=models.synthesizer) as endpoint:
        result = originate(endpoint, args.uri, factory, timeout_s=args.max_call_s + config.ring_timeout_s)
    payload = result.as_dict()
    if args.json:
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    else:
        print(
            f"{result.outcome} ({result.sip_status}) after {result.duration_s:.1f} s, {len(result.turns)} turns"
        )
    return 1 if result.outcome == "failed" else 0
