"""Issue 18, done when: the same question gets the same answer on the phone, a browser call, web chat and
KakaoTalk. One server program (``create_app`` under uvicorn on 127.0.0.1 with SIP, WebRTC, web chat and
the KakaoTalk skill on, real PJSIP, aiortc, SQLite, the bundled dialog engine and espeak-ng) takes the same
conversations on all four channels, and every reply text is the one ``engine.new_session()`` gives when
driven directly with the same inputs:

- phone: a real SIP call from baresip (PCMU); keys are RFC 4733 digits (``sndcode``), questions are audio
  the softphone plays as its microphone (``ausrc`` switches it to the question's file), and the replies
  are read from the operators' live view of the call (``/api/calls/live``);
- browser call: an aiortc peer on the caller page's offer endpoint; keys on its data channel, questions
  as its Opus microphone, the replies from the page's transcript messages;
- web chat (``/api/chat``) and the KakaoTalk skill (``/kakao/skill``): typed questions, pressed buttons.

The conversations cover a keypad menu branch, a clarifying question answered by its choice (a key on the
phone, the button in chat), four knowledge-base answers, a request for an agent and an emergency; each
channel leaves a handoff record for both of the last two.

The one stand-in is Whisper. The questions are spoken by espeak-ng, whose Korean Whisper does not
recognise ("수도요금은 어떻게 내나요" came back as "www.sudo.youtube.com"), and there are no recordings of
them; so ``Prompter`` is told what the caller is about to say and returns it for the next utterance
it is asked to decode. Everything before it is real: the audio crosses the transport, the VAD endpoints
it and the call driver and session hand it over, once per question. Callers barge in: each key or
question comes a second after the bot's previous reply has begun (the replies are long; their texts are
what is compared).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np
import pytest
import soundfile as sf
import uvicorn

pytest.importorskip("aiortc", reason="aiortc not installed (browser calls)")

from sip_peers import Baresip, needs_baresip  # noqa: E402
from sip_peers import free_port as free_udp_port  # noqa: E402
from test_chat import SECRET, bot_texts, kakao, quick_labels, simple_texts, web_send, web_start  # noqa: E402
from test_server import free_port  # noqa: E402
from test_webrtc import Caller  # noqa: E402

from dialog import BotTurn, quick  # noqa: E402
from media.audio import float_to_pcm16, resample, silence  # noqa: E402
from media.stream import FrameQueue  # noqa: E402
from outbound import service, store  # noqa: E402
from stt.types import Segment, STTConfig, Transcript  # noqa: E402
from voicebot.server.app import create_app  # noqa: E402
from voicebot.server.config import load_config  # noqa: E402
from voicebot.sip.app import Models  # noqa: E402
from voicebot.webrtc.media import WEBRTC_FRAME, BotTrack  # noqa: E402

RATE = 16_000
BARGE_IN_S = 1.0  # after a reply begins; speech sooner than 0.5 s would be taken as the question going on
Step = tuple[str, str]  # ("key", digit) or ("say", question)

CONVERSATIONS: list[list[Step]] = [
    [
        ("key", "1"),  # the keypad menu: 교통
        ("say", "분실물"),  # a clarifying question: 택시 or 지하철?
        ("key", "2"),  # ... answered by its choice: 지하철 분실물
        ("say", "따릉이 요금이 얼마예요?"),  # knowledge-base answers
        ("say", "수도요금은 어떻게 내나요?"),
        ("say", "백신 접종 예약은 어떻게 하나요?"),
        ("say", "상담원 연결해 주세요"),  # a request for an agent
    ],
    [("say", "불이 났어요")],  # an emergency: 119 at once, handed to an agent
]


class Prompter:
    """Stand-in for Whisper: returns the question the test said the caller is about to speak, for the next
    utterance it is asked to decode ("" when none is due: nothing heard).

    ``in_flight`` is 1: the session takes the model as busy with another call and decodes each utterance
    once, at its end, instead of guessing at its pauses; so one spoken question is one decode."""

    name = "stand-in"
    config = STTConfig()
    in_flight = 1

    def __init__(self) -> None:
        self.due: deque[str] = deque()
        self.decoded: list[tuple[str, float]] = []  # (text, seconds of audio) per decode

    def expect(self, text: str) -> None:
        self.due.append(text)

    def transcribe(self, samples: np.ndarray, language: str | None = None, **_: Any) -> Transcript:
        text = self.due.popleft() if self.due else ""
        audio_s = len(samples) / RATE
        self.decoded.append((text, audio_s))
        sure = [Segment(0.0, audio_s, text, avg_logprob=-0.05, no_speech_prob=0.0, compression_ratio=1.0)]
        return Transcript(text, "ko", 1.0, audio_s, 0.0, self.name, segments=sure if text else [])


def direct(engine, steps: list[Step]) -> list[BotTurn]:
    """The dialog driven directly: the greeting, then one turn per key or question."""
    session = engine.new_session("direct")
    turns = [session.start()]
    for kind, value in steps:
        turns.append(session.on_dtmf(value) if kind == "key" else session.on_speech(value))
    return turns


def button(turn: BotTurn, digit: str) -> quick.QuickReply:
    """The button a text channel shows with ``turn`` for keypad ``digit``."""
    return next(q for q in quick.for_turn(turn, ended=False) if q.kind == "key" and q.value == digit)


# -- text channels ---------------------------------------------------------------------------------------


def web_chat(http: httpx.Client, steps: list[Step], turns: list[BotTurn]) -> list[str]:
    body = web_start(http)
    conversation, replies = body["conversation"]["id"], bot_texts(body)[-1:]
    for (kind, value), before in zip(steps, turns, strict=False):
        if kind == "key":
            pressed = button(before, value)
            assert pressed.id in [q["id"] for q in body["conversation"]["quick_replies"]]
            got = http.post(f"/api/chat/{conversation}/quick-replies", json={"id": pressed.id})
            assert got.status_code == 200, got.text
            body = got.json()
        else:
            body = web_send(http, conversation, value)
        replies.append(bot_texts(body)[-1])
    return replies


def kakao_talk(http: httpx.Client, user: str, steps: list[Step], turns: list[BotTurn]) -> list[str]:
    status, response = kakao(http, user, "시작")
    assert status == 200, response
    replies = simple_texts(response)[-1:]
    for (kind, value), before in zip(steps, turns, strict=False):
        if kind == "key":  # KakaoTalk sends a pressed quick reply back as its messageText
            label = button(before, value).label
            offered = {q["label"]: q for q in response["template"]["quickReplies"]}
            assert offered[label]["action"] == "message", quick_labels(response)
            status, response = kakao(http, user, offered[label]["messageText"])
        else:
            status, response = kakao(http, user, value)
        assert status == 200 and response["version"] == "2.0", response
        replies.append(simple_texts(response)[-1])
    return replies


# -- voice channels --------------------------------------------------------------------------------------


class Line(Protocol):
    """One call from the caller's side."""

    async def replies(self) -> list[str]: ...
    async def press(self, digit: str) -> None: ...
    async def say(self, question: str) -> None: ...
    async def hang_up(self) -> None: ...


async def talk(
    lines: list[Line], steps: list[Step], prompter: Prompter, timeout_s: float = 20
) -> list[list[str]]:
    """Goes through ``steps`` on every call at once, each step once the bot's previous reply has begun on
    all of them; the bot's replies on each. A question is said on every line at the same time, so the
    stand-in transcriber has the same words due for each."""

    async def replies_at_least(count: int) -> list[list[str]]:
        deadline = time.monotonic() + timeout_s
        while True:
            replies = [await line.replies() for line in lines]
            if all(len(r) >= count for r in replies):
                return replies
            assert time.monotonic() < deadline, f"reply {count} did not come: {replies}"
            await asyncio.sleep(0.05)

    await replies_at_least(1)
    for n, (kind, value) in enumerate(steps, start=2):
        await asyncio.sleep(BARGE_IN_S)
        for line in lines:
            if kind == "key":
                await line.press(value)
            else:
                prompter.expect(value)
                await line.say(value)
        await replies_at_least(n)
    replies = [await line.replies() for line in lines]
    for line in lines:
        await line.hang_up()
    return replies


class SipLine:
    """baresip calling the server; the replies as operators see the call live."""

    def __init__(self, phone: Baresip, http: httpx.AsyncClient, voices: dict[str, Path]):
        self.phone, self.http, self.voices = phone, http, voices
        self.seen: list[str] = []

    async def replies(self) -> list[str]:
        live = (await self.http.get("/api/calls/live")).json()
        calls = [c for c in live if c["transport"] == "sip"]
        assert len(calls) <= 1, live
        if calls:  # once the call is over it leaves the live view: keep what it last showed
            self.seen = [line["text"] for line in calls[0]["transcript"] if line["who"] == "bot"]
        return self.seen

    async def press(self, digit: str) -> None:
        self.phone.command("sndcode", digit)

    async def say(self, question: str) -> None:
        self.phone.command("ausrc", f"aufile,{self.voices[question]}")

    async def hang_up(self) -> None:
        self.phone.command("hangup")


class BrowserLine:
    """An aiortc caller on the caller page; its microphone plays each question when told to."""

    def __init__(self, caller: LiveCaller, microphone: FrameQueue, voices: dict[str, np.ndarray]):
        self.caller, self.microphone, self.voices = caller, microphone, voices

    async def replies(self) -> list[str]:
        return [m["text"] for m in self.caller.lines("bot")]

    async def press(self, digit: str) -> None:
        await self.caller.send({"type": "dtmf", "digit": digit})

    async def say(self, question: str) -> None:
        pcm = float_to_pcm16(resample(self.voices[question], RATE, 48_000))
        size = WEBRTC_FRAME * 2
        for k in range(0, len(pcm), size):
            self.microphone.put(pcm[k : k + size].ljust(size, b"\x00"))

    async def hang_up(self) -> None:
        await self.caller.send({"type": "hangup"})
        await self.caller.wait_for(lambda m: m.get("type") == "ended", 10)


class LiveCaller(Caller):
    """``test_webrtc.Caller`` with a microphone that stays silent until it is given a question to play."""

    def microphone_track(self) -> BotTrack:
        self.microphone_queue = FrameQueue(WEBRTC_FRAME * 2, max_silent_backlog=1_000_000)
        return BotTrack(self.microphone_queue)


async def voice_calls(
    workdir: Path, server: Server, steps: list[Step], prompter: Prompter, voices: dict[str, np.ndarray]
) -> tuple[list[str], list[str]]:
    """A phone call and a browser call taking ``steps`` side by side; the bot's replies on each."""
    workdir.mkdir(parents=True)
    files = {}
    for n, (question, samples) in enumerate(voices.items()):
        # the softphone hangs up when its file ends: each question is followed by long silence
        files[question] = workdir / f"question-{n}.wav"
        sf.write(files[question], np.concatenate([silence(0.1), samples, silence(40.0)]), RATE)
    quiet = workdir / "quiet.wav"
    sf.write(quiet, silence(60.0), RATE)
    phone = Baresip(workdir / "baresip", quiet)
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=server.operator, timeout=10) as http:
            phone.command("dial", server.sip_uri)
            await asyncio.to_thread(phone.wait_event, "CALL_ESTABLISHED", 10)
            async with LiveCaller(server.url, np.zeros(0, np.float32)) as caller:
                lines = [SipLine(phone, http, files), BrowserLine(caller, caller.microphone_queue, voices)]
                on_phone, in_browser = await talk(lines, steps, prompter)
            deadline = time.monotonic() + 10
            while (await http.get("/api/calls/live")).json():
                assert time.monotonic() < deadline, "the calls did not end"
                await asyncio.sleep(0.1)
    finally:
        phone.close()
    return on_phone, in_browser


# -- the server --------------------------------------------------------------------------------------------


class Server:
    """``create_app`` under uvicorn on 127.0.0.1 with all four channels on."""

    def __init__(self, tmp_path: Path, models: Models):
        db = f"sqlite:///{tmp_path / 'serve.db'}"
        store.upgrade(db)
        engine = store.make_engine(db)
        with store.session_factory(engine).begin() as s:
            self.operator = {"Authorization": f"Bearer {service.create_token(s, '상담사', 'operator')}"}
        engine.dispose()
        port, sip_port = free_port(), free_udp_port()
        environ = {
            "VOICEBOT_DB_URL": db,
            "VOICEBOT_PORT": str(port),
            "VOICEBOT_SIP_ENABLED": "true",
            "VOICEBOT_SIP_LISTEN": f"127.0.0.1:{sip_port}",
            "VOICEBOT_SIP_AGENT_URI": f"sip:agent@127.0.0.1:{free_udp_port()}",
            "VOICEBOT_SIP_HANDOFF_DIR": str(tmp_path / "handoffs"),
            "VOICEBOT_WEBRTC_LOOPBACK": "true",
            "VOICEBOT_KAKAO_ENABLED": "true",
            "VOICEBOT_KAKAO_SECRET": SECRET,
            "VOICEBOT_OUTBOUND_DIALER": "none",
        }
        app = create_app(load_config(None, environ), models=models)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="test-serve", daemon=True)
        self.url = f"http://127.0.0.1:{port}"
        self.sip_uri = f"sip:bot@127.0.0.1:{sip_port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


# -- the test ----------------------------------------------------------------------------------------------


@needs_baresip
def test_the_same_question_gets_the_same_answer_on_all_four_channels(tmp_path: Path, engine, synthesizer):
    prompter = Prompter()
    voices = {
        value: synthesizer.synthesize(value, sample_rate=RATE).samples
        for steps in CONVERSATIONS
        for kind, value in steps
        if kind == "say"
    }
    with Server(tmp_path, Models(engine, prompter, synthesizer)) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for n, steps in enumerate(CONVERSATIONS):
                turns = direct(engine, steps)
                expected = [turn.reply for turn in turns]
                assert web_chat(http, steps, turns) == expected, steps
                assert kakao_talk(http, f"kakao-user-{n}", steps, turns) == expected, steps
                decodes = len(prompter.decoded)
                phone, browser = asyncio.run(
                    voice_calls(tmp_path / f"call-{n}", server, steps, prompter, voices)
                )
                assert phone == expected, steps
                assert browser == expected, steps
                # each question reached the stand-in once per call, as an utterance of about its length
                spoken = [value for kind, value in steps if kind == "say" for _call in ("sip", "webrtc")]
                heard = prompter.decoded[decodes:]
                assert [text for text, _ in heard] == spoken, heard
                for text, audio_s in heard:
                    assert abs(audio_s - len(voices[text]) / RATE) < 1.5, (text, audio_s)
    # and every channel handed both conversations to an agent, for the same reason
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "handoffs").glob("*.json")]
    assert sorted((r["transport"], r["reason"]) for r in records) == [
        (transport, reason)
        for transport in ("chat", "kakao", "sip", "webrtc")
        for reason in ("agent_request", "emergency")
    ]
