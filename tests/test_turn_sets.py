"""The turn-taking sets of issue 14 (``scripts/make_turn_sets.py``, ``benchmarks/turn_sets.py``): the same
seed gives the same files, and every item has the properties the script's docstring claims (pause
lengths, where the caller's turn really ends, onsets over the prompt). Also: ``benchmarks.latency``
hands the Pipecat anchor exactly the clips it ran itself. Fast: no Whisper (the word timestamps are
committed in tests/data/turns/words.json), espeak-ng and webrtcvad only.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import latency, turn_sets
from benchmarks.stt import load_clips as read_manifest
from media.audio import load_audio

FEW = ["ko_zeroth_104_003_0294.wav", "ko_zeroth_104_003_0374.wav", "ko_picovoice_leopard_test_ko.wav"]


@pytest.fixture(scope="module")
def audio_dir(korean_clips) -> Path:
    return korean_clips[0].path.parent


@pytest.fixture(scope="module")
def built(audio_dir, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("turn-sets")
    return out, turn_sets.build(out, audio_dir)


def _hashes(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_the_same_seed_builds_the_same_files(audio_dir, tmp_path):
    first = turn_sets.build(tmp_path / "a", audio_dir, clip_names=FEW)
    second = turn_sets.build(tmp_path / "b", audio_dir, clip_names=FEW)
    assert first == second
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    other = turn_sets.build(tmp_path / "c", audio_dir, seed=15, clip_names=FEW, sets=("acks",))
    assert [i["onset_s"] for i in other["sets"]["acks"]] != [i["onset_s"] for i in first["sets"]["acks"]]


def test_a_full_build_matches_the_committed_description(built):
    """tests/data/turns/sets.json says how each item was made; a fresh build agrees with it (marks to a
    frame; the audio hashes too, on this machine's numpy, scipy and the pinned espeak-ng)."""
    _, description = built
    committed = json.loads(turn_sets.DESCRIPTION_FILE.read_text(encoding="utf-8"))
    assert committed["seed"] == turn_sets.SEED and committed["version"] == turn_sets.VERSION
    assert set(committed["sets"]) == set(description["sets"]) == set(turn_sets.SETS)
    for name, items in committed["sets"].items():
        fresh = description["sets"][name]
        assert [i["id"] for i in fresh] == [i["id"] for i in items]
        for old, new in zip(items, fresh, strict=True):
            for key, value in old.items():
                if key == "sha256":
                    continue
                if key.endswith("_s") and isinstance(value, float):
                    assert new[key] == pytest.approx(value, abs=0.021), (old["id"], key)
                elif key in ("voiced_gap_ms", "longest_gap_ms"):
                    assert abs(new[key] - value) <= 40, (old["id"], key)
                else:
                    assert new[key] == value, (old["id"], key)


def test_multi_sentence_turns_have_their_pauses_and_true_end(built):
    out, description = built
    items = description["sets"]["multi"]
    joined = [i for i in items if i["kind"] == "joined"]
    inserted = [i for i in items if i["kind"] == "inserted"]
    assert len(joined) == turn_sets.JOINED and len(inserted) >= 20
    pauses = [i["pause_ms"] for i in items]
    assert set(pauses) == set(turn_sets.PAUSES_MS)
    assert min(pauses.count(p) for p in turn_sets.PAUSES_MS) >= 4
    # The benchmark finds each turn's end by itself (webrtcvad on the clip): the same frame as recorded.
    ends = {c.name: c.speech_end_s for c in latency.load_clips(out / "multi")}
    assert set(ends) == {i["file"] for i in items}
    for item in items:
        samples = load_audio(out / "multi" / item["file"]).samples
        assert ends[item["file"]] == pytest.approx(item["speech_end_s"], abs=1e-6)
        assert item["speech_onset_s"] < item["pause_start_s"] < item["pause_end_s"] < item["speech_end_s"]
        assert item["speech_end_s"] - item["speech_onset_s"] <= turn_sets.MAX_TURN_SPEECH_S + 0.1
        if item["kind"] == "joined":  # the silence between the two sentences' voiced frames
            assert abs(item["voiced_gap_ms"] - item["pause_ms"]) <= 40, item["id"]
            a, b = item["sources"]
            assert a != b
        else:  # inserted at a word boundary, on top of whatever gap was there
            assert item["pause_ms"] - 40 <= item["voiced_gap_ms"] <= item["pause_ms"] + 300, item["id"]
            quiet = samples[int(item["pause_start_s"] * 16000) + 200 : int(item["pause_end_s"] * 16000) - 200]
            assert np.abs(quiet).max() < 0.002, item["id"]  # room tone, far below webrtcvad's gate
            assert abs(item["cut_s"] - item["whisper_boundary_s"]) <= 0.1 + 1e-6
    # The folder reads as a clip folder: the manifest gives each file the whole turn's transcript.
    manifest = {name: transcript for name, _, transcript, _ in read_manifest(out / "multi")}
    for item in joined:
        sources = {c.name: c.transcript for c in turn_sets.load_sources(names=item["sources"])}
        assert manifest[item["file"]] == f"{sources[item['sources'][0]]} {sources[item['sources'][1]]}"


def test_over_prompt_items_start_at_their_onset(built):
    out, description = built
    low, high = turn_sets.ONSET_RANGE_S
    for name in ("acks", "bargein", "noise"):
        items = description["sets"][name]
        assert items
        for item in items:
            samples = load_audio(out / name / item["file"]).samples
            at = int(round(item["onset_s"] * 16000))
            assert low <= item["onset_s"] <= high
            assert not samples[:at].any(), item["id"]  # nothing before the onset
            assert samples[at : at + 800].any(), item["id"]  # the sound begins there
            assert not samples[at + int(item["sound_s"] * 16000) + 1 :].any(), item["id"]
            if name != "noise":
                assert item["onset_s"] <= item["speech_onset_s"] <= item["onset_s"] + item["sound_s"]
                assert item["speech_end_s"] <= item["onset_s"] + item["sound_s"] + 0.02
    acks = description["sets"]["acks"]
    assert {i["text"] for i in acks} >= set(turn_sets.ACK_TEXTS)
    assert max(i["sound_s"] for i in acks) <= 1.3
    bursts = [i for i in description["sets"]["noise"] if i["kind"] == "burst"]
    assert [round(i["sound_s"], 2) for i in bursts] == [0.1, 0.16, 0.22, 0.28, 0.34, 0.4]
    assert {i["kind"] for i in description["sets"]["noise"]} == {"burst", "click", "cough"}
    barge = description["sets"]["bargein"]
    assert {i["text"] for i in barge} >= set(turn_sets.BARGE_TEXTS)
    assert sum(1 for i in barge if i["source"].startswith("ko_")) >= 10  # real speech too


def test_real_acknowledgements_are_found_in_word_timestamps():
    words = {
        "a.wav": [["네,", 0.5, 0.8, 0.9], ["그런데요", 0.9, 1.5, 0.9]],
        "b.wav": [["아니요", 0.1, 0.6, 0.9], ["그렇죠.", 0.7, 1.1, 0.8]],
    }
    assert turn_sets.find_real_acks(words) == [("a.wav", "네,", 0.5, 0.8), ("b.wav", "그렇죠.", 0.7, 1.1)]
    committed = turn_sets.load_words()
    assert len(committed) == 11 and all(committed.values())


FAKE_ANCHOR = """
import json, os, sys
args = sys.argv[1:]
folder = args[args.index("--audio-dir") + 1]
names = sorted(n for n in os.listdir(folder) if n.startswith("ko_") and n.endswith(".wav"))
with open(os.environ["FAKE_ANCHOR_LOG"], "w") as log:
    json.dump({"folder": folder, "names": names, "manifest": open(os.path.join(folder, "manifest.tsv")).read()}, log)
clips = [{"file": n, "v2v_from_last_voiced_ms": 1000.0 + i, "premature_replies": 0} for i, n in enumerate(names)]
summary = {"v2v_from_last_voiced_ms": {"p50": 1000.0, "p95": 1010.0}, "clips_with_premature_reply": 0,
           "clips_without_reply": 0, "cer_macro": 0.1}
print(json.dumps({"clips": clips, "summary": summary}))
"""


def test_the_anchor_runs_on_exactly_our_clips(built, tmp_path, monkeypatch):
    """The issue's bug: ``--peer --audio-dir DIR`` ran the anchor on ../shared/audio. Now it is handed a
    folder holding exactly the clips we ran, whatever their names, and its clip list is checked."""
    out, _ = built
    clips = latency.load_clips(out / "multi")[:3]
    anchor = tmp_path / "anchor.py"
    anchor.write_text(FAKE_ANCHOR)
    log = tmp_path / "anchor.json"
    monkeypatch.setenv("FAKE_ANCHOR_LOG", str(log))
    monkeypatch.setattr(latency, "ANCHOR", anchor)
    monkeypatch.setattr(latency, "PEER_PYTHON", Path(sys.executable))
    peer = latency.run_peer(tmp_path, clips, lambda message: None)
    assert peer is not None
    seen = json.loads(log.read_text())
    assert Path(seen["folder"]) != latency.SHARED_AUDIO
    assert len(seen["names"]) == 3
    assert [c["clip"] for c in peer["clips"]] == [c.name for c in clips]
    for clip, staged in zip(clips, seen["names"], strict=True):
        assert clip.transcript in seen["manifest"]
        assert Path(clip.name).stem in staged
    assert latency.peer_summary(peer)["clips"] == 3
