"""Shared pieces of the browser checks (feed_view.py, embed_check.py).

The PASS/FAIL bookkeeping (check, summary), squash, and a headless Chromium
runner with a fresh profile per run (chromium_cmd, run_chromium) plus the
helpers around it (chromium_present, stderr_tail, is_png). Standard library
only; the scripts import it from their own directory.
"""

import os
import shutil
import signal
import subprocess
import tempfile

CHROMIUM_TIMEOUT_S = 60

# Every run: headless, no sandbox (containers), and nothing that talks to the
# network or changes the profile behind the page's back.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
)

results = []  # (ok, name, reason)


def check(ok, name, reason=""):
    results.append((ok, name, reason))
    if ok:
        print(f"PASS {name}", flush=True)
    else:
        print(f"FAIL {name}: {reason}", flush=True)
    return ok


def summary():
    """Prints `N passed, M failed`; returns the exit code (1 if any check failed)."""
    passed = sum(1 for ok, _, _ in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


def squash(text):
    """XPath normalize-space: what the stylesheet does to every title."""
    return " ".join((text or "").split())


# ---------------------------------------------------------------- Chromium


def chromium_present(chromium):
    """The `chromium present` check, failed only: returns whether it is usable."""
    if os.path.isfile(chromium) and os.access(chromium, os.X_OK):
        return True
    check(False, "chromium present",
          f"{chromium} not found or not executable; install it with "
          "`apt-get install -y chromium` (Debian) or pass --chromium PATH")
    return False


def chromium_cmd(chromium, extra, virtual_time_budget_ms=3000, flags=()):
    """The command line: HEADLESS_FLAGS, the virtual time budget, then the
    caller's flags (the same for every run of a script) and extra (this run's)."""
    return [chromium, *HEADLESS_FLAGS, f"--virtual-time-budget={virtual_time_budget_ms}", *flags, *extra]


def run_chromium(chromium, extra, virtual_time_budget_ms=3000, flags=(), env=None,
                 profile_prefix="browser-check-profile-", timeout=CHROMIUM_TIMEOUT_S):
    """Runs one headless Chromium with a fresh profile (a new --user-data-dir,
    removed afterwards). env: variables set on top of os.environ (e.g. TZ).
    Returns (returncode, stdout, stderr); returncode None means it timed out."""
    profile = tempfile.mkdtemp(prefix=profile_prefix)
    cmd = chromium_cmd(chromium, [f"--user-data-dir={profile}", *extra], virtual_time_budget_ms, flags)
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ, **env) if env else None,
            start_new_session=True,  # its own process group, so a timeout kills every child
        )
        try:
            out, err = proc.communicate(timeout=timeout)
            return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
            return None, "", ""
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def stderr_tail(err, lines=3):
    # Chromium logs harmless D-Bus complaints in containers; skip them.
    useful = [l for l in err.splitlines() if l.strip() and "dbus" not in l.lower()]
    return " | ".join(useful[-lines:]) if useful else "(no stderr)"


def is_png(path):
    try:
        with open(path, "rb") as f:
            return f.read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 1000
    except OSError:
        return False
