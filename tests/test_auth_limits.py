"""Issue 17: refused tokens locked out per client address (429 with Retry-After), optional token expiry
(CLI, API, console data), a deadline on each request head (slow-header clients), and the console's
Content-Security-Policy, Permissions-Policy and HSTS headers."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from outbound import service, store
from outbound.login_limits import FailedLogins, LoginLimits
from voicebot.server.app import create_app
from voicebot.server.config import ConfigError, load_config
from voicebot.server.headtimeout import head_timeout_protocol

MODELS = SimpleNamespace(engine=None, transcriber=None, synthesizer=None)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_app(tmp_path: Path, clock=None, **env: str):
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    config = load_config(None, {"VOICEBOT_DB_URL": url, **env})
    app = create_app(config, models=MODELS, **({"clock": clock} if clock else {}))
    return app, url


def add_token(url: str, role: str = "operator", expires_at: datetime | None = None) -> str:
    engine = store.make_engine(url)
    try:
        with store.session_factory(engine).begin() as session:
            return service.create_token(session, "상담사", role, expires_at)
    finally:
        engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- failed tokens ------------------------------------------------------------------------------------


def test_failed_tokens_lock_out_only_that_address(tmp_path: Path, caplog) -> None:
    app, url = make_app(tmp_path)
    good = add_token(url)
    attacker = TestClient(app, client=("203.0.113.7", 40000))
    colleague = TestClient(app, client=("198.51.100.20", 40000))
    caplog.set_level(logging.INFO)

    assert attacker.get("/api/me").status_code == 401  # no token at all: not a guess, not counted
    for i in range(10):
        r = attacker.get("/api/me", headers=bearer(f"vb_guess{i}"))
        assert r.status_code == 401, i
    r = attacker.get("/api/me", headers=bearer("vb_guess10"))
    assert r.status_code == 429
    assert r.json() == {
        "detail": "로그인 시도가 너무 많습니다. 잠시 후 다시 시도해 주세요. (too many failed logins)"
    }
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # while locked, even the right token is refused from there (guessing cannot go on) ...
    assert attacker.get("/api/me", headers=bearer(good)).status_code == 429
    assert attacker.get("/api/campaigns", headers=bearer(good)).status_code == 429
    # ... and nobody else is affected, right or wrong
    assert colleague.get("/api/me", headers=bearer(good)).json()["role"] == "operator"
    assert colleague.get("/api/me", headers=bearer("vb_typo")).status_code == 401

    lockouts = [r for r in caplog.records if "locked" in r.getMessage()]
    assert len(lockouts) == 1  # logged once, with the address and the count, never a token
    message = lockouts[0].getMessage()
    assert "203.0.113.7" in message and "10 failed" in message
    assert "vb_" not in caplog.text and good not in caplog.text


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    # No trusted proxy (the default): X-Forwarded-For is ignored, so a new value per guess does not help.
    app, url = make_app(tmp_path, VOICEBOT_SECURITY_LOGIN_MAX_FAILURES="3")
    good = add_token(url)
    direct = TestClient(app, client=("203.0.113.7", 40000))
    for i in range(3):
        assert (
            direct.get("/api/me", headers={**bearer("vb_x"), "X-Forwarded-For": f"10.9.0.{i}"}).status_code
            == 401
        )
    assert direct.get("/api/me", headers={**bearer(good), "X-Forwarded-For": "10.9.0.99"}).status_code == 429

    # Behind a configured proxy: each client as the proxy names it; one client's lockout is its own.
    app, url = make_app(
        tmp_path / "proxied",
        VOICEBOT_SECURITY_LOGIN_MAX_FAILURES="3",
        VOICEBOT_SECURITY_TRUSTED_PROXIES="10.0.0.5, 192.168.10.0/24",
    )
    good = add_token(url)
    proxy = TestClient(app, client=("10.0.0.5", 40000))
    for _ in range(3):
        assert (
            proxy.get("/api/me", headers={**bearer("vb_x"), "X-Forwarded-For": "203.0.113.7"}).status_code
            == 401
        )
    assert proxy.get("/api/me", headers={**bearer(good), "X-Forwarded-For": "203.0.113.7"}).status_code == 429
    assert (
        proxy.get("/api/me", headers={**bearer(good), "X-Forwarded-For": "198.51.100.20"}).status_code == 200
    )
    # a client cannot pick its own address by sending the header through the proxy: the rightmost
    # untrusted hop counts
    spoofed = {**bearer(good), "X-Forwarded-For": "198.51.100.20, 203.0.113.7"}
    assert proxy.get("/api/me", headers=spoofed).status_code == 429


def test_the_lock_lasts_until_the_window_clears() -> None:
    now = [1000.0]
    limiter = FailedLogins(LoginLimits(max_failures=3, window_s=60), clock=lambda: now[0])
    for step in (0, 20, 30):  # three failures within 60 s
        now[0] = 1000.0 + step
        assert limiter.retry_after("a") is None
        limiter.failed("a")
    assert limiter.retry_after("a") == 60 and limiter.retry_after("b") is None
    now[0] = 1030.0 + 59.5
    assert limiter.retry_after("a") == 1
    now[0] = 1030.0 + 60
    assert limiter.retry_after("a") is None  # cleared: a fresh window
    limiter.failed("a")
    assert limiter.retry_after("a") is None
    # failures spread wider than the window never lock
    for k in range(10):
        now[0] = 2000.0 + 31 * k
        limiter.failed("slow")
        assert limiter.retry_after("slow") is None


def test_security_settings_are_checked() -> None:
    for key, value in (
        ("VOICEBOT_SECURITY_LOGIN_MAX_FAILURES", "0"),
        ("VOICEBOT_SECURITY_LOGIN_WINDOW_S", "0"),
        ("VOICEBOT_SECURITY_TRUSTED_PROXIES", "10.0.0.5, proxy.example"),
        ("VOICEBOT_SECURITY_HEADER_TIMEOUT_S", "0"),
    ):
        with pytest.raises(ConfigError, match="security"):
            load_config(None, {key: value})
    assert load_config(None, {}).security.proxies == []


# --- token expiry -------------------------------------------------------------------------------------


def test_expired_tokens_authenticate_as_nothing(tmp_path: Path) -> None:
    clock = Clock()
    app, url = make_app(tmp_path, clock)
    admin = bearer(add_token(url, "admin"))
    http = TestClient(app)

    for bad in (0, 3651, "soon"):
        r = http.post(
            "/api/tokens", headers=admin, json={"name": "임시", "role": "viewer", "expires_days": bad}
        )
        assert r.status_code == 422, bad
    made = http.post(
        "/api/tokens", headers=admin, json={"name": "임시 직원", "role": "viewer", "expires_days": 30}
    )
    assert made.status_code == 201
    body = made.json()
    assert datetime.fromisoformat(body["expires_at"]) == T0 + timedelta(days=30)
    forever = http.post("/api/tokens", headers=admin, json={"name": "상시", "role": "viewer"}).json()
    assert forever["expires_at"] is None

    temp = bearer(body["token"])
    assert http.get("/api/me", headers=temp).json() == {"name": "임시 직원", "role": "viewer"}
    clock.now = T0 + timedelta(days=30, seconds=-1)
    assert http.get("/api/me", headers=temp).status_code == 200
    clock.now = T0 + timedelta(days=30)
    assert http.get("/api/me", headers=temp).status_code == 401
    assert http.get("/api/me", headers=bearer(forever["token"])).status_code == 200

    listed = {t["name"]: t for t in http.get("/api/tokens", headers=admin).json()}
    assert listed["임시 직원"]["expired"] is True
    assert datetime.fromisoformat(listed["임시 직원"]["expires_at"]) == T0 + timedelta(days=30)
    assert listed["상시"]["expired"] is False and listed["상시"]["expires_at"] is None


def test_token_create_expires_days_on_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "voicebot.cli", "token", *args, "--db", db, "--json"],
            capture_output=True,
            text=True,
            timeout=120,
        )

    made = run("create", "--name", "외부 점검", "--role", "viewer", "--expires-days", "7")
    assert made.returncode == 0, made.stderr
    expires = datetime.fromisoformat(json.loads(made.stdout)["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
    listed = json.loads(run("list").stdout)
    assert listed[0]["expires_at"] and listed[0]["expired"] is False
    refused = run("create", "--name", "x", "--expires-days", "0")
    assert refused.returncode != 0 and "유효 기간" in refused.stderr


# --- headers --------------------------------------------------------------------------------------------


def test_pages_get_a_strict_policy_and_docs_only_its_own_script(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    http = TestClient(app)
    for path in ("/call", "/chat", "/console/", "/api/me"):
        r = http.get(path)
        csp = dict(part.strip().split(" ", 1) for part in r.headers["content-security-policy"].split(";"))
        assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'", path
        assert csp["style-src"] == "'self'" and csp["frame-ancestors"] == "'none'", path
        assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'", path
        assert r.headers["permissions-policy"].startswith("microphone=(self)"), path
        assert "strict-transport-security" not in r.headers, path  # plain http
    docs = http.get("/docs")
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy
    assert len(docs.headers.get_list("content-security-policy")) == 1

    secure = TestClient(app, base_url="https://testserver")
    assert secure.get("/call").headers["strict-transport-security"].startswith("max-age=")


def test_hsts_follows_a_trusted_proxys_https(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, VOICEBOT_SECURITY_TRUSTED_PROXIES="10.0.0.5")
    proxy = TestClient(app, client=("10.0.0.5", 40000))
    assert "strict-transport-security" in proxy.get("/call", headers={"X-Forwarded-Proto": "https"}).headers
    other = TestClient(app, client=("203.0.113.7", 40000))
    assert (
        "strict-transport-security" not in other.get("/call", headers={"X-Forwarded-Proto": "https"}).headers
    )


# --- slow request heads ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def served(tmp_path: Path):
    """The real app under uvicorn with the protocol ``voicebot serve`` uses, a 1 s head deadline."""
    app, _ = make_app(tmp_path)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            http=head_timeout_protocol(1.0),
            lifespan="off",
            proxy_headers=False,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, name="test-head-timeout", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(30)


def trickle(sock: socket.socket, data: bytes, gap_s: float = 1.0) -> int:
    """Send ``data`` one byte per ``gap_s``; returns how many bytes went before the server closed."""
    sock.settimeout(gap_s)
    for sent, byte in enumerate(data):
        try:
            if sock.recv(1024) == b"":
                return sent
        except TimeoutError:
            pass
        except ConnectionResetError:  # the server closed with a reset: cut off as well
            return sent
        try:
            sock.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return sent
    return len(data)


def test_a_slow_request_head_is_cut_off(served: int) -> None:
    head = (
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\nX-A: "
        + b"a" * 40
        + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served)) as sock:
        sent = trickle(sock, head)
    assert sent < 15, f"the server still read the head after {sent} bytes at one a second"

    # an ordinary client is served, and a kept-alive connection gets the same deadline for its next head
    with httpx.Client(base_url=f"http://127.0.0.1:{served}", timeout=10) as http:
        assert http.get("/healthz").status_code in (200, 503)
    with socket.create_connection(("127.0.0.1", served)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 ")
        assert trickle(sock, head) < 15
