#!/usr/bin/env bash
# Time to plan and check a queue of 10,000 posts on 20 channels (see bench/queue_bench.c).
#   bench/queue.sh [BUILD_DIR] [POSTS] [CHANNELS]
set -euo pipefail
build=${1:-build}
cmake --build "$build" --target queue_bench >/dev/null
exec "$build/queue_bench" "${2:-10000}" "${3:-20}"
