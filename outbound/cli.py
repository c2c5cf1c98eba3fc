"""``voicebot campaign …``, ``voicebot alerts``, ``voicebot token …`` and ``voicebot db upgrade``.

Every command takes ``--db URL`` (default ``$VOICEBOT_DB_URL``, else the embedded SQLite file; a plain file
path is a SQLite file) and brings the schema up to date first. Output is JSON with ``--json``; ``campaign
list``, ``campaign results`` and ``alerts`` print Korean tables without it. Names and numbers are masked
unless ``--unmasked``. Errors the service refuses (unknown campaign, bad window, …) and a database that
cannot be opened print ``error: …`` and exit 1 without touching anything else.

Commands read the time through ``args.now`` (the real UTC clock; tests put a fixed one there) and take
calendar dates in Asia/Seoul.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class DatabaseUnusable(Exception):
    """``--db`` names a database that cannot be opened; ``str()`` is the one-line message (no password)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _print(payload: Any, as_json: bool, text: Callable[[Any], str] | None = None) -> None:
    """One JSON document with ``--json``; else ``text(payload)`` when there is a human form, else JSON."""
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, default=str), flush=True)
    elif text is not None:
        print(text(payload), flush=True)
    elif isinstance(payload, list):
        for item in payload:
            print(json.dumps(item, ensure_ascii=False, default=str))
    else:
        print(json.dumps(payload, ensure_ascii=False, default=str, indent=2), flush=True)


def _factory(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import SQLAlchemyError

    from outbound import store

    try:
        store.upgrade(args.db)
        return store.session_factory(store.make_engine(args.db))
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnusable(
            f"데이터베이스를 열 수 없습니다 ({_shown_url(args.db)}): {_db_problem(exc)} (cannot open --db)"
        ) from exc


def _shown_url(url: str | None) -> str:
    """The URL as it may be printed: password hidden; not repeated when it cannot even be parsed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from outbound import store

    try:
        return make_url(store.resolve_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "읽을 수 없는 주소"


def _db_problem(exc: BaseException) -> str:
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    if isinstance(exc, NoSuchModuleError | ArgumentError):
        return "주소를 이해할 수 없습니다; sqlite:///파일.db, 파일 경로 또는 postgresql://… 로 적어 주세요"
    if isinstance(exc, DBAPIError):  # the driver's own first line: what went wrong, never the password
        return str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
    if isinstance(exc, OSError):
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}" if exc.filename else str(exc)
    return type(exc).__name__


def _audit(
    args: argparse.Namespace,
    session: Any,
    action: str,
    target_kind: str,
    target_id: Any = None,
    detail: str = "",
) -> None:
    """Record what a command did in the audit log, as the API does for a token's holder: whoever runs the
    CLI on the server has the database itself, so the event names the operating-system user."""
    import getpass

    from outbound import audit, service

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = f"uid {os.getuid()}"
    actor = service.Principal(f"명령줄 ({user})", "admin")
    audit.record(session, actor, action, target_kind, target_id, detail, at=args.now())


# --- campaign -----------------------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace) -> int:
    from outbound import service
    from outbound.scheduler import local_today

    today = local_today(args.now())  # the campaign's calendar is Asia/Seoul's, not the server's or UTC's
    spec = service.CampaignSpec(
        name=args.name,
        kind=args.kind,
        start_date=args.start or today,
        end_date=args.end or (args.start or today) + timedelta(days=args.days - 1),
        windows=args.windows,
        weekdays=args.weekdays,
        recurrence=args.recurrence,
        every_weeks=args.every_weeks,
        max_attempts=args.max_attempts,
        retry_delay_min=args.retry_delay_min,
        channel_limit=args.channels,
        pace_per_min=args.pace,
        skip_holidays=not args.call_on_holidays,
        script=args.script,
        slots=dict(args.slot) or None,
    )
    data = Path(args.contacts).read_bytes() if args.contacts else None
    factory = _factory(args)
    now = args.now()
    with factory.begin() as session:
        campaign = service.create_campaign(session, spec, now=now, allow_script_files=True)
        _audit(args, session, "campaign.created", "campaign", campaign.id)
        imported = service.import_contacts_into(session, campaign.id, data, now) if data else None
        if imported:
            _audit(args, session, "contacts.imported", "campaign", campaign.id, _import_counts(imported))
        booked, notice = 0, None
        if not args.draft:
            try:
                booked = service.start_campaign(session, campaign.id, now)
                _audit(args, session, "campaign.started", "campaign", campaign.id)
            except service.NothingToCall as refused:  # created and imported all the same, as a draft
                notice = str(refused)
        out = {
            "campaign_id": campaign.id,
            "status": campaign.status,
            "imported": imported["added"] if imported else 0,
            "rejected": imported["rejected"] if imported else [],
            "skipped_do_not_call": imported["skipped_do_not_call"] if imported else 0,
            "warnings": imported["warnings"] if imported else [],
            "booked": booked,
            "notice": notice,  # why nothing was booked, if so
        }
    _print(out, args.json)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from outbound import service

    with _factory(args).begin() as session:
        out = service.import_contacts_into(session, args.id, Path(args.file).read_bytes(), args.now())
        _audit(args, session, "contacts.imported", "campaign", args.id, _import_counts(out))
    _print(out, args.json)
    return 0


def _import_counts(result: dict[str, Any]) -> str:
    return f"added={result['added']} rejected={len(result['rejected'])}"


def cmd_list(args: argparse.Namespace) -> int:
    from outbound import cli_text, service

    with _factory(args)() as session:
        out = [service.campaign_dict(session, c) for c in service.list_campaigns(session, args.status)]
    _print(out, args.json, cli_text.campaigns)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from outbound import service

    with _factory(args)() as session:
        out = service.campaign_dict(session, service.get_campaign(session, args.id))
    _print(out, args.json)
    return 0


_STATUS_AUDIT = {
    "start": "campaign.started",
    "pause": "campaign.paused",
    "resume": "campaign.resumed",
    "cancel": "campaign.cancelled",
}


def _status_command(action: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from outbound import service
        from outbound.booking import booking_notice

        now = args.now()
        with _factory(args).begin() as session:
            started: dict[str, Any] = {}
            if action == "start":
                booked = service.start_campaign(session, args.id, now)
                campaign = service.get_campaign(session, args.id)
                started = {"booked": booked, "notice": booking_notice(session, campaign, now)}
            elif action == "pause":
                service.pause_campaign(session, args.id)
            elif action == "resume":
                service.resume_campaign(session, args.id, now)
            else:
                service.cancel_campaign(session, args.id, now)
            _audit(args, session, _STATUS_AUDIT[action], "campaign", args.id)
            out = {**service.campaign_dict(session, service.get_campaign(session, args.id)), **started}
        _print(out, args.json)
        return 0

    return run


def cmd_results(args: argparse.Namespace) -> int:
    from outbound import cli_text, service
    from outbound.results import campaign_summary

    with _factory(args).begin() as session:
        service.get_campaign(session, args.id)
        total, attempts = service.list_attempts(
            session, service.AttemptFilter(campaign_id=args.id, outcome=args.outcome, limit=args.limit)
        )
        if args.unmasked and attempts:  # names, numbers, transcripts and keypad entries in clear
            _audit(
                args,
                session,
                "attempts.transcripts.viewed",
                "attempts",
                None,
                f"rows={len(attempts)} campaign={args.id}",
            )
        out = {
            "summary": campaign_summary(session, args.id),
            "attempts_total": total,
            "attempts": [service.attempt_dict(a, masked=not args.unmasked) for a in attempts],
        }
    _print(out, args.json, cli_text.results)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from outbound import service
    from outbound.results import export_attempts_csv

    with _factory(args).begin() as session:
        service.get_campaign(session, args.id)
        text = export_attempts_csv(session, args.id, args.out, unmasked=args.unmasked)
        action = "campaign.transcripts.exported" if args.unmasked else "campaign.exported"
        _audit(args, session, action, "campaign", args.id)
    if not args.out:
        sys.stdout.write(text)
    return 0


def _dialer(args: argparse.Namespace) -> tuple[Any, Callable[[], None]]:
    """The dialer the worker uses and how to shut it down."""
    from outbound.runner import SimulatedCallee, SimulatedDialer

    if args.dialer == "simulated":
        kwargs = {"call_seconds": args.call_seconds, "ledger": args.ledger}
        if args.callees:
            return SimulatedDialer.from_file(args.callees, **kwargs), lambda: None
        # Everyone answers and presses 1 ("fine" / "heard it") at every question.
        return SimulatedDialer(default=SimulatedCallee(replies=["1"] * 12), **kwargs), lambda: None
    return args.open_sip_dialer(args)


def cmd_run(args: argparse.Namespace) -> int:
    """The dialer worker: claims the campaign's due calls and places them until stopped (or done)."""
    from outbound import service
    from outbound.worker import Waiting, Worker, WorkerConfig

    factory = _factory(args)
    worker_id = args.worker_id or f"{socket.gethostname()}:{args.id}"
    with factory() as session:
        campaign = service.get_campaign(session, args.id)
        if campaign.status not in ("running", "paused"):
            raise service.Conflict(f"'{campaign.status}' 상태의 캠페인은 실행할 수 없습니다")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    dialer, close = _dialer(args)
    config = WorkerConfig(
        worker_id,
        channels=args.channels,
        lease_s=args.lease_s,
        campaign_ids=(args.id,),
        until_done=args.until_done,
        simulated_clock=args.clock == "simulated",
    )

    def say_wait(waiting: Waiting) -> None:  # stderr: stdout carries the one summary document
        due = waiting.next_due.isoformat() if waiting.next_due else None
        event = {"event": "waiting", "reason": waiting.reason, "next_due": due, "message": waiting.message}
        line = json.dumps(event, ensure_ascii=False) if args.json else f"대기 중: {waiting.message}"
        print(line, file=sys.stderr, flush=True)

    try:
        totals = Worker(factory, dialer, config, clock=args.now, on_wait=say_wait).run(stop)
    finally:
        close()
    with factory() as session:
        status = service.get_campaign(session, args.id).status
    out = {
        "campaign_id": args.id,
        "worker_id": worker_id,
        "passes": totals.passes,
        "outcomes": totals.outcomes,
        "alerts": totals.alerts,
        "errors": totals.errors,
        "unrecorded": totals.unrecorded,  # results stored as failed, result unknown (see the log)
    }
    _print({**out, "status": status}, args.json)
    return 0


# --- alerts, tokens, db -------------------------------------------------------------------------------


def cmd_alerts(args: argparse.Namespace) -> int:
    from outbound import cli_text, service

    with _factory(args).begin() as session:
        if args.ack is not None:
            alert = service.acknowledge_alert(session, args.ack, args.user, args.note or "", args.now())
            _audit(args, session, "alert.acknowledged", "alert", args.ack)
            # The note is shown to whoever has just written it; names and numbers stay masked.
            acked = service.alert_dict(alert, session, masked=not args.unmasked, show_note=True)
            _print(acked, args.json, cli_text.alert)
            return 0
        alerts = service.list_alerts(session, open_only=args.open, campaign_id=args.campaign)
        out = [service.alert_dict(a, session, masked=not args.unmasked) for a in alerts]
    _print(out, args.json, cli_text.alerts)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from outbound import service

    with _factory(args).begin() as session:
        if args.action == "create":
            expires_at = service.token_expiry(args.expires_days, args.now())
            token = service.create_token(session, args.name or "", args.role, expires_at)
            _audit(
                args, session, "token.created", "token", service.token_id(session, token), f"role={args.role}"
            )
            out: Any = {"token": token, "name": args.name, "role": args.role}
            if expires_at is not None:
                out["expires_at"] = expires_at.isoformat()
        elif args.action == "revoke":
            service.revoke_token(session, args.id, args.now())
            _audit(args, session, "token.revoked", "token", args.id)
            out = {"revoked": args.id}
        else:
            out = service.list_tokens(session, args.now())
    _print(out, args.json)
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from outbound import store

    _factory(args)  # migrates, or says in one line why the database cannot be opened
    _print({"upgraded": store.resolve_url(args.db).split("@")[-1]}, args.json)
    return 0


# --- parser -------------------------------------------------------------------------------------------


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: use YYYY-MM-DD") from exc


def _slot(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: use KEY=VALUE, e.g. place=중구 보건소")
    return key.strip(), value.strip()


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        default=os.environ.get("VOICEBOT_DB_URL"),
        help="database URL or SQLite file path (default: var/voicebot.db)",
    )
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(now=_utcnow)  # the clock commands read; not an option (tests put a fixed clock here)


# Opens the SIP dialer for ``campaign run --dialer sip`` from the parsed options: (dialer, close). Given by
# the program that puts the CLI together (voicebot.cli), since this package never imports voicebot.
OpenSipDialer = Callable[[argparse.Namespace], tuple[Any, Callable[[], None]]]


def add_commands(
    sub: Any, add_sip_options: Callable[[argparse.ArgumentParser], None], open_sip_dialer: OpenSipDialer
) -> None:
    campaign = sub.add_parser("campaign", help="outbound campaigns: create, run, results …")
    csub = campaign.add_subparsers(dest="campaign_command", required=True)

    p = csub.add_parser("create", help="create a campaign, import its contacts and start it")
    p.add_argument("--kind", required=True, choices=["covid_notice", "welfare_check"])
    p.add_argument("--name", required=True)
    p.add_argument("--contacts", help="contact CSV (name, phone, optional tags, preferred times, notes)")
    p.add_argument("--start", type=_day, help="first calling day (default today)")
    p.add_argument("--end", type=_day, help="last calling day (default start + --days - 1)")
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--windows", default="10:00-12:00;14:00-17:00", help="daily windows, Asia/Seoul")
    p.add_argument("--weekdays", default="월,화,수,목,금")
    p.add_argument("--recurrence", help="round days, e.g. 월,목 (welfare calls every Monday and Thursday)")
    p.add_argument("--every-weeks", type=int, default=1)
    p.add_argument("--max-attempts", type=int, default=3)
    p.add_argument("--retry-delay-min", type=int, default=30)
    p.add_argument("--channels", type=int, default=4, help="calls at once")
    p.add_argument("--pace", type=int, default=30, help="calls started per minute")
    p.add_argument("--call-on-holidays", action="store_true")
    p.add_argument(
        "--script", help="bundled script name or an edited YAML script file (default: the kind's own)"
    )
    p.add_argument(
        "--slot",
        action="append",
        type=_slot,
        default=[],
        metavar="KEY=VALUE",
        help="script value for everyone",
    )
    p.add_argument("--draft", action="store_true", help="create without starting")
    _common(p)
    p.set_defaults(func=cmd_create)

    p = csub.add_parser("import", help="import more contacts into a campaign")
    p.add_argument("id", type=int)
    p.add_argument("file")
    _common(p)
    p.set_defaults(func=cmd_import)

    p = csub.add_parser("list", help="campaigns with progress")
    p.add_argument("--status")
    _common(p)
    p.set_defaults(func=cmd_list)

    p = csub.add_parser("show", help="one campaign with progress")
    p.add_argument("id", type=int)
    _common(p)
    p.set_defaults(func=cmd_show)

    for action in ("start", "pause", "resume", "cancel"):
        p = csub.add_parser(action, help=f"{action} a campaign")
        p.add_argument("id", type=int)
        _common(p)
        p.set_defaults(func=_status_command(action))

    p = csub.add_parser("run", help="dialer worker: place the campaign's due calls")
    p.add_argument("id", type=int)
    p.add_argument("--dialer", choices=["sip", "simulated"], default="sip")
    p.add_argument("--until-done", action="store_true", help="stop when nothing is booked or in a call")
    p.add_argument(
        "--clock", choices=["real", "simulated"], default="real", help="simulated: jump to each due time"
    )
    p.add_argument("--worker-id", help="stable id of this worker (a restart releases what it held)")
    p.add_argument("--channels", type=int, default=4, help="calls this worker places at once")
    p.add_argument("--lease-s", type=float, default=600.0)
    sim = p.add_argument_group("SIMULATED dialer (tests, demos)")
    sim.add_argument("--callees", help="YAML: default and per-number outcomes and replies")
    sim.add_argument("--call-seconds", type=float, default=0.0, help="real seconds each simulated call takes")
    sim.add_argument("--ledger", help="append one line per call placed (crash tests)")
    sip = p.add_argument_group("SIP dialer")
    sip.add_argument(
        "--uri-template", default="sip:{phone}@127.0.0.1:5060", help="{phone} is the E.164 number"
    )
    add_sip_options(p)
    _common(p)
    p.set_defaults(func=cmd_run, open_sip_dialer=open_sip_dialer)

    p = csub.add_parser("results", help="summary and attempts of a campaign")
    p.add_argument("id", type=int)
    p.add_argument("--outcome")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--unmasked", action="store_true", help="names, numbers and transcripts in clear")
    _common(p)
    p.set_defaults(func=cmd_results)

    p = csub.add_parser("export", help="attempts as CSV (Excel-ready)")
    p.add_argument("id", type=int)
    p.add_argument("--out", help="file (default stdout)")
    p.add_argument("--unmasked", action="store_true")
    _common(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("alerts", help="alerts for social workers; --ack ID --note TEXT acknowledges one")
    p.add_argument("--open", action="store_true", help="only those not yet acknowledged")
    p.add_argument("--campaign", type=int)
    p.add_argument("--ack", type=int, metavar="ID")
    p.add_argument("--note")
    p.add_argument("--user", default=os.environ.get("USER", "staff"))
    p.add_argument("--unmasked", action="store_true")
    _common(p)
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("token", help="API and console tokens (roles: viewer, operator, admin)")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("--name")
    p.add_argument("--role", default="viewer", choices=["viewer", "operator", "admin"])
    p.add_argument("--id", type=int)
    p.add_argument(
        "--expires-days", type=int, metavar="N", help="create: the token stops working after N days (1-3650)"
    )
    _common(p)
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("db", help="database schema")
    p.add_argument("action", choices=["upgrade"])
    _common(p)
    p.set_defaults(func=cmd_db)


def handle_error(exc: BaseException) -> int | None:
    """Exit code for an outbound error the CLI reports in one line, else None."""
    from outbound.service import ServiceError

    if isinstance(exc, ServiceError | FileNotFoundError | DatabaseUnusable):
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return None
