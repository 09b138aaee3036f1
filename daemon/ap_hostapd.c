/*
 * SoftAP with hostapd and dnsmasq, started and supervised by the daemon (for the
 * wpa_supplicant and sim backends, and systems without NetworkManager).
 *
 * hostapd runs in the foreground with a configuration file in the runtime directory (mode
 * 0600: it holds the passphrase) and its control socket there too. Readiness is hostapd's
 * own: STATUS state=ENABLED, or the AP-ENABLED event on the attached control socket, which
 * also reports AP-STA-CONNECTED / AP-STA-DISCONNECTED. Both children are watched with
 * sd-event child sources; an exit nobody asked for is reported as a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wpa_ctrl.h>

#include "ap.h"
#include "wifiprovd.h"

#define READY_TIMEOUT_MS 20000u
#define POLL_MS 100u

struct hostapd {
    pid_t pid;
    sd_event_source *child;
    sd_event_source *timer;
    sd_event_source *mon_src;
    struct wpa_ctrl *ctrl;
    struct wpa_ctrl *mon;
    unsigned polls;
    char sock[320];
};

static struct hostapd *impl(struct wifiprovd_ap *ap)
{
    if (!ap->impl)
        ap->impl = calloc(1, sizeof(struct hostapd));
    return ap->impl;
}

static void ctrl_close(struct hostapd *h)
{
    h->mon_src = sd_event_source_disable_unref(h->mon_src);
    if (h->mon) {
        wpa_ctrl_detach(h->mon);
        wpa_ctrl_close(h->mon);
        h->mon = NULL;
    }
    if (h->ctrl) {
        wpa_ctrl_close(h->ctrl);
        h->ctrl = NULL;
    }
}

/* "<3>AP-STA-CONNECTED 02:00:00:00:04:00" and friends. */
static void handle_event(struct wifiprovd_ap *ap, const char *msg)
{
    const char *m = msg;

    if (*m == '<') {
        const char *e = strchr(m, '>');
        m = e ? e + 1 : m;
    }
    wd_dbg("SoftAP: hostapd: %s", m);
    if (!strncmp(m, "AP-STA-CONNECTED ", 17))
        wifiprovd__ap_report(ap, WIFIPROVD_AP_EVENT_STA_JOINED, m + 17);
    else if (!strncmp(m, "AP-STA-DISCONNECTED ", 20))
        wifiprovd__ap_report(ap, WIFIPROVD_AP_EVENT_STA_LEFT, m + 20);
    else if (!strncmp(m, "AP-ENABLED", 10) && !ap->ready)
        wifiprovd__ap_report(ap, WIFIPROVD_AP_EVENT_READY, NULL);
    else if (!strncmp(m, "AP-DISABLED", 11) && !ap->stopping)
        wifiprovd__ap_report(ap, WIFIPROVD_AP_EVENT_FAILED, "hostapd disabled the access point");
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
    struct wifiprovd_ap *ap = ud;
    struct hostapd *h = ap->impl;

    (void)s;
    (void)fd;
    if (revents & (EPOLLHUP | EPOLLERR)) {
        h->mon_src = sd_event_source_disable_unref(h->mon_src);
        return 0;
    }
    while (h->mon && wpa_ctrl_pending(h->mon) > 0) {
        char buf[512];
        size_t len = sizeof(buf) - 1;
        if (wpa_ctrl_recv(h->mon, buf, &len) < 0)
            break;
        buf[len] = '\0';
        handle_event(ap, buf);
    }
    return 0;
}

/* Opens and attaches the control socket once hostapd made it. @return 1 open, 0 not yet, -1 error. */
static int ctrl_try(struct wifiprovd_ap *ap, struct hostapd *h)
{
    char reply[2048];
    size_t len = sizeof(reply) - 1;

    if (!h->ctrl) {
        if (access(h->sock, F_OK) != 0)
            return 0;
        h->ctrl = wpa_ctrl_open(h->sock);
        h->mon = h->ctrl ? wpa_ctrl_open(h->sock) : NULL;
        if (!h->mon || wpa_ctrl_attach(h->mon) != 0) {
            ctrl_close(h);
            return 0;
        }
        if (sd_event_add_io(ap->cfg.event, &h->mon_src, wpa_ctrl_get_fd(h->mon), EPOLLIN, on_monitor, ap) < 0)
            return -1;
    }
    /* AP-ENABLED may have come before we attached: ask. */
    if (wpa_ctrl_request(h->ctrl, "STATUS", 6, reply, &len, NULL) == 0) {
        reply[len] = '\0';
        if (strstr(reply, "state=ENABLED"))
            return 1;
    }
    return 0;
}

static int on_poll(sd_event_source *s, uint64_t usec, void *ud)
{
    struct wifiprovd_ap *ap = ud;
    struct hostapd *h = ap->impl;
    int r;

    (void)s;
    (void)usec;
    r = ctrl_try(ap, h);
    if (r == 1) {
        h->timer = sd_event_source_disable_unref(h->timer);
        if (!ap->ready)
            wifiprovd__ap_report(ap, WIFIPROVD_AP_EVENT_READY, NULL);
        return 0;
    }
    if (r < 0 || ++h->polls * POLL_MS >= READY_TIMEOUT_MS) {
        h->timer = sd_event_source_disable_unref(h->timer);
        wifiprovd__ap_report(ap, WIFIPROVD_AP_EVENT_FAILED,
                             r < 0 ? "cannot watch hostapd's control socket"
                                   : "hostapd did not enable the access point in 20 s (see its messages above)");
        return 0;
    }
    sd_event_source_set_time_relative(h->timer, POLL_MS * 1000u);
    sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
    return 0;
}

static int on_hostapd_exit(sd_event_source *s, const siginfo_t *si, void *ud)
{
    struct wifiprovd_ap *ap = ud;
    struct hostapd *h = ap->impl;
    char detail[96];

    (void)s;
    h->child = sd_event_source_disable_unref(h->child);
    h->pid = 0;
    h->timer = sd_event_source_disable_unref(h->timer);
    ctrl_close(h);
    if (ap->stopping)
        return 0;
    snprintf(detail, sizeof(detail), "hostapd exited (%s %d)", si->si_code == CLD_EXITED ? "status" : "signal",
             si->si_status);
    ap->radio = false;
    ap->ready = false;
    wifiprovd__ap_report(ap, WIFIPROVD_AP_EVENT_FAILED, detail);
    return 0;
}

static int write_config(struct wifiprovd_ap *ap, char *path, size_t cap)
{
    char text[1024], ssid_hex[2 * 32 + 1];
    size_t n = strlen(ap->cfg.ssid);
    int ret;

    for (size_t i = 0; i < n && i < 32; i++)
        snprintf(ssid_hex + 2 * i, 3, "%02x", (unsigned char)ap->cfg.ssid[i]);
    ssid_hex[2 * (n < 32 ? n : 32)] = '\0';
    snprintf(text, sizeof(text),
             "# Written by wifiprovd for its SoftAP; removed when it stops.\n"
             "interface=%s\ndriver=nl80211\nctrl_interface=%s/hostapd\n"
             "ssid2=%s\nhw_mode=%s\nchannel=%u\nauth_algs=1\nmax_num_sta=8\nwmm_enabled=1\n"
             "%s%s%s",
             ap->ifname, ap->rundir, ssid_hex, ap->channel > 14 ? "a" : "g", ap->channel,
             ap->cfg.passphrase ? "wpa=2\nwpa_key_mgmt=WPA-PSK\nrsn_pairwise=CCMP\nwpa_passphrase=" : "",
             ap->cfg.passphrase ? ap->cfg.passphrase : "", ap->cfg.passphrase ? "\n" : "");
    ret = wifiprovd__ap_write_file(ap, "hostapd.conf", text, path, cap);
    wifiprov_memzero(text, sizeof(text));
    return ret;
}

static int radio_up(struct wifiprovd_ap *ap)
{
    struct hostapd *h = impl(ap);
    char conf[320], pidtext[32], pidpath[320];
    int r;

    if (!h)
        return -1;
    /* The address and dnsmasq come first and stay while the radio is down for an attempt. */
    if (!ap->added_address && wifiprovd__ap_address_add(ap) < 0)
        return -1;
    if (wifiprovd__ap_dnsmasq_start(ap) < 0)
        return -1;
    if (write_config(ap, conf, sizeof(conf)) < 0)
        return -1;
    snprintf(h->sock, sizeof(h->sock), "%s/hostapd/%s", ap->rundir, ap->ifname);
    {
        const char *argv[] = {"hostapd", conf, NULL};
        if (wifiprovd__ap_spawn(argv, &h->pid) < 0)
            return -1;
    }
    snprintf(pidtext, sizeof(pidtext), "%d\n", (int)h->pid);
    wifiprovd__ap_write_file(ap, "hostapd.pid", pidtext, pidpath, sizeof(pidpath));
    h->polls = 0;
    r = sd_event_add_child(ap->cfg.event, &h->child, h->pid, WEXITED, on_hostapd_exit, ap);
    if (r >= 0)
        r = sd_event_add_time_relative(ap->cfg.event, &h->timer, CLOCK_MONOTONIC, POLL_MS * 1000u, 10000, on_poll,
                                       ap);
    if (r < 0) {
        wd_err("SoftAP: sd-event: %s", strerror(-r));
        return -1;
    }
    return 0;
}

static void radio_down(struct wifiprovd_ap *ap)
{
    struct hostapd *h = ap->impl;
    char path[320];

    if (!h)
        return;
    h->timer = sd_event_source_disable_unref(h->timer);
    ctrl_close(h);
    wifiprovd__ap_child_stop(ap, &h->child, &h->pid, "hostapd.pid");
    wifiprovd__ap_path(ap, "hostapd.conf", path, sizeof(path));
    unlink(path);
    unlink(h->sock);
    wifiprovd__ap_path(ap, "hostapd", path, sizeof(path));
    rmdir(path);
}

static int sweep(struct wifiprovd_ap *ap)
{
    char path[320];

    wifiprovd__ap_kill_pidfile(ap, "hostapd.pid");
    wifiprovd__ap_path(ap, "hostapd.conf", path, sizeof(path));
    unlink(path);
    /* A killed hostapd leaves its control socket behind. */
    wifiprovd__ap_path(ap, "hostapd", path, sizeof(path));
    {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            char sock[600];
            if (e->d_name[0] == '.')
                continue;
            snprintf(sock, sizeof(sock), "%s/%s", path, e->d_name);
            unlink(sock);
        }
        if (d)
            closedir(d);
    }
    rmdir(path);
    return 0;
}

static void free_impl(struct wifiprovd_ap *ap)
{
    free(ap->impl);
    ap->impl = NULL;
}

const struct wifiprovd_ap_ops wifiprovd_ap_hostapd_ops = {
    .name = "hostapd + dnsmasq",
    .sweep = sweep,
    .radio_up = radio_up,
    .radio_down = radio_down,
    .free_impl = free_impl,
};
