"""`voicebot serve` in its own process, as a user starts it: for the soak benchmark and the tests that need
the real server (API fuzzing)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Served:
    url: str
    admin_token: str
    process: subprocess.Popen
    log: Path

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing listens on at 127.0.0.1 (TCP unless ``kind`` says ``socket.SOCK_DGRAM``)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(tmp_path: Path, config: str, *, env: dict[str, str] | None = None) -> Iterator[Served]:
    """Run ``voicebot serve --config`` with ``config`` (YAML; ``port`` and ``db_url`` are added) in
    ``tmp_path`` (its working directory, so everything it writes stays there) until the block ends, then
    stop it with SIGTERM as a service manager does. RuntimeError when it does not become healthy or does
    not stop cleanly (the log's tail says why)."""
    port = free_port()
    path = tmp_path / "serve.yaml"
    path.write_text(f"port: {port}\ndb_url: sqlite:///{tmp_path / 'serve.db'}\n{config}", encoding="utf-8")
    token_file = tmp_path / "admin-token"
    log_path = tmp_path / "serve.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")}
    clean["VOICEBOT_PROMPTS_DIR"] = str(tmp_path / "prompts")
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voicebot.cli",
                "serve",
                "--config",
                str(path),
                "--token-file",
                str(token_file),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**clean, **(env or {})},
            cwd=tmp_path,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(proc, url, log_path)
            yield Served(url, token_file.read_text().strip(), proc, log_path)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                # uvicorn shuts down gracefully, then re-raises the signal it caught: exit by SIGTERM is normal.
                code = proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise RuntimeError("voicebot serve did not stop within 30 s of SIGTERM") from None
            if code not in (0, -signal.SIGTERM):
                raise RuntimeError(f"voicebot serve exited with {code}: {log_path.read_text()[-2000:]}")


def _wait_healthy(proc: subprocess.Popen, url: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=10) as http:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"voicebot serve exited at start: {log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"voicebot serve did not become healthy within {timeout:.0f} s")
            try:
                if http.get("/healthz").json().get("status") == "ok":
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
