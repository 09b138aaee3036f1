#!/bin/bash
# Checks the guest itself: hwsim loads and the host-built binaries run.
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
modprobe mac80211_hwsim radios=4 && check_pass hwsim "$(ls /sys/class/net | tr '\n' ' ')" || check_fail hwsim "modprobe failed"
exit $FAILED
