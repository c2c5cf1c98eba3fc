"""Where each backend's weights come from, and the list/verify report behind ``voicebot models``.

Resolution order for a Whisper model, first match wins:
1. an explicit path (config ``stt.model_path`` or ``VOICEBOT_WHISPER_MODEL``): a CTranslate2 directory or an
   openai-whisper ``.pt`` checkpoint the operator provides;
2. for ``base``: the registry packages (reassembled, SHA-256 pinned), converted for openai-whisper;
3. for other sizes: ``~/.cache/whisper/NAME.pt`` (openai-whisper) or a CTranslate2 directory named
   ``faster-whisper-NAME`` / ``whisper-NAME-ct2`` in the models cache (faster-whisper).
Nothing here opens a network connection.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from models.assets import (
    WHISPER_BASE,
    ModelAssetError,
    PackageFile,
    default_cache_dir,
    sha256_file,
    whisper_ct2_dir,
)
from models.convert import convert_ct2_to_openai

MODEL_ENV = "VOICEBOT_WHISPER_MODEL"
BACKENDS = ("faster-whisper", "openai-whisper")


@dataclass(frozen=True)
class ModelLocation:
    name: str
    backend: str
    path: Path
    source: str  # "package", "converted", "user", "openai-cache"


def _is_ct2_dir(path: Path) -> bool:
    return path.is_dir() and (path / "model.bin").is_file() and (path / "config.json").is_file()


def _openai_checkpoint_for(ct2_dir: Path) -> Path:
    """Convert once per verified CTranslate2 directory; a sidecar records both hashes."""
    output = ct2_dir.parent / f"{ct2_dir.name}-openai.pt"
    sidecar = output.with_suffix(".json")
    source_sha = _source_sha(ct2_dir)
    if output.is_file() and sidecar.is_file():
        meta = json.loads(sidecar.read_text())
        if meta.get("source_sha256") == source_sha and meta.get("size") == output.stat().st_size:
            return output
    convert_ct2_to_openai(ct2_dir, output)
    sidecar.write_text(
        json.dumps(
            {"source_sha256": source_sha, "sha256": sha256_file(output), "size": output.stat().st_size}
        )
    )
    return output


def _source_sha(ct2_dir: Path) -> str:
    stamp = ct2_dir / ".voicebot-verified.json"
    if stamp.is_file():
        return json.loads(stamp.read_text())["sha256"]
    return sha256_file(ct2_dir / "model.bin")


def _user_path(path: Path, name: str, backend: str) -> ModelLocation:
    path = path.expanduser()
    if _is_ct2_dir(path):
        if backend == "faster-whisper":
            return ModelLocation(name, backend, path, "user")
        return ModelLocation(name, backend, _openai_checkpoint_for(path), "converted")
    if path.is_file() and path.suffix == ".pt":
        if backend == "openai-whisper":
            return ModelLocation(name, backend, path, "user")
        raise ModelAssetError(
            f"{path} is an openai-whisper checkpoint; faster-whisper needs a CTranslate2 directory "
            "(model.bin + config.json + tokenizer.json). Use --backend openai-whisper for this file."
        )
    raise ModelAssetError(
        f"{path}: not a Whisper model (expected a CTranslate2 directory with model.bin and config.json, "
        "or an openai-whisper .pt checkpoint)"
    )


def find_whisper_model(
    name: str = "base",
    backend: str = "faster-whisper",
    path: str | Path | None = None,
    cache_dir: Path | None = None,
) -> ModelLocation:
    """Locate (and if needed reassemble or convert) the weights for ``backend``; never downloads."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown STT backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    explicit = path or os.environ.get(MODEL_ENV)
    if explicit:
        return _user_path(Path(explicit), name, backend)
    if name == "base":
        ct2 = whisper_ct2_dir(WHISPER_BASE, cache_dir)
        if backend == "faster-whisper":
            return ModelLocation(name, backend, ct2, "package")
        return ModelLocation(name, backend, _openai_checkpoint_for(ct2), "converted")
    cache_dir = cache_dir or default_cache_dir()
    if backend == "openai-whisper":
        candidate = Path.home() / ".cache" / "whisper" / f"{name}.pt"
        if candidate.is_file():
            return ModelLocation(name, backend, candidate, "openai-cache")
    for candidate in (cache_dir / f"faster-whisper-{name}", cache_dir / f"whisper-{name}-ct2"):
        if _is_ct2_dir(candidate):
            return _user_path(candidate, name, backend)
    raise ModelAssetError(
        f"Whisper {name!r} is not available offline. Only 'base' ships in registry packages; for a larger "
        f"model put a CTranslate2 directory at {cache_dir / f'faster-whisper-{name}'}, an openai-whisper "
        f"checkpoint at ~/.cache/whisper/{name}.pt, or set {MODEL_ENV} to its path."
    )


@dataclass(frozen=True)
class AssetStatus:
    name: str
    required: bool
    ok: bool
    path: str | None
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


# Pinned hashes of the espeak-ng pieces the Korean voice needs (espeakng-loader 0.2.4).
_ESPEAK_FILES = {
    "libespeak-ng.so": "b15ce0803b26254e8a0d088c6b9281a2637b2b02613147cc320cfdefaf2c3ccf",
    "espeak-ng-data/ko_dict": "7a338aedfd7f9c095e5df580bed5ee7c6ec73402b2a45881a23e2a30f2af64af",
    "espeak-ng-data/phondata": "a0b643b155cb6b12628d9e7865b57d9fca0d35844614f2594a5e009c80c80bb4",
}
_SILERO_ONNX = (
    "silero_vad",
    "data/silero_vad.onnx",
    "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
)


def _check_file(name: str, file: PackageFile, sha: str, required: bool, install: str) -> AssetStatus:
    path = file.locate()
    if path is None:
        return AssetStatus(name, required, False, None, f"missing; install with: pip install {install}")
    actual = sha256_file(path)
    if actual != sha:
        return AssetStatus(name, required, False, str(path), f"SHA-256 mismatch: {actual} != pinned {sha}")
    return AssetStatus(name, required, True, str(path), f"sha256 {sha[:16]}… ok")


def asset_report(cache_dir: Path | None = None, verify: bool = True) -> list[AssetStatus]:
    """Status of every asset; with ``verify`` every file is re-hashed and derived assets are rebuilt."""
    report: list[AssetStatus] = []
    try:
        ct2 = whisper_ct2_dir(WHISPER_BASE, cache_dir, verify=verify)
        report.append(AssetStatus("whisper-base (CTranslate2)", True, True, str(ct2), "sha256 ok"))
        pt = _openai_checkpoint_for(ct2)
        meta = json.loads(pt.with_suffix(".json").read_text())
        ok = not verify or sha256_file(pt) == meta["sha256"]
        detail = "converted checkpoint, sha256 ok" if ok else "converted checkpoint changed on disk"
        report.append(AssetStatus("whisper-base (openai-whisper)", True, ok, str(pt), detail))
    except ModelAssetError as exc:
        report.append(AssetStatus("whisper-base (CTranslate2)", True, False, None, str(exc)))
    for relpath, sha in _ESPEAK_FILES.items():
        report.append(
            _check_file(
                f"espeak-ng {relpath.split('/')[-1]}",
                PackageFile("espeakng_loader", relpath),
                sha,
                True,
                "espeakng-loader==0.2.4",
            )
        )
    package, relpath, sha = _SILERO_ONNX
    report.append(
        _check_file("silero-vad (optional)", PackageFile(package, relpath), sha, False, "silero-vad")
    )
    for user_pt in sorted((Path.home() / ".cache" / "whisper").glob("*.pt")):
        report.append(AssetStatus(f"user: {user_pt.stem}", False, True, str(user_pt), "operator-provided"))
    return report
