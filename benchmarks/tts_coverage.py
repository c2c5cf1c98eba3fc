"""Recorded coverage per flow and the round-trip CER of what the bot actually says (issue 20).

    python -m benchmarks.tts --coverage [--prompts-dir DIR] [--per-flow 8] [--no-cer] [--clips DIR] [--json]

1. The prompt catalogue (``voicebot.server.studio``) against the prompt library in ``--prompts-dir``
   (default: $VOICEBOT_PROMPTS_DIR or var/prompts): per flow, prompts, recorded prompts and the share of the
   estimated spoken time that is recorded.
2. Per flow, the ``--per-flow`` longest sentences played through the call's synthesizer (recordings where
   there are some, units for numbers, espeak for the rest) at the telephone rate: seconds played from
   recordings / assembled / synthesised, and the Whisper CER of the audio (8 kHz, upsampled to 16 kHz).
   The "numbers" flow speaks the dates, times, amounts and phone numbers of ``NUMBER_SENTENCES``.
3. With ``--clips DIR`` (a folder with manifest.tsv: file, language, transcript, like ../shared/audio):
   each Korean clip is saved in a temporary library as the recording of its own transcript and that text
   is said through the same path, next to espeak saying it: what recording a prompt does to the CER.
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from media.audio import TELEPHONY_RATE, load_audio

NUMBER_SENTENCES = [
    "12월 5일 오후 3시에 강남구 보건소에서 접종하실 수 있습니다.",
    "신청 기간은 2026년 11월 23일부터 12월 4일까지입니다.",
    "주차 요금은 10분당 500원이며, 하루 최대 35,000원입니다.",
    "자세한 사항은 02-2133-1234로 문의해 주시기 바랍니다.",
]


@dataclass
class Said:
    text: str
    source: str
    duration_s: float
    cer: float | None = None
    transcript: str | None = None


@dataclass
class FlowResult:
    flow: str
    prompts: int = 0
    recorded: int = 0
    share_estimated: float = 0.0
    recorded_s: float = 0.0
    composed_s: float = 0.0
    synth_s: float = 0.0
    mean_cer: float | None = None
    said: list[Said] = field(default_factory=list)


@dataclass(frozen=True)
class Listener:
    """Whisper and how its transcript is scored (benchmarks.tts's transcribe and character_error_rate)."""

    model: Any
    transcribe: Callable[[Any, np.ndarray, int], str]
    cer: Callable[[str, str], float]


def _say(synthesizer, whisper: Listener | None, text: str) -> Said:
    speech = synthesizer.synthesize(text, TELEPHONY_RATE)
    said = Said(text, speech.source, speech.duration_s)
    if whisper is not None:
        said.transcript = whisper.transcribe(whisper.model, speech.samples, TELEPHONY_RATE)
        said.cer = whisper.cer(text, said.transcript)
    return said


def _tally(result: FlowResult) -> None:
    for said in result.said:
        if said.source in ("recorded", "override"):
            result.recorded_s += said.duration_s
        elif said.source == "composed":
            result.composed_s += said.duration_s
        else:
            result.synth_s += said.duration_s
    cers = [s.cer for s in result.said if s.cer is not None]
    result.mean_cer = statistics.fmean(cers) if cers else None


def flow_results(prompts_dir: Path | None, per_flow: int, whisper: Listener | None) -> list[FlowResult]:
    from tts import TTSConfig, create_synthesizer
    from tts.library import PromptLibrary, default_prompts_dir
    from voicebot.server.studio import catalogue

    directory = prompts_dir or default_prompts_dir()
    built = catalogue(PromptLibrary(directory))
    synthesizer = create_synthesizer(TTSConfig(prompts_dir=directory))
    results = []
    for row in built.coverage():
        result = FlowResult(row["flow"], row["prompts"], row["recorded"], row["share"])
        if row["flow"] != "units":
            sentences = sorted(
                (e for e in built.entries if row["flow"] in e.flows and e.kind == "sentence"),
                key=lambda e: -e.estimated_s,
            )
            result.said = [_say(synthesizer, whisper, e.text) for e in sentences[:per_flow]]
        _tally(result)
        results.append(result)
    numbers = FlowResult("numbers", len(NUMBER_SENTENCES))
    numbers.said = [_say(synthesizer, whisper, text) for text in NUMBER_SENTENCES]
    _tally(numbers)
    return [*results, numbers]


def clip_comparison(clips_dir: Path, whisper: Listener | None, limit: int) -> list[dict[str, object]]:
    """Each clip as the recording of its transcript, said through the call path, against espeak."""
    from tts import TTSConfig, create_synthesizer
    from tts.library import STORE_RATE, PromptLibrary

    with open(clips_dir / "manifest.tsv", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["language"] == "ko"][:limit]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        library = PromptLibrary(Path(tmp) / "prompts")
        recorded = create_synthesizer(TTSConfig(prompts_dir=Path(tmp) / "prompts"))
        espeak = create_synthesizer(TTSConfig(use_prompts=False))
        for row in rows:
            samples = load_audio(clips_dir / row["file"], STORE_RATE).samples
            library.save(row["transcript"], samples, STORE_RATE, origin="import")
            human = _say(recorded, whisper, row["transcript"])
            machine = _say(espeak, whisper, row["transcript"])
            out.append({"text": row["transcript"], "recorded": asdict(human), "espeak": asdict(machine)})
    return out


def run(
    prompts_dir: Path | None,
    per_flow: int,
    whisper: Listener | None,
    clips: Path | None,
    clip_limit: int,
    as_json: bool,
) -> int:
    results = flow_results(prompts_dir, per_flow, whisper)
    comparison = clip_comparison(clips, whisper, clip_limit) if clips else []
    if as_json:
        json.dump(
            {"flows": [asdict(r) for r in results], "clips": comparison},
            sys.stdout,
            ensure_ascii=False,
            indent=2,
        )
        print()
        return 0
    print(
        f"{'flow':28} {'prompts':>7} {'rec':>4} {'est.share':>9} {'said':>4} "
        f"{'rec s':>6} {'units s':>7} {'synth s':>7} {'CER':>6}"
    )
    for r in results:
        cer = f"{r.mean_cer:6.3f}" if r.mean_cer is not None else "     -"
        print(
            f"{r.flow:28} {r.prompts:7d} {r.recorded:4d} {r.share_estimated:9.1%} {len(r.said):4d} "
            f"{r.recorded_s:6.1f} {r.composed_s:7.1f} {r.synth_s:7.1f} {cer}"
        )
    if comparison:
        recorded = [c["recorded"]["cer"] for c in comparison if c["recorded"]["cer"] is not None]
        machine = [c["espeak"]["cer"] for c in comparison if c["espeak"]["cer"] is not None]
        if recorded and machine:
            print(
                f"\nsame {len(comparison)} sentences through the call path at 8 kHz: "
                f"recorded CER {statistics.fmean(recorded):.3f}, espeak CER {statistics.fmean(machine):.3f}"
            )
    return 0
