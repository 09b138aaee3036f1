#!/usr/bin/python3
"""A scripted bluetoothd (org.bluez on a private bus) for wifiprovd's BLE transport on a
machine without Bluetooth: the device side of BlueZ's D-Bus API. It offers an
ObjectManager at / with one adapter /org/bluez/hci0 (Adapter1 with Address, Name, Alias
and Powered, GattManager1, LEAdvertisingManager1; Alias follows BlueZ: "" sets it back to
the Name, every Set is logged). RegisterApplication reads the caller's object tree
as bluetoothd does (GetManagedObjects) and logs every characteristic and descriptor with
its UUID and flags; RegisterAdvertisement reads the advertisement's properties. A second
registration of the same object is refused with org.bluez.Error.AlreadyExists, as BlueZ
does. Once both are registered it plays a phone on "device" DEV: it finds the endpoints
by reading the 0x2901 descriptors, writes proto-ver and reads the reply, and on a
security-0 device sends prov-session's Cmd0, which opens the link's session (replies
logged).

AgentManager1 at /org/bluez logs RegisterAgent / UnregisterAgent, Adapter1.RemoveDevice is
logged; Pair(DEVICE) at /test plays bluetoothd asking the registered agent to confirm a Just
Works pairing (RequestAuthorization) and logs "PAIR DEVICE ok|<error>"; Disconnect(DEVICE)
emits that device's PropertiesChanged Connected false.

The test drives it through org.wifiprov.FakeBluez at /test: PowerOff, PowerOn (Powered and
PropertiesChanged; registrations stay, as they do in BlueZ), RemoveAdapter, AddAdapter
(InterfacesRemoved / InterfacesAdded; registrations go with the adapter). Killing the
process and starting it again is bluetoothd restarting.

Usage: fake_bluez_peripheral.py --log FILE [--no-adapter] [--powered-off] [--alias NAME]
Prints READY on stdout once the name is owned."""
import argparse
import json
import sys

import dbus
import dbus.exceptions
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

OM = "org.freedesktop.DBus.ObjectManager"
PROPS = "org.freedesktop.DBus.Properties"
ADAPTER = "/org/bluez/hci0"
DEV = ADAPTER + "/dev_02_00_00_00_00_01"
CUD = "00002901-0000-1000-8000-00805f9b34fb"

ap = argparse.ArgumentParser()
ap.add_argument("--log", required=True)
ap.add_argument("--no-adapter", action="store_true")
ap.add_argument("--powered-off", action="store_true")
ap.add_argument("--alias", default="fake", help="the adapter's alias at start (its Name is 'fake')")
A = ap.parse_args()
LOG = open(A.log, "a", buffering=1)


def log(*a):
    print(*a, file=LOG)


def err(name, msg):
    return dbus.exceptions.DBusException(msg, name="org.bluez.Error." + name)


# Registrations: (sender, path) of the application and of the advertisement.
REG = {"app": None, "adv": None}


def exchange(sender, app):
    """A phone's first exchanges, endpoints found by their 0x2901 names: proto-ver, then
    (security 0) prov-session Cmd0, which opens the link's session."""
    objs = BUS.get_object(sender, app).GetManagedObjects(dbus_interface=OM)
    chars = {}
    for path, ifaces in objs.items():
        d = ifaces.get("org.bluez.GattDescriptor1")
        if d and str(d["UUID"]) == CUD:
            desc = BUS.get_object(sender, path)
            name = bytes(desc.ReadValue({}, dbus_interface="org.bluez.GattDescriptor1")).decode()
            chars[name] = BUS.get_object(sender, str(d["Characteristic"]))
    opts = {"device": dbus.ObjectPath(DEV)}

    def write_read(name, value):
        chars[name].WriteValue(dbus.Array(value, signature="y"), opts, dbus_interface="org.bluez.GattCharacteristic1")
        return bytes(chars[name].ReadValue(opts, dbus_interface="org.bluez.GattCharacteristic1"))
    if "proto-ver" not in chars or "prov-session" not in chars:
        log("EXCHANGE endpoints missing:", sorted(chars))
        return
    version = write_read("proto-ver", b"---").decode(errors="replace")
    log("EXCHANGE proto-ver", " ".join(version.split()))
    if json.loads(version)["prov"]["sec_ver"] == 0:
        log("EXCHANGE prov-session", write_read("prov-session", bytes.fromhex("5203a20100")).hex())


def exchange_soon():
    """Called when one registration completed: once both are, a phone comes by."""
    def run():
        try:
            exchange(*REG["app"])
        except dbus.exceptions.DBusException as e:
            log("EXCHANGE failed", e.get_dbus_name(), e.get_dbus_message())
        return False
    if REG["app"] and REG["adv"]:
        GLib.idle_add(run)


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


class Adapter(dbus.service.Object):
    def __init__(self, bus):
        self.path = ADAPTER
        self.props = {
            "org.bluez.Adapter1": {"Address": "02:00:00:00:00:AA", "Name": "fake", "Alias": A.alias,
                                   "Powered": dbus.Boolean(not A.powered_off)},
            "org.bluez.GattManager1": {},
            "org.bluez.LEAdvertisingManager1": {"ActiveInstances": dbus.Byte(0)},
        }
        dbus.service.Object.__init__(self, bus, ADAPTER)

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        return self.props[iface][name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.props.get(iface, {})

    @dbus.service.method(PROPS, in_signature="ssv")
    def Set(self, iface, name, value):
        if name == "Alias":
            alias = str(value) or self.props[iface]["Name"]
            log("Set", iface, name, repr(str(value)))
            self.props[iface]["Alias"] = alias
            self.PropertiesChanged(iface, {"Alias": alias}, [])
            return
        log("Set", iface, name, bool(value))
        self.power(bool(value))

    @dbus.service.signal(PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, iface, changed, invalidated):
        pass

    def power(self, on):
        self.props["org.bluez.Adapter1"]["Powered"] = dbus.Boolean(on)
        self.PropertiesChanged("org.bluez.Adapter1", {"Powered": dbus.Boolean(on)}, [])

    @dbus.service.method("org.bluez.Adapter1", in_signature="o")
    def RemoveDevice(self, device):
        log("RemoveDevice", device)

    @dbus.service.method("org.bluez.GattManager1", in_signature="oa{sv}", sender_keyword="sender",
                         async_callbacks=("ok", "fail"))
    def RegisterApplication(self, app, opts, sender=None, ok=None, fail=None):
        if REG["app"] == (sender, str(app)):
            fail(err("AlreadyExists", "Already Exists"))
            return

        def read_tree():
            try:
                objs = BUS.get_object(sender, app).GetManagedObjects(dbus_interface=OM)
            except dbus.exceptions.DBusException as e:
                fail(err("Failed", "cannot read the application: " + e.get_dbus_message()))
                return False
            n = 0
            for path in sorted(objs):
                for iface, p in objs[path].items():
                    if iface in ("org.bluez.GattCharacteristic1", "org.bluez.GattDescriptor1"):
                        log("OBJ", iface.split(".")[-1], p["UUID"], ",".join(str(f) for f in p["Flags"]))
                        n += iface == "org.bluez.GattCharacteristic1"
            REG["app"] = (sender, str(app))
            log("RegisterApplication", sender, app, "characteristics", n)
            ok()
            exchange_soon()
            return False
        GLib.idle_add(read_tree)

    @dbus.service.method("org.bluez.GattManager1", in_signature="o", sender_keyword="sender")
    def UnregisterApplication(self, app, sender=None):
        log("UnregisterApplication", app)
        if REG["app"] != (sender, str(app)):
            raise err("DoesNotExist", "Does Not Exist")
        REG["app"] = None

    @dbus.service.method("org.bluez.LEAdvertisingManager1", in_signature="oa{sv}", sender_keyword="sender",
                         async_callbacks=("ok", "fail"))
    def RegisterAdvertisement(self, adv, opts, sender=None, ok=None, fail=None):
        if REG["adv"] == (sender, str(adv)):
            fail(err("AlreadyExists", "Already Exists"))
            return

        def read_adv():
            try:
                p = BUS.get_object(sender, adv).GetAll("org.bluez.LEAdvertisement1", dbus_interface=PROPS)
            except dbus.exceptions.DBusException as e:
                fail(err("Failed", "cannot read the advertisement: " + e.get_dbus_message()))
                return False
            REG["adv"] = (sender, str(adv))
            log("RegisterAdvertisement", sender, adv, "LocalName", p.get("LocalName"))
            ok()
            exchange_soon()
            return False
        GLib.idle_add(read_adv)

    @dbus.service.method("org.bluez.LEAdvertisingManager1", in_signature="o", sender_keyword="sender")
    def UnregisterAdvertisement(self, adv, sender=None):
        log("UnregisterAdvertisement", adv)
        if REG["adv"] != (sender, str(adv)):
            raise err("DoesNotExist", "Does Not Exist")
        REG["adv"] = None


AGENT = {}


class AgentManager(dbus.service.Object):
    @dbus.service.method("org.bluez.AgentManager1", in_signature="os", sender_keyword="sender")
    def RegisterAgent(self, path, capability, sender=None):
        log("RegisterAgent", path, capability)
        if AGENT.get("agent") == (sender, str(path)):
            raise err("AlreadyExists", "Already Exists")
        AGENT["agent"] = (sender, str(path))

    @dbus.service.method("org.bluez.AgentManager1", in_signature="o", sender_keyword="sender")
    def UnregisterAgent(self, path, sender=None):
        log("UnregisterAgent", path)
        AGENT.pop("agent", None)


class Device(dbus.service.Object):
    @dbus.service.signal(PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, iface, changed, invalidated):
        pass


DEVICES = {}


class Test(dbus.service.Object):
    @dbus.service.method("org.wifiprov.FakeBluez", in_signature="o")
    def Disconnect(self, device):
        if str(device) not in DEVICES:
            DEVICES[str(device)] = Device(BUS, str(device))
        log("TEST Disconnect", device)
        DEVICES[str(device)].PropertiesChanged("org.bluez.Device1", {"Connected": dbus.Boolean(False)}, [])

    @dbus.service.method("org.wifiprov.FakeBluez", in_signature="o")
    def Pair(self, device):
        if "agent" not in AGENT:
            log("PAIR", device, "no-agent")
            return
        sender, path = AGENT["agent"]
        try:
            BUS.get_object(sender, path).RequestAuthorization(device, dbus_interface="org.bluez.Agent1")
            log("PAIR", device, "ok")
        except dbus.exceptions.DBusException as e:
            log("PAIR", device, e.get_dbus_name())

    @dbus.service.method("org.wifiprov.FakeBluez")
    def PowerOff(self):
        log("TEST PowerOff")
        ADAPTER_OBJ.power(False)

    @dbus.service.method("org.wifiprov.FakeBluez")
    def PowerOn(self):
        log("TEST PowerOn")
        ADAPTER_OBJ.power(True)

    @dbus.service.method("org.wifiprov.FakeBluez")
    def RemoveAdapter(self):
        global ADAPTER_OBJ
        log("TEST RemoveAdapter")
        REG["app"] = REG["adv"] = None
        ROOT.objs.pop(ADAPTER, None)
        ROOT.InterfacesRemoved(dbus.ObjectPath(ADAPTER), list(ADAPTER_OBJ.props))
        ADAPTER_OBJ.remove_from_connection()
        ADAPTER_OBJ = None

    @dbus.service.method("org.wifiprov.FakeBluez")
    def AddAdapter(self):
        log("TEST AddAdapter")
        add_adapter()


def add_adapter():
    global ADAPTER_OBJ
    ADAPTER_OBJ = Adapter(BUS)
    ROOT.objs[ADAPTER] = ADAPTER_OBJ
    ROOT.InterfacesAdded(dbus.ObjectPath(ADAPTER), ADAPTER_OBJ.props)


dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
BUS = dbus.SystemBus()
ROOT = Root(BUS)
ADAPTER_OBJ = None
if not A.no_adapter:
    add_adapter()
TEST = Test(BUS, "/test")
AGENT_MANAGER = AgentManager(BUS, "/org/bluez")
NAME = dbus.service.BusName("org.bluez", BUS)
log("STARTED", BUS.get_unique_name())
print("READY", flush=True)
sys.stdout.close()
GLib.MainLoop().run()
