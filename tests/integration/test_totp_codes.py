"""One-time codes and their QR code (src/core/totp.c, through tests/tools/totp_tool).

1. For thousands of random secrets, times, digit counts and algorithms, the code samtale
   computes equals the one Debian's python3-pyotp computes (an independent implementation
   of RFC 6238, the one many servers use).
2. The otpauth:// URI samtale writes for an issuer and account with Nordic letters, drawn
   as its QR code (from the SVG the dashboard will show, as a PBM image) and read back by
   zbarimg, is exactly that URI; and the URI's parts decode back to the names given.

totp_tool is built with the binary under test, in the same build folder. The QR test is
skipped only when zbarimg (Debian zbar-tools) is missing.
"""

import base64
import datetime
import hashlib
import os
import random
import shutil
import subprocess
import tempfile
import urllib.parse

import harness

ALGS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
CASES = 4000


def tool():
    path = os.path.join(os.path.dirname(os.path.abspath(harness.binary())), "totp_tool")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise AssertionError("no totp_tool beside the samtale binary: %s (build it)" % path)
    return path


def run_tool(*args, input=None, timeout=harness.TIMEOUT * 4):
    try:
        return subprocess.run([tool()] + [str(a) for a in args], input=input, capture_output=True,
                              timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("totp_tool %s did not finish within %ss" % (args[0], timeout)) from e


def pyotp_code(b32, t, digits, alg):
    import pyotp
    # A time zone-aware datetime: pyotp then counts steps with calendar.timegm, not with
    # the local time zone (where a fall-back hour would shift the step).
    when = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return pyotp.TOTP(b32, digits=digits, digest=ALGS[alg]).at(when)


def random_case(rng):
    key = bytes(rng.getrandbits(8) for _ in range(rng.choice([10, 16, 20, 20, 20, 32, 64, rng.randint(1, 64)])))
    b32 = base64.b32encode(key).decode().rstrip("=")
    if rng.random() < 0.2:
        b32 = b32.lower()
    r = rng.random()
    if r < 0.1:
        t = rng.choice([0, 1, 29, 30, 31, 59, 60, 2**31 - 1, 2**31, 2**32, 20000000000])
    elif r < 0.3:
        t = rng.randint(0, 10**6) * 30 + rng.choice([0, 29])  # the edges of a step
    else:
        t = rng.randint(0, 2**34)
    return b32, t, rng.choice([6, 7, 8]), rng.choice(sorted(ALGS))


def test_codes_match_pyotp():
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    cases = [random_case(rng) for _ in range(CASES)]
    # RFC 6238's own row, so a broken comparison cannot pass unnoticed.
    cases.append((base64.b32encode(b"12345678901234567890").decode(), 59, 8, "SHA1"))
    p = run_tool("codes", input="".join("%s %d %d %s\n" % c for c in cases).encode())
    assert p.returncode == 0, "totp_tool codes exited %d: %s" % (p.returncode, p.stderr.decode()[-2000:])
    ours = p.stdout.decode().split("\n")[:-1]
    assert len(ours) == len(cases), "asked for %d codes, got %d" % (len(cases), len(ours))
    assert ours[-1] == "94287082", "RFC 6238 SHA1 at 59 s gave %s" % ours[-1]
    wrong = []
    for c, got in zip(cases, ours):
        want = pyotp_code(c[0], c[1], c[2], c[3])
        if got != want:
            wrong.append("%s t=%d digits=%d %s: samtale %s, pyotp %s" % (c + (got, want)))
    assert not wrong, "seed %d: %d of %d codes differ from pyotp, e.g.\n  %s" % (
        seed, len(wrong), len(cases), "\n  ".join(wrong[:10]))
    # The one-code form of the tool, a few times.
    for c in cases[:25]:
        p = run_tool("code", *c)
        assert p.returncode == 0, p.stderr.decode()
        assert p.stdout.decode() == pyotp_code(*c) + "\n", "seed %d: %r" % (seed, c)
    # Refused input is an error, not a code.
    for bad in (("MY1", 59, 6, "SHA1"), ("MZXW6YTB", 59, 5, "SHA1"), ("MZXW6YTB", 59, 6, "MD5"),
                ("MZXW6YTB", -1, 6, "SHA1"), ("", 59, 6, "SHA1")):
        p = run_tool("code", *bad)
        assert p.returncode == 1 and p.stdout == b"", "%r: exit %d, %r" % (bad, p.returncode, p.stdout)


def expected_uri(issuer, account, b32):
    q = lambda s: urllib.parse.quote(s, safe="")  # unreserved only: A-Z a-z 0-9 - . _ ~
    return ("otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=30"
            % (q(issuer), q(account), b32, q(issuer)))


def check_uri_parts(uri, issuer, account, b32):
    """The URI's parts decode back to the names: the label's only literal ':' separates
    issuer and account, and the query holds the secret and the issuer."""
    u = urllib.parse.urlsplit(uri)
    assert (u.scheme, u.netloc) == ("otpauth", "totp"), uri
    label = u.path[1:]
    assert label.count(":") == 1, "the label has %d literal colons: %s" % (label.count(":"), label)
    iss, acc = label.split(":")
    assert urllib.parse.unquote(iss) == issuer and urllib.parse.unquote(acc) == account, uri
    q = urllib.parse.parse_qs(u.query, strict_parsing=True)
    assert q == {"secret": [b32], "issuer": [issuer], "algorithm": ["SHA1"], "digits": ["6"],
                 "period": ["30"]}, q


def test_qr_round_trip():
    zbarimg = shutil.which("zbarimg")
    if not zbarimg:
        raise harness.Skip("zbarimg is not installed (Debian package zbar-tools)")
    b32 = base64.b32encode(os.urandom(20)).decode().rstrip("=")
    names = [
        ("Ærøskøbing Sosial: Ålesund", "bjørn.åsmund@eksempel.no"),
        ("samtale", "owner@example.com"),
        ("Blåbærsyltetøy & Co. ÆØÅ æøå", "Åse Øyvårdsdottir"),
        ("ø" * 64, "å" * 64),  # the longest names there may be: a large QR code
    ]
    with tempfile.TemporaryDirectory(prefix="samtale-qr-") as tmp:
        for i, (issuer, account) in enumerate(names):
            p = run_tool("uri", issuer, account, b32)
            assert p.returncode == 0, p.stderr.decode()
            uri = p.stdout.decode()[:-1]
            assert uri == expected_uri(issuer, account, b32), "\n%s\n%s" % (uri, expected_uri(issuer, account, b32))
            check_uri_parts(uri, issuer, account, b32)
            for scale in (2, 4):
                p = run_tool("qr", uri, scale)
                assert p.returncode == 0, p.stderr.decode()
                assert p.stdout.startswith(b"P1\n"), p.stdout[:20]
                path = os.path.join(tmp, "qr-%d-%d.pbm" % (i, scale))
                with open(path, "wb") as f:
                    f.write(p.stdout)
                try:
                    z = subprocess.run([zbarimg, "--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable", path],
                                       capture_output=True, timeout=harness.TIMEOUT, stdin=subprocess.DEVNULL)
                except subprocess.TimeoutExpired as e:
                    raise AssertionError("zbarimg did not finish within %ss" % harness.TIMEOUT) from e
                assert z.returncode == 0, "zbarimg found no code in %s (exit %d): %s" % (
                    path, z.returncode, z.stderr.decode(errors="replace"))
                assert z.stdout == uri.encode() + b"\n", "zbarimg read %r\nwanted %r" % (z.stdout, uri)
    # Names the URI refuses: empty, a control character, longer than 128 bytes.
    for issuer, account in (("", "a"), ("a", "b\nc"), ("a" * 129, "b")):
        p = run_tool("uri", issuer, account, b32)
        assert p.returncode == 1 and p.stdout == b"", (issuer, account, p.returncode)
