#!/usr/bin/env python3
"""Benchmark: wall time of a complete security-2 provisioning with the wifiprov CLI.

Starts wifiprovd (sim backend, one network with connect_ms 1000) on a free loopback
port for every run, then times `wifiprov provision --sec 2 ...` as a process from
start to exit. The device needs 1000 ms to connect, so the ideal is just above 1 s;
the figures show how much the client adds (handshake, polling lag).

Usage: provision_bench.py --wifiprov PATH --wifiprovd PATH [--runs N] [--connect-ms MS]
Prints figures; not a test (no pass/fail threshold).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def start_daemon(wifiprovd, tmp, connect_ms):
    net = os.path.join(tmp, "sim.json")
    with open(net, "w") as f:
        json.dump([{"ssid": "BenchNet", "bssid": "02:00:00:00:be:01", "channel": 6, "rssi": -40,
                    "auth": "wpa2_psk", "passphrase": "bench-passphrase", "connect_ms": connect_ms,
                    "ip": "10.9.8.7"}], f)
    log_path = os.path.join(tmp, "wifiprovd.log")
    log = open(log_path, "w")
    p = subprocess.Popen([wifiprovd, "--transport", "http", "--listen", "127.0.0.1:0", "--security", "2",
                          "--sec2-username", "wifiprov", "--sec2-password", "abcd1234", "--wifi", "sim",
                          "--sim-config", net, "--state-dir", tmp, "--auto-stop", "0", "--no-qr"],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        text = open(log_path).read()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
        if m and "Provisioning started" in text:
            return p, log, int(m.group(1))
        if p.poll() is not None:
            break
        time.sleep(0.01)
    p.kill()
    p.wait()
    log.close()
    sys.exit("wifiprovd did not start:\n" + open(log_path).read())


def device_connect_ms(log_path):
    """Apply-to-connected time on the device, from wifiprovd's log ("I (<ms>) ..."); None if not found."""
    applied = connected = None
    for line in open(log_path):
        m = re.match(r"[A-Z] \((\d+)\) ", line)
        if not m:
            continue
        if applied is None and "credentials received" in line:
            applied = int(m.group(1))
        if connected is None and "connected to" in line and "prov:" in line:
            connected = int(m.group(1))
    return connected - applied if applied is not None and connected is not None else None


def stop_daemon(p, log):
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    log.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wifiprov", required=True)
    ap.add_argument("--wifiprovd", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--connect-ms", type=int, default=1000)
    a = ap.parse_args()

    walls, sessions, applied, connected, lags = [], [], [], [], []
    for i in range(a.runs):
        tmp = tempfile.mkdtemp(prefix="wifiprov-bench-")
        p, log, port = start_daemon(a.wifiprovd, tmp, a.connect_ms)
        try:
            t0 = time.monotonic()
            r = subprocess.run([a.wifiprov, "provision", "--address", "127.0.0.1:%d" % port, "--sec", "2",
                                "--username", "wifiprov", "--password", "abcd1234", "--ssid", "BenchNet",
                                "--passphrase", "bench-passphrase", "--json", "--progress", "--timeout", "30"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            wall = (time.monotonic() - t0) * 1000
        finally:
            stop_daemon(p, log)
            dev_ms = device_connect_ms(os.path.join(tmp, "wifiprovd.log"))
            shutil.rmtree(tmp, ignore_errors=True)
        lines = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
        if r.returncode != 0 or not lines or not lines[-1].get("ok"):
            sys.exit("run %d failed (exit %d): %s %s" % (i + 1, r.returncode, r.stdout.decode(), r.stderr.decode()))
        ev = {e["event"]: e["elapsed_ms"] for e in lines[:-1] if "event" in e}
        walls.append(wall)
        sessions.append(ev.get("session", 0))
        applied.append(ev.get("applied", 0))
        connected.append(lines[-1]["elapsed_ms"])
        lag = ""
        if dev_ms is not None:
            lags.append(lines[-1]["elapsed_ms"] - ev.get("applied", 0) - dev_ms)
            lag = ", device connected %d ms after Apply, client noticed %.0f ms later" % (dev_ms, lags[-1])
        print("run %d: wall %.0f ms (session established %.0f ms, applied %.0f ms, connected reported %.0f ms%s)"
              % (i + 1, wall, ev.get("session", 0), ev.get("applied", 0), lines[-1]["elapsed_ms"], lag))

    def fig(name, xs):
        print("%-34s min %6.0f  median %6.0f  max %6.0f ms" % (name, min(xs), statistics.median(xs), max(xs)))

    print()
    print("security-2 provisioning over loopback HTTP, sim network connect_ms %d, %d runs:" % (a.connect_ms,
                                                                                             a.runs))
    fig("wall time (process start to exit)", walls)
    fig("handshake done", sessions)
    fig("ApplyConfig answered", applied)
    fig("connected reported", connected)
    fig("client overhead (wall - connect_ms)", [w - a.connect_ms for w in walls])
    if lags:
        fig("outcome noticed after the device", lags)
    return 0


if __name__ == "__main__":
    sys.exit(main())
