#!/usr/bin/env bash
# HTTP API throughput and latency: `GET /api/v1/me` with a bearer API token, against nginx
# serving a static file of the same size in the same run, on SQLite and on PostgreSQL.
#
#   bench/http.sh [path/to/samtale]          (default build/samtale)
#
# Per database it prints the requests per second of nginx and of samtale at full load,
# their ratio (goal: samtale/nginx >= 0.5), and the latency percentiles of both at a fixed
# rate of 1,000 requests per second (goal: samtale p99 < 1 ms).
#
# Setup: the machine has 2 cores. The servers (samtale, and PostgreSQL under it; nginx)
# run on core 0 (taskset -c 0), the load generator wrk on core 1 (taskset -c 1). nginx is
# Debian's nginx-light with one worker, `daemon off`, its own prefix and config in a
# temporary folder, no access log, listening on 127.0.0.1 only. samtale runs with
# --log-level warn and its standard error in a file: request lines are logged at debug
# level, so nothing is written per request. Its HTTP threads are the default (4) unless
# SAMTALE_THREADS is set (samtale reads it). wrk sends the same Authorization header to
# both, over keep-alive connections. Everything listens on 127.0.0.1 (PostgreSQL on a
# Unix socket only) and is stopped by its PID on exit; the temporary folder is removed.
#
# Settable: BENCH_DURATION (s per measurement, 10), BENCH_WARMUP (s before each, 2),
# BENCH_CONNS (connections at full load, 50; samtale allows 64 per client address),
# BENCH_RATE (1000), BENCH_RATE_CONNS (10), BENCH_ENGINES ("sqlite postgres"),
# BENCH_VERBOSE=1 (show wrk's own report of every measurement).
# Needs wrk and nginx-light (scripts/deps.sh --bench) and, for PostgreSQL, postgresql.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-build/samtale}")
duration=${BENCH_DURATION:-10} warmup=${BENCH_WARMUP:-2} conns=${BENCH_CONNS:-50}
rate=${BENCH_RATE:-1000} rate_conns=${BENCH_RATE_CONNS:-10}
engines=${BENCH_ENGINES:-sqlite postgres} verbose=${BENCH_VERBOSE:-0}

[ -x "$bin" ] || { echo "http.sh: no samtale binary at $bin (build it, or pass its path)" >&2; exit 2; }
for tool in wrk nginx taskset; do
    command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null 2>&1 ||
        { echo "http.sh: $tool is missing; run scripts/deps.sh --bench" >&2; exit 2; }
done
nginx=$(PATH=$PATH:/usr/sbin command -v nginx)
[ "$(nproc)" -ge 2 ] || { echo "http.sh: needs 2 cores (servers on core 0, wrk on core 1)" >&2; exit 2; }
# Fixed rate: wrk is closed-loop and has no rate option (that is wrk2, not in Debian). Its
# Lua delay() hook, called after each answer, says how many ms to wait before that
# connection's next request. bench.lua below hands out send times on a fixed schedule, one
# every 1000/RATE ms (from a monotonic clock through LuaJIT's ffi), so the requests go out
# evenly spaced at RATE per second over BENCH_RATE_CONNS connections, rather than every
# connection waiting the same fixed time and all of them firing in bursts together. wrk
# times each request from its send to its answer in C with microsecond resolution; the
# wait is not counted. A Python fixed-rate generator would be open-loop but its own
# per-request cost and scheduling jitter (tens of microseconds) would be a large part of
# the sub-millisecond latencies measured here, so wrk is the more accurate clock. The
# achieved rate is printed (it falls short only if the server cannot keep up).

tmp=$(mktemp -d /tmp/samtale-http-bench.XXXXXX)
chmod 711 "$tmp" # PostgreSQL and nginx's worker run as other users when we are root
pids=() pgdir=""
cleanup() {
    for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
    [ -z "$pgdir" ] || python3 "$here/tests/peers/pgcluster.py" stop "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
stop_pid() { # stop_pid PID: stop one process we started and forget it
    local p keep=()
    kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    pids=("${keep[@]+"${keep[@]}"}")
}
cd "$tmp" # no samtale.conf of the caller's working directory is read

# One Lua script for every run: done() prints the figures as one line to parse; with an
# argument (requests per second) it also defines delay(), which makes the run fixed-rate.
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

# settle PORT: wait until the server has closed the last run's connections. samtale counts
# a connection against its limit of 64 per client address until it has closed it, so a run
# started at once after another would see some of its connections refused.
settle() {
    local port=$1 i
    command -v ss >/dev/null 2>&1 || { sleep 1; return; }
    for i in $(seq 250); do
        [ -z "$(ss -Htn state established state close-wait "( sport = :$port )")" ] && return
        sleep 0.02
    done
}

# cpu_ticks PID...: CPU time (user + system, clock ticks, all threads) of these processes
# and of their children (nginx's worker, PostgreSQL's backends).
cpu_ticks() {
    python3 -c 'import os, sys
roots, t = set(sys.argv[1:]), 0
for p in filter(str.isdigit, os.listdir("/proc")):
    try: f = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()
    except OSError: continue
    if p in roots or f[1] in roots: t += int(f[11]) + int(f[12])
print(t)' "$@"
}

# run_wrk NAME URL CONNS RATE|"" PID...: warm up, then measure; sets R (the BENCH line)
# and CPU, the server's CPU time per request in us (PIDs: the server's processes).
run_wrk() {
    local name=$1 url=$2 c=$3 d=$4 port=${2#http://127.0.0.1:} t0; port=${port%%/*}; shift 4
    local cmd=(taskset -c 1 wrk -t1 -c"$c" -d"${duration}s" --latency -H "Authorization: Bearer $token" -s "$tmp/bench.lua" "$url")
    [ -z "$d" ] || cmd+=(-- "$d")
    settle "$port"
    taskset -c 1 wrk -t1 -c"$c" -d"${warmup}s" -H "Authorization: Bearer $token" -s "$tmp/bench.lua" "$url" ${d:+-- "$d"} >/dev/null
    local shown="" a # the command as it ran, quoted, with the token replaced by $TOKEN
    for a in "${cmd[@]}"; do
        a=${a/$token/\$TOKEN}; [[ $a == *" "* ]] && a="\"$a\""; shown+=" $a"
    done
    echo "  $name (after a ${warmup} s warm-up with the same options):$shown"
    settle "$port"
    t0=$(cpu_ticks "$@")
    "${cmd[@]}" >"$tmp/wrk.out"
    CPU=$(( ($(cpu_ticks "$@") - t0) * 1000000 / $(getconf CLK_TCK) ))
    [ "$verbose" = 1 ] && sed 's/^/    | /' "$tmp/wrk.out"
    R=$(grep '^BENCH ' "$tmp/wrk.out")
    CPU=$(( CPU / $(field requests "$R") ))
    if [ "$(field errors "$R")" != 0 ] || [ "$(field non2xx "$R")" != 0 ]; then
        echo "http.sh: $name had errors or non-2xx answers:" >&2; cat "$tmp/wrk.out" >&2; exit 1
    fi
}
rps() { awk -v n="$(field requests "$1")" -v us="$(field duration_us "$1")" 'BEGIN { printf "%.0f", n / (us / 1e6) }'; }
ms() { awk -v us="$(field "$1" "$2")" 'BEGIN { printf "%.3f", us / 1000 }'; }

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
        pgdir="$work/pg"
        # Started through taskset so that postgres and its backends share core 0 with samtale.
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
    size=$(stat -c %s "$work/nginx/www/api/v1/me")
    nport=$(free_port)
    cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp-body;
    proxy_temp_path $work/nginx/tmp-proxy;
    fastcgi_temp_path $work/nginx/tmp-fastcgi;
    uwsgi_temp_path $work/nginx/tmp-uwsgi;
    scgi_temp_path $work/nginx/tmp-scgi;
    sendfile on;
    keepalive_requests 100000000;  # samtale never closes a keep-alive connection either
    server {
        listen 127.0.0.1:$nport;
        root $work/nginx/www;
        default_type "application/json; charset=utf-8";
    }
}
EOF
    taskset -c 0 "$nginx" -p "$work/nginx/" -e "$work/nginx/logs/error.log" -c "$work/nginx/nginx.conf" 2>"$work/nginx/logs/stderr" &
    npid=$!; pids+=("$npid")
    nurl="http://127.0.0.1:$nport/api/v1/me"
    for _ in $(seq 100); do curl -sf --noproxy '*' -o /dev/null "$nurl" && break; sleep 0.1; done
    curl -sf --noproxy '*' -o /dev/null "$nurl" || { echo "http.sh: nginx did not start:" >&2; cat "$work/nginx/logs/"* >&2; exit 1; }
    echo "  body: $size bytes; samtale pid $spid (threads ${SAMTALE_THREADS:-default}), nginx pid $npid"

    spids=("$spid"); [ -z "$pgdir" ] || spids+=("$(cat "$pgdir/postgres.pid")")
    run_wrk "nginx, full load" "$nurl" "$conns" "" "$npid"
    res[$engine,nginx_rps]=$(rps "$R") res[$engine,nginx_cpu]=$CPU
    res[$engine,nginx_bpr]=$(( $(field bytes "$R") / $(field requests "$R") ))
    run_wrk "samtale, full load" "$surl" "$conns" "" "${spids[@]}"
    res[$engine,samtale_rps]=$(rps "$R") res[$engine,samtale_cpu]=$CPU
    res[$engine,samtale_bpr]=$(( $(field bytes "$R") / $(field requests "$R") ))
    run_wrk "nginx, $rate req/s" "$nurl" "$rate_conns" "$rate" "$npid"
    res[$engine,nginx_rate]=$(rps "$R") res[$engine,nginx_p50]=$(ms p50_us "$R") res[$engine,nginx_p99]=$(ms p99_us "$R")
    run_wrk "samtale, $rate req/s" "$surl" "$rate_conns" "$rate" "${spids[@]}"
    res[$engine,samtale_rate]=$(rps "$R") res[$engine,samtale_p50]=$(ms p50_us "$R")
    res[$engine,samtale_p99]=$(ms p99_us "$R") res[$engine,samtale_max]=$(ms max_us "$R")
    res[$engine,cpu_ratio]=$(awk -v a="${res[$engine,nginx_cpu]}" -v b="${res[$engine,samtale_cpu]}" 'BEGIN { printf "%.2f", a / b }')
    res[$engine,ratio]=$(awk -v a="${res[$engine,samtale_rps]}" -v b="${res[$engine,nginx_rps]}" 'BEGIN { printf "%.2f", a / b }')

    stop_pid "$npid"; stop_pid "$spid"
    [ -z "$pgdir" ] || { python3 "$here/tests/peers/pgcluster.py" stop "$pgdir" >/dev/null; pgdir=""; }
done

echo
echo "GET /api/v1/me, ${duration} s per measurement after ${warmup} s of warm-up; full load: $conns connections;"
echo "fixed rate: $rate req/s, one request every $(awk -v r="$rate" 'BEGIN { print 1000 / r }') ms spread over $rate_conns connections"
printf '%-40s' ""; for e in $engines; do printf '%14s' "$e"; done; echo
row() { # row LABEL KEY [GOAL]
    printf '%-40s' "$1"; for e in $engines; do printf '%14s' "${res[$e,$2]}"; done; echo "${3:+   $3}"
}
row "nginx requests/s" nginx_rps
row "samtale requests/s" samtale_rps
row "ratio samtale/nginx" ratio "goal >= 0.5"
row "nginx CPU per request (us)" nginx_cpu
row "samtale CPU per request (us) *" samtale_cpu
row "ratio by CPU time, nginx/samtale" cpu_ratio "the ratio on an otherwise idle core"
row "bytes per answer, nginx" nginx_bpr
row "bytes per answer, samtale" samtale_bpr
row "fixed rate achieved, nginx (req/s)" nginx_rate
row "fixed rate achieved, samtale (req/s)" samtale_rate
row "nginx p50 at fixed rate (ms)" nginx_p50
row "nginx p99 at fixed rate (ms)" nginx_p99
row "samtale p50 at fixed rate (ms)" samtale_p50
row "samtale p99 at fixed rate (ms)" samtale_p99 "goal < 1 ms"
row "samtale max at fixed rate (ms)" samtale_max
echo "* with PostgreSQL, samtale's CPU time includes that of the postgres processes serving it"
