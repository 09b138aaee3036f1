#!/usr/bin/python3
"""wifiprovd --ble-require-encryption as a phone that never asked to pair sees it, through
bluetoothd's D-Bus API (python3-dbus), not through the project's C code.

Usage: ble_encrypt_check.py ADAPTER SERVICE_UUID
  Starts LE discovery on ADAPTER and prints SCANNING (start the device after that),
  connects to the device advertising SERVICE_UUID and checks:
    - descriptors: every 0x2901 descriptor (endpoint name) reads without pairing;
    - value: a write of proto-ver is refused on a link that is not paired, or, when
      bluetoothd paired by itself (Just Works) after the device's insufficient-encryption
      answer, succeeds only on a link that is paired (Device1.Paired) afterwards: a value
      written and read over a link that was never encrypted fails the check. (On air the
      device answers ATT 0x0f; bluetoothd then tries to pair, and when that fails it
      reports another code over D-Bus: the scenario reads the ATT code from btmon.)
    The outcome is printed as "OUTCOME refused|paired ..." for the scenario's note.
One line "CHECK name ok|fail detail" per check; exit 0 when all passed."""
import sys

import dbus

from bluez_phone import BLUEZ, CHR_IF, DEV_IF, DSC_IF, PROPS, SVC_IF, USER_DESC, Phone

ADAPTER, SVC_UUID = sys.argv[1], sys.argv[2].lower()
phone = Phone(ADAPTER, "encrypt")
bus, apath, adapter, om = phone.bus, phone.apath, phone.adapter, phone.om


def find_dev():
    for path, ifs in om.GetManagedObjects().items():
        d = ifs.get(DEV_IF)
        if d and path.startswith(apath + "/") and SVC_UUID in [str(u).lower() for u in d.get("UUIDs", [])]:
            return path
    return None


for p, i in om.GetManagedObjects().items():
    if DEV_IF in i and p.startswith(apath + "/"):
        adapter.RemoveDevice(p)
adapter.SetDiscoveryFilter({"Transport": "le"})
adapter.StartDiscovery()
phone.log("SCANNING on", ADAPTER)
path = phone.wait_for(find_dev, 60)
if not phone.check("found", bool(path), path or "nothing advertised %s in 60 s" % SVC_UUID):
    sys.exit(1)
adapter.StopDiscovery()
dobj = bus.get_object(BLUEZ, path)
dprops = dbus.Interface(dobj, PROPS)
dbus.Interface(dobj, DEV_IF).Connect(timeout=30)
if not phone.check("connect", phone.wait_for(lambda: dprops.Get(DEV_IF, "ServicesResolved"), 20)):
    sys.exit(1)
objs = om.GetManagedObjects()
svc = [p for p, i in objs.items() if p.startswith(path + "/") and str(i.get(SVC_IF, {}).get("UUID", "")).lower() == SVC_UUID]
chars = [p for p, i in objs.items() if CHR_IF in i and svc and str(i[CHR_IF]["Service"]) == svc[0]]
names, problems = {}, []
for p, i in objs.items():
    if DSC_IF in i and str(i[DSC_IF]["Characteristic"]) in chars and str(i[DSC_IF]["UUID"]) == USER_DESC:
        try:
            names[bytes(dbus.Interface(bus.get_object(BLUEZ, p), DSC_IF).ReadValue({})).decode()] = \
                str(i[DSC_IF]["Characteristic"])
        except dbus.exceptions.DBusException as e:
            problems.append("%s: %s %s" % (p, e.get_dbus_name(), e.get_dbus_message()))
phone.check("descriptors-readable", len(chars) >= 5 and len(names) == len(chars) and not problems,
            "%d characteristics, names %s %s" % (len(chars), sorted(names), "; ".join(problems)))
if "proto-ver" not in names:
    sys.exit(1)
paired_before = bool(dprops.Get(DEV_IF, "Paired"))
chrc = dbus.Interface(bus.get_object(BLUEZ, names["proto-ver"]), CHR_IF)
try:
    chrc.WriteValue(dbus.Array([dbus.Byte(b) for b in b"---"], signature="y"), {"type": "request"}, timeout=30)
    value = bytes(chrc.ReadValue({}, timeout=30))
    paired = bool(dprops.Get(DEV_IF, "Paired"))
    print("OUTCOME paired: the value was read (%d bytes) after bluetoothd paired by itself (Paired before %s, "
          "after %s)" % (len(value), paired_before, paired), flush=True)
    phone.check("value-needs-encryption", paired and not paired_before and b"prov" in value,
                "read succeeded; Paired %s -> %s" % (paired_before, paired))
except dbus.exceptions.DBusException as e:
    name, msg = e.get_dbus_name(), e.get_dbus_message() or ""
    paired = bool(dprops.Get(DEV_IF, "Paired"))
    print("OUTCOME refused: %s %s (Paired %s)" % (name, msg, paired), flush=True)
    phone.check("value-needs-encryption", not paired, "refused: %s %s; Paired %s" % (name, msg, paired))
try:
    dbus.Interface(dobj, DEV_IF).Disconnect()
    adapter.RemoveDevice(path)
except dbus.exceptions.DBusException:
    pass
sys.exit(1 if phone.failed else 0)
