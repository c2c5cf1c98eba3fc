"""Soak: `voicebot serve` under steady mixed load for a bounded time (issue 17).

    python -m benchmarks.soak --minutes 20 [--calls-at-once 2] [--json]

One `voicebot serve` process (SQLite, the default) carries, for the whole run:

- inbound phone calls: SIPp callers (Debian's ``sip-tester``) on 127.0.0.1, ``--calls-at-once`` of them
  at every moment, each playing speech and pressing 2 (the water menu) as a G.711 caller does;
- web chat: a new conversation every few seconds, each asking a question from the knowledge base;
- staff API reads (campaigns, attempts, inbound statistics, metrics) at ``--api-per-s``;
- an outbound welfare campaign on the SIMULATED dialer (no audio: it loads the worker, the booking and
  the database, not the speech path).

Printed per minute: inbound calls completed and failed, API p50/p95 latency and errors (any 5xx, any
transport error), chats answered; the server's resident memory, open descriptors and threads at start,
after a warm-up of the same load (``--warmup``, 60 s: the models load and caches fill on the first calls)
and every 30 s to the end; the error lines in the server's log. Growth of memory or descriptors after the
warm-up is what a leak looks like; a 5xx or a failed call is a defect to read in the log. Calls the server
still holds (``calls_in_progress`` in each sample, ``calls_held_at_stop`` and ``drain_s`` at the end) show
whether it keeps up: a call whose caller hung up stays until its audio so far is processed, so a count that
grows over the run means the load is above what this machine sustains. Numbers depend on this machine:
compare runs on the same one. ``tests/test_soak.py`` runs it for a few seconds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.serving import free_port, serving

SCENARIO = Path(__file__).resolve().parents[1] / "tests" / "data" / "sip" / "uac_pcma_dtmf.xml"
CHAT_QUESTIONS = (
    "수도 요금은 어떻게 납부하나요?",
    "여권 발급 받으려면 어디로 가야 하나요?",
    "분실물 센터 전화번호 알려 주세요",
)
CALLEES = "default:\n  outcomes: [answered]\n  replies: ['네 잘 지내요', '1']\n"


@dataclass
class Minute:
    calls_ok: int = 0
    calls_failed: int = 0
    api_ms: list[float] = field(default_factory=list)
    api_errors: int = 0
    chats: int = 0
    chat_errors: int = 0

    def summary(self, index: int) -> dict[str, Any]:
        ms = sorted(self.api_ms)
        return {
            "minute": index,
            "calls_ok": self.calls_ok,
            "calls_failed": self.calls_failed,
            "api_requests": len(ms),
            "api_p50_ms": round(statistics.median(ms), 1) if ms else None,
            "api_p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1) if ms else None,
            "api_errors": self.api_errors,
            "chats": self.chats,
            "chat_errors": self.chat_errors,
        }


class Recorder:
    def __init__(self, started: float):
        self.started = started
        self.lock = threading.Lock()
        self.minutes: dict[int, Minute] = defaultdict(Minute)

    def minute(self) -> Minute:
        return self.minutes[int((time.monotonic() - self.started) // 60)]

    def add(self, **counts: Any) -> None:
        with self.lock:
            bucket = self.minute()
            for name, value in counts.items():
                if name == "api_ms":
                    bucket.api_ms.append(value)
                else:
                    setattr(bucket, name, getattr(bucket, name) + value)


def process_stats(pid: int) -> dict[str, Any]:
    """Resident memory (MB), open descriptors and threads of ``pid``, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in status if ":" in line)
    return {
        "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
        "open_fds": len(list(Path(f"/proc/{pid}/fd").iterdir())),
        "threads": int(fields["Threads"]),
    }


def calls_in_progress(http: httpx.Client) -> int:
    """Inbound calls the server still holds (``voicebot_calls_in_progress``, every transport)."""
    lines = http.get("/metrics").text.splitlines()
    return int(
        sum(float(line.split()[-1]) for line in lines if line.startswith("voicebot_calls_in_progress{"))
    )


def call_loop(sip_port: int, stop: threading.Event, rec: Recorder, sipp: str) -> None:
    """One SIPp caller after another until ``stop``; each call's exit status is its result."""
    while not stop.is_set():
        cmd = [
            sipp, "-sf", str(SCENARIO), "-i", "127.0.0.1", "-mi", "127.0.0.1",
            "-p", str(free_port(socket.SOCK_DGRAM)), "-mp", str(free_port(socket.SOCK_DGRAM) & ~1), "-m", "1", "-nostdin",
            "-timeout", "60s", "-s", "bot", f"127.0.0.1:{sip_port}",
        ]  # fmt: skip
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        rec.add(**({"calls_ok": 1} if run.returncode == 0 else {"calls_failed": 1}))


def api_loop(url: str, admin: dict[str, str], per_s: float, stop: threading.Event, rec: Recorder) -> None:
    paths = ("/api/campaigns", "/api/attempts?limit=50", "/api/stats/inbound", "/metrics", "/healthz")
    with httpx.Client(base_url=url, headers=admin, timeout=30) as http:
        i = 0
        while not stop.wait(1 / per_s):
            path = paths[i % len(paths)]
            i += 1
            began = time.perf_counter()
            try:
                status = http.get(path).status_code
            except httpx.TransportError:
                status = 0
            rec.add(api_ms=(time.perf_counter() - began) * 1000)
            if status == 0 or status >= 500:
                rec.add(api_errors=1)


def chat_loop(url: str, stop: threading.Event, rec: Recorder) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        i = 0
        while not stop.wait(4.0):
            try:
                conversation = http.post("/api/chat/start").json()["conversation"]["id"]
                text = CHAT_QUESTIONS[i % len(CHAT_QUESTIONS)]
                reply = http.post(f"/api/chat/{conversation}/messages", json={"text": text})
                ok = reply.status_code == 200
            except (httpx.TransportError, KeyError, ValueError):
                ok = False
            i += 1
            rec.add(**({"chats": 1} if ok else {"chat_errors": 1}))


def start_campaign(url: str, admin: dict[str, str], people: int) -> int:
    today = date.today()
    body = {
        "name": "소크 안심콜",
        "kind": "welfare_check",
        "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=6)).isoformat(),
        "windows": "00:00-23:59",
        "weekdays": "월,화,수,목,금,토,일",
        "skip_holidays": False,
        "pace_per_min": 60,
        "channel_limit": 2,
    }
    rows = "\n".join(f"어르신{i},010-9{i:03d}-{i:04d}" for i in range(people))
    with httpx.Client(base_url=url, headers=admin, timeout=60) as http:
        campaign = http.post("/api/campaigns", json=body).json()["id"]
        http.post(f"/api/campaigns/{campaign}/contacts", content=f"이름,전화번호\n{rows}\n".encode())
        http.post(f"/api/campaigns/{campaign}/start")
    return campaign


def run(seconds: float, warmup: float, calls_at_once: int, api_per_s: float, people: int) -> dict[str, Any]:
    sipp = shutil.which("sipp")
    work = Path(tempfile.mkdtemp(prefix="voicebot-soak-"))
    (work / "callees.yaml").write_text(CALLEES, encoding="utf-8")
    sip_port = free_port(socket.SOCK_DGRAM)
    config = (
        f"sip: {{enabled: true, listen: '127.0.0.1:{sip_port}', record_dir: '{work / 'recordings'}'}}\n"
        f"webrtc: {{enabled: false}}\n"
        f"outbound: {{enabled: true, dialer: simulated, channels: 2, callees: '{work / 'callees.yaml'}'}}\n"
    )
    with serving(work, config) as served:
        pid = served.process.pid
        campaign = start_campaign(served.url, served.admin, people)
        start = process_stats(pid)
        stop = threading.Event()
        rec = Recorder(time.monotonic())
        threads = [
            threading.Thread(target=api_loop, args=(served.url, served.admin, api_per_s, stop, rec)),
            threading.Thread(target=chat_loop, args=(served.url, stop, rec)),
        ]
        if sipp:
            threads += [
                threading.Thread(target=call_loop, args=(sip_port, stop, rec, sipp))
                for _ in range(calls_at_once)
            ]
        for thread in threads:
            thread.start()
        samples = []
        http = httpx.Client(base_url=served.url, headers=served.admin, timeout=30)
        # Models load and caches fill on the first calls: growth is measured from after the warm-up.
        time.sleep(warmup)
        warm = process_stats(pid)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(min(30.0, max(0.0, deadline - time.monotonic())))
            t_s = round(warmup + seconds - (deadline - time.monotonic()))
            samples.append({"t_s": t_s, "calls_in_progress": calls_in_progress(http), **process_stats(pid)})
        stop.set()
        for thread in threads:
            thread.join(120)
        # Calls the callers hung up on may still be finishing (the last words transcribed, the record
        # written): a backlog that grows over the run means the load is above what this machine sustains.
        held_at_stop = calls_in_progress(http)
        drain_started = time.monotonic()
        while calls_in_progress(http) and time.monotonic() - drain_started < 300:
            time.sleep(1)
        drain_s = round(time.monotonic() - drain_started, 1)
        end = process_stats(pid)
        progress = http.get(f"/api/campaigns/{campaign}").json()
        inbound = http.get("/api/stats/inbound").json()
        http.close()
        log = served.log.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = [line for line in log if '"level": "error"' in line or "Traceback" in line]
    minutes = [rec.minutes[i].summary(i) for i in sorted(rec.minutes)]
    return {
        "seconds": seconds,  # after the warm-up
        "calls_at_once": calls_at_once if sipp else 0,
        "inbound_calls_ok": sum(m["calls_ok"] for m in minutes),
        "inbound_calls_failed": sum(m["calls_failed"] for m in minutes),
        "inbound_logged": inbound.get("calls"),  # after the drain: every call the server finished
        "calls_held_at_stop": held_at_stop,
        "drain_s": drain_s,
        "api_errors": sum(m["api_errors"] for m in minutes),
        "chats": sum(m["chats"] for m in minutes),
        "chat_errors": sum(m["chat_errors"] for m in minutes),
        "outbound": {k: progress.get(k) for k in ("status", "progress") if k in progress},
        "warmup_s": warmup,
        "server_start": start,
        "server_after_warmup": warm,
        "server_end": end,
        "rss_growth_mb": round(end["rss_mb"] - warm["rss_mb"], 1),
        "fd_growth": end["open_fds"] - warm["open_fds"],
        "samples": samples,
        "per_minute": minutes,
        "server_error_lines": len(errors),
        "server_error_examples": [line[:300] for line in errors[:5]],
        "note": None if sipp else "sipp not installed: no inbound calls (bash scripts/test-deps.sh)",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, help="run length in seconds (overrides --minutes)")
    parser.add_argument(
        "--warmup", type=float, default=60.0, help="seconds of load before growth is measured"
    )
    parser.add_argument("--calls-at-once", type=int, default=2)
    parser.add_argument("--api-per-s", type=float, default=4.0)
    parser.add_argument("--people", type=int, default=300, help="contacts in the outbound campaign")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    seconds = args.seconds or args.minutes * 60
    result = run(seconds, args.warmup, args.calls_at_once, args.api_per_s, args.people)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            if key not in ("samples", "per_minute"):
                print(f"{key}: {value}")
        for minute in result["per_minute"]:
            print(minute)
    return 0


if __name__ == "__main__":
    sys.exit(main())
