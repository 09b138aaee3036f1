#!/usr/bin/python3
"""A stand-in provisioning device on bluetoothd's D-Bus API (python3-dbus + GLib only),
for the lab's BLE smoke test: the GATT layout of PROTOCOL.md section 7.2 (one primary
service, one read/write characteristic per endpoint, UUID from the service UUID with the
endpoint id in bytes 12-13, a 0x2901 descriptor holding the endpoint name on every one)
and an LE advertisement with the service UUID and the name.

An exchange is a write followed by a read. The reply is computed when it is read:
  proto-ver     a fixed version JSON (security 0, wifi_scan)
  prov-session, prov-config, prov-scan, prov-ctrl
                the security-0 replies of PROTOCOL.md appendix A.1 for the requests there
                (anything else gets an empty reply)
  custom-data   the request itself (echo), so long writes and reads can be checked
Writes and reads honour the "offset" option (long writes and reads).

Usage: ble_peripheral.py ADAPTER NAME [--no-descriptors]
Prints READY once the application and the advertisement are registered, then one line per
access; exits on SIGTERM."""
import signal
import sys

import dbus
import dbus.exceptions
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

BLUEZ = "org.bluez"
OM = "org.freedesktop.DBus.ObjectManager"
PROPS = "org.freedesktop.DBus.Properties"
SVC_IF = "org.bluez.GattService1"
CHR_IF = "org.bluez.GattCharacteristic1"
DSC_IF = "org.bluez.GattDescriptor1"
ADV_IF = "org.bluez.LEAdvertisement1"
SVC_UUID = "021a9004-0382-4aea-bff4-6b3f1c5adfb4"
USER_DESC = "00002901-0000-1000-8000-00805f9b34fb"
ENDPOINTS = [("prov-ctrl", 0xFF4F), ("prov-scan", 0xFF50), ("prov-session", 0xFF51),
             ("prov-config", 0xFF52), ("proto-ver", 0xFF53), ("custom-data", 0xFF54)]
VERSION = b'{"prov":{"ver":"v1.1","sec_ver":0,"cap":["no_sec","wifi_scan"]}}'
# PROTOCOL.md appendix A.1: request -> reply (hex).
A1 = {
    "prov-session": {"5203a20100": "52050801aa0100"},
    "prov-config": {
        "080262140a066d7973736964120a6d7970617373776f7264": "08036a00",
        "0804": "08057a00",
        "5200": "08015a245a220a0c3139322e3136382e312e343210031a066d79737369642206788a208419962806",
    },
    "prov-scan": {
        "520408012078": "08015a00",
        "0802": "08036a0408011002",
        "080472021002": "08057a4e0a250a0c4d79486f6d65576946694150100118d3ffffffffffffffff"
                        "012206788a2084199628030a250a0e496e736563757265576946694150100718"
                        "b6ffffffffffffffff012206dca4caf1227c",
    },
    "prov-ctrl": {"0801": "08026200"},
}

ADAPTER = sys.argv[1]
NAME = sys.argv[2]
WITH_DESC = "--no-descriptors" not in sys.argv[3:]


def log(*a):
    print("peripheral:", *a, flush=True)


def ay(b):
    return dbus.Array([dbus.Byte(x) for x in b], signature="y")


def char_uuid(ep_id):
    return SVC_UUID[:4] + "%04x" % ep_id + SVC_UUID[8:]


class Application(dbus.service.Object):
    def __init__(self, bus):
        self.path = "/lab/app"
        self.objs = []
        dbus.service.Object.__init__(self, bus, self.path)

    @dbus.service.method(OM, out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        return {o.path: o.props() for o in self.objs}


class Service(dbus.service.Object):
    def __init__(self, bus):
        self.path = "/lab/app/svc0"
        dbus.service.Object.__init__(self, bus, self.path)

    def props(self):
        return {SVC_IF: {"UUID": SVC_UUID, "Primary": True}}


class Chrc(dbus.service.Object):
    def __init__(self, bus, idx, name, ep_id):
        self.path = "/lab/app/svc0/char%d" % idx
        self.name, self.uuid = name, char_uuid(ep_id)
        self.req = bytearray()
        dbus.service.Object.__init__(self, bus, self.path)

    def props(self):
        return {CHR_IF: {"Service": dbus.ObjectPath("/lab/app/svc0"), "UUID": self.uuid,
                         "Flags": dbus.Array(["read", "write"], signature="s")}}

    def reply(self):
        if self.name == "proto-ver":
            return VERSION
        if self.name == "custom-data":
            return bytes(self.req)
        return bytes.fromhex(A1.get(self.name, {}).get(self.req.hex(), ""))

    @dbus.service.method(CHR_IF, in_signature="a{sv}", out_signature="ay")
    def ReadValue(self, options):
        off = int(options.get("offset", 0))
        r = self.reply()
        log("read", self.name, "offset", off, "of", len(r), "from", options.get("device", "?"))
        return ay(r[off:])

    @dbus.service.method(CHR_IF, in_signature="aya{sv}")
    def WriteValue(self, value, options):
        off = int(options.get("offset", 0))
        if off == 0:
            self.req = bytearray()
        if off != len(self.req):
            raise dbus.exceptions.DBusException("org.bluez.Error.InvalidOffset", "bad offset")
        self.req += bytes(value)
        log("write", self.name, "offset", off, "len", len(value), "type", options.get("type", "?"),
            "from", options.get("device", "?"))


class Desc(dbus.service.Object):
    def __init__(self, bus, chrc):
        self.path = chrc.path + "/desc0"
        self.chrc = chrc
        dbus.service.Object.__init__(self, bus, self.path)

    def props(self):
        return {DSC_IF: {"Characteristic": dbus.ObjectPath(self.chrc.path), "UUID": USER_DESC,
                         "Flags": dbus.Array(["read"], signature="s")}}

    @dbus.service.method(DSC_IF, in_signature="a{sv}", out_signature="ay")
    def ReadValue(self, options):
        return ay(self.chrc.name.encode()[int(options.get("offset", 0)):])


class Advertisement(dbus.service.Object):
    def __init__(self, bus):
        self.path = "/lab/adv0"
        dbus.service.Object.__init__(self, bus, self.path)

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return {"Type": "peripheral", "ServiceUUIDs": dbus.Array([SVC_UUID], signature="s"),
                "LocalName": NAME, "Discoverable": True}

    @dbus.service.method(ADV_IF)
    def Release(self):
        log("advertisement released")


dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
apath = "/org/bluez/" + ADAPTER
aobj = bus.get_object(BLUEZ, apath)
dbus.Interface(aobj, PROPS).Set("org.bluez.Adapter1", "Powered", dbus.Boolean(True))
app = Application(bus)
app.objs.append(Service(bus))
for i, (name, ep_id) in enumerate(ENDPOINTS):
    c = Chrc(bus, i, name, ep_id)
    app.objs.append(c)
    if WITH_DESC:
        app.objs.append(Desc(bus, c))
adv = Advertisement(bus)
loop = GLib.MainLoop()
pending = {"n": 2}


def done(what):
    def cb(*_):
        log(what, "registered")
        pending["n"] -= 1
        if pending["n"] == 0:
            log("READY")
    return cb


def fail(what):
    def cb(err):
        log(what, "FAILED:", err)
        sys.exit(1)
    return cb


GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda *_: loop.quit() or False)
dbus.Interface(aobj, "org.bluez.GattManager1").RegisterApplication(
    app.path, {}, reply_handler=done("application"), error_handler=fail("application"))
dbus.Interface(aobj, "org.bluez.LEAdvertisingManager1").RegisterAdvertisement(
    adv.path, {}, reply_handler=done("advertisement"), error_handler=fail("advertisement"))
loop.run()
log("stopped")
