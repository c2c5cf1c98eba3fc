#!/usr/bin/env bash
# Print the URL of a PostgreSQL server the tests may use, starting one when none answers.
#
# 1. $VOICEBOT_TEST_PG when set, else postgresql://postgres@127.0.0.1:5432/test when that server answers.
# 2. Otherwise a private throwaway cluster: Debian's postgresql package is installed if missing, and a
#    cluster with trust auth on 127.0.0.1 only is started in /tmp/voicebot-test-pg (port 55432). It keeps
#    running for later test runs; `bash scripts/test-pg.sh --stop` stops it.
set -euo pipefail
URL_DEFAULT="postgresql://postgres@127.0.0.1:5432/test"
PRIVATE_DIR=/tmp/voicebot-test-pg
PRIVATE_PORT=55432
PRIVATE_URL="postgresql://postgres@127.0.0.1:${PRIVATE_PORT}/test"

as_owner() {  # initdb and postgres refuse to run as root
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] && echo "$dir"
}

answers() {
  command -v psql >/dev/null && psql "$1" -Atqc 'select 1' >/dev/null 2>&1
}

if [ "${1:-}" = "--stop" ]; then
  bin=$(pg_bin) && [ -d "$PRIVATE_DIR/data" ] && as_owner "$bin/pg_ctl" -D "$PRIVATE_DIR/data" -m fast stop >/dev/null || true
  exit 0
fi

if [ -n "${VOICEBOT_TEST_PG:-}" ]; then echo "$VOICEBOT_TEST_PG"; exit 0; fi
if [ "${1:-}" != "--private" ] && answers "$URL_DEFAULT"; then echo "$URL_DEFAULT"; exit 0; fi
if answers "$PRIVATE_URL"; then echo "$PRIVATE_URL"; exit 0; fi

if [ -z "$(pg_bin)" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >&2
fi
bin=$(pg_bin)
mkdir -p "$PRIVATE_DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$PRIVATE_DIR"
if [ ! -s "$PRIVATE_DIR/data/PG_VERSION" ]; then
  as_owner "$bin/initdb" -D "$PRIVATE_DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >&2
fi
as_owner "$bin/pg_ctl" -D "$PRIVATE_DIR/data" -l "$PRIVATE_DIR/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=${PRIVATE_PORT} -c unix_socket_directories=${PRIVATE_DIR} -c fsync=off" \
  start >&2
psql "postgresql://postgres@127.0.0.1:${PRIVATE_PORT}/postgres" -Atqc "select 1 from pg_database where datname='test'" \
  | grep -q 1 || psql "postgresql://postgres@127.0.0.1:${PRIVATE_PORT}/postgres" -qc "create database test" >&2
echo "$PRIVATE_URL"
