"""Streaming recognition: frames in, partial and final hypotheses out.

The endpointer decides where utterances start and end; while one is open, a cheap greedy partial decode
runs every ``partial_interval_s`` of new audio, and at the endpoint the full decode produces the final
text. Timings are measured from the end of the last voiced frame, the moment a caller perceives as
"I stopped talking".
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from media.audio import AudioFrame
from media.vad import Endpointer, SpeechDiscarded, SpeechEnd, SpeechStart
from stt.backends import Transcriber
from stt.types import Transcript


@dataclass(frozen=True)
class SpeechStarted:
    time_s: float
    barge_in: bool


@dataclass(frozen=True)
class PartialTranscript:
    text: str
    audio_s: float
    elapsed_s: float


@dataclass(frozen=True)
class FinalTranscript:
    start_s: float
    end_s: float  # end of the last voiced frame
    endpoint_s: float  # when the endpointer declared the end
    transcript: Transcript
    partials: int
    forced: bool

    @property
    def text(self) -> str:
        return self.transcript.text


@dataclass(frozen=True)
class NoiseIgnored:
    start_s: float
    reason: str


StreamEvent = SpeechStarted | PartialTranscript | FinalTranscript | NoiseIgnored


class StreamingRecognizer:
    def __init__(
        self,
        transcriber: Transcriber,
        endpointer: Endpointer,
        partial_interval_s: float = 1.0,
        language: str | None = None,
        prompt: str | None = None,
    ):
        self.transcriber = transcriber
        self.endpointer = endpointer
        self.partial_interval_s = partial_interval_s
        self.language = language
        self.prompt = prompt
        self._partials = 0
        self._last_partial_audio_s = 0.0

    def feed(self, frame: AudioFrame) -> Iterator[StreamEvent]:
        for event in self.endpointer.process(frame):
            yield from self._on_endpoint(event)
        if self.endpointer.in_speech and self.partial_interval_s > 0:
            yield from self._maybe_partial()

    def finish(self, now_s: float) -> Iterator[StreamEvent]:
        for event in self.endpointer.flush(now_s):
            yield from self._on_endpoint(event)

    def run(self, frames: Iterable[AudioFrame]) -> Iterator[StreamEvent]:
        end_s = 0.0
        for frame in frames:
            end_s = frame.end_s
            yield from self.feed(frame)
        yield from self.finish(end_s)

    def _maybe_partial(self) -> Iterator[StreamEvent]:
        samples = self.endpointer.current_samples()
        audio_s = len(samples) / 16_000
        if audio_s - self._last_partial_audio_s < self.partial_interval_s:
            return
        self._last_partial_audio_s = audio_s
        started = time.perf_counter()
        result = self.transcriber.transcribe(samples, language=self.language, prompt=self.prompt, beam_size=1)
        self._partials += 1
        yield PartialTranscript(result.text, audio_s, time.perf_counter() - started)

    def _on_endpoint(self, event) -> Iterator[StreamEvent]:
        if isinstance(event, SpeechStart):
            self._partials = 0
            self._last_partial_audio_s = 0.0
            yield SpeechStarted(event.time_s, event.barge_in)
        elif isinstance(event, SpeechDiscarded):
            yield NoiseIgnored(event.start_s, event.reason)
        elif isinstance(event, SpeechEnd):
            transcript = self.transcriber.transcribe(
                event.samples, language=self.language, prompt=self.prompt
            )
            yield FinalTranscript(
                event.start_s, event.last_voiced_s, event.time_s, transcript, self._partials, event.forced
            )
