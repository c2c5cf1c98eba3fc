"""One inquiry record per contact, on every channel, for trends and forecasts (issue 19).

A record says when a citizen got in touch, on which channel, about which category and intent (the
knowledge-base id), how it ended (answered, clarified, escalated and why, abandoned), how many turns and
seconds it took and, when the citizen named one, the Seoul district (자치구). It holds no words, no
number and no id that leads back to a person: what the citizen said stays in the call's own records.

The table lives in the outbound store's database (Alembic revision ``0009_inquiries``) so that the
server, the chat service and the outbound runner (which never imports ``voicebot``) all write it.
Rows made by the demo data generator have ``synthetic`` set; every reader picks real or synthetic rows,
never both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from outbound.schema import Base, UTCDateTime, one_of

# phone: an inbound SIP call; browser: the WebRTC caller page; web_chat / kakao: voicebot.chat;
# outbound: a citizen answering one of the centre's outbound calls.
CHANNELS = ("phone", "browser", "web_chat", "kakao", "outbound")
OUTCOMES = ("answered", "clarified", "escalated", "abandoned")
CHANNEL_KO = {
    "phone": "전화",
    "browser": "브라우저 통화",
    "web_chat": "웹 채팅",
    "kakao": "카카오톡",
    "outbound": "발신 응답",
}
OUTCOME_KO = {"answered": "답변", "clarified": "되묻기", "escalated": "상담사 연결", "abandoned": "중도 종료"}
CATEGORY_KO = {
    "covid": "코로나19",
    "transport": "교통",
    "water": "상수도",
    "general": "일반 행정",
    "directory": "전화 안내",
    "foreign": "외국어",
    "welfare": "복지",
    "outbound": "발신 안내",
}

SEOUL_DISTRICTS = (
    "종로구", "중구", "용산구", "성동구", "광진구", "동대문구", "중랑구", "성북구", "강북구", "도봉구",
    "노원구", "은평구", "서대문구", "마포구", "양천구", "강서구", "구로구", "금천구", "영등포구", "동작구",
    "관악구", "서초구", "강남구", "송파구", "강동구",
)  # fmt: skip
# The longest names first, so that "동대문구" is not read as "대문구"; a name must not continue a word.
_DISTRICT = re.compile(
    r"(?<![가-힣])(" + "|".join(sorted((d[:-1] for d in SEOUL_DISTRICTS), key=len, reverse=True)) + r")구"
)


class Inquiry(Base):
    __tablename__ = "inquiries"
    __table_args__ = (
        CheckConstraint(one_of("channel", CHANNELS), name="ck_inquiries_channel"),
        CheckConstraint(one_of("outcome", OUTCOMES), name="ck_inquiries_outcome"),
        Index("ix_inquiries_time", "synthetic", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(32))
    intent: Mapped[str | None] = mapped_column(String(64))  # knowledge-base entry id
    outcome: Mapped[str] = mapped_column(String(16))
    escalation_reason: Mapped[str | None] = mapped_column(String(32))
    turns: Mapped[int] = mapped_column(Integer, default=0)  # the citizen's turns (utterances, keys, messages)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    district: Mapped[str | None] = mapped_column(String(8))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


@dataclass(frozen=True)
class Step:
    """One bot turn of a contact, as the dialog labelled it (``dialog.Action`` values)."""

    action: str  # answer | clarify | escalate | menu | goodbye
    category: str | None = None
    intent: str | None = None


@dataclass(frozen=True)
class Summary:
    category: str | None
    intent: str | None
    outcome: str
    escalation_reason: str | None


def summarize(steps: Iterable[Step], escalation_reason: str | None = None) -> Summary:
    """How a contact ended: escalated when it was handed to an agent; else answered when any question got
    an answer; else clarified when the bot had to ask back and no answer followed; else abandoned (the
    citizen left before asking anything). Category and intent are those of the deciding turn."""
    steps = list(steps)
    escalated = [s for s in steps if s.action == "escalate"]
    answered = [s for s in steps if s.action == "answer"]
    clarified = [s for s in steps if s.action == "clarify"]
    if escalation_reason or escalated:
        decider = escalated[-1] if escalated else _last_labelled(steps)
        outcome = "escalated"
    elif answered:
        decider, outcome = answered[-1], "answered"
    elif clarified:
        decider, outcome = clarified[-1], "clarified"
    else:
        decider, outcome = _last_labelled(steps), "abandoned"
    category = decider.category if decider else None
    intent = decider.intent if decider else None
    if decider is not None and category is None:
        labelled = _last_labelled(steps)
        category = labelled.category if labelled else None
    reason = (escalation_reason or "unknown") if outcome == "escalated" else None
    return Summary(category, intent, outcome, reason)


def _last_labelled(steps: list[Step]) -> Step | None:
    return next((s for s in reversed(steps) if s.category), None)


def district_in(texts: Iterable[str]) -> str | None:
    """The first Seoul district a citizen named ("강남구", "동대문구 ..."), or None. Only the district's
    name is kept, never the words around it."""
    for text in texts:
        found = _DISTRICT.search(text or "")
        if found:
            return found.group(1) + "구"
    return None


def record(
    session: Session,
    *,
    started_at: datetime,
    channel: str,
    summary: Summary,
    turns: int,
    duration_s: float,
    district: str | None = None,
    synthetic: bool = False,
) -> Inquiry:
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if district is not None and district not in SEOUL_DISTRICTS:
        raise ValueError("district must be one of Seoul's 25 자치구")
    row = Inquiry(
        started_at=started_at,
        channel=channel,
        category=summary.category,
        intent=summary.intent,
        outcome=summary.outcome,
        escalation_reason=summary.escalation_reason,
        turns=max(0, int(turns)),
        duration_s=round(max(0.0, float(duration_s)), 1),
        district=district,
        synthetic=synthetic,
    )
    session.add(row)
    return row
