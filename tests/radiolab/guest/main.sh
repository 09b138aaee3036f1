#!/bin/bash
# Runs the lab's scenarios inside the guest, in one boot. Each scenario is
# guest/scen-<name>.sh; it records checks through lib.sh (results.txt) and its own log.
set -u
G=$WPLAB_REPO/tests/radiolab/guest
. "$G/lib.sh"
: > "$WPLAB_OUT/results.txt"
log "guest up; scenarios: $WPLAB_SCENARIOS"
rc=0
for s in $WPLAB_SCENARIOS; do
    if [ ! -f "$G/scen-$s.sh" ]; then
        check_fail "$s" "no such scenario"; rc=1; continue
    fi
    log "===== scenario $s ====="
    t0=$(now)
    SCEN=$s bash "$G/scen-$s.sh" > "$WPLAB_OUT/scen-$s.log" 2>&1
    r=$?
    log "===== scenario $s rc=$r after $(since "$t0")s ====="
    echo "SCENARIO $s rc=$r time=$(since "$t0")s" >> "$WPLAB_OUT/results.txt"
    [ "$r" -ne 0 ] && rc=1
done
exit $rc
