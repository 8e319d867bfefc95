#!/usr/bin/env bash
# s3-smoke.sh: proves that `tidings build --upload` puts the static export into S3-compatible
# storage (moto's S3 server on 127.0.0.1, with SigV4 signatures verified) so that a client
# reading the bucket gets what `tidings serve` sends, and that only what changed is sent:
#   1. a wrong secret fails with one line (`upload: LIST s3://…: 403 SignatureDoesNotMatch…`),
#      exit 2; with the right key every exported document is PUT, once;
#   2. for every document, an anonymous GET of its object has the Content-Type, Cache-Control
#      and bytes `tidings serve` sends for its URL (no Content-Encoding), carries serve's ETag
#      as x-amz-meta-tidings-etag, and `If-None-Match: <the object's ETag>` gets a 304;
#   3. a second build with nothing changed PUTs 0 objects and moves no ETag or Last-Modified,
#      and keeps (and reports) an object the export does not have;
#   4. editing one post PUTs exactly the documents whose served bytes show the edit, each of
#      them one that lists the post; every other object keeps its Last-Modified;
#      --s3-delete removes the stray object;
#   5. a settings change that keeps the bytes (max_age) re-sends every object, which then
#      carries the new Cache-Control;
#   6. --s3-encoding gzip stores serve's gzip bytes with Content-Encoding: gzip;
#   7. keys with a space and non-ASCII letters (a Jekyll site's category feeds) are put,
#      listed back as the same keys, and served to anonymous GETs like 2.
#
# Usage: scripts/s3-smoke.sh TIDINGS_BINARY   (or TIDINGS_BINARY=… scripts/s3-smoke.sh)
# Installs, once and idempotently: python3-venv (apt, only if a venv cannot be made) and
# moto[server] + boto3 (pinned) in $S3_SMOKE_HOME/venv (default /tmp/tidings-s3).
# Environment: S3_SMOKE_PORT (moto, default 18120), S3_SMOKE_SERVE_PORT (tidings serve,
# default 18131). Everything listens on 127.0.0.1, every wait is bounded, both servers are
# stopped on exit. Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."

BIN=${1:-${TIDINGS_BINARY:-}}
[ -n "$BIN" ] || { echo "usage: $0 TIDINGS_BINARY" >&2; exit 1; }
[ -x "$BIN" ] || { echo "error: $BIN is not an executable" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
S3_SMOKE_HOME=${S3_SMOKE_HOME:-/tmp/tidings-s3}
S3_PORT=${S3_SMOKE_PORT:-18120}
SERVE_PORT=${S3_SMOKE_SERVE_PORT:-18131}
S3_URL="http://127.0.0.1:$S3_PORT"
SERVE_URL="http://127.0.0.1:$SERVE_PORT"
BUCKET=tidings-smoke
MOTO_VERSION=5.2.5
BOTO3_VERSION=1.44.8

failures=0
passes=0
pass() { printf 'ok   %s\n' "$*"; passes=$((passes + 1)); }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
started=$SECONDS

# ---------------------------------------------------------------- install
step "install moto[server] $MOTO_VERSION and boto3 $BOTO3_VERSION in $S3_SMOKE_HOME/venv"
VENV="$S3_SMOKE_HOME/venv"
PY="$VENV/bin/python"
stamp="$VENV/.s3-smoke-$MOTO_VERSION-$BOTO3_VERSION"
mkdir -p "$S3_SMOKE_HOME"
if [ -f "$stamp" ] && "$PY" -c 'import moto, boto3, flask' 2>/dev/null; then
    echo "venv up to date"
else
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        command -v apt-get >/dev/null || die "python3 cannot make a venv and apt-get is missing"
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends python3-venv
        python3 -m venv "$VENV"
    fi
    timeout 900 "$VENV/bin/pip" install -q --disable-pip-version-check \
        "moto[server]==$MOTO_VERSION" "boto3==$BOTO3_VERSION"
    touch "$stamp"
fi
command -v curl >/dev/null || die "curl is not installed"

# ---------------------------------------------------------------- servers
TMP=$(mktemp -d /tmp/tidings-s3-smoke.XXXXXX)
MOTO_PID=
SERVE_PID=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    for pid in $SERVE_PID $MOTO_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

wait_for() { # URL SECONDS: until the URL answers at all
    local deadline=$((SECONDS + $2))
    until curl -s -o /dev/null --max-time 2 "$1"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}

step "start moto on $S3_URL and tidings serve on $SERVE_URL"
timeout 900 "$VENV/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" >"$TMP/moto.log" 2>&1 &
MOTO_PID=$!
wait_for "$S3_URL/moto-api/" 60 || die "moto did not start: $(tail -5 "$TMP/moto.log")"

mkdir -p "$TMP/site"
cp -r content feeds "$TMP/site/"
SITE=(--content "$TMP/site/content" --feeds "$TMP/site/feeds" --base-url "$SERVE_URL")
timeout 900 "$BIN" serve "${SITE[@]}" --addr "127.0.0.1:$SERVE_PORT" >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
wait_for "$SERVE_URL/readyz" 60 || die "tidings serve did not start: $(tail -5 "$TMP/serve.log")"

# The checks that read the bucket and serve, in Python (boto3 is already there for moto).
cat >"$TMP/check.py" <<'PYTHON'
import gzip, json, os, sys, urllib.error, urllib.parse, urllib.request
import boto3

S3, BUCKET, SERVE = os.environ["S3_URL"], os.environ["BUCKET"], os.environ["SERVE_URL"]

def client(key="setup", secret="setup"):
    return boto3.client("s3", endpoint_url=S3, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret)

def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()

def exported(out):
    """Identity files of an export, as paths relative to it (not its list of them, .tidings-export)."""
    paths = []
    for root, _, files in os.walk(out):
        for name in files:
            if not name.endswith((".gz", ".br")) and name != ".tidings-export":
                paths.append(os.path.relpath(os.path.join(root, name), out).replace(os.sep, "/"))
    return sorted(paths)

def serve_url(path):
    """The URL serve answers for an export path: page/N/ folders are ?page=N."""
    parts = path.split("/")
    if path == "index.html":
        return SERVE + "/"
    query = ""
    if len(parts) >= 3 and parts[-3] == "page" and parts[-2].isdigit():
        query = "?page=" + parts[-2]
        parts = parts[:-3] + parts[-1:]
    if parts[-1] == "index.xml":
        parts[-1] = ""
    return SERVE + urllib.parse.quote("/" + "/".join(parts)) + query

def object_url(key):
    return f"{S3}/{BUCKET}/" + urllib.parse.quote(key)

def setup():
    iam = boto3.client("iam", endpoint_url=S3, region_name="us-east-1",
                       aws_access_key_id="setup", aws_secret_access_key="setup")
    iam.create_user(UserName="tidings-upload")
    iam.put_user_policy(UserName="tidings-upload", PolicyName="feeds", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*",
                       "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}]}))
    key = iam.create_access_key(UserName="tidings-upload")["AccessKey"]
    s3 = client()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    print(key["AccessKeyId"], key["SecretAccessKey"])

def snapshot(prefix, path):
    """key -> [ETag, LastModified] of every object under prefix, written to path."""
    objects = {}
    for page in client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for o in page.get("Contents", []):
            objects[o["Key"]] = [o["ETag"], o["LastModified"].isoformat()]
    with open(path, "w") as f:
        json.dump(objects, f)

def verify(out, prefix, encoding):
    """Every exported document against its object and serve's answer; ok/FAIL lines."""
    paths = exported(out)
    listed = set()
    for page in client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        listed.update(o["Key"] for o in page.get("Contents", []))
    missing = [p for p in paths if prefix + p not in listed]
    print(("FAIL" if missing or not paths else "ok  "),
          f"{len(paths) - len(missing)}/{len(paths)} exported documents are objects under {prefix}",
          ("missing: " + ", ".join(missing[:5])) if missing else "")
    accept = {"identity": "identity", "gzip": "gzip"}[encoding]
    problems = {name: [] for name in ("Content-Type", "Cache-Control", "Content-Encoding",
                                      "bytes", "tidings ETag", "304 on If-None-Match")}
    for path in paths:
        key = prefix + path
        status, object_headers, body = get(object_url(key))
        served_status, served, served_body = get(serve_url(path), {"Accept-Encoding": accept})
        if status != 200 or served_status != 200:
            for found in problems.values():
                found.append(f"{path}: object {status}, serve {served_status}")
            continue
        for name in ("Content-Type", "Cache-Control"):
            if object_headers.get(name) != served.get(name):
                problems[name].append(f"{path}: {object_headers.get(name)!r} != serve's {served.get(name)!r}")
        want_encoding = None if encoding == "identity" else "gzip"
        if object_headers.get("Content-Encoding") != want_encoding or served.get("Content-Encoding") != want_encoding:
            problems["Content-Encoding"].append(
                f"{path}: {object_headers.get('Content-Encoding')!r}, serve {served.get('Content-Encoding')!r}")
        if body != served_body:
            problems["bytes"].append(f"{path}: {len(body)} bytes != serve's {len(served_body)}")
        elif encoding == "gzip":
            status_id, _, identity = get(serve_url(path), {"Accept-Encoding": "identity"})
            if status_id != 200 or gzip.decompress(body) != identity:
                problems["bytes"].append(f"{path}: gunzipped object != serve's identity bytes")
        if object_headers.get("x-amz-meta-tidings-etag") != served.get("ETag"):
            problems["tidings ETag"].append(
                f"{path}: {object_headers.get('x-amz-meta-tidings-etag')!r} != serve's {served.get('ETag')!r}")
        etag = object_headers.get("ETag")
        again, _, again_body = get(object_url(key), {"If-None-Match": etag or '""'})
        if not etag or again != 304 or again_body:
            problems["304 on If-None-Match"].append(f"{path}: {again} for If-None-Match: {etag}")
    for name, found in problems.items():
        verdict = "FAIL" if found or not paths else "ok  "
        print(verdict, f"{len(paths) - len(found)}/{len(paths)} objects under {prefix}: {name} as serve sends it"
              if name not in ("304 on If-None-Match", "tidings ETag") else
              f"{len(paths) - len(found)}/{len(paths)} objects under {prefix}: {name}")
        for line in found[:5]:
            print("     ", line)

def unchanged(before, after, prefix, out):
    """Every exported object keeps its ETag and Last-Modified."""
    a, b = json.load(open(before)), json.load(open(after))
    keys = [prefix + p for p in exported(out)]
    moved = [k for k in keys if k not in a or a.get(k) != b.get(k)]
    print("FAIL" if moved or not keys else "ok  ",
          f"{len(keys) - len(moved)}/{len(keys)} objects kept their ETag and Last-Modified", moved[:5])

def edited(before, after, prefix, out, marker, put):
    """The objects whose ETag changed are exactly the documents that show the edit."""
    a, b = json.load(open(before)), json.load(open(after))
    paths = exported(out)
    shows_edit, lists_post = set(), set()
    post_url = None
    status, _, feed = get(SERVE + "/feed.json", {"Accept-Encoding": "identity"})
    for item in json.loads(feed)["items"]:
        if marker in item.get("content_html", ""):
            post_url = item["url"]
    for path in paths:
        status, _, body = get(serve_url(path), {"Accept-Encoding": "identity"})
        text = body.decode("utf-8", "replace")
        if marker in text:
            shows_edit.add(prefix + path)
        if post_url and (post_url in text or json.dumps(post_url)[1:-1] in text):
            lists_post.add(prefix + path)
    changed = {prefix + p for p in paths if a.get(prefix + p, [None])[0] != b.get(prefix + p, [None])[0]}
    same_lm = [k for k in (prefix + p for p in paths) if k not in changed and a.get(k) != b.get(k)]
    print("FAIL" if not shows_edit or changed != shows_edit else "ok  ",
          f"the {len(changed)} objects whose ETag changed are the {len(shows_edit)} documents that show the edit",
          sorted(changed ^ shows_edit)[:5])
    print("FAIL" if put != len(shows_edit) else "ok  ",
          f"upload said {put} put; {len(shows_edit)} documents show the edit")
    print("FAIL" if not shows_edit <= lists_post else "ok  ",
          f"each of them lists the post ({len(lists_post)} of {len(paths)} documents list it: {post_url})")
    print("FAIL" if same_lm else "ok  ",
          f"the other {len(paths) - len(changed)} objects kept their ETag and Last-Modified", same_lm[:5])

def exists(key):
    try:
        client().head_object(Bucket=BUCKET, Key=key)
        return "yes"
    except Exception:
        return "no"

command, args = sys.argv[1], sys.argv[2:]
if command == "setup": setup()
elif command == "snapshot": snapshot(*args)
elif command == "verify": verify(*args)
elif command == "unchanged": unchanged(*args)
elif command == "edited": edited(*args[:5], int(args[5]))
elif command == "put-stray": client().put_object(Bucket=BUCKET, Key=args[0], Body=b"old", ContentType="text/plain")
elif command == "exists": print(exists(args[0]))
elif command == "count": print(len(exported(args[0])))
PYTHON
export S3_URL BUCKET SERVE_URL
check() { "$PY" "$TMP/check.py" "$@"; }
# Runs a check.py command and counts its ok/FAIL lines.
report() {
    local output
    output=$(check "$@" 2>&1) || { fail "check.py $1 crashed: $(tail -3 <<<"$output")"; return; }
    printf '%s\n' "$output"
    passes=$((passes + $(grep -c '^ok ' <<<"$output" || true)))
    failures=$((failures + $(grep -c '^FAIL' <<<"$output" || true)))
}
auth() { # on|off: moto verifies signatures and IAM policies only when on
    local count=inf
    [ "$1" = on ] && count=0
    curl -sf -X POST --max-time 5 -H "Content-Type: text/plain" --data-binary "$count" "$S3_URL/moto-api/reset-auth" >/dev/null || die "moto reset-auth failed"
}
# upload OUT PREFIX [flags…]: runs build --upload; the upload line goes to $TMP/last, its exit status to $rc
upload() {
    local out=$1 prefix=$2
    shift 2
    set +e
    timeout 300 "$BIN" build "${SITE[@]}" --out "$out" --upload "s3://$BUCKET/$prefix" \
        --s3-endpoint "$S3_URL" "$@" >"$TMP/last" 2>"$TMP/last.err"
    rc=$?
    set -e
    cat "$TMP/last"
    grep -v '^warning: ' "$TMP/last.err" || true # the sites' content warnings are not the point here
}
field() { # the number before WORD in the upload line
    sed -n "s/^upload: .*[^0-9]\([0-9][0-9]*\) $1.*/\1/p; s/^upload: \([0-9][0-9]*\) $1.*/\1/p" "$TMP/last" | head -1
}
upload_seconds() { sed -n 's/^upload: .* in \([0-9.]*\) s .*/\1/p' "$TMP/last"; }

read -r KEY_ID SECRET < <(check setup)
[ -n "${SECRET:-}" ] || die "could not create the IAM user and bucket"
export AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET
unset AWS_SESSION_TOKEN AWS_REGION TIDINGS_S3_ENDPOINT TIDINGS_UPLOAD TIDINGS_S3_ENCODING TIDINGS_S3_DELETE

# ---------------------------------------------------------------- 1. first upload
step "1. a wrong secret is refused in one line; the first upload PUTs every document"
auth on
AWS_SECRET_ACCESS_KEY=wrong-secret upload "$TMP/out0" site/
errors=$(grep -c . "$TMP/last.err" || true)
if [ "$rc" = 2 ] && [ "$errors" = 1 ] && grep -q "^upload: LIST s3://$BUCKET/site/: 403 SignatureDoesNotMatch" "$TMP/last.err"; then
    pass "wrong secret: exit 2, one line: $(cat "$TMP/last.err")"
else
    fail "wrong secret: exit $rc, $errors stderr lines: $(head -3 "$TMP/last.err")"
fi

upload "$TMP/out1" site/
documents=$(check count "$TMP/out1")
first_seconds=$(upload_seconds)
if [ "$rc" = 0 ] && [ "$(field put)" = "$documents" ] && [ "$(field unchanged)" = 0 ]; then
    pass "first upload: exit 0, $documents put of $documents documents"
else
    fail "first upload: exit $rc, expected $documents put: $(cat "$TMP/last" "$TMP/last.err")"
fi

# ---------------------------------------------------------------- 2. what a client reads
step "2. every object against tidings serve (anonymous GETs)"
auth off
report verify "$TMP/out1" site/ identity
check snapshot site/ "$TMP/snap1.json"

# ---------------------------------------------------------------- 3. nothing changed
step "3. a second build with no change PUTs nothing and moves no Last-Modified"
check put-stray site/old/feed.rss
sleep 1.2 # Last-Modified has one-second steps: a PUT now would show
auth on
upload "$TMP/out2" site/
if [ "$rc" = 0 ] && [ "$(field put)" = 0 ] && [ "$(field unchanged)" = "$documents" ]; then
    pass "second upload: 0 put, $documents unchanged"
else
    fail "second upload: exit $rc, expected 0 put: $(cat "$TMP/last" "$TMP/last.err")"
fi
second_seconds=$(upload_seconds)
if grep -q "(1 not in the export kept" "$TMP/last"; then
    pass "the stray object is reported as kept"
else
    fail "the stray object is not reported: $(cat "$TMP/last")"
fi
auth off
check snapshot site/ "$TMP/snap2.json"
report unchanged "$TMP/snap1.json" "$TMP/snap2.json" site/ "$TMP/out2"
if [ "$(check exists site/old/feed.rss)" = yes ]; then
    pass "without --s3-delete the stray object stays"
else
    fail "the stray object was deleted without --s3-delete"
fi

# ---------------------------------------------------------------- 4. one post edited
step "4. editing one post PUTs only the documents that show it"
post="$TMP/site/content/_posts/2019-11-12-caching-and-the-vary-header.md"
marker="s3-smoke-edit-$$-$RANDOM"
printf '\nAn edit for the object-storage smoke test: %s.\n' "$marker" >>"$post"
deadline=$((SECONDS + 30))
until grep -q "$marker" <<<"$(curl -s --max-time 2 "$SERVE_URL/feed.json")"; do
    [ $SECONDS -lt $deadline ] || die "tidings serve did not reload the edited post within 30 s"
    sleep 0.2
done
sleep 1.2
auth on
upload "$TMP/out3" site/ --s3-delete
edit_seconds=$(upload_seconds)
edit_put=$(field put)
if [ "$rc" = 0 ] && [ "$(field deleted)" = 1 ]; then
    pass "edit upload with --s3-delete: exit 0, ${edit_put:-?} put, 1 deleted"
else
    fail "edit upload: exit $rc, expected 1 deleted: $(cat "$TMP/last" "$TMP/last.err")"
fi
auth off
check snapshot site/ "$TMP/snap3.json"
report edited "$TMP/snap2.json" "$TMP/snap3.json" site/ "$TMP/out3" "$marker" "${edit_put:-0}"
if [ "$(check exists site/old/feed.rss)" = no ]; then
    pass "--s3-delete removed the stray object"
else
    fail "the stray object is still there after --s3-delete"
fi
report verify "$TMP/out3" site/ identity

# ---------------------------------------------------------------- 5. headers only
step "5. a change of headers only (max_age) re-sends every object with the new Cache-Control"
printf '\nmax_age: 77\n' >>"$TMP/site/feeds/site.yaml"
deadline=$((SECONDS + 30))
until grep -qi '^cache-control:.*max-age=77' <<<"$(curl -s -o /dev/null -D - --max-time 2 "$SERVE_URL/feed.atom")"; do
    [ $SECONDS -lt $deadline ] || die "tidings serve did not reload site.yaml within 30 s"
    sleep 0.2
done
auth on
upload "$TMP/out5" site/
if [ "$rc" = 0 ] && [ "$(field put)" = "$documents" ]; then
    pass "max_age changed: $documents put (same bytes, new Cache-Control)"
else
    fail "max_age changed: exit $rc, expected $documents put: $(cat "$TMP/last" "$TMP/last.err")"
fi
auth off
report verify "$TMP/out5" site/ identity

# ---------------------------------------------------------------- 6. gzip
step "6. --s3-encoding gzip stores serve's gzip bytes with Content-Encoding: gzip"
auth on
upload "$TMP/out6" gz --s3-encoding gzip
if [ "$rc" = 0 ] && [ "$(field put)" = "$documents" ]; then
    pass "gzip upload: $documents put"
else
    fail "gzip upload: exit $rc: $(cat "$TMP/last" "$TMP/last.err")"
fi
auth off
report verify "$TMP/out6" gz/ gzip

# ---------------------------------------------------------------- 7. keys with a space, non-ASCII
step "7. keys with a space and non-ASCII letters (a Jekyll site's feed/Main Cat.xml, feed/Café Crème.xml)"
cp -r tests/data/jekyll "$TMP/jekyll"
sed -i 's/categories: \[Main Cat, Empty\]/categories: [Main Cat, Empty, Café Crème]/' "$TMP/jekyll/_config.yml"
JEKYLL_URL="http://127.0.0.1:$((SERVE_PORT + 1))"
SITE=(--content "$TMP/jekyll" --base-url "$JEKYLL_URL")
timeout 900 "$BIN" serve "${SITE[@]}" --addr "127.0.0.1:$((SERVE_PORT + 1))" >"$TMP/serve-jekyll.log" 2>&1 &
SERVE_PID="$SERVE_PID $!"
wait_for "$JEKYLL_URL/readyz" 60 || die "tidings serve (Jekyll site) did not start: $(tail -5 "$TMP/serve-jekyll.log")"
auth on
upload "$TMP/out7" jekyll
if [ "$rc" = 0 ] && [ -f "$TMP/out7/feed/Main Cat.xml" ] && [ -f "$TMP/out7/feed/Café Crème.xml" ] \
    && [ "$(field put)" = "$(check count "$TMP/out7")" ]; then
    pass "Jekyll site: every document put, feed/Main Cat.xml and feed/Café Crème.xml among them"
else
    fail "Jekyll site upload: exit $rc: $(cat "$TMP/last" "$TMP/last.err")"
fi
auth on
upload "$TMP/out7" jekyll
if [ "$rc" = 0 ] && [ "$(field put)" = 0 ]; then
    pass "Jekyll site again: 0 put (the listed keys decode to the keys put)"
else
    fail "Jekyll site again: exit $rc, expected 0 put: $(cat "$TMP/last" "$TMP/last.err")"
fi
auth off
SERVE_URL=$JEKYLL_URL report verify "$TMP/out7" jekyll/ identity

printf '\n%s documents; upload seconds: first %s, unchanged %s, one post edited %s (%s put)\n' \
    "$documents" "$first_seconds" "$second_seconds" "$edit_seconds" "${edit_put:-?}"
if [ "$failures" -eq 0 ]; then
    printf 'PASS s3-smoke: %d checks passed in %d s\n' "$passes" $((SECONDS - started))
    exit 0
fi
printf 'FAIL s3-smoke: %d of %d checks failed (%d s)\n' "$failures" $((passes + failures)) $((SECONDS - started))
exit 1
