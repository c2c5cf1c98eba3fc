#!/usr/bin/env bash
# System packages and services the tests talk to. Installs only what is missing; needs root or sudo for apt.
set -euo pipefail
APT_PACKAGES=(baresip sip-tester kamailio)  # SIP peers for tests/test_sip.py
APT_PACKAGES+=(poppler-utils fonts-nanum)  # voicebot report's Korean font; pdftotext for tests/test_report.py
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
bash "$(dirname "$0")/browser-deps.sh"  # Chromium, a Korean font and playwright-core for the browser tests
