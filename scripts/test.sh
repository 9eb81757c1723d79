#!/usr/bin/env bash
# Runs every test of samtale and ends with one line "N passed, N failed".
#
#   1. builds with gcc (-Werror) into build/ and with clang + ASan + UBSan into build-asan/
#   2. unit tests (ctest, cmocka) in both builds
#   3. integration tests (tests/integration, the real binary on loopback) against both
#   4. browser tests (tests/e2e, playwright-core driving Debian's chromium)
#   Steps 2 and 3 run twice in each build: on SQLite, and on PostgreSQL (a throwaway
#   cluster of Debian's postgresql-15 in a temporary folder, tests/peers/pgcluster.py,
#   reached by a Unix socket only and stopped by its PID).
#
# Environment: SAMTALE_SKIP_ASAN=1 skips the sanitizer build (quicker local runs),
# SAMTALE_SKIP_E2E=1 skips the browser tests.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
log=$(mktemp -d)
pg_dir=""
cleanup() {
    [ -n "$pg_dir" ] && /usr/bin/python3 tests/peers/pgcluster.py stop "$pg_dir" >/dev/null 2>&1
    [ -n "$pg_dir" ] && rm -rf "$pg_dir"
    rm -rf "$log"
}
trap cleanup EXIT

count() { # name, output file: add "N passed, N failed" found on the file's last such line
    local line p f
    line=$(grep -E '^([a-z0-9-]+: )?[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
    if [ -z "$line" ]; then
        echo "== $1: no result line (counted as one failure)"
        failed=$((failed + 1))
        return
    fi
    p=$(sed -E 's/^([a-z0-9-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
    f=$(sed -E 's/^([a-z0-9-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
    passed=$((passed + p))
    failed=$((failed + f))
    echo "== $1: $p passed, $f failed"
}

build() { # dir, extra cmake args...
    local dir=$1
    shift
    echo "== building $dir"
    if ! cmake -S . -B "$dir" "$@" >"$log/cmake-$dir.txt" 2>&1 || ! cmake --build "$dir" -j"$jobs" >>"$log/cmake-$dir.txt" 2>&1; then
        cat "$log/cmake-$dir.txt"
        echo "== build $dir FAILED"
        return 1
    fi
}

unit() { # dir, engine
    local tag="$1-$2"
    if [ "$2" = postgres ]; then
        if [ -z "$pg_dir" ]; then
            pg_dir=$(mktemp -d /tmp/samtale-pg-unit-XXXXXX)
            /usr/bin/python3 tests/peers/pgcluster.py start "$pg_dir" >/dev/null
        fi
        (cd "$1" && SAMTALE_TEST_ENGINE=postgres SAMTALE_TEST_PG_DIR="$pg_dir" ctest --output-on-failure -j"$jobs" -E "^fuzz_") \
            | tee "$log/unit-$tag.txt"
    else
        (cd "$1" && ctest --output-on-failure -j"$jobs") | tee "$log/unit-$tag.txt"
    fi
    local line total nfail
    line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log/unit-$tag.txt" | tail -n 1)
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    nfail=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
    echo "unit: $(( ${total:-0} - ${nfail:-0} )) passed, ${nfail:-1} failed" >"$log/unit-$tag.sum"
    count "unit tests ($1, $2)" "$log/unit-$tag.sum"
}

integration() { # dir, engine
    /usr/bin/python3 tests/integration/run.py --bin "$1/samtale" --engine "$2" 2>&1 | tee "$log/int-$1-$2.txt"
    count "integration tests ($1, $2)" "$log/int-$1-$2.txt"
}

if build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc; then
    unit build sqlite
    unit build postgres
    integration build sqlite
    integration build postgres
    if [ "${SAMTALE_SKIP_E2E:-0}" != 1 ]; then
        echo "== browser tests"
        SAMTALE_BIN="$PWD/build/samtale" node tests/e2e/run.mjs 2>&1 | tee "$log/e2e.txt"
        count "browser tests" "$log/e2e.txt"
    fi
else
    failed=$((failed + 1))
fi

if [ "${SAMTALE_SKIP_ASAN:-0}" != 1 ]; then
    if build build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DSAMTALE_SANITIZE=ON; then
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        unit build-asan sqlite
        unit build-asan postgres
        integration build-asan sqlite
        integration build-asan postgres
    else
        failed=$((failed + 1))
    fi
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
