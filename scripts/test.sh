#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian/Ubuntu machine, then run it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/test-deps.sh
# PostgreSQL for the deployment-path tests: the local server, or a private one started here.
VOICEBOT_TEST_PG="$(bash scripts/test-pg.sh)"
export VOICEBOT_TEST_PG VOICEBOT_REQUIRE_PG=1
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
