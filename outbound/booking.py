"""Why a campaign has no call booked, said to staff when they create or start one.

A running campaign with nothing booked would be completed by the worker's next pass without a single
call, so :func:`outbound.service.start_campaign` refuses such a start with these reasons and leaves the
campaign a draft: the period is over, the period has no calling time left (weekdays, holidays, windows,
round days), or there is nobody to call. Dates are those of the campaign's time zone (Asia/Seoul), never
the server's or UTC.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outbound import store
from outbound.scheduler import local_today, next_allowed_time, weekdays_text
from outbound.schema import IN_CALL_STATES, Attempt, Campaign, CampaignContact


def booking_notice(session: Session, campaign: Campaign, now: datetime) -> str | None:
    """``예약된 통화가 없습니다: …`` with every reason found, or None when a call is booked or in progress
    (or the campaign is a draft, which books nothing yet)."""
    if campaign.status == "draft":
        return None
    open_attempt = session.scalar(
        select(Attempt.id)
        .where(Attempt.campaign_id == campaign.id, Attempt.state.in_(("scheduled", *IN_CALL_STATES)))
        .limit(1)
    )
    if open_attempt is not None:
        return None
    reasons = _period_reasons(campaign, now) + _people_reasons(session, campaign)
    return "예약된 통화가 없습니다: " + "; ".join(reasons or ["남은 통화가 없습니다"])


def _period_reasons(campaign: Campaign, now: datetime) -> list[str]:
    schedule = store.campaign_schedule(campaign)
    today = local_today(now, campaign.timezone)
    period = f"{campaign.start_date} ~ {campaign.end_date}"
    if campaign.end_date < today:
        return [f"기간({period})이 이미 지났습니다 (오늘은 {today}, {campaign.timezone} 기준)"]
    windows = ", ".join(str(w) for w in schedule.windows)
    if next_allowed_time(schedule, now) is None:
        return [
            f"남은 기간({max(today, campaign.start_date)} ~ {campaign.end_date})에 통화 시간대가 없습니다 "
            f"(통화 요일 {weekdays_text(schedule.weekdays)}, 시간 {windows}"
            f"{', 공휴일 제외' if schedule.skip_holidays else ''})"
        ]
    rounds = store.round_days(campaign)
    if rounds is not None and not any(day >= today for day in rounds):
        recurrence = frozenset(int(d) for d in (campaign.recurrence_weekdays or "").split(",") if d)
        return [f"남은 기간({period})에 회차 요일({weekdays_text(recurrence)})이 없습니다"]
    return []


def _people_reasons(session: Session, campaign: Campaign) -> list[str]:
    statuses = dict(
        session.execute(
            select(CampaignContact.status, func.count())
            .where(CampaignContact.campaign_id == campaign.id)
            .group_by(CampaignContact.status)
        ).all()
    )
    if not statuses:
        return ["대상자가 없습니다 (연락처 파일을 가져오세요)"]
    if not statuses.get("pending"):
        return [
            f"전화할 대상자가 없습니다 (대상자 {sum(statuses.values())}명 모두 완료·연락 안 됨·수신 거부)"
        ]
    return []
