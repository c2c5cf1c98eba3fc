"""Crash safety and shared workers, with real processes: two `voicebot campaign run` workers share one
campaign of 1,000 people on a real PostgreSQL server; one is killed with SIGKILL in the middle and
restarted. Every call is written (fsync) to a ledger by the SIMULATED dialer before it is placed, so the
test counts calls even across the kill: no attempt dialled twice, no person in two calls at once, nobody
called again after they answered, and every placed call has its result (or, for the calls cut by the
kill, an explicit "result unknown" and a retry)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

import outbound
from outbound.schema import Attempt, CampaignContact

CONTACTS = 1000
CALL_S = 0.02


def voicebot(*args: str) -> list[str]:
    return [sys.executable, "-m", "voicebot.cli", *args]


def worker(db: str, campaign_id: int, name: str, ledger: Path, log: Path) -> subprocess.Popen:
    cmd = voicebot(
        "campaign",
        "run",
        str(campaign_id),
        "--db",
        db,
        "--dialer",
        "simulated",
        "--until-done",
        "--worker-id",
        name,
        "--channels",
        "4",
        "--lease-s",
        "30",
        "--call-seconds",
        str(CALL_S),
        "--ledger",
        str(ledger),
        "--json",
    )
    return subprocess.Popen(cmd, stdout=log.open("a"), stderr=subprocess.STDOUT)


def ledger_lines(*paths: Path) -> list[tuple[int, str, float]]:
    out = []
    for path in paths:
        if path.exists():
            for line in path.read_text().splitlines():
                attempt, phone, at = line.split()
                out.append((int(attempt), phone, float(at)))
    return out


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_kill_9_a_worker_mid_campaign_then_restart(backend: str, tmp_path: Path, request) -> None:
    db = (
        request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'crash.db'}"
    )
    people = tmp_path / "people.csv"
    people.write_text(
        "이름,전화번호\n"
        + "".join(f"주민{i},010-{2000 + i // 10000:04d}-{i % 10000:04d}\n" for i in range(CONTACTS)),
        encoding="utf-8",
    )
    created = subprocess.run(
        voicebot(
            "campaign", "create", "--kind", "covid_notice", "--name", "크래시 시험", "--contacts", str(people),
            "--windows", "00:00-24:00", "--weekdays", "월,화,수,목,금,토,일", "--call-on-holidays",
            "--retry-delay-min", "0", "--max-attempts", "3", "--channels", "8", "--pace", "10000", "--slot", "date=11월 25일", "--slot", "place=중구 보건소",
            "--db", db, "--json",
        ),
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    info = json.loads(created.stdout)
    assert info["imported"] == CONTACTS and info["booked"] == CONTACTS
    cid = info["campaign_id"]

    ledgers = {name: tmp_path / f"{name}.ledger" for name in ("a", "b")}
    logs = {name: tmp_path / f"{name}.log" for name in ("a", "b")}
    a = worker(db, cid, "worker-a", ledgers["a"], logs["a"])
    b = worker(db, cid, "worker-b", ledgers["b"], logs["b"])
    deadline = time.monotonic() + 120
    while len(ledger_lines(ledgers["a"])) < 150:
        assert a.poll() is None, logs["a"].read_text()[-2000:]
        assert time.monotonic() < deadline, "worker a placed too few calls"
        time.sleep(0.02)
    a.send_signal(signal.SIGKILL)
    a.wait(10)
    killed_at = len(ledger_lines(ledgers["a"]))
    a2 = worker(db, cid, "worker-a", ledgers["a"], logs["a"])
    for proc, name in ((a2, "a"), (b, "b")):
        try:
            assert proc.wait(300) == 0, logs[name].read_text()[-3000:]
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"worker {name} did not finish: {logs[name].read_text()[-3000:]}")

    calls = ledger_lines(ledgers["a"], ledgers["b"])
    assert len(ledger_lines(ledgers["a"])) > killed_at and ledger_lines(ledgers["b"])  # both did real work
    attempt_ids = [c[0] for c in calls]
    assert len(attempt_ids) == len(set(attempt_ids)), "an attempt was dialled twice"
    by_person: dict[str, list[float]] = defaultdict(list)
    for _, phone, at in calls:
        by_person[phone].append(at)
    assert len(by_person) == CONTACTS
    for times in by_person.values():  # never two calls to one person at once
        times.sort()
        assert all(later - earlier >= CALL_S * 0.9 for earlier, later in zip(times, times[1:], strict=False))

    engine = outbound.make_engine(db)
    with outbound.session_factory(engine)() as s:
        attempts = {a.id: a for a in s.scalars(select(Attempt).where(Attempt.campaign_id == cid))}
        assert set(attempt_ids) <= set(attempts)
        for attempt_id in attempt_ids:  # no lost result
            attempt = attempts[attempt_id]
            assert attempt.state == "completed" and attempt.outcome, attempt_id
        unknown = [a for a in attempts.values() if "result unknown" in (a.error or "")]
        assert len(unknown) <= 4  # only the calls in flight at the kill (4 channels)
        answered_per_person = defaultdict(int)
        for attempt in attempts.values():
            answered_per_person[attempt.contact_id] += attempt.outcome == "answered" and not attempt.error
        assert sorted(set(answered_per_person.values())) == [1]  # everyone reached exactly once
        assert (
            s.scalar(
                select(func.count()).select_from(CampaignContact).where(CampaignContact.status == "done")
            )
            == CONTACTS
        )
        assert (
            s.scalar(select(outbound.schema.Campaign.status).where(outbound.schema.Campaign.id == cid))
            == "completed"
        )
    engine.dispose()
    assert os.path.getsize(ledgers["b"]) > 0
