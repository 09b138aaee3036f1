#!/bin/bash
# wifiprovd --transport ble (simulated Wi-Fi) keeps provisioning through a restart of the
# real bluetoothd and a power cycle of its adapter: it waits, registers again, and the
# real wifiprov --transport ble on another controller provisions it afterwards. Not in the
# default set (WIFIPROV_LAB_SCENARIOS="ble-restart"). Then --ble-require-encryption: a phone
# that never paired is answered ATT 0x0f, bluetoothd pairs (Just Works, confirmed by the
# daemon's agent), the exchange works over the encrypted link, and the pairing is gone from
# the device's adapter once the phone disconnected.
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
NAME=PROV_LAB02
DPID=
trap '[ -n "$DPID" ] && kill $DPID 2>/dev/null; save_artifacts' EXIT
need_bins || exit 1
lab_ble_up || exit 1
[ -f $L/ble.env ] && . $L/ble.env
DLOG=$L/wifiprovd-ble-restart.log

# bc ARGS...: wifiprov over BLE from BLE_PHONE; sets RC and OUT (its JSON result line).
bc() {
    OUT=$(timeout 150 "$LAB_CLI" --transport ble --service-name $NAME --adapter $BLE_PHONE --timeout 90 --json "$@" \
          2>>$L/cli-ble-restart.stderr)
    RC=$?
    OUT=$(echo "$OUT" | tail -1)
}
# in_log N PATTERN: the daemon's log has PATTERN at least N times (within 40 s).
in_log() { wait_for 40 sh -c "[ \$(grep -c '$2' $DLOG) -ge $1 ]"; }
bluetoothd_start() {
    /usr/libexec/bluetooth/bluetoothd -n -d >> $L/bluetoothd.log 2>&1 &
    echo $! > $L/bluetoothd.pid
    local a
    for a in $BLE_PHONE $BLE_PHONE2; do
        wait_for 20 bluez_adapter_ok $a && bluez_power $a true && wait_for 10 bluez_powered $a || return 1
    done
}

SD=$(mktemp -d /tmp/lab/ble-restart.XXXXXX)
"$LAB_DAEMON" --transport ble --ble-adapter $BLE_DEV --service-name $NAME --wifi sim --sim-scan-ms 300 \
    --state-dir "$SD" --security 1 --pop $POP --auto-stop 0 --no-qr -v > $DLOG 2>&1 &
DPID=$!
in_log 1 'ble: advertising' || { check_fail daemon-start "$(tail -5 $DLOG | tr '\n' ' ')"; exit 1; }
bc status --sec 1 --pop $POP
[ "$RC" = 8 ] && check_pass before-restart "exit $RC" || check_fail before-restart "exit $RC: $OUT"

log "== bluetoothd restarted"
t0=$(now)
kill "$(cat $L/bluetoothd.pid)"
wait_for 10 sh -c "! kill -0 $(cat $L/bluetoothd.pid) 2>/dev/null"
if in_log 1 'BLE down: bluetoothd gone; waiting for it' && kill -0 $DPID; then
    check_pass bluetoothd-gone "daemon waits: $(grep -m1 'bluetoothd gone' $DLOG | cut -c1-120)"
else
    check_fail bluetoothd-gone "$(tail -5 $DLOG | tr '\n' ' ')"
fi
bluetoothd_start || check_fail bluetoothd-start "$BLE_PHONE not back after the restart"
if in_log 1 "BLE back on $BLE_DEV"; then
    check_pass bluetoothd-back "registered again $(since "$t0") s after the kill"
    check_note "time BLE back after a bluetoothd restart (kill to registered): $(since "$t0") s"
else
    check_fail bluetoothd-back "$(tail -8 $DLOG | tr '\n' ' ')"
fi
bc provision --sec 1 --pop $POP --ssid HomeNetwork --passphrase correct-horse
if [ "$RC" = 0 ] && echo "$OUT" | grep -q '"state":"connected"'; then
    check_pass provision-after-restart "$(echo "$OUT" | cut -c1-160)"
else
    check_fail provision-after-restart "exit $RC: $OUT"
fi

log "== $BLE_DEV powered off and on"
bluez_power $BLE_DEV false
in_log 1 "BLE down: $BLE_DEV powered off" && check_pass power-off "daemon waits" ||
    check_fail power-off "$(tail -5 $DLOG | tr '\n' ' ')"
bluez_power $BLE_DEV true
in_log 2 "BLE back on $BLE_DEV" && check_pass power-on "registered again" ||
    check_fail power-on "$(tail -8 $DLOG | tr '\n' ' ')"
bc status --sec 1 --pop $POP
[ "$RC" = 0 ] && check_pass status-after-power-cycle "$(echo "$OUT" | cut -c1-160)" ||
    check_fail status-after-power-cycle "exit $RC: $OUT"

kill $DPID
wait_for 10 sh -c "! kill -0 $DPID 2>/dev/null" && check_pass daemon-stop || check_fail daemon-stop "still running"
DPID=

log "== --ble-require-encryption, read by a phone that never asked to pair"
timeout 150 $PY -u "$G/ble_encrypt_check.py" $BLE_PHONE2 021a9004-0382-4aea-bff4-6b3f1c5adfb4 > $L/encrypt-check.log 2>&1 &
CHK=$!
wait_for 15 grep -q SCANNING $L/encrypt-check.log || check_fail scanning "$(tail -3 $L/encrypt-check.log | tr '\n' ' ')"
SD=$(mktemp -d /tmp/lab/ble-encrypt.XXXXXX)
"$LAB_DAEMON" --transport ble --ble-adapter $BLE_DEV --service-name PROV_LAB03 --wifi sim --state-dir "$SD" \
    --security 1 --pop $POP --auto-stop 0 --no-qr -v --ble-require-encryption > $L/wifiprovd-encrypt.log 2>&1 &
DPID=$!
wait $CHK
crc=$?
while read -r _ name verdict detail; do
    [ "$verdict" = ok ] && check_pass "encrypt-$name" "$detail" || check_fail "encrypt-$name" "$detail"
done < <(grep '^CHECK ' $L/encrypt-check.log)
[ "$crc" = 0 ] || check_fail encrypt-checker "exited $crc: $(grep -v '^CHECK' $L/encrypt-check.log | tail -3 | tr '\n' ' ')"
grep -q '^OUTCOME paired' $L/encrypt-check.log && check_pass encrypt-paired "$(grep -m1 '^OUTCOME' $L/encrypt-check.log | cut -c1-160)" \
    || check_fail encrypt-paired "$(grep -m1 '^OUTCOME' $L/encrypt-check.log)"
grep -q 'pairs (Just Works' $L/wifiprovd-encrypt.log && check_pass encrypt-agent "$(grep -m1 'pairs (Just Works' $L/wifiprovd-encrypt.log | sed 's/^.*ble: //')" \
    || check_fail encrypt-agent "the daemon's agent was not asked: $(grep -m1 -o 'No agent available for request type [0-9]*' $L/bluetoothd.log)"
# On air: the device's answer to the unencrypted write, and what the pairing attempt became.
btmon -r $L/hci.btsnoop > $L/btmon-encrypt.txt 2>&1
n=$(grep -c 'Error: Insufficient Encryption (0x0f)' $L/btmon-encrypt.txt)
[ "$n" -ge 1 ] && check_pass encrypt-att-0f "$n ATT Insufficient Encryption answers in the trace" ||
    check_fail encrypt-att-0f "no ATT 0x0f answer in the trace"
check_note "pairing after 0x0f: $(grep -m1 -A1 'SMP: Pairing Failed' $L/btmon-encrypt.txt | tail -1 | sed 's/^ *//') ($(grep -m1 -o 'No agent available for request type [0-9]*' $L/bluetoothd.log))"
# The phone disconnected at the end of its check: the daemon removes the pairing then.
wait_for 15 grep -q 'pairing of .* removed' $L/wifiprovd-encrypt.log
timeout 5 dbus-send --system --print-reply --dest=org.bluez /org/bluez/$BLE_DEV org.freedesktop.DBus.Properties.Get \
    string:org.bluez.Adapter1 string:Powered > /dev/null 2>&1 && check_note "bluetoothd answers after the pairing" \
    || check_note "bluetoothd does not answer within 5 s after the pairing"
kill $DPID
wait_for 20 sh -c "! kill -0 $DPID 2>/dev/null"
DPID=
# The pairing the agent let in is gone from the device's adapter (the phone keeps its own).
PDEV=/org/bluez/$BLE_DEV/dev_$(ble_addr $BLE_PHONE2 | tr : _)
if dbus-send --system --print-reply --dest=org.bluez $PDEV org.freedesktop.DBus.Properties.Get \
        string:org.bluez.Device1 string:Paired 2>/dev/null | grep -q 'boolean true'; then
    check_fail encrypt-bond-removed "$PDEV still paired; $(grep -m1 'pairing of' $L/wifiprovd-encrypt.log)"
else
    check_pass encrypt-bond-removed "$(grep -m1 'pairing of .* removed' $L/wifiprovd-encrypt.log | sed 's/^.*ble: //')"
fi
# The list of pairings matches what bluetoothd confirmed: gone once the removal was answered,
# still naming the phone otherwise (the emulated controllers' bluetoothd stops answering for a
# while after a pairing; the next start removes what is listed).
if grep -q 'pairing of .* removed' $L/wifiprovd-encrypt.log; then
    [ ! -e "$SD/ble-bonds" ] && check_pass encrypt-record "removal confirmed, nothing listed" \
        || check_fail encrypt-record "removal confirmed but listed: $(cat "$SD/ble-bonds")"
else
    grep -qx "/org/bluez/$BLE_DEV/dev_.*" "$SD/ble-bonds" 2>/dev/null \
        && check_pass encrypt-record "removal not confirmed; still listed for the next start: $(cat "$SD/ble-bonds")" \
        || check_fail encrypt-record "removal not confirmed and not listed"
fi
exit $FAILED
