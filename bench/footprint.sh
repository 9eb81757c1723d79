#!/usr/bin/env bash
# Footprint of `samtale serve`: time from start to the first successful /healthz, and
# resident memory when idle (after start, and after 1,000 authenticated API reads).
#
#   bench/footprint.sh [BINARY] [RUNS]
#
# Each figure is the median of RUNS starts (default 10), with a fresh database each.
# The reference in the same run is the start-to-first-answer of python3's http.server
# on the same machine, printed as a ratio (lower is better for samtale).
# Targets (docs/PRODUCT targets): start under 100 ms, idle resident memory under 30 MB.
set -euo pipefail
bin=${1:-build/samtale}
runs=${2:-10}
exec /usr/bin/python3 - "$bin" "$runs" <<'PY'
import http.client, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time

binary, runs = os.path.abspath(sys.argv[1]), int(sys.argv[2])

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait_http(port, path, deadline):
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path); r = c.getresponse(); r.read(); c.close()
            if r.status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.0005)
    return False

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def start_samtale(tmp):
    port = free_port()
    db = os.path.join(tmp, "s.db")
    subprocess.run([binary, "--db", db, "workspace", "add", "Bench"], check=True, capture_output=True)
    subprocess.run([binary, "--db", db, "user", "add", "--email", "b@example.com", "--workspace", "Bench",
                    "--role", "owner", "--password-stdin"], input=b"benchmark-password\n", check=True,
                   capture_output=True)
    tok = json.loads(subprocess.run([binary, "--db", db, "--json", "token", "create", "--workspace", "Bench",
                                     "--name", "b", "--scope", "*"], check=True, capture_output=True).stdout)["token"]
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "--db", db, "--log-level", "warn", "serve", "--listen", f"127.0.0.1:{port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = wait_http(port, "/healthz", t0 + 10)
    return p, port, tok, (time.monotonic() - t0) if ok else None

def start_reference(tmp):
    port = free_port()
    t0 = time.monotonic()
    p = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "-b", "127.0.0.1", "-d", tmp, str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = wait_http(port, "/", t0 + 10)
    return p, (time.monotonic() - t0) if ok else None

starts, refs, idle, after = [], [], [], []
for i in range(runs):
    tmp = tempfile.mkdtemp(prefix="samtale-bench-")
    try:
        p, port, tok, t = start_samtale(tmp)
        try:
            if t is None:
                sys.exit("samtale did not answer /healthz within 10 s")
            starts.append(t)
            idle.append(rss_kb(p.pid))
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            for _ in range(1000):
                c.request("GET", "/api/v1/workspaces/1/channels", headers={"Authorization": "Bearer " + tok})
                r = c.getresponse(); r.read()
            c.close()
            after.append(rss_kb(p.pid))
        finally:
            p.terminate(); p.wait(10)
        rp, rt = start_reference(tmp)
        try:
            if rt is not None:
                refs.append(rt)
        finally:
            rp.terminate(); rp.wait(10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

ms = lambda v: v * 1000
s, r = statistics.median(starts), statistics.median(refs)
print(f"runs: {runs}")
print(f"start to first /healthz: median {ms(s):.1f} ms (min {ms(min(starts)):.1f}, max {ms(max(starts)):.1f}); target < 100 ms")
print(f"reference (python3 -m http.server, start to first answer): median {ms(r):.1f} ms; ratio samtale/reference {s / r:.2f}")
print(f"idle resident memory after start: median {statistics.median(idle) / 1024:.1f} MB; target < 30 MB")
print(f"resident memory after 1,000 authenticated API reads: median {statistics.median(after) / 1024:.1f} MB")
PY
