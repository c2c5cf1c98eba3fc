"""Outbound scheduler throughput: a 10,000-person campaign through the SIMULATED dialer.

    python -m benchmarks.outbound --json [--contacts 10000] [--db URL] [--batch 16]

Imports the contacts from CSV, books the first calls, then runs the worker loop (claim, dial, record,
retry) on a simulated clock until nothing is left. A tenth of the people are busy at first and a tenth never
answer (retried up to 3 attempts), so retries and unreachable alerts are part of the load. Prints the time
of each phase, **attempt decisions per second** (attempts claimed, recorded and retried or closed, per second
of wall time; the simulated calls take no time, so this is the scheduler and the database alone), and the
duplicate checks: no attempt dialled twice, nobody with two attempts at once, nobody called after answering.
Target: at least 500 decisions per second on SQLite on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from outbound import service, store
from outbound.runner import SimulatedCallee, SimulatedDialer, run_until_done
from outbound.schema import Alert, Attempt

SEOUL = ZoneInfo("Asia/Seoul")


def phone(i: int) -> str:
    return f"010-{3000 + i // 10000:04d}-{i % 10000:04d}"


def e164(i: int) -> str:
    return "+8210" + phone(i)[4:].replace("-", "")


def run(contacts: int, db: str | None, batch: int) -> dict[str, object]:
    tmp = None
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-outbound-")
        db = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    store.upgrade(db)
    engine = store.make_engine(db)
    factory = store.session_factory(engine)
    start = datetime(2026, 11, 23, 9, 0, tzinfo=SEOUL)  # a Monday
    csv_bytes = ("이름,전화번호\n" + "".join(f"주민{i},{phone(i)}\n" for i in range(contacts))).encode(
        "cp949"
    )
    spec = service.CampaignSpec(
        name="벤치마크 안심콜",
        kind="welfare_check",
        start_date=date(2026, 11, 23),
        end_date=date(2026, 12, 31),
        windows="09:00-18:00",
        max_attempts=3,
        retry_delay_min=30,
        channel_limit=batch,
        pace_per_min=10_000,
    )
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with factory.begin() as session:
        campaign = service.create_campaign(session, spec)
        imported = service.import_contacts_into(session, campaign.id, csv_bytes, start)
        campaign_id = campaign.id
    timings["import_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with factory.begin() as session:
        booked = service.start_campaign(session, campaign_id, start)
    timings["book_s"] = time.perf_counter() - t0

    callees = {}
    for i in range(contacts):
        if i % 10 == 1:
            callees[e164(i)] = SimulatedCallee(outcomes=["busy", "answered"], replies=["1"] * 5)
        elif i % 10 == 2:
            callees[e164(i)] = SimulatedCallee(outcomes=["no_answer"])
        else:
            callees[e164(i)] = SimulatedCallee(replies=["1"] * 5)
    dialer = SimulatedDialer(callees)
    t0 = time.perf_counter()
    reports = run_until_done(factory, dialer, "bench", start, limit=batch)
    timings["run_s"] = time.perf_counter() - t0

    with factory() as session:
        attempts = session.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id)).all()
        alerts = Counter(session.scalars(select(Alert.kind)))
        status = service.get_campaign(session, campaign_id).status
        open_left = session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.state != "completed")
        )
    answered = Counter(a.contact_id for a in attempts if a.outcome == "answered")
    decisions = sum(r.claimed for r in reports)
    engine.dispose()
    if tmp is not None:
        tmp.cleanup()
    return {
        "database": db.split("://")[0],
        "contacts": contacts,
        "imported": imported["added"],
        "booked": booked,
        "attempts": len(attempts),
        "outcomes": dict(Counter(a.outcome for a in attempts)),
        "alerts": dict(alerts),
        "campaign_status": status,
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
        "decisions": decisions,
        "decisions_per_s": round(decisions / timings["run_s"], 1),
        "import_rows_per_s": round(contacts / timings["import_s"], 1),
        "book_per_s": round(booked / timings["book_s"], 1),
        "total_s": round(sum(timings.values()), 2),
        "checks": {
            "attempts_dialled_twice": len(dialer.dialled) - len(set(dialer.dialled)),
            "people_answered_twice": sum(n > 1 for n in answered.values()),
            "attempts_left_open": open_left,
        },
        "target_decisions_per_s": 500,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--batch", type=int, default=16, help="attempts claimed per pass (channel limit)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.contacts, args.db, args.batch)
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
