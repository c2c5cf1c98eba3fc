"""The dialer worker loop: claim due attempts, place the calls, record outcomes and answers, raise alerts.

:func:`run_due` is one pass (claim up to ``limit`` due attempts, call each, record); :func:`run_until_done`
repeats it on a simulated clock that jumps to the next due attempt. Calls go through a :class:`Dialer`:
:class:`SimulatedDialer` (scripted callees, for tests and benchmarks) or :class:`SipDialer` (voicebot.sip).

Slot values for a script: ``name`` is the contact's name; other slots come from ``key=value`` pairs in the
contact's notes (``date=3월 5일; place=중구 보건소; result=음성``) or from the ``slots_for`` callback.
Log lines carry attempt ids only, never names, numbers or what was said.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from outbound import service, store
from outbound.schema import Alert, Attempt, Campaign, Contact
from outbound.script import Conversation, Script, ScriptError, load_script

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallRequest:
    attempt_id: int
    phone_e164: str
    script: Script
    slots: dict[str, str]


@dataclass
class CallResult:
    outcome: str  # answered | busy | no_answer | failed | voicemail
    sip_status: int | None = None
    duration_s: float = 0.0
    conversation: dict[str, Any] | None = None  # Conversation.result() when answered
    transcript: str | None = None
    keypad: str | None = None
    error: str | None = None


class Dialer(Protocol):
    def dial(self, request: CallRequest) -> CallResult: ...


# --- the simulated dialer -----------------------------------------------------------------------------

_SIP_STATUS = {"answered": 200, "busy": 486, "no_answer": 408, "failed": 503, "voicemail": 200}


@dataclass
class SimulatedCallee:
    """What one phone does: ``outcomes`` per attempt (the last repeats) and ``replies`` when answered.

    A reply that is one keypad character ("1", "9", "0", "*", "#") is a key press; ``None`` is silence
    until the step times out; any other string is what the person says (as STT would give it).
    """

    outcomes: list[str] = field(default_factory=lambda: ["answered"])
    replies: list[str | None] = field(default_factory=list)
    calls: int = 0


class SimulatedDialer:
    """SIMULATED stand-in for SIP in tests and benchmarks: no audio, no network.

    ``callees`` maps E.164 numbers to :class:`SimulatedCallee`; unknown numbers do not answer. The
    conversation runs through the same :class:`~outbound.script.Conversation` as a real call, so the
    structured answers are the ones a real call with the same words would give.
    """

    def __init__(self, callees: dict[str, SimulatedCallee] | None = None, seconds_per_turn: float = 6.0):
        self.callees = callees or {}
        self.seconds_per_turn = seconds_per_turn
        self.dialled: list[int] = []  # attempt ids, in order (tests check for duplicates)

    def dial(self, request: CallRequest) -> CallResult:
        self.dialled.append(request.attempt_id)
        callee = self.callees.get(request.phone_e164)
        if callee is None:
            return CallResult("no_answer", 408)
        outcome = callee.outcomes[min(callee.calls, len(callee.outcomes) - 1)]
        callee.calls += 1
        if outcome != "answered":
            return CallResult(outcome, _SIP_STATUS.get(outcome))
        conv = Conversation(request.script, request.slots)
        conv.start()
        turns = 1
        replies = list(callee.replies)
        while not conv.ended and turns < 50:
            reply = replies.pop(0) if replies else None
            if reply is not None and len(reply) == 1 and reply in "0123456789*#":
                conv.respond(digit=reply)
            else:
                conv.respond(text=reply)
            turns += 1
        return CallResult(
            "answered",
            200,
            duration_s=turns * self.seconds_per_turn,
            conversation=conv.result(),
            transcript="\n".join(conv.heard) or None,
            keypad=conv.keypad or None,
        )


# --- the SIP dialer -----------------------------------------------------------------------------------


class SipDialer:
    """Adapter over ``voicebot.sip``: places the call with ``originate`` and plays the script.

    NOT TESTED in tests/test_outbound_runner.py (a real SIP call through baresip and Whisper is too slow
    for the fast suite); the SIP layer itself is tested in tests/test_sip.py. Limitation for now: the SIP
    ``ScriptSession`` plays steps in order, so the script is flattened to its ``next`` path (steps whose
    ``when`` slot is empty left out, ``end`` steps after the first left out) and the recorded answers are
    replayed through :class:`~outbound.script.Conversation` afterwards to classify them; live branching
    (9 repeat, 0 agent, transfer on an emergency) needs ScriptSession to take a Conversation.
    """

    def __init__(self, endpoint: Any, uri_template: str, synthesizer: Any, transcriber: Any = None):
        self.endpoint = endpoint
        self.uri_template = uri_template  # e.g. "sip:{phone}@gateway.example:5060"
        self.synthesizer = synthesizer
        self.transcriber = transcriber

    def prompts(self, request: CallRequest) -> tuple[Any, ...]:
        from voicebot.sip.script import Prompt

        conv = Conversation(request.script, request.slots)
        out = []
        for step in request.script.steps:
            if conv._skipped(step):
                continue
            expect = "none" if step.expect == "none" else "any"
            out.append(Prompt(step.id, conv._render(step), expect=expect))
            if step.end:
                break
        return tuple(out)

    def dial(self, request: CallRequest) -> CallResult:
        from voicebot.sip.commands import originate
        from voicebot.sip.script import ScriptSession

        prompts = self.prompts(request)
        uri = self.uri_template.format(phone=request.phone_e164)
        result = originate(
            self.endpoint, uri, lambda _call_id: ScriptSession(prompts, self.synthesizer, self.transcriber)
        )
        outcome = {"rejected": "failed"}.get(result.outcome, result.outcome)
        if outcome != "answered":
            return CallResult(outcome, result.sip_status, result.duration_s, error=result.error)
        conv = Conversation(request.script, request.slots)
        conv.start()
        for turn in result.turns:
            if conv.ended or turn.get("via") == "none":
                continue
            if turn.get("via") == "dtmf":
                conv.respond(digit=turn.get("answer"))
            else:
                conv.respond(text=turn.get("answer") if turn.get("via") == "speech" else None)
        return CallResult(
            "answered",
            result.sip_status,
            result.duration_s,
            conversation=conv.result(),
            transcript="\n".join(conv.heard) or None,
            keypad=conv.keypad or None,
            error=result.error,
        )


# --- the worker loop ----------------------------------------------------------------------------------

_NOTE_SLOT = re.compile(r"([A-Za-z_]+)\s*=\s*([^;\n]+)")


def note_slots(notes: str) -> dict[str, str]:
    return {k: v.strip() for k, v in _NOTE_SLOT.findall(notes or "")}


def default_slots(campaign: Campaign, contact: Contact) -> dict[str, str]:
    return {**note_slots(contact.notes), "name": contact.name}


@dataclass
class RunReport:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    retries: int = 0
    errors: int = 0


def _script_for(campaign: Campaign, cache: dict[str, Script]) -> Script:
    name = campaign.script or campaign.kind
    if name not in cache:
        cache[name] = load_script(name)
    return cache[name]


def run_due(
    factory: sessionmaker[Session],
    dialer: Dialer,
    worker_id: str,
    now: datetime,
    *,
    limit: int = 4,
    lease_s: float = 600.0,
    slots_for: Callable[[Campaign, Contact], dict[str, str]] = default_slots,
    scripts: dict[str, Script] | None = None,
) -> RunReport:
    """One pass: claim up to ``limit`` due attempts, call each through ``dialer`` and record the results."""
    scripts = {} if scripts is None else scripts
    report = RunReport()
    with factory.begin() as session:
        claimed = store.claim_due(session, worker_id, limit=limit, lease_s=lease_s, now=now)
        ids = [a.id for a in claimed]
    report.claimed = len(ids)
    for attempt_id in ids:
        with factory.begin() as session:
            attempt = store.transition(session, attempt_id, worker_id, "dialing", now)
            campaign, contact = attempt.campaign, attempt.contact
            try:
                request: CallRequest | None = CallRequest(
                    attempt_id,
                    contact.phone_e164,
                    _script_for(campaign, scripts),
                    slots_for(campaign, contact),
                )
                Conversation(request.script, request.slots)  # slots complete?
                problem = None
            except ScriptError as exc:
                request, problem = None, str(exc)
        if request is None:
            result = CallResult("failed", error=(problem or "")[:500])
            report.errors += 1
            log.error("attempt %s: script problem, not dialled: %s", attempt_id, problem)
        else:
            try:
                result = dialer.dial(request)
            except Exception as exc:  # one bad call never stops the worker
                log.exception("attempt %s: dialer failed", attempt_id)
                result = CallResult("failed", error=f"{type(exc).__name__}")
                report.errors += 1
        report.outcomes[result.outcome] = report.outcomes.get(result.outcome, 0) + 1
        with factory.begin() as session:
            alerts_before = session.scalar(select(func.count()).select_from(Alert)) or 0
            retry = store.finish(
                session,
                attempt_id,
                worker_id,
                result.outcome,
                now,
                sip_status=result.sip_status,
                duration_s=result.duration_s,
                transcript=result.transcript,
                keypad=result.keypad,
                answers=result.conversation,
                error=result.error,
            )
            _raise_answer_alerts(session, attempt_id, result)
            report.retries += retry is not None
            report.alerts += (session.scalar(select(func.count()).select_from(Alert)) or 0) - alerts_before
        log.info("attempt %s: %s", attempt_id, result.outcome)
    if ids:
        with factory.begin() as session:
            for campaign_id in set(session.scalars(select(Attempt.campaign_id).where(Attempt.id.in_(ids)))):
                if service.complete_if_done(session, campaign_id):
                    log.info("campaign %s: completed", campaign_id)
    return report


def _raise_answer_alerts(session: Session, attempt_id: int, result: CallResult) -> None:
    conv = result.conversation or {}
    attempt = session.get(Attempt, attempt_id)
    assert attempt is not None
    base = {"campaign_id": attempt.campaign_id, "contact_id": attempt.contact_id, "attempt_id": attempt.id}
    if conv.get("emergency"):
        session.add(
            Alert(
                kind="emergency",
                severity="critical",
                message=f"emergency words ({conv['emergency']}) during the call; transferred at once",
                **base,
            )
        )
    elif conv.get("overall") == "concern":
        steps = [s for s, a in conv.get("steps", {}).items() if a.get("value") in ("concern", "not_fine")]
        session.add(
            Alert(
                kind="welfare_concern",
                severity="warning",
                message=f"welfare concern in: {', '.join(steps)}",
                **base,
            )
        )
    session.flush()


def next_due(factory: sessionmaker[Session]) -> datetime | None:
    with factory() as session:
        return session.scalar(select(func.min(Attempt.due_at)).where(Attempt.state == "scheduled"))


def run_until_done(
    factory: sessionmaker[Session],
    dialer: Dialer,
    worker_id: str,
    start: datetime,
    *,
    max_passes: int = 100_000,
    until: datetime | None = None,
    **kwargs: Any,
) -> list[RunReport]:
    """Run passes on a simulated clock that jumps to the next due attempt until none is left (or the next
    one is due after ``until``)."""
    reports: list[RunReport] = []
    now = start
    for _ in range(max_passes):
        due = next_due(factory)
        if due is None or (until is not None and due > until):
            break
        now = max(now, due)
        report = run_due(factory, dialer, worker_id, now, **kwargs)
        reports.append(report)
        if not report.claimed:
            now += timedelta(seconds=1)
    return reports
