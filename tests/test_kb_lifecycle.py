"""The knowledge base's lifecycle for staff (issue 19): new entry fields, versions in the database (migration
0013 on SQLite and PostgreSQL), drafts edited through the API, the evaluation gate before publishing, the
reload of a running server without a restart, rollback and the roles. Real engine, real database, the real
served app (FastAPI's TestClient); the gate runs on a short labelled set written here, so that each publish
takes seconds, and once on the project's full eval set."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient

import dialog
import outbound
from dialog import DialogEngine, KBError, parse_kb
from dialog.evaluate import DEFAULT_EVAL
from dialog.kb import kb_to_data, load_kb
from dialog.matcher import Matcher
from outbound import service
from outbound.kb_versions import KBVersion
from voicebot.server.app import create_app
from voicebot.server.config import load_config

NOW = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)

# Eval questions on a few entries, each answered right by the shipped knowledge base (checked below).
SHORT_EVAL = {
    "items": [
        {"text": "아까 버스에서 내리면서 지갑을 놓고 왔어요", "expect": "transport.lost_bus"},
        {"text": "마을 버스에 핸드폰을 떨어뜨리고 내렸어요", "expect": "transport.lost_bus"},
        {"text": "지하철에서 노트북 가방을 잃어버렸어요", "expect": "transport.lost_subway"},
        {"text": "4호선 타고 오다가 선반에 쇼핑백 두고 내렸어요", "expect": "transport.lost_subway"},
        {"text": "근처에 선별 진료소 있어요?", "expect": "covid.screening_clinic"},
        {"text": "오늘 날씨 어때요", "expect": "out_of_scope"},
        {"text": "상담원 연결해 주세요", "expect": "escalate", "reason": "agent_request"},
    ]
}


# --- the entry format -----------------------------------------------------------------------------------


def entry_data(**extra) -> dict:
    return {
        "id": "general.cold_shelter",
        "category": "general",
        "title": "한파 쉼터",
        "questions": ["한파 쉼터 어디 있어요", "추울 때 쉴 수 있는 곳 알려 주세요"],
        "answer": "한파 쉼터는 가까운 주민센터와 경로당입니다.",
        "source": "서울시 안전총괄과",
        "updated": "2026-11-20",
        **extra,
    }


def test_entries_take_a_chat_answer_and_seasonal_dates_and_old_files_stay_valid() -> None:
    kb = parse_kb(
        {
            "entries": [
                entry_data(
                    chat_answer="한파 쉼터: 가까운 주민센터, 경로당\n(운영 시간은 09~18시)",
                    valid_from="2026-12-01",
                    valid_until=dt.date(2027, 2, 28),
                )
            ]
        }
    )
    entry = kb.get("general.cold_shelter")
    assert entry.valid_from == dt.date(2026, 12, 1) and entry.valid_until == dt.date(2027, 2, 28)
    assert entry.render(chat=True).startswith("한파 쉼터: 가까운") and "\n" in entry.render(chat=True)
    assert entry.render() == "한파 쉼터는 가까운 주민센터와 경로당입니다."
    assert entry.active_on(dt.date(2026, 12, 1)) and entry.active_on(dt.date(2027, 2, 28))
    assert not entry.active_on(dt.date(2026, 11, 30)) and not entry.active_on(dt.date(2027, 3, 1))
    assert parse_kb(kb_to_data(kb)).entries == kb.entries
    shipped = load_kb()  # no entry of the shipped file has the new fields: still valid, unchanged
    assert all(e.chat_answer is None and e.valid_from is None for e in shipped)

    for bad, field in (
        (entry_data(valid_from="12월 1일"), "valid_from"),
        (entry_data(valid_from="2027-01-01", valid_until="2026-12-01"), "valid_until"),
        (entry_data(chat_answer="  "), "chat_answer"),
        (entry_data(chat_answer="{district} 안내"), "chat_answer"),
    ):
        with pytest.raises(KBError, match=f"field '{field}'"):
            parse_kb({"entries": [bad]})


def test_a_seasonal_entry_is_answered_only_in_its_season_and_chat_gets_its_own_text(engine) -> None:
    data = kb_to_data(engine.kb)
    data["entries"].append(
        entry_data(valid_from="2026-12-01", valid_until="2027-02-28", chat_answer="쉼터 목록: 주민센터")
    )
    kb = parse_kb(data)
    day = {"today": dt.date(2026, 12, 24)}
    bot = DialogEngine(kb, matcher=Matcher(kb, today=lambda: day["today"]))
    turn = bot.ask("한파 쉼터 어디 있어요")
    assert turn.action == "answer" and turn.intent == "general.cold_shelter"
    assert turn.reply.startswith("한파 쉼터는") and turn.text_reply == "쉼터 목록: 주민센터"
    day["today"] = dt.date(2027, 3, 2)  # out of season: never this answer, whatever the bot says instead
    assert bot.ask("한파 쉼터 어디 있어요").intent != "general.cold_shelter"
    assert engine.ask("버스에 지갑을 두고 내렸어요").text_reply is None  # no chat answer: the spoken one


def test_the_gate_on_the_full_eval_set_passes_a_harmless_edit_and_lists_what_a_bad_one_breaks(engine) -> None:
    from dialog.evaluate import gate, load_eval, run

    items = load_eval()
    current = run(engine, items)
    data = kb_to_data(engine.kb)
    harmless = parse_kb(
        {
            **data,
            "entries": [
                e | {"chat_answer": "채팅용 안내입니다."} if e["id"] == "water.bill_payment" else e
                for e in data["entries"]
            ],
        }
    )
    passed = gate(current, run(DialogEngine(harmless), items))
    assert passed.passed and not passed.newly_failing and passed.candidate == passed.current
    # The lost-property entries lose their phrasings to ones about something else: their questions now fail.
    broken = parse_kb(
        {
            **data,
            "entries": [
                e | {"questions": ["수도 요금 내는 날", "상수도 고지서 납부"], "keywords": []}
                if e["id"] == "transport.lost_subway"
                else e
                for e in data["entries"]
            ],
        }
    )
    blocked = gate(current, run(DialogEngine(broken), items))
    assert not blocked.passed and blocked.accuracy_dropped
    failing = {r.text for r in blocked.newly_failing}
    assert "지하철에서 노트북 가방을 잃어버렸어요" in failing
    assert all(r.ok for r in current.results if r.text in failing)


# --- the served app -------------------------------------------------------------------------------------


@pytest.fixture()
def served(tmp_path: Path, engine):
    eval_path = tmp_path / "eval.yaml"
    eval_path.write_text(yaml.safe_dump(SHORT_EVAL, allow_unicode=True), encoding="utf-8")
    environ = {
        "VOICEBOT_DB_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "VOICEBOT_WEBRTC_ENABLED": "false",
        "VOICEBOT_SIP_HANDOFF_DIR": str(tmp_path / "handoffs"),
        "VOICEBOT_KNOWLEDGE_EVAL_PATH": str(eval_path),  # a centre's own set (knowledge.eval_path)
    }
    models = SimpleNamespace(engine=engine, transcriber=None, synthesizer=None)
    with TestClient(create_app(load_config(None, environ), models=models)) as http:
        factory = http.app.state.runtime.factory
        with factory.begin() as s:
            http.tokens = {  # type: ignore[attr-defined]
                role: {"Authorization": f"Bearer {service.create_token(s, f'{role}-kim', role)}"}
                for role in ("viewer", "operator", "admin")
            }
        http.eval_path = eval_path  # type: ignore[attr-defined]
        yield http
    assert models.engine is engine  # the caller's models were never swapped


def _lost_bus(http, version: int) -> dict:
    items = http.get(f"/api/kb/versions/{version}", headers=http.tokens["viewer"]).json()["items"]
    return next(e for e in items if e["id"] == "transport.lost_bus")


def _draft(http) -> int:
    made = http.post("/api/kb/versions", json={"note": "시험"}, headers=http.tokens["operator"])
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "draft" and made.json()["based_on"] == 1
    return made.json()["id"]


def test_publish_runs_the_gate_and_the_running_server_answers_from_the_new_version(served) -> None:
    http, tok = served, served.tokens
    listed = http.get("/api/kb/versions", headers=tok["viewer"]).json()
    assert listed["active"] == 1
    assert [(v["id"], v["state"], v["entries"]) for v in listed["items"]] == [
        (1, "published", len(load_kb()))
    ]
    runtime = http.app.state.runtime
    before = runtime.models.engine
    session = before.new_session("call-in-progress")  # a call that started before the publish

    # An operator edits an answer (and adds a chat answer) in a draft: harmless, the gate passes.
    draft = _draft(http)
    entry = _lost_bus(http, draft)
    new_answer = "버스 분실물은 버스 회사 분실물 센터나 대중교통 통합 분실물 센터에서 찾으실 수 있습니다. 새 안내입니다."
    changed = {k: v for k, v in entry.items() if k != "active"} | {
        "answer": new_answer,
        "chat_answer": "분실물 센터 안내 (채팅)",
    }
    put = http.put(
        f"/api/kb/versions/{draft}/entries/transport.lost_bus", json=changed, headers=tok["operator"]
    )
    assert put.status_code == 200, put.text
    assert put.json()["updated"] == "2026-12-05" or put.json()["updated"] == entry["updated"]
    assert (
        http.put(
            f"/api/kb/versions/{draft}/entries/transport.lost_bus", json=changed, headers=tok["viewer"]
        ).status_code
        == 403
    )
    bad = changed | {"questions": ["하나뿐"]}
    assert (
        http.put(
            "/api/kb/versions/1/entries/transport.lost_bus", json=changed, headers=tok["operator"]
        ).status_code
        == 409
    )
    assert (
        http.put(
            f"/api/kb/versions/{draft}/entries/transport.lost_bus", json=bad, headers=tok["operator"]
        ).status_code
        == 422
    )

    diff = http.get(f"/api/kb/diff?base=1&other={draft}", headers=tok["viewer"]).json()
    assert diff["added"] == [] and diff["removed"] == []
    (change,) = diff["changed"]
    assert change["id"] == "transport.lost_bus" and set(change["fields"]) >= {"answer", "chat_answer"}
    assert change["fields"]["answer"]["after"] == new_answer

    check = http.post(f"/api/kb/versions/{draft}/check", headers=tok["operator"]).json()
    assert check["passed"] and check["newly_failing"] == [] and check["items"] == len(SHORT_EVAL["items"])
    first = http.get("/api/kb/versions", headers=tok["viewer"]).json()["items"][-1]
    assert first["id"] == 1 and first["evaluation"]["intent_accuracy"] == 1.0  # the version in service
    # The eval set may change between the check and the publish: the one in service is evaluated again.
    grown = {
        "items": [
            *SHORT_EVAL["items"],
            {"text": "근처에 선별 진료소 있어요?", "expect": "covid.screening_clinic"},
        ]
    }
    http.eval_path.write_text(yaml.safe_dump(grown, allow_unicode=True), encoding="utf-8")
    assert (
        http.post(f"/api/kb/versions/{draft}/publish", json={}, headers=tok["admin"]).status_code == 409
    )  # not submitted
    assert http.post(f"/api/kb/versions/{draft}/submit", headers=tok["operator"]).json()["state"] == "review"
    assert http.post(f"/api/kb/versions/{draft}/publish", json={}, headers=tok["operator"]).status_code == 403
    published = http.post(f"/api/kb/versions/{draft}/publish", json={}, headers=tok["admin"])
    assert published.status_code == 200, published.text
    assert published.json()["version"]["state"] == "published" and published.json()["gate"]["passed"]

    # No restart: the ask route and a new chat answer from the new version; the call in progress keeps its own.
    asked = http.get(
        "/api/kb/ask", params={"text": "버스에 지갑을 두고 내렸어요"}, headers=tok["viewer"]
    ).json()
    assert asked["reply"] == new_answer and asked["version"] == draft
    chat = http.post("/api/chat/start").json()["conversation"]["id"]
    said = http.post(f"/api/chat/{chat}/messages", json={"text": "버스에 지갑을 두고 내렸어요"}).json()
    assert any(
        m["text"].startswith("분실물 센터 안내 (채팅)") for m in said["messages"] if m["role"] == "bot"
    ), said
    assert runtime.models.engine is not before and before.kb.get("transport.lost_bus").answer != new_answer
    assert session.engine is before
    states = {
        v["id"]: v["state"] for v in http.get("/api/kb/versions", headers=tok["viewer"]).json()["items"]
    }
    assert states == {1: "archived", draft: "published"}


def test_a_draft_that_breaks_an_eval_question_is_blocked_then_forced_then_rolled_back(served) -> None:
    http, tok = served, served.tokens
    draft = _draft(http)
    deleted = http.delete(f"/api/kb/versions/{draft}/entries/transport.lost_subway", headers=tok["operator"])
    assert deleted.status_code == 204
    http.post(f"/api/kb/versions/{draft}/submit", headers=tok["operator"])
    blocked = http.post(f"/api/kb/versions/{draft}/publish", json={}, headers=tok["admin"])
    assert blocked.status_code == 409
    body = blocked.json()
    assert "게시 전 검사를 통과하지 못했습니다" in body["detail"]
    failing = {f["text"] for f in body["gate"]["newly_failing"]}
    assert failing == {
        "지하철에서 노트북 가방을 잃어버렸어요",
        "4호선 타고 오다가 선반에 쇼핑백 두고 내렸어요",
    }
    assert body["gate"]["accuracy_dropped"] and not body["gate"]["passed"]
    ask = {"text": "지하철에서 노트북 가방을 잃어버렸어요"}
    assert (
        http.get("/api/kb/ask", params=ask, headers=tok["viewer"]).json()["intent"] == "transport.lost_subway"
    )

    forced = http.post(f"/api/kb/versions/{draft}/publish", json={"force": True}, headers=tok["admin"])
    assert forced.status_code == 200 and forced.json()["version"]["evaluation"]["forced"] is True
    assert (
        http.get("/api/kb/ask", params=ask, headers=tok["viewer"]).json()["intent"] != "transport.lost_subway"
    )

    assert http.post("/api/kb/versions/1/rollback", json={}, headers=tok["operator"]).status_code == 403
    assert http.post(f"/api/kb/versions/{draft}/rollback", json={}, headers=tok["admin"]).status_code == 409
    rolled = http.post("/api/kb/versions/1/rollback", json={}, headers=tok["admin"])
    assert rolled.status_code == 200 and rolled.json()["gate"]["passed"]
    assert (
        http.get("/api/kb/ask", params=ask, headers=tok["viewer"]).json()["intent"] == "transport.lost_subway"
    )
    states = {
        v["id"]: v["state"] for v in http.get("/api/kb/versions", headers=tok["viewer"]).json()["items"]
    }
    assert states == {1: "published", draft: "archived"}

    logged = http.get("/api/audit?target_kind=kb_version", headers=tok["admin"]).json()["items"]
    assert [e["action"] for e in reversed(logged)] == [
        "kb.draft.created",
        "kb.entry.deleted",
        "kb.submitted",
        "kb.publish.blocked",
        "kb.published",
        "kb.rolled_back",
    ]
    assert {e["actor"] for e in logged} == {"operator-kim", "admin-kim"}


def test_a_restarted_server_serves_the_published_version(tmp_path: Path, engine) -> None:
    environ = {
        "VOICEBOT_DB_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "VOICEBOT_WEBRTC_ENABLED": "false",
        "VOICEBOT_SIP_HANDOFF_DIR": str(tmp_path / "handoffs"),
    }
    url = environ["VOICEBOT_DB_URL"]
    outbound.upgrade(url)
    db = outbound.make_engine(url)
    factory = outbound.session_factory(db)
    from outbound import knowledge

    with factory.begin() as s:
        knowledge.ensure_initial(s, NOW)
        draft = knowledge.create_draft(s, "operator-kim", NOW)
        entry = {
            **next(
                e
                for e in knowledge.entries_of(knowledge.load_version(draft), NOW.date())
                if e["id"] == "transport.lost_bus"
            )
        }
        entry.pop("active")
        knowledge.save_entry(
            s, draft.id, "transport.lost_bus", entry | {"answer": "재시작 후에도 이 답입니다."}, NOW
        )
        knowledge.submit(s, draft.id, "operator-kim", NOW)
        knowledge.mark_published(s, draft.id, "admin-kim", NOW, None, rollback=False)
    db.dispose()
    models = SimpleNamespace(engine=engine, transcriber=None, synthesizer=None)
    with TestClient(create_app(load_config(None, environ), models=models, kb_eval=None)) as http:
        with http.app.state.runtime.factory.begin() as s:
            viewer = {"Authorization": f"Bearer {service.create_token(s, 'v', 'viewer')}"}
        asked = http.get("/api/kb/ask", params={"text": "버스에 지갑을 두고 내렸어요"}, headers=viewer).json()
        assert asked["reply"] == "재시작 후에도 이 답입니다." and asked["version"] == 2


def test_an_unreadable_evaluation_set_stops_serve_at_start(tmp_path: Path) -> None:
    """knowledge.eval_path names the set every publish is checked on: a file that is missing or is not an
    evaluation set is a clear error at start, not a gate that fails later."""
    from voicebot.server.config import ConfigError

    (tmp_path / "bad.yaml").write_text("items: [{text: 버스}]\n", encoding="utf-8")
    for path in (tmp_path / "missing.yaml", tmp_path / "bad.yaml"):
        environ = {
            "VOICEBOT_DB_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "VOICEBOT_WEBRTC_ENABLED": "false",
            "VOICEBOT_KNOWLEDGE_EVAL_PATH": str(path),
        }
        with pytest.raises(ConfigError, match="knowledge.eval_path"):
            create_app(load_config(None, environ))
    assert DEFAULT_EVAL.is_file() and DEFAULT_EVAL.is_relative_to(Path(dialog.__file__).parent)


# --- migration 0013 -------------------------------------------------------------------------------------


def _migrates(url: str) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    config = outbound.store.alembic_config(url)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
    outbound.upgrade(url)
    db = outbound.make_engine(url)
    factory = outbound.session_factory(db)
    with factory.begin() as s:
        from outbound import knowledge

        assert knowledge.ensure_initial(s, NOW).id == 1
        assert knowledge.ensure_initial(s, NOW) is None
    with pytest.raises(sa.exc.IntegrityError):  # one published version at a time
        with factory.begin() as s:
            s.add(
                KBVersion(
                    state="published", document="x", entries=0, author="a", created_at=NOW, updated_at=NOW
                )
            )
    with pytest.raises(sa.exc.IntegrityError):
        with factory.begin() as s:
            s.add(
                KBVersion(state="gone", document="x", entries=0, author="a", created_at=NOW, updated_at=NOW)
            )
    db.dispose()
    command.downgrade(config, "-1")
    db = outbound.make_engine(url)
    assert "kb_versions" not in sa.inspect(db).get_table_names()
    db.dispose()
    outbound.upgrade(url)
    db = outbound.make_engine(url)
    assert "kb_versions" in sa.inspect(db).get_table_names()
    db.dispose()


def test_migration_0013_on_sqlite(tmp_path: Path) -> None:
    _migrates(f"sqlite:///{tmp_path / 'kb.db'}")


def test_migration_0013_on_postgres(pg_url: str) -> None:
    _migrates(pg_url)


# --- import from the centre's consultation DB -----------------------------------------------------------

CSV_ROWS = [
    ["관리번호", "분야", "제목", "질문", "음성답변", "채팅답변", "출처", "상담사연결", "시작일", "종료일"],
    ["A-0012", "일반 행정", "한파 쉼터", "한파 쉼터 어디 있어요; 추울 때 쉴 곳 알려 주세요", "한파 쉼터는 가까운 주민센터입니다.",
     "한파 쉼터 목록은 구청 누리집에 있습니다.", "서울시 안전총괄과", "N", "2026-12-01", "2027-02-28"],
    ["A-0013", "날씨", "눈 예보", "눈 와요; 내일 눈 오나요", "기상청 131로 문의해 주세요.", "", "기상청", "", "", ""],
    ["A-0014", "교통", "", "버스 노선 바뀌었어요", "", "", "", "가끔", "12월 1일", ""],
    ["transport.lost_bus", "교통", "버스 분실물", "버스에 지갑 두고 내렸어요; 버스에서 휴대폰 잃어버렸어요",
     "버스 분실물은 새로 바뀐 통합 분실물 센터에서 찾으실 수 있습니다.", "", "서울시 버스정책과", "", "", ""],
    ["A-0015", "상수도", "단수 안내", "단수 언제 끝나요\n물이 안 나와요", "단수 예정은 120으로 문의해 주세요.", "", "상수도사업본부", "Y",
     "2027-01-10", "2027-01-01"],
]  # fmt: skip


def _csv(rows, encoding="utf-8") -> bytes:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def _xlsx(rows) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(
            [
                dt.date.fromisoformat(c) if isinstance(c, str) and c[:2] == "20" and len(c) == 10 else c
                for c in row
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXPECTED_ERRORS = {
    (3, "분야"),  # 날씨: no such category
    (4, "제목"),
    (4, "질문"),  # one question only
    (4, "음성답변"),
    (4, "출처"),
    (4, "상담사연결"),
    (4, "시작일"),
    (6, "종료일"),  # before its start
}


@pytest.mark.parametrize("kind", ["csv-utf8", "csv-cp949", "xlsx"])
def test_import_reports_bad_rows_and_makes_a_draft_of_the_good_ones(served, kind: str) -> None:
    http, tok = served, served.tokens
    data = {
        "csv-utf8": lambda: _csv(CSV_ROWS),
        "csv-cp949": lambda: _csv(CSV_ROWS, "cp949"),
        "xlsx": lambda: _xlsx(CSV_ROWS),
    }[kind]()
    assert http.post("/api/kb/import", content=data, headers=tok["viewer"]).status_code == 403
    got = http.post("/api/kb/import", files={"file": ("상담DB.bin", data)}, headers=tok["operator"])
    assert got.status_code == 201, got.text
    body = got.json()
    assert body["rows"] == 5 and body["imported"] == 2 and body["rejected_rows"] == 3
    assert body["added"] == 1 and body["replaced"] == 1
    assert {(e["row"], e["column"]) for e in body["errors"]} == EXPECTED_ERRORS
    assert all(any("가" <= ch <= "힣" for ch in e["message"]) for e in body["errors"])
    draft = body["version"]["id"]
    assert body["version"]["state"] == "draft" and body["version"]["entries"] == len(load_kb()) + 1
    items = {e["id"]: e for e in http.get(f"/api/kb/versions/{draft}", headers=tok["viewer"]).json()["items"]}
    shelter = items["general.kb_a_0012"]
    assert shelter["valid_from"] == "2026-12-01" and shelter["valid_until"] == "2027-02-28"
    assert shelter["chat_answer"] == "한파 쉼터 목록은 구청 누리집에 있습니다."
    assert shelter["questions"] == ["한파 쉼터 어디 있어요", "추울 때 쉴 곳 알려 주세요"]
    assert items["transport.lost_bus"]["answer"].startswith("버스 분실물은 새로 바뀐")
    assert not [
        i for i in items if i.endswith(("kb_a_0013", "kb_a_0014", "kb_a_0015"))
    ]  # nothing of bad rows
    logged = http.get("/api/audit?action=kb.imported", headers=tok["admin"]).json()["items"]
    assert [e["detail"] for e in logged] == ["rows=5 imported=2 rejected_rows=3 replaced=1 added=1"]


def test_import_refuses_unreadable_files_and_files_without_a_good_row(served) -> None:
    http, tok = served, served.tokens
    op = tok["operator"]
    missing = http.post("/api/kb/import", content=_csv([["제목", "답변"], ["a", "b"]]), headers=op)
    assert missing.status_code == 422 and "필수 열이 없습니다" in missing.json()["detail"]
    assert "분야" in missing.json()["detail"] and "출처" in missing.json()["detail"]
    none_good = http.post("/api/kb/import", content=_csv([CSV_ROWS[0], CSV_ROWS[2]]), headers=op)
    assert none_good.status_code == 422 and none_good.json()["errors"][0]["row"] == 2
    broken = http.post("/api/kb/import", content=b"PK\x03\x04 not really a workbook", headers=op)
    assert broken.status_code == 422 and "XLSX" in broken.json()["detail"]
    assert http.post("/api/kb/import", content=b"", headers=op).status_code == 422
    replaced = http.post("/api/kb/import?mode=replace", content=_csv(CSV_ROWS), headers=op).json()
    assert replaced["version"]["entries"] == 2 and replaced["removed"] == len(load_kb()) - 1
    assert [v["state"] for v in http.get("/api/kb/versions", headers=op).json()["items"]] == [
        "draft",
        "published",
    ]


def test_the_editor_keeps_and_changes_an_entrys_programme_names(served) -> None:
    http, tok = served, served.tokens
    draft = _draft(http)
    items = http.get(f"/api/kb/versions/{draft}", headers=tok["viewer"]).json()["items"]
    pension = {
        k: v for k, v in next(e for e in items if e["id"] == "general.basic_pension").items() if k != "active"
    }
    assert pension["programme"] == ["기초연금", "노령연금"]
    body = pension | {"programme": ["기초연금", "노령연금", "어르신 연금"]}
    saved = http.put(
        f"/api/kb/versions/{draft}/entries/general.basic_pension", json=body, headers=tok["operator"]
    )
    assert saved.status_code == 200 and saved.json()["programme"][-1] == "어르신 연금"
    diff = http.get(f"/api/kb/diff?base=1&other={draft}", headers=tok["viewer"]).json()
    assert [(c["id"], sorted(c["fields"])) for c in diff["changed"]] == [
        ("general.basic_pension", ["programme"])
    ]
