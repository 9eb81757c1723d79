#!/usr/bin/env bash
# HTTP API throughput and latency: `GET /api/v1/me` with a bearer API token, against nginx
# serving a static file of the same size in the same run, on SQLite and on PostgreSQL.
#
#   bench/http.sh [path/to/samtale]          (default build/samtale)
#
# Per database it prints the requests per second of nginx and of samtale at full load and
# their ratio (goal: samtale/nginx >= 0.5), the CPU time each server spends per request,
# and the latency of both at a fixed rate of 1,000 requests per second (goal: samtale's
# p99 < 1 ms).
#
# Setup (the machine has 2 cores): the servers run on core 0 (taskset -c 0; with
# PostgreSQL, postgres too), the load generator wrk on core 1 (taskset -c 1), one wrk
# thread. nginx is Debian's nginx-light, one worker, `daemon off`, its own prefix and
# config in a temporary folder, no access log, 127.0.0.1 only. samtale runs with its
# default HTTP threads (4; SAMTALE_THREADS=N, which samtale reads, to change) and
# --log-level warn, its standard error in a file: it logs each request at debug level, so
# nothing is written per request. wrk sends both the same Authorization header over
# keep-alive connections. Nothing listens beyond 127.0.0.1 (PostgreSQL on a Unix socket
# only); every process is stopped by its PID on exit and the temporary folder removed.
#
# Settable: BENCH_DURATION (s per measurement, 10), BENCH_WARMUP (s before each, 2),
# BENCH_CONNS (connections at full load, 50; samtale allows 64 per client address),
# BENCH_RATE (1000), BENCH_RATE_CONNS (10), BENCH_ENGINES ("sqlite postgres"),
# BENCH_VERBOSE=1 (also print wrk's own report of every measurement).
# Needs wrk and nginx-light (scripts/deps.sh --bench), and postgresql for PostgreSQL.
set -euo pipefail
PATH=$PATH:/usr/sbin
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath -m "${1:-build/samtale}")
duration=${BENCH_DURATION:-10} warmup=${BENCH_WARMUP:-2} conns=${BENCH_CONNS:-50}
rate=${BENCH_RATE:-1000} rate_conns=${BENCH_RATE_CONNS:-10}
engines=${BENCH_ENGINES:-sqlite postgres} verbose=${BENCH_VERBOSE:-0}

[ -x "$bin" ] || { echo "http.sh: no samtale binary at $bin (build it, or pass its path)" >&2; exit 2; }
for tool in wrk nginx taskset; do
    command -v "$tool" >/dev/null || { echo "http.sh: $tool is missing; run scripts/deps.sh --bench" >&2; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "http.sh: needs 2 cores (servers on core 0, wrk on core 1)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/samtale-http-bench.XXXXXX)
chmod 711 "$tmp" # as root, PostgreSQL and nginx's worker run as other users
pids=() pgdir=""
cleanup() {
    for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
    [ -z "$pgdir" ] || python3 "$here/tests/peers/pgcluster.py" stop "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
stop_pid() { # stop_pid PID: stop one process this script started, and forget it
    local p keep=()
    kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    pids=("${keep[@]+"${keep[@]}"}")
}
cd "$tmp" # so that no samtale.conf in the caller's working directory is read

# Fixed rate: wrk is closed-loop and has no rate option (that is wrk2, not in Debian). Its
# Lua delay() hook, called after each answer, says how many ms that connection waits
# before its next request. delay() below hands out send times on one schedule, one every
# 1000/RATE ms (LuaJIT's ffi reads the monotonic clock), so the requests go out evenly
# spaced, RATE per second, over BENCH_RATE_CONNS connections; a fixed delay per connection
# instead makes all connections fire together in bursts, which measures queueing behind
# the burst. wrk times each request from its send to its answer, in C, to the microsecond;
# the wait is not counted. A Python fixed-rate generator would be open-loop, but its own
# cost and jitter per request (tens of microseconds) would be a large part of the
# sub-millisecond latencies measured here, so wrk is the more accurate clock. The achieved
# rate is printed (it falls short only if the server cannot keep up).
# done() prints the figures of every run as one line to parse.
cat >"$tmp/bench.lua" <<'LUA'
local ffi = require("ffi")
ffi.cdef[[ struct bench_ts { long sec; long nsec; }; int clock_gettime(int, struct bench_ts *); ]]
local ts = ffi.new("struct bench_ts")
local function now_ms() ffi.C.clock_gettime(1, ts); return tonumber(ts.sec) * 1e3 + tonumber(ts.nsec) / 1e6 end
function init(args)
    local rate = tonumber(args[1])
    if not rate then return end
    local step, nxt = 1000 / rate, nil
    delay = function() -- the next free send time, at least now; wrk waits whole ms
        local t = now_ms()
        if not nxt or nxt < t then nxt = t end
        local d = nxt - t
        nxt = nxt + step
        return math.floor(d + 0.5)
    end
end
function done(s, lat, req)
    local e = s.errors
    io.write(string.format("BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d errors=%d non2xx=%d\n",
        s.requests, s.duration, s.bytes, lat:percentile(50), lat:percentile(99), lat.max,
        e.connect + e.read + e.write + e.timeout, e.status))
end
LUA

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { sed -n "s/.*[ ]$1=\([0-9]*\).*/\1/p" <<<"$2"; }
rps() { awk -v n="$(field requests "$1")" -v us="$(field duration_us "$1")" 'BEGIN { printf "%.0f", n / (us / 1e6) }'; }
ms() { awk -v us="$(field "$1" "$2")" 'BEGIN { printf "%.3f", us / 1000 }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# settle PORT: wait until the server has closed the last run's connections. samtale counts
# a connection against its limit of 64 per client address until it has closed it, so a run
# started right after another would have some of its connections refused.
settle() {
    command -v ss >/dev/null || { sleep 1; return; }
    for _ in $(seq 250); do
        [ -z "$(ss -Htn state established state close-wait "( sport = :$1 )")" ] && return
        sleep 0.02
    done
}

# cpu_ticks PID...: CPU time (user + system, clock ticks, all threads) of these processes
# and their children (nginx's worker, PostgreSQL's backends).
cpu_ticks() {
    python3 -c 'import os, sys
roots, t = set(sys.argv[1:]), 0
for p in filter(str.isdigit, os.listdir("/proc")):
    try: f = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()
    except OSError: continue
    if p in roots or f[1] in roots: t += int(f[11]) + int(f[12])
print(t)' "$@"
}

# run_wrk NAME URL CONNS RATE|"" PID...: warm up, then measure. Sets R (the BENCH line),
# CPU (the server PIDs' CPU time per request, us) and USE (how busy they kept core 0, %).
run_wrk() {
    local name=$1 url=$2 c=$3 d=$4 port=${2#http://127.0.0.1:} t0 a shown=""; port=${port%%/*}; shift 4
    local cmd=(taskset -c 1 wrk -t1 -c"$c" -d"${duration}s" --latency -H "Authorization: Bearer $token"
               -s "$tmp/bench.lua" "$url" ${d:+-- "$d"})
    settle "$port"
    taskset -c 1 wrk -t1 -c"$c" -d"${warmup}s" -H "Authorization: Bearer $token" -s "$tmp/bench.lua" "$url" ${d:+-- "$d"} >/dev/null
    for a in "${cmd[@]}"; do # the command as it runs, the token shown as $TOKEN
        a=${a/$token/\$TOKEN}; [[ $a == *" "* ]] && a="\"$a\""; shown+=" $a"
    done
    echo "  $name (after a ${warmup} s warm-up with the same options):$shown"
    settle "$port"
    t0=$(cpu_ticks "$@")
    "${cmd[@]}" >"$tmp/wrk.out"
    CPU=$(( ($(cpu_ticks "$@") - t0) * 1000000 / $(getconf CLK_TCK) ))
    [ "$verbose" != 1 ] || sed 's/^/    | /' "$tmp/wrk.out"
    R=$(grep '^BENCH ' "$tmp/wrk.out")
    if [ "$(field errors "$R")" != 0 ] || [ "$(field non2xx "$R")" != 0 ]; then
        echo "http.sh: $name had socket errors or non-2xx answers:" >&2; cat "$tmp/wrk.out" >&2; exit 1
    fi
    USE=$(( CPU / 10000 / duration )) CPU=$(( CPU / $(field requests "$R") ))
}

echo "samtale: $bin ($("$bin" version 2>/dev/null || echo '?'))"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$(awk '{ print ($1 > 0.5) }' /proc/loadavg)" = 0 ] || echo "note: other work is running on this machine; the figures will be noisy"
declare -A res
for engine in $engines; do
    echo "== $engine"
    work="$tmp/$engine"; mkdir -p "$work"
    if [ "$engine" = sqlite ]; then
        db="$work/samtale.db"
    else
        pgdir="$work/pg" # started through taskset: postgres and its backends share core 0
        taskset -c 0 python3 "$here/tests/peers/pgcluster.py" start "$pgdir" >/dev/null
        db=$(python3 "$here/tests/peers/pgcluster.py" createdb "$pgdir" samtale_bench)
    fi
    st=("$bin" --db "$db" --secret-key-file "$work/secret.key" --log-level warn)
    "${st[@]}" workspace add Acme --timezone Europe/Oslo >/dev/null
    echo "bench-password-$RANDOM$RANDOM" | "${st[@]}" user add --email o@example.com --name O --workspace Acme \
        --role owner --password-stdin >/dev/null
    token=$("${st[@]}" --json token create --workspace Acme --name bench --scope '*' |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

    taskset -c 0 "${st[@]}" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.log" &
    spid=$!; pids+=("$spid")
    for _ in $(seq 100); do grep -q 'listening on' "$work/serve.out" && break; sleep 0.1; done
    sport=$(sed -n 's#^listening on http://127\.0\.0\.1:\([0-9]*\)/.*#\1#p' "$work/serve.out")
    [ -n "$sport" ] || { echo "http.sh: samtale did not start:" >&2; cat "$work/serve.out" "$work/serve.log" >&2; exit 1; }
    surl="http://127.0.0.1:$sport/api/v1/me"

    # nginx serves the very body samtale answers, at the same path, as JSON.
    mkdir -p "$work/nginx/www/api/v1" "$work/nginx/logs"
    curl -sf --noproxy '*' -H "Authorization: Bearer $token" -o "$work/nginx/www/api/v1/me" "$surl" ||
        { echo "http.sh: samtale did not answer GET /api/v1/me with 200" >&2; exit 1; }
    nport=$(free_port) ng="$work/nginx"
    cat >"$ng/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $ng/tmp-body;
    proxy_temp_path $ng/tmp-proxy;
    fastcgi_temp_path $ng/tmp-fastcgi;
    uwsgi_temp_path $ng/tmp-uwsgi;
    scgi_temp_path $ng/tmp-scgi;
    sendfile on;
    keepalive_requests 100000000;  # samtale does not close keep-alive connections either
    server {
        listen 127.0.0.1:$nport;
        root $ng/www;
        default_type "application/json; charset=utf-8";
    }
}
EOF
    taskset -c 0 nginx -p "$ng/" -e "$ng/logs/error.log" -c "$ng/nginx.conf" 2>"$ng/logs/stderr" &
    npid=$!; pids+=("$npid")
    nurl="http://127.0.0.1:$nport/api/v1/me"
    for _ in $(seq 100); do curl -sf --noproxy '*' -o /dev/null "$nurl" && break; sleep 0.1; done
    curl -sf --noproxy '*' -o /dev/null "$nurl" || { echo "http.sh: nginx did not start:" >&2; cat "$ng/logs/"* >&2; exit 1; }
    echo "  body: $(stat -c %s "$ng/www/api/v1/me") bytes; samtale pid $spid, nginx pid $npid"

    spids=("$spid"); [ -z "$pgdir" ] || spids+=("$(cat "$pgdir/postgres.pid")")
    run_wrk "nginx, full load" "$nurl" "$conns" "" "$npid"
    res[$engine,nginx_rps]=$(rps "$R") res[$engine,nginx_cpu]=$CPU res[$engine,nginx_use]=$USE
    res[$engine,nginx_bpr]=$(( $(field bytes "$R") / $(field requests "$R") ))
    run_wrk "samtale, full load" "$surl" "$conns" "" "${spids[@]}"
    res[$engine,samtale_rps]=$(rps "$R") res[$engine,samtale_cpu]=$CPU res[$engine,samtale_use]=$USE
    res[$engine,samtale_bpr]=$(( $(field bytes "$R") / $(field requests "$R") ))
    run_wrk "nginx, $rate req/s" "$nurl" "$rate_conns" "$rate" "$npid"
    res[$engine,nginx_rate]=$(rps "$R") res[$engine,nginx_p50]=$(ms p50_us "$R") res[$engine,nginx_p99]=$(ms p99_us "$R")
    run_wrk "samtale, $rate req/s" "$surl" "$rate_conns" "$rate" "${spids[@]}"
    res[$engine,samtale_rate]=$(rps "$R") res[$engine,samtale_p50]=$(ms p50_us "$R")
    res[$engine,samtale_p99]=$(ms p99_us "$R") res[$engine,samtale_max]=$(ms max_us "$R")
    res[$engine,ratio]=$(div "${res[$engine,samtale_rps]}" "${res[$engine,nginx_rps]}")
    res[$engine,cpu_ratio]=$(div "${res[$engine,nginx_cpu]}" "${res[$engine,samtale_cpu]}")

    stop_pid "$npid"; stop_pid "$spid"
    [ -z "$pgdir" ] || { python3 "$here/tests/peers/pgcluster.py" stop "$pgdir" >/dev/null; pgdir=""; }
done

echo
echo "GET /api/v1/me, ${duration} s per measurement after ${warmup} s of warm-up; full load: $conns connections;"
echo "fixed rate: $rate req/s, one request every $(awk -v r="$rate" 'BEGIN { print 1000 / r }') ms over $rate_conns connections"
printf '%-40s' ""; for e in $engines; do printf '%12s' "$e"; done; echo
row() { # row LABEL KEY [NOTE]
    printf '%-40s' "$1"; for e in $engines; do printf '%12s' "${res[$e,$2]}"; done; echo "${3:+   $3}"
}
row "nginx requests/s" nginx_rps
row "samtale requests/s" samtale_rps
row "ratio samtale/nginx" ratio "goal >= 0.5"
row "nginx CPU per request (us)" nginx_cpu
row "samtale CPU per request (us) *" samtale_cpu
row "ratio by CPU time, nginx/samtale" cpu_ratio "the ratio on a core with nothing else to do"
row "nginx core use at full load (%)" nginx_use "well below 100: the server was not the"
row "samtale core use at full load (%) *" samtale_use "bottleneck (wrk or other work was)"
row "bytes per answer, nginx" nginx_bpr
row "bytes per answer, samtale" samtale_bpr
row "fixed rate achieved, nginx (req/s)" nginx_rate
row "fixed rate achieved, samtale (req/s)" samtale_rate
row "nginx p50 at fixed rate (ms)" nginx_p50
row "nginx p99 at fixed rate (ms)" nginx_p99 "the floor (loopback, wrk, this machine)"
row "samtale p50 at fixed rate (ms)" samtale_p50
row "samtale p99 at fixed rate (ms)" samtale_p99 "goal < 1 ms"
row "samtale max at fixed rate (ms)" samtale_max
echo "* with PostgreSQL, samtale's figures include the CPU time of the postgres processes serving it"
