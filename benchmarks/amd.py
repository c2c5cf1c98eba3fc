"""Answering-machine detection on the labelled answered-call set (issue 16).

    python -m benchmarks.amd [--json] [--set DIR] [--no-words] [--backend faster-whisper] [--items N]
        [--param NAME=VALUE ...]

Builds the set (``benchmarks/amd_set.py``, ``scripts/make_amd_set.py``) when it is missing, then plays
every item into a fresh ``voicebot.call.amd.AnsweringMachineDetector`` frame by frame (20 ms, 16 kHz,
from the moment of answer), with the call's transcriber (Whisper base through ``stt``, as a SIP call has
it) unless ``--no-words``. A transcription runs inline but its words count only from ``start + its
measured compute time`` on, as the live detector's background thread would deliver them, so the decision
times are a live call's. The far end "hangs up" when its audio ends.

Printed: accuracy of the final outcome (exact: human / voicemail / carrier_message / screened, unknown
counted wrong), accuracy of person-or-machine (the decision the bot acts on: for a person the script
starts, for a machine it stays silent; unknown starts the script, so it is scored as "person"), the
confusion matrix (true label by row), people taken for machines (the COVID-notice policy's error that
matters: a person who gets a voicemail message and is hung up on), decision time p50/p95 for people (from
answer, and from the end of the greeting) and machines, how many machines were decided before the beep,
and when the kind of machine was known. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks import amd_set
from media.audio import PIPELINE_RATE, iter_frames, load_audio
from voicebot.call.amd import AMD_OUTCOMES, MACHINES, AmdConfig, AnsweringMachineDetector

LABELS = ("human", "voicemail", "carrier_message", "screened")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return round(ordered[index], 2)


def detect(path: str, config: AmdConfig, transcriber) -> dict:
    audio = load_audio(path).resampled(PIPELINE_RATE)
    detector = AnsweringMachineDetector(config, transcriber, background=False)
    started = time.perf_counter()
    end_s = 0.0
    for frame in iter_frames(audio, 20):
        detector.process(frame)
        end_s = frame.end_s
        if detector.final and (not detector.decision.machine or detector.message_from_s is not None):
            break
    if not detector.final:
        detector.hangup(end_s)
    detector.close()
    decision = detector.decision
    out = {"wall_s": round(time.perf_counter() - started, 2)}
    if decision is None:
        return {**out, "outcome": "none", "decided_s": None}
    return {**out, **decision.as_dict()}


def run(items: list[dict], config: AmdConfig, transcriber) -> dict:
    rows = []
    for item in items:
        result = detect(item["path"], config, transcriber)
        rows.append(
            {
                "file": item["file"],
                "label": item["label"],
                **{k: item.get(k) for k in ("speech_end_s", "beep_s", "announcement_end_s")},
                "result": result,
            }
        )
    return summarize(rows)


def summarize(rows: list[dict]) -> dict:
    matrix = {label: Counter() for label in LABELS}
    exact = binary = 0
    people_as_machines = []
    human_decided, human_after_speech, machine_decided, typed = [], [], [], []
    before_beep = beeps = 0
    for row in rows:
        label, result = row["label"], row["result"]
        outcome = result["outcome"]
        matrix[label][outcome] += 1
        exact += outcome == label
        machine = outcome in MACHINES
        binary += machine == (label in MACHINES)
        if label == "human":
            if machine:
                people_as_machines.append(row["file"])
            if result.get("decided_s") is not None:
                human_decided.append(result["decided_s"])
                if row.get("speech_end_s") is not None:
                    human_after_speech.append(result["decided_s"] - row["speech_end_s"])
        else:
            if result.get("decided_s") is not None:
                machine_decided.append(result["decided_s"])
            if result.get("typed_s") is not None:
                typed.append(result["typed_s"])
            if row.get("beep_s") is not None:
                beeps += 1
                before_beep += result.get("decided_s") is not None and result["decided_s"] < row["beep_s"]
    n = len(rows)
    columns = [*AMD_OUTCOMES, "none"]
    return {
        "items": n,
        "machines": sum(r["label"] in MACHINES for r in rows),
        "accuracy": round(exact / n, 4) if n else None,
        "person_or_machine_accuracy": round(binary / n, 4) if n else None,
        "people_taken_for_machines": people_as_machines,
        "confusion": {
            "columns": columns,
            "rows": {label: [matrix[label][c] for c in columns] for label in LABELS},
        },
        "decision_s": {
            "human": {
                "p50": percentile(human_decided, 0.5),
                "p95": percentile(human_decided, 0.95),
                "max": max(human_decided, default=None),
            },
            "human_after_greeting_end": {
                "p50": percentile(human_after_speech, 0.5),
                "p95": percentile(human_after_speech, 0.95),
            },
            "machine": {"p50": percentile(machine_decided, 0.5), "p95": percentile(machine_decided, 0.95)},
            "machine_kind_known": {"p50": percentile(typed, 0.5), "p95": percentile(typed, 0.95)},
        },
        "machines_decided_before_beep": f"{before_beep}/{beeps}",
        "people_decided_within_3s": f"{sum(t <= 3.0 for t in human_decided)}/{len(human_decided)}",
        "rows": rows,
    }


def text_report(summary: dict) -> str:
    lines = [
        f"{summary['items']} answered calls ({summary['machines']} machines)",
        f"accuracy (exact outcome) {summary['accuracy']:.1%}, person or machine "
        f"{summary['person_or_machine_accuracy']:.1%}; people taken for machines: "
        f"{len(summary['people_taken_for_machines'])}",
        "",
        "confusion (rows: truth)    " + "  ".join(f"{c[:9]:>9}" for c in summary["confusion"]["columns"]),
    ]
    for label, counts in summary["confusion"]["rows"].items():
        lines.append(f"{label:<26} " + "  ".join(f"{c:>9}" for c in counts))
    d = summary["decision_s"]
    lines += [
        "",
        f"decision time, people: p50 {d['human']['p50']} s, p95 {d['human']['p95']} s after answer "
        f"(p50 {d['human_after_greeting_end']['p50']} s, p95 {d['human_after_greeting_end']['p95']} s "
        f"after the greeting ended); within 3 s of answer: {summary['people_decided_within_3s']}",
        f"decision time, machines: p50 {d['machine']['p50']} s, p95 {d['machine']['p95']} s; "
        f"before the beep: {summary['machines_decided_before_beep']}; kind known p50 "
        f"{d['machine_kind_known']['p50']} s, p95 {d['machine_kind_known']['p95']} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--set", type=Path, default=None, help="the built set (default: the cache dir)")
    parser.add_argument("--no-words", action="store_true", help="timing and beep only, no transcriber")
    parser.add_argument("--backend", default="faster-whisper")
    parser.add_argument("--items", type=int, default=0, help="only the first N items of each label")
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="a detector setting (AmdConfig)"
    )
    args = parser.parse_args(argv)
    directory = amd_set.ensure_built(args.set)
    items = amd_set.load_items(directory)
    if args.items:
        seen: Counter[str] = Counter()
        items = [i for i in items if (seen.update([i["label"]]) or seen[i["label"]] <= args.items)]
    params: dict = {"words": not args.no_words}
    for item in args.param:
        name, _, value = item.partition("=")
        params[name] = value.lower() == "true" if value.lower() in ("true", "false") else float(value)
        if name in ("max_words", "vad_aggressiveness", "beep_min_ms"):
            params[name] = int(params[name])
    config = AmdConfig.from_dict(params)
    transcriber = None
    if not args.no_words:
        from stt import STTConfig, create_transcriber

        transcriber = create_transcriber(STTConfig(backend=args.backend))
    summary = run(items, config, transcriber)
    summary["config"] = {k: v for k, v in config.__dict__.items()}
    summary["words"] = None if transcriber is None else f"Whisper base ({args.backend})"
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(text_report(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
