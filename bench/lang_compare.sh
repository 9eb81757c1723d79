#!/usr/bin/env bash
# Language identification side by side (issue goals of L3, docs/models.md): samtale's
# model, CLD2 (Debian's libcld2, full tables: the small ones have no nynorsk),
# libexttextcat (Debian, every fingerprint it ships) and fastText lid.176 (npm's
# fasttext.wasm.js, WebAssembly under node), each given the same items: the held-out
# sentences of the data folder's langid/ files and a two-word snippet of each
# (bench/lang_items.py). Prints one table (bench/lang_compare.py) and samtale's speed
# against a reference in the same run (bench/lang_bench.c).
#
#   bench/lang_compare.sh [BUILD_DIR] [DATA_DIR]        (defaults: build ../shared/data)
#
# Installs what it needs when missing: libcld2-dev and libexttextcat-dev (apt-get, through
# sudo when not root), and fasttext.wasm.js under bench/langid-peers (npm). Nothing leaves
# the machine but those installs.
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
data=${2:-${SAMTALE_DATA_DIR:-$here/../../shared/data}}
[ -f "$data/langid/nb.txt" ] || { echo "lang_compare: no $data/langid/nb.txt (give DATA_DIR)" >&2; exit 2; }

missing=()
for p in libcld2-dev libexttextcat-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
        echo "lang_compare: need root or sudo to install ${missing[*]}" >&2
        exit 1
    fi
    $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
        { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi
if [ ! -d "$here/langid-peers/node_modules/fasttext.wasm.js" ]; then
    (cd "$here/langid-peers" && npm install --no-audit --no-fund >/dev/null)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --build "$build" --target lang_items lang_bench >/dev/null
# The full tables (libcld2_full) first, so they stand in for the small ones built into
# libcld2, whose detector they need.
g++ -O2 -o "$work/lang_cld2" "$here/lang_cld2.cc" -Wl,--no-as-needed -lcld2_full -lcld2
gcc -O2 -o "$work/lang_textcat" "$here/lang_textcat.c" $(pkg-config --cflags --libs libexttextcat)
python3 "$here/lang_items.py" "$data" > "$work/items.tsv"

declare -A secs
run() { # NAME COMMAND...: its answers to the items, and how long it took
    local name=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    "$@" < "$work/items.tsv" > "$work/$name.txt"
    t1=$(date +%s.%N)
    secs[$name]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
}
run samtale "$build/lang_items"
run cld2 "$work/lang_cld2"
run exttextcat "$work/lang_textcat" /usr/share/libexttextcat
run fasttext node "$here/langid-peers/lang_fasttext.mjs"

echo "items: $(wc -l < "$work/items.tsv") (held-out sentences and their two-word snippets)"
python3 "$here/lang_compare.py" "$work/items.tsv" samtale="$work/samtale.txt" cld2="$work/cld2.txt" \
    exttextcat="$work/exttextcat.txt" fasttext="$work/fasttext.txt"
echo
echo "whole run over the items (process start and model load included):"
for t in samtale cld2 exttextcat fasttext; do
    printf '  %-11s %6.2f s\n' "$t" "${secs[$t]}"
done
echo
"$build/lang_bench" "$data" 2
