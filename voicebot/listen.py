"""Stream an audio file through VAD and STT the way a live call would, one ``Utterance`` per endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from media.audio import Audio, iter_frames, silence
from media.stream import paced
from media.vad import EndpointConfig, Endpointer, create_vad
from stt import Transcriber
from stt.streaming import FinalTranscript, StreamingRecognizer


@dataclass(frozen=True)
class Utterance:
    start_s: float
    end_s: float
    text: str
    language: str
    partials: int
    endpoint_ms: float  # from the last voiced frame to the endpoint decision
    stt_ms: float
    forced: bool
    dropped: tuple[str, ...]

    def as_dict(self) -> dict:
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "text": self.text,
            "language": self.language,
            "partials": self.partials,
            "endpoint_ms": round(self.endpoint_ms, 1),
            "stt_ms": round(self.stt_ms, 1),
            "forced": self.forced,
            "dropped": list(self.dropped),
        }


def listen(
    audio: Audio,
    transcriber: Transcriber,
    realtime: bool = True,
    vad: str = "webrtc",
    endpoint: EndpointConfig = EndpointConfig(),
    partial_interval_s: float = 1.0,
    language: str | None = None,
) -> Iterator[Utterance]:
    # One second of trailing silence lets the endpointer close a clip that ends mid-speech the normal way.
    padded = Audio(np.concatenate([audio.samples, silence(1.0, audio.sample_rate)]), audio.sample_rate)
    frames = iter_frames(padded, endpoint.frame_ms)
    recognizer = StreamingRecognizer(
        transcriber,
        Endpointer(create_vad(vad), endpoint),
        partial_interval_s=partial_interval_s,
        language=language,
    )
    for event in recognizer.run(paced(frames) if realtime else frames):
        if isinstance(event, FinalTranscript):
            yield Utterance(
                start_s=event.start_s,
                end_s=event.end_s,
                text=event.text,
                language=event.transcript.language,
                partials=event.partials,
                endpoint_ms=(event.endpoint_s - event.end_s) * 1000,
                stt_ms=event.transcript.elapsed_s * 1000,
                forced=event.forced,
                dropped=tuple(event.transcript.dropped),
            )
