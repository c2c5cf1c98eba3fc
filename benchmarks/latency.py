"""Voice-to-voice latency of whole simulated calls on the shared Korean recordings.

    python -m benchmarks.latency --json [--plot var/bench/latency_sweep.png] [--peer] [--levels 1,2,4,8,16]

Each clip is one caller: 1 s of line noise floor, the recording (speaking over the greeting, as callers
do), then silence. The call runs through ``CallSession`` exactly as ``voicebot call`` does (webrtcvad
endpointing, Whisper, the dialog engine, espeak-ng). Per configuration we report p50 / p95 / max in ms of:

- ``endpoint``: last voiced caller frame -> end of utterance declared;
- ``stt``: Whisper compute per utterance; ``stt_wait``: STT still running after the endpoint;
- ``dialog``; ``tts_first``: synthesis of the first sentence;
- ``voice_to_voice``: last voiced caller frame -> first bot audio frame of the reply to the finished clip;

plus Korean CER of everything the bot heard, and ``premature``: clips where the bot started a reply
before the speaker had finished (the end of speech is found by webrtcvad on the clip alone).

Configurations run side by side in one process, on the simulated timeline (``--fast`` calls: the
timeline charges every decode its measured wall time). The concurrency sweep then runs N calls at once
in real time, one thread each, sharing one model through the batching queue ``voicebot serve`` uses
(``--sweep-queue plain``: direct calls), started over one second as calls arrive, and reports
voice-to-voice p50 / p95 on the wall clock and the process CPU use. ``--peer`` runs the Pipecat anchor
(``../shared/anchors/pipecat_latency.py``, set up by ``scripts/setup-peer.sh``) on the same clips in
the same run and reports our figures as ratios to its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks.metrics import character_error_rate
from benchmarks.stt import SHARED_AUDIO
from benchmarks.stt import load_clips as read_manifest
from dialog import load_default_engine
from media.audio import PIPELINE_RATE, Audio, iter_frames, silence
from media.vad import WebRtcVad
from stt import BatchingTranscriber, STTConfig, create_transcriber
from tts import TTSConfig, create_synthesizer
from voicebot.call.session import CallConfig, CallSession
from voicebot.listen import paced

REPO = Path(__file__).resolve().parents[1]
ANCHOR = SHARED_AUDIO.parent / "anchors" / "pipecat_latency.py"
PEER_PYTHON = REPO / "var" / "peer-venv" / "bin" / "python"
LEAD_IN_S = 1.0
TAIL_S = 5.0
STAGES = ("endpoint_ms", "stt_ms", "stt_wait_ms", "dialog_ms", "tts_first_ms", "voice_to_voice_ms")


@dataclass(frozen=True)
class Setup:
    label: str
    stt: STTConfig
    call: CallConfig


BASE_CALL = CallConfig(max_call_s=120.0)
FIXED = replace(BASE_CALL, speculative=False)
NO_PREFIX = replace(BASE_CALL, speculative_prefix=False)
SETUPS = (
    Setup(
        "faster full-window beam5, fixed 600 ms hangover (baseline)",
        STTConfig(window="full", beam_size=5),
        FIXED,
    ),
    Setup("faster adaptive beam5, fixed hangover", STTConfig(beam_size=5), FIXED),
    Setup("faster adaptive beam5, speculative + early end", STTConfig(beam_size=5), NO_PREFIX),
    Setup(
        "faster adaptive beam5, speculative with prefix + early end (default)",
        STTConfig(beam_size=5),
        BASE_CALL,
    ),
    Setup(
        "faster adaptive beam5, speculative at a 150 ms pause",
        STTConfig(beam_size=5),
        replace(BASE_CALL, endpoint=replace(BASE_CALL.endpoint, pause_ms=150)),
    ),
    Setup("faster adaptive beam2, speculative with prefix + early end", STTConfig(beam_size=2), BASE_CALL),
    Setup(
        "openai full-window beam5, fixed hangover", STTConfig(backend="openai-whisper", window="full"), FIXED
    ),
    Setup(
        "openai adaptive beam5, speculative with prefix + early end",
        STTConfig(backend="openai-whisper", beam_size=5),
        BASE_CALL,
    ),
)


@dataclass(frozen=True)
class Clip:
    name: str
    transcript: str
    audio: np.ndarray
    speech_end_s: float  # end of the last voiced frame in the clip


def load_clips(directory: Path) -> list[Clip]:
    """The Korean clips of the manifest, each with where its speech ends (webrtcvad on the clip alone)."""
    clips = []
    for name, language, transcript, samples in read_manifest(directory):
        if language != "ko":
            continue
        vad = WebRtcVad()
        voiced = [f.end_s for f in iter_frames(Audio(samples, PIPELINE_RATE), 20) if vad.is_speech(f)]
        clips.append(Clip(name, transcript, samples, max(voiced) if voiced else 0.0))
    return clips


def caller_stream(clip: Clip, rate: int) -> tuple[Audio, float]:
    samples = np.concatenate([silence(LEAD_IN_S, rate), clip.audio, silence(TAIL_S, rate)])
    return Audio(samples, rate), LEAD_IN_S + clip.speech_end_s


def run_call(session: CallSession, clip: Clip, realtime: bool) -> dict:
    """One caller until the reply to the finished clip has started (or the call ended)."""
    audio, speech_end = caller_stream(clip, session.config.sample_rate)
    started = time.perf_counter()
    session.start(0.0)
    wall_ready: dict[int, float] = {}
    frames = iter_frames(audio, session.config.frame_ms)
    for frame in paced(frames) if realtime else frames:
        before = len(session.turns)
        session.on_caller_frame(frame)
        for turn in session.turns[before:]:
            wall_ready[turn.index] = time.perf_counter() - started
        spoken = [t for t in session.turns if t.trigger == "speech"]
        if session.ended or (
            spoken and spoken[-1].caller_end_s >= speech_end - 0.3 and frame.start_s > spoken[-1].bot_start_s
        ):
            break
    spoken = [t for t in session.turns if t.trigger == "speech"]
    heard = " ".join(t.caller_text for t in spoken)
    final = spoken[-1] if spoken else None
    result = {
        "clip": clip.name,
        "heard": heard,
        "cer": character_error_rate(clip.transcript, heard),
        "premature": any(t.bot_start_s < speech_end for t in spoken),
        "utterances": len(spoken),
    }
    if final is not None:
        result.update({k: v for k, v in vars(final.latency).items()})
        if realtime:  # the wall clock, in case decoding left the thread behind the stream
            ready = max(final.bot_start_s, wall_ready[final.index])
            result["voice_to_voice_ms"] = (ready - final.caller_end_s) * 1000
    return result


def distribution(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    array = np.asarray(values)
    return {
        "p50": round(float(np.percentile(array, 50)), 1),
        "p95": round(float(np.percentile(array, 95)), 1),
        "max": round(float(array.max()), 1),
    }


def summarise(label: str, calls: list[dict]) -> dict:
    answered = [c for c in calls if "voice_to_voice_ms" in c]
    return {
        "label": label,
        "stages_ms": {s.removesuffix("_ms"): distribution([c[s] for c in answered]) for s in STAGES},
        "korean_cer": round(float(np.mean([c["cer"] for c in calls])), 4),
        "premature": sum(c["premature"] for c in calls),
        "clips": len(calls),
        "calls": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in c.items()} for c in calls],
    }


class Components:
    def __init__(self, cache_dir: Path):
        self.engine = load_default_engine()
        self.synthesizer = create_synthesizer(TTSConfig(cache_dir=cache_dir))

    def session(self, transcriber, call: CallConfig, call_id: str) -> CallSession:
        return CallSession(self.engine, transcriber, self.synthesizer, call, call_id=call_id)


def run_setups(parts: Components, setups, clips: list[Clip], log) -> list[dict]:
    rows = []
    for setup in setups:
        transcriber = create_transcriber(setup.stt)
        transcriber.transcribe(clips[0].audio, language="ko")  # warm-up
        calls = [
            run_call(parts.session(transcriber, setup.call, f"bench-{i}"), clip, False)
            for i, clip in enumerate(clips)
        ]
        rows.append(summarise(setup.label, calls))
        v2v = rows[-1]["stages_ms"]["voice_to_voice"]
        log(
            f"{setup.label:58} v2v p50 {v2v.get('p50')} p95 {v2v.get('p95')}  CER {rows[-1]['korean_cer']}  premature {rows[-1]['premature']}"
        )
    base = rows[0]
    for row in rows:
        for key in ("p50", "p95"):
            ours, theirs = (
                row["stages_ms"]["voice_to_voice"].get(key),
                base["stages_ms"]["voice_to_voice"].get(key),
            )
            row[f"v2v_{key}_vs_baseline"] = round(ours / theirs, 3) if ours and theirs else None
        row["cer_minus_baseline"] = round(row["korean_cer"] - base["korean_cer"], 4)
    return rows


def sweep(
    parts: Components, setup: Setup, clips: list[Clip], levels: list[int], log, queue: str = "batching"
) -> list[dict]:
    """``queue``: "batching" shares the model through ``BatchingTranscriber`` as ``voicebot serve`` does;
    "plain" lets the threads call the model directly (CTranslate2 then runs them one after another)."""
    transcriber = create_transcriber(setup.stt)
    transcriber.transcribe(clips[0].audio, language="ko")
    if queue == "batching":
        transcriber = BatchingTranscriber(transcriber)
    results = []
    rng = random.Random(7)
    for level in levels:
        batches_before = getattr(transcriber, "batches", 0)
        requests_before = getattr(transcriber, "requests", 0)
        calls: list[dict] = []
        lock = threading.Lock()

        def one(index: int, offset: float, level: int = level, calls: list = calls, lock=lock) -> None:
            time.sleep(offset)
            session = parts.session(transcriber, setup.call, f"sweep-{level}-{index}")
            outcome = run_call(session, clips[index % len(clips)], realtime=True)
            with lock:
                calls.append(outcome)

        threads = [threading.Thread(target=one, args=(i, rng.uniform(0, 1.0))) for i in range(level)]
        cpu, wall = time.process_time(), time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        v2v = distribution([c["voice_to_voice_ms"] for c in calls if "voice_to_voice_ms" in c])
        row = {
            "calls": level,
            "voice_to_voice_ms": v2v,
            "cpu_percent": round(100 * cpu / (wall * (os.cpu_count() or 1)), 1),
            "premature": sum(c["premature"] for c in calls),
            "korean_cer": round(float(np.mean([c["cer"] for c in calls])), 4),
            "queue": queue,
        }
        if queue == "batching":
            row["decodes"] = transcriber.requests - requests_before
            row["model_runs"] = transcriber.batches - batches_before
        results.append(row)
        log(
            f"{level:3} calls at once: v2v p50 {v2v.get('p50')} p95 {v2v.get('p95')}  CPU {row['cpu_percent']} %"
        )
    return results


def run_peer(model_dir: Path, log) -> dict | None:
    if not PEER_PYTHON.exists() or not ANCHOR.exists():
        log("peer: not set up (bash scripts/setup-peer.sh); skipped")
        return None
    result = subprocess.run(
        [
            str(PEER_PYTHON),
            str(ANCHOR),
            "--json",
            "--mode",
            "vad",
            "--model-dir",
            str(model_dir),
            "--audio-dir",
            str(SHARED_AUDIO),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        log(f"peer failed: {result.stderr[-500:]}")
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def _peer_v2v(peer: dict) -> dict:
    """The anchor's voice-to-voice from the last voiced frame (its ``summary.v2v_from_last_voiced_ms``)."""
    return peer.get("summary", {}).get("v2v_from_last_voiced_ms", {})


def plot(sweep_rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [r["calls"] for r in sweep_rows]
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(
        levels, [r["voice_to_voice_ms"].get("p50") for r in sweep_rows], "o-", label="voice-to-voice p50"
    )
    left.plot(
        levels, [r["voice_to_voice_ms"].get("p95") for r in sweep_rows], "s-", label="voice-to-voice p95"
    )
    left.axhline(1500, color="grey", linestyle=":", label="p95 target at 8 calls")
    left.set_xscale("log", base=2)
    left.set_xticks(levels, [str(x) for x in levels])
    left.set_xlabel("simultaneous calls")
    left.set_ylabel("ms")
    right = left.twinx()
    right.bar(
        levels,
        [r["cpu_percent"] for r in sweep_rows],
        width=[x * 0.25 for x in levels],
        alpha=0.2,
        color="tab:green",
    )
    right.set_ylabel("CPU use %")
    right.set_ylim(0, 100)
    left.legend(loc="upper left")
    left.set_title(f"Voice-to-voice under load ({os.cpu_count()} CPU cores, Whisper base int8)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", help="substring of the configuration labels to run")
    parser.add_argument("--levels", default="1,2,4,8,16", help="concurrency levels; empty to skip the sweep")
    parser.add_argument("--plot", type=Path, default=REPO / "var" / "bench" / "latency_sweep.png")
    parser.add_argument("--peer", action="store_true", help="also run the Pipecat anchor on the same clips")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument(
        "--sweep-workers",
        type=int,
        default=1,
        help="faster-whisper replicas for the sweep (threads split among them)",
    )
    parser.add_argument(
        "--sweep-queue",
        default="batching",
        choices=["batching", "plain"],
        help="how sweep calls share the model: the batching queue of voicebot serve, or direct calls",
    )
    parser.add_argument("--audio-dir", type=Path, default=SHARED_AUDIO)
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    clips = load_clips(args.audio_dir)
    setups = [
        replace(s, stt=replace(s.stt, device=args.device))
        for s in SETUPS
        if not args.only or args.only in s.label
    ]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
        parts = Components(Path(cache))
        rows = run_setups(parts, setups, clips, log)
        default = next((s for s in setups if "(default)" in s.label), setups[0])
        levels = [int(x) for x in args.levels.split(",") if x.strip()]
        if args.sweep_workers > 1:
            threads = max(1, default.stt.cpu_threads // args.sweep_workers)
            default = replace(
                default, stt=replace(default.stt, workers=args.sweep_workers, cpu_threads=threads)
            )
        sweep_rows = sweep(parts, default, clips, levels, log, args.sweep_queue) if levels else []
    report: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "device": args.device,
        },
        "clips": len(clips),
        "configurations": rows,
        "concurrency": sweep_rows,
    }
    if sweep_rows and args.plot:
        plot(sweep_rows, args.plot)
        report["plot"] = str(args.plot)
    if args.peer:
        from models.catalog import find_whisper_model

        peer = run_peer(find_whisper_model("base").path, log)
        if peer is not None:
            theirs = _peer_v2v(peer)
            ours = next(r for r in rows if r["label"] == default.label)["stages_ms"]["voice_to_voice"]
            report["peer"] = {
                "name": "pipecat-ai 1.14 (--mode vad)",
                "voice_to_voice_ms": theirs,
                "ours_over_peer": {
                    k: round(ours[k] / theirs[k], 3) for k in ("p50", "p95") if theirs.get(k) and ours.get(k)
                },
                "raw": peer,
            }
    report["wall_s"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(
            json.dumps(
                {k: v for k, v in report.items() if k != "configurations"}, ensure_ascii=False, indent=1
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
