#!/usr/bin/env bash
# Sets up a Debian 12 machine and runs every test of wifiprov:
#   1. OpenSSL backend, warnings as errors: all tests (unit, vectors, integration, and the
#      provisioning page's: its JavaScript under Node.js, its build, Chromium against wifiprovd)
#   2. Mbed TLS backend: every test that reaches crypto (not those labelled nocrypto, see
#      tests/CMakeLists.txt and scripts/crypto-reach.sh)
#   3. ASan + UBSan build: all tests
#   4. libFuzzer targets, briefly (WIFIPROV_FUZZ_SECONDS, default 10 per target here, two at
#      a time; the long runs: WIFIPROV_FUZZ_RUNS, see scripts/fuzz.sh)
#   5. Cortex-M4 compile of the portable core, with its .text size
#   6. the virtual radio lab (real hostapd, wpa_supplicant, NetworkManager in a qemu guest)
#   7. the Debian packages: built from a clean clone, lintian, installed with apt-get, checked,
#      purged (scripts/package-test.sh, about 2 minutes; needs root or sudo)
# The Mbed TLS, ASan and fuzz builds compile in the background, one after the other, while the
# suites before them run (tests mostly wait on daemons and sockets; the cores are free). At the
# end a table gives each phase's wall time.
# Environment: WIFIPROV_SKIP_LAB=1 skips step 6, WIFIPROV_SKIP_PACKAGE=1 step 7 (both said so
# at the end); JOBS=n for parallel builds and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${WIFIPROV_FUZZ_SECONDS:-10}
t_start=$(date +%s)

step() { printf '\n=== %s ===\n' "$*"; }

# Phase times: "SECONDS NAME" lines, printed as a table at the end (also after a failure).
times=$(mktemp)
phase_name=
phase_begin() { phase_name=$1; phase_t0=$(date +%s); step "$1"; }
phase_end() { echo "$(($(date +%s) - phase_t0)) $phase_name" >>"$times"; phase_name=; }
summary() {
  local rc=$?
  [ -n "$phase_name" ] && echo "$(($(date +%s) - phase_t0)) $phase_name (FAILED)" >>"$times"
  printf '\n=== time per phase (wall clock, seconds) ===\n'
  while read -r secs name; do printf '%6d  %s\n' "$secs" "$name"; done <"$times"
  printf '%6d  total\n' "$(($(date +%s) - t_start))"
  rm -f "$times"
  kill_bg
  if [ -n "$final" ]; then step "$final"; fi
  exit "$rc"
}
final=
trap summary EXIT

skipped=()
phase_begin "installing dependencies"
deps_extra=()
if [ "${WIFIPROV_SKIP_PACKAGE:-0}" != 1 ]; then deps_extra+=(--package); fi
if [ "${WIFIPROV_SKIP_LAB:-0}" = 1 ]; then
  scripts/install-deps.sh --arm --web "${deps_extra[@]}"
else
  scripts/install-deps.sh --arm --lab --web "${deps_extra[@]}"
fi
phase_end

phase_begin "provisioning page: npm packages (web/package-lock.json)"
(cd web && npm ci --no-audit --no-fund --loglevel=error)
phase_end

build() { # build DIR cmake-args...
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -DWIFIPROV_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
}

# The background builds: one process running them in turn; each leaves build/NAME.log, and
# build/NAME.ok or build/NAME.failed with its time.
bg_pid=
# The background job is a process group of its own (set -m): stopping it stops its compilers too.
kill_bg() { if [ -n "$bg_pid" ]; then kill -- "-$bg_pid" 2>/dev/null || true; wait "$bg_pid" 2>/dev/null || true; bg_pid=; fi; }
bg_one() { # bg_one NAME command...
  local name=$1 t0; shift
  t0=$(date +%s)
  if "$@" >"build/$name.log" 2>&1; then
    echo "$(($(date +%s) - t0))" >"build/$name.ok"
  else
    echo "$(($(date +%s) - t0))" >"build/$name.failed"
  fi
}
# bg_wait NAME: waits for that build; a failed one prints its log and stops the run.
bg_wait() {
  local name=$1 t0
  t0=$(date +%s)
  while [ ! -e "build/$name.ok" ] && [ ! -e "build/$name.failed" ]; do
    if ! kill -0 "$bg_pid" 2>/dev/null && [ ! -e "build/$name.ok" ] && [ ! -e "build/$name.failed" ]; then
      echo "the background builds stopped before $name" >&2
      exit 1
    fi
    sleep 1
  done
  if [ -e "build/$name.failed" ]; then
    tail -n 60 "build/$name.log" >&2
    echo "$name failed (build/$name.log)" >&2
    exit 1
  fi
  echo "$(cat "build/$name.ok") $name (in the background; waited $(($(date +%s) - t0)) s for it)" >>"$times"
}

mkdir -p build
phase_begin "OpenSSL backend: build"
build build/ci-openssl -DWIFIPROV_CRYPTO=openssl
phase_end

rm -f build/build-mbedtls.* build/build-asan.* build/build-fuzz.*
set -m
(
  bg_one build-mbedtls build build/ci-mbedtls -DWIFIPROV_CRYPTO=mbedtls
  bg_one build-asan build build/ci-asan -DWIFIPROV_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DWIFIPROV_BUILD_BENCH=OFF
  if [ -x scripts/fuzz.sh ]; then bg_one build-fuzz env JOBS="$jobs" scripts/fuzz.sh --build-only; fi
) </dev/null &
bg_pid=$!
set +m

phase_begin "OpenSSL backend: test"
(cd build/ci-openssl && ctest --output-on-failure -j"$jobs" -LE lab)
phase_end

bg_wait build-mbedtls
phase_begin "Mbed TLS backend: test"
(cd build/ci-mbedtls && ctest --output-on-failure -j"$jobs" -LE 'lab|web|nocrypto')
phase_end

bg_wait build-asan
phase_begin "ASan + UBSan: test"
(cd build/ci-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j"$jobs" -LE 'lab|web')
phase_end

if [ -x scripts/fuzz.sh ]; then
  bg_wait build-fuzz
  phase_begin "fuzzing (${fuzz_seconds}s per target)"
  WIFIPROV_FUZZ_SECONDS=$fuzz_seconds JOBS=$jobs scripts/fuzz.sh
  phase_end
fi
wait "$bg_pid" 2>/dev/null || true
bg_pid=

if [ -x scripts/arm-size.sh ]; then
  phase_begin "portable core for Cortex-M4"
  scripts/arm-size.sh
  phase_end
fi

if [ "${WIFIPROV_SKIP_LAB:-0}" = 1 ]; then
  step "radio lab SKIPPED (WIFIPROV_SKIP_LAB=1): real hostapd/wpa_supplicant/NetworkManager tests did not run"
  skipped+=("the radio lab (WIFIPROV_SKIP_LAB=1)")
elif [ -x tests/radiolab/run.sh ]; then
  phase_begin "virtual radio lab"
  tests/radiolab/run.sh
  phase_end
fi

if [ "${WIFIPROV_SKIP_PACKAGE:-0}" = 1 ]; then
  step "Debian packages SKIPPED (WIFIPROV_SKIP_PACKAGE=1)"
  skipped+=("the Debian packages (WIFIPROV_SKIP_PACKAGE=1)")
elif [ -x scripts/package-test.sh ]; then
  phase_begin "Debian packages: build, lintian, install, check, purge"
  scripts/package-test.sh
  phase_end
fi

# Said after the table of times (summary), as the closing line.
if [ "${#skipped[@]}" -eq 0 ]; then
  final="all tests passed"
else
  final="all tests that ran passed; NOT run: $(IFS=';'; echo "${skipped[*]}" | sed 's/;/, /g')"
fi
