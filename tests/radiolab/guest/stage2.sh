#!/bin/bash
# PID 1 of the lab guest after switch_root: a minimal system (no init system), then
# guest/main.sh with the scenarios named on the kernel command line; its exit code goes
# to work/out/guest.rc and the guest powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
REPO=$(arg wplab.repo)
export WPLAB_REPO=$REPO WPLAB_BUILD=$(arg wplab.bindir) WPLAB_SCENARIOS=$(arg wplab.scen | tr , ' ')
export WPLAB_OUT=$REPO/tests/radiolab/work/out
mkdir -p /dev/pts /dev/shm
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t tmpfs -o mode=0755 run /run
mkdir -p /var/lib/dbus /var/lib/misc /var/lib/NetworkManager /var/log /var/tmp /var/cache \
         /run/dbus /run/lock
ln -sfn /run /var/run
ln -sfn /run/lock /var/lock
chmod 1777 /var/tmp
hostname radiolab
ip link set lo up
dbus-uuidgen --ensure=/etc/machine-id
cp /etc/machine-id /var/lib/dbus/machine-id
mkdir -p "$WPLAB_OUT"
echo "stage2: up at guest uptime $(cut -d' ' -f1 /proc/uptime)s"
bash "$REPO/tests/radiolab/guest/main.sh" > "$WPLAB_OUT/guest.log" 2>&1
rc=$?
echo "$rc" > "$WPLAB_OUT/guest.rc"
echo "stage2: main.sh rc=$rc at guest uptime $(cut -d' ' -f1 /proc/uptime)s"
sync
busybox poweroff -f
