#!/usr/bin/env bash
# Builds the Debian packages from a clean clone of this repository (the committed HEAD),
# runs lintian, installs them with apt-get (dependencies from the package metadata), checks
# that the installed programs, unit and library work, then removes and purges them and checks
# that nothing is left behind. Leaves the system as it found it: the packages are purged at
# the end, also after a failure. The .deb files are kept in build/packages/.
#
# Usage: scripts/package-test.sh        (needs root, or sudo; Debian 12)
# Environment: WIFIPROV_PACKAGE_KEEP=1 keeps the packages installed (for a look around).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pkgs=(wifiprovd wifiprov libwifiprov0 libwifiprov-dev)
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "package-test: needs root or sudo (apt-get install of the packages)" >&2; exit 2; }
  as_root=(sudo)
fi
apt_get() { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -qq "$@"; }
installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^.i'; }
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
step() { printf '\n--- %s\n' "$*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/wifiprov-package.XXXXXX")
we_installed=0
cleanup() {
  local rc=$?
  if [ "$we_installed" = 1 ] && [ "${WIFIPROV_PACKAGE_KEEP:-0}" != 1 ]; then
    for p in "${pkgs[@]}"; do
      if dpkg-query -W "$p" >/dev/null 2>&1; then apt_get purge "$p" >/dev/null 2>&1 || true; fi
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

for p in "${pkgs[@]}"; do
  if installed "$p"; then
    fail "$p is installed already; remove it first (apt-get purge ${pkgs[*]}): this test installs and purges them"
  fi
done

step "building from a clean clone of $(git rev-parse --short HEAD)"
git clone -q "$root" "$work/src"
(cd "$work/src" && dpkg-checkbuilddeps) || fail "build dependencies missing (scripts/install-deps.sh --package)"
(cd "$work/src" && DEB_BUILD_OPTIONS="noautodbgsym ${DEB_BUILD_OPTIONS:-}" \
   dpkg-buildpackage -b -us -uc -j"${JOBS:-2}" >"$work/build.log" 2>&1) \
  || { tail -40 "$work/build.log"; fail "dpkg-buildpackage"; }
grep -E '^dh_missing|warning: .* not installed' "$work/build.log" || true
mkdir -p build/packages
rm -f build/packages/*.deb
cp "$work"/*.deb build/packages/
ls -l "$work"/*.deb | awk '{printf "  %8d  %s\n", $5, $9}' | sed "s|$work/||"

step "lintian"
changes=$(ls "$work"/*.changes)
lintian --info --tag-display-limit 0 "$changes" >"$work/lintian.log" 2>&1 || true
sed 's/^/  /' "$work/lintian.log"
if grep -q '^E: ' "$work/lintian.log"; then fail "lintian reports errors"; fi
echo "  errors: 0, warnings: $(grep -c '^W: ' "$work/lintian.log" || true)"

step "apt-get install (dependencies from the package metadata)"
we_installed=1
debs=()
for p in "${pkgs[@]}"; do debs+=("$work/${p}_"*.deb); done
(apt_get install "${debs[@]}" >"$work/apt.log" 2>&1) || { cat "$work/apt.log"; fail "apt-get install"; }
for p in "${pkgs[@]}"; do installed "$p" || fail "$p is not installed"; done
dpkg -L "${pkgs[@]}" | sort -u >"$work/files"

step "installed programs"
wifiprovd --version | grep '^wifiprovd ' >/dev/null || fail "wifiprovd --version"
wifiprov --help >"$work/help" 2>&1 || fail "wifiprov --help exited non-zero"
grep -qi 'usage' "$work/help" || fail "wifiprov --help says no usage"
echo "  $(wifiprovd --version); wifiprov --help: $(wc -l <"$work/help") lines"
[ -f /usr/share/bash-completion/completions/wifiprov ] || fail "no bash completion for wifiprov"

step "service"
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd)
[ -f "$unitdir/wifiprovd.service" ] || fail "wifiprovd.service is not in $unitdir (where systemd looks)"
systemd-analyze verify "$unitdir/wifiprovd.service" >"$work/verify" 2>&1 || { cat "$work/verify"; fail "systemd-analyze verify"; }
grep -q '^ExecStart=/usr/bin/wifiprovd --config /etc/wifiprov/wifiprovd.conf$' "$unitdir/wifiprovd.service" \
  || fail "the unit does not start /usr/bin/wifiprovd with /etc/wifiprov/wifiprovd.conf"
getent passwd wifiprov >/dev/null || fail "the package did not create the user wifiprov"
dpkg-query -W -f='${Conffiles}\n' wifiprovd | grep '/etc/wifiprov/wifiprovd.conf' >/dev/null || fail "wifiprovd.conf is not a conffile"
wifiprovd --help | grep '/etc/wifiprov/wifiprovd.conf' >/dev/null || fail "the built-in default configuration is not /etc/wifiprov/wifiprovd.conf"
echo "  unit in $unitdir, user $(getent passwd wifiprov | cut -d: -f1,3,6), conffile /etc/wifiprov/wifiprovd.conf"
systemd-analyze security --offline=true "$unitdir/wifiprovd.service" 2>/dev/null | tail -n1 | sed 's/^/  /'
# The SoftAP drop-in example on the installed unit: read, and nothing in it unknown or wrong.
ex=/usr/share/doc/wifiprovd/examples/softap.conf
[ -f "$ex" ] || fail "no SoftAP drop-in example $ex"
mkdir -p "$work/units/wifiprovd.service.d"
cp "$unitdir/wifiprovd.service" "$work/units/" && cp "$ex" "$work/units/wifiprovd.service.d/softap.conf"
SYSTEMD_UNIT_PATH="$work/units:" systemd-analyze verify "$work/units/wifiprovd.service" >"$work/verify-softap" 2>&1 \
  || { cat "$work/verify-softap"; fail "systemd-analyze verify with the SoftAP drop-in"; }
! grep -F softap.conf "$work/verify-softap" || fail "systemd-analyze complains about the SoftAP drop-in"
echo "  with the SoftAP drop-in example: $(SYSTEMD_UNIT_PATH="$work/units:" systemd-analyze security --offline=true \
  "$work/units/wifiprovd.service" 2>/dev/null | tail -n1 | sed 's/^.*: //')"
# The daemon runs as that user with the installed sample configuration and the README's
# security-1 command line (its state in a directory of the test).
mkdir "$work/state" && chown wifiprov: "$work/state" && chmod 0700 "$work"
chmod 0755 "$work"
"${as_root[@]}" runuser -u wifiprov -- timeout 5 wifiprovd --security 1 --pop abcd1234 --wifi sim \
  --listen 127.0.0.1:0 --state-dir "$work/state" --no-qr >"$work/run.log" 2>&1 || true
grep -q 'Provisioning started' "$work/run.log" || { cat "$work/run.log"; fail "wifiprovd did not start as user wifiprov"; }
echo "  wifiprovd runs as wifiprov beside the installed configuration"
# The installed D-Bus policy, under Debian's system-bus rules: wifiprov may call NM and BlueZ.
/usr/bin/python3 tests/daemon/dbus_policy_check.py /usr/share/dbus-1/system.d/wifiprovd.conf >"$work/dbus.log" 2>&1 \
  || { cat "$work/dbus.log"; fail "D-Bus policy"; }
sed 's/^/  /' "$work/dbus.log"

step "a program linked against the installed libwifiprov-dev"
tests/consumer/consumer_test.sh --prefix /usr all >"$work/consumer.log" 2>&1 || { cat "$work/consumer.log"; fail "consumer"; }
grep -E '^(PASS|libwifiprov)' "$work/consumer.log" | sed 's/^/  /'

if [ "${WIFIPROV_PACKAGE_KEEP:-0}" = 1 ]; then
  we_installed=0
  echo "package-test: packages kept installed (WIFIPROV_PACKAGE_KEEP=1)"
  exit 0
fi

step "remove, then purge"
# State as a run of the service leaves it.
"${as_root[@]}" install -d -o wifiprov -g wifiprov -m 0700 /var/lib/wifiprov
"${as_root[@]}" sh -c 'echo "{}" > /var/lib/wifiprov/state.json'
apt_get remove "${pkgs[@]}" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get remove"; }
left=$(while read -r f; do [ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done <"$work/files" || true)
[ "$left" = /etc/wifiprov/wifiprovd.conf ] || fail "after remove, left: ${left:-nothing} (want only the conffile)"
[ -f /var/lib/wifiprov/state.json ] || fail "remove deleted the state"
known=()
for p in "${pkgs[@]}"; do if dpkg-query -W "$p" >/dev/null 2>&1; then known+=("$p"); fi; done
apt_get purge "${known[@]}" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get purge"; }
we_installed=0
left=$(while read -r f; do [ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done <"$work/files" || true)
[ -z "$left" ] || fail "after purge, left: $left"
[ ! -e /var/lib/wifiprov ] || fail "purge left /var/lib/wifiprov"
[ ! -e /etc/wifiprov ] || fail "purge left /etc/wifiprov: $(ls -A /etc/wifiprov)"
echo "  remove keeps the conffile and the state; purge leaves nothing (the system user wifiprov stays)"
echo "package-test: all checks passed"
