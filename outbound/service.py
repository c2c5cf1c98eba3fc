"""Staff operations on campaigns, contacts, results and alerts: what the REST API, the CLI and the console call.

Every function takes an open :class:`~sqlalchemy.orm.Session` (the caller owns the transaction) and raises
a :class:`ServiceError` subclass with a message staff can act on (Korean first) for anything it refuses:
:class:`NotFound` for an unknown id, :class:`Invalid` for bad input, :class:`Conflict` for an operation the
current status does not allow. Serialisers mask names and phone numbers unless ``masked=False``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from outbound import members, store
from outbound.booking import booking_notice
from outbound.contacts import CsvFormatError, import_contacts
from outbound.phones import mask_name, mask_phone
from outbound.scheduler import RetryPolicy, Schedule, ScheduleError, parse_weekdays
from outbound.schema import (
    CAMPAIGN_KINDS,
    IN_CALL_STATES,
    MACHINE_OUTCOMES,
    OUTCOMES,
    REACHED_OUTCOMES,
    ROLES,
    Alert,
    ApiToken,
    Attempt,
    Campaign,
    CampaignContact,
    Contact,
    DoNotCall,
    utcnow,
)
from outbound.script import ScriptError, bundled_scripts, load_script
from outbound.timewindows import WindowError, parse_windows


class ServiceError(Exception):
    """A request the service refuses; ``str()`` is the message for staff."""

    status = 400


class NotFound(ServiceError, LookupError):
    status = 404


class Invalid(ServiceError, ValueError):
    status = 422


class Conflict(ServiceError):
    status = 409


class NothingToCall(Conflict):
    """A start that would book no call; the campaign stays a draft."""


# --- campaigns ----------------------------------------------------------------------------------------

EDITABLE_STATUSES = ("draft", "paused")


@dataclass(frozen=True)
class CampaignSpec:
    """What staff choose when they create a campaign. Text fields take the forms people type:
    ``weekdays="월,화,수,목,금"`` or ``"mon-fri"`` style lists, ``windows="09:00-12:00;14:00-18:00"``,
    ``recurrence="월,목"`` for rounds every Monday and Thursday."""

    name: str
    kind: str
    start_date: date
    end_date: date
    windows: str = "10:00-12:00;14:00-17:00"
    weekdays: str = "0,1,2,3,4"
    recurrence: str | None = None
    every_weeks: int = 1
    max_attempts: int = 3
    retry_delay_min: int = 30
    channel_limit: int = 4
    pace_per_min: int = 30
    skip_holidays: bool = True
    script: str | None = None  # a bundled script name; the kind's own script when None
    timezone: str = "Asia/Seoul"
    slots: dict[str, str] | None = None  # script values for everyone, e.g. {"place": "중구 보건소"}

    def checked(self, *, allow_script_files: bool = False) -> CampaignSpec:
        """The spec with its lists normalised, or :class:`Invalid` naming every problem found.

        ``script`` must name a bundled script unless ``allow_script_files`` (the CLI, run by staff on the
        server) lets it be the path of an edited YAML script; the API never reads files it is given."""
        problems: list[str] = []
        name = (self.name or "").strip()
        if not name or len(name) > 200:
            problems.append("캠페인 이름은 1~200자여야 합니다 (name must be 1-200 characters)")
        if self.kind not in CAMPAIGN_KINDS:
            problems.append(
                f"종류는 {', '.join(CAMPAIGN_KINDS)} 중 하나여야 합니다 (unknown kind {self.kind!r})"
            )
        weekdays = recurrence = windows = ""
        try:
            weekdays = ",".join(str(d) for d in sorted(parse_weekdays(self.weekdays)))
            if self.recurrence:
                recurrence = ",".join(str(d) for d in sorted(parse_weekdays(self.recurrence)))
        except ScheduleError as exc:
            problems.append(f"요일을 읽을 수 없습니다 ({exc})")
        try:
            windows = ";".join(str(w) for w in parse_windows(self.windows))
        except (WindowError, ValueError) as exc:
            problems.append(f"통화 시간대를 읽을 수 없습니다 ({exc})")
        for label, value, low, high in (
            ("max_attempts", self.max_attempts, 1, 10),
            ("retry_delay_min", self.retry_delay_min, 0, 7 * 24 * 60),
            ("channel_limit", self.channel_limit, 1, 500),
            ("pace_per_min", self.pace_per_min, 1, 10_000),
            ("every_weeks", self.every_weeks, 1, 8),
        ):
            if not isinstance(value, int) or not low <= value <= high:
                problems.append(f"{label}은(는) {low}~{high} 사이여야 합니다 (got {value!r})")
        slots = {str(k).strip(): str(v).strip() for k, v in (self.slots or {}).items() if str(v).strip()}
        if any(not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", k) for k in slots) or len(slots) > 30:
            problems.append("슬롯 이름은 영문자, 숫자, _ 로 적어 주세요 (e.g. place=중구 보건소)")
        if any(len(v) > 300 for v in slots.values()):
            problems.append("슬롯 값은 300자 이내로 적어 주세요")
        if self.end_date < self.start_date:
            problems.append(f"종료일 {self.end_date}이 시작일 {self.start_date}보다 앞섭니다")
        elif (self.end_date - self.start_date).days > 366:
            problems.append("캠페인 기간은 1년을 넘을 수 없습니다 (campaign longer than a year)")
        script = self.script
        is_file = script is not None and script.endswith((".yaml", ".yml"))
        if script is not None and script not in bundled_scripts() and not (allow_script_files and is_file):
            problems.append(f"스크립트 {script!r}이(가) 없습니다; 사용 가능: {', '.join(bundled_scripts())}")
        elif self.kind in CAMPAIGN_KINDS:
            try:
                loaded = load_script(script or self.kind)
                if loaded.kind != self.kind:
                    problems.append(f"스크립트 종류({loaded.kind})가 캠페인 종류({self.kind})와 다릅니다")
            except ScriptError as exc:
                problems.append(f"스크립트 오류: {exc}")
        if is_file and script is not None:
            script = str(Path(script).resolve())
        spec = replace(
            self,
            name=name,
            weekdays=weekdays,
            recurrence=recurrence or None,
            windows=windows,
            slots=slots or None,
            script=script,
        )
        if not problems:
            try:
                spec.schedule()
            except (ScheduleError, ValueError) as exc:
                problems.append(f"일정 오류: {exc}")
        if problems:
            raise Invalid("; ".join(problems))
        return spec

    def schedule(self) -> Schedule:
        return Schedule(
            start_date=self.start_date,
            end_date=self.end_date,
            windows=parse_windows(self.windows),
            weekdays=parse_weekdays(self.weekdays),
            skip_holidays=self.skip_holidays,
            timezone=self.timezone,
        )

    def policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, delays=(timedelta(minutes=self.retry_delay_min),))

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> CampaignSpec:
        return cls(
            name=campaign.name,
            kind=campaign.kind,
            start_date=campaign.start_date,
            end_date=campaign.end_date,
            windows=campaign.windows,
            weekdays=campaign.weekdays,
            recurrence=campaign.recurrence_weekdays,
            every_weeks=campaign.recurrence_every_weeks,
            max_attempts=campaign.max_attempts,
            retry_delay_min=campaign.retry_delay_s // 60,
            channel_limit=campaign.channel_limit,
            pace_per_min=campaign.pace_per_min,
            skip_holidays=campaign.skip_holidays,
            script=campaign.script,
            timezone=campaign.timezone,
            slots=dict(campaign.slots) if campaign.slots else None,
        )


SPEC_FIELDS = tuple(f.name for f in fields(CampaignSpec))


def _apply(campaign: Campaign, spec: CampaignSpec) -> None:
    campaign.name = spec.name
    campaign.kind = spec.kind
    campaign.start_date = spec.start_date
    campaign.end_date = spec.end_date
    campaign.windows = spec.windows
    campaign.weekdays = spec.weekdays
    campaign.recurrence_weekdays = spec.recurrence
    campaign.recurrence_every_weeks = spec.every_weeks
    campaign.max_attempts = spec.max_attempts
    campaign.retry_delay_s = spec.retry_delay_min * 60
    campaign.channel_limit = spec.channel_limit
    campaign.pace_per_min = spec.pace_per_min
    campaign.skip_holidays = spec.skip_holidays
    campaign.script = spec.script
    campaign.timezone = spec.timezone
    campaign.slots = spec.slots


def create_campaign(
    session: Session, spec: CampaignSpec, *, now: datetime | None = None, allow_script_files: bool = False
) -> Campaign:
    """A new campaign in ``draft``: import contacts, then :func:`start_campaign`. Given ``now``, a campaign
    whose last day is already over (in its own time zone) is refused: nobody would ever be called."""
    spec = spec.checked(allow_script_files=allow_script_files)
    if now is not None:
        _refuse_past_end(spec, now)
    campaign = Campaign(status="draft")
    _apply(campaign, spec)
    session.add(campaign)
    session.flush()
    return campaign


def _refuse_past_end(spec: CampaignSpec, now: datetime) -> None:
    today = now.astimezone(ZoneInfo(spec.timezone)).date()
    if spec.end_date < today:
        raise Invalid(
            f"종료일 {spec.end_date}이(가) 이미 지났습니다 (오늘 {today}). 기간을 고쳐 주세요. (end_date is in the past)"
        )


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"캠페인 {campaign_id}을(를) 찾을 수 없습니다 (no campaign {campaign_id})")
    return campaign


def list_campaigns(session: Session, status: str | None = None) -> list[Campaign]:
    query = select(Campaign).order_by(Campaign.id.desc())
    if status:
        query = query.where(Campaign.status == status)
    return list(session.scalars(query))


def update_campaign(
    session: Session, campaign_id: int, changes: dict[str, Any], now: datetime | None = None
) -> Campaign:
    """Change a draft or paused campaign's settings; attempts already booked keep their times until
    claimed (a claim outside the new windows moves the attempt to the next window). Given ``now``, a new
    end date already over is refused."""
    campaign = get_campaign(session, campaign_id)
    if campaign.status not in EDITABLE_STATUSES:
        raise Conflict(
            f"캠페인 {campaign_id}은(는) '{campaign.status}' 상태라 수정할 수 없습니다; 먼저 일시정지하세요"
        )
    unknown = sorted(set(changes) - set(SPEC_FIELDS))
    if unknown:
        raise Invalid(f"수정할 수 없는 항목: {', '.join(unknown)}")
    if "kind" in changes and changes["kind"] != campaign.kind:
        raise Invalid("캠페인 종류는 바꿀 수 없습니다; 새 캠페인을 만드세요 (kind cannot change)")
    # A script file chosen on the server (CLI) stays allowed; the API cannot point at a new file.
    spec = replace(CampaignSpec.from_campaign(campaign), **changes).checked(
        allow_script_files="script" not in changes
    )
    if now is not None and "end_date" in changes:
        _refuse_past_end(spec, now)
    _apply(campaign, spec)
    session.flush()
    return campaign


def start_campaign(session: Session, campaign_id: int, now: datetime) -> int:
    """``draft`` → ``running``; books every member's first call. Returns how many attempts were booked.

    A campaign that would book no call (its period is over, no calling time is left, nobody to call) stays
    a draft and the refusal says why: started, the worker would complete it at once without a call, and
    staff would read "완료" for people nobody phoned."""
    campaign = get_campaign(session, campaign_id)
    if campaign.status != "draft":
        raise Conflict(f"'{campaign.status}' 상태의 캠페인은 시작할 수 없습니다 (only a draft starts)")
    _check_slots(session, campaign)
    campaign.status = "running"
    booked = store.schedule_first_attempts(session, campaign, now)
    if booked == 0:
        notice = booking_notice(session, campaign, now) or "예약된 통화가 없습니다"
        campaign.status = "draft"
        session.flush()
        raise NothingToCall(f"{notice}. 캠페인은 준비 상태로 남아 있습니다 (nothing to call)")
    return booked


def _check_slots(session: Session, campaign: Campaign) -> None:
    """Refuse to start when some member's script values are missing: every call would fail."""
    script = load_script(campaign.script or campaign.kind)
    missing: Counter[str] = Counter()
    query = select(CampaignContact).where(CampaignContact.campaign_id == campaign.id)
    for member in session.scalars(query.options(selectinload(CampaignContact.contact))):
        missing.update(members.missing(script.required_slots, members.call_slots(campaign, member)))
    if missing:
        listed = ", ".join(f"{slot} ({count}명)" for slot, count in sorted(missing.items()))
        raise Invalid(
            f"스크립트 값이 빠져 있어 시작할 수 없습니다: {listed}. 캠페인 공통 값(slots)에 적거나, "
            f"대상자별 값을 연락처 파일의 메모 열(예: place=중구 보건소)로 다시 올리거나 콘솔의 "
            f"대상자 목록에서 고쳐 주세요 (missing script slots)"
        )


def pause_campaign(session: Session, campaign_id: int) -> Campaign:
    """No new calls start; calls in progress finish and are recorded."""
    campaign = get_campaign(session, campaign_id)
    if campaign.status != "running":
        raise Conflict(f"'{campaign.status}' 상태의 캠페인은 일시정지할 수 없습니다 (only a running one)")
    campaign.status = "paused"
    session.flush()
    return campaign


def resume_campaign(session: Session, campaign_id: int, now: datetime) -> Campaign:
    campaign = get_campaign(session, campaign_id)
    if campaign.status != "paused":
        raise Conflict(f"'{campaign.status}' 상태의 캠페인은 재개할 수 없습니다 (only a paused one)")
    campaign.status = "running"
    store.schedule_first_attempts(session, campaign, now)  # members added while paused
    return campaign


def cancel_campaign(session: Session, campaign_id: int, now: datetime) -> dict[str, int]:
    """Stop for good: booked attempts are cancelled; calls in progress finish and are recorded."""
    campaign = get_campaign(session, campaign_id)
    if campaign.status in ("cancelled", "completed"):
        raise Conflict(f"캠페인 {campaign_id}은(는) 이미 '{campaign.status}' 상태입니다")
    campaign.status = "cancelled"
    cancelled = session.execute(
        update(Attempt)
        .where(Attempt.campaign_id == campaign_id, Attempt.state == "scheduled")
        .values(state="cancelled", completed_at=now, lease_owner=None, lease_expires_at=None)
    ).rowcount
    session.execute(
        update(Contact)
        .where(
            Contact.active_attempt_id.in_(
                select(Attempt.id).where(Attempt.campaign_id == campaign_id, Attempt.state == "cancelled")
            )
        )
        .values(active_attempt_id=None)
    )
    session.execute(
        update(CampaignContact)
        .where(CampaignContact.campaign_id == campaign_id, CampaignContact.status == "pending")
        .values(status="cancelled")
    )
    session.flush()
    return {"cancelled_attempts": cancelled or 0}


def complete_if_done(session: Session, campaign_id: int) -> bool:
    """A running campaign with nothing booked and nothing in a call becomes ``completed``."""
    campaign = get_campaign(session, campaign_id)
    if campaign.status != "running":
        return False
    open_attempts = session.scalar(
        select(Attempt.id)
        .where(Attempt.campaign_id == campaign_id, Attempt.state.in_(("scheduled", *IN_CALL_STATES)))
        .limit(1)
    )
    if open_attempts:
        return False
    campaign.status = "completed"
    session.flush()
    return True


# --- contacts -----------------------------------------------------------------------------------------


def import_contacts_into(session: Session, campaign_id: int, data: bytes, now: datetime) -> dict[str, Any]:
    """Import a contact CSV into a campaign. Bad rows are reported by row number and reason and never block
    the good ones; do-not-call numbers are skipped. A running campaign books the new members' calls.

    The notes column and its script values (``date=…; place=…``) are this campaign's: a person already in
    another campaign keeps their values there, and one already in this campaign gets the file's values
    (reported in ``updated_rows``)."""
    campaign = get_campaign(session, campaign_id)
    if campaign.status in ("cancelled", "completed"):
        raise Conflict(f"'{campaign.status}' 상태의 캠페인에는 연락처를 추가할 수 없습니다")
    blocked = list(session.scalars(select(DoNotCall.phone_e164)))
    try:
        result = import_contacts(data, blocked)
    except CsvFormatError as exc:
        raise Invalid(f"CSV 파일을 읽을 수 없습니다: {exc}") from exc
    added = store.add_contacts(session, campaign, result.contacts)
    booked = store.schedule_first_attempts(session, campaign, now) if campaign.status == "running" else 0
    summary = result.summary()
    return {
        "campaign_id": campaign_id,
        "imported": len(result.contacts),
        "added": added.added,
        "already_members": added.already_members,
        # Members already in this campaign whose values (notes, date, place, …) the file changed.
        "updated": len(added.updated),
        "updated_rows": [
            {"row": u.rows[0], "phone": u.masked_phone, "changed": list(u.changed)} for u in added.updated
        ],
        "skipped_do_not_call": len(result.skipped_do_not_call) + added.skipped_do_not_call,
        "booked": booked,
        "rejected": [r for r in summary["rejected"] if r["code"] != "do_not_call"],
        "warnings": summary["warnings"],
        "encoding": result.encoding,
    }


# --- campaign members: the values a campaign has for each person ---------------------------------------


@dataclass(frozen=True)
class MemberRow:
    member: CampaignContact
    missing: list[str]  # required script values the member's calls would lack


def script_slot_names(campaign: Campaign) -> dict[str, list[str]]:
    """The script values a member of ``campaign`` can have (``name`` is the person's, never a value)."""
    script = load_script(campaign.script or campaign.kind)
    return {
        "required": [s for s in script.required_slots if s != "name"],
        "optional": [s for s in script.optional_slots if s != "name"],
    }


def _member_row(campaign: Campaign, member: CampaignContact, required: tuple[str, ...]) -> MemberRow:
    return MemberRow(member, members.missing(required, members.call_slots(campaign, member)))


def list_members(
    session: Session, campaign_id: int, *, missing_only: bool = False, limit: int = 100, offset: int = 0
) -> tuple[int, list[MemberRow]]:
    """A campaign's members in import order with what their calls would lack, and how many match in all;
    ``missing_only`` keeps those whose required script values are missing (a start is refused for them)."""
    campaign = get_campaign(session, campaign_id)
    required = load_script(campaign.script or campaign.kind).required_slots
    limit, offset = max(1, min(limit, 1000)), max(0, offset)
    query = (
        select(CampaignContact)
        .where(CampaignContact.campaign_id == campaign_id)
        .order_by(CampaignContact.id)
        .options(selectinload(CampaignContact.contact))
    )
    if missing_only:
        rows = [_member_row(campaign, m, required) for m in session.scalars(query)]
        rows = [r for r in rows if r.missing]
        return len(rows), rows[offset : offset + limit]
    total = session.scalar(
        select(func.count()).select_from(CampaignContact).where(CampaignContact.campaign_id == campaign_id)
    )
    page = session.scalars(query.limit(limit).offset(offset))
    return total or 0, [_member_row(campaign, m, required) for m in page]


def update_member_values(
    session: Session,
    campaign_id: int,
    contact_id: int,
    *,
    slots: dict[str, Any] | None = None,
    notes: str | None = None,
) -> MemberRow:
    """Change one member's own values in this campaign (never the person's values in other campaigns).

    ``slots`` sets the script values it names (an empty value removes the member's own, leaving the
    campaign-wide one); ``notes`` replaces the notes. A running or paused campaign's booked calls use the
    values, so there no required value may be left empty."""
    campaign = get_campaign(session, campaign_id)
    if campaign.status in ("cancelled", "completed"):
        raise Conflict(f"'{campaign.status}' 상태의 캠페인은 대상자 값을 바꿀 수 없습니다")
    member = session.scalar(
        select(CampaignContact)
        .where(CampaignContact.campaign_id == campaign_id, CampaignContact.contact_id == contact_id)
        .options(selectinload(CampaignContact.contact))
    )
    if member is None:
        raise NotFound(f"캠페인 {campaign_id}에 대상자 {contact_id}이(가) 없습니다 (no such member)")
    if slots is None and notes is None:
        raise Invalid("바꿀 값이 없습니다; slots나 notes를 보내 주세요 (nothing to change)")
    names = script_slot_names(campaign)
    allowed = names["required"] + names["optional"]
    problems: list[str] = []
    given: dict[str, str] = {}
    for key, value in (slots or {}).items():
        text = "" if value is None else str(value).strip()
        if key == "name":
            problems.append(
                "이름은 대상자 정보라 캠페인 값으로 바꿀 수 없습니다 (name is not a campaign value)"
            )
        elif key not in allowed:
            problems.append(
                f"'{key}'은(는) 이 캠페인 스크립트의 값이 아닙니다; 쓸 수 있는 값: {', '.join(allowed) or '없음'}"
            )
        elif isinstance(value, dict | list | bool):
            problems.append(f"'{key}' 값은 글자로 적어 주세요")
        elif len(text) > members.MAX_SLOT_LEN:
            problems.append(f"'{key}' 값은 {members.MAX_SLOT_LEN}자 이내로 적어 주세요")
        elif any(ord(c) < 32 for c in text):
            problems.append(f"'{key}' 값은 줄을 바꾸지 말고 한 줄로 적어 주세요")
        else:
            given[key] = text
    if notes is not None and len(notes.strip()) > 2000:
        problems.append("메모는 2000자 이내로 적어 주세요 (notes too long)")
    if problems:
        raise Invalid("; ".join(problems))
    values = dict(member.slots or {})
    for key, text in given.items():
        if text:
            values[key] = text
        else:
            values.pop(key, None)
    required = load_script(campaign.script or campaign.kind).required_slots
    if campaign.status in ("running", "paused"):
        lacking = members.missing(required, {**(campaign.slots or {}), **values, "name": member.contact.name})
        if lacking:
            raise Invalid(
                f"필수 값이 비어 있습니다: {', '.join(lacking)}. 예약된 통화가 이 값으로 안내하므로 "
                "비워 둘 수 없습니다 (required script value missing)"
            )
    member.slots = values or None
    if notes is not None:
        member.notes = notes.strip()
    session.flush()
    return _member_row(campaign, member, required)


def contact_history(session: Session, contact_id: int) -> dict[str, Any]:
    """Every check-in of one person, oldest first, with how their answers move across check-ins."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"대상자 {contact_id}을(를) 찾을 수 없습니다 (no contact {contact_id})")
    attempts = session.scalars(
        select(Attempt)
        .where(Attempt.contact_id == contact_id, Attempt.state == "completed")
        .order_by(Attempt.ended_at, Attempt.id)
    ).all()
    checkins = []
    series: dict[str, list[str]] = {}
    for attempt in attempts:
        conv = attempt.answers or {}
        steps = {k: v.get("value") for k, v in conv.get("steps", {}).items()}
        for step, value in steps.items():
            series.setdefault(step, []).append(value)
        checkins.append(
            {
                "attempt_id": attempt.id,
                "campaign_id": attempt.campaign_id,
                "at": _iso(attempt.ended_at or attempt.due_at),
                "outcome": attempt.outcome,
                "overall": conv.get("overall"),
                "emergency": conv.get("emergency"),
                "answers": steps,
                "simulated": attempt.simulated,
            }
        )
    overall = [c["overall"] for c in checkins if c["overall"]]
    return {
        "contact_id": contact.id,
        "checkins": checkins,
        "series": series,
        "trend": _trend(overall),
        "reached": sum(c["outcome"] in REACHED_OUTCOMES for c in checkins),
        "not_reached": sum(c["outcome"] not in (None, *REACHED_OUTCOMES) for c in checkins),
        "machines": sum(c["outcome"] in MACHINE_OUTCOMES for c in checkins),
    }


_SCORE = {"fine": 0, "unclear": 1, "not_fine": 2, "concern": 3}


def _trend(overall: list[str]) -> str:
    """``worse`` / ``better`` / ``steady`` comparing the last check-in with the ones before, or ``new``."""
    scores = [_SCORE[o] for o in overall if o in _SCORE]
    if len(scores) < 2:
        return "new"
    before = sum(scores[:-1][-3:]) / len(scores[:-1][-3:])
    if scores[-1] > before + 0.5:
        return "worse"
    if scores[-1] < before - 0.5:
        return "better"
    return "steady"


def add_do_not_call(session: Session, numbers: list[str], reason: str, source: str) -> dict[str, int]:
    """Opt numbers out; their booked calls in every campaign are cancelled at once."""
    added = store.add_do_not_call(session, numbers, reason=reason, source=source)
    phones = select(DoNotCall.phone_e164)
    contact_ids = select(Contact.id).where(Contact.phone_e164.in_(phones))
    cancelled = session.execute(
        update(Attempt)
        .where(Attempt.contact_id.in_(contact_ids), Attempt.state == "scheduled")
        .values(state="cancelled", error="do-not-call", lease_owner=None, lease_expires_at=None)
    ).rowcount
    session.execute(
        update(CampaignContact)
        .where(CampaignContact.contact_id.in_(contact_ids), CampaignContact.status == "pending")
        .values(status="do_not_call")
    )
    session.flush()
    return {"added": added, "cancelled_attempts": cancelled or 0}


# --- attempts and alerts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptFilter:
    campaign_id: int | None = None
    contact_id: int | None = None
    outcome: str | None = None
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0


def list_attempts(session: Session, flt: AttemptFilter) -> tuple[int, list[Attempt]]:
    """Attempts matching ``flt`` (newest first) and how many match in all."""
    if flt.outcome and flt.outcome not in OUTCOMES:
        raise Invalid(f"결과는 {', '.join(OUTCOMES)} 중 하나여야 합니다 (got {flt.outcome!r})")
    if flt.campaign_id is not None:
        get_campaign(session, flt.campaign_id)
    conditions = []
    if flt.campaign_id is not None:
        conditions.append(Attempt.campaign_id == flt.campaign_id)
    if flt.contact_id is not None:
        conditions.append(Attempt.contact_id == flt.contact_id)
    if flt.outcome:
        conditions.append(Attempt.outcome == flt.outcome)
    if flt.state:
        conditions.append(Attempt.state == flt.state)
    if flt.since:
        conditions.append(Attempt.due_at >= flt.since)
    if flt.until:
        conditions.append(Attempt.due_at < flt.until)
    total = session.scalar(select(func.count()).select_from(Attempt).where(*conditions)) or 0
    rows = session.scalars(
        select(Attempt)
        .where(*conditions)
        .order_by(Attempt.due_at.desc(), Attempt.id.desc())
        .limit(max(1, min(flt.limit, 1000)))
        .offset(max(0, flt.offset))
    ).all()
    return total, list(rows)


def list_alerts(
    session: Session, *, open_only: bool = False, campaign_id: int | None = None, limit: int = 200
) -> list[Alert]:
    query = select(Alert).order_by(
        Alert.acknowledged_at.is_not(None), Alert.severity == "warning", Alert.id.desc()
    )
    if open_only:
        query = query.where(Alert.acknowledged_at.is_(None))
    if campaign_id is not None:
        query = query.where(Alert.campaign_id == campaign_id)
    return list(session.scalars(query.limit(max(1, min(limit, 1000)))))


def acknowledge_alert(session: Session, alert_id: int, user: str, note: str, now: datetime) -> Alert:
    note = (note or "").strip()
    if len(note) > 2000:
        raise Invalid("메모는 2000자 이내로 적어 주세요 (note too long)")
    earlier = session.get(Alert, alert_id)
    if (
        earlier is not None and earlier.acknowledged_at is not None
    ):  # issue 17: never overwrite the first note
        raise Conflict(
            f"이미 {earlier.acknowledged_by} 님이 {earlier.acknowledged_at:%Y-%m-%d %H:%M}에 확인한 알림입니다. "
            "처음 메모는 그대로 둡니다. (already acknowledged)"
        )
    try:
        return store.acknowledge_alert(session, alert_id, user, note, now)
    except LookupError as exc:
        raise NotFound(f"알림 {alert_id}을(를) 찾을 수 없습니다 (no alert {alert_id})") from exc


# --- serialisation ------------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def campaign_dict(session: Session, campaign: Campaign) -> dict[str, Any]:
    spec = CampaignSpec.from_campaign(campaign)
    out: dict[str, Any] = {"id": campaign.id, "status": campaign.status, **asdict(spec)}
    out["start_date"], out["end_date"] = _iso(spec.start_date), _iso(spec.end_date)
    out["created_at"], out["updated_at"] = _iso(campaign.created_at), _iso(campaign.updated_at)
    counts = dict(
        session.execute(
            select(Attempt.state, func.count())
            .where(Attempt.campaign_id == campaign.id)
            .group_by(Attempt.state)
        ).all()
    )
    members = dict(
        session.execute(
            select(CampaignContact.status, func.count())
            .where(CampaignContact.campaign_id == campaign.id)
            .group_by(CampaignContact.status)
        ).all()
    )
    out["progress"] = {"attempts": counts, "contacts": members, "contacts_total": sum(members.values())}
    return out


def contact_dict(contact: Contact, *, masked: bool = True) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": mask_name(contact.name) if masked else contact.name,
        "phone": mask_phone(contact.phone_e164) if masked else contact.phone_e164,
        "tags": list(contact.tags or []),
    }


def member_dict(row: MemberRow, *, masked: bool = True) -> dict[str, Any]:
    """A member with their own values for the campaign; the values are personal data (a test result, an
    address), so a masked view has only which required ones are missing."""
    member = row.member
    return {
        "contact_id": member.contact_id,
        "contact": contact_dict(member.contact, masked=masked),
        "status": member.status,
        "attempts_made": member.attempts_made,
        "last_outcome": member.last_outcome,
        "slots": None if masked else dict(member.slots or {}),
        "notes": None if masked else member.notes,
        "missing": row.missing,
    }


def attempt_dict(attempt: Attempt, *, masked: bool = True, words: bool | None = None) -> dict[str, Any]:
    """``words``: the transcript and keypad entries (default: when unmasked). The API shows them to
    admins only, the same rule as the transcript export (issue 17)."""
    hidden = masked if words is None else not words
    conv = attempt.answers or {}
    return {
        "id": attempt.id,
        "campaign_id": attempt.campaign_id,
        "contact": contact_dict(attempt.contact, masked=masked),
        "attempt_number": attempt.attempt_number,
        "round_date": _iso(attempt.round_date),
        "state": attempt.state,
        "outcome": attempt.outcome,
        "sip_status": attempt.sip_status,
        "due_at": _iso(attempt.due_at),
        "dialing_at": _iso(attempt.dialing_at),
        "answered_at": _iso(attempt.answered_at),
        "ended_at": _iso(attempt.ended_at),
        "duration_s": attempt.duration_s,
        "keypad": None if hidden else attempt.keypad,
        "transcript": None if hidden else attempt.transcript,
        "answers": {k: v.get("value") for k, v in conv.get("steps", {}).items()},
        "overall": conv.get("overall"),
        "call_outcome": conv.get("outcome"),
        "emergency": conv.get("emergency"),
        "latency_ms": attempt.latency_ms,
        "has_recording": bool(attempt.recording_path),
        "error": attempt.error,
        "simulated": attempt.simulated,  # SIMULATED dialer: no real call was placed
        "amd": amd_dict(attempt.amd, masked=masked),
    }


def amd_dict(amd: dict[str, Any] | None, *, masked: bool = True) -> dict[str, Any] | None:
    """How the answering-machine detector decided. The words it heard (a voicemail greeting may say a
    name) only unmasked."""
    if not amd:
        return None
    shown = {k: amd.get(k) for k in AMD_FIELDS if k in amd}
    if not masked and amd.get("text"):
        shown["text"] = amd["text"]
    return shown


# What the API shows of a stored detection (voicebot.call.amd.Detection.as_dict), besides the words.
AMD_FIELDS = (
    "outcome",
    "reason",
    "decided_s",
    "typed_s",
    "type_reason",
    "phrase",
    "greeting_s",
    "voiced_s",
    "words",
    "beep_s",
    "beep_hz",
    "message_from_s",
    "message_left",
)


def alert_dict(
    alert: Alert, session: Session, *, masked: bool = True, show_note: bool | None = None
) -> dict[str, Any]:
    """``masked`` hides names, numbers and the note (it may speak of the person); ``show_note`` shows the
    note anyway, e.g. to the staff member who has just written it."""
    contact = session.get(Contact, alert.contact_id) if alert.contact_id else None
    attempt = session.get(Attempt, alert.attempt_id) if alert.attempt_id else None
    if show_note is None:
        show_note = not masked
    return {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "campaign_id": alert.campaign_id,
        "attempt_id": alert.attempt_id,
        "contact": contact_dict(contact, masked=masked) if contact else None,
        "message": alert.message,
        "created_at": _iso(alert.created_at),
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": _iso(alert.acknowledged_at),
        "note": alert.note if show_note else None,
        # Raised by a call of the SIMULATED dialer: nobody was really called.
        "simulated": bool(attempt and attempt.simulated),
    }


# --- API tokens ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: a token's name and role."""

    name: str
    role: str
    token_id: int | None = None

    def allows(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_DAYS_MAX = 3650


def token_expiry(days: int | None, now: datetime) -> datetime | None:
    """When a token made now for ``days`` days stops working; None (no expiry) without ``days``."""
    if days is None:
        return None
    if not 1 <= days <= TOKEN_DAYS_MAX:
        raise Invalid(f"유효 기간은 1~{TOKEN_DAYS_MAX}일이어야 합니다 (expires_days out of range)")
    return now + timedelta(days=days)


def create_token(session: Session, name: str, role: str, expires_at: datetime | None = None) -> str:
    """A new token for ``name`` with ``role`` (valid until revoked, or until ``expires_at``); returns the
    token, which is not stored and shown only once."""
    if role not in ROLES:
        raise Invalid(f"역할은 {', '.join(ROLES)} 중 하나여야 합니다 (unknown role {role!r})")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid("토큰 이름은 1~100자여야 합니다")
    token = "vb_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, role=role, token_sha256=_digest(token), expires_at=expires_at))
    session.flush()
    return token


def token_id(session: Session, token: str) -> int | None:
    """The id of ``token``'s row (for the audit log of its creation), whatever its state."""
    return session.scalar(select(ApiToken.id).where(ApiToken.token_sha256 == _digest(token)))


def authenticate(session: Session, token: str, now: datetime | None = None) -> Principal | None:
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    now = now or utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    row.last_used_at = now
    return Principal(name=row.name, role=row.role, token_id=row.id)


def revoke_token(session: Session, token_id: int, now: datetime) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"토큰 {token_id}을(를) 찾을 수 없습니다")
    if row.revoked_at is not None:  # issue 17: the first revocation time is kept
        raise Conflict(f"토큰 {token_id}은(는) 이미 폐기되었습니다. (already revoked)")
    row.revoked_at = now
    session.flush()


def list_tokens(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or utcnow()
    return [
        {
            "id": t.id,
            "name": t.name,
            "role": t.role,
            "created_at": _iso(t.created_at),
            "last_used_at": _iso(t.last_used_at),
            "revoked": t.revoked_at is not None,
            "expires_at": _iso(t.expires_at),
            "expired": t.expires_at is not None and t.expires_at <= now,
        }
        for t in session.scalars(select(ApiToken).order_by(ApiToken.id))
    ]
