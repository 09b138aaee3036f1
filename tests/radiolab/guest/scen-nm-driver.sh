#!/bin/bash
# The NetworkManager backend, driven directly (tests/radiolab/backend_driver.c) on wlan3.
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
[ -x "$LAB_DRIVER" ] || { check_fail driver "wifiprov_lab_driver is not built"; exit 1; }
lab_nm_up || exit 1

log "== a working profile made with nmcli before provisioning: prev-open"
nmcli con add type wifi ifname wlan3 con-name prev-open ssid lab-open > /dev/null
nmcli --wait 60 con up prev-open > /dev/null 2>&1 && check_pass prev-open "$(nmcli -t -f IP4.ADDRESS dev show wlan3 | tr '\n' ' ')" \
    || check_note "prev-open did not come up"
before=$(nm_profiles)

log "== scan"
out=$(drv_nm scan mac); echo "$out"
expect backend '^BACKEND networkmanager$' "$out"
expect scan-wpa2 '^AP ssid=lab-wpa2 .* ch=1 rssi=-[0-9]+ auth=WPA2_PSK$' "$out"
expect scan-sae '^AP ssid=lab-sae .* ch=11 rssi=-[0-9]+ auth=WPA3_PSK$' "$out"
expect scan-open '^AP ssid=lab-open .* ch=1 rssi=-[0-9]+ auth=Open$' "$out"
expect mac "^MAC addr=$(cat /sys/class/net/wlan3/address)\$" "$out"
timing "nm scan" "$(echo "$out" | sed -n 's/^SCAN n=[0-9]* /RESULT scan /p')"

log "== wrong WPA2 passphrase"
out=$(drv_nm connect lab-wpa2 wrong-passphrase); echo "$out"
expect wrong-psk '^RESULT connect FAILED reason=AuthError' "$out"
timing "nm wrong WPA2 passphrase -> AuthError" "$out"
sleep 1
after=$(nm_profiles)
[ "$after" = "$before" ] && check_pass profiles-unchanged "$after" || check_fail profiles-unchanged "before: $before after: $after"

log "== unknown SSID"
out=$(drv_nm connect no-such-network whatever-123); echo "$out"
expect not-found '^RESULT connect FAILED reason=NetworkNotFound' "$out"
timing "nm unknown SSID -> NetworkNotFound" "$out"

log "== wrong SAE password"
out=$(drv_nm connect lab-sae not-the-password); echo "$out"
expect wrong-sae '^RESULT connect FAILED reason=AuthError' "$out"
timing "nm wrong SAE password -> AuthError" "$out"
sleep 1
after=$(nm_profiles)
[ "$after" = "$before" ] && check_pass profiles-unchanged-2 "$after" || check_fail profiles-unchanged-2 "before: $before after: $after"

log "== right WPA2 passphrase, commit"
out=$(drv_nm connect lab-wpa2 correct-horse-42 commit); echo "$out"
expect connect-wpa2 '^RESULT connect CONNECTED ip=10\.77\.1\.[0-9]+ ssid=lab-wpa2 bssid=02:00:00:00:00:00 ch=1 auth=WPA2_PSK' "$out"
timing "nm connect WPA2 -> Connected" "$out"
expect commit '^RESULT commit OK' "$out"
ls /etc/NetworkManager/system-connections/ | grep -q '^wifiprov-lab-wpa2' \
    && check_pass saved-to-disk "$(ls /etc/NetworkManager/system-connections/ | tr '\n' ' ')" \
    || check_fail saved-to-disk "$(ls /etc/NetworkManager/system-connections/ | tr '\n' ' ')"
nm_profiles | grep -q prev-open && check_pass prev-kept || check_fail prev-kept "$(nm_profiles)"

log "== right SAE password (not committed), forget"
out=$(drv_nm connect lab-sae sae-secret-99 forget); echo "$out"
expect connect-sae '^RESULT connect CONNECTED ip=10\.77\.3\.[0-9]+ ssid=lab-sae .* ch=11 auth=WPA3_PSK' "$out"
timing "nm connect SAE -> Connected" "$out"
sleep 1
nm_profiles | grep -q wifiprov-lab-sae && check_fail forget "$(nm_profiles)" || check_pass forget "$(nm_profiles)"

log "== saved profile"
wait_for 30 sh -c "nmcli -t -f DEVICE,STATE dev | grep -q '^wlan3:connected'"
out=$(drv_nm saved lab-wpa2); echo "$out"
cur=$(nmcli -t -f GENERAL.CONNECTION dev show wlan3 | sed 's/^GENERAL.CONNECTION://')
log "active profile: $cur"
expect saved '^RESULT saved CONNECTED ip=10\.77\.[12]\.[0-9]+ ssid=lab-' "$out"

log "== auto"
out=$("$LAB_DRIVER" --backend auto --ifname wlan3 mac 2>&1); echo "$out"
expect auto-nm '^BACKEND networkmanager$' "$out"
lab_sta_up > /dev/null
out=$($NS_STA "$LAB_DRIVER" --backend auto --ifname wlan2 --ctrl-dir $STA_CTRL mac 2>&1); echo "$out"
expect auto-wpa-beside-nm '^BACKEND wpa_supplicant$' "$out" "NM runs but does not manage wlan2"
lab_sta_down
exit $FAILED
