"""The dialog on recorded questions, per telephone channel (issue 15).

    python -m benchmarks.dialog --audio-dir DIR [--channel all | --channel wideband --channel g711u ...]

``DIR`` holds WAVs and a ``manifest.tsv`` in the shared clips' format (file, language, transcript, ...),
optionally with the eval set's labels in two more columns: ``expect`` (an intent id, ``escalate``,
``out_of_scope`` or ``not_emergency``, as in ``dialog/data/dialog_eval.yaml``) and ``reason`` (for
``escalate``). Each clip goes through each simulated line (``benchmarks.channels``), the production
recogniser (``STTConfig()``: faster-whisper base int8, adaptive window, beam 5, Korean with the language
switch), and the dialog (``DialogEngine.ask``, single shot, as the eval set is run); ``dialog.evaluate``
scores the transcripts of each channel as it scores the eval set; "handled as labelled" is the share of
all clips (in scope, escalations, out of scope) the dialog handled as their label asks.

Without an ``expect`` column, each clip is labelled with what the dialog does with its exact transcript:
the intent it answers, offers or hands to staff, the escalation and its reason, or out of scope. The
figures are then the agreement of the recognised words' handling with the handling of the words said,
and the ``transcript`` row is 100 % by construction. With labels, the ``transcript`` row is the ceiling:
the dialog on perfect recognition.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.channels import CHANNELS
from benchmarks.metrics import character_error_rate
from dialog import DialogEngine
from dialog.evaluate import run as run_eval
from dialog.turns import Action
from media.audio import load_audio, resample
from stt import STTConfig, Transcriber, create_transcriber

# The figures of dialog.evaluate printed per channel, and the difference to wideband in points.
FIGURES = (
    "intent_accuracy",
    "answered_accuracy",
    "wrong_answer_rate",
    "escalation_recall",
    "emergency_recall",
    "oos_false_answer_rate",
)


@dataclass(frozen=True)
class RecordedQuestion:
    file: str
    language: str
    transcript: str
    expect: str | None
    reason: str | None
    samples: np.ndarray


class ManifestError(ValueError):
    """A recorded-question folder that cannot be read: no manifest, a missing column or audio file."""


def load_questions(directory: Path) -> list[RecordedQuestion]:
    manifest = directory / "manifest.tsv"
    if not manifest.is_file():
        raise ManifestError(f"{manifest}: no manifest.tsv (file, language, transcript[, expect, reason])")
    questions = []
    with open(manifest, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = {"file", "language", "transcript"} - set(reader.fieldnames or ())
        if missing:
            raise ManifestError(f"{manifest}: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            path = directory / row["file"]
            if not path.is_file():
                raise ManifestError(f"{manifest}:{line}: {row['file']} does not exist")
            expect = (row.get("expect") or "").strip() or None
            reason = (row.get("reason") or "").strip() or None
            if expect == "escalate" and reason is None:
                raise ManifestError(f"{manifest}:{line}: expect escalate needs a reason")
            samples = load_audio(path).samples  # AudioError names the file when it is not audio
            questions.append(
                RecordedQuestion(row["file"], row["language"], row["transcript"], expect, reason, samples)
            )
    if not questions:
        raise ManifestError(f"{manifest}: no clips")
    return questions


def label_from_transcript(engine: DialogEngine, text: str, language: str) -> dict[str, str]:
    """What the dialog does with the words said, as an eval label."""
    turn = engine.ask(text, language)
    if turn.intent is not None:
        return {"expect": turn.intent}
    if turn.action is Action.ESCALATE and turn.handoff is not None:
        reason = str(turn.handoff.reason)
        return {"expect": "escalate", "reason": reason}
    return {"expect": "out_of_scope"}


def _label(engine: DialogEngine, question: RecordedQuestion) -> dict[str, str]:
    if question.expect is None:
        return label_from_transcript(engine, question.transcript, question.language)
    label = {"expect": question.expect}
    if question.reason:
        label["reason"] = question.reason
    return label


def run(
    engine: DialogEngine,
    questions: list[RecordedQuestion],
    channels: list[str],
    transcriber: Transcriber | None = None,
    log=lambda message: None,
) -> dict[str, Any]:
    """Per channel: Korean CER of the recognised words and the dialog figures on them."""
    transcriber = transcriber or create_transcriber(STTConfig())
    labelled = all(q.expect is not None for q in questions)
    labels = [_label(engine, q) for q in questions]
    rows: dict[str, dict[str, Any]] = {}
    texts = {"transcript": [(q.transcript, q.language) for q in questions]}
    transcriber.transcribe(questions[0].samples, language="ko")  # warm-up
    for channel in channels:
        heard = []
        for question in questions:
            result = transcriber.transcribe(CHANNELS[channel](question.samples, resample), language="ko")
            heard.append((result.text, result.language))
        texts[channel] = heard
    for name, pairs in texts.items():
        items = [
            {"text": text or " ", "lang": language, **label}
            for (text, language), label in zip(pairs, labels, strict=True)
        ]
        evaluation = run_eval(engine, items, max_errors=len(items))
        in_scope = evaluation.report["in_scope_items"]  # the same labels on every line
        korean = [
            character_error_rate(q.transcript, text)
            for q, (text, _) in zip(questions, pairs, strict=True)
            if q.language == "ko"
        ]
        row: dict[str, Any] = {
            "korean_cer": round(float(np.mean(korean)), 4) if korean else None,
            "handled_as_labelled": round(float(np.mean([r.ok for r in evaluation.results])), 4),
            **{figure: evaluation.report[figure] for figure in FIGURES},
            "clips": [
                {
                    "file": q.file,
                    "heard": text,
                    "expect": r.expect,
                    "action": r.action,
                    "intent": r.intent,
                    "ok": r.ok,
                }  # fmt: skip
                for q, (text, _), r in zip(questions, pairs, evaluation.results, strict=True)
            ],
        }
        rows[name] = row
        log(f"{name:10} CER {row['korean_cer']}  intent accuracy {row['intent_accuracy']}")
    base = rows.get("wideband")
    if base is not None:
        for row in rows.values():
            for figure in ("intent_accuracy", "handled_as_labelled"):
                ours, theirs = row[figure], base[figure]
                row[f"{figure}_minus_wideband_points"] = (
                    round(100 * (ours - theirs), 2) if ours is not None and theirs is not None else None
                )
    return {
        "clips": len(questions),
        "labels": "manifest" if labelled else "transcript",
        "in_scope": in_scope,
        "channels": rows,
        "target": "intent accuracy on each phone channel within 3 points of wideband",
    }


def table(report: dict[str, Any]) -> str:
    heading = (
        "| line | Korean CER | handled as labelled (vs wideband, points) | intent accuracy (vs wideband) "
        "| answered right | wrong answers | escalation recall | emergency recall | out of scope answered |"
    )
    out = [
        f"{report['clips']} recorded questions, {report['in_scope']} in scope; labels from the "
        f"{report['labels']}",
        "",
        heading,
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f} %"

    def points(value: float | None) -> str:
        return "" if value is None else f" ({value:+.1f})"

    for name, row in report["channels"].items():
        out.append(
            f"| {name} | {pct(row['korean_cer'])} | {pct(row['handled_as_labelled'])}"
            f"{points(row.get('handled_as_labelled_minus_wideband_points'))} | "
            f"{pct(row['intent_accuracy'])}{points(row.get('intent_accuracy_minus_wideband_points'))} | "
            f"{pct(row['answered_accuracy'])} | "
            f"{pct(row['wrong_answer_rate'])} | {pct(row['escalation_recall'])} | "
            f"{pct(row['emergency_recall'])} | {pct(row['oos_false_answer_rate'])} |"
        )
    out.append("")
    out.append(f"Target: {report['target']}.")
    return "\n".join(out)
