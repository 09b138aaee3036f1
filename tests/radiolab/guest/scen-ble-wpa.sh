#!/bin/bash
# The whole flow over BLE onto a real access point: the real wifiprovd --transport ble
# --wifi wpa_supplicant in netns sta (wlan2), provisioned by the real wifiprov --transport ble
# on BLE_PHONE onto hostapd's lab-wpa2 with dnsmasq's DHCP; "Already provisioned" after a
# restart. Then --transport http,ble on the same device: a client on each at once.
STA_CTRL=/run/wpa_supplicant
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
BLE_NAME=PROV_LABWPA
DPID=
trap '[ -n "$DPID" ] && kill $DPID 2>/dev/null; save_artifacts' EXIT
need_bins || exit 1
lab_aps_up || exit 1
lab_ble_up || exit 1
lab_sta_up || exit 1
SD=$(mktemp -d /tmp/lab/state.XXXXXX)
WPA=(--wifi wpa_supplicant --interface wlan2 --state-dir "$SD" --dhcp-hook "$G/dhcp-hook.sh")
SEC2=(--sec 2 --username wifiprov --password $POP)

# wd LOGNAME ARGS...: wifiprovd in netns sta; DLOG is its log.
wd() {
    DLOG=$L/$1.log; shift
    ip netns exec sta "$LAB_DAEMON" --ble-adapter $BLE_DEV --service-name $BLE_NAME "${WPA[@]}" -v "$@" > "$DLOG" 2>&1 &
    DPID=$!
}
# wd_exits SECONDS: the daemon ends by itself; sets DRC.
wd_exits() {
    wait_for "$1" sh -c "! kill -0 $DPID 2>/dev/null" || return 1
    wait $DPID; DRC=$?; DPID=
}
wd_stop() {
    [ -n "$DPID" ] || return 0
    kill $DPID
    wd_exits 10 || { kill -9 $DPID; wait $DPID; DRC=137; DPID=; }
}
advertising() { grep -q 'ble: advertising' "$DLOG"; }
wlan2_ip() { $NS_STA ip -4 -o addr show dev wlan2 | awk '{print $4}' | cut -d/ -f1 | head -1; }
# what_is_left: our tag on a network, the re-enable list, or a network left disabled.
what_is_left() {
    local id x=""
    for id in $(sta_networks | awk '{print $1}'); do
        wpa_cli_sta get_network "$id" id_str | grep -q '"wifiprovd"' && x="$x tagged:$id"
    done
    [ -e "$SD/wpa-reenable" ] && x="$x $SD/wpa-reenable"
    sta_networks | grep -q DISABLED && x="$x disabled:$(sta_networks | grep DISABLED | tr '\n' ';')"
    echo "$x"
}

log "== provisioned over BLE onto lab-wpa2 (security 2)"
wd wifiprovd-blewpa-1 --transport ble --security 2 --sec2-username wifiprov --sec2-password $POP --auto-stop 1 --no-qr
wait_for 30 advertising || { check_fail daemon-start "$(tail -5 "$DLOG" | tr '\n' ' ')"; exit 1; }
bc $BLE_PHONE provision "${SEC2[@]}" --ssid lab-wpa2 --passphrase correct-horse-42
expect_bc ble-provision 0 state=connected ssid=lab-wpa2 channel=1
note_ms "BLE sec2 provision onto lab-wpa2 over wpa_supplicant (discover to Connected)"
IP=$(jf ip)
case "$IP" in
    10.77.1.*) [ "$IP" = "$(wlan2_ip)" ] && check_pass ip-is-wlan2 "status says $IP, wlan2 has $(wlan2_ip)" \
                   || check_fail ip-is-wlan2 "status says $IP, wlan2 has '$(wlan2_ip)'" ;;
    *) check_fail ip-is-wlan2 "status says '$IP', not 10.77.1.x" ;;
esac
mac=$($NS_STA cat /sys/class/net/wlan2/address)
grep -q " $mac $IP " $L/dnsmasq.leases && check_pass dhcp-lease "dnsmasq leased $IP to $mac" \
    || check_fail dhcp-lease "no lease of $IP to $mac: $(tr '\n' ';' < $L/dnsmasq.leases)"
if wd_exits 20; then
    [ "$DRC" = 0 ] && check_pass auto-stop "exit 0: $(grep -m1 'unregistered' "$DLOG" | sed 's/^.*ble:/ble:/')" \
        || check_fail auto-stop "exit $DRC"
else
    check_fail auto-stop "still running 20 s after Connected with --auto-stop 1"; wd_stop
fi
wait_for 5 adv_count_is 0 && check_pass adv-gone "no advertising instance on $BLE_DEV" \
    || check_fail adv-gone "advertising instances: '$(adv_instances)'"
grep -q 'ssid="lab-wpa2"' $L/sta.conf && grep -q 'ssid="lab-open"' $L/sta.conf \
    && check_pass saved "lab-wpa2 saved, lab-open kept in the supplicant's configuration" \
    || check_fail saved "$(tr '\n' ' ' < $L/sta.conf)"
left=$(what_is_left)
[ -z "$left" ] && check_pass nothing-left "networks: $(sta_networks | tr '\n' ';')" || check_fail nothing-left "$left"
sta_completed && wpa_cli_sta status | grep -q '^ssid=lab-wpa2$' && [ "$(wlan2_ip)" = "$IP" ] \
    && check_pass still-connected "lab-wpa2 with $IP after the daemon ended" \
    || check_fail still-connected "$(wpa_cli_sta status | grep -E '^(wpa_state|ssid)=' | tr '\n' ' ') ip $(wlan2_ip)"

log "== restart: already provisioned"
wd wifiprovd-blewpa-2 --transport ble --security 2 --sec2-username wifiprov --sec2-password $POP --no-qr
if wait_for 30 grep -q 'Idle; send SIGUSR1' "$DLOG"; then
    grep -q 'Already provisioned, starting Wi-Fi STA' "$DLOG" && grep -q 'Stored network: SSID lab-wpa2' "$DLOG" \
        && check_pass restart-provisioned "$(grep -m1 'Stored network' "$DLOG" | sed 's/^.*Stored/Stored/')" \
        || check_fail restart-provisioned "$(head -8 "$DLOG" | tr '\n' ' ')"
else
    check_fail restart-provisioned "not idle in 30 s: $(tail -8 "$DLOG" | tr '\n' ' ')"
fi
wait_for 20 grep -q "Connected with IP Address:$IP\$" "$DLOG" \
    && check_pass restart-connected "$(grep -m1 'Connected with IP' "$DLOG" | sed 's/^.*Connected/Connected/')" \
    || check_fail restart-connected "no 'Connected with IP Address:$IP': $(grep -i connect "$DLOG" | tail -3 | tr '\n' ' ')"
# Idle (the log's last word on it): running, and nothing offered over BLE.
kill -0 $DPID 2>/dev/null && ! advertising && adv_count_is 0 \
    && check_pass idle-not-advertising "running; no advertising instance on $BLE_DEV" \
    || check_fail idle-not-advertising "running: $(kill -0 $DPID 2>/dev/null && echo yes || echo no), adv: '$(adv_instances)'"
kill -USR1 $DPID
wait_for 30 advertising && wait_for 5 adv_count_is 1 \
    && check_pass usr1-advertises "SIGUSR1: $(grep -m1 'ble: advertising' "$DLOG" | sed 's/^.*ble:/ble:/' | cut -c1-120)" \
    || check_fail usr1-advertises "$(tail -4 "$DLOG" | tr '\n' ' ')"
wd_stop
[ "$DRC" = 0 ] && wait_for 5 adv_count_is 0 && check_pass restart-stop "SIGTERM: exit 0, no advertising instance" \
    || check_fail restart-stop "exit $DRC, adv '$(adv_instances)'"
left=$(what_is_left)
[ -z "$left" ] && check_pass nothing-left-2 "$(sta_networks | tr '\n' ';')" || check_fail nothing-left-2 "$left"

log "== --transport http,ble: one client on each at once (security 1)"
wd wifiprovd-blehttp --transport http,ble --listen 127.0.0.1:8080 --security 1 --pop $POP --reprovision \
    --auto-stop 0 --qr-stdout
DAEMON_PID=$DPID DAEMON_NS=sta
wait_for 30 advertising && wait_for 10 cli_up || { check_fail daemon-start "$(tail -5 "$DLOG" | tr '\n' ' ')"; exit 1; }
check_pass both-up "$(grep -m1 'HTTP transport listening' "$DLOG" | sed 's/^.*HTTP/HTTP/' | cut -c1-80); $(grep -m1 'ble: advertising' "$DLOG" | sed 's/^.*ble:/ble:/' | cut -c1-80)"
grep -qF '{"ver":"v1","name":"'$BLE_NAME'","pop":"'$POP'","transport":"ble"}' "$DLOG" \
    && check_pass qr-transport "transport ble while BLE serves beside HTTP" \
    || check_fail qr-transport "$(grep -F '{"ver"' "$DLOG")"
# The BLE client first; once its session exists the HTTP client starts: both sessions are open
# and both scans run at the same time.
seen=$(wc -l < "$DLOG")
( bc $BLE_PHONE scan --sec 1 --pop $POP; echo "$RC" > $L/ble-scan.rc; echo "$OUT" > $L/ble-scan.out ) &
BPID=$!
ble_session() { tail -n +$((seen + 1)) "$DLOG" | grep -q 'ble: new session'; }
wait_for 60 ble_session || check_fail ble-session "no BLE session in 60 s"
cli scan
expect_cli http-scan 0 'ssid=lab-wpa2 auth=WPA2_PSK channel=1 '
wait $BPID
RC=$(cat $L/ble-scan.rc) OUT=$(cat $L/ble-scan.out)
[ "$RC" = 0 ] && echo "$OUT" | grep -q '"ssid":"lab-wpa2"' && check_pass ble-scan "$(echo "$OUT" | grep -o '"ssid"' | wc -l) networks over BLE" \
    || check_fail ble-scan "exit $RC: $(echo "$OUT" | cut -c1-200)"
# Both sessions were open together: the HTTP session began before the BLE link closed its own.
order=$(tail -n +$((seen + 1)) "$DLOG" | grep -oE '(ble|http): new session|closing its session' | tr '\n' ',')
case "$order" in
    'ble: new session,http: new session,'*) check_pass at-once "$order" ;;
    *) check_fail at-once "sessions in this order: $order" ;;
esac
cli provision --ssid lab-wpa2 --passphrase correct-horse-42
expect_cli http-provision 0 "state=connected ip=$IP ssid=lab-wpa2 channel=1"
bc $BLE_PHONE status --sec 1 --pop $POP
expect_bc ble-status 0 state=connected ip=$IP ssid=lab-wpa2
wd_stop
[ "$DRC" = 0 ] && check_pass http-ble-stop "SIGTERM: exit 0" || check_fail http-ble-stop "exit $DRC"
left=$(what_is_left)
[ -z "$left" ] && wait_for 5 adv_count_is 0 && check_pass nothing-left-3 "$(sta_networks | tr '\n' ';'), no advertising" \
    || check_fail nothing-left-3 "$left adv '$(adv_instances)'"
exit $FAILED
