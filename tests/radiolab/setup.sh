#!/usr/bin/env bash
# Prepares the radio lab: Debian's own kernel (with mac80211_hwsim) unpacked into
# tests/radiolab/work/kernel (never installed as the host's kernel) and a small busybox
# initramfs that mounts the host's /usr and /etc over 9p. Idempotent: a second run
# reuses what is there. Packages come from scripts/install-deps.sh --lab.
# Usage: tests/radiolab/setup.sh        (env: WIFIPROV_LAB_NO_APT=1 skips the package step)
set -euo pipefail
# depmod, modprobe and the daemons live in /usr/sbin, which is not on a user's PATH.
export PATH="$PATH:/usr/sbin:/sbin"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$here/work
mkdir -p "$work/kernel"

if [ "${WIFIPROV_LAB_NO_APT:-0}" != 1 ]; then
  "$repo/scripts/install-deps.sh" --lab
fi
for tool in qemu-system-x86_64 busybox cpio depmod modprobe hostapd wpa_supplicant dnsmasq NetworkManager btvirt btmon; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ] && [ ! -x "/sbin/$tool" ]; then
    echo "radiolab setup: '$tool' is missing (run scripts/install-deps.sh --lab)" >&2
    exit 2
  fi
done

# The versioned image package behind the linux-image-amd64 metapackage (what apt would
# install as the current Debian 12 kernel). WIFIPROV_LAB_KERNEL overrides it.
pkg=${WIFIPROV_LAB_KERNEL:-}
if [ -z "$pkg" ]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
if [ -z "$pkg" ]; then
  # apt lists may be missing on a fresh machine.
  apt-get update -qq
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
kver=${pkg#linux-image-}
kroot=$work/kernel/root
if [ ! -f "$kroot/boot/vmlinuz-$kver" ] || [ ! -f "$kroot/lib/modules/$kver/modules.dep" ]; then
  echo "radiolab setup: fetching $pkg"
  rm -rf "$kroot" "$work"/kernel/*.deb
  (cd "$work/kernel" && apt-get download -q "$pkg" >/dev/null)
  dpkg-deb -x "$work"/kernel/"$pkg"_*.deb "$kroot"
  rm -f "$work"/kernel/*.deb
  depmod -b "$kroot" "$kver"
fi
echo "$kver" > "$work/kernel/KVER"
# The guest loads these with plain modprobe (Wi-Fi radios, emulated Bluetooth controllers).
for m in mac80211_hwsim hci_vhci bluetooth; do
  if ! modprobe -d "$kroot" -S "$kver" --show-depends "$m" >/dev/null 2>&1; then
    echo "radiolab setup: kernel $kver has no module $m" >&2
    exit 2
  fi
done
if [ ! -x /usr/libexec/bluetooth/bluetoothd ]; then
  echo "radiolab setup: /usr/libexec/bluetooth/bluetoothd is missing (install bluez)" >&2
  exit 2
fi

# initramfs: busybox-static, the modules to mount 9p and overlayfs, and our /init.
initrd=$work/initramfs.cpio.gz
if [ ! -f "$initrd" ] || [ "$here/guest/init.sh" -nt "$initrd" ] || [ "$work/kernel/KVER" -nt "$initrd" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp"/{bin,mods,proc,sys,dev,newroot}
  cp /bin/busybox "$tmp/bin/busybox"
  : > "$tmp/mods/order"
  modprobe -d "$kroot" -S "$kver" --show-depends -a virtio_pci 9pnet_virtio 9p overlay virtio_rng |
    awk '$1 == "insmod" && !seen[$2]++ {print $2}' |
    while read -r ko; do
      cp "$ko" "$tmp/mods/"
      basename "$ko" >> "$tmp/mods/order"
    done
  install -m 0755 "$here/guest/init.sh" "$tmp/init"
  (cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1 > "$initrd.tmp")
  mv "$initrd.tmp" "$initrd"
fi
echo "radiolab setup: kernel $kver, initramfs $(du -h "$initrd" | cut -f1)"
