"""Figures for the console's charts: outbound outcomes by hour and reached rate per campaign, inbound
intents, escalation reasons and the voice-to-voice latency distribution (from the call log)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialog import REFUSAL_INTENT
from outbound import service
from outbound.api import NOT_FOUND, Auth
from outbound.schema import OUTCOMES, REACHED_OUTCOMES, Attempt, CallLog, Campaign, CampaignContact

SEOUL = ZoneInfo("Asia/Seoul")
HISTOGRAM_LE_MS = (400, 600, 800, 1000, 1250, 1500, 2000, 3000, 5000)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def outbound_stats(session: Session, campaign_id: int | None, since: datetime) -> dict[str, Any]:
    query = select(Attempt.ended_at, Attempt.outcome).where(
        Attempt.outcome.is_not(None), Attempt.ended_at >= since
    )
    if campaign_id is not None:
        query = query.where(Attempt.campaign_id == campaign_id)
    by_hour: dict[str, Counter[str]] = defaultdict(Counter)
    for ended_at, outcome in session.execute(query):
        hour = ended_at.astimezone(SEOUL).replace(minute=0, second=0, microsecond=0).isoformat()
        by_hour[hour][outcome] += 1
    campaigns = select(Campaign).order_by(Campaign.id.desc()).limit(20)
    if campaign_id is not None:
        campaigns = select(Campaign).where(Campaign.id == campaign_id)
    rates = []
    for campaign in session.scalars(campaigns):
        contacts = session.scalar(
            select(func.count())
            .select_from(CampaignContact)
            .where(CampaignContact.campaign_id == campaign.id)
        )
        reached = session.scalar(
            select(func.count(Attempt.contact_id.distinct())).where(
                Attempt.campaign_id == campaign.id, Attempt.outcome.in_(REACHED_OUTCOMES)
            )
        )
        rates.append(
            {
                "campaign_id": campaign.id,
                "name": campaign.name,
                "contacts": contacts or 0,
                "reached": reached or 0,
                "reached_rate": round((reached or 0) / contacts, 4) if contacts else 0.0,
            }
        )
    return {
        "outcomes_by_hour": [
            {"hour": hour, **{o: counts.get(o, 0) for o in OUTCOMES}}
            for hour, counts in sorted(by_hour.items())
        ],
        "reached_rate": rates,
    }


def inbound_stats(session: Session, since: datetime, titles: dict[str, str] | None = None) -> dict[str, Any]:
    """``titles`` maps knowledge-base ids to their Korean titles for the console (ids shown otherwise)."""
    titles = titles or {}
    rows = session.scalars(select(CallLog).where(CallLog.started_at >= since)).all()
    intents: Counter[str] = Counter()
    escalations: Counter[str] = Counter()
    latencies: list[float] = []
    for row in rows:
        intents.update(row.intents or [])
        if row.escalation:
            escalations[row.escalation] += 1
        latencies.extend(row.voice_to_voice_ms or [])
    histogram = [{"le": le, "count": sum(v <= le for v in latencies)} for le in HISTOGRAM_LE_MS]
    histogram.append({"le": None, "count": len(latencies)})
    return {
        "calls": len(rows),
        "intents": [{"intent": k, "title": titles.get(k, k), "count": v} for k, v in intents.most_common(10)],
        "escalations": [{"reason": k, "count": v} for k, v in escalations.most_common()],
        "latency_ms": {
            "count": len(latencies),
            "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95),
            "histogram": histogram,
        },
    }


def _titles(runtime: Any) -> dict[str, str]:
    """Korean titles of the intents the console shows: the knowledge base's entries and the dialog's own."""
    titles = {REFUSAL_INTENT: "다른 사람의 개인정보 요청 (안내 거절)"}
    engine = runtime.models.engine if runtime.models is not None else None
    if engine is not None:
        titles.update({entry.id: entry.title for entry in engine.kb})
    return titles


def make_stats_router(runtime: Any, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api/stats", tags=["statistics"])

    def since(days: int) -> datetime:
        return runtime.clock() - timedelta(days=days)

    @router.get(
        "/outbound", responses=NOT_FOUND, summary="Outbound outcomes by hour and reached rate per campaign"
    )
    def outbound(
        campaign_id: int | None = None,
        days: int = Query(7, ge=1, le=366),
        session: Session = Depends(auth.db),
        who: service.Principal = Depends(auth.require("viewer")),
    ) -> dict[str, Any]:
        if campaign_id is not None:
            service.get_campaign(session, campaign_id)
        return outbound_stats(session, campaign_id, since(days))

    @router.get("/inbound", summary="Inbound intents, escalation reasons, voice-to-voice latency")
    def inbound(
        days: int = Query(7, ge=1, le=366),
        session: Session = Depends(auth.db),
        who: service.Principal = Depends(auth.require("viewer")),
    ) -> dict[str, Any]:
        return inbound_stats(session, since(days), _titles(runtime))

    return router
