"""The analytics API (issue 19): trends over the inquiry records, 민원예보 and spike alerts, for the console's
민원 분석 tab and /metrics.

:class:`Analytics` reads real records, or with ``voicebot serve --demo-data`` only the labelled synthetic
history (written once, seeded, when the database has none): the two are never mixed. The forecast is
recomputed at most every ``ttl_s`` seconds (a fit per category), so /metrics scrapes stay cheap.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialog.gaps import cluster
from outbound import analytics, demo_data, service
from outbound.api import Auth, file_response
from outbound.inquiries import Inquiry
from outbound.report import last_period, write_report
from voicebot.chat.schema import ChatMessage

log = logging.getLogger(__name__)

DEMO_DAYS = 365
REPORT_NAME = re.compile(r"^(week|month)-\d{4}-\d{2}-\d{2}\.pdf$")


class Analytics:
    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Callable[[], datetime],
        *,
        demo: bool = False,
        titles: Callable[[], dict[str, str]] = dict,
        tokenizer: Callable[[], Callable[[str], list[str]] | None] = lambda: None,
        ttl_s: float = 600.0,
        reports_dir: Path | None = None,
    ):
        self.factory = factory
        self.clock = clock
        self.demo = demo
        self.titles = titles
        self.tokenizer = tokenizer
        self.reports_dir = reports_dir
        self.ttl = timedelta(seconds=ttl_s)
        self._lock = threading.Lock()
        self._outlook: tuple[datetime, dict[str, Any]] | None = None

    def today(self) -> date:
        return self.clock().astimezone(analytics.SEOUL).date()

    def ensure_demo_history(self) -> int:
        """With ``--demo-data``: a seeded synthetic year up to today, unless one is stored already."""
        if not self.demo:
            return 0
        with self.factory.begin() as db:
            if db.scalar(select(func.count()).select_from(Inquiry).where(Inquiry.synthetic.is_(True))):
                return 0
            start = self.today() - timedelta(days=DEMO_DAYS)
            holidays = analytics.holidays_around(start, self.today())
            n = demo_data.populate(db, start, DEMO_DAYS + 1, frozenset(holidays))
        log.info("demo data: %d synthetic inquiry records written (%s)", n, demo_data.LABEL)
        return n

    def label(self) -> dict[str, Any]:
        return {"synthetic": self.demo, "label": demo_data.LABEL if self.demo else None}

    def trends(self, days: int) -> dict[str, Any]:
        last = self.today()
        with self.factory() as db:
            data = analytics.trends(
                db, last - timedelta(days=days - 1), last, synthetic=self.demo, titles=self.titles()
            )
        return {**data, **self.label()}

    def outlook(self) -> dict[str, Any]:
        now = self.clock()
        with self._lock:
            if self._outlook is not None and now - self._outlook[0] < self.ttl:
                return self._outlook[1]
        with self.factory() as db:
            data = {**analytics.outlook(db, self.today(), synthetic=self.demo), **self.label()}
        with self._lock:
            self._outlook = (now, data)
        return data

    def gaps(self, days: int, limit: int = 10) -> dict[str, Any]:
        """Typed questions (web chat, KakaoTalk) the bot answered with a clarifying question or a handover,
        grouped by meaning; examples masked. Each group comes with a draft KB entry for an admin to edit."""
        tokenize = self.tokenizer()
        if tokenize is None:
            return {"groups": [], "questions": 0, "note": "상담봇 모델을 불러오는 중입니다."}
        since = self.clock() - timedelta(days=days)
        with self.factory() as db:
            rows = db.execute(
                select(
                    ChatMessage.conversation_id,
                    ChatMessage.role,
                    ChatMessage.kind,
                    ChatMessage.text,
                    ChatMessage.meta,
                )
                .where(ChatMessage.created_at >= since, ChatMessage.role.in_(("user", "bot")))
                .order_by(ChatMessage.conversation_id, ChatMessage.seq)
            ).all()
        questions: list[str] = []
        categories: list[str | None] = []
        for before, after in zip(rows, rows[1:], strict=False):
            if (
                before.conversation_id != after.conversation_id
                or before.role != "user"
                or before.kind != "text"
            ):
                continue
            if after.role == "bot" and after.kind in ("clarify", "escalate"):
                questions.append(before.text)
                categories.append((after.meta or {}).get("category"))
        groups = cluster(questions, tokenize)[:limit]
        out = []
        for group in groups:
            cats = [categories[i] for i in group.members if categories[i]]
            category = max(set(cats), key=cats.count) if cats else "general"
            out.append(
                {
                    "count": group.size,
                    "terms": list(group.terms),
                    "examples": list(group.examples),
                    "draft": {
                        "category": category,
                        "title": group.examples[0][:40],
                        "questions": list(group.examples),
                    },
                }
            )
        return {"groups": out, "questions": len(questions), "days": days}

    def write_due_reports(self) -> list[Path]:
        """정기분석 on a schedule: the last whole week's and month's PDF, each written once, into
        ``reports_dir`` (``week-<first day>.pdf``, ``month-<first day>.pdf``)."""
        if self.reports_dir is None:
            return []
        written = []
        today = self.today()
        for kind in ("week", "month"):
            path = self.reports_dir / f"{kind}-{last_period(kind, today).first.isoformat()}.pdf"
            if path.exists():
                continue
            with self.factory() as db:
                write_report(db, path, kind, today, synthetic=self.demo, titles=self.titles())
            path.chmod(0o640)
            written.append(path)
            log.info("report written: %s", path.name)
        return written

    def reports(self) -> list[str]:
        if self.reports_dir is None or not self.reports_dir.is_dir():
            return []
        return sorted((p.name for p in self.reports_dir.iterdir() if REPORT_NAME.match(p.name)), reverse=True)

    def run_reports(self, stop: threading.Event, every_s: float = 3600.0) -> None:
        """The server's report thread: at start, then every hour."""
        while True:
            try:
                self.write_due_reports()
            except FileNotFoundError as exc:  # no Korean font: say so once, stop trying
                log.warning("reports are off: %s", exc)
                return
            except Exception:  # retried next hour
                log.exception("writing the periodic reports failed")
            if stop.wait(every_s):
                return

    def collector(self) -> Collector:
        return _SpikeCollector(self)

    def register(self, registry: CollectorRegistry) -> None:
        registry.register(self.collector())


class _SpikeCollector(Collector):
    """``voicebot_inquiry_spike{category}``: 1 while today's count is far above its forecast."""

    def __init__(self, owner: Analytics):
        self.owner = owner

    def collect(self) -> Iterator[GaugeMetricFamily]:
        spike = GaugeMetricFamily(
            "voicebot_inquiry_spike",
            "1 when today's inquiries in a category are above the 99% forecast interval",
            labels=["category"],
        )
        today = GaugeMetricFamily(
            "voicebot_inquiries_today", "Inquiries so far today per category", labels=["category"]
        )
        try:
            data = self.owner.outlook()
        except Exception:  # a scrape must not fail for the forecast
            log.exception("inquiry outlook failed")
            data = {"categories": [], "spikes": []}
        spiking = {s["category"] for s in data["spikes"]}
        for row in data["categories"]:
            spike.add_metric([row["category"]], 1.0 if row["category"] in spiking else 0.0)
            today.add_metric([row["category"]], float(row["today"]))
        yield spike
        yield today


def make_trends_router(owner: Analytics, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api/trends", tags=["analytics"])

    @router.get("", summary="Inquiry volume by category, intent, channel, hour and weekday; containment")
    def trends(
        days: int = Query(30, ge=1, le=366),
        who: service.Principal = Depends(auth.require("viewer")),
    ) -> dict[str, Any]:
        return owner.trends(days)

    @router.get("/gaps", summary="KB gaps: typed questions the bot had to clarify or hand over, by meaning")
    def gaps(
        days: int = Query(30, ge=1, le=366),
        who: service.Principal = Depends(auth.require("operator")),
    ) -> dict[str, Any]:
        return owner.gaps(days)

    @router.get("/reports", summary="정기분석 PDFs the server wrote (weekly, monthly), newest first")
    def reports(who: service.Principal = Depends(auth.require("viewer"))) -> dict[str, Any]:
        return {"reports": owner.reports()}

    @router.get(
        "/reports/{name}",
        summary="One 정기분석 PDF",
        response_class=FileResponse,
        responses=file_response("application/pdf"),
    )
    def report(name: str, who: service.Principal = Depends(auth.require("viewer"))) -> FileResponse:
        if not REPORT_NAME.match(name) or name not in owner.reports() or owner.reports_dir is None:
            raise HTTPException(404, "보고서를 찾을 수 없습니다.")
        return FileResponse(owner.reports_dir / name, media_type="application/pdf", filename=name)

    @router.get("/forecast", summary="민원예보: the next 14 days per category with 95% intervals; spikes")
    def outlook(who: service.Principal = Depends(auth.require("viewer"))) -> dict[str, Any]:
        return owner.outlook()

    return router
