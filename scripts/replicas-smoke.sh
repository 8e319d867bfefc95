#!/usr/bin/env bash
# replicas-smoke.sh TIDINGS_BINARY: two tidings replicas behind the shipped nginx cache
# (deploy/nginx-replicas.conf), tested for real on 127.0.0.1.
#
# What it proves (each check prints ok/FAIL, figures are printed as they are measured):
#   a. Both replicas, serving one copy of content/ and feeds/ with the same --base-url, send
#      identical ETag and Last-Modified (and every other header but Date and x-tidings-cache) for
#      every feed /feeds.opml lists, in RSS, Atom and JSON, as identity, gzip and br.
#   b. Through nginx: MISS, then HIT; after max-age the revalidation goes to the OTHER
#      replica, which answers 304 (nginx log: REVALIDATED, upstream_status=304; that
#      replica's tidings_http_requests_total{status="304"} goes up). Vary and the strong
#      ETag reach clients; /healthz is answered, /metrics and /diagnostics are not exposed.
#   c. Under wrk through nginx (feeds with max-age 2 s, plus /healthz, which is never
#      cached, so replicas see live traffic): a replica SIGKILLed at 3 s and restarted at 6 s
#      costs 0 non-2xx responses and 0 socket errors; so does a SIGTERM rolling restart of
#      each replica in turn (and each replica exits 0 on SIGTERM).
#   d. An edited post title reaches clients through the cache within max-age + 2 s (nginx
#      keeps expiry times in whole seconds, so up to max-age + 1 s is expected).
#   e. With both replicas stopped, an expired cached feed is still served (STALE) and a URL
#      never cached gets 502/504.
#   f. Cache-hit rate: 600 requests, round robin over 14 real reader and browser request
#      headers (sources below), through (i) a naive cache that honours Vary (the shipped
#      config minus the view/Vary normalisation) and (ii) the shipped config: upstream
#      fetches and hit rates of both (nginx's log and the replicas' own counters agree),
#      every reader gets the feed's own Content-Type and bytes, every browser navigation
#      gets text/html (this last check needs a tidings with the browser view).
#
# The shipped config is used as written except for the values its header marks ADAPT,
# which are substituted with sed (each must match exactly once). The test wraps it in a
# minimal nginx.conf (daemon off, pid/log/temp paths in a temporary directory, and
# log_subrequest on so that background revalidations are logged).
#
# Usage: scripts/replicas-smoke.sh /path/to/tidings   (or TIDINGS_BINARY=... scripts/...)
# Needs: nginx (nginx-light is enough), wrk, curl; installed with apt-get when missing
# (root). Runs as root (nginx workers run as www-data, which owns the cache directory).
# Every server listens on 127.0.0.1 on a free port and is stopped by PID on exit; every
# wait is bounded and the whole run is limited to REPLICAS_SMOKE_LIMIT seconds (200).
# KEEP=1 keeps the temporary directory (logs, nginx configs). Exit 0 only if all passed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-${TIDINGS_BINARY:-}}
SHIPPED=${REPLICAS_SMOKE_CONF:-$ROOT/deploy/nginx-replicas.conf}    # override only for experiments
LIMIT=${REPLICAS_SMOKE_LIMIT:-200}
MAX_AGE=2          # seconds, written into the copied site.yaml
START=$SECONDS

die() { echo "replicas-smoke: error: $*" >&2; exit 2; }
[ -n "$BIN" ] || die "usage: $0 TIDINGS_BINARY (or set TIDINGS_BINARY)"
[ -x "$BIN" ] || die "not an executable: $BIN"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
[ -f "$SHIPPED" ] || die "missing $SHIPPED"
[ "$(id -u)" = 0 ] || die "run as root (nginx workers switch to www-data)"

# shellcheck source=scripts/shipped-config.sh
. "$ROOT/scripts/shipped-config.sh"    # apt_install, subst

# ------------------------------------------------------------------ install (idempotent)
missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "replicas-smoke: installing ${missing[*]}"
    apt_install "${missing[@]}"
fi
for tool in nginx wrk curl awk sed sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is still missing"
done

# ------------------------------------------------------------------ bookkeeping
checks=0
failures=0
ok() { checks=$((checks + 1)); printf 'ok   %s\n' "$*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); printf 'FAIL %s\n' "$*"; }
check() { # check "description" command... : ok when the (simple) command succeeds
    local what=$1; shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
verdict() { # verdict "description" "$?"-style status, for compound conditions:
    # if cond1 && cond2; then verdict "..." 0; else verdict "..." 1; fi
    if [ "$2" = 0 ]; then ok "$1"; else fail "$1"; fi
}
info() { printf '     %s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }

T=$(mktemp -d /tmp/tidings-replicas.XXXXXX)
chmod 755 "$T"    # nginx workers (www-data) reach their cache and temp dirs below it
SITE="$T/site"
declare -a RPID=() RPORT=()
declare -A NGINX_PID=()
WRK_PID=""
WATCHDOG_PID=""

stop_pid() { # stop_pid PID SIGNAL SECONDS: signal, wait up to SECONDS, then SIGKILL
    local pid=$1 sig=$2 secs=$3 i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? name i
    trap - EXIT
    [ -z "$WRK_PID" ] || stop_pid "$WRK_PID" TERM 2
    for name in "${!NGINX_PID[@]}"; do stop_pid "${NGINX_PID[$name]}" QUIT 5; done
    for i in "${!RPID[@]}"; do stop_pid "${RPID[$i]}" TERM 5; done
    [ -z "$WATCHDOG_PID" ] || { kill "$WATCHDOG_PID" 2>/dev/null || true; wait "$WATCHDOG_PID" 2>/dev/null || true; }
    if [ "${KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
        echo "replicas-smoke: logs and configs kept in $T"
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "replicas-smoke: interrupted" >&2; exit 130' INT TERM

watchdog() { # bounded by LIMIT; sleeps in 1 s steps so that nothing long outlives it
    local end=$((SECONDS + LIMIT))
    while [ "$SECONDS" -lt "$end" ]; do sleep 1; done
    echo "replicas-smoke: time limit of ${LIMIT}s reached, stopping" >&2
    kill -TERM $$
}
watchdog &
WATCHDOG_PID=$!

used_ports=" "
free_port() { # a port on 127.0.0.1 that nothing answers on and that this run has not taken
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 30000))
        case "$used_ports" in *" $p "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            used_ports+="$p "
            echo "$p"
            return 0
        fi
    done
    die "no free port found"
}

# curl with a deadline; prints nothing of its own on errors
c() { curl -sS --max-time 5 "$@"; }

# ------------------------------------------------------------------ the site
mkdir -p "$SITE"
cp -r "$ROOT/content" "$ROOT/feeds" "$SITE/"
set_max_age() { # set_max_age SECONDS: rewrite (or add) max_age in the copied site.yaml
    local y="$SITE/feeds/site.yaml"
    if grep -q '^max_age:' "$y"; then
        sed -i "s/^max_age:.*/max_age: $1/" "$y"
    else
        printf 'max_age: %s\n' "$1" >>"$y"
    fi
}
set_max_age "$MAX_AGE"

RPORT=("$(free_port)" "$(free_port)")
FRONT_PORT=$(free_port)
FRONT="http://127.0.0.1:$FRONT_PORT"
R=("http://127.0.0.1:${RPORT[0]}" "http://127.0.0.1:${RPORT[1]}")

wait_http() { # wait_http URL SECONDS: until the URL answers 200
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        if curl -fsS --max-time 1 -o /dev/null "$1" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

start_replica() { # start_replica INDEX
    local i=$1
    # Behind the nginx front every connection comes from 127.0.0.1: one address may hold
    # every slot (the per-address cap is for clients met directly).
    "$BIN" serve --content "$SITE/content" --feeds "$SITE/feeds" \
        --addr "127.0.0.1:${RPORT[$i]}" --base-url "$FRONT" --max-connections-per-address 1024 \
        >>"$T/replica$i.log" 2>&1 &
    RPID[i]=$!
    wait_http "${R[$i]}/readyz" 15 || { tail -5 "$T/replica$i.log" >&2; die "replica $i did not become ready"; }
}

STOP_RC=""
stop_replica() { # stop_replica INDEX SIGNAL: waits (15 s at most, then SIGKILL); exit status in STOP_RC
    local i=$1 sig=$2 pid=${RPID[$1]} n
    kill "-$sig" "$pid"
    for ((n = 0; n < 150; n++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    STOP_RC=0
    wait "$pid" || STOP_RC=$?
    RPID[i]=""
}

metric() { # metric INDEX SERIES: a counter's value on one replica (0 when absent)
    c "${R[$1]}/metrics" | awk -v s="$2" '$1 == s { v = $2 } END { print v + 0 }'
}
feed_requests() { # every response a replica has counted but its ops endpoints' (feeds, and
    # the browser view, which tidings counts as route="view"), any status
    c "${R[$1]}/metrics" | awk '/^tidings_http_requests_total\{/ && !/route="ops"/ { v += $2 } END { print v + 0 }'
}

# ------------------------------------------------------------------ nginx fronts
# make_front NAME PORT SOURCE_CONF: substitute the ADAPT values, wrap, start, wait
make_front() {
    local name=$1 port=$2 src=$3 dir out
    dir="$T/nginx-$name"
    mkdir -p "$dir/cache" "$dir/tmp"
    chown -R www-data "$dir/cache" "$dir/tmp"
    out="$dir/tidings.conf"
    cp "$src" "$out"
    # each replica is listed twice: once as a server, once as a backup
    subst 2 "$out" 's|^\(    server \)127\.0\.0\.1:8081\( \)|\1127.0.0.1:'"${RPORT[0]}"'\2|'
    subst 2 "$out" 's|^\(    server \)127\.0\.0\.1:8082\( \)|\1127.0.0.1:'"${RPORT[1]}"'\2|'
    subst 1 "$out" 's|^proxy_cache_path /var/cache/nginx/tidings |proxy_cache_path '"$dir"'/cache |'
    subst 1 "$out" 's|^\(    listen \)80;|\1127.0.0.1:'"$port"';|'
    subst 1 "$out" 's|^\(    server_name \)feeds\.example\.org;|\1127.0.0.1;|'
    subst 1 "$out" 's|/var/log/nginx/tidings-access\.log|'"$dir"'/access.log|'
    cat >"$dir/nginx.conf" <<EOF
# test wrapper around $(basename "$src"); see scripts/replicas-smoke.sh
daemon off;
user www-data;
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log notice;
events { worker_connections 1024; }
http {
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    log_subrequest on;    # background revalidations appear in the access log
    include $out;
}
EOF
    nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" || die "nginx -t failed for $name"
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
    NGINX_PID[$name]=$!
    wait_http "http://127.0.0.1:$port/healthz" 10 || { cat "$dir/error.log" >&2; die "nginx $name did not start"; }
}
stop_front() { stop_pid "${NGINX_PID[$1]}" QUIT 5; unset "NGINX_PID[$1]"; }

# ================================================================== start
echo "replicas-smoke: $("$BIN" --version 2>/dev/null || echo tidings) from $BIN; $(nginx -v 2>&1); $(wrk -v 2>&1 | head -1 | cut -c1-30)"
echo "replicas-smoke: replicas on :${RPORT[0]} and :${RPORT[1]}, nginx on :$FRONT_PORT, max_age $MAX_AGE s, work dir $T"
start_replica 0
start_replica 1
make_front main "$FRONT_PORT" "$SHIPPED"
LOG="$T/nginx-main/access.log"

# ------------------------------------------------------------------ a. identical replicas
step "a. both replicas send the same validators for every feed"
mapfile -t OPML_PATHS < <(c "${R[0]}/feeds.opml" | grep -o 'xmlUrl="[^"]*"' | sed -e 's/^xmlUrl="//' -e 's/"$//' -e "s#^$FRONT##")
FEEDS=()
for p in "${OPML_PATHS[@]}"; do
    base=${p%.*}
    FEEDS+=("$base.rss" "$base.atom" "$base.json")
done
headers_of() { # headers_of URL CODING: status line, then sorted headers (names lower-cased) without Date and x-tidings-cache
    local ae=() raw
    [ "$2" = identity ] || ae=(-H "Accept-Encoding: $2")
    raw=$(c -o /dev/null -D - "${ae[@]}" "$1" | tr -d '\r') || true
    head -1 <<<"$raw"
    tail -n +2 <<<"$raw" | awk '/:/ { i = index($0, ":"); n = tolower(substr($0, 1, i - 1)); if (n != "date" && n != "x-tidings-cache") print n substr($0, i) }' | sort
}
compared=0 bad_validators=0 bad_other=0 bad_status=0 distinct_fail=0
for p in "${FEEDS[@]}"; do
    tags=""
    for coding in identity gzip br; do
        h0=$(headers_of "${R[0]}$p" "$coding")
        h1=$(headers_of "${R[1]}$p" "$coding")
        compared=$((compared + 1))
        case "$(head -1 <<<"$h0") $(head -1 <<<"$h1")" in
            *" 200 "*" 200 "*) ;;
            *) bad_status=$((bad_status + 1)); info "not 200 on both: $p ($coding)"; continue ;;
        esac
        v0=$(grep -E '^(etag|last-modified):' <<<"$h0" || true)
        v1=$(grep -E '^(etag|last-modified):' <<<"$h1" || true)
        if [ "$v0" != "$v1" ] || [ "$(wc -l <<<"$v0")" != 2 ]; then
            bad_validators=$((bad_validators + 1)); info "validators differ: $p ($coding): ${v0//$'\n'/; } vs ${v1//$'\n'/; }"
        elif [ "$h0" != "$h1" ]; then
            bad_other=$((bad_other + 1)); info "other headers differ: $p ($coding): $(diff <(echo "$h0") <(echo "$h1") | grep '^[<>]' | tr '\n' ' ')"
        fi
        tags+=" $(sed -n 's/^etag: //p' <<<"$h0")"
    done
    # shellcheck disable=SC2086 # word splitting intended: one tag per word
    [ "$(printf '%s\n' $tags | sort -u | wc -l)" = 3 ] || { distinct_fail=$((distinct_fail + 1)); info "not three distinct ETags for $p:$tags"; }
done
info "${#OPML_PATHS[@]} feeds in /feeds.opml x 3 formats x 3 codings = $compared responses compared per replica"
check "a: /feeds.opml lists feeds (${#OPML_PATHS[@]})" [ "${#OPML_PATHS[@]}" -gt 0 ]
check "a: every one of the $compared responses is 200 on both replicas" [ "$bad_status" = 0 ]
check "a: ETag and Last-Modified identical on both replicas ($compared responses)" [ "$bad_validators" = 0 ]
check "a: all other headers identical too (Date and x-tidings-cache aside)" [ "$bad_other" = 0 ]
check "a: each feed has three distinct strong ETags (identity, gzip, br)" [ "$distinct_fail" = 0 ]

# ------------------------------------------------------------------ b. MISS, HIT, revalidation
step "b. through nginx: MISS, HIT, then a 304 revalidation on the other replica"
front_get() { # front_get PATH [curl args...]: headers of a GET through the main front
    local p=$1; shift
    c -o /dev/null -D - "$@" "$FRONT$p" | tr -d '\r'
}
hval() { awk -v n="$1" 'BEGIN { n = tolower(n) } { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 2) } } END { print v }'; }
B_PATH=/feed.atom
h1=$(front_get "$B_PATH" -H 'Accept-Encoding: gzip')
miss_line=""
for ((i = 0; i < 20; i++)); do    # nginx logs after the response; give it a moment
    miss_line=$(grep -F "\"GET $B_PATH HTTP/1.1\"" "$LOG" | grep 'ae=gzip' | grep 'cache=MISS' | tail -1 || true)
    [ -z "$miss_line" ] || break
    sleep 0.05
done
h2=$(front_get "$B_PATH" -H 'Accept-Encoding: gzip')
x1=$(hval x-cache <<<"$h1"); x2=$(hval x-cache <<<"$h2")
info "1st request: X-Cache $x1 ($(sed -n 's/.*\(upstream=[^ ]*\).*/\1/p' <<<"$miss_line")); 2nd: X-Cache $x2"
check "b: first request is a MISS, second a HIT" [ "$x1 $x2" = "MISS HIT" ]
vary_front=$(hval vary <<<"$h2")
vary_origin=$(c -o /dev/null -D - -H 'Accept-Encoding: gzip' "${R[0]}$B_PATH" | tr -d '\r' | hval vary)
if [ -n "$vary_front" ] && [ "$vary_front" = "$vary_origin" ]; then st=0; else st=1; fi
verdict "b: clients still get tidings' Vary ('$vary_front')" "$st"
etag2=$(hval etag <<<"$h2")
if [ "$etag2" = "$(hval etag <<<"$h1")" ] && [[ "$etag2" == \"* ]]; then st=0; else st=1; fi
verdict "b: nginx passes tidings' strong ETag unchanged ($etag2)" "$st"
miss_up=$(sed -n 's/.*upstream=\([^ ]*\).*/\1/p' <<<"$miss_line")
if [ "$miss_up" = "127.0.0.1:${RPORT[0]}" ]; then other=1; else other=0; fi
before304=$(metric "$other" 'tidings_http_requests_total{route="feed",status="304"}')
lines_before=$(wc -l <"$LOG")
sleep $((MAX_AGE + 1))
h3=$(front_get "$B_PATH" -H 'Accept-Encoding: gzip')
x3=$(hval x-cache <<<"$h3")
reval=""
for ((i = 0; i < 30; i++)); do
    reval=$(tail -n +"$((lines_before + 1))" "$LOG" | grep -F "\"GET $B_PATH HTTP/1.1\"" | grep 'ae=gzip' | grep 'cache=REVALIDATED' | tail -1 || true)
    [ -z "$reval" ] || break
    sleep 0.1
done
after304=$(metric "$other" 'tidings_http_requests_total{route="feed",status="304"}')
reval_up=$(sed -n 's/.*upstream=\([^ ]*\) upstream_status=\([^ ]*\).*/\1 \2/p' <<<"$reval")
info "after ${MAX_AGE}s: X-Cache $x3; revalidation logged as: ${reval:-none}"
info "304s counted by the other replica (:${RPORT[$other]}): $before304 -> $after304"
if [[ "$x3" =~ ^(STALE|UPDATING|REVALIDATED)$ ]]; then st=0; else st=1; fi
verdict "b: the expired copy is served at once (X-Cache $x3)" "$st"
if [ -n "$reval" ] && [ "$reval_up" = "127.0.0.1:${RPORT[$other]} 304" ]; then st=0; else st=1; fi
verdict "b: nginx revalidated with a 304 from the other replica (${reval_up:-none}; cached from $miss_up)" "$st"
check "b: that replica's own counter saw the 304" [ "$after304" -gt "$before304" ]
codes=$(for p in /healthz /metrics /diagnostics; do c -o /dev/null -w '%{http_code} ' "$FRONT$p" || true; done)
check "b: through nginx /healthz answers, /metrics and /diagnostics do not (${codes% })" [ "$codes" = "200 404 404 " ]
h4=$(front_get "$B_PATH" -H 'Accept-Encoding: gzip')
check "b: afterwards a HIT again with the same ETag" [ "$(hval x-cache <<<"$h4") $(hval etag <<<"$h4")" = "HIT $(hval etag <<<"$h1")" ]

# ------------------------------------------------------------------ d. an edit through the cache
step "d. an edited post reaches clients through the cache within max-age + 2 s"
POST=$(find "$SITE/content/_posts" -name '*.md' | sort | tail -1)
old_title=$(sed -n 's/^title: *//p' "$POST" | head -1)
new_title="$old_title (edited $$)"
front_body() { c -H 'Accept: application/atom+xml' "$FRONT/feed.atom" || true; }
front_body >/dev/null; front_body >/dev/null    # the identity copy is cached and fresh
awk -v t="$new_title" '!done && /^title:/ { print "title: " t; done = 1; next } { print }' "$POST" >"$T/edited.md"
mv "$T/edited.md" "$POST"
t0=$(date +%s%N)
seen=""
for ((i = 0; i < (MAX_AGE + 6) * 20; i++)); do
    body=$(front_body)
    if grep -qF "$new_title" <<<"$body"; then seen=$(date +%s%N); break; fi
    sleep 0.05
done
if [ -n "$seen" ]; then
    delay_ms=$(((seen - t0) / 1000000))
    info "the new title '$new_title' came through nginx ${delay_ms} ms after the file was replaced"
    check "d: edit visible through the cache after ${delay_ms} ms (limit $(((MAX_AGE + 2) * 1000)) ms)" [ "$delay_ms" -le $(((MAX_AGE + 2) * 1000)) ]
else
    fail "d: edit not visible through the cache within $((MAX_AGE + 6)) s"
fi
e0=$(headers_of "${R[0]}/feed.atom" gzip | grep '^etag:' || true)
e1=$(headers_of "${R[1]}/feed.atom" gzip | grep '^etag:' || true)
if [ -n "$e0" ] && [ "$e0" = "$e1" ] && [ "$e0" != "etag: $(hval etag <<<"$h1")" ]; then st=0; else st=1; fi
verdict "d: both replicas reloaded to the same new ETag ($e0)" "$st"

# ------------------------------------------------------------------ c. load while replicas die
step "c. wrk through nginx while replicas are killed and restarted"
cat >"$T/wrk.lua" <<'EOF'
-- Cycles over the paths in $WRK_PATHS (Accept-Encoding: gzip) and counts statuses.
-- Globals, not locals: done() reads each thread's `statuses` with thread:get().
paths, n, statuses, threads = {}, 0, {}, {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
  n = math.random(#paths)
end
function request()
  n = n % #paths + 1
  return wrk.format("GET", paths[n], { ["Accept-Encoding"] = "gzip" })
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("status %d %d\n", k, v)) end
end
EOF
{
    for p in "${FEEDS[@]}"; do case "$p" in *.atom) echo "$p" ;; esac; done
    for _ in 1 2 3 4 5 6; do echo /healthz; done    # not cached: every one reaches a replica
} >"$T/wrk-paths"
export WRK_PATHS="$T/wrk-paths"

run_wrk() { # run_wrk NAME SECONDS: start wrk in the background
    timeout $(($2 + 20)) wrk -t2 -c16 -d"${2}s" --timeout 3s -s "$T/wrk.lua" "$FRONT/" >"$T/wrk-$1.out" 2>&1 &
    WRK_PID=$!
}
wrk_report() { # wrk_report RUN FROM_LOG_LINE TITLE: figures and checks for one run_wrk RUN
    local from=$2 name=$3 out="$T/wrk-$1.out" total non2xx sock statuses bad_log retried
    wait "$WRK_PID" || true
    WRK_PID=""
    total=$(awk '/requests in/ { print $1 }' "$out")
    non2xx=$(awk -F': ' '/Non-2xx or 3xx responses/ { print $2 }' "$out")
    sock=$(sed -n 's/.*Socket errors: //p' "$out")
    statuses=$(awk '/^status / { printf "%s%s x%s", sep, $2, $3; sep = ", " }' "$out")
    bad_status=$(awk '/^status / && ($2 < 200 || $2 > 299) { n += $3 } END { print n + 0 }' "$out")
    # 499 is nginx's "client closed the connection": wrk does so to requests in flight when
    # its time is up; those are not answers a client received.
    bad_log=$(tail -n +"$((from + 1))" "$LOG" | awk 'match($0, /" [0-9][0-9][0-9] /) { s = substr($0, RSTART + 2, 3); if (s !~ /^2/ && s != "499") n++ } END { print n + 0 }')
    retried=$(tail -n +"$((from + 1))" "$LOG" | grep -c 'upstream_status=[0-9]*, ' || true)
    info "$name: ${total:-?} requests ($(awk '/Requests\/sec/ { print $2 }' "$out") req/s); statuses: ${statuses:-none}"
    info "$name: socket errors: ${sock:-none}; nginx retried $retried upstream requests on the other replica"
    if [ -z "$total" ] || [ "$total" -le 0 ]; then fail "$name: wrk reported no requests (see $out)"; return; fi
    if [ -z "$non2xx" ] && [ "$bad_status" = 0 ] && [ "$bad_log" = 0 ] && [ -n "$statuses" ]; then st=0; else st=1; fi
    verdict "$name: 0 non-2xx responses (wrk: ${non2xx:-0}, by status: $bad_status, nginx log: $bad_log)" "$st"
    check "$name: 0 socket errors" [ -z "$sock" ]
}

from=$(wc -l <"$LOG")
run_wrk kill 10
sleep 3
kill -KILL "${RPID[0]}"; wait "${RPID[0]}" 2>/dev/null || true; RPID[0]=""
info "SIGKILLed replica 0 at 3 s"
sleep 3
start_replica 0
info "replica 0 restarted and ready at $((SECONDS - START))s of the run"
wrk_report kill "$from" "c (SIGKILL at 3 s, restart at 6 s)"

from=$(wc -l <"$LOG")
run_wrk rolling 12
sleep 1
for i in 0 1; do
    stop_replica "$i" TERM
    check "c: replica $i exits 0 on SIGTERM under load (exit $STOP_RC)" [ "$STOP_RC" = 0 ]
    start_replica "$i"
    info "replica $i restarted and ready"
    sleep 1
done
wrk_report rolling "$from" "c (SIGTERM rolling restart)"

# ------------------------------------------------------------------ e. every replica down
step "e. both replicas stopped: stale copies are served, uncached URLs fail"
front_get "$B_PATH" -H 'Accept-Encoding: gzip' >/dev/null    # cached, fresh now
for i in 0 1; do stop_replica "$i" TERM; done
sleep $((MAX_AGE + 1))
he=$(c -o /dev/null -D - -w '%{http_code}\n' -H 'Accept-Encoding: gzip' "$FRONT$B_PATH" | tr -d '\r')
code_e=$(tail -1 <<<"$he")
info "expired $B_PATH with no replica: $code_e, X-Cache $(hval x-cache <<<"$he")"
if [[ "$code_e $(hval x-cache <<<"$he")" =~ ^200\ (STALE|UPDATING)$ ]]; then st=0; else st=1; fi
verdict "e: the cached feed is still served (200, X-Cache STALE)" "$st"
never=/tags/http/feed.json
code_n=$(c -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: br' "$FRONT$never" || true)
info "never-cached $never (br) with no replica: $code_n"
if [[ "$code_n" =~ ^50[24]$ ]]; then st=0; else st=1; fi
verdict "e: a URL never cached gets 502 or 504 ($code_n)" "$st"
stop_front main

# ------------------------------------------------------------------ f. hit rate, naive vs shipped
step "f. hit rate for real reader and browser headers: naive Vary cache vs the shipped config"
# The real request headers of readers and browsers, with their sources, shared with the
# interop suite: name|source|Accept (NONE: none)|Accept-Encoding (NONE: none)|Sec-Fetch-Dest
CLIENTS=$(grep -v '^#' "$ROOT/tests/interop/clients.txt" | grep -v '^$')
mapfile -t CLIENT_LINES <<<"$CLIENTS"
NREQ=600
REPLAY_PATHS=(/feed.atom /feed.rss /feed.json)

set_max_age 600    # nothing expires during the replay: every upstream fetch is a variant
for i in 0 1; do start_replica "$i"; done
info "${#CLIENT_LINES[@]} clients; $NREQ requests; paths ${REPLAY_PATHS[*]}; replicas restarted with max_age 600"

# The naive config: the shipped one without the view normalisation and without
# proxy_ignore_headers Vary, i.e. DEPLOY.md 1f as it was (Accept-Encoding still in the key).
# shellcheck disable=SC2016 # nginx variables, not shell ones
sed -e '/proxy_ignore_headers Vary/d' -e '/proxy_set_header \(Accept\|Sec-Fetch-[A-Za-z]*\) /d' \
    -e 's/|\$tidings_view"/"/' "$SHIPPED" >"$T/nginx-naive.conf"
! grep -q 'proxy_ignore_headers Vary\|proxy_set_header Accept \|proxy_set_header Sec-Fetch' "$T/nginx-naive.conf" ||
    die "could not derive the naive config"
# shellcheck disable=SC2016 # nginx variables, not shell ones
grep -q 'proxy_cache_key "$scheme$host$request_uri|$tidings_ae";' "$T/nginx-naive.conf" || die "naive cache key not derived"

# One curl config per replay: request k goes to client k mod 14, path (k div 14) mod 3.
write_replay() { # write_replay BASE_URL OUTDIR > curl config
    local base=$1 dir=$2 k line name accept ae dest path
    for ((k = 0; k < NREQ; k++)); do
        line=${CLIENT_LINES[k % ${#CLIENT_LINES[@]}]}
        IFS='|' read -r name _ accept ae dest <<<"$line"
        path=${REPLAY_PATHS[(k / ${#CLIENT_LINES[@]}) % ${#REPLAY_PATHS[@]}]}
        [ "$k" = 0 ] || echo next
        echo "url = \"$base$path\""
        echo "output = \"$dir/$k\""
        if [ "$accept" = NONE ]; then echo 'header = "Accept:"'; else echo "header = \"Accept: $accept\""; fi
        [ "$ae" = NONE ] || echo "header = \"Accept-Encoding: $ae\""
        [ -z "$dest" ] || echo "header = \"Sec-Fetch-Dest: $dest\""
        # curl's config parser turns \t and \n inside quotes into a tab and a newline
        printf 'write-out = "%s\\t%s\\t%s\\t%%{http_code}\\t%%{content_type}\\t%%header{x-cache}\\n"\n' "$k" "$name" "$path"
        echo 'silent'
        echo 'max-time = 5'
    done
}
replay() { # replay NAME CONF: fresh front, 600 requests; sets FETCHES_LOG FETCHES_REPLICAS
    local name=$1 conf=$2 port before after
    port=$(free_port)
    make_front "$name" "$port" "$conf"
    mkdir -p "$T/replay-$name"
    write_replay "http://127.0.0.1:$port" "$T/replay-$name" >"$T/replay-$name.curl"
    before=$(($(feed_requests 0) + $(feed_requests 1)))
    timeout 120 curl -K "$T/replay-$name.curl" >"$T/replay-$name.tsv" || true
    after=$(($(feed_requests 0) + $(feed_requests 1)))
    FETCHES_REPLICAS=$((after - before))
    FETCHES_LOG=$(awk '/"GET \/feed\.(atom|rss|json) / && !/upstream=- / { n++ } END { print n + 0 }' "$T/nginx-$name/access.log")
    stop_front "$name"
}
replay naive "$T/nginx-naive.conf"
NAIVE_LOG=$FETCHES_LOG NAIVE_REP=$FETCHES_REPLICAS
replay shipped "$SHIPPED"
SHIP_LOG=$FETCHES_LOG SHIP_REP=$FETCHES_REPLICAS
rate() { awk -v n="$NREQ" -v f="$1" 'BEGIN { printf "%.1f%%", 100 * (n - f) / n }'; }
info "naive (honours Vary):   $NAIVE_LOG upstream fetches for $NREQ requests, hit rate $(rate "$NAIVE_LOG") (replicas counted $NAIVE_REP)"
info "shipped (view in key):  $SHIP_LOG upstream fetches for $NREQ requests, hit rate $(rate "$SHIP_LOG") (replicas counted $SHIP_REP)"
for name in naive shipped; do
    info "$name: requests answered 200: $(awk -F'\t' '$4 == 200' "$T/replay-$name.tsv" | wc -l) of $NREQ"
done
check "f: both replays complete, every answer 200" \
    [ "$(awk -F'\t' '$4 == 200' "$T/replay-naive.tsv" "$T/replay-shipped.tsv" | wc -l)" = $((2 * NREQ)) ]
if [ "$NAIVE_LOG" = "$NAIVE_REP" ] && [ "$SHIP_LOG" = "$SHIP_REP" ]; then st=0; else st=1; fi
verdict "f: nginx's count of upstream fetches matches the replicas' own (naive $NAIVE_LOG/$NAIVE_REP, shipped $SHIP_LOG/$SHIP_REP)" "$st"
check "f: the shipped config fetches less from the replicas than the naive one ($SHIP_LOG < $NAIVE_LOG)" [ "$SHIP_LOG" -lt "$NAIVE_LOG" ]

# Readers: the feed's own type and exactly the bytes a replica sends for that feed and coding.
own_type() { case "$1" in *.atom) echo application/atom+xml ;; *.rss) echo application/rss+xml ;; *.json) echo application/feed+json ;; esac; }
norm_ae() { case "$1" in *br*) echo br ;; *gzip*) echo gzip ;; *) echo identity ;; esac; }
declare -A REF=()
for path in "${REPLAY_PATHS[@]}"; do
    for coding in identity gzip br; do
        ae=(); [ "$coding" = identity ] || ae=(-H "Accept-Encoding: $coding")
        REF[$path/$coding]=$(c "${ae[@]}" -H 'Accept: application/atom+xml, application/rss+xml, application/feed+json' "${R[0]}$path" | sha256sum | cut -d' ' -f1)
    done
done
reader_bad=0 reader_n=0 browser_bad=0 browser_n=0
while IFS=$'\t' read -r k name path _ ctype xcache; do
    line=$(grep "^$name|" <<<"$CLIENTS")
    IFS='|' read -r _ _ accept ae dest <<<"$line"
    if [ "$dest" = document ] || [ "$name" = old-browser ]; then
        browser_n=$((browser_n + 1))
        case "$ctype" in text/html*) ;; *)
            browser_bad=$((browser_bad + 1))
            [ "$browser_bad" -gt 3 ] || info "browser $name got '$ctype' for $path (request $k, $xcache)" ;;
        esac
    else
        reader_n=$((reader_n + 1))
        [ "$ae" = NONE ] && ae=""
        sum=$(sha256sum <"$T/replay-shipped/$k" | cut -d' ' -f1)
        if [ "${ctype%%;*}" != "$(own_type "$path")" ] || [ "$sum" != "${REF[$path/$(norm_ae "$ae")]}" ]; then
            reader_bad=$((reader_bad + 1))
            [ "$reader_bad" -gt 3 ] || info "reader $name got '$ctype' for $path (request $k, $xcache), bytes $([ "$sum" = "${REF[$path/$(norm_ae "$ae")]}" ] && echo same || echo different)"
        fi
    fi
done <"$T/replay-shipped.tsv"
if [ "$reader_bad" = 0 ] && [ "$reader_n" -gt 0 ]; then st=0; else st=1; fi
verdict "f: through the shipped config all $reader_n reader responses have the feed's own Content-Type and bytes ($reader_bad did not)" "$st"
if [ "$browser_bad" = 0 ] && [ "$browser_n" -gt 0 ]; then st=0; else st=1; fi
verdict "f: through the shipped config all $browser_n browser navigations got text/html ($browser_bad did not)" "$st"

# ------------------------------------------------------------------ summary
echo
if [ "$failures" = 0 ]; then
    echo "replicas-smoke: all $checks checks passed in $((SECONDS - START))s (hit rate naive $(rate "$NAIVE_LOG"), shipped $(rate "$SHIP_LOG"))"
else
    echo "replicas-smoke: $failures of $checks checks FAILED in $((SECONDS - START))s"
    exit 1
fi
