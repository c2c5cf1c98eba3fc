"""Real SIP calls on 127.0.0.1 against real peers: baresip (a softphone) and SIPp (sip-tester).

One ``voicebot sip`` server runs for the module (real Whisper, dialog and espeak-ng); each test drives
calls into it, or runs ``voicebot dial`` against a peer, and checks the JSON line the server prints per
finished call. Peers come from Debian (``bash scripts/test-deps.sh``); the binding from
``requirements/sip.txt`` (``scripts/setup.sh``). The pure parts (block resampling, the outbound
buffer, masking, outcome mapping) have fast tests without peers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sip_peers import Baresip, free_port, needs_baresip, padded_clip, peer_test, rms

from benchmarks.metrics import character_error_rate
from media.audio import silence

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "tests" / "data" / "sip"
SIPP = shutil.which("sipp")
KAMAILIO = shutil.which("kamailio") or shutil.which("kamailio", path="/usr/sbin")
KAMAILIO_MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")

needs_sipp = peer_test(SIPP is None, "sipp not installed (sip-tester; bash scripts/test-deps.sh)")
needs_kamailio = peer_test(
    KAMAILIO is None or not KAMAILIO_MODULES.is_dir(), "kamailio not installed (bash scripts/test-deps.sh)"
)


def voice_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "voicebot.cli", *args]


class Server:
    """``voicebot sip`` in a subprocess; collects the JSON line printed per finished call."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.handoff_dir = workdir / "handoffs"
        self.record_dir = workdir / "recordings"
        self.stderr_path = workdir / "server.err"
        self.calls: list[dict] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            voice_cli(
                "-v", "sip", "--listen", f"127.0.0.1:{self.port}",
                "--agent-uri", f"sip:agent@127.0.0.1:{free_port()}",
                "--record-dir", str(self.record_dir), "--handoff-dir", str(self.handoff_dir),
                "--rtp-timeout", "4",
            ),
            cwd=REPO, stdout=subprocess.PIPE, stderr=open(self.stderr_path, "w"), text=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 120
        while "serving inbound calls" not in self.stderr_path.read_text():
            assert self.proc.poll() is None, self.stderr_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "voicebot sip did not start"
            time.sleep(0.2)

    @property
    def uri(self) -> str:
        return f"sip:bot@127.0.0.1:{self.port}"

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.strip():
                with self._cond:
                    self.calls.append(json.loads(line))
                    self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.calls)

    def wait_calls(self, since: int, count: int = 1, timeout: float = 60) -> list[dict]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.calls) >= since + count, timeout)
            assert ok, (
                f"no call report within {timeout} s; server log tail:\n{self.stderr_path.read_text()[-3000:]}"
            )
            return self.calls[since : since + count]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("sip-server"))
    yield srv
    assert srv.stop() == 0, srv.stderr_path.read_text()[-3000:]


# -- pure parts (fast) ------------------------------------------------------------------------------


@pytest.mark.parametrize("rates", [(8000, 16000), (16000, 8000), (48000, 16000), (16000, 48000)])
def test_stream_resampler_matches_one_shot_resampling_a_millisecond_behind(rates):
    """Every transport's edge: the streamed output is the whole stream resampled at once, lagging by the
    filter's reach (about a millisecond), not by a 20 ms block (what a caller and the bot each lost)."""
    from media.audio import resample
    from media.stream import StreamResampler

    from_rate, to_rate = rates
    block = from_rate // 50
    noise = (0.3 * np.random.default_rng(3).standard_normal(from_rate * 2)).astype(np.float32)
    stream = StreamResampler(from_rate, to_rate, block)
    streamed = np.concatenate([stream.push(noise[i : i + block]) for i in range(0, len(noise), block)])
    reference = resample(noise, from_rate, to_rate)
    lag = stream.lag_samples * to_rate // from_rate
    assert stream.lag_samples / from_rate <= 0.002
    assert len(streamed) == len(reference)
    assert np.max(np.abs(streamed[lag:] - reference[: len(streamed) - lag])) < 1e-6


def test_outbound_audio_keeps_speech_and_drops_surplus_silence():
    from media.stream import FrameQueue
    from voicebot.sip.media import FRAME_BYTES, SILENT_FRAME

    out = FrameQueue(FRAME_BYTES, max_silent_backlog=3)
    speech = (np.full(FRAME_BYTES // 2, 1000, "<i2")).tobytes()
    for _ in range(50):
        out.put(SILENT_FRAME)  # a worker catching up after a stall
    assert len(out) == 3 and out.dropped_silence == 47
    for _ in range(10):
        out.put(speech)
    assert len(out) == 10 and out.dropped_silence == 50  # silence queued before speech only delays it
    frames = [out.pop() for _ in range(11)]
    assert frames[:10] == [speech] * 10 and frames[10] == SILENT_FRAME and out.underruns == 1
    out.put(speech)
    out.put(SILENT_FRAME)  # a pause inside the reply, behind speech still queued, is kept
    out.put(speech)
    assert [out.pop(), out.pop(), out.pop()] == [speech, SILENT_FRAME, speech]


def test_codec_rates_and_preference_config():
    from voicebot.sip.config import SipConfig
    from voicebot.sip.media import codec_rate

    assert codec_rate("G722", 8000) == 16000  # SDP says 8000 for G.722; its audio is 16 kHz
    assert codec_rate("G722", 16000) == 16000
    assert codec_rate("PCMU", 8000) == 8000 and codec_rate("PCMA", 8000) == 8000
    assert codec_rate("opus", 48000) == 48000
    assert SipConfig().codecs[0] == "G722"
    assert SipConfig(codecs=("PCMU",)).codecs == ("PCMU",)
    assert SipConfig().bridge_rate == 16000 and SipConfig(codecs=("PCMU", "PCMA")).bridge_rate == 8000
    with pytest.raises(ValueError, match="unsupported codecs"):
        SipConfig(codecs=("G729",))


def test_codec_order_from_the_serve_config_and_its_environment():
    from voicebot.server.config import load_config
    from voicebot.sip.config import parse_codecs

    assert parse_codecs(load_config(environ={}).sip.codecs) == ("G722", "PCMU", "PCMA")
    assert parse_codecs(load_config(environ={"VOICEBOT_SIP_CODECS": "pcma, pcmu"}).sip.codecs) == (
        "PCMA",
        "PCMU",
    )


def test_masking_and_outcomes_and_refer_target():
    from voicebot.sip.endpoint import classify
    from voicebot.sip.pjsua_glue import refer_target
    from voicebot.sip.privacy import mask_uri

    assert mask_uri('"Kim" <sip:01012345678@10.0.0.1:5060>') == "<sip:01********8@10.0.0.1:5060>"
    assert mask_uri("tel:+821012345678") == "tel:+8**********8"
    assert mask_uri("sip:127.0.0.1:5080") == "sip:127.0.0.1:5080"
    assert classify(200, True, False) == "answered"
    assert classify(486, False, False) == "busy"
    assert classify(487, False, True) == "no_answer"
    assert classify(603, False, False) == "rejected"
    assert classify(404, False, False) == "failed"
    target = refer_target("sip:agent@127.0.0.1:5080", {"X-Handoff-Id": "abc123"})
    assert target == "<sip:agent@127.0.0.1:5080?X-Handoff-Id=abc123>"


def test_keypad_digits_are_checked_before_sending():
    from voicebot.call.dial_script import Prompt, ScriptSession, dial_digits_step
    from voicebot.call.keypad import check_dtmf

    assert check_dtmf("0123456789*#ABCDabcd") == "0123456789*#ABCDABCD"
    for bad in ("", "12x", "1 2", "E", "１", "1" * 33):
        with pytest.raises(ValueError, match="keypad digit"):
            check_dtmf(bad)
    with pytest.raises(ValueError, match="'x' at position 3"):
        Prompt("ext", "", expect="none", send_dtmf="12x")

    class Silent:
        def stream(self, text, sample_rate):
            return iter(())

    session = ScriptSession((dial_digits_step("1234#"), Prompt("bye", "", expect="none")), Silent())
    session.start(0.0)
    assert session.take_dtmf() == "1234#" and session.take_dtmf() == ""
    assert session.turns[0].dtmf_sent == "1234#" and session.bot.pending  # silence while the digits go out


# -- baresip ------------------------------------------------------------------------------------------


@needs_baresip
def test_baresip_calls_in_presses_2_and_speaks(server, korean_clips, tmp_path):
    """A softphone calls with a real Korean recording as its microphone: the bot answers within a second,
    follows the keypad (2 -> water), transcribes the caller and is heard on the caller's side."""
    clip = next(c for c in korean_clips if c.path.stem.endswith("0294"))
    mic = padded_clip(clip.path, tmp_path / "mic.wav", before_s=3.0, after_s=6.0)
    phone = Baresip(tmp_path / "baresip", mic)
    since = server.mark()
    try:
        phone.command("dial", server.uri)
        time.sleep(1.5)
        phone.command("sndcode", "2")
        (report,) = server.wait_calls(since, timeout=60)  # baresip hangs up when its file ends
    finally:
        phone.wait(5)
    assert report["direction"] == "inbound" and report["codec"] == "PCMU"
    assert report["setup_ms"] < 1000
    assert report["hangup_by"] == "remote" and report["ended_reason"] == "caller_hangup"
    assert "caller" not in report["remote"]  # the user part is masked
    turns = report["turns"]
    assert turns[0]["trigger"] == "start" and turns[0]["action"] == "menu"
    keyed = [t for t in turns if t["trigger"] == "dtmf"]
    assert keyed and keyed[0]["caller_text"] == "2" and keyed[0]["category"] == "water"
    spoken = [t for t in turns if t["trigger"] == "speech"]
    assert spoken, turns
    cer = character_error_rate(clip.transcript, spoken[0]["caller_text"])
    assert cer < 0.5, (spoken[0]["caller_text"], cer)
    heard = phone.heard()
    loud = max(rms(heard[i : i + 8000]) for i in range(0, max(1, len(heard) - 8000), 4000))
    assert loud > 0.02, "baresip heard only silence from the bot"
    assert report["recording"] and Path(report["recording"]).is_file()
    stereo, rate = sf.read(report["recording"], dtype="float32")
    assert rate == 8000 and stereo.shape[1] == 2
    assert rms(stereo[:, 0]) > 0.005 and rms(stereo[:, 1]) > 0.005  # caller left, bot right


@needs_baresip
def test_baresip_offering_g722_gets_a_wideband_call_that_is_recognised(server, korean_clips, tmp_path):
    """A softphone offering G.722 before PCMU (issue 15): the bot picks G.722, its bridge port runs at 16 kHz
    (the call recording is 16 kHz), the caller's Korean is transcribed and the bot is heard."""
    clip = next(c for c in korean_clips if c.path.stem.endswith("0294"))
    mic = padded_clip(clip.path, tmp_path / "mic.wav", before_s=3.0, after_s=6.0)
    phone = Baresip(tmp_path / "baresip", mic, codecs="G722/16000/1,PCMU")
    since = server.mark()
    try:
        phone.command("dial", server.uri)
        time.sleep(1.5)
        phone.command("sndcode", "2")
        (report,) = server.wait_calls(since, timeout=60)
    finally:
        phone.wait(5)
    assert report["codec"] == "G722"
    spoken = [t for t in report["turns"] if t["trigger"] == "speech"]
    assert spoken, report["turns"]
    cer = character_error_rate(clip.transcript, spoken[0]["caller_text"])
    assert cer < 0.5, (spoken[0]["caller_text"], cer)
    heard = phone.heard()
    loud = max(rms(heard[i : i + 8000]) for i in range(0, max(1, len(heard) - 8000), 4000))
    assert loud > 0.02, "baresip heard only silence from the bot"
    stereo, rate = sf.read(report["recording"], dtype="float32")
    assert rate == 16000 and stereo.shape[1] == 2
    assert rms(stereo[:, 0]) > 0.005 and rms(stereo[:, 1]) > 0.005


@needs_baresip
def test_dial_baresip_answered_with_keypad_answer(tmp_path):
    """``voicebot dial`` calls a softphone that answers; the callee presses 1; the bot says goodbye and
    hangs up; the callee heard the bot."""
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, silence(40.0), 16_000)
    phone = Baresip(tmp_path / "baresip", quiet, answer=True)
    try:
        dial = subprocess.Popen(
            voice_cli("dial", phone.uri, "--script", "line_check", "--json", "--no-stt", "--ring-timeout", "10"),
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(6.0)  # models load, the call is answered, the question starts
        phone.command("sndcode", "1")
        out, err = dial.communicate(timeout=60)
    finally:
        phone.wait(3)
    assert dial.returncode == 0, err[-3000:]
    result = json.loads(out)
    assert result["outcome"] == "answered" and result["sip_status"] == 200
    assert result["hangup_by"] == "bot" and result["ended_reason"] == "goodbye"
    first, last = result["turns"]
    assert first["key"] == "wellbeing" and first["answer"] == "1" and first["via"] == "dtmf"
    assert last["key"] == "goodbye"
    heard = phone.heard()
    assert rms(heard) > 0.01


@needs_baresip
def test_dial_sends_keypad_digits_after_answer(tmp_path):
    """``voicebot dial --send-dtmf 1234#`` (an extension at a PBX): right after the softphone answers, the bot
    sends the digits as RFC 4733 telephone-events, then speaks its script and hangs up."""
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, silence(40.0), 16_000)
    phone = Baresip(tmp_path / "baresip", quiet, answer=True)
    try:
        result = subprocess.run(
            voice_cli("dial", phone.uri, "--script", "line_notice", "--send-dtmf", "1234#", "--json", "--no-stt",
                      "--ring-timeout", "10"),
            cwd=REPO, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
    finally:
        phone.wait(3)
    assert result.returncode == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)
    assert payload["outcome"] == "answered" and payload["ended_reason"] == "goodbye"
    assert payload["hangup_by"] == "bot"
    sent, spoken = payload["turns"]
    assert sent["key"] == "send_dtmf" and sent["dtmf_sent"] == "1234#" and spoken["key"] == "notice"
    log = (tmp_path / "baresip" / "baresip.log").read_text()
    keys = [e.get("param") for e in phone.events if e.get("type") == "CALL_DTMF_START"]
    assert "".join(keys) == "1234#", (phone.events, log[-3000:])
    assert rms(phone.heard()) > 0.01  # and the notice was spoken after the digits


# -- SIPp ---------------------------------------------------------------------------------------------


def sipp(scenario: str, port: int | None = None, remote: str | None = None) -> subprocess.Popen:
    cmd = [SIPP, "-sf", str(SCENARIOS / f"{scenario}.xml"), "-i", "127.0.0.1", "-mi", "127.0.0.1"]
    cmd += ["-p", str(port or free_port()), "-mp", str(free_port() & ~1), "-m", "1", "-nostdin"]
    if remote:
        cmd += ["-s", "bot", remote]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return proc.returncode, out[-3000:]


@needs_sipp
def test_sipp_pcma_with_rfc2833_keypad(server):
    since = server.mark()
    rc, out = finish(sipp("uac_pcma_dtmf", remote=f"127.0.0.1:{server.port}"))
    assert rc == 0, out
    (report,) = server.wait_calls(since)
    assert report["codec"] == "PCMA" and report["hangup_by"] == "remote"
    keyed = [t for t in report["turns"] if t["trigger"] == "dtmf"]
    assert [t["caller_text"] for t in keyed] == ["2"] and keyed[0]["category"] == "water"
    stereo, rate = sf.read(report["recording"], dtype="float32")  # what PJSIP decoded from PCMA
    assert rate == 8000 and rms(stereo[:, 0]) > 0.01 and rms(stereo[:, 1]) > 0.01


def send_raw(port: int, message: str | bytes, wait_s: float = 2.0) -> list[str]:
    """Send one UDP datagram (text gets CRLF line ends; bytes go as they are); return the status codes of
    every response within ``wait_s``."""
    codes = []
    data = message if isinstance(message, bytes) else message.replace("\n", "\r\n").encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.sendto(data, ("127.0.0.1", port))
        deadline = time.monotonic() + wait_s
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            try:
                data = sock.recv(65535).decode(errors="replace")
            except TimeoutError:
                break
            codes.append(data.split("\r\n")[0].split(" ", 2)[1])
            if codes[-1] >= "200":
                break
    return codes


def raw_request(
    method: str, port: int, body: str = "", content_type: str = "application/sdp", call_id=None
) -> str:
    call_id = call_id or uuid.uuid4().hex
    head = (
        f"{method} sip:bot@127.0.0.1:{port} SIP/2.0\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK{uuid.uuid4().hex[:10]}\n"
        f"From: <sip:fuzz@127.0.0.1>;tag={uuid.uuid4().hex[:6]}\n"
        f"To: <sip:bot@127.0.0.1:{port}>{';tag=nosuch' if method == 'BYE' else ''}\n"
        f"Call-ID: {call_id}\nCSeq: 1 {method}\nContact: <sip:fuzz@127.0.0.1:9>\nMax-Forwards: 70\n"
    )
    if body:
        head += f"Content-Type: {content_type}\n"
    return head + f"Content-Length: {len(body.replace(chr(10), chr(13) + chr(10)))}\n\n" + body


@needs_sipp
def test_bad_sip_input_does_not_disturb_a_live_call(server):
    """Garbage, broken SDP, an unsupported codec and a stray BYE while another call is up."""
    since = server.mark()
    live = sipp("uac_long", remote=f"127.0.0.1:{server.port}")
    time.sleep(2.0)
    assert send_raw(server.port, "\x00\xff garbage \x01" * 20, wait_s=0.5) == []
    assert send_raw(server.port, "INVITE nonsense\n\n", wait_s=0.5) == []
    broken_sdp = raw_request("INVITE", server.port, "v=0\nthis is not sdp\nm=audio port RTP/AVP x\n")
    assert send_raw(server.port, broken_sdp)[-1:] in (["400"], ["488"])
    g729_only = (
        "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
        "m=audio 40000 RTP/AVP 18\na=rtpmap:18 G729/8000\n"
    )
    assert send_raw(server.port, raw_request("INVITE", server.port, g729_only))[-1:] == ["488"]
    assert send_raw(server.port, raw_request("BYE", server.port)) == ["481"]
    assert server.proc.poll() is None
    rc, out = finish(live)
    assert rc == 0, out
    reports = server.wait_calls(since, timeout=30)
    assert reports[0]["hangup_by"] == "remote" and reports[0]["error"] is None
    assert send_raw(server.port, raw_request("OPTIONS", server.port)) == ["200"]


def malformed_messages(port: int) -> tuple[list[tuple[str, str | bytes]], list[tuple[str, str | bytes]]]:
    """Crafted SIP input, each a way a broken or hostile peer gets a message wrong: (refused, odd), where
    an odd one is still a call PJSIP may answer (RFC 3261 lets a UAS read it)."""
    invite = raw_request("INVITE", port, SDP_PCMU)

    def without(header: str) -> str:
        return "\n".join(line for line in invite.split("\n") if not line.startswith(header + ":"))

    body_len = len(SDP_PCMU.replace("\n", "\r\n"))
    refused = [
        ("no Call-ID", without("Call-ID")),
        ("no Via", without("Via")),
        ("no From", without("From")),
        ("no CSeq", without("CSeq")),
        ("CSeq method differs", invite.replace("CSeq: 1 INVITE", "CSeq: 1 BYE")),
        ("CSeq not a number", invite.replace("CSeq: 1 INVITE", "CSeq: x INVITE")),
        ("Content-Length negative", invite.replace("Content-Length: ", "Content-Length: -")),
        (
            "http Request-URI",
            invite.replace(f"INVITE sip:bot@127.0.0.1:{port} SIP/2.0", "INVITE http://x/ SIP/2.0"),
        ),
        ("SIP/3.0", invite.replace("SIP/2.0\nVia", "SIP/3.0\nVia", 1)),
        ("cut mid-header", invite[: invite.index("Call-ID") + 12]),
        (
            "a response nobody asked for",
            "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\n"
            "From: <sip:a@b>;tag=1\nTo: <sip:c@d>;tag=2\nCall-ID: nosuch\nCSeq: 1 INVITE\nContent-Length: 0\n\n",
        ),
        ("ACK for no transaction", raw_request("ACK", port)),
        ("CANCEL for no transaction", raw_request("CANCEL", port)),
        (
            "INFO keypad for no call",
            raw_request("INFO", port, "Signal=1\nDuration=160\n", "application/dtmf-relay"),
        ),
        ("SDP without c=", raw_request("INVITE", port, SDP_PCMU.replace("c=IN IP4 127.0.0.1\n", ""))),
        ("SDP port 0", raw_request("INVITE", port, SDP_PCMU.replace("m=audio 40000", "m=audio 0"))),
        (
            "SDP with 500 formats",
            raw_request(
                "INVITE",
                port,
                SDP_PCMU.replace("RTP/AVP 0", "RTP/AVP " + " ".join(str(96 + i % 30) for i in range(500))),
            ),
        ),
        ("keep-alive CRLF", b"\r\n\r\n"),
        ("empty datagram", b""),
    ]
    odd = [
        # PJSIP reads the body to the end of the datagram (RFC 3261 18.3: a 400 SHOULD be sent).
        (
            "Content-Length beyond the datagram",
            invite.replace(f"Content-Length: {body_len}", "Content-Length: 99999"),
        ),
        (
            "10 kB header",
            invite.replace("Max-Forwards: 70\n", "Max-Forwards: 70\nSubject: " + "가" * 3400 + "\n"),
        ),
        ("300 headers", invite.replace("Max-Forwards: 70\n", "Max-Forwards: 70\n" + "X-Pad: 1\n" * 300)),
        (
            "bytes that are not UTF-8",
            invite.replace("\n", "\r\n").encode().replace(b"fuzz@", b"\xff\xfe\xc0@"),
        ),
    ]
    return refused, odd  # fmt: skip


SDP_PCMU = (
    "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
    "m=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
)


@needs_sipp
def test_each_malformed_message_leaves_the_server_answering(server):
    """Issue 17: after every crafted message the server still answers OPTIONS and stays up; a valid call
    after all of them is answered and ends normally. A malformed message gets a 4xx or nothing, never a
    call: no INVITE among them may reach the dialog (no call report)."""
    since = server.mark()
    refused, odd = malformed_messages(server.port)
    for name, message in refused:
        codes = send_raw(server.port, message, wait_s=1.0)
        assert all(code >= "400" or code < "200" for code in codes), (name, codes)
        assert server.proc.poll() is None, name
        assert send_raw(server.port, raw_request("OPTIONS", server.port)) == ["200"], name
    assert server.mark() == since  # none of them became a call
    answered = 0
    for name, message in odd:
        answered += "200" in send_raw(server.port, message, wait_s=1.0)
        assert server.proc.poll() is None, name
        assert send_raw(server.port, raw_request("OPTIONS", server.port)) == ["200"], name
    # An answered one gets no ACK and no RTP: it ends itself within seconds, and frees its line.
    for ghost in server.wait_calls(since, count=answered, timeout=30):
        assert ghost["ended_reason"] == "media_timeout" and ghost["duration_s"] < 15, ghost
    rc, out = finish(sipp("uac_short", remote=f"127.0.0.1:{server.port}"))
    assert rc == 0, out
    (report,) = server.wait_calls(since + answered, timeout=60)
    assert report["error"] is None and report["ended_reason"] != "media_timeout"


@needs_sipp
def test_two_calls_one_killed_the_other_finishes(server):
    since = server.mark()
    doomed = sipp("uac_long", remote=f"127.0.0.1:{server.port}")
    survivor = sipp("uac_long", remote=f"127.0.0.1:{server.port}")
    time.sleep(3.0)
    doomed.kill()  # no BYE, RTP stops: the server notices after --rtp-timeout
    finish(doomed, 5)
    rc, out = finish(survivor)
    assert rc == 0, out
    reports = server.wait_calls(since, count=2, timeout=90)  # the survivor may still be in STT
    by_reason = {r["ended_reason"]: r for r in reports}
    assert set(by_reason) == {"media_timeout", "caller_hangup"}, reports
    assert by_reason["media_timeout"]["hangup_by"] == "bot"
    assert by_reason["caller_hangup"]["hangup_by"] == "remote"
    assert by_reason["caller_hangup"]["duration_s"] > 8


@needs_sipp
def test_transfer_to_agent_by_refer_with_handoff_id(server):
    """2 then 0: the bot announces the transfer and sends REFER with X-Handoff-Id; NOTIFY 200 ends it."""
    since = server.mark()
    rc, out = finish(sipp("uac_transfer_ok", remote=f"127.0.0.1:{server.port}"))
    assert rc == 0, out
    (report,) = server.wait_calls(since)
    assert report["ended_reason"] == "transfer" and report["transfer"] == "ok"
    record = json.loads((server.handoff_dir / f"{report['handoff_id']}.json").read_text())
    assert record["category"] == "water" and record["reason"] == "agent_request"
    assert record["transfer"] == "ok"


@needs_sipp
def test_caller_who_hangs_up_during_the_transfer_prompt_still_leaves_the_handoff_record(server):
    since = server.mark()
    rc, out = finish(sipp("uac_transfer_hangup", remote=f"127.0.0.1:{server.port}"))
    assert rc == 0, out
    (report,) = server.wait_calls(since)
    assert report["ended_reason"] == "transfer" and report["hangup_by"] == "remote"
    assert report["handoff_id"], report
    record = json.loads((server.handoff_dir / f"{report['handoff_id']}.json").read_text())
    assert record["reason"] == "agent_request" and record["transport"] == "sip"
    assert record["transfer"] == "caller_hangup"


@needs_sipp
def test_failed_transfer_offers_a_callback(server):
    since = server.mark()
    rc, out = finish(sipp("uac_transfer_fail", remote=f"127.0.0.1:{server.port}"))
    assert rc == 0, out
    (report,) = server.wait_calls(since)
    assert report["transfer"] == "failed:486" and report["callback_requested"] is True
    assert report["hangup_by"] == "bot"
    record = json.loads((server.handoff_dir / f"{report['handoff_id']}.json").read_text())
    assert record["callback_requested"] is True


@needs_sipp
@pytest.mark.parametrize(
    ("scenario", "outcome", "status"),
    [("uas_busy", "busy", 486), ("uas_reject", "rejected", 603), ("uas_noanswer", "no_answer", 487)],
)
def test_dial_outcomes(scenario, outcome, status):
    port = free_port()
    peer = sipp(scenario, port=port)
    time.sleep(0.3)
    started = time.monotonic()
    result = subprocess.run(
        voice_cli("dial", f"sip:01012345678@127.0.0.1:{port}", "--script", "line_notice", "--json", "--no-stt",
                  "--ring-timeout", "2"),
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    finish(peer, 10)
    assert result.returncode == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)
    assert payload["outcome"] == outcome and payload["sip_status"] == status
    assert payload["turns"] == [] and payload["duration_s"] == 0
    if outcome == "no_answer":
        assert payload["setup_ms"] >= 2000  # CANCEL after the ring timeout
    assert elapsed < 30
    assert "01012345678" not in result.stderr  # logs never carry the number in clear


@needs_sipp
def test_dial_registers_with_digest_auth_first(tmp_path):
    """--registrar: REGISTER is challenged (401) and accepted only with the right digest credentials."""
    registrar_port, callee_port = free_port(), free_port()
    registrar = sipp("uas_registrar", port=registrar_port)
    callee = sipp("uas_busy", port=callee_port)
    time.sleep(0.3)
    result = subprocess.run(
        voice_cli("dial", f"sip:120@127.0.0.1:{callee_port}", "--script", "line_notice", "--json", "--no-stt",
                  "--registrar", f"sip:127.0.0.1:{registrar_port}", "--username", "voicebot"),
        cwd=REPO, capture_output=True, text=True, timeout=60, env=dict(os.environ, VOICEBOT_SIP_PASSWORD="s3cret"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["outcome"] == "busy"
    rc, out = finish(registrar, 10)
    assert rc == 0, out  # 401 -> REGISTER with valid credentials -> 200 -> un-REGISTER at exit
    finish(callee, 5)
    assert "s3cret" not in result.stderr


@needs_sipp
def test_twenty_calls_at_once(server):
    """20 simultaneous calls: the process serves what PJSIP has room for (4 with this wheel), the rest get
    486 Busy Here at once; nothing crashes and every served call is greeted and reported."""
    since = server.mark()
    proc = subprocess.Popen(
        [SIPP, "-sf", str(SCENARIOS / "uac_short.xml"), "-i", "127.0.0.1", "-mi", "127.0.0.1",
         "-p", str(free_port()), "-mp", str(free_port() & ~1), "-s", "bot", "-m", "20", "-l", "20", "-r", "20",
         "-nostdin", f"127.0.0.1:{server.port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    rc, out = finish(proc, 60)
    assert rc == 0, out  # every call ended as the scenario allows: served (200 + BYE) or busy (486)
    time.sleep(1.0)
    reports = server.calls[since:]
    assert 1 <= len(reports) <= 20 and server.proc.poll() is None
    assert all(r["error"] is None and r["hangup_by"] == "remote" for r in reports), reports
    assert all(r["turns"] and r["turns"][0]["trigger"] == "start" for r in reports)
    assert max(r["setup_ms"] for r in reports) < 1000
    # and the server takes new calls afterwards
    since = server.mark()
    rc, out = finish(sipp("uac_short", remote=f"127.0.0.1:{server.port}"))
    assert rc == 0 and len(server.wait_calls(since)) == 1, out


@needs_sipp
@needs_kamailio
def test_kamailio_dispatches_across_two_instances_and_fails_over(tmp_path):
    """Kamailio round-robins calls over two voicebot processes; once one is stopped, its OPTIONS pings
    fail and every call goes to the other."""
    first, second = Server(tmp_path / "a"), Server(tmp_path / "b")
    port = free_port()
    (tmp_path / "dispatcher.list").write_text(
        f"1 sip:127.0.0.1:{first.port}\n1 sip:127.0.0.1:{second.port}\n"
    )
    config = (SCENARIOS / "kamailio.cfg.in").read_text()
    config = config.replace("@PORT@", str(port)).replace("@LIST@", str(tmp_path / "dispatcher.list"))
    (tmp_path / "kamailio.cfg").write_text(config)
    (tmp_path / "run").mkdir()
    log = open(tmp_path / "kamailio.log", "w")
    proxy = subprocess.Popen(
        [KAMAILIO, "-DD", "-E", "-f", str(tmp_path / "kamailio.cfg"), "-L", str(KAMAILIO_MODULES),
         "-Y", str(tmp_path / "run"), "-P", str(tmp_path / "run" / "kamailio.pid")],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    stopped_first = False
    try:
        time.sleep(2.0)  # dispatcher pings both instances
        assert proxy.poll() is None, (tmp_path / "kamailio.log").read_text()[-2000:]

        def calls(count: int) -> None:
            proc = subprocess.Popen(
                [SIPP, "-sf", str(SCENARIOS / "uac_proxy.xml"), "-i", "127.0.0.1", "-mi", "127.0.0.1",
                 "-p", str(free_port()), "-mp", str(free_port() & ~1), "-s", "bot", "-m", str(count),
                 "-l", str(count), "-r", str(count), "-nostdin", f"127.0.0.1:{port}"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
            rc, out = finish(proc, 60)
            assert rc == 0, out

        a0, b0 = first.mark(), second.mark()
        calls(4)
        first.wait_calls(a0, 2)
        second.wait_calls(b0, 2)  # round robin: two each
        assert first.stop() == 0
        stopped_first = True
        time.sleep(3.0)  # a missed OPTIONS ping marks the stopped instance inactive
        b1 = second.mark()
        calls(2)
        assert len(second.wait_calls(b1, 2)) == 2
    finally:
        proxy.terminate()
        try:
            proxy.wait(10)
        except subprocess.TimeoutExpired:
            proxy.kill()
        log.close()
        if not stopped_first:
            first.stop()
        second.stop()
