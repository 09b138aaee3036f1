"""A scripted security-0 provisioning device on loopback HTTP, for the CLI tests.

It speaks just enough of PROTOCOL.md (§4, §7.1, §8) to drive wifiprov without the
real daemon, and records every request (connection number, headers, body, time) so a
test can check what the client put on the wire: keep-alive, the exact cookie, bodies
of at least one byte, and the plaintext of SetConfig. Replies are the security-0
transcripts of PROTOCOL.md Appendix A.1. Standard library only.
"""

import socket
import threading
import time

SEC0_VERSION = b'{"prov":{"ver":"v1.1","sec_ver":0,"sec_patch_ver":0,"cap":["no_sec","wifi_scan"]}}'
SESSION_RESP = bytes.fromhex("52050801aa0100")
SET_CONFIG_RESP = bytes.fromhex("08036a00")
APPLY_RESP = bytes.fromhex("08057a00")
STATUS_CONNECTING = bytes.fromhex("08015a021001")
STATUS_ATTEMPT_FAILED_3 = bytes.fromhex("08015a06100162020803")
STATUS_CONNECTED = bytes.fromhex(
    "08015a245a220a0c3139322e3136382e312e343210031a066d79737369642206788a208419962806")
STATUS_FAIL_AUTH = bytes.fromhex("08015a0410035000")
STATUS_FAIL_NOTFOUND = bytes.fromhex("08015a0410035001")
SCAN_START_RESP = bytes.fromhex("08015a00")
SCAN_STATUS_RESP = bytes.fromhex("08036a0408011002")
SCAN_RESULT_RESP = bytes.fromhex(
    "08057a4e0a250a0c4d79486f6d65576946694150100118d3ffffffffffffffff"
    "012206788a2084199628030a250a0e496e736563757265576946694150100718"
    "b6ffffffffffffffff012206dca4caf1227c")
CTRL_RESET_RESP = bytes.fromhex("08026200")
CUSTOM_RESP = b"SUCCESS\x00"


def parse_pb(data):
    """Minimal protobuf decoder: {field: [values]}; length-delimited values stay bytes."""
    out, i = {}, 0
    while i < len(data):
        key, i = _varint(data, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(data, i)
        elif wt == 2:
            n, i = _varint(data, i)
            v, i = data[i:i + n], i + n
        else:
            raise ValueError("unsupported wire type %d" % wt)
        out.setdefault(field, []).append(v)
    return out


def _varint(data, i):
    v = shift = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


class FakeDevice:
    """outcome: 'connected', 'auth', 'notfound', 'never'; connect_ms: time from Apply to the outcome.
    version: the proto-ver reply. drop: endpoint on which to close the connection without a reply.
    http_status: endpoint -> status code to answer with instead of 200."""

    def __init__(self, outcome="connected", connect_ms=0, version=SEC0_VERSION, drop=None, http_status=None,
                 attempt_failed=False, status_before_apply=STATUS_CONNECTING, drop_requests=()):
        self.outcome = outcome
        self.connect_ms = connect_ms
        self.version = version
        self.drop = drop
        self.http_status = http_status or {}
        self.attempt_failed = attempt_failed
        self.status_before_apply = status_before_apply
        self.drop_requests = set(drop_requests)  # indexes into self.requests to drop
        self.requests = []
        self.cookie = None
        self.applied_at = None
        self.outcome_at = None
        self.set_config = None
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.conns = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    # --- device behaviour -------------------------------------------------
    def _status_reply(self):
        if self.applied_at is None:
            return self.status_before_apply
        if time.monotonic() - self.applied_at < self.connect_ms / 1000.0 or self.outcome == "never":
            return STATUS_ATTEMPT_FAILED_3 if self.attempt_failed else STATUS_CONNECTING
        if self.outcome_at is None:
            self.outcome_at = self.applied_at + self.connect_ms / 1000.0
        return {"connected": STATUS_CONNECTED, "auth": STATUS_FAIL_AUTH,
                "notfound": STATUS_FAIL_NOTFOUND}[self.outcome]

    def handle(self, ep, body):
        if ep == "proto-ver":
            return self.version
        if ep == "prov-session":
            return SESSION_RESP if body == bytes.fromhex("5203a20100") else None
        if ep == "prov-config":
            msg = parse_pb(body)
            kind = msg.get(1, [0])[0]
            if kind == 2:
                cfg = parse_pb(msg[12][0])
                self.set_config = (cfg.get(1, [b""])[0], cfg.get(2, [b""])[0])
                return SET_CONFIG_RESP
            if kind == 4:
                self.applied_at = time.monotonic()
                return APPLY_RESP
            if kind == 0:
                return self._status_reply()
            return None
        if ep == "prov-scan":
            kind = parse_pb(body).get(1, [0])[0]
            return {0: SCAN_START_RESP, 2: SCAN_STATUS_RESP, 4: SCAN_RESULT_RESP}.get(kind)
        if ep == "prov-ctrl":
            if parse_pb(body).get(1, [0])[0] == 1:
                self.applied_at = None
                self.outcome = "connected"
                return CTRL_RESET_RESP
            return None
        if ep == "custom-data":
            return CUSTOM_RESP
        return None

    # --- HTTP -------------------------------------------------------------
    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns += 1
            conn.settimeout(0.05)
            try:
                self._serve_conn(conn, self.conns)
            finally:
                conn.close()

    def _serve_conn(self, conn, conn_no):
        buf = b""
        while not self.stopping:
            while b"\r\n\r\n" not in buf:
                try:
                    d = conn.recv(65536)
                except socket.timeout:
                    if self.stopping:
                        return
                    continue
                except OSError:
                    return
                if not d:
                    return
                buf += d
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = []
            for l in lines[1:]:
                k, v = l.split(":", 1)
                headers.append((k.strip().lower(), v.strip()))
            hd = dict(headers)
            n = int(hd.get("content-length", "0"))
            while len(buf) < n:
                try:
                    d = conn.recv(65536)
                except socket.timeout:
                    continue
                if not d:
                    return
                buf += d
            body, buf = buf[:n], buf[n:]
            ep = path.lstrip("/")
            with self.lock:
                self.requests.append({"conn": conn_no, "method": method, "ep": ep, "headers": headers,
                                      "body": body, "t": time.monotonic()})
            if self.drop == ep or len(self.requests) - 1 in self.drop_requests:
                return
            if ep in self.http_status:
                conn.sendall(b"HTTP/1.1 %d Error\r\nContent-Length: 0\r\n\r\n" % self.http_status[ep])
                continue
            if method != "POST" or n == 0:
                return
            cookie = hd.get("cookie")
            extra = b""
            if self.cookie is None or cookie != "session=%d" % self.cookie:
                self.cookie = 3141592653 if self.cookie is None else self.cookie + 1
                extra = b"Set-Cookie: session=%d\r\n" % self.cookie
            reply = self.handle(ep, body)
            if reply is None:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n%s\r\n" %
                         (len(reply), extra) + reply)
