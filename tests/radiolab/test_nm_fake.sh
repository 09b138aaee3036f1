#!/usr/bin/env bash
# The NetworkManager backend against tests/radiolab/fake_nm.py on a private D-Bus bus: no
# radio, no root, a few seconds. Checks scan/auth mapping, the reason mapping of failures,
# that failed or forgotten profiles are deleted and that commit saves to disk.
# With DAEMON given, also that wifiprovd started before NetworkManager waits for it.
# Usage: test_nm_fake.sh DRIVER [DAEMON]   (exit 0 = pass; 77 = skipped: python3-dbus/gi missing)
set -uo pipefail
driver=$1
daemon=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
if ! $py -c 'import dbus, gi' 2>/dev/null || ! command -v dbus-daemon >/dev/null; then
  echo "SKIP: needs dbus-daemon, python3-dbus and python3-gi"
  exit 77
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
cat > "$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=$tmp/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$tmp/bus.conf" --nofork --nopidfile > "$tmp/bus.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do [ -S "$tmp/bus" ] && break; sleep 0.1; done
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/bus
# The log is emptied here, not by the background job's redirection: that one runs whenever the
# job gets scheduled, so on a loaded machine the wait below could see the previous run's READY.
# The wait is generous (30 s): starting Python is slow under load, and it is not what is tested.
start_nm() {
  : > "$tmp/nm.log"
  $py "$here/fake_nm.py" "$DBUS_SYSTEM_BUS_ADDRESS" >> "$tmp/nm.log" 2>&1 &
  nm_pid=$!
  pids+=($nm_pid)
  for _ in $(seq 300); do grep -q READY "$tmp/nm.log" && break; sleep 0.1; done
  grep -q READY "$tmp/nm.log" || { echo "FAIL: fake NetworkManager did not start"; cat "$tmp/nm.log"; exit 1; }
}
start_nm

# Waits (30 s at most: a bound for a loaded machine, not a speed check) for a line of the fake's
# log; the checks that follow say what is missing.
wait_nm_log() { for _ in $(seq 300); do grep -Eq -- "$1" "$tmp/nm.log" && return; sleep 0.1; done; }

# Failures are counted in a file: some happen inside $(...) subshells.
: > "$tmp/fails"
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1" >&2; echo "$1" >> "$tmp/fails"; }
# check NAME REGEX TEXT
check() { if grep -Eq -- "$2" <<< "$3"; then ok "$1"; else bad "$1: want /$2/ in:"; printf '%s\n' "$3" | sed 's/^/     /'; fi; }
# The driver exits 0 when every command ran; anything else (a sanitizer report, a leak, a
# crash, a timeout) fails the test even if its output looked right.
drv() {
  local rc
  timeout 30 "$driver" --backend nm --timeout 10 "$@" 2> "$tmp/drv.err"
  rc=$?
  if [ "$rc" != 0 ]; then bad "driver $* exited with $rc"; sed 's/^/     /' "$tmp/drv.err" | tail -20 >&2; fi
}

out=$(drv scan mac)
check backend '^BACKEND networkmanager$' "$out"
check scan-wpa2 '^AP ssid=lab-wpa2 bssid=02:00:00:00:00:00 ch=1 rssi=-40 auth=WPA2_PSK$' "$out"
check scan-sae '^AP ssid=lab-sae bssid=02:00:00:00:01:00 ch=11 rssi=-70 auth=WPA3_PSK$' "$out"
check scan-open '^AP ssid=lab-open bssid=02:00:00:00:00:01 ch=1 rssi=-55 auth=Open$' "$out"
check scan-order 'lab-wpa2' "$(echo "$out" | grep '^AP' | head -1)"
check mac '^MAC addr=02:00:00:00:09:00$' "$out"

out=$(drv connect lab-wpa2 wrong-passphrase)
check wrong-psk '^RESULT connect FAILED reason=AuthError' "$out"
out=$(drv connect lab-sae not-the-password)
check wrong-sae '^RESULT connect FAILED reason=AuthError' "$out"
out=$(drv connect no-such-network whatever-123)
check not-found '^RESULT connect FAILED reason=NetworkNotFound' "$out"
out=$(drv connect lab-wpa2 correct-horse-42 commit)
check connected '^RESULT connect CONNECTED ip=10\.77\.1\.50 ssid=lab-wpa2 bssid=02:00:00:00:00:00 ch=1 auth=WPA2_PSK' "$out"
check commit '^RESULT commit OK' "$out"
out=$(drv connect lab-sae sae-secret-99 forget)
check connected-sae '^RESULT connect CONNECTED ip=10\.77\.3\.50 ssid=lab-sae .* ch=11 auth=WPA3_PSK' "$out"
wait_nm_log '^CALL Delete /org/freedesktop/NetworkManager/Settings/5$'

# A new attempt while NM is still adding the previous profile: that one is deleted when NM
# answers, the new one is followed.
out=$(drv start lab-wpa2 wrong-passphrase connect lab-sae sae-secret-99 forget)
check superseded '^RESULT connect CONNECTED ip=10\.77\.3\.50 ssid=lab-sae' "$out"
wait_nm_log '^CALL Delete /org/freedesktop/NetworkManager/Settings/7$'

calls=$(grep '^CALL' "$tmp/nm.log")
check abandoned-deleted '^CALL Delete /org/freedesktop/NetworkManager/Settings/6$' "$calls"
check superseded-forgotten '^CALL Delete /org/freedesktop/NetworkManager/Settings/7$' "$calls"
check sae-key-mgmt 'AddAndActivateConnection2 id=wifiprov-lab-sae ssid=lab-sae key-mgmt=sae persist=memory owner=wifiprovd' "$calls"
check psk-key-mgmt 'AddAndActivateConnection2 id=wifiprov-lab-wpa2 ssid=lab-wpa2 key-mgmt=wpa-psk persist=memory owner=wifiprovd' "$calls"
check deleted-wrong-psk '^CALL Delete /org/freedesktop/NetworkManager/Settings/1$' "$calls"
check deleted-wrong-sae '^CALL Delete /org/freedesktop/NetworkManager/Settings/2$' "$calls"
check deleted-not-found '^CALL Delete /org/freedesktop/NetworkManager/Settings/3$' "$calls"
check saved '^CALL Update2 /org/freedesktop/NetworkManager/Settings/4 flags=1 settings=0$' "$calls"
check forgotten '^CALL Delete /org/freedesktop/NetworkManager/Settings/5$' "$calls"
if grep -q 'Delete /org/freedesktop/NetworkManager/Settings/4$' <<< "$calls"; then
  bad "committed profile deleted"
else ok "committed profile kept"; fi

# The stored network is checked at start: a profile for it exists (the committed one), or the
# backend says it is gone (the daemon then provisions again).
out=$(timeout 30 "$driver" --backend nm --timeout 2 saved gone-network 2>&1)
check saved-gone '^RESULT saved ERROR WIFIPROV_ERR_NOT_FOUND' "$out"

# Crash safety: kill -9 during an attempt leaves our in-memory profile; the next start deletes
# it, and keeps the saved (committed) one that carries the same tag.
n0=$(($(wc -l < "$tmp/nm.log") + 1))
"$driver" --backend nm start lab-slow slow-passphrase sleep 20000 > "$tmp/kill.out" 2>&1 &
dpid=$!
for _ in $(seq 300); do tail -n +"$n0" "$tmp/nm.log" | grep -q 'AddAndActivateConnection2 id=wifiprov-lab-slow' && break; sleep 0.1; done
sleep 0.3
kill -9 "$dpid"; wait "$dpid" 2>/dev/null
if tail -n +"$n0" "$tmp/nm.log" | grep -q '^CALL Delete'; then bad "kill-left-profile (deleted before the kill?)"; else ok kill-left-profile; fi
n1=$(($(wc -l < "$tmp/nm.log") + 1))
out=$(drv mac)
calls=$(tail -n +"$n1" "$tmp/nm.log" | grep '^CALL')
check sweep-deleted '^CALL Delete /org/freedesktop/NetworkManager/Settings/[0-9]+$' "$calls"
if printf '%s\n' "$calls" | grep -q 'Delete /org/freedesktop/NetworkManager/Settings/4$'; then
  bad "sweep deleted the committed profile"
else ok "sweep kept the committed profile"; fi
check sweep-logged 'deleted profile .* left over by an earlier run' "$(cat "$tmp/drv.err")"

# wifiprovd started before NetworkManager (a boot race) waits for its name on the bus.
if [ -n "$daemon" ]; then
  kill "$nm_pid"; wait "$nm_pid" 2>/dev/null
  mkdir "$tmp/state"
  "$daemon" --config /dev/null --security 0 --listen 127.0.0.1:0 --no-qr --wifi networkmanager \
    --state-dir "$tmp/state" > /dev/null 2> "$tmp/daemon.log" &
  dpid=$!
  pids+=($dpid)
  for _ in $(seq 300); do grep -q "Waiting for NetworkManager" "$tmp/daemon.log" && break; sleep 0.1; done
  sleep 1
  if kill -0 "$dpid" 2>/dev/null && grep -q 'Waiting for NetworkManager on the system bus' "$tmp/daemon.log"; then
    ok daemon-waits
  else bad "daemon-waits: $(cat "$tmp/daemon.log")"; fi
  start_nm
  for _ in $(seq 300); do grep -q "Provisioning started" "$tmp/daemon.log" && break; sleep 0.1; done
  check daemon-sees-nm 'NetworkManager appeared on the system bus' "$(cat "$tmp/daemon.log")"
  check daemon-continues 'Provisioning started' "$(cat "$tmp/daemon.log")"
  kill "$dpid"; wait "$dpid"; rc=$?
  [ "$rc" = 0 ] && ok daemon-exit-0 || bad "daemon-exit-0: exit $rc"
fi
fails=$(wc -l < "$tmp/fails")
echo "$fails failed"
[ "$fails" = 0 ]
