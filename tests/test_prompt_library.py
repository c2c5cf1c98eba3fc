"""The prompt library (issue 20): recordings by text hash, versioned, played instead of espeak; numbers,
dates and slot sentences assembled from recorded units; voice packs."""

from __future__ import annotations

import stat

import numpy as np
import pytest

from tts import TTSConfig, create_synthesizer
from tts.editing import join_crossfaded, normalize_level, trim_silence
from tts.library import PromptLibrary, prompt_key
from tts.units import Assembler, template_pieces, unit_texts

RATE = 16_000


def tone(freq: float, seconds: float = 0.25, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant(samples: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


def synth_for(tmp_path, library_dir):
    return create_synthesizer(TTSConfig(cache_dir=tmp_path / "cache", prompts_dir=library_dir))


def test_saving_versions_a_recording_with_private_files(tmp_path):
    library = PromptLibrary(tmp_path / "prompts")
    first = library.save("잠시만 기다려 주세요.", tone(300), RATE, prompt_id="dialog:HOLD#0")
    second = library.save("잠시만 기다려 주세요", tone(500), RATE, origin="upload")
    assert first.key == second.key == prompt_key("잠시만 기다려 주세요.")
    assert second.current == 2 and [v.version for v in second.versions] == [1, 2]
    assert second.prompt_ids == ("dialog:HOLD#0",)
    assert stat.S_IMODE((tmp_path / "prompts").stat().st_mode) == 0o700
    files = [p for p in (tmp_path / "prompts").rglob("*") if p.is_file()]
    assert sorted(p.name for p in files) == [".lock", "manifest.json", "v1.wav", "v2.wav"] and all(
        stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files
    )
    folders = [p for p in (tmp_path / "prompts").rglob("*") if p.is_dir()]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in folders)
    assert dominant(library.load("잠시만 기다려 주세요.", RATE)) == pytest.approx(500, abs=5)
    library.set_current(second.key, 1)
    assert dominant(library.load("잠시만 기다려 주세요.", RATE)) == pytest.approx(300, abs=5)


def test_the_call_path_plays_the_recording_instead_of_espeak_at_once(tmp_path):
    synth = synth_for(tmp_path, tmp_path / "prompts")
    text = "120 다산콜센터를 이용해 주셔서 감사합니다."
    assert synth.synthesize(text, 8000).source == "synth"
    PromptLibrary(tmp_path / "prompts").save(text, tone(440, 1.0), RATE)  # another process, the console
    speech = synth.synthesize(text, 8000)
    assert speech.source == "recorded" and speech.duration_s == pytest.approx(1.0, abs=0.01)
    assert dominant(speech.samples, 8000) == pytest.approx(440, abs=5)
    streamed = list(synth.stream(text, 8000))
    assert [c.source for c in streamed] == ["recorded"]


def test_a_recorded_sentence_is_played_and_only_the_other_is_synthesised(tmp_path):
    library = PromptLibrary(tmp_path / "prompts")
    synth = synth_for(tmp_path, tmp_path / "prompts")
    first, second = "네, 상담원에게 연결해 드리겠습니다.", "잠시만 기다려 주세요."
    espeak_only = synth.synthesize(f"{first} {second}").duration_s
    library.save(second, tone(440, 1.0), RATE)
    whole = synth.synthesize(f"{first} {second}")
    assert whole.source == "composed"
    assert dominant(whole.samples[-RATE // 2 :]) == pytest.approx(440, abs=5)
    assert whole.duration_s != pytest.approx(espeak_only, abs=0.05)
    assert [c.source for c in synth.stream(f"{first} {second}")] == ["cache", "recorded"]


def make_units(library: PromptLibrary, texts: list[str]) -> dict[str, float]:
    """Each unit recorded as a tone of its own pitch, so the output shows which unit played where."""
    freqs = {}
    for index, text in enumerate(texts):
        freqs[text] = 200.0 + 40 * index
        library.save(text, tone(freqs[text]), RATE, prompt_id=f"unit:{text}")
    return freqs


def test_a_slot_sentence_is_played_from_recorded_pieces_and_units(tmp_path):
    library = PromptLibrary(tmp_path / "prompts")
    template = "{date} {time}에 {place}에서 접종하실 수 있습니다."
    assert template_pieces(template) == ["에", "에서 접종하실 수 있습니다"]
    freqs = make_units(
        library, ["십", "이", "월", "오", "일", "오후", "세", "시", "에", "에서 접종하실 수 있습니다"]
    )
    synthesised: list[str] = []

    def synth(words: str, rate: int) -> np.ndarray:
        synthesised.append(words)
        return np.zeros(int(0.5 * rate), dtype=np.float32)

    assembler = Assembler(library.has, library.load, synth)
    pieces = assembler.sentence(
        "12월 5일 오후 3시에 강남구 보건소에서 접종하실 수 있습니다.", RATE, [template]
    )
    assert [(p.text, p.source) for p in pieces] == [
        ("십이", "recorded"),
        ("월", "recorded"),
        ("오", "recorded"),
        ("일", "recorded"),
        ("오후", "recorded"),
        ("세", "recorded"),
        ("시", "recorded"),
        ("에", "recorded"),
        ("강남구 보건소", "synth"),
        ("에서 접종하실 수 있습니다", "recorded"),
    ]
    assert synthesised == ["강남구 보건소"]  # only the piece nobody recorded
    first = pieces[0].samples  # 십 + 이 crossfaded
    assert dominant(first[: int(0.2 * RATE)]) == pytest.approx(freqs["십"], abs=5)
    assert dominant(first[-int(0.2 * RATE) :]) == pytest.approx(freqs["이"], abs=5)
    assert len(first) == 2 * len(tone(1)) - int(0.015 * RATE)


def test_the_synthesizer_assembles_numbers_from_units_for_every_call(tmp_path):
    library = PromptLibrary(tmp_path / "prompts")
    synth = synth_for(tmp_path, tmp_path / "prompts")
    make_units(library, ["오후", "두", "시", "삼", "십", "분"])
    speech = synth.synthesize("오후 2시 30분")
    assert speech.source == "composed"
    assert dominant(speech.samples[: int(0.2 * RATE)]) == pytest.approx(200, abs=5)
    # a sentence with a word no unit covers and no template is synthesised whole, not patched together
    assert synth.synthesize("오후 2시 30분까지 운영합니다.").source == "synth"


def test_the_unit_set_covers_every_reading_of_numbers_dates_times_and_phones():
    from tts import normalize_korean

    units = set(unit_texts())
    for text in ["2026년 12월 5일 토요일", "오후 3시 30분", "35,000원", "02-120-1234", "21명", "6월 10일"]:
        for word in normalize_korean(text).replace(",", " ").split():
            rest = word
            while rest:
                match = next((rest[:n] for n in range(len(rest), 0, -1) if rest[:n] in units), None)
                assert match, f"{word!r} of {text!r} has no unit for {rest!r}"
                rest = rest[len(match) :]


def test_trim_normalise_and_crossfade():
    silence = np.zeros(RATE, dtype=np.float32)
    speech = np.concatenate([silence, 0.05 * tone(300, 1.0), silence])
    trimmed = trim_silence(speech, RATE)
    assert 1.0 <= len(trimmed) / RATE <= 1.0 + 2 * 0.08 + 0.04
    louder = normalize_level(trimmed)
    assert 20 * np.log10(np.sqrt(np.mean(louder[int(0.1 * RATE) : -int(0.1 * RATE)] ** 2))) == pytest.approx(
        -20, abs=1
    )
    assert np.max(np.abs(louder)) <= 0.9
    joined = join_crossfaded([tone(300, 0.5), tone(300, 0.5)], RATE)
    assert len(joined) == RATE - int(0.015 * RATE)


def test_a_voice_pack_round_trips(tmp_path):
    source = PromptLibrary(tmp_path / "a")
    source.save("안녕하세요.", tone(300, 0.5), RATE)
    source.save("감사합니다.", tone(600, 0.5), RATE)
    pack = source.export_pack("서울시")
    target = PromptLibrary(tmp_path / "b")
    assert target.import_pack(pack) == 2
    assert dominant(target.load("감사합니다.", RATE)) == pytest.approx(600, abs=5)
    assert target.get("감사합니다.").current_version.origin == "import"
    with pytest.raises(ValueError):
        target.import_pack(b"not a zip")


def test_a_take_that_failed_its_check_is_kept_but_not_played(tmp_path):
    library = PromptLibrary(tmp_path / "prompts")
    synth = synth_for(tmp_path, tmp_path / "prompts")
    text = "수도 요금 안내입니다."
    kept = library.save(text, tone(300), RATE, cer=0.9, make_current=False)
    assert kept.current == 0 and not library.has("수도 요금 안내입니다") and not library.recordings_present()
    assert synth.synthesize(text).source == "synth"
    library.set_current(kept.key, 1)
    assert synth.synthesize(text).source == "recorded"


def test_the_voicepack_command_adds_a_rendered_file_and_moves_packs(tmp_path, capsys):
    """How a voice made elsewhere (a studio, a Coqui model the operator runs) slots in for one prompt."""
    import soundfile as sf

    from tts.voicepack import main

    rendered = tmp_path / "rendered.wav"
    sf.write(rendered, tone(700, 1.0, 22050), 22050)
    assert main(["--dir", str(tmp_path / "a"), "add", "잠시만 기다려 주세요.", str(rendered)]) == 0
    assert main(["--dir", str(tmp_path / "a"), "export", str(tmp_path / "pack.zip")]) == 0
    assert main(["--dir", str(tmp_path / "b"), "import", str(tmp_path / "pack.zip")]) == 0
    assert dominant(PromptLibrary(tmp_path / "b").load("잠시만 기다려 주세요", RATE)) == pytest.approx(
        700, abs=5
    )
    assert main(["--dir", str(tmp_path / "b"), "list"]) == 0
    assert "잠시만 기다려 주세요." in capsys.readouterr().out


def test_an_unrecorded_fixed_phrase_is_synthesised_whole_with_its_particle_joined(tmp_path):
    """Units never patch a template's fixed text word by word: that would switch voices inside a phrase."""
    library = PromptLibrary(tmp_path / "prompts")
    make_units(library, ["십", "이", "월", "오", "일", "에", "에서", "입니다"])
    synthesised: list[str] = []

    def synth(words: str, rate: int) -> np.ndarray:
        synthesised.append(words)
        return np.zeros(int(0.5 * rate), dtype=np.float32)

    template = "{date}에 {place}에서 받으신 검사 결과를 안내해 드립니다."
    pieces = Assembler(library.has, library.load, synth).sentence(
        "12월 5일에 종로구 보건소에서 받으신 검사 결과를 안내해 드립니다.", RATE, [template]
    )
    assert [(p.text, p.source) for p in pieces][-2:] == [
        ("에", "recorded"),
        ("종로구 보건소에서 받으신 검사 결과를 안내해 드립니다", "synth"),
    ]
    assert synthesised == ["종로구 보건소에서 받으신 검사 결과를 안내해 드립니다"]
    assert pieces[-3].text == "일" and pieces[-3].gap_after_s == 0.0  # 일 + 에 joined, no pause
