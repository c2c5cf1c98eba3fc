"""The dialer worker loop: claim due attempts, place the calls, record outcomes and answers, raise alerts.

:func:`run_due` is one pass (claim up to ``limit`` due attempts, call each, record); :func:`run_until_done`
repeats it on a simulated clock that jumps to the next due attempt. Calls go through a :class:`Dialer`:
:class:`SimulatedDialer` (scripted callees, for tests and benchmarks) or ``voicebot.sip.dialer.SipDialer``,
handed in where the program is put together (the CLI, the server): this package never imports ``voicebot``.

Slot values for a script: ``name`` is the contact's name; other slots are the campaign-wide values and the
campaign member's own (from ``key=value`` pairs in the notes of that campaign's contact file,
``date=3월 5일; place=중구 보건소; result=음성``, or set in the console), or come from the ``slots_for`` callback.
Log lines carry attempt ids only, never names, numbers or what was said.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from outbound import inquiries, members, service, store, welfare
from outbound.schema import REACHED_OUTCOMES, Alert, Attempt, Campaign, CampaignContact
from outbound.script import Conversation, FollowUp, Script, ScriptError, load_script

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallRequest:
    attempt_id: int
    phone_e164: str
    script: Script
    slots: dict[str, str]
    # The remembered concern a welfare check-in asks about first, once the person is identified.
    follow_up: FollowUp | None = None

    def conversation(self) -> Conversation:
        return Conversation(self.script, self.slots, self.follow_up)


@dataclass
class DialOutcome:
    """What a :class:`Dialer` reports for one placed call: how it ended and, when answered, the script's
    answers; :func:`run_due` records it as the attempt's outcome."""

    outcome: str  # one of outbound.schema.OUTCOMES: human | answered | voicemail | carrier_message | …
    sip_status: int | None = None
    duration_s: float = 0.0
    conversation: dict[str, Any] | None = None  # Conversation.result() when a person was reached
    transcript: str | None = None
    keypad: str | None = None
    error: str | None = None
    recording_path: str | None = None  # two-channel WAV of the call, when the endpoint records
    latency_ms: dict[str, Any] | None = None  # reply latency figures of the call, when measured
    simulated: bool = False  # made up by the SIMULATED dialer: no real call was placed
    amd: dict[str, Any] | None = None  # how the answering-machine detector decided, when it listened


class Dialer(Protocol):
    # True for the SIMULATED dialer: its attempts are marked from the moment they are dialled, so even a
    # call whose result is lost (worker crash) never passes for a real one.
    simulated: bool

    def dial(self, request: CallRequest) -> DialOutcome: ...


# --- the simulated dialer -----------------------------------------------------------------------------

_SIP_STATUS = {
    "human": 200,
    "answered": 200,
    "voicemail": 200,
    "carrier_message": 200,
    "screened": 200,
    "hung_up_early": 200,
    "busy": 486,
    "no_answer": 408,
    "rejected": 603,
    "failed": 503,
}


@dataclass
class SimulatedCallee:
    """What one phone does: ``outcomes`` per attempt (the last repeats) and ``replies`` when answered.
    An outcome is any of ``outbound.schema.OUTCOMES``: "answered" and "human" run the script (and are
    reported as given), the others end the call without it.

    A reply that is one keypad character ("1", "9", "0", "*", "#") is a key press; ``None`` is silence
    until the step times out; any other string is what the person says (as STT would give it).
    """

    outcomes: list[str] = field(default_factory=lambda: ["answered"])
    replies: list[str | None] = field(default_factory=list)
    calls: int = 0


class SimulatedDialer:
    """SIMULATED stand-in for SIP in tests, benchmarks and demos: no audio, no network.

    ``callees`` maps E.164 numbers to :class:`SimulatedCallee`; other numbers get ``default`` (None: they
    do not answer). The conversation runs through the same :class:`~outbound.script.Conversation` as a
    real call, so the structured answers are the ones a real call with the same words would give.
    ``call_seconds`` makes each call take that much real time (crash tests need calls in flight);
    ``ledger`` appends one line per call placed (attempt id, hashed number) and fsyncs it, so a test can
    count calls across a worker killed with SIGKILL.
    """

    simulated = True

    def __init__(
        self,
        callees: dict[str, SimulatedCallee] | None = None,
        seconds_per_turn: float = 6.0,
        *,
        default: SimulatedCallee | None = None,
        call_seconds: float = 0.0,
        ledger: str | Path | None = None,
    ):
        self.callees = callees or {}
        self.seconds_per_turn = seconds_per_turn
        self.default = default
        self.call_seconds = call_seconds
        self.ledger = Path(ledger) if ledger else None
        self.dialled: list[int] = []  # attempt ids, in order (tests check for duplicates)
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> SimulatedDialer:
        """Callees from YAML: ``{default: {outcomes: [...], replies: [...]}, callees: {"010-…": {...}}}``."""
        from outbound.phones import normalize_phone

        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}

        def callee(spec: dict[str, Any]) -> SimulatedCallee:
            replies = [None if r is None else str(r) for r in spec.get("replies", [])]
            return SimulatedCallee(outcomes=list(spec.get("outcomes", ["answered"])), replies=replies)

        callees = {normalize_phone(k): callee(v or {}) for k, v in (data.get("callees") or {}).items()}
        default = callee(data["default"]) if data.get("default") else None
        return cls(callees, default=default, **kwargs)

    @property
    def instant(self) -> bool:
        """Calls take no real time: the worker may place them one after another."""
        return not self.call_seconds

    def dial(self, request: CallRequest) -> DialOutcome:
        with self._lock:
            self.dialled.append(request.attempt_id)
            if self.ledger is not None:
                digest = hashlib.sha256(request.phone_e164.encode()).hexdigest()[:16]
                with self.ledger.open("a", encoding="utf-8") as ledger:
                    ledger.write(f"{request.attempt_id} {digest} {time.time():.3f}\n")
                    ledger.flush()
                    os.fsync(ledger.fileno())
            callee = self.callees.get(request.phone_e164)
            if callee is None and self.default is not None:
                callee = self.callees[request.phone_e164] = SimulatedCallee(
                    list(self.default.outcomes), list(self.default.replies)
                )
        if self.call_seconds:
            time.sleep(self.call_seconds)
        if callee is None:
            return DialOutcome("no_answer", 408, simulated=True)
        outcome = callee.outcomes[min(callee.calls, len(callee.outcomes) - 1)]
        callee.calls += 1
        if outcome not in REACHED_OUTCOMES:
            return DialOutcome(outcome, _SIP_STATUS.get(outcome), simulated=True)
        conv = request.conversation()
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
        return DialOutcome(
            outcome,
            200,
            duration_s=turns * self.seconds_per_turn,
            conversation=conv.result(),
            transcript="\n".join(conv.heard) or None,
            keypad=conv.keypad or None,
            simulated=True,
        )


# --- the worker loop ----------------------------------------------------------------------------------


def default_slots(campaign: Campaign, member: CampaignContact) -> dict[str, str]:
    """Campaign-wide values, then the member's own values for this campaign, then the person's name."""
    return members.call_slots(campaign, member)


@dataclass
class RunReport:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # as recorded
    alerts: int = 0
    retries: int = 0
    errors: int = 0  # calls where something went wrong on our side (unrecorded results included)
    unrecorded: int = 0  # results the store could not take as reported: closed as failed, result unknown


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
    slots_for: Callable[[Campaign, CampaignContact], dict[str, str]] = default_slots,
    scripts: dict[str, Script] | None = None,
    campaign_ids: list[int] | None = None,
    clock: Callable[[], datetime] | None = None,
    welfare_settings: welfare.WelfareSettings | None = None,
) -> RunReport:
    """One pass: claim up to ``limit`` due attempts and place the calls at once, each in its own thread,
    recording every result as it comes. ``clock`` (the real clock in a live worker) stamps each step;
    without it every stamp is ``now`` (simulated time)."""
    scripts = {} if scripts is None else scripts
    settings = welfare_settings or welfare.WelfareSettings()
    stamp = clock or (lambda: now)
    report = RunReport()
    with factory.begin() as session:
        claimed = store.claim_due(
            session, worker_id, limit=limit, lease_s=lease_s, now=now, campaign_ids=campaign_ids
        )
        ids = [a.id for a in claimed]
        held = {
            m.id: m
            for m in session.scalars(
                select(CampaignContact).where(
                    CampaignContact.id.in_([a.campaign_contact_id for a in claimed])
                )
            )
        }
        requests = {a.id: _request(a, held[a.campaign_contact_id], slots_for, scripts) for a in claimed}
        for attempt in claimed:  # a check-in asks first about the last concern, once the person is identified
            request = requests[attempt.id]
            if not isinstance(request, str) and request.script.kind == "welfare_check":
                found = welfare.follow_up_for(session, attempt.contact_id, now, settings)
                requests[attempt.id] = replace(request, follow_up=found)
    report.claimed = len(ids)
    if ids:
        with factory.begin() as session:
            store.start_dialing(session, ids, worker_id, stamp(), simulated=dialer.simulated)
        for done in _place_all(factory, dialer, worker_id, ids, requests, stamp, lease_s, settings):
            report.outcomes[done.outcome] = report.outcomes.get(done.outcome, 0) + 1
            report.alerts += done.alerts
            report.retries += done.retried
            report.errors += done.error
            report.unrecorded += done.unrecorded
    if len(ids) < limit:  # nothing more is due now: a campaign may just have finished
        with factory.begin() as session:
            running = select(Campaign.id).where(Campaign.status == "running")
            if campaign_ids is not None:
                running = running.where(Campaign.id.in_(campaign_ids))
            for campaign_id in session.scalars(running).all():
                if service.complete_if_done(session, campaign_id):
                    log.info("campaign %s: completed", campaign_id)
    return report


def _request(
    attempt: Attempt,
    member: CampaignContact,
    slots_for: Callable[[Campaign, CampaignContact], dict[str, str]],
    scripts: dict[str, Script],
) -> CallRequest | str:
    """What to dial for a claimed attempt, or why it cannot be dialled (a script problem)."""
    campaign = attempt.campaign
    try:
        request = CallRequest(
            attempt.id,
            attempt.contact.phone_e164,
            _script_for(campaign, scripts),
            slots_for(campaign, member),
        )
        Conversation(request.script, request.slots)  # slots complete?
    except ScriptError as exc:
        return str(exc)
    return request


def _place_all(
    factory: sessionmaker[Session],
    dialer: Dialer,
    worker_id: str,
    ids: list[int],
    requests: dict[int, CallRequest | str],
    stamp: Callable[[], datetime],
    lease_s: float,
    settings: welfare.WelfareSettings,
) -> list[_Recorded]:
    """Place the claimed calls and record their results: at once, one thread each, results recorded as
    they come (those that arrive together in one transaction). While calls are in progress their leases are
    renewed every third of ``lease_s``, so a call may last longer than the lease. A dialer whose calls take
    no time (``instant``, the SIMULATED one) is called in turn instead, recorded in one go."""
    # Recording waits out a database that is away for a moment (a restart) for at most a quarter of a
    # lease: with renewals every third of one, the leases still hold when it gives up, with room to spare
    # for a loaded machine.
    patience_s = lease_s / 4
    if getattr(dialer, "instant", False):
        placed = [(i, *_call(dialer, i, requests[i])) for i in ids]
        return _record(factory, worker_id, placed, stamp(), settings, patience_s)
    done: queue.Queue[tuple[int, DialOutcome, bool]] = queue.Queue()
    threads = [
        threading.Thread(
            target=lambda i=i: done.put((i, *_call(dialer, i, requests[i]))), name=f"call-{i}", daemon=True
        )
        for i in ids
    ]
    for thread in threads:
        thread.start()
    placed: list[_Recorded] = []
    returned: set[int] = set()
    renew_every = lease_s / 3
    next_renewal = time.monotonic() + renew_every
    while len(returned) < len(ids):
        batch = []
        try:
            batch.append(done.get(timeout=max(0.0, next_renewal - time.monotonic())))
        except queue.Empty:
            pass
        while not done.empty():
            batch.append(done.get_nowait())
        if batch:
            returned.update(i for i, _, _ in batch)
            placed.extend(_record(factory, worker_id, batch, stamp(), settings, patience_s))
        if time.monotonic() >= next_renewal:
            _renew(factory, [i for i in ids if i not in returned], worker_id, lease_s, stamp())
            next_renewal = time.monotonic() + renew_every
    for thread in threads:
        thread.join()
    return placed


def _renew(
    factory: sessionmaker[Session], ids: list[int], worker_id: str, lease_s: float, now: datetime
) -> None:
    if not ids:
        return
    try:
        with factory.begin() as session:
            store.renew_leases(session, ids, worker_id, lease_s, now)
    except Exception as exc:  # the calls go on; the next renewal tries again before the lease runs out
        log.error("renewing the leases of attempts %s failed: %s", ids, type(exc).__name__)


def _call(dialer: Dialer, attempt_id: int, request: CallRequest | str) -> tuple[DialOutcome, bool]:
    """Place one call; (result, whether something went wrong on our side)."""
    if isinstance(request, str):
        log.error("attempt %s: script problem, not dialled: %s", attempt_id, request)
        return DialOutcome("failed", error=request[:500]), True
    try:
        return dialer.dial(request), False
    except Exception as exc:  # one bad call never stops the worker
        log.exception("attempt %s: dialer failed", attempt_id)
        return DialOutcome("failed", error=f"{type(exc).__name__}"), True


@dataclass(frozen=True)
class _Recorded:
    """What became of one placed call in the store."""

    outcome: str  # the outcome recorded
    alerts: int  # alerts raised for the attempt
    retried: bool  # a retry (or the next round) was booked
    error: bool  # something went wrong on our side
    unrecorded: bool = False  # the result as reported could not be stored (closed as failed instead)


# One finished call: (attempt id, the dialer's result, whether something went wrong on our side).
_Placed = tuple[int, DialOutcome, bool]


def database_unreachable(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (a restart, a failover), as opposed
    to refusing what was written: trying again later may well work."""
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def _record(
    factory: sessionmaker[Session],
    worker_id: str,
    batch: list[_Placed],
    now: datetime,
    settings: welfare.WelfareSettings,
    patience_s: float = 0.0,
) -> list[_Recorded]:
    """Record finished calls, in one transaction when nothing goes wrong. While the database cannot be
    reached, try again with backoff for up to ``patience_s`` (the results are kept meanwhile, so a server
    restart loses none). One call's result never voids another's: when the batch's transaction fails, its
    calls are recorded again one at a time, and a result that cannot be stored even alone closes its
    attempt as failed, result unknown (retried by the campaign's policy, counted in ``unrecorded``). Logs
    name attempt ids and error types only."""
    try:
        return _patiently(lambda: _record_together(factory, worker_id, batch, now, settings), patience_s)
    except Exception as exc:
        if len(batch) > 1:
            log.error(
                "recording %d call results together failed (%s); recording them one by one",
                len(batch),
                type(exc).__name__,
            )
            return [done for placed in batch for done in _record(factory, worker_id, [placed], now, settings)]
        attempt_id, result, _ = batch[0]
        why = f"result {result.outcome!r} could not be recorded ({type(exc).__name__}); result unknown"
        log.error("attempt %s: %s; closing it as failed", attempt_id, why)
        unknown = DialOutcome(
            "failed", result.sip_status, result.duration_s, error=why[:500], simulated=result.simulated
        )
        return [
            replace(done, unrecorded=True)
            for done in _record_together(factory, worker_id, [(attempt_id, unknown, True)], now, settings)
        ]


def _patiently(action: Callable[[], list[_Recorded]], patience_s: float) -> list[_Recorded]:
    """``action()``, tried again (0.5 s, 1 s, 2 s, … at most 5 s apart; closer together when
    ``patience_s`` is short) while the database is unreachable, until ``patience_s`` has passed; any other
    error at once."""
    deadline = time.monotonic() + patience_s
    pause = min(0.5, patience_s / 4) or 0.5
    while True:
        try:
            return action()
        except Exception as exc:
            left = deadline - time.monotonic()
            if not database_unreachable(exc) or left <= 0:
                raise
            log.warning("database unreachable (%s); recording again in %.1f s", type(exc).__name__, pause)
            time.sleep(min(pause, left))
            pause = min(pause * 2, 5.0)


def _outcome(attempt_id: int, result: DialOutcome) -> store.Outcome:
    return store.Outcome(
        attempt_id,
        result.outcome,
        {
            "sip_status": result.sip_status,
            "duration_s": result.duration_s,
            "transcript": result.transcript,
            "keypad": result.keypad,
            "answers": result.conversation,
            "error": result.error,
            "recording_path": result.recording_path,
            "latency_ms": result.latency_ms,
            "simulated": result.simulated,
            "amd": result.amd,
        },
    )


def _record_together(
    factory: sessionmaker[Session],
    worker_id: str,
    batch: list[_Placed],
    now: datetime,
    settings: welfare.WelfareSettings,
) -> list[_Recorded]:
    """Record finished calls in one transaction. An outcome the store refuses (one the attempt's state
    cannot take, an unknown one) is recorded as failed with the reason in ``error``; the others as they
    came."""
    results = {attempt_id: result for attempt_id, result, _ in batch}
    ids = list(results)
    with factory.begin() as session:
        whose = {
            row.id: (row.campaign_id, row.contact_id)
            for row in session.execute(
                select(Attempt.id, Attempt.campaign_id, Attempt.contact_id).where(Attempt.id.in_(ids))
            )
        }
        finished = store.finish_many(session, worker_id, [_outcome(i, r) for i, r in results.items()], now)
        unrecorded = set(finished.rejected)
        if finished.rejected:
            for attempt_id, exc in finished.rejected.items():
                why = f"result {results[attempt_id].outcome!r} not recorded: {exc}; result unknown"
                log.error("attempt %s: %s; closing it as failed", attempt_id, why)
                results[attempt_id] = replace(results[attempt_id], outcome="failed", error=why[:500])
            again = store.finish_many(
                session, worker_id, [_outcome(i, results[i]) for i in finished.rejected], now
            )
            finished.booked.update(again.booked)
            finished.lost.extend(again.lost)
            for attempt_id, exc in again.rejected.items():  # gone from the database: nothing to close
                log.error("attempt %s: not recorded (%s)", attempt_id, exc)
        for attempt_id in finished.lost:
            # Another worker took the attempt over after our lease ran out; its record stands.
            log.error("attempt %s: lease lost before the result could be recorded", attempt_id)
        recorded = set(finished.booked)
        for attempt_id, result in results.items():
            if attempt_id in recorded:
                _raise_answer_alerts(session, attempt_id, *whose[attempt_id], result)
                contact_id = whose[attempt_id][1]
                welfare.remember(
                    session, attempt_id, contact_id, result.outcome, result.conversation, now, settings
                )
                _record_inquiry(session, whose[attempt_id][0], result, now)
                log.info("attempt %s: %s", attempt_id, result.outcome)
        session.flush()
        alerts = dict(
            session.execute(
                select(Alert.attempt_id, func.count())
                .where(Alert.attempt_id.in_(ids))
                .group_by(Alert.attempt_id)
            ).all()
        )
    return [
        _Recorded(
            results[attempt_id].outcome,
            alerts.get(attempt_id, 0),
            finished.booked.get(attempt_id) is not None,
            error or attempt_id not in recorded or attempt_id in unrecorded,
            attempt_id in unrecorded,
        )
        for attempt_id, _, error in batch
    ]


# How an outbound conversation ended (``Conversation.result()["outcome"]``) as an inquiry outcome.
_INQUIRY_OUTCOME = {"completed": "answered", "transfer": "escalated", "emergency": "escalated"}
_INQUIRY_REASON = {"transfer": "agent_request", "emergency": "emergency"}


def _record_inquiry(session: Session, campaign_id: int, result: DialOutcome, now: datetime) -> None:
    """A citizen who answered an outbound call is a contact too (issue 19): one inquiry record, labels
    only. Calls the SIMULATED dialer made up are marked synthetic, never counted with real contacts."""
    if result.outcome not in REACHED_OUTCOMES:
        return
    campaign = session.get(Campaign, campaign_id)
    ended = (result.conversation or {}).get("outcome", "")
    outcome = _INQUIRY_OUTCOME.get(ended, "abandoned")
    summary = inquiries.Summary(
        "outbound", f"outbound.{campaign.kind}" if campaign else None, outcome, _INQUIRY_REASON.get(ended)
    )
    steps = (result.conversation or {}).get("steps") or {}
    inquiries.record(
        session,
        started_at=now - timedelta(seconds=result.duration_s or 0.0),
        channel="outbound",
        summary=summary,
        turns=len(steps),
        duration_s=result.duration_s or 0.0,
        synthetic=result.simulated,
    )


_EMERGENCY_KO = {
    "medical": "의료",
    "fire": "화재",
    "gas": "가스",
    "police": "범죄 위험",
    "suicide": "자살 위험",
    "general": "긴급",
}
_TOPIC_KO = welfare.TOPIC_KO


def _raise_answer_alerts(
    session: Session, attempt_id: int, campaign_id: int, contact_id: int, result: DialOutcome
) -> None:
    """Alerts from what a person said. Never for a machine (a voicemail greeting answers no question) or
    anyone else not reached, whatever the dialer put in ``conversation``."""
    if result.outcome not in REACHED_OUTCOMES:
        return
    conv = result.conversation or {}
    base = {"campaign_id": campaign_id, "contact_id": contact_id, "attempt_id": attempt_id}
    if conv.get("emergency"):
        session.add(
            Alert(
                kind="emergency",
                severity="critical",
                message=(
                    "통화 중 긴급 상황 표현이 있어 바로 상담원에게 연결했습니다 "
                    f"({_EMERGENCY_KO.get(conv['emergency'], conv['emergency'])})."
                ),
                **base,
            )
        )
    elif conv.get("overall") == "concern":
        steps = [s for s, a in conv.get("steps", {}).items() if a.get("value") in ("concern", "not_fine")]
        session.add(
            Alert(
                kind="welfare_concern",
                severity="warning",
                message=f"다음 항목의 답변에 우려가 있습니다: {', '.join(_TOPIC_KO.get(s, s) for s in steps)}",
                **base,
            )
        )


def next_due(factory: sessionmaker[Session], campaign_id: int | None = None) -> datetime | None:
    query = select(func.min(Attempt.due_at)).where(Attempt.state == "scheduled")
    if campaign_id is not None:
        query = query.where(Attempt.campaign_id == campaign_id)
    with factory() as session:
        return session.scalar(query)


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
    kwargs.setdefault("scripts", {})  # parsed once for the whole run
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
