#!/usr/bin/env python3
"""wifiprovd as an operator meets it: the sample configuration beside the README's command
lines, configuration errors that name file:line, --no-config, --help within 79 columns, the
systemd notifications (READY/STATUS/STOPPING over $NOTIFY_SOCKET), journald priorities when
stderr is the journal ($JOURNAL_STREAM), and SIGHUP. The real daemon with simulated Wi-Fi on
loopback; every wait is bounded.

Usage: ops_test.py --wifiprovd PATH --source DIR CASE
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

WIFIPROVD = None
SOURCE = None
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Daemon:
    """wifiprovd on a free loopback port with the sim backend, stderr in a file."""

    def __init__(self, tmp, args, env=None, base=True):
        self.log = os.path.join(tmp, "wifiprovd.%d.log" % len(os.listdir(tmp)))
        state = tempfile.mkdtemp(dir=tmp)
        argv = [WIFIPROVD] + args
        if base:
            argv += ["--listen", "127.0.0.1:0", "--wifi", "sim", "--state-dir", state, "--no-qr"]
        e = dict(os.environ)
        e.pop("NOTIFY_SOCKET", None)
        e.pop("JOURNAL_STREAM", None)
        e.update(env or {})
        self.err = open(self.log, "wb")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.err, env=e)

    def text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if re.search(pattern, self.text()):
                return True
            if self.p.poll() is not None:
                return bool(re.search(pattern, self.text()))
            time.sleep(0.05)
        return False

    def started(self):
        return self.wait_for(r"Provisioning started")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.err.close()
        return rc

    def exit_code(self, timeout=10):
        try:
            return self.p.wait(timeout=timeout)
        finally:
            self.err.close()


def sample():
    return os.path.join(SOURCE, "packaging", "wifiprovd.conf")


@case
def sample_config_readme_sec1(tmp):
    """The README's security-1 line works with the sample configuration in place."""
    d = Daemon(tmp, ["-c", sample(), "--transport", "http", "--security", "1", "--pop", "abcd1234"])
    ok = d.started()
    rc = d.stop()
    check(ok, "did not start:\n" + d.text())
    check(rc == 0, "exit %d" % rc)
    check("sec2-verifier-file' not used" in d.text(), "no note about the file's verifier file:\n" + d.text())


@case
def sample_config_demo_sec2(tmp):
    """Development security 2 on the command line drops the file's verifier file."""
    d = Daemon(tmp, ["-c", sample(), "--security", "2", "--sec2-username", "wifiprov",
                     "--sec2-password", "abcd1234"])
    ok = d.started()
    rc = d.stop()
    check(ok, "did not start:\n" + d.text())
    check(rc == 0, "exit %d" % rc)


@case
def sample_config_alone(tmp):
    """The sample alone wants the verifier file it names: exit 2, and the message says which file."""
    d = Daemon(tmp, ["-c", sample()])
    rc = d.exit_code()
    check(rc == 2, "exit %d, want 2:\n%s" % (rc, d.text()))
    check("/etc/wifiprov/sec2.json" in d.text(), "message does not name the verifier file:\n" + d.text())


@case
def sample_secrets_commented(tmp):
    """The sample ships no secret: pop and sec2-password lines are commented out."""
    with open(sample()) as f:
        lines = f.read().splitlines()
    live = [l for l in lines if re.match(r"\s*(pop|sec2-password)\s*=", l)]
    check(not live, "secret lines not commented: %r" % live)
    check(any(re.match(r"#\s*sec2-password\s*=", l) for l in lines), "no commented sec2-password example")


@case
def docs_agree_on_paths(tmp):
    """Man pages, docs and the sample name the same verifier file and configuration file."""
    names = set()
    for rel in ("packaging/wifiprovd.conf", "README.md", "docs/wifiprovd.md", "docs/wifiprovd.8",
                "docs/wifiprovd.conf.5", "docs/wifiprov.1", "docs/sec2-verifier-file.md"):
        with open(os.path.join(SOURCE, rel)) as f:
            text = f.read().replace("\\-", "-")
        names.update(n for n in re.findall(r"/etc/wifiprov/[A-Za-z0-9_.-]+\.json", text) if "sim-networks" not in n)
    check(names == {"/etc/wifiprov/sec2.json"}, "verifier file names differ: %r" % sorted(names))
    out = subprocess.run([WIFIPROVD, "--help"], stdout=subprocess.PIPE, timeout=10, check=True).stdout.decode()
    default = re.search(r"(/\S*/wifiprov/wifiprovd\.conf)", out)
    check(default and default.group(1).endswith("etc/wifiprov/wifiprovd.conf"), "built-in default: %r" % default)


@case
def config_errors_name_line(tmp):
    """Conflicts name where each value came from: FILE:LINE or the command line."""
    conf = os.path.join(tmp, "c.conf")
    with open(conf, "w") as f:
        f.write("[wifiprovd]\n# comment\nsecurity = 2\nsec2-verifier-file = /nonexistent.json\n")
    d = Daemon(tmp, ["-c", conf, "--sec2-username", "u", "--sec2-password", "p", "--security", "0"])
    rc = d.exit_code()
    check(rc == 2, "exit %d, want 2:\n%s" % (rc, d.text()))
    check("need --security 2 (security 0 from the command line, sec2-password from the command line)" in d.text(),
          "unclear message:\n" + d.text())
    with open(conf, "w") as f:
        f.write("security = 1\n\npop = abc\nsecurity = 0\n")
    os.chmod(conf, 0o600)
    d = Daemon(tmp, ["-c", conf])
    rc = d.exit_code()
    check(rc == 2, "exit %d, want 2:\n%s" % (rc, d.text()))
    check("security is 0 (from %s:4; pop from %s:3)" % (conf, conf) in d.text(), "no file:line:\n" + d.text())
    with open(conf, "w") as f:
        f.write("security = 0\nauto-stop = soon\n")
    d = Daemon(tmp, ["-c", conf])
    rc = d.exit_code()
    check(rc == 2 and "%s:2: --auto-stop wants a number" % conf in d.text(), "bad value:\n" + d.text())


@case
def secret_file_modes(tmp):
    """A file with a secret may be readable by the daemon's own group (the unit's Group=), not by others."""
    conf = os.path.join(tmp, "s.conf")
    with open(conf, "w") as f:
        f.write("security = 1\npop = abcd1234\n")
    os.chown(conf, -1, os.getegid())
    for mode, warned in ((0o600, False), (0o640, False), (0o644, True)):
        os.chmod(conf, mode)
        d = Daemon(tmp, ["-c", conf])
        ok = d.started()
        d.stop()
        check(ok, d.text())
        check(("readable by others" in d.text()) == warned, "mode %o: warning %s expected:\n%s" %
              (mode, warned, d.text()))


@case
def no_config(tmp):
    """--no-config and -c /dev/null read nothing; --no-config with --config is a usage error."""
    for args in (["--no-config"], ["-c", "/dev/null"]):
        d = Daemon(tmp, args + ["--security", "0"])
        ok = d.started()
        rc = d.stop()
        check(ok and rc == 0, "%r did not start (exit %d):\n%s" % (args, rc, d.text()))
    d = Daemon(tmp, ["--no-config", "-c", sample(), "--security", "0"])
    rc = d.exit_code()
    check(rc == 2 and "not both" in d.text(), "exit %d:\n%s" % (rc, d.text()))


@case
def help_wrapped(tmp):
    """--help fits 79 columns and names --no-config."""
    out = subprocess.run([WIFIPROVD, "--help"], stdout=subprocess.PIPE, timeout=10, check=True).stdout.decode()
    long_lines = [l for l in out.splitlines() if len(l) > 79]
    check(not long_lines, "lines over 79 columns:\n" + "\n".join(long_lines))
    check("--no-config" in out and "SIGHUP" in out, "help misses --no-config or SIGHUP")


@case
def docs_options_in_sync(tmp):
    """Every option of --help is in wifiprovd(8), and each one the file takes is a key of wifiprovd.conf(5)."""
    out = subprocess.run([WIFIPROVD, "--help"], stdout=subprocess.PIPE, timeout=10, check=True).stdout.decode()
    opts = sorted(set(re.findall(r"^\s+(?:-\w, )?--(?:\[no-\])?([a-z0-9][a-z0-9-]*)", out, re.M)))
    check(len(opts) > 40, "found only %d options in --help" % len(opts))
    man = open(os.path.join(SOURCE, "docs", "wifiprovd.8")).read().replace("\\-", "-")
    conf = open(os.path.join(SOURCE, "docs", "wifiprovd.conf.5")).read().replace("\\-", "-")
    keys = set(re.findall(r"^\.B[RI]? (.*)$", conf.split(".SH KEYS", 1)[1].split("\n.SH ", 1)[0], re.M))
    keys = set(re.findall(r"[a-z0-9][a-z0-9-]*", " ".join(keys)))
    for o in opts:
        check(re.search(r"--%s(?![\w-])" % re.escape(o), man), "--%s (in --help) missing from docs/wifiprovd.8" % o)
        if o not in ("config", "no-config", "help", "version"):
            check(o in keys, "--%s (in --help) is not a key in docs/wifiprovd.conf.5" % o)


@case
def sd_notify(tmp):
    """READY=1 once serving, STATUS= with what it does, STOPPING=1 on SIGTERM."""
    path = os.path.join(tmp, "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    d = Daemon(tmp, ["--no-config", "--security", "0"], env={"NOTIFY_SOCKET": path})
    msgs = []

    def drain(want, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(want in m for m in msgs):
                return True
            try:
                msgs.append(s.recv(4096).decode())
            except socket.timeout:
                pass
        return False

    try:
        check(drain("READY=1"), "no READY=1: %r\n%s" % (msgs, d.text()))
        check(any(re.search(r"STATUS=Waiting for credentials as PROV_", m) for m in msgs), "no STATUS: %r" % msgs)
        d.p.send_signal(signal.SIGTERM)
        check(drain("STOPPING=1"), "no STOPPING=1: %r" % msgs)
    finally:
        rc = d.stop()
        s.close()
    check(rc == 0, "exit %d" % rc)


@case
def journal_priorities(tmp):
    """With stderr the journal, lines carry <N> priorities; on anything else they do not."""
    log = os.path.join(tmp, "journal.log")
    open(log, "w").close()
    st = os.stat(log)
    d = Daemon(tmp, ["--no-config", "--security", "0"])
    d.err.close()
    d.p.kill()
    d.p.wait()
    # A daemon whose stderr is the file JOURNAL_STREAM names.
    d.log = log
    d.err = open(log, "ab")
    e = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
    state = tempfile.mkdtemp(dir=tmp)
    d.p = subprocess.Popen([WIFIPROVD, "--no-config", "--security", "0", "--listen", "127.0.0.1:0", "--wifi", "sim",
                            "--state-dir", state, "--no-qr"], stdout=subprocess.DEVNULL, stderr=d.err, env=e)
    ok = d.started()
    d.p.send_signal(signal.SIGHUP)
    warned = d.wait_for(r"SIGHUP ignored")
    rc = d.stop()
    text = d.text()
    check(ok and warned and rc == 0, "exit %d:\n%s" % (rc, text))
    check(re.search(r"^<6>I \(\d+\) wifiprovd: Provisioning started", text, re.M), "no <6> info line:\n" + text)
    check(re.search(r"^<4>W \(\d+\) wifiprovd: SIGHUP ignored", text, re.M), "no <4> warning line:\n" + text)
    check(all(l.startswith("<") for l in text.splitlines() if re.match(r"^<?\d?>?[EWID] \(", l)), text)
    # Not the journal (JOURNAL_STREAM names another file): plain ESP-IDF-style lines.
    d = Daemon(tmp, ["--no-config", "--security", "0"], env={"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)})
    ok = d.started()
    d.stop()
    check(ok and re.search(r"^I \(\d+\) wifiprovd: Provisioning started", d.text(), re.M), d.text())


@case
def sighup_keeps_running(tmp):
    """SIGHUP is logged and ignored; the daemon keeps serving and stops cleanly afterwards."""
    d = Daemon(tmp, ["--no-config", "--security", "0"])
    ok = d.started()
    d.p.send_signal(signal.SIGHUP)
    warned = d.wait_for(r"SIGHUP ignored")
    time.sleep(0.2)
    alive = d.p.poll() is None
    port = re.search(r"listening on 127\.0\.0\.1:(\d+)", d.text())
    served = False
    if port:
        with socket.create_connection(("127.0.0.1", int(port.group(1))), timeout=5) as c:
            c.sendall(b"POST /proto-ver HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n---")
            served = b"200" in c.recv(4096)
    rc = d.stop()
    check(ok and warned and alive and served and rc == 0,
          "ok=%s warned=%s alive=%s served=%s rc=%d:\n%s" % (ok, warned, alive, served, rc, d.text()))


@case
def bash_completion(tmp):
    """completions/wifiprovd.bash offers the options --help lists, and values for the enumerated ones."""
    script = os.path.join(SOURCE, "completions", "wifiprovd.bash")

    def complete(*words):
        line = " ".join(words)
        prog = ('source %s; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE=%s; COMP_POINT=${#COMP_LINE}; '
                '_wifiprovd; printf "%%s\\n" "${COMPREPLY[@]}"' %
                (shq(script), " ".join(shq(w) for w in words), len(words) - 1, shq(line)))
        out = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=20)
        return out.stdout.decode().split()

    got = complete(WIFIPROVD, "--")
    for want in ("--no-config", "--sec2-verifier-file", "--security", "--help", "--version", "--state-dir"):
        check(want in got, "%s not offered for '--': %r" % (want, got))
    check(complete(WIFIPROVD, "--security", "") == ["0", "1", "2"], "values of --security")
    check("networkmanager" in complete(WIFIPROVD, "--wifi", "n"), "values of --wifi")
    check(complete(WIFIPROVD, "--no-c") == ["--no-config"], "prefix completion: %r" % complete(WIFIPROVD, "--no-c"))
    check(complete(WIFIPROVD, "--service-name", "") == [], "a free-text value offers nothing")


@case
def debian_maintainer(tmp):
    """debian/control's Maintainer is the changelog's signer and the copyright's holder, in a form lintian takes."""
    def read(rel):
        with open(os.path.join(SOURCE, rel)) as f:
            return f.read()
    control = re.search(r"^Maintainer: (.+)$", read("debian/control"), re.M)
    signer = re.search(r"^ -- (.+?)  \S", read("debian/changelog"), re.M)
    holder = re.search(r"^Copyright: \d{4} (.+)$", read("debian/copyright"), re.M)
    check(control and signer and holder, "Maintainer, changelog signer or copyright holder not found")
    check(control.group(1) == signer.group(1), "control %r, changelog %r" % (control.group(1), signer.group(1)))
    m = re.fullmatch(r"([^<>]+) <([a-z0-9.+-]+)@([a-z0-9-]+(\.[a-z0-9-]+)+)>", control.group(1))
    check(m, "not 'name <user@host.domain>': %r" % control.group(1))
    check(m.group(1) == holder.group(1), "maintainer %r, copyright holder %r" % (m.group(1), holder.group(1)))


@case
def demo_log_once(tmp):
    """scripts/demo.sh provisions the device and shows each line of its log once (the start lines were shown twice)."""
    build = os.path.dirname(os.path.dirname(os.path.abspath(WIFIPROVD)))
    env = dict(os.environ, WIFIPROV_DEMO_BUILD=build)
    out = subprocess.run([os.path.join(SOURCE, "scripts", "demo.sh")], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env, timeout=50)
    text = out.stdout.decode("utf-8", "replace")
    check(out.returncode == 0, "demo.sh exited %d:\n%s" % (out.returncode, text))
    for line in ("Provisioning page", "Provisioning started", "Provisioning successful"):
        check(text.count(line) == 1, "%r shown %d times, want once:\n%s" % (line, text.count(line), text))


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


def main():
    global WIFIPROVD, SOURCE
    ap = argparse.ArgumentParser()
    ap.add_argument("--wifiprovd", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("case", choices=sorted(CASES))
    a = ap.parse_args()
    WIFIPROVD, SOURCE = a.wifiprovd, a.source
    with tempfile.TemporaryDirectory() as tmp:
        try:
            CASES[a.case](tmp)
        except Fail as e:
            print("FAIL: %s: %s" % (a.case, e))
            return 1
    print("PASS: %s" % a.case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
