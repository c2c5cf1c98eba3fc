"""The dialog evaluation on a labelled set: intent accuracy, containment, escalation, and the publish gate.

``python -m benchmarks.dialog`` prints :func:`evaluate`'s report; the server runs :func:`gate` before a
knowledge-base version is published (the staff console's 상담 지식 tab). Every item goes through
``DialogEngine.ask`` (single shot, as ``voicebot ask``). Definitions:

- intent_accuracy: in-scope items whose top intent is the expected one (even if the bot asks a
  clarifying question that offers it); answered_accuracy: answered (or handed over for a
  requires_staff entry) with the expected intent and no clarification; wrong_answer_rate: in-scope
  items answered with a wrong intent (the harmful case).
- containment_rate: in-scope items the bot answers itself (action answer, no human).
- escalation precision/recall: expected escalations are items labelled ``escalate`` plus in-scope
  items whose KB entry requires staff; recall is also given per labelled reason (emergency recall
  requires the emergency reason, so that the reply names 119/112).
- oos_false_answer_rate: out-of-scope items that got an answer.
- emergency_precision/recall: over every item, escalations for an emergency (the reply names
  119/112/109 and the call is transferred) against the items labelled ``reason: emergency``.
- latency_ms: wall time of ``ask`` per item (normalisation, rules, morphemes, matching).

An item whose expected entry is missing from the knowledge base (a draft deleted it) counts as an
in-scope item that cannot be right.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .engine import DialogEngine
from .turns import Action

# The labelled set shipped with the product (package data, so an installed server has it too); a centre
# points the server at its own with knowledge.eval_path.
DEFAULT_EVAL = Path(__file__).resolve().parent / "data" / "dialog_eval.yaml"
MAX_LISTED_ERRORS = 40


def load_eval(path: str | Path = DEFAULT_EVAL) -> list[dict[str, Any]]:
    items = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["items"]
    for i, item in enumerate(items, start=1):
        if not item.get("text") or not item.get("expect"):
            raise ValueError(f"{path}: item #{i} needs 'text' and 'expect'")
        if item["expect"] == "escalate" and not item.get("reason"):
            raise ValueError(f"{path}: item #{i} expects escalate but has no 'reason'")
    return items


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


@dataclass(frozen=True)
class ItemResult:
    """How the engine handled one eval item; ``ok``: as the label asks."""

    text: str
    expect: str  # the label; "escalate:<reason>" for escalations
    ok: bool
    action: str
    intent: str | None
    reason: str | None
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "expect": self.expect,
            "action": self.action,
            "intent": self.intent,
            "reason": self.reason,
            "confidence": round(self.confidence, 3),
        }


@dataclass(frozen=True)
class Evaluation:
    report: dict[str, Any]
    results: tuple[ItemResult, ...] = field(repr=False)


def run(
    engine: DialogEngine, items: Sequence[dict[str, Any]], max_errors: int = MAX_LISTED_ERRORS
) -> Evaluation:
    """The report of :func:`evaluate` and every item's result."""
    kb = engine.kb
    for item in items[:3]:  # warm-up, so that the first timings are not lazy initialisation
        engine.ask(item["text"], item.get("lang", "ko"))

    timings: list[float] = []
    results: list[ItemResult] = []
    n_scope = top1 = answered_ok = clarified = wrong_answers = contained = 0
    per_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    esc_expected = esc_predicted = esc_hit = 0
    reason_total: dict[str, int] = defaultdict(int)
    reason_hit: dict[str, int] = defaultdict(int)
    n_oos = oos_answered = 0
    emergency_predicted = n_not_emergency = false_emergencies = 0

    for item in items:
        text, expect = item["text"], item["expect"]
        start = time.perf_counter()
        turn = engine.ask(text, item.get("lang", "ko"), item.get("menu"))
        timings.append((time.perf_counter() - start) * 1000.0)
        escalated = turn.action is Action.ESCALATE
        reason = str(turn.handoff.reason) if turn.handoff else None
        esc_predicted += escalated
        is_emergency = escalated and reason == "emergency"
        emergency_predicted += is_emergency
        ok = True

        if expect == "not_emergency":
            n_not_emergency += 1
            false_emergencies += is_emergency
            ok = not is_emergency
        elif expect == "out_of_scope":
            n_oos += 1
            if turn.action is Action.ANSWER:
                oos_answered += 1
                ok = False
        elif expect == "escalate":
            esc_expected += 1
            esc_hit += escalated
            want = item["reason"]
            reason_total[want] += 1
            hit = escalated and (reason == want if want == "emergency" else True)
            reason_hit[want] += hit
            ok = hit
        else:
            entry = kb.get(expect) if expect in kb else None
            category = entry.category if entry else expect.split(".", 1)[0]
            requires_staff = entry.requires_staff if entry else False
            n_scope += 1
            per_cat[category][1] += 1
            correct = entry is not None and turn.intent == expect
            top1 += correct
            per_cat[category][0] += correct
            expected_action = Action.ESCALATE if requires_staff else Action.ANSWER
            answered_ok += correct and turn.action is expected_action
            clarified += turn.action is Action.CLARIFY
            wrong_answers += turn.action is Action.ANSWER and not correct
            contained += turn.action is Action.ANSWER
            if requires_staff:
                esc_expected += 1
                esc_hit += escalated
            ok = correct
        label = expect if expect != "escalate" else f"escalate:{item['reason']}"
        results.append(
            ItemResult(text, label, ok, str(turn.action), turn.intent, reason, float(turn.confidence))
        )

    lat = np.asarray(timings)
    report = {
        "items": len(items),
        "in_scope_items": n_scope,
        "intent_accuracy": _rate(top1, n_scope),
        "answered_accuracy": _rate(answered_ok, n_scope),
        "clarify_rate": _rate(clarified, n_scope),
        "wrong_answer_rate": _rate(wrong_answers, n_scope),
        "containment_rate": _rate(contained, n_scope),
        "escalation_precision": _rate(esc_hit, esc_predicted),
        "escalation_recall": _rate(esc_hit, esc_expected),
        "escalation_recall_by_reason": {
            r: _rate(reason_hit[r], reason_total[r]) for r in sorted(reason_total)
        },
        "emergency_recall": _rate(reason_hit["emergency"], reason_total["emergency"]),
        "emergency_precision": _rate(reason_hit["emergency"], emergency_predicted),
        "not_emergency_items": n_not_emergency,
        "false_emergencies": false_emergencies,
        "explicit_request_recall": _rate(reason_hit["agent_request"], reason_total["agent_request"]),
        "oos_items": n_oos,
        "oos_false_answer_rate": _rate(oos_answered, n_oos),
        "per_category_accuracy": {c: _rate(v[0], v[1]) for c, v in sorted(per_cat.items())},
        "latency_ms": {
            "p50": round(float(np.percentile(lat, 50)), 2),
            "p95": round(float(np.percentile(lat, 95)), 2),
        },
        "misclassified": [r.to_dict() for r in results if not r.ok][:max_errors],
    }
    return Evaluation(report, tuple(results))


def evaluate(
    engine: DialogEngine, items: Sequence[dict[str, Any]], max_errors: int = MAX_LISTED_ERRORS
) -> dict[str, Any]:
    """The figures above and the first ``max_errors`` items handled against their label."""
    return run(engine, items, max_errors).report


# ------------------------------------------------------------------------------------ publish gate
GATE_FIGURES = ("intent_accuracy", "answered_accuracy", "wrong_answer_rate", "containment_rate")


@dataclass(frozen=True)
class GateResult:
    """A candidate knowledge base against the one in service on the same eval set. It passes when its
    intent accuracy is not lower and no item the current one handles as labelled fails under it."""

    passed: bool
    current: dict[str, Any]  # GATE_FIGURES of the version in service
    candidate: dict[str, Any]
    newly_failing: tuple[ItemResult, ...]  # handled right now, wrong under the candidate
    items: int

    @property
    def accuracy_dropped(self) -> bool:
        return (self.candidate["intent_accuracy"] or 0.0) < (self.current["intent_accuracy"] or 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "items": self.items,
            "accuracy_dropped": self.accuracy_dropped,
            "current": self.current,
            "candidate": self.candidate,
            "newly_failing": [r.to_dict() for r in self.newly_failing],
        }


def figures(report: dict[str, Any]) -> dict[str, Any]:
    return {name: report[name] for name in GATE_FIGURES}


def gate(current: Evaluation, candidate: Evaluation) -> GateResult:
    """Compare two evaluations of the same items (``current``: the version in service)."""
    if len(current.results) != len(candidate.results):
        raise ValueError("the evaluations must be of the same items")
    newly_failing = tuple(
        after
        for before, after in zip(current.results, candidate.results, strict=True)
        if before.ok and not after.ok
    )
    cur, cand = figures(current.report), figures(candidate.report)
    dropped = (cand["intent_accuracy"] or 0.0) < (cur["intent_accuracy"] or 0.0)
    return GateResult(not dropped and not newly_failing, cur, cand, newly_failing, len(candidate.results))
