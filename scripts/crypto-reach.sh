#!/usr/bin/env bash
# Which tests reach the crypto backend: runs every test of a Mbed TLS build (libmbedcrypto is a
# shared library there) one at a time with the dynamic linker's binding log, and lists each test
# with the number of Mbed TLS functions our programs called (0 = it never reaches crypto; a
# function only passed by address, mbedtls_entropy_func, does not count). Checks that no test
# labelled nocrypto calls one. Takes a few minutes; not part of scripts/test.sh.
# Usage: scripts/crypto-reach.sh BUILD_DIR   (configured with -DWIFIPROV_CRYPTO=mbedtls, built)
set -euo pipefail
build=$(cd "${1:?usage: scripts/crypto-reach.sh BUILD_DIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$build"
mapfile -t tests < <(ctest -N -LE 'lab|web' | sed -n 's/^ *Test *#[0-9]*: \(.*\)$/\1/p')
mapfile -t nocrypto < <(ctest -N -L nocrypto | sed -n 's/^ *Test *#[0-9]*: \(.*\)$/\1/p')
bad=0
for t in "${tests[@]}"; do
  mkdir -p "$tmp/$t"
  LD_DEBUG=bindings LD_DEBUG_OUTPUT="$tmp/$t/ld" ctest -R "^${t//./\\.}\$" >/dev/null 2>&1 || true
  n=$(cat "$tmp/$t"/ld.* 2>/dev/null | grep ' to [^ ]*libmbedcrypto' | grep -v 'binding file [^ ]*libmbed' |
      grep -vc "mbedtls_entropy_func'" || true)
  echo "$n $t"
  rm -rf "${tmp:?}/$t"
  for c in "${nocrypto[@]}"; do
    if [ "$c" = "$t" ] && [ "$n" != 0 ]; then echo "crypto-reach: $t is labelled nocrypto but calls Mbed TLS" >&2; bad=1; fi
  done
done
exit "$bad"
