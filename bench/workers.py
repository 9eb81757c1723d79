#!/usr/bin/python3
"""Publishing throughput with 1, 2 and 4 worker processes on one PostgreSQL database
(PRODUCT.md X3), against a receiver that takes 50 ms per call.

    bench/workers.py [path/to/samtale] [--posts N] [--channels C] [--delay-ms D]

For each worker count a fresh database in a throwaway cluster (tests/peers/pgcluster.py)
gets a workspace, C webhook channels (caps high enough not to bind) and N posts due now,
written through a web process (`serve --role web`), which publishes nothing. Then the
worker processes start (`serve --role worker`, one publisher thread each) and the clock
runs until every occurrence is published; the receiver (tests/peers/receiver.py) holds
each call for D ms, like a network's API. The reference is the run with one worker: the
goal is near-linear scaling, 4 workers at least 3.5 times one. Every process is stopped
by its PID; nothing leaves 127.0.0.1.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tests", "peers"))
import harness  # noqa: E402
import peers  # noqa: E402
import pgcluster  # noqa: E402


def run(binary, cluster, workdir, nworkers, posts, channels, delay):
    os.environ["SAMTALE_BIN"] = binary
    d = tempfile.mkdtemp(prefix="w%d-" % nworkers, dir=workdir)
    name = "bench_w%d_%d" % (nworkers, os.getpid())
    db = cluster.create_database(name)
    env = {"SAMTALE_SECRET_KEY_FILE": os.path.join(d, "secret.key"), "SAMTALE_LOG_LEVEL": "warn",
           "SAMTALE_PUBLISH_WORKERS": "1", "SAMTALE_PUBLISH_TIMEOUT_MS": "10000"}
    receiver = peers.Receiver(d, secret="bench-secret", hang_seconds=delay / 1000.0)
    web, workers = None, []
    try:
        harness.cli_ok(db, "workspace", "add", "Acme", "--timezone", "Europe/Oslo", env=env)
        harness.cli_ok(db, "user", "add", "--email", "o@example.com", "--name", "O", "--workspace", "Acme",
                       "--role", "owner", "--password-stdin", input="bench-password-1\n", env=env)
        token = harness.cli_json(db, "token", "create", "--workspace", "Acme", "--name", "b", "--scope", "*",
                                 env=env)["token"]
        web = harness.Server(db, d, env=env, role="web").start()
        wid = harness.expect(harness.request(web.port, "GET", "/api/v1/me", token=token), 200)["token"]["workspace_id"]
        chans = []
        for i in range(channels):
            ch = harness.expect(harness.request(web.port, "POST", "/api/v1/workspaces/%d/channels" % wid, token=token,
                                                json={"kind": "webhook", "name": "hook-%d" % i, "secret": "bench-secret",
                                                      "settings": {"url": receiver.url + "/%d" % i},
                                                      "max_per_hour": 1000, "max_per_day": 10000}), 201)
            chans.append(ch["id"])
        for i in range(posts // channels):
            harness.expect(harness.request(web.port, "POST", "/api/v1/workspaces/%d/posts" % wid, token=token,
                                           json={"text": "bench post %d" % i, "channels": chans, "schedule": "now",
                                                 "override_reason": "benchmark"}), 201)
        receiver.control(mode="hang", seconds=delay / 1000.0, count=10 * posts)
        total = (posts // channels) * channels
        t0 = time.monotonic()
        for _ in range(nworkers):
            workers.append(harness.Server(db, d, env=env, role="worker").start())
        conn = harness.db_connect(db)
        try:
            while True:
                n = conn.execute("SELECT count(*) FROM occurrences WHERE state = 'published'").fetchone()[0]
                conn.commit()
                if n >= total:
                    break
                if time.monotonic() - t0 > 600:
                    raise RuntimeError("only %d of %d published after 600 s" % (n, total))
                time.sleep(0.02)
        finally:
            conn.close()
        took = time.monotonic() - t0
        stats = receiver.stats()
        assert stats["unique_keys"] == total, stats
        return total, took
    finally:
        for w in workers:
            w.stop(check=False)
        if web:
            web.stop(check=False)
        receiver.stop()
        cluster.drop_database(name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary", nargs="?", default=os.path.join(REPO, "build", "samtale"))
    ap.add_argument("--posts", type=int, default=400)
    ap.add_argument("--channels", type=int, default=10)
    ap.add_argument("--delay-ms", type=int, default=50)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    workdir = tempfile.mkdtemp(prefix="samtale-bench-workers-")
    os.environ["SAMTALE_TEST_ENGINE"] = "postgres"
    # A folder of its own: as root, PostgreSQL runs as the postgres user, who cannot
    # reach into the other (private) temporary folder.
    cluster = pgcluster.Cluster(tempfile.mkdtemp(prefix="samtale-bench-pg-")).start()
    os.environ["SAMTALE_TEST_PG_DIR"] = cluster.dir
    results = {}
    try:
        print("publishing throughput: %d occurrences on %d webhook channels, receiver %d ms per call, PostgreSQL"
              % (args.posts, args.channels, args.delay_ms))
        print("%-8s %12s %10s %14s %8s" % ("workers", "occurrences", "seconds", "published/s", "ratio"))
        for n in (1, 2, 4):
            total, took = run(binary, cluster, workdir, n, args.posts, args.channels, args.delay_ms)
            results[n] = total / took
            print("%-8d %12d %10.2f %14.1f %8.2f" % (n, total, took, results[n], results[n] / results[1]))
            sys.stdout.flush()
        ideal = 1000.0 / args.delay_ms
        print("one worker's ceiling is %.0f/s (one call at a time, %d ms each); goal: 4 workers >= 3.5x one: %s"
              % (ideal, args.delay_ms, "met" if results[4] >= 3.5 * results[1] else "NOT met"))
        print(json.dumps({"workers_per_s": results}))
    finally:
        cluster.remove()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
