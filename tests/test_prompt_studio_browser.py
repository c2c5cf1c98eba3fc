"""The console's prompt studio (음성 녹음) in a real browser: headless Debian Chromium driven by playwright-core
(tests/browser/prompts.mjs) against ``voicebot serve``'s app with the server's Whisper.

Chromium's fake microphone plays a real Korean recording whose transcript is a prompt's text (a KB answer
added for the test); an admin records it with MediaRecorder, listens back and saves: the server trims and
levels it, Whisper's transcript matches (CER shown, no warning), the prompt turns "녹음됨", coverage rises,
and the call synthesizer plays it. A WAV of other words uploaded for the same prompt warns. Screenshots go to
var/test-artifacts/prompts/. Install the browser side with ``bash scripts/browser-deps.sh``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import soundfile as sf
from browser_support import REPO, browser_test_marks, console_server, run_page_script, staff_database
from test_prompt_studio import CLIP, WRONG_CLIP, kb_with

from media.audio import load_audio
from outbound import service, store
from tts import TTSConfig, create_synthesizer
from tts.library import PromptLibrary
from voicebot.server import studio

ARTIFACTS = REPO / "var" / "test-artifacts" / "prompts"
MIC_RATE = 48_000
LEAD_S, TAIL_S = 0.7, 1.5

pytestmark = browser_test_marks()


def fake_microphone(clip_path: Path, out: Path) -> Path:
    speech = load_audio(clip_path, MIC_RATE).samples
    lead, tail = np.zeros(int(LEAD_S * MIC_RATE), np.float32), np.zeros(int(TAIL_S * MIC_RATE), np.float32)
    sf.write(out, np.concatenate([lead, speech, tail]), MIC_RATE, subtype="PCM_16")
    return out


def test_record_a_prompt_in_the_console(tmp_path, monkeypatch, korean_clips, faster_transcriber) -> None:
    clip = next(c for c in korean_clips if c.path.name == CLIP)
    wrong = next(c for c in korean_clips if c.path.name == WRONG_CLIP)
    prompts = tmp_path / "prompts"
    monkeypatch.setenv("VOICEBOT_PROMPTS_DIR", str(prompts))
    monkeypatch.setattr(studio, "load_kb", lambda: kb_with(clip.transcript))
    mic = fake_microphone(clip.path, tmp_path / "mic.wav")
    record_s = LEAD_S + sf.info(clip.path).duration + 1.0
    shutil.rmtree(ARTIFACTS, ignore_errors=True)

    db, engine = staff_database(tmp_path, "studio")
    with store.session_factory(engine).begin() as s:
        admin = service.create_token(s, "녹음 담당 김소리", "admin")
    engine.dispose()
    models = SimpleNamespace(engine=None, transcriber=faster_transcriber, synthesizer=None)
    args = ["--token", admin, "--text", clip.transcript, "--mic", str(mic), "--seconds", f"{record_s:.1f}"]
    args += ["--wrong", str(wrong.path), "--out", str(ARTIFACTS)]
    with console_server(db, "studio", models=models) as url:
        result = run_page_script("prompts.mjs", ["--url", url, *args], ARTIFACTS)
    assert result["ok"], result.get("error")
    assert result["externalRequests"] == [] and result["consoleErrors"] == []

    assert result["stateBefore"] == "synthesized"
    assert result["takeDuration"] > sf.info(clip.path).duration  # the whole clip was captured
    recorded = result["recorded"]
    assert recorded["cer"] < 0.25 and recorded["warning"] == 0 and recorded["ok"] == 1, recorded
    assert "버전 1" in recorded["note"] and "모든 통화에서" in recorded["note"]
    assert result["stateAfter"] == "recorded"
    assert result["coverageBefore"] != result["coverageAfter"]

    assert result["wrong"]["cer"] > 0.5 and "다릅니다" in result["wrong"]["warning"]
    assert "버전 2" in result["wrong"]["note"] and "아직 쓰이지 않습니다" in result["wrong"]["note"]
    assert result["wrong"]["useButton"] == 1

    library = PromptLibrary(prompts)
    stored = library.get(clip.transcript)
    assert [v.origin for v in stored.versions] == ["studio", "upload"] and stored.current == 1
    assert stored.versions[0].cer < 0.25
    # trimmed: shorter than what was captured, and at least the clip's voiced part
    assert stored.versions[0].duration_s < result["takeDuration"]
    speech = create_synthesizer(TTSConfig(cache_dir=tmp_path / "cache")).synthesize(clip.transcript, 8000)
    assert speech.source == "recorded"
