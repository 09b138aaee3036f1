#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_http (record format: see tests/fuzz/fuzz_http.c)."""
import os

here = os.path.dirname(os.path.abspath(__file__))


def s(b):
    return bytes([len(b)]) + b


NONE = b"\xff"


def rec(flags, path, cookie, cl, chunked, body):
    out = bytes([flags]) + s(path)
    out += NONE if cookie is None else s(cookie)
    out += NONE if cl is None else s(cl)
    out += bytes([chunked]) + len(body).to_bytes(2, "big") + body
    return out


def post(conn, path, body, cookie=None, cl=None, extra=0):
    return rec(conn | extra, path, cookie, str(len(body)).encode() if cl is None else cl, 0, body)


seeds = {
    "sec0_flow": b"\x00" + post(0, b"/proto-ver", b"---") + post(0, b"/prov-session", bytes.fromhex("5203a20100"))
    + post(0, b"/prov-config", bytes.fromhex("5200")) + post(1, b"/echo", b"hello", cookie=b"session=1"),
    "sec1_cmd0": b"\x01" + post(0, b"/prov-session", bytes.fromhex("10015a25a201220a20") + bytes(range(32))),
    "pending": b"\x00" + post(2, b"/pend", b"wait") + post(3, b"/echo", b"x") + post(3, b"/echo", b"y", extra=8),
    "probes_and_errors": b"\x00" + rec(0x10, b"/generate_204", None, None, 0, b"")
    + rec(0x30, b"/prov-session", None, b"3", 0, b"abc") + post(1, b"/nope", b"z")
    + post(1, b"/echo", b"", cl=b"0") + post(1, b"/echo", b"abc", cl=b"5000")
    + rec(0, b"/echo", b"a=b; session=2", b"2", 1, b"hi") + post(2, b"/echo", b"q", cookie=b"session=abc", extra=4),
    "eviction": b"\x00" + b"".join(post(i % 4, b"/proto-ver", b"-", extra=4 if i % 3 == 0 else 0) for i in range(12)),
}
for name, data in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
