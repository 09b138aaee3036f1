#!/usr/bin/env bash
# Installs the Debian 12 packages wifiprov needs to build, test and run.
# Usage: scripts/install-deps.sh [--build-only] [--lab] [--arm] [--web] [--package]
#   (none)        building and the test suites (compilers, libraries, cmocka, clang, valgrind, ...)
#   --build-only  only what building the daemon, the client and the library needs (scripts/demo.sh)
#   --lab         also the virtual radio lab (qemu, hostapd, wpa_supplicant, NetworkManager, ...)
#   --arm         also the Cortex-M cross compiler used for the portable-core size check
#   --web         also what the provisioning page's build and tests need: Node.js with npm (when
#                 no node is installed yet; the tests want Node.js 20) and Chromium; the page's
#                 npm packages come from web/package-lock.json with 'npm ci' (scripts/test.sh)
#   --package     also the Debian packaging tools (scripts/package-test.sh)
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  libssl-dev libmbedtls-dev
  libprotobuf-c-dev protobuf-c-compiler
  libmicrohttpd-dev libcurl4-openssl-dev
  libsystemd-dev libwpa-client-dev
  libqrencode-dev libpng-dev libcjson-dev
  libcmocka-dev
  clang libclang-rt-14-dev valgrind
  python3 util-linux
  dbus python3-dbus python3-gi
)
# What building alone needs (a subset of the list above).
build_pkgs=(
  build-essential cmake pkg-config git
  libssl-dev libprotobuf-c-dev protobuf-c-compiler
  libmicrohttpd-dev libcurl4-openssl-dev
  libsystemd-dev libwpa-client-dev
  libqrencode-dev libpng-dev libcjson-dev
  python3
)
want_lab=0 want_arm=0 want_web=0 want_package=0
for a in "$@"; do
  case "$a" in
    --build-only) pkgs=("${build_pkgs[@]}") ;;
    --lab) want_lab=1 ;;
    --arm) want_arm=1 ;;
    --web) want_web=1 ;;
    --package) want_package=1 ;;
    *) echo "install-deps: unknown option '$a' (use --build-only, --lab, --arm, --web, --package)" >&2; exit 2 ;;
  esac
done
if [ "$want_package" = 1 ]; then
  pkgs+=(debhelper dpkg-dev lintian systemd)
fi
if [ "$want_arm" = 1 ]; then
  pkgs+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
fi
if [ "$want_web" = 1 ]; then
  pkgs+=(chromium)
  # An installed Node.js (e.g. version 20 from another source) is kept as it is.
  if ! command -v node >/dev/null 2>&1; then pkgs+=(nodejs npm); fi
fi
if [ "$want_lab" = 1 ]; then
  pkgs+=(qemu-system-x86 busybox-static kmod cpio hostapd wpasupplicant iw wireless-regdb
         dnsmasq-base iproute2 dbus network-manager udev bluez bluez-test-tools)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: these packages are missing: ${missing[*]}" >&2
    echo "install-deps: installing them needs root, and sudo is not installed. Either run this as root" >&2
    echo "  (su -c '$0 $*'), or install them yourself: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Unattended upgrades hold the dpkg lock for a while on a fresh machine: wait for it.
apt_opts=(-o DPkg::Lock::Timeout=300)
$sudo apt-get "${apt_opts[@]}" update -qq
$sudo apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
