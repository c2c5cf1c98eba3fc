#!/usr/bin/env bash
# Set up (if needed) and run the main job on the embedded default (SQLite, espeak-ng, Whisper base, CPU).
# Until `voicebot serve` exists this runs one complete simulated inbound call: a caller asks about a lost
# wallet and later presses * to hear the menu again; the bot answers through VAD -> Whisper -> dialog -> TTS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p var/demo
.venv/bin/voicebot say "버스에 지갑을 두고 내렸어요. 어디서 찾을 수 있나요?" --out var/demo/caller.wav >/dev/null
exec .venv/bin/voicebot call var/demo/caller.wav --delay 4 --fast --dtmf "*@45" \
  --out var/demo/bot.wav --record var/demo/call.wav "$@"
