#!/usr/bin/env bash
# hub-smoke.sh: tidings' built-in WebSub hub (`serve --hub`) against flask-websub's
# subscriber: subscribe with a secret, a signed delivery after an edit, a restart that keeps
# the subscription, `tidings stats` and `/stats`, unsubscribe, and callbacks at private
# addresses refused. See tests/deploy/builtin_hub.py for every check.
#
# Usage: scripts/hub-smoke.sh TIDINGS_BINARY [--verbose]
# Installs what it needs as scripts/websub-smoke.sh does (same venv); exit 0 when all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
WEBSUB_TEST=tests/deploy/builtin_hub.py exec bash scripts/websub-smoke.sh "$@"
