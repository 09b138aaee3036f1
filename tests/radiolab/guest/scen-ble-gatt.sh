#!/bin/bash
# wifiprovd's BLE GATT server against the real bluetoothd, checked by a client that is not
# our C code: ble_gatt_check.py (python3-dbus) on another controller, as a phone sees the
# device. bluetoothd runs here with ExchangeMTU = 48 (the least bluetoothd takes; LE allows 23) so the 406-byte value
# needs a long write (Prepare/Execute Write) and a long read (Read Blob), which btmon's
# trace must show. Also: a missing adapter is a clear error, the adapter's alias (the GAP
# name) is the service name while it serves, and after SIGTERM the advertisement is gone from
# the controller and the alias is the one from before.
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
NAME_GIVEN=PROV_BLEGATT_CHECK_0123456789XY # 31 bytes: advertised cut to 29
NAME_ADV=${NAME_GIVEN:0:29}
SVC=021a9004-0382-4aea-bff4-6b3f1c5adfb4
MFG=e5020102 # company 0x02E5, data 01 02
DPID=
trap 'kill $DPID 2>/dev/null; bluetoothd_restart; save_artifacts' EXIT

# bluetoothd_restart [CONF]: bluetoothd again (with CONF), its adapters powered.
bluetoothd_restart() {
    local a
    [ -f $L/bluetoothd.pid ] || return 0
    kill "$(cat $L/bluetoothd.pid)" 2>/dev/null
    wait_for 5 sh -c "! kill -0 $(cat $L/bluetoothd.pid) 2>/dev/null"
    /usr/libexec/bluetooth/bluetoothd -n -d ${1:+-f "$1"} >> $L/bluetoothd.log 2>&1 &
    echo $! > $L/bluetoothd.pid
    for a in $BLE_DEV $BLE_PHONE $BLE_PHONE2; do
        wait_for 20 bluez_adapter_ok $a || { check_fail bluetoothd "bluetoothd does not show $a"; return 1; }
        bluez_power $a true
        wait_for 10 bluez_powered $a || { check_fail bluetoothd "$a does not power on"; return 1; }
    done
}
DAEMON=("$LAB_DAEMON" --transport ble --wifi sim --security 0 --force-insecure --state-dir $L/st-gatt --reprovision --auto-stop 0
        --no-qr -v)

lab_ble_up || exit 1
printf '[GATT]\nExchangeMTU = 48\n' > $L/bluetoothd-mtu48.conf
bluetoothd_restart $L/bluetoothd-mtu48.conf || exit 1

# No such adapter: exit 1, and the message lists the adapters there are.
out=$(timeout 30 "${DAEMON[@]}" --ble-adapter hci9 2>&1)
rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q "adapter hci9 not found; bluetoothd has: .*$BLE_DEV"; then
    check_pass no-adapter "exit 1: $(echo "$out" | grep -m1 'hci9 not found' | cut -c1-140)"
else
    check_fail no-adapter "exit $rc: $(echo "$out" | tail -3 | tr '\n' ' ')"
fi

# bluez_alias ADAPTER: its Adapter1.Alias.
bluez_alias() {
    dbus-send --system --print-reply --dest=org.bluez /org/bluez/$1 org.freedesktop.DBus.Properties.Get \
        string:org.bluez.Adapter1 string:Alias 2>/dev/null | sed -n 's/.*variant *string "\(.*\)"$/\1/p'
}
ALIAS_BEFORE=$(bluez_alias $BLE_DEV)

# The phone scans first; the device starts advertising after (btdev reports advertisements
# only when scanning or advertising is switched on).
timeout 150 $PY -u "$G/ble_gatt_check.py" $BLE_PHONE "$NAME_ADV" $SVC $MFG > $L/gatt-check.log 2>&1 &
CHK=$!
wait_for 15 grep -q SCANNING $L/gatt-check.log || check_fail scanning "$(tail -3 $L/gatt-check.log | tr '\n' ' ')"
"${DAEMON[@]}" --ble-adapter $BLE_DEV --service-name "$NAME_GIVEN" --ble-mfg-data $MFG --custom-data-command cat \
    > $L/wifiprovd-gatt.log 2>&1 &
DPID=$!
if wait_for 30 grep -q 'ble: advertising' $L/wifiprovd-gatt.log; then
    check_pass registered "$(grep -m1 'ble: advertising' $L/wifiprovd-gatt.log | cut -c1-160)"
else
    check_fail registered "$(tail -5 $L/wifiprovd-gatt.log | tr '\n' ' ')"
fi
wait $CHK
crc=$?
[ "$(bluez_alias $BLE_DEV)" = "$NAME_ADV" ] && check_pass alias-set "$BLE_DEV's alias is \"$NAME_ADV\" (was \"$ALIAS_BEFORE\")" \
    || check_fail alias-set "$BLE_DEV's alias is \"$(bluez_alias $BLE_DEV)\", want \"$NAME_ADV\""
record_checks "" $L/gatt-check.log $crc checker

# The device's side: the session closed with the link, the protocol error dropped it.
grep -q 'ble: /org/bluez/.* disconnected' $L/wifiprovd-gatt.log && grep -q 'closing its session' $L/wifiprovd-gatt.log \
    && check_pass session-closed "$(grep -m1 'closing its session' $L/wifiprovd-gatt.log | cut -c1-140)" \
    || check_fail session-closed "no session closed on disconnect in the daemon log"
grep -q 'dropping its session and the link' $L/wifiprovd-gatt.log \
    && check_pass proto-error-logged "$(grep -m1 'dropping its session' $L/wifiprovd-gatt.log | cut -c1-140)" \
    || check_fail proto-error-logged "no protocol error in the daemon log"

# Long write and long read on the air (ATT MTU 48): btmon's trace of the controllers.
btmon -r $L/hci.btsnoop > $L/btmon-gatt.txt 2>&1
prep=$(grep -c 'ATT: Prepare Write Request' $L/btmon-gatt.txt)
# When bluetoothd uses EATT channels (it sometimes does after other BLE scenarios of the boot),
# btmon prints some of their short PDUs (the Execute Write Request among them)
# as "malformed attribute packet": the Execute Write Response counts as well.
exe=$(grep -cE 'ATT: Execute Write (Request|Response)' $L/btmon-gatt.txt)
blob=$(grep -c 'ATT: Read Blob Request' $L/btmon-gatt.txt)
[ "$prep" -ge 9 ] && [ "$exe" -ge 1 ] && [ "$blob" -ge 8 ] \
    && check_pass att-long "$prep Prepare Write requests, $exe Execute Write requests/responses, $blob Read Blob requests" \
    || check_fail att-long "Prepare Write $prep (want >= 9), Execute Write $exe, Read Blob $blob (want >= 8)"
grep -q 'offset 0, 406 bytes' $L/wifiprovd-gatt.log \
    && check_pass assembled "bluetoothd handed the long write over whole: $(grep -m1 'offset 0, 406 bytes' $L/wifiprovd-gatt.log | cut -c1-120)" \
    || check_fail assembled "no 406-byte write at offset 0 in the daemon log"

# SIGTERM: exit 0, the advertisement unregistered from the controller.
[ "$(adv_instances)" = 1 ] && check_pass adv-instance "1 advertising instance on $BLE_DEV while serving" \
    || check_note "advertising instances on $BLE_DEV while serving: '$(adv_instances)'"
kill $DPID
wait $DPID
drc=$?
DPID=
[ $drc = 0 ] && check_pass daemon-exit "exit 0 after SIGTERM" || check_fail daemon-exit "exit $drc"
grep -q 'unregistered from' $L/wifiprovd-gatt.log && wait_for 5 adv_count_is 0 \
    && check_pass adv-gone "no advertising instance left on $BLE_DEV" \
    || check_fail adv-gone "advertising instances left: '$(adv_instances)'; $(grep -m1 unregistered $L/wifiprovd-gatt.log)"
[ "$(bluez_alias $BLE_DEV)" = "$ALIAS_BEFORE" ] && [ ! -e $L/st-gatt/ble-alias ] \
    && check_pass alias-restored "$BLE_DEV's alias is \"$ALIAS_BEFORE\" again, no record left" \
    || check_fail alias-restored "$BLE_DEV's alias \"$(bluez_alias $BLE_DEV)\", want \"$ALIAS_BEFORE\"; $(grep -m1 'again\|goes back' $L/wifiprovd-gatt.log)"
exit $FAILED
