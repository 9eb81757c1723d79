#!/usr/bin/env bash
# Installs every build and test dependency of samtale on Debian 12.
#
#   scripts/deps.sh           install what is missing (apt-get, through sudo when not root)
#   scripts/deps.sh --check   exit 1 and list what is missing, install nothing
#   scripts/deps.sh --bench   also the benchmarks' tools (bench/http.sh: wrk, nginx-light);
#                             combines with --check
#
# Debian packages come from apt-get; the browser-test driver (tests/e2e) and the test peers
# (tests/peers/*/ with a package-lock.json) from npm. Safe to run again: it only installs
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev tzdata
            libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev libcmocka-dev
            libcurl4-openssl-dev libpq-dev libicu-dev libutf8proc-dev libxml2-dev libwebsockets-dev
            libssl-dev libqrencode-dev libcsv-dev libvips-dev gettext)
test_pkgs=(python3 python3-yaml python3-icalendar python3-feedparser python3-websockets python3-aiosmtpd sqlite3 curl openssl prometheus chromium fonts-dejavu-core fonts-noto-color-emoji nodejs npm postgresql
           python3-pyotp zbar-tools python3-psycopg2)
# Only with --bench: the load generator and the reference server of bench/http.sh.
bench_pkgs=(wrk nginx-light)
check=0 bench=0
for a in "$@"; do
    case $a in --check) check=1 ;; --bench) bench=1 ;; esac
done
[ $bench -eq 1 ] || bench_pkgs=()

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]+"${bench_pkgs[@]}"}"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$st" = "install ok installed" ] || missing+=("$p")
done
# A machine may carry its own node and npm outside Debian's packages: accept those.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    tmp=()
    for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || tmp+=("$p"); done
    missing=("${tmp[@]+"${tmp[@]}"}")
fi
# npm packages: the browser-test driver and the test peers, each folder with a lock file.
npm_dirs=()
for d in tests/e2e tests/peers/*/; do
    d=${d%/}
    [ -f "$d/package-lock.json" ] && [ ! -d "$d/node_modules" ] && npm_dirs+=("$d")
done
need_npm=0
[ ${#npm_dirs[@]} -gt 0 ] && need_npm=1

if [ $check -eq 1 ]; then
    [ ${#missing[@]} -eq 0 ] && [ $need_npm -eq 0 ] && exit 0
    [ ${#missing[@]} -gt 0 ] && echo "missing Debian packages: ${missing[*]}"
    [ $need_npm -eq 1 ] && echo "missing npm packages in: ${npm_dirs[*]}"
    exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    echo "deps: installing Debian packages: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Native modules (the Bluesky peer's better-sqlite3) compile against the installed node's
# headers; without this node-gyp would try to download them, which cannot work here.
nodedir=""
command -v node >/dev/null 2>&1 && nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
for d in "${npm_dirs[@]+"${npm_dirs[@]}"}"; do
    echo "deps: installing npm packages in $d"
    (cd "$d" && npm_config_nodedir="$nodedir" npm ci --no-audit --no-fund --loglevel=error)
done
echo "deps: all build and test dependencies are present"
