#!/usr/bin/python3
"""feedserver.py: a tiny loopback feed server for the feed reader's tests
(tests/unit/test_feed.c drives it for feed_fetch).

    tests/peers/feedserver.py [--port N]      (0 or absent: any free port)

Prints "listening on http://127.0.0.1:PORT/" on standard output once it accepts
connections, and serves until killed:

  /feed.xml    an RSS 2.0 feed with ETag "samtale-feed-v1" and a fixed Last-Modified;
               answers 304 Not Modified when If-None-Match matches that ETag, or (with no
               If-None-Match) when If-Modified-Since is not older than Last-Modified
  /latin1.xml  an RSS feed in windows-1252 without an XML declaration; only the HTTP
               Content-Type charset says so (the title reads "café – ok")
  /json        a JSON Feed 1.1
  /error       500
  /blog/       an HTML page that names two feeds in its <head> link tags (a relative
               "../feed.xml" RSS and an absolute JSON Feed), for autodiscovery
  /plain.html  an HTML page that names no feed
  /moved       301 to /blog/
  /requests    the conditional headers of every request so far, as JSON lines

Only the standard library; binds 127.0.0.1 only.
"""

import argparse
import email.utils
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ETAG = '"samtale-feed-v1"'
LAST_MODIFIED = "Mon, 03 Apr 2023 01:02:03 GMT"
FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Feed server</title><link>http://127.0.0.1/</link>
<item><title>First</title><link>/posts/1</link><guid isPermaLink="false">post-1</guid>
<pubDate>Mon, 03 Apr 2023 01:02:03 GMT</pubDate></item>
<item><title>Second</title><link>posts/2</link></item>
</channel></rss>
"""
LATIN1 = "<rss version=\"2.0\"><channel><title>caf\u00e9 \u2013 ok</title></channel></rss>".encode("windows-1252")
JSONFEED = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "JSON",
                       "items": [{"id": "j1", "url": "/j/1", "title": "One",
                                  "date_published": "2023-04-03T01:02:03Z"}]}).encode()

BLOG = """<!doctype html><html><head><meta charset="utf-8"><title>Bakeriet blogg</title>
<link rel="stylesheet" href="/style.css">
<link rel="Alternate" type="application/rss+xml; charset=utf-8" title="Bakeriet (RSS)" href="../feed.xml">
<link rel="alternate" type="application/feed+json" title="JSON" href="http://127.0.0.1:PORT/json">
</head><body><h1>Bakeriet</h1><p>Kanelboller &amp; blåbær.</p></body></html>
""".encode("utf-8")
PLAIN = b"<!doctype html><html><head><title>Ingen feed</title></head><body>Hei</body></html>"

SEEN = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", ctype=None, extra=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        SEEN.append({"path": self.path, "if_none_match": inm, "if_modified_since": ims})
        if self.path == "/feed.xml":
            validators = (("ETag", ETAG), ("Last-Modified", LAST_MODIFIED))
            fresh = False
            if inm is not None:
                fresh = ETAG in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
            elif ims:
                try:
                    fresh = email.utils.parsedate_to_datetime(ims) >= \
                        email.utils.parsedate_to_datetime(LAST_MODIFIED)
                except (TypeError, ValueError):
                    fresh = False
            if fresh:
                self.send(304, extra=validators)
            else:
                self.send(200, FEED, "application/rss+xml", validators)
        elif self.path == "/latin1.xml":
            self.send(200, LATIN1, "application/rss+xml; charset=windows-1252")
        elif self.path == "/json":
            self.send(200, JSONFEED, "application/feed+json")
        elif self.path == "/blog/":
            port = str(self.server.server_address[1]).encode()
            self.send(200, BLOG.replace(b"PORT", port), "text/html; charset=utf-8")
        elif self.path == "/plain.html":
            self.send(200, PLAIN, "text/html")
        elif self.path == "/moved":
            self.send(301, b"", "text/plain", (("Location", "/blog/"),))
        elif self.path == "/error":
            self.send(500, b"broken", "text/plain")
        elif self.path == "/requests":
            self.send(200, "".join(json.dumps(s) + "\n" for s in SEEN).encode(), "application/x-ndjson")
        else:
            self.send(404, b"not found", "text/plain")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("listening on http://127.0.0.1:%d/" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
