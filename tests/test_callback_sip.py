"""A congested escalation on a SIP call books a call-back, which the SIMULATED dialer then dials in its
slot (issue 18), through the whole server: ``create_app`` under uvicorn on 127.0.0.1 with SIP on (real
PJSIP), a real SIPp caller (RFC 2833 keys, a mobile number in From), the dialog engine and espeak-ng, SQLite,
the call-back dialer with ``outbound.dialer: simulated``, and the API with its roles.

The server's clock is the test's (a Monday 14:20 in Seoul, then the slot's start): the only stand-in besides
the transcriber (the caller only presses keys) and the SIMULATED callee, which picks up and presses 1."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from sip_peers import HAVE_PJSUA2
from sip_peers import free_port as free_udp_port
from test_server import free_port
from test_sip import SIPP, finish, sipp

from outbound import service, store
from voicebot.server.app import create_app
from voicebot.server.config import load_config

SEOUL = ZoneInfo("Asia/Seoul")
START = datetime(2026, 12, 7, 14, 20, tzinfo=SEOUL)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(SIPP is None, reason="sipp not installed (sip-tester; bash scripts/test-deps.sh)"),
    pytest.mark.skipif(not HAVE_PJSUA2, reason="pjsua2-python not installed (scripts/setup.sh)"),
]


@pytest.fixture(scope="module")
def models(engine, synthesizer):
    from test_webrtc import EarOnlyTranscriber

    from voicebot.sip.app import Models

    return Models(engine, EarOnlyTranscriber(), synthesizer)


def metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_congested_sip_call_books_a_call_back_dialled_in_its_slot(tmp_path: Path, models) -> None:
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    store.upgrade(db)
    engine = store.make_engine(db)
    with store.session_factory(engine).begin() as s:
        operator = service.create_token(s, "상담사", "operator")
        viewer = service.create_token(s, "열람자", "viewer")
    engine.dispose()
    now = {"t": START}
    port, sip_port = free_port(), free_udp_port()
    handoffs = tmp_path / "handoffs"
    config = load_config(
        None,
        {
            "VOICEBOT_DB_URL": db,
            "VOICEBOT_PORT": str(port),
            "VOICEBOT_WEBRTC_ENABLED": "false",
            "VOICEBOT_SIP_ENABLED": "true",
            "VOICEBOT_SIP_LISTEN": f"127.0.0.1:{sip_port}",
            "VOICEBOT_SIP_AGENT_URI": f"sip:agent@127.0.0.1:{free_udp_port()}",
            "VOICEBOT_SIP_HANDOFF_DIR": str(handoffs),
            "VOICEBOT_OUTBOUND_DIALER": "simulated",
            "VOICEBOT_CALLBACKS_ENABLED": "true",
            "VOICEBOT_CALLBACKS_AGENTS": "5",
            "VOICEBOT_CALLBACKS_POLL_S": "0.2",
        },
    )
    app = create_app(config, models=models, clock=lambda: now["t"])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-serve", daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), 60, "the server did not start")
    assert thread.is_alive()
    op, ro = {"Authorization": f"Bearer {operator}"}, {"Authorization": f"Bearer {viewer}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            # Staff say how many agents are on duty and how many callers wait: 10 x 300 s / 2 = 25 minutes.
            capacity = http.get("/api/agents/capacity", headers=ro).json()
            assert capacity["expected_wait_s"] == 0 and not capacity["congested"] and capacity["open_now"]
            assert (
                http.put("/api/agents/capacity", headers=ro, json={"agents": 2, "waiting": 10}).status_code
                == 403
            )
            assert (
                http.put("/api/agents/capacity", headers=op, json={"agents": -1, "waiting": 0}).status_code
                == 422
            )
            capacity = http.put("/api/agents/capacity", headers=op, json={"agents": 2, "waiting": 10}).json()
            assert (
                capacity["expected_wait_s"] == 1500
                and capacity["congested"]
                and capacity["updated_by"] == "상담사"
            )

            # The caller asks for an agent (2, 0), hears the wait, presses 2 (a call-back), then 1 (the first
            # slot: 오늘 오후 3시부터 4시 사이); the bot confirms and hangs up.
            rc, out = finish(sipp("uac_congested_callback", remote=f"127.0.0.1:{sip_port}"), timeout=90)
            assert rc == 0, out
            rows = wait_for(lambda: http.get("/api/callbacks", headers=op).json(), 20, "no call-back booked")
            (row,) = rows
            assert row["phone"] == "+821023456789" and row["state"] == "booked" and row["channel"] == "sip"
            assert datetime.fromisoformat(row["slot_start"]) == datetime(2026, 12, 7, 15, tzinfo=SEOUL)
            assert row["reason"] == "agent_request" and row["category"] == "water"
            handoff = json.loads((handoffs / f"{row['handoff_id']}.json").read_text())
            assert handoff["callback_id"] == row["id"] and handoff["congestion"]["choice"] == "callback"
            assert handoff["callback_slot"] == "오늘 오후 3시부터 4시 사이"
            (masked,) = http.get("/api/callbacks", headers=ro).json()
            assert masked["phone"] == "010-****-6789"

            time.sleep(1.0)  # the call-back dialer passes several times: not before the slot
            assert http.get("/api/callbacks", headers=op).json()[0]["attempts"] == 0

            now["t"] = datetime(2026, 12, 7, 15, 0, 30, tzinfo=SEOUL)  # the slot has come
            done = wait_for(
                lambda: [
                    r for r in http.get("/api/callbacks?state=all", headers=op).json() if r["state"] == "done"
                ],
                20,
                "the call-back was not dialled in its slot",
            )
            (called,) = done
            assert called["id"] == row["id"] and called["attempts"] == 1 and called["simulated"]
            assert called["last_outcome"] == "answered" and called["closed_by"] == "dialer"

            assert http.post(f"/api/callbacks/{row['id']}/cancel", headers=ro).status_code == 403
            assert http.post(f"/api/callbacks/{row['id']}/cancel", headers=op).status_code == 409
            assert http.post("/api/callbacks/999/done", headers=op).status_code == 404

            metrics = http.get("/metrics", headers=ro).text
            assert metric(metrics, "voicebot_congestion_offers_total", channel="sip", choice="callback") == 1
            assert metric(metrics, "voicebot_callbacks_booked_total", channel="sip") == 1
            assert metric(metrics, "voicebot_callback_calls_total", outcome="answered") == 1
            assert metric(metrics, "voicebot_agent_wait_expected_seconds_count", channel="sip") == 1
    finally:
        server.should_exit = True
        thread.join(30)
    engine = store.make_engine(db)
    try:
        with store.session_factory(engine)() as s:
            from outbound.schema import AuditEvent

            actions = [e.action for e in s.query(AuditEvent).order_by(AuditEvent.id)]
    finally:
        engine.dispose()
    assert "capacity.changed" in actions and "callbacks.viewed" in actions
