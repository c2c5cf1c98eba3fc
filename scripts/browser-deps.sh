#!/usr/bin/env bash
# What tests/test_webrtc_browser.py needs on a fresh Debian machine, installing only what is missing:
# Debian's chromium (playwright's own browser download cannot work offline), a Korean font for readable
# screenshots, node and npm, and playwright-core pinned by tests/browser/package-lock.json.
# Needs root or sudo for apt.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for pkg in chromium fonts-nanum; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# npm ci writes node_modules/.package-lock.json; a newer committed lock means the pin changed.
if [ ! -f tests/browser/node_modules/playwright-core/package.json ] \
  || [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  # The tests launch /usr/bin/chromium; never download a browser build.
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
