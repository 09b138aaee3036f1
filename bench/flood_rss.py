#!/usr/bin/python3
"""wifiprovd's memory idle and during a flood (prints figures; not a test).

Starts WIFIPROVD (security 2, simulated Wi-Fi, HTTP on loopback), reads VmRSS idle, then
floods it for SECONDS from six client threads on six loopback addresses (127.0.0.2-7),
each opening new connections and sending 1-3 requests per connection: garbage to
/prov-session, real-looking security-2 Command0s nobody finishes, /prov-config with a
guessed cookie, /proto-ver. VmRSS is sampled every 100 ms; at the end VmRSS, VmHWM and
the requests sent and answered are printed, then VmRSS again 2 s after the flood.

Usage: flood_rss.py WIFIPROVD [SECONDS]   (default 20)
       Extra daemon options after "--", e.g. flood_rss.py build/daemon/wifiprovd 20 -- --no-web-ui
"""
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

CMD0_PREFIX = bytes([0x10, 0x02, 0x62, 0x91, 0x03, 0xa2, 0x01, 0x8d, 0x03, 0x0a, 0x08]) + b"wifiprov" + \
    bytes([0x12, 0x80, 0x03])


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def post(sock, path, body, cookie=None):
    head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n" % path
    if cookie:
        head += "Cookie: %s\r\n" % cookie
    head += "Content-Length: %d\r\n\r\n" % len(body)
    sock.sendall(head.encode() + body)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        data += chunk
    hdr, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in hdr.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        rest += chunk
    return True


def flood(src, port, stop, counts, seed):
    rnd = random.Random(seed)
    while not stop.is_set():
        try:
            s = socket.socket()
            s.settimeout(5)
            s.bind((src, 0))
            s.connect(("127.0.0.1", port))
        except OSError:
            time.sleep(0.002)
            continue
        counts["connections"] += 1
        try:
            for _ in range(rnd.randint(1, 3)):
                kind = rnd.randrange(8)
                cookie = None
                if kind in (0, 5):
                    path, body = "/prov-session", bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 64)))
                elif kind == 1:
                    path, body = "/prov-session", CMD0_PREFIX + bytes(rnd.randrange(256) | 1 for _ in range(384))
                elif kind in (2, 3):
                    path, body, cookie = "/prov-config", b"z" * 20, "session=1"
                else:
                    path, body = "/proto-ver", b"---"
                counts["sent"] += 1
                if not post(s, path, body, cookie):
                    break
                counts["answered"] += 1
        except OSError:
            pass
        finally:
            s.close()


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        extra = args[args.index("--") + 1:]
        args = args[:args.index("--")]
    daemon = args[0]
    seconds = float(args[1]) if len(args) > 1 else 20.0
    state = tempfile.mkdtemp()
    cmd = [daemon, "--config", "/dev/null", "--wifi", "sim", "--security", "2", "--sec2-username", "wifiprov",
           "--sec2-password", "abcd1234", "--transport", "http", "--listen", "127.0.0.1:0",
           "--auto-stop", "0", "--no-qr", "--state-dir", state] + extra
    logname = os.path.join(state, "daemon.log")
    log = open(logname, "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(100):
            m = re.search(r"HTTP transport listening on 127\.0\.0\.1:(\d+)", open(logname).read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.1)
        if port is None:
            sys.exit("flood_rss: the daemon did not start listening:\n" + open(logname).read())
        time.sleep(1.0)
        idle = status_kb(p.pid, "VmRSS")
        stop = threading.Event()
        counts = {"sent": 0, "answered": 0, "connections": 0}
        threads = [threading.Thread(target=flood, args=("127.0.0.%d" % (2 + i), port, stop, counts, i))
                   for i in range(6)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        peak = idle
        while time.monotonic() - t0 < seconds:
            time.sleep(0.1)
            peak = max(peak, status_kb(p.pid, "VmRSS"))
        during = status_kb(p.pid, "VmRSS")
        stop.set()
        for t in threads:
            t.join()
        took = time.monotonic() - t0
        hwm = status_kb(p.pid, "VmHWM")
        time.sleep(2.0)
        after = status_kb(p.pid, "VmRSS")
        with open("/proc/%d/stat" % p.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        daemon_cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        print("daemon:      %s" % daemon)
        print("idle:        VmRSS %d kB" % idle)
        print("flood:       %.1f s, %d connections, %d requests sent, %d answered (%.0f/s), daemon CPU %.1f s"
              % (took, counts["connections"], counts["sent"], counts["answered"], counts["answered"] / took,
                 daemon_cpu))
        print("during:      VmRSS %d kB at the end, %d kB highest sample, VmHWM %d kB" % (during, peak, hwm))
        print("after (2 s): VmRSS %d kB" % after)
    finally:
        p.terminate()
        p.wait()
        log.close()
        subprocess.run(["rm", "-rf", state])


if __name__ == "__main__":
    main()
