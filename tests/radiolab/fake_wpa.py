#!/usr/bin/python3
"""A scripted wpa_supplicant control interface, for testing the wpa_supplicant backend without
a radio (tests/radiolab/test_wpa_fake.sh). It serves DIR/lo: interface "lo", so the
backend finds 127.0.0.1 as the address once "connected".

Networks and outcomes follow the lab: lab-wpa2 / "correct-horse-42" connects; another psk
gives WRONG_KEY; lab-sae with a wrong sae_password gives an SAE AUTH-REJECT; an SSID that
is not in the scan results gives NETWORK-NOT-FOUND; lab-slow (in the scan) never answers, for
tests that kill the backend during an attempt. Network 0 ("lab-open") is configured
from the start. Every request is printed on stdout ("REQ ...", passphrases included: they
are test data), so the test can check what the backend asked for.

FAKE_WPA_ATTACH_DELAY=SECONDS in the environment delays the answer to the first ATTACH by
that long (a stalled supplicant; the other requests are answered meanwhile); later ATTACH
requests are answered at once.
"""
import os
import socket
import sys
import threading
import time

path = os.path.join(sys.argv[1], "lo")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
lock = threading.Lock()
monitors = set()
networks = {0: {"ssid": '"lab-open"', "key_mgmt": "NONE", "disabled": "0", "priority": "0"}}
next_id = [1]
state = {"wpa_state": "COMPLETED", "id": 0, "ssid": "lab-open", "bssid": "02:00:00:00:00:01", "freq": "2412",
         "key_mgmt": "NONE"}
saved = []

SCAN = ("bssid / frequency / signal level / flags / ssid\n"
        "02:00:00:00:00:00\t2412\t-30\t[WPA2-PSK-CCMP][ESS]\tlab-wpa2\n"
        "02:00:00:00:01:00\t2462\t-40\t[WPA2-SAE-CCMP][SAE-H2E][ESS]\tlab-sae\n"
        "02:00:00:00:00:01\t2412\t-50\t[ESS]\tlab-open\n")
BSS = {"lab-wpa2": ("02:00:00:00:00:00", "2412", "WPA2-PSK"), "lab-sae": ("02:00:00:00:01:00", "2462", "SAE"),
       "lab-open": ("02:00:00:00:00:01", "2412", "NONE"), "lab-slow": ("02:00:00:00:02:00", "2437", "WPA2-PSK")}
# The BSS table (BSS FIRST / BSS NEXT-<id>), from the scan lines; lab-slow is only here.
TABLE = [line.split("\t") for line in SCAN.splitlines()[1:]] + \
    [["02:00:00:00:02:00", "2437", "-70", "[WPA2-PSK-CCMP][ESS]", "lab-slow"]]


def bss(cmd):
    """BSS FIRST|NEXT-<id> [MASK=..]: one entry of the table, or "" past its end."""
    sel = cmd.split(" ")[1]
    i = 0 if sel == "FIRST" else int(sel[5:]) + 1 if sel.startswith("NEXT-") else len(TABLE)
    if i >= len(TABLE):
        return ""
    b, freq, level, flags, ssid = TABLE[i]
    return "id=%d\nbssid=%s\nfreq=%s\nlevel=%s\nflags=%s\nssid=%s\n" % (i, b, freq, level, flags, ssid)


def log(*a):
    print(*a, flush=True)


def event(text, delay=0.0):
    def send():
        time.sleep(delay)
        with lock:
            for m in list(monitors):
                try:
                    sock.sendto(("<2>" + text).encode(), m)
                except OSError:
                    monitors.discard(m)
    threading.Thread(target=send, daemon=True).start()


def ssid_text(v):
    if v.startswith('"'):
        return v.strip('"')
    return bytes.fromhex(v).decode(errors="replace")


def select(nid):
    net = networks[nid]
    for k, n in networks.items():
        n["disabled"] = "0" if k == nid else "1"
    ssid = ssid_text(net.get("ssid", '""'))
    event("CTRL-EVENT-DISCONNECTED bssid=%s reason=3 locally_generated=1" % state["bssid"], 0.05)
    state["wpa_state"] = "SCANNING"
    if ssid not in BSS:
        event("CTRL-EVENT-NETWORK-NOT-FOUND", 0.3)
        return
    if ssid == "lab-slow":
        return
    psk = net.get("psk", "").strip('"')
    sae = net.get("sae_password", "").strip('"')
    ok = (ssid == "lab-wpa2" and psk == "correct-horse-42") or (ssid == "lab-sae" and sae == "sae-secret-99") or \
        (ssid == "lab-open" and net.get("key_mgmt") == "NONE")
    if ok:
        bssid, freq, km = BSS[ssid]
        state.update(wpa_state="COMPLETED", id=nid, ssid=ssid, bssid=bssid, freq=freq, key_mgmt=km)
        event("CTRL-EVENT-CONNECTED - Connection to %s completed [id=%d id_str=]" % (bssid, nid), 0.3)
    elif ssid == "lab-sae":
        event("CTRL-EVENT-AUTH-REJECT %s auth_type=3 auth_transaction=2 status_code=1" % BSS[ssid][0], 0.3)
    else:
        event("CTRL-EVENT-SSID-TEMP-DISABLED id=%d ssid=\"%s\" auth_failures=1 duration=10 reason=WRONG_KEY"
              % (nid, ssid), 0.3)


def reconnect_best():
    """Like the supplicant when it may connect again: the enabled network of highest priority."""
    best = sorted(((int(n["priority"]), k) for k, n in networks.items() if n["disabled"] == "0"), reverse=True)
    if not best:
        return
    nid = best[0][1]
    ssid = ssid_text(networks[nid].get("ssid", '""'))
    bssid, freq, km = BSS[ssid]
    state.update(wpa_state="COMPLETED", id=nid, ssid=ssid, bssid=bssid, freq=freq, key_mgmt=km)
    event("CTRL-EVENT-CONNECTED - Connection to %s completed [id=%d id_str=]" % (bssid, nid), 0.1)


attach_delay = [float(os.environ.get("FAKE_WPA_ATTACH_DELAY", "0"))]


def late_attach(addr, delay):
    time.sleep(delay)
    with lock:
        try:
            sock.sendto(b"OK\n", addr)
            monitors.add(addr)
            log("ATTACH answered late")
        except OSError:
            log("GONE", addr)


def handle(cmd, addr):
    w = cmd.split(" ", 3)
    if cmd == "ATTACH":
        if attach_delay[0] > 0:
            delay, attach_delay[0] = attach_delay[0], 0
            log("ATTACH delayed", delay)
            threading.Thread(target=late_attach, args=(addr, delay), daemon=True).start()
            return None
        monitors.add(addr)
        return "OK\n"
    if cmd == "DETACH":
        monitors.discard(addr)
        return "OK\n"
    if cmd.startswith("SCAN_RESULTS"):
        return SCAN
    if w[0] == "BSS":
        return bss(cmd)
    if w[0] == "SCAN":
        event("CTRL-EVENT-SCAN-STARTED ")
        event("CTRL-EVENT-SCAN-RESULTS ", 0.3)
        return "OK\n"
    if cmd == "STATUS":
        s = ("bssid=%(bssid)s\nfreq=%(freq)s\nssid=%(ssid)s\nid=%(id)d\nmode=station\nkey_mgmt=%(key_mgmt)s\n"
             "wpa_state=%(wpa_state)s\naddress=02:00:00:00:09:00\n") % state
        return s
    if cmd == "LIST_NETWORKS":
        out = "network id / ssid / bssid / flags\n"
        for k in sorted(networks):
            n = networks[k]
            flags = "[DISABLED]" if n["disabled"] == "1" else ""
            if state["wpa_state"] == "COMPLETED" and state["id"] == k:
                flags += "[CURRENT]"
            out += "%d\t%s\tany\t%s\n" % (k, ssid_text(n.get("ssid", '""')), flags)
        return out
    if cmd == "ADD_NETWORK":
        nid = next_id[0]
        next_id[0] += 1
        networks[nid] = {"disabled": "1", "priority": "0"}
        return "%d\n" % nid
    if w[0] == "SET_NETWORK" and len(w) == 4 and int(w[1]) in networks:
        networks[int(w[1])][w[2]] = w[3]
        return "OK\n"
    if w[0] == "GET_NETWORK" and len(w) == 3 and int(w[1]) in networks:
        return networks[int(w[1])].get(w[2], "FAIL\n")
    if w[0] == "SELECT_NETWORK" and int(w[1]) in networks:
        select(int(w[1]))
        return "OK\n"
    if w[0] == "ENABLE_NETWORK" and int(w[1]) in networks:
        networks[int(w[1])]["disabled"] = "0"
        if state["wpa_state"] == "DISCONNECTED":
            reconnect_best()
        return "OK\n"
    if w[0] == "REMOVE_NETWORK" and int(w[1]) in networks:
        del networks[int(w[1])]
        if state["id"] == int(w[1]):
            state["wpa_state"] = "DISCONNECTED"
            reconnect_best()
        return "OK\n"
    if cmd == "SAVE_CONFIG":
        saved[:] = [ssid_text(n.get("ssid", '""')) + ":" + n.get("priority", "0") for _, n in sorted(networks.items())]
        log("SAVED", " ".join(saved))
        return "OK\n"
    if cmd == "DISCONNECT":
        state["wpa_state"] = "DISCONNECTED"
        return "OK\n"
    if cmd == "RECONNECT":
        if state["wpa_state"] == "DISCONNECTED":
            reconnect_best()
        return "OK\n"
    return "UNKNOWN COMMAND\n"


log("READY")
while True:
    data, addr = sock.recvfrom(4096)
    cmd = data.decode(errors="replace").strip()
    log("REQ", cmd)
    with lock:
        reply = handle(cmd, addr)
    if reply is None:
        continue
    try:
        sock.sendto(reply.encode(), addr)
    except OSError:
        # The client went away before its reply (killed in the crash-safety checks).
        log("GONE", addr)
