#!/usr/bin/python3
"""A phone's view of a provisioning device, through bluetoothd's D-Bus API (python3-dbus
+ GLib only): LE discovery on ADAPTER, the device found by its advertised name, connect,
services resolved, the endpoint map built from the 0x2901 descriptors, then exchanges
(write with response, then read).

Usage: ble_central.py ADAPTER NAME [SIZE]
  Starts discovery, prints SCANNING, waits (30 s) for a device named NAME, connects and
  checks: the advertised service UUID, a 0x2901 descriptor on every characteristic of the
  service, proto-ver answers JSON, and a SIZE-byte write to custom-data (default 406, the
  size of a security-2 message) reads back the same bytes.
One line "CHECK name ok|fail detail" per check; exit 0 when all passed."""
import json
import sys
import time

import dbus

from bluez_phone import BLUEZ, CHR_IF, DEV_IF, DSC_IF, PROPS, USER_DESC, Phone

SVC_UUID = "021a9004-0382-4aea-bff4-6b3f1c5adfb4"
ADAPTER, NAME = sys.argv[1], sys.argv[2]
SIZE = int(sys.argv[3]) if len(sys.argv) > 3 else 406
T0 = time.monotonic()
phone = Phone(ADAPTER, "central")
bus, apath, aprops, adapter, om = phone.bus, phone.apath, phone.aprops, phone.adapter, phone.om
log, check, wait_for = phone.log, phone.check, phone.wait_for
failed = phone.failed


def find_dev():
    for path, ifs in om.GetManagedObjects().items():
        d = ifs.get(DEV_IF)
        if d and path.startswith(apath + "/") and str(d.get("Name", "")) == NAME:
            return path, d
    return None


adapter.SetDiscoveryFilter({"Transport": "le"})
adapter.StartDiscovery()
wait_for(lambda: aprops.Get("org.bluez.Adapter1", "Discovering"), 5)
log("SCANNING on", ADAPTER, aprops.Get("org.bluez.Adapter1", "Address"))
r = wait_for(find_dev, 30)
if not r:
    check("found", False, "no device named %s in 30 s" % NAME)
    sys.exit(1)
path, d = r
uuids = [str(u) for u in d.get("UUIDs", [])]
check("found", True, "%s at %s in %.1f s, RSSI %s" % (NAME, d.get("Address"), time.monotonic() - T0,
                                                       d.get("RSSI", "none")))
check("adv-uuid", SVC_UUID in uuids, "UUIDs %s" % uuids)
adapter.StopDiscovery()
dobj = bus.get_object(BLUEZ, path)
dprops = dbus.Interface(dobj, PROPS)
t = time.monotonic()
dbus.Interface(dobj, DEV_IF).Connect(timeout=30)
check("connect", True, "%.2f s" % (time.monotonic() - t))
if not wait_for(lambda: dprops.Get(DEV_IF, "ServicesResolved"), 20):
    check("services", False, "not resolved in 20 s")
    sys.exit(1)
objs = om.GetManagedObjects()
svc = [p for p, i in objs.items() if p.startswith(path + "/") and
       str(i.get("org.bluez.GattService1", {}).get("UUID", "")) == SVC_UUID]
check("service", len(svc) == 1, "%d provisioning services" % len(svc))
if not svc:
    sys.exit(1)
chars = {p: i[CHR_IF] for p, i in objs.items() if CHR_IF in i and str(i[CHR_IF]["Service"]) == svc[0]}
eps = {}
missing = []
for p in sorted(chars):
    descs = [dp for dp, i in objs.items() if DSC_IF in i and str(i[DSC_IF]["Characteristic"]) == p and
             str(i[DSC_IF]["UUID"]) == USER_DESC]
    if not descs:
        missing.append(str(chars[p]["UUID"]))
        continue
    name = bytes(dbus.Interface(bus.get_object(BLUEZ, descs[0]), DSC_IF).ReadValue({})).decode()
    eps[name.lower()] = p
check("descriptors", bool(chars) and not missing,
      "%d characteristics, names %s%s" % (len(chars), sorted(eps), ", without 0x2901: %s" % missing if missing else ""))


def exchange(ep, data):
    ch = dbus.Interface(bus.get_object(BLUEZ, eps[ep]), CHR_IF)
    ch.WriteValue(dbus.Array([dbus.Byte(b) for b in data], signature="y"), {"type": "request"})
    return bytes(ch.ReadValue({}))


if "proto-ver" in eps:
    v = exchange("proto-ver", b"---")
    try:
        ok = "prov" in json.loads(v.decode())
    except ValueError:
        ok = False
    check("proto-ver", ok, v.decode(errors="replace")[:120])
else:
    check("proto-ver", False, "no proto-ver endpoint")
if "custom-data" in eps:
    data = bytes((i * 7 + 3) & 0xFF for i in range(SIZE))
    t = time.monotonic()
    back = exchange("custom-data", data)
    check("long-exchange", back == data, "%d bytes written, %d read back, %.2f s" % (SIZE, len(back),
                                                                                  time.monotonic() - t))
dbus.Interface(dobj, DEV_IF).Disconnect()
wait_for(lambda: not dprops.Get(DEV_IF, "Connected"), 10)
check("disconnect", not dprops.Get(DEV_IF, "Connected"))
sys.exit(1 if failed else 0)
