"""Optional neural Korean TTS on Coqui TTS (PyPI ``coqui-tts``, import name ``TTS``).

Coqui cannot live in the project venv: ``TTS`` imports ``torchaudio`` at module level, and the only
torchaudio wheels that exist for Linux x86_64 are CUDA builds. torchaudio 2.11.0 (no torch pin) dlopens
``libc10_cuda.so``, which the project's torch 2.13.0+cpu does not have (``OSError: Could not load this
library: .../torchaudio/lib/_torchaudio.abi3.so``), and torchaudio <= 2.10 pins an exact older torch.
So the model normally runs in a separate interpreter (``TTSConfig.coqui_python``) where coqui-tts
works; see docs/coqui.md for how to build one.

Two modes:

* ``coqui_python`` set: a long-lived worker process is started as ``<coqui_python> -I tts/coqui.py
  --worker``. ``-I`` keeps the repository (and PYTHONPATH) off the worker's ``sys.path``, so the worker
  never imports project modules. Protocol: one JSON request per line on stdin; each response is one
  JSON header line on stdout, followed by exactly ``header["nbytes"]`` bytes of little-endian float32
  samples when the header carries them.
* ``coqui_python`` unset: ``TTS`` is imported in-process; a failing import becomes a ``TTSError`` that
  explains the torchaudio problem and how to set up the isolated venv.

Model directories are local only (nothing is ever downloaded):

* VITS and other single-checkpoint Coqui models: ``config.json`` + one checkpoint (``model.pth``,
  ``best_model.pth``, ``model_file.pth`` or a single other ``*.pth``/``*.pth.tar``).
* XTTS-v2: ``config.json`` (``"model": "xtts"``), ``model.pth``, ``vocab.json``, optionally
  ``speakers_xtts.pth``, and a reference voice: ``speaker.wav`` or a ``speaker_wav/`` folder of wavs.

Because this file doubles as the worker script, its module level imports only the standard library;
numpy, torch, TTS and the project's own modules are imported inside functions.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import traceback
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from tts.base import Speech, TTSConfig

if __name__ == "__main__":
    # Worker process (`python -I tts/coqui.py --worker` in the Coqui venv): the project is not importable.
    _EngineBase: type = object
else:
    from tts.base import Synthesizer as _EngineBase

logger = logging.getLogger(__name__)

ENGINE_NAME = "coqui"
DEFAULT_LANGUAGE = "ko"
# media.audio.PIPELINE_RATE, not imported: the worker cannot import the project.
PIPELINE_RATE = 16_000
DEFAULT_LOAD_TIMEOUT_S = 600.0
DEFAULT_SYNTH_TIMEOUT_S = 300.0

# Environment for anything that imports TTS/transformers/huggingface_hub: never reach a hub.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "COQUI_TOS_AGREED": "1",
    "TQDM_DISABLE": "1",
}

VITS_CHECKPOINT_NAMES = ("model.pth", "best_model.pth", "model_file.pth", "checkpoint.pth", "model.pth.tar")
XTTS_REQUIRED = ("config.json", "model.pth", "vocab.json")
SPEAKER_WAV_FILE = "speaker.wav"
SPEAKER_WAV_DIR = "speaker_wav"

EXPECTED_FILES = (
    "Expected a local Coqui model directory holding either\n"
    "  - a VITS (or other single-checkpoint Coqui) model: config.json + one checkpoint *.pth "
    "(model.pth, best_model.pth or model_file.pth), or\n"
    "  - an XTTS-v2 model: config.json, model.pth, vocab.json, speakers_xtts.pth (optional) and a "
    "reference voice, speaker.wav or a speaker_wav/ folder of .wav files.\n"
    "Nothing is downloaded: put the files there and set coqui_model_dir to that folder."
)

IMPORT_GUIDANCE = (
    "Coqui TTS (PyPI 'coqui-tts', import name 'TTS') cannot be imported in this interpreter ({python}): "
    "{error}\n"
    "coqui-tts imports torchaudio, and every torchaudio wheel on PyPI for Linux x86_64 is a CUDA build: "
    "torchaudio 2.11.0 fails to load beside a CPU-only torch (libc10_cuda.so missing) and torchaudio <= "
    "2.10 pins an exact older torch. The project venv keeps torch 2.13.0+cpu, so run Coqui in its own "
    "venv and point the voicebot at that interpreter with TTSConfig.coqui_python, e.g.\n"
    "  bash scripts/setup-coqui.sh   # recipe in docs/coqui.md\n"
    "  coqui_python: /opt/coqui-venv/bin/python\n"
    "  coqui_model_dir: /path/to/model-dir"
)


def _tts_error(message: str) -> Exception:
    from tts.base import TTSError

    return TTSError(message)


# --------------------------------------------------------------------------------------------------
# Model directory (standard library only: runs in the voicebot before any worker starts)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoquiModel:
    """What a model directory holds, as the worker needs it."""

    kind: str  # "xtts" or "tts" (VITS and other Synthesizer-loadable models)
    model_dir: Path
    config_path: Path
    checkpoint: Path
    speaker_wavs: tuple[Path, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "model_dir": str(self.model_dir),
            "config_path": str(self.config_path),
            "checkpoint": str(self.checkpoint),
            "speaker_wavs": [str(p) for p in self.speaker_wavs],
        }


def inspect_model_dir(model_dir: str | os.PathLike[str] | None) -> CoquiModel:
    """Check a model directory and say which files will be used; raises TTSError naming what's missing."""
    if model_dir is None or str(model_dir).strip() == "":
        raise _tts_error(f"Coqui TTS needs coqui_model_dir, and none is set.\n{EXPECTED_FILES}")
    root = Path(model_dir).expanduser()
    if not root.is_dir():
        raise _tts_error(
            f"Coqui model directory {root} does not exist or is not a directory.\n{EXPECTED_FILES}"
        )
    root = root.resolve()
    config_path = root / "config.json"
    if not config_path.is_file():
        raise _tts_error(f"Coqui model directory {root} has no config.json.\n{EXPECTED_FILES}")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _tts_error(f"Coqui model config {config_path} is not readable JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise _tts_error(f"Coqui model config {config_path} is not a JSON object.")

    if str(config.get("model", "")).lower() == "xtts":
        missing = [name for name in XTTS_REQUIRED if not (root / name).is_file()]
        speaker_wavs = _speaker_wavs(root)
        if not speaker_wavs:
            missing.append(f"{SPEAKER_WAV_FILE} (or {SPEAKER_WAV_DIR}/*.wav)")
        if missing:
            raise _tts_error(
                f"Coqui XTTS model directory {root} is missing: {', '.join(missing)}.\n{EXPECTED_FILES}"
            )
        return CoquiModel("xtts", root, config_path, root / "model.pth", speaker_wavs)

    return CoquiModel("tts", root, config_path, _vits_checkpoint(root), ())


def _speaker_wavs(root: Path) -> tuple[Path, ...]:
    single = root / SPEAKER_WAV_FILE
    if single.is_file():
        return (single,)
    folder = root / SPEAKER_WAV_DIR
    if folder.is_dir():
        return tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() == ".wav" and p.is_file()))
    return ()


def _vits_checkpoint(root: Path) -> Path:
    for name in VITS_CHECKPOINT_NAMES:
        if (root / name).is_file():
            return root / name
    candidates = sorted(
        p
        for p in root.iterdir()
        if p.is_file()
        and (p.name.endswith(".pth") or p.name.endswith(".pth.tar"))
        and "speaker" not in p.name.lower()
        and "config" not in p.name.lower()
    )
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise _tts_error(
            f"Coqui model directory {root} has config.json but no checkpoint *.pth.\n{EXPECTED_FILES}"
        )
    names = ", ".join(p.name for p in candidates)
    raise _tts_error(
        f"Coqui model directory {root} holds several checkpoints ({names}); keep one, or name the one to "
        f"use model.pth.\n{EXPECTED_FILES}"
    )


# --------------------------------------------------------------------------------------------------
# The engine: loads a model with TTS and turns text into float32 samples. Runs in the worker (or
# in-process when coqui_python is unset); imports numpy/torch/TTS lazily.
# --------------------------------------------------------------------------------------------------


class CoquiImportError(RuntimeError):
    """TTS could not be imported in this interpreter; the message carries the setup guidance."""


def _import_coqui() -> dict[str, str]:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    try:
        import torch
        import TTS
        from TTS.utils.synthesizer import Synthesizer  # noqa: F401  (imports torchaudio, the usual failure)
    except Exception as exc:  # ImportError, or OSError from torchaudio's CUDA-linked extension
        error = f"{type(exc).__name__}: {exc}".strip()
        raise CoquiImportError(IMPORT_GUIDANCE.format(python=sys.executable, error=error)) from exc
    here = Path(__file__).resolve().parent
    if Path(TTS.__file__).resolve().parent == here:  # case-insensitive filesystems: 'TTS' found 'tts'
        raise CoquiImportError(
            IMPORT_GUIDANCE.format(
                python=sys.executable, error="'import TTS' found this project's tts package"
            )
        )
    return {"torch": str(torch.__version__), "coqui_tts": str(getattr(TTS, "__version__", "?"))}


def _load_audio_mono(path: str | os.PathLike[str], sampling_rate: int) -> Any:
    """XTTS's reference-audio loader without torchaudio.load (which needs torchcodec and FFmpeg)."""
    import numpy as np
    import soundfile as sf
    import torch
    import torchaudio

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    audio = torch.from_numpy(np.ascontiguousarray(data.mean(axis=1)))[None, :]
    if rate != sampling_rate:
        audio = torchaudio.functional.resample(audio, rate, sampling_rate)
    return audio.clamp_(-1.0, 1.0)


class _Engine:
    def __init__(self, model: dict[str, Any], voice: str | None = None, language: str = DEFAULT_LANGUAGE):
        self.model = model
        self.voice = voice
        self.language = language
        self.sample_rate = 0
        self._synth: Any = None
        self._xtts: Any = None
        self._xtts_config: Any = None
        self._latents: tuple[Any, Any] | None = None
        self._speaker: str | None = None
        self._language_name: str | None = None

    def load(self) -> dict[str, Any]:
        versions = _import_coqui()
        if self.model["kind"] == "xtts":
            self._load_xtts()
        else:
            self._load_synthesizer()
        return {
            "sample_rate": self.sample_rate,
            "kind": self.model["kind"],
            "speaker": self._speaker,
            "language": self._language_name,
            **versions,
        }

    def _load_synthesizer(self) -> None:
        from TTS.utils.synthesizer import Synthesizer

        synth = Synthesizer(
            tts_checkpoint=self.model["checkpoint"], tts_config_path=self.model["config_path"]
        )
        model = synth.tts_model
        speakers = list(getattr(getattr(model, "speaker_manager", None), "speaker_names", None) or [])
        if len(speakers) > 1 or (speakers and getattr(model, "num_speakers", 0) > 1):
            self._speaker = self.voice if self.voice in speakers else speakers[0]
        languages = list(getattr(getattr(model, "language_manager", None), "language_names", None) or [])
        if len(languages) > 1:
            self._language_name = next(
                (name for name in languages if name.split("-")[0] == self.language), None
            )
            self._language_name = self._language_name or languages[0]
        self._synth = synth
        self.sample_rate = int(synth.output_sample_rate)

    def _load_xtts(self) -> None:
        from TTS.tts.configs.xtts_config import XttsConfig
        from TTS.tts.models import xtts as xtts_module

        xtts_module.load_audio = _load_audio_mono  # no torchcodec/FFmpeg needed for speaker.wav
        config = XttsConfig()
        config.load_json(self.model["config_path"])
        model = xtts_module.Xtts(config)
        model.load_checkpoint(config, checkpoint_dir=self.model["model_dir"], eval=True)
        languages = [str(lang).split("-")[0] for lang in getattr(config, "languages", [])]
        if languages and self.language not in languages:
            raise ValueError(f"XTTS model does not list language {self.language!r} (it has {languages})")
        self._latents = model.get_conditioning_latents(
            audio_path=list(self.model["speaker_wavs"]),
            gpt_cond_len=config.gpt_cond_len,
            gpt_cond_chunk_len=config.gpt_cond_chunk_len,
            max_ref_length=config.max_ref_len,
            sound_norm_refs=config.sound_norm_refs,
        )
        self._xtts, self._xtts_config = model, config
        self._language_name = self.language
        self.sample_rate = int(config.audio.get("output_sample_rate", 24000))

    def synthesize(self, text: str) -> np.ndarray:
        import numpy as np
        import torch

        with (
            torch.inference_mode()
        ):  # scoped, not torch.set_grad_enabled: in-process it's the voicebot's torch
            if self._xtts is not None:
                assert self._latents is not None
                config = self._xtts_config
                out = self._xtts.inference(
                    text,
                    self.language,
                    self._latents[0],
                    self._latents[1],
                    temperature=config.temperature,
                    length_penalty=config.length_penalty,
                    repetition_penalty=config.repetition_penalty,
                    top_k=config.top_k,
                    top_p=config.top_p,
                    enable_text_splitting=True,
                )
                wav = out["wav"]
            else:
                wav = self._synth.tts(
                    text, speaker_name=self._speaker, language_name=self._language_name, split_sentences=True
                )
        samples = np.asarray(wav, dtype=np.float32).reshape(-1)
        return np.clip(np.nan_to_num(samples), -1.0, 1.0).astype(np.float32, copy=False)


# --------------------------------------------------------------------------------------------------
# Worker side: `python -I tts/coqui.py --worker`
# --------------------------------------------------------------------------------------------------


def _forbid_network() -> None:
    """The worker talks over pipes only; make any socket connection fail loudly instead of downloading."""
    import socket

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError("network access is disabled in the voicebot's Coqui worker (local models only)")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    socket.getaddrinfo = refuse  # type: ignore[assignment]


def _worker_main() -> int:
    # Keep stdout for the protocol only: anything TTS prints goes to stderr.
    proto = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
    _forbid_network()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    def send(header: dict[str, Any], payload: bytes = b"") -> None:
        if payload:
            header = {**header, "nbytes": len(payload)}
        proto.write(json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n")
        if payload:
            proto.write(payload)
        proto.flush()

    engine: _Engine | None = None
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        request_id = None
        try:
            request = json.loads(raw)
            request_id = request.get("id")
            op = request.get("op")
            if op == "load":
                engine = _Engine(
                    request["model"], request.get("voice"), request.get("language", DEFAULT_LANGUAGE)
                )
                send({"id": request_id, "ok": True, **engine.load()})
            elif op == "synthesize":
                if engine is None:
                    raise RuntimeError("no model loaded: send a 'load' request first")
                started = time.perf_counter()
                samples = engine.synthesize(str(request["text"]))
                header = {
                    "id": request_id,
                    "ok": True,
                    "sample_rate": engine.sample_rate,
                    "n_samples": int(samples.size),
                    "elapsed_s": time.perf_counter() - started,
                }
                send(header, samples.astype("<f4").tobytes())
            elif op == "ping":
                send({"id": request_id, "ok": True, "pid": os.getpid()})
            elif op == "shutdown":
                send({"id": request_id, "ok": True})
                break
            else:
                raise ValueError(f"unknown op {op!r}")
        except Exception as exc:
            send(
                {
                    "id": request_id,
                    "ok": False,
                    "error": str(exc)
                    if isinstance(exc, CoquiImportError)
                    else f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=20),
                }
            )
    proto.close()
    return 0


# --------------------------------------------------------------------------------------------------
# Voicebot side
# --------------------------------------------------------------------------------------------------


class _WorkerClient:
    """A worker process and the threads that drain its stdout (messages) and stderr (log tail)."""

    def __init__(self, python: str, load_request: dict[str, Any], load_timeout_s: float):
        self.python = python
        self._messages: queue.Queue[tuple[dict[str, Any], bytes] | None] = queue.Queue()
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self._next_id = 0
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
        env.update(OFFLINE_ENV)
        try:
            self.proc = subprocess.Popen(
                [python, "-I", str(Path(__file__).resolve()), "--worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                close_fds=True,
            )
        except OSError as exc:
            raise _tts_error(f"could not start the Coqui worker with {python}: {exc}") from exc
        self._finalizer = weakref.finalize(self, _kill, self.proc)
        threading.Thread(target=self._read_stdout, name="coqui-worker-out", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="coqui-worker-err", daemon=True).start()
        try:
            header, _ = self.request(load_request, load_timeout_s)
        except BaseException:
            self.kill()
            raise
        self.info = {key: value for key, value in header.items() if key not in ("id", "ok")}

    def _read_stdout(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        try:
            while line := stream.readline():
                try:
                    header = json.loads(line)
                except json.JSONDecodeError:
                    self._stderr_tail.append(f"[stdout, not protocol] {line[:200]!r}")
                    continue
                nbytes = int(header.get("nbytes", 0) or 0)
                payload = stream.read(nbytes) if nbytes else b""
                if len(payload) != nbytes:
                    break
                self._messages.put((header, payload))
        except (OSError, ValueError):
            pass
        self._messages.put(None)

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        assert stream is not None
        try:
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip()
                if line:
                    self._stderr_tail.append(line)
                    logger.debug("coqui worker: %s", line)
        except (OSError, ValueError):
            pass

    def stderr_tail(self, lines: int = 15) -> str:
        return "\n".join(list(self._stderr_tail)[-lines:])

    def request(self, payload: dict[str, Any], timeout_s: float) -> tuple[dict[str, Any], bytes]:
        self._next_id += 1
        request_id = self._next_id
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(
                json.dumps({**payload, "id": request_id}, ensure_ascii=False).encode() + b"\n"
            )
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _tts_error(self._died(f"could not send a request ({exc})")) from exc
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise _tts_error(
                    f"Coqui worker ({self.python}) gave no answer to {payload.get('op')!r} within "
                    f"{timeout_s:.0f} s and was stopped.\n{self.stderr_tail()}"
                )
            try:
                message = self._messages.get(timeout=remaining)
            except queue.Empty:
                continue
            if message is None:
                raise _tts_error(self._died(f"exited while handling {payload.get('op')!r}"))
            header, data = message
            if header.get("id") not in (request_id, None):
                continue  # a late answer to a request that timed out
            if not header.get("ok"):
                logger.debug("coqui worker traceback:\n%s", header.get("traceback", ""))
                raise _tts_error(f"Coqui worker ({self.python}) failed: {header.get('error')}")
            return header, data

    def _died(self, what: str) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        return (
            f"Coqui worker ({self.python}) {what}; exit code {code}. Is coqui_python the interpreter of a venv "
            f"where 'from TTS.api import TTS' works? Last output:\n{self.stderr_tail()}"
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, timeout_s: float = 10.0) -> None:
        if self.alive():
            try:
                self.request({"op": "shutdown"}, timeout_s)
            except Exception:
                pass
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def kill(self) -> None:
        self._finalizer()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass


def _file_stamp(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return path.name
    return f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}"


def _resolve_python(python: str) -> str:
    path = Path(python).expanduser()
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    found = shutil.which(python)
    if found:
        return found
    raise _tts_error(
        f"coqui_python {python!r} is not an executable interpreter. Point it at the python of the venv "
        "where coqui-tts works (docs/coqui.md, scripts/setup-coqui.sh), e.g. /opt/coqui-venv/bin/python."
    )


class CoquiSynthesizer(_EngineBase):
    """Neural TTS with a local Coqui model, in a worker interpreter (``coqui_python``) or in-process.

    A ``tts.base.Synthesizer``: ``synthesize`` and ``stream`` (one sentence at a time, inherited). The
    model loads on the first ``synthesize`` (or on ``load()``); synthesis is serialised, one request at
    a time per synthesizer. ``close()`` stops the worker.
    """

    name = ENGINE_NAME

    def __init__(
        self,
        config: TTSConfig,
        *,
        language: str = DEFAULT_LANGUAGE,
        load_timeout_s: float = DEFAULT_LOAD_TIMEOUT_S,
        timeout_s: float = DEFAULT_SYNTH_TIMEOUT_S,
    ):
        self.config = config
        self.model = inspect_model_dir(getattr(config, "coqui_model_dir", None))
        python = getattr(config, "coqui_python", None)
        self.python = _resolve_python(str(python)) if python else None
        self.language = language
        self.load_timeout_s = load_timeout_s
        self.timeout_s = timeout_s
        self.info: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._worker: _WorkerClient | None = None
        self._engine: _Engine | None = None
        self._closed = False

    @property
    def mode(self) -> str:
        return "worker" if self.python else "in-process"

    @property
    def settings(self) -> dict[str, object]:
        """What besides the text changes the audio (part of the prompt-cache key): the model files
        themselves (name, size, mtime, so replacing a model invalidates cached prompts), voice and language."""
        return {
            "kind": self.model.kind,
            "model_dir": str(self.model.model_dir),
            "checkpoint": _file_stamp(self.model.checkpoint),
            "config": _file_stamp(self.model.config_path),
            "speaker_wavs": [_file_stamp(p) for p in self.model.speaker_wavs],
            "voice": getattr(self.config, "voice", None),
            "language": self.language,
        }

    def load(self) -> dict[str, Any]:
        """Load the model now instead of on the first synthesis; returns what the engine reports."""
        with self._lock:
            self._ensure_loaded()
            return dict(self.info)

    def _ensure_loaded(self) -> None:
        if self._closed:
            raise _tts_error("CoquiSynthesizer is closed")
        voice = getattr(self.config, "voice", None)
        if self.python:
            if self._worker is None or not self._worker.alive():
                if self._worker is not None:
                    self._worker.kill()
                    self._worker = None
                request = {
                    "op": "load",
                    "model": self.model.to_json(),
                    "voice": voice,
                    "language": self.language,
                }
                self._worker = _WorkerClient(self.python, request, self.load_timeout_s)
                self.info = dict(self._worker.info)
        elif self._engine is None:
            engine = _Engine(self.model.to_json(), voice, self.language)
            try:
                self.info = engine.load()
            except CoquiImportError as exc:
                raise _tts_error(str(exc)) from exc
            except Exception as exc:
                raise _tts_error(f"Coqui could not load the model in {self.model.model_dir}: {exc}") from exc
            self._engine = engine

    def _run(self, text: str) -> tuple[np.ndarray, int]:
        import numpy as np

        self._ensure_loaded()
        if self._worker is not None:
            try:
                header, payload = self._worker.request({"op": "synthesize", "text": text}, self.timeout_s)
            except Exception:
                if not self._worker.alive():
                    self._worker = None
                raise
            samples = np.frombuffer(payload, dtype="<f4").astype(np.float32)
            return samples, int(header["sample_rate"])
        assert self._engine is not None
        try:
            return self._engine.synthesize(text), self._engine.sample_rate
        except Exception as exc:
            raise _tts_error(f"Coqui synthesis failed: {type(exc).__name__}: {exc}") from exc

    def synthesize(self, text: str, sample_rate: int = PIPELINE_RATE) -> Speech:
        """Speak ``text`` (normalised with normalize_korean first) as float32 mono at ``sample_rate``."""

        from tts.base import Speech, check_sample_rate, spoken_or_raise

        sample_rate = check_sample_rate(sample_rate)
        spoken = spoken_or_raise(text)
        started = time.perf_counter()
        with self._lock:
            samples, model_rate = self._run(spoken)
        return Speech.from_engine(samples, model_rate, sample_rate, text, spoken, self.name, started, "Coqui")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._worker is not None:
                self._worker.close()
                self._worker = None
            self._engine = None

    def __enter__(self) -> CoquiSynthesizer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    sys.exit(_worker_main())
