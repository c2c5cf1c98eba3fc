"""Turn taking and voice-to-voice latency of whole simulated calls, on the shared Korean recordings, the
multi-sentence turns and the over-the-prompt sets of ``scripts/make_turn_sets.py`` (issue 14).

    python -m benchmarks.latency [--json] [--only LABEL] [--sets shared,multi,acks,bargein,noise]
        [--audio-dir DIR] [--turn-sets DIR] [--peer] [--live [--live-sets shared,multi] [--live-limit N]]
        [--levels 1,2,4,8,16] [--plot PATH] [--save PATH]

Each clip is one caller: 1 s of silence, the recording (speaking over the greeting, as callers do), then
silence. The call runs through ``CallSession`` exactly as ``voicebot call`` does (webrtcvad endpointing,
Whisper, the dialog engine, espeak-ng), on the simulated timeline of ``--fast`` calls (every decode is
charged its measured wall time). Everything is read from the session's public behaviour: its turn
records, its events and the bot audio it returns frame by frame, so the figures follow whatever the
turn-end and barge-in logic does. Per configuration and clip set (``shared``: ../shared/audio;
``multi``: two sentences or one with a pause inside, one caller turn each; ``dir:NAME``: ``--audio-dir``):

- ``voice_to_voice``: the caller's last voiced frame (webrtcvad on the clip alone: the true end of turn)
  -> first bot audio frame of the reply that covers it, p50 / p95 / max ms;
- ``premature``: clips where bot reply audio was heard before the caller's last voiced frame. A failure,
  counted apart and never a speed-up: a premature reply's own latency is in no distribution;
- ``cut_off``: clips whose turn was closed and answered before its end (a spoken turn record ending
  more than 100 ms before the true end), heard early or not (a withdrawn answer still counts);
- ``no_reply``: clips without a reply covering the end; ``korean_cer``: of what the bot kept hearing;
- the stage latencies of the final turn (``endpoint``, ``stt``, ``stt_wait``, ``dialog``, ``tts_first``).

Over the prompt (sets ``acks``, ``bargein``, ``noise``): the item plays from the start of the call, so
its sound falls on the greeting at its recorded onset. The prompt counts as stopped when its turn is
marked ``interrupted``, a ``barge_in`` event follows the onset, or its audio stops and does not come back
within 8 s of silence after the item. The audible stop is the first frame after the onset where the prompt of a
reference call (same configuration, silent caller) sounds and this call's does not.

- ``acks`` / ``noise``: how many stopped the prompt (false barge-ins; target <= 5 % of acknowledgements),
  how many were logged as acknowledgements (``backchannels`` on the prompt's turn, or a ``backchannel``
  event), and how long the prompt went quiet when it did go on (``gap``);
- ``bargein``: how many stopped the prompt, and the reaction time from the speech onset (webrtcvad on
  the item) to the audible stop (target <= 250 ms).

``--peer`` runs the Pipecat anchor (``../shared/anchors/pipecat_latency.py``, set up by
``scripts/setup-peer.sh``) on exactly the clips of each clip set we ran: they are staged into one folder
with their own manifest, and the anchor's clip list is checked against ours before any ratio is printed.

``--live`` measures over real SIP (``benchmarks/live.py``): ``voicebot sip`` in a subprocess with its
default configuration, baresip on 127.0.0.1 calling it with the clip as its microphone, and the gap
read from baresip's own recordings between the end of what it sent and the start of what it heard.

The concurrency sweep then runs N calls at once in real time, one thread each, sharing one model through
the batching queue ``voicebot serve`` uses (``--sweep-queue plain``: direct calls), started over one
second as calls arrive, and reports voice-to-voice p50 / p95 on the wall clock and the process CPU use.
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

from benchmarks import turn_sets
from benchmarks.metrics import character_error_rate
from benchmarks.stt import SHARED_AUDIO
from benchmarks.stt import load_clips as read_manifest
from dialog import load_default_engine
from media.audio import PIPELINE_RATE, Audio, iter_frames, load_audio, silence
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
END_TOLERANCE_S = 0.1  # a turn record ending this close to the true end covers it
AUDIBLE_RMS = 1e-3  # -60 dBFS: a bot frame above this is sound
RESUME_WAIT_S = 8.0  # after an over-the-prompt item, how long a quiet prompt may take to come back
STAGES = ("endpoint_ms", "stt_ms", "stt_wait_ms", "dialog_ms", "tts_first_ms", "voice_to_voice_ms")
CLIP_SETS = ("shared", "multi")
PROMPT_SETS = ("acks", "bargein", "noise")
TARGETS = {
    "premature": "0 on the shared clips and the multi-sentence set",
    "voice_to_voice": "p50 <= 600 ms, p95 <= 900 ms on turns <= 5 s; p50 <= 800 ms on the long shared sentences",
    "acks": "<= 5 % stop the prompt",
    "bargein": "prompt stopped within 250 ms of speech onset",
    "live": "within 100 ms of the simulated figure",
}


@dataclass(frozen=True)
class Setup:
    label: str
    stt: STTConfig
    call: CallConfig


BASE_CALL = CallConfig(max_call_s=120.0)
FIXED = replace(BASE_CALL, speculative=False)
WITH_PREFIX = replace(BASE_CALL, speculative_prefix=True)
SETUPS = (
    Setup(
        "faster full-window beam5, fixed 600 ms hangover (baseline)",
        STTConfig(window="full", beam_size=5),
        FIXED,
    ),
    Setup("faster adaptive beam5, fixed hangover", STTConfig(beam_size=5), FIXED),
    Setup("faster adaptive beam5, speculative with prefix + early end", STTConfig(beam_size=5), WITH_PREFIX),
    Setup("faster adaptive beam5, speculative + early end (default)", STTConfig(beam_size=5), BASE_CALL),
    *(
        Setup(
            f"faster adaptive beam5, speculative + early end, statement hangover {ms} ms",
            STTConfig(beam_size=5),
            replace(BASE_CALL, endpoint=replace(BASE_CALL.endpoint, statement_hangover_ms=ms)),
        )
        for ms in (600, 800, 1200, 1600)
    ),
    Setup(
        "faster adaptive beam5, speculative at a 150 ms pause",
        STTConfig(beam_size=5),
        replace(BASE_CALL, endpoint=replace(BASE_CALL.endpoint, pause_ms=150)),
    ),
    Setup("faster adaptive beam2, speculative + early end", STTConfig(beam_size=2), BASE_CALL),
    *(
        Setup(f"faster adaptive beam5, {label}, speculative + early end", stt, BASE_CALL)
        for label, stt in (
            ("one 15 s shortest window (before the 10 s short window)", STTConfig(short_window_s=0)),
            ("10 s shortest window for all", STTConfig(min_window_s=10.0)),
            ("8 s shortest window for all", STTConfig(min_window_s=8.0, short_window_s=8.0)),
        )
    ),
    Setup(
        "openai full-window beam5, fixed hangover", STTConfig(backend="openai-whisper", window="full"), FIXED
    ),
    Setup(
        "openai adaptive beam5, speculative + early end",
        STTConfig(backend="openai-whisper", beam_size=5),
        BASE_CALL,
    ),
)


@dataclass(frozen=True)
class Clip:
    name: str
    transcript: str
    audio: np.ndarray
    speech_end_s: float  # end of the last voiced frame in the clip: the true end of the caller's turn


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


def audible(samples: np.ndarray) -> bool:
    return bool(len(samples)) and float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) > AUDIBLE_RMS


def _spoken(session: CallSession) -> list:
    return [t for t in session.turns if t.trigger == "speech"]


def _kept(turn) -> bool:
    """A reply the session still stands by (a withdrawn one was taken back for a longer question)."""
    return not getattr(turn, "withdrawn", False)


def run_call(session: CallSession, clip: Clip, realtime: bool) -> dict:
    """One caller until the reply covering the end of the clip has started (or the call ended)."""
    audio, speech_end = caller_stream(clip, session.config.sample_rate)
    started = time.perf_counter()
    session.start(0.0)
    wall_ready: dict[int, float] = {}
    sound: list[tuple[float, bool]] = []  # (frame start, bot audio heard) per frame
    frames = iter_frames(audio, session.config.frame_ms)

    def final_turn():
        covering = [
            t for t in _spoken(session) if _kept(t) and t.caller_end_s >= speech_end - END_TOLERANCE_S
        ]
        return covering[-1] if covering else None

    for frame in paced(frames) if realtime else frames:
        before = len(session.turns)
        out = session.on_caller_frame(frame)
        sound.append((frame.start_s, audible(out)))
        for turn in session.turns[before:]:
            wall_ready[turn.index] = time.perf_counter() - started
        final = final_turn()
        if session.ended or (final is not None and frame.start_s > final.bot_start_s):
            break
    spoken = _spoken(session)
    final = final_turn()
    early = [t for t in spoken if t.bot_start_s < speech_end]
    first_early = min((t.bot_start_s for t in early), default=None)
    premature = first_early is not None and any(
        heard for at, heard in sound if first_early <= at < speech_end
    )
    heard = " ".join(t.caller_text for t in spoken if _kept(t))
    result = {
        "clip": clip.name,
        "heard": heard,
        "cer": character_error_rate(clip.transcript, heard),
        "premature": premature,
        "cut_off": any(t.caller_end_s < speech_end - END_TOLERANCE_S for t in spoken),
        "withdrawn": sum(not _kept(t) for t in spoken),
        "utterances": len(spoken),
        "speech_end_s": round(speech_end, 3),
    }
    if final is not None:
        result.update({k: v for k, v in vars(final.latency).items()})
        result["voice_to_voice_ms"] = (final.bot_start_s - speech_end) * 1000
        if realtime:  # the wall clock, in case decoding left the thread behind the stream
            ready = max(final.bot_start_s, wall_ready[final.index])
            result["voice_to_voice_ms"] = (ready - speech_end) * 1000
    return result


# -- over the prompt -----------------------------------------------------------------------------------


def prompt_sound(session: CallSession, seconds: float) -> list[bool]:
    """Which frames of the opening prompt sound when the caller says nothing: the reference call."""
    session.start(0.0)
    frames = iter_frames(Audio(silence(seconds), PIPELINE_RATE), session.config.frame_ms)
    return [audible(session.on_caller_frame(frame)) for frame in frames]


def run_over_prompt(session: CallSession, item: dict, reference: list[bool]) -> dict:
    """Play one over-the-prompt item from the start of the call; was the prompt stopped, and when?"""
    audio = load_audio(item["path"])
    step = session.config.frame_ms / 1000
    session.start(0.0)
    prompt = session.turns[0]
    frames = list(iter_frames(audio, session.config.frame_ms))
    sound = [audible(session.on_caller_frame(f)) for f in frames]
    # A prompt still quiet when the item ends gets up to RESUME_WAIT_S more of silence to come back in.
    start = frames[-1].end_s
    for frame in iter_frames(Audio(silence(RESUME_WAIT_S), PIPELINE_RATE), session.config.frame_ms, start):
        if sound[-1] or session.ended:
            break
        sound.append(audible(session.on_caller_frame(frame)))
    # The reference and this call play the same prompt; line them up on its first sounding frame.
    shift = (reference.index(True) if True in reference else 0) - (sound.index(True) if True in sound else 0)
    onset = int(round(item["onset_s"] / step))
    stop = next(
        (
            i
            for i in range(onset, len(sound))
            if 0 <= i + shift < len(reference) and reference[i + shift] and not sound[i]
        ),
        None,
    )
    resume = next((i for i in range(stop, len(sound)) if sound[i]), None) if stop is not None else None
    onset_s = item["onset_s"]
    barge_in = any(e.kind == "barge_in" and e.time_s >= onset_s - 0.05 for e in session.events)
    stopped = bool(prompt.interrupted or barge_in or (stop is not None and resume is None))
    logged = bool(getattr(prompt, "backchannels", None)) or any(
        "backchannel" in e.kind for e in session.events
    )
    speech_onset = item.get("speech_onset_s") or onset_s
    result = {
        "item": item["id"],
        "kind": item["kind"],
        "text": item.get("text", item.get("how", "")),
        "onset_s": onset_s,
        "prompt_playing": bool(0 <= onset + shift < len(reference) and any(reference[onset + shift :])),
        "stopped": stopped,
        "logged_as_ack": logged,
        "replied": any(t.trigger == "speech" for t in session.turns),
        "heard": " | ".join(t.caller_text for t in _spoken(session)) or None,
        "backchannels": list(getattr(prompt, "backchannels", []) or []),
        "events": [e.kind for e in session.events if e.time_s >= onset_s - 0.05],
    }
    if stop is not None:
        result["reaction_ms"] = round((stop * step - speech_onset) * 1000, 1)
        if resume is not None:
            result["gap_ms"] = round((resume - stop) * step * 1000, 1)
    return result


def distribution(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    array = np.asarray(values)
    return {
        "p50": round(float(np.percentile(array, 50)), 1),
        "p95": round(float(np.percentile(array, 95)), 1),
        "max": round(float(array.max()), 1),
        "n": len(values),
    }


def summarise(label: str, calls: list[dict]) -> dict:
    answered = [c for c in calls if "voice_to_voice_ms" in c]
    return {
        "label": label,
        "stages_ms": {s.removesuffix("_ms"): distribution([c[s] for c in answered]) for s in STAGES},
        "korean_cer": round(float(np.mean([c["cer"] for c in calls])), 4) if calls else None,
        "premature": sum(c["premature"] for c in calls),
        "cut_off": sum(c["cut_off"] for c in calls),
        "withdrawn": sum(c["withdrawn"] for c in calls),
        "no_reply": len(calls) - len(answered),
        "clips": len(calls),
        "calls": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in c.items()} for c in calls],
    }


def summarise_over_prompt(name: str, results: list[dict]) -> dict:
    playing = [r for r in results if r["prompt_playing"]]
    stopped = [r for r in playing if r["stopped"]]
    summary = {
        "items": len(results),
        "over_prompt": len(playing),
        "stopped": len(stopped),
        "stopped_rate": round(len(stopped) / len(playing), 3) if playing else None,
        "logged_as_ack": sum(r["logged_as_ack"] for r in playing),
        "replied": sum(r["replied"] for r in playing),
        "gap_ms": distribution([r["gap_ms"] for r in playing if not r["stopped"] and "gap_ms" in r]),
        "results": results,
    }
    if name == "bargein":
        reactions = [r["reaction_ms"] for r in stopped if "reaction_ms" in r]
        summary["reaction_ms"] = distribution(reactions)
        summary["within_250_ms"] = sum(1 for x in reactions if x <= 250)
    return summary


class Components:
    def __init__(self, cache_dir: Path):
        self.engine = load_default_engine()
        self.synthesizer = create_synthesizer(TTSConfig(cache_dir=cache_dir))

    def session(self, transcriber, call: CallConfig, call_id: str) -> CallSession:
        return CallSession(self.engine, transcriber, self.synthesizer, call, call_id=call_id)


def run_setups(
    parts: Components,
    setups,
    clip_sets: dict[str, list[Clip]],
    prompt_sets: dict[str, list[dict]],
    log,
) -> list[dict]:
    rows = []
    warm = next(iter(c for clips in clip_sets.values() for c in clips), None)
    for setup in setups:
        transcriber = create_transcriber(setup.stt)
        if warm is not None:
            transcriber.transcribe(warm.audio, language="ko")  # warm-up
        row: dict = {"label": setup.label, "sets": {}, "over_prompt": {}}
        for set_name, clips in clip_sets.items():
            calls = [
                run_call(parts.session(transcriber, setup.call, f"bench-{set_name}-{i}"), clip, False)
                for i, clip in enumerate(clips)
            ]
            summary = summarise(setup.label, calls)
            summary.pop("label")
            row["sets"][set_name] = summary
            v2v = summary["stages_ms"]["voice_to_voice"]
            log(
                f"{setup.label[:58]:58} {set_name:12} v2v p50 {v2v.get('p50')} p95 {v2v.get('p95')}  "
                f"CER {summary['korean_cer']}  premature {summary['premature']}/{len(calls)}  "
                f"cut-off {summary['cut_off']}"
            )
        if prompt_sets:
            longest = max(load_audio(i["path"]).duration_s for items in prompt_sets.values() for i in items)
            reference = prompt_sound(
                parts.session(transcriber, setup.call, "bench-reference"), longest + RESUME_WAIT_S + 1
            )
            for set_name, items in prompt_sets.items():
                results = [
                    run_over_prompt(
                        parts.session(transcriber, setup.call, f"bench-{set_name}-{i}"), item, reference
                    )
                    for i, item in enumerate(items)
                ]
                summary = summarise_over_prompt(set_name, results)
                row["over_prompt"][set_name] = summary
                extra = ""
                if set_name == "bargein":
                    extra = f"  reaction p50 {summary['reaction_ms'].get('p50')} p95 {summary['reaction_ms'].get('p95')}"
                log(
                    f"{setup.label[:58]:58} {set_name:12} stopped the prompt {summary['stopped']}/"
                    f"{summary['over_prompt']}{extra}"
                )
        rows.append(row)
    base = rows[0]
    for row in rows:
        for set_name, summary in row["sets"].items():
            theirs = base["sets"][set_name]["stages_ms"]["voice_to_voice"]
            ours = summary["stages_ms"]["voice_to_voice"]
            for key in ("p50", "p95"):
                summary[f"v2v_{key}_vs_baseline"] = (
                    round(ours[key] / theirs[key], 3) if ours.get(key) and theirs.get(key) else None
                )
            if summary["korean_cer"] is not None and base["sets"][set_name]["korean_cer"] is not None:
                summary["cer_minus_baseline"] = round(
                    summary["korean_cer"] - base["sets"][set_name]["korean_cer"], 4
                )
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


def stage_for_peer(clips: list[Clip], directory: Path) -> list[str]:
    """Write exactly ``clips`` into ``directory`` as the anchor reads a clip folder (``ko_*.wav`` and a
    ``manifest.tsv``), whatever their own names; return the staged names in our order."""
    from media.audio import write_wav

    directory.mkdir(parents=True, exist_ok=True)
    names, lines = [], ["file\tlanguage\ttranscript"]
    for index, clip in enumerate(clips):
        name = f"ko_{index:03d}_{Path(clip.name).stem}.wav"
        write_wav(directory / name, clip.audio, PIPELINE_RATE)
        names.append(name)
        lines.append(f"{name}\tko\t{clip.transcript}")
    (directory / "manifest.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return names


def run_peer(model_dir: Path, clips: list[Clip], log) -> dict | None:
    """The Pipecat anchor on exactly ``clips`` (never on another folder than ours)."""
    if not PEER_PYTHON.exists() or not ANCHOR.exists():
        log("peer: not set up (bash scripts/setup-peer.sh); skipped")
        return None
    with tempfile.TemporaryDirectory(prefix="peer-clips-") as staging:
        names = stage_for_peer(clips, Path(staging))
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
                staging,
            ],
            capture_output=True,
            text=True,
            timeout=3600,
        )
    if result.returncode != 0:
        log(f"peer failed: {result.stderr[-500:]}")
        return None
    peer = json.loads(result.stdout.strip().splitlines()[-1])
    ran = [c.get("file") for c in peer.get("clips", [])]
    if ran != names:
        log(
            f"peer ran on other clips than ours ({len(ran)} against {len(names)}); its figures are not compared"
        )
        return None
    for entry, clip in zip(peer["clips"], clips, strict=True):
        entry["clip"] = clip.name
    return peer


def peer_summary(peer: dict) -> dict:
    summary = peer.get("summary", {})
    return {
        "voice_to_voice_ms": summary.get("v2v_from_last_voiced_ms") or {},
        "premature": summary.get("clips_with_premature_reply"),
        "no_reply": summary.get("clips_without_reply"),
        "korean_cer": summary.get("cer_macro"),
        "clips": len(peer.get("clips", [])),
    }


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


def _pair(d: dict) -> str:
    return f"{d.get('p50', '-')} / {d.get('p95', '-')}" if d else "-"


def tables(report: dict) -> str:
    """The report as Markdown tables (what the benchmark prints without ``--json``)."""
    out = []
    rows = report["configurations"]
    peers = report.get("peer", {})
    if any(r["sets"] for r in rows) or peers:
        out += [
            "Voice-to-voice and turn ends (simulated timeline, ms; premature / cut-off / no reply: clips)",
            "",
            "| set | configuration | clips | v2v p50 / p95 | premature | cut-off | no reply | CER |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for set_name in report["clip_sets"]:
            for row in rows:
                s = row["sets"].get(set_name)
                if s is None:
                    continue
                out.append(
                    f"| {set_name} | {row['label']} | {s['clips']} | {_pair(s['stages_ms']['voice_to_voice'])} | "
                    f"{s['premature']} | {s['cut_off']} | {s['no_reply']} | {100 * s['korean_cer']:.2f} % |"
                )
            if set_name in peers:
                p = peers[set_name]
                cer = f"{100 * p['korean_cer']:.2f} %" if p.get("korean_cer") is not None else "-"
                out.append(
                    f"| {set_name} | Pipecat 1.14 anchor (--mode vad), same clips | {p['clips']} | "
                    f"{_pair(p['voice_to_voice_ms'])} | {p['premature']} | - | {p['no_reply']} | {cer} |"
                )
        out.append("")
    if any(r["over_prompt"] for r in rows):
        out += [
            "Over the greeting prompt (items that stopped it / items played while it sounded)",
            "",
            "| configuration | acknowledgements | logged as ack | noise, clicks, coughs | real barge-ins | "
            "reaction p50 / p95 ms | within 250 ms | prompt gap after an ack p50 ms |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for row in rows:
            o = row["over_prompt"]

            def frac(name: str, o=o) -> str:
                return f"{o[name]['stopped']} / {o[name]['over_prompt']}" if name in o else "-"

            barge = o.get("bargein", {})
            acks = o.get("acks", {})
            out.append(
                f"| {row['label']} | {frac('acks')} | {acks.get('logged_as_ack', '-')} | {frac('noise')} | "
                f"{frac('bargein')} | {_pair(barge.get('reaction_ms', {}))} | "
                f"{barge.get('within_250_ms', '-')} | {acks.get('gap_ms', {}).get('p50', '-')} |"
            )
        out.append("")
    live = report.get("live")
    if live and live.get("skipped"):
        out += [f"Live SIP: skipped ({live['skipped']})", ""]
    elif live:
        out += [
            "Live SIP (baresip -> voicebot sip on 127.0.0.1, default configuration, one call at a time, ms; "
            f"baresip jitter buffer {live['setup'].get('baresip_jitter_buffer_packets', '5-10')} packets)",
            "",
            "| set | calls | gap in baresip's recordings p50 / p95 | of which baresip's jitter buffer p50 | "
            "server's own v2v p50 / p95 | simulated, same clips, same run p50 / p95 | premature | "
            "overlap / no reply |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for set_name, s in live["sets"].items():
            out.append(
                f"| {set_name} | {s['calls']} | {_pair(s['gap_ms'])} | {s.get('heard_offset_ms', {}).get('p50', '-')} | "
                f"{_pair(s['server_v2v_ms'])} | {_pair(s.get('simulated_v2v_ms', {}))} | {s['premature']} | "
                f"{s['overlap']} / {s['no_reply']} |"
            )
        out.append("")
    out.append("Targets: " + "; ".join(f"{k}: {v}" for k, v in TARGETS.items()))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    parser.add_argument("--only", help="substring of the configuration labels to run")
    parser.add_argument(
        "--sets",
        default=",".join(CLIP_SETS + PROMPT_SETS),
        help="which of shared, multi, acks, bargein, noise to run (--audio-dir always runs)",
    )
    parser.add_argument(
        "--audio-dir", type=Path, help="another clip folder (manifest.tsv), run as set dir:NAME"
    )
    parser.add_argument(
        "--turn-sets",
        type=Path,
        help="where scripts/make_turn_sets.py wrote the sets (default: its cache folder, built when missing)",
    )
    parser.add_argument(
        "--limit", type=int, default=0, help="at most N items per set (0: all), for a quick look"
    )
    parser.add_argument("--levels", default="1,2,4,8,16", help="concurrency levels; empty to skip the sweep")
    parser.add_argument("--plot", type=Path, default=REPO / "var" / "bench" / "latency_sweep.png")
    parser.add_argument("--save", type=Path, default=REPO / "var" / "bench" / "latency.json")
    parser.add_argument("--peer", action="store_true", help="also run the Pipecat anchor on the same clips")
    parser.add_argument("--live", action="store_true", help="also measure calls over real SIP (baresip)")
    parser.add_argument("--live-sets", default="shared,multi", help="clip sets for --live")
    parser.add_argument("--live-limit", type=int, default=0, help="at most N live calls per set (0: all)")
    parser.add_argument(
        "--live-jitter",
        default="5-10",
        help="baresip's jitter_buffer_delay in 20 ms packets (its default 5-10)",
    )
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
    parser.add_argument(
        "--tables", type=Path, metavar="REPORT", help="only print the tables of a saved report"
    )
    args = parser.parse_args(argv)
    if args.tables:
        print(tables(json.loads(args.tables.read_text(encoding="utf-8"))))
        return 0

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    wanted = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = set(wanted) - set(CLIP_SETS + PROMPT_SETS)
    if unknown:
        parser.error(f"unknown set(s) {', '.join(sorted(unknown))}")
    built = None
    if any(s != "shared" for s in wanted):
        built = turn_sets.ensure_built(args.turn_sets)
    clip_sets: dict[str, list[Clip]] = {}
    if "shared" in wanted:
        clip_sets["shared"] = load_clips(SHARED_AUDIO)
    if "multi" in wanted:
        clip_sets["multi"] = load_clips(built / "multi")
    if args.audio_dir:
        clip_sets[f"dir:{args.audio_dir.name}"] = load_clips(args.audio_dir)
    prompt_sets = {name: turn_sets.load_set(built / name) for name in PROMPT_SETS if name in wanted}
    if args.limit:
        clip_sets = {name: clips[: args.limit] for name, clips in clip_sets.items()}
        prompt_sets = {name: items[: args.limit] for name, items in prompt_sets.items()}
    setups = [
        replace(s, stt=replace(s.stt, device=args.device))
        for s in SETUPS
        if not args.only or args.only in s.label
    ]
    if not setups:
        parser.error(f"no configuration label contains {args.only!r}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
        parts = Components(Path(cache))
        rows = run_setups(parts, setups, clip_sets, prompt_sets, log)
        default = next((s for s in setups if "(default)" in s.label), setups[0])
        levels = [int(x) for x in args.levels.split(",") if x.strip()]
        if args.sweep_workers > 1:
            threads = max(1, default.stt.cpu_threads // args.sweep_workers)
            default = replace(
                default, stt=replace(default.stt, workers=args.sweep_workers, cpu_threads=threads)
            )
        sweep_clips = clip_sets.get("shared") or load_clips(SHARED_AUDIO)
        sweep_rows = sweep(parts, default, sweep_clips, levels, log, args.sweep_queue) if levels else []
    report: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "device": args.device,
        },
        "commit": _commit(),
        "clip_sets": {name: len(clips) for name, clips in clip_sets.items()},
        "prompt_sets": {name: len(items) for name, items in prompt_sets.items()},
        "turn_sets_dir": str(built) if built else None,
        "configurations": rows,
        "concurrency": sweep_rows,
        "targets": TARGETS,
    }
    if sweep_rows and args.plot:
        plot(sweep_rows, args.plot)
        report["plot"] = str(args.plot)
    default_row = next(r for r in rows if r["label"] == default.label)
    if args.peer:
        from models.catalog import find_whisper_model

        model_dir = find_whisper_model("base").path
        report["peer"] = {}
        for set_name, clips in clip_sets.items():
            log(f"peer: Pipecat anchor on {set_name} ({len(clips)} clips)")
            peer = run_peer(model_dir, clips, log)
            if peer is None:
                continue
            summary = peer_summary(peer)
            ours = default_row["sets"][set_name]["stages_ms"]["voice_to_voice"]
            theirs = summary["voice_to_voice_ms"]
            summary["ours_over_peer"] = {
                k: round(ours[k] / theirs[k], 3) for k in ("p50", "p95") if theirs.get(k) and ours.get(k)
            }
            summary["raw"] = peer
            report["peer"][set_name] = summary
    if args.live:
        from benchmarks import live

        live_sets = {
            name: clips
            for name, clips in clip_sets.items()
            if name in args.live_sets.split(",") or name.startswith("dir:")
        }
        report["live"] = live.run(live_sets, log, limit=args.live_limit, jitter=args.live_jitter)
        for set_name, summary in report["live"]["sets"].items():
            calls = {c["clip"] for c in summary["results"]}
            simulated = [
                c["voice_to_voice_ms"]
                for c in default_row["sets"][set_name]["calls"]
                if c["clip"] in calls and "voice_to_voice_ms" in c
            ]
            summary["simulated_v2v_ms"] = distribution(simulated)
    report["wall_s"] = round(time.perf_counter() - started, 1)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        log(f"report written to {args.save}")
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(tables(report))
    return 0


def _commit() -> str | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


if __name__ == "__main__":
    sys.exit(main())
