#!/usr/bin/env bash
# The virtual radio lab: boots Debian's kernel under qemu (TCG, no KVM) with three or
# more mac80211_hwsim radios, real hostapd, wpa_supplicant, dnsmasq and NetworkManager,
# and runs the project's host-built binaries against them (see docs/radiolab.md).
#
# Usage: tests/radiolab/run.sh [BUILD_DIR]        (default: build/ci-openssl)
# Env:   WIFIPROV_SKIP_LAB=1          skip (exit 0, said loudly)
#        WIFIPROV_LAB_SCENARIOS="..." scenarios to run (default: all, in one boot)
#        WIFIPROV_LAB_TIMEOUT=secs    bound on the whole guest run (default 1800)
#        WIFIPROV_LAB_NO_APT=1        don't call scripts/install-deps.sh
# Exit: 0 all checks passed; 1 a check failed; 2 setup problem; 3 the guest gave no result.
set -uo pipefail
# depmod, modprobe and the daemons live in /usr/sbin, which is not on a user's PATH.
export PATH="$PATH:/usr/sbin:/sbin"
if [ "${WIFIPROV_SKIP_LAB:-0}" = 1 ]; then
  echo "radio lab skipped (WIFIPROV_SKIP_LAB=1)"
  exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$here/work
out=$work/out
scenarios=${WIFIPROV_LAB_SCENARIOS:-"wpa-driver nm-driver wpa-e2e nm-e2e nm-kill wpa-kill wpa-softap nm-softap ble-gatt ble-e2e ble-wpa"}
timeout_s=${WIFIPROV_LAB_TIMEOUT:-1800}
t_start=$(date +%s.%N)

build=${1:-$repo/build/ci-openssl}
case "$build" in /*) ;; *) build=$PWD/$build ;; esac
if [ ! -d "$build" ]; then
  echo "radiolab: build directory '$build' does not exist (build first, or pass one)" >&2
  exit 2
fi
build=$(cd "$build" && pwd)

# One lab at a time on this checkout: the guest writes into work/out.
mkdir -p "$work"
exec 9> "$work/lock"
if ! flock -n 9; then
  echo "radiolab: another lab run is using $work; waiting for it (at most 15 min)"
  flock -w 900 9 || { echo "radiolab: still busy, giving up" >&2; exit 2; }
fi
"$here/setup.sh" || exit 2
kver=$(cat "$work/kernel/KVER")

# Binaries the scenarios use; a missing one makes the scenarios that need it fail
# (not skip), except the end-to-end ones while the daemon or CLI are not built at all.
find_bin() { find "$build" -type f -name "$1" -perm -u+x 2>/dev/null | head -1; }
rm -rf "$out"
mkdir -p "$out"
{
  echo "LAB_DRIVER=$(find_bin wifiprov_lab_driver)"
  echo "LAB_DAEMON=$(find_bin wifiprovd)"
  echo "LAB_CLI=$(find_bin wifiprov)"
} > "$out/bins.env"
cat "$out/bins.env" | sed 's/^/radiolab: /'

# The build dir is shared read-only at its own path when it is outside the repository.
extra=()
bindir_arg=""
case "$build/" in
  "$repo"/*) ;;
  *) extra=(-virtfs "local,path=$build,mount_tag=build,readonly=on,security_model=none,multidevs=remap")
     bindir_arg="wplab.build=$build" ;;
esac
V=security_model=none,multidevs=remap
echo "radiolab: booting kernel $kver (qemu TCG, 2 vCPUs); scenarios: $scenarios"
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 -accel tcg,thread=multi -cpu max \
  -smp 2 -m 1024 -no-reboot -nic none -display none -monitor none \
  -serial "file:$out/console.log" \
  -kernel "$work/kernel/root/boot/vmlinuz-$kver" \
  -initrd "$work/initramfs.cpio.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=4 wplab.repo=$repo $bindir_arg wplab.scen=$(echo $scenarios | tr ' ' ,)" \
  -device virtio-rng-pci \
  -virtfs "local,path=/usr,mount_tag=husr,readonly=on,$V" \
  -virtfs "local,path=/etc,mount_tag=hetc,readonly=on,$V" \
  -virtfs "local,path=$work/kernel/root,mount_tag=kmod,readonly=on,$V" \
  -virtfs "local,path=$repo,mount_tag=repo,$V" \
  "${extra[@]}"
qrc=$?
wall=$(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')

echo
echo "=== radio lab results ==="
rc=0
if [ -f "$out/results.txt" ]; then
  grep -E '^(PASS|FAIL|NOTE)' "$out/results.txt"
  echo "--- per scenario"
  for s in $scenarios; do
    p=$(grep -c "^PASS $s/" "$out/results.txt")
    f=$(grep -c "^FAIL $s/" "$out/results.txt")
    line=$(grep "^SCENARIO $s " "$out/results.txt" | tail -1)
    srv=$(echo "$line" | sed -n 's/.*rc=\([0-9]*\).*/\1/p')
    st=$(echo "$line" | sed -n 's/.*time=\([^ ]*\).*/\1/p')
    verdict=ok
    if [ -z "$line" ]; then verdict="DID NOT FINISH"; rc=1
    elif [ "$f" -ne 0 ] || [ "$srv" != 0 ]; then verdict=FAILED; rc=1; fi
    printf '  %-12s %-15s %3d passed, %d failed  (%s)\n' "$s" "$verdict" "$p" "$f" "${st:-?}"
  done
fi
if [ ! -f "$out/guest.rc" ]; then
  echo "radiolab: the guest gave no result (qemu exit $qrc; timeout ${timeout_s}s?). Console tail:"
  tail -20 "$out/console.log" 2>/dev/null
  rc=3
elif [ "$(cat "$out/guest.rc")" != 0 ] && [ "$rc" = 0 ]; then
  rc=1
fi
npass=$(grep -c '^PASS' "$out/results.txt" 2>/dev/null || true)
nfail=$(grep -c '^FAIL' "$out/results.txt" 2>/dev/null || true)
echo "radiolab: wall time ${wall}s; logs in $out"
echo "radiolab: ${npass:-0} passed, ${nfail:-0} failed"
exit $rc
