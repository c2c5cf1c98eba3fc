"""Proof that no code path reaches the network: every CLI job runs with sockets that refuse to connect.

Two layers: a guard installed in the child interpreter that records and refuses any connect or DNS lookup
(so a hidden download would fail loudly and be reported), and, where ``unshare -n`` works, a private
network namespace with nothing but loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

GUARD = r"""
import socket, sys, runpy
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    sys.stderr.write("NETWORK ATTEMPT %r\n" % (args[:2],))
    raise OSError("network disabled by test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.getaddrinfo = refuse
socket.create_connection = refuse
sys.argv = ["voicebot"] + sys.argv[1:]
try:
    runpy.run_module("voicebot.cli", run_name="__main__")
finally:
    if attempts:
        sys.stderr.write("NETWORK ATTEMPTS: %d\n" % len(attempts))
"""


def run_guarded(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [*prefix, sys.executable, "-c", GUARD, *args], capture_output=True, text=True, env=env, timeout=600
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["faster-whisper", "openai-whisper"])
def test_transcription_never_touches_the_network(backend, clips, tmp_path):
    result = run_guarded("transcribe", str(clips[0].path), "--backend", backend, "--json")
    assert result.returncode == 0, result.stderr
    assert "NETWORK ATTEMPT" not in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["text"]


def test_models_verify_and_say_never_touch_the_network(tmp_path):
    result = run_guarded("models", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "NETWORK ATTEMPT" not in result.stderr
    result = run_guarded(
        "say",
        "안녕하세요. 120 다산콜센터입니다.",
        "--out",
        str(tmp_path / "a.wav"),
        "--cache-dir",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "NETWORK ATTEMPT" not in result.stderr


@pytest.mark.slow
def test_listen_runs_in_a_network_namespace_without_network(clips):
    if not shutil.which("unshare") or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        pytest.skip("unshare -n is not permitted here")
    result = run_guarded("listen", str(clips[0].path), "--fast", "--json", prefix=("unshare", "-n"))
    assert result.returncode == 0, result.stderr
    assert "NETWORK ATTEMPT" not in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["text"]
