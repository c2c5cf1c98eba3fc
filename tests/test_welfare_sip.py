"""Issue 16 over real SIP: ``SipDialer`` calling a real baresip softphone on 127.0.0.1 from a real SQLite
campaign. A welfare check-in asks about the remembered concern once the callee pressed 1 to say who they
are; the answering-machine detector hears a generated voicemail greeting with its beep (espeak-ng saying
the carrier's sentence, line noise) as a machine and never plays the script to it, and a real person's
recorded opening (``../shared/audio``) as a person. A COVID notice leaves its short message after the beep.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import numpy as np
import soundfile as sf
from sip_peers import Baresip, needs_baresip
from sqlalchemy import select
from test_outbound_sip import (  # noqa: F401 - fixtures used by name
    CALLEE,
    NOW,
    agent,
    campaign,
    endpoint,
    models,
    place,
    quiet_callee,
    the_attempt,
    uri_template,
)

from benchmarks import amd_set
from media.audio import resample
from outbound.runner import run_due
from outbound.schema import Alert, Attempt, Contact, WelfareMemory
from voicebot.sip.dialer import SipDialer

VOICEMAIL_KO = "고객이 전화를 받을 수 없어 삐 소리 후 소리샘으로 연결됩니다. 통화료가 부과됩니다."
PHONE_RATE = 8000


def remember_back_pain(factory) -> int:  # type: ignore[no-untyped-def]
    with factory.begin() as s:
        contact = s.scalars(select(Contact)).one()
        row = WelfareMemory(
            contact_id=contact.id,
            topic="health",
            value="concern",
            summary="허리가 아프다고",
            said="허리가 너무 아파요",
            follow_up=True,
            created_at=NOW - timedelta(days=3),
            updated_at=NOW - timedelta(days=3),
        )
        s.add(row)
        s.flush()
        return row.id


@needs_baresip
def test_the_follow_up_is_asked_after_the_callee_says_who_they_are(models, endpoint, tmp_path):  # noqa: F811
    """1 (it is me), 1 (better now), then 1 to each question: the follow-up answer is stored against the
    remembered concern and the health trend gets better."""
    phone = quiet_callee(tmp_path)
    factory = campaign(tmp_path, "welfare_check")
    memory_id = remember_back_pain(factory)
    dialer = SipDialer(endpoint, uri_template(phone), models.synthesizer, models.transcriber)
    try:
        report = place(factory, dialer, phone, [(1.5, "1"), (1.0, "1")] + [(1.0, "1")] * 5)
    finally:
        phone.close()
    assert report.outcomes == {"human": 1}
    attempt, alerts = the_attempt(factory)
    assert attempt.answers["identified"] is True and not alerts
    assert attempt.answers["follow_up"] == {
        "memory_id": memory_id,
        "topic": "health",
        "asked": True,
        "value": "fine",
    }
    steps = attempt.answers["steps"]
    assert list(steps)[:2] == ["follow_up_identify", "follow_up"]
    with factory() as s:
        answered = s.scalars(select(WelfareMemory).where(WelfareMemory.follows == memory_id)).one()
        assert answered.value == "fine" and answered.summary == "허리가 아프다고"
        assert s.get(WelfareMemory, memory_id).follow_up is False


def mic(tmp_path: Path, name: str, samples: np.ndarray, rate: int) -> Path:
    path = tmp_path / f"{name}.wav"
    padded = np.concatenate([samples, np.zeros(60 * rate, dtype=np.float32)])
    sf.write(path, resample(padded.astype(np.float32), rate, PHONE_RATE), PHONE_RATE)
    return path


@needs_baresip
def test_a_voicemail_greeting_with_a_beep_is_a_machine_and_a_person_is_a_person(
    models,  # noqa: F811
    endpoint,  # noqa: F811
    tmp_path,
    clips,  # the person is a real recording: skipped, as the other tests on them, when they are absent
):
    rate = amd_set.RATE
    said = models.synthesizer.synthesize(VOICEMAIL_KO, sample_rate=rate).samples
    rng = np.random.default_rng(16)
    greeting = np.concatenate(
        [amd_set.silence(0.4), amd_set.at_level(said, -20), amd_set.silence(0.4), amd_set.tone(1000, 0.5)]
    )
    greeting = greeting + amd_set.line_noise(rng, len(greeting), -58, False)
    person = amd_set.human_cuts()[0]  # a real recorded opening, one or two words
    spoken = np.concatenate([amd_set.silence(0.4), amd_set.at_level(person["samples"], -20)])

    results = {}
    covid = "date=3월 5일; place=중구 보건소; result=음성"
    cases = (
        ("voicemail", greeting, "welfare_check"),
        ("human", spoken, "welfare_check"),
        ("covid", greeting, "covid_notice"),
    )
    for label, samples, kind in cases:
        (tmp_path / label).mkdir()
        factory = campaign(tmp_path / label, kind, covid if kind == "covid_notice" else "")
        wav = mic(tmp_path, label, samples, rate)
        phone = Baresip(tmp_path / label / "baresip", wav, answer=True, user=CALLEE, mic_rate=PHONE_RATE)
        dialer = SipDialer(endpoint, uri_template(phone), models.synthesizer, models.transcriber)
        try:
            with ThreadPoolExecutor(1) as pool:
                running = pool.submit(run_due, factory, dialer, "w1", NOW)
                phone.wait_event("CALL_ESTABLISHED", 30)
                if label == "human":  # says hello, hears the bot begin, hangs up
                    time.sleep(6.0)
                    phone.command("hangup")
                report = running.result(timeout=120)
        finally:
            phone.close()
        with factory() as s:  # the call placed (a machine books a retry after it)
            attempt = s.scalars(select(Attempt).order_by(Attempt.id)).first()
            alerts = s.scalars(select(Alert)).all()
        results[label] = (report.outcomes, attempt.outcome, attempt.amd, alerts)
    outcomes, outcome, amd, alerts = results["voicemail"]
    assert outcome == "voicemail" and amd["outcome"] == "voicemail" and not alerts
    assert amd["message_left"] is False  # welfare check: hang up, try again later, no message
    outcomes, outcome, amd, alerts = results["human"]
    assert outcome == "human" and amd["outcome"] == "human" and not alerts
    outcomes, outcome, amd, alerts = results["covid"]  # COVID notice: a short message after the beep
    assert outcome == "voicemail" and amd["message_left"] is True and not alerts
    for label, (_, outcome, amd, _) in results.items():  # figures for the closing note, not asserted
        print(f"{label}: {outcome} ({amd['reason']}, decided at {amd['decided_s']} s)")
