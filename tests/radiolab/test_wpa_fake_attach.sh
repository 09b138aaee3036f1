#!/usr/bin/env bash
# The real wifiprovd with the wpa_supplicant backend against tests/radiolab/fake_wpa.py whose
# first ATTACH is answered only after 8 s (a stalled supplicant). The daemon must not wait for
# it with its event loop stopped: HTTP answers within a few seconds of the start, the ATTACH
# without an answer counts as a lost control interface after 5 s, the reopened one attaches,
# and a scan then finishes on the supplicant's scan event.
# Usage: test_wpa_fake_attach.sh WIFIPROVD WIFIPROV   (exit 0 = pass)
set -uo pipefail
daemon=$1
cli=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=
dpid=
cleanup() {
  [ -n "$dpid" ] && kill "$dpid" 2>/dev/null
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
: > "$tmp/fails"
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1" >&2; echo "$1" >> "$tmp/fails"; }
ms() { date +%s%3N; }
wait_log() { # FILE REGEX SECONDS
  local end=$(($(ms) + $3 * 1000))
  while [ "$(ms)" -lt "$end" ]; do grep -Eq -- "$2" "$1" && return 0; sleep 0.1; done
  return 1
}

mkdir "$tmp/ctrl" "$tmp/state"
FAKE_WPA_ATTACH_DELAY=8 /usr/bin/python3 "$here/fake_wpa.py" "$tmp/ctrl" > "$tmp/wpa.log" 2>&1 &
pid=$!
wait_log "$tmp/wpa.log" READY 10 || { echo "FAIL: fake wpa_supplicant did not start"; cat "$tmp/wpa.log"; exit 1; }
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

t0=$(ms)
"$daemon" --no-config --transport http --listen "127.0.0.1:$port" --security 1 --pop abcd1234 --auto-stop 0 \
  --no-qr --no-web-ui -v --wifi wpa_supplicant --wpa-ctrl-dir "$tmp/ctrl" --dhcp-hook true --state-dir "$tmp/state" \
  > "$tmp/daemon.log" 2>&1 &
dpid=$!

# HTTP while the ATTACH is still unanswered: an answer before the fake's late "OK" (8 s) is
# one the event loop gave while ATTACH was pending (libwpa_client's attach would hold it).
answered=
while [ $(($(ms) - t0)) -lt 7000 ]; do
  if timeout 5 "$cli" version --address "127.0.0.1:$port" > "$tmp/version.out" 2>&1; then answered=$(($(ms) - t0)); break; fi
  sleep 0.1
done
if [ -z "$answered" ]; then
  bad "http-during-stalled-attach: no answer within 7 s: $(tail -5 "$tmp/daemon.log" | tr '\n' ' ') $(cat "$tmp/version.out")"
elif grep -q 'ATTACH answered late' "$tmp/wpa.log"; then
  bad "http-during-stalled-attach: answered only after the fake answered ATTACH (${answered} ms)"
else
  ok "http-during-stalled-attach (answered ${answered} ms after the start)"
fi
grep -q '^REQ ATTACH$' "$tmp/wpa.log" && ok attach-sent || bad "attach-sent: $(grep REQ "$tmp/wpa.log" | head -5)"

wait_log "$tmp/daemon.log" 'no answer to ATTACH on .* within 5000 ms' 10 && ok attach-timeout \
  || bad "attach-timeout: $(grep wpa_supplicant "$tmp/daemon.log" | tail -5 | tr '\n' ' ')"
wait_log "$tmp/daemon.log" 'wpa_supplicant: control interface is back' 10 && ok attach-again \
  || bad "attach-again: $(grep wpa_supplicant "$tmp/daemon.log" | tail -5 | tr '\n' ' ')"
[ "$(grep -c '^REQ ATTACH$' "$tmp/wpa.log")" -ge 2 ] && ok attach-retried || bad "attach-retried: one ATTACH only"

# Events arrive on the reopened monitor: the scan ends on CTRL-EVENT-SCAN-RESULTS.
out=$(timeout 30 "$cli" scan --address "127.0.0.1:$port" --sec 1 --pop abcd1234 2>&1)
grep -q 'lab-wpa2' <<< "$out" && ok "scan-after-reattach" || bad "scan-after-reattach: $out"
grep -q 'wpa_supplicant: < CTRL-EVENT-SCAN-RESULTS' "$tmp/daemon.log" && ok scan-event \
  || bad "scan-event: $(grep 'wpa_supplicant: <' "$tmp/daemon.log" | tail -3 | tr '\n' ' ')"
kill -0 "$dpid" 2>/dev/null && ok daemon-running || bad "daemon-running: $(tail -5 "$tmp/daemon.log")"

if [ -s "$tmp/fails" ]; then
  echo "--- daemon log" >&2
  tail -30 "$tmp/daemon.log" >&2
  exit 1
fi
echo "all checks passed"
