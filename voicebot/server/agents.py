"""The agents' desk (issue 18): capacity, the expected wait for an agent, and call-back booking.

:class:`AgentDesk` is the ``voicebot.call.AgentQueue`` the server hands the SIP endpoint. Capacity starts
from the ``callbacks:`` section of the serve config (agents on duty, callers waiting, the average handling
time, business hours) and staff change it from the console (``PUT /api/agents/capacity``). The queue is
what staff (or an ACD feed) report as waiting plus the calls the bot itself put through to agents within
the last average handling time. Expected wait = queue x handling time / agents; over the threshold, or
outside business hours (or with nobody on duty), a caller is offered a call-back or the chat link.

Call-backs are stored by ``outbound.callbacks`` and dialled by :meth:`AgentDesk.run_dialer` in their slot
with the server's dialer. Figures per channel go to /metrics.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from outbound import callbacks
from outbound.callbacks import BusinessHours, CallbackPolicy
from outbound.runner import Dialer
from voicebot.call.protocols import CallbackSlot, WaitEstimate
from voicebot.call.record import CallRecord

log = logging.getLogger(__name__)

WAIT_BUCKETS = (30, 60, 120, 300, 600, 1200, 1800, 3600)


@dataclass(frozen=True)
class DeskSettings:
    agents: int = 10  # on duty at start
    waiting: int = 0  # callers waiting at start
    handle_s: int = 300  # average handling time of one call
    threshold_s: int = 120  # a longer expected wait is announced, with the other ways offered
    hours: BusinessHours = BusinessHours()
    slot_minutes: int = 60
    per_slot: int = 4  # call-backs booked per slot at most
    policy: CallbackPolicy = CallbackPolicy()
    poll_s: float = 5.0  # how often the call-back dialer looks for due call-backs


@dataclass(frozen=True)
class Capacity:
    agents: int
    waiting: int
    updated_by: str
    updated_at: datetime


class AgentDesk:
    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: DeskSettings,
        clock: Callable[[], datetime],
        registry: CollectorRegistry,
    ):
        self.factory = factory
        self.settings = settings
        self.clock = clock
        self._capacity = Capacity(settings.agents, settings.waiting, "config", clock())
        self._transferred: deque[datetime] = deque()  # calls the bot put through, recently
        self._lock = threading.Lock()
        r = registry
        self.expected_wait = Histogram(
            "voicebot_agent_wait_expected_seconds",
            "Expected wait for an agent when a call was handed over",
            ["channel"],
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.handoffs = Counter(
            "voicebot_call_handoffs_total",
            "Calls handed to an agent, by how the transfer went",
            ["channel", "transfer"],
            registry=r,
        )
        self.congestion = Counter(
            "voicebot_congestion_offers_total",
            "Callers told of a long wait (or a closed desk), by what they chose",
            ["channel", "choice"],
            registry=r,
        )
        self.booked = Counter("voicebot_callbacks_booked_total", "Call-backs booked", ["channel"], registry=r)
        self.dialled = Counter(
            "voicebot_callback_calls_total", "Call-back calls placed, by outcome", ["outcome"], registry=r
        )
        Gauge("voicebot_agents_on_duty", "Agents on duty", registry=r).set_function(
            lambda: self.capacity().agents
        )
        Gauge("voicebot_agent_queue", "Callers waiting for an agent", registry=r).set_function(self.queue)

    # --- capacity --------------------------------------------------------------------------------------

    def capacity(self) -> Capacity:
        with self._lock:
            return self._capacity

    def set_capacity(self, agents: int, waiting: int, who: str) -> Capacity:
        with self._lock:
            self._capacity = Capacity(agents, waiting, who, self.clock())
            return self._capacity

    def queue(self) -> int:
        """Callers waiting: as reported, plus the bot's own transfers within the average handling time."""
        since = self.clock() - timedelta(seconds=self.settings.handle_s)
        with self._lock:
            while self._transferred and self._transferred[0] < since:
                self._transferred.popleft()
            return self._capacity.waiting + len(self._transferred)

    def wait(self, now: datetime | None = None) -> WaitEstimate:
        settings = self.settings
        now = now or self.clock()
        agents = self.capacity().agents
        if not settings.hours.open_at(now):
            return WaitEstimate(None, True, settings.hours.text())
        if agents <= 0:
            return WaitEstimate(None, True)
        wait_s = self.queue() * settings.handle_s / agents
        return WaitEstimate(wait_s, wait_s > settings.threshold_s)

    def status(self) -> dict[str, Any]:
        capacity, estimate = self.capacity(), self.wait()
        settings_hours = self.settings.hours.text()
        return {
            "agents": capacity.agents,
            "waiting": capacity.waiting,
            "queue": self.queue(),
            "expected_wait_s": None if estimate.wait_s is None else round(estimate.wait_s),
            "congested": estimate.congested,
            "open_now": self._open(),
            "hours": settings_hours,
            "threshold_s": self.settings.threshold_s,
            "handle_s": self.settings.handle_s,
            "updated_by": capacity.updated_by,
            "updated_at": capacity.updated_at.isoformat(),
        }

    def _open(self) -> bool:
        return self.settings.hours.open_at(self.clock())

    # --- voicebot.call.AgentQueue ------------------------------------------------------------------------

    def estimate(self, channel: str) -> WaitEstimate:
        estimate = self.wait()
        if estimate.wait_s is not None:
            self.expected_wait.labels(channel).observe(estimate.wait_s)
        return estimate

    def callback_slots(self, count: int) -> list[CallbackSlot]:
        settings, now = self.settings, self.clock()
        with self.factory() as session:
            booked = callbacks.booked_counts(session, now, now + timedelta(days=15))
        slots = callbacks.free_slots(
            settings.hours,
            now,
            booked,
            count=count,
            slot_minutes=settings.slot_minutes,
            per_slot=settings.per_slot,
        )
        return [CallbackSlot(s.start, s.end, s.label) for s in slots]

    def book_callback(
        self, number: str, slot: CallbackSlot, *, channel: str, handoff_id: str | None, handoff: dict | None
    ) -> int:
        handoff = handoff or {}
        with self.factory.begin() as session:
            row = callbacks.book(
                session,
                number,
                slot.start,
                slot.end,
                channel=channel,
                handoff_id=handoff_id,
                reason=handoff.get("reason"),
                category=handoff.get("category"),
                intent=handoff.get("intent"),
            )
            callback_id = row.id
        self.booked.labels(channel).inc()
        return callback_id

    # --- the call's end and the dialer -------------------------------------------------------------------

    def call_ended(self, record: CallRecord) -> None:
        """Count a finished inbound call's handoff and congestion choice (labels only)."""
        if record.handoff_id:
            self.handoffs.labels(record.transport, record.transfer or "none").inc()
        if record.congestion:
            self.congestion.labels(record.transport, str(record.congestion.get("choice"))).inc()
        if record.transfer == "ok":
            with self._lock:
                self._transferred.append(self.clock())

    def open_callbacks(self) -> int:
        with self.factory() as session:
            return session.scalar(
                select(func.count())
                .select_from(callbacks.Callback)
                .where(callbacks.Callback.state.in_(callbacks.OPEN_STATES))
            )

    def run_dialer(self, dialer: Dialer, worker_id: str, stop: threading.Event) -> None:
        """Dial due call-backs until ``stop``: in their slot, in business hours, never a do-not-call
        number (``outbound.callbacks.dial_due``)."""
        settings = self.settings
        while not stop.is_set():
            try:
                report = callbacks.dial_due(
                    self.factory,
                    dialer,
                    worker_id,
                    self.clock(),
                    settings.hours,
                    policy=settings.policy,
                    clock=self.clock,
                )
                for outcome, count in report.outcomes.items():
                    self.dialled.labels(outcome).inc(count)
                if report.dialled:
                    continue
            except Exception as exc:  # the database away for a moment: try again next time
                log.error("call-back dialer: pass failed (%s)", type(exc).__name__)
            stop.wait(settings.poll_s)
