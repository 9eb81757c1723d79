#!/usr/bin/env bash
# Importing a CSV file of posts (bench/csv_bench.c; PRODUCT.md P14): ROWS rows, then twice
# as many, in one run, each into a workspace of its own on five channels:
#   dry run    read, placed and checked (P5-P8) against the queue and the rows before it;
#   import     the same, then all posts stored in one transaction;
#   reference  the same rows created one by one through core_post_create (a commit each).
# Goal: 1,000 rows with the checks in under 2 s; 2 x ROWS costs at most 2.2 x ROWS.
# The SQLite database lives under $TMPDIR (default /tmp). With --postgres the same runs on a
# throwaway PostgreSQL cluster (tests/peers/pgcluster.py, durable commits), stopped by its
# PID at the end.
#
#   bench/csv.sh [BUILD_DIR] [ROWS] [--postgres]      (defaults: build 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rows=${2:-1000}
pg=${3:-}
cmake --build "$build" --target csv_bench >/dev/null
url=""
pgdir=""
cleanup() {
    [ -n "$pgdir" ] && /usr/bin/python3 tests/peers/pgcluster.py stop "$pgdir" >/dev/null 2>&1
    [ -n "$pgdir" ] && rm -rf "$pgdir"
    return 0
}
trap cleanup EXIT
if [ "$pg" = "--postgres" ]; then
    pgdir=$(mktemp -d /tmp/samtale-bench-pg-XXXXXX)
    /usr/bin/python3 tests/peers/pgcluster.py start "$pgdir" --durable >/dev/null
    url=$(/usr/bin/python3 tests/peers/pgcluster.py createdb "$pgdir" bench)
fi

declare -A dry imp ref
for n in "$rows" $((rows * 2)); do
    echo "== $n rows"
    out=$("$build/csv_bench" "$n" $url)
    echo "$out" | grep -v '^result '
    for kv in $(echo "$out" | grep '^result '); do
        case $kv in
        dry_s=*) dry[$n]=${kv#dry_s=} ;;
        import_s=*) imp[$n]=${kv#import_s=} ;;
        ref_s=*) ref[$n]=${kv#ref_s=} ;;
        esac
    done
done

big=$((rows * 2))
echo "== summary (${url:+PostgreSQL}${url:-SQLite under ${TMPDIR:-/tmp}})"
awk -v n1="$rows" -v n2="$big" -v d1="${dry[$rows]}" -v d2="${dry[$big]}" -v i1="${imp[$rows]}" \
    -v i2="${imp[$big]}" -v r1="${ref[$rows]}" -v r2="${ref[$big]}" 'BEGIN {
    printf "dry run    %5d rows: %6.3f s   %5d rows: %6.3f s   ratio %.2f\n", n1, d1, n2, d2, d2 / d1
    printf "import     %5d rows: %6.3f s   %5d rows: %6.3f s   ratio %.2f (goal: under 2 s; at most 2.20)\n", n1, i1, n2, i2, i2 / i1
    printf "reference  %5d rows: %6.3f s   %5d rows: %6.3f s   ratio %.2f\n", n1, r1, n2, r2, r2 / r1
    printf "import / reference: %.2f at %d rows, %.2f at %d rows\n", i1 / r1, n1, i2 / r2, n2
}'
