#!/bin/bash
# The real wifiprovd (--wifi networkmanager) in the initial netns, provisioned by the real CLI.
# One connection attempt per ApplyConfig (--connect-attempts 1) keeps NM's slower failures short.
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
nm_daemon_scenario_up || exit 1
daemon_start "" wifiprovd-nm-1 "${NMARGS[@]}" || exit 1

log "== scan through the daemon"
cli scan
expect_cli scan 0 'ssid=lab-wpa2 auth=WPA2_PSK channel=1 '
expect_cli scan-sae 0 'ssid=lab-sae auth=WPA3_PSK channel=11 '
expect_cli scan-open 0 'ssid=lab-open auth=Open channel=1 '

log "== wrong WPA2 passphrase"
cli provision --ssid lab-wpa2 --passphrase wrong-passphrase
expect_cli wrong-psk 5 'reason=AuthError'
cli_timing "nm e2e wrong WPA2 passphrase -> AuthError"
sleep 1
after=$(nm_profiles)
[ "$after" = "$before" ] && check_pass profiles-unchanged "$after" || check_fail profiles-unchanged "before: $before after: $after"
cli reset
expect_cli reset 0 '.'

log "== wrong SAE password"
cli provision --ssid lab-sae --passphrase not-the-password
expect_cli wrong-sae 5 'reason=AuthError'
cli_timing "nm e2e wrong SAE password -> AuthError"
cli reset

log "== unknown SSID"
cli provision --ssid no-such-network --passphrase whatever-123
expect_cli not-found 5 'reason=NetworkNotFound'
cli_timing "nm e2e unknown SSID -> NetworkNotFound"
cli reset

log "== right passphrase"
cli provision --ssid lab-wpa2 --passphrase correct-horse-42
expect_cli connected 0 'state=connected ip=10\.77\.1\.[0-9]+ ssid=lab-wpa2 channel=1'
cli_timing "nm e2e lab-wpa2 -> Connected"
sleep 1
ls /etc/NetworkManager/system-connections/ | grep -q '^wifiprov-lab-wpa2' \
    && check_pass saved-to-disk "$(ls /etc/NetworkManager/system-connections/ | tr '\n' ' ')" \
    || check_fail saved-to-disk "$(ls /etc/NetworkManager/system-connections/ | tr '\n' ' ')"
nm_profiles | grep -q prev-open && check_pass prev-kept || check_fail prev-kept "$(nm_profiles)"

log "== restart (NetworkManager too): already provisioned, reconnects"
daemon_stop
nm_stop
nmcli -t dev > /dev/null 2>&1
ip -4 addr flush dev wlan3
nm_start || exit 1
t0=$(now)
DAEMON_NOWAIT=1 daemon_start "" wifiprovd-nm-2 "${NMARGS[@]}" || true
wait_for 60 grep -q 'Connected with IP Address:10\.77\.' $L/wifiprovd-nm-2.log
grep -q 'Already provisioned' $L/wifiprovd-nm-2.log && check_pass restart-provisioned || check_fail restart-provisioned "$(head -5 $L/wifiprovd-nm-2.log | tr '\n' ' ')"
if l=$(grep -m1 'Connected with IP Address:10\.77\.1\.' $L/wifiprovd-nm-2.log); then
    check_pass restart-connected "$l, $(since "$t0") s after start"
else check_fail restart-connected "no 'Connected with IP Address:10.77.1.x' (lab-wpa2) in 60 s: $(grep -i connect $L/wifiprovd-nm-2.log | tail -3 | tr '\n' ' ')"; fi
daemon_stop
exit $FAILED
