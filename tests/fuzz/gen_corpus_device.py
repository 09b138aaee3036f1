#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_device (tests/fuzz/corpus/fuzz_device) from the
vector transcripts. Input format: see the comment at the top of fuzz_device.c."""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
vec = os.path.join(here, '..', 'vectors', 'data')
out = os.path.join(here, 'corpus', 'fuzz_device')


def load(name):
    with open(os.path.join(vec, name)) as f:
        return json.load(f)


def msg(op, arg, data):
    return bytes([op, arg, len(data) >> 8, len(data) & 0xff]) + data


def device_seed(mode, messages, app_op=3, resume=False):
    b = bytes([mode]) + bytes([0, 0])  # open session 1
    for m in messages:
        w = bytes.fromhex(m['request_wire'])
        if m['endpoint'] == 'proto-ver':
            b += msg(5, 0, w)
        elif m['endpoint'] == 'prov-session':
            b += msg(2, 0, w)
        else:
            b += msg(app_op, 0, w)
            if resume:
                b += bytes([8, 0, 6, 0, 6, 0])  # wake, resume, resume
    b += bytes([1, 0])  # close
    return b


def write(name, data):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)


def main():
    os.makedirs(out, exist_ok=True)
    s0, s1, s2 = load('sec0.json'), load('sec1.json'), load('sec2.json')
    write('sec1_transcript', device_seed(0, s1['messages']))
    write('sec1_pending', device_seed(0, s1['messages'], app_op=4, resume=True))
    write('sec2_transcript', device_seed(1, s2['messages']))
    write('sec2_pending', device_seed(1, s2['messages'], app_op=4, resume=True))
    # Several sessions, one of them handshaking twice.
    hs = [m for m in s1['messages'] if m['endpoint'] == 'prov-session']
    b = bytes([0, 0, 0, 0, 1, 0, 2, 0, 3])
    for m in hs + hs:
        b += msg(2, 1, bytes.fromhex(m['request_wire']))
    write('sec1_sessions', b)
    # Reply decoders: selector byte picks the decoder (bits 3..5) and the expected msg.
    sel = {'prov-config': None, 'prov-scan': 2 << 3, 'prov-ctrl': 3 << 3}
    for i, m in enumerate(s0['messages']):
        plain = bytes.fromhex(m['response_plain'])
        ep = m['endpoint']
        if ep == 'proto-ver':
            s = 4 << 3
        elif ep == 'prov-config':
            req = bytes.fromhex(m['request_plain'])
            s = (0 << 3) if req[:1] == b'\x52' else (1 << 3) | (1 if req[:2] == b'\x08\x02' else 0)
        elif ep in sel:
            s = sel[ep] | 7
            if ep == 'prov-scan':
                req = bytes.fromhex(m['request_plain'])
                kind = 0 if req[:1] == b'\x52' else (1 if req[:2] == b'\x08\x02' else 2)
                s |= kind << 6
        else:
            continue
        write('decode_%02d' % i, bytes([2, s]) + plain)
    # Client handshakes with canned replies.
    def recs(msgs):
        return b''.join(len(x).to_bytes(2, 'big') + x for x in msgs)
    s0hs = [bytes.fromhex(m['response_wire']) for m in s0['messages'] if m['endpoint'] == 'prov-session']
    s0st = [bytes.fromhex(m['response_wire']) for m in s0['messages'] if m['endpoint'] == 'prov-config']
    write('client_sec0', bytes([3, 0]) + recs(s0hs + s0st[2:3]))
    s1hs = [bytes.fromhex(m['response_wire']) for m in s1['messages'] if m['endpoint'] == 'prov-session']
    write('client_sec1', bytes([3, 1]) + recs(s1hs))
    return 0


if __name__ == '__main__':
    sys.exit(main())
