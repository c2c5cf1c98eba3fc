"""Voice-to-voice over real SIP on 127.0.0.1: baresip calls ``voicebot sip`` with a clip as its microphone.

Run through ``python -m benchmarks.latency --live`` (which also runs the simulated timeline on the same
clips, so the two are printed side by side). Only public interfaces: ``voicebot sip`` is started as a
subprocess with its default configuration (the one ``voicebot serve`` and the SIP worker use) and
prints one JSON ``CallRecord`` per call; baresip (Debian's, ``bash scripts/test-deps.sh``) is driven
through ``ctrl_tcp`` and records both directions with its ``sndfile`` module.

Per call: the microphone is 2 s of silence, the clip, 4 s of silence, at 8 kHz (baresip's own 16 -> 8 kHz
resampler loses the top of the band), sent as PCMU; baresip hangs up when the file ends. From baresip's
recordings:

- ``...-enc.wav`` is what it sent, sample for sample the microphone file (the offset is found by
  cross-correlation), so the end of the caller's turn is at offset + 2 s + the clip's last voiced frame
  (webrtcvad on the clip alone, as on the simulated timeline);
- ``...-dec.wav`` is what it heard, written as each packet leaves baresip's RTP jitter buffer
  (``jitter_buffer_delay``, baresip's default of 5-10 packets, set explicitly; ``--live-jitter`` changes
  it), i.e. when a phone would play it. Both files run in real time until the call closes, so they are
  lined up on their ends: the heard file starts ``len(sent) - len(heard)`` later (``heard_offset_s``,
  about the jitter buffer's delay: 40 ms at 1-10 packets, 120 ms at 5-10, 220 ms at 10-20). Checked
  once with a raw-socket capture on lo during this work: the sent file begins with the first RTP packet
  sent, the heard file with the first packet received (first packets 5-15 ms apart on the wire) and
  lacks the last packets still buffered at hang-up; the gap read from the files was the on-the-wire gap
  plus 100-110 ms at 5-10 packets;
- the gap is from the end of the caller's turn to the first 10 ms of heard audio above -45 dBFS after
  it, so it includes both RTP legs, the server's jitter buffer and bridge, and baresip's jitter buffer.
  When the bot is already sounding at that moment (a reply over the caller, or the greeting never
  stopped) no gap is taken and the call counts as ``overlap``.

Also kept per call: the server's own voice-to-voice of the reply covering the end (from its call record,
on its stream clock); ``premature`` when its record has a reply starting before the caller's last voiced
frame and the bot channel of its recording sounds between that start and that frame; and the wire share
(gap minus the server's figure: RTP, jitter buffers, the 8 <-> 16 kHz bridge).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import soundfile as sf

from media.audio import resample, silence, write_wav

REPO = Path(__file__).resolve().parents[1]
BARESIP = shutil.which("baresip")
BARESIP_MODULES = Path("/usr/lib/baresip/modules")
LEAD_IN_S = 2.0
TAIL_S = 4.0
MIC_RATE = 8000
HEARD_DBFS = -45.0
WINDOW_S = 0.01
JITTER_BUFFER = "5-10"  # baresip's default, in 20 ms packets


def available() -> str | None:
    """Why live calls cannot run here, or None."""
    if BARESIP is None or not BARESIP_MODULES.is_dir():
        return "baresip not installed (bash scripts/test-deps.sh)"
    try:
        import pjsua2  # noqa: F401
    except ImportError:
        return "pjsua2-python not installed (scripts/setup.sh installs requirements/sip.txt)"
    return None


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SipServer:
    """``voicebot sip`` in a subprocess; one JSON call record per finished call on its stdout."""

    def __init__(self, workdir: Path, start_timeout_s: float = 180.0):
        self.port = free_port()
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = workdir / "server.err"
        self.calls: list[dict] = []
        self._cond = threading.Condition()
        self._stderr = open(self.stderr_path, "w")
        command = [sys.executable, "-m", "voicebot.cli", "-v", "sip", "--listen", f"127.0.0.1:{self.port}"]
        command += ["--record-dir", str(workdir / "recordings"), "--rtp-timeout", "4"]
        self.proc = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + start_timeout_s
        while "serving inbound calls" not in self.stderr_path.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"voicebot sip did not start:\n{self.stderr_path.read_text()[-2000:]}")
            time.sleep(0.2)

    @property
    def uri(self) -> str:
        return f"sip:bot@127.0.0.1:{self.port}"

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.strip().startswith("{"):
                with self._cond:
                    self.calls.append(json.loads(line))
                    self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.calls)

    def wait_call(self, since: int, timeout: float) -> dict | None:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.calls) > since, timeout):
                return None
            return self.calls[since]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._stderr.close()


class Softphone:
    """A headless baresip: the WAV as microphone (aufile), both directions recorded (sndfile), driven
    through ctrl_tcp (netstrings)."""

    def __init__(self, workdir: Path, mic_wav: Path, jitter: str = JITTER_BUFFER):
        self.dump = workdir / "dump"
        self.dump.mkdir(parents=True, exist_ok=True)
        sip_port, ctrl_port, rtp = free_port(), free_port(socket.SOCK_STREAM), free_port()
        config = [
            "poll_method epoll",
            f"sip_listen 127.0.0.1:{sip_port}",
            "net_interface 127.0.0.1",
            f"audio_source aufile,{mic_wav}",
            "audio_player alsa,null",
            "audio_alert alsa,null",
            f"ausrc_srate {MIC_RATE}",
            "auplay_srate 16000",
            f"rtp_ports {rtp}-{rtp + 10}",
            f"jitter_buffer_delay {jitter}",
            f"module_path {BARESIP_MODULES}",
            "module stdio.so",
            "module g711.so",
            "module aufile.so",
            "module sndfile.so",
            "module alsa.so",
            "module_app account.so",
            "module_app menu.so",
            "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}",
            f"snd_path {self.dump}",
        ]
        (workdir / "config").write_text("\n".join(config) + "\n")
        (workdir / "accounts").write_text(f"<sip:caller@127.0.0.1:{sip_port}>;regint=0;audio_codecs=PCMU\n")
        self._log = open(workdir / "baresip.log", "w")
        self.proc = subprocess.Popen(
            [BARESIP, "-f", str(workdir)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", ctrl_port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("baresip's ctrl_tcp did not come up") from None
                time.sleep(0.1)

    def dial(self, uri: str) -> None:
        body = json.dumps({"command": "dial", "params": uri, "token": uuid.uuid4().hex[:8]}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")

    def wait(self, timeout: float) -> None:
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
                self.proc.wait(5)
        if hasattr(self, "sock"):
            self.sock.close()
        self._log.close()

    def recordings(self) -> tuple[np.ndarray, np.ndarray, int]:
        """(what it sent, what it heard, rate)."""
        enc = sorted(self.dump.glob("dump-*-enc.wav"))
        dec = sorted(self.dump.glob("dump-*-dec.wav"))
        if not enc or not dec:
            raise RuntimeError("baresip recorded nothing")
        sent, rate = sf.read(enc[-1], dtype="float32")
        heard, heard_rate = sf.read(dec[-1], dtype="float32")
        if heard_rate != rate:
            heard = resample(heard, heard_rate, rate)
        return sent, heard, rate


def lag_of(haystack: np.ndarray, needle: np.ndarray) -> int:
    """Samples by which ``needle`` is delayed inside ``haystack`` (cross-correlation peak)."""
    from scipy.signal import correlate

    corr = correlate(haystack, needle, mode="full", method="fft")
    return int(np.argmax(corr)) - (len(needle) - 1)


def levels_db(samples: np.ndarray, rate: int) -> np.ndarray:
    size = int(WINDOW_S * rate)
    count = len(samples) // size
    frames = samples[: count * size].reshape(count, size).astype(np.float64)
    return 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-12)


def measure(mic: np.ndarray, sent: np.ndarray, heard: np.ndarray, rate: int, speech_end_s: float) -> dict:
    """The gap in baresip's recordings between the end of the caller's turn and the bot's next sound."""
    lag = lag_of(sent, mic) / rate
    end_sent = lag + LEAD_IN_S + speech_end_s
    offset = (len(sent) - len(heard)) / rate  # the heard file started this much later
    end_heard = end_sent - offset
    loud = levels_db(heard, rate) > HEARD_DBFS
    at = int(end_heard / WINDOW_S)
    result = {
        "sent_lag_s": round(lag, 3),
        "heard_offset_s": round(offset, 3),
        "end_heard_s": round(end_heard, 3),
    }
    if at >= len(loud):
        result["no_reply"] = True
        return result
    if loud[max(0, at - 5) : at + 1].any():
        result["overlap"] = True
        return result
    later = np.nonzero(loud[at:])[0]
    if len(later) == 0:
        result["no_reply"] = True
        return result
    result["gap_ms"] = round((at + int(later[0])) * WINDOW_S * 1000 - end_heard * 1000, 1)
    return result


def from_record(record: dict) -> dict:
    """What the server's own call record says about the caller's turn."""
    spoken = [t for t in record.get("turns", []) if t.get("trigger") == "speech"]
    if not spoken:
        return {"server_turns": 0}
    end = max(t["caller_end_s"] for t in spoken)
    kept = [t for t in spoken if not t.get("withdrawn")]
    covering = [t for t in kept if t["caller_end_s"] >= end - 0.1]
    early = [t["bot_start_s"] for t in spoken if t["bot_start_s"] < end]
    out = {
        "server_turns": len(spoken),
        "premature": bool(early) and _bot_sounds(record.get("recording"), min(early, default=end), end),
        "heard_text": " ".join(t["caller_text"] for t in kept),
    }
    if covering:
        out["server_v2v_ms"] = covering[-1]["latency_ms"]["voice_to_voice_ms"]
    return out


def _bot_sounds(recording: str | None, start_s: float, end_s: float) -> bool:
    """Does the bot channel of the server's recording (caller left, bot right, on the call's stream
    clock) sound between ``start_s`` and ``end_s``? Without a recording, a reply scheduled early counts."""
    if not recording or not Path(recording).is_file():
        return True
    stereo, rate = sf.read(recording, dtype="float32", always_2d=True)
    if stereo.shape[1] < 2:
        return True
    bot = stereo[int(start_s * rate) : int(end_s * rate), 1]
    return bool(len(bot)) and bool((levels_db(bot, rate) > HEARD_DBFS).any())


def live_call(server: SipServer, workdir: Path, clip, jitter: str = JITTER_BUFFER) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    caller = np.concatenate([silence(LEAD_IN_S), clip.audio, silence(TAIL_S)])
    mic = resample(caller, 16_000, MIC_RATE)
    mic_path = write_wav(workdir / "mic.wav", mic, MIC_RATE)
    mic = sf.read(mic_path, dtype="float32")[0]
    phone = Softphone(workdir / "baresip", mic_path, jitter)
    since = server.mark()
    try:
        phone.dial(server.uri)
        record = server.wait_call(since, timeout=len(mic) / MIC_RATE + 60)
    finally:
        phone.wait(10)
    result: dict = {"clip": clip.name}
    if record is None:
        result["error"] = "no call record"
        return result
    result.update(from_record(record))
    try:
        sent, heard, rate = phone.recordings()
    except RuntimeError as exc:
        result["error"] = str(exc)
        return result
    result.update(measure(mic, sent, heard, rate, clip.speech_end_s))
    if "gap_ms" in result and "server_v2v_ms" in result:
        result["wire_ms"] = round(result["gap_ms"] - result["server_v2v_ms"], 1)
    return result


def _distribution(values: list[float]) -> dict:
    if not values:
        return {}
    array = np.asarray(values)
    return {
        "p50": round(float(np.percentile(array, 50)), 1),
        "p95": round(float(np.percentile(array, 95)), 1),
        "max": round(float(array.max()), 1),
        "n": len(values),
    }


def run(clip_sets: dict[str, list], log, limit: int = 0, jitter: str = JITTER_BUFFER) -> dict:
    """Live calls, one at a time, for each clip set; a first call warms the server up and is not kept."""
    why = available()
    if why:
        log(f"live: skipped, {why}")
        return {"skipped": why, "sets": {}}
    report: dict = {
        "setup": {
            "lead_in_s": LEAD_IN_S,
            "tail_s": TAIL_S,
            "codec": "PCMU",
            "mic_rate": MIC_RATE,
            "baresip_jitter_buffer_packets": jitter,
        }
    }
    report["sets"] = {}
    with tempfile.TemporaryDirectory(prefix="live-sip-") as tmp:
        root = Path(tmp)
        server = SipServer(root / "server")
        try:
            first = next(iter(c for clips in clip_sets.values() for c in clips), None)
            if first is not None:
                live_call(server, root / "warm-up", first, jitter)
            for set_name, clips in clip_sets.items():
                chosen = clips[:limit] if limit else clips
                results = []
                for index, clip in enumerate(chosen):
                    outcome = live_call(server, root / f"{set_name.replace(':', '_')}-{index}", clip, jitter)
                    results.append(outcome)
                    log(
                        f"live {set_name} {clip.name}: gap {outcome.get('gap_ms')} ms, server "
                        f"{outcome.get('server_v2v_ms')} ms{' PREMATURE' if outcome.get('premature') else ''}"
                        f"{' overlap' if outcome.get('overlap') else ''}{' ' + outcome['error'] if 'error' in outcome else ''}"
                    )
                report["sets"][set_name] = {
                    "calls": len(results),
                    "gap_ms": _distribution([r["gap_ms"] for r in results if "gap_ms" in r]),
                    "server_v2v_ms": _distribution(
                        [r["server_v2v_ms"] for r in results if "server_v2v_ms" in r]
                    ),
                    "wire_ms": _distribution([r["wire_ms"] for r in results if "wire_ms" in r]),
                    "heard_offset_ms": _distribution(
                        [1000 * r["heard_offset_s"] for r in results if "heard_offset_s" in r]
                    ),
                    "premature": sum(bool(r.get("premature")) for r in results),
                    "overlap": sum(bool(r.get("overlap")) for r in results),
                    "no_reply": sum(1 for r in results if "gap_ms" not in r and not r.get("overlap")),
                    "results": results,
                }
        finally:
            server.stop()
    return report
