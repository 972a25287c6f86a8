#!/usr/bin/env python3
"""thin-leaves.py META ID: the leaves of thin device ID's mapping tree in
the pool metadata image META, one "BLOCK FIRST LAST" line each: the
metadata block and the virtual blocks its parent gives it (LAST is
18446744073709551615 for the last leaf).  An independent walk of dm-thin's
format (superblock, two-level mapping tree), for tests that damage a leaf."""
import signal
import struct
import sys

# a reader that stops early (| head -n1) ends it quietly, as it ends a C tool
signal.signal(signal.SIGPIPE, signal.SIG_DFL)

meta, dev_id = sys.argv[1], int(sys.argv[2])
B = 4096
with open(meta, "rb") as f:
    img = f.read()


def node(b):
    flags, _, nr, mx, vs = struct.unpack_from("<IQIII", img, b * B + 4)
    keys = struct.unpack_from("<%dQ" % nr, img, b * B + 32)
    vals = [img[b * B + 32 + 8 * mx + vs * i:][:vs] for i in range(nr)]
    return flags, keys, vals


def leaves(b, lo, hi, out):
    flags, keys, vals = node(b)
    if flags == 2:
        out.append((b, lo, hi))
        return
    for i, k in enumerate(keys):
        end = keys[i + 1] - 1 if i + 1 < len(keys) else hi
        leaves(struct.unpack("<Q", vals[i])[0], k, end, out)


root = struct.unpack_from("<Q", img, 320)[0]
top = []
leaves(root, 0, 2**64 - 1, top)
for b, _, _ in top:
    _, keys, vals = node(b)
    for k, v in zip(keys, vals):
        if k == dev_id:
            out = []
            leaves(struct.unpack("<Q", v)[0], 0, 2**64 - 1, out)
            for x in out:
                print(*x)
