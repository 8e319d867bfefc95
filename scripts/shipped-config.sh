# shipped-config.sh: what the scripts that test a shipped nginx configuration share
# (scripts/replicas-smoke.sh, scripts/static-smoke.sh). Sourced, never run; the sourcing
# script defines `die MESSAGE`.

# apt_install PACKAGE...: installs Debian packages quietly, starting no service (Debian
# starts a package's service on install; nothing here should listen on :80).
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    local policy_added=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
        policy_added=1
    fi
    timeout 600 apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
    timeout 600 apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "$@" >/dev/null
    [ "$policy_added" = 0 ] || rm -f /usr/sbin/policy-rc.d
}

# subst COUNT FILE SED_EXPR: edits a copy of a shipped file; the expression must change
# exactly COUNT lines, so a shipped file that drifted from its test fails loudly.
subst() {
    local before changed
    before=$(cat "$2")
    sed -i "$3" "$2"
    changed=$(diff <(printf '%s\n' "$before") "$2" | grep -c '^>' || true)
    [ "$changed" = "$1" ] || die "substitution '$3' changed $changed lines of $2 (expected $1): the shipped config and this test disagree"
}
