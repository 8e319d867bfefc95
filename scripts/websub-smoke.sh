#!/usr/bin/env bash
# websub-smoke.sh: WebSub publishing, tested against a real hub and a real subscriber.
#
# Proves, with tests/deploy/websub_hub.py, that tidings serving the sample site with
# flask-websub's hub in site.yaml (websub.hubs) gets an edit to flask-websub's own
# subscriber: discovery from the Link headers, subscription with a hub.secret, the new
# feed bytes delivered within seconds of the file write with a valid X-Hub-Signature and
# never the old bytes, no delivery for a feed the edit does not touch, none after
# unsubscribing, and, when site.yaml is edited to name another hub while serving, that
# hub told and the old one no longer. It prints the write-to-delivery time.
#
# Usage: scripts/websub-smoke.sh TIDINGS_BINARY   (or TIDINGS_BINARY=... in the environment)
#
# With WEBSUB_TEST=tests/deploy/builtin_hub.py it runs, in the same environment, the test of
# tidings' own hub (`serve --hub`) with flask-websub's subscriber instead (scripts/hub-smoke.sh).
#
# Installs what it needs, idempotently (a second run asks no registry):
#   Debian:  openssl (the hub's throwaway certificate) and python3-venv, only if missing;
#            `apt-get update` runs only when something is missing.
#   Python:  $WEBSUB_HOME/venv (default /tmp/tidings-websub) with the pinned versions in
#            tests/deploy/websub-requirements.txt (flask-websub, celery and their deps).
# Everything listens on 127.0.0.1 and stops when the test ends; the test is bounded by
# WEBSUB_TIMEOUT seconds (default 240). Extra arguments (e.g. --verbose) go to the test.
#
# Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."

BINARY=${1:-${TIDINGS_BINARY:-}}
[ $# -gt 0 ] && shift
WEBSUB_HOME=${WEBSUB_HOME:-/tmp/tidings-websub}
VENV="$WEBSUB_HOME/venv"
REQ=tests/deploy/websub-requirements.txt
TIMEOUT=${WEBSUB_TIMEOUT:-240}
TEST=${WEBSUB_TEST:-tests/deploy/websub_hub.py}

say() { printf 'websub-smoke: %s\n' "$*"; }
die() { printf 'websub-smoke: error: %s\n' "$*" >&2; exit 1; }

[ -n "$BINARY" ] || die "usage: $0 TIDINGS_BINARY (or set TIDINGS_BINARY)"
[ -x "$BINARY" ] || die "$BINARY is not an executable"

apt_updated=0
apt_install() {
  [ "$(id -u)" -eq 0 ] || die "need root to install Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    apt-get -o DPkg::Lock::Timeout=600 update -q || die "apt-get update failed"
    apt_updated=1
  fi
  say "apt-get install $*"
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "$@" \
    || die "apt-get install $* failed"
}

command -v openssl >/dev/null || apt_install openssl
command -v python3 >/dev/null || apt_install python3

mkdir -p "$WEBSUB_HOME"
req_sum=$(sha256sum "$REQ" | cut -d' ' -f1)
stamp="$VENV/.tidings-websub-requirements"
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$req_sum" ] \
   && "$VENV/bin/python" -c 'import flask_websub, celery' 2>/dev/null; then
  say "python venv up to date: $VENV"
else
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating python venv $VENV"
    if ! python3 -m venv "$VENV"; then
      rm -rf "$VENV"
      apt_install python3-venv
      python3 -m venv "$VENV" || die "python3 -m venv $VENV failed"
    fi
  fi
  say "pip install -r $REQ"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$REQ" \
    || die "pip install -r $REQ failed"
  echo "$req_sum" > "$stamp"
fi
say "$("$VENV/bin/python" -c 'import sys; from importlib.metadata import version as v; print("python %s, flask-websub %s, celery %s" % (sys.version.split()[0], v("flask-websub"), v("celery")))')"

say "running $TEST against $BINARY"
status=0
timeout --kill-after=10 "$TIMEOUT" "$VENV/bin/python" "$TEST" "$BINARY" "$@" || status=$?
if [ "$status" -eq 0 ]; then
  say "PASS"
else
  [ "$status" -eq 124 ] && say "the test did not finish within ${TIMEOUT}s"
  say "FAIL (exit $status)"
  exit 1
fi
