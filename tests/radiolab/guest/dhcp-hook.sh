#!/bin/sh
# The DHCP hook the lab gives the wpa_supplicant backend (--dhcp-hook): one lease, then exit.
# $1 = interface name.
here=$(dirname "$0")
exec busybox udhcpc -i "$1" -s "$here/udhcpc.script" -n -q -t 8 -T 1 >> /tmp/lab/udhcpc.log 2>&1
