"""What samtale says to people comes in their language (po/, src/util/i18n.h): the API's
error messages and the checks' explanations follow Accept-Language, the codes stay the
same, and the CLI speaks its environment's language. The expected texts are read from the
catalogues themselves, so a test fails when a message is not looked up, not when a
translator rewords it."""

import datetime
import os
import re

import harness
from harness import expect

setup_module = harness.module_instance
teardown_module = harness.close_instance


def _unquote(s):
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


def _catalogue(lang):
    """{msgid: msgstr} (plural entries: msgid -> [forms]) of po/LANG.po."""
    out, cur, key = {}, {}, None
    with open(os.path.join(harness.REPO, "po", lang + ".po"), encoding="utf-8") as f:
        lines = f.read().split("\n") + [""]
    for line in lines:
        if not line.strip() or line.startswith("#"):
            if "msgid" in cur and cur["msgid"]:
                forms = [cur[k] for k in sorted(cur) if k.startswith("msgstr[")]
                out[cur["msgid"]] = forms if forms else cur.get("msgstr", "")
            if not line.strip():
                cur, key = {}, None
            continue
        m = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?|msgctxt) "(.*)"$', line)
        if m:
            key = m.group(1)
            cur[key] = _unquote(m.group(2))
        elif line.startswith('"') and key:
            cur[key] += _unquote(line[1:-1])
    return out


NB = _catalogue("nb")
SV = _catalogue("sv")


def _at(days):
    t = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, second=0, minute=0)
    return (t + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_catalogues_translate_what_the_tests_read():
    for cat in (NB, SV):
        for msgid in ("no such endpoint; see docs/api.md", "the body must be a JSON object"):
            assert cat.get(msgid) and cat[msgid] != msgid, msgid


def test_errors_follow_accept_language_and_keep_their_code(inst):
    for lang, cat in (("nb-NO,nb;q=0.9,en;q=0.5", NB), ("sv", SV), ("no", NB), ("nn", NB)):
        r = expect(inst.get("/api/v1/no-such-thing", headers={"Accept-Language": lang}), 404, "not_found")
        assert r["error"]["message"] == cat["no such endpoint; see docs/api.md"], (lang, r)
        r = expect(inst.post(inst.ws("/posts"), json=[1], headers={"Accept-Language": lang}), 422,
                   "validation_failed")
        assert r["error"]["message"] == cat["the body must be a JSON object"], (lang, r)
    for lang in ("de", "fr;q=1, *;q=0.1", "", "sv;q=0"):
        r = expect(inst.get("/api/v1/no-such-thing", headers={"Accept-Language": lang}), 404, "not_found")
        assert r["error"]["message"] == "no such endpoint; see docs/api.md", (lang, r)


def test_a_validation_message_with_values_is_translated_with_them(inst):
    ch = harness.new_channel(inst, "i18n-file", kind="file", settings={"path": "i18n.jsonl"})
    r = expect(inst.post(inst.ws("/posts"), json={"text": "x", "channels": [ch["id"]], "schedule": "soon"},
                         headers={"Accept-Language": "nb"}), 422, field="schedule")
    english = expect(inst.post(inst.ws("/posts"), json={"text": "x", "channels": [ch["id"]], "schedule": "soon"}),
                     422, field="schedule")["error"]["message"]
    assert r["error"]["message"] != english, r
    assert r["error"]["code"] == "validation_failed", r


def test_check_explanations_speak_the_readers_language(inst):
    ch = harness.new_channel(inst, "i18n-cap", kind="file", settings={"path": "cap.jsonl"}, max_per_hour=1)
    expect(inst.post(inst.ws("/posts"), json={"text": "first of the hour", "channels": [ch["id"]],
                                              "schedule": _at(3)}), 201)
    body = {"text": "second in the same hour", "channels": [ch["id"]], "schedule": _at(3)}
    for lang, cat in (("nb", NB), ("sv", SV)):
        doc = expect(inst.post(inst.ws("/check"), json=body, headers={"Accept-Language": lang}), 200)
        p7 = [v for v in doc["violations"] if v["rule"] == "P7a"]
        assert p7, doc
        msgid = [k for k in cat if k.startswith("Too many posts in one hour")][0]
        head = cat[msgid].split("%s")[0]
        assert head and p7[0]["message"].startswith(head), (lang, p7[0]["message"], head)
        # No English left in it: the post's name is translated too.
        assert "Too many" not in p7[0]["message"] and "this post" not in p7[0]["message"], p7[0]


def test_the_cli_speaks_its_environment(inst):
    res = harness.run_cli(inst.db, "channel", "add", "--workspace", harness.WORKSPACE, "--kind", "nonsense",
                          "--name", "x", env={"LC_ALL": "nb_NO.UTF-8"})
    en = harness.run_cli(inst.db, "channel", "add", "--workspace", harness.WORKSPACE, "--kind", "nonsense",
                         "--name", "x")
    assert res.returncode != 0 and en.returncode != 0
    assert res.stderr and res.stderr != en.stderr, (res.stderr, en.stderr)


def test_a_capped_post_says_when_it_goes_out_and_why(inst):
    ch = harness.new_channel(inst, "i18n-now", kind="file", settings={"path": "now.jsonl"}, max_per_hour=1)
    first = expect(inst.post(inst.ws("/posts"), json={"text": "the hour's one post", "channels": [ch["id"]],
                                                      "schedule": "now"}), 201)

    def published():
        p = expect(inst.get(inst.ws("/posts/%d" % first["id"])), 200)
        return p if p["state"] == "published" else None
    p1 = harness.wait_until(published, "the first post to go out")
    went = harness.parse_time(p1["occurrences"][0]["published_at"])
    # "Publish anyway": the block is overridden, but the cap still holds when publishing.
    second = expect(inst.post(inst.ws("/posts"), json={"text": "a second one, overridden", "channels": [ch["id"]],
                                                       "schedule": "now", "override_reason": "agreed"},
                              headers={"Accept-Language": "nb"}), 201)
    occ = second["occurrences"][0]
    assert occ["state"] == "scheduled" and "waiting" in occ, occ
    w = occ["waiting"]
    # Either the estimate of the answer, or (when the publisher was quicker) its own hold:
    # both say when and why, neither says "now".
    assert w["reason"] == "hour_cap" and w["limit"] == 1, w
    until = harness.parse_time(w["until"])
    assert abs((until - went) - 3600) <= 2, (w, p1)
    if w.get("expected"):
        assert occ["expected_at"] == w["until"], occ
    assert "error" not in occ, occ
    msgid = [k for k in NB if isinstance(k, str) and k.startswith("This channel may post %lld time an hour")][0]
    assert w["message"] == NB[msgid][1].replace("%lld", "1") or w["message"] == NB[msgid][0].replace("%lld", "1"), w

    # Once the publisher has held it, it says so as a wait, never as a failed attempt.
    def held():
        p = expect(inst.get(inst.ws("/posts/%d" % second["id"])), 200)
        o = p["occurrences"][0]
        return o if o.get("waiting") and not o["waiting"].get("expected") else None
    o = harness.wait_until(held, "the publisher to hold the second post at the cap")
    assert "error" not in o and o["waiting"]["reason"] == "hour_cap", o
    assert abs((harness.parse_time(o["waiting"]["until"]) - went) - 3600) <= 2, o


def test_a_publishing_error_reads_in_the_readers_language(inst):
    """An error worded when publishing failed (stored in English) is shown in the reader's
    language (the API's Accept-Language, which the dashboard sends); the stored text stays
    as it was."""
    os.makedirs(os.path.join(inst.dir, "files"), exist_ok=True)
    with open(os.path.join(inst.dir, "files", "blocked"), "w") as f:
        f.write("a file where the channel wants a folder\n")
    ch = harness.new_channel(inst, "i18n-broken", kind="file", settings={"path": "blocked/posts.jsonl"})
    p = expect(inst.post(inst.ws("/posts"), json={"text": "this one cannot be written", "channels": [ch["id"]],
                                                  "schedule": "now"}), 201)

    def failed():
        q = expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)
        return q if q["occurrences"][0]["state"] == "failed" else None
    en = harness.wait_until(failed, "the post to fail")["occurrences"][0]["error"]
    fmts = ["Could not create the folder for %.200s in the files folder: %s.",
            "Could not open %.200s in the files folder: %s."]
    fmt = [f for f in fmts if en == f.replace("%.200s", "blocked/posts.jsonl").replace("%s", "Not a directory")]
    assert fmt, en
    fmt = fmt[0]
    nb = expect(inst.get(inst.ws("/posts/%d" % p["id"]), headers={"Accept-Language": "nb"}), 200)
    want = NB[fmt].replace("%.200s", "blocked/posts.jsonl").replace("%s", "Not a directory")
    assert NB[fmt] and want != en and nb["occurrences"][0]["error"] == want, (nb["occurrences"][0], want)
    # The stored text stays as it was worded.
    con = harness.db_connect(inst.db)
    try:
        stored = con.execute("SELECT last_error FROM occurrences WHERE post_id = ?", (p["id"],)).fetchone()[0]
    finally:
        con.close()
    assert stored == en, stored
