"""What the lab's BLE checkers share: a "phone" on one adapter of the real bluetoothd,
through its D-Bus API (python3-dbus + GLib only), and the CHECK lines the scenarios
record (one "CHECK name ok|fail detail" per check)."""
import time

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

BLUEZ = "org.bluez"
OM = "org.freedesktop.DBus.ObjectManager"
PROPS = "org.freedesktop.DBus.Properties"
DEV_IF = "org.bluez.Device1"
SVC_IF = "org.bluez.GattService1"
CHR_IF = "org.bluez.GattCharacteristic1"
DSC_IF = "org.bluez.GattDescriptor1"
USER_DESC = "00002901-0000-1000-8000-00805f9b34fb"
# The endpoints' 16-bit ids (PROTOCOL.md section 7.2).
IDS = {"prov-ctrl": 0xFF4F, "prov-scan": 0xFF50, "prov-session": 0xFF51, "prov-config": 0xFF52,
       "proto-ver": 0xFF53, "custom-data": 0xFF54}


def char_uuid(service, ep_id):
    """Section 7.2: hex digits 5-8 of the service UUID become the endpoint's 16-bit id."""
    return service[:4] + "%04x" % ep_id + service[8:]


class Phone:
    """The adapter ADAPTER ("hci1") of bluetoothd, its object tree, and a GLib context to wait in."""

    def __init__(self, adapter, tag):
        self.t0 = time.monotonic()
        self.tag = tag
        self.failed = []
        dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
        self.bus = dbus.SystemBus()
        self.apath = "/org/bluez/" + adapter
        aobj = self.bus.get_object(BLUEZ, self.apath)
        self.aprops = dbus.Interface(aobj, PROPS)
        self.adapter = dbus.Interface(aobj, "org.bluez.Adapter1")
        self.om = dbus.Interface(self.bus.get_object(BLUEZ, "/"), OM)
        self.ctx = GLib.MainLoop().get_context()

    def log(self, *a):
        print("%s: %6.2f" % (self.tag, time.monotonic() - self.t0), *a, flush=True)

    def check(self, name, ok, detail=""):
        print("CHECK %s %s %s" % (name, "ok" if ok else "fail", str(detail).replace("\n", " ")[:300]), flush=True)
        if not ok:
            self.failed.append(name)
        return ok

    def wait_for(self, pred, timeout):
        """Calls pred() every 50 ms, running the GLib context in between, until it is true or timeout s passed."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = pred()
            if r:
                return r
            while self.ctx.iteration(False):
                pass
            time.sleep(0.05)
        return pred()

    # ---- a device's GATT service, as a phone uses it -----------------------------------------
    def forget_devices(self):
        """Devices this adapter remembers from earlier scenarios would be "found" without advertising now."""
        for p, i in self.om.GetManagedObjects().items():
            if DEV_IF in i and p.startswith(self.apath + "/"):
                self.adapter.RemoveDevice(p)

    def connect(self, dobj, dprops):
        """Connect, then wait for ServicesResolved; (resolved, seconds)."""
        t = time.monotonic()
        dbus.Interface(dobj, DEV_IF).Connect(timeout=30)
        ok = self.wait_for(lambda: dprops.Get(DEV_IF, "ServicesResolved"), 20)
        return ok, time.monotonic() - t

    def resolve(self, path, svc_uuid):
        """(characteristics of the one service svc_uuid of device path, all objects, the services found)."""
        objs = self.om.GetManagedObjects()
        svc = [p for p, i in objs.items()
               if p.startswith(path + "/") and str(i.get(SVC_IF, {}).get("UUID", "")).lower() == svc_uuid]
        if len(svc) != 1:
            return None, objs, svc
        chars = {p: i[CHR_IF] for p, i in objs.items() if CHR_IF in i and str(i[CHR_IF]["Service"]) == svc[0]}
        return chars, objs, svc

    def endpoint_map(self, chars, objs, svc_uuid):
        """{endpoint name from its 0x2901 descriptor: characteristic path}, and what is wrong with the layout."""
        eps, problems = {}, []
        for p in sorted(chars):
            uuid = str(chars[p]["UUID"]).lower()
            descs = [dp for dp, i in objs.items() if DSC_IF in i and str(i[DSC_IF]["Characteristic"]) == p and
                     str(i[DSC_IF]["UUID"]) == USER_DESC]
            if len(descs) != 1:
                problems.append("%s has %d 0x2901 descriptors" % (uuid, len(descs)))
                continue
            name = bytes(dbus.Interface(self.bus.get_object(BLUEZ, descs[0]), DSC_IF).ReadValue({})).decode()
            eps[name] = p
            flags = sorted(str(f) for f in chars[p]["Flags"])
            if flags != ["read", "write"]:
                problems.append("%s flags %s" % (name, flags))
            if name in IDS and uuid != char_uuid(svc_uuid, IDS[name]):
                problems.append("%s has UUID %s, want %s" % (name, uuid, char_uuid(svc_uuid, IDS[name])))
        return eps, problems

    def write(self, eps, ep, data):
        """A write with response to endpoint ep."""
        chr_ = dbus.Interface(self.bus.get_object(BLUEZ, eps[ep]), CHR_IF)
        chr_.WriteValue(dbus.Array([dbus.Byte(b) for b in data], signature="y"), {"type": "request"})

    def read(self, eps, ep, offset=0):
        opts = {"offset": dbus.UInt16(offset)} if offset else {}
        return bytes(dbus.Interface(self.bus.get_object(BLUEZ, eps[ep]), CHR_IF).ReadValue(opts))

    def exchange(self, eps, ep, data):
        self.write(eps, ep, data)
        return self.read(eps, ep)
