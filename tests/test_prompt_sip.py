"""A recorded prompt on a real phone call (issue 20): ``voicebot sip`` with a prompt library in which the
greeting is recorded (a 1 kHz tone stands in for the studio take, so it cannot be mistaken for espeak), and
baresip calling in: what baresip receives starts with the recording, and the menu after it is synthesised."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from sip_peers import Baresip, needs_baresip
from test_sip import Server

from dialog.prompts import GREETING
from tts.library import PromptLibrary

TONE_HZ = 1000.0
TONE_S = 2.0


def dominant(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


@needs_baresip
def test_a_sip_caller_hears_the_recorded_greeting_instead_of_espeak(tmp_path, monkeypatch):
    prompts = tmp_path / "prompts"
    t = np.arange(int(TONE_S * 16000)) / 16000
    PromptLibrary(prompts).save(GREETING, (0.3 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32), 16000)
    monkeypatch.setenv("VOICEBOT_PROMPTS_DIR", str(prompts))  # the server process reads it
    server = Server(tmp_path / "sip")
    mic = tmp_path / "mic.wav"
    sf.write(mic, np.zeros(16000 * 9, np.float32), 16000)  # a caller who listens; hangs up after 9 s
    phone = Baresip(tmp_path / "baresip", mic)
    since = server.mark()
    try:
        phone.command("dial", server.uri)
        (report,) = server.wait_calls(since, timeout=60)
    finally:
        phone.wait(5)
        assert server.stop() == 0, server.stderr_path.read_text()[-3000:]
    assert report["turns"][0]["action"] == "menu"
    dumps = sorted(phone.dump.glob("dump-*-dec.wav"))
    assert dumps, "baresip recorded nothing"
    heard, rate = sf.read(dumps[-1], dtype="float32")
    frame = rate // 50
    levels = [float(np.sqrt(np.mean(heard[i : i + frame] ** 2))) for i in range(0, len(heard) - frame, frame)]
    start = next(i for i, level in enumerate(levels) if level > 0.02) * frame
    greeting = heard[start + rate // 10 : start + int((TONE_S - 0.1) * rate)]
    assert abs(dominant(greeting, rate) - TONE_HZ) < 10
    # the recording's level and length came through, then the menu was spoken by espeak (not a tone)
    assert float(np.sqrt(np.mean(greeting**2))) > 0.1
    menu = heard[start + int((TONE_S + 0.5) * rate) : start + int((TONE_S + 2.5) * rate)]
    assert float(np.sqrt(np.mean(menu**2))) > 0.01
    assert abs(dominant(menu, rate) - TONE_HZ) > 50
