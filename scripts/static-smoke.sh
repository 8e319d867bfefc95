#!/usr/bin/env bash
# static-smoke.sh TIDINGS_BINARY: the shipped static configuration (deploy/nginx-static.conf)
# serving `tidings build`'s export, tested against `tidings serve` on the same content.
#
# For the sample site (content/, feeds/) and a Jekyll site (tests/data/jekyll, with
# jekyll-feed's old URLs), every feed URL the export holds (every format, every page as
# `?page=N`, `/feed.xml` and `/feed/CATEGORY.xml` too), the OPML list and the home page are
# asked of nginx and of `tidings serve` as a reader, a gzip reader, a browser and a
# conditional request would ask, and must get:
#   - the same status and Content-Type as serve, and the same bytes;
#   - gzip bytes (Content-Encoding: gzip) that decompress to those bytes;
#   - for a browser (Sec-Fetch-Dest: document, Accept: text/html) at a feed's URL: an HTML
#     page, as serve gives;
#   - a 304 to If-None-Match with the entity tag nginx sent.
# The configuration is used as shipped: only `listen` and `root` are replaced (checked), and
# it is wrapped in a minimal nginx.conf (daemon off, pid, log and temp paths in a temporary
# directory).
#
# Needs: nginx (nginx-light is enough), python3; nginx is installed with apt-get when
# missing (root). KEEP=1 keeps the temporary directory. Exit 0 only if every check passed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-${TIDINGS_BINARY:-}}
SHIPPED=$ROOT/deploy/nginx-static.conf
BASE_URL=http://static.example

die() { echo "static-smoke: error: $*" >&2; exit 2; }
[ -n "$BIN" ] || die "usage: $0 TIDINGS_BINARY (or set TIDINGS_BINARY)"
[ -x "$BIN" ] || die "not an executable: $BIN"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

# shellcheck source=scripts/shipped-config.sh
. "$ROOT/scripts/shipped-config.sh"    # apt_install, subst

if ! command -v nginx >/dev/null; then
    [ "$(id -u)" = 0 ] || die "nginx is missing and installing it needs root: apt-get install nginx-light"
    echo "static-smoke: installing nginx-light"
    apt_install nginx-light
fi
command -v nginx >/dev/null || die "nginx is still missing"
command -v python3 >/dev/null || die "python3 is missing"

T=$(mktemp -d /tmp/tidings-static.XXXXXX)
chmod 755 "$T"    # nginx workers read the export below it
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then echo "static-smoke: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # wait_http URL SECONDS
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
failures=0
# site NAME CONTENT [FEEDS]: export, serve, nginx, compare.
site() {
    local name=$1 content=$2 feeds=${3:-} out dir nport sport
    out="$T/$name"
    dir="$T/nginx-$name"
    local feeds_args=()
    [ -z "$feeds" ] || feeds_args=(--feeds "$feeds")
    "$BIN" build --content "$content" "${feeds_args[@]}" --out "$out" --base-url "$BASE_URL" >"$T/$name-build.log" 2>&1 \
        || { cat "$T/$name-build.log" >&2; die "$name: tidings build failed"; }
    chmod -R a+rX "$out"
    sport=$(free_port)
    "$BIN" serve --content "$content" "${feeds_args[@]}" --base-url "$BASE_URL" --addr "127.0.0.1:$sport" \
        --watch off >"$T/$name-serve.log" 2>&1 &
    PIDS+=($!)
    nport=$(free_port)
    mkdir -p "$dir/tmp"
    cp "$SHIPPED" "$dir/static.conf"
    subst 1 "$dir/static.conf" 's|^\(    listen \)127\.0\.0\.1:18181;|\1127.0.0.1:'"$nport"';|'
    subst 1 "$dir/static.conf" 's|^\(    root \)/srv/tidings-site;|\1'"$out"';|'
    local user=""
    [ "$(id -u)" != 0 ] || user="user www-data;"
    cat >"$dir/nginx.conf" <<EOF
# test wrapper around deploy/nginx-static.conf; see scripts/static-smoke.sh
daemon off;
$user
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log notice;
events { worker_connections 256; }
http {
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    access_log off;
    include $dir/static.conf;
}
EOF
    [ "$(id -u)" != 0 ] || chown -R www-data "$dir/tmp"
    nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" || die "$name: nginx -t failed"
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
    PIDS+=($!)
    wait_http "http://127.0.0.1:$nport/" 10 || { cat "$dir/error.log" >&2; die "$name: nginx did not start"; }
    wait_http "http://127.0.0.1:$sport/readyz" 60 || { cat "$T/$name-serve.log" >&2; die "$name: serve did not start"; }
    python3 "$ROOT/scripts/static-compare.py" "$name" "$out" "127.0.0.1:$nport" "127.0.0.1:$sport" || failures=$((failures + 1))
}

echo "static-smoke: $("$BIN" --version 2>/dev/null || echo tidings) from $BIN; $(nginx -v 2>&1); work dir $T"
site sample "$ROOT/content" "$ROOT/feeds"
site jekyll "$ROOT/tests/data/jekyll"
if [ "$failures" = 0 ]; then
    echo "static-smoke: both sites: nginx with the shipped configuration gives what serve gives"
else
    echo "static-smoke: FAILED for $failures site(s)"
    exit 1
fi
