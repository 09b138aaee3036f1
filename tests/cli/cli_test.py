#!/usr/bin/env python3
"""Integration tests of the wifiprov CLI: the real binary, driven as a process.

Usage: cli_test.py --wifiprov PATH [--wifiprovd PATH] CASE

Cases named fake_* talk to tests/cli/fakedev.py (a scripted security-0 device that
records the HTTP requests); cases named daemon_* start the real wifiprovd with the
simulated Wi-Fi backend on a free loopback port. Every wait is bounded; every process
started is killed at the end. Standard library only.
"""

import argparse
import hashlib
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakedev  # noqa: E402

WIFIPROV = None
WIFIPROVD = None
CONSOLE_DEVICE = None
CASES = {}

# RFC 5054 3072-bit group, g = 5 (PROTOCOL.md §6.1)
N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF")


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run(args, timeout=30, env=None, stdin_data=None):
    """Runs wifiprov; returns (exit code, stdout, stderr). Bounded by timeout."""
    e = dict(os.environ)
    for k in ("WIFIPROV_POP", "WIFIPROV_PASSWORD", "WIFIPROV_PASSPHRASE"):
        e.pop(k, None)
    if env:
        e.update(env)
    p = subprocess.run([WIFIPROV] + args, input=stdin_data if stdin_data is not None else b"",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=e)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def run_json(args, want_rc, **kw):
    rc, out, err = run(args + ["--json"], **kw)
    check(rc == want_rc, "exit code %d, expected %d\nstdout: %s\nstderr: %s" % (rc, want_rc, out, err))
    lines = [l for l in out.splitlines() if l.strip()]
    check(len(lines) >= 1, "no JSON output; stderr: %s" % err)
    try:
        obj = json.loads(lines[-1])
    except ValueError:
        raise Fail("last stdout line is not JSON: %r" % lines[-1])
    check(isinstance(obj, dict), "result is not an object")
    check(obj.get("ok") is (want_rc == 0), "ok=%r with exit code %d" % (obj.get("ok"), rc))
    if want_rc != 0:
        check(obj.get("exit_code") == want_rc, "exit_code field %r" % obj.get("exit_code"))
    return obj, lines[:-1], err


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def addr(dev, sec0=True):
    """The fake device's address; it is a security-0 device, which wifiprov uses only when told (--sec 0)."""
    return ["--address", "127.0.0.1:%d" % dev.port] + (["--sec", "0"] if sec0 else [])


# ---------------------------------------------------------------------------
# Without any device
# ---------------------------------------------------------------------------

@case
def usage_no_args():
    rc, out, err = run([])
    check(rc == 2, "exit %d" % rc)
    check("Usage:" in err, "no usage text")


@case
def usage_help_lists_exit_codes():
    rc, out, err = run(["--help"])
    check(rc == 0, "exit %d" % rc)
    for code in range(9):
        check(re.search(r"^\s+%d\s+\S" % code, out, re.M), "exit code %d not documented in --help" % code)


@case
def usage_errors():
    for args in (["provision", "--bogus"], ["--sec", "3", "status"], ["frobnicate"],
                 ["status", "--transport", "carrier-pigeon"], ["status", "--address", "host:99999"],
                 ["status", "--timeout", "-1"], ["status", "--transport", "ble"]):
        rc, out, err = run(args)
        check(rc == 2, "%s: exit %d, expected 2 (%s)" % (args, rc, err.strip()))
        check(err.strip(), "%s: no message" % args)


@case
def docs_options_in_sync():
    """Every long option of cli/options.c is in the man page, the bash completion and --help."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    src = open(os.path.join(root, "cli", "options.c")).read()
    opts = re.findall(r'\{ "([a-z0-9_-]+)", (?:no|required)_argument', src)
    check(len(opts) > 30, "found only %d options in options.c" % len(opts))
    man = open(os.path.join(root, "docs", "wifiprov.1")).read().replace("\\-", "-")
    comp = open(os.path.join(root, "completions", "wifiprov.bash")).read()
    mig = open(os.path.join(root, "docs", "migrating-from-esp_prov.md")).read()
    rc, helptext, _ = run(["--help"])
    for o in opts:
        if o in ("service-name", "proto-ver"):
            continue  # dash spellings of esp_prov aliases, accepted quietly
        check(re.search(r"--%s(?![\w-])" % re.escape(o), man), "--%s missing from docs/wifiprov.1" % o)
        check(re.search(r"--%s(?![\w-])" % re.escape(o), comp), "--%s missing from completions/wifiprov.bash" % o)
        check(re.search(r"--%s(?![\w-])" % re.escape(o), helptext), "--%s missing from --help" % o)
    for o in ("sec_ver", "service_name", "sec2_username", "sec2_pwd", "custom_data", "proto_ver", "sec2_gen_cred",
              "sec2_salt_len", "reset", "reprov"):
        check("--" + o in mig, "esp_prov option --%s missing from the migration guide" % o)
    for code in range(9):
        check(re.search(r"^\.B %d$" % code, man, re.M), "exit code %d not in the man page" % code)


@case
def usage_errors_json():
    """--json: one JSON object on stdout for usage errors too, and a did-you-mean for commands."""
    for args, want in ((["provision", "--bogus"], "--bogus"), (["status", "--timeout", "x"], "--timeout"),
                       (["stauts"], "did you mean 'status'"), (["--sec", "3", "status"], "--sec")):
        rc, out, err = run(args + ["--json"])
        lines = [l for l in out.splitlines() if l.strip()]
        check(rc == 2 and len(lines) == 1, "%s: exit %d, stdout %r" % (args, rc, out))
        obj = json.loads(lines[0])
        check(obj["ok"] is False and obj["error"] == "usage" and obj["exit_code"] == 2, obj)
        check(want in obj["message"], "%s: %s" % (args, obj["message"]))
        check(err == "", "%s: stderr %r" % (args, err))
    for word, near in (("provison", "provision"), ("sacn", "scan"), ("gencred", "gen-cred"), ("rest", "reset")):
        rc, out, err = run([word])
        check(rc == 2 and ("did you mean '%s'" % near) in err, "%s: %d %s" % (word, rc, err))
    rc, out, err = run(["xyzzy"])
    check(rc == 2 and "did you mean" not in err, err)


@case
def transport_refused():
    port = free_port()
    obj, _, _ = run_json(["status", "--sec", "0", "--address", "127.0.0.1:%d" % port], 3)
    check(obj["error"] == "transport", obj)
    rc, out, err = run(["status", "--sec", "0", "--address", "127.0.0.1:%d" % port])
    check(rc == 3 and "127.0.0.1:%d" % port in err, (rc, err))
    check("PROV_" in err and "wifiprovd" in err, "no hint for a refused connection: %s" % err)
    # A URL is understood as an address.
    for url in ("http://127.0.0.1:%d" % port, "HTTP://127.0.0.1:%d/" % port):
        rc, out, err = run(["status", "--sec", "0", "--address", url])
        check(rc == 3 and "127.0.0.1:%d" % port in err, (url, rc, err))
    for bad in ("https://127.0.0.1:%d" % port, "http://127.0.0.1:%d/prov" % port):
        rc, out, err = run(["status", "--sec", "0", "--address", bad])
        check(rc == 2, (bad, rc, err))
    rc, out, err = run(["status", "--sec", "0", "--address", "https://127.0.0.1"])
    check("plain HTTP" in err, err)


@case
def gencred_format():
    rc, out, err = run(["gen-cred", "--username", "wifiprov", "--password", "abcd1234"])
    check(rc == 0, "exit %d: %s" % (rc, err))
    lines = out.split("\n")
    check(lines[0] == "==== Salt-verifier for security scheme 2 (SRP6a) ====", lines[0])
    arrays, i = {}, 1
    for name in ("sec2_salt", "sec2_verifier"):
        check(lines[i] == "static const char %s[] = {" % name, lines[i])
        i += 1
        body = []
        while lines[i] != "};":
            body.append(lines[i])
            i += 1
        i += 1
        check(lines[i] == "", "no blank line after %s" % name)
        i += 1
        for j, l in enumerate(body):
            last = j == len(body) - 1
            entries = l[4:].split(", ")
            check(l.startswith("    ") and not l.startswith("     "), "indent: %r" % l)
            if last:
                check(not l.endswith(","), "last line ends with a comma: %r" % l)
                check(1 <= len(entries) <= 16, l)
            else:
                check(l.endswith(", "), "line without trailing ', ': %r" % l)
                entries = l[4:-2].split(", ")
                check(len(entries) == 16, "%d entries: %r" % (len(entries), l))
            for e in entries:
                check(re.fullmatch(r"0x[0-9a-f]{2}", e), "entry %r" % e)
        arrays[name] = bytes(int(e, 16) for l in body for e in l.strip().rstrip(",").split(", ") if e)
    check(i == len(lines) - 1 and lines[i] == "", "trailing output: %r" % lines[i:])
    salt, ver = arrays["sec2_salt"], arrays["sec2_verifier"]
    check(len(salt) == 16 and salt[0] != 0, "salt %s" % salt.hex())
    check(ver[0] != 0, "verifier printed with a leading zero byte")
    # v = g^x mod N with x = H(s | H(I ":" p)) (PROTOCOL.md §6.2)
    x = int.from_bytes(hashlib.sha512(salt + hashlib.sha512(b"wifiprov:abcd1234").digest()).digest(), "big")
    v = pow(5, x, int(N_HEX, 16))
    check(int.from_bytes(ver, "big") == v, "the verifier is not g^x mod N")
    rc2, out2, _ = run(["gen-cred", "--username", "wifiprov", "--password", "abcd1234"])
    check(rc2 == 0 and out2 != out, "two runs gave the same salt")


@case
def gencred_salt_len_and_aliases():
    # esp_prov spelling: --sec_ver 2 --sec2_gen_cred --sec2_username --sec2_pwd --sec2_salt_len
    rc, out, err = run(["--transport", "softap", "--sec_ver", "2", "--sec2_gen_cred", "--sec2_username", "u",
                        "--sec2_pwd", "secret-pass", "--sec2_salt_len", "20"])
    check(rc == 0, "exit %d: %s" % (rc, err))
    salt_lines = out.split("static const char sec2_salt[] = {\n")[1].split("};")[0]
    check(len(re.findall(r"0x[0-9a-f]{2}", salt_lines)) == 20, salt_lines)
    check("secret-pass" not in out + err, "password printed")


@case
def gencred_incompatible():
    # SHA-512("wifiprov:pw69") starts with 0x00 (PROTOCOL.md P7)
    check(hashlib.sha512(b"wifiprov:pw69").digest()[0] == 0, "test premise")
    rc, out, err = run(["gen-cred", "--username", "wifiprov", "--password", "pw69"])
    check(rc == 2, "exit %d" % rc)
    check("esp_prov" in err and "another password" in err, err)
    check("static const" not in out, "arrays printed anyway")


@case
def gencred_out_file():
    d = tempfile.mkdtemp(prefix="wifiprov-cli-")
    try:
        path = os.path.join(d, "verifier.json")
        rc, out, err = run(["gen-cred", "--username", "dev", "--out", path], env={"WIFIPROV_PASSWORD": "hunter22"})
        check(rc == 0, "exit %d: %s" % (rc, err))
        st = os.stat(path)
        check(stat.S_IMODE(st.st_mode) == 0o600, "mode %o" % stat.S_IMODE(st.st_mode))
        with open(path) as f:
            doc = json.load(f)
        check(set(doc) == {"username", "salt", "verifier"}, doc.keys())
        check(doc["username"] == "dev", doc)
        check(len(doc["verifier"]) == 768, "verifier length %d" % len(doc["verifier"]))
        printed = "".join(re.findall(r"0x([0-9a-f]{2})", out.split("sec2_verifier")[1]))
        check(doc["verifier"].lstrip("0") == printed.lstrip("0"), "file and printout disagree")
        printed_salt = "".join(re.findall(r"0x([0-9a-f]{2})", out.split("sec2_verifier")[0]))
        check(doc["salt"] == printed_salt, "salt differs")
        check("hunter22" not in open(path).read(), "password in the file")
        # An existing file is not replaced without --force.
        before = open(path).read()
        rc, out, err = run(["gen-cred", "--username", "dev", "--out", path], env={"WIFIPROV_PASSWORD": "other-pw"})
        check(rc == 2 and "--force" in err, "overwrite: exit %d: %s" % (rc, err))
        check(open(path).read() == before, "file replaced without --force")
        check(os.listdir(d) == ["verifier.json"], "left behind: %s" % os.listdir(d))
        rc, out, err = run(["gen-cred", "--username", "dev2", "--out", path, "--force"],
                           env={"WIFIPROV_PASSWORD": "other-pw"})
        check(rc == 0 and json.load(open(path))["username"] == "dev2", "--force: exit %d: %s" % (rc, err))
        check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "mode after --force")
    finally:
        shutil.rmtree(d)


def decode_qr_blocks(text):
    """Half-block rendering -> matrix of light (True) / dark (False) modules."""
    rows = []
    for line in text.rstrip("\n").split("\n"):
        top, bottom = [], []
        for ch in line:
            t, b = {" ": (False, False), "\u2584": (False, True), "\u2580": (True, False),
                    "\u2588": (True, True)}[ch]
            top.append(t)
            bottom.append(b)
        rows.append(top)
        rows.append(bottom)
    return rows


@case
def qr_render():
    payload = '{"ver":"v1","name":"PROV_EA69FC","pop":"abcd1234","transport":"softap"}'
    for bad in ('{bad', '"a string"', '[1, 2]'):
        rc, out, err = run(["qr", bad])
        check(rc == 2 and "JSON object" in err and out == "", "qr %r: exit %d %r %r" % (bad, rc, out, err))
    rc, out, err = run(["qr", payload])
    check(rc == 0, "exit %d: %s" % (rc, err))
    m = decode_qr_blocks(out)
    width = len(m[0])
    check(all(len(r) == width for r in m), "ragged rows")
    size = width - 4  # 2-module quiet zone each side
    check(size >= 21 and (size - 21) % 4 == 0, "size %d is not a QR size" % size)
    check(len(m) in (width, width + 1), "rows %d for width %d" % (len(m), width))

    def dark(x, y):
        return not m[y + 2][x + 2]
    for ox, oy in ((0, 0), (size - 7, 0), (0, size - 7)):
        for y in range(7):
            for x in range(7):
                ring = max(abs(x - 3), abs(y - 3))
                check(dark(ox + x, oy + y) == (ring != 2), "finder pattern at %d,%d broken" % (ox, oy))
    obj, _, _ = run_json(["qr", payload], 0)
    check(obj["modules"] == size, "JSON size %r vs drawn %d" % (obj["modules"], size))
    check("abcd1234" not in json.dumps(obj), "PoP in the JSON output")
    # Built from options: same payload, same picture.
    rc2, out2, _ = run(["qr", "--name", "PROV_EA69FC", "--pop", "abcd1234", "--transport", "softap"])
    check(rc2 == 0 and out2 == out, "payload built from options differs from the §10 JSON")
    rc3, _, err3 = run(["qr"])
    check(rc3 == 2, "qr without payload or --name: exit %d" % rc3)


# ---------------------------------------------------------------------------
# Against the scripted security-0 device
# ---------------------------------------------------------------------------

@case
def fake_http_cookie_keepalive():
    with fakedev.FakeDevice(status_before_apply=fakedev.STATUS_CONNECTED) as dev:
        obj, _, err = run_json(["status"] + addr(dev), 0)
        check(obj["state"] == "connected" and obj["ip"] == "192.168.1.42", obj)
        check(obj["ssid"] == "myssid" and obj["bssid"] == "78:8a:20:84:19:96" and obj["channel"] == 6, obj)
        check(obj["security"] == 0, "security %r" % obj.get("security"))
        reqs = dev.requests
        check([r["ep"] for r in reqs] == ["proto-ver", "prov-session", "prov-config"], [r["ep"] for r in reqs])
        check(all(r["conn"] == reqs[0]["conn"] for r in reqs), "requests used %d connections" % dev.conns)
        for i, r in enumerate(reqs):
            h = r["headers"]
            check(r["method"] == "POST" and len(r["body"]) >= 1, "request %d: %s, %d bytes" % (i, r["method"],
                                                                                              len(r["body"])))
            check(("content-type", "application/x-www-form-urlencoded") in h, h)
            check(("accept", "text/plain") in h, h)
            cookies = [v for k, v in h if k == "cookie"]
            if i == 0:
                check(cookies == [], "cookie before the device set one: %s" % cookies)
            else:
                check(cookies == ["session=3141592653"], "cookie header %r" % cookies)


@case
def fake_sec_autodetect_nonjson():
    with fakedev.FakeDevice(version=b"v1.1", status_before_apply=fakedev.STATUS_CONNECTED) as dev:
        obj, _, _ = run_json(["status"] + addr(dev, sec0=False), 2)
        check("--sec" in obj["message"], obj["message"])
        check([r["ep"] for r in dev.requests] == ["proto-ver"], "went on after a non-JSON version")
        obj, _, _ = run_json(["status"] + addr(dev), 0)
        check(obj["state"] == "connected", obj)


@case
def fake_sec_autodetect_legacy():
    """A JSON reply without sec_ver (ESP-IDF v4.x): 0 with no_sec, else 1, as esp_prov; 0 only when asked."""
    with fakedev.FakeDevice(version=b'{"prov":{"ver":"v1.1","cap":["no_sec","wifi_scan"]}}',
                            status_before_apply=fakedev.STATUS_CONNECTED) as dev:
        obj, _, _ = run_json(["status"] + addr(dev, sec0=False), 4)
        check(obj["reason"] == "Downgrade" and "--sec 0" in obj["message"], obj)
        check([r["ep"] for r in dev.requests] == ["proto-ver"], "went on with security 0")
        obj, _, _ = run_json(["status"] + addr(dev), 0)
        check(obj["security"] == 0, obj)
    with fakedev.FakeDevice(version=b'{"prov":{"ver":"v1.1","cap":["wifi_scan"]}}') as dev:
        # The scripted device only speaks security 0: it drops the security-1 Cmd0.
        obj, _, _ = run_json(["status", "--pop", "abcd1234"] + addr(dev, sec0=False), 3)
        check(obj["security"] == 1, obj)
        body = dev.requests[1]["body"]
        check(dev.requests[1]["ep"] == "prov-session" and body[:3] == bytes.fromhex("10015a"),
              "not a security-1 Cmd0: %s" % body.hex())


@case
def fake_no_downgrade():
    """A device (or an impostor) claiming a weaker scheme than the user's secrets imply gets nothing."""
    sec1_version = b'{"prov":{"ver":"v1.1","sec_ver":1,"cap":["wifi_scan"]}}'
    with fakedev.FakeDevice(status_before_apply=fakedev.STATUS_CONNECTED) as dev:
        for secrets, needs in ((["--pop", "abcd1234"], "security 1"), (SEC2, "security 2"),
                               (["--password", "abcd1234"], "security 2"), ([], "--sec 0")):
            del dev.requests[:]
            obj, _, _ = run_json(["provision", "--ssid", "myssid", "--passphrase", "home-pass"] + secrets
                                 + addr(dev, sec0=False), 4)
            check(obj["error"] == "auth" and obj["reason"] == "Downgrade", obj)
            check("security 0" in obj["message"] and needs in obj["message"], obj["message"])
            check([r["ep"] for r in dev.requests] == ["proto-ver"], "sent more than proto-ver: %s" % dev.requests)
            check(dev.set_config is None, "credentials sent: %r" % (dev.set_config,))
        # An explicit --sec below the secrets is a usage error; --sec 0 or a QR code saying sec0 are fine.
        obj, _, _ = run_json(["status", "--pop", "abcd1234"] + addr(dev), 2)
        check(obj["reason"] == "WeakerThanSecrets" and "--sec 0" in obj["message"], obj)
        obj, _, _ = run_json(["status"] + addr(dev), 0)
        qr = '{"ver":"v1","name":"PROV_123456","transport":"softap","security":0}'
        obj, _, _ = run_json(["status", "--qr", qr] + addr(dev, sec0=False), 0)
        check(obj["security"] == 0, obj)
        qr = '{"ver":"v1","name":"PROV_123456","pop":"abcd1234","transport":"softap"}'
        obj, _, _ = run_json(["status", "--qr", qr] + addr(dev, sec0=False), 4)
        check(obj["reason"] == "Downgrade", obj)
    with fakedev.FakeDevice(version=sec1_version) as dev:
        obj, _, _ = run_json(["status"] + SEC2 + addr(dev, sec0=False), 4)
        check(obj["reason"] == "Downgrade" and "security 1" in obj["message"], obj)
        check([r["ep"] for r in dev.requests] == ["proto-ver"], dev.requests)


@case
def fake_wrong_sec_names_scheme():
    """--sec 1 against a device announcing security 0: say which scheme it uses, not a transport error."""
    with fakedev.FakeDevice() as dev:
        obj, _, _ = run_json(["status", "--sec", "1", "--pop", "abcd1234"] + addr(dev, sec0=False), 2)
        check(obj["reason"] == "WrongSecurity" and "uses security 0" in obj["message"], obj)


@case
def fake_transport_dropped():
    with fakedev.FakeDevice(drop="prov-session") as dev:
        obj, _, _ = run_json(["status"] + addr(dev), 3)
        check(obj["error"] == "transport" and "closed the connection" in obj["message"], obj)


@case
def fake_transport_http_status():
    with fakedev.FakeDevice(http_status={"prov-config": 404}) as dev:
        obj, _, _ = run_json(["status"] + addr(dev), 3)
        check("404" in obj["message"], obj["message"])


@case
def fake_provision_json_progress():
    with fakedev.FakeDevice(connect_ms=300, attempt_failed=True) as dev:
        obj, progress, err = run_json(["provision", "--ssid", "myssid", "--passphrase", "mypassword",
                                       "--progress"] + addr(dev), 0)
        check(dev.set_config == (b"myssid", b"mypassword"), "SetConfig carried %r" % (dev.set_config,))
        check(obj["command"] == "provision" and obj["state"] == "connected", obj)
        check(obj["ip"] == "192.168.1.42" and obj["bssid"] == "78:8a:20:84:19:96" and obj["channel"] == 6, obj)
        check(isinstance(obj["elapsed_ms"], (int, float)), obj)
        events = [json.loads(l) for l in progress]
        names = [e["event"] for e in events]
        check(names[0] == "session" and "applied" in names, names)
        wifi = [e for e in events if e["event"] == "wifi"]
        check(wifi and wifi[0]["state"] == "connecting" and wifi[0].get("attempts_remaining") == 3, wifi)
        check(wifi[-1]["state"] == "connected", wifi)
        check(len(wifi) == len({(e["state"], e.get("attempts_remaining")) for e in wifi}),
              "progress repeated an unchanged state: %s" % wifi)
        eps = [r["ep"] for r in dev.requests]
        check(eps[:4] == ["proto-ver", "prov-session", "prov-config", "prov-config"], eps)


@case
def fake_poll_latency():
    """The client keeps polling GetStatus at its short interval (20 ms growing to 100 ms at most) for as long
    as the device connects, so the outcome reaches the user soon after the device knows it. Checked on the
    shape of the polling, with bounds a loaded machine keeps (the lag itself is printed; figures: bench/):
    after 3 s of connecting, a backing-off interval without its cap (x1.2 or more a poll) would be past
    600 ms, and the outcome would wait as long."""
    with fakedev.FakeDevice(connect_ms=3000) as dev:
        rc, out, err = run(["provision", "--ssid", "myssid", "--passphrase", "x" * 8] + addr(dev))
        check(rc == 0, "exit %d: %s" % (rc, err))
        status = [r for r in dev.requests if r["ep"] == "prov-config"][2:]
        after = [r["t"] for r in status if r["t"] >= dev.outcome_at]
        check(after, "no GetStatus after the outcome")
        lag = after[0] - dev.outcome_at
        gaps = [b["t"] - a["t"] for a, b in zip(status, status[1:])]
        late = sorted(b["t"] - a["t"] for a, b in zip(status, status[1:]) if b["t"] >= dev.outcome_at - 1.0)
        check(len(status) >= 10, "only %d GetStatus in 3 s of connecting" % len(status))
        check(late and late[len(late) // 2] <= 0.4,
              "the poll interval grew: median %.0f ms in the last second" % (late[len(late) // 2] * 1000))
        check(lag <= 1.5, "outcome noticed %.0f ms after the device knew it" % (lag * 1000))
        print("poll lag %.1f ms, %d GetStatus in 3000 ms, longest gap %.0f ms" %
              (lag * 1000, len(status), max(gaps) * 1000))


@case
def fake_provision_wifi_failures():
    for outcome, reason, words in (("auth", "AuthError", "passphrase"), ("notfound", "NetworkNotFound", "SSID")):
        with fakedev.FakeDevice(outcome=outcome, connect_ms=50) as dev:
            obj, _, _ = run_json(["provision", "--ssid", "myssid", "--passphrase", "wrongpass"] + addr(dev), 5)
            check(obj["error"] == "wifi" and obj["reason"] == reason, obj)
            check(words in obj["message"], obj["message"])
            rc, out, err = run(["provision", "--ssid", "myssid", "--passphrase", "wrongpass"] + addr(dev))
            check(rc == 5 and words in err, (rc, err))


@case
def fake_connection_lost_while_polling():
    # requests: 0 proto-ver, 1 session, 2 SetConfig, 3 Apply, 4.. GetStatus: drop the 2nd GetStatus and
    # libcurl's own retry of it on a fresh connection.
    with fakedev.FakeDevice(connect_ms=300, drop_requests={5, 6}) as dev:
        obj, progress, err = run_json(["provision", "--ssid", "myssid", "--passphrase", "mypassword", "--progress"]
                                      + addr(dev), 0)
        check(obj["state"] == "connected", obj)
        events = [json.loads(l)["event"] for l in progress]
        check("reconnect" in events, events)
        eps = [r["ep"] for r in dev.requests]
        check(eps[7] == "prov-session" and eps.count("prov-session") == 2, eps)
        check(dev.conns == 3, "%d connections" % dev.conns)
    # A device that is gone for good: transport error, bounded.
    with fakedev.FakeDevice(connect_ms=5000, drop_requests=set(range(5, 100))) as dev:
        obj, _, _ = run_json(["provision", "--ssid", "myssid", "--passphrase", "mypassword"] + addr(dev), 3)


@case
def fake_provision_timeout():
    with fakedev.FakeDevice(outcome="never") as dev:
        t0 = time.monotonic()
        obj, _, _ = run_json(["provision", "--ssid", "myssid", "--passphrase", "pw123456", "--timeout", "1"]
                             + addr(dev), 6)
        took = time.monotonic() - t0
        check(obj["error"] == "timeout", obj)
        check(took < 3, "took %.1f s with --timeout 1" % took)


@case
def fake_debug_hides_secrets():
    with fakedev.FakeDevice() as dev:
        secret = "Sup3rSecretPass"
        rc, out, err = run(["provision", "--ssid", "myssid", "--passphrase", secret, "--debug"] + addr(dev))
        check(rc == 0, "exit %d: %s" % (rc, err))
        check("debug:" in err, "--debug printed nothing")
        for form in (secret, secret.encode().hex()):
            check(form not in out and form not in err, "passphrase shown (%s)" % form)
        check(dev.set_config == (b"myssid", secret.encode()), dev.set_config)


@case
def fake_secret_sources():
    with fakedev.FakeDevice() as dev:
        d = tempfile.mkdtemp(prefix="wifiprov-cli-")
        try:
            f = os.path.join(d, "pp")
            with open(f, "w") as fh:
                fh.write("from-file-pass\n")
            rc, _, err = run(["provision", "--ssid", "myssid", "--passphrase-file", f] + addr(dev))
            check(rc == 0 and dev.set_config[1] == b"from-file-pass", (rc, err, dev.set_config))
            rc, _, err = run(["provision", "--ssid", "myssid"] + addr(dev), env={"WIFIPROV_PASSPHRASE": "env-pass"})
            check(rc == 0 and dev.set_config[1] == b"env-pass", (rc, err, dev.set_config))
            rc, _, err = run(["provision", "--ssid", "myssid"] + addr(dev))
            check(rc == 2 and "passphrase" in err, "no passphrase and no terminal: exit %d %s" % (rc, err))
        finally:
            shutil.rmtree(d)


@case
def fake_esp_prov_invocation():
    with fakedev.FakeDevice() as dev:
        rc, out, err = run(["--transport", "softap", "--service_name", "127.0.0.1:%d" % dev.port, "--sec_ver", "0",
                            "--ssid", "myssid", "--passphrase", "mypassword", "--custom_data", "hello"])
        check(rc == 0, "exit %d: %s" % (rc, err))
        for msg in ("==== Starting Session ====", "==== Session Established ====",
                    "==== Provisioning was successful ===="):
            check(msg in out, "esp_prov's %r missing from stdout" % msg)
        eps = [r["ep"] for r in dev.requests]
        check(eps[2] == "custom-data" and eps[3] == "prov-config", "custom data not sent first: %s" % eps)
        check(dev.requests[2]["body"] == b"hello", dev.requests[2]["body"])
        check(dev.set_config == (b"myssid", b"mypassword"), dev.set_config)
        rc, out, err = run(["--transport", "httpd", "--service_name", "127.0.0.1:%d" % dev.port, "--sec_ver", "0",
                            "--proto_ver", "v1.1", "--reset"])
        check(rc == 0, "esp_prov --reset: exit %d: %s" % (rc, err))
        check(dev.requests[-1]["ep"] == "prov-ctrl" and dev.requests[-1]["body"] == bytes.fromhex("0801"),
              dev.requests[-1])
        rc, out, err = run(["--transport", "softap", "--service_name", "127.0.0.1:%d" % dev.port,
                            "--proto_ver", "v9.9", "--reset"])
        check(rc == 1 and "protocol version" in err, "version mismatch: exit %d %s" % (rc, err))


@case
def fake_custom_and_version():
    with fakedev.FakeDevice() as dev:
        obj, _, _ = run_json(["custom", "--custom-data", "hello"] + addr(dev), 0)
        check(obj["reply"] == "SUCCESS" and obj["reply_hex"] == "5355434345535300", obj)
        rc, out, err = run(["custom"] + addr(dev), stdin_data=b"from stdin")
        check(rc == 0 and out.strip() == "SUCCESS", (rc, out, err))
        check(dev.requests[-1]["body"] == b"from stdin", dev.requests[-1]["body"])
        obj, _, _ = run_json(["version"] + addr(dev), 0)
        check(obj["sec_ver"] == 0 and obj["caps"] == ["no_sec", "wifi_scan"] and obj["ver"] == "v1.1", obj)
        check(obj["raw"] == fakedev.SEC0_VERSION.decode(), obj["raw"])
        check([r["ep"] for r in dev.requests[-1:]] == ["proto-ver"], "version did more than proto-ver")


@case
def fake_scan_table_and_json():
    with fakedev.FakeDevice() as dev:
        obj, _, _ = run_json(["scan"] + addr(dev), 0)
        nets = obj["networks"]
        check([n["ssid"] for n in nets] == ["MyHomeWiFiAP", "InsecureWiFiAP"], nets)
        check(nets[0]["rssi"] == -45 and nets[0]["auth"] == "WPA2_PSK" and nets[0]["channel"] == 1, nets[0])
        check(nets[1]["bssid"] == "dc:a4:ca:f1:22:7c" and nets[1]["auth"] == "Open", nets[1])
        rc, out, err = run(["scan"] + addr(dev))
        check(rc == 0, err)
        rows = [l for l in out.splitlines() if l.startswith("[")]
        check(len(rows) == 2 and "MyHomeWiFiAP" in rows[0] and "-45" in rows[0], out)
        check(re.search(r"S\.N\.\s+SSID\s+BSSID\s+CHN\s+RSSI\s+AUTH", out), out)


class Pty:
    """wifiprov on a pseudo-terminal, with bounded expect()."""

    def __init__(self, args, env=None):
        e = dict(os.environ)
        for k in ("WIFIPROV_POP", "WIFIPROV_PASSWORD", "WIFIPROV_PASSPHRASE"):
            e.pop(k, None)
        e.update(env or {})
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(WIFIPROV, [WIFIPROV] + args, e)
            finally:
                os._exit(127)
        self.buf = b""

    def expect(self, pattern, timeout=10):
        end = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = end - time.monotonic()
            if left <= 0:
                raise Fail("timed out waiting for %r; got %r" % (pattern, self.buf[-500:]))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    d = os.read(self.fd, 4096)
                except OSError:
                    d = b""
                if not d:
                    raise Fail("EOF waiting for %r; got %r" % (pattern, self.buf[-500:]))
                self.buf += d

    def send(self, s):
        os.write(self.fd, s.encode())

    def wait(self, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = 0
                return os.waitstatus_to_exitcode(status)
            try:
                r, _, _ = select.select([self.fd], [], [], 0.05)
                if r:
                    self.buf += os.read(self.fd, 4096)
            except OSError:
                time.sleep(0.05)
        raise Fail("wifiprov did not exit")

    def close(self):
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@case
def fake_interactive_select():
    with fakedev.FakeDevice(outcome="auth", connect_ms=20) as dev:
        p = Pty(["provision", "--address", "127.0.0.1:%d" % dev.port, "--sec", "0", "--passphrase", "SecretPass42"])
        try:
            p.expect(rb"S\.N\.\s+SSID")
            with open("/proc/%d/cmdline" % p.pid, "rb") as f:
                cmdline = f.read()
            check(b"--passphrase" in cmdline and b"SecretPass42" not in cmdline, "secret left in argv: %r" % cmdline)
        finally:
            p.close()
        del dev.requests[:]
        p = Pty(["provision", "--address", "127.0.0.1:%d" % dev.port, "--sec", "0"])
        try:
            p.expect(rb"S\.N\.\s+SSID")
            p.expect(rb"MyHomeWiFiAP")
            p.expect(rb"InsecureWiFiAP")
            p.expect(rb"Select AP by number \(0 to rescan\) : ")
            p.send("7\n")
            p.expect(rb"Invalid input! Retry")
            p.expect(rb"Select AP by number")
            p.send("0\n")  # rescan
            p.expect(rb"MyHomeWiFiAP")
            p.expect(rb"Select AP by number")
            p.send("1\n")
            p.expect(rb"Enter passphrase for MyHomeWiFiAP : ")
            p.send("wrong-one\n")
            p.expect(rb"passphrase is probably wrong")
            p.expect(rb"try another passphrase\? \[y/N\] ")
            p.send("y\n")
            p.expect(rb"Enter passphrase for MyHomeWiFiAP : ")
            p.send("right-one\n")
            p.expect(rb"Connected to ")
            rc = p.wait()
            check(rc == 0, "exit %d" % rc)
            check(b"wrong-one" not in p.buf and b"right-one" not in p.buf, "passphrase echoed")
        finally:
            p.close()
        check(dev.set_config == (b"MyHomeWiFiAP", b"right-one"), dev.set_config)
        eps = [r["ep"] for r in dev.requests]
        check(eps.count("prov-ctrl") == 1, "no Reset before the retry: %s" % eps)
        check(eps.count("prov-scan") >= 6, "no rescan: %s" % eps)


@case
def fake_interactive_open_network():
    with fakedev.FakeDevice() as dev:
        p = Pty(["provision", "--timeout", "1", "--address", "127.0.0.1:%d" % dev.port, "--sec", "0"])
        try:
            p.expect(rb"Select AP by number")
            time.sleep(1.5)  # time at a prompt does not count against --timeout
            p.send("2\n")
            p.expect(rb"Connected to ")
            rc = p.wait()
            check(rc == 0, "exit %d" % rc)
        finally:
            p.close()
        check(dev.set_config == (b"InsecureWiFiAP", b""), "open network: %r" % (dev.set_config,))


class Relay:
    """Passes wifiprov's console lines to an HTTP device, keeping its cookie."""

    def __init__(self, port):
        import http.client
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.cookie = None
        self.seen = []

    def exchange(self, ep, hexdata):
        data = bytes.fromhex(hexdata)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/plain"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        try:
            self.conn.request("POST", "/" + ep, body=data, headers=headers)
            r = self.conn.getresponse()
            body = r.read()
        except Exception:
            self.conn.close()
            return ""
        c = r.getheader("Set-Cookie")
        if c:
            self.cookie = c.split(";")[0]
        self.seen.append(ep)
        return body.hex()


class DeviceRelay:
    """Passes wifiprov's console lines to tests/cli/console_device.c (a console-transport device)."""

    def __init__(self, dev_args):
        if not CONSOLE_DEVICE:
            raise Fail("console_device was not given (--console-device)")
        self.proc = subprocess.Popen([CONSOLE_DEVICE] + dev_args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.seen = []

    def exchange(self, ep, hexdata):
        self.proc.stdin.write(("%s 0 %s\n" % (ep, hexdata)).encode())
        self.proc.stdin.flush()
        r, _, _ = select.select([self.proc.stdout], [], [], 10)
        if not r:
            raise Fail("console_device did not answer %s" % ep)
        self.seen.append(ep)
        return self.proc.stdout.readline().decode().strip()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            f.close()


def run_console(args, port, timeout=30, relay=None):
    """wifiprov --transport console with its stdin/stdout wired to a Relay (HTTP) or a DeviceRelay."""
    relay = relay or Relay(port)
    e = dict(os.environ)
    for k in ("WIFIPROV_POP", "WIFIPROV_PASSWORD", "WIFIPROV_PASSPHRASE"):
        e.pop(k, None)
    p = subprocess.Popen([WIFIPROV, "--transport", "console"] + args, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    out_lines = []
    end = time.monotonic() + timeout
    try:
        for raw in p.stdout:
            if time.monotonic() > end:
                raise Fail("console run took too long")
            line = raw.decode().rstrip("\n")
            m = re.match(r"(?:Enter device->client msg : )?Client->Device msg : (\S+) (\d+) ([0-9a-f]+)$", line)
            if m:
                check(m.group(2) == "0", "session id %s" % m.group(2))
                reply = relay.exchange(m.group(1), m.group(3))
                p.stdin.write((reply + "\n").encode())
                p.stdin.flush()
            else:
                out_lines.append(line)
        p.stdin.close()
        rc = p.wait(timeout=max(1, end - time.monotonic()))
        err = p.stderr.read().decode()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return rc, out_lines, err, relay


@case
def fake_console_transport():
    with fakedev.FakeDevice() as dev:
        rc, out, err, relay = run_console(["provision", "--ssid", "myssid", "--passphrase", "mypassword", "--json",
                                           "--timeout", "20", "--sec", "0"], dev.port)
        check(rc == 0, "exit %d: %s" % (rc, err))
        check(relay.seen[:3] == ["proto-ver", "prov-session", "prov-config"], relay.seen)
        last = out[-1].replace("Enter device->client msg : ", "")
        obj = json.loads(last)
        check(obj["ok"] and obj["state"] == "connected", obj)
        check(dev.set_config == (b"myssid", b"mypassword"), dev.set_config)
    # Input ends: a transport error, not a hang.
    p = subprocess.run([WIFIPROV, "--transport", "console", "status", "--sec", "0"], input=b"",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    check(p.returncode == 3, "EOF on the console: exit %d" % p.returncode)


# ---------------------------------------------------------------------------
# Against the real wifiprovd (simulated Wi-Fi)
# ---------------------------------------------------------------------------

NETWORKS = [
    {"ssid": "TestNet", "bssid": "aa:bb:cc:dd:ee:01", "channel": 6, "rssi": -40, "auth": "wpa2_psk",
     "passphrase": "correct-horse", "connect_ms": 200, "ip": "10.1.2.3"},
    {"ssid": "OpenNet", "bssid": "aa:bb:cc:dd:ee:02", "channel": 1, "rssi": -70, "auth": "open",
     "connect_ms": 100, "ip": "10.1.2.4"},
    {"ssid": "MidNet", "bssid": "aa:bb:cc:dd:ee:03", "channel": 11, "rssi": -55, "auth": "wpa2_psk",
     "passphrase": "middle-pass", "connect_ms": 100, "ip": "10.1.2.5"},
    {"ssid": "SlowNet", "bssid": "aa:bb:cc:dd:ee:04", "channel": 3, "rssi": -80, "auth": "wpa2_psk",
     "passphrase": "slow-pass-1", "connect_ms": 20000, "ip": "10.1.2.6"},
]
SEC2 = ["--username", "wifiprov", "--password", "abcd1234"]


class DaemonProcess:
    """A wifiprovd child (self.proc) with its log file (self.log) in its own directory
    (self.dir): terminated, then killed, and the directory removed on close."""

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def run_case(cases, name):
    """Runs one case of a test script: prints PASS or FAIL; returns its exit status."""
    t0 = time.monotonic()
    try:
        cases[name]()
    except Fail as e:
        print("FAIL %s: %s" % (name, e))
        return 1
    print("PASS %s (%.2f s)" % (name, time.monotonic() - t0))
    return 0


class Daemon(DaemonProcess):
    """wifiprovd --wifi sim on 127.0.0.1:<free port>; killed on exit."""

    def __init__(self, security, extra=(), auto_stop=0, attempts=2, qr=False, networks=None):
        if not WIFIPROVD:
            raise Fail("wifiprovd was not given (--wifiprovd)")
        self.security = security
        self.dir = tempfile.mkdtemp(prefix="wifiprov-cli-")
        net = os.path.join(self.dir, "sim.json")
        with open(net, "w") as f:
            json.dump(NETWORKS if networks is None else networks, f)
        self.log_path = os.path.join(self.dir, "wifiprovd.log")
        args = [WIFIPROVD, "--transport", "http", "--listen", "127.0.0.1:0", "--security", str(security),
                "--wifi", "sim", "--sim-config", net, "--sim-scan-ms", "100", "--state-dir", self.dir,
                "--auto-stop", str(auto_stop), "--connect-attempts", str(attempts)] + \
            (["--qr-stdout"] if qr else ["--no-qr"]) + \
            (["--force-insecure"] if security == 0 and auto_stop == 0 else []) + list(extra)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        end = time.monotonic() + 10
        self.port = None
        while time.monotonic() < end:
            text = open(self.log_path).read()
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
            if m and "Provisioning started" in text:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if not self.port:
            self.close()
            raise Fail("wifiprovd did not start:\n" + open(self.log_path).read())

    def addr(self):
        return ["--address", "127.0.0.1:%d" % self.port] + (["--sec", "0"] if self.security == 0 else [])



def provision_ok(d, creds, ssid="TestNet", passphrase="correct-horse", extra=()):
    obj, progress, err = run_json(["provision", "--ssid", ssid, "--passphrase", passphrase] + creds + d.addr()
                                  + list(extra), 0)
    net = [n for n in NETWORKS if n["ssid"] == ssid][0]
    check(obj["state"] == "connected" and obj["ssid"] == ssid, obj)
    check(obj["ip"] == net["ip"] and obj["bssid"] == net["bssid"] and obj["channel"] == net["channel"], obj)
    return obj, progress


@case
def daemon_provision_sec0():
    with Daemon(0) as d:
        obj, _ = provision_ok(d, [])
        check(obj["security"] == 0, obj)


@case
def daemon_provision_sec1():
    with Daemon(1, ["--pop", "abcd1234"]) as d:
        obj, _, _ = run_json(["provision", "--ssid", "TestNet", "--passphrase", "correct-horse"] + d.addr(), 0,
                             env={"WIFIPROV_POP": "abcd1234"})
        check(obj["security"] == 1 and obj["state"] == "connected", obj)
        obj, _, _ = run_json(["status"] + d.addr(), 2)  # no PoP and no terminal: usage error
        check("--pop" in obj["message"], obj)


@case
def daemon_provision_sec2():
    with Daemon(2, ["--sec2-username", "wifiprov", "--sec2-password", "abcd1234"]) as d:
        pw = os.path.join(d.dir, "pw")
        with open(pw, "w") as f:
            f.write("abcd1234\n")
        obj, progress = provision_ok(d, ["--username", "wifiprov", "--password-file", pw], extra=["--progress"])
        check(obj["security"] == 2, "security %r: must come from prov.sec_ver" % obj.get("security"))
        events = [json.loads(l)["event"] for l in progress]
        check(events[0] == "session" and "applied" in events and events[-1] == "wifi", events)
        # The device keeps answering: status in a new session says connected too.
        obj2, _, _ = run_json(["status"] + SEC2 + d.addr(), 0)
        check(obj2["state"] == "connected" and obj2["ip"] == "10.1.2.3", obj2)


@case
def daemon_wrong_pop():
    with Daemon(1, ["--pop", "abcd1234"]) as d:
        obj, _, _ = run_json(["provision", "--ssid", "TestNet", "--passphrase", "correct-horse", "--pop",
                              "wrong-pop"] + d.addr(), 4)
        check(obj["error"] == "auth" and "proof of possession" in obj["message"], obj)
        rc, out, err = run(["status", "--pop", "nope"] + d.addr())
        check(rc == 4, "text mode: exit %d %s" % (rc, err))


@case
def daemon_wrong_password():
    with Daemon(2, ["--sec2-username", "wifiprov", "--sec2-password", "abcd1234"]) as d:
        obj, _, _ = run_json(["status", "--username", "wifiprov", "--password", "abcd1235"] + d.addr(), 4)
        check(obj["error"] == "auth" and "password" in obj["message"], obj)
        obj, _, _ = run_json(["status", "--username", "someoneelse", "--password", "abcd1234"] + d.addr(), 4)
        # Right credentials; nothing applied yet: not connected (8), with what "Connecting" means.
        obj, _, _ = run_json(["status"] + SEC2 + d.addr(), 8)
        check(obj["state"] == "connecting" and obj["error"] == "not_connected", obj)
        rc, out, err = run(["status"] + SEC2 + d.addr())
        check(rc == 8 and "waiting for credentials" in out, (rc, out, err))


@case
def daemon_wrong_passphrase():
    # Each attempt takes 1.5 s, so the "1 attempt left" state between the two lasts that long: the
    # client polls every 100 ms at most and sees it also on a loaded machine (at 200 ms it could miss it).
    slow = [dict(n, connect_ms=1500) if n["ssid"] == "TestNet" else n for n in NETWORKS]
    with Daemon(2, ["--sec2-username", "wifiprov", "--sec2-password", "abcd1234"], networks=slow) as d:
        obj, progress, _ = run_json(["provision", "--ssid", "TestNet", "--passphrase", "wrong-horse", "--progress"]
                                    + SEC2 + d.addr(), 5)
        check(obj["error"] == "wifi" and obj["reason"] == "AuthError", obj)
        check("passphrase" in obj["message"], obj["message"])
        wifi = [json.loads(l) for l in progress if json.loads(l)["event"] == "wifi"]
        check(any("attempts_remaining" in e for e in wifi), "attempts remaining not reported: %s" % wifi)
        # The failure stays readable from a new session (status exits 5, as provision did)...
        obj, _, _ = run_json(["status"] + SEC2 + d.addr(), 5)
        check(obj["state"] == "failed" and obj["reason"] == "AuthError", obj)
        # ...and, as with the phone apps, the right passphrase is taken without a Reset (reset on failure).
        provision_ok(d, SEC2)
        log = open(d.log_path).read()
        check("reset on failure" in log and "Please reset to factory" not in log, log)


@case
def daemon_no_reset_on_failure():
    # ESP-IDF's manager default: Apply is one-shot until Reset (P18), from the command line or the file.
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write("reset-on-failure = no\n")
    conf.close()
    try:
        for extra in (["--no-reset-on-failure"], ["-c", conf.name]):
            with Daemon(0, extra) as d:
                run_json(["provision", "--ssid", "TestNet", "--passphrase", "wrong-horse"] + d.addr(), 5)
                obj, _, _ = run_json(["provision", "--ssid", "TestNet", "--passphrase", "correct-horse"] + d.addr(), 7)
                check(obj["error"] == "device" and "reset" in obj["message"], obj)
                obj, _, _ = run_json(["status"] + d.addr(), 5)
                check(obj["state"] == "failed" and obj["reason"] == "AuthError", obj)
                run_json(["reset"] + d.addr(), 0)
                provision_ok(d, [])
    finally:
        os.unlink(conf.name)


@case
def daemon_unknown_ssid():
    with Daemon(0) as d:
        obj, _, _ = run_json(["provision", "--ssid", "NoSuchNet", "--passphrase", "whatever1"] + d.addr(), 5)
        check(obj["error"] == "wifi" and obj["reason"] == "NetworkNotFound", obj)
        check("SSID" in obj["message"], obj["message"])


@case
def daemon_scan():
    with Daemon(2, ["--sec2-username", "wifiprov", "--sec2-password", "abcd1234"]) as d:
        obj, _, _ = run_json(["scan"] + SEC2 + d.addr(), 0)
        nets = obj["networks"]
        want = sorted(NETWORKS, key=lambda n: -n["rssi"])
        check([n["ssid"] for n in nets] == [n["ssid"] for n in want], [n["ssid"] for n in nets])
        for got, exp in zip(nets, want):
            check(got["bssid"] == exp["bssid"] and got["channel"] == exp["channel"] and got["rssi"] == exp["rssi"],
                  (got, exp))
        check(nets[1]["auth"] == "WPA2_PSK" and [n for n in nets if n["ssid"] == "OpenNet"][0]["auth"] == "Open",
              nets)
        rc, out, err = run(["scan"] + SEC2 + d.addr())
        rows = [l for l in out.splitlines() if l.startswith("[")]
        check(rc == 0 and len(rows) == len(NETWORKS) and "TestNet" in rows[0], out)


@case
def daemon_status():
    with Daemon(1) as d:  # security 1 without PoP: no_pop
        # A PoP the device claims not to need is not silently dropped (an impostor would claim no_pop).
        obj, _, err = run_json(["status", "--pop", "not-needed"] + d.addr(), 4)
        check(obj["reason"] == "Downgrade" and "no_pop" in obj["message"], obj)
        obj, _, err = run_json(["status"] + d.addr(), 8)
        check(obj["state"] in ("disconnected", "connecting"), obj)
        check("no proof of possession" in err, err)
        provision_ok(d, [], ssid="OpenNet", passphrase="")
        t0 = time.monotonic()
        obj, _, _ = run_json(["status"] + d.addr(), 0)
        took = time.monotonic() - t0
        check(obj["state"] == "connected" and obj["ip"] == "10.1.2.4", obj)
        print("status took %.0f ms" % (took * 1000))


@case
def daemon_busy_device():
    """While one client's credentials are being applied, another client (or a rerun after Ctrl-C) is told
    what the device is doing, not to reset or reprov it (which would clobber the first)."""
    with Daemon(0) as d:
        a = subprocess.Popen([WIFIPROV, "provision", "--ssid", "SlowNet", "--passphrase", "slow-pass-1", "--progress",
                              "--timeout", "30"] + d.addr(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)
        try:
            for line in a.stdout:
                if json.loads(line).get("event") == "applied":
                    break
            a.send_signal(signal.SIGINT)  # Ctrl-C mid-provision
            a.wait(10)
        finally:
            if a.poll() is None:
                a.kill()
                a.wait()
        for attempt in ("second client", "rerun"):
            obj, _, _ = run_json(["provision", "--ssid", "TestNet", "--passphrase", "correct-horse"] + d.addr(), 7)
            msg = obj["message"]
            check(obj["reason"] == "Busy" and "connecting" in msg and "wifiprov status" in msg, (attempt, obj))
            check("reset" not in msg and "reprov" not in msg, "%s: advice that would clobber the attempt: %s"
                  % (attempt, msg))
        obj, _, _ = run_json(["reset"] + d.addr(), 7)
        check(obj["reason"] == "Busy" and "wifiprov status" in obj["message"], obj)


@case
def daemon_passphrase_checks():
    """A WPA passphrase under 8 characters is refused before sending; an enterprise network's failure is not
    blamed on the passphrase alone."""
    corp = {"ssid": "CorpNet", "bssid": "aa:bb:cc:dd:ee:09", "channel": 6, "rssi": -50, "auth": "wpa2_enterprise",
            "connect_ms": 50, "ip": "10.1.2.9"}
    with Daemon(0, networks=NETWORKS + [corp]) as d:
        obj, _, _ = run_json(["provision", "--ssid", "TestNet", "--passphrase", "short"] + d.addr(), 2)
        check(obj["reason"] == "BadPassphrase" and "8 to 63" in obj["message"], obj)
        check("credentials received" not in open(d.log_path).read(), "sent anyway")
        obj, _, _ = run_json(["provision", "--ssid", "CorpNet", "--passphrase", "whatever1"] + d.addr(), 5)
        check(obj["reason"] == "AuthError" and "enterprise" in obj["message"], obj)
        # An open network takes an empty passphrase.
        provision_ok(d, [], ssid="OpenNet", passphrase="")


@case
def daemon_reset_after_failure():
    with Daemon(2, ["--sec2-username", "wifiprov", "--sec2-password", "abcd1234"]) as d:
        obj, _, _ = run_json(["reset"] + SEC2 + d.addr(), 7)
        check(obj["error"] == "device", obj)
        run_json(["provision", "--ssid", "TestNet", "--passphrase", "wrong-horse"] + SEC2 + d.addr(), 5)
        run_json(["reset"] + SEC2 + d.addr(), 0)
        provision_ok(d, SEC2)


@case
def daemon_reprov():
    with Daemon(0) as d:
        provision_ok(d, [], ssid="MidNet", passphrase="middle-pass")
        run_json(["reprov"] + d.addr(), 0)
        provision_ok(d, [], ssid="TestNet")
    with Daemon(0, auto_stop=30) as d:
        # Refused while still waiting for credentials: say so, do not blame auto-stop.
        obj, _, _ = run_json(["reprov"] + d.addr(), 7)
        check("auto-stop" not in obj["message"] and "wifiprov status" in obj["message"], obj)
        check(obj["device_state"] == "connecting", obj)
        provision_ok(d, [], ssid="MidNet", passphrase="middle-pass")


@case
def daemon_custom():
    with Daemon(1, ["--pop", "abcd1234", "--custom-data-command", "tr a-z A-Z"]) as d:
        obj, _, _ = run_json(["custom", "--custom-data", "hello device", "--pop", "abcd1234"] + d.addr(), 0)
        check(obj["reply"] == "HELLO DEVICE", obj)
        rc, out, err = run(["custom", "--pop", "abcd1234"] + d.addr(), stdin_data=b"from stdin")
        check(rc == 0 and out.strip() == "FROM STDIN", (rc, out, err))
        # provision sends it first, then the Wi-Fi config
        obj, progress = provision_ok(d, ["--pop", "abcd1234", "--custom-data", "abc", "--progress"])
        ev = [json.loads(l) for l in progress]
        cd = [e for e in ev if e["event"] == "custom_data"]
        check(cd and bytes.fromhex(cd[0]["reply_hex"]) == b"ABC", ev)
        check([e["event"] for e in ev].index("custom_data") < [e["event"] for e in ev].index("applied"), ev)


@case
def daemon_version():
    with Daemon(1) as d:
        obj, _, _ = run_json(["version"] + d.addr(), 0)
        check(obj["json"] and obj["ver"] == "v1.1" and obj["sec_ver"] == 1 and obj["sec_patch_ver"] == 0, obj)
        check("no_pop" in obj["caps"] and "wifi_scan" in obj["caps"], obj["caps"])
        check(json.loads(obj["raw"])["prov"]["sec_ver"] == 1, obj["raw"])


@case
def daemon_esp_prov_aliases():
    with Daemon(2, ["--sec2-username", "wifiprov", "--sec2-password", "abcd1234"]) as d:
        sn = "127.0.0.1:%d" % d.port
        rc, out, err = run(["--transport", "softap", "--service_name", sn, "--sec_ver", "2", "--sec2_username",
                            "wifiprov", "--sec2_pwd", "abcd1234", "--proto_ver", "v1.1", "--ssid", "TestNet",
                            "--passphrase", "correct-horse", "--verbose"])
        check(rc == 0, "exit %d: %s" % (rc, err))
        check("Session Established" in err and "Verified protocol version" in err, err)
        check("abcd1234" not in out + err and "correct-horse" not in out + err, "secret printed with --verbose")
        # Without --sec_ver: wifiprov reads prov.sec_ver (esp_prov would pick 1 and fail).
        rc, out, err = run(["--transport", "httpd", "--service_name", sn, "--sec2_username", "wifiprov",
                            "--sec2_pwd", "abcd1234", "--json", "status"])
        check(rc == 0 and json.loads(out)["security"] == 2, (rc, out, err))


@case
def daemon_qr_option():
    """The payload wifiprovd prints for its QR code gives wifiprov everything but the address."""
    with Daemon(2, ["--sec2-username", "wifiprov", "--sec2-password", "abcd1234"], qr=True) as d:
        payload = None
        end = time.monotonic() + 5
        while not payload and time.monotonic() < end:  # the QR text may follow the start message
            for line in open(d.log_path):
                if line.startswith('{"ver"') and line.endswith("\n"):
                    payload = line.strip()
            time.sleep(0.02)
        check(payload, "no QR payload in the daemon's output")
        check(json.loads(payload).get("username") == "wifiprov", payload)
        obj, _ = provision_ok(d, ["--qr", payload])
        check(obj["security"] == 2, obj)
        # Options given win over the QR code: a wrong password from the command line is used.
        run_json(["status", "--qr", payload, "--password", "not-the-pop"] + d.addr(), 4)
        # A BLE payload: --address still means this HTTP device ...
        obj, _, _ = run_json(["status", "--qr", payload.replace('"softap"', '"ble"')] + d.addr(), 0)
        # ... and without it the payload's name is the BLE device to look for.
        rc, out, err = run(["status", "--sec", "0", "--qr", '{"ver":"v1","name":"PROV_X","transport":"ble"}'],
                           env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/bus"})
        check(rc == 3 and "D-Bus" in err, (rc, err))


@case
def daemon_debug_hides_secrets():
    for sec, creds, dargs, secret in (
            (1, ["--pop", "Pop-Secret-1"], ["--pop", "Pop-Secret-1"], "Pop-Secret-1"),
            (2, ["--username", "wifiprov", "--password", "Srp-Secret-2"],
             ["--sec2-username", "wifiprov", "--sec2-password", "Srp-Secret-2"], "Srp-Secret-2")):
        with Daemon(sec, dargs) as d:
            rc, out, err = run(["provision", "--ssid", "TestNet", "--passphrase", "correct-horse", "--debug"]
                               + creds + d.addr())
            check(rc == 0, "security %d: exit %d %s" % (sec, rc, err))
            check(re.search(r"debug: -> /prov-config \(\d+ bytes\)", err), "no byte dump with --debug")
            for form in (secret, "correct-horse"):
                for enc in (form, form.encode().hex()):
                    check(enc not in out + err, "security %d: %r shown with --debug" % (sec, enc))


@case
def daemon_interactive():
    with Daemon(2, ["--sec2-username", "wifiprov", "--sec2-password", "abcd1234"]) as d:
        p = Pty(["provision", "--username", "wifiprov"] + d.addr())
        try:
            p.expect(rb"SRP6a Password required: ")
            p.send("abcd1234\n")
            p.expect(rb"S\.N\.\s+SSID\s+BSSID\s+CHN\s+RSSI\s+AUTH")
            m = p.expect(rb"\[\s*(\d+)\] TestNet ")
            idx = m.group(1).decode()
            p.expect(rb"Select AP by number \(0 to rescan\) : ")
            p.send(idx + "\n")
            p.expect(rb"Enter passphrase for TestNet : ")
            p.send("correct-horse\n")
            p.expect(rb"Connected to TestNet")
            p.expect(rb"10\.1\.2\.3")
            rc = p.wait()
            check(rc == 0, "exit %d" % rc)
            check(b"correct-horse" not in p.buf and b"abcd1234" not in p.buf, "secret echoed")
        finally:
            p.close()


@case
def console_device_sec2_patches():
    """Security 2 with sec_patch_ver 0 (ESP-IDF v5.0-v5.4) and 1: the CLI follows the device's proto-ver."""
    for patch in (["--patch0"], []):
        relay = DeviceRelay(["--security", "2", "--username", "wifiprov", "--password", "abcd1234"] + patch)
        try:
            rc, out, err, _ = run_console(["custom", "--endpoint", "echo", "--custom-data", "hello"] + SEC2 +
                                          ["--json", "--timeout", "20"], None, relay=relay)
            check(rc == 0, "%s: exit %d %s" % (patch, rc, err))
            obj = json.loads(out[-1].replace("Enter device->client msg : ", ""))
            check(obj["reply"] == "echo:hello" and obj["security"] == 2, obj)
            check(relay.seen == ["proto-ver", "prov-session", "prov-session", "echo"], relay.seen)
            check(("sec_patch_ver 0" in err) == bool(patch), "patch-0 warning: %s" % err)
        finally:
            relay.close()
    relay = DeviceRelay(["--security", "2", "--username", "wifiprov", "--password", "abcd1234", "--patch0"])
    try:
        rc, out, err, _ = run_console(["custom", "--endpoint", "echo", "--custom-data", "x", "--username", "wifiprov",
                                       "--password", "wrong", "--timeout", "20"], None, relay=relay)
        check(rc == 4, "wrong password over the console: exit %d %s" % (rc, err))
    finally:
        relay.close()


@case
def console_device_sec1():
    relay = DeviceRelay(["--security", "1", "--pop", "abcd1234"])
    try:
        rc, out, err, _ = run_console(["custom", "--endpoint", "echo", "--custom-data", "hi", "--pop", "abcd1234",
                                       "--timeout", "20"], None, relay=relay)
        check(rc == 0 and "echo:hi" in "\n".join(out), (rc, out, err))
    finally:
        relay.close()


@case
def daemon_console_relay():
    with Daemon(2, ["--sec2-username", "wifiprov", "--sec2-password", "abcd1234"]) as d:
        rc, out, err, relay = run_console(["provision", "--ssid", "TestNet", "--passphrase", "correct-horse", "--json",
                                           "--timeout", "20"] + SEC2, d.port)
        check(rc == 0, "exit %d: %s %s" % (rc, out, err))
        obj = json.loads(out[-1].replace("Enter device->client msg : ", ""))
        check(obj["state"] == "connected" and obj["ip"] == "10.1.2.3" and obj["security"] == 2, obj)
        check(relay.seen[:3] == ["proto-ver", "prov-session", "prov-session"], relay.seen)


@case
def daemon_gencred_verifier_file():
    tmp = tempfile.mkdtemp(prefix="wifiprov-cli-")
    try:
        vf = os.path.join(tmp, "verifier.json")
        rc, out, err = run(["gen-cred", "--username", "factory", "--password", "long-device-password", "--out", vf])
        check(rc == 0, "gen-cred: exit %d %s" % (rc, err))
        with Daemon(2, ["--sec2-verifier-file", vf]) as d:
            creds = ["--username", "factory", "--password", "long-device-password"]
            provision_ok(d, creds)
            obj, _, _ = run_json(["status", "--username", "factory", "--password", "wrong"] + d.addr(), 4)
    finally:
        shutil.rmtree(tmp)


@case
def daemon_timeout():
    with Daemon(0) as d:
        t0 = time.monotonic()
        obj, _, _ = run_json(["provision", "--ssid", "SlowNet", "--passphrase", "slow-pass-1", "--timeout", "1.5"]
                             + d.addr(), 6)
        took = time.monotonic() - t0
        check(obj["error"] == "timeout", obj)
        check(1.4 <= took < 3, "took %.2f s with --timeout 1.5" % took)


# ---------------------------------------------------------------------------

def main():
    global WIFIPROV, WIFIPROVD, CONSOLE_DEVICE
    ap = argparse.ArgumentParser()
    ap.add_argument("--wifiprov", required=True)
    ap.add_argument("--wifiprovd")
    ap.add_argument("--console-device")
    ap.add_argument("case", nargs="?")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    WIFIPROV, WIFIPROVD, CONSOLE_DEVICE = a.wifiprov, a.wifiprovd, a.console_device
    if a.list:
        print("\n".join(CASES))
        return 0
    names = [a.case] if a.case else list(CASES)
    failed = 0
    for n in names:
        if n not in CASES:
            print("unknown case %s" % n)
            return 2
        t0 = time.monotonic()
        try:
            CASES[n]()
            print("PASS %s (%.2f s)" % (n, time.monotonic() - t0))
        except Exception as e:  # noqa: BLE001 - any error fails the case
            failed += 1
            print("FAIL %s: %s" % (n, e))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
