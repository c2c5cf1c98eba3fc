"""SMS (issue 18): the pluggable sender and the "문자로 받아보시겠어요?" offer on phone calls.

The outbox sender writes one 0600 JSON file per message in a 0700 folder; the HTTP-gateway sender is
tried only against a stub on 127.0.0.1. A phone call offers the text once, after its first answer, and
only when a sender is configured and the caller's number is known; the number is logged masked.
"""

from __future__ import annotations

import json
import logging
import stat
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from dialog import prompts
from media.audio import PIPELINE_RATE, Audio, iter_frames, silence
from stt.types import Segment, Transcript
from voicebot.call.session import CallConfig, CallSession
from voicebot.call.sms import HttpGatewaySender, OutboxSender, SmsError
from voicebot.server.config import ConfigError, SmsSection, build_sms_sender, load_config

NUMBER = "010-2345-6789"
QUESTION = "수도요금 납부 방법 알려주세요"


def outbox_files(folder) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


# -- senders -----------------------------------------------------------------------------------------


def test_outbox_sender_writes_one_private_file_per_message(tmp_path, caplog):
    folder = tmp_path / "outbox"
    sender = OutboxSender(folder, sender="02-120")
    with caplog.at_level(logging.INFO):
        receipt = sender.send("+82 10-2345-6789", "수도요금 안내입니다.")
        sender.send(NUMBER, "두 번째 안내입니다.")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(folder.glob("*.json"))
    assert len(files) == 2 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    first = outbox_files(folder)[0]
    assert first["to"] == "01023456789" and first["text"] == "수도요금 안내입니다."
    assert first["id"] == receipt.message_id and first["sender"] == "02-120"
    assert receipt.to_masked == "*******6789" and receipt.backend == "outbox"
    assert "2345" not in caplog.text and "*******6789" in caplog.text


@pytest.mark.parametrize("to,text", [("", "안내"), ("12", "안내"), ("abc", "안내"), (NUMBER, "   ")])
def test_outbox_sender_refuses_what_it_cannot_send(tmp_path, to, text):
    with pytest.raises(SmsError):
        OutboxSender(tmp_path / "outbox").send(to, text)
    assert not list((tmp_path).rglob("*.json"))


def test_a_long_answer_is_cut_to_an_lms(tmp_path):
    OutboxSender(tmp_path).send(NUMBER, "가" * 5000)
    (message,) = outbox_files(tmp_path)
    assert len(message["text"].encode("utf-8")) <= 2000 and message["text"].endswith("…")


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[dict, str | None]] = []
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((json.loads(body), self.headers.get("Authorization")))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    _Gateway.received, _Gateway.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/send", _Gateway
    server.shutdown()
    server.server_close()


def test_http_gateway_sender_posts_json_with_the_token(gateway):
    url, stub = gateway
    receipt = HttpGatewaySender(url, token="s3cret", timeout_s=2).send(NUMBER, "수도요금 안내입니다.")
    ((payload, auth),) = stub.received
    assert payload["to"] == "01023456789" and payload["text"] == "수도요금 안내입니다."
    assert payload["id"] == receipt.message_id and auth == "Bearer s3cret"
    assert receipt.backend == "http"


def test_http_gateway_errors_are_sms_errors(gateway):
    url, stub = gateway
    stub.status = 500
    with pytest.raises(SmsError):
        HttpGatewaySender(url, timeout_s=2).send(NUMBER, "안내")
    with pytest.raises(SmsError):  # nothing listens on port 9 of this machine
        HttpGatewaySender("http://127.0.0.1:9/send", timeout_s=2).send(NUMBER, "안내")


def test_sms_is_off_by_default_and_configured_in_the_serve_config(tmp_path):
    assert build_sms_sender(load_config(None, environ={}).sms) is None
    config = load_config(
        None,
        environ={"VOICEBOT_SMS_ENABLED": "true", "VOICEBOT_SMS_OUTBOX_DIR": str(tmp_path / "o")},
    )
    assert isinstance(build_sms_sender(config.sms), OutboxSender)
    http = SmsSection(enabled=True, backend="http", url="https://sms.example/send", timeout_s=3.0)
    sender = build_sms_sender(http, environ={"VOICEBOT_SMS_TOKEN": "t"})
    assert isinstance(sender, HttpGatewaySender) and sender.token == "t" and sender.timeout_s == 3.0
    with pytest.raises(ConfigError):
        load_config(None, environ={"VOICEBOT_SMS_ENABLED": "true", "VOICEBOT_SMS_BACKEND": "http"})
    with pytest.raises(ConfigError):
        load_config(None, environ={"VOICEBOT_SMS_BACKEND": "pigeon"})


# -- the dialog's offer ------------------------------------------------------------------------------


def answered(engine, offer: bool = True):
    session = engine.new_session("sms")
    if offer:
        session.enable_sms_offer()
    session.start()
    return session, session.on_speech(QUESTION)


def test_the_answer_is_offered_by_text_and_yes_carries_it(engine):
    session, turn = answered(engine)
    assert turn.action == "answer" and turn.reply.endswith(prompts.SMS_OFFER)
    assert session.state == "sms_offer" and turn.expects == "yes_no"
    body = turn.reply.removesuffix(" " + prompts.SMS_OFFER)
    accepted = session.on_speech("네")
    assert accepted.sms_text == prompts.SMS_HEADER + body
    assert accepted.reply.startswith(prompts.SMS_SENT) and session.state == "follow_up"
    again = session.on_speech("상수도 단수 언제 끝나요")  # offered once per call
    assert prompts.SMS_OFFER not in again.reply and again.sms_text is None


@pytest.mark.parametrize("answer", ["아니요", "2번", "#2"])
def test_no_or_key_2_goes_on_without_a_text(engine, answer):
    session, _ = answered(engine)
    turn = session.on_dtmf("2") if answer == "#2" else session.on_speech(answer)
    assert turn.sms_text is None and session.state == "follow_up"
    assert turn.reply == "네, " + prompts.FOLLOW_UP


def test_key_1_accepts_and_silence_declines(engine):
    session, _ = answered(engine)
    assert session.on_dtmf("1").sms_text
    session, _ = answered(engine)
    turn = session.on_no_input()
    assert turn.sms_text is None and session.state == "follow_up"


def test_a_new_question_instead_is_answered(engine):
    session, _ = answered(engine)
    turn = session.on_speech("주차 위반 과태료는 어떻게 내나요")
    assert turn.sms_text is None and session.state != "sms_offer"


def test_no_offer_unless_enabled(engine):
    session, turn = answered(engine, offer=False)
    assert prompts.SMS_OFFER not in turn.reply and turn.reply.endswith(prompts.FOLLOW_UP)


# -- a phone call ------------------------------------------------------------------------------------


class Hears:
    """Stand-in transcriber: every utterance reads as ``text``."""

    in_flight = 0  # no other calls share this model

    def __init__(self, text: str) -> None:
        self.text = text

    def transcribe(self, samples, *args, **kwargs) -> Transcript:
        audio_s = len(samples) / PIPELINE_RATE
        sure = Segment(0.0, audio_s, self.text, avg_logprob=-0.1, no_speech_prob=0.0, compression_ratio=1.0)
        return Transcript(self.text, "ko", 1.0, audio_s, 0.0, "stand-in", segments=[sure])


def speak_question(session: CallSession, synthesizer) -> None:
    """The caller asks one question (espeak-ng speech, heard as ``QUESTION``) and waits for the answer."""
    speech = synthesizer.synthesize(QUESTION, sample_rate=PIPELINE_RATE).samples
    caller = np.concatenate([silence(1.0), np.asarray(speech, dtype=np.float32), silence(3.0)])
    for frame in iter_frames(Audio(caller, PIPELINE_RATE), 20):
        session.on_caller_frame(frame)
        if any(t.trigger == "speech" for t in session.turns):
            break


def test_a_phone_call_texts_the_answer_to_the_caller(engine, synthesizer, tmp_path, caplog):
    outbox = tmp_path / "outbox"
    session = CallSession(
        engine,
        Hears(QUESTION),
        synthesizer,
        CallConfig(),
        call_id="sms1",
        sms=OutboxSender(outbox),
        caller_number="01023456789",
    )
    with caplog.at_level(logging.INFO):
        session.start(0.0)
        speak_question(session, synthesizer)
        answer = next(t for t in session.turns if t.trigger == "speech")
        assert answer.bot_text.endswith(prompts.SMS_OFFER)
        session.on_dtmf("1", 30.0)
    (message,) = outbox_files(outbox)
    assert message["to"] == "01023456789"
    assert message["text"] == prompts.SMS_HEADER + answer.bot_text.removesuffix(" " + prompts.SMS_OFFER)
    record = session.turns[-1]
    assert record.sms == {"to": "*******6789", "ok": True, "id": message["id"], "backend": "outbox"}
    assert record.as_dict()["sms"]["to"] == "*******6789"
    assert "01023456789" not in caplog.text and "2345" not in caplog.text


def test_a_failed_text_is_said_and_logged(engine, synthesizer, tmp_path):
    class Broken:
        def send(self, to: str, text: str):
            raise SmsError("gateway down")

    session = CallSession(
        engine, Hears(QUESTION), synthesizer, CallConfig(), call_id="sms2", sms=Broken(), caller_number=NUMBER
    )
    session.start(0.0)
    speak_question(session, synthesizer)
    session.on_dtmf("1", 30.0)
    record = session.turns[-1]
    assert record.bot_text.startswith(prompts.SMS_FAILED) and record.sms["ok"] is False


def test_no_offer_on_a_call_without_the_callers_number(engine, synthesizer, tmp_path):
    session = CallSession(
        engine, Hears(QUESTION), synthesizer, CallConfig(), call_id="sms3", sms=OutboxSender(tmp_path)
    )
    session.start(0.0)
    speak_question(session, synthesizer)
    answer = next(t for t in session.turns if t.trigger == "speech")
    assert prompts.SMS_OFFER not in answer.bot_text


@pytest.mark.parametrize(
    ("remote", "mobile"),
    [
        ('"홍길동" <sip:01023456789@10.0.0.5>;tag=a1', "01023456789"),
        ("<sip:+821023456789@pbx.example.org;user=phone>", "01023456789"),
        ("<tel:+82-10-2345-6789>", "01023456789"),
        ("<sip:0221331234@pbx.example.org>", None),  # a landline cannot take a text
        ("<sip:anonymous@anonymous.invalid>", None),  # number withheld
        ("<sip:sipp@127.0.0.1:5061>", None),
        ("", None),
    ],
)
def test_the_callers_mobile_number_comes_from_the_sip_from_header(remote, mobile):
    from voicebot.call.sms import mobile_number
    from voicebot.sip.privacy import uri_user

    assert mobile_number(uri_user(remote)) == mobile


def test_the_ars_session_factory_offers_texts_where_the_caller_has_a_mobile(engine, synthesizer, tmp_path):
    """What ``voicebot serve`` hands the SIP endpoint: one factory; the endpoint passes the number it
    found in the From header (None for withheld numbers, landlines and browser calls)."""
    from voicebot.sip.app import Models, session_factory

    outbox = tmp_path / "outbox"
    make = session_factory(Models(engine, Hears(QUESTION), synthesizer), sms=OutboxSender(outbox))
    known = make("sip-1", "01023456789")
    known.start(0.0)
    speak_question(known, synthesizer)
    assert next(t for t in known.turns if t.trigger == "speech").bot_text.endswith(prompts.SMS_OFFER)
    known.on_dtmf("1", 30.0)
    assert [m["to"] for m in outbox_files(outbox)] == ["01023456789"]
    withheld = make("sip-2")
    withheld.start(0.0)
    speak_question(withheld, synthesizer)
    assert prompts.SMS_OFFER not in next(t for t in withheld.turns if t.trigger == "speech").bot_text
