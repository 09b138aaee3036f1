#!/bin/bash
# SoftAP with the wpa_supplicant backend: wifiprovd --softap in netns sta brings up hostapd +
# dnsmasq on a virtual interface of wlan2's radio; the phone (wlan4, netns phone) joins PROV_...,
# takes a lease, resolves names, and provisions lab-wpa2 through 192.168.4.1:80.
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
lab_aps_up || exit 1
need_bins || exit 1
lab_sta_up || exit 1
phone_up || exit 1
SD=$(mktemp -d /tmp/lab/state.XXXXXX)
APPASS=prov-pass-123
SOFTAP_NS=sta
leftovers_sta() { softap_leftovers sta; }
trap 'daemon_stop; phone_down; save_artifacts' EXIT
BASE=(--wifi wpa_supplicant --interface wlan2 --wpa-ctrl-dir $STA_CTRL --dhcp-hook "$G/dhcp-hook.sh"
      --state-dir "$SD" --security 1 --pop $POP -v --softap --connect-attempts 1)

log "== start: WPA2 access point"
softap_start wifiprovd-softap-1 --auto-stop 5 --softap-passphrase $APPASS
softap_wait_up 40 || exit 1
softap_phone_provision wpa sta

log "== auto-stop: the AP and everything it brought up are gone"
softap_exits
expect_clean clean-after-success sta
wait_for 10 sh -c "! wpa_cli -p $PHONE_CTRL -i wlan4 status | grep -q wpa_state=COMPLETED" && check_pass phone-dropped "the AP is gone" || check_fail phone-dropped "phone still $(phone_ssid)"
$NS_STA ip -4 -o addr show dev wlan2 | grep -q '10\.77\.1\.' && check_pass sta-kept "$($NS_STA ip -4 -o addr show dev wlan2 | awk '{print $4}')" || check_fail sta-kept "wlan2 lost its address"

log "== restart: already provisioned, no access point"
softap_start wifiprovd-softap-2
wait_for 20 grep -q 'Already provisioned' "$SOFTAP_LOG" && check_pass restart-provisioned || check_fail restart-provisioned "$(head -5 "$SOFTAP_LOG" | tr '\n' ' ')"
sleep 1
expect_clean restart-no-ap sta
daemon_stop

log "== kill -9 during provisioning (open AP), then a clean start"
softap_kill9 wifiprovd-softap-3 lab-softap-open leftovers_sta
softap_start wifiprovd-softap-4 --reprovision --auto-stop 5 --softap-no-apsta --softap-passphrase $APPASS
wait_for 40 softap_up && check_pass clean-start "$(grep -c 'left by an earlier run' "$SOFTAP_LOG") leftovers swept" \
    || check_fail clean-start "$(tail -5 "$SOFTAP_LOG" | tr '\n' ' ')"
n=$(pgrep -a hostapd | grep -cF /run/wifiprovd)
[ "$n" = 1 ] && check_pass one-hostapd || check_fail one-hostapd "$n hostapd processes of ours"
SSID=$(service_name)

log "== without AP+STA (--softap-no-apsta): the AP goes down for the attempt and comes back on failure"
phone_join "$SSID" "$APPASS" || check_fail phone-joined-noapsta "$(wpa_cli_phone status | tr '\n' ' ')"
PHONE_CLI_TIMEOUT=25 phone_cli provision --ssid lab-wpa2 --passphrase wrong-passphrase
check_note "no-apsta: provision while the AP went away -> exit $CLI_RC"
grep -q 'taking the access point down' "$SOFTAP_LOG" && check_pass ap-down-for-attempt || check_fail ap-down-for-attempt "no such log line"
wait_for 30 grep -q 'bringing the access point back' "$SOFTAP_LOG" && check_pass ap-back-after-failure || check_fail ap-back-after-failure "$(tail -3 "$SOFTAP_LOG" | tr '\n' ' ')"
t0=$(now)
wait_for 40 sh -c "[ \$(grep -c \"SoftAP: '.*' is up\" '$SOFTAP_LOG') -ge 2 ]"
phone_join "$SSID" "$APPASS" && check_pass phone-rejoined "$(since "$t0") s" || check_fail phone-rejoined "$(wpa_cli_phone status | tr '\n' ' ')"
phone_cli status
expect_cli status-after-rejoin 5 'reason=AuthError'
phone_cli reset
PHONE_CLI_TIMEOUT=25 phone_cli provision --ssid lab-wpa2 --passphrase correct-horse-42
check_note "no-apsta: provision lab-wpa2 while the AP went away -> exit $CLI_RC"
wait_for 40 grep -q 'Connected with IP Address:10\.77\.1\.' "$SOFTAP_LOG" && check_pass noapsta-connected "$(grep -m1 'Connected with IP' "$SOFTAP_LOG" | sed 's/^.*Connected/Connected/')" \
    || check_fail noapsta-connected "$(tail -3 "$SOFTAP_LOG" | tr '\n' ' ')"
softap_exits 30
expect_clean clean-after-noapsta sta
exit $FAILED
