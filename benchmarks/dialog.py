"""Dialog benchmark: intent accuracy, containment, escalation and latency on the labelled eval set.

    python -m benchmarks.dialog [--json] [--eval dialog/data/dialog_eval.yaml] [--kb PATH]
    python -m benchmarks.dialog --calibrate     # refit the matcher's confidence curve on the KB
    python -m benchmarks.dialog --audio-dir DIR --channel all   # recorded questions per phone line

``--audio-dir``: the dialog on recorded questions after each telephone channel (``benchmarks.dialog_audio``
says how the folder is laid out and labelled).

The evaluation itself (definitions of every figure, and the publish gate built on it) is
``dialog.evaluate``; this command loads the engine, runs it and prints the report.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.channels import CHANNELS
from dialog import KnowledgeBase, load_default_engine
from dialog.evaluate import DEFAULT_EVAL, MAX_LISTED_ERRORS, evaluate, load_eval
from dialog.kb import load_kb
from dialog.matcher import Matcher
from media.audio import AudioError

__all__ = ["DEFAULT_EVAL", "MAX_LISTED_ERRORS", "calibrate", "evaluate", "load_eval", "main"]


# ------------------------------------------------------------------------------------ calibration
# Out-of-scope questions for choosing the matcher's reject floor. Written for calibration only and
# deliberately different from the eval set's out-of-scope items, so the eval stays a held-out test.
CALIBRATION_OOS: tuple[str, ...] = (
    "주말에 볼 만한 드라마 있어요",
    "김치찌개 맛있게 끓이는 법 알려 주세요",
    "연봉 협상 어떻게 하면 잘해요",
    "축구 국가대표 경기 언제 해요",
    "노트북 어떤 거 사는 게 좋아요",
    "헬스장 어디가 좋은지 알려 주세요",
    "영어 공부 잘하는 방법 있나요",
    "오늘 운세 좀 봐 주세요",
    "좋은 책 한 권 추천해 주세요",
    "아파트 지금 사야 돼요 팔아야 돼요",
    "자동차 보험 어디가 제일 싸요",
    "기타 배우고 싶은데 학원 추천해 주세요",
    "결혼식 축의금 얼마 내야 돼요",
    "컴퓨터가 자꾸 혼자 꺼져요",
    "와이파이 비밀번호 뭐예요",
    "라면 몇 분 끓여야 맛있어요",
    "잠이 안 오는데 어떻게 해요",
    "지금 몇 시예요",
    "저녁에 배달 음식 뭐 시킬까요",
    "아이돌 콘서트 표 구하는 방법 알려 주세요",
    "휴대폰 요금제 할인 받는 방법",
    "중고차 시세 알려 주세요",
    "피아노 조율 어디서 해요",
    "등산하기 좋은 산 추천해 주세요",
    "회사 상사가 너무 싫어요",
    "골프 잘 치는 법 알려 주세요",
    "시험 공부 계획 좀 짜 주세요",
    "넷플릭스 해지하는 방법",
    "주식 계좌 만들려면 어떻게 해요",
    "이 노래 제목이 뭐예요",
)


def calibrate(kb: KnowledgeBase, folds: int = 5) -> dict[str, Any]:
    """Fit conf = sigmoid(slope * (score - offset)) on K-fold held-out KB questions (no eval data),
    and report, under the configured curve, how held-out precision and the out-of-scope calibration
    questions move with the answer threshold and the reject floor."""
    from kiwipiepy import Kiwi

    kiwi = Kiwi()
    scores: list[float] = []
    labels: list[int] = []
    for fold in range(folds):
        kept, held = [], []
        for entry in kb.entries:
            qs = entry.questions
            train = tuple(q for i, q in enumerate(qs) if i % folds != fold) or qs[:1]
            test = [q for i, q in enumerate(qs) if i % folds == fold and q not in train]
            kept.append(_replace_questions(entry, train))
            held.extend((q, entry) for q in test)
        fold_kb = KnowledgeBase(kept, kb.synonyms, kb.lexicon, kb.slot_values, kb.source)
        matcher = Matcher(fold_kb, kiwi=kiwi)
        for question, entry in held:
            top = matcher.rank(question, entry.lang, limit=1)
            if top:
                scores.append(top[0].score)
                labels.append(int(top[0].entry.id == entry.id))
    full = Matcher(kb, kiwi=kiwi)
    held_conf = np.asarray([full.calibrate(v) for v in scores])
    oos_conf = np.asarray([c[0].confidence for q in CALIBRATION_OOS if (c := full.rank(q, "ko", limit=1))])
    x = np.asarray(scores)
    y = np.asarray(labels, dtype=float)
    a, b = 1.0, 0.0  # logistic regression on one feature: p = sigmoid(a * x + b)
    for _ in range(20000):
        p = 1.0 / (1.0 + np.exp(-(a * x + b)))
        a -= 0.5 * float(np.mean((p - y) * x))
        b -= 0.5 * float(np.mean(p - y))
    return {
        "held_out_questions": len(labels),
        "top1_accuracy": round(float(y.mean()), 4),
        "calibration_slope": round(a, 3),
        "calibration_offset": round(-b / a, 3) if a else math.nan,
        "configured_curve": {
            "slope": full.config.calibration_slope,
            "offset": full.config.calibration_offset,
        },
        # Under the configured curve: share of held-out questions at or above a confidence, and how
        # many of those are right; share of out-of-scope calibration questions at or above it.
        "by_confidence": {
            f"{t:.2f}": {
                "held_out_share": round(float((held_conf >= t).mean()), 3),
                "held_out_precision": round(float(y[held_conf >= t].mean()), 3)
                if (held_conf >= t).any()
                else None,
                "oos_share": round(float((oos_conf >= t).mean()), 3),
            }
            for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
        },
        "oos_max_confidence": round(float(oos_conf.max()), 3) if oos_conf.size else None,
    }


def _replace_questions(entry: Any, questions: tuple[str, ...]) -> Any:
    import dataclasses

    return dataclasses.replace(entry, questions=questions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dialog", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--eval", default=str(DEFAULT_EVAL), help="labelled eval YAML")
    parser.add_argument("--kb", default=None, help="knowledge base YAML (default: packaged sample)")
    parser.add_argument("--max-errors", type=int, default=MAX_LISTED_ERRORS)
    parser.add_argument("--calibrate", action="store_true", help="refit the confidence curve on the KB")
    parser.add_argument(
        "--audio-dir", type=Path, help="recorded questions (manifest.tsv): the dialog per phone line"
    )
    parser.add_argument(
        "--channel",
        action="append",
        choices=[*CHANNELS, "all"],
        help="with --audio-dir: a simulated line (repeatable; default all)",
    )
    args = parser.parse_args(argv)

    if args.calibrate:
        print(json.dumps(calibrate(load_kb(args.kb)), ensure_ascii=False, indent=2))
        return 0
    start = time.perf_counter()
    engine = load_default_engine(args.kb)
    load_s = time.perf_counter() - start
    if args.audio_dir:
        return _recorded(engine, args)
    report = evaluate(engine, load_eval(args.eval), args.max_errors)
    report["engine_load_s"] = round(load_s, 2)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    for key, value in report.items():
        if key != "misclassified":
            print(f"{key:28s} {value}")
    print(f"misclassified (first {len(report['misclassified'])}):")
    for err in report["misclassified"]:
        print(
            f"  {err['text']!r}: expected {err['expect']}, got {err['action']} {err['intent']} "
            f"{err['reason'] or ''} ({err['confidence']})"
        )
    return 0


def _recorded(engine, args: argparse.Namespace) -> int:
    from benchmarks import dialog_audio

    wanted = args.channel or ["all"]
    channels = list(CHANNELS) if "all" in wanted else list(dict.fromkeys(wanted))
    try:
        questions = dialog_audio.load_questions(args.audio_dir)
    except (dialog_audio.ManifestError, AudioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = dialog_audio.run(engine, questions, channels, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(report, ensure_ascii=False) if args.json else dialog_audio.table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
