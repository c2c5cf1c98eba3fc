"""The analytics API (issue 19) on ``voicebot serve``'s app over a real SQLite file: trends over real
records only, or with ``--demo-data`` over the labelled synthetic history only (never both); 민원예보 per
category with intervals; an injected surge (a water-main break) raises a spike in the API and in /metrics.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from outbound import demo_data, inquiries, service
from outbound.analytics import holidays_around
from voicebot.server.app import create_app
from voicebot.server.config import load_config

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # Friday 12:00 in Seoul
TODAY = date(2026, 12, 4)


def make(tmp_path: Path, demo: bool):
    env = {"VOICEBOT_DB_URL": f"sqlite:///{tmp_path / 'a.db'}", "VOICEBOT_WEBRTC_ENABLED": "false"}
    app = create_app(load_config(None, env), clock=lambda: NOW, demo_data=demo)
    with app.state.runtime.factory.begin() as db:
        token = service.create_token(db, "열람자", "viewer")
    return app, {"Authorization": f"Bearer {token}"}


def seed(app) -> int:
    start = TODAY - timedelta(days=120)
    with app.state.runtime.factory.begin() as db:
        for hour, channel, steps in (
            (1, "phone", [inquiries.Step("answer", "water", "water.leak_report")]),
            (2, "kakao", [inquiries.Step("clarify", "transport", "transport.lost_subway")]),
            (2, "web_chat", [inquiries.Step("escalate", "general", None)]),
        ):
            inquiries.record(
                db,
                started_at=NOW - timedelta(hours=hour),
                channel=channel,
                summary=inquiries.summarize(steps, "agent_request" if channel == "web_chat" else None),
                turns=2,
                duration_s=60,
            )
        holidays = frozenset(holidays_around(start, TODAY))
        return demo_data.populate(db, start, 121, holidays, seed=4)


def test_real_trends_never_include_synthetic_rows(tmp_path: Path) -> None:
    app, viewer = make(tmp_path, demo=False)
    seed(app)
    with TestClient(app) as http:
        assert http.get("/api/trends").status_code == 401
        got = http.get("/api/trends?days=7", headers=viewer).json()
    assert got["synthetic"] is False and got["label"] is None
    assert got["total"] == 3
    assert {c["channel"]: c["count"] for c in got["by_channel"]} == {"phone": 1, "kakao": 1, "web_chat": 1}
    # Per channel (issue 18): the web chat asked for an agent, the other two were settled by the bot.
    chat = next(c for c in got["by_channel"] if c["channel"] == "web_chat")
    assert (chat["escalated"], chat["containment"], chat["escalation"]) == (1, 0.0, 1.0)
    assert all(c["containment"] == 1.0 for c in got["by_channel"] if c["channel"] != "web_chat")
    assert {c["outcome"]: c["count"] for c in got["by_outcome"]} == {
        "answered": 1,
        "clarified": 1,
        "escalated": 1,
        "abandoned": 0,
    }
    assert got["containment"] == round(2 / 3, 4) and got["escalation"] == round(1 / 3, 4)
    assert got["escalation_reasons"] == [{"reason": "agent_request", "count": 1}]
    assert sum(h["count"] for h in got["by_hour"]) == 3 and got["by_hour"][10]["count"] == 2  # 10-11h KST
    assert [d["weekday"] for d in got["by_weekday"] if d["count"]] == ["금"]
    assert got["daily"][-1] == {
        "date": "2026-12-04",
        "total": 3,
        "answered": 1,
        "clarified": 1,
        "escalated": 1,
        "abandoned": 0,
        "containment": round(2 / 3, 4),
        "escalation": round(1 / 3, 4),
    }


def test_demo_mode_shows_only_the_labelled_synthetic_history_with_forecast_and_spike(tmp_path: Path) -> None:
    app, viewer = make(tmp_path, demo=True)  # writes a synthetic year: the database had none
    with TestClient(app) as http:
        year = http.get("/api/trends?days=366", headers=viewer).json()
        assert year["synthetic"] is True and "합성" in year["label"]
        assert year["total"] > 80_000 and year["containment"] > 0.5
        assert {c["category"] for c in year["by_category"]} == set(demo_data.CATEGORIES)
        weekdays = [d["count"] for d in year["by_weekday"]]
        assert weekdays[0] > 2 * weekdays[6]  # Monday against Sunday
    # Over a fresh database: a shorter history with a water-main break today.
    surge_app, surge_viewer = make_surge(tmp_path)
    with TestClient(surge_app) as http:
        outlook = http.get("/api/trends/forecast", headers=surge_viewer).json()
        metrics = http.get("/metrics", headers=surge_viewer).text
    water = next(c for c in outlook["categories"] if c["category"] == "water")
    assert len(water["forecast"]) == 14 and water["forecast"][0]["date"] == "2026-12-04"
    assert all(f["lower"] <= f["mean"] <= f["upper"] for f in water["forecast"])
    assert [s["category"] for s in outlook["spikes"]] == ["water"]
    assert 'voicebot_inquiry_spike{category="water"} 1.0' in metrics
    assert 'voicebot_inquiry_spike{category="transport"} 0.0' in metrics


def make_surge(tmp_path: Path):
    folder = tmp_path / "surge"
    folder.mkdir()
    env = {"VOICEBOT_DB_URL": f"sqlite:///{folder / 'a.db'}", "VOICEBOT_WEBRTC_ENABLED": "false"}
    # The history is written before the app starts, so --demo-data finds one and writes none.
    from outbound import store

    store.upgrade(env["VOICEBOT_DB_URL"])
    factory = store.session_factory(store.make_engine(env["VOICEBOT_DB_URL"]))
    start = TODAY - timedelta(days=120)
    with factory.begin() as db:
        demo_data.populate(
            db, start, 121, frozenset(holidays_around(start, TODAY)), seed=4, surge=("water", TODAY, 200)
        )
    app = create_app(load_config(None, env), clock=lambda: NOW, demo_data=True)
    with app.state.runtime.factory.begin() as db:
        token = service.create_token(db, "열람자", "viewer")
    return app, {"Authorization": f"Bearer {token}"}


def test_kb_gaps_group_the_questions_chats_could_not_answer(tmp_path: Path, engine) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_chat import make_app
    from test_gaps import LABELLED

    app = make_app(tmp_path, engine)
    with app.state.runtime.factory.begin() as db:
        operator = {"Authorization": f"Bearer {service.create_token(db, '상담사', 'operator')}"}
        viewer = {"Authorization": f"Bearer {service.create_token(db, '열람자', 'viewer')}"}
    asked = LABELLED["youth_rent"] + ["청년 월세 지원 신청 기간 010-1234-5678로 알려주세요"]
    with TestClient(app) as http:
        for text in asked:
            conversation = http.post("/api/chat/start").json()["conversation"]["id"]
            http.post(f"/api/chat/{conversation}/messages", json={"text": text})
        assert http.get("/api/trends/gaps", headers=viewer).status_code == 403  # citizens' words: operators
        got = http.get("/api/trends/gaps", headers=operator).json()
    # Only questions the bot asked back about or handed over count (some paraphrases get a wrong answer).
    assert got["questions"] >= 2, got
    top = got["groups"][0]
    assert top["count"] == got["questions"] and top["draft"]["questions"] == top["examples"]
    assert top["draft"]["category"] and top["draft"]["title"]
    shown = " ".join(e for g in got["groups"] for e in g["examples"])
    assert "1234" not in shown and "5678" not in shown
