#!/usr/bin/env python3
"""breach-corpus.py - write a made-up corpus in the Pwned Passwords SHA-1 format.

    tools/dev/breach-corpus.py LINES [--seed N] [--crlf] [--known PASSWORD:COUNT ...]

Writes LINES "HASH:COUNT" lines to standard output (upper-case hex, sorted, no
duplicates), as the official downloader does, for the tests (t/conf/breach.txt) and
make bench (BENCH_SECTIONS=breach). The filler hashes are random 160-bit numbers,
one in each of LINES equal slices of the hash space (so they come out sorted), so the
file streams out in constant memory however long it is; each --known password's SHA-1 is
merged in at its place with its count. The same seed gives the same file.
"""
import argparse
import hashlib
import random
import sys

TOP = 1 << 160


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("lines", type=int, help="lines to write, the known ones included")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--crlf", action="store_true", help="CRLF line ends")
    ap.add_argument("--known", action="append", default=[], metavar="PASSWORD:COUNT")
    a = ap.parse_args()

    known = []
    for k in a.known:
        pw, _, count = k.rpartition(":")
        if not pw or not count.isdigit():
            ap.error("--known wants PASSWORD:COUNT, got %r" % k)
        known.append((int(hashlib.sha1(pw.encode("utf-8")).hexdigest(), 16), int(count)))
    known.sort()
    filler = a.lines - len(known)
    if filler < 0:
        ap.error("fewer lines than --known passwords")

    rnd = random.Random(a.seed)
    eol = "\r\n" if a.crlf else "\n"
    out = sys.stdout
    known_set = {h for h, _ in known}
    ki, buf = 0, []
    for i in range(filler):
        # One hash in each of LINES equal slices: ascending, spread over the space.
        x = (i * TOP + rnd.randrange(TOP)) // filler
        if x in known_set:
            x += 1
        while ki < len(known) and known[ki][0] < x:
            buf.append("%040X:%d%s" % (known[ki][0], known[ki][1], eol))
            ki += 1
        buf.append("%040X:%d%s" % (x, 1 + int(rnd.paretovariate(1.2)) % 100000, eol))
        if len(buf) >= 65536:
            out.write("".join(buf))
            buf = []
    for h, c in known[ki:]:
        buf.append("%040X:%d%s" % (h, c, eol))
    out.write("".join(buf))


if __name__ == "__main__":
    main()
