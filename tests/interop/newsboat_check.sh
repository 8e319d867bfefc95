#!/usr/bin/env bash
# newsboat_check.sh - does a real terminal feed reader (Debian's newsboat) read a feed?
#
# Usage: newsboat_check.sh [--items N | --min-items N] FEED_URL
#
# Subscribes newsboat to FEED_URL in a throwaway HOME/config/cache under /tmp, runs
# `newsboat -x reload` headless (no terminal needed), then reads the items newsboat
# stored in its sqlite cache. It passes when
#   - newsboat exited 0 and logged no error for the feed (it exits 0 even when it
#     could not read a feed, so its log is what counts);
#   - it stored exactly --items N items (or at least --min-items N; default: at least 1);
#   - every stored item has a title, a link and a date of its own (newsboat silently
#     uses the fetch time when an item's date is missing or unreadable, so an item
#     dated within this run counts as undated).
# Prints one line, "PASS newsboat URL: what it stored" or "FAIL newsboat URL: why",
# followed by indented details; exits 0 on PASS, 1 on FAIL, 2 on usage errors or when
# newsboat/sqlite3 are missing (tests/interop/install.sh installs them).
# newsboat 2.21 (Debian 12) reads RSS 0.9x/1.0/2.0 and Atom, not JSON Feed.
set -u
want_exact=""
want_min=1
while [ $# -gt 0 ]; do
  case "$1" in
    --items) want_exact="$2"; shift 2 ;;
    --min-items) want_min="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "newsboat_check.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || { echo "usage: $0 [--items N | --min-items N] FEED_URL" >&2; exit 2; }
url="$1"
for bin in newsboat sqlite3; do
  command -v "$bin" >/dev/null || { echo "FAIL newsboat $url: $bin is not installed (run tests/interop/install.sh)"; exit 2; }
done

# Loopback only: never let libcurl send the request through a proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy="127.0.0.1,localhost,::1" NO_PROXY="127.0.0.1,localhost,::1"

dir=$(mktemp -d /tmp/tidings-newsboat.XXXXXX)
trap 'rm -rf "$dir"' EXIT
printf '%s\n' "$url" > "$dir/urls"
cat > "$dir/config" <<'EOF'
download-timeout 20
reload-threads 1
show-read-feeds yes
EOF
mkdir -p "$dir/home"
q() { sqlite3 -batch -noheader -separator $'\x1f' "$dir/cache.db" "$1"; }
fail() {
  echo "FAIL newsboat $url: $1"
  shift
  for d in "$@"; do [ -z "$d" ] || printf '%s\n' "$d" | head -8 | sed 's/^/      /'; done
  exit 1
}

start=$(date +%s)
HOME="$dir/home" XDG_CONFIG_HOME="$dir/home/.config" XDG_DATA_HOME="$dir/home/.local/share" \
  timeout 90 newsboat -u "$dir/urls" -c "$dir/cache.db" -C "$dir/config" -l 6 -d "$dir/log" \
    -x reload </dev/null >"$dir/out" 2>&1
rc=$?
end=$(date +%s)

[ $rc -eq 0 ] || fail "newsboat exited $rc" "$(tail -3 "$dir/out")"
errors=$(grep -hE '(USERERROR|ERROR|CRITICAL):' "$dir/log" 2>/dev/null | sed 's/^\[[^]]*\] //' | sort -u)
[ -z "$errors" ] || fail "newsboat logged errors reading the feed" "$errors"
[ -s "$dir/cache.db" ] || fail "newsboat wrote no cache"

ftitle=$(q "SELECT title FROM rss_feed LIMIT 1;")
n=$(q "SELECT count(*) FROM rss_item WHERE deleted = 0;")
if [ -n "$want_exact" ]; then
  [ "$n" -eq "$want_exact" ] || fail "newsboat stored $n item(s), the feed has $want_exact"
else
  [ "$n" -ge "$want_min" ] || fail "newsboat stored $n item(s), expected at least $want_min"
fi
missing=""
k=0
while IFS=$'\x1f' read -r title link epoch; do
  k=$((k + 1))
  m=""
  [ -n "$title" ] || m="$m title"
  [ -n "$link" ] || m="$m link"
  if [ "${epoch:-0}" -ge $((start - 5)) ] && [ "${epoch:-0}" -le $((end + 5)) ]; then
    m="$m date (newsboat used the fetch time)"
  fi
  [ -z "$m" ] || missing="$missing
item $k (\"$title\"): no$m"
done < <(q "SELECT title, url, pubDate FROM rss_item WHERE deleted = 0 ORDER BY pubDate DESC, id;")
[ -z "$missing" ] || fail "items lack fields as newsboat sees them" "${missing#?}"
noauthor=$(q "SELECT count(*) FROM rss_item WHERE deleted = 0 AND (author IS NULL OR author = '');")
note=""
[ "$noauthor" -eq 0 ] || note="; $noauthor without an author"
echo "PASS newsboat $url: $(newsboat --version 2>/dev/null | head -1 | awk '{print $1, $2}') stored \"$ftitle\" with $n item(s), each with title, link and its own date$note"
