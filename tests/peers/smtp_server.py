#!/usr/bin/python3
"""smtp_server.py: a loopback SMTP server for samtale's mail tests, on aiosmtpd (Debian's
python3-aiosmtpd).

Usage: smtp_server.py --dir DIR [--port 0] [--tls starttls|implicit --cert PEM --key PEM]
                      [--auth USER:PASSWORD] [--refuse-rcpt CODE | --refuse-data CODE]
                      [--refuse-count N]

Binds 127.0.0.1 (port 0 picks a free one) and prints "listening on PORT" on stdout once it
accepts connections. DIR/log.jsonl gets one JSON line per event:

  {"event": "connect", "peer": "127.0.0.1", "time": ...}
  {"event": "refused", "stage": "rcpt"|"data", "code": 550, "time": ...}
  {"event": "message", "file": "0001.eml", "mail_from": "...", "rcpt_tos": [...],
   "tls": true|false, "auth": "USER"|null, "headers": {"Subject": "...", ...}, "time": ...}

and each accepted message is written as DIR/NNNN.eml, the bytes as received (after the
SMTP dot-unstuffing), so a test can parse it with Python's email package.

--tls starttls offers STARTTLS with the given certificate and requires it before MAIL;
--tls implicit speaks TLS from the first byte (smtps). --auth requires AUTH (PLAIN or
LOGIN) with that user and password; a wrong one gets 535. --refuse-rcpt / --refuse-data
answer RCPT TO / the end of DATA with CODE (550 and 5xx: permanent, 451 and 4xx:
temporary), the first N times with --refuse-count N (default: every time); after that
messages are accepted.

Stops on SIGTERM or SIGINT (the tests stop it by its PID).
"""

import argparse
import asyncio
import email.parser
import email.policy
import json
import os
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

TEXTS = {550: "5.1.1 mailbox unavailable (test peer)", 553: "5.1.3 address refused (test peer)",
         554: "5.7.1 message refused (test peer)", 421: "4.3.2 service not available (test peer)",
         450: "4.2.1 mailbox busy (test peer)", 451: "4.3.0 try again later (test peer)",
         452: "4.3.1 insufficient storage (test peer)"}


class Peer:
    def __init__(self, args):
        self.dir = args.dir
        self.log_path = os.path.join(args.dir, "log.jsonl")
        self.refuse_stage = "rcpt" if args.refuse_rcpt else "data" if args.refuse_data else None
        self.refuse_code = args.refuse_rcpt or args.refuse_data
        self.refuse_left = args.refuse_count
        self.count = 0
        self.lock = threading.Lock()
        self.user, self.password = None, None
        if args.auth:
            self.user, _, self.password = args.auth.partition(":")

    def log(self, **event):
        event["time"] = time.time()
        with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")

    def refusal(self, stage):
        """The reply refusing this stage, or None to go on."""
        if self.refuse_stage != stage or self.refuse_left == 0:
            return None
        if self.refuse_left > 0:
            self.refuse_left -= 1
        self.log(event="refused", stage=stage, code=self.refuse_code)
        return "%d %s" % (self.refuse_code, TEXTS.get(self.refuse_code, "refused by the test peer"))

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        r = self.refusal("rcpt")
        if r:
            return r
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        r = self.refusal("data")
        if r:
            return r
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        with self.lock:
            self.count += 1
            name = "%04d.eml" % self.count
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data)
        msg = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(data)
        headers = {k: str(v) for k, v in msg.items()}
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.log(event="message", file=name, mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos),
                 tls=tls, auth=login, headers=headers)
        return "250 2.0.0 OK: queued as TEST%04d" % self.count

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user
              and auth_data.password.decode() == self.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


class LoggingSMTP(SMTP):
    """aiosmtpd's SMTP that records each connection."""

    peer = None

    def connection_made(self, transport):
        if self.transport is None:  # not the STARTTLS upgrade of a connection
            name = transport.get_extra_info("peername")
            self.peer.log(event="connect", peer=name[0] if name else None)
        super().connection_made(transport)


def main():
    ap = argparse.ArgumentParser(description="loopback SMTP server for tests")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", choices=["starttls", "implicit"])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--auth")
    ap.add_argument("--refuse-rcpt", type=int)
    ap.add_argument("--refuse-data", type=int)
    ap.add_argument("--refuse-count", type=int, default=-1)
    args = ap.parse_args()
    if args.tls and not (args.cert and args.key):
        ap.error("--tls needs --cert and --key")
    os.makedirs(args.dir, exist_ok=True)

    peer = Peer(args)
    LoggingSMTP.peer = peer
    ctx = None
    if args.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
    kw = dict(hostname="smtp.test", decode_data=False, timeout=30)
    if args.tls == "starttls":
        kw.update(tls_context=ctx, require_starttls=True)
    if args.auth:
        # With implicit TLS the whole connection is encrypted; aiosmtpd only knows STARTTLS.
        kw.update(auth_required=True, authenticator=peer.authenticate,
                  auth_require_tls=args.tls != "implicit")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: LoggingSMTP(peer, **kw), host="127.0.0.1", port=args.port,
        ssl=ctx if args.tls == "implicit" else None))
    port = server.sockets[0].getsockname()[1]
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    print("listening on %d" % port, flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
