"""The stable CLI contract: JSON fields later checks rely on, exit codes, and bad input handling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks.metrics import character_error_rate
from media.audio import load_audio, silence

REPO = Path(__file__).resolve().parents[1]


def voicebot(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voicebot.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
    )


def json_lines(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.slow
def test_transcribe_json_contract_and_bad_files(clips, tmp_path):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF....WAVEfmt garbage")
    stereo48 = tmp_path / "stereo48.wav"
    speech = load_audio(clips[0].path, sample_rate=48_000).samples
    sf.write(stereo48, np.stack([speech, speech], axis=1), 48_000)
    result = voicebot("transcribe", str(clips[0].path), str(corrupt), str(stereo48), "--json")
    assert result.returncode == 1  # one input failed, the others still ran
    good, bad, stereo = json_lines(result)
    assert {"file", "text", "language", "audio_s", "elapsed_s"} <= good.keys()
    assert good["language"] == "ko" and good["text"]
    assert "not a readable audio file" in bad["error"]
    assert character_error_rate(clips[0].transcript, stereo["text"]) < 0.2


@pytest.mark.slow
def test_listen_streams_utterances_with_timings(korean_clips, tmp_path):
    a, b = (load_audio(c.path).samples for c in korean_clips[:2])
    path = tmp_path / "two.wav"
    sf.write(path, np.concatenate([silence(1.0), a, silence(2.0), b, silence(0.5)]), 16_000)
    result = voicebot("listen", str(path), "--json", "--fast")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result)
    assert len(lines) == 2
    for line, clip in zip(lines, korean_clips[:2], strict=True):
        assert {"start_s", "end_s", "partials", "text"} <= line.keys()
        assert line["partials"] >= 1
        assert character_error_rate(clip.transcript, line["text"]) < 0.25
    assert lines[0]["end_s"] < lines[1]["start_s"]


@pytest.mark.slow
def test_listen_handles_a_ten_minute_file(korean_clips, tmp_path):
    """Ten minutes of mostly silence with three utterances: VAD keeps STT to the speech only."""
    rate = 16_000
    samples = np.zeros(rate * 600, dtype=np.float32)
    for clip, at in zip(korean_clips[:3], (30, 290, 570), strict=True):
        speech = load_audio(clip.path).samples
        samples[at * rate : at * rate + len(speech)] = speech
    path = tmp_path / "ten_minutes.wav"
    sf.write(path, samples, rate)
    result = voicebot("listen", str(path), "--json", "--fast", "--partial-interval", "0")
    assert result.returncode == 0, result.stderr
    starts = [line["start_s"] for line in json_lines(result)]
    assert len(starts) == 3
    assert [round(s / 10) * 10 for s in starts] == [30, 290, 570]


def test_say_writes_8k_and_16k_wav(tmp_path):
    for rate in (8000, 16000):
        out = tmp_path / f"say{rate}.wav"
        result = voicebot(
            "say",
            "안녕하세요. 서울시 120 다산콜센터입니다.",
            "--out",
            str(out),
            "--rate",
            str(rate),
            "--json",
            "--cache-dir",
            str(tmp_path / "cache"),
        )
        assert result.returncode == 0, result.stderr
        info = sf.info(out)
        assert info.samplerate == rate and info.channels == 1 and info.duration > 1.0
        assert json.loads(result.stdout)["sample_rate"] == rate


def test_models_verify_exit_code_and_json():
    result = voicebot("models", "verify", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    names = [line["name"] for line in json_lines(result)]
    assert "whisper-base (CTranslate2)" in names and "whisper-base (openai-whisper)" in names
    listing = voicebot("models", "list")
    assert listing.returncode == 0 and "whisper-base" in listing.stdout


def test_unknown_model_is_a_clear_setup_error(clips):
    result = voicebot("transcribe", str(clips[0].path), "--model", "large-v3")
    assert result.returncode == 2
    assert "not available offline" in result.stderr
