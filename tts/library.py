"""The prompt library: staff recordings of what the bot says, stored by text hash and versioned.

Layout of the library folder (0700; every file 0600)::

    manifest.json                  {"prompts": {<text hash>: {...}}, "templates": [...]}
    <first two hex digits>/<hash>/v<N>.wav

A prompt is keyed by ``prompt_key(text)``, the sha256 of its normalised text, so a recording follows the
words, not where they are used: when a KB answer or a script line is edited its hash changes, the old
recording is no longer played and the studio lists the prompt as stale. Each save adds a version; the
current version is what calls play. ``prompt_ids`` remembers which catalogue entries a recording was made
for (that is how a changed text is recognised as stale).

``templates`` are slot sentences ("{date} {time}에 {place}에서 접종하실 수 있습니다") the synthesizer
assembles from recorded pieces and units (see ``tts.units``); the studio writes them from its catalogue.

The manifest is re-read whenever it changes on disk, so a recording saved by the console is played by the
very next sentence of every call in every process. Writes are atomic (temporary file, then rename).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from media.audio import AudioError, load_audio
from tts.normalize import normalize_korean

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PACK_MANIFEST = "voicepack.json"
STORE_RATE = 16_000
MAX_RECORDING_S = 120.0


def default_prompts_dir() -> Path:
    """``$VOICEBOT_PROMPTS_DIR``, else ``var/prompts`` under the working directory (next to var/voicebot.db)."""
    return Path(os.environ.get("VOICEBOT_PROMPTS_DIR") or "var/prompts")


@dataclass(frozen=True)
class Version:
    version: int
    file: str
    created: str
    duration_s: float
    origin: str  # "studio" | "upload" | "import"
    transcript: str | None = None
    cer: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Recording:
    key: str
    text: str
    current: int
    versions: tuple[Version, ...]
    prompt_ids: tuple[str, ...]

    @property
    def current_version(self) -> Version | None:
        return next((v for v in self.versions if v.version == self.current), None)

    def as_dict(self) -> dict[str, Any]:
        current = self.current_version
        return {
            "key": self.key,
            "text": self.text,
            "current": self.current,
            "prompt_ids": list(self.prompt_ids),
            "duration_s": current.duration_s if current else None,
            "versions": [v.as_dict() for v in self.versions],
        }


def _recording(key: str, raw: dict[str, Any]) -> Recording:
    return Recording(
        key=key,
        text=str(raw.get("text", "")),
        current=int(raw.get("current", 0)),
        versions=tuple(Version(**v) for v in raw.get("versions", [])),
        prompt_ids=tuple(raw.get("prompt_ids", [])),
    )


def _write_private(path: Path, data: bytes) -> None:
    """Atomically write ``data`` to ``path`` with mode 0600."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(samples, dtype=np.float32), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def spoken_key(spoken_text: str) -> str:
    """The library key of already-normalised text: sha256 of it without spacing and . , ? !"""
    # The same comparison as overrides.yaml text keys (tts.cache): spacing and stops do not matter.
    bare = re.sub(r"[\s.,?!]+", "", spoken_text)
    return hashlib.sha256(bare.encode("utf-8")).hexdigest()


def prompt_key(text: str) -> str:
    """The library key of a prompt's text (the hash the studio shows)."""
    return spoken_key(normalize_korean(text))


class PromptLibrary:
    """Recordings by text hash; safe to share between threads and processes (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory).expanduser()
        self._lock = threading.RLock()
        self._stamp: tuple[int, int] | None = None
        self._data: dict[str, Any] = {"prompts": {}, "templates": []}

    # --- reading ---------------------------------------------------------------------------------

    def _manifest(self) -> dict[str, Any]:
        path = self.directory / MANIFEST
        try:
            stat = path.stat()
        except OSError:
            return {"prompts": {}, "templates": []}
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                    if not isinstance(data, dict):
                        raise ValueError("not a JSON object")
                    data.setdefault("prompts", {})
                    data.setdefault("templates", [])
                except (OSError, ValueError) as exc:
                    log.warning("prompt library manifest %s is unreadable (%s); ignoring it", path, exc)
                    data = {"prompts": {}, "templates": []}
                self._data = data
                self._stamp = stamp
            return self._data

    def recordings_present(self) -> bool:
        return any(raw.get("current") for raw in self._manifest()["prompts"].values())

    def recordings(self, playable: bool = True) -> dict[str, Recording]:
        """Recordings by key; with ``playable`` only those with a current version (what calls play)."""
        return {
            key: _recording(key, raw)
            for key, raw in self._manifest()["prompts"].items()
            if raw.get("current") or not playable
        }

    def get(self, text: str) -> Recording | None:
        """Every version of the recording of ``text`` (current 0: none is played yet)."""
        raw = self._manifest()["prompts"].get(prompt_key(text))
        return None if raw is None else _recording(prompt_key(text), raw)

    def templates(self) -> list[str]:
        return [t for t in self._manifest()["templates"] if isinstance(t, str)]

    def path_for(self, key: str, version: int | None = None) -> Path | None:
        raw = self._manifest()["prompts"].get(key)
        if raw is None:
            return None
        recording = _recording(key, raw)
        wanted = recording.current if version is None else version
        found = next((v for v in recording.versions if v.version == wanted), None)
        return None if found is None else self.directory / found.file

    def has(self, spoken_text: str) -> bool:
        """Whether a current recording exists for already-normalised text."""
        raw = self._manifest()["prompts"].get(spoken_key(spoken_text))
        return bool(raw and raw.get("current"))

    def load(self, spoken_text: str, sample_rate: int) -> np.ndarray | None:
        """The current recording of already-normalised text at ``sample_rate``, or None."""
        path = self.path_for(spoken_key(spoken_text))
        if path is None:
            return None
        try:
            return load_audio(path, sample_rate, max_seconds=600.0).samples
        except AudioError as exc:
            log.warning("recorded prompt %s is unusable (%s); synthesising instead", path.name, exc)
            return None

    # --- writing ---------------------------------------------------------------------------------

    def _save_manifest(self, data: dict[str, Any]) -> None:
        _private_dir(self.directory)
        body = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
        _write_private(self.directory / MANIFEST, body)
        self._stamp = None

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer at a time, in this process (the lock) and across processes (flock on .lock), so that
        the console and ``python -m tts.voicepack`` never lose each other's manifest updates."""
        with self._lock:
            _private_dir(self.directory)
            fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def _fresh(self) -> dict[str, Any]:
        self._stamp = None
        return json.loads(json.dumps(self._manifest()))

    def save(
        self,
        text: str,
        samples: np.ndarray,
        sample_rate: int,
        prompt_id: str | None = None,
        origin: str = "studio",
        transcript: str | None = None,
        cer: float | None = None,
        make_current: bool = True,
    ) -> Recording:
        """Store a new version of the recording of ``text``; it is played from now on when ``make_current``
        (a take that failed its check is kept without replacing what calls play)."""
        if not normalize_korean(text).strip():
            raise ValueError("a recording needs the text it says")
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if not len(samples):
            raise ValueError("the recording is empty")
        key = prompt_key(text)
        with self._writing():
            data = self._fresh()
            raw = data["prompts"].setdefault(
                key, {"text": text, "current": 0, "versions": [], "prompt_ids": []}
            )
            number = max((v["version"] for v in raw["versions"]), default=0) + 1
            relative = f"{key[:2]}/{key}/v{number}.wav"
            folder = self.directory / key[:2] / key
            _private_dir(self.directory)
            _private_dir(folder.parent)
            _private_dir(folder)
            _write_private(self.directory / relative, wav_bytes(samples, sample_rate))
            version = Version(
                version=number,
                file=relative,
                created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                duration_s=round(len(samples) / sample_rate, 3),
                origin=origin,
                transcript=transcript,
                cer=None if cer is None else round(float(cer), 4),
            )
            raw["versions"].append(version.as_dict())
            if make_current:
                raw["current"] = number
            raw["text"] = text
            if prompt_id and prompt_id not in raw["prompt_ids"]:
                raw["prompt_ids"].append(prompt_id)
            self._save_manifest(data)
            return _recording(key, raw)

    def set_current(self, key: str, version: int) -> Recording:
        """Play an earlier (or later) version again."""
        with self._writing():
            data = self._fresh()
            raw = data["prompts"].get(key)
            if raw is None or not any(v["version"] == version for v in raw["versions"]):
                raise KeyError(f"{key[:12]} v{version}")
            raw["current"] = version
            self._save_manifest(data)
            return _recording(key, raw)

    def remove(self, key: str) -> None:
        """Stop playing a recording (its files stay, so the removal can be undone by hand)."""
        with self._writing():
            data = self._fresh()
            if data["prompts"].pop(key, None) is None:
                raise KeyError(key[:12])
            data.setdefault("removed", {})[key] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            self._save_manifest(data)

    def set_templates(self, templates: list[str]) -> None:
        with self._writing():
            data = self._fresh()
            if data.get("templates") == templates:
                return
            data["templates"] = list(templates)
            self._save_manifest(data)

    # --- voice packs -----------------------------------------------------------------------------

    def export_pack(self, name: str = "voicebot-prompts") -> bytes:
        """A zip of the current version of every recording with ``voicepack.json`` (text, file, duration)."""
        entries = []
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as pack:
            for key, recording in sorted(self.recordings().items()):
                path = self.path_for(key)
                current = recording.current_version
                if path is None or current is None or not path.is_file():
                    continue
                member = f"wav/{key}.wav"
                pack.write(path, member)
                entries.append({"text": recording.text, "file": member, "duration_s": current.duration_s})
            manifest = {"format": "voicebot-voicepack", "version": 1, "name": name, "prompts": entries}
            pack.writestr(PACK_MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        return out.getvalue()

    def import_pack(self, data: bytes, origin: str = "import") -> int:
        """Add every recording of a voice pack (zip with voicepack.json) as a new version; the count added."""
        try:
            pack = zipfile.ZipFile(io.BytesIO(data))
            manifest = json.loads(pack.read(PACK_MANIFEST).decode("utf-8"))
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise ValueError(f"not a voice pack (a zip with {PACK_MANIFEST}): {exc}") from exc
        if manifest.get("format") != "voicebot-voicepack":
            raise ValueError("voicepack.json is not a voicebot voice pack")
        added = 0
        with pack:
            names = set(pack.namelist())
            for entry in manifest.get("prompts", []):
                text, member = entry.get("text"), entry.get("file")
                if not isinstance(text, str) or not isinstance(member, str) or member not in names:
                    raise ValueError(f"voice pack entry {entry!r} has no text or no file in the zip")
                audio = load_audio(pack.read(member), STORE_RATE, max_seconds=MAX_RECORDING_S)
                self.save(text, audio.samples, STORE_RATE, origin=origin)
                added += 1
        return added
