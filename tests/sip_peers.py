"""Real SIP peers for tests on 127.0.0.1: a headless baresip softphone, free ports and skip marks.

Shared by tests/test_sip.py and tests/test_outbound_sip.py. Peers come from Debian
(``bash scripts/test-deps.sh``); the binding from ``requirements/sip.txt`` (``scripts/setup.sh``).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from media.audio import load_audio, silence

BARESIP = shutil.which("baresip")
BARESIP_MODULES = Path("/usr/lib/baresip/modules")

try:
    import pjsua2  # noqa: F401

    HAVE_PJSUA2 = True
except ImportError:
    HAVE_PJSUA2 = False


def peer_test(skip_if: bool, reason: str):
    """Marks for a test with real SIP peers: slow, and skipped when the binding or the peer is missing."""

    def mark(test):
        test = pytest.mark.skipif(skip_if, reason=reason)(test)
        test = pytest.mark.skipif(
            not HAVE_PJSUA2,
            reason="pjsua2-python not installed (scripts/setup.sh installs requirements/sip.txt)",
        )(test)
        return pytest.mark.slow(test)

    return mark


needs_baresip = peer_test(
    BARESIP is None or not BARESIP_MODULES.is_dir(), "baresip not installed (bash scripts/test-deps.sh)"
)


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0


class Baresip:
    """A headless baresip: aufile as microphone, sndfile dumps what it hears, ctrl_tcp to drive it."""

    def __init__(
        self,
        workdir: Path,
        source_wav: Path,
        answer: bool = False,
        user: str = "caller",
        mic_rate: int = 16_000,
        codecs: str = "PCMU",
    ):
        """``mic_rate`` is ``source_wav``'s rate. 8000 spares baresip its 16 -> 8 kHz resampler, which
        leaves little above 2 kHz: measured on one Korean clip, Whisper's CER 0.38 instead of 0.09.
        ``codecs``: what baresip offers and accepts, in order (e.g. "G722/16000/1,PCMU": G.722 by its audio rate)."""
        self.dir = workdir
        self.user = user  # calls to another user part get "UA not found"
        self.dump = workdir / "dump"
        self.dump.mkdir(parents=True, exist_ok=True)
        self.sip_port, self.ctrl_port = free_port(), free_port(socket.SOCK_STREAM)
        rtp = free_port()
        (workdir / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{self.sip_port}",
                    "net_interface 127.0.0.1",
                    f"audio_source aufile,{source_wav}",
                    "audio_player alsa,null",
                    "audio_alert alsa,null",
                    f"ausrc_srate {mic_rate}",
                    "auplay_srate 16000",
                    f"rtp_ports {rtp}-{rtp + 10}",
                    f"module_path {BARESIP_MODULES}",
                    "module stdio.so",
                    "module g711.so",
                    "module g722.so",
                    "module aufile.so",
                    "module sndfile.so",
                    "module alsa.so",
                    "module_app account.so",
                    "module_app menu.so",
                    "module_app ctrl_tcp.so",
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
                    f"snd_path {self.dump}",
                    "",
                ]
            )
        )
        mode = ";answermode=auto" if answer else ""
        (workdir / "accounts").write_text(
            f"<sip:{user}@127.0.0.1:{self.sip_port}>;regint=0{mode};audio_codecs={codecs}\n"
        )
        self.log = open(workdir / "baresip.log", "w")
        self.proc = subprocess.Popen(
            [BARESIP, "-f", str(workdir)], stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "baresip's ctrl_tcp did not come up"
                time.sleep(0.1)
        self.events: list[dict] = []  # what ctrl_tcp reports: {"event": true, "type": "CALL_DTMF_START", ...}
        threading.Thread(target=self._read_events, daemon=True).start()

    def _read_events(self) -> None:
        """ctrl_tcp speaks netstrings: ``<length>:<json>,``."""
        buffer = b""
        self.sock.settimeout(None)
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buffer += data
            while b":" in buffer:
                length, rest = buffer.split(b":", 1)
                if len(rest) < int(length) + 1:
                    break
                message = json.loads(rest[: int(length)])
                buffer = rest[int(length) + 1 :]
                if message.get("event"):
                    self.events.append(message)

    def wait_event(self, kind: str, timeout: float) -> dict:
        """The first ctrl_tcp event of type ``kind`` (e.g. CALL_ESTABLISHED), waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((e for e in list(self.events) if e.get("type") == kind), None)
            if found is not None:
                return found
            assert time.monotonic() < deadline, f"baresip reported no {kind}: {self.events}"
            time.sleep(0.05)

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@127.0.0.1:{self.sip_port}"

    def command(self, command: str, params: str = "") -> None:
        body = json.dumps({"command": command, "params": params, "token": uuid.uuid4().hex[:8]}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")

    def wait(self, timeout: float) -> None:
        """baresip keeps running after a call; stop it once its call is over."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.sock.close()
        self.log.close()

    def heard(self) -> np.ndarray:
        dumps = sorted(self.dump.glob("dump-*-dec.wav"))
        assert dumps, "baresip recorded nothing"
        samples, _ = sf.read(dumps[-1], dtype="float32")
        return samples


def padded_clip(path: Path, out: Path, before_s: float, after_s: float) -> Path:
    audio = load_audio(path)
    sf.write(out, np.concatenate([silence(before_s), audio.samples, silence(after_s)]), audio.sample_rate)
    return out
