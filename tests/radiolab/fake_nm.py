#!/usr/bin/python3
"""A scripted stand-in for NetworkManager's D-Bus API, for testing the NM backend without a
radio (tests/radiolab/test_nm_fake.sh runs it on a private bus).

It knows one Wi-Fi device (wlan9) and three access points. A connection profile's outcome is
chosen by its SSID and passphrase, the way the lab's real networks behave:
  lab-wpa2 / correct-horse-42 -> activated with 10.77.1.50
  lab-wpa2 / other            -> failed, reason 7 (no-secrets)
  lab-sae  / sae-secret-99    -> activated with 10.77.3.50
  lab-sae  / other            -> failed, reason 53 (ssid-not-found), as NM 1.42 does
  lab-slow    / anything      -> stays activating (for tests that kill the backend meanwhile)
  anything else               -> stays in config; a scan completes without the SSID
Profiles are listed by Settings.ListConnections with their settings (GetSettings) and Flags
(0x1 "unsaved" until Update2 with the to-disk flag), as NetworkManager does.
Every method call it receives is printed on stdout ("CALL <member> <path> ..."), so the test
can check which profiles were added, saved and deleted.
"""
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NM = "org.freedesktop.NetworkManager"
ROOT = "/org/freedesktop/NetworkManager"
DEV = ROOT + "/Devices/9"
PROPS = "org.freedesktop.DBus.Properties"

APS = [  # path suffix, ssid, bssid, freq, strength, flags, wpa, rsn
    (1, b"lab-wpa2", "02:00:00:00:00:00", 2412, 100, 1, 0, 0x188),
    (2, b"lab-sae", "02:00:00:00:01:00", 2462, 50, 1, 0, 0x488),
    (3, b"lab-open", "02:00:00:00:00:01", 2412, 75, 0, 0, 0),
]


def log(*a):
    print(*a, flush=True)


class Props(dbus.service.Object):
    iface = None

    def props(self):
        return {}

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        return self.all(iface)[name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.all(iface)

    def all(self, iface):
        return self.props().get(iface, {})

    @dbus.service.signal(PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, iface, changed, invalidated):
        pass


class AccessPoint(Props):
    def __init__(self, bus, spec):
        self.spec = spec
        super().__init__(bus, "%s/AccessPoint/%d" % (ROOT, spec[0]))

    def props(self):
        _, ssid, bssid, freq, strength, flags, wpa, rsn = self.spec
        return {NM + ".AccessPoint": {
            "Ssid": dbus.ByteArray(ssid), "HwAddress": bssid, "Frequency": dbus.UInt32(freq),
            "Strength": dbus.Byte(strength), "Flags": dbus.UInt32(flags), "WpaFlags": dbus.UInt32(wpa),
            "RsnFlags": dbus.UInt32(rsn), "Mode": dbus.UInt32(2)}}


class Ip4Config(Props):
    def __init__(self, bus, n, addr):
        self.addr = addr
        super().__init__(bus, "%s/IP4Config/%d" % (ROOT, n))

    def props(self):
        return {NM + ".IP4Config": {"AddressData": dbus.Array(
            [{"address": dbus.String(self.addr), "prefix": dbus.UInt32(24)}], signature="a{sv}")}}


class Connection(Props):
    def __init__(self, bus, n, settings, fake):
        self.n, self.settings, self.fake = n, settings, fake
        self.flags = 1  # NM_SETTINGS_CONNECTION_FLAG_UNSAVED: persist=memory
        super().__init__(bus, "%s/Settings/%d" % (ROOT, n))

    def props(self):
        return {NM + ".Settings.Connection": {"Flags": dbus.UInt32(self.flags), "Unsaved": self.flags & 1 == 1}}

    @dbus.service.method(NM + ".Settings.Connection", in_signature="", out_signature="a{sa{sv}}")
    def GetSettings(self):
        out = {}
        for name, setting in self.settings.items():
            if name == "802-11-wireless-security":
                setting = {k: v for k, v in setting.items() if k not in ("psk", "wep-key0")}
            out[name] = setting
        return dbus.Dictionary(out, signature="sa{sv}")

    @dbus.service.method(NM + ".Settings.Connection", in_signature="", out_signature="")
    def Delete(self):
        log("CALL Delete", self._object_path)
        self.fake.delete(self)

    @dbus.service.method(NM + ".Settings.Connection", in_signature="a{sa{sv}}ua{sv}", out_signature="a{sv}")
    def Update2(self, settings, flags, args):
        log("CALL Update2", self._object_path, "flags=%d" % flags, "settings=%d" % len(settings))
        if flags & 1:
            self.flags &= ~1
        return {}


class Device(Props):
    def __init__(self, bus, fake):
        self.fake = fake
        super().__init__(bus, DEV)

    def props(self):
        f = self.fake
        return {
            NM + ".Device": {
                "DeviceType": dbus.UInt32(2), "Interface": "wlan9", "HwAddress": "02:00:00:00:09:00",
                "State": dbus.UInt32(f.state), "Managed": True,
                "ActiveConnection": dbus.ObjectPath(f.active or "/"),
                "Ip4Config": dbus.ObjectPath(f.ip4 or "/")},
            NM + ".Device.Wireless": {
                "LastScan": dbus.Int64(f.last_scan),
                "ActiveAccessPoint": dbus.ObjectPath(f.active_ap or "/")}}

    @dbus.service.method(NM + ".Device.Wireless", in_signature="a{sv}", out_signature="")
    def RequestScan(self, options):
        log("CALL RequestScan")
        GLib.timeout_add(200, self.fake.scan_done)

    @dbus.service.method(NM + ".Device.Wireless", in_signature="", out_signature="ao")
    def GetAllAccessPoints(self):
        return [dbus.ObjectPath(a._object_path) for a in self.fake.aps]

    @dbus.service.signal(NM + ".Device", signature="uuu")
    def StateChanged(self, new, old, reason):
        pass


class Settings(dbus.service.Object):
    def __init__(self, bus, fake):
        self.fake = fake
        super().__init__(bus, ROOT + "/Settings")

    @dbus.service.method(NM + ".Settings", in_signature="", out_signature="ao")
    def ListConnections(self):
        return dbus.Array([dbus.ObjectPath(c._object_path) for c in self.fake.conns.values()], signature="o")


class Manager(dbus.service.Object):
    def __init__(self, bus, fake):
        self.fake = fake
        super().__init__(bus, ROOT)

    @dbus.service.method(NM, in_signature="", out_signature="ao")
    def GetDevices(self):
        return [dbus.ObjectPath(DEV)]

    @dbus.service.method(NM, in_signature="a{sa{sv}}ooa{sv}", out_signature="ooa{sv}")
    def AddAndActivateConnection2(self, settings, device, specific, options):
        ssid = bytes(settings["802-11-wireless"]["ssid"]).decode()
        sec = settings.get("802-11-wireless-security", {})
        owner = settings.get("user", {}).get("data", {}).get("wifiprov.owner", "-")
        log("CALL AddAndActivateConnection2 id=%s ssid=%s key-mgmt=%s persist=%s owner=%s" % (
            settings["connection"]["id"], ssid, sec.get("key-mgmt", "-"), options.get("persist", "-"), owner))
        return self.fake.add(settings, ssid, str(sec.get("psk", "")))

    @dbus.service.method(NM, in_signature="o", out_signature="")
    def DeactivateConnection(self, active):
        log("CALL DeactivateConnection", active)
        self.fake.set_state(30, 39)


class Fake:
    def __init__(self, bus):
        self.bus = bus
        self.state = 30
        self.active = self.ip4 = self.active_ap = None
        self.last_scan = 1000
        self.n = 0
        self.conns = {}
        self.aps = [AccessPoint(bus, a) for a in APS]
        self.dev = Device(bus, self)
        Manager(bus, self)
        Settings(bus, self)

    def set_state(self, new, reason):
        old, self.state = self.state, new
        self.dev.StateChanged(dbus.UInt32(new), dbus.UInt32(old), dbus.UInt32(reason))

    def scan_done(self):
        self.last_scan += 1000
        self.dev.PropertiesChanged(NM + ".Device.Wireless", {"LastScan": dbus.Int64(self.last_scan)}, [])
        return False

    def later(self, ms, fn, *args):
        """Runs fn unless a newer activation replaced this one (as NM's new-activation does)."""
        gen = self.n

        def run():
            if gen == self.n:
                fn(*args)
            return False
        GLib.timeout_add(ms, run)

    def add(self, settings, ssid, psk):
        self.n += 1
        c = Connection(self.bus, self.n, settings, self)
        self.conns[self.n] = c
        self.active = "%s/ActiveConnection/%d" % (ROOT, self.n)
        self.set_state(40, 0)
        self.set_state(50, 0)
        outcome = {("lab-wpa2", "correct-horse-42"): ("ok", "10.77.1.50", 0),
                   ("lab-sae", "sae-secret-99"): ("ok", "10.77.3.50", 1)}.get((ssid, psk))
        if outcome:
            self.later(300, self.activate, outcome[1], outcome[2])
        elif ssid == "lab-wpa2":
            self.later(300, self.set_state, 120, 7)
        elif ssid == "lab-sae":
            self.later(300, self.set_state, 120, 53)
        elif ssid == "lab-slow":
            pass
        else:
            self.later(300, self.scan_done)
        return (dbus.ObjectPath(c._object_path), dbus.ObjectPath(self.active), {})

    def activate(self, addr, ap_index):
        self.ip4 = Ip4Config(self.bus, self.n, addr)._object_path
        self.active_ap = self.aps[ap_index]._object_path
        self.set_state(70, 0)
        self.set_state(100, 0)
        return False

    def delete(self, c):
        c.remove_from_connection()
        del self.conns[c.n]


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(sys.argv[1])
    Fake(bus)
    name = dbus.service.BusName(NM, bus)
    log("READY", name.get_name())
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
