#!/usr/bin/env bash
# Benchmark 1, serving: tidings serving a cached 20-item feed versus nginx serving the SAME
# bytes from `tidings build` output, side by side in one run, alternating, on 127.0.0.1.
#
# Usage: bash bench/serve.sh [OUT_DIR]
# Environment (defaults):
#   POSTS=1000 FEED=/feed.rss CONNS="64 256" DURATION=10s REPEAT=3 THREADS=1
#   SCENARIOS="plain gzip cond304" WORKERS=2 (nginx worker_processes = tokio worker threads)
#   NGINX_PORT=18080 TIDINGS_PORT=18081 HYPER_PORT=18082 SERVERS="nginx tidings hyper"
#   HYPER=$CARGO_TARGET_DIR/release/examples/bare_hyper (built unless TIDINGS_NO_BUILD=1);
#   plus common.sh's TIDINGS, BENCH_ROOT
#
# What runs:
#   * corpus: gen_corpus.py --posts $POSTS --seed 1
#   * tidings build --content CORPUS --feeds EMPTY --out OUT --base-url http://127.0.0.1:$TIDINGS_PORT
#   * nginx (own config, root = OUT, worker_processes $WORKERS, etag on, gzip off,
#     gzip_static on: feed.rss.gz is tidings' own gzip twin) on 127.0.0.1:$NGINX_PORT
#   * tidings serve (TOKIO_WORKER_THREADS=$WORKERS, same --base-url) on 127.0.0.1:$TIDINGS_PORT;
#     the feed is fetched once first so every measured request is a cache hit
#   * hyper: examples/bare_hyper.rs (cargo build --release --example bare_hyper), a bare
#     hyper 1 server answering every path with the export's FEED file (and its .gz twin)
#     from memory, one If-None-Match comparison, no routing: the floor tidings is held to
#   * the bytes of the servers are compared (identity and gzip) before measuring
#   * for each repetition, connection count and scenario: wrk against each server in turn
#     (the order rotates every repetition); scenarios as in ../shared/bench/serve_bench.sh:
#       plain   GET, no Accept-Encoding -> 200 identity
#       gzip    GET, Accept-Encoding: gzip -> 200 gzip
#       cond304 GET, If-None-Match: <that server's ETag> -> 304
#   * the servers' CPU seconds (utime+stime from /proc) during each wrk run are recorded too,
#     with wrk's own and the rest of the machine's (other_cpu_s: a shared machine's noise);
#     before each pair of runs it waits up to QUIET_WAIT=30 s for the machine to be idle
# Output: OUT_DIR (default $BENCH_ROOT/serve): runs.tsv, summary.md (medians, and the median
# of the per-repetition ratios tidings/nginx, tidings/hyper, hyper/nginx), commands.log.
source "$(dirname "$0")/common.sh"

POSTS=${POSTS:-1000}
FEED=${FEED:-/feed.rss}
CONNS=${CONNS:-"64 256"}
DURATION=${DURATION:-10s}
REPEAT=${REPEAT:-3}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-2}
SCENARIOS=${SCENARIOS:-"plain gzip cond304"}
NGINX_PORT=${NGINX_PORT:-18080}
TIDINGS_PORT=${TIDINGS_PORT:-18081}
HYPER_PORT=${HYPER_PORT:-18082}
SERVERS=${SERVERS:-"nginx tidings hyper"}
OUT=${1:-$BENCH_ROOT/serve}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)

build_tidings
HYPER=${HYPER:-${CARGO_TARGET_DIR:-/tmp/bench-target}/release/examples/bare_hyper}
case " $SERVERS " in *" hyper "*)
  if [ "${TIDINGS_NO_BUILD:-0}" != 1 ]; then
    (cd "$REPO" && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/bench-target} cargo build --release --quiet --example bare_hyper)
  fi
  [ -x "$HYPER" ] || { echo "no bare_hyper binary at $HYPER" >&2; exit 2; } ;;
esac
corpus_dir=$(corpus "$POSTS")
base="http://127.0.0.1:$TIDINGS_PORT"
export_dir="$BENCH_ROOT/serve-export-$POSTS"
feeds_dir="$BENCH_ROOT/empty-feeds"; mkdir -p "$feeds_dir"
: > "$OUT/commands.log"
machine_info | tee -a "$OUT/commands.log"
echo "# $(nginx -v 2>&1); $(wrk -v 2>&1 | head -1)" | tee -a "$OUT/commands.log"

rm -rf "$export_dir"
cmd=("$TIDINGS" build --content "$corpus_dir" --feeds "$feeds_dir" --out "$export_dir" --base-url "$base")
echo "${cmd[*]}" >> "$OUT/commands.log"
"${cmd[@]}" | tee -a "$OUT/commands.log"
chmod -R a+rX "$export_dir"

# --- nginx ---------------------------------------------------------------------------------
prefix=$(mktemp -d /tmp/tidings-bench-nginx.XXXXXX)
mkdir -p "$prefix/tmp"
cat > "$prefix/nginx.conf" <<NGINX
# as ../shared/bench/nginx/nginx.conf.tmpl, serving the tidings build output
worker_processes $WORKERS;
worker_rlimit_nofile 16384;
pid $prefix/nginx.pid;
error_log $prefix/error.log warn;
events { worker_connections 4096; }
http {
    types {
        application/rss+xml  rss;
        application/atom+xml atom;
        application/feed+json json;
    }
    default_type application/octet-stream;
    charset off;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path $prefix/tmp/body;
    proxy_temp_path       $prefix/tmp/proxy;
    fastcgi_temp_path     $prefix/tmp/fastcgi;
    uwsgi_temp_path       $prefix/tmp/uwsgi;
    scgi_temp_path        $prefix/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        server_name localhost;
        root $export_dir;
        etag on;
        gzip off;
        gzip_static on;
        gzip_vary on;
        location / { }
    }
}
NGINX
nginx_pid=""; tidings_pid=""; hyper_pid=""
cleanup() {
  [ -n "$hyper_pid" ] && kill -TERM "$hyper_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true
  [ -n "$tidings_pid" ] && kill -TERM "$tidings_pid" 2>/dev/null || true
  sleep 0.5
  rm -rf "$prefix"
}
trap cleanup EXIT
echo "nginx -p $prefix -e $prefix/error.log -c $prefix/nginx.conf" >> "$OUT/commands.log"
cp "$prefix/nginx.conf" "$OUT/nginx.conf"
nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf"
for _ in $(seq 1 50); do [ -s "$prefix/nginx.pid" ] && break; sleep 0.1; done
nginx_pid=$(cat "$prefix/nginx.pid")

# --- tidings -------------------------------------------------------------------------------
echo "TOKIO_WORKER_THREADS=$WORKERS TIDINGS_LOG=warn $TIDINGS serve --content $corpus_dir --feeds $feeds_dir --addr 127.0.0.1:$TIDINGS_PORT --base-url $base" >> "$OUT/commands.log"
TOKIO_WORKER_THREADS=$WORKERS TIDINGS_LOG=warn "$TIDINGS" serve --content "$corpus_dir" --feeds "$feeds_dir" \
  --addr "127.0.0.1:$TIDINGS_PORT" --base-url "$base" > "$OUT/tidings.log" 2>&1 &
tidings_pid=$!
wait_http "$base/healthz"
wait_http "http://127.0.0.1:$NGINX_PORT$FEED"

# --- bare hyper ----------------------------------------------------------------------------
case " $SERVERS " in *" hyper "*)
  echo "TOKIO_WORKER_THREADS=$WORKERS $HYPER $export_dir$FEED 127.0.0.1:$HYPER_PORT" >> "$OUT/commands.log"
  TOKIO_WORKER_THREADS=$WORKERS "$HYPER" "$export_dir$FEED" "127.0.0.1:$HYPER_PORT" > "$OUT/hyper.log" 2>&1 &
  hyper_pid=$!
  wait_http "http://127.0.0.1:$HYPER_PORT$FEED" ;;
esac
port_of() { case $1 in nginx) echo "$NGINX_PORT" ;; tidings) echo "$TIDINGS_PORT" ;; hyper) echo "$HYPER_PORT" ;; esac; }

# same bytes?
for enc in identity gzip; do
  for s in $SERVERS; do
    curl -s -H "Accept-Encoding: $enc" "http://127.0.0.1:$(port_of $s)$FEED" -o "$OUT/$s.$enc"
    if cmp -s "$OUT/$s.$enc" "$OUT/nginx.$enc"; then
      echo "# same bytes ($enc) as nginx: $s, $(stat -c %s "$OUT/$s.$enc") bytes" | tee -a "$OUT/commands.log"
    else
      echo "# DIFFERENT bytes ($enc): $s $(stat -c %s "$OUT/$s.$enc"), nginx $(stat -c %s "$OUT/nginx.$enc")" | tee -a "$OUT/commands.log"
    fi
  done
done
for s in $SERVERS; do
  port=$(port_of "$s")
  echo "# $s headers (gzip):" >> "$OUT/commands.log"
  curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port$FEED" | tr -d '\r' | sed 's/^/#   /' >> "$OUT/commands.log"
done

cpu_of() {  # utime+stime in ticks of a pid and its child processes
  local total=0 p
  for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    [ -r /proc/$p/stat ] || continue
    total=$((total + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' /proc/$p/stat)))
  done
  echo $total
}
tick=$(getconf CLK_TCK)

busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
# A fresh table every run: ratios are only ever taken between runs of the same invocation.
printf 'server\tscenario\tconns\trep\trps\tlat_p50_ms\tlat_p99_ms\tlat_max_ms\tbytes_per_req\trequests\terrors\tserver_cpu_s\twrk_cpu_s\tother_cpu_s\n' > "$OUT/runs.tsv"
run_wrk() {  # run_wrk SERVER SCENARIO CONNS REP
  local server=$1 sc=$2 c=$3 rep=$4 port pid ae="" inm=""
  port=$(port_of "$server")
  case $server in nginx) pid=$nginx_pid ;; tidings) pid=$tidings_pid ;; hyper) pid=$hyper_pid ;; esac
  local url="http://127.0.0.1:$port$FEED"
  case $sc in
    plain) ;;
    gzip) ae=gzip ;;
    cond304) inm=$(curl -s -o /dev/null -D - "$url" | tr -d '\r' | awk 'tolower($1)=="etag:" {print $2}') ;;
  esac
  local code; code=$(curl -s -o /dev/null -w '%{http_code}' ${ae:+-H "Accept-Encoding: $ae"} ${inm:+-H "If-None-Match: $inm"} "$url")
  local cmd=(wrk -t"$THREADS" -c"$c" -d"$DURATION" --latency -s "$SHARED_BENCH/wrk/bench.lua" "$url")
  printf '# %s %s c=%s rep=%s (check: HTTP %s)\nWRK_ACCEPT_ENCODING=%q WRK_IF_NONE_MATCH=%q %s\n' "$server" "$sc" "$c" "$rep" "$code" "$ae" "$inm" "${cmd[*]}" >> "$OUT/commands.log"
  local cpu0 busy0 cpu1 busy1 res
  cpu0=$(cpu_of "$pid"); busy0=$(busy_ticks)
  res=$(WRK_ACCEPT_ENCODING=$ae WRK_IF_NONE_MATCH=$inm /usr/bin/time -f 'WRK_CPU %U %S' "${cmd[@]}" 2>&1 | tee -a "$OUT/commands.log" | grep '^WRK_JSON \|^WRK_CPU ')
  cpu1=$(cpu_of "$pid"); busy1=$(busy_ticks)
  python3 - "$res" "$server" "$sc" "$c" "$rep" "$(( cpu1 - cpu0 ))" "$tick" "$(( busy1 - busy0 ))" >> "$OUT/runs.tsv" <<'PY'
import json, sys
lines = sys.argv[1].splitlines()
r = json.loads([l for l in lines if l.startswith("WRK_JSON ")][0].split(" ", 1)[1])
wrk_cpu = sum(float(x) for x in [l for l in lines if l.startswith("WRK_CPU ")][0].split()[1:])
tick = float(sys.argv[7])
server_cpu = int(sys.argv[6]) / tick
other = int(sys.argv[8]) / tick - server_cpu - wrk_cpu
errs = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_status"] + r["err_timeout"]
print("\t".join(sys.argv[2:6] + ["%.1f" % r["rps"], "%.3f" % r["lat_p50_ms"], "%.3f" % r["lat_p99_ms"],
      "%.3f" % r["lat_max_ms"], "%.1f" % r["bytes_per_req"], str(r["requests"]), str(errs),
      "%.2f" % server_cpu, "%.2f" % wrk_cpu, "%.2f" % other]))
PY
  tail -1 "$OUT/runs.tsv"
}

wait_quiet() {  # up to QUIET_WAIT s (default 30) until the rest of the machine uses < 0.2 cores
  local i a b
  for i in $(seq 1 "${QUIET_WAIT:-30}"); do
    a=$(busy_ticks); sleep 1; b=$(busy_ticks)
    [ $(( (b - a) * 100 / tick )) -lt 20 ] && return 0
  done
  echo "# machine still busy after ${QUIET_WAIT:-30} s ($(( (b - a) * 100 / tick ))% of a core)" | tee -a "$OUT/commands.log"
}
curl -s -o /dev/null "$base$FEED"   # render once: measured requests are cache hits
read -r -a servers <<< "$SERVERS"
for rep in $(seq 1 "$REPEAT"); do
  # rotate the order each repetition, so no server always runs first or last
  shift_by=$(( (rep - 1) % ${#servers[@]} ))
  order="${servers[*]:$shift_by} ${servers[*]:0:$shift_by}"
  for c in $CONNS; do
    for sc in $SCENARIOS; do
      wait_quiet
      for server in $order; do run_wrk "$server" "$sc" "$c" "$rep"; done
    done
  done
done

python3 "$BENCH_DIR/summarize_serve.py" "$OUT/runs.tsv" | tee "$OUT/summary.md"
echo "# results in $OUT"
