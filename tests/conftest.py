"""Shared fixtures: the real recordings in ../shared/audio and one loaded model per backend per session."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_AUDIO = Path(os.environ.get("VOICEBOT_SHARED_AUDIO", REPO.parent / "shared" / "audio"))


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
