#!/bin/bash
# The real wifiprovd (--wifi wpa_supplicant) in netns sta, provisioned by the real wifiprov CLI.
# Provisioning gets its address through the daemon's --dhcp-hook; after the restart DHCP
# comes from a wpa_cli action script instead (DHCP run by the system, no hook), so both
# ways a device gets its address are exercised.
STA_CTRL=/run/wpa_supplicant
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
lab_aps_up || exit 1
need_bins || exit 1
lab_sta_up || exit 1
SD=$(mktemp -d /tmp/lab/state.XXXXXX)
trap 'daemon_stop; [ -f $L/wpa_cli.pid ] && kill $(cat $L/wpa_cli.pid); save_artifacts' EXIT

daemon_start sta wifiprovd-wpa-1 --wifi wpa_supplicant --interface wlan2 --state-dir "$SD" \
    --dhcp-hook "$G/dhcp-hook.sh" || exit 1

log "== scan through the daemon"
cli scan
expect_cli scan 0 'ssid=lab-wpa2 auth=WPA2_PSK channel=1 '
expect_cli scan-sae 0 'ssid=lab-sae auth=WPA3_PSK channel=11 '
expect_cli scan-open 0 'ssid=lab-open auth=Open channel=1 '

log "== wrong WPA2 passphrase"
cli provision --ssid lab-wpa2 --passphrase wrong-passphrase
expect_cli wrong-psk 5 'reason=AuthError'
cli_timing "wpa e2e wrong WPA2 passphrase -> AuthError"
nets=$(sta_networks)
echo "$nets" | grep 'lab-open' | grep -vq DISABLED && check_pass previous-kept "$(echo "$nets" | tr '\n' ';')" \
    || check_fail previous-kept "$(echo "$nets" | tr '\n' ';')"
cli reset
expect_cli reset 0 '.'

log "== wrong SAE password"
cli provision --ssid lab-sae --passphrase not-the-password
expect_cli wrong-sae 5 'reason=AuthError'
cli_timing "wpa e2e wrong SAE password -> AuthError"
cli reset

log "== unknown SSID"
cli provision --ssid no-such-network --passphrase whatever-123
expect_cli not-found 5 'reason=NetworkNotFound'
cli_timing "wpa e2e unknown SSID -> NetworkNotFound"
cli reset

log "== right passphrase"
cli provision --ssid lab-wpa2 --passphrase correct-horse-42
expect_cli connected 0 'state=connected ip=10\.77\.1\.[0-9]+ ssid=lab-wpa2 channel=1'
cli_timing "wpa e2e lab-wpa2 -> Connected"
sleep 1
grep -q 'ssid="lab-wpa2"' $L/sta.conf && check_pass saved "SAVE_CONFIG wrote lab-wpa2" || check_fail saved "$(tr '\n' ' ' < $L/sta.conf)"
grep -q 'ssid="lab-open"' $L/sta.conf && check_pass saved-previous "lab-open kept" || check_fail saved-previous "lab-open gone"

log "== restart (like a reboot): supplicant with its saved config, then the daemon"
daemon_stop
lab_sta_restart || exit 1
$NS_STA wpa_cli -p $STA_CTRL -i wlan2 -a "$G/wpa-action.sh" -B -P $L/wpa_cli.pid
t0=$(now)
DAEMON_NOWAIT=1 daemon_start sta wifiprovd-wpa-2 --wifi wpa_supplicant --interface wlan2 --state-dir "$SD" || true
wait_for 40 grep -q 'Connected with IP Address:10\.77\.' $L/wifiprovd-wpa-2.log
grep -q 'Already provisioned' $L/wifiprovd-wpa-2.log && check_pass restart-provisioned || check_fail restart-provisioned "$(head -5 $L/wifiprovd-wpa-2.log | tr '\n' ' ')"
if l=$(grep -m1 'Connected with IP Address:10\.77\.1\.' $L/wifiprovd-wpa-2.log); then
    check_pass restart-connected "$l, $(since "$t0") s after start"
else check_fail restart-connected "no 'Connected with IP Address:10.77.1.x' (lab-wpa2) in 40 s"; fi
daemon_stop
exit $FAILED
