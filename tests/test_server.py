"""`voicebot serve` as one process: configuration, masked JSON logs, and a real server on 127.0.0.1 with a
browser-style WebRTC call (aiortc client), the outbound worker (SIMULATED dialer) finishing a campaign
created through the API, /healthz, /metrics, live calls by role and the console's statistics."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from outbound import service, store
from voicebot.server.app import create_app
from voicebot.server.config import ConfigError, load_config
from voicebot.server.logs import JsonFormatter, mask_text


def test_config_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "serve.yaml"
    path.write_text("port: 9000\nsip: {enabled: true, listen: '0.0.0.0:5060'}\noutbound: {channels: 8}\n")
    config = load_config(path, {"VOICEBOT_OUTBOUND_CHANNELS": "2", "VOICEBOT_PORT": "9100", "HOME": "/x"})
    assert (config.port, config.sip.enabled, config.sip.listen, config.outbound.channels) == (
        9100,
        True,
        "0.0.0.0:5060",
        2,
    )
    for text, words in (
        ("prot: 1\n", "unknown key"),
        ("outbound: {dialer: fax}\n", "dialer"),
        ("outbound: {dialer: sip}\n", "sip.enabled"),
        ("sip: {enabled: maybe}\n", "true or false"),
        ("[1, 2]\n", "mapping"),
        ("db_url: 'sqlite://'\n", "in-memory"),  # every result would go at exit
        ("db_url: 'sqlite:///:memory:'\n", "in-memory"),
    ):
        path.write_text(text)
        with pytest.raises(ConfigError, match=words):
            load_config(path, {})
    example = Path(__file__).parents[1] / "docs" / "serve.example.yaml"
    assert load_config(example, {}).port == 8080  # the documented example is valid


def test_logs_are_json_with_phone_numbers_masked() -> None:
    assert (
        mask_text("callee 010-1234-5678 and +82 2 123 4567 called")
        == "callee 010-****-5678 and 02-***-4567 called"
    )
    assert mask_text("attempt 12345678 took 2026 ms") == "attempt 12345678 took 2026 ms"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.masking")
    logger.addHandler(handler)
    logger.warning("dialled %s", "01098765432")
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "warning" and "98765432" not in entry["msg"] and entry["msg"].endswith("5432")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def models(engine, synthesizer):
    """The dialog engine and espeak-ng; a transcriber that hears no words (the calls here use the keypad)."""
    from test_webrtc import EarOnlyTranscriber

    from voicebot.sip.app import Models

    return Models(engine, EarOnlyTranscriber(), synthesizer)


def test_serve_calls_campaigns_health_metrics_and_stats(tmp_path: Path, models) -> None:
    from test_webrtc import Caller, silence

    db = f"sqlite:///{tmp_path / 'serve.db'}"
    store.upgrade(db)
    engine = store.make_engine(db)
    with store.session_factory(engine).begin() as s:
        operator = service.create_token(s, "상담사", "operator")
        viewer = service.create_token(s, "열람자", "viewer")
    engine.dispose()
    callees = tmp_path / "callees.yaml"
    callees.write_text("default: {replies: ['1', '허리가 너무 아파요', '1', '1', '1']}\n", encoding="utf-8")
    port = free_port()
    config = load_config(
        None,
        {
            "VOICEBOT_DB_URL": db,
            "VOICEBOT_PORT": str(port),
            "VOICEBOT_WEBRTC_LOOPBACK": "true",
            "VOICEBOT_OUTBOUND_DIALER": "simulated",
            "VOICEBOT_OUTBOUND_CALLEES": str(callees),
            "VOICEBOT_SIP_HANDOFF_DIR": str(tmp_path / "handoffs"),
        },
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(config, models=models), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="test-serve", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    op, ro = {"Authorization": f"Bearer {operator}"}, {"Authorization": f"Bearer {viewer}"}
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            health = http.get("/healthz").json()
            assert (
                health["status"] == "ok"
                and health["outbound_worker"] == "running"
                and health["webrtc"] == "ok"
                and health["dialer"] == "simulated"
            )
            assert http.get("/", follow_redirects=False).headers["location"] == "/console/"

            # An outbound campaign through the API, dialled by the worker inside the server.
            campaign = http.post(
                "/api/campaigns",
                headers=op,
                json={
                    "name": "서버 시험",
                    "kind": "welfare_check",
                    "start_date": "2026-01-01",
                    "end_date": "2026-12-31",
                    "windows": "00:00-24:00",
                    "weekdays": "월,화,수,목,금,토,일",
                    "skip_holidays": False,
                },
            ).json()
            imported = http.post(
                f"/api/campaigns/{campaign['id']}/contacts",
                headers={**op, "content-type": "text/csv"},
                content="이름,전화번호\n김영희,010-2345-6789\n박철수,010-3456-7890\n".encode(),
            ).json()
            assert imported["added"] == 2
            http.post(f"/api/campaigns/{campaign['id']}/start", headers=op)
            deadline = time.monotonic() + 30
            while http.get(f"/api/campaigns/{campaign['id']}", headers=op).json()["status"] != "completed":
                assert time.monotonic() < deadline, "the worker did not finish the campaign"
                time.sleep(0.2)
            stats = http.get("/api/stats/outbound", headers=ro).json()
            assert sum(h["answered"] for h in stats["outcomes_by_hour"]) == 2
            assert stats["reached_rate"][0]["reached_rate"] == 1.0
            assert (
                len(http.get("/api/alerts?open=true", headers=op).json()) == 2
            )  # the back pain is a concern

            # A browser-style call: live view for operators only, then the call log and metrics.
            async def call() -> None:
                async with Caller(base, silence(60.0)) as caller:
                    await caller.wait_for(lambda m: m.get("turn") == 0, 15)
                    live = http.get("/api/calls/live", headers=op).json()
                    assert len(live) == 1 and live[0]["transport"] == "webrtc"
                    assert any(
                        line["who"] == "bot" and "120" in line["text"] for line in live[0]["transcript"]
                    )
                    assert http.get("/api/calls/live", headers=ro).status_code == 403
                    await caller.send({"type": "dtmf", "digit": "2"})
                    await caller.wait_for(lambda m: m.get("category") == "water", 5)
                    await caller.send({"type": "dtmf", "digit": "0"})
                    # no transfer from a browser: the call-back offer, answered with 1
                    await caller.wait_for(lambda m: m.get("state") == "callback_offer", 30)
                    await caller.send({"type": "dtmf", "digit": "1"})
                    await caller.wait_for(lambda m: m.get("type") == "ended", 30)

            asyncio.run(call())
            deadline = time.monotonic() + 15
            while http.get("/api/stats/inbound", headers=ro).json()["calls"] < 1:
                assert time.monotonic() < deadline, "the call was not logged"
                time.sleep(0.2)
            inbound = http.get("/api/stats/inbound", headers=ro).json()
            assert inbound["escalations"] == [{"reason": "agent_request", "count": 1}]
            # The browser call handed to an agent left its handoff record, as a SIP call does.
            (record,) = http.get("/api/handoffs", headers=op).json()
            assert record["reason"] == "agent_request" and record["transport"] == "webrtc"
            assert record["category"] == "water" and record["summary"]
            assert record["transfer"] == "unavailable" and record["callback_requested"] is True
            assert http.get(f"/api/handoffs/{record['handoff_id']}", headers=op).json() == record
            assert (tmp_path / "handoffs" / f"{record['handoff_id']}.json").is_file()
            assert http.get("/api/handoffs", headers=ro).status_code == 403  # what callers said
            assert http.get("/api/calls/live", headers=op).json() == []
            assert http.get("/metrics").status_code == 401  # load and outcomes: staff only
            metrics = http.get("/metrics", headers=ro).text
            assert 'voicebot_outbound_attempts_total{outcome="answered"} 2.0' in metrics
            assert 'voicebot_escalations_total{reason="agent_request"} 1.0' in metrics
            assert 'voicebot_calls_total{ended_reason="transfer",transport="webrtc"} 1.0' in metrics
            assert "voicebot_calls_in_progress" in metrics and "voicebot_turns_total" in metrics
    finally:
        server.should_exit = True
        thread.join(30)
    assert not thread.is_alive()
    assert not [
        t
        for t in threading.enumerate()
        if t.name in ("outbound-worker",) or t.name.startswith("webrtc-call-")
    ]


def test_voicebot_serve_answers_sip_calls_and_logs_them(tmp_path: Path) -> None:
    """The main job as a user starts it: `voicebot serve --config FILE` in its own process, with SIP on; a
    SIPp caller presses 2 (water); the call shows in the statistics and the metrics, the logs are JSON."""
    from sip_peers import free_port as free_udp_port
    from test_sip import SIPP, finish, sipp

    from benchmarks.serving import serving

    if SIPP is None:
        pytest.skip("sipp not installed (sip-tester; bash scripts/test-deps.sh)")
    sip_port = free_udp_port()
    config = (
        f"sip: {{enabled: true, listen: '127.0.0.1:{sip_port}', handoff_dir: '{tmp_path / 'handoffs'}'}}\n"
        "webrtc: {enabled: false}\noutbound: {enabled: false}\n"
    )
    with serving(tmp_path, config) as served, httpx.Client(base_url=served.url, timeout=10) as http:
        assert http.get("/healthz").json()["sip"] == "listening"
        assert oct((tmp_path / "admin-token").stat().st_mode & 0o777) == "0o600"
        rc, out = finish(sipp("uac_pcma_dtmf", remote=f"127.0.0.1:{sip_port}"))
        assert rc == 0, out
        deadline = time.monotonic() + 30
        while (stats := http.get("/api/stats/inbound", headers=served.admin).json())["calls"] < 1:
            assert time.monotonic() < deadline, "the SIP call was not logged"
            time.sleep(0.3)
        assert stats["calls"] == 1
        assert 'voicebot_turns_total{trigger="dtmf"} 1.0' in http.get("/metrics", headers=served.admin).text
    # serving() stopped it with SIGTERM and checked that it exited cleanly
    lines = [line for line in served.log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is a JSON record
    assert any("Finished server process" in r["msg"] for r in records)  # a graceful stop
