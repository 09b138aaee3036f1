#!/bin/sh
# wpa_cli action script of the lab (wpa_cli -a): DHCP on association, as ifupdown does on
# Debian, for daemons that get no DHCP hook. $1 = interface, $2 = CONNECTED|DISCONNECTED.
here=$(dirname "$0")
case "$2" in
  CONNECTED) busybox udhcpc -i "$1" -s "$here/udhcpc.script" -n -q -t 8 -T 1 >> /tmp/lab/udhcpc.log 2>&1 ;;
  DISCONNECTED) ip -4 addr flush dev "$1" ;;
esac
exit 0
