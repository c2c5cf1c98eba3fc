"""STT accuracy and speed on the shared recordings, every configuration side by side in one run.

    python -m benchmarks.stt --json            # all configurations
    python -m benchmarks.stt --only faster     # just the faster-whisper rows
    python -m benchmarks.stt --channel all --json   # Korean CER per telephone channel, side by side
    python -m benchmarks.stt --channel g711u --channel g722 --variant default --variant prompt

For each configuration (backend, compute type, encoder window strategy, beam size): Korean CER (spaces and
punctuation ignored, numbers spelled out), English WER, the real-time factor (total decode time / total
audio), per-clip decode time p50/p95, and ratios to the baseline (faster-whisper int8, 30 s window, beam 5).
"English on ko": the English clips decoded on the Korean default (language "ko"), the way an English caller
reaches the voicebot: WER, RTF and the languages the recogniser reported (stt/language.py switches them).
Each model is warmed up on one clip before timing.

``--channel`` (issue 15) runs the production recogniser (``STTConfig()``: faster-whisper int8, adaptive
window, beam 5) on the Korean clips after each simulated telephone line (benchmarks/channels.py: wideband,
g711u, g711a, g722, loss1, loss3), once per ``--variant`` (front-end or decoding options, see VARIANTS),
and prints CER per channel and variant side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.channels import CHANNELS, UPSAMPLERS
from benchmarks.frontends import FRONTENDS
from benchmarks.metrics import character_error_rate, word_error_rate
from media.audio import load_audio
from stt import STTConfig, create_transcriber

SHARED_AUDIO = Path(
    os.environ.get("VOICEBOT_SHARED_AUDIO", Path(__file__).resolve().parents[2] / "shared" / "audio")
)


@dataclass(frozen=True)
class Setup:
    label: str
    backend: str
    window: str
    beam: int
    compute_type: str | None = None


SETUPS = (
    Setup("faster int8 full beam5 (baseline)", "faster-whisper", "full", 5),
    Setup("faster int8 adaptive beam5", "faster-whisper", "adaptive", 5),
    Setup("faster int8 adaptive beam1", "faster-whisper", "adaptive", 1),
    Setup("faster int8 trim beam5", "faster-whisper", "trim", 5),
    Setup("openai int8 full beam5", "openai-whisper", "full", 5),
    Setup("openai int8 adaptive beam5", "openai-whisper", "adaptive", 5),
    Setup("openai int8 adaptive beam1", "openai-whisper", "adaptive", 1),
)


@dataclass(frozen=True)
class Variant:
    """One front-end/decoding choice tried on every channel: STTConfig overrides plus a front end."""

    overrides: tuple[tuple[str, object], ...] = ()
    frontend: str = "none"
    kb_prompt: bool = False
    kb_hotwords: bool = False
    upsampler: str = "production"  # 8 kHz -> 16 kHz in the narrowband channels


VARIANTS = {
    "default": Variant(),
    "beam1": Variant((("beam_size", 1),)),
    "beam8": Variant((("beam_size", 8),)),
    "no-fallback": Variant((("temperatures", (0.0,)),)),
    "window15": Variant((("short_window_s", 0.0),)),  # one 15 s floor, before the 10 s short window
    "no-speech-0.8": Variant((("no_speech_threshold", 0.8), ("compression_ratio_threshold", 2.8))),
    "normalise": Variant(frontend="normalise"),
    "pre-emphasis": Variant(frontend="pre-emphasis"),
    "hq-upsample": Variant(upsampler="hq"),
    "fold10": Variant(upsampler="fold10"),
    "fold30": Variant(upsampler="fold30"),
    "noise30": Variant(upsampler="noise30"),
    "noise45": Variant(upsampler="noise45"),
    "noise25": Variant(upsampler="noise25"),
    "noise35": Variant(upsampler="noise35"),
    "prompt": Variant(kb_prompt=True),
    "hotwords": Variant(kb_hotwords=True),
}


def variant_config(variant: Variant, device: str) -> STTConfig:
    options = dict(variant.overrides)
    if variant.kb_prompt or variant.kb_hotwords:
        from benchmarks.vocabulary import recognition_prompt

        text = recognition_prompt()
        options["initial_prompt" if variant.kb_prompt else "hotwords"] = text
    return STTConfig(device=device, **options)


def run_channels(channels: list[str], variants: list[str], clips, device: str, json_out: bool) -> dict:
    """CER of the Korean clips per (variant, channel); the channel audio is made once per clip."""
    korean = [c for c in clips if c[1] == "ko"]
    results: dict[str, dict] = {}
    for name in variants:
        variant = VARIANTS[name]
        up = UPSAMPLERS[variant.upsampler]
        lines = {ch: [CHANNELS[ch](samples, up) for _, _, _, samples in korean] for ch in channels}
        transcriber = create_transcriber(variant_config(variant, device))
        frontend = FRONTENDS[variant.frontend]
        transcriber.transcribe(frontend(korean[0][3]), language="ko")  # warm-up
        row: dict[str, dict] = {}
        for channel in channels:
            scores, texts, elapsed, audio = [], [], 0.0, 0.0
            for (_, _, reference, _), samples in zip(korean, lines[channel], strict=True):
                result = transcriber.transcribe(frontend(samples), language="ko")
                scores.append(character_error_rate(reference, result.text))
                texts.append(result.text)
                elapsed += result.elapsed_s
                audio += result.audio_s
            row[channel] = {"cer": round(float(np.mean(scores)), 4), "rtf": round(elapsed / audio, 3),
                            "per_clip": [round(x, 4) for x in scores], "texts": texts}  # fmt: skip
            if not json_out:
                print(f"{name:14} {channel:9} CER {row[channel]['cer']:.4f}  RTF {row[channel]['rtf']}",
                      file=sys.stderr)  # fmt: skip
        results[name] = row
    return results


def print_channel_table(results: dict, channels: list[str]) -> None:
    print(f"{'variant':14} " + " ".join(f"{c:>9}" for c in channels))
    for name, row in results.items():
        print(f"{name:14} " + " ".join(f"{100 * row[c]['cer']:8.2f}%" for c in channels))


def load_clips(directory: Path) -> list[tuple[str, str, str, np.ndarray]]:
    rows = []
    with open(directory / "manifest.tsv", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            name, language, transcript = line.rstrip("\n").split("\t")[:3]
            rows.append((name, language, transcript, load_audio(directory / name).samples))
    return rows


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def run_setup(setup: Setup, clips, device: str) -> dict:
    config = STTConfig(backend=setup.backend, window=setup.window, beam_size=setup.beam, device=device,
                       compute_type=setup.compute_type)  # fmt: skip
    transcriber = create_transcriber(config)
    transcriber.transcribe(clips[0][3], language=clips[0][1])  # warm-up
    per_clip, ko_cer, en_wer, elapsed, audio = [], [], [], 0.0, 0.0
    for name, language, reference, samples in clips:
        result = transcriber.transcribe(samples, language=language)
        elapsed += result.elapsed_s
        audio += result.audio_s
        if language == "ko":
            score = character_error_rate(reference, result.text)
            ko_cer.append(score)
        else:
            score = word_error_rate(reference, result.text)
            en_wer.append(score)
        per_clip.append({"file": name, "error_rate": round(score, 4), "elapsed_s": round(result.elapsed_s, 3),
                         "window_s": result.window_s, "text": result.text})  # fmt: skip
    times = [c["elapsed_s"] for c in per_clip]
    foreign_wer, foreign_elapsed, foreign_audio, foreign_languages = [], 0.0, 0.0, []
    for _, language, reference, samples in clips:
        if language == "ko":
            continue
        result = transcriber.transcribe(samples, language="ko")
        foreign_wer.append(word_error_rate(reference, result.text))
        foreign_elapsed += result.elapsed_s
        foreign_audio += result.audio_s
        foreign_languages.append(result.language)
    return {
        "label": setup.label,
        "backend": setup.backend,
        "compute_type": getattr(transcriber, "compute_type", None),
        "window": setup.window,
        "beam_size": setup.beam,
        "korean_cer": round(float(np.mean(ko_cer)), 4) if ko_cer else None,
        "english_wer": round(float(np.mean(en_wer)), 4) if en_wer else None,
        "rtf": round(elapsed / audio, 4),
        "clip_time_p50_s": round(percentile(times, 50), 3),
        "clip_time_p95_s": round(percentile(times, 95), 3),
        "english_on_ko_wer": round(float(np.mean(foreign_wer)), 4) if foreign_wer else None,
        "english_on_ko_rtf": round(foreign_elapsed / foreign_audio, 4) if foreign_audio else None,
        "english_on_ko_languages": foreign_languages,
        "clips": per_clip,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", help="substring of the configuration labels to run")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--audio-dir", type=Path, default=SHARED_AUDIO)
    parser.add_argument("--korean-only", action="store_true")
    parser.add_argument("--channel", action="append", choices=[*CHANNELS, "all"],
                        help="Korean CER after this telephone channel (repeatable; 'all': every one)")  # fmt: skip
    parser.add_argument("--variant", action="append", choices=list(VARIANTS),
                        help="with --channel: front-end/decoding variant (repeatable; default: 'default')")  # fmt: skip
    args = parser.parse_args(argv)

    clips = load_clips(args.audio_dir)
    if args.channel:
        channels = list(CHANNELS) if "all" in args.channel else list(dict.fromkeys(args.channel))
        started = time.perf_counter()
        results = run_channels(channels, args.variant or ["default"], clips, args.device, args.json)
        if args.json:
            report = {"channels": channels, "clips": sum(c[1] == "ko" for c in clips),
                      "variants": results, "wall_s": round(time.perf_counter() - started, 1)}  # fmt: skip
            print(json.dumps(report, ensure_ascii=False))
        else:
            print_channel_table(results, channels)
        return 0
    if args.korean_only:
        clips = [c for c in clips if c[1] == "ko"]
    setups = [s for s in SETUPS if not args.only or args.only in s.label]
    started = time.perf_counter()
    rows = []
    for setup in setups:
        rows.append(run_setup(setup, clips, args.device))
        if not args.json:
            r = rows[-1]
            print(
                f"{r['label']:36} CER {r['korean_cer']}  WER {r['english_wer']}  RTF {r['rtf']}  "
                f"English on ko: WER {r['english_on_ko_wer']} RTF {r['english_on_ko_rtf']}",
                file=sys.stderr,
            )
    baseline = rows[0]
    for row in rows:
        row["rtf_vs_baseline"] = round(row["rtf"] / baseline["rtf"], 3)
        if row["korean_cer"] is not None and baseline["korean_cer"] is not None:
            row["cer_minus_baseline"] = round(row["korean_cer"] - baseline["korean_cer"], 4)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "device": args.device,
        },  # fmt: skip
        "clips": {"korean": sum(c[1] == "ko" for c in clips), "english": sum(c[1] == "en" for c in clips)},
        "configurations": rows,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        for row in rows:
            print(f"{row['label']:36} CER {row['korean_cer']}  WER {row['english_wer']}  RTF {row['rtf']}  "
                  f"x{row['rtf_vs_baseline']} baseline  English on ko: WER {row['english_on_ko_wer']} "
                  f"RTF {row['english_on_ko_rtf']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
