"""Retention per kind (issue 17): after its period each kind of personal data goes, and nothing else does.

A real database (SQLite file, and PostgreSQL) holds old and new outbound attempts from the SIMULATED dialer,
chat conversations in every state and the inbound call log; real files stand for call recordings and
handoff records. After a run only what expired is gone, the counts say so, open chats and their handoff
records stay, and a campaign's summary counts the same after its words were purged. Also: the serve
configuration's ``retention`` section, ``voicebot retention run [--dry-run]`` and the daily job of
``voicebot serve`` (run at start).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import select

import outbound
from outbound import RetryPolicy, Schedule, callbacks, import_contacts, parse_windows
from outbound.results import campaign_summary, export_attempts_csv
from outbound.retention import RetentionSettings, purge_outbound
from outbound.runner import SimulatedCallee, SimulatedDialer, run_due
from outbound.schema import Attempt, CallLog
from voicebot.call.handoff import HandoffRegistry
from voicebot.chat.schema import ChatConversation, ChatMessage
from voicebot.server.config import ConfigError, load_config
from voicebot.server.retention import RetentionPlaces, run_retention

REPO = Path(__file__).resolve().parents[1]
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 12, 14, 10, 0, tzinfo=SEOUL)  # a Monday
OLD_CALL = NOW - timedelta(days=63)  # Monday 2026-10-12, inside the calling window
NEW_CALL = NOW - timedelta(days=7)
KIM, PARK = "+821011110001", "+821011110002"
SAID = ["잘 먹었어요", "허리가 너무 아파요", "잘 자요", "괜찮아요", "없어요"]
# Different periods per kind, so that each kind is shown to use its own.
SETTINGS = RetentionSettings(inbound_days=30, outbound_days=60, chat_days=50)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'retention.db'}"
    return request.getfixturevalue("pg_url")


def _touch(path: Path, when: datetime, text: str = "RIFF") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def _age(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def _campaign(factory) -> int:  # type: ignore[no-untyped-def]
    """A welfare campaign: Kim is called 63 days before NOW, Park 7 days before (both answer)."""
    with factory.begin() as s:
        created = outbound.create_campaign(
            s,
            name="어르신 안부",
            kind="welfare_check",
            status="running",
            schedule=Schedule(
                start_date=date(2026, 10, 1),
                end_date=date(2026, 12, 30),
                windows=parse_windows("09:00-12:00;14:00-18:00"),
            ),
            policy=RetryPolicy(max_attempts=1, delays=(timedelta(minutes=30),)),
        )
        people = "이름,전화번호\n김순자,010-1111-0001\n박영수,010-1111-0002\n".encode()
        outbound.add_contacts(s, created, import_contacts(people).contacts)
        outbound.schedule_first_attempts(s, created, OLD_CALL)
        park = s.scalars(select(Attempt).order_by(Attempt.id)).all()[1]
        park.due_at = NEW_CALL
        campaign_id = created.id
    dialer = SimulatedDialer({KIM: SimulatedCallee(["human"], SAID), PARK: SimulatedCallee(["human"], SAID)})
    run_due(factory, dialer, "w1", OLD_CALL)
    run_due(factory, dialer, "w1", NEW_CALL)
    return campaign_id


def _chat(s, conv_id: str, state: str, at: datetime, *, ended_at=None, handoff_id=None, messages=2) -> None:  # type: ignore[no-untyped-def]
    s.add(
        ChatConversation(
            id=conv_id,
            channel="web",
            state=state,
            created_at=at,
            updated_at=at,
            ended_at=ended_at,
            handoff_id=handoff_id,
            quick_replies=[],
        )
    )
    s.flush()
    for seq in range(1, messages + 1):
        s.add(
            ChatMessage(conversation_id=conv_id, seq=seq, role="user", kind="text", text="주민등록등본 발급")
        )


def _world(url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    factory = outbound.session_factory(engine)
    campaign_id = _campaign(factory)
    records, handoffs = tmp_path / "recordings", tmp_path / "handoffs"
    old, recent = NOW - timedelta(days=90), NOW - timedelta(days=1)
    # Outbound recordings: both look old on disk; the attempt's age decides, not the file's.
    kim_wav = _touch(records / "20261012-kim.wav", old)
    park_wav = _touch(records / "20261207-park.wav", old)
    with factory.begin() as s:
        kim, park = s.scalars(select(Attempt).order_by(Attempt.id)).all()
        kim.recording_path, park.recording_path = str(kim_wav), str(park_wav)
        kim.keypad = "1"
        kim.amd = {"outcome": "human", "reason": "speech", "text": "여보세요 김순자입니다"}
        s.add(CallLog(call_id="old-call", transport="sip", started_at=old, intents=["certificate"]))
        # Call-backs (issue 18): an old closed one goes; an old one still booked and a recent one stay.
        for state, start in (("done", old), ("booked", old), ("missed", recent)):
            row = callbacks.book(s, "010-2345-6789", start, start + timedelta(hours=1), channel="sip")
            row.state = state
    # Inbound recordings: an old one, a new one, an old file that is no recording, an old symlink to a
    # file outside the folder (the link is no plain file: left alone, and so is its target).
    _touch(records / "20260901-inbound.wav", old)
    _touch(records / "20261213-inbound.wav", recent)
    _touch(records / "notes.txt", old)
    outside = _touch(tmp_path / "elsewhere" / "keep.wav", old)
    (records / "link.wav").symlink_to(outside)
    # Handoff records (inbound 30 days, chat 50 days).
    registry = HandoffRegistry(handoffs)
    ids = {
        "sip_old": registry.put({"transport": "sip", "caller_utterances": ["제 번호는 010-1111-0001"]}),
        "webrtc_new": registry.put({"transport": "webrtc", "caller_utterances": ["여권 발급"]}),
        "chat_40d": registry.put({"transport": "chat", "caller_utterances": ["상담원"]}),
        "chat_55d": registry.put({"transport": "chat", "caller_utterances": ["상담원 연결"]}),
        "kakao_open": registry.put({"transport": "kakao", "caller_utterances": ["도와주세요"]}),
    }
    for key, days in (
        ("sip_old", 40),
        ("webrtc_new", 10),
        ("chat_40d", 40),
        ("chat_55d", 55),
        ("kakao_open", 100),
    ):
        _age(handoffs / f"{ids[key]}.json", NOW - timedelta(days=days))
    with factory.begin() as s:
        _chat(s, "a" * 32, "ended", NOW - timedelta(days=70), ended_at=NOW - timedelta(days=70), messages=3)
        _chat(s, "b" * 32, "ended", NOW - timedelta(days=55), ended_at=NOW - timedelta(days=55),
              handoff_id=ids["chat_55d"])  # fmt: skip
        _chat(s, "c" * 32, "ended", NOW - timedelta(days=10), ended_at=NOW - timedelta(days=10))
        _chat(s, "d" * 32, "waiting", NOW - timedelta(days=100), handoff_id=ids["kakao_open"])
        _chat(s, "e" * 32, "agent", NOW - timedelta(days=100))
        _chat(s, "f" * 32, "bot", NOW - timedelta(days=100))
        _chat(s, "0" * 32, "ended", NOW - timedelta(days=5), ended_at=NOW - timedelta(days=70))
    places = RetentionPlaces(record_dirs=(records,), handoff_dir=handoffs)
    return SimpleNamespace(
        engine=engine,
        factory=factory,
        campaign_id=campaign_id,
        records=records,
        handoffs=handoffs,
        registry=registry,
        ids=ids,
        places=places,
        kim_wav=kim_wav,
        park_wav=park_wav,
        outside=outside,
    )


EXPECTED = {
    "inbound": {"recordings": 1, "handoffs": 1, "callbacks": 1},
    "outbound": {"attempts": 1, "recordings": 1, "recordings_kept": 0},
    "chat": {"conversations": 2, "messages": 5, "handoffs": 1},
}


def test_only_what_expired_goes_per_kind(url: str, tmp_path: Path) -> None:
    w = _world(url, tmp_path)
    with w.factory() as s:
        summary_before = campaign_summary(s, w.campaign_id)
    files_before = sorted(p.name for p in w.records.iterdir())

    dry = run_retention(w.factory, SETTINGS, w.places, NOW, registry=w.registry, dry_run=True)
    assert dry == EXPECTED
    assert sorted(p.name for p in w.records.iterdir()) == files_before
    with w.factory() as s:
        assert s.scalar(select(sa.func.count(ChatConversation.id))) == 7
        assert all(a.purged_at is None for a in s.scalars(select(Attempt)))

    assert run_retention(w.factory, SETTINGS, w.places, NOW, registry=w.registry) == EXPECTED

    # Inbound: the old recording went; the new one, the outbound ones' files (Park's is still within its
    # period), the other file and the symlink stayed, and the link's target outside too.
    assert sorted(p.name for p in w.records.iterdir()) == [
        "20261207-park.wav",
        "20261213-inbound.wav",
        "link.wav",
        "notes.txt",
    ]
    assert w.outside.exists()
    left = sorted(p.stem for p in w.handoffs.glob("*.json"))
    assert left == sorted(w.ids[k] for k in ("webrtc_new", "chat_40d", "kakao_open"))
    assert w.registry.get(w.ids["sip_old"]) is None  # forgotten by the running registry too
    assert w.registry.get(w.ids["webrtc_new"]) is not None

    with w.factory() as s:
        kim, park = s.scalars(select(Attempt).order_by(Attempt.id)).all()
        # Outbound: Kim's call is past 60 days: words, answers per step, keypad, detector words, recording
        # gone; outcome, state and times stay.
        assert kim.purged_at is not None and kim.recording_path is None
        assert kim.transcript is None and kim.keypad is None
        assert kim.answers is not None and "steps" not in kim.answers
        assert kim.answers["kind"] == "welfare_check" and "overall" in kim.answers
        assert kim.amd == {"outcome": "human", "reason": "speech"}
        assert kim.outcome == "human" and kim.state == "completed" and kim.ended_at is not None
        assert not w.kim_wav.exists()
        # Park's call (7 days) is untouched.
        assert park.purged_at is None and park.transcript and park.answers["steps"]
        assert park.recording_path == str(w.park_wav) and w.park_wav.exists()
        # The summary of the campaign counts the same; the export still has the outcomes.
        assert campaign_summary(s, w.campaign_id) == summary_before
        rows = list(csv.DictReader(io.StringIO(export_attempts_csv(s, w.campaign_id, unmasked=True))))
        assert [(r["outcome"], bool(r["transcript"])) for r in rows] == [("human", False), ("human", True)]
        # Chat: the two ended long ago went with their messages; the recent one, the open ones (bot,
        # waiting, with an agent) and the one active lately stayed.
        kept = sorted(c.id[0] for c in s.scalars(select(ChatConversation)))
        assert kept == ["0", "c", "d", "e", "f"]
        assert s.scalar(select(sa.func.count(ChatMessage.id))) == 10
        # The inbound call log holds no personal data and stays for the statistics.
        assert s.scalar(select(sa.func.count(CallLog.id))) == 1
        assert sorted(r.state for r in callbacks.list_callbacks(s)) == ["booked", "missed"]

    # Nothing is counted twice.
    again = run_retention(w.factory, SETTINGS, w.places, NOW, registry=w.registry)
    assert again == {
        "inbound": {"recordings": 0, "handoffs": 0, "callbacks": 0},
        "outbound": {"attempts": 0, "recordings": 0, "recordings_kept": 0},
        "chat": {"conversations": 0, "messages": 0, "handoffs": 0},
    }
    w.engine.dispose()


def test_outbound_recordings_outside_the_folders_are_never_deleted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'outside.db'}"
    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    factory = outbound.session_factory(engine)
    _campaign(factory)
    folder = tmp_path / "recordings"
    folder.mkdir()
    elsewhere = _touch(tmp_path / "elsewhere" / "call.wav", NOW)
    (folder / "sneaky.wav").symlink_to(elsewhere)
    with factory.begin() as s:
        kim, park = s.scalars(select(Attempt).order_by(Attempt.id)).all()
        kim.recording_path = str(folder / ".." / "elsewhere" / "call.wav")
        park.recording_path = str(folder / "sneaky.wav")
        park.ended_at = kim.ended_at
    with factory.begin() as s:
        got = purge_outbound(s, NOW, 60, [folder])
    assert got.as_dict() == {"attempts": 2, "recordings": 0, "recordings_kept": 2}
    assert elsewhere.exists() and (folder / "sneaky.wav").is_symlink()
    with factory() as s:
        kim, park = s.scalars(select(Attempt).order_by(Attempt.id)).all()
        assert kim.recording_path and park.recording_path  # left for the operator to check
        assert kim.transcript is None and park.transcript is None
    engine.dispose()


# --- configuration -----------------------------------------------------------------------------------


def test_retention_section_defaults_env_and_validation(tmp_path: Path) -> None:
    assert load_config(None, {}).retention == RetentionSettings(60, 60, 60)
    cfg = tmp_path / "serve.yaml"
    cfg.write_text("retention:\n  inbound_days: 30\n  chat_days: 90\n", encoding="utf-8")
    loaded = load_config(cfg, {"VOICEBOT_RETENTION_OUTBOUND_DAYS": "365"}).retention
    assert (loaded.inbound_days, loaded.outbound_days, loaded.chat_days) == (30, 365, 90)
    for bad in ("0", "-5", "99999"):
        with pytest.raises(ConfigError, match=r"^retention\.chat_days: 보존 기간은 1일에서 3650일"):
            load_config(None, {"VOICEBOT_RETENTION_CHAT_DAYS": bad})
    with pytest.raises(ConfigError):
        load_config(None, {"VOICEBOT_RETENTION_INBOUND_DAYS": "two months"})
    cfg.write_text("retention:\n  forever: true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="forever"):
        load_config(cfg, {})
    assert RetentionSettings.from_env({"VOICEBOT_RETENTION_INBOUND_DAYS": "7"}).inbound_days == 7
    with pytest.raises(ValueError, match="보존 기간"):
        RetentionSettings.from_env({"VOICEBOT_RETENTION_OUTBOUND_DAYS": "0"})


# --- voicebot retention run ----------------------------------------------------------------------------


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command in a folder of its own, with no VOICEBOT_ variable but ``env``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "voicebot.cli", "retention", "run", *args],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_counts_per_kind_and_dry_run_changes_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    outbound.upgrade(db)
    engine = outbound.make_engine(db)
    factory = outbound.session_factory(engine)
    now = datetime.now(UTC)
    with factory.begin() as s:
        _chat(s, "a" * 32, "ended", now - timedelta(days=61), ended_at=now - timedelta(days=61))
        _chat(s, "b" * 32, "ended", now - timedelta(days=3), ended_at=now - timedelta(days=3))
    records = tmp_path / "rec"
    _touch(records / "old.wav", now - timedelta(days=61))
    _touch(records / "new.wav", now - timedelta(days=3))
    cfg = tmp_path / "serve.yaml"
    cfg.write_text(
        f"sip:\n  record_dir: {records}\n  handoff_dir: {tmp_path / 'handoffs'}\n", encoding="utf-8"
    )

    dry = _cli("--dry-run", "--config", str(cfg), "--db", db, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    out = json.loads(dry.stdout)
    assert out["dry_run"] is True and out["days"] == {"inbound": 60, "outbound": 60, "chat": 60}
    assert out["inbound"]["recordings"] == 1 and out["chat"]["conversations"] == 1
    assert out["chat"]["messages"] == 2
    assert (records / "old.wav").exists()
    with factory() as s:
        assert s.scalar(select(sa.func.count(ChatConversation.id))) == 2

    done = _cli("--config", str(cfg), "--db", db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["chat"] == {"conversations": 1, "messages": 2, "handoffs": 0}
    assert "주민등록" not in done.stdout + done.stderr  # counts only
    assert not (records / "old.wav").exists() and (records / "new.wav").exists()
    with factory() as s:
        assert [c.id for c in s.scalars(select(ChatConversation))] == ["b" * 32]

    bad = _cli("--db", db, cwd=tmp_path, env={"VOICEBOT_RETENTION_CHAT_DAYS": "0"})
    assert bad.returncode == 2 and "보존 기간은 1일에서" in bad.stderr
    engine.dispose()


# --- voicebot serve's daily job ------------------------------------------------------------------------


def test_serve_runs_retention_at_start_and_logs_counts_only(tmp_path: Path, caplog) -> None:
    from voicebot.server.app import create_app

    db = f"sqlite:///{tmp_path / 'serve.db'}"
    outbound.upgrade(db)
    engine = outbound.make_engine(db)
    factory = outbound.session_factory(engine)
    now = datetime.now(UTC)
    with factory.begin() as s:
        _chat(s, "a" * 32, "ended", now - timedelta(days=20), ended_at=now - timedelta(days=20))
        _chat(s, "b" * 32, "agent", now - timedelta(days=20))
    handoffs = tmp_path / "handoffs"
    old = HandoffRegistry(handoffs).put({"transport": "sip", "caller_utterances": ["제 이름은 김순자"]})
    _age(handoffs / f"{old}.json", now - timedelta(days=20))
    env = {
        "VOICEBOT_DB_URL": db,
        "VOICEBOT_WEBRTC_ENABLED": "false",
        "VOICEBOT_SIP_HANDOFF_DIR": str(handoffs),
        "VOICEBOT_RETENTION_INBOUND_DAYS": "14",
        "VOICEBOT_RETENTION_CHAT_DAYS": "14",
    }
    app = create_app(
        load_config(None, env), models=SimpleNamespace(engine=None, transcriber=None, synthesizer=None)
    )
    with caplog.at_level(logging.INFO, logger="voicebot.server.retention"), TestClient(app):
        job = app.state.runtime.retention
        deadline = time.monotonic() + 30
        while job.last is None:
            assert time.monotonic() < deadline, "the retention job did not run at start"
            time.sleep(0.05)
        assert job.last["chat"]["conversations"] == 1 and job.last["inbound"]["handoffs"] == 1
        assert app.state.runtime.handoffs.get(old) is None
    with factory() as s:
        assert [c.id for c in s.scalars(select(ChatConversation))] == ["b" * 32]
    logged = [r.getMessage() for r in caplog.records if r.name == "voicebot.server.retention"]
    assert any(m.startswith("retention chat (older than 14 days) deleted: conversations 1") for m in logged)
    assert any(m.startswith("retention inbound (older than 14 days) deleted:") for m in logged)
    assert not any("김순자" in m or "주민등록" in m for m in logged)
    engine.dispose()


def test_admins_read_the_periods_and_the_latest_run(tmp_path: Path) -> None:
    """GET /api/retention (the console's 감사 기록 tab shows it): periods per kind, what the latest run
    deleted; admins only."""
    from types import SimpleNamespace

    from fastapi.testclient import TestClient

    from outbound import service, store
    from voicebot.server.app import create_app
    from voicebot.server.config import load_config

    db = f"sqlite:///{tmp_path / 'api.db'}"
    store.upgrade(db)
    engine = store.make_engine(db)
    with store.session_factory(engine).begin() as s:
        admin = service.create_token(s, "관리자", "admin")
        operator = service.create_token(s, "상담사", "operator")
    engine.dispose()
    env = {
        "VOICEBOT_DB_URL": db,
        "VOICEBOT_WEBRTC_ENABLED": "false",
        "VOICEBOT_OUTBOUND_DIALER": "none",
        "VOICEBOT_RETENTION_CHAT_DAYS": "30",
    }
    app = create_app(
        load_config(None, env), models=SimpleNamespace(engine=None, transcriber=None, synthesizer=None)
    )
    with TestClient(app) as client:
        assert (
            client.get("/api/retention", headers={"Authorization": f"Bearer {operator}"}).status_code == 403
        )
        runtime = app.state.runtime
        runtime.retention.run_once()  # the start-up run may still be on its way: one now, for sure
        status = client.get("/api/retention", headers={"Authorization": f"Bearer {admin}"}).json()
    assert status["days"] == {"inbound": 60, "outbound": 60, "chat": 30}
    assert status["every_hours"] == 24 and status["last_run_at"] is not None
    assert status["last_deleted"]["chat"] == {"conversations": 0, "messages": 0, "handoffs": 0}
