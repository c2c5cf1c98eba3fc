"""REST API of the outbound service (FastAPI): campaigns, contacts, attempts, alerts, export, tokens.

:func:`make_router` returns an ``APIRouter`` mounted by ``voicebot serve`` (and by tests on a bare
``FastAPI()`` app through :func:`make_app`). Every route needs ``Authorization: Bearer <token>``; roles are
ordered ``viewer < operator < admin``:

- viewer: read campaigns, attempts, alerts and summaries with names and numbers masked;
- operator: also create, change, start, pause, resume and cancel campaigns, import contacts, change a
  member's own values for a campaign (date, place, notes), acknowledge alerts, see names, numbers and those
  values (social workers need them to act), export CSV, add do-not-call numbers;
- admin: also manage tokens, export transcripts and read the audit log (``GET /api/audit``).

Changes and every view of personal data (a person's history, transcripts, the export) are written to the
audit log (:mod:`outbound.audit`) in the same transaction as the action.

Errors come back as ``{"detail": "..."}`` with 401/403/404/409/422; the message is Korean first.
"""

import inspect
import logging
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from outbound import audit as audit_log
from outbound import service, welfare, welfare_api
from outbound.api_errors import install_error_handlers
from outbound.booking import booking_notice
from outbound.login_limits import FailedLogins
from outbound.results import campaign_summary, export_attempts_csv
from outbound.schema import ATTEMPT_STATES, CAMPAIGN_KINDS, OUTCOMES, ROLES, utcnow

log = logging.getLogger(__name__)

MAX_CSV_BYTES = 20 * 1024 * 1024

# Declared in the OpenAPI document (the lock on each route, the Authorize button of /docs); the check
# itself is Auth.require, which answers 401 in Korean when the token is missing or wrong.
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="직원 접속 토큰 (`voicebot token create`; roles viewer < operator < admin)",
    auto_error=False,
)

CSV_IMPORT_BODY: dict[str, Any] = {
    "required": True,
    "description": (
        "The contact file: UTF-8 or CP949, one person per row, Korean or English headers. Columns: "
        "이름/name (required), 전화번호/phone (required; 010-1234-5678, 02-123-4567 or +8210…), "
        "태그/tags (optional, separated by ;), 선호시간/preferred_times (optional, e.g. 10:00-12:00), "
        "메모/notes (optional; script values as key=value pairs, e.g. date=11월 25일; place=중구 보건소). "
        "At most 20 MB. A bad row is reported with its row number and reason; the others are imported."
    ),
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary", "description": "the CSV file"}},
                "required": ["file"],
            }
        },
        "text/csv": {
            "schema": {"type": "string"},
            "example": "이름,전화번호,메모\n김영희,010-2345-6789,date=11월 25일; place=중구 보건소\n",
        },
    },
}


# A route whose action the item's current state can forbid declares this (its body is the Error shape,
# filled in by voicebot.server.openapi_errors).
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "지금 상태에서는 할 수 없습니다 (conflict)"}
}
# A route that looks up what a query parameter names (a path parameter's 404 is documented for every route).
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "해당 항목을 찾을 수 없습니다 (not found)"}
}


def file_response(media_type: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a route that answers with a file rather than JSON (with ``response_class=Response``)."""
    binary = {} if media_type.startswith("text/") else {"format": "binary"}
    return {200: {"content": {media_type: {"schema": {"type": "string", **binary}}}}}


Kind = Literal[CAMPAIGN_KINDS]  # type: ignore[valid-type]


class CampaignIn(BaseModel):
    """A new campaign. Unknown fields are refused (a misspelt field would otherwise be ignored silently);
    the service checks what a schema cannot (windows, weekdays, dates, the script)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["11월 독거어르신 안심콜"])
    kind: Kind = Field(examples=["welfare_check"])
    start_date: date
    end_date: date = Field(description="not before start_date, not in the past, at most a year after start")
    windows: str = Field(
        "10:00-12:00;14:00-17:00", max_length=200, description="daily calling windows, Asia/Seoul"
    )
    weekdays: str = Field(
        "월,화,수,목,금", max_length=100, description="calling days: 월..일, mon..sun or 0..6"
    )
    recurrence: str | None = Field(
        None, max_length=100, description="round days, e.g. 월,목 for every Monday and Thursday"
    )
    every_weeks: int = Field(1, ge=1, le=8)
    max_attempts: int = Field(3, ge=1, le=10)
    retry_delay_min: int = Field(30, ge=0, le=7 * 24 * 60)
    channel_limit: int = Field(4, ge=1, le=500, description="calls at once")
    pace_per_min: int = Field(30, ge=1, le=10_000, description="calls started per minute")
    skip_holidays: bool = True
    script: str | None = Field(
        None, max_length=200, description="bundled script name; the kind's own when omitted"
    )
    slots: dict[str, Annotated[str, Field(max_length=300)]] | None = Field(
        None,
        max_length=30,
        description="script values for everyone called",
        examples=[{"date": "11월 25일", "place": "중구 보건소"}],
    )


class CampaignPatch(BaseModel):
    """Only the fields sent change. A field that must have a value refuses an explicit ``null``;
    ``recurrence``, ``script`` and ``slots`` take ``null`` to clear them."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(None, min_length=1, max_length=200)  # type: ignore[assignment]
    start_date: date = None  # type: ignore[assignment]
    end_date: date = None  # type: ignore[assignment]
    windows: str = Field(None, max_length=200)  # type: ignore[assignment]
    weekdays: str = Field(None, max_length=100)  # type: ignore[assignment]
    recurrence: str | None = Field(None, max_length=100)
    every_weeks: int = Field(None, ge=1, le=8)  # type: ignore[assignment]
    max_attempts: int = Field(None, ge=1, le=10)  # type: ignore[assignment]
    retry_delay_min: int = Field(None, ge=0, le=7 * 24 * 60)  # type: ignore[assignment]
    channel_limit: int = Field(None, ge=1, le=500)  # type: ignore[assignment]
    pace_per_min: int = Field(None, ge=1, le=10_000)  # type: ignore[assignment]
    skip_holidays: bool = None  # type: ignore[assignment]
    script: str | None = Field(None, max_length=200)
    slots: dict[str, Annotated[str, Field(max_length=300)]] | None = Field(None, max_length=30)


class MemberPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slots: dict[str, Any] | None = Field(
        None,
        description="this person's script values for this campaign; an empty value removes one",
        examples=[{"date": "11월 25일", "place": "중구 보건소"}],
    )
    notes: str | None = Field(None, description="replaces the notes from the contact file")


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000, examples=["방문 상담 예정 (11/24)"])


class DoNotCallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    numbers: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(min_length=1, max_length=10_000)
    reason: str = Field("", max_length=200)


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, examples=["사회복지사 김OO"])
    role: Literal[ROLES] = Field(examples=["operator"])  # type: ignore[valid-type]
    expires_days: int | None = Field(
        None, ge=1, le=service.TOKEN_DAYS_MAX, description="the token stops working after this many days"
    )


TOO_MANY_FAILURES = "로그인 시도가 너무 많습니다. 잠시 후 다시 시도해 주세요. (too many failed logins)"


class Auth:
    """Database sessions and token checks as FastAPI dependencies, shared by every router of the server."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Callable[[], datetime] = utcnow,
        limiter: FailedLogins | None = None,
    ):
        self.factory = factory
        self.clock = clock
        self.limiter = limiter or FailedLogins()  # refused tokens per client address (429 past the limit)

    def db(self) -> Iterator[Session]:
        with self.factory.begin() as session:
            yield session

    def audit(
        self, who: service.Principal, action: str, target_kind: str, target_id: Any = None, detail: str = ""
    ) -> None:
        """Record an audit event in a transaction of its own, for a route whose data is not in this database
        (handoff records, chats); a route with a ``db`` session records in that one instead."""
        with self.factory.begin() as session:
            audit_log.record(session, who, action, target_kind, target_id, detail, at=self.clock())

    def principal(self, authorization: str | None, client: str | None = None) -> service.Principal:
        """The token's holder; 401 without a valid one, 429 while ``client`` (the address) is locked out."""
        address = client or "unknown"
        wait = self.limiter.retry_after(address)
        if wait is not None:
            raise HTTPException(429, TOO_MANY_FAILURES, {"Retry-After": str(wait)})
        scheme, _, token = (authorization or "").partition(" ")
        found = None
        if scheme.lower() == "bearer":
            with self.factory.begin() as session:
                found = service.authenticate(session, token.strip(), self.clock())
            if found is None and token.strip():
                self.limiter.failed(address)
        if found is None:
            raise HTTPException(
                401, "로그인이 필요합니다 (missing or invalid token)", {"WWW-Authenticate": "Bearer"}
            )
        return found

    def require(self, needed: str) -> "RoleCheck":
        return RoleCheck(self, needed)


class RoleCheck:
    """The dependency that admits a token of role ``needed`` or higher (401 without one, 403 below it).

    Its bearer parameter carries the role as the security requirement's scope, so the OpenAPI document
    says which role each route needs (``security: [{"bearer": ["operator"]}]``; OpenAPI 3.1 lets a
    non-OAuth scheme list role names there)."""

    def __init__(self, auth: Auth, needed: str):
        self.auth = auth
        self.needed = needed
        self.__signature__ = inspect.Signature(
            [
                inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
                inspect.Parameter(
                    "credentials",
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    default=Security(BEARER, scopes=[needed]),
                    annotation=HTTPAuthorizationCredentials | None,
                ),
            ]
        )

    def __call__(
        self, request: Request, credentials: HTTPAuthorizationCredentials | None = None
    ) -> service.Principal:
        client = request.client.host if request.client else None  # the lockout's key (issue 17)
        who = self.auth.principal(f"Bearer {credentials.credentials}" if credentials else None, client)
        if not who.allows(self.needed):
            raise HTTPException(403, f"'{self.needed}' 권한이 필요합니다 (your role: {who.role})")
        return who


def make_router(
    factory: sessionmaker[Session], clock: Callable[[], datetime] = utcnow, auth: Auth | None = None
) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["outbound"])
    auth = auth or Auth(factory, clock)
    DB = Annotated[Session, Depends(auth.db)]
    Viewer = Annotated[service.Principal, Depends(auth.require("viewer"))]
    Operator = Annotated[service.Principal, Depends(auth.require("operator"))]
    Admin = Annotated[service.Principal, Depends(auth.require("admin"))]

    def audit(
        session: Session,
        who: service.Principal,
        action: str,
        target_kind: str,
        target_id: Any = None,
        detail: str = "",
    ) -> None:
        """The audit log (outbound.audit), in the action's own transaction: ids and codes only."""
        audit_log.record(session, who, action, target_kind, target_id, detail, at=clock())
        log.info("api: %s (%s) %s %s %s", who.name, who.role, action, target_kind, target_id)

    # --- campaigns --------------------------------------------------------------------------------

    @router.get("/campaigns", summary="List campaigns with progress")
    def list_campaigns(session: DB, who: Viewer, status: str | None = None) -> list[dict[str, Any]]:
        return [service.campaign_dict(session, c) for c in service.list_campaigns(session, status)]

    @router.post("/campaigns", status_code=201, summary="Create a campaign (draft)")
    def create_campaign(body: CampaignIn, session: DB, who: Operator) -> dict[str, Any]:
        campaign = service.create_campaign(session, service.CampaignSpec(**body.model_dump()), now=clock())
        audit(session, who, "campaign.created", "campaign", campaign.id)
        return service.campaign_dict(session, campaign)

    @router.get("/campaigns/{campaign_id}", summary="One campaign with progress")
    def get_campaign(campaign_id: int, session: DB, who: Viewer) -> dict[str, Any]:
        return service.campaign_dict(session, service.get_campaign(session, campaign_id))

    @router.patch("/campaigns/{campaign_id}", responses=CONFLICT, summary="Change a draft or paused campaign")
    def update_campaign(campaign_id: int, body: CampaignPatch, session: DB, who: Operator) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True)
        campaign = service.update_campaign(session, campaign_id, changes, clock())
        fields = "fields=" + ",".join(sorted(changes))
        audit(session, who, "campaign.changed", "campaign", campaign_id, fields)
        return service.campaign_dict(session, campaign)

    @router.post(
        "/campaigns/{campaign_id}/start",
        responses=CONFLICT,
        summary="Start a draft campaign (books the calls)",
        description="`booked`: calls booked; `notice`: when none is, why (Korean), else null.",
    )
    def start(campaign_id: int, session: DB, who: Operator) -> dict[str, Any]:
        now = clock()
        booked = service.start_campaign(session, campaign_id, now)
        audit(session, who, "campaign.started", "campaign", campaign_id)
        campaign = service.get_campaign(session, campaign_id)
        return {
            **service.campaign_dict(session, campaign),
            "booked": booked,
            "notice": booking_notice(session, campaign, now),
        }

    @router.post("/campaigns/{campaign_id}/pause", responses=CONFLICT, summary="Pause: no new calls start")
    def pause(campaign_id: int, session: DB, who: Operator) -> dict[str, Any]:
        campaign = service.pause_campaign(session, campaign_id)
        audit(session, who, "campaign.paused", "campaign", campaign_id)
        return service.campaign_dict(session, campaign)

    @router.post("/campaigns/{campaign_id}/resume", responses=CONFLICT, summary="Resume a paused campaign")
    def resume(campaign_id: int, session: DB, who: Operator) -> dict[str, Any]:
        campaign = service.resume_campaign(session, campaign_id, clock())
        audit(session, who, "campaign.resumed", "campaign", campaign_id)
        return service.campaign_dict(session, campaign)

    @router.post(
        "/campaigns/{campaign_id}/cancel", responses=CONFLICT, summary="Cancel: booked calls are cancelled"
    )
    def cancel(campaign_id: int, session: DB, who: Operator) -> dict[str, Any]:
        result = service.cancel_campaign(session, campaign_id, clock())
        audit(session, who, "campaign.cancelled", "campaign", campaign_id)
        return {**service.campaign_dict(session, service.get_campaign(session, campaign_id)), **result}

    @router.post(
        "/campaigns/{campaign_id}/contacts",
        responses=CONFLICT,
        summary="Import contacts from a CSV (request body: the file, UTF-8 or CP949)",
        openapi_extra={"requestBody": CSV_IMPORT_BODY},
    )
    async def import_contacts(
        campaign_id: int, request: Request, session: DB, who: Operator
    ) -> dict[str, Any]:
        data = await read_upload(request, MAX_CSV_BYTES)
        result = await run_in_threadpool(service.import_contacts_into, session, campaign_id, data, clock())
        counts = f"added={result['added']} rejected={len(result['rejected'])}"
        audit(session, who, "contacts.imported", "campaign", campaign_id, counts)
        return result

    @router.get("/campaigns/{campaign_id}/members", summary="The campaign's people with their values for it")
    def members(
        campaign_id: int,
        session: DB,
        who: Viewer,
        missing: bool = Query(False, description="only those lacking a required script value"),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        campaign = service.get_campaign(session, campaign_id)
        total, rows = service.list_members(
            session, campaign_id, missing_only=missing, limit=limit, offset=offset
        )
        masked = not who.allows("operator")
        return {
            "total": total,
            "script_slots": service.script_slot_names(campaign),
            "items": [service.member_dict(r, masked=masked) for r in rows],
        }

    @router.patch(
        "/campaigns/{campaign_id}/members/{contact_id}",
        responses=CONFLICT,
        summary="Change one person's values for this campaign (date, place, notes); other campaigns keep theirs",
    )
    def update_member(
        campaign_id: int, contact_id: int, body: MemberPatch, session: DB, who: Operator
    ) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True)
        row = service.update_member_values(session, campaign_id, contact_id, **changes)
        what = sorted(changes.get("slots") or {}) + (["notes"] if "notes" in changes else [])
        fields = f"campaign={campaign_id} fields={','.join(what)}"
        audit(session, who, "member.changed", "contact", contact_id, fields)
        return service.member_dict(row, masked=False)

    @router.get("/campaigns/{campaign_id}/summary", summary="Reached rate, outcomes, concerns")
    def summary(campaign_id: int, session: DB, who: Viewer) -> dict[str, Any]:
        service.get_campaign(session, campaign_id)
        return campaign_summary(session, campaign_id)

    @router.get(
        "/campaigns/{campaign_id}/export.csv",
        summary="All attempts as CSV (Excel-ready UTF-8 BOM)",
        response_class=Response,
        responses=file_response("text/csv"),
    )
    def export(
        campaign_id: int,
        session: DB,
        who: Operator,
        transcripts: bool = Query(False, description="admin only"),
    ) -> Response:
        service.get_campaign(session, campaign_id)
        if transcripts and not who.allows("admin"):
            raise HTTPException(403, "녹취록 포함 내보내기는 관리자만 할 수 있습니다")
        text = export_attempts_csv(session, campaign_id, unmasked=transcripts)
        action = "campaign.transcripts.exported" if transcripts else "campaign.exported"
        audit(session, who, action, "campaign", campaign_id)
        return Response(
            "\ufeff" + text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}.csv"'},
        )

    # --- attempts, people, alerts -----------------------------------------------------------------

    @router.get("/attempts", summary="Attempts and results, newest first")
    def attempts(
        session: DB,
        who: Viewer,
        campaign_id: int | None = None,
        contact_id: int | None = None,
        outcome: Literal[OUTCOMES] | None = None,  # type: ignore[valid-type]
        state: Literal[ATTEMPT_STATES] | None = None,  # type: ignore[valid-type]
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        for moment in (since, until):
            if moment is not None and moment.tzinfo is None:
                raise HTTPException(422, "since/until에는 시간대를 붙여 주세요 (e.g. 2026-11-23T09:00+09:00)")
        flt = service.AttemptFilter(campaign_id, contact_id, outcome, state, since, until, limit, offset)
        total, rows = service.list_attempts(session, flt)
        masked, words = not who.allows("operator"), who.allows("admin")  # words: as the transcript export
        shown = [a.id for a in rows if words and a.transcript]
        if shown:  # what was said in calls, seen by an admin
            kind, target = (
                ("contact", contact_id)
                if contact_id is not None
                else ("campaign", campaign_id)
                if campaign_id is not None
                else ("attempts", None)
            )
            detail = f"rows={len(shown)} ids={min(shown)}..{max(shown)}"
            # The console's results tab polls: the same rows seen again within minutes are one view.
            audit_log.record(
                session,
                who,
                "attempts.transcripts.viewed",
                kind,
                target,
                detail,
                at=clock(),
                once_within=audit_log.REPEATED_VIEW,
            )
        return {"total": total, "items": [service.attempt_dict(a, masked=masked, words=words) for a in rows]}

    @router.get("/contacts/{contact_id}/history", summary="A person's check-ins and their trend")
    def history(contact_id: int, session: DB, who: Operator) -> dict[str, Any]:
        found = service.contact_history(session, contact_id)
        audit(session, who, "contact.history.viewed", "contact", contact_id)
        return found

    router.include_router(  # welfare memory (issue 16)
        welfare_api.make_router(auth.db, auth.require("operator"), clock, welfare.WelfareSettings.from_env())
    )

    @router.get("/alerts", summary="Alerts for social workers, open and critical first")
    def alerts(
        session: DB, who: Viewer, open: bool = False, campaign_id: int | None = None
    ) -> list[dict[str, Any]]:
        masked = not who.allows("operator")
        rows = service.list_alerts(session, open_only=open, campaign_id=campaign_id)
        return [service.alert_dict(a, session, masked=masked) for a in rows]

    @router.post("/alerts/{alert_id}/ack", responses=CONFLICT, summary="Acknowledge an alert with a note")
    def acknowledge(alert_id: int, body: AckIn, session: DB, who: Operator) -> dict[str, Any]:
        alert = service.acknowledge_alert(session, alert_id, who.name, body.note, clock())
        audit(session, who, "alert.acknowledged", "alert", alert_id)
        return service.alert_dict(alert, session, masked=False)

    @router.post("/do-not-call", summary="Opt numbers out of every campaign")
    def do_not_call(body: DoNotCallIn, session: DB, who: Operator) -> dict[str, int]:
        result = service.add_do_not_call(session, body.numbers, body.reason, source=f"api:{who.name}")
        audit(session, who, "do_not_call.added", "do_not_call", None, f"added={result['added']}")
        return result

    # --- tokens -----------------------------------------------------------------------------------

    @router.get("/me", summary="Who the token belongs to")
    def me(who: Viewer) -> dict[str, str]:
        return {"name": who.name, "role": who.role}

    @router.get("/tokens", summary="API tokens (never the token itself)")
    def tokens(session: DB, who: Admin) -> list[dict[str, Any]]:
        return service.list_tokens(session, clock())

    @router.post("/tokens", status_code=201, summary="Create a token; it is shown only in this reply")
    def create_token(body: TokenIn, session: DB, who: Admin) -> dict[str, str | None]:
        expires_at = service.token_expiry(body.expires_days, clock())
        token = service.create_token(session, body.name, body.role, expires_at)
        audit(session, who, "token.created", "token", service.token_id(session, token), f"role={body.role}")
        expires = expires_at.isoformat() if expires_at else None
        return {"token": token, "name": body.name, "role": body.role, "expires_at": expires}

    @router.delete("/tokens/{token_id}", status_code=204, responses=CONFLICT, summary="Revoke a token")
    def revoke(token_id: int, session: DB, who: Admin) -> Response:
        service.revoke_token(session, token_id, clock())
        audit(session, who, "token.revoked", "token", token_id)
        return Response(status_code=204)

    # --- audit log ----------------------------------------------------------------------------------

    @router.get(
        "/audit",
        summary="The audit log, newest first (admin only; viewing it is audited too)",
        description=(
            "Who changed what and who saw whose personal data: ids and action codes only. "
            "Page on with `before_id` = `next_before_id` of the previous page (null on the last page)."
        ),
    )
    def audit_events(
        session: DB,
        who: Admin,
        action: Literal[audit_log.ACTIONS] | None = None,  # type: ignore[valid-type]
        actor: str | None = Query(None, max_length=100, description="the token's name, exactly"),
        since: datetime | None = Query(None, description="from this time (with a time zone)"),
        until: datetime | None = Query(None, description="before this time (with a time zone)"),
        target_kind: Literal[audit_log.TARGET_KINDS] | None = None,  # type: ignore[valid-type]
        target_id: str | None = Query(None, max_length=64),
        limit: int = Query(100, ge=1, le=audit_log.MAX_LIMIT),
        before_id: int | None = Query(None, ge=1, description="only events older than this id"),
    ) -> dict[str, Any]:
        for moment in (since, until):
            if moment is not None and moment.tzinfo is None:
                raise HTTPException(422, "since/until에는 시간대를 붙여 주세요 (e.g. 2026-11-23T09:00+09:00)")
        flt = audit_log.AuditFilter(action, actor, since, until, target_kind, target_id)
        rows = audit_log.list_events(session, flt, limit, before_id)
        asked = {"action": action, "target": target_kind, "before_id": before_id}
        detail = " ".join(f"{k}={v}" for k, v in asked.items() if v is not None)
        audit(session, who, "audit.viewed", "audit", None, detail)
        return {
            "items": [audit_log.event_dict(e) for e in rows],
            "next_before_id": rows[-1].id if len(rows) == limit else None,
        }

    return router


async def read_upload(
    request: Request, max_bytes: int, kind_ko: str = "CSV 파일", kind: str = "CSV"
) -> bytes:
    """An uploaded file from a raw body or from the first file of a multipart form: 422 when there is none
    or it is empty, 413 over ``max_bytes``. ``kind_ko`` / ``kind`` name the file in the messages."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = next((v for v in form.values() if not isinstance(v, str)), None)
        if upload is None:
            raise HTTPException(422, f"{kind_ko}을 첨부해 주세요 (no file in the form)")
        data = await upload.read()
    else:
        data = await request.body()
    if not data:
        raise HTTPException(422, f"빈 파일입니다 (empty {kind})")
    if len(data) > max_bytes:
        raise HTTPException(413, f"파일이 너무 큽니다 (over {max_bytes // (1024 * 1024)} MB)")
    return data


def make_app(factory: sessionmaker[Session], clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """The API alone (tests, or a deployment that serves the console elsewhere). No /docs page here: the
    offline Swagger UI is ``voicebot serve``'s (FastAPI's own would load it from a CDN)."""
    app = FastAPI(
        title="Voicebot outbound API", version="1", description=__doc__, docs_url=None, redoc_url=None
    )
    install_error_handlers(app)
    app.include_router(make_router(factory, clock))
    return app
