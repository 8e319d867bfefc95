#!/usr/bin/env bash
# postgres.sh: a throwaway PostgreSQL server on 127.0.0.1 for the tests of `--database postgres://`.
#
# Usage: scripts/postgres.sh start   prints the connection URL on stdout (the last line)
#        scripts/postgres.sh stop
#
# Uses Debian's PostgreSQL (the newest /usr/lib/postgresql/*/bin), installing the
# `postgresql` package if there is none. The cluster lives in $TIDINGS_PG_DIR (default
# /tmp/tidings-pg), owned by the `postgres` user when run as root, with trust
# authentication for 127.0.0.1 only, and listens on $TIDINGS_PG_PORT (default 55432).
# `start` on a running cluster only prints the URL again.
set -euo pipefail

DIR=${TIDINGS_PG_DIR:-/tmp/tidings-pg}
PORT=${TIDINGS_PG_PORT:-55432}
URL="postgres://tidings@127.0.0.1:$PORT/tidings"

say() { printf 'postgres: %s\n' "$*" >&2; }
die() { printf 'postgres: error: %s\n' "$*" >&2; exit 1; }

bindir() { find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1; }

if [ -z "$(bindir)" ]; then
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL is not installed and installing needs root: apt-get install postgresql"
  say "apt-get install postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends postgresql >&2
fi
BIN=$(bindir)
[ -x "$BIN/pg_ctl" ] || die "no pg_ctl under /usr/lib/postgresql"

# PostgreSQL refuses to run as root: run its tools as `postgres` then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    mkdir -p "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      as_owner "$BIN/initdb" -D "$DIR/data" -U tidings -A trust --no-sync >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >&2 \
        || { tail -20 "$DIR/server.log" >&2; die "PostgreSQL did not start (log: $DIR/server.log)"; }
    fi
    as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U tidings -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'tidings'" | grep -q 1 \
      || as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U tidings tidings
    say "PostgreSQL $("$BIN/pg_ctl" --version | awk '{print $3}') at $URL"
    echo "$URL"
    ;;
  stop)
    if [ -f "$DIR/data/PG_VERSION" ]; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >&2 || true
    fi
    ;;
  *) die "usage: $0 start|stop" ;;
esac
