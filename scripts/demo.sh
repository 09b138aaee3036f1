#!/usr/bin/env bash
# Sets up a Debian 12 machine and runs the main job of wifiprov: a device (wifiprovd,
# simulated Wi-Fi) and a client (wifiprov) provisioning it over loopback HTTP with
# security 2, then showing the device's state.
#
# Environment:
#   WIFIPROV_DEMO_SSID / WIFIPROV_DEMO_PASSPHRASE   network to provision (default: a demo network)
#   WIFIPROV_DEMO_PORT                              loopback port (default: a free one)
#   WIFIPROV_DEMO_WIFI                              backend for wifiprovd (default sim)
#   WIFIPROV_DEMO_BUILD                             an existing build tree to run (installs and builds nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build=${WIFIPROV_DEMO_BUILD:-}
if [ -z "$build" ]; then
  build=$root/build/demo
  scripts/install-deps.sh --build-only
  cmake -S "$root" -B "$build" -DWIFIPROV_BUILD_TESTS=OFF -DWIFIPROV_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" >/dev/null
fi
wifiprovd=$build/daemon/wifiprovd
wifiprov=$build/cli/wifiprov

port=${WIFIPROV_DEMO_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
ssid=${WIFIPROV_DEMO_SSID:-HomeNetwork}
passphrase=${WIFIPROV_DEMO_PASSPHRASE:-correct-horse}
state=$(mktemp -d)
log=$state/wifiprovd.log
cleanup() {
  if [ -n "${dpid:-}" ] && kill -0 "$dpid" 2>/dev/null; then kill "$dpid"; wait "$dpid" 2>/dev/null || true; fi
  rm -rf "$state"
}
trap cleanup EXIT

echo "== starting the device: wifiprovd on 127.0.0.1:$port (security 2, simulated Wi-Fi)"
"$wifiprovd" --transport http --listen "127.0.0.1:$port" --wifi "${WIFIPROV_DEMO_WIFI:-sim}" \
  --security 2 --sec2-username wifiprov --sec2-password abcd1234 \
  --state-dir "$state" --auto-stop 5 --web-ui-dir "$root/web/dist" >"$log" 2>&1 &
dpid=$!
for _ in $(seq 100); do
  grep -q "Provisioning started" "$log" 2>/dev/null && break
  kill -0 "$dpid" 2>/dev/null || { cat "$log"; echo "wifiprovd did not start" >&2; exit 1; }
  sleep 0.1
done
shown=$(wc -l <"$log")
sed 's/^/  device| /' "$log"

echo
echo "== the client: scan, then provision '$ssid'"
"$wifiprov" scan --address "127.0.0.1:$port" --sec 2 --username wifiprov --password abcd1234
echo
rc=0
WIFIPROV_PASSPHRASE=$passphrase "$wifiprov" provision --address "127.0.0.1:$port" \
  --sec 2 --username wifiprov --password abcd1234 --ssid "$ssid" || rc=$?
echo
echo "== device log (continued)"
sleep 0.5
tail -n +"$((shown + 1))" "$log" | sed 's/^/  device| /'
echo "== client exit code: $rc"
exit "$rc"
