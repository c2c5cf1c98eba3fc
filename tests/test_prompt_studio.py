"""The prompt studio's catalogue and API (issue 20): every sentence listed with its state, recordings checked
by Whisper against the prompt text, stale detection when a KB answer changes, coverage, voice packs, and the
call's synthesizer playing what was just saved."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import stat
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from dialog import KBEntry, load_kb
from outbound import service, store
from outbound.schema import CallLog
from tts import TTSConfig, create_synthesizer
from tts.library import PromptLibrary
from voicebot.server import studio
from voicebot.server.studio import build_catalogue, default_sources

CLIP = "ko_zeroth_104_003_0294.wav"  # 한 잔 의 커피 가 소비자 에게 …
WRONG_CLIP = "ko_zeroth_104_003_0193.wav"
ENTRY_ID = "studio.test"


def kb_with(answer: str):
    kb = load_kb()
    extra = KBEntry(
        id=ENTRY_ID,
        category="general",
        title="녹음 시험",
        questions=("녹음 시험 문구를 들려주세요",),
        answer=answer,
        source="test",
        updated=dt.date(2026, 12, 1),
    )
    return dataclasses.replace(kb, entries=(*kb.entries, extra))


def test_a_fresh_install_lists_every_prompt_as_synthesized(tmp_path):
    built = build_catalogue(PromptLibrary(tmp_path / "prompts"), default_sources())
    texts = {e.text for e in built.entries}
    assert "안녕하세요, 서울시 120 다산콜센터 인공지능 상담원입니다." in texts  # ARS greeting
    assert "상담 품질 향상을 위해 통화 내용이 녹음됩니다." in texts  # the recording notice (issue 17)
    assert "연락이 닿지 않는 분의 안전이 걱정되시면 112나 가까운 주민센터에 도움을 요청해 주세요." in texts
    assert "잠시만 기다려 주세요." in texts  # escalation hold, one entry wherever it is said
    assert any(e.flows == ["script:welfare_check"] for e in built.entries)  # outbound script lines
    assert any(e.where[0].startswith("통화 처리") for e in built.entries)  # the driver's fixed prompts
    assert any(e.where[0].startswith("지식 답변") for e in built.entries)  # KB answers
    assert {"일", "십", "만", "오후", "원", "월요일", "공"} <= {
        e.text for e in built.entries if e.kind == "unit"
    }
    assert "안녕하세요, {name} 어르신." in built.templates
    assert {e.state for e in built.entries} == {"synthesized"}
    coverage = {row["flow"]: row for row in built.coverage()}
    assert set(coverage) >= {"inbound", "script:welfare_check", "script:covid_notice", "units"}
    assert all(row["share"] == 0.0 for row in coverage.values())


def test_stale_when_the_kb_answer_changes(tmp_path):
    library = PromptLibrary(tmp_path / "prompts")
    old = build_catalogue(library, default_sources(kb=kb_with("수도 요금은 매달 말일까지 내시면 됩니다.")))
    entry = old.entry(f"kb:{ENTRY_ID}#0")
    library.save(entry.text, np.full(1600, 0.1, np.float32), 16000, prompt_id=entry.id)
    assert (
        build_catalogue(library, default_sources(kb=kb_with("수도 요금은 매달 말일까지 내시면 됩니다.")))
        .entry(entry.id)
        .state
        == "recorded"
    )
    new = build_catalogue(library, default_sources(kb=kb_with("수도 요금은 매달 25일까지 내시면 됩니다.")))
    changed = new.entry(entry.id)
    assert changed.state == "stale" and changed.stale_recording["text"] == entry.text


def wav_of(path: Path) -> bytes:
    samples, rate = sf.read(path, dtype="float32")
    out = io.BytesIO()
    sf.write(out, samples, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


@pytest.fixture()
def studio_app(tmp_path, monkeypatch, korean_clips, faster_transcriber):
    from voicebot.server.app import create_app
    from voicebot.server.config import load_config

    clip = next(c for c in korean_clips if c.path.name == CLIP)
    monkeypatch.setenv("VOICEBOT_PROMPTS_DIR", str(tmp_path / "prompts"))
    monkeypatch.setattr(studio, "load_kb", lambda: kb_with(clip.transcript))
    db = f"sqlite:///{tmp_path / 'studio.db'}"
    store.upgrade(db)
    engine = store.make_engine(db)
    with store.session_factory(engine).begin() as s:
        admin = service.create_token(s, "녹음 담당 김소리", "admin")
        operator = service.create_token(s, "상담사", "operator")
        now = dt.datetime.now(dt.UTC)
        s.add_all(
            CallLog(call_id=f"c{i}", transport="sip", started_at=now, intents=intents)
            for i, intents in enumerate(([ENTRY_ID], [ENTRY_ID, "covid.testing"], []))
        )
    engine.dispose()
    config = load_config(
        None,
        {"VOICEBOT_DB_URL": db, "VOICEBOT_WEBRTC_ENABLED": "false", "VOICEBOT_OUTBOUND_DIALER": "none"},
    )
    models = SimpleNamespace(engine=None, transcriber=faster_transcriber, synthesizer=None)
    client = TestClient(create_app(config, models=models))
    client.app.state.runtime.models = models
    return client, {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {operator}"}, clip


def test_record_check_and_play_through_the_api(studio_app, tmp_path, korean_clips):
    client, admin, operator, clip = studio_app
    assert client.get("/api/prompts", headers=operator).status_code == 403
    listing = client.get("/api/prompts", headers=admin).json()
    entry = next(e for e in listing["entries"] if e["id"] == f"kb:{ENTRY_ID}#0")
    assert entry["state"] == "synthesized" and listing["whisper"] is True
    # most heard first: the greeting (every call, 3) before this answer (2 calls) before unheard prompts
    heard = [e["heard"] for e in listing["entries"]]
    assert heard == sorted(heard, reverse=True) and entry["heard"] == 2
    every_call = {e["text"] for e in listing["entries"] if e["heard"] == 3}
    assert "안녕하세요, 서울시 120 다산콜센터 인공지능 상담원입니다." in every_call
    assert listing["entries"][0]["heard"] == 3

    saved = client.post(
        "/api/prompts/recording",
        params={"id": entry["id"], "origin": "upload"},
        content=wav_of(clip.path),
        headers={**admin, "Content-Type": "audio/wav"},
    ).json()
    assert saved["cer"] < 0.25 and saved["warning"] is None, saved
    assert saved["recording"]["versions"][0]["origin"] == "upload"

    wrong = next(c for c in korean_clips if c.path.name == WRONG_CLIP)
    warned = client.post(
        "/api/prompts/recording",
        params={"id": entry["id"]},
        content=wav_of(wrong.path),
        headers={**admin, "Content-Type": "audio/wav"},
    ).json()
    assert warned["cer"] > 0.5 and "다릅니다" in warned["warning"]
    assert warned["version"] == 2 and not warned["in_use"]  # a mismatch is kept, not played
    assert warned["recording"]["current"] == 1
    key = warned["recording"]["key"]
    chosen = client.post("/api/prompts/current", params={"key": key, "version": 2}, headers=admin)
    assert chosen.json()["current"] == 2  # the staff member decides
    back = client.post("/api/prompts/current", params={"key": key, "version": 1}, headers=admin)
    assert back.status_code == 200

    listing = client.get("/api/prompts", headers=admin).json()
    entry = next(e for e in listing["entries"] if e["id"] == f"kb:{ENTRY_ID}#0")
    assert entry["state"] == "recorded" and entry["recording"]["version"] == 1
    inbound = next(row for row in listing["coverage"] if row["flow"] == "inbound")
    assert inbound["recorded"] == 1 and 0 < inbound["share"] < 0.05
    assert inbound["heard_share"] > inbound["share"]  # the recorded answer was heard in 2 of 3 calls
    assert client.get("/api/prompts/coverage", headers=admin).json() == listing["coverage"]

    audio = client.get(f"/api/prompts/audio/{key}", headers=admin)
    assert audio.headers["content-type"] == "audio/wav"
    stored, rate = sf.read(io.BytesIO(audio.content), dtype="float32")
    original, original_rate = sf.read(clip.path, dtype="float32")
    assert rate == 16000 and len(stored) / rate <= len(original) / original_rate  # trimmed
    assert 20 * np.log10(np.sqrt(np.mean(stored**2))) == pytest.approx(-20, abs=3)  # levelled
    files = [p for p in (tmp_path / "prompts").rglob("*") if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)

    # every call's synthesizer plays the saved recording, not espeak
    speech = create_synthesizer(TTSConfig(cache_dir=tmp_path / "cache")).synthesize(clip.transcript, 8000)
    assert speech.source == "recorded"
    assert speech.duration_s == pytest.approx(len(stored) / rate, abs=0.01)

    pack = client.get("/api/prompts/export", headers=admin)
    assert pack.headers["content-type"] == "application/zip"
    other = PromptLibrary(tmp_path / "elsewhere")
    assert other.import_pack(pack.content) == 1 and other.get(clip.transcript) is not None
    imported = client.post("/api/prompts/import", content=pack.content, headers=admin).json()
    assert imported == {"added": 1}


def test_the_coverage_benchmark_counts_what_is_played_from_recordings(tmp_path):
    from benchmarks.tts_coverage import flow_results

    library = PromptLibrary(tmp_path / "prompts")
    built = build_catalogue(library, default_sources())
    longest = max(
        (e for e in built.entries if e.kind == "sentence" and "inbound" in e.flows),
        key=lambda e: e.estimated_s,
    )
    library.save(longest.text, np.full(16000 * 3, 0.05, np.float32), 16000, prompt_id=longest.id)
    for unit in ["십", "이", "월", "오", "일", "오후", "세", "시", "에"]:
        library.save(unit, np.full(3200, 0.05, np.float32), 16000, prompt_id=f"unit:{unit}")
    results = {r.flow: r for r in flow_results(tmp_path / "prompts", 1, None)}
    inbound = results["inbound"]
    assert inbound.recorded == 1 and inbound.said[0].source == "recorded"
    assert inbound.recorded_s == pytest.approx(3.0, abs=0.01) and inbound.synth_s == 0.0
    assert results["units"].recorded == 9
    assert results["numbers"].said[0].source == "composed" and results["numbers"].composed_s > 0
