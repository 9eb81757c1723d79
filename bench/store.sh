#!/usr/bin/env bash
# The store on SQLite and on PostgreSQL, side by side (bench/store_bench.c): inserting
# POSTS posts one transaction each, then the listings the API and the engine make at
# OCCURRENCES occurrences. SQLite is the reference run; the last column is PostgreSQL's
# time over SQLite's (for the insert: its rate over SQLite's).
#   bench/store.sh [BUILD_DIR] [POSTS] [OCCURRENCES]      (default: build 100000 1000000)
# PostgreSQL runs in a throwaway cluster (tests/peers/pgcluster.py) on a Unix socket,
# stopped by its PID at the end; the SQLite file lives in a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
posts=${2:-100000}
occ=${3:-1000000}
cmake --build "$build" --target store_bench >/dev/null
tmp=$(mktemp -d /tmp/samtale-bench-store-XXXXXX)
pgdir=""
cleanup() {
    [ -n "$pgdir" ] && /usr/bin/python3 tests/peers/pgcluster.py stop "$pgdir" >/dev/null 2>&1
    [ -n "$pgdir" ] && rm -rf "$pgdir"
    rm -rf "$tmp"
}
trap cleanup EXIT
pgdir=$(mktemp -d /tmp/samtale-bench-pg-XXXXXX)   # its own folder: postgres must reach it
/usr/bin/python3 tests/peers/pgcluster.py start "$pgdir" --durable >/dev/null
url=$(/usr/bin/python3 tests/peers/pgcluster.py createdb "$pgdir" bench)
# The tests' clusters skip fsync; this one keeps PostgreSQL's defaults (--durable), as
# SQLite runs with synchronous=FULL: both make every commit durable.
echo "== SQLite ($tmp/s.db)"
"$build/store_bench" "$tmp/s.db" "$posts" "$occ" | tee "$tmp/sqlite.txt"
echo "== PostgreSQL"
"$build/store_bench" "$url" "$posts" "$occ" | tee "$tmp/pg.txt"
echo "== PostgreSQL / SQLite"
paste -d'|' "$tmp/sqlite.txt" "$tmp/pg.txt" | awk -F'|' '
    /^insert/ { split($1, a, ": "); split($2, b, ": "); printf "%-44s %6.2fx the rate\n", "insert", b[2] / a[2]; next }
    /ms/ { match($1, /[0-9.]+ ms/); x = substr($1, RSTART, RLENGTH - 3); match($2, /[0-9.]+ ms/); y = substr($2, RSTART, RLENGTH - 3);
           printf "%-44s %6.2fx the time\n", substr($1, 1, 44), (x > 0 ? y / x : 0) }'
