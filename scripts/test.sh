#!/usr/bin/env bash
# Sets up a Debian 12 machine and runs every test of wifiprov:
#   1. OpenSSL backend, warnings as errors: all tests (unit, vectors, integration, and the
#      provisioning page's: its JavaScript under Node.js, its build, Chromium against wifiprovd)
#   2. Mbed TLS backend: all tests
#   3. ASan + UBSan build: all tests
#   4. libFuzzer targets, briefly (WIFIPROV_FUZZ_SECONDS, default 20 per target)
#   5. Cortex-M4 compile of the portable core, with its .text size
#   6. the virtual radio lab (real hostapd, wpa_supplicant, NetworkManager in a qemu guest)
#   7. the Debian packages: built from a clean clone, lintian, installed with apt-get, checked,
#      purged (scripts/package-test.sh, about 2 minutes; needs root or sudo)
# Environment: WIFIPROV_SKIP_LAB=1 skips step 6, WIFIPROV_SKIP_PACKAGE=1 step 7 (both said so
# at the end); JOBS=n for parallel builds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${WIFIPROV_FUZZ_SECONDS:-20}

step() { printf '\n=== %s ===\n' "$*"; }

skipped=()
step "installing dependencies"
deps_extra=()
if [ "${WIFIPROV_SKIP_PACKAGE:-0}" != 1 ]; then deps_extra+=(--package); fi
if [ "${WIFIPROV_SKIP_LAB:-0}" = 1 ]; then
  scripts/install-deps.sh --arm --web "${deps_extra[@]}"
else
  scripts/install-deps.sh --arm --lab --web "${deps_extra[@]}"
fi

step "provisioning page: npm packages (web/package-lock.json)"
(cd web && npm ci --no-audit --no-fund --loglevel=error)

build() { # build DIR cmake-args...
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -DWIFIPROV_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
}

step "OpenSSL backend: build and test"
build build/ci-openssl -DWIFIPROV_CRYPTO=openssl
(cd build/ci-openssl && ctest --output-on-failure -j"$jobs" -LE lab)

step "Mbed TLS backend: build and test"
build build/ci-mbedtls -DWIFIPROV_CRYPTO=mbedtls
(cd build/ci-mbedtls && ctest --output-on-failure -j"$jobs" -LE 'lab|web')

step "ASan + UBSan: build and test"
build build/ci-asan -DWIFIPROV_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DWIFIPROV_BUILD_BENCH=OFF
(cd build/ci-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j"$jobs" -LE 'lab|web')

if [ -x scripts/fuzz.sh ]; then
  step "fuzzing (${fuzz_seconds}s per target)"
  WIFIPROV_FUZZ_SECONDS=$fuzz_seconds scripts/fuzz.sh
fi

if [ -x scripts/arm-size.sh ]; then
  step "portable core for Cortex-M4"
  scripts/arm-size.sh
fi

if [ "${WIFIPROV_SKIP_LAB:-0}" = 1 ]; then
  step "radio lab SKIPPED (WIFIPROV_SKIP_LAB=1): real hostapd/wpa_supplicant/NetworkManager tests did not run"
  skipped+=("the radio lab (WIFIPROV_SKIP_LAB=1)")
elif [ -x tests/radiolab/run.sh ]; then
  step "virtual radio lab"
  tests/radiolab/run.sh
fi

if [ "${WIFIPROV_SKIP_PACKAGE:-0}" = 1 ]; then
  step "Debian packages SKIPPED (WIFIPROV_SKIP_PACKAGE=1)"
  skipped+=("the Debian packages (WIFIPROV_SKIP_PACKAGE=1)")
elif [ -x scripts/package-test.sh ]; then
  step "Debian packages: build, lintian, install, check, purge"
  scripts/package-test.sh
fi

if [ "${#skipped[@]}" -eq 0 ]; then
  step "all tests passed"
else
  step "all tests that ran passed; NOT run: $(IFS=';'; echo "${skipped[*]}" | sed 's/;/, /g')"
fi
