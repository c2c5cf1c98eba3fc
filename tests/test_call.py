"""Whole simulated inbound calls through ``voicebot call``: real recordings, keypad, and the timeline.

Every call runs the real chain (webrtcvad endpointing, faster-whisper base, the dialog engine, espeak-ng)
in a subprocess, as an operator would run it. The shared recordings are read speech, not questions to
a call centre, so they exercise the paths a real caller's unmatched speech takes: barge-in, clarify and
escalation after repeated failure; the 0193 clip ("…몸도 겹쳐 쓰러지며…") is heard as someone collapsing.
"""

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
RATE = 16_000

pytestmark = pytest.mark.slow


def call(*args: str, cache_dir: Path, timeout: int = 600) -> tuple[list[dict], dict, subprocess.CompletedProcess]:
    """Run ``voicebot call ... --json --fast``; return the turns, the summary line and the process."""
    result = subprocess.run(
        [sys.executable, "-m", "voicebot.cli", "call", *args, "--json", "--fast", "--cache-dir", str(cache_dir)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return lines[:-1], lines[-1], result


@pytest.fixture(scope="module")
def tts_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tts-cache")


@pytest.fixture(scope="module")
def quiet_line(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("caller") / "quiet.wav"
    sf.write(path, silence(2.0), RATE)
    return path


def clip_named(clips, stem: str):
    return next(c for c in clips if c.path.stem.endswith(stem))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0


def test_keypad_menu_then_agent_with_handoff(quiet_line, tts_cache, tmp_path):
    """2 during the greeting opens the water menu at once; 0 in a sub-menu hands over to an agent."""
    turns, summary, _ = call(str(quiet_line), "--dtmf", "2@3,0@12", cache_dir=tts_cache)
    greeting, water, agent = turns
    assert greeting["trigger"] == "start" and greeting["action"] == "menu"
    assert greeting["interrupted"]  # a key press cuts the greeting short
    assert "0번" in greeting["bot_text"] and "9번" in greeting["bot_text"]
    assert water["trigger"] == "dtmf" and water["caller_text"] == "2"
    assert water["category"] == "water" and "상수도" in water["bot_text"]
    assert water["bot_start_s"] == pytest.approx(3.0, abs=0.1)
    assert agent["action"] == "escalate" and "상담원" in agent["bot_text"]
    assert summary["reason"] == "transfer"
    assert summary["handoff"]["reason"] == "agent_request"
    assert summary["handoff"]["category"] == "water"


def test_star_repeats_the_menu_and_hash_returns(quiet_line, tts_cache):
    turns, summary, _ = call(str(quiet_line), "--dtmf", "1@2,*@8,#@14,*@17", "--max-call-s", "25", cache_dir=tts_cache)
    by_trigger = [(t["trigger"], t["caller_text"], t["action"], t["category"]) for t in turns]
    assert by_trigger[1] == ("dtmf", "1", "menu", "transport")
    # * in a sub-menu repeats that prompt; # goes back to the main menu; * there repeats the main menu.
    assert turns[2]["bot_text"].endswith(turns[1]["bot_text"]) or "교통" in turns[2]["bot_text"]
    assert "0번" in turns[3]["bot_text"] and "9번" in turns[3]["bot_text"]
    assert "다시" in turns[4]["bot_text"] and "9번" in turns[4]["bot_text"]
    assert summary["reason"] in ("caller_hangup", "goodbye", "timeout")


def test_silent_caller_is_reprompted_twice_then_offered_an_agent_then_closed(quiet_line, tts_cache):
    turns, summary, _ = call(str(quiet_line), "--dtmf", "3@2", "--no-input-s", "5", cache_dir=tts_cache)
    silent = [t for t in turns if t["trigger"] == "no_input"]
    assert len(silent) == 4
    assert [t["action"] for t in silent] == ["menu", "menu", "menu", "goodbye"]
    assert "상담원" in silent[2]["bot_text"]  # the third silence offers an agent
    assert "감사합니다" in silent[3]["bot_text"]
    gaps = np.diff([t["bot_start_s"] for t in turns[1:]])
    assert all(g > 5 for g in gaps)  # each reprompt waits for the caller first
    assert summary["reason"] == "goodbye" and summary["handoff"] is None


def test_caller_barges_in_on_the_greeting_and_is_heard(korean_clips, tts_cache, tmp_path):
    clip = clip_named(korean_clips, "0294")
    bot_wav, record_wav = tmp_path / "bot.wav", tmp_path / "call.wav"
    turns, _, _ = call(
        str(clip.path), "--delay", "2", "--out", str(bot_wav), "--record", str(record_wav), cache_dir=tts_cache
    )
    greeting, heard = turns[0], turns[1]
    assert greeting["interrupted"]
    assert heard["trigger"] == "speech" and heard["caller_language"] == "ko"
    assert character_error_rate(clip.transcript, heard["caller_text"]) < 0.25
    assert heard["caller_start_s"] == pytest.approx(2.0, abs=0.8)
    assert heard["bot_start_s"] > heard["caller_end_s"]  # never replies before the caller has finished
    assert heard["action"] == "clarify"  # read news is not a question the base can answer
    latency = heard["latency_ms"]
    assert set(latency) == {"endpoint_ms", "stt_ms", "stt_wait_ms", "dialog_ms", "tts_first_ms", "voice_to_voice_ms"}
    assert latency["voice_to_voice_ms"] >= latency["endpoint_ms"] > 0

    bot = load_audio(bot_wav).samples
    before = bot[int(1.0 * RATE) : int(2.0 * RATE)]
    during = bot[int((heard["caller_start_s"] + 0.4) * RATE) : int(heard["caller_end_s"] * RATE)]
    assert rms(before) > 0.01  # the greeting was playing
    assert rms(during) < 1e-4  # and stopped when the caller spoke over it

    stereo, rate = sf.read(record_wav, dtype="float32")
    assert rate == RATE and stereo.ndim == 2 and stereo.shape[1] == 2
    caller = load_audio(clip.path).samples
    left = stereo[int(2.0 * RATE) : int(2.0 * RATE) + len(caller), 0]
    assert np.corrcoef(left, caller[: len(left)])[0, 1] > 0.99  # caller on the left, in time
    assert np.allclose(stereo[:, 1], bot[: len(stereo)], atol=1e-3)  # bot on the right


def test_repeated_failure_escalates_with_the_callers_words(korean_clips, tts_cache, tmp_path):
    first, second = clip_named(korean_clips, "0294"), clip_named(korean_clips, "0437")
    a, b = load_audio(first.path).samples, load_audio(second.path).samples
    # Speak after the greeting, then again after the bot's clarifying question (~6 s of prompt).
    path = tmp_path / "two_questions.wav"
    sf.write(path, np.concatenate([silence(1.0), a, silence(9.0), b]), RATE)
    turns, summary, _ = call(str(path), cache_dir=tts_cache)
    spoken = [t for t in turns if t["trigger"] == "speech"]
    assert [t["action"] for t in spoken] == ["clarify", "escalate"]
    assert summary["reason"] == "transfer"
    handoff = summary["handoff"]
    assert handoff["reason"] == "low_confidence"
    assert len(handoff["caller_utterances"]) == 2
    assert character_error_rate(second.transcript, handoff["caller_utterances"][1]) < 0.3
    assert any("이해하지 못했습니다" in reply for reply in handoff["bot_replies"])


def test_emergency_words_get_119_at_once_and_an_agent(korean_clips, tts_cache, tmp_path):
    clip = clip_named(korean_clips, "0193")  # "그 바람에 나의 몸도 겹쳐 쓰러지며 …"
    bot_wav = tmp_path / "bot.wav"
    turns, summary, _ = call(str(clip.path), "--delay", "1", "--out", str(bot_wav), cache_dir=tts_cache)
    spoken = [t for t in turns if t["trigger"] == "speech"]
    assert len(spoken) == 1  # escalated on the first utterance, no clarifying question first
    assert spoken[0]["action"] == "escalate" and "119" in spoken[0]["bot_text"]
    assert summary["reason"] == "transfer" and summary["handoff"]["reason"] == "emergency"
    # The instruction is played in full before the transfer.
    bot = load_audio(bot_wav).samples
    assert rms(bot[int((spoken[0]["bot_start_s"] + 0.2) * RATE) :]) > 0.01


def test_emergency_word_inside_another_word_is_not_an_emergency(korean_clips, tts_cache):
    clip = clip_named(korean_clips, "0019")  # "… 본격적인 공모와 개발 작업에 들어갔다": 개발 작업 holds 발작
    turns, summary, _ = call(str(clip.path), "--delay", "1", cache_dir=tts_cache)
    spoken = [t for t in turns if t["trigger"] == "speech"]
    assert spoken and "작업" in spoken[0]["caller_text"]
    assert all("119" not in t["bot_text"] for t in spoken)
    assert (summary.get("handoff") or {}).get("reason") != "emergency"


def test_english_caller_goes_to_a_foreign_language_agent(english_clips, tts_cache):
    clip = clip_named(english_clips, "jfk")
    turns, summary, _ = call(str(clip.path), "--delay", "1", "--language", "auto", cache_dir=tts_cache)
    spoken = [t for t in turns if t["trigger"] == "speech"]
    assert spoken[0]["caller_language"] == "en"
    assert "fellow americans" in spoken[0]["caller_text"].lower()
    assert spoken[-1]["category"] == "foreign"
    assert any("Please" in t["bot_text"] or "please" in t["bot_text"] for t in spoken)


def test_real_time_call_is_paced(quiet_line, tts_cache):
    """Without --fast the file is streamed at the speed of a phone line."""
    result = subprocess.run(
        [sys.executable, "-m", "voicebot.cli", "call", str(quiet_line), "--dtmf", "0@1,0@3", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1]["reason"] == "transfer"
    assert lines[-1]["duration_s"] >= 3.0


def test_bad_input_gives_a_clear_error(tmp_path, tts_cache):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    for args, message in (
        ([str(corrupt)], "not a readable audio file"),
        ([str(tmp_path / "missing.wav")], "missing.wav"),
        ([str(corrupt), "--dtmf", "1@x"], "bad keypad press"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "voicebot.cli", "call", *args, "--json", "--fast"],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
        )
        assert result.returncode == 1
        assert message in json.loads(result.stdout.splitlines()[-1])["error"]
