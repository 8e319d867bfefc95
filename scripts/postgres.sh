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
#
# TIDINGS_PG_SSL=1 turns TLS on: a throwaway authority ($TIDINGS_PG_DIR/ssl/root.crt, for
# sslrootcert=…) and a server certificate it signed for localhost and 127.0.0.1, made with
# openssl on first use. Plain connections are still accepted (sslmode=disable). A cluster
# already running without TLS is restarted with it.
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

# The throwaway authority and the server's certificate, under $DIR/ssl.
make_certificates() {
  command -v openssl >/dev/null || die "TIDINGS_PG_SSL=1 needs openssl: apt-get install openssl"
  local ssl="$DIR/ssl"
  [ -f "$ssl/server.crt" ] && return
  mkdir -p "$ssl"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=tidings test authority" \
    -keyout "$ssl/root.key" -out "$ssl/root.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$ssl/server.key" -out "$ssl/server.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' \
    >"$ssl/server.ext"
  openssl x509 -req -in "$ssl/server.csr" -CA "$ssl/root.crt" -CAkey "$ssl/root.key" -CAcreateserial \
    -days 3650 -extfile "$ssl/server.ext" -out "$ssl/server.crt" 2>/dev/null
  chmod 600 "$ssl/server.key" "$ssl/root.key"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$ssl"
  say "TLS authority: $ssl/root.crt"
}

case "${1:-}" in
  start)
    mkdir -p "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      as_owner "$BIN/initdb" -D "$DIR/data" -U tidings -A trust --no-sync >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    fi
    OPTIONS="-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off"
    if [ "${TIDINGS_PG_SSL:-}" = 1 ]; then
      make_certificates
      OPTIONS="$OPTIONS -c ssl=on -c ssl_cert_file=$DIR/ssl/server.crt -c ssl_key_file=$DIR/ssl/server.key"
      if as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1 \
        && [ "$(as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U tidings -d postgres -tAc 'SHOW ssl')" != on ]; then
        say "restarting with TLS on"
        as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >&2
      fi
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 -o "$OPTIONS" start >&2 \
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
