#!/usr/bin/env bash
# The wpa_supplicant backend against tests/radiolab/fake_wpa.py (a scripted control socket):
# no radio, no root, a few seconds. Checks the scan parsing, the requests made for PSK, SAE and
# open networks, the failure mapping, that failed or forgotten networks are removed and the
# networks enabled before are enabled again, and that commit saves with our priority highest.
# Usage: test_wpa_fake.sh DRIVER   (exit 0 = pass)
set -uo pipefail
driver=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir "$tmp/ctrl"
/usr/bin/python3 "$here/fake_wpa.py" "$tmp/ctrl" > "$tmp/wpa.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q READY "$tmp/wpa.log" 2>/dev/null && break; sleep 0.1; done
grep -q READY "$tmp/wpa.log" || { echo "FAIL: fake wpa_supplicant did not start"; cat "$tmp/wpa.log"; exit 1; }

: > "$tmp/fails"
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1" >&2; echo "$1" >> "$tmp/fails"; }
check() { if grep -Eq -- "$2" <<< "$3"; then ok "$1"; else bad "$1: want /$2/ in:"; printf '%s\n' "$3" | sed 's/^/     /' >&2; fi; }
drv() {
  local rc
  # A DHCP hook that returns at once: lo keeps 127.0.0.1, which then counts as the lease.
  timeout 30 "$driver" --backend wpa --ctrl-dir "$tmp/ctrl" --dhcp-hook true --timeout 10 "$@" 2> "$tmp/drv.err"
  rc=$?
  if [ "$rc" != 0 ]; then bad "driver $* exited with $rc"; sed 's/^/     /' "$tmp/drv.err" | tail -20 >&2; fi
}
reqs_since() { tail -n +"$1" "$tmp/wpa.log" | grep '^REQ'; }
mark() { wc -l < "$tmp/wpa.log"; }

out=$(drv scan mac)
check backend '^BACKEND wpa_supplicant$' "$out"
check scan-wpa2 '^AP ssid=lab-wpa2 bssid=02:00:00:00:00:00 ch=1 rssi=-30 auth=WPA2_PSK$' "$out"
check scan-sae '^AP ssid=lab-sae bssid=02:00:00:00:01:00 ch=11 rssi=-40 auth=WPA3_PSK$' "$out"
check scan-open '^AP ssid=lab-open bssid=02:00:00:00:00:01 ch=1 rssi=-50 auth=Open$' "$out"
check mac '^MAC addr=02:00:00:00:09:00$' "$out"

m=$(mark)
out=$(drv connect lab-wpa2 wrong-passphrase)
check wrong-psk '^RESULT connect FAILED reason=AuthError' "$out"
r=$(reqs_since "$m")
check psk-request '^REQ SET_NETWORK 1 key_mgmt WPA-PSK$' "$r"
check ssid-hex '^REQ SET_NETWORK 1 ssid 6c61622d77706132$' "$r"
check removed '^REQ REMOVE_NETWORK 1$' "$r"
check re-enabled '^REQ ENABLE_NETWORK 0$' "$r"

m=$(mark)
out=$(drv connect lab-sae not-the-password)
check wrong-sae '^RESULT connect FAILED reason=AuthError' "$out"
r=$(reqs_since "$m")
check sae-request '^REQ SET_NETWORK 2 key_mgmt SAE$' "$r"
check sae-pmf '^REQ SET_NETWORK 2 ieee80211w 2$' "$r"
check sae-password '^REQ SET_NETWORK 2 sae_password "not-the-password"$' "$r"

m=$(mark)
out=$(drv connect no-such-network whatever-123)
check not-found '^RESULT connect FAILED reason=NetworkNotFound' "$out"
r=$(reqs_since "$m")
check unseen-both '^REQ SET_NETWORK 3 key_mgmt WPA-PSK SAE$' "$r"
check unseen-probe '^REQ SET_NETWORK 3 scan_ssid 1$' "$r"

out=$(drv connect lab-wpa2 short)
check short-psk '^RESULT connect FAILED reason=AuthError' "$out"

m=$(mark)
out=$(drv connect lab-wpa2 correct-horse-42 commit)
check connected '^RESULT connect CONNECTED ip=127\.0\.0\.1 ssid=lab-wpa2 bssid=02:00:00:00:00:00 ch=1 auth=WPA2_PSK' "$out"
check commit '^RESULT commit OK' "$out"
check saved '^SAVED lab-open:0 lab-wpa2:1$' "$(grep '^SAVED' "$tmp/wpa.log")"

m=$(mark)
out=$(drv connect lab-open "" forget)
check connected-open '^RESULT connect CONNECTED ip=127\.0\.0\.1 ssid=lab-open .* ch=1 auth=Open' "$out"
r=$(reqs_since "$m")
check open-request '^REQ SET_NETWORK [0-9]+ key_mgmt NONE$' "$r"
check forget-removes '^REQ REMOVE_NETWORK [0-9]+$' "$r"

# After forget the fake supplicant went back to lab-open (the first network enabled again):
# connect_saved reports the network in use, not the stored SSID it was given.
out=$(drv saved lab-wpa2)
check saved-connect '^RESULT saved CONNECTED ip=127\.0\.0\.1 ssid=lab-open bssid=02:00:00:00:00:01 ch=1 auth=Open' "$out"

# Crash safety: kill -9 during an attempt leaves our tagged network and the list of networks
# it disabled (on disk); the next start removes the one and enables the others again.
wpa_req() {
  /usr/bin/python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
me = "%s/req-%d" % (sys.argv[3], os.getpid())
s.bind(me)
try:
    s.connect(sys.argv[1]); s.send(sys.argv[2].encode()); s.settimeout(5)
    print(s.recv(65536).decode(), end="")
finally:
    os.unlink(me)' "$tmp/ctrl/lo" "$1" "$tmp"
}
enabled_nets() { wpa_req LIST_NETWORKS | tail -n +2 | grep -v DISABLED | cut -f1,2 | sort | tr '\t\n' ': '; }
mkdir "$tmp/state"
before=$(enabled_nets)
m=$(mark)
"$driver" --backend wpa --ctrl-dir "$tmp/ctrl" --state-dir "$tmp/state" start lab-slow slow-passphrase \
  sleep 20000 > "$tmp/kill.out" 2>&1 &
dpid=$!
for _ in $(seq 100); do reqs_since "$m" | grep -q '^REQ SELECT_NETWORK' && break; sleep 0.1; done
kill -9 "$dpid"; wait "$dpid" 2>/dev/null
ours=$(reqs_since "$m" | sed -n 's/^REQ SET_NETWORK \([0-9]*\) id_str "wifiprovd"$/\1/p' | head -1)
check kill-tagged '^[0-9]+$' "$ours"
check kill-disabled-listed '^[0-9]+ [0-9a-f]+$' "$(cat "$tmp/state/wpa-reenable" 2>&1)"
check kill-left-disabled '.' "$(wpa_req LIST_NETWORKS | grep DISABLED)"
m=$(mark)
out=$(drv --state-dir "$tmp/state" mac)
r=$(reqs_since "$m")
check sweep-removes "^REQ REMOVE_NETWORK $ours\$" "$r"
check sweep-enables '^REQ ENABLE_NETWORK [0-9]+$' "$r"
check sweep-enabled-again "^$(printf '%s' "$before" | sed 's/[.[*^$]/\\&/g')\$" "$(enabled_nets)"
check sweep-nothing-ours '^$' "$(wpa_req LIST_NETWORKS | tail -n +2 | cut -f1 | while read -r id; do wpa_req "GET_NETWORK $id id_str"; echo; done | grep wifiprovd)"
if [ -e "$tmp/state/wpa-reenable" ]; then bad "sweep-file-removed"; else ok "sweep-file-removed"; fi

out=$(timeout 30 "$driver" --backend wpa --ctrl-dir "$tmp/nothing" mac 2>&1)
check missing-dir '^BACKEND ERROR WIFIPROV_ERR_UNSUPPORTED' "$out"
fails=$(wc -l < "$tmp/fails")
echo "$fails failed"
[ "$fails" = 0 ]
