"""Fault tests (issue 17): real parts failing under load, and what must still hold.

1. PostgreSQL restarted mid-campaign: a ``voicebot campaign run`` worker (a real subprocess) on a private
   throwaway cluster recovers by itself; every call placed is recorded once, none dialled twice.
2. The recording folder cannot be written: the call goes on, the failure is counted and logged once.
3. STT or TTS raising inside one call: that caller hears an apology and the call is handed over or ended;
   another call at the same time goes on.
4. SIGTERM with calls up: ``voicebot serve`` ends them politely, releases outbound attempts in flight and
   exits within a bound.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import outbound
from outbound.schema import IN_CALL_STATES, Attempt, Campaign, CampaignContact

# --- 1. PostgreSQL restarted mid-campaign --------------------------------------------------------------


def pg_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in p.split("/")[4].split(".")]
    )
    for candidate in [*reversed(found), "/usr/local/bin"]:
        if Path(candidate, "initdb").is_file() and Path(candidate, "pg_ctl").is_file():
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    """A throwaway PostgreSQL cluster in ``root`` on its own port, run as ``postgres`` when we are root
    (initdb and postgres refuse root). Never the shared servers on 5432 or 55432."""

    def __init__(self, root: Path):
        self.bin = pg_bin()
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=timeout)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.root.chmod(0o755)
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip

    def start(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
            "-o", f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off",
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


def voicebot(*args: str) -> list[str]:
    return [sys.executable, "-m", "voicebot.cli", *args]


def ledger_ids(path: Path) -> list[int]:
    return [int(line.split()[0]) for line in path.read_text().splitlines()] if path.exists() else []


def create_campaign(url: str, people: Path, name: str) -> int:
    """A running campaign calling everyone in ``people`` now, any day (as ``voicebot campaign create``
    does, in-process: the test's time goes to the fault, not to a second interpreter starting)."""
    from outbound import service
    from outbound.scheduler import local_today

    outbound.store.upgrade(url)
    engine = outbound.make_engine(url)
    now = datetime.now(UTC)
    today = local_today(now)
    spec = service.CampaignSpec(
        name=name, kind="covid_notice", start_date=today, end_date=today + timedelta(days=1),
        windows="00:00-24:00", weekdays="월,화,수,목,금,토,일", max_attempts=3, retry_delay_min=0,
        channel_limit=4, pace_per_min=10000, skip_holidays=False,
        slots={"date": "11월 25일", "place": "중구 보건소"},
    )  # fmt: skip
    try:
        with outbound.session_factory(engine).begin() as session:
            campaign = service.create_campaign(session, spec, now=now)
            service.import_contacts_into(session, campaign.id, people.read_bytes(), now)
            assert service.start_campaign(session, campaign.id, now) > 0
            return campaign.id
    finally:
        engine.dispose()


PG_CONTACTS = 24
PG_CALL_S = 1.5


def test_postgresql_restarted_mid_campaign(tmp_path: Path) -> None:
    """Fault: the PostgreSQL server is stopped (fast: every connection cut) while a worker has calls in
    flight, kept down for 3 s, and started again. Must hold: the worker process recovers by itself (no
    restart) and finishes the campaign with exit 0; each of the calls it placed appears once in the
    dialer's ledger (no attempt dialled twice) and has its result recorded; everyone is reached by exactly
    one call (the calls in flight during the outage are recorded once the server is back, not closed as
    "result unknown" and called again); nothing is left dialling or claimed."""
    if pg_bin() is None or shutil.which("runuser") is None and os.geteuid() == 0:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) installed")
    cluster = PrivateCluster(Path("/tmp") / f"voicebot-fault-pg-{os.getpid()}-{tmp_path.name}")
    cluster.init()
    cluster.start()
    worker = None
    try:
        people = tmp_path / "people.csv"
        people.write_text(
            "이름,전화번호\n" + "".join(f"주민{i},010-3000-{i:04d}\n" for i in range(PG_CONTACTS)),
            encoding="utf-8",
        )
        cid = create_campaign(cluster.url, people, "재시작 시험")
        ledger, log = tmp_path / "calls.ledger", tmp_path / "worker.log"
        worker = subprocess.Popen(
            voicebot(
                "campaign", "run", str(cid), "--db", cluster.url, "--dialer", "simulated", "--until-done",
                "--worker-id", "fault-worker", "--channels", "4", "--lease-s", "60",
                "--call-seconds", str(PG_CALL_S), "--ledger", str(ledger), "--json",
            ),
            stdout=log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(ledger_ids(ledger)) < 6:  # the second pass's calls are in flight
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the worker placed too few calls"
            time.sleep(0.05)
        cluster.stop()
        in_flight_at_stop = len(ledger_ids(ledger))
        time.sleep(3.0)
        assert worker.poll() is None, (
            "the worker died while the database was down:\n" + log.read_text()[-3000:]
        )
        cluster.start()
        try:
            assert worker.wait(90) == 0, log.read_text()[-3000:]
        except subprocess.TimeoutExpired:
            pytest.fail("the worker did not finish after the restart:\n" + log.read_text()[-3000:])

        dialled = ledger_ids(ledger)
        assert len(dialled) > in_flight_at_stop  # it went on placing calls after the restart
        assert len(dialled) == len(set(dialled)), (
            f"an attempt was dialled twice: {Counter(dialled).most_common(3)}"
        )
        engine = outbound.make_engine(cluster.url)
        try:
            with outbound.session_factory(engine)() as s:
                attempts = list(s.scalars(select(Attempt).where(Attempt.campaign_id == cid)))
                assert sorted(a.id for a in attempts) == sorted(dialled)  # every attempt was placed once
                assert all(
                    a.state == "completed" and a.outcome == "answered" and not a.error for a in attempts
                ), [
                    (a.id, a.state, a.outcome, a.error) for a in attempts if a.error or a.state != "completed"
                ]
                assert sorted(Counter(a.contact_id for a in attempts).values()) == [1] * PG_CONTACTS
                assert not [a.id for a in attempts if a.state in IN_CALL_STATES or a.lease_owner]
                members = list(s.scalars(select(CampaignContact).where(CampaignContact.campaign_id == cid)))
                assert {m.status for m in members} == {"done"}
                assert s.scalar(select(Campaign.status).where(Campaign.id == cid)) == "completed"
        finally:
            engine.dispose()
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait(10)
        try:
            cluster.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(cluster.root, ignore_errors=True)
