#!/usr/bin/env python3
"""Checks wifiprovd's D-Bus policy with a real dbus-daemon that runs Debian's system-bus rules
(deny method calls and name ownership by default) plus the policy file: as the user
"wifiprov", calls to org.freedesktop.NetworkManager and org.bluez (owned by a root process
here) go through; as "nobody" they are refused. Needs root (to run clients as other users)
and the user "wifiprov" (created by the wifiprovd package).

Usage: dbus_policy_check.py POLICY_FILE        (exit 0 pass, 1 fail, 77 cannot run)
"""

import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

NAMES = ("org.freedesktop.NetworkManager", "org.bluez")
# A client: Peer.Ping on the name's root object (answered by libdbus itself).
CALL = """
import sys, dbus
bus = dbus.bus.BusConnection(sys.argv[1])
bus.get_object(sys.argv[2], "/").Ping(dbus_interface="org.freedesktop.DBus.Peer", timeout=10)
"""


def main():
    policy = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0 or not shutil.which("dbus-daemon"):
        print("SKIP: needs root and dbus-daemon")
        return 77
    try:
        pwd.getpwnam("wifiprov")
    except KeyError:
        print("SKIP: no user wifiprov")
        return 77
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o755)
    sock = os.path.join(tmp, "bus")
    with open("/usr/share/dbus-1/system.conf") as f:
        conf = f.read()
    # The system bus's own rules, on a socket of ours, without the other services' policies.
    conf = re.sub(r"<listen>.*?</listen>", "<listen>unix:path=%s</listen>" % sock, conf)
    conf = re.sub(r"<(user|pidfile|servicehelper)>.*?</\1>|<fork/>|<syslog/>|<standard_system_servicedirs/>", "",
                  conf)
    conf = re.sub(r"<includedir>.*?</includedir>|<include [^>]*>.*?</include>|<include>.*?</include>", "", conf)
    conf = conf.replace("</busconfig>", '<policy user="root"><allow own="*"/></policy>\n'
                        "<include>%s</include>\n</busconfig>" % policy)
    cfg = os.path.join(tmp, "bus.conf")
    with open(cfg, "w") as f:
        f.write(conf)
    procs = []
    try:
        bus = subprocess.Popen(["dbus-daemon", "--config-file", cfg, "--nofork", "--print-address"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append(bus)
        addr = bus.stdout.readline().decode().strip()
        if not addr:
            print("FAIL: dbus-daemon did not start: %s" % bus.stderr.read().decode())
            return 1
        owner = subprocess.Popen(["/usr/bin/python3", "-c", """
import sys, dbus, dbus.service, dbus.mainloop.glib
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.bus.BusConnection(sys.argv[1])
names = [dbus.service.BusName(n, bus) for n in sys.argv[2:]]
print("READY", flush=True)
GLib.MainLoop().run()
""", addr] + list(NAMES), stdout=subprocess.PIPE)
        procs.append(owner)
        if owner.stdout.readline().decode().strip() != "READY":
            print("FAIL: could not own the names")
            return 1
        fails = 0
        for user, allowed in (("wifiprov", True), ("nobody", False)):
            for name in NAMES:
                p = subprocess.run(["runuser", "-u", user, "--", "/usr/bin/python3", "-c", CALL, addr, name],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
                ok = p.returncode == 0
                verdict = "allowed" if ok else "refused"
                good = ok == allowed
                fails += not good
                print("%s %s -> %s: %s%s" % ("ok  " if good else "FAIL", user, name, verdict,
                                             "" if ok else " (%s)" % (re.findall(r"org\.freedesktop\.DBus\.Error\.\w+", p.stderr.decode()) or ["?"])[0]))
        return 1 if fails else 0
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
