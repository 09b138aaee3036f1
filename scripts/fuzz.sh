#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build/fuzz) and runs every fuzz_* target
# for WIFIPROV_FUZZ_SECONDS seconds (default 20) each. A target's seed corpus,
# tests/fuzz/corpus/<target>/, is copied to a temporary directory first so the
# repository is never modified. Exits non-zero when a target crashes; the crashing
# input is kept in build/fuzz/artifacts/<target>/.
# Environment: WIFIPROV_FUZZ_SECONDS, JOBS (parallel build jobs, default 2),
#              WIFIPROV_FUZZ_TARGETS (space-separated subset, default: all built),
#              WIFIPROV_FUZZ_RUNS=N: the long run, N executions per target instead of a
#              time limit (e.g. 10000000; the figures go in bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${WIFIPROV_FUZZ_SECONDS:-20}
runs=${WIFIPROV_FUZZ_RUNS:-}
if [ -n "$runs" ]; then limit=(-runs="$runs"); what="$runs executions"; else limit=(-max_total_time="$secs"); what="${secs}s"; fi
jobs=${JOBS:-2}
build=$root/build/fuzz

if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang is required (scripts/install-deps.sh installs it)" >&2
  exit 2
fi

# The daemon side stays on: other fuzz targets (HTTP bodies, config file) need it.
CC=clang cmake -S "$root" -B "$build" -DWIFIPROV_FUZZ=ON -DWIFIPROV_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" >/dev/null

mapfile -t targets < <(find "$build" -type f -perm -u+x -name 'fuzz_*' ! -name '*.*' | sort)
if [ -n "${WIFIPROV_FUZZ_TARGETS:-}" ]; then
  want=" $WIFIPROV_FUZZ_TARGETS "
  sel=()
  for t in "${targets[@]}"; do
    case "$want" in *" $(basename "$t") "*) sel+=("$t") ;; esac
  done
  targets=("${sel[@]}")
fi
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: no fuzz_* targets were built" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=()
for t in "${targets[@]}"; do
  name=$(basename "$t")
  work=$tmp/$name
  mkdir -p "$work/corpus" "$work/artifacts"
  if [ -d "$root/tests/fuzz/corpus/$name" ]; then
    find "$root/tests/fuzz/corpus/$name" -maxdepth 1 -type f ! -name '*.py' -exec cp {} "$work/corpus/" \;
  fi
  echo "fuzz: $name for $what ($(find "$work/corpus" -type f | wc -l) seeds)"
  start=$(date +%s)
  if "$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$work/log" | sed "s/^/fuzz:   /" || true
    # Coverage as libFuzzer counts it (edges "cov", features "ft") at the end, and the time taken.
    grep -E '^#[0-9]+' "$work/log" | tail -1 | sed -n 's/.*\(cov: [0-9]*\).*\(ft: [0-9]*\).*/fuzz:   \1 \2/p' || true
    secs_taken=$(($(date +%s) - start))
    echo "fuzz:   time: $secs_taken s"
    # The corpus libFuzzer kept (seeds plus the inputs that found new coverage).
    echo "fuzz:   corpus: $(find "$work/corpus" -type f | wc -l) files, $(du -sk "$work/corpus" | cut -f1) KB"
  else
    echo "fuzz: $name FAILED; last lines of its log:" >&2
    tail -n 40 "$work/log" >&2
    mkdir -p "$build/artifacts/$name"
    cp -r "$work/artifacts/." "$build/artifacts/$name/" 2>/dev/null || true
    echo "fuzz: crashing inputs kept in $build/artifacts/$name" >&2
    failed+=("$name")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran $what without a crash"
