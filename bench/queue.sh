#!/usr/bin/env bash
# Planning a queue (bench/queue_bench.c): POSTS posts on CHANNELS channels, each placed at
# its channel's next free slot and checked against the queue around it (P5-P8), then the
# same with twice the posts, in one script, so the numbers and how they grow can be quoted
# together:
#   plan+check  posts/s at POSTS and at 2 x POSTS, and the time ratio (a cost that grows
#               linearly with the queue gives 2.0; the goal is at most 2.2);
#   batch       the same posts planned and checked the same way, 1,000 a transaction (as
#               a CSV import of 1,000 rows plans them), posts/s and its ratio;
#   reference   the same posts stored without placement or checks (one durable commit
#               each): the storage floor, with its own ratio.
# The database lives under $TMPDIR (default /tmp): on a disk each post's commit waits for
# the flush; TMPDIR=/dev/shm measures the same work without it.
#
#   bench/queue.sh [BUILD_DIR] [POSTS] [CHANNELS]      (defaults: build 10000 20; RUNS=3)
set -euo pipefail
build=${1:-build}
posts=${2:-10000}
channels=${3:-20}
cmake --build "$build" --target queue_bench >/dev/null

# Each size runs RUNS times (default 3), alternating, and every figure below is the median
# of its runs: on a shared machine one run's flushes and neighbours move a figure by 10-20%.
runs=${RUNS:-3}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a whole number from 1" >&2; exit 2; }
declare -A plan ref check pcpu rcpu batch bcpu
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for r in $(seq "$runs"); do
    for n in "$posts" $((posts * 2)); do
        echo "== run $r of $runs: $n posts on $channels channels"
        out=$("$build/queue_bench" "$n" "$channels")
        echo "$out" | grep -v '^result '
        line=$(echo "$out" | grep '^result ')
        for kv in $line; do
            case $kv in
            plan_s=*) plan[$n]+=" ${kv#plan_s=}" ;;
            ref_s=*) ref[$n]+=" ${kv#ref_s=}" ;;
            check_s=*) check[$n]+=" ${kv#check_s=}" ;;
            plan_cpu_s=*) pcpu[$n]+=" ${kv#plan_cpu_s=}" ;;
            ref_cpu_s=*) rcpu[$n]+=" ${kv#ref_cpu_s=}" ;;
            batch_s=*) batch[$n]+=" ${kv#batch_s=}" ;;
            batch_cpu_s=*) bcpu[$n]+=" ${kv#batch_cpu_s=}" ;;
            esac
        done
    done
done
for n in "$posts" $((posts * 2)); do
    # shellcheck disable=SC2086 # the runs' figures, one word each
    {
        plan[$n]=$(median ${plan[$n]}); ref[$n]=$(median ${ref[$n]}); check[$n]=$(median ${check[$n]})
        pcpu[$n]=$(median ${pcpu[$n]}); rcpu[$n]=$(median ${rcpu[$n]})
        batch[$n]=$(median ${batch[$n]}); bcpu[$n]=$(median ${bcpu[$n]})
    }
done

big=$((posts * 2))
echo "== summary ($channels channels, database under ${TMPDIR:-/tmp}; medians of $runs runs)"
awk -v n1="$posts" -v n2="$big" -v p1="${plan[$posts]}" -v p2="${plan[$big]}" \
    -v r1="${ref[$posts]}" -v r2="${ref[$big]}" -v c1="${check[$posts]}" -v c2="${check[$big]}" \
    -v pc1="${pcpu[$posts]}" -v pc2="${pcpu[$big]}" -v rc1="${rcpu[$posts]}" -v rc2="${rcpu[$big]}" \
    -v b1="${batch[$posts]}" -v b2="${batch[$big]}" -v bc1="${bcpu[$posts]}" -v bc2="${bcpu[$big]}" 'BEGIN {
    printf "plan+check  %6d posts: %7.2f s %7.0f posts/s  (processor %6.2f s)\n", n1, p1, n1 / p1, pc1
    printf "plan+check  %6d posts: %7.2f s %7.0f posts/s  (processor %6.2f s)\n", n2, p2, n2 / p2, pc2
    printf "plan+check  time ratio %d/%d: %.2f (linear: 2.00; goal: at most 2.20); processor %.2f\n", n2, n1, p2 / p1, pc2 / pc1
    printf "batch       %6d posts: %7.2f s %7.0f posts/s  (processor %6.2f s; 1,000 a transaction)\n", n1, b1, n1 / b1, bc1
    printf "batch       %6d posts: %7.2f s %7.0f posts/s  (processor %6.2f s)\n", n2, b2, n2 / b2, bc2
    printf "batch       time ratio %d/%d: %.2f (goal: at most 2.20); processor %.2f\n", n2, n1, b2 / b1, bc2 / bc1
    printf "reference   %6d posts: %7.2f s %7.0f posts/s  (processor %6.2f s)\n", n1, r1, n1 / r1, rc1
    printf "reference   %6d posts: %7.2f s %7.0f posts/s  (processor %6.2f s)\n", n2, r2, n2 / r2, rc2
    printf "reference   time ratio %d/%d: %.2f; processor %.2f\n", n2, n1, r2 / r1, rc2 / rc1
    printf "queue check %6d posts: %7.3f s; %6d posts: %7.3f s\n", n1, c1, n2, c2
}'
