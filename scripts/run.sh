#!/usr/bin/env bash
# Set up (if needed) and run the main job on the embedded default: `voicebot serve` with SQLite
# (var/voicebot.db), espeak-ng and Whisper base on the CPU. It serves, on http://127.0.0.1:8080,
#   /console/  the staff console (log in with the admin token written to var/admin-token on first start)
#   /call      the caller page: call the voicebot from a browser microphone
#   /docs      the REST API (OpenAPI), /healthz, /metrics
# Outbound calls are off until a dialer is chosen (outbound.dialer: sip for a SIP trunk, or simulated for a
# demo without real calls, shown as such everywhere): docs/serve.example.yaml. A fresh machine has no trunk,
# and a call centre must never take made-up results for real ones, so nothing is dialled by default.
# Extra arguments go to `voicebot serve` (e.g. --port 8090, --config serve.yaml). Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/voicebot serve "$@"
