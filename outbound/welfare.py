"""Welfare memory (issue 16): what each person said on recent check-ins, the follow-up the next check-in
asks first, the path for people who pick up and say nothing, and how long any of it is kept.

After every check-in that reached a person (:func:`remember`, called by the runner as the result is
recorded) each answered topic becomes a :class:`~outbound.schema.WelfareMemory` row; the worst concern of
the call (``concern`` before ``not_fine``) is marked ``follow_up`` and :func:`follow_up_for` hands it to
the next check-in, which asks "지난번에 허리가 아프다고 하셨는데 요즘은 좀 어떠세요?" once the person is
identified (``outbound.script.Conversation``). The answer is remembered as a row that ``follows`` the
concern, so staff see per topic whether it got better (:func:`memory_view`).

A check-in picked up with no answer at all counts in ``contacts.silent_calls``; at
``WelfareSettings.silent_calls`` in a row another call is booked at a different time of day, and when that
one is silent too an alert "연락은 되나 응답 없음" goes to the social worker.

Rows older than ``WelfareSettings.retention_days`` are deleted by :func:`purge` (the worker runs it).
Nothing here logs names, numbers or what was said.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dialog.normalize import compact
from outbound.scheduler import next_allowed_time
from outbound.schema import (
    REACHED_OUTCOMES,
    WELFARE_VALUES,
    Alert,
    Attempt,
    Campaign,
    CampaignContact,
    Contact,
    WelfareMemory,
)
from outbound.script import FOLLOW_UP_STEP, FollowUp
from outbound.store import campaign_schedule

log = logging.getLogger(__name__)

TOPIC_KO = {
    "meals": "식사",
    "health": "건강",
    "sleep": "수면",
    "mood": "마음",
    "needs": "필요한 도움",
    "medication": "복약",
    "going_out": "외출",
    "general": "전반",
}
_SEVERITY = {"fine": 0, "unclear": 1, "not_fine": 2, "concern": 3}


@dataclass(frozen=True)
class WelfareSettings:
    retention_days: int = 180  # memory older than this is deleted
    silent_calls: int = 2  # silent check-ins in a row before a call at another time, then an alert
    other_time_after_h: float = 3.0  # the call at another time: at least this much later in the day

    @classmethod
    def from_env(cls) -> WelfareSettings:
        """``VOICEBOT_WELFARE_RETENTION_DAYS`` and ``VOICEBOT_WELFARE_SILENT_CALLS`` when set."""
        days = int(os.environ.get("VOICEBOT_WELFARE_RETENTION_DAYS", cls.retention_days))
        silent = int(os.environ.get("VOICEBOT_WELFARE_SILENT_CALLS", cls.silent_calls))
        if days < 1 or silent < 1:
            raise ValueError("welfare retention days and silent calls must be 1 or more")
        return cls(retention_days=days, silent_calls=silent)


# --- the clause a follow-up quotes ---------------------------------------------------------------------

_BODY = (
    "허리", "무릎", "다리", "머리", "어깨", "팔", "손목", "손", "발목", "발", "가슴", "배", "속", "목", "눈",
    "귀", "이", "잇몸", "등", "옆구리", "엉덩이", "관절", "허벅지", "종아리", "골반",
)  # fmt: skip
_BODY_PAIN = re.compile(
    rf"({'|'.join(sorted(_BODY, key=len, reverse=True))})(가|이|는|도|쪽이|쪽)?(좀|너무|많이|계속|자꾸)*(아프|아파|아픈|쑤시|쑤셔|저리|저려|결리|결려)"
)
_TOPIC_CLAUSES: dict[str, tuple[tuple[str, str], ...]] = {
    "health": (("어지러|어지럽", "어지러우시다고"), ("기운(이)?없|힘(이)?없", "기운이 없으시다고"),
               ("넘어졌|다쳤", "넘어지셨다고"), ("기침|감기", "감기 기운이 있으시다고")),
    "meals": (("입맛|밥맛", "입맛이 없으시다고"), ("굶|거르|걸렀", "식사를 거르셨다고"),
              ("소화", "소화가 잘 안 되신다고"), ("쌀|반찬|먹을", "드실 것이 떨어졌다고")),
    "sleep": (("깨", "밤에 자꾸 깨신다고"),),
    "mood": (("외로|쓸쓸|적적", "적적하시다고"), ("우울", "마음이 우울하시다고"),
             ("불안|걱정", "걱정이 많으시다고"), ("심심", "심심하시다고")),
    "needs": (("쌀|반찬|먹을", "드실 것이 필요하시다고"), ("병원", "병원에 가셔야 한다고")),
    "medication": (("떨어|없어", "약이 떨어졌다고"),),
}  # fmt: skip
_TOPIC_DEFAULT = {
    "health": "몸이 좀 편찮으시다고",
    "meals": "식사를 잘 못 하신다고",
    "sleep": "잠을 잘 못 주무신다고",
    "mood": "마음이 좀 힘드시다고",
    "needs": "도움이 필요하시다고",
    "medication": "약을 잘 못 챙겨 드신다고",
    "going_out": "바깥출입이 어려우시다고",
    "general": "요즘 좀 힘드시다고",
}


def _subject(noun: str) -> str:
    """The noun with 이/가 as Korean spelling wants it (받침 or not)."""
    last = ord(noun[-1]) - 0xAC00
    return noun + ("이" if 0 <= last < 11172 and last % 28 else "가")


def concern_summary(topic: str, said: str | None) -> str:
    """The clause a follow-up quotes ("허리가 아프다고"), from the topic and, when given, the words said;
    the topic's own polite clause when the words name nothing more precise."""
    c = compact(said or "")
    if topic in ("health", "general") or c:
        found = _BODY_PAIN.search(c)
        if found:
            return f"{_subject(found.group(1))} 아프다고"
    for pattern, clause in _TOPIC_CLAUSES.get(topic, ()):
        if re.search(pattern, c):
            return clause
    return _TOPIC_DEFAULT.get(topic, _TOPIC_DEFAULT["general"])


# --- after a call ----------------------------------------------------------------------------------------


def _spoke(conversation: dict[str, Any]) -> bool:
    return any(s.get("via") in ("speech", "dtmf") for s in conversation.get("steps", {}).values())


def remember(
    session: Session,
    attempt_id: int,
    contact_id: int,
    outcome: str,
    conversation: dict[str, Any] | None,
    now: datetime,
    settings: WelfareSettings,
) -> None:
    """Keep what a finished check-in said (see the module). Only a welfare check that reached someone
    counts: a machine or nobody changes nothing. A call to the wrong person remembers nothing."""
    conv = conversation or {}
    if outcome not in REACHED_OUTCOMES or conv.get("kind") != "welfare_check":
        return
    contact = session.get(Contact, contact_id)
    if contact is None:
        return
    if not _spoke(conv):
        contact.silent_calls = (contact.silent_calls or 0) + 1
        _silent_path(session, attempt_id, contact, now, settings)
        return
    contact.silent_calls = 0
    if conv.get("outcome") == "wrong_person" or conv.get("identified") is False:
        return  # not the person: nothing they said is theirs to remember
    follow = conv.get("follow_up") or {}
    followed = session.get(WelfareMemory, follow["memory_id"]) if follow.get("memory_id") else None
    rows: list[WelfareMemory] = []
    for step, answer in conv.get("steps", {}).items():
        value, topic = answer.get("value"), answer.get("topic")
        if not topic or value not in WELFARE_VALUES or value == "unclear":
            continue
        said = answer.get("text")
        if step == FOLLOW_UP_STEP and followed is not None:
            summary, follows = followed.summary, followed.id
        else:
            summary = concern_summary(topic, said) if value != "fine" else ""
            follows = None
        row = WelfareMemory(
            contact_id=contact_id,
            attempt_id=attempt_id,
            topic=topic,
            value=value,
            summary=summary,
            said=said,
            follows=follows,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        rows.append(row)
    if follow.get("value") in ("fine", "not_fine", "concern") or any(r.value != "fine" for r in rows):
        # The last concern was answered (or a new one came): only the newest one is followed up. An
        # unclear or missing answer to the follow-up leaves it to be asked again.
        session.execute(
            WelfareMemory.__table__.update()
            .where(WelfareMemory.contact_id == contact_id, WelfareMemory.follow_up.is_(True))
            .values(follow_up=False)
        )
    worst = max(
        (r for r in rows if r.value in ("not_fine", "concern")),
        key=lambda r: (_SEVERITY[r.value], r.follows is None),
        default=None,
    )
    if worst is not None:
        worst.follow_up = True
    session.flush()


def _silent_path(
    session: Session, attempt_id: int, contact: Contact, now: datetime, settings: WelfareSettings
) -> None:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        return
    silent = contact.silent_calls
    if silent == settings.silent_calls:
        _call_at_another_time(session, attempt, now, settings)
    elif silent == settings.silent_calls + 1:
        session.add(
            Alert(
                kind="no_response",
                severity="warning",
                campaign_id=attempt.campaign_id,
                contact_id=contact.id,
                attempt_id=attempt.id,
                message=(
                    f"연락은 되나 응답 없음: 최근 {silent}번 연속으로 전화를 받으셨지만 아무 말씀이 없었습니다 "
                    "(다른 시간대 통화 포함). 직접 방문이나 확인이 필요합니다."
                ),
            )
        )


def _call_at_another_time(
    session: Session, attempt: Attempt, now: datetime, settings: WelfareSettings
) -> None:
    """Book one more call of this round at another time of day (at least ``other_time_after_h`` later,
    in the campaign's windows, whatever the person's preferred times)."""
    campaign = session.get(Campaign, attempt.campaign_id)
    if campaign is None or campaign.status in ("cancelled", "completed"):
        return
    due = next_allowed_time(campaign_schedule(campaign), now + timedelta(hours=settings.other_time_after_h))
    if due is None:
        return
    number = session.scalar(
        select(func.max(Attempt.attempt_number)).where(
            Attempt.campaign_contact_id == attempt.campaign_contact_id,
            Attempt.round_date.is_(None)
            if attempt.round_date is None
            else Attempt.round_date == attempt.round_date,
        )
    )
    session.add(
        Attempt(
            campaign_id=attempt.campaign_id,
            contact_id=attempt.contact_id,
            campaign_contact_id=attempt.campaign_contact_id,
            attempt_number=(number or 0) + 1,
            round_date=attempt.round_date,
            due_at=due,
        )
    )
    member = session.get(CampaignContact, attempt.campaign_contact_id)
    if member is not None:
        member.status = "pending"
    local = due.astimezone(ZoneInfo(campaign.timezone))
    log.info(
        "attempt %s: silent check-ins in a row; another call booked at %s",
        attempt.id,
        local.strftime("%H:%M"),
    )


# --- before a call ---------------------------------------------------------------------------------------


def follow_up_for(
    session: Session, contact_id: int, now: datetime, settings: WelfareSettings
) -> FollowUp | None:
    """The concern the next check-in asks about first, or None (nothing open within the retention time)."""
    row = session.scalars(
        select(WelfareMemory)
        .where(
            WelfareMemory.contact_id == contact_id,
            WelfareMemory.follow_up.is_(True),
            WelfareMemory.created_at >= now - timedelta(days=settings.retention_days),
        )
        .order_by(WelfareMemory.created_at.desc(), WelfareMemory.id.desc())
        .limit(1)
    ).first()
    if row is None or not row.summary.strip():
        return None
    return FollowUp(row.id, row.topic, row.summary.strip())


# --- retention -------------------------------------------------------------------------------------------


def purge(session: Session, now: datetime, settings: WelfareSettings) -> int:
    """Delete memory older than the retention period; returns how many rows went."""
    cutoff = now - timedelta(days=settings.retention_days)
    result = session.execute(delete(WelfareMemory).where(WelfareMemory.created_at < cutoff))
    return int(result.rowcount or 0)


# --- for staff -------------------------------------------------------------------------------------------


def memory_dict(row: WelfareMemory) -> dict[str, Any]:
    return {
        "id": row.id,
        "attempt_id": row.attempt_id,
        "topic": row.topic,
        "topic_ko": TOPIC_KO.get(row.topic, row.topic),
        "value": row.value,
        "summary": row.summary,
        "said": row.said,
        "follow_up": row.follow_up,
        "follows": row.follows,
        "source": row.source,
        "edited_by": row.edited_by,
        "at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def _trend(values: list[str]) -> str:
    """``better`` / ``worse`` / ``steady`` from the last two answers of a topic, ``new`` with one."""
    if len(values) < 2:
        return "new"
    last, before = _SEVERITY[values[-1]], _SEVERITY[values[-2]]
    return "better" if last < before else "worse" if last > before else "steady"


def memory_view(
    session: Session, contact_id: int, now: datetime, settings: WelfareSettings
) -> dict[str, Any]:
    """What is remembered about one person, newest first, and per topic the answers in order with a trend."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise LookupError(f"no contact {contact_id}")
    rows = session.scalars(
        select(WelfareMemory)
        .where(WelfareMemory.contact_id == contact_id)
        .order_by(WelfareMemory.created_at, WelfareMemory.id)
    ).all()
    # Per topic one value per check-in (the worse, when the follow-up and the question differ): the trend
    # compares check-ins, not the two answers of one call.
    topics: dict[str, dict[tuple[Any, ...], WelfareMemory]] = {}
    for row in rows:
        key = (row.attempt_id,) if row.attempt_id is not None else ("staff", row.id)
        seen = topics.setdefault(row.topic, {}).get(key)
        if seen is None or _SEVERITY[row.value] > _SEVERITY[seen.value]:
            topics[row.topic][key] = row
    open_row = follow_up_for(session, contact_id, now, settings)
    return {
        "contact_id": contact_id,
        "silent_calls": contact.silent_calls or 0,
        "retention_days": settings.retention_days,
        "follow_up": None
        if open_row is None
        else {"memory_id": open_row.memory_id, "topic": open_row.topic, "question": open_row.question()},
        "memories": [memory_dict(r) for r in reversed(rows)],
        "trends": {
            topic: {
                "topic_ko": TOPIC_KO.get(topic, topic),
                "values": [{"at": r.created_at.isoformat(), "value": r.value} for r in items.values()],
                "trend": _trend([r.value for r in items.values()]),
            }
            for topic, items in topics.items()
        },
    }


class WelfareEditError(ValueError):
    """A staff edit that cannot be stored (unknown topic or value, text too long)."""


def _checked(changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    unknown = set(changes) - {"topic", "value", "summary", "said", "follow_up"}
    if unknown:
        raise WelfareEditError(f"바꿀 수 없는 항목입니다: {', '.join(sorted(unknown))}")
    if "topic" in changes and changes["topic"] not in TOPIC_KO:
        raise WelfareEditError(f"주제는 {', '.join(TOPIC_KO)} 중 하나여야 합니다")
    if "value" in changes and changes["value"] not in WELFARE_VALUES:
        raise WelfareEditError(f"상태는 {', '.join(WELFARE_VALUES)} 중 하나여야 합니다")
    for key, limit in (("summary", 200), ("said", 2000)):
        if key in changes:
            text = changes[key]
            if not isinstance(text, str) or len(text) > limit or "{" in text or "}" in text:
                raise WelfareEditError(f"{key}: {limit}자 이하의 글이어야 합니다 (중괄호 제외)")
            out[key] = " ".join(text.split())
    if "follow_up" in changes:
        if not isinstance(changes["follow_up"], bool):
            raise WelfareEditError("follow_up: true 또는 false여야 합니다")
        out["follow_up"] = changes["follow_up"]
    for key in ("topic", "value"):
        if key in changes:
            out[key] = changes[key]
    return out


def add_memory(
    session: Session, contact_id: int, fields: dict[str, Any], user: str, now: datetime
) -> WelfareMemory:
    """A memory staff write themselves (e.g. after a visit)."""
    if session.get(Contact, contact_id) is None:
        raise LookupError(f"no contact {contact_id}")
    values = _checked(fields)
    if "topic" not in values or "value" not in values:
        raise WelfareEditError("주제(topic)와 상태(value)가 필요합니다")
    if values.get("follow_up"):
        _clear_follow_up(session, contact_id)
    row = WelfareMemory(
        contact_id=contact_id, source="staff", edited_by=user, created_at=now, updated_at=now, **values
    )
    session.add(row)
    session.flush()
    return row


def update_memory(
    session: Session, memory_id: int, changes: dict[str, Any], user: str, now: datetime
) -> WelfareMemory:
    row = session.get(WelfareMemory, memory_id)
    if row is None:
        raise LookupError(f"no memory {memory_id}")
    values = _checked(changes)
    if values.get("follow_up"):
        # The others only: this row is already loaded, so setting True on it again after a bulk reset of
        # every row would look like no change to the session and never be written.
        _clear_follow_up(session, row.contact_id, keep=row.id)
    for key, value in values.items():
        setattr(row, key, value)
    row.edited_by, row.updated_at = user, now
    session.flush()
    return row


def delete_memory(session: Session, memory_id: int) -> None:
    row = session.get(WelfareMemory, memory_id)
    if row is None:
        raise LookupError(f"no memory {memory_id}")
    session.delete(row)
    session.flush()


def _clear_follow_up(session: Session, contact_id: int, keep: int | None = None) -> None:
    others = WelfareMemory.__table__.update().where(
        WelfareMemory.contact_id == contact_id, WelfareMemory.follow_up.is_(True)
    )
    if keep is not None:
        others = others.where(WelfareMemory.id != keep)
    session.execute(others.values(follow_up=False))
