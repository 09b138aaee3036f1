#!/bin/bash
# Bluetooth in the lab: three emulated controllers and the real bluetoothd; a stand-in
# provisioning device (ble_peripheral.py) on hci0 advertises and serves the section-7.2
# GATT layout, and a python3-dbus "phone" (ble_central.py) on hci1 discovers it, connects,
# maps the endpoints from the 0x2901 descriptors and runs a proto-ver and a 406-byte
# exchange (a security-2 message's size).
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
trap 'kill $PER 2>/dev/null; save_artifacts' EXIT
PER=
lab_ble_up || exit 1
check_pass ble-up "$(ls /sys/class/bluetooth | tr '\n' ' ')"
n=$(bluetoothctl list 2>/dev/null | grep -c Controller)
[ "$n" -ge 3 ] && check_pass adapters "bluetoothd manages $n adapters" || check_fail adapters "bluetoothctl list: $n"

# The phone scans first; the device advertises after (btdev reports advertisements only
# when scanning or advertising is switched on).
timeout 80 $PY -u "$G/ble_central.py" $BLE_PHONE PROV_SMOKE 406 > $L/central.log 2>&1 &
CEN=$!
wait_for 15 grep -q SCANNING $L/central.log || check_fail scanning "$(tail -3 $L/central.log | tr '\n' ' ')"
$PY -u "$G/ble_peripheral.py" $BLE_DEV PROV_SMOKE > $L/peripheral.log 2>&1 &
PER=$!
wait_for 15 grep -qE 'READY|FAILED' $L/peripheral.log
grep -q READY $L/peripheral.log && check_pass advertise "GATT application and advertisement registered on $BLE_DEV" \
    || check_fail advertise "$(tail -3 $L/peripheral.log | tr '\n' ' ')"
wait $CEN
crc=$?
record_checks "" $L/central.log $crc central
grep -q 'write custom-data' $L/peripheral.log && check_pass peripheral-saw-write "$(grep -m1 'write custom-data' $L/peripheral.log)" \
    || check_fail peripheral-saw-write "no write reached the stand-in device"
exit $FAILED
