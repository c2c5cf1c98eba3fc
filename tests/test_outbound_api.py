"""The outbound REST API on a real SQLite file: tokens and roles, campaign life cycle, CSV import with bad
rows, results masked by role, alerts acknowledged with a note, CSV export, and clear errors for bad input.
Calls go through the SIMULATED dialer (no SIP here; tests/test_outbound_sip.py places real ones)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

import outbound
from outbound import service
from outbound.api import make_app
from outbound.runner import SimulatedCallee, SimulatedDialer, run_until_done
from outbound.script import Conversation

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=SEOUL)  # a Monday, inside the default windows
DATA = Path(__file__).parent / "data" / "outbound"

CSV = (
    "이름,전화번호,메모\n"
    "김영희,010-2345-6789,\n"
    "박철수,02-123-4567,\n"
    "이상한,12345,\n"  # row 4: not a phone number
    "최민수,010 9876 5432,\n"
)


@pytest.fixture()
def api(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'api.db'}"
    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    factory = outbound.session_factory(engine)
    tokens = {}
    with factory.begin() as s:
        for role in ("viewer", "operator", "admin"):
            tokens[role] = service.create_token(s, f"{role}-user", role)
    client = TestClient(make_app(factory, clock=lambda: NOW))
    yield client, factory, tokens
    engine.dispose()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_campaign(client: TestClient, token: str, **overrides: object) -> dict:
    body = {
        "name": "11월 안심콜",
        "kind": "welfare_check",
        "start_date": "2026-11-23",
        "end_date": "2026-12-31",
        "windows": "10:00-12:00;14:00-17:00",
        "weekdays": "월,화,수,목,금",
        "recurrence": "월,목",
        **overrides,
    }
    reply = client.post("/api/campaigns", json=body, headers=auth(token))
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_tokens_and_roles(api) -> None:
    client, _, tokens = api
    assert client.get("/api/campaigns").status_code == 401
    assert client.get("/api/campaigns", headers=auth("vb_not-a-token")).status_code == 401
    assert client.get("/api/me", headers=auth(tokens["viewer"])).json() == {
        "name": "viewer-user",
        "role": "viewer",
    }
    denied = client.post("/api/campaigns", json={}, headers=auth(tokens["viewer"]))
    assert denied.status_code == 403 and "operator" in denied.json()["detail"]
    assert client.get("/api/tokens", headers=auth(tokens["operator"])).status_code == 403
    made = client.post(
        "/api/tokens", json={"name": "사회복지사", "role": "operator"}, headers=auth(tokens["admin"])
    )
    assert made.status_code == 201
    new_token = made.json()["token"]
    assert client.get("/api/me", headers=auth(new_token)).json()["role"] == "operator"
    listed = client.get("/api/tokens", headers=auth(tokens["admin"])).json()
    assert all("token" not in t for t in listed)  # only the hash is stored
    token_id = next(t["id"] for t in listed if t["name"] == "사회복지사")
    assert client.delete(f"/api/tokens/{token_id}", headers=auth(tokens["admin"])).status_code == 204
    assert client.get("/api/me", headers=auth(new_token)).status_code == 401
    bad_role = client.post("/api/tokens", json={"name": "x", "role": "root"}, headers=auth(tokens["admin"]))
    assert bad_role.status_code == 422


def test_openapi_document_lists_the_operations(api) -> None:
    client, _, _ = api
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/campaigns",
        "/api/campaigns/{campaign_id}",
        "/api/campaigns/{campaign_id}/pause",
        "/api/campaigns/{campaign_id}/resume",
        "/api/campaigns/{campaign_id}/cancel",
        "/api/campaigns/{campaign_id}/contacts",
        "/api/campaigns/{campaign_id}/export.csv",
        "/api/attempts",
        "/api/alerts",
        "/api/alerts/{alert_id}/ack",
    ):
        assert path in paths
    assert "patch" in paths["/api/campaigns/{campaign_id}"]


def test_bad_input_gets_clear_errors_and_loses_nothing(api) -> None:
    client, _, tokens = api
    op = auth(tokens["operator"])
    campaign = new_campaign(client, tokens["operator"])
    for overrides, words in (
        ({"kind": "lottery"}, "kind"),
        ({"windows": "22:00-02:00"}, "통화 시간대"),
        ({"end_date": "2026-11-01"}, "종료일"),
        ({"weekdays": "funday"}, "요일"),
        ({"channel_limit": 0}, "channel_limit"),
        ({"script": "../../etc/passwd"}, "스크립트"),
    ):
        body = {"name": "x", "kind": "welfare_check", "start_date": "2026-11-24", "end_date": "2026-12-01"}
        reply = client.post("/api/campaigns", json={**body, **overrides}, headers=op)
        assert reply.status_code == 422, (overrides, reply.text)
        assert words in reply.json()["detail"]
    assert client.get("/api/campaigns/999", headers=op).status_code == 404
    assert "999" in client.post("/api/campaigns/999/pause", headers=op).json()["detail"]
    assert client.post("/api/campaigns/999/contacts", content=CSV.encode(), headers=op).status_code == 404
    garbage = client.post(f"/api/campaigns/{campaign['id']}/contacts", content=b"\x00\x01nothing", headers=op)
    assert garbage.status_code == 422 and "CSV" in garbage.json()["detail"]
    bad_script = (DATA / "bad_script.yaml").read_text(encoding="utf-8")
    assert bad_script  # a broken script file is refused by the script loader (tests/test_outbound_runner.py)
    # the good campaign is untouched by all of the above
    assert client.get(f"/api/campaigns/{campaign['id']}", headers=op).json()["status"] == "draft"
    assert client.get("/api/campaigns", headers=op).json()[0]["id"] == campaign["id"]


def test_campaign_life_cycle_results_alerts_and_export(api) -> None:
    client, factory, tokens = api
    op, viewer = auth(tokens["operator"]), auth(tokens["viewer"])
    campaign = new_campaign(client, tokens["operator"], channel_limit=2, pace_per_min=10)
    cid = campaign["id"]
    assert campaign["status"] == "draft" and campaign["recurrence"] == "0,3"
    imported = client.post(
        f"/api/campaigns/{cid}/contacts",
        content=CSV.encode("cp949"),
        headers={**op, "content-type": "text/csv"},
    ).json()
    assert imported["added"] == 3 and imported["encoding"] == "cp949"
    assert [(r["row"], r["code"]) for r in imported["rejected"]] == [(4, "invalid_phone")]
    changed = client.patch(f"/api/campaigns/{cid}", json={"max_attempts": 2}, headers=op)
    assert changed.status_code == 200 and changed.json()["max_attempts"] == 2
    started = client.post(f"/api/campaigns/{cid}/start", headers=op).json()
    assert started["status"] == "running" and started["booked"] == 3
    assert client.patch(f"/api/campaigns/{cid}", json={"name": "x"}, headers=op).status_code == 409

    dialer = SimulatedDialer(
        {
            "+821023456789": SimulatedCallee(
                replies=["잘 먹었어요", "허리가 너무 아파요", "잘 잤어요", "괜찮아요", "없어요"]
            ),
            "+8221234567": SimulatedCallee(outcomes=["busy"]),
            "+821098765432": SimulatedCallee(replies=["1", "1", "1", "1", "1", "1"]),
        }
    )
    # Only this round (Monday and its retries): stop before Thursday's round starts.
    round_end = datetime(2026, 11, 25, 23, 0, tzinfo=SEOUL)  # Wednesday night
    run_until_done(factory, dialer, "w1", NOW, until=round_end)
    assert len(dialer.dialled) == len(set(dialer.dialled))

    seen = client.get(f"/api/attempts?campaign_id={cid}&outcome=answered", headers=viewer).json()
    assert seen["total"] == 2
    assert all("*" in a["contact"]["phone"] and a["transcript"] is None for a in seen["items"])
    clear = client.get(f"/api/attempts?campaign_id={cid}&outcome=answered", headers=op).json()
    names = {a["contact"]["name"] for a in clear["items"]}
    assert names == {"김영희", "최민수"}
    assert all(a["transcript"] is None and a["keypad"] is None for a in clear["items"])  # admins only
    full = client.get(
        f"/api/attempts?campaign_id={cid}&outcome=answered", headers=auth(tokens["admin"])
    ).json()
    assert any(a["transcript"] for a in full["items"])
    busy = client.get(f"/api/attempts?campaign_id={cid}&outcome=busy", headers=op).json()
    assert busy["total"] == 2  # max_attempts=2
    since = client.get(f"/api/attempts?campaign_id={cid}&since=2026-11-24T00:00", headers=op)
    assert since.status_code == 422  # a time without its zone is refused

    alerts = client.get("/api/alerts?open=true", headers=op).json()
    assert sorted(a["kind"] for a in alerts) == ["unreachable", "welfare_concern"]
    concern = next(a for a in alerts if a["kind"] == "welfare_concern")
    assert concern["contact"]["name"] == "김영희"
    assert client.get("/api/alerts", headers=viewer).json()[0]["contact"]["name"] != "김영희"
    assert (
        client.post(
            f"/api/alerts/{concern['id']}/ack", json={"note": "방문 예정"}, headers=viewer
        ).status_code
        == 403
    )
    acked = client.post(f"/api/alerts/{concern['id']}/ack", json={"note": "방문 예정"}, headers=op).json()
    assert acked["acknowledged_by"] == "operator-user" and acked["note"] == "방문 예정"
    assert len(client.get("/api/alerts?open=true", headers=op).json()) == 1

    history = client.get(f"/api/contacts/{concern['contact']['id']}/history", headers=op).json()
    assert history["checkins"][-1]["overall"] == "concern"
    assert history["series"]["health"] == ["concern"]

    summary = client.get(f"/api/campaigns/{cid}/summary", headers=viewer).json()
    assert summary["reached"] == 2 and summary["contacts"] == 3

    exported = client.get(f"/api/campaigns/{cid}/export.csv", headers=op)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert len(rows) >= 4 and all("*" in r["phone"] for r in rows)
    assert client.get(f"/api/campaigns/{cid}/export.csv?transcripts=true", headers=op).status_code == 403
    full = client.get(f"/api/campaigns/{cid}/export.csv?transcripts=true", headers=auth(tokens["admin"]))
    assert "허리가 너무 아파요" in full.text

    # The next round (Thursday) is booked for everyone reached or not.
    progress = client.get(f"/api/campaigns/{cid}", headers=op).json()["progress"]
    assert progress["attempts"]["scheduled"] == 3
    assert client.post(f"/api/campaigns/{cid}/resume", headers=op).status_code == 409
    assert client.post(f"/api/campaigns/{cid}/pause", headers=op).json()["status"] == "paused"
    assert client.post(f"/api/campaigns/{cid}/resume", headers=op).json()["status"] == "running"
    cancelled = client.post(f"/api/campaigns/{cid}/cancel", headers=op).json()
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_attempts"] == 3
    assert client.post(f"/api/campaigns/{cid}/cancel", headers=op).status_code == 409


def test_do_not_call_cancels_booked_calls(api) -> None:
    client, _, tokens = api
    op = auth(tokens["operator"])
    cid = new_campaign(client, tokens["operator"])["id"]
    client.post(f"/api/campaigns/{cid}/contacts", content=CSV.encode(), headers=op)
    client.post(f"/api/campaigns/{cid}/start", headers=op)
    reply = client.post(
        "/api/do-not-call", json={"numbers": ["010-2345-6789"], "reason": "본인 요청"}, headers=op
    )
    assert reply.json() == {"added": 1, "cancelled_attempts": 1}
    again = client.post(f"/api/campaigns/{cid}/contacts", content=CSV.encode(), headers=op).json()
    assert again["skipped_do_not_call"] == 1 and again["added"] == 0


# --- per-campaign values: a person in two campaigns ---------------------------------------------------

WELFARE_CSV = "이름,전화번호,메모\n김영희,010-2345-6789,당뇨 관리\n박철수,02-123-4567,\n"
COVID_CSV = (
    "이름,전화번호,메모\n"
    "김영희,010-2345-6789,date=11월 25일; place=중구 보건소; result=음성\n"
    "박철수,02-123-4567,date=11월 26일; place=종로구 보건소; result=음성\n"
)


class RenderingDialer(SimulatedDialer):
    """The SIMULATED dialer, keeping what each call's second step says with the values it was given."""

    def __init__(self) -> None:
        super().__init__(default=SimulatedCallee(replies=["1"] * 8))
        self.said: dict[tuple[str, str], str] = {}

    def dial(self, request):  # type: ignore[no-untyped-def]
        conv = Conversation(request.script, request.slots)
        conv.start()
        self.said[(request.script.kind, request.phone_e164)] = conv.respond(digit="1")
        return super().dial(request)


def upload(client: TestClient, op: dict[str, str], cid: int, text: str) -> dict:
    reply = client.post(f"/api/campaigns/{cid}/contacts", content=text.encode(), headers=op)
    assert reply.status_code == 200, reply.text
    return reply.json()


def member_values(client: TestClient, op: dict[str, str], cid: int) -> dict[str, tuple[str, dict]]:
    reply = client.get(f"/api/campaigns/{cid}/members", headers=op).json()
    return {m["contact"]["name"]: (m["notes"], m["slots"]) for m in reply["items"]}


def test_second_campaign_keeps_the_values_of_its_own_csv(api) -> None:
    client, factory, tokens = api
    op = auth(tokens["operator"])
    welfare = new_campaign(client, tokens["operator"], recurrence=None)["id"]
    assert upload(client, op, welfare, WELFARE_CSV)["added"] == 2
    assert client.post(f"/api/campaigns/{welfare}/start", headers=op).status_code == 200
    covid = new_campaign(
        client, tokens["operator"], name="검사 결과 안내", kind="covid_notice", recurrence=None
    )
    imported = upload(client, op, covid["id"], COVID_CSV)
    assert (imported["added"], imported["updated"]) == (2, 0)
    # Same people, same numbers: the COVID file's date and place are this campaign's, so it starts.
    started = client.post(f"/api/campaigns/{covid['id']}/start", headers=op)
    assert started.status_code == 200, started.text
    assert started.json()["booked"] == 2
    # A corrected file for the same campaign updates that campaign's values and says so.
    again = upload(
        client, op, covid["id"], "이름,전화번호,메모\n김영희,010-2345-6789,place=중구 보건소 2층\n"
    )
    assert (again["added"], again["already_members"], again["updated"]) == (0, 1, 1)
    assert again["updated_rows"] == [{"row": 2, "phone": "010-****-6789", "changed": ["place", "notes"]}]
    welfare_before = {"김영희": ("당뇨 관리", {}), "박철수": ("", {})}
    assert member_values(client, op, welfare) == welfare_before
    assert member_values(client, op, covid["id"])["김영희"] == (
        "place=중구 보건소 2층",
        {"date": "11월 25일", "place": "중구 보건소 2층", "result": "음성"},
    )

    dialer = RenderingDialer()
    run_until_done(factory, dialer, "w1", NOW, until=datetime(2026, 11, 24, 23, 0, tzinfo=SEOUL))
    assert "11월 25일에 중구 보건소 2층에서" in dialer.said[("covid_notice", "+821023456789")]
    assert "11월 26일에 종로구 보건소에서" in dialer.said[("covid_notice", "+8221234567")]
    assert ("welfare_check", "+821023456789") in dialer.said
    answered = client.get(f"/api/attempts?campaign_id={covid['id']}&outcome=answered", headers=op).json()
    assert answered["total"] == 2 and all(a["error"] is None for a in answered["items"])
    assert member_values(client, op, welfare) == welfare_before


def test_member_values_are_edited_by_operators_with_checked_input(api) -> None:
    client, _, tokens = api
    op, viewer = auth(tokens["operator"]), auth(tokens["viewer"])
    cid = new_campaign(client, tokens["operator"], kind="covid_notice", recurrence=None)["id"]
    upload(client, op, cid, COVID_CSV.replace("; place=종로구 보건소", ""))
    refused = client.post(f"/api/campaigns/{cid}/start", headers=op)
    assert refused.status_code == 422 and "place (1명)" in refused.json()["detail"]
    lacking = client.get(f"/api/campaigns/{cid}/members?missing=true", headers=op).json()
    assert lacking["total"] == 1 and lacking["items"][0]["missing"] == ["place"]
    assert lacking["script_slots"] == {"required": ["date", "place"], "optional": ["result", "appointment"]}
    contact_id = lacking["items"][0]["contact_id"]
    masked = client.get(f"/api/campaigns/{cid}/members", headers=viewer).json()["items"]
    assert all(m["slots"] is None and m["notes"] is None and "*" in m["contact"]["phone"] for m in masked)

    url = f"/api/campaigns/{cid}/members/{contact_id}"
    denied = client.patch(url, json={"slots": {"place": "종로구 보건소"}}, headers=viewer)
    assert denied.status_code == 403 and "operator" in denied.json()["detail"]
    for body, message in (
        ({"slots": {"plaec": "종로구 보건소"}}, "스크립트의 값이 아닙니다; 쓸 수 있는 값: date, place"),
        ({"slots": {"name": "김철수"}}, "이름은 대상자 정보라"),
        ({"slots": {"place": "가" * 301}}, "300자 이내"),
        ({"slots": {"place": "중구\n보건소"}}, "한 줄로"),
        ({"notes": "메" * 2001}, "2000자 이내"),
        ({}, "바꿀 값이 없습니다"),
    ):
        reply = client.patch(url, json=body, headers=op)
        assert reply.status_code == 422 and message in reply.json()["detail"], (body, reply.text)
    assert (
        client.patch(f"/api/campaigns/{cid}/members/999", json={"notes": ""}, headers=op).status_code == 404
    )

    edited = client.patch(url, json={"slots": {"place": " 종로구 보건소 "}}, headers=op)
    assert edited.status_code == 200, edited.text
    assert edited.json()["slots"] == {"date": "11월 26일", "place": "종로구 보건소", "result": "음성"}
    assert edited.json()["missing"] == []
    assert client.post(f"/api/campaigns/{cid}/start", headers=op).status_code == 200
    # Booked calls use the values: a running campaign cannot have a required one emptied.
    emptied = client.patch(url, json={"slots": {"place": ""}}, headers=op)
    assert emptied.status_code == 422 and "필수 값이 비어 있습니다: place" in emptied.json()["detail"]
    assert client.patch(url, json={"slots": {"result": ""}}, headers=op).json()["slots"] == {
        "date": "11월 26일",
        "place": "종로구 보건소",
    }
    client.post(f"/api/campaigns/{cid}/cancel", headers=op)
    assert client.patch(url, json={"notes": "x"}, headers=op).status_code == 409
