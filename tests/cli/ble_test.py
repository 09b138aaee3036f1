#!/usr/bin/python3
"""The wifiprov BLE client (--transport ble, discover) without Bluetooth hardware: a
private D-Bus bus with tests/cli/fake_bluez.py as org.bluez, whose characteristics relay
each exchange to the real wifiprovd (--wifi sim) over HTTP. The real bluetoothd and
wifiprovd's own BLE transport are tested in the radio lab (scen-ble-*.sh).

Usage: ble_test.py --wifiprov PATH --wifiprovd PATH CASE
Needs dbus-daemon, python3-dbus and python3-gi (exit 77 = skipped otherwise)."""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cli_test  # noqa: E402
from cli_test import Fail, check  # noqa: E402

CASES = {}
NAME = "PROV_123456"


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class PrivateBus:
    """A private bus that lets everyone own and call anything (DBUS_SYSTEM_BUS_ADDRESS for
    the programs under test), with fakes started on it; everything goes on close()."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wifiprov-ble-")
        conf = os.path.join(self.dir, "bus.conf")
        sock = os.path.join(self.dir, "bus")
        with open(conf, "w") as f:
            f.write("""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>custom</type><listen>unix:path=%s</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/></policy>
</busconfig>""" % sock)
        self.procs = [subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork", "--nopidfile"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        end = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < end:
            time.sleep(0.02)
        self.addr = "unix:path=" + sock
        self.log = os.path.join(self.dir, "bluez.log")

    def start_fake(self, script, args):
        """Starts a fake that prints READY once it owns its name. @return its process."""
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.addr)
        p = subprocess.Popen(["/usr/bin/python3", script] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        self.procs.append(p)
        line = p.stdout.readline().decode()
        if "READY" not in line:
            p.kill()
            rest = p.communicate()[0].decode(errors="replace")
            self.close()
            raise Fail("%s did not start: %s%s" % (os.path.basename(script), line, rest))
        return p

    def calls(self):
        return open(self.log).read() if os.path.exists(self.log) else ""

    def close(self):
        for p in reversed(self.procs):
            p.kill()
            p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class Bus(PrivateBus):
    """A private bus with fake_bluez.py (the central's bluetoothd) on it."""

    def __init__(self, http_port, *flags):
        PrivateBus.__init__(self)
        self.start_fake(os.path.join(HERE, "fake_bluez.py"),
                        ["--http", str(http_port), "--name", NAME, "--log", self.log] + list(flags))


def ble(bus, args, want_rc, timeout=30, env=None, json_out=True):
    e = {"DBUS_SYSTEM_BUS_ADDRESS": bus.addr}
    if env:
        e.update(env)
    argv = args + ["--transport", "ble", "--service-name", NAME] + (["--json"] if json_out else [])
    rc, out, err = cli_test.run(argv, timeout=timeout, env=e)
    check(rc == want_rc, "exit %d, expected %d\nstdout: %s\nstderr: %s\nbluez calls:\n%s" %
          (rc, want_rc, out, err, bus.calls()))
    if not json_out:
        return out, err
    lines = [l for l in out.splitlines() if l.strip()]
    check(lines, "no JSON; stderr: %s" % err)
    return json.loads(lines[-1]), err


def daemon(sec=1):
    if sec == 2:
        return cli_test.Daemon(2, ["--sec2-username", "wifiprov", "--sec2-password", "abcd1234"])
    return cli_test.Daemon(sec, ["--pop", "abcd1234"] if sec == 1 else [])


SEC1 = ["--sec", "1", "--pop", "abcd1234"]


@case
def ble_provision_sec1():
    with daemon(1) as d, Bus(d.port) as b:
        obj, _ = ble(b, ["provision", "--ssid", "TestNet", "--passphrase", "correct-horse"] + SEC1, 0)
        check(obj["state"] == "connected" and obj["security"] == 1, obj)
        calls = b.calls()
        check("SetDiscoveryFilter {'Transport': 'le'}" in calls, calls)
        check("WriteValue prov-session" in calls and "type=request" in calls, calls)
        check(calls.rstrip().splitlines()[-1].startswith("Disconnect"), "no Disconnect at the end:\n" + calls)


@case
def ble_provision_sec2_and_sec0():
    with daemon(2) as d, Bus(d.port) as b:
        obj, _ = ble(b, ["provision", "--ssid", "TestNet", "--passphrase", "correct-horse", "--username",
                         "wifiprov", "--password", "abcd1234"], 0)
        check(obj["state"] == "connected" and obj["security"] == 2, obj)
        check("WriteValue prov-session 4" in b.calls(), b.calls())  # the ~406-byte SRP messages
    with daemon(0) as d, Bus(d.port) as b:
        obj, _ = ble(b, ["status", "--sec", "0"], 8)  # 8: not connected yet
        check(obj["security"] == 0 and obj["state"] == "connecting", obj)


@case
def ble_scan_pages_of_four():
    extra = [{"ssid": "More%d" % i, "bssid": "aa:bb:cc:dd:ee:1%d" % i, "channel": 6, "rssi": -60 - i,
              "auth": "open", "connect_ms": 100, "ip": "10.1.2.9"} for i in range(3)]
    cli_test.NETWORKS.extend(extra)  # seven networks: two pages of four
    with daemon(1) as d, Bus(d.port) as b:
        obj, _ = ble(b, ["scan"] + SEC1, 0)
        check(len(obj["networks"]) == 7, obj)
        n = b.calls().count("WriteValue prov-scan")
        # start, status, then ceil(count / 4) result pages
        check(n == 2 + (len(obj["networks"]) + 3) // 4, "%d prov-scan writes for %d networks" %
              (n, len(obj["networks"])))


@case
def ble_wrong_pop():
    with daemon(1) as d, Bus(d.port) as b:
        obj, _ = ble(b, ["status", "--sec", "1", "--pop", "wrong"], 4)
        check(obj["error"] == "auth", obj)
        obj, _ = ble(b, ["status"] + SEC1, 8)  # the right PoP: a session, not connected yet
        check(obj["security"] == 1, obj)


@case
def ble_fixed_ids_without_descriptors():
    with daemon(1) as d, Bus(d.port, "--no-descriptors") as b:
        obj, _ = ble(b, ["custom", "--custom-data", "hello"] + SEC1, 0)
        check("WriteValue custom-data" in b.calls(), b.calls())


@case
def ble_adapter_errors():
    with daemon(1) as d, Bus(d.port, "--powered-off") as b:
        obj, _ = ble(b, ["status"] + SEC1, 3)
        check("is off" in obj["message"] and "bluetoothctl power on" in obj["message"], obj)
    with daemon(1) as d, Bus(d.port) as b:
        obj, _ = ble(b, ["status", "--adapter", "hci7"] + SEC1, 3)
        check("no Bluetooth adapter hci7" in obj["message"] and "hci0" in obj["message"], obj)
        rc, out, err = cli_test.run(["status", "--transport", "ble", "--service-name", NAME] + SEC1,
                                    env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=" + b.dir + "/nobus"})
        check(rc == 3 and "D-Bus" in err, (rc, err))


@case
def ble_device_not_found_lists_names():
    with daemon(1) as d, Bus(d.port, "--no-device") as b:
        t0 = time.monotonic()
        obj, _ = ble(b, ["status", "--timeout", "2"] + SEC1, 3)
        check(time.monotonic() - t0 < 6, "took %.1f s" % (time.monotonic() - t0))
        check("Device not found" in obj["message"] and NAME in obj["message"] and "Headphones" in obj["message"], obj)


@case
def ble_connect_and_resolve_errors():
    with daemon(1) as d, Bus(d.port, "--connect-fail") as b:
        obj, _ = ble(b, ["status"] + SEC1, 3)
        check("Failed to connect" in obj["message"] and "le-connection-abort" in obj["message"], obj)
    with daemon(1) as d, Bus(d.port, "--no-resolve") as b:
        obj, _ = ble(b, ["status", "--timeout", "2"] + SEC1, 3)
        check("not resolved" in obj["message"], obj)


@case
def ble_link_lost_mid_exchange():
    # The 4th write is GetStatus, after the handshake. (A link lost during Cmd1 reads as refused
    # credentials: that is how devices refuse them, PROTOCOL.md P25.)
    with daemon(1) as d, Bus(d.port, "--drop-after", "4") as b:
        obj, _ = ble(b, ["status"] + SEC1, 3)
        check("link" in obj["message"] and "lost during /prov-config" in obj["message"], obj)
        check("Disconnect" not in b.calls(), "Disconnect after the link was gone:\n" + b.calls())


@case
def ble_ctrl_c_disconnects():
    """SIGINT while connected: the link is closed, then the CLI dies of SIGINT."""
    with daemon(2) as d, Bus(d.port) as b:
        e = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=b.addr)
        # No password and no terminal would fail; a prompt needs a tty, so use a slow poll instead:
        p = subprocess.Popen([cli_test.WIFIPROV, "provision", "--transport", "ble", "--service-name", NAME,
                              "--ssid", "SlowNet", "--passphrase", "whatever-123", "--username", "wifiprov",
                              "--password", "abcd1234", "--timeout", "60"], env=e,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        end = time.monotonic() + 20
        while "WriteValue prov-config" not in b.calls() and time.monotonic() < end:
            time.sleep(0.05)
        check("WriteValue prov-config" in b.calls(), "never got to prov-config:\n" + b.calls())
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            raise Fail("still running 10 s after SIGINT")
        check(p.returncode == -signal.SIGINT, "exit status %r" % p.returncode)
        check("Disconnect" in b.calls().split("WriteValue prov-config", 1)[1], b.calls())


@case
def ble_discover():
    with daemon(1) as d, Bus(d.port) as b:
        rc, out, err = cli_test.run(["discover", "--timeout", "1", "--json"],
                                    env={"DBUS_SYSTEM_BUS_ADDRESS": b.addr})
        check(rc == 0, (rc, out, err))
        obj = json.loads(out.splitlines()[-1])
        devs = obj["devices"]
        check(len(devs) == 1 and devs[0]["name"] == NAME and devs[0]["rssi"] is None and
              devs[0]["service_uuid"] == "021a9004-0382-4aea-bff4-6b3f1c5adfb4" and
              devs[0]["address"] == "02:00:00:00:00:01", obj)
        rc, out, err = cli_test.run(["discover", "--timeout", "1"], env={"DBUS_SYSTEM_BUS_ADDRESS": b.addr})
        check(rc == 0 and NAME in out and " ? " in out and "Headphones" not in out, (out, err))
    # A controller that reports the device only to a restarted scan: discover restarts it.
    with daemon(1) as d, Bus(d.port, "--seen-from-scan", "2") as b:
        rc, out, err = cli_test.run(["discover", "--timeout", "10", "--json"],
                                    env={"DBUS_SYSTEM_BUS_ADDRESS": b.addr}, timeout=30)
        check(rc == 0, (rc, out, err))
        devs = json.loads(out.splitlines()[-1])["devices"]
        check([x["name"] for x in devs] == [NAME], (devs, b.calls()))
        check(b.calls().count("StartDiscovery") >= 2, b.calls())
    # Heard by the first scan only: still listed after the restarts (bluetoothd drops the
    # RSSI when a scan stops).
    with daemon(1) as d, Bus(d.port, "--seen-until-scan", "1") as b:
        rc, out, err = cli_test.run(["discover", "--timeout", "10", "--json"],
                                    env={"DBUS_SYSTEM_BUS_ADDRESS": b.addr}, timeout=30)
        check(rc == 0, (rc, out, err))
        devs = json.loads(out.splitlines()[-1])["devices"]
        check([x["name"] for x in devs] == [NAME], (devs, b.calls()))
        check(b.calls().count("StartDiscovery") >= 2, b.calls())


@case
def ble_known_device():
    """A device bluetoothd knows from before that the scan does not report: after 3 s of
    scanning the client connects to it directly; if it does not answer, the attempt is
    cancelled and the scan goes on."""
    with daemon(1) as d, Bus(d.port, "--known", "--seen-from-scan", "99") as b:
        obj, err = ble(b, ["provision", "--ssid", "TestNet", "--passphrase", "correct-horse", "-v"] + SEC1, 0)
        check(obj["state"] == "connected", obj)
        check("known from before" in err, err)
        calls = b.calls()
        check(calls.count("StartDiscovery") == 1 and "Connect /org/bluez/hci0/dev_02_00_00_00_00_01" in calls, calls)
    with daemon(1) as d, Bus(d.port, "--known", "--seen-from-scan", "99", "--connect-fail") as b:
        obj, _ = ble(b, ["status", "--timeout", "6"] + SEC1, 3)
        check("Device not found" in obj["message"] and "within 6." in obj["message"], obj)
        after = b.calls().split("Connect ", 1)
        check(len(after) == 2 and "StartDiscovery" in after[1], "no scan after the failed attempt:\n" + b.calls())
    with daemon(1) as d, Bus(d.port, "--known", "--seen-from-scan", "99", "--connect-hang") as b:
        obj, _ = ble(b, ["status", "--timeout", "14"] + SEC1, 3)
        check("Device not found" in obj["message"], obj)
        after = b.calls().split("Connect ", 1)
        check(len(after) == 2 and "Disconnect" in after[1] and "StartDiscovery" in after[1].split("Disconnect", 1)[1],
              "the hanging attempt was not cancelled before scanning again:\n" + b.calls())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wifiprov", required=True)
    ap.add_argument("--wifiprovd", required=True)
    ap.add_argument("case")
    a = ap.parse_args()
    if not shutil.which("dbus-daemon"):
        print("SKIP: needs dbus-daemon")
        return 77
    try:
        import dbus  # noqa: F401
        import gi  # noqa: F401
    except ImportError:
        print("SKIP: needs python3-dbus and python3-gi")
        return 77
    cli_test.WIFIPROV, cli_test.WIFIPROVD = a.wifiprov, a.wifiprovd
    return cli_test.run_case(CASES, a.case)


if __name__ == "__main__":
    sys.exit(main())
