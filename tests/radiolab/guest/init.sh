#!/bin/busybox sh
# /init of the radio lab's initramfs. Mounts the host's /usr and /etc (read-only, 9p),
# Debian's kernel modules, and the repository read-write at the same path as on the
# host, then hands over to guest/stage2.sh in the repository.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "/mods/$m" || echo "init: insmod $m failed"; done < /mods/order
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
REPO=$(arg wplab.repo)
BUILD=$(arg wplab.build)
R=/newroot
O="trans=virtio,version=9p2000.L,msize=512000"
mount -t tmpfs -o mode=0755,size=70% rootfs $R
mkdir -p $R/.l/usr $R/.l/etc $R/.l/kmod $R/.u/usr $R/.u/work $R/usr $R/etc \
         $R$REPO $R/proc $R/sys $R/dev $R/run $R/tmp $R/root $R/var
mount -t 9p -o $O,ro,cache=loose husr $R/.l/usr
mount -t 9p -o $O,ro hetc $R/.l/etc
mount -t 9p -o $O,ro,cache=loose kmod $R/.l/kmod
mount -t 9p -o $O repo $R$REPO
if [ -n "$BUILD" ]; then
    mkdir -p $R$BUILD
    mount -t 9p -o $O,ro build $R$BUILD
fi
# A writable /usr (tmpfs upper) so nothing a test does can reach the host.
if ! mount -t overlay -o lowerdir=$R/.l/usr,upperdir=$R/.u/usr,workdir=$R/.u/work ovl $R/usr; then
    echo "init: overlay failed, /usr stays read-only"
    mount --bind $R/.l/usr $R/usr
fi
mkdir -p $R/usr/lib/modules
mount --bind $R/.l/kmod/lib/modules $R/usr/lib/modules
cp -a $R/.l/etc/. $R/etc/
for d in bin sbin lib lib64 lib32; do ln -s usr/$d $R/$d; done
chmod 1777 $R/tmp
mount --move /proc $R/proc
mount --move /sys $R/sys
mount --move /dev $R/dev
exec switch_root $R /bin/bash $REPO/tests/radiolab/guest/stage2.sh
