#!/usr/bin/python3
"""Runs the integration tests of samtale against the real binary.

    tests/integration/run.py [--bin PATH] [-k SUBSTRING] [--engine sqlite|postgres]

The binary is --bin, else $SAMTALE_BIN, else build/samtale in the repository. Tests are the
functions named test_* in tests/integration/test_*.py, run in file order and then in the
order they are defined. With --engine postgres, a throwaway PostgreSQL cluster is started
in a temporary folder (tests/peers/pgcluster.py) for the run, each test's database is a
fresh database in it, and the cluster is stopped by its PID at the end. A module may define setup_module() -> context and
teardown_module(context); its tests that take one argument receive the context.

Prints `ok - FILE::NAME` or `not ok - FILE::NAME` (followed by the failure) for each test,
and last `integration: N passed, N failed` (`, N skipped` when any were). Exits 1 on any
failure, 2 on a usage error.
"""

import argparse
import importlib.util
import inspect
import os
import sys
import time
import traceback

sys.dont_write_bytecode = True  # keep the source tree clean

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def load(path):
    name = "it_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def indent(text):
    return "".join("    " + l + "\n" for l in text.rstrip("\n").split("\n"))


def failure_text(exc):
    if isinstance(exc, AssertionError) and str(exc):
        tb = traceback.extract_tb(exc.__traceback__)
        where = ""
        for fr in reversed(tb):
            if os.path.basename(fr.filename).startswith("test_"):
                where = "%s:%d: " % (os.path.basename(fr.filename), fr.lineno)
                break
        return where + str(exc)
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def main():
    ap = argparse.ArgumentParser(description="samtale integration tests")
    ap.add_argument("--bin", help="the samtale binary (default: $SAMTALE_BIN, else build/samtale)")
    ap.add_argument("-k", dest="filter", help="run only tests whose FILE::NAME contains this")
    ap.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite",
                    help="the database the tests run on (default: sqlite)")
    args = ap.parse_args()
    cluster = None
    os.environ["SAMTALE_TEST_ENGINE"] = args.engine
    if args.engine == "postgres":
        import tempfile
        sys.path.insert(0, os.path.join(REPO, "tests", "peers"))
        import pgcluster  # noqa: E402
        cluster = pgcluster.Cluster(tempfile.mkdtemp(prefix="samtale-pg-"))
        cluster.start()
        os.environ["SAMTALE_TEST_PG_DIR"] = cluster.dir
        print("# engine: postgres (%s)" % cluster.url())
    try:
        return run(args)
    finally:
        if cluster:
            cluster.remove()


def run(args):
    binpath = args.bin or os.environ.get("SAMTALE_BIN") or os.path.join(REPO, "build", "samtale")
    binpath = os.path.abspath(binpath)
    os.environ["SAMTALE_BIN"] = binpath
    sys.path.insert(0, HERE)
    import harness  # noqa: E402  (needs sys.path)

    files = sorted(f for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))
    passed = failed = skipped = 0
    started = time.monotonic()
    bin_ok = os.path.isfile(binpath) and os.access(binpath, os.X_OK)
    if not bin_ok:
        print("# no executable samtale binary at %s (build it, or pass --bin)" % binpath)

    for fname in files:
        try:
            mod = load(os.path.join(HERE, fname))
        except Exception as e:  # a broken test file is a failure, not a crash of the run
            print("not ok - %s::<import>" % fname)
            sys.stdout.write(indent(failure_text(e)))
            failed += 1
            continue
        tests = [(n, f) for n, f in vars(mod).items()
                 if n.startswith("test_") and inspect.isfunction(f) and f.__module__ == mod.__name__]
        if args.filter:
            tests = [(n, f) for n, f in tests if args.filter in "%s::%s" % (fname, n)]
        if not tests:
            continue
        ctx, setup_error = None, None
        setup = getattr(mod, "setup_module", None)
        if setup:
            try:
                ctx = setup()
            except Exception as e:
                setup_error = e
        for n, f in tests:
            label = "%s::%s" % (fname, n)
            takes_ctx = len(inspect.signature(f).parameters) == 1
            if isinstance(setup_error, harness.Skip) and takes_ctx:
                print("ok - %s # SKIP %s" % (label, setup_error))
                skipped += 1
                continue
            if setup_error is not None and takes_ctx:
                print("not ok - %s" % label)
                sys.stdout.write(indent("setup_module failed: " + failure_text(setup_error)))
                failed += 1
                continue
            t0 = time.monotonic()
            try:
                if takes_ctx:
                    f(ctx)
                else:
                    f()
            except harness.Skip as e:
                print("ok - %s # SKIP %s" % (label, e))
                skipped += 1
            except Exception as e:
                print("not ok - %s" % label)
                sys.stdout.write(indent(failure_text(e)))
                failed += 1
            else:
                print("ok - %s (%.1fs)" % (label, time.monotonic() - t0))
                passed += 1
            sys.stdout.flush()
        teardown = getattr(mod, "teardown_module", None)
        if teardown and setup_error is None:
            try:
                teardown(ctx)
            except Exception as e:
                print("not ok - %s::teardown_module" % fname)
                sys.stdout.write(indent(failure_text(e)))
                failed += 1

    print("# %.1fs" % (time.monotonic() - started))
    summary = "integration: %d passed, %d failed" % (passed, failed)
    if skipped:
        summary += ", %d skipped" % skipped
    print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
