"""The audit log (issue 17) on real databases: staff actions and views of personal data write events in the
same transaction (through the outbound API and through ``voicebot serve``'s app for handoffs and chats),
only admins read the log (its filters and paging work, and reading it is itself audited), no event holds
a citizen's name, number or words, and the database itself refuses to change or delete an event (SQLite
and PostgreSQL triggers from migration 0008, which also downgrades cleanly)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import outbound
from outbound import audit, service
from outbound.api import make_app
from outbound.runner import SimulatedCallee, SimulatedDialer, run_until_done
from outbound.schema import AuditEvent

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=SEOUL)  # a Monday, inside the default windows
CSV = "이름,전화번호,메모\n김영희,010-2345-6789,\n박철수,02-123-4567,\n최민수,010 9876 5432,\n"
# What must never reach the audit log: the people's names, numbers (as written and as stored), their
# words on the calls, what staff wrote about them.
PERSONAL = [
    "김영희",
    "박철수",
    "최민수",
    "2345",
    "6789",
    "9876",
    "123-4567",
    "허리",
    "아파요",
    "방문 예정",
    "무릎이 아프다고",
    "병원 동행",
]


@pytest.fixture()
def api(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    factory = outbound.session_factory(engine)
    with factory.begin() as s:
        tokens = {
            role: service.create_token(s, f"{role}-user", role) for role in ("viewer", "operator", "admin")
        }
    client = TestClient(make_app(factory, clock=lambda: NOW))
    yield client, factory, {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}
    engine.dispose()


def events(factory) -> list[AuditEvent]:
    with factory() as s:
        return list(s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def actions(factory) -> list[tuple[str, str, str | None]]:
    return [(e.action, e.target_kind, e.target_id) for e in events(factory)]


def run_campaign(client: TestClient, factory, op: dict[str, str]) -> int:
    body = {
        "name": "11월 안심콜",
        "kind": "welfare_check",
        "start_date": "2026-11-23",
        "end_date": "2026-12-31",
        "max_attempts": 1,
        "recurrence": "월,목",  # still running after the first round
    }
    cid = client.post("/api/campaigns", json=body, headers=op).json()["id"]
    imported = client.post(
        f"/api/campaigns/{cid}/contacts", content=CSV.encode(), headers={**op, "content-type": "text/csv"}
    )
    assert imported.json()["added"] == 3
    assert (
        client.patch(f"/api/campaigns/{cid}", json={"name": "11월 안심콜 (1차)"}, headers=op).status_code
        == 200
    )
    assert client.post(f"/api/campaigns/{cid}/start", headers=op).status_code == 200
    dialer = SimulatedDialer(
        {
            "+821023456789": SimulatedCallee(
                replies=["잘 먹었어요", "허리가 너무 아파요", "잘 잤어요", "괜찮아요", "없어요"]
            ),
            "+8221234567": SimulatedCallee(outcomes=["busy"]),
            "+821098765432": SimulatedCallee(replies=["1", "1", "1", "1", "1", "1"]),
        }
    )
    run_until_done(factory, dialer, "w1", NOW, until=datetime(2026, 11, 25, 23, 0, tzinfo=SEOUL))
    return cid


def test_staff_actions_and_views_of_personal_data_are_recorded(api) -> None:
    client, factory, who = api
    op, admin, viewer = who["operator"], who["admin"], who["viewer"]
    cid = run_campaign(client, factory, op)
    assert actions(factory) == [
        ("campaign.created", "campaign", str(cid)),
        ("contacts.imported", "campaign", str(cid)),
        ("campaign.changed", "campaign", str(cid)),
        ("campaign.started", "campaign", str(cid)),
    ]
    first = events(factory)
    assert first[1].detail == "added=3 rejected=0" and first[2].detail == "fields=name"
    assert (first[0].actor, first[0].actor_role, first[0].at) == ("operator-user", "operator", NOW)
    with factory() as s:
        op_token = service.authenticate(s, op["Authorization"].split()[1])
    assert op_token is not None and first[0].token_id == op_token.token_id

    # Reading without the words is not a view of what was said; an admin's list with transcripts is.
    before = len(events(factory))
    client.get(f"/api/attempts?campaign_id={cid}", headers=viewer)
    client.get(f"/api/attempts?campaign_id={cid}", headers=op)
    assert len(events(factory)) == before
    full = client.get(f"/api/attempts?campaign_id={cid}&outcome=answered", headers=admin).json()
    again = client.get(f"/api/attempts?campaign_id={cid}&outcome=answered", headers=admin)  # a poll
    assert again.json()["items"] == full["items"] and len(events(factory)) == before + 1
    shown = [a["id"] for a in full["items"] if a["transcript"]]
    viewed = events(factory)[-1]
    assert (viewed.action, viewed.target_kind, viewed.target_id) == (
        "attempts.transcripts.viewed",
        "campaign",
        str(cid),
    )
    assert viewed.detail == f"rows={len(shown)} ids={min(shown)}..{max(shown)}"

    alerts = client.get("/api/alerts?open=true", headers=op).json()
    concern = next(a for a in alerts if a["kind"] == "welfare_concern")
    kim = concern["contact"]["id"]
    assert (
        client.post(f"/api/alerts/{concern['id']}/ack", json={"note": "방문 예정"}, headers=op).status_code
        == 200
    )
    assert client.get(f"/api/contacts/{kim}/history", headers=op).status_code == 200
    assert client.get("/api/contacts/99999/history", headers=op).status_code == 404  # nothing seen: no event

    # Welfare memory: seen, added, corrected, forgotten.
    assert client.get(f"/api/contacts/{kim}/memory", headers=op).status_code == 200
    memo = {"topic": "health", "value": "concern", "summary": "무릎이 아프다고", "said": "병원 동행 필요"}
    added = client.post(f"/api/contacts/{kim}/memory", json=memo, headers=op).json()
    assert client.patch(f"/api/memory/{added['id']}", json={"value": "fine"}, headers=op).status_code == 200
    assert client.delete(f"/api/memory/{added['id']}", headers=op).status_code == 204

    assert client.get(f"/api/campaigns/{cid}/export.csv", headers=op).status_code == 200
    assert client.get(f"/api/campaigns/{cid}/export.csv?transcripts=true", headers=admin).status_code == 200
    dnc = client.post("/api/do-not-call", json={"numbers": ["010-2345-6789"]}, headers=op)
    assert dnc.status_code == 200
    assert client.post(f"/api/campaigns/{cid}/pause", headers=op).status_code == 200
    assert client.post(f"/api/campaigns/{cid}/pause", headers=op).status_code == 409  # refused: no event
    assert client.post(f"/api/campaigns/{cid}/resume", headers=op).status_code == 200
    assert client.post(f"/api/campaigns/{cid}/cancel", headers=op).status_code == 200
    made = client.post("/api/tokens", json={"name": "사회복지사 박", "role": "operator"}, headers=admin)
    new_id = next(
        t["id"] for t in client.get("/api/tokens", headers=admin).json() if t["name"] == "사회복지사 박"
    )
    assert made.status_code == 201
    assert client.delete(f"/api/tokens/{new_id}", headers=admin).status_code == 204

    after = actions(factory)[before + 1 :]
    assert after == [
        ("alert.acknowledged", "alert", str(concern["id"])),
        ("contact.history.viewed", "contact", str(kim)),
        ("memory.viewed", "contact", str(kim)),
        ("memory.added", "memory", str(added["id"])),
        ("memory.changed", "memory", str(added["id"])),
        ("memory.deleted", "memory", str(added["id"])),
        ("campaign.exported", "campaign", str(cid)),
        ("campaign.transcripts.exported", "campaign", str(cid)),
        ("do_not_call.added", "do_not_call", None),
        ("campaign.paused", "campaign", str(cid)),
        ("campaign.resumed", "campaign", str(cid)),
        ("campaign.cancelled", "campaign", str(cid)),
        ("token.created", "token", str(new_id)),
        ("token.revoked", "token", str(new_id)),
    ]
    by_action = {e.action: e for e in events(factory)}
    assert by_action["memory.added"].detail == f"contact={kim}"
    assert by_action["memory.changed"].detail == "fields=value"
    assert by_action["do_not_call.added"].detail == "added=1"
    assert by_action["token.created"].detail == "role=operator"
    assert by_action["campaign.transcripts.exported"].actor_role == "admin"
    assert_no_personal_data(factory)


def assert_no_personal_data(factory) -> None:
    for event in events(factory):
        text = " ".join(
            str(v) for v in (event.actor, event.action, event.target_kind, event.target_id, event.detail)
        )
        leaked = [word for word in PERSONAL if word in text]
        assert not leaked, (event.action, leaked)


def test_only_admins_read_the_log_with_filters_and_paging(api) -> None:
    client, factory, who = api
    op, admin, viewer = who["operator"], who["admin"], who["viewer"]
    cid = run_campaign(client, factory, op)
    for _ in range(3):
        assert client.post(f"/api/campaigns/{cid}/pause", headers=op).status_code == 200
        assert client.post(f"/api/campaigns/{cid}/resume", headers=op).status_code == 200

    assert client.get("/api/audit").status_code == 401
    assert client.get("/api/audit", headers=viewer).status_code == 403
    refused = client.get("/api/audit", headers=op)
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert not [e for e in events(factory) if e.action == "audit.viewed"]  # refused: nothing seen

    page = client.get("/api/audit", headers=admin).json()
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 10 and page["next_before_id"] is None
    newest = page["items"][0]
    assert newest["action"] == "campaign.resumed" and newest["actor"] == "operator-user"
    assert datetime.fromisoformat(newest["at"]) == NOW
    seen = events(factory)[-1]
    assert (seen.action, seen.target_kind, seen.actor, seen.actor_role) == (
        "audit.viewed",
        "audit",
        "admin-user",
        "admin",
    )

    paused = client.get("/api/audit?action=campaign.paused", headers=admin).json()["items"]
    assert len(paused) == 3 and {e["action"] for e in paused} == {"campaign.paused"}
    assert events(factory)[-1].detail == "action=campaign.paused"
    mine = client.get("/api/audit?actor=admin-user", headers=admin).json()["items"]
    assert {e["action"] for e in mine} == {"audit.viewed"} and len(mine) == 2
    target = client.get(f"/api/audit?target_kind=campaign&target_id={cid}", headers=admin).json()["items"]
    assert len(target) == 10 and {e["target_id"] for e in target} == {str(cid)}
    window = {
        "since": (NOW - timedelta(minutes=1)).isoformat(),
        "until": (NOW + timedelta(minutes=1)).isoformat(),
    }
    assert len(client.get("/api/audit", params=window, headers=admin).json()["items"]) > 10
    later = {"since": (NOW + timedelta(minutes=1)).isoformat()}
    assert client.get("/api/audit", params=later, headers=admin).json()["items"] == []

    # Paging: before_id walks back through everything exactly once.
    everything = [e.id for e in reversed(events(factory))]
    walked: list[int] = []
    before: int | None = None
    while True:
        params: dict[str, Any] = {"limit": 4, **({"before_id": before} if before else {})}
        page = client.get("/api/audit", params=params, headers=admin).json()
        walked += [e["id"] for e in page["items"]]
        before = page["next_before_id"]
        if before is None:
            break
    assert walked == everything  # each page's own audit.viewed comes after the first page was read

    for bad in ("limit=501", "limit=0", "action=campaign.deleted", "since=2026-11-23T09:00", "before_id=0"):
        assert client.get(f"/api/audit?{bad}", headers=admin).status_code == 422, bad


def test_openapi_documents_the_audit_route(api) -> None:
    client, _, _ = api
    operation = client.get("/openapi.json").json()["paths"]["/api/audit"]["get"]
    assert [list(s) for s in operation["security"]] == [["bearer"]]
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"action", "actor", "since", "until", "target_kind", "target_id", "limit", "before_id"}


def test_handoff_and_chat_views_are_recorded_on_the_served_app(tmp_path: Path, engine) -> None:
    from voicebot.server.app import create_app
    from voicebot.server.config import load_config

    environ = {
        "VOICEBOT_DB_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "VOICEBOT_WEBRTC_ENABLED": "false",
        "VOICEBOT_SIP_HANDOFF_DIR": str(tmp_path / "handoffs"),
    }
    models = SimpleNamespace(engine=engine, transcriber=None, synthesizer=None)
    with TestClient(create_app(load_config(None, environ), models=models)) as http:
        factory = http.app.state.runtime.factory
        with factory.begin() as s:
            op = {"Authorization": f"Bearer {service.create_token(s, '상담사 김하늘', 'operator')}"}
            admin = {"Authorization": f"Bearer {service.create_token(s, '관리자', 'admin')}"}
        conversation = http.post("/api/chat/start").json()["conversation"]["id"]
        sent = http.post(f"/api/chat/{conversation}/messages", json={"text": "상담원 연결해 주세요"})
        assert sent.status_code == 200
        (queued,) = http.get("/api/chats/queue", headers=op).json()
        assert http.get(f"/api/handoffs/{queued['handoff_id']}", headers=op).status_code == 200
        assert http.get("/api/handoffs/0000000000000000", headers=op).status_code == 404
        assert http.get(f"/api/chats/{conversation}", headers=op).status_code == 200
        assert http.get(f"/api/chats/{conversation}?after=1", headers=op).status_code == 200  # a poll
        assert http.post(f"/api/chats/{conversation}/take", headers=op).status_code == 200
        assert http.post(f"/api/chats/{conversation}/take", headers=op).status_code == 409  # no event
        assert [(e.action, e.target_kind, e.target_id) for e in events(factory)] == [
            ("handoff.viewed", "handoff", queued["handoff_id"]),
            ("chat.viewed", "chat", conversation),
            ("chat.taken", "chat", conversation),
        ]
        assert {e.actor for e in events(factory)} == {"상담사 김하늘"}
        logged = http.get("/api/audit", headers=admin).json()["items"]
        assert [e["action"] for e in logged] == ["chat.taken", "chat.viewed", "handoff.viewed"]
        assert_no_personal_data(factory)


def _try(url: str, statement: str) -> Exception | None:
    engine = outbound.make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    except sa.exc.DBAPIError as exc:
        return exc
    finally:
        engine.dispose()
    return None


def append_only(url: str, statements: list[str]) -> None:
    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    factory = outbound.session_factory(engine)
    actor = service.Principal(name="admin-user", role="admin", token_id=1)
    with factory.begin() as s:
        audit.record(s, actor, "token.revoked", "token", 7, at=NOW)
        audit.record(s, actor, "audit.viewed", "audit", at=NOW + timedelta(seconds=1))
    for statement in statements:
        refused = _try(url, statement)
        assert refused is not None and "append-only" in str(refused), statement
    with factory() as s:
        kept = audit.list_events(s)
        assert [(e.action, e.target_id, e.actor) for e in kept] == [
            ("audit.viewed", None, "admin-user"),
            ("token.revoked", "7", "admin-user"),
        ]
        assert kept[1].at == NOW
    with factory.begin() as s:  # appending still works
        audit.record(s, actor, "audit.viewed", "audit", at=NOW)
    with factory() as s:
        assert len(audit.list_events(s)) == 3
    engine.dispose()


CHANGES = [
    "UPDATE audit_events SET actor = 'someone else'",
    "UPDATE audit_events SET detail = 'x' WHERE action = 'token.revoked'",
    "DELETE FROM audit_events",
    "DELETE FROM audit_events WHERE id = 1",
]


def test_sqlite_refuses_to_change_or_delete_events(tmp_path: Path) -> None:
    append_only(f"sqlite:///{tmp_path / 'append.db'}", CHANGES)


def test_postgres_refuses_to_change_delete_or_truncate_events(pg_url: str) -> None:
    append_only(pg_url, [*CHANGES, "TRUNCATE audit_events"])


def _downgrade_and_back(url: str) -> None:
    from alembic import command

    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    assert "audit_events" in sa.inspect(engine).get_table_names()
    command.downgrade(outbound.store.alembic_config(url), "0007_welfare_memory")
    assert "audit_events" not in sa.inspect(engine).get_table_names()
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            left = conn.scalar(
                sa.text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_events_append_only'")
            )
        assert left == 0
    engine.dispose()
    append_only(url, CHANGES)  # upgraded again: the triggers are back


def test_migration_downgrades_and_upgrades_on_sqlite(tmp_path: Path) -> None:
    _downgrade_and_back(f"sqlite:///{tmp_path / 'migrate.db'}")


def test_migration_downgrades_and_upgrades_on_postgres(pg_url: str) -> None:
    _downgrade_and_back(pg_url)


def test_a_polled_view_is_one_event_until_it_changes_or_time_passes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'polls.db'}"
    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    factory = outbound.session_factory(engine)
    admin = service.Principal(name="admin-user", role="admin", token_id=3)
    other = service.Principal(name="admin-user", role="admin", token_id=4)
    again = audit.REPEATED_VIEW
    view = ("attempts.transcripts.viewed", "campaign", 1)
    with factory.begin() as s:
        assert audit.record(s, admin, *view, "rows=2 ids=1..2", at=NOW, once_within=again) is not None
        assert audit.record(s, admin, *view, "rows=2 ids=1..2", at=NOW, once_within=again) is None
        assert audit.record(s, other, *view, "rows=2 ids=1..2", at=NOW, once_within=again) is not None
        assert audit.record(s, admin, *view, "rows=3 ids=1..3", at=NOW, once_within=again) is not None
        later = NOW + again + timedelta(seconds=1)
        assert audit.record(s, admin, *view, "rows=2 ids=1..2", at=later, once_within=again) is not None
    assert [e.detail for e in events(factory)] == [
        "rows=2 ids=1..2",
        "rows=2 ids=1..2",
        "rows=3 ids=1..3",
        "rows=2 ids=1..2",
    ]
    engine.dispose()


def test_unknown_codes_are_refused_before_they_reach_the_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'codes.db'}"
    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    actor = service.Principal(name="admin-user", role="admin")
    with outbound.session_factory(engine).begin() as s:
        with pytest.raises(ValueError):
            audit.record(s, actor, "campaign.deleted", "campaign", 1)
        with pytest.raises(ValueError):
            audit.record(s, actor, "campaign.created", "person", 1)
        long = audit.record(s, actor, "campaign.created", "campaign", 1, "x" * 500)
        assert len(long.detail) == audit.DETAIL_MAX
    engine.dispose()
