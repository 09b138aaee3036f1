#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_ble (record format: see tests/fuzz/fuzz_ble.c)."""
import os

here = os.path.dirname(os.path.abspath(__file__))
VER, SES, ECHO, PEND, GROW = range(5)
WRITE, PREP, EXEC, CANCEL, READ, DESC, DISC, WAKE = range(8)


def rec(conn, op, ch=0, offset=0, value=b""):
    return bytes([conn | op << 2, ch]) + offset.to_bytes(2, "big") + len(value).to_bytes(2, "big") + value


def long_write(conn, ch, value, frag=18):
    out = b""
    for off in range(0, len(value), frag):
        out += rec(conn, PREP, ch, off, value[off:off + frag])
    return out + rec(conn, EXEC)


def long_read(conn, ch, total, mtu=23):
    return b"".join(rec(conn, READ, ch, off) for off in range(0, total + 1, mtu - 1))


CMD0 = bytes.fromhex("5203a20100")
big = bytes(range(256)) + bytes(range(150))
seeds = {
    "sec0_flow": b"\x00" + rec(0, WRITE, VER, 0, b"---") + rec(0, READ, VER) + rec(0, READ, VER, 22)
    + rec(0, WRITE, SES, 0, CMD0) + rec(0, READ, SES) + rec(0, WRITE, ECHO, 0, b"hello") + rec(0, READ, ECHO)
    + rec(0, DESC, SES) + rec(0, DESC, SES, 12) + rec(0, DESC, SES, 13),
    "long_write": b"\x00" + rec(1, WRITE, SES, 0, CMD0) + long_write(1, ECHO, big) + long_read(1, ECHO, len(big))
    + rec(1, WRITE, ECHO, 0, big) + rec(1, READ, ECHO, 406) + rec(1, READ, ECHO, 407),
    "errors": b"\x00" + rec(0, WRITE, ECHO) + rec(0, WRITE, ECHO, 5, b"abc") + rec(0, PREP, ECHO, 0, b"x" * 100)
    + rec(0, PREP, ECHO, 150, b"y" * 10) + rec(0, EXEC) + rec(0, PREP, ECHO, 0, b"z" * 300)
    + rec(0, PREP, ECHO, 300, b"w" * 213) + rec(0, WRITE, ECHO, 0, b"v" * 513) + rec(0, READ, ECHO, 1)
    + rec(0, WRITE, GROW, 0, b"\xab") + rec(0, WRITE, GROW, 0, b"\x10") + rec(0, READ, 9)
    + rec(0, PREP, ECHO, 0, b"q" * 10) + rec(0, CANCEL),
    "pending": b"\x00" + rec(2, WRITE, SES, 0, CMD0) + rec(2, WRITE, PEND, 0, b"later") + rec(2, READ, PEND)
    + rec(2, WRITE, PEND, 0, b"again") + rec(3, WRITE, PEND, 0, b"other") + rec(0, WAKE) + rec(2, READ, PEND)
    + rec(3, DISC) + rec(0, WAKE),
    "reconnect": b"\x01" + rec(0, WRITE, SES, 0, bytes.fromhex("10015a25a201220a20") + bytes(range(32)))
    + rec(0, READ, SES) + rec(0, DISC) + rec(0, WRITE, ECHO, 0, b"stale") + rec(0, READ, ECHO)
    + rec(1, WRITE, SES, 0, b"\xff\xff") + rec(2, WRITE, VER, 0, b"---") + rec(3, WRITE, VER, 0, b"---")
    + rec(1, WRITE, VER, 0, b"---"),
}
for name, data in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
