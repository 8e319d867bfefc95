#!/usr/bin/env bash
# container-smoke.sh: build the tidings container image from ./Dockerfile and
# prove that it really runs, without a Docker engine or any container registry.
#
# Proves, against a tidings binary built on the host:
#   - ./Dockerfile builds unchanged (only its base images are swapped for local
#     ones), and the image config is what the Dockerfile says: user 10001,
#     entrypoint, cmd, volumes, port, TIDINGS_ADDR, stop signal, labels, and a
#     HEALTHCHECK running `tidings probe .../readyz` (built --format docker: the
#     OCI format would drop it);
#   - the container runs hardened as Kubernetes runs it (deploy/k8s/): read-only
#     root filesystem, every capability dropped, no-new-privileges; the server
#     is PID 1 of the container and runs as uid/gid 10001;
#   - it serves the baked-in sample site with TIDINGS_BASE_URL applied;
#   - the image's HEALTHCHECK reports healthy (`podman healthcheck run` and the
#     inspected health status), and unhealthy while the server does not answer
#     (the server is frozen with SIGSTOP; after the check's 3 retries the status
#     turns "unhealthy"), then healthy again once it is thawed;
#   - with content/ and feeds/ bind-mounted read-only from a host folder it
#     serves that site, and it reloads when the folder changes: a post written
#     into the host folder shows up in /feed.atom, and a removed one goes away,
#     each within SMOKE_RELOAD_WAIT seconds;
#   - `podman stop` ends it with exit code 0 (tidings drains on SIGTERM).
# With SMOKE_SYMLINK_SWAP=1 it also proves that a content root reached through
# a symlink follows an atomic swap of that symlink (the git-sync layout of
# deploy/k8s/); off by default until tidings implements it.
#
# Networking: every container runs with --network=none, in its own network
# namespace with only a loopback interface, so the image's default
# TIDINGS_ADDR=0.0.0.0:8080 and its HEALTHCHECK (127.0.0.1:8080) are tested as
# they are and nothing listens on the host. Requests are made by the host's
# curl inside that namespace (nsenter --net). Every wait is bounded.
#
# Needs root (rootful podman, nsenter). Installs what is missing with apt-get:
#   podman runc netavark debootstrap uidmap fuse-overlayfs slirp4netns
#   busybox-static curl ca-certificates
# Writes a containers.conf for the sandbox (ulimits 1024, runtime runc; see
# DEPLOY.md "Containers without a Docker engine") unless CONTAINERS_CONF is set.
# Makes a local Debian bookworm base image with debootstrap + podman import
# (about 45 s, once) that stands in for debian:bookworm-slim.
#
# Usage: scripts/container-smoke.sh [TIDINGS_BINARY]
# Environment (all optional):
#   SMOKE_BINARY       the tidings binary (or the first argument); without either,
#                      cargo build --release --locked runs
#   SMOKE_IMAGE        tag to build (default localhost/tidings:smoke)
#   SMOKE_BASE_IMAGE   runtime base (default localhost/debian:bookworm-local)
#   SMOKE_MIRROR       Debian mirror for debootstrap (default deb.debian.org)
#   SMOKE_NO_BUILD=1   test SMOKE_IMAGE as it is (e.g. built with real bases)
#   SMOKE_RELOAD_WAIT  seconds a content change may take to show (default 20)
#   SMOKE_SYMLINK_SWAP=1  also run the symlink-swap check
#   CARGO_TARGET_DIR   where cargo builds (default ./target)
#
# Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."

IMAGE=${SMOKE_IMAGE:-localhost/tidings:smoke}
BASE_IMAGE=${SMOKE_BASE_IMAGE:-localhost/debian:bookworm-local}
MIRROR=${SMOKE_MIRROR:-http://deb.debian.org/debian}
RELOAD_WAIT=${SMOKE_RELOAD_WAIT:-20}
BINARY=${1:-${SMOKE_BINARY:-}}
NAME="tidings-smoke-$$"
BASE_URL_SET="http://feeds.smoke.invalid"
HEALTH_CMD='["CMD","/usr/local/bin/tidings","probe","http://127.0.0.1:8080/readyz"]'
# The HEALTHCHECK timing the Dockerfile sets, as podman reports it (nanoseconds).
HEALTH_TIMING='10000000000 3000000000 10000000000 3'

passed=0
failures=0
pass() { printf 'ok   %s\n' "$*"; passed=$((passed + 1)); }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { # milliseconds since $1, as seconds with one decimal
    local d=$(($(now_ms) - $1))
    printf '%d.%d' $((d / 1000)) $((d % 1000 / 100))
}
T0=$(now_ms)
timings=()
timed() { timings+=("$1 $(secs "$2") s"); }

[ "$(id -u)" = 0 ] || die "run as root: rootful podman and nsenter are needed"

# 0. prerequisites -------------------------------------------------------------
missing=()
for pair in podman:podman runc:runc debootstrap:debootstrap newuidmap:uidmap \
    fuse-overlayfs:fuse-overlayfs slirp4netns:slirp4netns busybox:busybox-static \
    curl:curl nsenter:util-linux; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
[ -x /usr/lib/podman/netavark ] || command -v netavark >/dev/null || missing+=(netavark)
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    t=$(now_ms)
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null || die "apt-get update failed"
    timeout 900 apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
        podman runc netavark debootstrap uidmap fuse-overlayfs slirp4netns busybox-static \
        curl ca-certificates >/dev/null || die "apt-get install failed"
    timed "apt-get install" "$t"
fi
podman --version

TMP=$(mktemp -d /tmp/tidings-smoke.XXXXXX)
frozen_pid=
cleanup() {
    [ -z "$frozen_pid" ] || kill -CONT "$frozen_pid" 2>/dev/null || true
    podman rm -f -i -t 0 "$NAME" "$NAME-mounted" "$NAME-swap" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

# 1. containers.conf for this sandbox -------------------------------------------
if [ -z "${CONTAINERS_CONF:-}" ]; then
    cat >"$TMP/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
[network]
network_backend = "netavark"
EOF
    export CONTAINERS_CONF="$TMP/containers.conf"
fi
# Without systemd, podman cannot make the timer that runs health checks
# periodically: it logs errors on every start and stop of a container with a
# HEALTHCHECK. The checks below run the health check by hand with `podman
# healthcheck run`, which is what the timer would do every 10 s.
if [ ! -d /run/systemd/system ]; then
    export DISABLE_HC_SYSTEMD=true
fi

# 2-4. base image, binary, build --------------------------------------------------
if [ "${SMOKE_NO_BUILD:-}" = 1 ]; then
    step "SMOKE_NO_BUILD=1: testing $IMAGE as it is"
    podman image exists "$IMAGE" || die "no image $IMAGE"
else
    step "base image $BASE_IMAGE"
    if podman image exists "$BASE_IMAGE"; then
        echo "present"
    else
        echo "debootstrap bookworm from $MIRROR (about 45 s)"
        t=$(now_ms)
        timeout 900 debootstrap --variant=minbase bookworm "$TMP/rootfs" "$MIRROR" >"$TMP/debootstrap.log" 2>&1 \
            || { tail -20 "$TMP/debootstrap.log"; die "debootstrap failed"; }
        rm -rf "$TMP"/rootfs/var/cache/apt/archives/*.deb "$TMP"/rootfs/var/lib/apt/lists/*
        timed debootstrap "$t"
        t=$(now_ms)
        tar -C "$TMP/rootfs" -c . | timeout 300 podman import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
        rm -rf "$TMP/rootfs"
        timed "podman import" "$t"
        echo "imported"
    fi

    step "release binary"
    if [ -z "$BINARY" ]; then
        t=$(now_ms)
        timeout 1800 cargo build --release --locked --bin tidings
        BINARY="${CARGO_TARGET_DIR:-target}/release/tidings"
        timed "cargo build" "$t"
    fi
    [ -x "$BINARY" ] || die "no binary at $BINARY"
    "$BINARY" --version
    mkdir -p "$TMP/build/out"
    cp "$BINARY" "$TMP/build/out/tidings"

    # --build-context build=DIR replaces the rust builder stage with the host
    # binary; --format docker keeps the HEALTHCHECK (OCI images have none).
    step "podman build --format docker $IMAGE"
    t=$(now_ms)
    timeout 600 podman build --pull=never --network=host --format docker \
        --build-arg "RUNTIME_IMAGE=$BASE_IMAGE" \
        --build-context "build=$TMP/build" \
        -t "$IMAGE" -f Dockerfile . >"$TMP/build.log" 2>&1 \
        || { tail -30 "$TMP/build.log"; die "podman build failed"; }
    timed "podman build" "$t"
fi
podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$IMAGE"

# 5. image config ---------------------------------------------------------------
step "image config"
expect_config() { # label, go template, expected
    local got
    got=$(podman image inspect --format "$2" "$IMAGE" 2>&1) || got="(inspect failed: $got)"
    if [ "$got" = "$3" ]; then pass "$1: $got"; else fail "$1: got '$got', want '$3'"; fi
}
expect_config user '{{.Config.User}}' '10001:10001'
expect_config entrypoint '{{json .Config.Entrypoint}}' '["/usr/local/bin/tidings"]'
expect_config cmd '{{json .Config.Cmd}}' '["serve"]'
expect_config workdir '{{.Config.WorkingDir}}' '/srv/tidings'
expect_config stopsignal '{{.Config.StopSignal}}' 'SIGTERM'
# shellcheck disable=SC2016 # a Go template, not a shell expansion
expect_config volumes '{{range $k, $v := .Config.Volumes}}{{$k}} {{end}}' '/srv/tidings/content /srv/tidings/feeds '
# shellcheck disable=SC2016 # a Go template, not a shell expansion
expect_config ports '{{range $k, $v := .Config.ExposedPorts}}{{$k}} {{end}}' '8080/tcp '
expect_config title-label '{{index .Config.Labels "org.opencontainers.image.title"}}' 'tidings'
expect_config 'no source label' '{{index .Config.Labels "org.opencontainers.image.source"}}' ''
expect_config healthcheck '{{json .HealthCheck.Test}}' "$HEALTH_CMD"
expect_config 'healthcheck interval/timeout/start-period/retries' \
    '{{.HealthCheck.Interval.Nanoseconds}} {{.HealthCheck.Timeout.Nanoseconds}} {{.HealthCheck.StartPeriod.Nanoseconds}} {{.HealthCheck.Retries}}' \
    "$HEALTH_TIMING"
if grep -q '"TIDINGS_ADDR=0.0.0.0:8080"' <<<"$(podman image inspect --format '{{json .Config.Env}}' "$IMAGE")"; then
    pass "env TIDINGS_ADDR=0.0.0.0:8080"
else
    fail "env TIDINGS_ADDR=0.0.0.0:8080 missing"
fi

# helpers for the running containers --------------------------------------------
HARDENED=(--network=none --read-only --cap-drop=ALL --security-opt=no-new-privileges)

pid_of() { podman inspect --format '{{.State.Pid}}' "$1"; }

# in_ns NAME curl-args...: curl inside the container's network namespace.
in_ns() {
    local name=$1 pid
    shift
    pid=$(pid_of "$name")
    [ "$pid" -gt 0 ] 2>/dev/null || return 1
    nsenter --target "$pid" --net curl -s --max-time 5 "$@"
}

wait_ready() { # container name; waits up to 30 s for /readyz
    local _
    for _ in $(seq 1 60); do
        if [ "$(in_ns "$1" http://127.0.0.1:8080/readyz 2>/dev/null || true)" = ready ]; then return 0; fi
        if [ "$(podman inspect --format '{{.State.Running}}' "$1" 2>/dev/null)" != true ]; then break; fi
        sleep 0.5
    done
    podman logs "$1" 2>&1 | tail -20
    return 1
}

health_status() { podman inspect --format '{{.State.Health.Status}}' "$1" 2>/dev/null || echo '(none)'; }
# The newest entry of the health log: "EXITCODE OUTPUT".
last_health_log() {
    { podman inspect --format '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{"\n"}}{{end}}' "$1" 2>/dev/null || true; } \
        | grep -v '^$' | tail -1 || true
}

stop_and_expect_zero() { # container name
    local t code
    t=$(now_ms)
    timeout 60 podman stop -t 10 "$1" >/dev/null
    code=$(podman inspect --format '{{.State.ExitCode}}' "$1")
    if [ "$code" = 0 ]; then
        pass "podman stop: exit code 0 after $(secs "$t") s"
    else
        fail "podman stop: exit code $code after $(secs "$t") s (137 means it ignored SIGTERM)"
        podman logs "$1" 2>&1 | tail -20
    fi
}

# wait_feed NAME PATTERN present|absent: polls /feed.atom for up to RELOAD_WAIT s;
# prints the seconds it took.
wait_feed() {
    local t i
    t=$(now_ms)
    for i in $(seq 1 $((RELOAD_WAIT * 4))); do
        if grep -qF "$2" <<<"$(in_ns "$1" http://127.0.0.1:8080/feed.atom 2>/dev/null)"; then
            [ "$3" = present ] && { secs "$t"; return 0; }
        else
            [ "$3" = absent ] && { secs "$t"; return 0; }
        fi
        [ "$i" -lt $((RELOAD_WAIT * 4)) ] && sleep 0.25
    done
    return 1
}

# 6. the baked-in site, hardened ----------------------------------------------------
step "run $IMAGE (network none, read-only root, no capabilities)"
t=$(now_ms)
podman run -d --name "$NAME" "${HARDENED[@]}" \
    -e "TIDINGS_BASE_URL=$BASE_URL_SET" \
    "$IMAGE" >/dev/null
if wait_ready "$NAME"; then pass "GET /readyz -> ready after $(secs "$t") s"; else fail "GET /readyz never answered ready"; fi

status=$(in_ns "$NAME" -o "$TMP/feed.rss" -D "$TMP/feed.headers" -w '%{http_code}' http://127.0.0.1:8080/feed.rss || true)
if [ "$status" = 200 ]; then pass "GET /feed.rss -> 200"; else fail "GET /feed.rss -> $status"; fi
if grep -qi '^content-type:.*xml' "$TMP/feed.headers" 2>/dev/null; then
    pass "feed.rss content-type: $(grep -i '^content-type:' "$TMP/feed.headers" | tr -d '\r' | cut -d' ' -f2-)"
else
    fail "feed.rss has no XML content-type"
fi
items=$(grep -o '<item>' "$TMP/feed.rss" 2>/dev/null | wc -l)
posts=$(find content/_posts -name '*.md' | wc -l)
if grep -q '<rss' "$TMP/feed.rss" 2>/dev/null && [ "$items" -gt 0 ] && [ "$items" -le "$posts" ]; then
    pass "feed.rss is RSS with $items items (content/_posts has $posts posts)"
else
    fail "feed.rss is not RSS with 1..$posts items (got $items)"
fi
if grep -q "$BASE_URL_SET" "$TMP/feed.rss" 2>/dev/null; then
    pass "TIDINGS_BASE_URL is used in the feed links"
else
    fail "TIDINGS_BASE_URL does not appear in the feed"
fi

pid=$(pid_of "$NAME")
uid=$(awk '/^Uid:/ {print $2 ":" $3}' "/proc/$pid/status" 2>/dev/null || true)
gid=$(awk '/^Gid:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
if [ "$uid" = "10001:10001" ] && [ "$gid" = 10001 ]; then
    pass "server process (host pid $pid) runs as uid/gid 10001, not root"
else
    fail "server process runs as uid '$uid' gid '$gid', want 10001"
fi
capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
if [ "$capeff" = 0000000000000000 ]; then pass "no effective capabilities"; else fail "effective capabilities: '$capeff'"; fi
exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
case "$exe" in
    */usr/local/bin/tidings) pass "PID 1 of the container is tidings itself" ;;
    *) fail "PID 1 of the container is '$exe', want /usr/local/bin/tidings" ;;
esac

step "HEALTHCHECK"
t=$(now_ms)
if out=$(timeout 30 podman healthcheck run "$NAME" 2>&1); then
    pass "podman healthcheck run: exit 0 in $(secs "$t") s"
else
    fail "podman healthcheck run failed: $out"
fi
entry=$(last_health_log "$NAME")
case "$entry" in
    "0 "*"answered 200"*) pass "health log: $entry" ;;
    *) fail "health log: '$entry', want the probe's 200" ;;
esac
hs=$(health_status "$NAME")
if [ "$hs" = healthy ]; then pass "inspect: health status $hs"; else fail "inspect: health status '$hs', want healthy"; fi

# Frozen, the server still accepts connections (the kernel does) but never
# answers: the check must time out. Failures inside the 10 s start period do not
# count towards the 3 retries, so wait it out first.
start_ms=$(podman inspect --format '{{.State.StartedAt.UnixMilli}}' "$NAME")
while [ $(($(now_ms) - start_ms)) -lt 10500 ]; do sleep 0.5; done
t=$(now_ms)
kill -STOP "$pid"
frozen_pid=$pid
# A failed check must be the probe's own verdict (its "no answer" in the health
# log), not podman failing to run it.
fails=0
for _ in 1 2 3; do
    if ! timeout 30 podman healthcheck run "$NAME" >/dev/null 2>&1; then
        entry=$(last_health_log "$NAME")
        case "$entry" in
            "0 "*) ;;
            *"no answer within"*) fails=$((fails + 1)) ;;
            *) echo "     unexpected health log entry: $entry" ;;
        esac
    fi
done
if [ "$fails" = 3 ]; then
    pass "health check fails 3 of 3 times while the server is frozen ($(secs "$t") s): $entry"
else
    fail "health check failed only $fails of 3 times (by the probe's timeout) while the server was frozen"
fi
hs=$(health_status "$NAME")
if [ "$hs" = unhealthy ]; then pass "inspect: health status $hs after 3 failed checks"; else fail "inspect: health status '$hs' while frozen, want unhealthy"; fi
kill -CONT "$pid"
frozen_pid=
if timeout 30 podman healthcheck run "$NAME" >/dev/null 2>&1 && [ "$(health_status "$NAME")" = healthy ]; then
    pass "healthy again once the server is thawed"
else
    fail "not healthy again after the server was thawed ($(health_status "$NAME"))"
fi

stop_and_expect_zero "$NAME"

# 7. a mounted site that changes ------------------------------------------------------
step "run with content/ and feeds/ bind-mounted read-only from a host folder"
mkdir -p "$TMP/site"
cp -r content feeds "$TMP/site/"
sed -i 's/^title: .*/title: Smoke Mounted Site/' "$TMP/site/feeds/site.yaml"
chmod -R a+rX "$TMP"
# With the settings deploy/k8s/deployment.yaml gives tidings, so that they are
# known to be accepted.
t=$(now_ms)
podman run -d --name "$NAME-mounted" "${HARDENED[@]}" \
    -v "$TMP/site/content:/srv/tidings/content:ro" \
    -v "$TMP/site/feeds:/srv/tidings/feeds:ro" \
    -e TIDINGS_CACHE_BYTES=32M -e TIDINGS_LOG_FORMAT=json -e TIDINGS_DIAGNOSTICS=local \
    "$IMAGE" >/dev/null
if wait_ready "$NAME-mounted"; then pass "GET /readyz -> ready after $(secs "$t") s"; else fail "GET /readyz never answered ready"; fi
if grep -q 'Smoke Mounted Site' <<<"$(in_ns "$NAME-mounted" http://127.0.0.1:8080/feed.rss)"; then
    pass "the mounted feeds/site.yaml is served"
else
    fail "the mounted feeds/site.yaml is not what is served"
fi

title="Smoke reload check $$ $RANDOM"
post="$TMP/site/content/_posts/$(date +%Y-%m-%d)-smoke-reload-$$.md"
if grep -qF "$title" <<<"$(in_ns "$NAME-mounted" http://127.0.0.1:8080/feed.atom)"; then
    fail "the feed has the new post's title before it is written"
fi
printf -- '---\ntitle: %s\nauthor: tim\n---\n\nWritten on the host while the container runs.\n' "$title" >"$post"
chmod a+r "$post"
if took=$(wait_feed "$NAME-mounted" "$title" present); then
    pass "a post written into the mounted host folder is in /feed.atom after $took s"
else
    fail "a post written into the mounted host folder is not in /feed.atom after ${RELOAD_WAIT} s"
    podman logs "$NAME-mounted" 2>&1 | tail -10
fi
rm -f "$post"
if took=$(wait_feed "$NAME-mounted" "$title" absent); then
    pass "the post removed from the host folder is gone from /feed.atom after $took s"
else
    fail "the post removed from the host folder is still in /feed.atom after ${RELOAD_WAIT} s"
fi
stop_and_expect_zero "$NAME-mounted"

# 8. content root behind a symlink that is swapped (git-sync) -------------------------
if [ "${SMOKE_SYMLINK_SWAP:-}" = 1 ]; then
    step "content through a symlink that is swapped atomically (the git-sync layout)"
    mkdir -p "$TMP/git/v1" "$TMP/git/v2"
    cp -r content feeds "$TMP/git/v1/"
    cp -r content feeds "$TMP/git/v2/"
    swap_title="Smoke symlink swap $$ $RANDOM"
    printf -- '---\ntitle: %s\nauthor: tim\n---\n\nOnly in the second checkout.\n' "$swap_title" \
        >"$TMP/git/v2/content/_posts/$(date +%Y-%m-%d)-smoke-swap-$$.md"
    ln -s v1 "$TMP/git/current"
    chmod -R a+rX "$TMP"
    podman run -d --name "$NAME-swap" "${HARDENED[@]}" \
        -v "$TMP/git:/site:ro" \
        -e TIDINGS_CONTENT=/site/current/content -e TIDINGS_FEEDS=/site/current/feeds \
        "$IMAGE" >/dev/null
    if wait_ready "$NAME-swap"; then pass "serves content through /site/current"; else fail "never ready with content through /site/current"; fi
    ln -s v2 "$TMP/git/tmp-link"
    mv -T "$TMP/git/tmp-link" "$TMP/git/current"
    if took=$(wait_feed "$NAME-swap" "$swap_title" present); then
        pass "after the symlink swap the new checkout's post is in /feed.atom after $took s"
    else
        fail "after the symlink swap the new checkout's post is not in /feed.atom after ${RELOAD_WAIT} s"
    fi
    stop_and_expect_zero "$NAME-swap"
fi

timed "whole run" "$T0"
echo
printf 'timing: %s\n' "${timings[@]}"
echo "container-smoke: $passed passed, $failures failed"
[ "$failures" = 0 ]
