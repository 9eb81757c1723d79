"""Feed conformance: samtale's feed reader (src/channel/feed.c, through tests/tools/feed_dump)
against Debian's python3-feedparser on feedparser's own test corpus.

The corpus is $SAMTALE_DATA_DIR/feeds/feedparser-corpus (default ../shared/data relative to
the repository root), folders wellformed/, illformed/, encoding/ and entities/; the test is
skipped with a message when it is absent. feedparser's test files carry HTTP headers in
their leading comment ("Header: Content-type: ..."); both parsers get the same ones
(Content-Type, and Content-Location as the base URL).

Per document it compares: the feed title, the number of entries, and per entry the id, the
title, the link and the published time (Unix seconds; feedparser's published_parsed, else
updated_parsed; ours published, else updated). Normalisations, all documented in
docs/feeds.md:
  - titles: feedparser keeps sanitised HTML markup in titles whose type is HTML or XHTML,
    samtale returns plain text, so such a title of feedparser's is turned into text (tags
    dropped, entities decoded); white space is collapsed on both sides before comparing;
  - ids: where feedparser has no id (or an empty one), samtale must have generated one
    (id_generated), which counts as agreement.

Prints the agreement per field and overall, and the most common kinds of disagreement,
and fails when the overall agreement drops below ACHIEVED minus one point. Runs feedparser
in one worker process per core, and feed_dump in a thread pool.
"""

import collections
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import harness

# Percentage of documents on which every compared field agrees, as measured with
# python3-feedparser 6.0.10 (Debian 12) over the 2106 documents of the corpus (9 documents
# differ; docs/feeds.md explains each). The test fails below ACHIEVED - 1.
ACHIEVED = 99.6

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FOLDERS = ("wellformed", "illformed", "encoding", "entities")

WORKER = r'''
import calendar, json, sys, warnings
warnings.simplefilter("ignore")
import feedparser
def ts(e):
    t = e.get("published_parsed") or e.get("updated_parsed")
    return calendar.timegm(t) if t else None
out = []
for job in json.load(sys.stdin):
    try:
        with open(job["path"], "rb") as f:
            data = f.read()
        d = feedparser.parse(data, response_headers=job["headers"])
        out.append({"title": d.feed.get("title", ""),
                    "title_type": d.feed.get("title_detail", {}).get("type", ""), "entries": [
            {"id": e.get("id"), "title": e.get("title", ""), "link": e.get("link", ""),
             "title_type": e.get("title_detail", {}).get("type", ""),
             "published": ts(e)} for e in d.entries]})
    except Exception as ex:
        out.append({"error": "%s: %s" % (type(ex).__name__, ex), "title": "", "entries": []})
json.dump(out, sys.stdout)
'''


def data_dir():
    return os.environ.get("SAMTALE_DATA_DIR") or os.path.join(REPO, "..", "shared", "data")


def corpus_files(root):
    files = []
    for folder in FOLDERS:
        for dirpath, _dirs, names in os.walk(os.path.join(root, folder)):
            for n in names:
                files.append(os.path.join(dirpath, n))
    return sorted(files)


HEADER_RE = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.M)


def headers_of(path):
    """The HTTP headers a feedparser test file declares in its leading comment."""
    with open(path, "rb") as f:
        head = f.read(4096)
    end = head.find(b"-->")
    if end < 0:
        return {}
    return {k.decode("latin-1").lower(): v.decode("latin-1")
            for k, v in HEADER_RE.findall(head[:end])}


def run_feedparser(jobs):
    n = max(1, min(os.cpu_count() or 1, 4))
    chunks = [jobs[i::n] for i in range(n)]
    procs = [subprocess.Popen(["/usr/bin/python3", "-c", WORKER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
             for _ in chunks]
    outs = []
    for p, c in zip(procs, chunks):
        p.stdin.write(json.dumps(c).encode())
        p.stdin.close()
    for p in procs:
        outs.append(json.loads(p.stdout.read()))
        p.wait()
    result = [None] * len(jobs)
    for i, c in enumerate(chunks):
        for k, r in enumerate(outs[i]):
            result[i + k * n] = r
    return result


def run_dump(tool, job):
    cmd = [tool, job["path"]]
    if "content-type" in job["headers"]:
        cmd += ["--content-type", job["headers"]["content-type"]]
    if job["headers"].get("content-location"):
        cmd += ["--base", job["headers"]["content-location"]]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return {"error": "timeout", "title": "", "entries": []}
    if p.returncode not in (0, 1):
        return {"error": "crash (exit %d): %s" % (p.returncode, p.stderr.decode(errors="replace")[-300:]),
                "title": "", "entries": []}
    return json.loads(p.stdout)


TAG_RE = re.compile(r"<[^>]*>")
WS_RE = re.compile(r"\s+")


def plain(s):
    import html as htmllib
    return WS_RE.sub(" ", htmllib.unescape(TAG_RE.sub("", s or ""))).strip()


def ws(s):
    return WS_RE.sub(" ", s or "").strip()


def fp_text(title, ctype):
    """feedparser's title as plain text: markup only when its type says HTML."""
    if ctype in ("text/html", "application/xhtml+xml"):
        return plain(title)
    return ws(title)


def compare(fp, ours):
    """Kinds of disagreement for one document (empty: agrees on every field)."""
    kinds = set()
    if fp_text(fp["title"], fp.get("title_type")) != ws(ours.get("title", "")):
        kinds.add("title")
    fe, oe = fp["entries"], ours.get("entries", [])
    if len(fe) != len(oe):
        kinds.add("count")
        return kinds
    for a, b in zip(fe, oe):
        if a["id"]:
            if b["id_generated"] or a["id"] != b["id"]:
                kinds.add("id")
        elif not b["id_generated"]:
            kinds.add("id")
        if fp_text(a["title"], a.get("title_type")) != ws(b["title"]):
            kinds.add("entry_title")
        if (a["link"] or "") != b["link"]:
            kinds.add("link")
        ob = b["published"] if b["published"] is not None else b["updated"]
        if a["published"] != ob:
            kinds.add("published")
    return kinds


def measure():
    root = os.path.join(data_dir(), "feeds", "feedparser-corpus")
    if not os.path.isdir(root):
        raise harness.Skip("no feed corpus at %s (set SAMTALE_DATA_DIR)" % root)
    tool = os.path.join(os.path.dirname(os.path.abspath(harness.binary())), "feed_dump")
    if not os.access(tool, os.X_OK):
        raise AssertionError("no feed_dump beside the samtale binary: %s (build it)" % tool)
    files = corpus_files(root)
    assert files, "the corpus at %s is empty" % root
    jobs = [{"path": p, "headers": headers_of(p)} for p in files]
    with ThreadPoolExecutor(max_workers=4) as ex:
        ours_f = ex.map(lambda j: run_dump(tool, j), jobs)
        fps = run_feedparser(jobs)
        ours = list(ours_f)
    results = []
    for job, fp, o in zip(jobs, fps, ours):
        assert "crash" not in (o.get("error") or ""), "%s: %s" % (job["path"], o["error"])
        results.append((os.path.relpath(job["path"], root), compare(fp, o), fp, o))
    return results


FIELDS = ("title", "count", "id", "entry_title", "link", "published")


def report(results):
    n = len(results)
    full = sum(1 for r in results if not r[1])
    per = {f: sum(1 for r in results if f not in r[1]) for f in FIELDS}
    line = "feed conformance: %.1f%% of %d documents agree on every field; " % (100.0 * full / n, n)
    line += ", ".join("%s %.1f%%" % (f, 100.0 * per[f] / n) for f in FIELDS)
    print("# " + line)
    by_kind = collections.Counter()
    examples = collections.defaultdict(list)
    for path, kinds, _fp, _o in results:
        for k in kinds:
            folder = "/".join(path.split("/")[:2])
            by_kind[(k, folder)] += 1
            if len(examples[(k, folder)]) < 2:
                examples[(k, folder)].append(path)
    print("# most common disagreements (field, folder: documents, examples):")
    for (k, folder), c in by_kind.most_common(15):
        print("#   %s, %s: %d  %s" % (k, folder, c, " ".join(examples[(k, folder)])))
    return full / n


def test_feed_conformance():
    results = measure()
    share = report(results)
    floor = ACHIEVED - 1.0
    assert 100.0 * share >= floor, "feed conformance fell to %.1f%% (floor %.1f%%)" % (100.0 * share, floor)


if __name__ == "__main__":
    # Standalone: prints the report and, with -v, every disagreeing document.
    sys.path.insert(0, HERE)
    res = measure()
    report(res)
    if "-v" in sys.argv:
        for path, kinds, fp, o in res:
            if kinds:
                print(path, sorted(kinds))
                print("   fp:  ", json.dumps(fp, ensure_ascii=False)[:400])
                print("   ours:", json.dumps(o, ensure_ascii=False)[:400])
