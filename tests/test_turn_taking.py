"""Turn-taking: the caller's turn ends when their words say so, and "네" over a prompt is not a barge-in.

The audio is real speech made by the test (espeak-ng's Korean voice; the VAD and endpointer run on it for
real) and a generated noise burst. The transcriber is a stand-in that reads back the sentences the test
put into the audio, by how much of it the utterance covers: Whisper is tested on real recordings in
test_stt.py, and what is under test here is what the call does with a transcript and when.
"""

from __future__ import annotations

import numpy as np
import pytest

from dialog import TurnStatus, is_backchannel, turn_status
from media.audio import PIPELINE_RATE, Audio, float_to_pcm16, iter_frames, silence
from stt.types import Transcript
from voicebot.call.session import CallConfig, CallSession

RATE = PIPELINE_RATE


# -- the words -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("제가 어제 이사를 왔는데요.", "incomplete"),
        ("그게 아니라 다른 거거든요", "incomplete"),
        ("물이 안 나와서요", "incomplete"),
        ("제 이름은 김철수고요", "incomplete"),
        ("주차 위반 과태료를 내려고 하는데", "incomplete"),
        ("네, 그런데요", "incomplete"),
        ("그래서", "incomplete"),
        ("음", "incomplete"),
        ("전입신고는 어디서 하나요?", "complete"),
        ("버스 노선 좀 알려 주세요", "complete"),
        ("어디로 가면 되죠", "complete"),
        ("여권 재발급 받으려면 어떻게 해야 돼요", "complete"),  # a question word: a question without "?"
        ("지금 단수예요?", "complete"),
        ("수도 요금이 너무 많이 나왔어요", "statement"),
        ("계량기가 얼었습니다", "statement"),
        ("그건 아니지.", "statement"),  # a spoken ending read as a connective, closed by Whisper's full stop
        ("이거 어떻게 신청해", "complete"),
        ("What time do you open?", "complete"),
        # Words that cannot end a Korean sentence: the caller paused to find the next word.
        ("안철수 대표와 국민의당은", "incomplete"),  # a topic particle
        ("비슷한 실수를 저질렀을 때 자신을", "incomplete"),  # an object particle
        ("전해지기 위해서는 여러", "incomplete"),  # a determiner
        ("그 바람에 한참 피어난", "incomplete"),  # an adnominal ending
        ("제가 어제", "incomplete"),  # an adverb
        ("지하철 시간표 좀", "incomplete"),
        ("손을 내밀면 안철수", "incomplete"),  # a clause, then the first noun of the next one
        ("한잔의 커피가 소비자", "incomplete"),  # a subject, then a noun, and no full stop
        ("대부분 전기는 기업이 사용.", "statement"),  # the same with Whisper's full stop
        ("버스 카드 충전", "statement"),
        ("버스 카드 충전은 어디서?", "complete"),  # an elliptical question
        ("버스 분실물은요?", "complete"),
        ("강남구에서요", "statement"),  # a polite short answer: the dialog's state decides
        ("여권이요", "statement"),
        ("여권 재발급", "statement"),  # the ARS way of asking
        ("등본 떼려고요", "statement"),
        ("문의드릴 게 있어서요", "incomplete"),
        ("여권을 재발급 받고 싶어요", "complete"),  # a wish is a request
        ("안녕하세요.", "incomplete"),  # a greeting: the request follows
        ("네, 수고하십니다", "incomplete"),
        ("안녕하세요 여권 재발급 받고 싶어요", "complete"),
        ("안심콜 신청하고 싶어서요.", "statement"),  # a wish, softened: the request itself
        ("여권 만들고 싶은데요", "statement"),
        ("신청하고 싶거든요", "incomplete"),  # "…, you see": the question follows
        ("물이 안 나와서요", "incomplete"),
        ("여보세요", "incomplete"),  # "hello," and the request follows
        ("여보세요?", "statement"),  # "is anyone there?": the caller waits for an answer
        ("여보세요 잘 들리세요?", "complete"),
    ],
)
def test_turn_status_reads_korean_endings(engine, text, status):
    assert turn_status(text, engine.matcher.tokenize) == TurnStatus(status)


def test_the_dialog_knows_a_whole_request_and_a_short_answer(engine):
    dialog = engine.new_session("t")
    dialog.start()
    assert dialog.turn_status("상담원 연결해 주세요") is TurnStatus.COMPLETE  # a statement it acts on
    assert dialog.turn_status("불이 났어요") is TurnStatus.COMPLETE  # an emergency: never wait
    assert dialog.turn_status("오늘 날씨가 좋네요") is TurnStatus.STATEMENT  # the caller's pause decides
    assert dialog.turn_status("네") is TurnStatus.INCOMPLETE  # "네, ..." opens a turn at the menu
    assert dialog.turn_status("2번이요") is TurnStatus.COMPLETE  # a menu choice, at the menu
    assert dialog.turn_status("교통이요") is TurnStatus.COMPLETE
    for _ in range(3):
        turn = dialog.on_no_input()  # silence after every prompt: the dialog offers an agent (yes/no)
    assert turn.expects == "yes_no" and dialog.state == "agent_offer", turn
    assert dialog.turn_status("네") is TurnStatus.COMPLETE  # now a whole answer


def test_short_words_over_the_prompt_stop_it_only_when_meant_to(engine):
    dialog = engine.new_session("t")
    dialog.start()  # greeting and menu
    for text in (
        "잠깐만요",
        "아니요 그게 아니라",
        "저기요",
        "여보세요?",
        "뭐라고요?",
        "상담원",
        "2번이요",
        "교통이요",
    ):
        assert dialog.barges_in(text), text
    assert dialog.barges_in("여권 재발급")  # a question the dialog answers
    assert dialog.barges_in("불이 났어요")  # an emergency
    # An acknowledgement, nothing, or what Whisper made of a cough or a mumble: the prompt goes on.
    for text in ("", "네", "네네", "음", "그렇죠", "어이", "으잉", "릴리", "그땄트 히올", "Good not kill."):
        assert not dialog.barges_in(text), text
    # Greeting the bot back over its greeting is a courtesy, however clearly heard.
    for text in ("안녕하세요", "네, 안녕하세요.", "네 수고하십니다"):
        assert not dialog.barges_in(text, stt_confidence=0.9), text
    # Other words: stop the prompt when Whisper heard them clearly, not when it was guessing.
    assert dialog.barges_in("그 바람에", stt_confidence=0.74)
    assert not dialog.barges_in("그 바람에", stt_confidence=0.2)
    assert not dialog.barges_in("그버트 히옷", stt_confidence=0.26)
    assert not dialog.barges_in("어휴", stt_confidence=0.9)  # an interjection, however clear
    assert not dialog.barges_in("릴릴 릴릴릴", stt_confidence=0.78)  # Whisper, sure of a mumble


@pytest.mark.parametrize("text", ["네", "네.", "네네", "예, 예", "음...", "그렇죠", "네 맞아요", "아", "응"])
def test_acknowledgements(text):
    assert is_backchannel(text)


@pytest.mark.parametrize(
    "text", ["", "잠깐만요", "아니요 그게 아니라", "네 근데요", "수도 요금 문의요", "네 상담원"]
)
def test_not_acknowledgements(text):
    assert not is_backchannel(text)


# -- the call ------------------------------------------------------------------------------------------


class ByLength:
    """Stand-in transcriber: ``parts`` are (seconds, text), in order; an utterance at least that long
    reads as that text (the last part it reaches), as Whisper would read that much of the audio."""

    in_flight = 0  # no other calls share this model

    def __init__(self, parts: list[tuple[float, str]]):
        self.parts = parts

    def transcribe(self, samples, *args, **kwargs) -> Transcript:
        seconds = len(samples) / RATE
        fitting = [text for length, text in self.parts if length <= seconds]
        return Transcript(fitting[-1] if fitting else "", "ko", 1.0, seconds, 0.0, "stand-in")


def speech(synthesizer, text: str) -> np.ndarray:
    return synthesizer.synthesize(text, sample_rate=RATE).samples.astype(np.float32)


def run(session: CallSession, audio: np.ndarray, presses: dict[float, str] | None = None) -> None:
    presses = dict(presses or {})
    session.start(0.0)
    for frame in iter_frames_of(audio):
        for at in [t for t in presses if t <= frame.start_s]:
            session.on_dtmf(presses.pop(at), frame.start_s)
        session.on_caller_frame(frame)
        if session.ended:
            break


def iter_frames_of(samples: np.ndarray):
    yield from iter_frames(Audio(samples, RATE), 20)


def events(session: CallSession, kind: str) -> list:
    return [e for e in session.events if e.kind == kind]


def greeting_s(session_factory) -> float:
    probe = session_factory(ByLength([]))
    probe.start(0.0)
    return sum(len(c) for c in probe.bot._chunks) / RATE


@pytest.fixture(scope="module")
def make_session(engine, synthesizer):
    def make(transcriber) -> CallSession:
        return CallSession(engine, transcriber, synthesizer, CallConfig(), call_id="tt")

    return make


class ByContent:
    """Stand-in transcriber: reads an utterance as the texts of the test's sentences whose audio is in it,
    found by exact 16-bit samples from the middle of each sentence (frames carry them unchanged)."""

    in_flight = 0  # no other calls share this model

    def __init__(self, parts: list[tuple[np.ndarray, str]]):
        self.parts = [(self._mark(samples), text) for samples, text in parts]

    @staticmethod
    def _mark(samples: np.ndarray) -> bytes:
        middle = len(samples) // 2
        return float_to_pcm16(samples[middle : middle + 160])

    def transcribe(self, samples, *args, **kwargs) -> Transcript:
        pcm = np.round(np.asarray(samples) * 32768.0).astype("<i2").tobytes()
        text = " ".join(text for mark, text in self.parts if pcm.find(mark) >= 0)
        return Transcript(text, "ko", 1.0, len(samples) / RATE, 0.0, "stand-in")


def trimmed(samples: np.ndarray) -> np.ndarray:
    """Speech without the synthesizer's leading and trailing silence, so a pause is the pause given."""
    loud = np.flatnonzero(np.abs(samples) > 0.02)
    return samples[loud[0] : loud[-1] + 1]


@pytest.mark.parametrize("pause_s", [0.8, 1.3, 1.6])
def test_a_sentence_the_caller_goes_on_after_is_not_answered_alone(make_session, synthesizer, pause_s):
    """ "제가 어제 이사를 왔는데요." then a pause then the question: the reply answers both, and starts
    after the question. A short pause keeps the turn open (the first half ends the way callers go on
    after); after a long one an answer to the first half that had not been heard is withdrawn and the
    two halves go to the dialog as one question. (The old rule closed the turn 600 ms into the pause and
    answered the first half.)"""
    first = trimmed(speech(synthesizer, "제가 어제 이사를 왔는데요"))
    second = trimmed(speech(synthesizer, "전입신고는 어디서 하나요"))
    start = 1.0 + greeting_s(make_session)  # after the greeting has played
    audio = np.concatenate([silence(start), first, silence(pause_s), second, silence(6.0)])
    ear = ByContent([(first, "제가 어제 이사를 왔는데요."), (second, "전입신고는 어디서 하나요?")])
    session = make_session(ear)
    run(session, audio)
    spoken = [t for t in session.turns if t.trigger == "speech"]
    answered = [t for t in spoken if not t.withdrawn]
    assert len(answered) == 1, [(t.caller_text, t.bot_text, t.withdrawn) for t in spoken]
    (turn,) = answered
    assert turn.caller_text == "제가 어제 이사를 왔는데요. 전입신고는 어디서 하나요?"
    question_ends = start + (len(first) + len(second)) / RATE + pause_s
    assert abs(turn.caller_end_s - question_ends) < 0.1  # the caller's last voiced frame
    assert turn.bot_start_s > turn.caller_end_s  # and the reply starts after it
    assert turn.category == "general" or turn.action in ("answer", "clarify", "escalate")
    withdrawn = [t for t in spoken if t.withdrawn]
    if pause_s < 1.4:
        assert not withdrawn  # one utterance: the turn was held open through the pause
    for early in withdrawn:  # nothing of an answer to the first half was heard, or a syllable at most
        assert early.bot_start_s > start + len(first) / RATE + pause_s - 0.5


def test_a_finished_question_is_answered_after_a_short_pause(make_session, synthesizer):
    question = speech(synthesizer, "전입신고는 어디서 하나요")
    start = 1.0 + greeting_s(make_session)
    audio = np.concatenate([silence(start), question, silence(6.0)])
    session = make_session(ByLength([(0.5, "전입신고는 어디서 하나요?")]))
    run(session, audio)
    (turn,) = [t for t in session.turns if t.trigger == "speech"]
    assert turn.latency.endpoint_ms < 500  # the early end (360 ms), not the full 600 ms hangover


def played_greeting(session: CallSession, audio: np.ndarray) -> np.ndarray:
    """What the caller heard until the greeting finished."""
    session.start(0.0)
    heard = []
    for frame in iter_frames_of(audio):
        heard.append(session.on_caller_frame(frame))
        if session._bot_done_at is not None:
            break
    return np.concatenate(heard)


def test_an_acknowledgement_over_the_prompt_lets_it_go_on(make_session, synthesizer):
    """ "네" 2 s into the greeting: the prompt stops at once and goes on after it, from a little before
    where it stopped; the turn log keeps the acknowledgement and no barge-in is recorded."""
    yes = speech(synthesizer, "네")
    quiet = silence(60.0)
    session = make_session(ByLength([(0.0, "네")]))
    with_yes = played_greeting(session, np.concatenate([silence(2.0), yes, quiet]))
    without = played_greeting(make_session(ByLength([])), quiet)
    greeting = session.turns[0]
    assert not greeting.interrupted and greeting.backchannels == ["네"]
    assert not events(session, "barge_in")
    assert [e.kind for e in session.events if e.kind.startswith("prompt_")] == [
        "prompt_held",
        "prompt_resumed",
    ]
    held, resumed = events(session, "prompt_held")[0].time_s, events(session, "prompt_resumed")[0].time_s
    assert 0.2 < resumed - held < 1.5

    def sounding_s(x: np.ndarray) -> float:
        return np.count_nonzero(np.abs(x) > 1e-4) / RATE

    # all of the greeting was played, and the bit cut by the hold was played again
    assert sounding_s(without) < sounding_s(with_yes) < sounding_s(without) + 0.35
    assert len(with_yes) / RATE > len(without) / RATE + (resumed - held) - 0.1


@pytest.mark.parametrize(
    ("said", "heard", "stops"),
    [
        ("네네", "릴리", False),  # Whisper made words of a short mumble: nothing the dialog can act on
        ("응", "어이", False),
        ("이번", "2번이요", True),  # a short menu choice over the menu is meant to stop it
        ("잠깐만", "잠깐만요", True),
    ],
)
def test_short_words_over_the_prompt_stop_it_only_when_they_mean_something(
    make_session, synthesizer, said, heard, stops
):
    audio = np.concatenate([silence(2.0), speech(synthesizer, said), silence(12.0)])
    session = make_session(ByLength([(0.0, heard)]))
    run(session, audio)
    greeting = session.turns[0]
    assert greeting.interrupted is stops
    assert bool(events(session, "barge_in")) is stops
    if not stops:
        assert [e.kind for e in session.events if e.kind.startswith("prompt_")] == [
            "prompt_held",
            "prompt_resumed",
        ]
        (judged,) = events(session, "backchannel")
        assert judged.detail["heard"] and not judged.detail["ack"]
        assert greeting.backchannels == []  # not logged as an acknowledgement either
        assert not [t for t in session.turns if t.trigger == "speech"]
    else:
        assert [t for t in session.turns if t.trigger == "speech"]


@pytest.mark.parametrize("goes_on", [True, False])
def test_the_start_of_a_sentence_over_the_prompt_stops_it_but_waits_for_the_rest(
    make_session, synthesizer, goes_on
):
    """ "교통카드를" said over the greeting, then the rest of the question after a pause: the prompt
    stops where the speech began, but the start of the sentence is not answered alone (the rule before
    answered any short words that stopped the prompt 300 ms after them, so the reply began over the
    rest of the question). With nothing after it, it is answered once the caller has been quiet for
    the long hangover."""
    start = trimmed(speech(synthesizer, "교통카드를"))
    rest = trimmed(speech(synthesizer, "어디서 충전하나요"))
    parts = [start, silence(0.9), rest] if goes_on else [start]
    audio = np.concatenate([silence(2.0), *parts, silence(8.0)])
    session = make_session(ByContent([(start, "교통카드를"), (rest, "어디서 충전하나요?")]))
    run(session, audio)
    assert session.turns[0].interrupted and events(session, "barge_in")
    (turn,) = [t for t in session.turns if t.trigger == "speech"]
    assert not turn.withdrawn
    assert turn.caller_start_s < 2.1
    if goes_on:
        assert turn.caller_text == "교통카드를 어디서 충전하나요?"
        assert abs(turn.caller_end_s - (2.0 + sum(len(p) for p in parts) / RATE)) < 0.1
    else:
        assert turn.caller_text == "교통카드를"
        long_hangover_s = session.config.endpoint.long_hangover_ms / 1000
        assert turn.bot_start_s >= turn.caller_end_s + long_hangover_s
    assert turn.bot_start_s > turn.caller_end_s


def test_a_menu_choice_over_the_prompt_is_answered_at_once(make_session, synthesizer):
    choice = trimmed(speech(synthesizer, "이번이요"))
    audio = np.concatenate([silence(2.0), choice, silence(6.0)])
    session = make_session(ByContent([(choice, "2번이요.")]))
    run(session, audio)
    (turn,) = [t for t in session.turns if t.trigger == "speech"]
    assert turn.caller_text == "2번이요." and session.turns[0].interrupted
    assert turn.bot_start_s - turn.caller_end_s < 0.8  # not held as a statement


def test_a_noise_burst_over_the_prompt_is_not_a_barge_in(make_session):
    rng = np.random.default_rng(7)
    burst = (0.3 * rng.standard_normal(int(0.15 * RATE))).astype(np.float32)  # a 150 ms cough or knock
    audio = np.concatenate([silence(2.0), burst, silence(20.0)])
    session = make_session(ByLength([]))
    run(session, audio[: int(6 * RATE)])
    assert not session.turns[0].interrupted and not events(session, "barge_in")


def test_a_real_barge_in_stops_the_prompt_where_the_speech_began(make_session, synthesizer):
    question = speech(synthesizer, "잠깐만요 수도 요금 문의하려고 하는데요")
    audio = np.concatenate([silence(2.0), question, silence(8.0)])
    session = make_session(ByLength([(0.5, "잠깐만요 수도 요금 문의하려고 하는데요")]))
    run(session, audio)
    assert session.turns[0].interrupted
    (barge_in,) = events(session, "barge_in")
    (start,) = [e for e in events(session, "speech_start") if e.detail["barge_in"]]
    assert barge_in.time_s == start.time_s  # the prompt stopped when the speech began (held, then cut)
    assert start.time_s - 2.0 < 0.25


def test_a_key_over_a_held_prompt_cuts_it_at_once(make_session, synthesizer):
    yes = speech(synthesizer, "네")
    audio = np.concatenate([silence(2.0), yes, silence(10.0)])
    session = make_session(ByLength([(0.0, "네")]))
    press_at = 2.0 + 0.25  # while the "네" still holds the prompt
    run(session, audio, {press_at: "2"})
    assert session.turns[0].interrupted and session.turns[1].category == "water"
    assert not session.bot.held


class BusyModel(ByLength):
    """A stand-in for a model shared with other calls, always decoding for one of them."""

    in_flight = 1


def test_a_busy_model_skips_the_pause_decode_and_waits_as_for_a_statement(make_session, synthesizer):
    question = speech(synthesizer, "전입신고는 어디서 하나요")
    start = 1.0 + greeting_s(make_session)
    audio = np.concatenate([silence(start), question, silence(6.0)])
    session = make_session(BusyModel([(0.5, "전입신고는 어디서 하나요?")]))
    run(session, audio)
    assert not events(session, "speculative_stt")
    (turn,) = [t for t in session.turns if t.trigger == "speech"]
    assert turn.latency.endpoint_ms >= CallConfig().endpoint.statement_hangover_ms
