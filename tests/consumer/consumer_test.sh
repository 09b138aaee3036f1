#!/usr/bin/env bash
# Builds and runs examples/loopback, an out-of-tree consumer of libwifiprov, against an
# installed libwifiprov: a build tree installed into a prefix of its own or an installed package
# (--prefix /usr).
#
#   consumer_test.sh [--build-dir BUILD] --prefix DIR CASE
#   CASE: install (cmake --install BUILD --prefix DIR), layout (BUILD's install layout),
#         cmake_shared, cmake_static,
#         pkgconfig_shared, pkgconfig_static, exports, all (install unless DIR is /usr, then the rest)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build_dir="" prefix=""
while [ $# -gt 1 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    *) break ;;
  esac
done
case_name=${1:?usage: consumer_test.sh [--build-dir BUILD] --prefix DIR CASE}
work=$(mktemp -d "${TMPDIR:-/tmp}/wifiprov-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -n "$prefix" ] || fail "give --prefix"
if [ "$case_name" = install ] || { [ "$case_name" = all ] && [ -n "$build_dir" ]; }; then
  [ -n "$build_dir" ] || fail "install needs --build-dir"
  rm -rf "$prefix"
  cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "cmake --install"; }
  if [ "$case_name" = install ]; then echo "PASS: install into $prefix"; exit 0; fi
fi
pc=$(find "$prefix/lib" "$prefix/share" -name wifiprov.pc -path '*pkgconfig*' 2>/dev/null | head -n1)
[ -n "$pc" ] || fail "no wifiprov.pc under $prefix"
libdir=$(dirname "$(dirname "$pc")")
if [ "$prefix" != /usr ]; then
  export PKG_CONFIG_PATH=$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
  export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
cc=${CC:-cc}

# run_pair BINARY LINKAGE: the right passphrase connects (0), a wrong one fails (1); and the
# binary needs libwifiprov.so.0 exactly when it was linked shared.
run_pair() {
  local bin=$1 linkage=$2 rc=0
  "$bin" >"$work/ok.out" 2>&1 || rc=$?
  cat "$work/ok.out"
  [ "$rc" = 0 ] || fail "$bin exited $rc with the right passphrase"
  grep -q 'connected to "HomeNetwork" with address 192.0.2.10' "$work/ok.out" || fail "no Connected line"
  rc=0
  "$bin" wrong-passphrase >"$work/bad.out" 2>&1 || rc=$?
  [ "$rc" = 1 ] || { cat "$work/bad.out"; fail "$bin exited $rc with a wrong passphrase, expected 1"; }
  grep -q 'failed to connect: AuthError' "$work/bad.out" || { cat "$work/bad.out"; fail "no AuthError line"; }
  # (into files first: grep -q would close a pipe early and pipefail turn that into a failure)
  readelf -d "$bin" >"$work/dynamic"
  if grep -q 'NEEDED.*libwifiprov\.so\.0' "$work/dynamic"; then
    [ "$linkage" = shared ] || fail "$bin needs libwifiprov.so.0 but was linked statically"
    ldd "$bin" >"$work/ldd"
    grep -q "libwifiprov.so.0 => /" "$work/ldd" || fail "libwifiprov.so.0 not found at run time"
  else
    [ "$linkage" = static ] || fail "$bin does not need libwifiprov.so.0 but was linked shared"
  fi
}

cmake_case() { # cmake_case shared|static
  local static=OFF
  [ "$1" = static ] && static=ON
  cmake -S "$src/examples/loopback" -B "$work/cmake-$1" -DCMAKE_PREFIX_PATH="$prefix" \
        -DLOOPBACK_STATIC=$static >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "configure (find_package)"; }
  cmake --build "$work/cmake-$1" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build (find_package)"; }
  run_pair "$work/cmake-$1/loopback" "$1"
}

pkgconfig_case() { # pkgconfig_case shared|static
  local out=$work/loopback-pc-$1
  pkg-config --exists --print-errors wifiprov || fail "pkg-config does not find wifiprov"
  if [ "$1" = shared ]; then
    # shellcheck disable=SC2046
    $cc -std=c11 -o "$out" "$src/examples/loopback/loopback.c" $(pkg-config --cflags --libs wifiprov)
  else
    # The archive, then what --static adds (the private dependencies) without -lwifiprov itself.
    # shellcheck disable=SC2046
    $cc -std=c11 -o "$out" "$src/examples/loopback/loopback.c" $(pkg-config --cflags wifiprov) \
        "$libdir/libwifiprov.a" $(pkg-config --static --libs wifiprov | sed 's/\(^\| \)-lwifiprov\( \|$\)/ /')
  fi
  run_pair "$out" "$1"
}

exports_case() { # the shared library exports exactly the functions the public headers declare
  local so
  so=$(readlink -f "$libdir/libwifiprov.so")
  [ -f "$so" ] || fail "no libwifiprov.so in $libdir"
  readelf -d "$so" >"$work/dynamic"
  grep -q 'SONAME.*\[libwifiprov\.so\.0\]' "$work/dynamic" || fail "SONAME is not libwifiprov.so.0"
  grep -ohE '\bwifiprov_[a-z0-9_]+[[:space:]]*\(' "$prefix/include/wifiprov/"*.h | sed 's/[[:space:]]*($//' | sort -u >"$work/api"
  nm -D --defined-only "$so" | awk '$2 ~ /^[TDRBV]$/ {print $3}' | sed 's/@.*//' | sort -u >"$work/exported"
  if ! diff -u "$work/api" "$work/exported"; then fail "exported symbols differ from the public headers (- header only, + exported only)"; fi
  nm -D --defined-only "$so" >"$work/nm"
  grep -q ' wifiprov_device_new@@WIFIPROV_0$' "$work/nm" || fail "symbols are not versioned WIFIPROV_0"
  echo "libwifiprov.so.0 exports the $(wc -l <"$work/api") public functions and nothing else"
}

layout_case() { # the install layout: unit, built-in default and installed file agree
  [ -n "$build_dir" ] || fail "layout needs --build-dir"
  local root=$work/root unit cfg default
  # DESTDIR keeps the configure-time prefix, as a package build does.
  DESTDIR=$root cmake --install "$build_dir" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "install"; }
  unit=$(find "$root" -name wifiprovd.service | head -n1)
  [ -n "$unit" ] || fail "no unit installed"
  cfg=$(sed -n 's/^ExecStart=.* --config \([^ ]*\).*/\1/p' "$unit")
  default=$("$build_dir/daemon/wifiprovd" --help | sed -n '/--config FILE/,/^  -/p' | grep -o '/[^ ]*wifiprovd\.conf' | head -n1)
  echo "unit: $(grep ^ExecStart= "$unit"); built-in default: $default"
  [ -n "$cfg" ] && [ "$cfg" = "$default" ] || fail "the unit reads '$cfg', the built-in default is '$default'"
  [ -f "$root$cfg" ] || fail "the sample configuration is not at $cfg"
  # Installed elsewhere, the unit follows the prefix.
  cmake --install "$build_dir" --prefix "$work/elsewhere" >"$work/install.log" 2>&1 || fail "install --prefix"
  grep -q "^ExecStart=$work/elsewhere/bin/wifiprovd --config $work/elsewhere/" "$work/elsewhere/lib/systemd/system/wifiprovd.service" \
    || fail "the unit does not follow --prefix: $(grep ^ExecStart= "$work/elsewhere/lib/systemd/system/wifiprovd.service")"
  # A reinstall keeps an edited configuration and puts the new sample beside it.
  echo "listen = 127.0.0.1:8080" >>"$root$cfg"
  DESTDIR=$root cmake --install "$build_dir" >"$work/install.log" 2>&1 || fail "reinstall"
  grep -q "^listen = 127.0.0.1:8080" "$root$cfg" || fail "a reinstall overwrote the edited $cfg"
  cmp -s "$root$cfg.new" "$src/packaging/wifiprovd.conf" || fail "no $cfg.new beside the edited file"
  echo "unit, built-in default and installed configuration agree; an edited configuration survives a reinstall"
}

case "$case_name" in
  layout) layout_case ;;
  cmake_shared) cmake_case shared ;;
  cmake_static) cmake_case static ;;
  pkgconfig_shared) pkgconfig_case shared ;;
  pkgconfig_static) pkgconfig_case static ;;
  exports) exports_case ;;
  all) exports_case; cmake_case shared; cmake_case static; pkgconfig_case shared; pkgconfig_case static ;;
  *) fail "unknown case '$case_name'" ;;
esac
echo "PASS: $case_name"
