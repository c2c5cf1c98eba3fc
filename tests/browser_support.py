"""What the real-browser tests share: where Debian's Chromium and playwright-core are, and the marks that
skip a test (saying what is missing) when they are not installed (`bash scripts/browser-deps.sh`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
BROWSER_DIR = REPO / "tests" / "browser"
CHROMIUM = Path("/usr/bin/chromium")


def missing_browser_parts() -> list[str]:
    parts = (
        (f"{CHROMIUM} (apt chromium)", not CHROMIUM.exists()),
        ("node", shutil.which("node") is None),
        (
            "tests/browser/node_modules (npm ci)",
            not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir(),
        ),
    )
    return [reason for reason, absent in parts if absent]


def browser_test_marks() -> list[pytest.MarkDecorator]:
    missing = missing_browser_parts()
    return [
        pytest.mark.slow,
        pytest.mark.skipif(
            bool(missing), reason=f"browser test needs {', '.join(missing)}: run scripts/browser-deps.sh"
        ),
    ]


@contextmanager
def serving(app: Any, port: int, name: str = "test-serve") -> Iterator[str]:
    """The app under uvicorn on 127.0.0.1:``port`` in a thread, for as long as the block runs; its URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def staff_database(tmp_path: Path, name: str) -> tuple[str, Any]:
    """A migrated SQLite database for a console test: its URL, and an engine to add tokens and rows with
    (dispose of it before the server starts)."""
    from outbound import store

    url = f"sqlite:///{tmp_path / f'{name}.db'}"
    store.upgrade(url)
    return url, store.make_engine(url)


@contextmanager
def console_server(
    db: str, name: str, *, env: dict[str, str] | None = None, **app_options: Any
) -> Iterator[str]:
    """``voicebot serve``'s app on ``db`` under uvicorn on a free port for as long as the block runs (WebRTC
    off and no dialer unless ``env``'s VOICEBOT_* settings say otherwise; ``app_options`` go to
    ``create_app``, e.g. ``models=``); its URL."""
    from benchmarks.serving import free_port
    from voicebot.server.app import create_app
    from voicebot.server.config import load_config

    port = free_port()
    settings = {
        "VOICEBOT_DB_URL": db,
        "VOICEBOT_PORT": str(port),
        "VOICEBOT_WEBRTC_ENABLED": "false",
        "VOICEBOT_OUTBOUND_DIALER": "none",
        **(env or {}),
    }
    with serving(create_app(load_config(None, settings), **app_options), port, f"test-{name}-serve") as url:
        yield url


def run_page_script(script: str, args: list[str], artifacts: Path, timeout: float = 150) -> dict:
    """Run ``tests/browser/<script>`` with node; its last JSON line, also kept as ``artifacts/result.json``."""
    run = subprocess.run(
        ["node", script, *args], cwd=BROWSER_DIR, capture_output=True, text=True, timeout=timeout
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    assert lines, f"{script} printed no result (exit {run.returncode}): {run.stderr[-2000:]}"
    result = json.loads(lines[-1])
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return result
