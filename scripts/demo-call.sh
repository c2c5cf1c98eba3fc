#!/usr/bin/env bash
# The voicebot end to end without a server (SQLite, espeak-ng, Whisper base, CPU):
#   1. the dialog manager answering a typed question (what a caller asking about a lost wallet hears);
#   2. one complete simulated inbound call: the caller speaks over the greeting (a real Korean recording
#      from ../shared/audio when present), the bot hears it through VAD -> Whisper, answers or asks back,
#      then the caller presses # for the main menu; bot audio and a stereo recording go to var/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p var/demo
.venv/bin/voicebot ask "버스에 지갑을 두고 내렸어요. 어디서 찾을 수 있나요?"
caller=../shared/audio/ko_zeroth_104_003_0374.wav
if [ ! -f "$caller" ]; then  # no recordings here: the bot's own voice plays the caller
  caller=var/demo/caller.wav
  .venv/bin/voicebot say "상담원 연결해 주세요." --out "$caller" >/dev/null
fi
exec .venv/bin/voicebot call "$caller" --delay 2 --fast --dtmf "#@25" \
  --out var/demo/bot.wav --record var/demo/call.wav "$@"
