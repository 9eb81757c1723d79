#!/usr/bin/python3
"""jetstream_replay.py: a loopback Jetstream for samtale's tests (CH4): replays a JSONL file
of Jetstream events over WebSocket, the way Jetstream's /subscribe endpoint serves them.

Usage: jetstream_replay.py [--port 0] [--file FILE] [--log FILE] [--drop-after N]
                           [--silent] [--raw] [--fragment N]

Binds 127.0.0.1 (port 0 picks a free one) and prints "listening on ws://127.0.0.1:PORT/"
on stdout once it accepts connections. Run it with /usr/bin/python3 (Debian's
python3-websockets 10.4, asyncio).

GET /subscribe?wantedCollections=A&wantedCollections=B&cursor=TIME_US:
  - events are sent in time_us order (a stable sort of the file): Jetstream stamps
    time_us itself when it takes an event in, so its stream is ordered by time_us, and
    its cursor only makes sense in that order. The sample files are not in that order.
  - wantedCollections (repeatable; "app.bsky.feed.*" style prefixes allowed) filters
    commit events by collection; identity and account events always pass, as in
    Jetstream. No wantedCollections means everything.
  - cursor=T starts after T: only events with time_us > T are sent.
  - after the last event the connection stays open and idle (a quiet live stream);
    pings are answered.
Any other path is answered 404.

--file FILE     the events (default $SAMTALE_DATA_DIR/jetstream/events-sample-v1.jsonl,
                SAMTALE_DATA_DIR defaulting to ../shared/data from the repository root)
--log FILE      one JSON line per connection when it opens:
                {"event": "connect", "conn": 1, "path": "/subscribe?...",
                 "cursor": T or null, "wantedCollections": [...]}
                and one when the peer ends it: {"event": "drop", "conn": 1, "sent": N}
--drop-after N  on the first connection, abort the TCP connection (no close frame)
                right after sending N events
--silent        accept the WebSocket and then send nothing at all, not even pongs
                (a hung peer, for heartbeat tests)
--raw           send every non-empty line of the file as it is, in file order, with
                no parsing, filtering or cursor (malformed-frame tests)
--fragment N    send each message as fragments of at most N characters

Stops cleanly on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import urllib.parse

import websockets
import websockets.legacy.server


def default_file():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    data = os.environ.get("SAMTALE_DATA_DIR") or os.path.join(root, "..", "shared", "data")
    return os.path.join(data, "jetstream", "events-sample-v1.jsonl")


def load_events(path, raw):
    """(time_us, text, kind, collection) per line; in time_us order unless raw."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if raw:
                out.append((0, line, None, None))
                continue
            ev = json.loads(line)
            commit = ev.get("commit") or {}
            out.append((int(ev["time_us"]), line, ev.get("kind"), commit.get("collection")))
    if not raw:
        out.sort(key=lambda e: e[0])  # stable: equal time_us keep file order
    return out


def wanted(collection, patterns):
    if not patterns:
        return True
    for p in patterns:
        if p.endswith(".*"):
            if collection is not None and collection.startswith(p[:-1]):
                return True
        elif collection == p:
            return True
    return False


class Peer:
    def __init__(self, args):
        self.args = args
        self.events = load_events(args.file, args.raw)
        self.conns = 0
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None

    def record(self, obj):
        if self.log:
            self.log.write(json.dumps(obj) + "\n")
            self.log.flush()

    def fragments(self, text):
        n = self.args.fragment
        if not n or len(text) <= n:
            return text
        return [text[i:i + n] for i in range(0, len(text), n)]

    async def handler(self, ws):
        self.conns += 1
        conn = self.conns
        url = urllib.parse.urlsplit(ws.path)
        query = urllib.parse.parse_qs(url.query)
        cursor = None
        if "cursor" in query:
            try:
                cursor = int(query["cursor"][-1])
            except ValueError:
                cursor = None
        collections = query.get("wantedCollections", [])
        self.record({"event": "connect", "conn": conn, "path": ws.path, "cursor": cursor,
                     "wantedCollections": collections})
        if self.args.silent:
            await ws.wait_closed()
            return
        sent = 0
        drop = self.args.drop_after if conn == 1 else None
        for time_us, text, kind, collection in self.events:
            if not self.args.raw:
                if cursor is not None and time_us <= cursor:
                    continue
                if kind == "commit" and not wanted(collection, collections):
                    continue
            try:
                await ws.send(self.fragments(text))
            except websockets.ConnectionClosed:
                return
            sent += 1
            if drop is not None and sent >= drop:
                self.record({"event": "drop", "conn": conn, "sent": sent})
                ws.transport.abort()
                return
        await ws.wait_closed()


class Protocol(websockets.legacy.server.WebSocketServerProtocol):
    silent = False

    async def pong(self, data=b""):
        if not self.silent:
            await super().pong(data)


async def process_request(path, headers):
    if urllib.parse.urlsplit(path).path != "/subscribe":
        return (404, [("Content-Type", "text/plain")], b"not found\n")
    return None


async def main(args):
    peer = Peer(args)
    Protocol.silent = args.silent
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    server = await websockets.serve(peer.handler, "127.0.0.1", args.port,
                                    create_protocol=Protocol, process_request=process_request,
                                    ping_interval=None, compression=None)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on ws://127.0.0.1:{port}/", flush=True)
    await stop
    server.close()
    await server.wait_closed()


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Replay Jetstream events over WebSocket.")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--file", default=default_file())
    ap.add_argument("--log")
    ap.add_argument("--drop-after", type=int)
    ap.add_argument("--silent", action="store_true")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--fragment", type=int, default=0)
    return ap.parse_args(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)
    asyncio.run(main(parse_args(sys.argv[1:])))
