#!/usr/bin/env bash
# install.sh - install what the interop suite (tests/interop/run.sh) needs. Idempotent:
# a second run changes nothing and asks no registry.
#
#   Debian:  libxml2-utils (xmllint), jing, newsboat, sqlite3 (newsboat's cache is read
#            with it); nodejs + npm only if node is missing; python3-venv only if a venv
#            cannot be made without it. `apt-get update` runs only when something is missing.
#   Python:  $INTEROP_HOME/venv with the exact versions in requirements.txt
#            (feedparser, jsonschema and their dependencies).
#   npm:     $INTEROP_HOME/node/node_modules from package.json + package-lock.json
#            (rss-parser, pinned), installed with `npm ci`.
#
# INTEROP_HOME defaults to /tmp/tidings-interop. Needs root (or sudo) only to install
# Debian packages. Prints every step; any failure stops it with a non-zero exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INTEROP_HOME=${INTEROP_HOME:-/tmp/tidings-interop}
VENV="$INTEROP_HOME/venv"
NODE_DIR="$INTEROP_HOME/node"

say() { echo "install.sh: $*"; }
die() { echo "install.sh: ERROR: $*" >&2; exit 1; }
trap 'echo "install.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

mkdir -p "$INTEROP_HOME" || die "cannot create INTEROP_HOME=$INTEROP_HOME"
say "INTEROP_HOME=$INTEROP_HOME"

# ---------------------------------------------------------------- Debian packages
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo -n)
else
  SUDO=(__no_root__)
fi
apt_updated=0
apt_install() {
  [ "${SUDO[0]:-}" != __no_root__ ] || die "need root or sudo to install Debian packages: $*"
  command -v apt-get >/dev/null || die "apt-get not found; install these by hand: $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q || die "apt-get update failed"
    apt_updated=1
  fi
  say "apt-get install $*"
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "$@" \
    || die "apt-get install $* failed"
}

missing=()
for pair in xmllint:libxml2-utils jing:jing newsboat:newsboat sqlite3:sqlite3 chromium:chromium; do
  bin=${pair%%:*} pkg=${pair#*:}
  command -v "$bin" >/dev/null || missing+=("$pkg")
done
# The image may carry its own nodejs (with npm inside); only bring Debian's when node is absent.
command -v node >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
else
  say "Debian packages present: xmllint, jing, newsboat, sqlite3, node"
fi
for bin in xmllint jing newsboat sqlite3 chromium node npm python3; do
  command -v "$bin" >/dev/null || die "$bin is still missing after the install step"
done
say "versions: $(xmllint --version 2>&1 | head -1); newsboat $(newsboat --version 2>/dev/null | head -1 | awk '{print $2}'); node $(node --version); npm $(npm --version); $(python3 --version 2>&1)"

# ---------------------------------------------------------------- Python venv
REQ="$HERE/requirements.txt"
req_sum=$(sha256sum "$REQ" | cut -d' ' -f1)
stamp="$VENV/.tidings-interop-requirements"
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$req_sum" ] \
   && "$VENV/bin/python" -c 'import feedparser, jsonschema' 2>/dev/null; then
  say "python venv up to date: $VENV"
else
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating python venv $VENV"
    if ! python3 -m venv "$VENV"; then
      rm -rf "$VENV"
      say "python3 -m venv failed; installing python3-venv"
      apt_install python3-venv
      python3 -m venv "$VENV" || die "python3 -m venv $VENV failed"
    fi
  fi
  say "pip install -r $REQ"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$REQ" \
    || die "pip install -r $REQ failed"
  echo "$req_sum" > "$stamp"
fi
pyv=$("$VENV/bin/python" -c 'import sys, feedparser, jsonschema; from importlib.metadata import version; print("python %s, feedparser %s, jsonschema %s" % (sys.version.split()[0], feedparser.__version__, version("jsonschema")))') \
  || die "the venv cannot import feedparser and jsonschema"
say "python: $pyv"

# ---------------------------------------------------------------- npm packages
mkdir -p "$NODE_DIR"
lock_sum=$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)
nstamp="$NODE_DIR/.tidings-interop-lock"
if [ -f "$nstamp" ] && [ "$(cat "$nstamp")" = "$lock_sum" ] && [ -f "$NODE_DIR/node_modules/rss-parser/package.json" ]; then
  say "npm packages up to date: $NODE_DIR/node_modules"
else
  cp "$HERE/package.json" "$HERE/package-lock.json" "$NODE_DIR/"
  say "npm ci in $NODE_DIR"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $NODE_DIR failed"
  echo "$lock_sum" > "$nstamp"
fi
rpv=$(NODE_PATH="$NODE_DIR/node_modules" node -e 'require("rss-parser"); console.log(require("rss-parser/package.json").version)') \
  || die "node cannot load rss-parser from $NODE_DIR/node_modules"
say "node: rss-parser $rpv"
say "done"
