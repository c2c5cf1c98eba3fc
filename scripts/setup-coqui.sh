#!/usr/bin/env bash
# Build an isolated venv in which Coqui TTS works, for TTSConfig.coqui_python. See docs/coqui.md.
#   bash scripts/setup-coqui.sh [VENV_DIR]            # default /opt/coqui-venv; venv A: torch 2.13.0 CPU, ~1.8 GB
#   COQUI_TORCH=2.9.1 bash scripts/setup-coqui.sh     # venv B: torch/torchaudio 2.9.1 (CUDA build), ~7.6 GB
# Never run it against the project's .venv: it would change torch there.
set -euo pipefail

VENV="${1:-${COQUI_VENV:-/opt/coqui-venv}}"
PYTHON="${PYTHON:-python3.11}"
COQUI_VERSION="${COQUI_VERSION:-0.28.0}"
COQUI_TORCH="${COQUI_TORCH:-2.13.0}"

case "$COQUI_TORCH" in
  2.13.0) TORCHAUDIO=2.11.0; TORCHCODEC=0.17.0 ;;  # torchaudio 2.11.0 has no torch pin; its .so files are removed below
  2.9.1)  TORCHAUDIO=2.9.1;  TORCHCODEC=0.8.1 ;;
  *) echo "COQUI_TORCH must be 2.13.0 or 2.9.1" >&2; exit 2 ;;
esac

if [ -e "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(0 if "/.venv" in sys.prefix else 1)'; then
  echo "refusing to install Coqui into a project .venv ($VENV)" >&2; exit 2
fi

"$PYTHON" -m venv "$VENV"
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
# pip may not move torch: a constraints file pins it (and the matching torchaudio/torchcodec).
printf 'torch==%s\ntorchaudio==%s\ntorchcodec==%s\n' "$COQUI_TORCH" "$TORCHAUDIO" "$TORCHCODEC" > "$constraints"
# torch 2.13.0 is the CPU wheel on this project's machines (local find-links). Elsewhere add
#   --extra-index-url https://download.pytorch.org/whl/cpu   to get the CPU build instead of PyPI's CUDA one.
"$VENV/bin/pip" install -c "$constraints" \
  "torch==$COQUI_TORCH" "torchaudio==$TORCHAUDIO" "torchcodec==$TORCHCODEC" \
  "coqui-tts==$COQUI_VERSION" six   # six: imported by coqui-tts 0.28.0 but not declared

site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
if [ "$COQUI_TORCH" = "2.13.0" ]; then
  # PyPI's torchaudio is a CUDA build; its native extension needs libc10_cuda.so, which a CPU torch lacks.
  # Without the .so files torchaudio imports as pure Python, which is all Coqui's VITS/XTTS inference uses.
  rm -f "$site"/torchaudio/lib/*.so
fi

HF_HUB_OFFLINE=1 COQUI_TOS_AGREED=1 "$VENV/bin/python" - <<'PY'
import torch, torchaudio, TTS
from TTS.utils.synthesizer import Synthesizer  # imports torchaudio and the VITS model code
from TTS.tts.models.xtts import Xtts  # noqa: F401
mel = torchaudio.transforms.MelSpectrogram(sample_rate=22050, n_fft=1024, n_mels=80)(torch.zeros(1, 22050))
print(f"coqui-tts {TTS.__version__}, torch {torch.__version__}, torchaudio {torchaudio.__version__}: OK")
PY
du -sh "$VENV"
echo "Set TTSConfig.coqui_python to $VENV/bin/python"
