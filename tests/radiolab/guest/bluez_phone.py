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
