"""Shared fixtures: the real recordings in ../shared/audio and one loaded model per backend per session."""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_AUDIO = Path(os.environ.get("VOICEBOT_SHARED_AUDIO", REPO.parent / "shared" / "audio"))
# Every synthesizer reads the prompt library (issue 20); recordings someone made in var/prompts must not
# change what the tests hear, so the tests start from an empty one (a test that records sets its own).
os.environ["VOICEBOT_PROMPTS_DIR"] = tempfile.mkdtemp(prefix="voicebot-test-prompts-")


@dataclass(frozen=True)
class Clip:
    path: Path
    language: str
    transcript: str


def load_manifest() -> list[Clip]:
    manifest = SHARED_AUDIO / "manifest.tsv"
    if not manifest.is_file():
        return []
    with open(manifest, encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [Clip(SHARED_AUDIO / r["file"], r["language"], r["transcript"]) for r in rows]


@pytest.fixture(scope="session")
def clips() -> list[Clip]:
    found = load_manifest()
    if not found:
        pytest.skip(f"real recordings not found in {SHARED_AUDIO} (set VOICEBOT_SHARED_AUDIO)")
    return found


@pytest.fixture(scope="session")
def korean_clips(clips) -> list[Clip]:
    return [c for c in clips if c.language == "ko"]


@pytest.fixture(scope="session")
def english_clips(clips) -> list[Clip]:
    return [c for c in clips if c.language == "en"]


@pytest.fixture(scope="session")
def faster_transcriber():
    from stt import STTConfig, create_transcriber

    return create_transcriber(STTConfig(backend="faster-whisper"))


@pytest.fixture(scope="session")
def openai_transcriber():
    from stt import STTConfig, create_transcriber

    return create_transcriber(STTConfig(backend="openai-whisper"))


# --- PostgreSQL ---------------------------------------------------------------------------------------

PG_URL = os.environ.get("VOICEBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture()
def pg_url():
    """A fresh database on the test PostgreSQL server (scripts/test-pg.sh starts one when none runs),
    dropped afterwards. Skips when no server answers, unless VOICEBOT_REQUIRE_PG=1 (set by scripts/test.sh)."""
    import uuid

    from sqlalchemy import create_engine, text

    from outbound.store import resolve_url

    admin_url = resolve_url(PG_URL)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        why = f"no PostgreSQL server answers at {PG_URL} ({type(exc).__name__}); run scripts/test-pg.sh"
        if os.environ.get("VOICEBOT_REQUIRE_PG") == "1":
            pytest.fail(why)
        pytest.skip(why)
    name = f"outbound_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- shared models for call tests ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    """The dialog engine with the bundled knowledge base."""
    from dialog import load_default_engine

    return load_default_engine()


@pytest.fixture(scope="module")
def synthesizer(tmp_path_factory):
    """espeak-ng behind the lock the servers use, with a prompt cache of its own."""
    from tts import TTSConfig, create_synthesizer
    from voicebot.sip.shared import LockedSynthesizer

    return LockedSynthesizer(create_synthesizer(TTSConfig(cache_dir=tmp_path_factory.mktemp("tts-cache"))))
