"""The caller page in a real browser: headless Debian Chromium driven by playwright-core (tests/browser/call.mjs).

Chromium's fake microphone plays a real Korean recording (6 s of silence, the clip, then silence, so the
caller speaks over the bot's water menu: a barge-in); the page calls, shows and plays the greeting, the
keypad opens the water menu, and the caller's speech comes back as a transcript line. Screenshots of each
step go to var/test-artifacts/webrtc/. Install the browser side with ``bash scripts/browser-deps.sh``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf
from browser_support import BROWSER_DIR, REPO, browser_test_marks
from test_webrtc import CLIP, call_threads, clip_named, serve_calls, sessions, wait_until

from benchmarks.metrics import character_error_rate
from media.audio import load_audio
from voicebot.webrtc import WebRTCConfig, WebRTCService

ARTIFACTS = REPO / "var" / "test-artifacts" / "webrtc"
FAKE_MIC_RATE = 48_000  # Chromium's fake capture wants 16-bit PCM WAV; 48 kHz is what it captures at

pytestmark = browser_test_marks()


def fake_microphone(clip_path: Path, out: Path, before_s: float, after_s: float) -> Path:
    """The clip between silences as 16-bit 48 kHz mono WAV (Chromium loops the file: after_s keeps the
    second pass out of the test)."""
    speech = load_audio(clip_path, FAKE_MIC_RATE).samples
    gap = np.zeros(int(before_s * FAKE_MIC_RATE), np.float32)
    tail = np.zeros(int(after_s * FAKE_MIC_RATE), np.float32)
    sf.write(out, np.concatenate([gap, speech, tail]), FAKE_MIC_RATE, subtype="PCM_16")
    return out


def test_browser_calls_keypad_and_speech(engine, synthesizer, korean_clips, tmp_path):
    from stt import BatchingTranscriber, create_transcriber

    clip = clip_named(korean_clips, CLIP)
    mic = fake_microphone(clip.path, tmp_path / "mic.wav", before_s=6.0, after_s=60.0)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    transcriber = BatchingTranscriber(create_transcriber())
    service = WebRTCService(sessions(engine, transcriber, synthesizer), WebRTCConfig(ice_loopback=True))
    with serve_calls(service) as base_url:
        run = subprocess.run(
            [
                "node",
                "call.mjs",
                "--url",
                base_url,
                "--wav",
                str(mic),
                "--out",
                str(ARTIFACTS),
                "--digit",
                "2",
                "--via",
                "choices",
                "--timeout",
                "60",
            ],
            cwd=BROWSER_DIR,
            capture_output=True,
            text=True,
            timeout=90,
        )
        lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
        assert lines, f"call.mjs printed no result (exit {run.returncode}): {run.stderr[-2000:]}"
        result = json.loads(lines[-1])
        (ARTIFACTS / "result.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        assert result["ok"], result.get("error")
        assert wait_until(lambda: service.active_calls == 0 and not call_threads(), 15), call_threads()

    assert result["externalRequests"] == []  # no CDN, no font service: everything from the voicebot
    assert result["consoleErrors"] == []
    lines = result["lines"]
    greeting = next(line for line in lines if line["speaker"] == "bot" and line["trigger"] == "start")
    assert "다산콜센터" in greeting["text"] and "2번" in greeting["text"]
    assert result["greetingMs"] < 10_000
    # the bot's voice reached the page: Web Audio level and the inbound RTP energy
    assert result["maxLevel"] > 0.01
    assert result["stats"]["packetsReceived"] > 50 and result["stats"]["totalAudioEnergy"] > 0
    # 보이는 ARS: the greeting's menu as buttons (label and key), pressed instead of the keypad
    shown = {c["digit"]: c["text"] for c in result["greetingChoices"]}
    assert (
        shown["2"] == "상수도2번" and shown["1"] == "교통1번" and set(shown) == {"0", "1", "2", "3", "4", "9"}
    )
    assert {c["digit"] for c in result["menuChoices"]} == {"#", "0"}  # in a menu: home, an agent
    pressed = next(line for line in lines if line["speaker"] == "caller" and line["trigger"] == "dtmf")
    assert pressed["text"] == "2번 버튼을 눌렀습니다."
    water = next(line for line in lines if line["speaker"] == "bot" and line["trigger"] == "dtmf")
    assert water["turn"] == pressed["turn"] and "상수도" in water["text"]
    spoken = next(line for line in lines if line["speaker"] == "caller" and line["trigger"] == "speech")
    cer = character_error_rate(clip.transcript, spoken["text"])
    assert cer < 0.35, (spoken["text"], cer)
    assert result["state"] == "ended" and "종료" in result["statusText"]
    names = [Path(p).name for p in result["screenshots"]]
    assert names == ["01-idle.png", "02-greeting.png", "03-keypad.png", "04-speech.png", "05-ended.png"]
    assert all(Path(p).stat().st_size > 10_000 for p in result["screenshots"])
