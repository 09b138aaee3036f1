#!/bin/bash
# The real wifiprovd --transport ble (simulated Wi-Fi) on BLE_DEV, provisioned by the real
# wifiprov --transport ble on BLE_PHONE (and BLE_PHONE2), through the real bluetoothd and
# the emulated LE link. Times are printed as NOTE lines (bench/README.md keeps them).
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
BLE_NAME=PROV_LAB01
DPID=
trap '[ -n "$DPID" ] && kill $DPID 2>/dev/null; save_artifacts' EXIT
need_bins || exit 1
lab_ble_up || exit 1

# bled SEC LOGNAME ARGS...: a fresh daemon (new state) serving BLE on BLE_DEV.
bled() {
    local sec=$1 name=$2; shift 2
    bled_stop
    SD=$(mktemp -d /tmp/lab/ble-state.XXXXXX)
    local creds=()
    case $sec in
        1) creds=(--pop $POP) ;;
        2) creds=(--sec2-username wifiprov --sec2-password $POP) ;;
    esac
    "$LAB_DAEMON" --transport ble --ble-adapter $BLE_DEV --service-name $BLE_NAME --wifi sim --sim-scan-ms 300 \
        --state-dir "$SD" --security $sec "${creds[@]}" --no-qr -v "$@" > $L/$name.log 2>&1 &
    DPID=$!
    wait_for 30 grep -q 'ble: advertising' $L/$name.log ||
        { check_fail daemon-start "$name: $(tail -5 $L/$name.log | tr '\n' ' ')"; return 1; }
}
bled_stop() {
    [ -n "$DPID" ] || return 0
    kill $DPID 2>/dev/null
    wait_for 10 sh -c "! kill -0 $DPID 2>/dev/null"
    kill -9 $DPID 2>/dev/null
    wait $DPID 2>/dev/null
    DPID=
}

log "== security 1"
# discover listens first and the device advertises after: btdev reports an advertiser only
# when scanning or advertising is switched on, and a report lost then is not repeated.
( bc $BLE_PHONE discover --timeout 12; echo "$RC" > $L/discover.rc; echo "$OUT" > $L/discover.out ) &
DISC=$!
wait_for 10 bluez_discovering $BLE_PHONE || check_note "$BLE_PHONE not discovering after 10 s"
bled 1 wifiprovd-ble-sec1 || exit 1
wait $DISC
RC=$(cat $L/discover.rc) OUT=$(cat $L/discover.out)
if echo "$OUT" | grep -q "\"name\":\"$BLE_NAME\""; then check_pass discover "$(echo "$OUT" | cut -c1-200)"
else check_fail discover "$BLE_NAME not listed: $OUT"; fi
bc $BLE_PHONE status --sec 1 --pop $POP
expect_bc sec1-session 8 security=1 state=connecting
note_ms "BLE sec1 discover+connect+handshake+GetStatus (wifiprov status)"
bc $BLE_PHONE status --sec 1 --pop wrong-pop
expect_bc wrong-pop 4 error=auth
bc $BLE_PHONE scan --sec 1 --pop $POP
n=$(echo "$OUT" | grep -o '"ssid"' | wc -l)
[ "$RC" = 0 ] && [ "$n" -ge 5 ] && check_pass scan "$n networks over BLE" || check_fail scan "exit $RC, $n networks: $OUT"
bc $BLE_PHONE custom --sec 1 --pop $POP --custom-data hello-ble
[ "$RC" = 0 ] && check_pass custom-data "$(echo "$OUT" | cut -c1-160)" || check_fail custom-data "exit $RC: $OUT"
bc $BLE_PHONE provision --sec 1 --pop $POP --ssid HomeNetwork --passphrase wrong-passphrase
expect_bc wrong-passphrase 5 reason=AuthError
bc $BLE_PHONE reset --sec 1 --pop $POP
expect_bc reset 0
# A phone that leaves after SessionCmd0: the daemon closes that session with the link, and
# the next phone provisions from the start. What counts in the daemon's log: after the
# helper's one prov-session write (SessionCmd0), its disconnect closing that session.
seen=$(wc -l < $L/wifiprovd-ble-sec1.log)
timeout 90 $PY -u "$G/ble_half_handshake.py" $BLE_PHONE $BLE_NAME 021a9004-0382-4aea-bff4-6b3f1c5adfb4 > $L/half.log 2>&1
hrc=$?
record_checks half- $L/half.log $hrc half-checker
half_closed() {
    tail -n +$((seen + 1)) $L/wifiprovd-ble-sec1.log | awk '
        /ble: write prov-session / { w++ }
        w == 1 && /disconnected; closing its session/ { print; found = 1; exit }
        END { exit !found }'
}
if wait_for 10 half_closed > /dev/null; then
    check_pass half-session-closed "after its SessionCmd0: $(half_closed | sed 's/^.*ble:/ble:/' | cut -c1-140)"
else
    check_fail half-session-closed "no 'disconnected; closing its session' after the one SessionCmd0 write: $(tail -n +$((seen + 1)) $L/wifiprovd-ble-sec1.log | grep 'ble:' | tail -4 | tr '\n' ' ' | cut -c1-300)"
fi
bc $BLE_PHONE provision --sec 1 --pop $POP --ssid HomeNetwork --passphrase correct-horse
expect_bc sec1-provision 0 state=connected ip=192.168.1.42
note_ms "BLE sec1 provision (discover to Connected)"

log "== security 2 (long writes and reads) and two phones at once"
bled 2 wifiprovd-ble-sec2 || exit 1
( bc $BLE_PHONE2 status --sec 2 --username wifiprov --password $POP; echo "$RC $OUT" > $L/phone2.out ) &
P2=$!
bc $BLE_PHONE status --sec 2 --username wifiprov --password $POP
expect_bc sec2-session 8 security=2
note_ms "BLE sec2 discover+connect+handshake+GetStatus (wifiprov status)"
wait $P2
read -r rc2 out2 < $L/phone2.out
[ "$rc2" = 8 ] && echo "$out2" | grep -q '"security":2' && check_pass two-phones "both sessions at once: $(echo "$out2" | cut -c1-120)" \
    || check_fail two-phones "second phone: exit $rc2 $out2"
bc $BLE_PHONE provision --sec 2 --username wifiprov --password $POP --ssid HomeNetwork --passphrase correct-horse
expect_bc sec2-provision 0 state=connected security=2
note_ms "BLE sec2 provision (discover to Connected)"

log "== security 0, auto-stop: advertising gone"
bled 0 wifiprovd-ble-sec0 --auto-stop 1 || exit 1
bc $BLE_PHONE provision --sec 0 --ssid HomeNetwork --passphrase correct-horse
expect_bc sec0-provision 0 state=connected security=0
wait_for 15 grep -q 'unregistered' $L/wifiprovd-ble-sec0.log || check_note "no 'unregistered' in the daemon's log after auto-stop"
bc $BLE_PHONE discover --timeout 5
if [ "$RC" = 0 ] && ! echo "$OUT" | grep -q "\"name\":\"$BLE_NAME\"" && adv_count_is 0; then
    check_pass adv-gone "no advertising instance on $BLE_DEV; $(echo "$OUT" | cut -c1-160)"
else check_fail adv-gone "still listed or advertising after auto-stop (exit $RC, instances '$(adv_instances)'): $OUT"; fi
bled_stop
exit $FAILED
