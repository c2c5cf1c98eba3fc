#!/usr/bin/env bash
# Venv for the Pipecat anchor (../shared/anchors/pipecat_latency.py) that `python -m benchmarks.latency --peer`
# runs beside our pipeline. Kept apart from .venv: Pipecat pulls its own dependency set.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${PEER_VENV:-var/peer-venv}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install "torch==2.13.0"  # the local CPU wheel; never let pipecat's deps pull a CUDA build
"${PIP[@]}" install "pipecat-ai[whisper]==1.14.0" soundfile numpy espeakng-loader "torch==2.13.0"
echo "peer venv ready: $VENV"
