"""The telephone channels of benchmarks.stt (issue 15), the front ends and the KB vocabulary prompt it tries."""

from __future__ import annotations

import re

import numpy as np
import pytest

from benchmarks.channels import CHANNELS, conceal_losses, g722
from benchmarks.frontends import normalise, pre_emphasis
from benchmarks.vocabulary import recognition_prompt, vocabulary
from media.audio import PIPELINE_RATE, TELEPHONY_RATE, resample


def _voice(seconds: float = 1.0, rate: int = PIPELINE_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    tones = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((220, 440, 880, 1760, 3000), 1))
    return (0.2 * tones * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def _snr_db(clean: np.ndarray, coded: np.ndarray, delay: int = 0) -> float:
    n = len(clean) - delay
    error = clean[:n] - coded[delay : delay + n]
    return float(10 * np.log10(np.sum(clean[:n] ** 2) / np.sum(error**2)))


def test_every_channel_returns_16k_audio_of_the_same_length():
    voice = _voice()
    for name, channel in CHANNELS.items():
        out = channel(voice, resample)
        assert abs(len(out) - len(voice)) <= 1, name
        assert out.dtype == np.float32 and np.all(np.isfinite(out)), name


def test_g722_is_a_real_codec_close_to_the_input_after_its_delay():
    voice = _voice()
    coded = g722(voice)
    assert not np.array_equal(coded, voice)
    best = max(_snr_db(voice, coded, d) for d in range(0, 40))
    assert best > 20.0


def test_g711_loses_the_band_above_4_khz():
    t = np.arange(PIPELINE_RATE) / PIPELINE_RATE
    high = (0.3 * np.sin(2 * np.pi * 6000 * t)).astype(np.float32)
    assert np.sqrt(np.mean(CHANNELS["g711u"](high, resample) ** 2)) < 0.01
    assert np.sqrt(np.mean(CHANNELS["g722"](high, resample) ** 2)) > 0.1


def test_concealment_fills_lost_frames_from_the_last_period_and_fades_long_gaps():
    narrow = resample(_voice(2.0), PIPELINE_RATE, TELEPHONY_RATE)
    out = conceal_losses(narrow, TELEPHONY_RATE, loss=0.3, seed=1)
    frames = len(narrow) // 160
    changed = [
        i
        for i in range(frames)
        if not np.array_equal(out[i * 160 : (i + 1) * 160], narrow[i * 160 : (i + 1) * 160])
    ]
    assert 0.15 * frames < len(changed) < 0.45 * frames
    concealed = [i for i in changed if i > 0 and (i - 1) not in changed]
    assert all(np.abs(out[i * 160 : (i + 1) * 160]).max() > 0.01 for i in concealed)  # no hole of silence
    assert np.array_equal(conceal_losses(narrow, TELEPHONY_RATE, 0.0, 1), narrow)
    assert np.array_equal(out, conceal_losses(narrow, TELEPHONY_RATE, 0.3, 1))  # seeded


def test_normalise_brings_a_quiet_line_to_speech_level_without_clipping():
    quiet = 0.01 * _voice()
    out = normalise(quiet)
    assert np.abs(out).max() <= 0.99
    assert np.sqrt(np.mean(out**2)) > 5 * np.sqrt(np.mean(quiet**2))
    assert np.array_equal(normalise(np.zeros(800, np.float32)), np.zeros(800, np.float32))


def test_pre_emphasis_lifts_high_frequencies_over_low():
    t = np.arange(PIPELINE_RATE) / PIPELINE_RATE
    low, high = np.sin(2 * np.pi * 200 * t), np.sin(2 * np.pi * 3000 * t)
    gain = np.std(pre_emphasis(high)) / np.std(pre_emphasis(low))
    assert gain > 10


def test_recognition_prompt_holds_the_service_words_and_districts():
    words = vocabulary_from_default()
    assert {"지하철", "버스", "강남구", "따릉이"} <= set(words)
    prompt = recognition_prompt()
    assert len(prompt) <= 180 and "지하철" in prompt and "종로구" in prompt


def vocabulary_from_default() -> list[str]:
    from dialog.kb import load_kb

    return vocabulary(load_kb())


# -- the dialog on recorded questions per line (benchmarks.dialog --audio-dir) ------------------------------


def _question_dir(tmp_path, clips, header: str, rows: list[str]):
    import shutil

    for clip in clips:
        shutil.copy(clip.path, tmp_path / clip.path.name)
    (tmp_path / "manifest.tsv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return tmp_path


def test_recorded_questions_are_scored_per_line_against_the_words_said(
    tmp_path, korean_clips, faster_transcriber
):
    from benchmarks import dialog_audio
    from dialog import load_default_engine

    picked = korean_clips[:2]
    folder = _question_dir(
        tmp_path, picked, "file\tlanguage\ttranscript", [f"{c.path.name}\tko\t{c.transcript}" for c in picked]
    )
    engine = load_default_engine()
    questions = dialog_audio.load_questions(folder)
    report = dialog_audio.run(engine, questions, ["wideband", "g711u"], transcriber=faster_transcriber)
    assert report["labels"] == "transcript" and report["clips"] == 2
    assert list(report["channels"]) == ["transcript", "wideband", "g711u"]
    assert report["channels"]["transcript"]["handled_as_labelled"] == 1.0  # by construction
    for line in ("wideband", "g711u"):
        row = report["channels"][line]
        assert 0 <= row["korean_cer"] < 0.4 and all(c["heard"] for c in row["clips"]), row
        assert row["handled_as_labelled_minus_wideband_points"] is not None
    assert "handled as labelled" in dialog_audio.table(report)


def test_recorded_questions_use_the_manifest_labels_and_reject_a_bad_folder(tmp_path, korean_clips, capsys):
    from benchmarks import dialog_audio
    from benchmarks.dialog import main

    clip = korean_clips[0]
    (tmp_path / "good").mkdir()
    good = _question_dir(
        tmp_path / "good",
        [clip],
        "file\tlanguage\ttranscript\texpect\treason",
        [f"{clip.path.name}\tko\t{clip.transcript}\tout_of_scope\t"],
    )
    questions = dialog_audio.load_questions(good)
    assert questions[0].expect == "out_of_scope" and questions[0].reason is None
    cases = {
        "no_column": (
            "file\ttranscript",
            [f"{clip.path.name}\t{clip.transcript}"],
            "missing column(s) language",
        ),
        "no_file": ("file\tlanguage\ttranscript", [f"nowhere.wav\tko\t{clip.transcript}"], "does not exist"),
        "no_reason": (
            "file\tlanguage\ttranscript\texpect",
            [f"{clip.path.name}\tko\t{clip.transcript}\tescalate"],
            "needs a reason",
        ),
    }
    for name, (header, rows, message) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        _question_dir(folder, [clip], header, rows)
        with pytest.raises(dialog_audio.ManifestError, match=re.escape(message)):
            dialog_audio.load_questions(folder)
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "bad.wav").write_bytes(b"RIFF not audio")
    (tmp_path / "corrupt" / "manifest.tsv").write_text("file\tlanguage\ttranscript\nbad.wav\tko\t네\n")
    assert main(["--audio-dir", str(tmp_path / "corrupt")]) == 2
    assert "bad.wav" in capsys.readouterr().err
