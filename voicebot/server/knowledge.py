"""상담 지식 (issue 19): the knowledge base's versions for staff, the publish gate, and the reload of the
running dialog engine.

:class:`Knowledge` keeps the running server on the published version: at start it loads that version
when it is not the engine already in memory, and after a publish (or rollback) it builds the new engine
and swaps it in. Calls and chats already in progress keep the engine they started with (each session holds
its own); every new one gets the new engine.

Publishing runs the dialog evaluation set (``dialog.evaluate``) on the candidate and compares it with the
version in service: a lower intent accuracy, or any eval question that is handled right now and wrong
under the candidate, blocks the publish (409 with the failing questions). An admin may publish anyway
with ``force: true`` (recorded in the audit log and in the version's evaluation); a rollback runs the
same gate, since an older version can lack answers added since.
"""

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from dialog import DialogEngine, KnowledgeBase, turn_to_dict
from dialog.evaluate import DEFAULT_EVAL, Evaluation, GateResult, figures, gate, load_eval, run
from dialog.kb import default_kb_path
from outbound import audit as audit_log
from outbound import knowledge, service
from outbound.api import CONFLICT, NOT_FOUND, Auth, file_response, read_upload

log = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_LISTED_ROW_ERRORS = 500
IMPORT_BODY: dict[str, Any] = {
    "required": True,
    "description": (
        "The centre's consultation DB: CSV (UTF-8 or CP949) or XLSX (first sheet), one entry per row. Headers "
        "(Korean or English): 분야/category, 제목/title, 질문/questions (two or more, separated by line breaks "
        "or ;), 답변/answer (spoken), 출처/source are required; 항목ID/id, 채팅답변/chat_answer, 키워드/keywords, "
        "상담사연결/requires_staff (Y/N), 사업명/programme, 수정일/updated, 시작일/valid_from, 종료일/valid_until, 언어/lang are "
        "optional. A bad row is reported (row, column, reason) and nothing of it is imported. At most 20 MB."
    ),
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        "text/csv": {"schema": {"type": "string"}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}
        },
    },
}


def _digest(items: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()


class GateBlocked(Exception):
    def __init__(self, result: GateResult):
        super().__init__("evaluation gate failed")
        self.result = result


class Knowledge:
    """The published knowledge base in service, and publishing with the evaluation gate."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Callable[[], datetime],
        get_engine: Callable[[], DialogEngine | None],
        set_engine: Callable[[DialogEngine], None],
        eval_path: Path | None = DEFAULT_EVAL,
        build: Callable[[KnowledgeBase], DialogEngine] = DialogEngine,
    ):
        self.factory = factory
        self.clock = clock
        self.get_engine = get_engine
        self.set_engine = set_engine
        self.eval_path = eval_path
        self.build = build
        self.active_id: int | None = None  # the version the engine in service was built from
        # Its evaluation, computed once per version and eval set (the set's file may change meanwhile).
        self._current: tuple[int, str, Evaluation] | None = None
        self._lock = threading.Lock()  # one publish at a time

    def ensure_initial(self) -> None:
        with self.factory.begin() as session:
            if knowledge.ensure_initial(session, self.clock()) is not None:
                log.info("knowledge base: the shipped entries are version 1 (published)")

    def activate(self) -> None:
        """At start: serve the published version (the engine loaded from the shipped file is kept when
        that is what is published)."""
        with self.factory() as session:
            version = knowledge.published(session)
        if version is None:
            return
        engine = self.get_engine()
        shipped = default_kb_path()
        if (
            engine is not None
            and engine.kb.source == str(shipped)
            and version.document == shipped.read_text(encoding="utf-8")
        ):
            self.active_id = version.id
            return
        try:
            self.set_engine(self.build(knowledge.load_version(version)))
        except Exception:  # the server still answers, from the knowledge it loaded; staff can publish again
            log.exception(
                "knowledge base: version %d could not be loaded; serving the shipped one", version.id
            )
            return
        self.active_id = version.id
        log.info("knowledge base: serving version %d (%d entries)", version.id, version.entries)

    # --- the gate -------------------------------------------------------------------------------------

    def _items(self) -> list[dict[str, Any]]:
        if self.eval_path is None or not self.eval_path.is_file():
            raise service.Conflict(
                "평가 세트가 없어 게시 전 검사를 할 수 없습니다. 관리자는 검사 없이 게시(force)할 수 있습니다 "
                "(no evaluation set)"
            )
        return load_eval(self.eval_path)

    def _current_evaluation(self, items: list[dict[str, Any]]) -> Evaluation:
        engine = self.get_engine()
        if engine is None or self.active_id is None:
            raise service.Conflict(
                "상담봇 모델을 불러오는 중입니다. 잠시 후 다시 시도해 주세요 (models loading)"
            )
        digest = _digest(items)
        if self._current is None or self._current[:2] != (self.active_id, digest):
            evaluation = run(engine, items)
            self._current = (self.active_id, digest, evaluation)
            with self.factory.begin() as session:  # the version in service shows its figures too
                version = knowledge.get_version(session, self.active_id)
                if version.evaluation is None:
                    version.evaluation = {**figures(evaluation.report), "items": len(items)}
        return self._current[2]

    def check(self, version_id: int) -> GateResult:
        """The gate for ``version_id`` against the version in service, without publishing."""
        with self.factory() as session:
            kb = knowledge.load_version(knowledge.get_version(session, version_id))
        items = self._items()
        current = self._current_evaluation(items)
        return gate(current, run(self.build(kb), items))

    def publish(
        self, version_id: int, who: service.Principal, force: bool, rollback: bool
    ) -> tuple[dict[str, Any], GateResult | None]:
        """Publish (or roll back to) ``version_id`` once the gate passes (or ``force``), then serve it.
        Raises GateBlocked with the gate's result."""
        with self._lock:
            with self.factory() as session:
                version = knowledge.get_version(session, version_id)
                knowledge.check_publishable(version, rollback)
                kb = knowledge.load_version(version)
            engine = self.build(kb)
            result: GateResult | None = None
            try:
                items = self._items()
            except service.Conflict:
                if not force:
                    raise
                items = None
            if items is not None:
                candidate = run(engine, items)
                result = gate(self._current_evaluation(items), candidate)
                if not result.passed and not force:
                    raise GateBlocked(result)
            evaluation = (
                {**result.candidate, "items": result.items, "gate_passed": result.passed, "forced": force}
                if result is not None
                else {"items": 0, "gate_passed": False, "forced": True}
            )
            action = "kb.rolled_back" if rollback else "kb.published"
            detail = f"forced={int(force)} gate={'pass' if result and result.passed else 'fail'}"
            with self.factory.begin() as session:
                published = knowledge.mark_published(
                    session, version_id, who.name, self.clock(), evaluation, rollback
                )
                service_audit(session, who, action, version_id, detail, self.clock())
                out = knowledge.version_dict(published)
            self.set_engine(engine)
            self.active_id = version_id
            self._current = None
            if items is not None:
                digest = _digest(items)
                self._current = (version_id, digest, candidate)
            log.info("knowledge base: version %d published by %s, the engine reloaded", version_id, who.role)
            return out, result


def service_audit(
    session: Session, who: service.Principal, action: str, version_id: int | None, detail: str, at: datetime
) -> None:
    audit_log.record(session, who, action, "kb_version", version_id, detail, at=at)


# --- API ----------------------------------------------------------------------------------------------


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    based_on: int | None = Field(
        None, ge=1, description="the version to copy; the published one when omitted"
    )
    note: str = Field("", max_length=500, examples=["12월 한파 안내 추가"])


Text = Annotated[str, Field(min_length=1, max_length=4000)]
Phrase = Annotated[str, Field(min_length=1, max_length=300)]


class EntryIn(BaseModel):
    """One knowledge entry as the console's editor sends it (``dialog/kb.py`` validates the rest)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=3, max_length=64, examples=["general.cold_wave_shelter"])
    category: str = Field(max_length=16, examples=["general"])
    title: str = Field(min_length=1, max_length=100, examples=["한파 쉼터"])
    questions: list[Phrase] = Field(min_length=2, max_length=100)
    answer: Text = Field(description="the spoken answer (phone, browser call)")
    chat_answer: Text | None = Field(
        None, description="the answer for chat and KakaoTalk; the spoken one if empty"
    )
    source: str = Field(min_length=1, max_length=200, examples=["서울시 복지정책과"])
    updated: str | None = Field(None, description="YYYY-MM-DD; today when omitted")
    lang: Literal["ko", "en"] = "ko"
    keywords: list[Phrase] = Field(default_factory=list, max_length=50)
    requires_staff: bool = False
    valid_from: str | None = Field(None, description="YYYY-MM-DD: not answered before this day")
    valid_until: str | None = Field(None, description="YYYY-MM-DD: not answered after this day")
    programme: list[Phrase] = Field(
        default_factory=list,
        max_length=20,
        description="the programme the answer is about (name, aliases): answered only when a question names it",
    )


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: bool = Field(False, description="publish even when the evaluation gate fails (admin; audited)")


def make_knowledge_router(kb: Knowledge, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api/kb", tags=["knowledge"])
    DB = Annotated[Session, Depends(auth.db)]
    Viewer = Annotated[service.Principal, Depends(auth.require("viewer"))]
    Operator = Annotated[service.Principal, Depends(auth.require("operator"))]
    Admin = Annotated[service.Principal, Depends(auth.require("admin"))]

    def today() -> Any:
        return knowledge.seoul_today(kb.clock())

    def audit(
        session: Session, who: service.Principal, action: str, version_id: int | None, detail: str = ""
    ) -> None:
        service_audit(session, who, action, version_id, detail, kb.clock())

    @router.get("/versions", summary="Knowledge base versions, newest first")
    def versions(session: DB, who: Viewer) -> dict[str, Any]:
        return {
            "active": kb.active_id,
            "items": [knowledge.version_dict(v) for v in knowledge.list_versions(session)],
        }

    @router.get("/versions/{version_id}", summary="One version with its entries")
    def version(version_id: int, session: DB, who: Viewer) -> dict[str, Any]:
        found = knowledge.get_version(session, version_id)
        entries = knowledge.entries_of(knowledge.load_version(found), today())
        return {**knowledge.version_dict(found), "items": entries}

    @router.get(
        "/versions/{version_id}/document",
        summary="The version as a knowledge base file (YAML)",
        response_class=Response,
        responses=file_response("text/plain"),
    )
    def document(version_id: int, session: DB, who: Viewer) -> Response:
        found = knowledge.get_version(session, version_id)
        return Response(
            found.document,
            media_type="text/plain; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="kb-version-{version_id}.yaml"'},
        )

    @router.post(
        "/versions",
        status_code=201,
        responses={**CONFLICT, **NOT_FOUND},
        summary="Make a draft from a version",
    )
    def create_draft(body: DraftIn, session: DB, who: Operator) -> dict[str, Any]:
        draft = knowledge.create_draft(session, who.name, kb.clock(), body.based_on, body.note)
        audit(session, who, "kb.draft.created", draft.id, f"based_on={draft.based_on}")
        return knowledge.version_dict(draft)

    @router.post(
        "/versions/{version_id}/entries",
        status_code=201,
        responses=CONFLICT,
        summary="Add an entry to a draft",
    )
    def add_entry(version_id: int, body: EntryIn, session: DB, who: Operator) -> dict[str, Any]:
        entry = knowledge.save_entry(session, version_id, None, body.model_dump(), kb.clock())
        audit(session, who, "kb.entry.saved", version_id, f"entry={body.id} new=1")
        return entry

    @router.put(
        "/versions/{version_id}/entries/{entry_id}", responses=CONFLICT, summary="Change an entry of a draft"
    )
    def put_entry(
        version_id: int, entry_id: str, body: EntryIn, session: DB, who: Operator
    ) -> dict[str, Any]:
        entry = knowledge.save_entry(session, version_id, entry_id, body.model_dump(), kb.clock())
        audit(session, who, "kb.entry.saved", version_id, f"entry={body.id}")
        return entry

    @router.delete(
        "/versions/{version_id}/entries/{entry_id}",
        status_code=204,
        responses=CONFLICT,
        summary="Delete an entry of a draft",
    )
    def delete_entry(version_id: int, entry_id: str, session: DB, who: Operator) -> Response:
        knowledge.delete_entry(session, version_id, entry_id, kb.clock())
        audit(session, who, "kb.entry.deleted", version_id, f"entry={entry_id}"[:200])
        return Response(status_code=204)

    @router.post("/versions/{version_id}/submit", responses=CONFLICT, summary="Submit a draft for review")
    def submit(version_id: int, session: DB, who: Operator) -> dict[str, Any]:
        found = knowledge.submit(session, version_id, who.name, kb.clock())
        audit(session, who, "kb.submitted", version_id)
        return knowledge.version_dict(found)

    @router.post(
        "/versions/{version_id}/reopen",
        responses=CONFLICT,
        summary="Send a version under review back to draft",
    )
    def reopen(version_id: int, session: DB, who: Operator) -> dict[str, Any]:
        found = knowledge.reopen(session, version_id, kb.clock())
        audit(session, who, "kb.reopened", version_id)
        return knowledge.version_dict(found)

    @router.post(
        "/import",
        status_code=201,
        responses={422: {"description": "파일을 읽을 수 없거나 가져올 수 있는 행이 없습니다"}, **CONFLICT},
        summary="Import a consultation DB file (CSV/XLSX) into a new draft; bad rows are reported",
        description="`errors`: one per problem (`row` as the spreadsheet numbers it, `column`, Korean `message`). "
        "`mode=replace`: the draft holds the file's entries only; `merge` (default) adds them to the published "
        "ones, replacing entries with the same id.",
        openapi_extra={"requestBody": IMPORT_BODY},
    )
    async def import_file(
        request: Request,
        who: Operator,
        mode: Literal["merge", "replace"] = "merge",
        note: str = Query("", max_length=500),
    ) -> JSONResponse:
        data = await read_upload(request, MAX_IMPORT_BYTES, "파일", "file")

        def work() -> tuple[dict[str, Any] | None, Any, dict[str, int]]:
            with auth.factory.begin() as session:
                draft, rows, counts = knowledge.import_file(
                    session, data, who.name, kb.clock(), mode == "replace", note
                )
                if draft is None:
                    return None, rows, counts
                detail = " ".join(f"{k}={v}" for k, v in counts.items())
                audit(session, who, "kb.imported", draft.id, detail)
                return knowledge.version_dict(draft), rows, counts

        version, rows, counts = await run_in_threadpool(work)
        body: dict[str, Any] = {
            "version": version,
            "format": rows.format,
            **counts,
            "errors": [e.to_dict() for e in rows.errors[:MAX_LISTED_ROW_ERRORS]],
        }
        if version is None:
            body["detail"] = "가져올 수 있는 행이 없습니다. 오류 목록을 확인해 주세요 (no valid row)"
            return JSONResponse(body, status_code=422)
        return JSONResponse(body, status_code=201)

    @router.get(
        "/diff",
        responses=NOT_FOUND,
        summary="What changed between two versions (entries added, removed, changed)",
    )
    def diff(
        session: DB,
        who: Viewer,
        base: int = Query(ge=1, description="the older version"),
        other: int = Query(ge=1, description="the newer version"),
    ) -> dict[str, Any]:
        old = knowledge.load_version(knowledge.get_version(session, base))
        new = knowledge.load_version(knowledge.get_version(session, other))
        return {"base": base, "other": other, **knowledge.diff(old, new)}

    @router.post(
        "/versions/{version_id}/check",
        responses=CONFLICT,
        summary="Run the evaluation gate on a version without publishing it",
    )
    async def check(version_id: int, who: Operator) -> dict[str, Any]:
        return (await run_in_threadpool(kb.check, version_id)).to_dict()

    async def publish(
        version_id: int, body: PublishIn, who: service.Principal, rollback: bool
    ) -> JSONResponse:
        try:
            version, result = await run_in_threadpool(kb.publish, version_id, who, body.force, rollback)
        except GateBlocked as blocked:
            auth.audit(
                who,
                "kb.publish.blocked",
                "kb_version",
                version_id,
                f"failing={len(blocked.result.newly_failing)}",
            )
            failing = blocked.result.newly_failing
            reason = (
                "의도 정확도가 낮아졌습니다"
                if blocked.result.accuracy_dropped and not failing
                else f"지금은 맞게 답하는 평가 질문 {len(failing)}개를 틀리게 됩니다"
            )
            return JSONResponse(
                {
                    "detail": f"게시 전 검사를 통과하지 못했습니다: {reason}. (evaluation gate failed)",
                    "gate": blocked.result.to_dict(),
                },
                status_code=409,
            )
        return JSONResponse({"version": version, "gate": result.to_dict() if result else None})

    @router.post(
        "/versions/{version_id}/publish",
        responses=CONFLICT,
        summary="Publish a version under review (admin; the evaluation gate runs first)",
        description="409 with `gate.newly_failing` (the eval questions it would get wrong) when the gate fails; "
        "`force: true` publishes anyway (audited). The running server answers from it at once.",
    )
    async def publish_version(version_id: int, body: PublishIn, who: Admin) -> JSONResponse:
        return await publish(version_id, body, who, rollback=False)

    @router.post(
        "/versions/{version_id}/rollback",
        responses=CONFLICT,
        summary="Publish an earlier (archived) version again (admin; the same gate, or force)",
    )
    async def rollback(version_id: int, body: PublishIn, who: Admin) -> JSONResponse:
        return await publish(version_id, body, who, rollback=True)

    @router.get(
        "/ask",
        responses={503: {"description": "상담봇 모델을 불러오는 중입니다 (models loading)"}},
        summary="What the bot in service answers to a question (try the published knowledge)",
    )
    def ask(who: Viewer, text: str = Query(min_length=1, max_length=500)) -> dict[str, Any]:
        engine = kb.get_engine()
        if engine is None:
            raise HTTPException(503, "상담봇 모델을 불러오는 중입니다 (models loading)")
        turn = engine.ask(text)
        return {**turn_to_dict(turn), "text_reply": turn.text_reply, "version": kb.active_id}

    return router
