"""Which dialer `voicebot serve` places calls with is an explicit choice: the default places none, the
SIMULATED one says so in /healthz and marks every result and export it made, and a real (SIP) dialer that
cannot work stops the server at start instead of falling back."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from outbound import service, store
from voicebot.server.app import create_app
from voicebot.server.config import ConfigError, load_config

NO_MODELS = SimpleNamespace(engine=None, transcriber=None, synthesizer=None)
CAMPAIGN = {
    "name": "모의 발신 시험",
    "kind": "welfare_check",
    "start_date": str(date.today() - timedelta(days=1)),
    "end_date": str(date.today() + timedelta(days=30)),
    "windows": "00:00-24:00",
    "weekdays": "월,화,수,목,금,토,일",
    "skip_holidays": False,
}
CONTACTS = "이름,전화번호\n김영희,010-2345-6789\n박철수,010-3456-7890\n".encode()


def operator_token(db: str) -> str:
    store.upgrade(db)
    engine = store.make_engine(db)
    with store.session_factory(engine).begin() as session:
        token = service.create_token(session, "상담사", "operator")
    engine.dispose()
    return token


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "VOICEBOT_DB_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "VOICEBOT_WEBRTC_ENABLED": "false",
        "VOICEBOT_SIP_HANDOFF_DIR": str(tmp_path / "handoffs"),
        **extra,
    }


def start_campaign(http: TestClient, headers: dict[str, str]) -> int:
    campaign = http.post("/api/campaigns", headers=headers, json=CAMPAIGN).json()
    imported = http.post(
        f"/api/campaigns/{campaign['id']}/contacts",
        headers={**headers, "content-type": "text/csv"},
        content=CONTACTS,
    ).json()
    assert imported["added"] == 2
    assert http.post(f"/api/campaigns/{campaign['id']}/start", headers=headers).status_code == 200
    return campaign["id"]


def test_default_config_places_no_calls(tmp_path: Path) -> None:
    """No dialer configured: nothing is simulated and nothing is dialled; /healthz says dialling is off."""
    assert load_config(None, {}).outbound.dialer == "none"
    env = serve_env(tmp_path)
    token = operator_token(env["VOICEBOT_DB_URL"])
    app = create_app(load_config(None, env), models=NO_MODELS)
    op = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as http:
        health = http.get("/healthz").json()
        assert health["status"] == "ok" and health["dialer"] == "none"
        assert health["outbound_worker"] == "off"
        campaign_id = start_campaign(http, op)
        time.sleep(1.0)
        attempts = http.get(f"/api/attempts?campaign_id={campaign_id}", headers=op).json()["items"]
        assert [a["state"] for a in attempts] == ["scheduled", "scheduled"]  # booked, never dialled
        assert not any(a["simulated"] for a in attempts)


def test_simulated_dialer_is_shown_and_marks_results_and_export(tmp_path: Path) -> None:
    callees = tmp_path / "callees.yaml"
    callees.write_text("default: {replies: ['1', '1', '1', '1', '1']}\n", encoding="utf-8")
    env = serve_env(tmp_path, VOICEBOT_OUTBOUND_DIALER="simulated", VOICEBOT_OUTBOUND_CALLEES=str(callees))
    token = operator_token(env["VOICEBOT_DB_URL"])
    app = create_app(load_config(None, env), models=NO_MODELS)
    op = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as http:
        health = http.get("/healthz").json()
        assert health["dialer"] == "simulated" and health["outbound_worker"] == "running"
        campaign_id = start_campaign(http, op)
        deadline = time.monotonic() + 30
        while http.get(f"/api/campaigns/{campaign_id}", headers=op).json()["status"] != "completed":
            assert time.monotonic() < deadline, "the worker did not finish the campaign"
            time.sleep(0.2)
        attempts = http.get(f"/api/attempts?campaign_id={campaign_id}", headers=op).json()["items"]
        assert len(attempts) == 2 and all(a["outcome"] == "answered" for a in attempts)
        assert all(a["simulated"] is True for a in attempts)
        summary = http.get(f"/api/campaigns/{campaign_id}/summary", headers=op).json()
        assert summary["simulated_attempts"] == 2
        history = http.get(f"/api/contacts/{attempts[0]['contact']['id']}/history", headers=op).json()
        assert history["checkins"][0]["simulated"] is True
        export = http.get(f"/api/campaigns/{campaign_id}/export.csv", headers=op).text
    rows = list(csv.DictReader(io.StringIO(export.lstrip("\ufeff"))))
    assert len(rows) == 2 and {row["simulated"] for row in rows} == {"true"}


def test_bad_real_dialer_config_stops_serve_at_start(tmp_path: Path, monkeypatch) -> None:
    # A SIP URI template that dials nowhere: `voicebot serve` exits with a clear error before serving.
    config = tmp_path / "serve.yaml"
    config.write_text(
        "sip: {enabled: true}\noutbound: {dialer: sip, uri_template: 'sip:{phone}'}\n", encoding="utf-8"
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "voicebot.cli",
            "serve",
            "--config",
            str(config),
            "--db",
            f"sqlite:///{tmp_path / 'serve.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 2 and "uri_template" in run.stderr, run.stderr[-2000:]
    for text, words in (
        ("outbound: {dialer: sip, uri_template: 'sip:{phone}@{host}'}\nsip: {enabled: true}\n", "template"),
        ("outbound: {callees: x.yaml}\n", "SIMULATED"),
        ("outbound: {dialer: simulated}\nsip: {enabled: false}\n", None),
    ):
        config.write_text(text, encoding="utf-8")
        if words is None:
            assert load_config(config, {}).dialer == "simulated"
        else:
            with pytest.raises(ConfigError, match=words):
                load_config(config, {})
    # PJSIP's binding missing: an error when the app is made, not a fallback to another dialer.
    monkeypatch.setitem(sys.modules, "pjsua2", None)
    sip = load_config(None, serve_env(tmp_path, VOICEBOT_SIP_ENABLED="true", VOICEBOT_OUTBOUND_DIALER="sip"))
    with pytest.raises(ConfigError, match="PJSIP"):
        create_app(sip, models=NO_MODELS)
