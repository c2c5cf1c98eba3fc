"""The ``voicebot`` command line. Subcommands print JSON lines with ``--json`` so scripts and checks can use them.

Exit codes: 0 success, 1 some input failed (each failure reported on its own line), 2 usage or setup error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger("voicebot")


def _emit(payload: dict, as_json: bool, text: str | None = None) -> None:
    if as_json:
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    else:
        print(text if text is not None else payload, flush=True)


def _stt_config(args: argparse.Namespace):
    from stt import LanguageSwitch, STTConfig

    return STTConfig(
        backend=args.backend,
        model=args.model,
        model_path=args.model_path,
        device=args.device,
        compute_type=args.compute_type,
        cpu_threads=args.threads,
        language=None if args.language == "auto" else args.language,
        language_switch=None if args.strict_language else LanguageSwitch(),
        beam_size=args.beam_size,
        window=args.window,
        initial_prompt=args.prompt,
    )


def _add_stt_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("speech recognition")
    group.add_argument("--backend", choices=["faster-whisper", "openai-whisper"], default="faster-whisper")
    group.add_argument("--model", default="base", help="Whisper size (only 'base' ships in packages)")
    group.add_argument("--model-path", help="an operator's CTranslate2 directory or openai-whisper .pt file")
    group.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    group.add_argument("--compute-type", help="override: int8, float16, float32 …")
    group.add_argument("--threads", type=int, default=2)
    group.add_argument("--language", default="ko", help="language code, or 'auto' to detect")
    group.add_argument(
        "--strict-language",
        action="store_true",
        help="always decode in --language, even an utterance Whisper clearly hears as another language",
    )
    group.add_argument("--beam-size", type=int, default=5)
    group.add_argument("--window", choices=["adaptive", "full"], default="adaptive")
    group.add_argument("--prompt", help="domain vocabulary given to Whisper as context")


def _open_sip_dialer(args: argparse.Namespace):  # -> (SipDialer, close)
    """``campaign run --dialer sip``: a SIP endpoint with the shared Whisper and TTS models; calls go to
    ``--uri-template``."""
    from outbound.service import Invalid
    from voicebot.sip.app import load_models
    from voicebot.sip.commands import require_pjsua2, sip_config
    from voicebot.sip.dialer import SipDialer
    from voicebot.sip.endpoint import SipEndpoint

    if "{phone}" not in args.uri_template:
        raise Invalid(f"--uri-template에 {{phone}}이 있어야 합니다: {args.uri_template!r}")
    require_pjsua2()
    models = load_models(_stt_config(args), dialog=False, stt=True)
    endpoint = SipEndpoint(sip_config(args), None, synthesizer=models.synthesizer)
    endpoint.__enter__()
    dialer = SipDialer(endpoint, args.uri_template, models.synthesizer, models.transcriber)
    return dialer, lambda: endpoint.__exit__(None, None, None)


def cmd_transcribe(args: argparse.Namespace) -> int:
    from media.audio import AudioError, load_audio
    from stt import create_transcriber

    transcriber = create_transcriber(_stt_config(args))
    failures = 0
    for name in args.files:
        try:
            audio = load_audio(name)
        except AudioError as exc:
            failures += 1
            _emit({"file": name, "error": str(exc)}, args.json, f"{name}: error: {exc}")
            continue
        result = transcriber.transcribe(audio.samples)
        payload = {
            "file": name,
            "text": result.text,
            "language": result.language,
            "language_probability": round(result.language_probability, 4),
            "audio_s": round(result.audio_s, 3),
            "elapsed_s": round(result.elapsed_s, 3),
            "rtf": round(result.rtf, 3),
            "backend": result.backend,
            "window_s": result.window_s,
            "dropped": result.dropped,
        }
        _emit(payload, args.json, f"{name}: {result.text}")
    return 1 if failures else 0


def cmd_listen(args: argparse.Namespace) -> int:
    from media.audio import AudioError, load_audio
    from media.vad import EndpointConfig
    from stt import create_transcriber
    from voicebot.listen import listen

    try:
        audio = load_audio(args.file)
    except AudioError as exc:
        _emit({"file": args.file, "error": str(exc)}, args.json, f"error: {exc}")
        return 1
    transcriber = create_transcriber(_stt_config(args))
    endpoint = EndpointConfig(hangover_ms=args.hangover_ms, max_utterance_ms=int(args.max_utterance_s * 1000))
    for utterance in listen(
        audio,
        transcriber,
        realtime=not args.fast,
        vad=args.vad,
        endpoint=endpoint,
        partial_interval_s=args.partial_interval,
    ):
        payload = {"file": args.file, **utterance.as_dict()}
        _emit(payload, args.json, f"[{utterance.start_s:6.2f}-{utterance.end_s:6.2f}] {utterance.text}")
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from media.audio import write_wav
    from tts import TTSConfig, TTSError, create_synthesizer

    config = TTSConfig(cache_dir=Path(args.cache_dir) if args.cache_dir else None)
    try:
        speech = create_synthesizer(config).synthesize(args.text, sample_rate=args.rate)
    except TTSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_wav(args.out, speech.samples, speech.sample_rate)
    payload = {
        "out": args.out,
        "sample_rate": speech.sample_rate,
        "duration_s": round(speech.duration_s, 3),
        "elapsed_s": round(speech.elapsed_s, 4),
        "engine": speech.engine,
        "source": speech.source,
        "spoken_text": speech.spoken_text,
    }
    _emit(payload, args.json, f"wrote {args.out} ({speech.duration_s:.2f} s)")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from models import asset_report

    started = time.perf_counter()
    report = asset_report(verify=args.action == "verify")
    failed = [s for s in report if s.required and not s.ok]
    for status in report:
        mark = "ok" if status.ok else ("MISSING/BAD" if status.required else "absent (optional)")
        _emit(
            status.as_dict(),
            args.json,
            f"{mark:18} {status.name:34} {status.path or ''}\n{'':18} {status.detail}",
        )
    if not args.json:
        verdict = "all required assets verified" if not failed else f"{len(failed)} required asset(s) failed"
        print(f"{verdict} in {time.perf_counter() - started:.1f} s")
    return 1 if failed else 0


def cmd_ask(args: argparse.Namespace) -> int:
    from dialog import load_default_engine, turn_to_dict

    turn = load_default_engine().ask(args.text, language=args.language)
    payload = turn_to_dict(turn)
    _emit(payload, args.json, f"[{payload['action']}/{payload['category']}] {payload['reply']}")
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    import numpy as np

    from dialog import load_default_engine
    from media.audio import Audio, AudioError, load_audio, silence, write_wav
    from media.vad import EndpointConfig
    from stt import create_transcriber
    from tts import TTSConfig, create_synthesizer
    from voicebot.call.session import CallConfig, CallSession
    from voicebot.simulate import parse_dtmf, simulate_call, write_recording

    try:
        presses = parse_dtmf(args.dtmf)
        caller = load_audio(args.file)
        if args.delay > 0:
            caller = Audio(np.concatenate([silence(args.delay), caller.samples]), caller.sample_rate)
    except (AudioError, ValueError) as exc:
        _emit({"file": args.file, "error": str(exc)}, args.json, f"error: {exc}")
        return 1
    config = CallConfig(
        vad=args.vad,
        endpoint=EndpointConfig(hangover_ms=args.hangover_ms),
        language=None if args.language == "auto" else args.language,
        no_input_s=args.no_input_s,
        max_call_s=args.max_call_s,
    )
    synthesizer = create_synthesizer(TTSConfig(cache_dir=Path(args.cache_dir) if args.cache_dir else None))
    session = CallSession(load_default_engine(), create_transcriber(_stt_config(args)), synthesizer, config)
    result = simulate_call(
        session,
        caller,
        presses,
        realtime=not args.fast,
        max_call_s=config.max_call_s,
        synthesizer=synthesizer,
    )
    record = result.record
    for data in record.turns:
        _emit(
            data,
            args.json,
            f"{data['caller_text'] or '(' + data['trigger'] + ')'} -> [{data['action']}] {data['bot_text']}",
        )
    summary = {
        "call": "ended",
        "reason": record.ended_reason,
        "duration_s": round(record.duration_s, 2),
        "turns": len(record.turns),
        "handoff": record.handoff,
        "transfer": record.transfer,
        "callback_requested": record.callback_requested,
    }
    _emit(summary, args.json, f"call ended: {record.ended_reason} after {record.duration_s:.1f} s")
    if args.out:
        write_wav(args.out, result.bot, result.sample_rate)
    if args.record:
        write_recording(result, args.record)
    return 0


def cmd_sip(args: argparse.Namespace) -> int:
    from voicebot.sip.commands import run_sip

    return run_sip(args, _stt_config(args))


def cmd_dial(args: argparse.Namespace) -> int:
    from voicebot.sip.commands import run_dial

    return run_dial(args, _stt_config(args))


def cmd_serve(args: argparse.Namespace) -> int:
    import dataclasses

    import uvicorn

    from voicebot.server.app import create_app
    from voicebot.server.bootstrap import ensure_admin_token
    from voicebot.server.config import load_config
    from voicebot.server.headtimeout import head_timeout_protocol
    from voicebot.server.logs import configure_logging

    config = load_config(args.config)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port), ("db_url", args.db)) if v}
    config = dataclasses.replace(config, **overrides).checked()
    configure_logging(config.log_format, logging.DEBUG if args.verbose else logging.INFO)
    ensure_admin_token(config.db_url, Path(args.token_file))
    app = create_app(config, demo_data=args.demo_data, reports_dir=Path(args.reports_dir))
    http = head_timeout_protocol(config.security.header_timeout_s)  # uvicorn has no header-read timeout
    # X-Forwarded-For is believed only from security.trusted_proxies (create_app), not uvicorn's default
    # of 127.0.0.1: a local client could otherwise name any address and dodge the login lockout.
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_config=None,
        access_log=False,
        http=http,
        proxy_headers=False,
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """정기분석 PDF (issue 19) from the inquiry records in the server's database."""
    import time
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from dialog import load_kb
    from outbound import store
    from outbound.report import write_report

    began = time.perf_counter()
    url = args.db
    store.upgrade(url)
    engine = store.make_engine(url)
    today = date.fromisoformat(args.today) if args.today else datetime.now(ZoneInfo("Asia/Seoul")).date()
    titles = {entry.id: entry.title for entry in load_kb()}
    try:
        with store.session_factory(engine)() as session:
            summary = write_report(
                session, Path(args.out), args.period, today, synthetic=args.demo_data, titles=titles
            )
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    summary["seconds"] = round(time.perf_counter() - began, 2)
    print(json.dumps({"out": args.out, **summary}, ensure_ascii=False))
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    """Personal data past its retention period goes now (issue 17; ``voicebot serve`` does it daily):
    counts per kind as JSON, nothing else."""
    import dataclasses
    from datetime import UTC, datetime

    from outbound import store
    from voicebot.server.config import load_config
    from voicebot.server.retention import places_from_config, run_retention

    config = load_config(args.config)
    if args.db:
        config = dataclasses.replace(config, db_url=args.db).checked()
    store.upgrade(config.db_url)
    engine = store.make_engine(config.db_url)
    try:
        counts = run_retention(
            store.session_factory(engine),
            config.retention,
            places_from_config(config),
            datetime.now(UTC),
            dry_run=args.dry_run,
        )
    finally:
        engine.dispose()
    days = {kind: config.retention.days(kind) for kind in counts}
    print(json.dumps({"dry_run": args.dry_run, "days": days, **counts}, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicebot", description="Korean public-sector voicebot")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("transcribe", help="transcribe audio files with Whisper")
    p.add_argument("files", nargs="+")
    p.add_argument("--json", action="store_true")
    _add_stt_options(p)
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("listen", help="stream a file through VAD and STT, one line per utterance")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.add_argument("--fast", action="store_true", help="do not pace the file in real time")
    p.add_argument("--vad", choices=["webrtc", "silero"], default="webrtc")
    p.add_argument("--hangover-ms", type=int, default=600)
    p.add_argument("--max-utterance-s", type=float, default=20.0)
    p.add_argument("--partial-interval", type=float, default=1.0, help="seconds between partials; 0 disables")
    _add_stt_options(p)
    p.set_defaults(func=cmd_listen)

    p = sub.add_parser("say", help="synthesise Korean speech to a WAV file")
    p.add_argument("text")
    p.add_argument("--out", required=True)
    p.add_argument("--rate", type=int, choices=[8000, 16000], default=16000)
    p.add_argument("--cache-dir")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_say)

    p = sub.add_parser("ask", help="what the dialog manager answers to one question (text)")
    p.add_argument("text")
    p.add_argument("--language", default="ko")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("call", help="simulate a whole inbound call from a WAV file of the caller's side")
    p.add_argument("file")
    p.add_argument("--dtmf", help='keypad presses as "DIGIT@SECONDS,...", e.g. "1@9.5,*@20"')
    p.add_argument("--delay", type=float, default=0.0, help="seconds of silence before the caller's audio")
    p.add_argument("--out", help="write the bot's audio to this WAV")
    p.add_argument("--record", help="write a stereo recording (caller left, bot right)")
    p.add_argument("--fast", action="store_true", help="do not pace the file in real time")
    p.add_argument("--json", action="store_true")
    p.add_argument("--vad", choices=["webrtc", "silero"], default="webrtc")
    p.add_argument("--hangover-ms", type=int, default=600)
    p.add_argument("--no-input-s", type=float, default=7.0)
    p.add_argument("--max-call-s", type=float, default=300.0)
    p.add_argument("--cache-dir", help="TTS prompt cache directory")
    _add_stt_options(p)
    p.set_defaults(func=cmd_call)

    from voicebot.sip.commands import add_sip_options

    p = sub.add_parser("sip", help="answer SIP calls with the ARS dialog until SIGINT/SIGTERM")
    add_sip_options(p, default_listen="127.0.0.1:5070")
    _add_stt_options(p)
    p.set_defaults(func=cmd_sip)

    p = sub.add_parser("dial", help="place one SIP call running a script; print its outcome")
    p.add_argument("uri")
    p.add_argument(
        "--script",
        required=True,
        help="line_check | line_notice: a fixed test script (campaigns use outbound scripts)",
    )
    p.add_argument("--max-call-s", type=float, default=300.0)
    p.add_argument("--no-stt", action="store_true", help="capture keypad answers only")
    p.add_argument("--send-dtmf", metavar="DIGITS", help="keypad digits (0-9*#A-D) sent right after answer")
    p.add_argument("--json", action="store_true")
    add_sip_options(p, default_listen="127.0.0.1:0")
    _add_stt_options(p)
    p.set_defaults(func=cmd_dial)

    from outbound.cli import add_commands as add_outbound_commands

    add_outbound_commands(
        sub,
        lambda p: (add_sip_options(p, default_listen="127.0.0.1:0"), _add_stt_options(p)),
        _open_sip_dialer,
    )

    p = sub.add_parser("serve", help="the server: SIP and browser calls, outbound worker, API, console")
    p.add_argument("--config", help="YAML configuration (see docs/serve.example.yaml); env vars override")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--db", help="database URL (default var/voicebot.db)")
    p.add_argument(
        "--token-file", default="var/admin-token", help="first start: the admin token is written here (0600)"
    )
    p.add_argument(
        "--demo-data",
        action="store_true",
        help="analytics show a seeded, labelled synthetic year of inquiries (never mixed with real ones)",
    )
    p.add_argument(
        "--reports-dir", default="var/reports", help="the weekly and monthly 정기분석 PDFs are written here"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("report", help="정기분석: the weekly or monthly Korean PDF report over the inquiries")
    p.add_argument("--period", choices=["week", "month"], required=True)
    p.add_argument("--out", required=True, help="the PDF to write")
    p.add_argument("--db", help="database URL (default: VOICEBOT_DB_URL or var/voicebot.db)")
    p.add_argument("--demo-data", action="store_true", help="report on the labelled synthetic demo history")
    p.add_argument("--today", help="YYYY-MM-DD: report the week or month before this day (default: today)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "retention",
        help="delete recordings, call words and chats past their retention period (counts as JSON)",
    )
    p.add_argument("action", choices=["run"])
    p.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    p.add_argument("--config", help="the serve YAML (retention periods, sip.record_dir, sip.handoff_dir)")
    p.add_argument(
        "--db", help="database URL (default: the config's db_url, VOICEBOT_DB_URL or var/voicebot.db)"
    )
    p.set_defaults(func=cmd_retention)

    p = sub.add_parser("models", help="list or verify model assets (offline)")
    p.add_argument("action", choices=["list", "verify"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly, as Unix tools do
        sys.stderr.close()
        return 0
    except Exception as exc:  # setup errors (missing model, bad option) end with a clear message
        from models import ModelAssetError
        from outbound.cli import handle_error

        code = handle_error(exc)
        if code is not None:
            return code
        from stt import STTError

        if isinstance(exc, ModelAssetError | STTError | ValueError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
