#!/usr/bin/python3
"""A phone that gives up in the middle of a security-1 handshake, through bluetoothd's
D-Bus API (python3-dbus + GLib), not through the project's C code.

Usage: ble_half_handshake.py ADAPTER NAME SERVICE_UUID
  Finds the device advertising NAME (discovery restarted every 4 s: the emulated
  controller reports an advertiser only when scanning is switched on), connects, writes
  prov-session SessionCmd0 (security 1, RFC 7748's example X25519 public key) and reads
  SessionResp0, prints "MARK half-done", then disconnects without sending SessionCmd1.
One line "CHECK name ok|fail detail" per check; exit 0 when all passed."""
import sys
import time

import dbus

from bluez_phone import BLUEZ, DEV_IF, PROPS, Phone

ADAPTER, NAME, SVC_UUID = sys.argv[1], sys.argv[2], sys.argv[3].lower()
CLIENT_PUB = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
# SessionData { sec_ver = SecScheme1 (2), sec1 (11) { msg = Session_Command0, sc0 (20) { client_pubkey (1) } } }
CMD0 = bytes([0x10, 0x01, 0x5A, 0x25, 0xA2, 0x01, 0x22, 0x0A, 0x20]) + CLIENT_PUB
# SessionData { sec_ver = 1, sec1 { msg = Session_Response0 (1), sr0 (21) { status 0, device_pubkey (2) 32 bytes ...
RESP0_HEAD = bytes([0x10, 0x01, 0x5A])
phone = Phone(ADAPTER, "half")


def find_dev():
    for path, ifs in phone.om.GetManagedObjects().items():
        d = ifs.get(DEV_IF)
        if d and path.startswith(phone.apath + "/") and str(d.get("Name", "")) == NAME:
            return path
    return None


phone.forget_devices()
phone.adapter.SetDiscoveryFilter({"Transport": "le"})
path, t0 = None, time.monotonic()
while not path and time.monotonic() - t0 < 40:
    phone.adapter.StartDiscovery()
    path = phone.wait_for(find_dev, 4)
    phone.adapter.StopDiscovery()
if not phone.check("found", bool(path), "%s in %.1f s" % (NAME, time.monotonic() - t0)):
    sys.exit(1)
dobj = phone.bus.get_object(BLUEZ, path)
dprops = dbus.Interface(dobj, PROPS)
ok, secs = phone.connect(dobj, dprops)
if not phone.check("connect", ok, "services resolved in %.2f s" % secs):
    sys.exit(1)
chars, objs, _ = phone.resolve(path, SVC_UUID)
eps, _ = phone.endpoint_map(chars or {}, objs, SVC_UUID)
if not phone.check("endpoints", "prov-session" in eps, sorted(eps)):
    sys.exit(1)
resp0 = phone.exchange(eps, "prov-session", CMD0)
# Sec1Payload: msg = 1 (08 01), then sr0 (field 21: aa 01) with device_pubkey (12 20 ...).
ok = resp0[:3] == RESP0_HEAD and bytes([0x08, 0x01, 0xAA, 0x01]) in resp0 and b"\x12\x20" in resp0
phone.check("cmd0-resp0", ok, "SessionResp0 %d bytes: %s" % (len(resp0), resp0.hex()[:40]))
print("MARK half-done", flush=True)
dbus.Interface(dobj, DEV_IF).Disconnect()
phone.check("disconnected", phone.wait_for(lambda: not dprops.Get(DEV_IF, "Connected"), 10),
            "the link closed before SessionCmd1")
sys.exit(1 if phone.failed else 0)
