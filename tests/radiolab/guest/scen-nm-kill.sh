#!/bin/bash
# Crash safety with NetworkManager: wifiprovd is killed (-9) during a connection attempt, while
# its in-memory profile is activating; the next start must delete it and leave the user's
# profiles as they were. Then a stored profile deleted by hand: the next start says so and
# provisions again instead of idling.
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
nm_daemon_scenario_up || exit 1
daemon_start "" wifiprovd-nm-kill-1 "${NMARGS[@]}" || exit 1

log "== kill -9 during an attempt"
# A network that is there with a wrong passphrase: the attempt lasts seconds (the AP repeats
# the first message of the 4-way handshake before giving up), unlike an unknown SSID, which
# NetworkManager may fail at its next scan. The kill comes right after the daemon logs that
# NetworkManager added and is activating its profile, so the profile is there to be swept.
cli_raw provision --ssid lab-wpa2 --passphrase wrong-passphrase --sec 1 --pop $POP --timeout 60 \
    > $L/kill-cli.out 2>&1 &
cli_pid=$!
if wait_for 30 grep -q 'networkmanager: profile .* activating as' $L/wifiprovd-nm-kill-1.log; then
    kill -9 $DAEMON_PID; wait $DAEMON_PID 2>/dev/null; DAEMON_PID=
    if nmcli -t -f NAME con show | grep -qx wifiprov-lab-wpa2; then
        check_pass killed-mid-attempt "profiles: $(nm_profiles)"
    else
        check_fail killed-mid-attempt "no profile wifiprov-lab-wpa2 after the kill: $(nm_profiles)"
    fi
else
    check_fail killed-mid-attempt "the attempt never added its profile: $(grep networkmanager $L/wifiprovd-nm-kill-1.log | tail -5 | tr '\n' ' ')"
fi
kill $cli_pid 2>/dev/null; wait $cli_pid 2>/dev/null
# The tag as NetworkManager keeps it (nmcli does not show the "user" setting).
path=$(nmcli -g GENERAL.CON-PATH con show wifiprov-lab-wpa2 2>/dev/null)
tag=$(busctl --system call org.freedesktop.NetworkManager "$path" org.freedesktop.NetworkManager.Settings.Connection \
    GetSettings 2>&1 | grep -o '"wifiprov.owner" "wifiprovd"')
[ -n "$tag" ] && check_pass tagged "user data $tag" || check_fail tagged "no wifiprov.owner in the settings of $path"

log "== restart: the sweep"
daemon_start "" wifiprovd-nm-kill-2 "${NMARGS[@]}" || exit 1
after=$(nm_profiles)
[ "$after" = "$before" ] && check_pass profiles-as-before "$after" || check_fail profiles-as-before "before: $before after: $after"
grep -q 'deleted profile .* left over by an earlier run' $L/wifiprovd-nm-kill-2.log && check_pass sweep-logged \
    || check_fail sweep-logged "$(grep networkmanager $L/wifiprovd-nm-kill-2.log | head -5 | tr '\n' ' ')"
nmcli --wait 60 con up prev-open > /dev/null 2>&1 && check_pass previous-usable "prev-open up again" \
    || check_fail previous-usable "prev-open does not come up"

log "== a stored profile deleted by hand"
cli provision --ssid lab-wpa2 --passphrase correct-horse-42
expect_cli provisioned 0 'state=connected ip=10\.77\.1\.[0-9]+ ssid=lab-wpa2'
grep -q 'profile saved to disk' $L/wifiprovd-nm-kill-2.log && [ -s "$SD/state.json" ] \
    && check_pass state-after-save "state.json written after NM saved the profile" \
    || check_fail state-after-save "$(ls -l "$SD") $(grep -c 'saved to disk' $L/wifiprovd-nm-kill-2.log)"
daemon_stop
nmcli con delete wifiprov-lab-wpa2 > /dev/null 2>&1
daemon_start "" wifiprovd-nm-kill-3 "${NMARGS[@]}" || exit 1
grep -q 'no longer exists in networkmanager; starting provisioning' $L/wifiprovd-nm-kill-3.log \
    && check_pass stored-gone-provisions "$(grep -m1 'no longer exists' $L/wifiprovd-nm-kill-3.log)" \
    || check_fail stored-gone-provisions "$(head -12 $L/wifiprovd-nm-kill-3.log | tr '\n' ' ')"
daemon_stop
nmcli --wait 30 con up prev-open > /dev/null 2>&1
exit $FAILED
