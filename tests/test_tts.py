"""Korean TTS (tts/): the normaliser, the number words, espeak-ng synthesis and streaming, the prompt
cache, operators' recorded-prompt overrides and the errors an operator sees.

Everything runs offline through the espeak-ng library bundled by espeakng-loader, writes only under
pytest's tmp_path and takes a few seconds. Timings are never asserted (benchmarks/tts.py prints them).
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tts import (
    Speech,
    TTSConfig,
    TTSError,
    create_synthesizer,
    normalize_korean,
    number_to_native,
    number_to_sino,
    split_for_speech,
)
from tts.base import check_sample_rate
from tts.cache import OVERRIDES_FILE, CachedSynthesizer, PromptCache, cache_key, text_key
from tts.espeak import EspeakSettings, EspeakSynthesizer

SENTENCE = "지갑을 버스에 두고 내렸어요."
TWO_SENTENCES = "안녕하십니까. 서울시 120다산콜센터입니다. 무엇을 도와드릴까요?"


# --------------------------------------------------------------------------------------------------
# Number words
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "영"),
        (1, "일"),
        (10, "십"),
        (11, "십일"),
        (20, "이십"),
        (100, "백"),
        (101, "백일"),
        (1000, "천"),
        (2026, "이천이십육"),
        (10000, "만"),  # not 일만
        (10001, "만 일"),
        (35000, "삼만 오천"),
        (100000000, "일억"),  # 억 keeps its 일
        (123456789, "일억 이천삼백사십오만 육천칠백팔십구"),
        (10**12, "일조"),
        (10**16, "일경"),
        (-5, "마이너스 오"),
    ],
)
def test_number_to_sino(n, words):
    assert number_to_sino(n) == words


def test_number_to_sino_beyond_the_largest_unit_reads_digits():
    assert number_to_sino(10**20) == "일" + "영" * 20


@pytest.mark.parametrize(
    ("n", "plain", "before_counter"),
    [
        (1, "하나", "한"),
        (2, "둘", "두"),
        (3, "셋", "세"),
        (4, "넷", "네"),
        (5, "다섯", "다섯"),
        (10, "열", "열"),
        (11, "열하나", "열한"),
        (20, "스물", "스무"),
        (21, "스물하나", "스물한"),
        (30, "서른", "서른"),
        (99, "아흔아홉", "아흔아홉"),
    ],
)
def test_number_to_native(n, plain, before_counter):
    assert number_to_native(n) == plain
    assert number_to_native(n, attributive=True) == before_counter


@pytest.mark.parametrize("n", [0, 100, -1])
def test_number_to_native_covers_only_1_to_99(n):
    with pytest.raises(ValueError, match="1..99"):
        number_to_native(n)


# --------------------------------------------------------------------------------------------------
# Normalisation: what a 120 agent says
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        # Native Korean before native counters, Sino-Korean before Sino counters.
        ("사과 3개 주세요", "사과 세 개 주세요"),
        ("3시에 만나요", "세 시에 만나요"),
        ("30분 걸립니다", "삼십 분 걸립니다"),
        ("1시간 30분", "한 시간 삼십 분"),
        ("24시간 운영", "이십사 시간 운영"),
        ("2명", "두 명"),
        ("20살", "스무 살"),
        ("21개", "스물한 개"),
        ("99명", "아흔아홉 명"),
        ("100개", "백 개"),
        ("1번째", "첫 번째"),
        ("3번째", "세 번째"),
        ("하루 3번", "하루 세 번"),
        ("1번을 눌러주세요", "일 번을 눌러주세요"),
        ("2호선 5번 출구", "이 호선 오 번 출구"),
        ("만 65세 이상", "만 육십오 세 이상"),
        ("3개월", "삼 개월"),
        # Dates; 6월 and 10월 are 유월 and 시월.
        ("2026년 11월 23일", "이천이십육 년 십일 월 이십삼 일"),
        ("2026-11-23", "이천이십육 년 십일 월 이십삼 일"),
        ("2026. 11. 23.", "이천이십육 년 십일 월 이십삼 일."),
        ("6월 10일", "유월 십 일"),
        ("10월", "시월"),
        ("2026년 1월 1일(목)", "이천이십육 년 일 월 일 일 목요일"),
        # Clock times as an agent says them.
        ("14:30", "오후 두 시 삼십 분"),
        ("오전 10:30", "오전 열 시 삼십 분"),
        ("12시 30분", "열두 시 삼십 분"),
        # Telephone numbers digit by digit in their groups, 0 is 공.
        ("02-2133-1234로 전화", "공이, 이일삼삼, 일이삼사로 전화"),
        ("010-1234-5678", "공일공, 일이삼사, 오육칠팔"),
        ("01012345678", "공일공, 일이삼사, 오육칠팔"),
        ("1588-1234", "일오팔팔, 일이삼사"),
        ("120다산콜센터", "일이공 다산콜센터"),
        ("112에 신고", "일일이에 신고"),
        ("총 120명", "총 백이십 명"),  # a quantity, not the service number
        ("접수번호는 12345678", "접수번호는 일이삼사, 오육칠팔"),
        # Money and percentages.
        ("35,000원입니다", "삼만 오천 원입니다"),
        ("1,000,000원", "백만 원"),
        ("3만 5천원", "삼만 오천 원"),
        ("1억 2천만원", "일억 이천만 원"),
        ("10분당 500원", "십 분당 오백 원"),
        ("3%", "삼 퍼센트"),
        ("12.5%", "십이 점 오 퍼센트"),
        ("0.5%", "영 점 오 퍼센트"),
        # Ranges.
        ("09:00~18:00", "오전 아홉 시부터 오후 여섯 시까지"),
        ("평일 09:00~18:00에 운영", "평일 오전 아홉 시부터 오후 여섯 시까지 운영"),
        ("2시~5시에", "두 시부터 다섯 시까지"),
        ("3월 1일~3월 5일", "삼 월 일 일부터 삼 월 오 일까지"),
        ("11월 23일~12월 4일입니다", "십일 월 이십삼 일부터 십이 월 사 일까지입니다"),
        ("11월 23일(월)~12월 4일(금)", "십일 월 이십삼 일 월요일부터 십이 월 사 일 금요일까지"),
        ("12월 1일~3일", "십이 월 일 일부터 삼 일까지"),
        ("10~20%", "십 퍼센트에서 이십 퍼센트"),
        ("서울~부산", "서울에서 부산"),
        # Units and temperatures.
        ("3.5km", "삼 점 오 킬로미터"),
        ("-5℃", "영하 오 도"),
        ("영하 -5℃", "영하 오 도"),
        ("35㎍/㎥", "삼십오 마이크로그램 퍼 세제곱미터"),
        ("B1층", "지하 일 층"),
        # Latin letters and words, keypad symbols.
        ("QR 코드", "큐알 코드"),
        ("ARS 안내", "에이알에스 안내"),
        ("KTX 타세요", "케이티엑스 타세요"),
        ("Wi-Fi", "와이파이"),
        ("OK", "오케이"),
        ("e-b", "이 비"),  # a hyphen inside a spelled word is a pause (this once raised KeyError)
        ("코로나19", "코로나 일구"),
        ("*을 눌러주세요", "별표를 눌러주세요"),
        ("#", "우물 정자"),
        ("www.seoul.go.kr", "더블유 더블유 더블유 점 서울 점 지오 점 케이알"),
    ],
)
def test_normalize_korean_reads_like_an_agent(written, spoken):
    assert normalize_korean(written) == spoken


@pytest.mark.parametrize(
    "text",
    [
        "신청 기간은 2026년 11월 23일부터 12월 4일까지입니다.",
        "평일 09:00~18:00에 운영하며, 주말과 공휴일은 휴무입니다.",
        "자세한 사항은 02-2133-1234로 문의해 주시기 바랍니다.",
        "주차 요금은 10분당 500원이며, 하루 최대 35,000원입니다.",
    ],
)
def test_normalize_korean_is_idempotent_and_leaves_only_speakable_text(text):
    spoken = normalize_korean(text)
    assert normalize_korean(spoken) == spoken
    assert not any(c.isdigit() for c in spoken)
    assert set(spoken) <= {chr(c) for c in range(0xAC00, 0xD7A4)} | set(" .,?!")


def test_normalize_korean_never_raises_on_odd_input():
    odd = [
        "a-b-c 3-",
        "~~~",
        "--5",
        "12:99",
        "99/99",
        "2026-13-45",
        "0000-0000",
        "㎞㎞",
        "₩",
        "$",
        "#*#",
        "%%",
    ]
    for text in odd:
        assert isinstance(normalize_korean(text), str)


def test_split_for_speech_keeps_written_dates_in_one_sentence():
    chunks = split_for_speech(
        "접수는 2026. 11. 23.까지입니다. 자세한 내용은 홈페이지를 확인해 주세요. 감사합니다."
    )
    # A lone short sentence ("감사합니다.") is joined to its neighbour rather than spoken as a fragment.
    assert chunks == [
        "접수는 2026. 11. 23.까지입니다.",
        "자세한 내용은 홈페이지를 확인해 주세요. 감사합니다.",
    ]


def test_split_for_speech_cuts_a_long_sentence_at_commas():
    clause = "주말과 공휴일은 운영하지 않으며"
    text = ", ".join([clause] * 6) + "."
    chunks = split_for_speech(text)
    assert len(chunks) > 1
    assert all(len(c) <= 80 for c in chunks)
    assert " ".join(chunks).replace(" ", "") == text.replace(" ", "")


# --------------------------------------------------------------------------------------------------
# espeak-ng synthesis
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def espeak() -> EspeakSynthesizer:
    return EspeakSynthesizer()


def assert_speech(speech: Speech, sample_rate: int) -> None:
    samples = speech.samples
    assert isinstance(speech, Speech)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert speech.sample_rate == sample_rate
    assert np.all(np.isfinite(samples)) and np.abs(samples).max() <= 1.0
    rms = float(np.sqrt(np.mean(samples**2)))
    assert rms > 0.02, f"audio is (nearly) silent: rms {rms:.4f}"
    # Speech has pauses: not every 20 ms frame is loud.
    frames = samples[: len(samples) // (sample_rate // 50) * (sample_rate // 50)].reshape(
        -1, sample_rate // 50
    )
    frame_rms = np.sqrt(np.mean(frames**2, axis=1))
    assert (frame_rms < 0.1 * frame_rms.max()).any()


@pytest.mark.parametrize("sample_rate", [16000, 8000])
def test_espeak_speaks_korean_at_the_pipeline_and_phone_rates(espeak, sample_rate):
    speech = espeak.synthesize(SENTENCE, sample_rate)
    assert_speech(speech, sample_rate)
    assert speech.engine == "espeak" and speech.source == "synth"
    assert speech.text == SENTENCE and speech.spoken_text == normalize_korean(SENTENCE)
    # 12 syllables at the default rate: one to five seconds, pauses included.
    assert 1.0 < speech.duration_s < 5.0


def test_phone_rate_audio_is_the_same_speech_with_half_the_samples(espeak):
    wide, narrow = espeak.synthesize(SENTENCE, 16000), espeak.synthesize(SENTENCE, 8000)
    assert abs(wide.duration_s - narrow.duration_s) < 0.01
    # Within 1 ms: espeak-ng's own output has been seen to vary by a few samples between runs in the full
    # suite (its state is process-wide), which is not what this test is about.
    assert abs(len(wide.samples) - 2 * len(narrow.samples)) <= 16


def test_duration_grows_with_the_text(espeak):
    one = espeak.synthesize("상담원 연결해 주세요.").duration_s
    three = espeak.synthesize("상담원 연결해 주세요. " * 3).duration_s
    assert 2.0 < three / one < 4.0
    short = espeak.synthesize("네").duration_s
    assert short < one


def test_numbers_are_spoken_as_words_not_skipped(espeak):
    plain = espeak.synthesize("전화번호는 입니다").duration_s
    with_number = espeak.synthesize("전화번호는 02-2133-1234 입니다").duration_s
    assert with_number > plain + 1.0  # thirteen more syllables


def test_slower_rate_gives_longer_audio():
    slow = EspeakSynthesizer(EspeakSettings(rate_wpm=100)).synthesize(SENTENCE).duration_s
    fast = EspeakSynthesizer(EspeakSettings(rate_wpm=200)).synthesize(SENTENCE).duration_s
    assert slow > 1.3 * fast


def test_engines_with_different_settings_do_not_share_them():
    slow, fast = (
        EspeakSynthesizer(EspeakSettings(rate_wpm=100)),
        EspeakSynthesizer(EspeakSettings(rate_wpm=200)),
    )
    first = slow.synthesize(SENTENCE).duration_s
    fast.synthesize(SENTENCE)
    assert slow.synthesize(SENTENCE).duration_s == pytest.approx(first, rel=0.01)


class CountingEngine:
    """Wraps an engine and records each text it is asked to speak."""

    name = "espeak"

    def __init__(self, engine):
        self.engine = engine
        self.calls: list[str] = []

    @property
    def settings(self):
        return self.engine.settings

    def synthesize(self, text, sample_rate=16000):
        self.calls.append(text)
        return self.engine.synthesize(text, sample_rate)


def test_stream_yields_sentences_that_add_up_to_the_whole(espeak):
    chunks = list(espeak.stream(TWO_SENTENCES, 8000))
    assert [c.text for c in chunks] == split_for_speech(TWO_SENTENCES)
    assert len(chunks) == 2
    for chunk in chunks:
        assert_speech(chunk, 8000)
    whole = espeak.synthesize(TWO_SENTENCES, 8000)
    streamed = np.concatenate([c.samples for c in chunks])
    assert abs(len(streamed) - len(whole.samples)) < 0.15 * len(whole.samples)
    whole_rms = np.sqrt(np.mean(whole.samples**2))
    assert np.sqrt(np.mean(streamed**2)) == pytest.approx(whole_rms, rel=0.25)


def test_stream_yields_the_first_chunk_before_synthesising_the_rest(espeak, tmp_path):
    counting = CountingEngine(espeak)
    synth = CachedSynthesizer(counting, PromptCache(tmp_path / "cache"))
    stream = synth.stream(TWO_SENTENCES)
    first = next(stream)
    assert counting.calls == [normalize_korean(first.text)]
    rest = list(stream)
    assert len(rest) == 1 and len(counting.calls) == 2


def test_stream_skips_chunks_with_nothing_to_say(espeak):
    chunks = list(espeak.stream("상담원을 연결해 드리겠습니다. ... 잠시만 기다려 주세요."))
    assert chunks and all(c.spoken_text.strip(" .") for c in chunks)


# --------------------------------------------------------------------------------------------------
# Prompt cache
# --------------------------------------------------------------------------------------------------


def cached(tmp_path, **config) -> CachedSynthesizer:
    return create_synthesizer(TTSConfig(cache_dir=tmp_path / "cache", **config))


def cache_files(tmp_path) -> list:
    return sorted((tmp_path / "cache").rglob("*.wav"))


def test_second_synthesis_comes_from_the_cache_unchanged(tmp_path):
    synth = cached(tmp_path)
    first = synth.synthesize(SENTENCE, 8000)
    second = synth.synthesize(SENTENCE, 8000)
    assert (first.source, second.source) == ("synth", "cache")
    assert second.engine == "espeak" and second.sample_rate == 8000
    np.testing.assert_array_equal(first.samples, second.samples)
    [path] = cache_files(tmp_path)
    assert path.parent.name == path.stem[:2]
    # A fresh synthesizer (another process) finds the same file.
    assert cached(tmp_path).synthesize(SENTENCE, 8000).source == "cache"


def test_text_that_normalises_the_same_shares_a_cache_entry(tmp_path):
    synth = cached(tmp_path)
    synth.synthesize("0번을 눌러주세요.")
    assert synth.synthesize("영 번을 눌러주세요.").source == "cache"


def test_corrupt_cache_file_is_ignored_and_synthesised_again(tmp_path, caplog):
    synth = cached(tmp_path)
    original = synth.synthesize(SENTENCE)
    [path] = cache_files(tmp_path)
    path.write_bytes(b"RIFF\x00\x00garbage, not a wav file")
    again = synth.synthesize(SENTENCE)
    assert again.source == "synth"
    # espeak-ng is not bit-exact from run to run (a few samples of jitter), so compare the shape of it.
    assert len(again.samples) == pytest.approx(len(original.samples), rel=0.01)
    assert np.sqrt(np.mean(again.samples**2)) == pytest.approx(
        np.sqrt(np.mean(original.samples**2)), rel=0.05
    )
    assert "unreadable" in caplog.text
    assert synth.synthesize(SENTENCE).source == "cache"  # the bad file was replaced


def test_empty_and_wrong_rate_cache_files_are_not_played(tmp_path):
    synth = cached(tmp_path)
    synth.synthesize(SENTENCE)
    [path] = cache_files(tmp_path)
    path.write_bytes(b"")
    assert synth.synthesize(SENTENCE).source == "synth"
    sf.write(path, np.zeros(800, dtype=np.float32), 8000, subtype="FLOAT")
    assert synth.synthesize(SENTENCE).source == "synth"


def test_different_settings_rates_and_texts_get_different_cache_files(tmp_path):
    cached(tmp_path).synthesize(SENTENCE, 16000)
    cached(tmp_path).synthesize(SENTENCE, 8000)
    cached(tmp_path, rate_wpm=120).synthesize(SENTENCE, 16000)
    cached(tmp_path, pitch=40).synthesize(SENTENCE, 16000)
    cached(tmp_path, word_gap_ms=30).synthesize(SENTENCE, 16000)
    cached(tmp_path).synthesize("상담원 연결해 주세요.", 16000)
    assert len(cache_files(tmp_path)) == 6
    assert cached(tmp_path, rate_wpm=120).synthesize(SENTENCE, 16000).source == "cache"


def test_cache_key_covers_engine_settings_rate_and_text():
    base = cache_key("espeak", {"rate_wpm": 145}, 16000, "네")
    assert base == cache_key("espeak", {"rate_wpm": 145}, 16000, "네")
    others = {
        cache_key("coqui", {"rate_wpm": 145}, 16000, "네"),
        cache_key("espeak", {"rate_wpm": 146}, 16000, "네"),
        cache_key("espeak", {"rate_wpm": 145}, 8000, "네"),
        cache_key("espeak", {"rate_wpm": 145}, 16000, "예"),
    }
    assert base not in others and len(others) == 4


def test_the_espeak_settings_in_the_key_include_the_library_version(espeak):
    settings = espeak.settings
    assert settings["rate_wpm"] == TTSConfig().rate_wpm and settings["voice"] == "ko"
    assert isinstance(settings["espeak"], str) and settings["espeak"] not in ("", "?")


def test_use_cache_false_writes_nothing(tmp_path):
    synth = cached(tmp_path, use_cache=False)
    assert synth.synthesize(SENTENCE).source == "synth"
    assert synth.synthesize(SENTENCE).source == "synth"
    assert not (tmp_path / "cache").exists()


def test_streamed_chunks_are_cached_too(tmp_path):
    synth = cached(tmp_path)
    assert {c.source for c in synth.stream(TWO_SENTENCES)} == {"synth"}
    assert {c.source for c in synth.stream(TWO_SENTENCES)} == {"cache"}


# --------------------------------------------------------------------------------------------------
# Operators' recorded prompts
# --------------------------------------------------------------------------------------------------


def tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return mono if channels == 1 else np.stack([mono] * channels, axis=1)


@pytest.fixture
def studio(tmp_path):
    """An overrides directory with a 1.5 s 44.1 kHz stereo recording and a 2 s 22.05 kHz mono one."""
    directory = tmp_path / "prompts"
    directory.mkdir()
    sf.write(directory / "agent.wav", tone(1.5, 44100, channels=2), 44100)
    sf.write(directory / "greeting.wav", tone(2.0, 22050), 22050)
    (directory / OVERRIDES_FILE).write_text(
        'greeting: greeting.wav\n"상담원 연결해 주세요.": agent.wav\n', encoding="utf-8"
    )
    return directory


def with_overrides(tmp_path, studio) -> CachedSynthesizer:
    return cached(tmp_path, overrides_dir=studio)


def test_recording_replaces_the_prompt_by_text_and_is_resampled(tmp_path, studio):
    synth = with_overrides(tmp_path, studio)
    speech = synth.synthesize("상담원 연결해 주세요.", 8000)
    assert speech.source == "override" and speech.engine == "espeak"
    assert speech.sample_rate == 8000 and speech.samples.ndim == 1 and speech.samples.dtype == np.float32
    assert speech.duration_s == pytest.approx(1.5, abs=0.01)
    assert float(np.sqrt(np.mean(speech.samples**2))) == pytest.approx(0.3 / np.sqrt(2), rel=0.05)
    assert synth.synthesize("상담원 연결해 주세요.", 16000).duration_s == pytest.approx(1.5, abs=0.01)
    assert not cache_files(tmp_path)  # recordings are not copied into the cache


def test_text_match_ignores_spacing_and_final_punctuation(tmp_path, studio):
    synth = with_overrides(tmp_path, studio)
    assert synth.synthesize("상담원 연결해 주세요", 8000).source == "override"
    assert synth.synthesize("상담원  연결해 주세요!", 8000).source == "override"
    assert synth.synthesize("상담원 연결해 주세요. 감사합니다.", 8000).source == "synth"


def test_recording_replaces_the_prompt_by_id(tmp_path, studio):
    synth = with_overrides(tmp_path, studio)
    text = "안녕하십니까. 서울시 120다산콜센터입니다."
    speech = synth.synthesize(text, 16000, prompt_id="greeting")
    assert speech.source == "override" and speech.duration_s == pytest.approx(2.0, abs=0.01)
    assert speech.text == text
    assert synth.synthesize(text, 16000).source == "synth"
    assert synth.synthesize(text, 16000, prompt_id="no-such-id").source == "cache"


def test_a_recording_is_streamed_whole(tmp_path, studio):
    synth = with_overrides(tmp_path, studio)
    chunks = list(synth.stream(TWO_SENTENCES, 8000, prompt_id="greeting"))
    assert [c.source for c in chunks] == ["override"]
    assert chunks[0].duration_s == pytest.approx(2.0, abs=0.01)


def test_recording_named_by_text_hash(tmp_path):
    directory = tmp_path / "prompts"
    directory.mkdir()
    sf.write(directory / f"{text_key('0번을 눌러주세요.')}.wav", tone(1.0, 16000), 16000)
    synth = cached(tmp_path, overrides_dir=directory)
    assert synth.synthesize("영 번을 눌러주세요.", 8000).source == "override"


def test_missing_or_broken_recording_falls_back_to_synthesis(tmp_path, studio, caplog):
    (studio / "agent.wav").unlink()
    (studio / "greeting.wav").write_bytes(b"not audio")
    synth = with_overrides(tmp_path, studio)
    assert synth.synthesize("상담원 연결해 주세요.").source == "synth"
    assert synth.synthesize("네", prompt_id="greeting").source == "synth"
    assert "unusable" in caplog.text


def test_overrides_file_is_reread_when_the_operator_edits_it(tmp_path, studio):
    synth = with_overrides(tmp_path, studio)
    assert synth.synthesize("수도 요금은 어떻게 내나요?").source == "synth"
    (studio / OVERRIDES_FILE).write_text(
        '"수도 요금은 어떻게 내나요?": agent.wav # water\n', encoding="utf-8"
    )
    assert synth.synthesize("수도 요금은 어떻게 내나요?").source == "override"


def test_malformed_overrides_file_is_ignored(tmp_path, studio, caplog):
    (studio / OVERRIDES_FILE).write_text("- just\n- a list\n", encoding="utf-8")
    synth = with_overrides(tmp_path, studio)
    assert synth.synthesize("상담원 연결해 주세요.").source == "synth"
    assert "ignoring" in caplog.text


# --------------------------------------------------------------------------------------------------
# Errors an operator sees
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_text_is_refused(espeak, text):
    with pytest.raises(TTSError, match="nothing to say: the text is empty"):
        espeak.synthesize(text)


@pytest.mark.parametrize("text", ["!!!", "...", "😀", "---", "ㅋㅋㅋ", "()"])
def test_unspeakable_text_is_refused(tmp_path, text):
    synth = cached(tmp_path)
    with pytest.raises(TTSError, match="no speakable words"):
        synth.synthesize(text)
    with pytest.raises(TTSError, match="no speakable words"):
        list(synth.stream(text))
    assert not cache_files(tmp_path)


def test_text_must_be_a_string(espeak):
    with pytest.raises(TTSError, match="must be a str"):
        espeak.synthesize(123)  # type: ignore[arg-type]


def test_unknown_engine_is_refused():
    with pytest.raises(TTSError, match="unknown TTS engine 'festival'.*espeak, coqui"):
        create_synthesizer(TTSConfig(engine="festival", use_cache=False))


@pytest.mark.parametrize("sample_rate", [0, -8000, 7999, 48001, 16000.0, "16000", None, True])
def test_bad_sample_rate_is_refused(tmp_path, espeak, sample_rate):
    with pytest.raises(TTSError, match="sample_rate must be an int from 8000 to 48000"):
        espeak.synthesize(SENTENCE, sample_rate)
    with pytest.raises(TTSError, match="sample_rate"):
        cached(tmp_path).synthesize(SENTENCE, sample_rate)
    with pytest.raises(TTSError, match="sample_rate"):
        list(espeak.stream(SENTENCE, sample_rate))


def test_numpy_integer_sample_rate_is_accepted():
    assert check_sample_rate(np.int64(8000)) == 8000
    assert type(check_sample_rate(np.int32(16000))) is int


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (EspeakSettings(rate_wpm=10), "rate_wpm must be 80-450"),
        (EspeakSettings(pitch=101), "pitch must be 0-100"),
        (EspeakSettings(word_gap_ms=-1), "word_gap_ms must be 0-1000"),
        (EspeakSettings(volume=300), "volume must be 0-200"),
    ],
)
def test_out_of_range_espeak_settings_are_refused(settings, message):
    with pytest.raises(TTSError, match=message):
        EspeakSynthesizer(settings)


def test_unknown_espeak_voice_is_refused():
    with pytest.raises(TTSError, match="no voice 'xx-nonexistent'"):
        EspeakSynthesizer(EspeakSettings(voice="xx-nonexistent")).synthesize("네")


def test_engine_without_synthesize_is_refused():
    with pytest.raises(TTSError, match="no synthesize"):
        CachedSynthesizer(object())
