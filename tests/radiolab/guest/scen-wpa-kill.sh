#!/bin/bash
# Crash safety with wpa_supplicant: wifiprovd is killed (-9) during a connection attempt, when
# its network is added and every other network disabled; the next start must enable them
# again and remove what it added. Then a stored network deleted by hand: the next start says
# so and provisions again instead of idling.
STA_CTRL=/run/wpa_supplicant
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
lab_aps_up || exit 1
need_bins || exit 1
lab_sta_up || exit 1
SD=$(mktemp -d /tmp/lab/state.XXXXXX)
trap 'daemon_stop; save_artifacts' EXIT
before=$(sta_networks)
log "networks before: $(echo "$before" | tr '\n' ';')"
ARGS=(--wifi wpa_supplicant --interface wlan2 --state-dir "$SD" --dhcp-hook "$G/dhcp-hook.sh")
daemon_start sta wifiprovd-wpa-kill-1 "${ARGS[@]}" || exit 1

log "== kill -9 during an attempt"
# A wrong passphrase: the attempt runs for seconds (the 4-way handshake fails), and the daemon
# logs "connecting with network N" right after SELECT_NETWORK disabled the others.
cli_raw provision --ssid lab-wpa2 --passphrase wrong-passphrase --sec 1 --pop $POP --timeout 60 \
    > $L/kill-cli.out 2>&1 &
cli_pid=$!
if wait_for 30 grep -q 'wpa_supplicant: connecting with network' $L/wifiprovd-wpa-kill-1.log; then
    kill -9 $DAEMON_PID; wait $DAEMON_PID 2>/dev/null; DAEMON_PID=
    check_pass killed-mid-attempt "$(sta_networks | tr '\n' ';')"
else
    check_fail killed-mid-attempt "the attempt never selected its network: $(sta_networks | tr '\n' ';')"
fi
kill $cli_pid 2>/dev/null; wait $cli_pid 2>/dev/null
[ -s "$SD/wpa-reenable" ] && check_pass reenable-list-on-disk "$(tr '\n' ';' < "$SD/wpa-reenable")" \
    || check_fail reenable-list-on-disk "no $SD/wpa-reenable"
left=$(sta_networks | awk '{print $1}' | while read -r id; do wpa_cli_sta get_network "$id" id_str; echo; done)
echo "$left" | grep -q '"wifiprovd"' && check_pass tagged "our network carries id_str \"wifiprovd\"" \
    || check_fail tagged "no network tagged wifiprovd: $left"

log "== restart: the sweep"
daemon_start sta wifiprovd-wpa-kill-2 "${ARGS[@]}" || exit 1
after=$(sta_networks)
log "networks after: $(echo "$after" | tr '\n' ';')"
echo "$after" | grep -q 'lab-wpa2' && check_fail ours-removed "$(echo "$after" | tr '\n' ';')" \
    || check_pass ours-removed "$(echo "$after" | tr '\n' ';')"
if echo "$after" | grep 'lab-open' | grep -q DISABLED || ! echo "$after" | grep -q 'lab-open'; then
    check_fail previous-enabled "$(echo "$after" | tr '\n' ';')"
else check_pass previous-enabled "$(echo "$after" | grep lab-open)"; fi
left=$(echo "$after" | awk '{print $1}' | while read -r id; do wpa_cli_sta get_network "$id" id_str; echo; done)
echo "$left" | grep -q wifiprovd && check_fail nothing-tagged "$left" || check_pass nothing-tagged
[ -e "$SD/wpa-reenable" ] && check_fail reenable-list-removed || check_pass reenable-list-removed
grep -q 'left over by an earlier run' $L/wifiprovd-wpa-kill-2.log && grep -q 'disabled by an earlier run' $L/wifiprovd-wpa-kill-2.log \
    && check_pass sweep-logged || check_fail sweep-logged "$(grep wpa_supplicant $L/wifiprovd-wpa-kill-2.log | head -5 | tr '\n' ' ')"
wait_for 30 sta_completed && check_pass back-on-previous "$(wpa_cli_sta status | grep ^ssid=)" \
    || check_fail back-on-previous "not connected again: $(wpa_cli_sta status | tr '\n' ' ')"

log "== a stored network deleted by hand"
cli provision --ssid lab-wpa2 --passphrase correct-horse-42
expect_cli provisioned 0 'state=connected ip=10\.77\.1\.[0-9]+ ssid=lab-wpa2'
daemon_stop
id=$(sta_networks | awk '$2 == "lab-wpa2" {print $1}')
wpa_cli_sta remove_network "$id" > /dev/null; wpa_cli_sta save_config > /dev/null
daemon_start sta wifiprovd-wpa-kill-3 "${ARGS[@]}" || exit 1
grep -q 'no longer exists in wpa_supplicant; starting provisioning' $L/wifiprovd-wpa-kill-3.log \
    && check_pass stored-gone-provisions "$(grep -m1 'no longer exists' $L/wifiprovd-wpa-kill-3.log)" \
    || check_fail stored-gone-provisions "$(head -12 $L/wifiprovd-wpa-kill-3.log | tr '\n' ' ')"
daemon_stop
exit $FAILED
