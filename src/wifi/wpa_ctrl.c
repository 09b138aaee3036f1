/*
 * The wpa_supplicant backend's control socket. Requests are written on the request socket
 * and answered within a short timeout (the supplicant answers at once; a hung one must not
 * stall the event loop for libwpa_client's 10 s), a late answer is dropped before the next
 * request, and a reply that does not fit is an error rather than a silent cut. ATTACH, too, is
 * answered on the event loop (the monitor socket's handler), never waited for. Scan results
 * come from the BSS table one entry at a time, so their number is not bounded by the size of
 * one reply (SCAN_RESULTS stops at the supplicant's reply buffer).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <wpa_ctrl.h>

#include "util.h"
#include "wifi/wifiutil.h"
#include "wifi/wpa.h"

#define REQUEST_TIMEOUT_MS 1500u
#define REOPEN_MS 2000u
#define ATTACH_TIMEOUT_MS 5000u
/* BSS fields: id, bssid, freq, level, flags, ssid (WPA_BSS_MASK_*). */
#define BSS_MASK "0x1887"
#define BSS_MAX 512

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Drops replies still queued on the request socket (a request that timed out). */
static void drain(int fd)
{
    char buf[256];

    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
    }
}

int wifiprov__wpa_request(struct wpa *w, const char *cmd, bool secret, char *reply, size_t cap, unsigned timeout_ms)
{
    uint64_t deadline;
    int fd;

    if (!w->ctrl)
        return WIFIPROV_ERR_IO;
    fd = wpa_ctrl_get_fd(w->ctrl);
    if (w->stale_reply) {
        drain(fd);
        w->stale_reply = false;
    }
    if (!secret)
        wifiprov__dbg("wpa_supplicant: > %s", cmd);
    if (send(fd, cmd, strlen(cmd), 0) < 0) {
        wifiprov__err("wpa_supplicant: request failed: %s (is wpa_supplicant still running?)", strerror(errno));
        return WIFIPROV_ERR_IO;
    }
    deadline = mono_ms() + (timeout_ms ? timeout_ms : REQUEST_TIMEOUT_MS);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        uint64_t now = mono_ms();
        ssize_t n;
        int r;

        if (now >= deadline) {
            w->stale_reply = true;
            wifiprov__err("wpa_supplicant: no answer to %s within %u ms", secret ? "a request" : cmd,
                          timeout_ms ? timeout_ms : REQUEST_TIMEOUT_MS);
            return WIFIPROV_ERR_TIMEOUT;
        }
        r = poll(&p, 1, (int)(deadline - now));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            wifiprov__err("wpa_supplicant: poll: %s", strerror(errno));
            return WIFIPROV_ERR_IO;
        }
        if (r == 0)
            continue;
        n = recv(fd, reply, cap, MSG_TRUNC);
        if (n < 0) {
            wifiprov__err("wpa_supplicant: request failed: %s (is wpa_supplicant still running?)", strerror(errno));
            return WIFIPROV_ERR_IO;
        }
        /* An unsolicited event line (only on an attached socket): not our answer. */
        if (n > 0 && reply[0] == '<')
            continue;
        if ((size_t)n >= cap) {
            wifiprov__err("wpa_supplicant: the answer to %s is larger than %zu bytes", secret ? "a request" : cmd,
                          cap - 1);
            reply[0] = '\0';
            return WIFIPROV_ERR_NOSPC;
        }
        reply[n] = '\0';
        return 0;
    }
}

int wifiprov__wpa_request_ok(struct wpa *w, const char *cmd, bool secret)
{
    char reply[64];
    int r = wifiprov__wpa_request(w, cmd, secret, reply, sizeof(reply), 0);

    if (r)
        return r;
    if (strncmp(reply, "OK", 2)) {
        wifiprov__warn("wpa_supplicant: %s: %.*s", secret ? "(request with a secret)" : cmd, (int)strcspn(reply, "\n"),
                       reply);
        return WIFIPROV_ERR_WIFI;
    }
    return 0;
}

int wifiprov__wpa_requestf_ok(struct wpa *w, const char *fmt, ...)
{
    char cmd[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        return WIFIPROV_ERR_INVAL;
    return wifiprov__wpa_request_ok(w, cmd, false);
}

int wifiprov__wpa_get_network(struct wpa *w, int id, const char *field, char *out, size_t cap)
{
    char cmd[64];
    int r;

    snprintf(cmd, sizeof(cmd), "GET_NETWORK %d %s", id, field);
    r = wifiprov__wpa_request(w, cmd, false, out, cap, 0);
    if (r)
        return r;
    out[strcspn(out, "\n")] = '\0';
    return strncmp(out, "FAIL", 4) ? 0 : WIFIPROV_ERR_WIFI;
}

int wifiprov__wpa_each_network(struct wpa *w, void (*fn)(struct wpa *w, int id, const char *flags, void *ud), void *ud)
{
    char *reply = wifiprov__malloc(WPA_REPLY_CAP);
    const char *p;
    int r;

    if (!reply)
        return WIFIPROV_ERR_NOMEM;
    r = wifiprov__wpa_request(w, "LIST_NETWORKS", false, reply, WPA_REPLY_CAP, 0);
    if (r)
        goto out;
    p = strchr(reply, '\n'); /* skip the header */
    while (p && *++p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *last_tab = memrchr(p, '\t', len);
        char flags[128];
        char *end;
        long id = strtol(p, &end, 10);

        flags[0] = '\0';
        if (last_tab) {
            size_t fl = len - (size_t)(last_tab + 1 - p);

            snprintf(flags, sizeof(flags), "%.*s", (int)fl, last_tab + 1);
        }
        if (end != p && id >= 0 && id <= 1000000)
            fn(w, (int)id, flags, ud);
        p = nl;
    }
out:
    wifiprov__free(reply);
    return r;
}

void wifiprov__wpa_refresh_aps(struct wpa *w)
{
    char *reply = wifiprov__malloc(WPA_REPLY_CAP);
    char cmd[64];
    size_t n = 0;
    long id = -1;

    if (!reply)
        return;
    snprintf(cmd, sizeof(cmd), "BSS FIRST MASK=" BSS_MASK);
    for (int i = 0; i < BSS_MAX; i++) {
        struct wifiprov_ap ap;
        long next;

        if (wifiprov__wpa_request(w, cmd, false, reply, WPA_REPLY_CAP, 0) || !reply[0] || !strncmp(reply, "FAIL", 4))
            break;
        if (wifiprov__wifiutil_parse_bss(reply, &ap, &next) == 0)
            n = wifiprov__wifiutil_add_ap(w->aps, n, WPA_MAX_APS, &ap);
        if (next < 0 || next == id)
            break;
        id = next;
        snprintf(cmd, sizeof(cmd), "BSS NEXT-%ld MASK=" BSS_MASK, id);
    }
    wifiprov__wifiutil_sort_aps(w->aps, n);
    w->n_aps = n;
    wifiprov__free(reply);
}

/* ---- sockets ---------------------------------------------------------------------- */

/* The answer to ATTACH on the monitor socket: "OK" (events follow) or anything else. */
static void attach_answer(struct wpa *w, const char *reply)
{
    w->attach_timer = sd_event_source_disable_unref(w->attach_timer);
    if (strncmp(reply, "OK", 2)) {
        wifiprov__err("wpa_supplicant: ATTACH refused on %s: %.*s", w->path, (int)strcspn(reply, "\n"), reply);
        wifiprov__wpa_lost(w);
        return;
    }
    w->attached = true;
    wifiprov__dbg("wpa_supplicant: attached to the events of %s", w->path);
    if (w->was_lost) {
        w->was_lost = false;
        wifiprov__info("wpa_supplicant: control interface is back");
    }
}

static int on_attach_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct wpa *w = userdata;

    (void)s;
    (void)usec;
    wifiprov__err("wpa_supplicant: no answer to ATTACH on %s within %u ms", w->path, ATTACH_TIMEOUT_MS);
    wifiprov__wpa_lost(w);
    return 0;
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct wpa *w = userdata;
    char buf[4096];

    (void)s;
    (void)fd;
    if (revents & (EPOLLERR | EPOLLHUP)) {
        wifiprov__wpa_lost(w);
        return 0;
    }
    while (w->mon && wpa_ctrl_pending(w->mon) > 0) {
        size_t len = sizeof(buf) - 1;
        const char *line = buf;
        bool terminating;

        if (wpa_ctrl_recv(w->mon, buf, &len) < 0) {
            wifiprov__wpa_lost(w);
            return 0;
        }
        buf[len] = '\0';
        if (!w->attached && buf[0] != '<') {
            attach_answer(w, buf);
            continue;
        }
        /* "<3>CTRL-EVENT-..." : drop the priority prefix. */
        if (line[0] == '<' && strchr(line, '>'))
            line = strchr(line, '>') + 1;
        wifiprov__dbg("wpa_supplicant: < %s", line);
        terminating = !strncmp(line, "CTRL-EVENT-TERMINATING", 22);
        wifiprov__wpa_handle_event(w, line);
        if (terminating) {
            wifiprov__wpa_lost(w);
            return 0;
        }
    }
    return 0;
}

void wifiprov__wpa_close_sockets(struct wpa *w)
{
    w->mon_src = sd_event_source_disable_unref(w->mon_src);
    w->attach_timer = sd_event_source_disable_unref(w->attach_timer);
    if (w->mon) {
        /* Not libwpa_client's DETACH, which waits up to 10 s for the answer: the supplicant
         * also forgets a monitor whose socket is gone. */
        if (w->attached)
            (void)send(wpa_ctrl_get_fd(w->mon), "DETACH", 6, MSG_DONTWAIT);
        wpa_ctrl_close(w->mon);
        w->mon = NULL;
    }
    w->attached = false;
    if (w->ctrl) {
        wpa_ctrl_close(w->ctrl);
        w->ctrl = NULL;
    }
}

int wifiprov__wpa_open_sockets(struct wpa *w, bool probe)
{
    /* Our end of each control socket: libwpa_client binds it in /tmp, which wpa_supplicant cannot
     * reach from a service with PrivateTmp=yes; under systemd with RuntimeDirectory= it goes there. */
    const char *cli = getenv("RUNTIME_DIRECTORY");
    int r = 0;

    if (cli && (!*cli || strchr(cli, ':')))
        cli = NULL;
    w->ctrl = cli ? wpa_ctrl_open2(w->path, cli) : wpa_ctrl_open(w->path);
    w->mon = w->ctrl ? (cli ? wpa_ctrl_open2(w->path, cli) : wpa_ctrl_open(w->path)) : NULL;
    w->stale_reply = false;
    w->attached = false;
    if (!w->ctrl || !w->mon) {
        if (probe)
            wifiprov__dbg("wpa_supplicant: cannot open the control socket %s", w->path);
        else
            wifiprov__err("wpa_supplicant: cannot open the control socket %s (is wpa_supplicant running "
                          "with ctrl_interface there?)",
                          w->path);
        r = WIFIPROV_ERR_UNSUPPORTED;
        goto out;
    }
    if (sd_event_add_io(w->event, &w->mon_src, wpa_ctrl_get_fd(w->mon), EPOLLIN, on_monitor, w) < 0 ||
        wifiprov__wifiutil_timer(w->event, &w->attach_timer, ATTACH_TIMEOUT_MS, on_attach_timeout, w)) {
        r = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    /* ATTACH goes out now and its answer is read by on_monitor: libwpa_client's wpa_ctrl_attach
     * would wait for it (up to 10 s) with the event loop stopped. */
    if (send(wpa_ctrl_get_fd(w->mon), "ATTACH", 6, 0) < 0) {
        if (probe)
            wifiprov__dbg("wpa_supplicant: ATTACH on %s: %s", w->path, strerror(errno));
        else
            wifiprov__err("wpa_supplicant: ATTACH on %s failed: %s (is wpa_supplicant still running?)", w->path,
                          strerror(errno));
        r = WIFIPROV_ERR_IO;
        goto out;
    }
out:
    if (r)
        wifiprov__wpa_close_sockets(w);
    return r;
}

static int reopen(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct wpa *w = userdata;

    (void)s;
    (void)usec;
    if (wifiprov__wpa_open_sockets(w, true) == 0) {
        /* "back" once the supplicant answers ATTACH; no answer = lost again. */
        w->reopen_timer = sd_event_source_disable_unref(w->reopen_timer);
        return 0;
    }
    (void)wifiprov__wifiutil_timer(w->event, &w->reopen_timer, REOPEN_MS, reopen, w);
    return 0;
}

void wifiprov__wpa_lost(struct wpa *w)
{
    wifiprov__err("wpa_supplicant: lost the control interface %s; retrying every %u ms", w->path, REOPEN_MS);
    wifiprov__wpa_close_sockets(w);
    w->was_lost = true;
    w->ip_timer = sd_event_source_disable_unref(w->ip_timer);
    w->our_id = -1;
    w->n_prev = 0;
    (void)wifiprov__wifiutil_timer(w->event, &w->reopen_timer, REOPEN_MS, reopen, w);
    if (w->scanning) {
        w->scanning = false;
        w->scan_timer = sd_event_source_disable_unref(w->scan_timer);
        w->scan_done_fn(w->cb_ctx, WIFIPROV_ERR_IO, w->aps, w->n_aps);
    }
    wifiprov__attempt_service_lost(&w->at);
}

int wifiprov__wpa_find_socket(const char *dir, bool probe, char **ifname)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0, r = 0;

    *ifname = NULL;
    if (!d) {
        if (probe)
            wifiprov__dbg("wpa_supplicant: no control directory %s", dir);
        else
            wifiprov__err("wpa_supplicant: no control directory %s (is wpa_supplicant running?)", dir);
        return WIFIPROV_ERR_UNSUPPORTED;
    }
    while ((e = readdir(d)) != NULL) {
        char path[512];
        struct stat st;

        if (e->d_name[0] == '.' || !strncmp(e->d_name, "p2p-dev-", 8))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) || !S_ISSOCK(st.st_mode))
            continue;
        if (n++ == 0) {
            *ifname = wifiprov__strdup(e->d_name);
            if (!*ifname)
                r = WIFIPROV_ERR_NOMEM;
        }
    }
    closedir(d);
    if (r == 0 && n == 0) {
        if (probe)
            wifiprov__dbg("wpa_supplicant: no control socket in %s", dir);
        else
            wifiprov__err("wpa_supplicant: no control socket in %s", dir);
        r = WIFIPROV_ERR_UNSUPPORTED;
    } else if (r == 0 && n > 1) {
        wifiprov__err("wpa_supplicant: %d interfaces in %s; name the one to use", n, dir);
        r = WIFIPROV_ERR_INVAL;
    }
    if (r) {
        wifiprov__free(*ifname);
        *ifname = NULL;
    }
    return r;
}
