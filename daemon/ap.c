/*
 * The SoftAP service: what both implementations share (see ap.h).
 *
 * Interfaces and addresses are changed with the `ip` and `iw` programs (iproute2 and iw)
 * rather than hand-written rtnetlink and nl80211 messages: the daemon links no netlink
 * library, and both programs report errors in words the log can show as they are.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ap.h"
#include "util.h"
#include "wifiprovd.h"

extern char **environ;

const char *wifiprovd_ap_event_to_string(enum wifiprovd_ap_event ev)
{
    switch (ev) {
    case WIFIPROVD_AP_EVENT_READY:
        return "ready";
    case WIFIPROVD_AP_EVENT_STA_JOINED:
        return "station joined";
    case WIFIPROVD_AP_EVENT_STA_LEFT:
        return "station left";
    case WIFIPROVD_AP_EVENT_FAILED:
        return "failed";
    }
    return "?";
}

static uint64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void wifiprovd__ap_report(struct wifiprovd_ap *ap, enum wifiprovd_ap_event ev, const char *detail)
{
    if (ev == WIFIPROVD_AP_EVENT_READY)
        ap->ready = true;
    if (ap->cfg.event_fn)
        ap->cfg.event_fn(ap->cfg.ctx, ev, detail);
}

void wifiprovd__ap_mac_text(const uint8_t mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* ---- helper programs -------------------------------------------------------------- */

/* Children get default signal handling and an empty mask (the daemon blocks SIGTERM and SIGCHLD). */
static int spawn(const char *const *argv, int out_fd, bool quiet, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, def;
    int r;

    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    else if (quiet)
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    else
        posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
    if (quiet)
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    sigemptyset(&none);
    sigfillset(&def);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    r = posix_spawnp(pid, argv[0], &fa, &attr, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (r != 0) {
        wd_err("SoftAP: cannot run %s: %s (is it installed?)", argv[0], strerror(r));
        return -1;
    }
    return 0;
}

static int wait_status(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int wifiprovd__ap_run(const char *const *argv, bool quiet)
{
    pid_t pid;

    if (spawn(argv, -1, quiet, &pid) < 0)
        return -1;
    return wait_status(pid);
}

/* Runs a program and keeps the first @p cap - 1 bytes of its standard output. */
static int run_capture(const char *const *argv, char *out, size_t cap)
{
    int fds[2], status;
    size_t n = 0;
    pid_t pid;

    out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    if (spawn(argv, fds[1], true, &pid) < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    close(fds[1]);
    for (;;) {
        char tmp[1024];
        ssize_t r = read(fds[0], tmp, sizeof(tmp));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r && n + 1 < cap; i++)
            out[n++] = tmp[i];
    }
    out[n] = '\0';
    close(fds[0]);
    status = wait_status(pid);
    return status;
}

int wifiprovd__ap_spawn(const char *const *argv, pid_t *pid)
{
    return spawn(argv, -1, false, pid);
}

void wifiprovd__ap_kill(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            /* Not our child (an earlier run's): wait until it is gone. */
            if (r < 0 && kill(pid, 0) == 0) {
                usleep(10000);
                continue;
            }
            return;
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* ---- runtime directory ------------------------------------------------------------ */

void wifiprovd__ap_path(const struct wifiprovd_ap *ap, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", ap->rundir, name);
}

int wifiprovd__ap_write_file(struct wifiprovd_ap *ap, const char *name, const char *text, char *path, size_t cap)
{
    char tmp[320];
    size_t len = strlen(text);
    int fd, ret = -1;

    wifiprovd__ap_path(ap, name, path, cap);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(tmp, sizeof(tmp), "%s", path);
        wd_err("SoftAP: cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (write(fd, text, len) == (ssize_t)len)
        ret = 0;
    else
        wd_err("SoftAP: cannot write %s: %s", path, strerror(errno));
    close(fd);
    return ret;
}

int wifiprovd__ap_read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    buf[0] = '\0';
    if (fd < 0)
        return -1;
    n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

/* Does /proc/PID/cmdline mention our runtime directory? (A reused pid is somebody else's.) */
static bool pid_is_ours(const struct wifiprovd_ap *ap, pid_t pid)
{
    char path[64], buf[4096];
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\0')
            buf[i] = ' ';
    }
    buf[n] = '\0';
    return strstr(buf, ap->rundir) != NULL;
}

void wifiprovd__ap_kill_pidfile(struct wifiprovd_ap *ap, const char *name)
{
    char path[320], buf[32];
    long pid;

    wifiprovd__ap_path(ap, name, path, sizeof(path));
    if (wifiprovd__ap_read_file(path, buf, sizeof(buf)) < 0)
        return;
    pid = strtol(buf, NULL, 10);
    if (pid > 1 && pid_is_ours(ap, (pid_t)pid)) {
        wd_info("SoftAP: stopping %s (pid %ld) left by an earlier run", name, pid);
        wifiprovd__ap_kill((pid_t)pid);
    }
    unlink(path);
}

static int prepare_rundir(struct wifiprovd_ap *ap)
{
    const char *dir = ap->cfg.runtime_dir;
    char first[256];
    struct stat sb;

    if (!dir) {
        /* systemd's RuntimeDirectory= (the first of a colon-separated list). */
        const char *env = getenv("RUNTIME_DIRECTORY");
        if (env && *env) {
            /* Our own subdirectory: the unit's directory holds other files too. */
            size_t n = strcspn(env, ":");
            snprintf(first, sizeof(first), "%.*s/softap", (int)n, env);
            dir = first;
        } else {
            dir = WIFIPROVD_AP_DEFAULT_RUNDIR;
        }
    }
    if (strlen(dir) >= sizeof(ap->rundir) - 40) {
        wd_err("SoftAP: runtime directory name too long: %s", dir);
        return -1;
    }
    snprintf(ap->rundir, sizeof(ap->rundir), "%s", dir);
    if (mkdir(ap->rundir, 0700) < 0 && errno != EEXIST) {
        wd_err("SoftAP: cannot create %s: %s", ap->rundir, strerror(errno));
        return -1;
    }
    if (lstat(ap->rundir, &sb) < 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid()) {
        wd_err("SoftAP: %s is not a directory of ours", ap->rundir);
        return -1;
    }
    chmod(ap->rundir, 0700);
    return 0;
}

/* ---- interfaces ------------------------------------------------------------------- */

static bool if_exists(const char *ifname)
{
    char path[128];

    snprintf(path, sizeof(path), "/sys/class/net/%s", ifname);
    return access(path, F_OK) == 0;
}

static int read_mac(const char *ifname, uint8_t mac[6])
{
    char path[128], buf[64];
    unsigned v[6];

    snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
    if (wifiprovd__ap_read_file(path, buf, sizeof(buf)) < 0 ||
        sscanf(buf, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

static int phy_of(const char *ifname, char *phy, size_t cap)
{
    char path[128];

    snprintf(path, sizeof(path), "/sys/class/net/%s/phy80211/name", ifname);
    return wifiprovd__ap_read_file(path, phy, cap);
}

/* Interfaces tagged with our ifalias, e.g. left by a kill -9. */
static void sweep_interfaces(void)
{
    DIR *d = opendir("/sys/class/net");
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d))) {
        char path[300], alias[128];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/sys/class/net/%s/ifalias", e->d_name);
        if (wifiprovd__ap_read_file(path, alias, sizeof(alias)) < 0 || strcmp(alias, WIFIPROVD_AP_ALIAS) != 0)
            continue;
        wd_info("SoftAP: removing interface %s left by an earlier run", e->d_name);
        {
            const char *argv[] = {"iw", "dev", e->d_name, "del", NULL};
            if (wifiprovd__ap_run(argv, false) != 0)
                wd_warn("SoftAP: could not remove %s", e->d_name);
        }
    }
    closedir(d);
}

/* The first Wi-Fi interface that is not ours (what the backends pick without --interface). */
static void first_wifi_interface(char *out, size_t cap)
{
    DIR *d = opendir("/sys/class/net");
    struct dirent *e;
    char best[64] = "";

    out[0] = '\0';
    if (!d)
        return;
    while ((e = readdir(d))) {
        char path[300], alias[128];
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(best))
            continue;
        snprintf(path, sizeof(path), "/sys/class/net/%s/phy80211", e->d_name);
        if (access(path, F_OK) != 0)
            continue;
        snprintf(path, sizeof(path), "/sys/class/net/%s/ifalias", e->d_name);
        if (wifiprovd__ap_read_file(path, alias, sizeof(alias)) == 0 && strcmp(alias, WIFIPROVD_AP_ALIAS) == 0)
            continue;
        if (!best[0] || strcmp(e->d_name, best) < 0)
            memcpy(best, e->d_name, strlen(e->d_name) + 1); /* length checked above */
    }
    closedir(d);
    snprintf(out, cap, "%s", best);
}

static void address_del(const char *ifname)
{
    const char *argv[] = {"ip", "-4", "addr", "del", WIFIPROVD_AP_ADDRESS "/24", "dev", ifname, NULL};

    wifiprovd__ap_run(argv, true);
}

/* The address recorded on an interface that is not ours. */
static void sweep_address(struct wifiprovd_ap *ap)
{
    char path[320], ifname[64];

    wifiprovd__ap_path(ap, "address", path, sizeof(path));
    if (wifiprovd__ap_read_file(path, ifname, sizeof(ifname)) < 0)
        return;
    if (*ifname && if_exists(ifname)) {
        wd_info("SoftAP: removing %s/24 from %s, left by an earlier run", WIFIPROVD_AP_ADDRESS, ifname);
        address_del(ifname);
    }
    unlink(path);
}

static int create_interface(struct wifiprovd_ap *ap, const char *phy, const char *iftype)
{
    char mac[18];
    uint8_t sta_mac[6];
    int n;

    for (n = 0; n < 10; n++) {
        snprintf(ap->ifname, sizeof(ap->ifname), WIFIPROVD_AP_IFPREFIX "%d", n);
        if (!if_exists(ap->ifname))
            break;
    }
    if (n == 10) {
        wd_err("SoftAP: %s0..9 all exist; remove one or set --softap-interface", WIFIPROVD_AP_IFPREFIX);
        return -1;
    }
    {
        const char *argv[] = {"iw", "phy", phy, "interface", "add", ap->ifname, "type", iftype, NULL};
        if (wifiprovd__ap_run(argv, false) != 0) {
            wd_err("SoftAP: cannot add a virtual interface to %s (iw phy %s interface add failed)", phy, phy);
            return -1;
        }
    }
    ap->created_if = true;
    {
        const char *argv[] = {"ip", "link", "set", "dev", ap->ifname, "alias", WIFIPROVD_AP_ALIAS, NULL};
        if (wifiprovd__ap_run(argv, false) != 0)
            wd_warn("SoftAP: cannot tag %s with an ifalias", ap->ifname);
    }
    /*
     * An AP and a station with the same MAC on one radio are refused by mac80211; radios with
     * several addresses give the new interface the next one, the others get a locally
     * administered variant of the station's.
     */
    if (read_mac(ap->ifname, ap->mac) < 0) {
        wd_err("SoftAP: cannot read the MAC address of %s", ap->ifname);
        return -1;
    }
    if (read_mac(ap->sta_ifname, sta_mac) == 0 && memcmp(sta_mac, ap->mac, 6) == 0) {
        ap->mac[0] = (uint8_t)((ap->mac[0] ^ 0x40) | 0x02);
        wifiprovd__ap_mac_text(ap->mac, mac);
        const char *argv[] = {"ip", "link", "set", "dev", ap->ifname, "address", mac, NULL};
        if (wifiprovd__ap_run(argv, false) != 0) {
            wd_err("SoftAP: cannot give %s its own MAC address", ap->ifname);
            return -1;
        }
    }
    return 0;
}

/* ---- dnsmasq ---------------------------------------------------------------------- */

static int on_dnsmasq_exit(sd_event_source *s, const siginfo_t *si, void *ud)
{
    struct wifiprovd_ap *ap = ud;
    char detail[96];

    (void)s;
    ap->dnsmasq_child = sd_event_source_disable_unref(ap->dnsmasq_child);
    ap->dnsmasq_pid = 0;
    if (ap->stopping)
        return 0;
    snprintf(detail, sizeof(detail), "dnsmasq exited (%s %d)", si->si_code == CLD_EXITED ? "status" : "signal",
             si->si_status);
    wifiprovd__ap_report(ap, WIFIPROVD_AP_EVENT_FAILED, detail);
    return 0;
}

int wifiprovd__ap_dnsmasq_start(struct wifiprovd_ap *ap)
{
    char iface[48], range[96], leases[320], pidf[320], address[64];
    int r;

    if (ap->dnsmasq_pid > 0)
        return 0;
    snprintf(iface, sizeof(iface), "--interface=%s", ap->ifname);
    snprintf(range, sizeof(range), "--dhcp-range=%s,%s,255.255.255.0,10m", WIFIPROVD_AP_DHCP_FIRST,
             WIFIPROVD_AP_DHCP_LAST);
    snprintf(address, sizeof(address), "--address=/#/%s", WIFIPROVD_AP_ADDRESS);
    snprintf(leases, sizeof(leases), "--dhcp-leasefile=%s/dnsmasq.leases", ap->rundir);
    snprintf(pidf, sizeof(pidf), "--pid-file=%s/dnsmasq.pid", ap->rundir);
    {
        /*
         * Only on the AP interface (--bind-dynamic follows its address coming and going), no
         * upstream servers or hosts file: every name is 192.168.4.1, as a captive portal.
         */
        const char *argv[] = {"dnsmasq",
                              "--keep-in-foreground",
                              "--conf-file=/dev/null",
                              "--no-resolv",
                              "--no-hosts",
                              "--bind-dynamic",
                              iface,
                              "--except-interface=lo",
                              address,
                              range,
                              "--dhcp-authoritative",
                              "--dhcp-sequential-ip",
                              leases,
                              pidf,
                              "--log-facility=-",
                              NULL};
        if (wifiprovd__ap_spawn(argv, &ap->dnsmasq_pid) < 0)
            return -1;
    }
    r = sd_event_add_child(ap->cfg.event, &ap->dnsmasq_child, ap->dnsmasq_pid, WEXITED, on_dnsmasq_exit, ap);
    if (r < 0) {
        wd_err("SoftAP: sd-event: %s", strerror(-r));
        wifiprovd__ap_kill(ap->dnsmasq_pid);
        ap->dnsmasq_pid = 0;
        return -1;
    }
    wd_dbg("SoftAP: dnsmasq (pid %d) serves DHCP %s-%s and DNS on %s", (int)ap->dnsmasq_pid, WIFIPROVD_AP_DHCP_FIRST,
           WIFIPROVD_AP_DHCP_LAST, ap->ifname);
    return 0;
}

void wifiprovd__ap_child_stop(struct wifiprovd_ap *ap, sd_event_source **child, pid_t *pid, const char *pidfile)
{
    char path[320];

    *child = sd_event_source_disable_unref(*child);
    if (*pid > 0)
        wifiprovd__ap_kill(*pid);
    *pid = 0;
    wifiprovd__ap_path(ap, pidfile, path, sizeof(path));
    unlink(path);
}

void wifiprovd__ap_dnsmasq_stop(struct wifiprovd_ap *ap)
{
    char path[320];

    wifiprovd__ap_child_stop(ap, &ap->dnsmasq_child, &ap->dnsmasq_pid, "dnsmasq.pid");
    wifiprovd__ap_path(ap, "dnsmasq.leases", path, sizeof(path));
    unlink(path);
}

/* ---- the service ------------------------------------------------------------------ */

int wifiprovd_ap_new(const struct wifiprovd_ap_config *cfg, struct wifiprovd_ap **out)
{
    struct wifiprovd_ap *ap = calloc(1, sizeof(*ap));

    *out = NULL;
    if (!ap)
        return -1;
    ap->cfg = *cfg;
    ap->ops = &wifiprovd_ap_hostapd_ops;
#ifdef WIFIPROVD_HAVE_AP_NM
    if (cfg->backend && strcmp(cfg->backend, "networkmanager") == 0)
        ap->ops = &wifiprovd_ap_nm_ops;
#endif
    if (cfg->sta_ifname)
        snprintf(ap->sta_ifname, sizeof(ap->sta_ifname), "%s", cfg->sta_ifname);
    else
        first_wifi_interface(ap->sta_ifname, sizeof(ap->sta_ifname));
    if (prepare_rundir(ap) < 0)
        goto fail;
    /* Leftovers of a run that could not clean up (kill -9, power loss without a tmpfs /run). */
    wifiprovd__ap_kill_pidfile(ap, "dnsmasq.pid");
    if (ap->ops->sweep(ap) < 0)
        goto fail;
    sweep_interfaces();
    sweep_address(ap);
    *out = ap;
    return 0;
fail:
    free(ap);
    return -1;
}

static void find_capabilities(struct wifiprovd_ap *ap, const char *phy)
{
    char *buf = malloc(65536);

    ap->concurrent = false;
    ap->max_channels = 1;
    if (!buf)
        return;
    {
        const char *argv[] = {"iw", "phy", phy, "info", NULL};
        if (run_capture(argv, buf, 65536) == 0)
            ap->concurrent = wifiprovd_ap_parse_combinations(buf, &ap->max_channels);
        else
            wd_warn("SoftAP: 'iw phy %s info' failed; assuming the radio cannot run AP and station at once", phy);
    }
    free(buf);
}

static unsigned sta_channel(const struct wifiprovd_ap *ap)
{
    char buf[2048];
    const char *argv[] = {"iw", "dev", ap->sta_ifname, "info", NULL};

    if (!ap->sta_ifname[0] || run_capture(argv, buf, sizeof(buf)) != 0)
        return 0;
    return wifiprovd_ap_parse_iw_channel(buf);
}

int wifiprovd_ap_start(struct wifiprovd_ap *ap)
{
    char phy[64] = "";
    const char *iftype = ap->ops == &wifiprovd_ap_hostapd_ops ? "__ap" : "managed";

    if (ap->up)
        return 0;
    ap->t_start_us = mono_us();
    ap->stopping = false;
    ap->ready = false;
    ap->suspended = false;
    if (ap->sta_ifname[0] && phy_of(ap->sta_ifname, phy, sizeof(phy)) == 0)
        find_capabilities(ap, phy);
    if (ap->cfg.ap_ifname && strcmp(ap->cfg.ap_ifname, ap->sta_ifname) != 0) {
        /* Another interface (a second radio, or one the administrator made): used as it is. */
        snprintf(ap->ifname, sizeof(ap->ifname), "%s", ap->cfg.ap_ifname);
        if (!if_exists(ap->ifname)) {
            wd_err("SoftAP: interface %s does not exist (--softap-interface)", ap->ifname);
            return -1;
        }
        read_mac(ap->ifname, ap->mac);
        {
            char p2[64];
            /* Its own radio: a station attempt elsewhere does not disturb it. */
            if (phy_of(ap->ifname, p2, sizeof(p2)) == 0 && strcmp(p2, phy) != 0) {
                ap->concurrent = true;
                ap->max_channels = 2;
            }
        }
    } else if (ap->cfg.ap_ifname || !phy[0]) {
        /* The station's own interface: it cannot be a station while it is the AP. */
        if (!ap->sta_ifname[0] && !ap->cfg.ap_ifname) {
            wd_err("SoftAP: no Wi-Fi interface known to put the access point on; set --softap-interface");
            return -1;
        }
        snprintf(ap->ifname, sizeof(ap->ifname), "%s", ap->cfg.ap_ifname ? ap->cfg.ap_ifname : ap->sta_ifname);
        read_mac(ap->ifname, ap->mac);
        ap->concurrent = false;
    } else {
        if (!ap->concurrent)
            wd_warn("SoftAP: radio %s reports no interface combination with an AP and a station; the access "
                    "point may not come up while %s is up",
                    phy, ap->sta_ifname);
        if (create_interface(ap, phy, iftype) < 0)
            goto fail;
    }
    if (ap->cfg.no_apsta)
        ap->concurrent = false;
    ap->channel = ap->cfg.channel;
    if (!ap->channel) {
        /* With one channel for both, the AP must sit where the station already is. */
        ap->channel = sta_channel(ap);
        if (!ap->channel)
            ap->channel = 1;
    }
    ap->up = true;
    wd_info("SoftAP: starting '%s' (%s) on %s, channel %u, with %s; AP+STA: %s", ap->cfg.ssid,
            ap->cfg.passphrase ? "WPA2-PSK" : "open", ap->ifname, ap->channel, ap->ops->name,
            ap->concurrent ? (ap->max_channels > 1 ? "yes" : "yes, on one channel") : "no");
    ap->radio = true;
    if (ap->ops->radio_up(ap) < 0)
        goto fail;
    return 0;
fail:
    wifiprovd_ap_stop(ap);
    return -1;
}

int wifiprovd__ap_address_add(struct wifiprovd_ap *ap)
{
    char path[320];
    const char *argv[] = {"ip", "-4", "addr", "replace", WIFIPROVD_AP_ADDRESS "/24", "dev", ap->ifname, NULL};

    if (!ap->created_if && wifiprovd__ap_write_file(ap, "address", ap->ifname, path, sizeof(path)) < 0)
        return -1;
    if (wifiprovd__ap_run(argv, false) != 0) {
        wd_err("SoftAP: cannot add %s/24 to %s", WIFIPROVD_AP_ADDRESS, ap->ifname);
        return -1;
    }
    ap->added_address = true;
    return 0;
}

bool wifiprovd_ap_before_attempt(struct wifiprovd_ap *ap, unsigned channel)
{
    if (!ap->up)
        return false;
    if (ap->concurrent && (ap->max_channels > 1 || (channel && channel == ap->channel)))
        return true;
    if (!ap->suspended) {
        if (!ap->concurrent)
            wd_info("SoftAP: taking the access point down while trying the network (no AP+STA%s)",
                    ap->cfg.no_apsta ? ": --softap-no-apsta" : " on this radio");
        else
            wd_info("SoftAP: taking the access point down while trying the network (it is on channel %u, the "
                    "network on %s%u, and the radio uses one channel at a time)",
                    ap->channel, channel ? "" : "an unknown channel ", channel);
        ap->ops->radio_down(ap);
        ap->radio = false;
        ap->ready = false;
        ap->suspended = true;
    }
    return false;
}

void wifiprovd_ap_resume(struct wifiprovd_ap *ap)
{
    if (!ap->up || !ap->suspended)
        return;
    wd_info("SoftAP: bringing the access point back");
    ap->suspended = false;
    ap->t_start_us = mono_us();
    ap->radio = true;
    if (ap->ops->radio_up(ap) < 0)
        wifiprovd__ap_report(ap, WIFIPROVD_AP_EVENT_FAILED, "cannot bring the access point back");
}

void wifiprovd_ap_stop(struct wifiprovd_ap *ap)
{
    char path[320];

    if (!ap)
        return;
    ap->stopping = true;
    ap->ops->radio_down(ap);
    ap->radio = false;
    wifiprovd__ap_dnsmasq_stop(ap);
    if (ap->added_address && !ap->created_if)
        address_del(ap->ifname);
    ap->added_address = false;
    wifiprovd__ap_path(ap, "address", path, sizeof(path));
    unlink(path);
    if (ap->created_if) {
        const char *argv[] = {"iw", "dev", ap->ifname, "del", NULL};
        if (wifiprovd__ap_run(argv, false) != 0)
            wd_warn("SoftAP: could not remove interface %s", ap->ifname);
        ap->created_if = false;
    }
    if (ap->up)
        wd_info("SoftAP: access point stopped and removed");
    ap->up = false;
    ap->ready = false;
    ap->suspended = false;
}

void wifiprovd_ap_free(struct wifiprovd_ap *ap)
{
    if (!ap)
        return;
    wifiprovd_ap_stop(ap);
    if (ap->ops->free_impl)
        ap->ops->free_impl(ap);
    wifiprov_memzero(ap, sizeof(*ap));
    free(ap);
}
