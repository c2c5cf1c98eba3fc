"""Answering-machine detection (AMD) for outbound calls: who picked up, from the first seconds after answer.

Offline and Korean first. :class:`AnsweringMachineDetector` is fed the callee's 20 ms 16 kHz frames from
the moment the call is answered and combines three signals:

* **Timing**, in the manner of Asterisk's ``app_amd`` (the parameters of :class:`AmdConfig`): a person
  picks up and says a short greeting ("여보세요", "네, 여보세요") and then waits for the caller, so a
  greeting of at most ``greeting_s`` and ``max_words`` words followed by ``after_greeting_silence_s`` of
  silence is a **human**; a greeting that goes on longer than ``greeting_s`` (or has more words) is a
  **machine**; nothing at all for ``initial_silence_s``, or no decision within ``total_analysis_s``, is
  **unknown** (Asterisk says MACHINE for a silent line; here a silent line gets the script, because many
  older people pick up and wait silently). Words are voiced runs of ``min_word_s`` apart by
  ``between_words_silence_s``, on webrtcvad (``media.vad``).
* **Words**: the call's transcriber (Whisper) transcribes the greeting at each pause and every
  ``transcribe_every_s`` of continuous speech, in a background thread for a live call (``background=True``)
  so the timing rules never wait on it, and the text is matched against Korean carrier and voicemail
  phrases (:data:`PHRASES`): 소리샘 / 음성사서함 / 삐 소리 후 → **voicemail**, 없는 번호 / 결번 / 전원이
  꺼져 있어 / 연결이 되지 않아 → **carrier_message**, 용건 / 통화 목적 / 빅스비 텍스트콜 → **screened**. A
  phrase overrides the timing (a short recorded "안녕하세요" then a pause would otherwise pass for a person).
* **The beep** (``media.beep``): a steady 400-2,000 Hz tone is a voicemail's cue, so a beep decides a
  machine at once and its end is when a message may start (:attr:`AnsweringMachineDetector.message_from_s`).

A machine is decided as soon as the timing or a phrase says so (for a carrier or voicemail announcement
that is about two seconds into it, well before the beep); *which* machine may take a little longer: a
phrase that names it, else the beep (voicemail), else the end of the announcement with no beep or the far
end hanging up (a carrier message). A keypad digit is a person (``on_dtmf``).

Everything is measured in stream time (seconds since answer). With ``background=False`` a transcription
runs in the caller's thread but its result is only used from ``start + its measured compute time`` on,
as if it had run alongside: the offline benchmark (``python -m benchmarks.amd``) thereby reports the
decision times a live call would see.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
import unicodedata
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np

from media.audio import AudioFrame
from media.beep import BeepConfig, BeepDetector, BeepEnd, BeepStart
from media.vad import create_vad

log = logging.getLogger(__name__)

AmdOutcome = Literal["human", "voicemail", "carrier_message", "screened", "unknown"]
AMD_OUTCOMES: tuple[str, ...] = ("human", "voicemail", "carrier_message", "screened", "unknown")
MACHINES: tuple[str, ...] = ("voicemail", "carrier_message", "screened")


@dataclass(frozen=True)
class AmdConfig:
    """The detector's parameters (seconds). Asterisk ``app_amd``'s defaults are given where ours differ;
    a campaign may set any of them (``answering_machine.detector`` in its script)."""

    initial_silence_s: float = 2.5  # nothing heard this long after answer: unknown (the script runs)
    greeting_s: float = 1.8  # more voiced time is a machine (Asterisk 1.5: "네, 여보세요?" runs 1.2-1.6 s)
    after_greeting_silence_s: float = 0.8  # silence after a short greeting: a person waiting for us
    total_analysis_s: float = 5.0  # undecided after this: unknown
    min_word_s: float = 0.1  # a voiced run at least this long is a word
    between_words_silence_s: float = (
        0.06  # an unvoiced run at least this long separates words (Asterisk 0.05)
    )
    max_words: int = 4  # more words than this: a machine (Asterisk: 2 or more; "네, 여보세요?" is often 3)
    vad_aggressiveness: int = 2
    words: bool = True  # match the transcribed greeting against the Korean phrases
    transcribe_every_s: float = 1.0  # during continuous speech
    word_pause_s: float = 0.25  # a pause this long sends the greeting so far to the transcriber
    words_grace_s: float = 0.3  # how long a human decision waits for a transcription still running
    message_end_silence_s: float = 1.5  # a machine's silence this long without a beep: its message ended
    max_message_s: float = 30.0  # the longest announcement waited for (then: voicemail)
    beep_min_ms: int = 150
    beep_low_hz: float = 400.0
    beep_high_hz: float = 2_000.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if value < 0:
                raise ValueError(f"answering machine detector: {f.name} must not be negative")
        if self.vad_aggressiveness not in (0, 1, 2, 3):
            raise ValueError("answering machine detector: vad_aggressiveness must be 0, 1, 2 or 3")
        if not 0 < self.beep_low_hz < self.beep_high_hz:
            raise ValueError("answering machine detector: beep_low_hz must be below beep_high_hz")

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> AmdConfig:
        """From a campaign's settings; unknown names and wrong types raise ``ValueError`` naming them."""
        values = dict(values or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"answering machine detector: unknown setting(s) {', '.join(unknown)}")
        for name, value in values.items():
            kind = known[name].type
            if kind == "bool" and not isinstance(value, bool):
                raise ValueError(f"answering machine detector: {name} must be true or false")
            if kind in ("float", "int") and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ValueError(f"answering machine detector: {name} must be a number")
            if kind == "int" and int(value) != value:
                raise ValueError(f"answering machine detector: {name} must be a whole number")
        return cls(**values)

    def beep_config(self) -> BeepConfig:
        return BeepConfig(
            low_hz=self.beep_low_hz, high_hz=self.beep_high_hz, min_duration_ms=self.beep_min_ms
        )


@dataclass(frozen=True)
class Phrase:
    text: str  # as matched: spaces and punctuation removed
    outcome: str  # voicemail | carrier_message | screened
    final: bool = (
        True  # False: the announcement may still turn into a voicemail ("전원이 꺼져 있어 … 소리샘")
    )


def _phrases(outcome: str, final: bool, *texts: str) -> list[Phrase]:
    return [Phrase(_bare(t), outcome, final) for t in texts]


def _bare(text: str) -> str:
    """Hangul, letters and digits only: Whisper's spacing and punctuation vary from one decode to the next."""
    return "".join(c for c in unicodedata.normalize("NFC", text) if unicodedata.category(c)[0] in "LN")


# What Korean carriers' announcements, network voicemail (SKT/LG U+ 소리샘, KT 음성사서함) and call
# screening say, as fragments that survive Whisper's spacing. Order matters only between outcomes of one
# match: screening first, then a number not in service, then voicemail, then the other carrier messages.
PHRASES: tuple[Phrase, ...] = tuple(
    _phrases(
        "screened", True, "통화 목적", "용건을", "용건 을", "누구신지", "성함과 용건", "텍스트콜", "빅스비"
    )
    + _phrases("screened", True, "전화 받으신 분께", "대신 받", "전달해 드리")
    + _phrases(
        "carrier_message", True, "없는 번호", "결번", "번호가 없", "번호를 다시 확인", "확인하시고 다시"
    )
    + _phrases("carrier_message", True, "사용이 정지", "착신이 정지", "착신 정지", "수신이 불가", "발신 전용")
    + _phrases("voicemail", True, "소리샘", "음성사서함", "음성 사서함", "사서함", "삐 소리", "삐소리")
    + _phrases(
        "voicemail", True, "메시지를 남", "메세지를 남", "음성 메시지", "녹음해", "녹음하", "받을 수 없"
    )
    + _phrases("voicemail", True, "부재중", "자리에 없", "통화료가 부과")
    + _phrases(
        "carrier_message", False, "전원이 꺼져", "꺼져 있", "연결이 되지 않", "연결되지 않", "통화가 중지"
    )
    + _phrases("carrier_message", False, "지금 거신 전화", "지금 거신 번호", "거신 번호", "고객의 요청")
)


def match_phrases(text: str) -> list[Phrase]:
    """The known phrases in ``text``, in :data:`PHRASES` order."""
    bare = _bare(text)
    return [p for p in PHRASES if p.text and p.text in bare]


def classify_text(text: str) -> Phrase | None:
    """The phrase that names what answered, or None when the text names no machine. A final phrase wins
    over a tentative one ("전원이 꺼져 있어 … 소리샘으로 연결됩니다" is a voicemail)."""
    found = match_phrases(text)
    final = [p for p in found if p.final]
    return (final or found or [None])[0]


@dataclass
class Detection:
    """What the detector decided, and how. ``decided_s``: when the call was known to be a person, a machine
    or undecidable (the bot may act from then on); ``typed_s``: when ``outcome`` (which machine) was final."""

    outcome: str  # human | voicemail | carrier_message | screened | unknown
    reason: str  # after_greeting_silence | long_greeting | max_words | phrase | beep | dtmf | initial_silence
    #            | max_time; for the kind of machine: phrase | beep | message_end | hangup | long_message
    decided_s: float
    typed_s: float | None = None
    type_reason: str | None = None
    phrase: str | None = None
    text: str = ""  # the last transcript of the greeting
    greeting_s: float = 0.0  # from the first to the last voiced frame
    voiced_s: float = 0.0
    words: int = 0
    beep_s: float | None = None  # start of the beep
    beep_hz: float | None = None
    message_from_s: float | None = None  # a message may be recorded from here (machine)
    transcripts: int = 0
    stt_s: float = 0.0  # compute spent transcribing

    @property
    def machine(self) -> bool:
        return self.outcome in MACHINES

    @property
    def final(self) -> bool:
        return self.typed_s is not None

    def as_dict(self, *, with_text: bool = True) -> dict[str, Any]:
        out = asdict(self)
        for key in ("decided_s", "typed_s", "greeting_s", "voiced_s", "beep_s", "message_from_s", "stt_s"):
            if out[key] is not None:
                out[key] = round(out[key], 2)
        if not with_text:
            out.pop("text")
        return out


@dataclass
class _Job:
    submitted_s: float
    audio_end_s: float
    future: concurrent.futures.Future | None = None
    text: str | None = None
    ready_s: float | None = None  # stream time from which the text may be used (virtual clock)
    elapsed_s: float = 0.0


class _Words:
    """The call's transcriber, one decode at a time: in a background thread (live) or inline, its result
    held back for the measured compute time (offline)."""

    def __init__(self, transcriber: Any, language: str, background: bool):
        self.transcriber = transcriber
        self.language = language
        self.background = background
        self._pool = (
            concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="amd-stt") if background else None
        )
        self.job: _Job | None = None
        self.done: list[_Job] = []
        self.stt_s = 0.0

    def _decode(self, samples: np.ndarray) -> tuple[str, float]:
        started = time.perf_counter()
        try:
            text = self.transcriber.transcribe(samples, language=self.language).text
        except Exception as exc:  # a failed decode only loses the words: the timing still decides
            log.error("AMD transcription failed: %s", exc)
            text = ""
        return text or "", time.perf_counter() - started

    @property
    def busy(self) -> bool:
        return self.job is not None

    def submit(self, samples: np.ndarray, now_s: float, audio_end_s: float) -> None:
        job = _Job(now_s, audio_end_s)
        if self._pool is not None:
            job.future = self._pool.submit(self._decode, samples.copy())
        else:
            job.text, job.elapsed_s = self._decode(samples)
            job.ready_s = now_s + job.elapsed_s
        self.job = job

    def poll(self, now_s: float) -> _Job | None:
        """The running job's result once it may be used, else None."""
        job = self.job
        if job is None:
            return None
        if job.future is not None:
            if not job.future.done():
                return None
            job.text, job.elapsed_s = job.future.result()
            job.ready_s = now_s
        elif now_s < (job.ready_s or 0.0):
            return None
        self.job = None
        self.stt_s += job.elapsed_s
        self.done.append(job)
        return job

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class AnsweringMachineDetector:
    """One call's detector. ``process(frame)`` for every caller frame from answer on; ``decision`` is set
    once decided and ``decision.typed_s`` once the outcome is final. Not thread-safe: the call's thread
    alone feeds it (the background transcription only touches its own job)."""

    def __init__(
        self,
        config: AmdConfig = AmdConfig(),
        transcriber: Any = None,
        *,
        language: str = "ko",
        background: bool = False,
        frame_ms: int = 20,
    ):
        self.config = config
        self.frame_s = frame_ms / 1000
        self._vad = create_vad("webrtc", config.vad_aggressiveness)
        self._beep = BeepDetector(config.beep_config())
        self._words = (
            _Words(transcriber, language, background) if transcriber is not None and config.words else None
        )
        self.decision: Detection | None = None
        self.now_s = 0.0
        self._t0: float | None = None  # stream time of the first frame (the answer)
        self._audio: list[bytes] = []  # every frame since answer, for the transcriber
        self._words_open = self._words is not None
        self._first_voice_s: float | None = None
        self._last_voice_s: float | None = None
        self._voiced_s = 0.0
        self._run_s = 0.0  # current voiced run
        self._gap_s = 0.0  # current unvoiced run
        self._words_count = 0
        self._in_word = False
        self._human_at: float | None = None  # the timing said human here; waiting for the words
        self._text = ""
        self._found: list[Phrase] = []  # phrases heard so far
        self._last_submit_end = 0.0
        self._voiced_since_submit = 0.0
        self._beep_start: BeepStart | None = None
        self._beep_end: BeepEnd | None = None

    # -- input ---------------------------------------------------------------------------------------

    @property
    def decided(self) -> bool:
        return self.decision is not None

    @property
    def final(self) -> bool:
        return self.decision is not None and self.decision.final

    @property
    def message_from_s(self) -> float | None:
        """For a machine: when a message may be recorded (the beep's end, or the end of its greeting)."""
        return self.decision.message_from_s if self.decision is not None else None

    def process(self, frame: AudioFrame) -> Detection | None:
        """One caller frame; returns the decision when this frame made it (or made it final), else None."""
        before = (self.decision is not None, self.final, self.message_from_s)
        self.now_s = frame.end_s
        if self._t0 is None:
            self._t0 = frame.start_s
        self._audio.append(frame.pcm)
        voiced = self._vad.is_speech(frame)
        for event in self._beep.process(frame):
            if isinstance(event, BeepStart):
                self._beep_start = event
            else:
                self._beep_end = event
        self._track(voiced)
        if self._words is not None and self._words_open:
            job = self._words.poll(self.now_s)
            if job is not None:
                self._heard(job.text or "")
            self._maybe_transcribe(voiced)
        if self.decision is None:
            self._decide()
        if self.decision is not None and self.decision.machine:
            self._type_machine()
        if self.decision is not None and (not self.decision.machine or self.final):
            self._stop_words()
        after = (self.decision is not None, self.final, self.message_from_s)
        return self.decision if after != before else None

    def on_dtmf(self, now_s: float) -> Detection | None:
        """A key pressed by the callee: a person (machines press no keys)."""
        if self.decision is None:
            self._set("human", "dtmf", now_s, typed=True)
            self._stop_words()
            return self.decision
        return None

    def hangup(self, now_s: float) -> Detection | None:
        """The far end hung up. Undecided: nothing is decided (the dialer calls it hung up early); a machine
        not yet typed was an announcement that ends the call (a carrier message) unless its words said
        which machine it was."""
        decision = self.decision
        self._stop_words()
        if decision is None or not decision.machine or decision.final:
            return None
        phrase = self._phrase()
        if phrase is not None:
            self._type(phrase.outcome, "phrase", now_s)
        else:
            self._type("carrier_message", "hangup", now_s)
        return decision

    def close(self) -> None:
        self._stop_words()

    # -- internals -----------------------------------------------------------------------------------

    def _track(self, voiced: bool) -> None:
        """Asterisk's counting: a voiced run of ``min_word_s`` (gaps under ``between_words_silence_s``
        bridged) is a word; the greeting's length is its voiced time."""
        cfg, step = self.config, self.frame_s
        if not voiced:
            self._gap_s += step
            return
        if self._gap_s >= cfg.between_words_silence_s - 1e-9:
            self._run_s, self._in_word = 0.0, False  # a new run
        self._gap_s = 0.0
        self._run_s += step
        if not self._in_word and self._run_s >= cfg.min_word_s - 1e-9:
            self._in_word = True
            self._words_count += 1
            if self._first_voice_s is None:
                self._first_voice_s = self.now_s - self._run_s
            self._voiced_s += self._run_s - step  # the run's frames before it counted as a word
            self._voiced_since_submit += self._run_s - step
        if self._in_word:
            self._voiced_s += step
            self._voiced_since_submit += step
            self._last_voice_s = self.now_s

    @property
    def _greeting_s(self) -> float:
        if self._first_voice_s is None or self._last_voice_s is None:
            return 0.0
        return self._last_voice_s - self._first_voice_s

    @property
    def _silence_s(self) -> float:
        """Silence since the last voiced frame (since answer when nothing was voiced)."""
        return self.now_s - (self._last_voice_s if self._last_voice_s is not None else 0.0)

    def _samples(self, from_s: float) -> np.ndarray:
        first = max(0, int(round((from_s - (self._t0 or 0.0)) / self.frame_s)))
        pcm = b"".join(self._audio[first:])
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0

    def _maybe_transcribe(self, voiced: bool) -> None:
        words, cfg = self._words, self.config
        if words is None or words.busy or self._first_voice_s is None:
            return
        new_speech = self._voiced_since_submit >= 0.2
        paused = not voiced and self._silence_s >= cfg.word_pause_s
        running = self.now_s - max(self._last_submit_end, self._first_voice_s) >= cfg.transcribe_every_s
        if not new_speech or not (paused or running):
            return
        start = max(0.0, self._first_voice_s - 0.3)
        if self.now_s - start > 25.0:  # Whisper's window: the latest 25 s
            start = self.now_s - 25.0
        words.submit(self._samples(start), self.now_s, self.now_s)
        self._last_submit_end = self.now_s
        self._voiced_since_submit = 0.0

    def _heard(self, text: str) -> None:
        self._text = text.strip()
        for phrase in match_phrases(text):
            if phrase not in self._found:
                self._found.append(phrase)
        if self.decision is not None:
            self.decision.text = self._text
            self.decision.transcripts = len(self._words.done) if self._words else 0

    def _phrase(self) -> Phrase | None:
        final = [p for p in self._found if p.final]
        return (final or self._found or [None])[0]

    def _typed_by_words(self) -> bool:
        return self._phrase() is not None

    def _set(self, outcome: str, reason: str, now_s: float, *, typed: bool) -> None:
        phrase = self._phrase()
        self.decision = Detection(
            outcome,
            reason,
            round(now_s, 3),
            phrase=phrase.text if phrase is not None and outcome in MACHINES else None,
            text=self._text,
            greeting_s=round(self._greeting_s, 3),
            voiced_s=round(self._voiced_s, 3),
            words=self._words_count,
            transcripts=len(self._words.done) if self._words else 0,
        )
        if typed:
            self.decision.typed_s = round(now_s, 3)
            self.decision.type_reason = reason

    def _decide(self) -> None:
        cfg, now = self.config, self.now_s
        phrase = self._phrase()
        if phrase is not None:
            self._set(phrase.outcome, "phrase", now, typed=False)
            return
        if self._beep_start is not None:
            self._set("voicemail", "beep", now, typed=False)
            return
        if self._first_voice_s is None:
            if now >= cfg.initial_silence_s - 1e-9:
                self._set("unknown", "initial_silence", now, typed=True)
            return
        if self._words_count > cfg.max_words:
            self._set("voicemail", "max_words", now, typed=False)
            return
        if self._voiced_s > cfg.greeting_s:
            self._set("voicemail", "long_greeting", now, typed=False)
            return
        if self._silence_s >= cfg.after_greeting_silence_s - 1e-9:
            if self._human_at is None:
                self._human_at = now
            waiting = self._words is not None and self._words.busy
            if not waiting or now - self._human_at >= cfg.words_grace_s - 1e-9:
                self._set("human", "after_greeting_silence", now, typed=True)
            return
        self._human_at = None  # speech again: the greeting goes on
        if now >= cfg.total_analysis_s - 1e-9:
            self._set("unknown", "max_time", now, typed=True)

    def _type(self, outcome: str, reason: str, now_s: float) -> None:
        decision = self.decision
        assert decision is not None
        phrase = self._phrase()
        decision.outcome = outcome
        decision.typed_s = round(now_s, 3)
        decision.type_reason = reason
        decision.phrase = phrase.text if phrase is not None else None
        decision.text = self._text

    def _type_machine(self) -> None:
        """After a machine decision: which machine, and when a message may start."""
        decision, cfg, now = self.decision, self.config, self.now_s
        assert decision is not None
        beep = self._beep_end
        decision.greeting_s = round(self._greeting_s, 3)
        decision.voiced_s = round(self._voiced_s, 3)
        decision.words = self._words_count
        if self._beep_start is not None and decision.beep_s is None:
            decision.beep_s = round(self._beep_start.time_s, 3)
            decision.beep_hz = self._beep_start.frequency_hz
        if decision.message_from_s is None:
            if beep is not None:
                decision.message_from_s = round(beep.time_s, 3)
            elif self._beep_start is None and self._silence_s >= cfg.message_end_silence_s - 1e-9:
                decision.message_from_s = round(self._last_voice_s or now, 3)
        if decision.final:
            return
        phrase = self._phrase()
        if phrase is not None and phrase.final:
            self._type(phrase.outcome, "phrase", now)
        elif beep is not None or self._beep_start is not None:
            self._type("voicemail", "beep", now)
        elif decision.message_from_s is not None:  # the announcement ended without a beep
            outcome = phrase.outcome if phrase is not None else "carrier_message"
            self._type(outcome, "phrase" if phrase is not None else "message_end", now)
        elif now - decision.decided_s >= cfg.max_message_s:
            self._type(phrase.outcome if phrase is not None else "voicemail", "long_message", now)
        elif phrase is not None and decision.outcome != phrase.outcome:
            decision.outcome = phrase.outcome  # tentative: the words say which, so far
            decision.phrase = phrase.text

    def _stop_words(self) -> None:
        if self._words is None or not self._words_open:
            return
        self._words_open = False
        if self.decision is not None:
            self.decision.stt_s = round(self._words.stt_s, 3)
            self.decision.transcripts = len(self._words.done)
        self._words.close()


@dataclass
class MachinePolicy:
    """What an outbound call does once it knows a machine answered (a campaign's choice).

    ``voicemail``: ``hang_up`` (retry later; the welfare check) or ``leave_message``: ``message`` is said
    once the beep has ended (or the greeting ended without one), then the call ends (COVID notices). The
    message must hold nothing personal: anyone may play a mailbox back. ``screened``: ``hang_up``, or
    ``identify`` (say ``identify`` text so the person may pick up, then end). Carrier messages always end
    the call at once."""

    voicemail: str = "hang_up"
    message: str = ""
    screened: str = "hang_up"
    identify: str = ""
    detect: bool = True  # False: no detection, the script starts at answer (as before issue 16)
    detector: AmdConfig = field(default_factory=AmdConfig)

    def __post_init__(self) -> None:
        if self.voicemail not in ("hang_up", "leave_message"):
            raise ValueError("voicemail policy must be hang_up or leave_message")
        if self.screened not in ("hang_up", "identify"):
            raise ValueError("screened policy must be hang_up or identify")
        if self.voicemail == "leave_message" and not self.message.strip():
            raise ValueError("leave_message needs the message to leave")
        if self.screened == "identify" and not self.identify.strip():
            raise ValueError("identify needs the words to say")

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> MachinePolicy:
        """From a script's ``answering_machine`` section (``outbound.script``)."""
        values = dict(values or {})
        detector = AmdConfig.from_dict(values.pop("detector", None))
        detect = values.pop("detect", True)
        if not isinstance(detect, bool):
            raise ValueError("answering machine policy: detect must be true or false")
        known = {f.name for f in fields(cls)} - {"detector", "detect"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"answering machine policy: unknown setting(s) {', '.join(unknown)}")
        return cls(**{k: str(v) for k, v in values.items()}, detect=detect, detector=detector)
