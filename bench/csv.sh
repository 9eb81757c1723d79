#!/usr/bin/env bash
# Importing a CSV file of posts (bench/csv_bench.c; PRODUCT.md P14): ROWS rows, then twice
# as many, in one run, each into a workspace of its own on five channels:
#   dry run    read, placed and checked (P5-P8) against the queue and the rows before it;
#   import     the same, then all posts stored in one transaction;
#   reference  the same rows created one by one through core_post_create (a commit each).
# Goal: 1,000 rows with the checks in under 2 s; 2 x ROWS costs at most 2.2 x ROWS. Each size
# runs three times and the summary keeps the best of each time, wall and CPU.
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

declare -A dry imp ref dryc impc refc
# Each size three times; the best of each time is kept (a shared machine's other work
# only ever adds to a run).
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
for n in "$rows" $((rows * 2)); do
    for run in 1 2 3; do
        echo "== $n rows (run $run of 3)"
        out=$("$build/csv_bench" "$n" $url)
        echo "$out" | grep -v '^result '
        for kv in $(echo "$out" | grep '^result '); do
            case $kv in
            dry_s=*) dry[$n]=$(min "${dry[$n]:-}" "${kv#dry_s=}") ;;
            import_s=*) imp[$n]=$(min "${imp[$n]:-}" "${kv#import_s=}") ;;
            ref_s=*) ref[$n]=$(min "${ref[$n]:-}" "${kv#ref_s=}") ;;
            dry_c=*) dryc[$n]=$(min "${dryc[$n]:-}" "${kv#dry_c=}") ;;
            import_c=*) impc[$n]=$(min "${impc[$n]:-}" "${kv#import_c=}") ;;
            ref_c=*) refc[$n]=$(min "${refc[$n]:-}" "${kv#ref_c=}") ;;
            esac
        done
    done
done

big=$((rows * 2))
where="SQLite under ${TMPDIR:-/tmp}"
[ -n "$url" ] && where="PostgreSQL, durable; CPU is samtale's only, not the database server's"
echo "== summary, best of 3 ($where)"
awk -v n1="$rows" -v n2="$big" -v d1="${dry[$rows]}" -v d2="${dry[$big]}" -v i1="${imp[$rows]}" \
    -v i2="${imp[$big]}" -v r1="${ref[$rows]}" -v r2="${ref[$big]}" -v dc1="${dryc[$rows]}" -v dc2="${dryc[$big]}" \
    -v ic1="${impc[$rows]}" -v ic2="${impc[$big]}" -v rc1="${refc[$rows]}" -v rc2="${refc[$big]}" 'BEGIN {
    printf "wall seconds (CPU seconds of the process: what the load of a shared machine does not change)\n"
    printf "dry run    %5d rows: %6.3f s (%5.3f)   %5d rows: %6.3f s (%5.3f)   ratio %.2f (CPU %.2f)\n", n1, d1, dc1, n2, d2, dc2, d2 / d1, dc2 / dc1
    printf "import     %5d rows: %6.3f s (%5.3f)   %5d rows: %6.3f s (%5.3f)   ratio %.2f (CPU %.2f)\n", n1, i1, ic1, n2, i2, ic2, i2 / i1, ic2 / ic1
    printf "reference  %5d rows: %6.3f s (%5.3f)   %5d rows: %6.3f s (%5.3f)   ratio %.2f (CPU %.2f)\n", n1, r1, rc1, n2, r2, rc2, r2 / r1, rc2 / rc1
    printf "goal: import of %d rows under 2 s; %d rows at most 2.20 times %d\n", n1, n2, n1
    printf "import / reference: %.2f (CPU %.2f) at %d rows, %.2f (CPU %.2f) at %d rows\n", i1 / r1, ic1 / rc1, n1, i2 / r2, ic2 / rc2, n2
}'
