#!/usr/bin/env bash
# container-smoke.sh: build the tidings container image from ./Dockerfile and
# smoke-test it locally, without a Docker engine or any container registry.
#
# Needs: podman (rootful, i.e. run as root) plus, on first use, debootstrap and
# network access to the Debian mirror; runc is used when installed. On Debian:
#   apt-get install -y podman buildah debootstrap uidmap fuse-overlayfs \
#                      slirp4netns runc busybox-static
# (see DEPLOY.md, "Containers without a Docker engine").
#
# What it does:
#   1. Writes a containers.conf for this sandbox (ulimits of 1024, runtime runc)
#      unless CONTAINERS_CONF is already set.
#   2. Makes a local Debian bookworm base image with debootstrap + podman import
#      (localhost/debian:bookworm-local) if it does not exist yet; it stands in
#      for debian:bookworm-slim, which cannot be pulled here.
#   3. Builds the release binary on the host (cargo build --release --locked)
#      unless SMOKE_BINARY names one already built.
#   4. Builds ./Dockerfile unchanged with --pull=never: --build-context
#      build=DIR replaces the rust builder stage with the host binary and
#      --build-arg RUNTIME_IMAGE selects the local base.
#   5. Checks the image config (user 10001, entrypoint, cmd, volumes, port,
#      TIDINGS_ADDR, stop signal, labels).
#   6. Runs the image with --network=host, listening on 127.0.0.1 only, and
#      checks /healthz, /feed.rss (with TIDINGS_BASE_URL applied), that the
#      server runs as uid 10001, and that `podman stop` ends it with exit 0.
#   7. Runs it again with content/ and feeds/ bind-mounted read-only over the
#      volumes and checks that the mounted site is the one served.
#
# Every request goes to 127.0.0.1; every wait and command has a time limit.
# The containers and temporary files are removed on exit; the image is kept.
#
# Environment (all optional):
#   SMOKE_PORT         port on 127.0.0.1 to use (default 18080)
#   SMOKE_IMAGE        tag to build (default localhost/tidings:smoke)
#   SMOKE_BASE_IMAGE   runtime base (default localhost/debian:bookworm-local)
#   SMOKE_BINARY       a prebuilt tidings binary to use instead of cargo build
#   SMOKE_MIRROR       Debian mirror for debootstrap (default deb.debian.org)
#   SMOKE_NO_BUILD=1   skip steps 2-4 and test SMOKE_IMAGE as it is (e.g. an
#                      image built from the Dockerfile with real base images)
#   CARGO_TARGET_DIR   where cargo builds (default ./target)
#
# Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."

PORT=${SMOKE_PORT:-18080}
IMAGE=${SMOKE_IMAGE:-localhost/tidings:smoke}
BASE_IMAGE=${SMOKE_BASE_IMAGE:-localhost/debian:bookworm-local}
MIRROR=${SMOKE_MIRROR:-http://deb.debian.org/debian}
URL="http://127.0.0.1:$PORT"
NAME="tidings-smoke-$$"
BASE_URL_SET="http://feeds.smoke.invalid"

failures=0
pass() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }

command -v podman >/dev/null || die "podman is not installed (apt-get install -y podman runc ...)"
command -v curl >/dev/null || die "curl is not installed"
[ "$(id -u)" = 0 ] || die "run as root: the checks assume rootful podman"

TMP=$(mktemp -d /tmp/tidings-smoke.XXXXXX)
cleanup() {
    podman rm -f -t 0 "$NAME" "$NAME-mounted" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

# 1. containers.conf for this sandbox ----------------------------------------
if [ -z "${CONTAINERS_CONF:-}" ]; then
    {
        echo '[containers]'
        echo 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]'
        if command -v runc >/dev/null; then
            echo '[engine]'
            echo 'runtime = "runc"'
        fi
    } >"$TMP/containers.conf"
    export CONTAINERS_CONF="$TMP/containers.conf"
fi

# 2. local base image ---------------------------------------------------------
if [ "${SMOKE_NO_BUILD:-}" = 1 ]; then
    step "SMOKE_NO_BUILD=1: testing $IMAGE as it is"
    podman image exists "$IMAGE" || die "no image $IMAGE"
else
    step "base image $BASE_IMAGE"
    if podman image exists "$BASE_IMAGE"; then
        echo "present"
    else
        command -v debootstrap >/dev/null || die "debootstrap is needed to make $BASE_IMAGE"
        echo "debootstrap bookworm from $MIRROR (about a minute)"
        timeout 900 debootstrap --variant=minbase bookworm "$TMP/rootfs" "$MIRROR" >"$TMP/debootstrap.log" 2>&1 \
            || { tail -20 "$TMP/debootstrap.log"; die "debootstrap failed"; }
        rm -rf "$TMP"/rootfs/var/cache/apt/archives/*.deb "$TMP"/rootfs/var/lib/apt/lists/*
        tar -C "$TMP/rootfs" -c . | timeout 300 podman import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
        rm -rf "$TMP/rootfs"
        echo "imported"
    fi

    # 3. host binary ----------------------------------------------------------
    step "release binary"
    if [ -n "${SMOKE_BINARY:-}" ]; then
        BIN=$SMOKE_BINARY
    else
        timeout 1800 cargo build --release --locked --bin tidings
        BIN="${CARGO_TARGET_DIR:-target}/release/tidings"
    fi
    [ -x "$BIN" ] || die "no binary at $BIN"
    "$BIN" --version
    mkdir -p "$TMP/build/out"
    cp "$BIN" "$TMP/build/out/tidings"

    # 4. build the image --------------------------------------------------------
    step "podman build $IMAGE"
    timeout 600 podman build --pull=never --network=host \
        --build-arg "RUNTIME_IMAGE=$BASE_IMAGE" \
        --build-context "build=$TMP/build" \
        -t "$IMAGE" -f Dockerfile . \
        || die "podman build failed"
fi
podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$IMAGE"

# 5. image config ---------------------------------------------------------------
step "image config"
expect_config() { # label, go template, expected
    local got
    got=$(podman image inspect --format "$2" "$IMAGE")
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
if podman image inspect --format '{{json .Config.Env}}' "$IMAGE" | grep -q '"TIDINGS_ADDR=0.0.0.0:8080"'; then
    pass "env TIDINGS_ADDR=0.0.0.0:8080"
else
    fail "env TIDINGS_ADDR=0.0.0.0:8080 missing"
fi

# 6. run it ---------------------------------------------------------------------
if curl -s -o /dev/null --max-time 2 "$URL/"; then
    die "something already listens on $URL; set SMOKE_PORT"
fi

wait_healthy() { # container name; waits up to 30 s
    local _
    for _ in $(seq 1 60); do
        if [ "$(curl -s --max-time 2 "$URL/healthz" || true)" = "ok" ]; then return 0; fi
        if [ "$(podman inspect --format '{{.State.Running}}' "$1" 2>/dev/null)" != "true" ]; then
            podman logs "$1" 2>&1 | tail -20
            return 1
        fi
        sleep 0.5
    done
    podman logs "$1" 2>&1 | tail -20
    return 1
}

stop_and_expect_zero() { # container name
    local t0 t1 code
    t0=$(date +%s)
    timeout 60 podman stop -t 10 "$1" >/dev/null
    t1=$(date +%s)
    code=$(podman inspect --format '{{.State.ExitCode}}' "$1")
    if [ "$code" = 0 ]; then
        pass "podman stop: exit code 0 after $((t1 - t0)) s"
    else
        fail "podman stop: exit code $code after $((t1 - t0)) s (137 means it ignored SIGTERM)"
        podman logs "$1" 2>&1 | tail -20
    fi
}

step "run $IMAGE (network=host, 127.0.0.1:$PORT)"
# With the host network the image's 0.0.0.0:8080 would listen on every host
# interface: override it so that only loopback is used.
podman run -d --name "$NAME" --network=host \
    -e "TIDINGS_ADDR=127.0.0.1:$PORT" \
    -e "TIDINGS_BASE_URL=$BASE_URL_SET" \
    "$IMAGE" >/dev/null
if wait_healthy "$NAME"; then pass "GET /healthz -> ok"; else fail "GET /healthz never answered ok"; fi

status=$(curl -s --max-time 5 -o "$TMP/feed.rss" -D "$TMP/feed.headers" -w '%{http_code}' "$URL/feed.rss" || true)
if [ "$status" = 200 ]; then pass "GET /feed.rss -> 200"; else fail "GET /feed.rss -> $status"; fi
if grep -qi '^content-type:.*xml' "$TMP/feed.headers" 2>/dev/null; then
    pass "feed.rss content-type: $(grep -i '^content-type:' "$TMP/feed.headers" | tr -d '\r' | cut -d' ' -f2-)"
else
    fail "feed.rss has no XML content-type"
fi
if grep -q '<rss' "$TMP/feed.rss" 2>/dev/null && grep -q '<item>' "$TMP/feed.rss"; then
    pass "feed.rss is RSS with $(grep -o '<item>' "$TMP/feed.rss" | wc -l) items"
else
    fail "feed.rss is not RSS with items"
fi
if grep -q "$BASE_URL_SET" "$TMP/feed.rss" 2>/dev/null; then
    pass "TIDINGS_BASE_URL is used in the feed links"
else
    fail "TIDINGS_BASE_URL does not appear in the feed"
fi

pid=$(podman inspect --format '{{.State.Pid}}' "$NAME")
uid=$(awk '/^Uid:/ {print $2 ":" $3}' "/proc/$pid/status" 2>/dev/null || true)
gid=$(awk '/^Gid:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
if [ "$uid" = "10001:10001" ] && [ "$gid" = 10001 ]; then
    pass "server process (host pid $pid) runs as uid/gid 10001"
else
    fail "server process runs as uid '$uid' gid '$gid', want 10001"
fi
exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
case "$exe" in
    */usr/local/bin/tidings) pass "PID 1 of the container is tidings itself" ;;
    *) fail "PID 1 of the container is '$exe', want /usr/local/bin/tidings" ;;
esac

stop_and_expect_zero "$NAME"

# 7. mounted site -----------------------------------------------------------------
step "run with content/ and feeds/ mounted read-only"
mkdir -p "$TMP/site"
cp -r content feeds "$TMP/site/"
sed -i 's/^title: .*/title: Smoke Mounted Site/' "$TMP/site/feeds/site.yaml"
chmod -R a+rX "$TMP"
podman run -d --name "$NAME-mounted" --network=host \
    -e "TIDINGS_ADDR=127.0.0.1:$PORT" \
    -v "$TMP/site/content:/srv/tidings/content:ro" \
    -v "$TMP/site/feeds:/srv/tidings/feeds:ro" \
    "$IMAGE" >/dev/null
if wait_healthy "$NAME-mounted"; then pass "GET /healthz -> ok"; else fail "GET /healthz never answered ok"; fi
if curl -s --max-time 5 "$URL/feed.rss" | grep -q 'Smoke Mounted Site'; then
    pass "the mounted feeds/site.yaml is served"
else
    fail "the mounted feeds/site.yaml is not what is served"
fi
stop_and_expect_zero "$NAME-mounted"

echo
if [ "$failures" = 0 ]; then
    echo "container smoke: all checks passed"
else
    echo "container smoke: $failures check(s) failed"
    exit 1
fi
