"""Issue 17, hardening: body limits enforced while reading (before parsing and authentication), 422s
that serialise and quote only an excerpt, failed WebRTC offers that leave no ghost live call, offers
without a=fingerprint refused, and an answered offer that never connects gives its slot back."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from test_webrtc import call_threads, serve_calls, sessions, wait_until

from voicebot.server.app import create_app
from voicebot.server.config import load_config
from voicebot.server.monitor import CallMonitor, Metrics
from voicebot.webrtc import WebRTCConfig, WebRTCService
from voicebot.webrtc.ice import include_loopback


def client(tmp_path: Path, url: str | None = None, **env: str) -> TestClient:
    config = load_config(None, {"VOICEBOT_DB_URL": url or f"sqlite:///{tmp_path / 'hard.db'}", **env})
    app = create_app(config, models=SimpleNamespace(engine=None, transcriber=None, synthesizer=None))
    return TestClient(app)  # no lifespan: nothing starts, the routes answer


def test_bodies_are_capped_before_parsing_and_auth(tmp_path: Path) -> None:
    http = client(tmp_path)
    big_offer = json.dumps({"sdp": "v=0\r\n" + "a" * 200_000, "type": "offer"})
    r = http.post("/api/webrtc/offer", content=big_offer, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "너무 큽니다" in r.json()["detail"] and len(r.content) < 500

    # no token, 2 MB: refused for its size before the token is looked at
    r = http.post("/api/campaigns", content=b"{" + b" " * 2_000_000 + b"}")
    assert r.status_code == 413 and len(r.content) < 500

    # chunked (no Content-Length): counted while read, refused as soon as it passes the cap
    def chunks():
        for _ in range(40):
            yield b"x" * 4096

    r = http.post("/api/webrtc/offer", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "detail" in r.json()

    r = http.post("/api/webrtc/offer", content=b"{}", headers={"content-length": "-5"})
    assert r.status_code == 400

    # a 20 MB CSV limit still admits a 3 MB import body as far as the cap goes (then auth refuses it)
    r = http.post("/api/campaigns/1/contacts", content=b"a" * 3_000_000, headers={"content-type": "text/csv"})
    assert r.status_code == 401


def test_validation_errors_serialise_and_quote_only_an_excerpt(tmp_path: Path) -> None:
    http = client(tmp_path)
    for body in ('{"sdp": NaN}', '{"sdp": Infinity, "type": -Infinity}', '{"sdp": ["' + "x" * 60_000 + '"]}'):
        r = http.post("/api/webrtc/offer", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, body[:40]
        data = r.json()
        assert isinstance(data["detail"], str) and data["detail"].startswith("입력값을 확인해 주세요")
        assert len(r.content) < 2_000


def test_failed_offers_leave_no_ghost_call(engine, synthesizer) -> None:
    metrics = Metrics()
    monitor = CallMonitor(metrics)
    service = WebRTCService(
        monitor.wrap(sessions(engine, None, synthesizer), "webrtc"),
        WebRTCConfig(ice_loopback=True),
        on_abandoned=monitor.discard,
    )
    bad = "v=0\r\na=fingerprint:sha-256 AB:CD\r\nthis is not SDP\r\n"
    with serve_calls(service) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(1000):
            r = http.post("/api/webrtc/offer", json={"sdp": bad, "type": "offer"})
            assert r.status_code == 400 and r.json()["error"] == "bad_offer"
        no_print = http.post("/api/webrtc/offer", json={"sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"})
        assert no_print.status_code == 400 and "fingerprint" in no_print.json()["message"]
        assert service.active_calls == 0 and monitor.count("webrtc") == 0 and monitor.live() == []
        gauge = [
            line
            for line in generate_latest(metrics.registry).decode().splitlines()
            if line.startswith('voicebot_calls_in_progress{transport="webrtc"}')
        ]
        assert gauge and float(gauge[0].split()[-1]) == 0
        assert wait_until(lambda: not call_threads(), 20), call_threads()


def test_an_offer_that_never_connects_gives_its_slot_back(engine, synthesizer) -> None:
    service = WebRTCService(
        sessions(engine, None, synthesizer),
        WebRTCConfig(max_calls=1, ice_loopback=True, connect_timeout_s=1.0),
    )

    async def offer_and_vanish(base_url: str) -> None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("audio", direction="sendrecv")
        pc.createDataChannel("control")
        include_loopback(pc)
        await pc.setLocalDescription(await pc.createOffer())
        async with httpx.AsyncClient(timeout=30) as http:
            first = await http.post(f"{base_url}/api/webrtc/offer", json={"sdp": pc.localDescription.sdp})
            assert first.status_code == 200  # answered; the caller never applies the answer
            busy = await http.post(f"{base_url}/api/webrtc/offer", json={"sdp": pc.localDescription.sdp})
            assert busy.status_code == 503
        await pc.close()

    with serve_calls(service) as base_url:
        asyncio.run(offer_and_vanish(base_url))
        assert wait_until(lambda: service.active_calls == 0, 30)
        assert wait_until(lambda: not call_threads(), 20), call_threads()


def test_exports_are_spreadsheet_safe(tmp_path: Path) -> None:
    import csv
    import io

    from test_outbound_runner import make_campaign

    from outbound.results import export_attempts_csv

    names = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd|x", "\t=1+1"]
    source = io.StringIO()
    writer = csv.writer(source)
    writer.writerow(["이름", "전화번호"])
    for k, name in enumerate(names):
        writer.writerow([name, f"010-1111-{k:04d}"])
    factory, campaign_id = make_campaign(tmp_path, source.getvalue())
    with factory() as s:
        for unmasked in (True, False):
            rows = list(csv.DictReader(io.StringIO(export_attempts_csv(s, campaign_id, unmasked=unmasked))))
            assert len(rows) == len(names)
            for row in rows:
                for column, cell in row.items():
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
            if unmasked:
                assert all(row["name"].startswith("'") for row in rows)
                assert {row["name"][1:] for row in rows} >= {name for name in names if not name[0].isspace()}
                assert all(row["phone"].startswith("'+8210") for row in rows)


def test_second_acknowledgement_and_second_revocation_are_conflicts(tmp_path: Path) -> None:
    from datetime import timedelta

    from sqlalchemy import select
    from test_outbound_runner import NOW, WELFARE_CSV, make_campaign

    from outbound import service
    from outbound.runner import SimulatedCallee, SimulatedDialer, run_due
    from outbound.schema import Alert, ApiToken

    factory, _ = make_campaign(tmp_path, WELFARE_CSV)
    run_due(
        factory,
        SimulatedDialer({"+821011110001": SimulatedCallee(["answered"], ["죽고 싶어요"])}),
        "w1",
        NOW,
        limit=1,
    )
    with factory.begin() as s:
        alert = s.scalars(select(Alert)).one()
        service.acknowledge_alert(s, alert.id, "사회복지사1", "오늘 방문합니다", NOW)
    with factory.begin() as s, pytest.raises(service.Conflict, match="이미"):
        service.acknowledge_alert(s, alert.id, "사회복지사2", "", NOW + timedelta(hours=1))
    with factory() as s:
        kept = s.get(Alert, alert.id)
        assert (kept.acknowledged_by, kept.note) == ("사회복지사1", "오늘 방문합니다")

    with factory.begin() as s:
        service.create_token(s, "퇴사자", "operator")
        token_id = s.scalars(select(ApiToken.id)).one()
        service.revoke_token(s, token_id, NOW)
    with factory.begin() as s, pytest.raises(service.Conflict, match="이미 폐기"):
        service.revoke_token(s, token_id, NOW + timedelta(days=1))
    with factory() as s:
        assert s.get(ApiToken, token_id).revoked_at.replace(tzinfo=None) == NOW.astimezone(UTC).replace(
            tzinfo=None
        )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_security_headers_and_ids_beyond_the_database_range(tmp_path: Path, backend: str, request) -> None:
    from outbound import service, store

    url = f"sqlite:///{tmp_path / 'hard.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    store.upgrade(url)
    engine = store.make_engine(url)
    with store.session_factory(engine).begin() as s:
        token = service.create_token(s, "상담사", "operator")
    engine.dispose()
    http = client(tmp_path, url)
    page = http.get("/call")
    for name in ("x-content-type-options", "x-frame-options", "referrer-policy", "content-security-policy"):
        assert name in page.headers, name
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    op = {"Authorization": f"Bearer {token}"}
    for big in (2**31, 2**63, 10**30):
        r = http.get(f"/api/campaigns/{big}", headers=op)
        assert r.status_code in (404, 422) and isinstance(r.json()["detail"], str), (big, r.status_code)


def test_metrics_need_a_staff_token_unless_made_public(tmp_path: Path) -> None:
    from outbound import service

    http = client(tmp_path)
    refused = http.get("/metrics")
    assert refused.status_code == 401 and "로그인이 필요합니다" in refused.json()["detail"]
    with http.app.state.runtime.factory.begin() as db:
        viewer = service.create_token(db, "모니터링 수집기", "viewer")
    scraped = http.get("/metrics", headers={"Authorization": f"Bearer {viewer}"})
    assert scraped.status_code == 200 and "voicebot_calls_in_progress" in scraped.text
    assert http.get("/metrics", headers={"Authorization": "Bearer vb_wrong"}).status_code == 401
    public = client(tmp_path, VOICEBOT_METRICS_PUBLIC="true")
    assert public.get("/metrics").status_code == 200


def test_database_files_are_owner_only(tmp_path: Path) -> None:
    from outbound import service, store

    folder = tmp_path / "var"
    url = f"sqlite:///{folder / 'voicebot.db'}"
    store.upgrade(url)
    engine = store.make_engine(url)
    with store.session_factory(engine).begin() as s:
        service.create_token(s, "상담사", "operator")
    assert folder.stat().st_mode & 0o777 == 0o700
    files = [p for p in folder.iterdir() if p.name.startswith("voicebot.db")]
    assert any(p.name.endswith("-wal") for p in files)
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
    engine.dispose()


def test_recordings_and_handoff_files_are_owner_only(tmp_path: Path) -> None:
    import numpy as np

    from media.audio import write_wav
    from voicebot.call.handoff import HandoffRegistry

    wav = write_wav(tmp_path / "rec" / "call.wav", np.zeros((1600, 2), dtype=np.float32), 16_000, channels=2)
    assert wav.stat().st_mode & 0o777 == 0o600 and wav.parent.stat().st_mode & 0o777 == 0o700
    registry = HandoffRegistry(tmp_path / "handoffs")
    handoff_id = registry.put({"reason": "agent", "caller": "+821012345678"})
    saved = tmp_path / "handoffs" / f"{handoff_id}.json"
    assert saved.stat().st_mode & 0o777 == 0o600 and saved.parent.stat().st_mode & 0o777 == 0o700


def test_odd_contact_files_are_read_or_refused_clearly(tmp_path: Path) -> None:
    """CR-only line ends (old Mac spreadsheets) are read; a cell past the csv module's limit, a file that
    is no CSV and UTF-16 get a row report or a clear 422, never a 500; nothing half-imported."""
    from datetime import date, timedelta

    from outbound import service, store

    url = f"sqlite:///{tmp_path / 'csv.db'}"
    store.upgrade(url)
    engine = store.make_engine(url)
    with store.session_factory(engine).begin() as s:
        token = service.create_token(s, "상담사", "operator")
    engine.dispose()
    op = {"Authorization": f"Bearer {token}"}
    with client(tmp_path, url) as http:
        start = date.today() + timedelta(days=1)
        body = {"name": "안심콜", "kind": "welfare_check", "start_date": str(start), "end_date": str(start)}
        campaign = http.post("/api/campaigns", json=body, headers=op).json()["id"]
        path = f"/api/campaigns/{campaign}/contacts"
        cr_only = "이름,전화번호\r김영희,010-2345-6789\r이철수,010-3456-7890\r".encode()
        assert http.post(path, content=cr_only, headers=op).json()["imported"] == 2
        utf16 = "이름,전화번호\n박민수,010-4567-8901\n".encode("utf-16")
        assert http.post(path, content=utf16, headers=op).json()["imported"] == 1
        long_cell = ("이름,전화번호,메모\n최지은,010-5678-9012," + "메" * 200_000 + "\n").encode()
        refused = http.post(path, content=long_cell, headers=op)
        assert refused.status_code == 422 and refused.json()["detail"].startswith(
            "CSV 파일을 읽을 수 없습니다"
        )
        assert len(refused.text) < 1000  # the cell is not echoed
        garbage = http.post(path, content=b"\x00\x01\x02 not a csv", headers=op)
        assert garbage.status_code == 422
        members = http.get(f"/api/campaigns/{campaign}/members", headers=op).json()
    assert sorted(m["contact"]["name"] for m in members["items"]) == ["김영희", "박민수", "이철수"]


def test_one_address_cannot_take_every_browser_line(engine, synthesizer) -> None:
    """Issue 17: offers from one address beyond max_calls_per_client get a 429 in Korean while the other
    lines stay free for other callers; a slot given back (the offer never connected) frees the address."""

    async def offers(base_url: str) -> list[httpx.Response]:
        peers, replies = [], []
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(3):
                pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
                pc.addTransceiver("audio", direction="sendrecv")
                pc.createDataChannel("control")
                include_loopback(pc)
                await pc.setLocalDescription(await pc.createOffer())
                peers.append(pc)
                replies.append(
                    await http.post(f"{base_url}/api/webrtc/offer", json={"sdp": pc.localDescription.sdp})
                )
        for pc in peers:
            await pc.close()
        return replies

    service = WebRTCService(
        sessions(engine, None, synthesizer),
        WebRTCConfig(max_calls=4, max_calls_per_client=2, ice_loopback=True, connect_timeout_s=1.0),
    )
    with serve_calls(service) as base_url:
        first, second, third = asyncio.run(offers(base_url))
        assert first.status_code == second.status_code == 200
        assert third.status_code == 429 and third.json()["error"] == "client_busy"
        assert "이미 통화 중입니다" in third.json()["detail"] and third.headers["retry-after"] == "30"
        assert wait_until(lambda: service.active_calls == 0, 30)  # never connected: slots given back
        again = asyncio.run(offers(base_url))
        assert [r.status_code for r in again] == [200, 200, 429]
        assert wait_until(lambda: service.active_calls == 0, 30)
        assert wait_until(lambda: not call_threads(), 20), call_threads()
