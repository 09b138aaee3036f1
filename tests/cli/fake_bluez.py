#!/usr/bin/python3
"""A scripted bluetoothd (org.bluez on a private bus) for the wifiprov BLE client tests on
a machine without Bluetooth. It offers what the client uses of BlueZ's D-Bus API: an
ObjectManager at /, Adapter1 (Powered, SetDiscoveryFilter, Start/StopDiscovery), one
Device1 that appears when discovery starts (Name, Address, RSSI while discovering, UUIDs,
Connect/Disconnect, Connected, ServicesResolved), and after Connect a GATT service with one
characteristic per endpoint and a 0x2901 descriptor each. Each WriteValue is relayed to the
real wifiprovd over HTTP (POST /<endpoint>, with its session cookie; a new connection gets
a new HTTP session, as a BLE reconnect gets a new session) and ReadValue returns the reply.

Usage: fake_bluez.py --http PORT [--name NAME] [options]
  --powered-off            the adapter is off
  --no-device              discovery finds only an unrelated device
  --no-descriptors         characteristics without 0x2901 descriptors (old firmware)
  --connect-fail           Connect fails
  --no-resolve             ServicesResolved never becomes true
  --drop-after N           the link drops at the Nth write (Connected=false, calls fail)
  --seen-from-scan N       the device is reported only from the Nth StartDiscovery on (an
                           emulated controller that misses an advertiser already on air)
  --seen-until-scan N      the device is reported only up to the Nth StartDiscovery
  --known                  the device is known from before (its object exists, no RSSI)
  --connect-hang           Connect never answers (until Disconnect cancels it)
  --log FILE               one line per call (the tests read it)
Prints READY on stdout once the name is owned."""
import argparse
import http.client
import sys

import dbus
import dbus.exceptions
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

OM = "org.freedesktop.DBus.ObjectManager"
PROPS = "org.freedesktop.DBus.Properties"
SVC = "021a9004-0382-4aea-bff4-6b3f1c5adfb4"
EPS = [("prov-ctrl", 0xFF4F), ("prov-scan", 0xFF50), ("prov-session", 0xFF51), ("prov-config", 0xFF52),
       ("proto-ver", 0xFF53), ("custom-data", 0xFF54)]
ADAPTER = "/org/bluez/hci0"
DEV = ADAPTER + "/dev_02_00_00_00_00_01"
OTHER = ADAPTER + "/dev_02_00_00_00_00_02"

ap = argparse.ArgumentParser()
ap.add_argument("--http", type=int, required=True)
ap.add_argument("--name", default="PROV_123456")
ap.add_argument("--powered-off", action="store_true")
ap.add_argument("--no-device", action="store_true")
ap.add_argument("--no-descriptors", action="store_true")
ap.add_argument("--connect-fail", action="store_true")
ap.add_argument("--no-resolve", action="store_true")
ap.add_argument("--drop-after", type=int, default=0)
ap.add_argument("--seen-from-scan", type=int, default=1)
ap.add_argument("--seen-until-scan", type=int, default=0)
ap.add_argument("--known", action="store_true")
ap.add_argument("--connect-hang", action="store_true")
ap.add_argument("--log")
A = ap.parse_args()
LOG = open(A.log, "a", buffering=1) if A.log else None


def log(*a):
    if LOG:
        print(*a, file=LOG)


def err(name, msg):
    return dbus.exceptions.DBusException(msg, name="org.bluez.Error." + name)


class Obj(dbus.service.Object):
    """An object with properties per interface and PropertiesChanged."""

    def __init__(self, bus, path, props):
        self.path = path
        self.props = props
        dbus.service.Object.__init__(self, bus, path)

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        if name not in self.props.get(iface, {}):
            raise dbus.exceptions.DBusException("no such property", name="org.freedesktop.DBus.Error.InvalidArgs")
        return self.props[iface][name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.props.get(iface, {})

    @dbus.service.method(PROPS, in_signature="ssv")
    def Set(self, iface, name, value):
        self.set(iface, name, value)

    @dbus.service.signal(PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, iface, changed, invalidated):
        pass

    def set(self, iface, name, value):
        self.props[iface][name] = value
        self.PropertiesChanged(iface, {name: value}, [])

    def drop(self, iface, name):
        if self.props[iface].pop(name, None) is not None:
            self.PropertiesChanged(iface, {}, [name])


class Root(dbus.service.Object):
    def __init__(self, bus):
        self.objs = {}
        dbus.service.Object.__init__(self, bus, "/")

    @dbus.service.method(OM, out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        return {dbus.ObjectPath(p): o.props for p, o in self.objs.items()}

    @dbus.service.signal(OM, signature="oa{sa{sv}}")
    def InterfacesAdded(self, path, ifaces):
        pass

    @dbus.service.signal(OM, signature="oas")
    def InterfacesRemoved(self, path, ifaces):
        pass

    def add(self, o):
        self.objs[o.path] = o
        self.InterfacesAdded(dbus.ObjectPath(o.path), o.props)

    def remove(self, path):
        o = self.objs.pop(path, None)
        if o:
            self.InterfacesRemoved(dbus.ObjectPath(path), list(o.props))
            o.remove_from_connection()


class Adapter(Obj):
    @dbus.service.method("org.bluez.Adapter1", in_signature="a{sv}")
    def SetDiscoveryFilter(self, f):
        log("SetDiscoveryFilter", dict((str(k), str(v)) for k, v in f.items()))

    @dbus.service.method("org.bluez.Adapter1")
    def StartDiscovery(self):
        log("StartDiscovery")
        if not self.props["org.bluez.Adapter1"]["Powered"]:
            raise err("NotReady", "Resource Not Ready")
        STATE["scans"] += 1
        self.set("org.bluez.Adapter1", "Discovering", dbus.Boolean(True))
        GLib.timeout_add(300, found)

    @dbus.service.method("org.bluez.Adapter1")
    def StopDiscovery(self):
        log("StopDiscovery")
        self.set("org.bluez.Adapter1", "Discovering", dbus.Boolean(False))
        for p in (DEV, OTHER):
            if p in ROOT.objs:
                ROOT.objs[p].drop("org.bluez.Device1", "RSSI")


STATE = {"writes": 0, "cookie": None, "reply": {}, "scans": 0}


def found():
    if ADAPTER_OBJ.props["org.bluez.Adapter1"]["Discovering"]:
        if OTHER not in ROOT.objs:
            ROOT.add(Device(BUS, OTHER, "02:00:00:00:00:02", "Headphones", []))
        else:
            ROOT.objs[OTHER].set("org.bluez.Device1", "RSSI", dbus.Int16(-70))
        if not A.no_device and STATE["scans"] >= A.seen_from_scan and \
                (not A.seen_until_scan or STATE["scans"] <= A.seen_until_scan):
            if DEV not in ROOT.objs:
                ROOT.add(Device(BUS, DEV, "02:00:00:00:00:01", A.name, [SVC]))
            else:
                ROOT.objs[DEV].set("org.bluez.Device1", "RSSI", dbus.Int16(127))
    return False


class Device(Obj):
    def __init__(self, bus, path, addr, name, uuids):
        Obj.__init__(self, bus, path, {"org.bluez.Device1": {
            "Adapter": dbus.ObjectPath(ADAPTER), "Address": addr, "Name": name, "Alias": name,
            "RSSI": dbus.Int16(127 if uuids else -70), "UUIDs": dbus.Array(uuids, signature="s"),
            "Connected": dbus.Boolean(False), "ServicesResolved": dbus.Boolean(False)}})

    @dbus.service.method("org.bluez.Device1", async_callbacks=("ok", "fail"))
    def Connect(self, ok, fail):
        log("Connect", self.path)
        if A.connect_fail:
            fail(err("Failed", "le-connection-abort-by-local"))
            return
        if A.connect_hang:
            self.pending = fail
            return
        self.link_up()
        ok()

    def link_up(self):
        self.set("org.bluez.Device1", "Connected", dbus.Boolean(True))
        STATE["cookie"] = None
        STATE["writes"] = 0
        svc = self.path + "/service0001"
        ROOT.add(Obj(BUS, svc, {"org.bluez.GattService1": {
            "UUID": SVC, "Device": dbus.ObjectPath(self.path), "Primary": dbus.Boolean(True)}}))
        for i, (name, ep_id) in enumerate(EPS):
            c = Char(BUS, svc + "/char%04x" % (i * 3 + 2), SVC[:4] + "%04x" % ep_id + SVC[8:], svc, name)
            ROOT.add(c)
            if not A.no_descriptors:
                ROOT.add(Desc(BUS, c.path + "/desc%04x" % (i * 3 + 4), c.path, name))
        if not A.no_resolve:
            GLib.timeout_add(100, lambda: self.set("org.bluez.Device1", "ServicesResolved", dbus.Boolean(True)))

    @dbus.service.method("org.bluez.Device1")
    def Disconnect(self):
        log("Disconnect", self.path)
        if getattr(self, "pending", None):
            self.pending(err("Failed", "Cancelled"))
            self.pending = None
        self.link_down()

    def link_down(self):
        for p in [p for p in ROOT.objs if p.startswith(self.path + "/")]:
            ROOT.remove(p)
        self.set("org.bluez.Device1", "ServicesResolved", dbus.Boolean(False))
        self.set("org.bluez.Device1", "Connected", dbus.Boolean(False))


def connected():
    return ROOT.objs[DEV].props["org.bluez.Device1"]["Connected"]


class Char(Obj):
    def __init__(self, bus, path, uuid, svc, ep):
        self.ep = ep
        Obj.__init__(self, bus, path, {"org.bluez.GattCharacteristic1": {
            "UUID": uuid, "Service": dbus.ObjectPath(svc),
            "Flags": dbus.Array(["read", "write"], signature="s")}})

    @dbus.service.method("org.bluez.GattCharacteristic1", in_signature="aya{sv}")
    def WriteValue(self, value, options):
        data = bytes(value)
        log("WriteValue", self.ep, len(data), "type=%s" % options.get("type", ""))
        if not connected():
            raise err("Failed", "Not connected")
        STATE["writes"] += 1
        if A.drop_after and STATE["writes"] >= A.drop_after:
            ROOT.objs[DEV].link_down()
            raise err("Failed", "Operation failed with ATT error: 0x0e")
        conn = http.client.HTTPConnection("127.0.0.1", A.http, timeout=30)
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        if STATE["cookie"]:
            hdrs["Cookie"] = STATE["cookie"]
        try:
            conn.request("POST", "/" + self.ep, body=data, headers=hdrs)
            r = conn.getresponse()
            body = r.read()
            sc = r.getheader("Set-Cookie")
            if sc:
                STATE["cookie"] = sc.split(";")[0]
            status = r.status
        except (OSError, http.client.HTTPException):
            status, body = 0, b""
        finally:
            conn.close()
        if status != 200:
            # A protocol error: ESP-IDF's Bluedroid answers ATT 0x85 and drops the link.
            ROOT.objs[DEV].link_down()
            raise err("Failed", "Operation failed with ATT error: 0x85")
        STATE["reply"][self.ep] = body

    @dbus.service.method("org.bluez.GattCharacteristic1", in_signature="a{sv}", out_signature="ay")
    def ReadValue(self, options):
        log("ReadValue", self.ep)
        if not connected():
            raise err("Failed", "Not connected")
        return dbus.Array(STATE["reply"].pop(self.ep, b""), signature="y")


class Desc(Obj):
    def __init__(self, bus, path, char, name):
        self.name = name
        Obj.__init__(self, bus, path, {"org.bluez.GattDescriptor1": {
            "UUID": "00002901-0000-1000-8000-00805f9b34fb", "Characteristic": dbus.ObjectPath(char)}})

    @dbus.service.method("org.bluez.GattDescriptor1", in_signature="a{sv}", out_signature="ay")
    def ReadValue(self, options):
        return dbus.Array(self.name.encode(), signature="y")


dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
BUS = dbus.SystemBus()
ROOT = Root(BUS)
ADAPTER_OBJ = Adapter(BUS, ADAPTER, {"org.bluez.Adapter1": {
    "Address": "02:00:00:00:00:00", "Powered": dbus.Boolean(not A.powered_off),
    "Discovering": dbus.Boolean(False)}})
ROOT.objs[ADAPTER] = ADAPTER_OBJ
if A.known:
    ROOT.add(Device(BUS, DEV, "02:00:00:00:00:01", A.name, [SVC]))
    ROOT.objs[DEV].drop("org.bluez.Device1", "RSSI")
name = dbus.service.BusName("org.bluez", BUS)
print("READY", flush=True)
GLib.MainLoop().run()
