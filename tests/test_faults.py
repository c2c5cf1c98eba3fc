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


def has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


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
    if pg_bin() is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) installed")
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not has_user("postgres")):
        pytest.skip("running as root without a postgres user and runuser to start PostgreSQL as")
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


# --- 2. The recording folder cannot be written ----------------------------------------------------------

SIP_DATA = Path(__file__).parent / "data" / "sip"


def sipp_call(scenario: str, sip_port: int, timeout_s: float = 60) -> subprocess.Popen:
    """One SIPp caller (G.711) running ``tests/data/sip/<scenario>.xml`` against 127.0.0.1:sip_port."""
    from benchmarks.serving import free_port as free

    cmd = [
        shutil.which("sipp"), "-sf", str(SIP_DATA / f"{scenario}.xml"), "-i", "127.0.0.1", "-mi", "127.0.0.1",
        "-p", str(free(socket.SOCK_DGRAM)), "-mp", str(free(socket.SOCK_DGRAM) & ~1), "-m", "1", "-nostdin",
        "-timeout", f"{timeout_s:.0f}s", "-s", "bot", f"127.0.0.1:{sip_port}",
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp not installed (bash scripts/test-deps.sh)")
def test_recording_folder_unwritable_the_call_goes_on(tmp_path: Path) -> None:
    """Fault: ``sip.record_dir`` cannot be written. We run as root, so a read-only mode would not stop us:
    the folder's parent is a regular file, so creating the folder (or a file in it) fails with ENOTDIR for
    root too. Must hold: a SIPp caller is answered and its call runs to the caller's BYE (SIPp exits 0);
    ``voicebot_recording_failures_total{transport="sip"}`` counts 1 and the call is counted as usual; the
    server logs exactly one line about it, naming the call id and the error type, with no traceback and
    nothing of the caller (number, words)."""
    import httpx

    from benchmarks.serving import free_port as free
    from benchmarks.serving import serving

    blocker = tmp_path / "recordings-parent"
    blocker.write_text("a file where the recordings folder's parent should be\n")
    sip_port = free(socket.SOCK_DGRAM)
    config = (
        f"sip: {{enabled: true, listen: '127.0.0.1:{sip_port}', record_dir: '{blocker / 'calls'}'}}\n"
        "webrtc: {enabled: false}\n"
    )
    with serving(tmp_path, config) as served:
        caller = sipp_call("uac_pcma_dtmf", sip_port)
        out, _ = caller.communicate(timeout=90)
        assert caller.returncode == 0, out[-2000:]
        with httpx.Client(base_url=served.url, headers=served.admin, timeout=30) as http:
            deadline = time.monotonic() + 20
            while True:  # the server counts the call once its driver has finished
                metrics = http.get("/metrics").text
                if (
                    metric(metrics, "voicebot_recording_failures_total", transport="sip")
                    or time.monotonic() > deadline
                ):
                    break
                time.sleep(0.2)
        assert metric(metrics, "voicebot_recording_failures_total", transport="sip") == 1.0
        assert (
            sum(
                float(line.rsplit(" ", 1)[1])
                for line in metrics.splitlines()
                if line.startswith("voicebot_calls_total{") and 'transport="sip"' in line
            )
            == 1.0
        )
    log = served.log.read_text()
    lines = [line for line in log.splitlines() if "recording" in line.lower() and "could not" in line]
    assert len(lines) == 1, lines
    assert "NotADirectoryError" in lines[0] and "sipp" not in lines[0] and "Traceback" not in log
    assert not blocker.with_name("calls").exists() and blocker.read_text().startswith("a file")


# --- 3. STT or TTS raising inside one call ---------------------------------------------------------------

FRAME_S = 0.02


class Line:
    """A phone line for one call, transport and inbox of the driver at once (as in tests/test_driver.py):
    caller frames at stream times, one bot frame taken off the driver's queue per caller frame, keys and a
    hang-up at given times, transfers answered 202 then the caller's side leaving (a blind transfer).
    ``hold`` = (stream second, event): the line waits there until the event is set (another call's turn)."""

    name = "fake"
    wire_rate = 8_000
    can_transfer = True

    def __init__(self, events=None, *, audio=None, hold=None, max_s: float = 60.0):
        import numpy as np

        self.audio = np.zeros(0, np.float32) if audio is None else np.asarray(audio, np.float32)
        self.schedule = sorted((round(t / FRAME_S), e) for t, es in (events or {}).items() for e in es)
        self.hold = (round(hold[0] / FRAME_S), hold[1]) if hold else None
        self.max_frames = int(max_s / FRAME_S)
        self.frame = 0
        self.stopped = False
        self.queued: list = []
        self.outgoing = None
        self.heard: list[bytes] = []
        self.hangups = 0
        self.transfers: list[tuple[str, dict]] = []
        self.published: list[dict] = []

    def attach(self, driver):
        self.outgoing = driver.outgoing
        return driver

    def put(self, item) -> None:
        self.queued.append(item)

    def get(self, block: bool = True, timeout: float | None = None):
        import queue

        import numpy as np

        if self.hold and self.frame >= self.hold[0]:
            assert self.hold[1].wait(60), "the other call never got there"
            self.hold = None
        while self.schedule and self.schedule[0][0] <= self.frame:
            kind, value = self.schedule.pop(0)[1]
            self.queued.append((kind, value))
        if self.queued:
            return self.queued.pop(0)
        if self.stopped or self.frame >= self.max_frames:
            raise queue.Empty
        size = int(16_000 * FRAME_S)
        chunk = self.audio[self.frame * size : (self.frame + 1) * size]
        self.heard.append(self.outgoing.pop())
        self.frame += 1
        return ("audio", (np.pad(chunk, (0, size - len(chunk))), 16_000))

    def hangup(self) -> None:
        self.hangups += 1
        self.stopped = True

    def transfer(self, target: str, headers: dict[str, str]) -> None:
        self.transfers.append((target, headers))
        self.schedule.append((self.frame + 25, ("hangup", None)))
        self.schedule.sort(key=lambda item: item[0])

    def send_dtmf(self, digits: str) -> None:
        pass

    def publish(self, message: dict) -> None:
        self.published.append(message)

    def bot_audio(self, from_frame: int = 0):
        import numpy as np

        return np.frombuffer(b"".join(self.heard[from_frame:]), "<i2").astype(np.float32) / 32768.0


def rms(x) -> float:
    import numpy as np

    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


class Ear:
    """Stand-in transcriber: every utterance reads as ``text``, or raises once ``fails`` is set."""

    in_flight = 0

    def __init__(self, text: str = "", line: Line | None = None, fails: bool = False):
        self.text, self.line, self.fails = text, line, fails
        self.failed_at_frame: int | None = None

    def transcribe(self, samples, *args, **kwargs):
        from stt.types import Transcript

        if self.fails:
            self.failed_at_frame = self.line.frame if self.line else 0
            raise RuntimeError("STT engine crashed")
        return Transcript(self.text, "ko", 1.0, len(samples) / 16_000, 0.0, "stand-in")


class Voice:
    """The real espeak-ng voice, remembering what it was asked to say; ``stream`` (the handler's replies)
    raises TTSError for a reply containing ``fail_on``, as a synthesis engine that broke would."""

    def __init__(self, real, fail_on: str | None = None, line: Line | None = None):
        self.real, self.fail_on, self.line = real, fail_on, line
        self.said: list[str] = []
        self.failed_at_frame: int | None = None

    def synthesize(self, text: str, sample_rate: int = 16_000):
        self.said.append(text)
        return self.real.synthesize(text, sample_rate)

    def stream(self, text: str, sample_rate: int = 16_000):
        from tts import TTSError

        if self.fail_on and self.fail_on in text:
            self.failed_at_frame = self.line.frame if self.line else 0
            raise TTSError("synthesis engine stopped responding")
        self.said.append(text)
        yield from self.real.stream(text, sample_rate)


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    from tts import TTSConfig, create_synthesizer
    from voicebot.sip.shared import LockedSynthesizer

    return LockedSynthesizer(create_synthesizer(TTSConfig(cache_dir=tmp_path_factory.mktemp("tts-cache"))))


def two_calls(engine, failing, healthy, tmp_path):
    """Run the failing call and a healthy one at the same time, each on its own driver thread; the healthy
    call is held in the middle (after its key, before its hang-up) until the failing call is over."""
    from voicebot.call.driver import CallDriver, DriverConfig
    from voicebot.call.handoff import HandoffRegistry
    from voicebot.call.record import CallRecord

    config = DriverConfig(agent_uri="sip:agent@127.0.0.1", transfer_timeout_s=2.0, media_timeout_s=0.5)
    handoffs = HandoffRegistry(tmp_path)
    drivers = []
    for call_id, (session, line, synthesizer) in (("bad", failing), ("good", healthy)):
        driver = line.attach(
            CallDriver(
                CallRecord(call_id, transport="fake"),
                session,
                line,
                config,
                inbox=line,
                synthesizer=synthesizer,
                handoffs=handoffs,
            )
        )
        drivers.append(driver)
    bad, good = drivers
    healthy[1].hold = (round(6.0 / FRAME_S), bad.done)
    for driver in drivers:
        driver.start()
    for driver in drivers:
        assert driver.join(60), f"call {driver.record.call_id} did not end"
    return bad.record, good.record, handoffs


def healthy_call(engine, voice):
    from voicebot.call.session import CallConfig, CallSession

    line = Line({3.0: [("dtmf", "2")], 12.0: [("hangup", "caller_hangup")]})
    return CallSession(engine, Ear(), voice, CallConfig(), call_id="good"), line, voice


def assert_healthy(record, line) -> None:
    assert record.error is None and record.ended_reason == "caller_hangup" and record.hangup_by == "remote"
    assert [(t["caller_text"], t["category"]) for t in record.turns if t["trigger"] == "dtmf"] == [
        ("2", "water")
    ]
    assert line.transfers == [] and line.hangups == 0 and rms(line.bot_audio()) > 0.01


def test_stt_raising_in_one_call_apologises_and_hands_that_call_over(engine, voice, tmp_path):
    """Fault: the transcriber raises while a caller's question is decoded. Must hold: that caller hears
    an apology ("죄송합니다. 잠시 문제가 생겨 상담원에게 연결해 드리겠습니다.") and is transferred to an
    agent with a handoff record (reason system_error); the error is in the call's record; another call
    going on at the same time keeps its menu, its keys and its own ending."""
    import numpy as np

    from media.audio import silence
    from voicebot.call.driver import FAILED_TRANSFER_KO
    from voicebot.call.session import CallConfig, CallSession

    question = voice.synthesize("수도 요금이 얼마나 나왔는지 알고 싶어요", sample_rate=16_000).samples
    line = Line(audio=np.concatenate([silence(1.0), question * 0.8, silence(8.0)]))
    ear = Ear("수도 요금 문의", line, fails=True)
    spy = Voice(voice)
    failing = (CallSession(engine, ear, spy, CallConfig(), call_id="bad"), line, spy)
    healthy = healthy_call(engine, voice)

    bad, good, handoffs = two_calls(engine, failing, healthy, tmp_path)

    assert ear.failed_at_frame is not None
    assert bad.ended_reason == "error" and "RuntimeError" in bad.error and "STT" in bad.error
    assert FAILED_TRANSFER_KO in spy.said
    assert rms(line.bot_audio(ear.failed_at_frame)) > 0.01  # the apology was heard after the failure
    ((target, headers),) = line.transfers
    assert target == "sip:agent@127.0.0.1" and headers == {"X-Handoff-Id": bad.handoff_id}
    assert bad.transfer == "ok" and handoffs.get(bad.handoff_id)["reason"] == "system_error"
    assert_healthy(good, healthy[1])


def test_tts_raising_in_one_call_apologises_and_hands_that_call_over(engine, voice, tmp_path):
    """Fault: the synthesizer raises TTSError for a reply in the middle of a call (the water menu after
    key 2), so that reply cannot be spoken. Must hold: the caller is not left in silence: an apology is
    spoken (by the driver, which synthesizes it apart from the failed reply) and the call goes to an
    agent; the error is in the call's record; another call at the same time is unaffected."""
    from dialog import prompts
    from voicebot.call.driver import FAILED_TRANSFER_KO
    from voicebot.call.session import CallConfig, CallSession

    line = Line({3.0: [("dtmf", "2")]})
    water_menu = engine.new_session().on_dtmf("2").reply  # what key 2 answers on the main menu
    assert water_menu and water_menu != prompts.GREETING
    spy = Voice(voice, fail_on=water_menu[:20], line=line)
    failing = (CallSession(engine, Ear(), spy, CallConfig(), call_id="bad"), line, spy)
    healthy = healthy_call(engine, voice)

    bad, good, _ = two_calls(engine, failing, healthy, tmp_path)

    assert spy.failed_at_frame is not None
    assert bad.ended_reason == "error" and "TTSError" in bad.error
    assert spy.said[-1] == FAILED_TRANSFER_KO
    assert rms(line.bot_audio(spy.failed_at_frame)) > 0.01
    assert len(line.transfers) == 1 and bad.transfer == "ok" and bad.handoff["reason"] == "system_error"
    assert_healthy(good, healthy[1])


# --- 4. SIGTERM with calls up ---------------------------------------------------------------------------


def sipp_callee(scenario: str, port: int, timeout_s: float = 90) -> subprocess.Popen:
    """A SIPp UAS on 127.0.0.1:port running ``tests/data/sip/<scenario>.xml`` for one call."""
    from benchmarks.serving import free_port as free

    cmd = [
        shutil.which("sipp"), "-sf", str(SIP_DATA / f"{scenario}.xml"), "-i", "127.0.0.1", "-mi", "127.0.0.1",
        "-p", str(port), "-mp", str(free(socket.SOCK_DGRAM) & ~1), "-m", "1", "-nostdin",
        "-timeout", f"{timeout_s:.0f}s",
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


STOP_BOUND_S = 20.0


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp not installed (bash scripts/test-deps.sh)")
def test_sigterm_with_calls_up_ends_them_politely_and_releases_outbound(tmp_path: Path) -> None:
    """Fault: ``voicebot serve`` gets SIGTERM (a service manager stopping it) while an inbound SIP call is
    up and an outbound campaign call (SIP dialer) is in progress. Must hold: both far ends get a BYE from
    the server (each SIPp ends its scenario, which waits for that BYE, with exit 0); the process exits
    within 20 s with 0 or by SIGTERM; the outbound attempt cut by the stop is not left dialling or claimed:
    it is closed, and the person is booked again (a scheduled attempt) to be called later."""
    import httpx

    from benchmarks.serving import free_port as free
    from benchmarks.serving import serving

    sip_port, callee_port = free(socket.SOCK_DGRAM), free(socket.SOCK_DGRAM)
    callee = sipp_callee("uas_answer_wait_bye", callee_port)
    config = (
        f"sip: {{enabled: true, listen: '127.0.0.1:{sip_port}'}}\n"
        "webrtc: {enabled: false}\n"
        f"outbound: {{enabled: true, dialer: sip, channels: 1, uri_template: 'sip:{{phone}}@127.0.0.1:{callee_port}'}}\n"
    )
    caller = None
    stopped_in = None
    try:
        with serving(tmp_path, config) as served:
            today = datetime.now(UTC).date()
            body = {
                "name": "종료 시험", "kind": "welfare_check", "start_date": today.isoformat(),
                "end_date": (today + timedelta(days=6)).isoformat(), "windows": "00:00-23:59",
                "weekdays": "월,화,수,목,금,토,일", "skip_holidays": False, "channel_limit": 1,
                "retry_delay_min": 1,
            }  # fmt: skip
            with httpx.Client(base_url=served.url, headers=served.admin, timeout=60) as http:
                cid = http.post("/api/campaigns", json=body).json()["id"]
                rows = "이름,전화번호\n어르신,010-9000-0001\n"
                assert http.post(f"/api/campaigns/{cid}/contacts", content=rows.encode()).status_code < 300
                assert http.post(f"/api/campaigns/{cid}/start").status_code < 300
                caller = sipp_call("uac_wait_bye", sip_port, timeout_s=90)
                deadline = time.monotonic() + 60
                while True:  # both calls up: the inbound one counted live, the outbound one in a call
                    live = metric(http.get("/metrics").text, "voicebot_calls_in_progress", transport="sip")
                    states = http.get(f"/api/campaigns/{cid}").json()["progress"]["attempts"]
                    if live >= 1 and any(states.get(state) for state in IN_CALL_STATES):
                        break
                    assert caller.poll() is None and callee.poll() is None, "a call ended before the stop"
                    assert time.monotonic() < deadline, f"calls not up: live {live}, attempts {states}"
                    time.sleep(0.3)
            time.sleep(3.0)  # the callee answers at once: both calls are talking now
            stop_at = time.monotonic()
        stopped_in = time.monotonic() - stop_at  # serving() sent SIGTERM and waited for the exit
    finally:
        for proc in (caller, callee):
            if proc is not None and proc.poll() is None:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    assert stopped_in is not None and stopped_in < STOP_BOUND_S, stopped_in
    caller_out, callee_out = caller.communicate()[0], callee.communicate()[0]
    assert caller.returncode == 0, "the inbound caller got no BYE:\n" + caller_out[-1500:]
    assert callee.returncode == 0, "the outbound callee got no BYE:\n" + callee_out[-1500:]
    engine = outbound.make_engine(f"sqlite:///{tmp_path / 'serve.db'}")
    try:
        with outbound.session_factory(engine)() as s:
            attempts = list(s.scalars(select(Attempt).where(Attempt.campaign_id == cid).order_by(Attempt.id)))
            assert not [(a.id, a.state) for a in attempts if a.state in IN_CALL_STATES or a.lease_owner]
            cut, *later = attempts
            assert cut.state == "completed", (cut.state, cut.outcome, cut.error)
            assert [a.state for a in later] == ["scheduled"], [(a.state, a.outcome) for a in attempts]
    finally:
        engine.dispose()
