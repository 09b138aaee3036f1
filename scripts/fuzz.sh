#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build/fuzz) and runs every fuzz_* target
# for WIFIPROV_FUZZ_SECONDS seconds (default 20) each. A target's seed corpus,
# tests/fuzz/corpus/<target>/, is copied to a temporary directory first so the
# repository is never modified. Exits non-zero when a target crashes; the crashing
# input is kept in build/fuzz/artifacts/<target>/.
# Usage: scripts/fuzz.sh [--build-only]   (--build-only: build the targets, run nothing)
# Environment: WIFIPROV_FUZZ_SECONDS, JOBS (parallel build jobs, and targets fuzzed at once, default 2),
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
build_only=0
case "${1:-}" in
  --build-only) build_only=1 ;;
  "") ;;
  *) echo "usage: scripts/fuzz.sh [--build-only]" >&2; exit 2 ;;
esac

if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang is required (scripts/install-deps.sh installs it)" >&2
  exit 2
fi

# The daemon side stays on: other fuzz targets (HTTP bodies, config file) need it.
CC=clang cmake -S "$root" -B "$build" -DWIFIPROV_FUZZ=ON -DWIFIPROV_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only the fuzz targets (and what they link): the suites run from the other builds.
mapfile -t names < <(cmake --build "$build" --target help | sed -n 's/^\.\.\. \(fuzz_[a-z0-9_]*\)$/\1/p' | sort)
if [ "${#names[@]}" -eq 0 ]; then
  echo "fuzz: the build declares no fuzz_* targets" >&2
  exit 2
fi
cmake --build "$build" -j"$jobs" --target "${names[@]}" >/dev/null
if [ "$build_only" = 1 ]; then
  echo "fuzz: built ${#names[@]} targets"
  exit 0
fi

mapfile -t targets < <(for n in "${names[@]}"; do find "$build" -type f -perm -u+x -name "$n"; done)
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
# One target: its report goes to $tmp/NAME/report, printed in order once all ran.
run_one() {
  local t=$1 name work start
  name=$(basename "$t")
  work=$tmp/$name
  mkdir -p "$work/corpus" "$work/artifacts"
  if [ -d "$root/tests/fuzz/corpus/$name" ]; then
    find "$root/tests/fuzz/corpus/$name" -maxdepth 1 -type f ! -name '*.py' -exec cp {} "$work/corpus/" \;
  fi
  echo "fuzz: $name for $what ($(find "$work/corpus" -type f | wc -l) seeds)" >"$work/report"
  start=$(date +%s)
  if "$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1; then
    {
      grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$work/log" | sed "s/^/fuzz:   /" || true
      # Coverage as libFuzzer counts it (edges "cov", features "ft"), its corpus and exec/s at the end.
      grep -E '^#[0-9]+' "$work/log" | tail -1 |
        sed -n 's/.*\(cov: [0-9]*\).*\(ft: [0-9]*\).*\(corp: [0-9]*\/[0-9]*[a-zA-Z]*\).*\(exec\/s: [0-9]*\).*/fuzz:   \1 \2 \3 \4/p' || true
      echo "fuzz:   time: $(($(date +%s) - start)) s"
      # The corpus directory: the seeds plus every input libFuzzer wrote there ("corp" above
      # is what it still counts after reducing them).
      echo "fuzz:   corpus directory: $(find "$work/corpus" -type f | wc -l) files"
    } >>"$work/report"
  else
    {
      echo "fuzz: $name FAILED; last lines of its log:"
      tail -n 40 "$work/log"
      mkdir -p "$build/artifacts/$name"
      cp -r "$work/artifacts/." "$build/artifacts/$name/" 2>/dev/null || true
      echo "fuzz: crashing inputs kept in $build/artifacts/$name"
    } >>"$work/report"
    touch "$work/failed"
  fi
}

# JOBS targets at once: each is one process on one core.
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
wait
failed=()
for t in "${targets[@]}"; do
  name=$(basename "$t")
  if [ -e "$tmp/$name/failed" ]; then
    cat "$tmp/$name/report" >&2
    failed+=("$name")
  else
    cat "$tmp/$name/report"
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran $what without a crash"
