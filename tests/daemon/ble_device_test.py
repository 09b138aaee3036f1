#!/usr/bin/python3
"""wifiprovd's BLE transport against a scripted bluetoothd (fake_bluez_peripheral.py on a
private bus): what it registers (characteristic and descriptor flags), and that it
follows bluetoothd and the adapter after start: bluetoothd killed and started again,
started again without its adapter, the adapter powered off and on, removed and added.
Each time the daemon keeps running, closes the sessions of the links that went, and
registers the application and the advertisement again (the fake then exchanges
proto-ver through them). The real bluetoothd: the radio lab (scen-ble-*.sh).

Usage: ble_device_test.py --wifiprovd PATH CASE
Needs dbus-daemon, python3-dbus and python3-gi (exit 77 = skipped otherwise)."""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
from ble_test import PrivateBus  # noqa: E402
from cli_test import DaemonProcess, Fail, check, run_case  # noqa: E402

FAKE = os.path.join(HERE, "fake_bluez_peripheral.py")
DEV = "/org/bluez/hci0/dev_02_00_00_00_00_01"
WIFIPROVD = None
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class Bluez(PrivateBus):
    """The private bus and the fake bluetoothd, which can be killed and started again."""

    def __init__(self, *flags):
        PrivateBus.__init__(self)
        self.fake = self.start_fake(FAKE, ["--log", self.log] + list(flags))

    def kill(self):
        self.fake.send_signal(signal.SIGKILL)
        self.fake.wait()

    def restart(self, *flags):
        self.fake = self.start_fake(FAKE, ["--log", self.log] + list(flags))

    def test_call(self, method, *args):
        subprocess.run(["dbus-send", "--bus=" + self.addr, "--print-reply", "--dest=org.bluez", "/test",
                        "org.wifiprov.FakeBluez." + method] + list(args), check=True, stdout=subprocess.DEVNULL,
                       timeout=10)

    def wait_calls(self, pattern, count, timeout=15):
        """Waits until the fake's log matches @p pattern @p count times."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(re.findall(pattern, self.calls(), re.M)) >= count:
                return
            time.sleep(0.05)
        raise Fail("fake bluetoothd: %d x %r not seen:\n%s" % (count, pattern, self.calls()))


class Daemon(DaemonProcess):
    """wifiprovd --transport ble --wifi sim on the private bus."""

    def __init__(self, bus, extra=(), security=1, state_dir=None):
        self.dir = tempfile.mkdtemp(prefix="wifiprov-bled-")
        state_dir = state_dir or self.dir
        self.log_path = os.path.join(self.dir, "wifiprovd.log")
        self.log = open(self.log_path, "w")
        creds = ["--pop", "abcd1234"] if security == 1 else ["--force-insecure", "--verbose"]
        args = [WIFIPROVD, "--no-config", "--transport", "ble", "--security", str(security)] + creds + [
                "--wifi", "sim", "--state-dir", state_dir, "--auto-stop", "0", "--no-qr",
                "--service-name", "PROV_B1E000"] + list(extra)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.addr))

    def text(self):
        return open(self.log_path).read()

    def wait_log(self, pattern, count=1, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(re.findall(pattern, self.text())) >= count:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise Fail("wifiprovd: %d x %r not seen (exit %s):\n%s" % (count, pattern, self.proc.poll(), self.text()))

    def running(self):
        check(self.proc.poll() is None, "wifiprovd exited with %s:\n%s" % (self.proc.poll(), self.text()))



VERSION = r"^EXCHANGE proto-ver \{.*\"prov\""


def serving(b, d, n):
    """The nth registration happened and a phone's proto-ver exchange works through it."""
    b.wait_calls(r"^RegisterApplication .* characteristics [5-9]", n)
    b.wait_calls(r"^RegisterAdvertisement .* LocalName PROV_B1E000", n)
    b.wait_calls(VERSION, n)
    check("AlreadyExists" not in d.text(), d.text())
    d.running()


@case
def ble_bluetoothd_restart():
    with Bluez() as b, Daemon(b, security=0) as d:
        d.wait_log(r"advertising \"PROV_B1E000\"")
        serving(b, d, 1)
        b.wait_calls(r"^EXCHANGE prov-session 52050801aa0100$", 1)  # Resp0: the link has a session
        b.kill()  # bluetoothd crashes: its links and our registrations go with it
        d.wait_log(r"BLE down: bluetoothd gone; waiting for it")
        d.wait_log(r"1 BLE connection closed")
        d.wait_log(r"dev_02_00_00_00_00_01 disconnected; closing its session")
        time.sleep(0.5)
        d.running()  # BLE alone: the daemon waits, as it waits for NetworkManager
        b.restart()
        d.wait_log(r"BLE back on hci0 \(02:00:00:00:00:AA\)")
        serving(b, d, 2)
        b.wait_calls(r"^Set org.bluez.Adapter1 Alias 'PROV_B1E000'$", 2)  # its GAP name again
        b.wait_calls(r"^EXCHANGE prov-session 52050801aa0100$", 2)  # the same phone gets a new session
        # Started again without its adapter (it attaches later, powered off): found, powered on, registered.
        b.kill()
        d.wait_log(r"BLE down: bluetoothd gone", 2)
        b.restart("--no-adapter", "--powered-off")
        d.wait_log(r"bluetoothd has no Bluetooth adapter yet \(adapters: none\); waiting for it")
        b.test_call("AddAdapter")
        b.wait_calls(r"^Set org.bluez.Adapter1 Powered True", 1)
        d.wait_log(r"BLE back on hci0", 2)
        serving(b, d, 3)


@case
def ble_adapter_power_and_removal():
    with Bluez() as b, Daemon(b, ["--ble-adapter", "hci0"]) as d:
        d.wait_log(r"advertising \"PROV_B1E000\"")
        serving(b, d, 1)
        b.test_call("PowerOff")
        d.wait_log(r"BLE down: hci0 powered off; waiting for it to be powered on")
        d.wait_log(r"1 BLE connection closed")
        time.sleep(0.3)
        check(len(re.findall(r"^RegisterApplication", b.calls(), re.M)) == 1, b.calls())
        b.test_call("PowerOn")
        d.wait_log(r"BLE back on hci0")
        # BlueZ keeps registrations over a power cycle: the stale ones are dropped before registering again.
        b.wait_calls(r"^UnregisterApplication /org/wifiprov/ble", 1)
        serving(b, d, 2)
        b.test_call("RemoveAdapter")
        d.wait_log(r"BLE down: adapter hci0 removed; waiting for it")
        b.test_call("AddAdapter")
        d.wait_log(r"BLE back on hci0", 2)
        serving(b, d, 3)


def stop(d):
    """SIGTERM, as systemd stops it; the daemon's log."""
    d.proc.terminate()
    check(d.proc.wait(10) == 0, "wifiprovd exited with %s:\n%s" % (d.proc.returncode, d.text()))
    return d.text()


def alias_sets(b):
    return re.findall(r"^Set org.bluez.Adapter1 Alias '(.*)'$", b.calls(), re.M)


@case
def ble_gap_name():
    """The adapter's alias (the GAP name a connected phone reads) is the service name while
    BLE serves, recorded in the state directory, and goes back at stop; after a kill -9 the
    next start puts back the name from before the killed run, also one that serves HTTP
    only; a name someone else set meanwhile stays."""
    state = tempfile.mkdtemp(prefix="wifiprov-bled-state-")
    record = os.path.join(state, "ble-alias")
    try:
        # Alias = Name ("no alias"): set, then "" at stop so it follows the system name again.
        with Bluez() as b:
            with Daemon(b, ["--verbose"], state_dir=state) as d:
                d.wait_log(r"advertising \"PROV_B1E000\"")
                check(alias_sets(b) == ["PROV_B1E000"], b.calls())
                check(os.path.exists(record), "no record of the previous name")
                log = stop(d)
            check(alias_sets(b) == ["PROV_B1E000", ""], b.calls() + log)
            check(not os.path.exists(record), "record left after a clean stop")
            # The same after a kill -9: the next start puts back "" (the record says so) first.
            with Daemon(b, state_dir=state) as d:
                d.wait_log(r"advertising \"PROV_B1E000\"")
                d.proc.kill()
                d.proc.wait()
            with Daemon(b, state_dir=state) as d:
                d.wait_log(r"advertising \"PROV_B1E000\"")
                log = stop(d)
            check(alias_sets(b) == ["PROV_B1E000", ""] * 3, b.calls() + log)
            check(not os.path.exists(record), "record left after a clean stop")
        # kill -9: the name stays and the record with it; the next run keeps the name from before.
        with Bluez("--alias", "Kitchen hub") as b:
            with Daemon(b, state_dir=state) as d:
                d.wait_log(r"advertising \"PROV_B1E000\"")
                d.proc.kill()
                d.proc.wait()
            check(os.path.exists(record), "record gone after kill -9")
            with Daemon(b, state_dir=state) as d:
                d.wait_log(r"advertising \"PROV_B1E000\"")
                check(alias_sets(b) == ["PROV_B1E000", "Kitchen hub", "PROV_B1E000"], b.calls() + d.text())
                log = stop(d)
            check(alias_sets(b) == ["PROV_B1E000", "Kitchen hub", "PROV_B1E000", "Kitchen hub"], b.calls() + log)
            check(not os.path.exists(record), "record left after a clean stop")
            # Renamed by someone else while serving: that name stays.
            with Daemon(b, state_dir=state) as d:
                d.wait_log(r"advertising \"PROV_B1E000\"")
                subprocess.run(["dbus-send", "--bus=" + b.addr, "--print-reply", "--dest=org.bluez", "/org/bluez/hci0",
                                "org.freedesktop.DBus.Properties.Set", "string:org.bluez.Adapter1", "string:Alias",
                                "variant:string:Lab gateway"], check=True, stdout=subprocess.DEVNULL, timeout=10)
                log = stop(d)
                check("renamed \"Lab gateway\" meanwhile" in log, log)
            check(alias_sets(b)[-2:] == ["PROV_B1E000", "Lab gateway"], b.calls())
            check(not os.path.exists(record), "record left after a clean stop")
            # kill -9, then a start that serves HTTP only: the name goes back all the same.
            with Daemon(b, state_dir=state) as d:
                d.wait_log(r"advertising \"PROV_B1E000\"")
                d.proc.kill()
                d.proc.wait()
            with Daemon(b, ["--transport", "http", "--listen", "127.0.0.1:0"], state_dir=state) as d:
                d.wait_log(r"Provisioning started")
                log = stop(d)
            check(alias_sets(b)[-3:] == ["Lab gateway", "PROV_B1E000", "Lab gateway"], b.calls() + log)
            check("an earlier run had named it" in log, log)
            check(not os.path.exists(record), "record left after the sweep")
    finally:
        shutil.rmtree(state, ignore_errors=True)


@case
def ble_pairing_agent():
    """--ble-require-encryption registers a NoInputNoOutput agent that lets a device of the
    adapter pair (Just Works) and refuses others; the pairing is removed when that phone
    disconnects; one still listed at stop is removed by the next start (also one that serves
    HTTP only). Without the option, no agent."""
    other = "/org/bluez/hci1/dev_02_00_00_00_00_02"
    state = tempfile.mkdtemp(prefix="wifiprov-bled-state-")
    bonds = os.path.join(state, "ble-bonds")

    def removals():
        return len(re.findall(r"^RemoveDevice %s$" % DEV, b.calls(), re.M))
    try:
        with Bluez() as b:
            with Daemon(b, state_dir=state) as d:
                d.wait_log(r"advertising \"PROV_B1E000\"")
                b.test_call("Pair", "objpath:" + DEV)
                stop(d)
            check("RegisterAgent" not in b.calls() and "PAIR %s no-agent" % DEV in b.calls(), b.calls())
        with Bluez() as b:
            with Daemon(b, ["--ble-require-encryption"], state_dir=state) as d:
                d.wait_log(r"pairing agent registered")
                check("RegisterAgent /org/wifiprov/agent NoInputNoOutput" in b.calls(), b.calls())
                b.test_call("Pair", "objpath:" + DEV)
                b.test_call("Pair", "objpath:" + other)
                b.wait_calls(r"^PAIR %s " % other, 1)
                check("PAIR %s ok" % DEV in b.calls(), b.calls())
                check("PAIR %s org.bluez.Error.Rejected" % other in b.calls(), b.calls())
                check(open(bonds).read() == DEV + "\n", "bonds file: %r" % open(bonds).read())
                # The phone leaves: its pairing goes at once.
                b.test_call("Disconnect", "objpath:" + DEV)
                b.wait_calls(r"^RemoveDevice %s$" % DEV, 1)
                d.wait_log(r"pairing of %s removed" % DEV)
                check(not os.path.exists(bonds), "bonds file left after the removal")
                # Paired again and still listed at stop (here: kill -9).
                b.test_call("Pair", "objpath:" + DEV)
                b.wait_calls(r"^PAIR %s ok" % DEV, 2)
                d.proc.kill()
                d.proc.wait()
            check(removals() == 1 and os.path.exists(bonds), "after kill -9: %s" % b.calls())
            check("RemoveDevice %s" % other not in b.calls(), b.calls())
            with Daemon(b, ["--transport", "http", "--listen", "127.0.0.1:0"], state_dir=state) as d:
                d.wait_log(r"Provisioning started")
                log = stop(d)
            check(removals() == 2, b.calls() + log)
            check(not os.path.exists(bonds), "bonds file left after the sweep")
    finally:
        shutil.rmtree(state, ignore_errors=True)


def flags_of(calls, iface):
    return [l.split()[3] for l in calls.splitlines() if l.startswith("OBJ " + iface + " ")]


@case
def ble_encryption_flags():
    """--ble-require-encryption: values encrypt-read/encrypt-write, the 0x2901 names stay readable."""
    for extra, want in (([], "read,write"), (["--ble-require-encryption"], "encrypt-read,encrypt-write")):
        with Bluez() as b, Daemon(b, extra) as d:
            d.wait_log(r"advertising \"PROV_B1E000\"")
            b.wait_calls(r"^RegisterApplication", 1)
            chars, descs = flags_of(b.calls(), "GattCharacteristic1"), flags_of(b.calls(), "GattDescriptor1")
            check(len(chars) >= 5 and len(descs) == len(chars), b.calls())
            check(all(f == want for f in chars), "%s: characteristic flags %s" % (extra, chars))
            check(all(f == "read" for f in descs), "%s: descriptor flags %s" % (extra, descs))


def main():
    global WIFIPROVD
    ap = argparse.ArgumentParser()
    ap.add_argument("--wifiprovd", required=True)
    ap.add_argument("case")
    a = ap.parse_args()
    if not shutil.which("dbus-daemon") or not shutil.which("dbus-send"):
        print("SKIP: needs dbus-daemon and dbus-send")
        return 77
    try:
        import dbus  # noqa: F401
        import gi  # noqa: F401
    except ImportError:
        print("SKIP: needs python3-dbus and python3-gi")
        return 77
    WIFIPROVD = a.wifiprovd
    return run_case(CASES, a.case)


if __name__ == "__main__":
    sys.exit(main())
