#!/usr/bin/python3
"""wifiprovd's BLE GATT server as a phone sees it, through bluetoothd's D-Bus API
(python3-dbus + GLib), not through the project's C code.

Usage: ble_gatt_check.py ADAPTER NAME SERVICE_UUID MFG_HEX
  Starts LE discovery on ADAPTER and prints SCANNING (start the device after that),
  waits for a device advertising SERVICE_UUID, then checks:
    - the advertised name is NAME, the service UUID and the manufacturer data MFG_HEX
      (company id little-endian first) are in the advertisement;
    - once connected, the device's name is still NAME: bluetoothd reads the GAP Device
      Name characteristic at connection and shows that instead of the advertised name;
    - the service has one characteristic per endpoint, flags read+write, UUIDs by the
      section-7.2 rule, and a 0x2901 descriptor with the endpoint name on every one;
    - a security-0 exchange: proto-ver (JSON, sec_ver 0), prov-session Cmd0 -> Resp0
      (PROTOCOL.md A.1, byte for byte), prov-config GetStatus;
    - a 406-byte write to custom-data (the device echoes it) read back whole, a read at
      the exact end (empty) and past it (ATT 0x07), an empty write (ATT 0x0D);
    - after a disconnect and a new connection the value is gone (the session and its
      values went with the link); a malformed session message gives ATT 0x80 and the
      device drops the link.
One line "CHECK name ok|fail detail" per check; exit 0 when all passed."""
import json
import sys
import time

import dbus

from bluez_phone import BLUEZ, DEV_IF, IDS, PROPS, Phone, char_uuid

ADAPTER, NAME, SVC_UUID, MFG = sys.argv[1], sys.argv[2], sys.argv[3].lower(), bytes.fromhex(sys.argv[4])
phone = Phone(ADAPTER, "check")
bus, apath, aprops, adapter, om = phone.bus, phone.apath, phone.aprops, phone.adapter, phone.om
log, check, wait_for = phone.log, phone.check, phone.wait_for


def find_dev():
    for path, ifs in om.GetManagedObjects().items():
        d = ifs.get(DEV_IF)
        if d and path.startswith(apath + "/") and SVC_UUID in [str(u).lower() for u in d.get("UUIDs", [])] \
                and d.get("Name"):
            return path, d
    return None


def att_error(e):
    """The ATT code of a failed remote access: bluetoothd names some (InvalidOffset 0x07,
    InvalidValueLength 0x0D) and reports the others as "... ATT error: 0x80"."""
    msg, name = e.get_dbus_message() or "", e.get_dbus_name()
    named = {"org.bluez.Error.InvalidOffset": "07", "org.bluez.Error.InvalidValueLength": "0d"}
    if name in named:
        return named[name]
    # bluetoothd 5.66 words these two as "Invalid offset" / "Invalid Length".
    by_msg = {"invalid offset": "07", "invalid length": "0d"}
    if msg.strip().lower() in by_msg:
        return by_msg[msg.strip().lower()]
    return msg.rsplit("0x", 1)[-1][:2].lower() if "ATT error: 0x" in msg else name


def connect(dobj, dprops):
    return phone.connect(dobj, dprops)


def resolve(path):
    return phone.resolve(path, SVC_UUID)


def endpoint_map(chars, objs):
    return phone.endpoint_map(chars, objs, SVC_UUID)


write, read, exchange = phone.write, phone.read, phone.exchange


# ---- discovery first, then the device advertises -------------------------------------------
phone.forget_devices()
adapter.SetDiscoveryFilter({"Transport": "le"})
adapter.StartDiscovery()
wait_for(lambda: aprops.Get("org.bluez.Adapter1", "Discovering"), 5)
log("SCANNING on", ADAPTER, aprops.Get("org.bluez.Adapter1", "Address"))
r = wait_for(find_dev, 60)
if not check("found", bool(r), "a device advertising %s" % SVC_UUID if r else "nothing advertised %s in 60 s" % SVC_UUID):
    sys.exit(1)
path, d = r
wait_for(lambda: str(om.GetManagedObjects()[path][DEV_IF].get("Name", "")) == NAME, 5)
d = om.GetManagedObjects()[path][DEV_IF]
log("found", path, dict((k, str(v)) for k, v in d.items() if k in ("Address", "Name", "RSSI", "UUIDs")))
check("adv-name", str(d.get("Name", "")) == NAME, "Name %r, want %r (%d bytes)" % (str(d.get("Name", "")), NAME, len(NAME)))
check("adv-uuid", [str(u).lower() for u in d.get("UUIDs", [])] == [SVC_UUID], "UUIDs %s" % [str(u) for u in d.get("UUIDs", [])])
mfg = {int(k): bytes(v) for k, v in d.get("ManufacturerData", {}).items()}
want_mfg = {MFG[0] | MFG[1] << 8: MFG[2:]}
check("adv-mfg", mfg == want_mfg, "ManufacturerData %s, want %s" % ({hex(k): v.hex() for k, v in mfg.items()},
                                                                   {hex(k): v.hex() for k, v in want_mfg.items()}))
adapter.StopDiscovery()

# ---- GATT layout -----------------------------------------------------------------------------
dobj = bus.get_object(BLUEZ, path)
dprops = dbus.Interface(dobj, PROPS)
ok, secs = connect(dobj, dprops)
if not check("connect", ok, "services resolved in %.2f s" % secs):
    sys.exit(1)
chars, objs, svc = resolve(path)
if not check("service", chars is not None, "%d provisioning services" % len(svc)):
    sys.exit(1)
gap = lambda: str(om.GetManagedObjects()[path][DEV_IF].get("Name", ""))
wait_for(lambda: gap() == NAME, 3)
check("gap-name", gap() == NAME, "connected, the device's name is %r (want %r)" % (gap(), NAME))
eps, problems = endpoint_map(chars, objs)
check("descriptors", len(eps) == len(chars) and not problems and set(eps) == set(IDS),
      "%d characteristics: %s%s" % (len(chars), sorted(eps), "; " + "; ".join(problems) if problems else ""))
check("char-uuids", all(str(chars[eps[n]]["UUID"]).lower() == char_uuid(SVC_UUID, IDS[n]) for n in eps if n in IDS),
      ", ".join("%s=%s" % (n, str(chars[eps[n]]["UUID"])[:8]) for n in sorted(eps)))
mtu = chars[eps["custom-data"]].get("MTU", "?") if "custom-data" in eps else "?"
log("ATT MTU", mtu)
if set(IDS) - set(eps):
    sys.exit(1)

# ---- security 0, byte for byte ----------------------------------------------------------------
v = exchange(eps, "proto-ver", b"---")
try:
    prov = json.loads(v.decode())["prov"]
    ok = prov.get("ver") == "v1.1" and prov.get("sec_ver") == 0 and "no_sec" in prov.get("cap", [])
except (ValueError, KeyError, AttributeError):
    ok = False
check("proto-ver", ok, v.decode(errors="replace").replace("\t", "").replace("\n", "")[:160])
resp0 = exchange(eps, "prov-session", bytes.fromhex("5203a20100"))
check("sec0-session", resp0 == bytes.fromhex("52050801aa0100"), "Resp0 %s" % resp0.hex())
status = exchange(eps, "prov-config", bytes.fromhex("5200"))
check("sec0-get-status", status[:3] == bytes.fromhex("08015a"), "GetStatus reply %s" % status.hex())

# ---- long write, long read, offsets, empty write -------------------------------------------------
data = bytes((i * 7 + 3) & 0xFF for i in range(406))
t = time.monotonic()
write(eps, "custom-data", data)
wrote = time.monotonic() - t
back = read(eps, "custom-data")
check("long-write-read", back == data, "406 bytes written in %.2f s, %d read back (MTU %s)" % (wrote, len(back), mtu))
tail = read(eps, "custom-data", 400)
check("read-offset", tail == data[400:], "6 bytes from offset 400: %s" % tail.hex())
check("read-at-end", read(eps, "custom-data", 406) == b"", "offset 406 gives an empty value")
try:
    read(eps, "custom-data", 407)
    check("read-past-end", False, "offset 407 was answered")
except dbus.exceptions.DBusException as e:
    check("read-past-end", att_error(e) == "07", "offset 407: %s %s" % (e.get_dbus_name(), e.get_dbus_message()))
try:
    write(eps, "custom-data", b"")
    check("empty-write", False, "an empty write was accepted")
except dbus.exceptions.DBusException as e:
    check("empty-write", att_error(e) == "0d", "refused: %s %s" % (e.get_dbus_name(), e.get_dbus_message()))
check("empty-write-harmless", read(eps, "custom-data") == data, "the reply before it is still the value")

# ---- the session goes with the link ---------------------------------------------------------------
dbus.Interface(dobj, DEV_IF).Disconnect()
check("disconnect", wait_for(lambda: not dprops.Get(DEV_IF, "Connected"), 10), "")
print("MARK disconnected", flush=True)
time.sleep(0.5)
ok, secs = connect(dobj, dprops)
if check("reconnect", ok, "services resolved in %.2f s" % secs):
    chars, objs, svc = resolve(path)
    eps, problems = endpoint_map(chars, objs)
    after = read(eps, "custom-data")
    check("value-gone", after == b"", "custom-data after reconnect: %d bytes" % len(after))
    resp0 = exchange(eps, "prov-session", bytes.fromhex("5203a20100"))
    check("new-session", resp0 == bytes.fromhex("52050801aa0100"), "Resp0 %s" % resp0.hex())
    # A message that is not a session message: the exchange fails (0x80) and the device drops the link.
    try:
        write(eps, "prov-session", bytes.fromhex("ffffff01"))
        check("protocol-error", False, "a malformed session message was accepted")
    except dbus.exceptions.DBusException as e:
        check("protocol-error", att_error(e) == "80", "refused: %s" % e.get_dbus_message())
    check("link-dropped", wait_for(lambda: not dprops.Get(DEV_IF, "Connected"), 10),
          "the device closed the link after the protocol error")
if dprops.Get(DEV_IF, "Connected"):
    dbus.Interface(dobj, DEV_IF).Disconnect()
log("done; failed:", phone.failed)
sys.exit(1 if phone.failed else 0)
