# Helpers sourced by the guest scripts.
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "[$(now)] $*"; }
# check_pass NAME [detail] / check_fail NAME detail: one line each in results.txt.
check_pass() { echo "PASS ${SCEN:-lab}/$1${2:+ ($2)}" >> "$WPLAB_OUT/results.txt"; log "PASS $1${2:+ ($2)}"; }
check_fail() { echo "FAIL ${SCEN:-lab}/$1: $2" >> "$WPLAB_OUT/results.txt"; log "FAIL $1: $2"; FAILED=1; }
check_note() { echo "NOTE ${SCEN:-lab}/$*" >> "$WPLAB_OUT/results.txt"; log "NOTE $*"; }
FAILED=0
# wait_for SECONDS CMD...: runs CMD every 0.2 s until it succeeds; 1 on timeout.
wait_for() {
    local end
    end=$(awk -v a="$(now)" -v t="$1" 'BEGIN { print a + t }'); shift
    while :; do
        "$@" && return 0
        awk -v a="$(now)" -v e="$end" 'BEGIN { exit !(a >= e) }' && return 1
        sleep 0.2
    done
}
