"""The dialer worker loop shared by ``voicebot campaign run`` and ``voicebot serve``.

A worker claims due attempts (of one campaign or of every running one), places the calls through its
dialer, records the results, and waits for the next due attempt, saying why through ``on_wait`` (outside
the calling window, paused, …). On start it releases whatever an earlier life with the same ``worker_id``
still held (a restart after a crash), so nothing waits for leases. It also deletes welfare memory older
than the retention period (``outbound.welfare.purge``): on start and then every ``purge_every_s``.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from outbound import service, store, welfare
from outbound.runner import Dialer, RunReport, next_due, run_due
from outbound.scheduler import in_window, local_text, weekdays_text
from outbound.schema import IN_CALL_STATES, Attempt, Campaign

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WorkerConfig:
    worker_id: str
    channels: int = 4  # calls this worker places at once
    lease_s: float = 600.0
    campaign_ids: tuple[int, ...] | None = None  # None: every running campaign
    until_done: bool = False  # stop when the campaigns have nothing booked or in a call
    simulated_clock: bool = False  # jump to each due time instead of waiting (SIMULATED dialer only)
    idle_wait_s: float = 5.0
    welfare_settings: welfare.WelfareSettings = field(default_factory=welfare.WelfareSettings.from_env)
    purge_every_s: float = 3600.0


@dataclass
class WorkerTotals:
    passes: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    errors: int = 0
    unrecorded: int = 0  # results that could not be stored as reported (see RunReport)


@dataclass(frozen=True)
class Waiting:
    """Why a worker has no call to place now, and when the next one is due."""

    reason: str  # window_closed | not_due_yet | held_back | paused | in_progress | nothing_booked
    next_due: datetime | None
    message: str  # for staff, Korean first


def describe_wait(
    session: Session, campaign_ids: Sequence[int] | None, due: datetime | None, now: datetime
) -> Waiting:
    """Why nothing could be claimed at ``now``, given the earliest booked call ``due`` (None: none)."""
    if campaign_ids:
        statuses = set(session.scalars(select(Campaign.status).where(Campaign.id.in_(campaign_ids))))
        if statuses == {"paused"}:
            return Waiting(
                "paused", due, "캠페인이 일시정지 상태입니다; 재개하면 다시 전화를 겁니다 (paused)"
            )
    if due is None:
        in_call = select(Attempt.id).where(Attempt.state.in_(IN_CALL_STATES))
        if campaign_ids:
            in_call = in_call.where(Attempt.campaign_id.in_(campaign_ids))
        if session.scalar(in_call.limit(1)) is not None:
            return Waiting("in_progress", None, "진행 중인 통화가 끝나기를 기다립니다 (calls in progress)")
        return Waiting(
            "nothing_booked", None, "예약된 통화가 없습니다; 새 대상자를 기다립니다 (nothing booked)"
        )
    campaign = session.scalar(
        select(Campaign)
        .join(Attempt, Attempt.campaign_id == Campaign.id)
        .where(Attempt.state == "scheduled", Attempt.due_at == due)
        .limit(1)
    )
    tz = campaign.timezone if campaign is not None else "Asia/Seoul"
    when = f"{local_text(due, tz)} ({tz})"
    if due <= now:
        return Waiting(
            "held_back",
            due,
            f"{when}에 예정된 통화가 동시 통화·분당 통화 제한이나 같은 분의 다른 통화 때문에 기다립니다 "
            "(channel or pacing limit, or the person is in another call)",
        )
    schedule = store.campaign_schedule(campaign) if campaign is not None else None
    if schedule is not None and not in_window(schedule, now):
        windows = ", ".join(str(w) for w in schedule.windows)
        return Waiting(
            "window_closed",
            due,
            f"다음 통화는 {when}입니다; 지금은 통화 시간이 아닙니다 "
            f"(통화 요일 {weekdays_text(schedule.weekdays)}, 시간 {windows}) (outside the calling window)",
        )
    return Waiting(
        "not_due_yet", due, f"다음 통화는 {when}입니다 (재시도 간격 또는 선호 시간) (next call not due yet)"
    )


class Worker:
    def __init__(
        self,
        factory: sessionmaker[Session],
        dialer: Dialer,
        config: WorkerConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        on_report: Callable[[RunReport], None] | None = None,
        on_wait: Callable[[Waiting], None] | None = None,
    ):
        self.factory = factory
        self.dialer = dialer
        self.config = config
        self.clock = clock
        self.on_report = on_report
        self.on_wait = on_wait  # told when the worker starts waiting, and again when the reason changes
        self.totals = WorkerTotals()
        self._waiting: Waiting | None = None
        self._scripts: dict[str, Any] = {}  # parsed once; restart the worker after editing a script
        self._purged_at: datetime | None = None

    def run(self, stop: threading.Event) -> WorkerTotals:
        config = self.config
        now = self.clock()
        ids = list(config.campaign_ids) if config.campaign_ids is not None else None
        released = False
        while not stop.is_set():
            if not config.simulated_clock:
                now = self.clock()
            # Every database step of a pass is in here: the database away for a moment (a restart, a
            # failover) costs a pause, never the worker.
            try:
                if not released:
                    with self.factory.begin() as session:
                        store.release_own(session, config.worker_id, self.clock())
                    released = True
                self._purge(now)
                report = run_due(
                    self.factory,
                    self.dialer,
                    config.worker_id,
                    now,
                    limit=config.channels,
                    lease_s=config.lease_s,
                    campaign_ids=ids,
                    clock=None if config.simulated_clock else self.clock,
                    scripts=self._scripts,
                    welfare_settings=config.welfare_settings,
                )
                self._count(report)
                if report.claimed:
                    self._waiting = None
                    continue
                due = self._next_due()
                if config.until_done and due is None and self._idle():
                    break
                if ids is not None and self._all_closed(ids):
                    break
                if not config.simulated_clock:
                    self._announce_wait(ids, due)
            except Exception as exc:  # the error's text may quote the statement's values: type and place only
                where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
                log.error(
                    "worker %s: pass failed (%s at %s:%s); retrying",
                    config.worker_id,
                    type(exc).__name__,
                    where.filename if where else "?",
                    where.lineno if where else "?",
                )
                stop.wait(config.idle_wait_s)
                continue
            if config.simulated_clock:
                now = max(now + timedelta(seconds=1), due or now)
            else:
                wait = config.idle_wait_s
                if due is not None:
                    wait = min(wait, max(0.05, (due - self.clock()).total_seconds()))
                stop.wait(wait)
        return self.totals

    def _purge(self, now: datetime) -> None:
        """Welfare memory past its retention goes, at most every ``purge_every_s``."""
        if (
            self._purged_at is not None
            and (now - self._purged_at).total_seconds() < self.config.purge_every_s
        ):
            return
        try:
            with self.factory.begin() as session:
                gone = welfare.purge(session, now, self.config.welfare_settings)
        except Exception as exc:  # tried again next time; calls go on meanwhile
            log.error(
                "worker %s: purging welfare memory failed: %s", self.config.worker_id, type(exc).__name__
            )
            return
        self._purged_at = now
        if gone:
            log.info("worker %s: %d welfare memory rows past retention deleted", self.config.worker_id, gone)

    def _count(self, report: RunReport) -> None:
        self.totals.passes += 1
        for outcome, count in report.outcomes.items():
            self.totals.outcomes[outcome] = self.totals.outcomes.get(outcome, 0) + count
        self.totals.alerts += report.alerts
        self.totals.errors += report.errors
        self.totals.unrecorded += report.unrecorded
        if self.on_report is not None and report.claimed:
            self.on_report(report)

    def _announce_wait(self, ids: list[int] | None, due: datetime | None) -> None:
        if self.on_wait is None:
            return
        with self.factory() as session:
            waiting = describe_wait(session, ids, due, self.clock())
        if waiting != self._waiting:
            self._waiting = waiting
            self.on_wait(waiting)

    def _next_due(self) -> datetime | None:
        ids = self.config.campaign_ids
        if ids is not None and len(ids) == 1:
            return next_due(self.factory, ids[0])
        return next_due(self.factory)

    def _idle(self) -> bool:
        """Nothing of the worker's campaigns is booked or in a call (by any worker)."""
        query = select(Attempt.id).where(Attempt.state.in_(("scheduled", *IN_CALL_STATES)))
        if self.config.campaign_ids is not None:
            query = query.where(Attempt.campaign_id.in_(self.config.campaign_ids))
        with self.factory() as session:
            return session.scalar(query.limit(1)) is None

    def _all_closed(self, ids: list[int]) -> bool:
        with self.factory() as session:
            return all(service.get_campaign(session, i).status in ("completed", "cancelled") for i in ids)
