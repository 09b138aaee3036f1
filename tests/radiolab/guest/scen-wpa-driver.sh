#!/bin/bash
# The wpa_supplicant backend, driven directly (tests/radiolab/backend_driver.c) in netns sta.
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
lab_aps_up || exit 1
[ -x "$LAB_DRIVER" ] || { check_fail driver "wifiprov_lab_driver is not built"; exit 1; }
lab_sta_up || exit 1
log "networks before: $(sta_networks | tr '\n' ';')"

log "== scan"
out=$(drv_wpa scan mac); echo "$out"
expect backend '^BACKEND wpa_supplicant$' "$out"
expect scan-wpa2 '^AP ssid=lab-wpa2 .* ch=1 .*auth=WPA2_PSK$' "$out"
expect scan-sae '^AP ssid=lab-sae .* ch=11 .*auth=WPA3_PSK$' "$out"
expect scan-open '^AP ssid=lab-open .* ch=1 .*auth=Open$' "$out"
mac=$($NS_STA cat /sys/class/net/wlan2/address)
expect mac "^MAC addr=$mac\$" "$out"
timing "wpa scan" "$(echo "$out" | sed -n 's/^SCAN n=[0-9]* /RESULT scan /p')"

log "== wrong WPA2 passphrase"
out=$(drv_wpa connect lab-wpa2 wrong-passphrase); echo "$out"
expect wrong-psk '^RESULT connect FAILED reason=AuthError' "$out" "WRONG_KEY must map to AuthError"
timing "wpa wrong WPA2 passphrase -> AuthError" "$out"
nets=$(sta_networks); log "networks after: $(echo "$nets" | tr '\n' ';')"
if echo "$nets" | grep -q 'lab-open' && ! echo "$nets" | grep 'lab-open' | grep -q DISABLED; then
    check_pass previous-kept "lab-open still configured and enabled"
else check_fail previous-kept "lab-open lost or disabled: $nets"; fi
echo "$nets" | grep -q lab-wpa2 && check_fail attempt-removed "failed network left configured" \
    || check_pass attempt-removed

log "== unknown SSID"
out=$(drv_wpa connect no-such-network whatever-123); echo "$out"
expect not-found '^RESULT connect FAILED reason=NetworkNotFound' "$out"
timing "wpa unknown SSID -> NetworkNotFound" "$out"

log "== wrong SAE password"
out=$(drv_wpa connect lab-sae not-the-password); echo "$out"
expect wrong-sae '^RESULT connect FAILED reason=AuthError' "$out" "AUTH-REJECT auth_type=3 must map to AuthError"
timing "wpa wrong SAE password -> AuthError" "$out"

log "== right WPA2 passphrase, commit"
out=$(drv_wpa connect lab-wpa2 correct-horse-42 commit); echo "$out"
expect connect-wpa2 '^RESULT connect CONNECTED ip=10\.77\.1\.[0-9]+ ssid=lab-wpa2 bssid=02:00:00:00:00:00 ch=1 auth=WPA2_PSK' "$out"
timing "wpa connect WPA2 -> Connected (incl. DHCP)" "$out"
expect commit '^RESULT commit OK' "$out"
grep -q 'ssid="lab-wpa2"' $L/sta.conf && grep -q 'ssid="lab-open"' $L/sta.conf \
    && check_pass saved-config "SAVE_CONFIG wrote lab-wpa2 and kept lab-open" \
    || check_fail saved-config "$(cat $L/sta.conf | tr '\n' ' ')"
cp $L/sta.conf "$WPLAB_OUT/wpa-driver-sta.conf"

log "== right SAE password (not committed), forget"
out=$(drv_wpa connect lab-sae sae-secret-99 forget); echo "$out"
expect connect-sae '^RESULT connect CONNECTED ip=10\.77\.3\.[0-9]+ ssid=lab-sae .* ch=11 auth=WPA3_PSK' "$out"
timing "wpa connect SAE -> Connected (incl. DHCP)" "$out"
sleep 0.5
sta_networks | grep -q lab-sae && check_fail forget "lab-sae still configured" || check_pass forget "lab-sae removed"

log "== open network"
out=$(drv_wpa connect lab-open ""); echo "$out"
expect connect-open '^RESULT connect CONNECTED ip=10\.77\.2\.[0-9]+ ssid=lab-open .* ch=1 auth=Open' "$out"
timing "wpa connect open -> Connected (incl. DHCP)" "$out"
# The driver exits without commit: the backend removes its uncommitted network.
n=$(sta_networks | wc -l)
[ "$n" = 2 ] && check_pass cleanup "2 networks left (lab-open, lab-wpa2)" || check_fail cleanup "$(sta_networks | tr '\n' ';')"

log "== saved network at start-up"
out=$(drv_wpa saved lab-wpa2); echo "$out"
cur=$(wpa_cli_sta status | sed -n 's/^ssid=//p')
expect saved "^RESULT saved CONNECTED ip=10\\.77\\.[12]\\.[0-9]+ ssid=$cur " "$out"

log "== auto"
out=$($NS_STA "$LAB_DRIVER" --backend auto --ifname wlan2 --ctrl-dir $STA_CTRL mac 2>&1); echo "$out"
expect auto-wpa '^BACKEND wpa_supplicant$' "$out"
out=$($NS_STA "$LAB_DRIVER" --backend auto --ifname wlan2 --ctrl-dir /run/nothing-here mac 2>&1); echo "$out"
expect auto-none '^BACKEND ERROR WIFIPROV_ERR_UNSUPPORTED' "$out"
expect auto-message 'wifi sim' "$out"
exit $FAILED
