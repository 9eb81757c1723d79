"""The command line (docs/cli.md): --help everywhere, usage errors, --json output, channel
commands, migrate, online backup while the server runs, config masking, exit codes."""

import base64
import os
import shutil
import sqlite3
import tempfile
import threading

import harness
from harness import cli_json, cli_ok, expect, run_cli

COMMANDS = [
    [], ["serve"], ["migrate"], ["backup"], ["config"], ["routes"],
    ["user"], ["user", "add"], ["user", "list"], ["user", "passwd"],
    ["token"], ["token", "create"], ["token", "list"], ["token", "revoke"],
    ["workspace"], ["workspace", "add"], ["workspace", "list"],
    ["channel"], ["channel", "add"], ["channel", "list"], ["channel", "show"], ["channel", "remove"],
]


setup_module = harness.module_instance
teardown_module = harness.close_instance


def test_help_for_every_command():
    cwd = tempfile.mkdtemp(prefix="samtale-it-help-")
    try:
        problems = []
        for cmd in COMMANDS:
            p = harness.subprocess.run([harness.binary()] + cmd + ["--help"], cwd=cwd, capture_output=True,
                                       text=True, timeout=harness.TIMEOUT, stdin=harness.subprocess.DEVNULL)
            label = " ".join(cmd + ["--help"])
            if p.returncode != 0:
                problems.append("`%s` exited %d: %s" % (label, p.returncode, (p.stderr or p.stdout)[:200]))
            elif "usage" not in p.stdout.lower():
                problems.append("`%s` printed no usage on stdout: %r" % (label, p.stdout[:200]))
            elif cmd and " ".join(cmd) not in p.stdout:
                problems.append("`%s` usage does not name the command: %r" % (label, p.stdout[:200]))
        top = harness.subprocess.run([harness.binary(), "--help"], cwd=cwd, capture_output=True, text=True,
                                     timeout=harness.TIMEOUT).stdout
        for group in ("serve", "migrate", "backup", "config", "routes", "user", "token", "workspace", "channel"):
            if group not in top:
                problems.append("top-level --help does not list %r" % group)
        left = os.listdir(cwd)
        if left:
            problems.append("--help created files: %r" % left)
        assert not problems, "\n".join(problems)
    finally:
        shutil.rmtree(cwd, ignore_errors=True)


def test_usage_errors_exit_2(inst):
    for args in (["frobnicate"], ["channel", "frobnicate"], ["workspace", "list", "--bogus-option"],
                 ["channel", "show"], ["token", "create", "--workspace"]):
        p = run_cli(inst.db, *args)
        assert p.returncode == 2, "`samtale %s` exited %d, expected 2 (usage): %s" % (
            " ".join(args), p.returncode, (p.stderr or p.stdout)[:300])
        assert p.stderr.strip(), "`samtale %s`: usage error with no message on stderr" % " ".join(args)
    p = run_cli(inst.db, "--no-such-global", "workspace", "list")
    assert p.returncode == 2, "unknown global option exited %d" % p.returncode


def test_workspace_list_json(inst):
    items = cli_json(inst.db, "workspace", "list")
    assert isinstance(items, list), items
    acme = [w for w in items if w.get("name") == harness.WORKSPACE]
    assert acme and acme[0]["id"] == inst.wid and acme[0]["timezone"] == harness.WORKSPACE_TZ, items
    text = cli_ok(inst.db, "workspace", "list").stdout
    assert harness.WORKSPACE in text, text


def test_channel_commands_round_trip(inst):
    ch = cli_json(inst.db, "channel", "add", "--workspace", harness.WORKSPACE, "--kind", "feed", "--no-verify",
                  "--name", "cli-feed", "--timezone", "Asia/Tokyo", "--setting", "url=https://example.com/a.xml",
                  "--setting", "lang=nb", "--secret-stdin", input="cli-secret-value\n")
    assert isinstance(ch, dict) and isinstance(ch.get("id"), int), ch
    assert (ch["name"], ch["kind"], ch["timezone"]) == ("cli-feed", "feed", "Asia/Tokyo"), ch
    assert ch["settings"] == {"url": "https://example.com/a.xml", "lang": "nb"}, ch["settings"]
    assert ch["has_secret"] is True and "secret" not in ch, ch
    assert not harness.db_contains(inst.db, "cli-secret-value"), "CLI secret stored in plain text"

    listed = cli_json(inst.db, "channel", "list", "--workspace", harness.WORKSPACE)
    assert isinstance(listed, list) and ch["id"] in [c["id"] for c in listed], listed
    assert [c["id"] for c in cli_json(inst.db, "channel", "list", "--kind", "feed") if c["id"] == ch["id"]]
    assert not [c for c in cli_json(inst.db, "channel", "list", "--kind", "webhook") if c["id"] == ch["id"]]

    shown = cli_json(inst.db, "channel", "show", ch["id"])
    assert shown == ch, "show differs from add:\n%r\n%r" % (shown, ch)
    # the objects are the API's
    api = expect(inst.get(inst.ws("/channels/%d" % ch["id"])), 200)
    assert api == shown, "CLI and API disagree:\n%r\n%r" % (shown, api)
    assert "cli-secret-value" not in cli_ok(inst.db, "channel", "show", ch["id"]).stdout

    cli_ok(inst.db, "channel", "remove", ch["id"])
    p = run_cli(inst.db, "channel", "show", ch["id"])
    assert p.returncode == 3, "show after remove exited %d, expected 3" % p.returncode
    expect(inst.get(inst.ws("/channels/%d" % ch["id"])), 404, "not_found")


def test_user_commands(inst):
    p = cli_ok(inst.db, "user", "add", "--email", "cli-user@example.com", "--name", "Cli User",
               "--workspace", harness.WORKSPACE, "--role", "agent")
    otp = None
    for line in (p.stdout + p.stderr).splitlines():
        if "password" in line.lower() and ":" in line:
            otp = line.rsplit(":", 1)[-1].strip().strip("'\"")
    assert otp, "user add without --password-stdin printed no one-time password: %r" % p.stdout
    doc = expect(harness.request(inst.port, "POST", "/api/v1/auth/login",
                                 json={"email": "cli-user@example.com", "password": otp}), 200)
    assert doc["password_change_required"] is True, doc

    users = cli_json(inst.db, "user", "list", "--workspace", harness.WORKSPACE)
    assert isinstance(users, list) and "cli-user@example.com" in repr(users), users
    assert "agent" in repr([u for u in users if u.get("email") == "cli-user@example.com"]), users

    cli_ok(inst.db, "user", "passwd", "--email", "cli-user@example.com", "--password-stdin",
           input="cli-user-password-1\n")
    expect(harness.request(inst.port, "POST", "/api/v1/auth/login",
                           json={"email": "cli-user@example.com", "password": otp}), 401, "invalid_credentials")
    doc = expect(harness.request(inst.port, "POST", "/api/v1/auth/login",
                                 json={"email": "cli-user@example.com", "password": "cli-user-password-1"}), 200)
    assert doc["password_change_required"] is False, doc
    p = run_cli(inst.db, "user", "passwd", "--email", "nobody@example.com", "--password-stdin",
                input="whatever-password-1\n")
    assert p.returncode == 3, "user passwd for an unknown email exited %d, expected 3" % p.returncode
    p = run_cli(inst.db, "user", "add", "--email", "x@example.com", "--workspace", harness.WORKSPACE,
                "--role", "emperor", "--password-stdin", input="whatever-password-1\n")
    assert p.returncode == 5, "user add with a bad role exited %d, expected 5" % p.returncode


def test_exit_codes(inst):
    p = run_cli(inst.db, "channel", "show", "999999")
    assert p.returncode == 3, "channel show 999999 exited %d, expected 3: %s" % (p.returncode, p.stderr)
    assert p.stderr.strip(), "not found without a message"
    p = run_cli(inst.db, "channel", "remove", "999999")
    assert p.returncode == 3, "channel remove 999999 exited %d, expected 3" % p.returncode
    p = run_cli(inst.db, "token", "revoke", "999999")
    assert p.returncode == 3, "token revoke 999999 exited %d, expected 3" % p.returncode

    cli_ok(inst.db, "channel", "add", "--kind", "feed", "--no-verify", "--setting", "url=https://example.com/feed.xml", "--name", "cli-dup")
    p = run_cli(inst.db, "channel", "add", "--kind", "feed", "--no-verify", "--setting", "url=https://example.com/feed.xml", "--name", "cli-dup")
    assert p.returncode == 4, "duplicate channel name exited %d, expected 4: %s" % (p.returncode, p.stderr)
    p = run_cli(inst.db, "workspace", "add", harness.WORKSPACE)
    assert p.returncode == 4, "duplicate workspace exited %d, expected 4" % p.returncode

    p = run_cli(inst.db, "channel", "add", "--kind", "myspace", "--name", "cli-bad")
    assert p.returncode == 5, "bad kind exited %d, expected 5: %s" % (p.returncode, p.stderr)
    p = run_cli(inst.db, "channel", "add", "--kind", "feed", "--no-verify", "--setting", "url=https://example.com/feed.xml", "--name", "cli-bad", "--timezone", "Mars/Base")
    assert p.returncode == 5, "bad time zone exited %d, expected 5" % p.returncode

    d = tempfile.mkdtemp(prefix="samtale-it-nodb-")
    try:
        bad = os.path.join(d, "garbage.db")
        with open(bad, "wb") as f:
            f.write(b"this is not an SQLite database\n" * 200)
        p = run_cli(bad, "workspace", "list")
        assert p.returncode == 6, "a file that is not a database exited %d, expected 6: %s" % (p.returncode, p.stderr)
        p = run_cli(d, "workspace", "list")
        assert p.returncode == 6, "a directory as the database exited %d, expected 6: %s" % (p.returncode, p.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_migrate_prints_schema_version(inst):
    version = expect(inst.get("/readyz", token=None), 200)["schema_version"]
    for args in (["migrate"], ["migrate", "--status"]):
        p = cli_ok(inst.db, *args)
        assert str(version) in p.stdout, "`%s` does not print schema version %d: %r" % (
            " ".join(args), version, p.stdout)
    fresh = tempfile.mkdtemp(prefix="samtale-it-migrate-")
    try:
        db = os.path.join(fresh, "m.db")
        p = cli_ok(db, "migrate")
        assert str(version) in p.stdout, p.stdout
        assert harness.integrity_check(db) == ["ok"]
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def test_backup_while_serving(inst):
    names = ["backup-%d" % i for i in range(5)]
    for n in names:
        harness.new_channel(inst, n, secret="bk-secret")
    stop = threading.Event()
    errors = []

    def writer():
        i = 0
        while not stop.is_set() and i < 300:
            r = inst.post(inst.ws("/channels"), json={"kind": "feed", "settings": harness.FEED, "name": "during-backup-%d" % i})
            if r.status != 201:
                errors.append(repr(r))
                return
            i += 1

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    out = os.path.join(inst.dir, "backup.db")
    if harness.ENGINE == "postgres":
        stop.set()
        t.join(harness.TIMEOUT)
        p = harness.run_cli(inst.db, "backup", out)
        assert p.returncode != 0 and "pg_dump" in p.stderr, (p.returncode, p.stderr)
        assert not os.path.exists(out)
        return
    try:
        cli_ok(inst.db, "backup", out, timeout=30)
    finally:
        stop.set()
        t.join(harness.TIMEOUT)
    assert not errors, "writes failed during the backup: %r" % errors[:3]
    assert os.path.getsize(out) > 0
    assert harness.integrity_check(out) == ["ok"], harness.integrity_check(out)[:5]
    conn = sqlite3.connect("file:%s?mode=ro" % out, uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()
    for n in names:
        assert harness.db_contains(out, n), "channel %s is not in the backup" % n
    # the backup is a working database: the CLI reads it
    listed = [c["name"] for c in cli_json(out, "channel", "list")]
    assert set(names) <= set(listed), listed


def test_config_masks_the_secret_key(inst):
    harness.new_channel(inst, "needs-key", secret="make-the-key")
    key_path = os.path.join(inst.dir, "secret.key")
    assert os.path.exists(key_path), "no secret.key beside the database after storing a secret: %r" % os.listdir(inst.dir)
    with open(key_path, "rb") as f:
        key = f.read()
    forms = {key.strip().decode("latin-1"), key.hex(), base64.b64encode(key).decode(),
             base64.b64encode(key.strip()).decode()}
    forms = {f for f in forms if len(f) >= 8}
    for as_json in (False, True):
        p = cli_ok(inst.db, "config", json=as_json)
        out = p.stdout + p.stderr
        leaked = [f for f in forms if f in out]
        assert not leaked, "config%s prints the secret key" % (" --json" if as_json else "")
        assert inst.db in out, "config does not show the effective db %r:\n%s" % (inst.db, out[:800])
        assert "secret" in out.lower(), "config does not mention the secret key at all:\n%s" % out[:800]


def test_config_precedence_file_env_flag():
    d = tempfile.mkdtemp(prefix="samtale-it-conf-")
    try:
        conf = os.path.join(d, "samtale.conf")
        paths = {k: os.path.join(d, k + ".db") for k in ("file", "env", "flag")}
        with open(conf, "w") as f:
            f.write("# test configuration\n\ndb = %s\n" % paths["file"])

        def shown(env=None, flag=False, via_env_config=False):
            g = [] if via_env_config else ["--config", conf]
            if flag:
                g += ["--db", paths["flag"]]
            e = dict(env or {})
            if via_env_config:
                e["SAMTALE_CONFIG"] = conf
            p = run_cli(None, "config", global_args=g, env=e, cwd=d)
            assert p.returncode == 0, "config exited %d: %s" % (p.returncode, p.stderr)
            return [k for k, v in paths.items() if v in p.stdout]

        assert shown() == ["file"], "file only: config shows %r" % shown()
        assert shown(via_env_config=True) == ["file"], "SAMTALE_CONFIG is not read"
        assert shown(env={"SAMTALE_DB": paths["env"]}) == ["env"], "environment does not beat the file"
        assert shown(env={"SAMTALE_DB": paths["env"]}, flag=True) == ["flag"], "the flag does not beat the environment"
        assert not [f for f in os.listdir(d) if f.endswith(".db")], "config created a database: %r" % os.listdir(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_config_masks_secret_key_values():
    # base64 keys with and without "/" (a key is not a path because it has a slash)
    keys = [base64.b64encode(bytes(range(32))).decode(), base64.b64encode(bytes(range(200, 232))).decode()]
    d = tempfile.mkdtemp(prefix="samtale-it-conf-")
    try:
        conf = os.path.join(d, "samtale.conf")
        leaks = []
        for key in keys:
            with open(conf, "w") as f:
                f.write("db = %s\nsecret_key = %s\n" % (os.path.join(d, "s.db"), key))
            for as_json in (False, True):
                p = run_cli(None, "config", global_args=["--config", conf], json=as_json, cwd=d)
                assert p.returncode == 0, "config exited %d: %s" % (p.returncode, p.stderr)
                if key in p.stdout + p.stderr:
                    leaks.append("config%s shows secret_key %s" % (" --json" if as_json else "", key))
        assert not leaks, "\n".join(leaks)
    finally:
        shutil.rmtree(d, ignore_errors=True)
