/*
 * wifiprov_lab_driver: drives one Wi-Fi backend (wpa_supplicant, NetworkManager or auto)
 * on an sd-event loop, the way wifiprovd does, and prints what it reports in lines the
 * lab's scenario scripts check:
 *
 *   BACKEND <name>
 *   MAC <aa:bb:..>
 *   SCAN n=<n> time_ms=<t>            then one "AP ssid=<s> bssid=<b> ch=<c> rssi=<r> auth=<a>" each
 *   EVENT <type> [reason=<r>]         every wifi event as it comes
 *   RESULT <cmd> CONNECTED ip=<ip> ssid=<s> bssid=<b> ch=<c> auth=<a> time_ms=<t>
 *   RESULT <cmd> FAILED reason=<r> time_ms=<t>
 *   RESULT <cmd> OK | ERROR <err>
 *
 * Usage: wifiprov_lab_driver --backend wpa|nm|auto [--ifname IF] [--ctrl-dir DIR]
 *          [--dhcp-hook CMD] [--state-dir DIR] [--timeout SEC] [-v] COMMAND...
 * Commands: scan | connect SSID PASSPHRASE | start SSID PASSPHRASE (connect, not waiting) |
 *           commit | forget | disconnect | saved SSID | mac | sleep MS
 * Every wait is bounded by --timeout (default 90 s); a timeout prints "RESULT ... TIMEOUT".
 * Exit status: 0 when every command ran (whatever the Wi-Fi outcome), 1 on a timeout or
 * an error, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "wifi/backend.h"
#include "wifiprov/wifi.h"

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t t0;

static void log_fn(void *ctx, enum wifiprov_log_level level, const char *msg)
{
    static const char *const names[] = {"E", "W", "I", "D"};

    fprintf(stderr, "[%7.3f] %s %s\n", (double)(now_ms() - t0) / 1000.0, names[level], msg);
}

struct driver {
    sd_event *event;
    bool waiting;
    bool done;
    enum { WAIT_SCAN, WAIT_CONN, WAIT_COMMIT } what;
    uint64_t started;
    const char *cmd;
};

static const char *auth_name(uint32_t a, char *buf, size_t cap)
{
    const char *s = wifiprov_auth_mode_to_string(a);

    if (s)
        return s;
    snprintf(buf, cap, "Unknown(%u)", a);
    return buf;
}

static void print_ssid(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0x21 && s[i] < 0x7f && s[i] != '\\')
            putchar(s[i]);
        else
            printf("\\x%02x", s[i]);
}

static void print_mac(const char *label, const uint8_t *m)
{
    printf(" %s=%02x:%02x:%02x:%02x:%02x:%02x", label, m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void on_scan(void *ctx, int err, const struct wifiprov_ap *aps, size_t n)
{
    struct driver *d = ctx;
    char buf[32];

    if (!d->waiting || d->what != WAIT_SCAN) {
        printf("EVENT SCAN_DONE (unsolicited) err=%d n=%zu\n", err, n);
        return;
    }
    if (err)
        printf("RESULT %s ERROR %s time_ms=%llu\n", d->cmd, wifiprov_err_name(err),
               (unsigned long long)(now_ms() - d->started));
    else
        printf("SCAN n=%zu time_ms=%llu\n", n, (unsigned long long)(now_ms() - d->started));
    for (size_t i = 0; i < n; i++) {
        printf("AP ssid=");
        print_ssid(aps[i].ssid, aps[i].ssid_len);
        print_mac("bssid", aps[i].bssid);
        printf(" ch=%u rssi=%d auth=%s\n", aps[i].channel, aps[i].rssi, auth_name(aps[i].auth, buf, sizeof(buf)));
    }
    fflush(stdout);
    d->waiting = false;
    d->done = err == 0;
}

static void on_event(void *ctx, const struct wifiprov_wifi_event *ev)
{
    struct driver *d = ctx;
    unsigned long long t = (unsigned long long)(now_ms() - d->started);
    char buf[32];

    switch (ev->type) {
    case WIFIPROV_WIFI_EVENT_CONNECTING:
        printf("EVENT CONNECTING time_ms=%llu\n", t);
        break;
    case WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED:
        printf("EVENT ATTEMPT_FAILED reason=%s time_ms=%llu\n", wifiprov_fail_reason_to_string(ev->reason), t);
        if (d->waiting && d->what == WAIT_CONN) {
            printf("RESULT %s FAILED reason=%s time_ms=%llu\n", d->cmd, wifiprov_fail_reason_to_string(ev->reason), t);
            d->waiting = false;
            d->done = true;
        }
        break;
    case WIFIPROV_WIFI_EVENT_CONNECTED:
        printf("EVENT CONNECTED time_ms=%llu\n", t);
        if (d->waiting && d->what == WAIT_CONN) {
            printf("RESULT %s CONNECTED ip=%s ssid=", d->cmd, ev->ip4 ? ev->ip4 : "-");
            print_ssid(ev->ssid, ev->ssid_len);
            if (ev->bssid)
                print_mac("bssid", ev->bssid);
            printf(" ch=%d auth=%s time_ms=%llu\n", (int)ev->channel, auth_name(ev->auth, buf, sizeof(buf)), t);
            d->waiting = false;
            d->done = true;
        }
        break;
    case WIFIPROV_WIFI_EVENT_DISCONNECTED:
        printf("EVENT DISCONNECTED time_ms=%llu\n", t);
        break;
    }
    fflush(stdout);
}

/* A commit that answered WIFIPROV_ERR_PENDING completed. */
static void on_commit_done(void *ctx, int err)
{
    struct driver *d = ctx;

    if (d->waiting && d->what == WAIT_COMMIT) {
        printf("RESULT commit %s%s\n", err ? "ERROR " : "OK", err ? wifiprov_err_name(err) : "");
        d->waiting = false;
        d->done = err == 0;
    } else {
        printf("EVENT COMMIT_DONE (unsolicited) err=%d\n", err);
    }
    fflush(stdout);
}

/* Runs the loop until the pending result arrives or @p timeout_ms passes. */
static int wait_result(struct driver *d, uint64_t timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;

    while (d->waiting) {
        uint64_t n = now_ms();

        if (n >= end) {
            printf("RESULT %s TIMEOUT after %llu ms\n", d->cmd, (unsigned long long)timeout_ms);
            fflush(stdout);
            d->waiting = false;
            return 1;
        }
        if (sd_event_run(d->event, (end - n) * 1000) < 0)
            return 1;
    }
    return 0;
}

/* Runs the loop for @p ms, delivering whatever the backend reports meanwhile. */
static void run_for(struct driver *d, uint64_t ms)
{
    uint64_t end = now_ms() + ms;

    for (uint64_t n = now_ms(); n < end; n = now_ms())
        sd_event_run(d->event, (end - n) * 1000);
}

static int fill_creds(struct wifiprov_wifi_creds *c, const char *ssid, const char *pass)
{
    memset(c, 0, sizeof(*c));
    if (strlen(ssid) > WIFIPROV_SSID_MAX || strlen(pass) > WIFIPROV_PASSPHRASE_MAX)
        return -1;
    memcpy(c->ssid, ssid, strlen(ssid));
    c->ssid_len = (uint8_t)strlen(ssid);
    memcpy(c->passphrase, pass, strlen(pass));
    c->passphrase_len = (uint8_t)strlen(pass);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: wifiprov_lab_driver --backend wpa|nm|auto [--ifname IF] [--ctrl-dir DIR] "
                    "[--dhcp-hook CMD] [--state-dir DIR] [--timeout SEC] [-v] COMMAND...\n"
                    "commands: scan | connect SSID PASS | start SSID PASS | commit | forget | disconnect | "
                    "saved SSID | mac | sleep MS\n");
}

int main(int argc, char **argv)
{
    struct wifiprov_backend_config cfg;
    struct wifiprov_backend *b = NULL;
    struct driver d;
    struct wifiprov_wifi_creds creds;
    const char *backend = NULL;
    uint64_t timeout_ms = 90000;
    int i, r, rc = 0;
    bool verbose = false;

    t0 = now_ms();
    memset(&cfg, 0, sizeof(cfg));
    memset(&d, 0, sizeof(d));
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc)
            backend = argv[++i];
        else if (!strcmp(argv[i], "--ifname") && i + 1 < argc)
            cfg.ifname = argv[++i];
        else if (!strcmp(argv[i], "--ctrl-dir") && i + 1 < argc)
            cfg.wpa_ctrl_dir = argv[++i];
        else if (!strcmp(argv[i], "--dhcp-hook") && i + 1 < argc)
            cfg.dhcp_hook = argv[++i];
        else if (!strcmp(argv[i], "--state-dir") && i + 1 < argc)
            cfg.state_dir = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_ms = strtoull(argv[++i], NULL, 10) * 1000u;
        else if (!strcmp(argv[i], "-v"))
            verbose = true;
        else {
            usage();
            return 2;
        }
    }
    if (!backend) {
        usage();
        return 2;
    }
    wifiprov_set_log_handler(log_fn, NULL, verbose ? WIFIPROV_LOG_LEVEL_DEBUG : WIFIPROV_LOG_LEVEL_INFO);
    if (sd_event_new(&d.event) < 0)
        return 1;
    cfg.event = d.event;
    cfg.scan_done_fn = on_scan;
    cfg.wifi_event_fn = on_event;
    cfg.commit_done_fn = on_commit_done;
    cfg.ctx = &d;
    if (!strcmp(backend, "wpa"))
        r = wifiprov_backend_wpa_new(&cfg, &b);
    else if (!strcmp(backend, "nm"))
        r = wifiprov_backend_nm_new(&cfg, &b);
    else if (!strcmp(backend, "auto"))
        r = wifiprov_backend_auto_new(&cfg, &b);
    else {
        usage();
        r = 2;
    }
    if (r) {
        printf("BACKEND ERROR %s\n", r == 2 ? "usage" : wifiprov_err_name(r));
        sd_event_unref(d.event);
        return r == 2 ? 2 : 1;
    }
    printf("BACKEND %s\n", b->name);
    fflush(stdout);

    for (; i < argc && rc == 0; i++) {
        const char *cmd = argv[i];

        d.cmd = cmd;
        d.done = false;
        d.started = now_ms();
        if (!strcmp(cmd, "scan")) {
            struct wifiprov_scan_opts opts = {0};

            d.what = WAIT_SCAN;
            d.waiting = true;
            r = b->ops->scan_start(b->ctx, &opts);
            if (r) {
                printf("RESULT scan ERROR %s\n", wifiprov_err_name(r));
                rc = 1;
            } else {
                rc = wait_result(&d, timeout_ms);
            }
        } else if ((!strcmp(cmd, "connect") && i + 2 < argc) || (!strcmp(cmd, "saved") && i + 1 < argc)) {
            bool saved = !strcmp(cmd, "saved");

            if (fill_creds(&creds, argv[i + 1], saved ? "" : argv[i + 2])) {
                usage();
                rc = 2;
                break;
            }
            i += saved ? 1 : 2;
            d.what = WAIT_CONN;
            d.waiting = true;
            r = saved ? b->connect_saved(b, &creds) : b->ops->connect(b->ctx, &creds);
            memset(&creds, 0, sizeof(creds));
            if (r) {
                printf("RESULT %s ERROR %s\n", cmd, wifiprov_err_name(r));
                d.waiting = false;
                rc = 1;
            } else {
                rc = wait_result(&d, timeout_ms);
            }
        } else if (!strcmp(cmd, "start") && i + 2 < argc) {
            if (fill_creds(&creds, argv[i + 1], argv[i + 2])) {
                usage();
                rc = 2;
                break;
            }
            i += 2;
            r = b->ops->connect(b->ctx, &creds);
            memset(&creds, 0, sizeof(creds));
            printf("RESULT start %s%s\n", r ? "ERROR " : "OK", r ? wifiprov_err_name(r) : "");
            rc = r ? 1 : 0;
        } else if (!strcmp(cmd, "commit") || !strcmp(cmd, "forget") || !strcmp(cmd, "disconnect")) {
            if (!strcmp(cmd, "commit")) {
                d.what = WAIT_COMMIT;
                d.waiting = true;
                r = b->ops->commit(b->ctx, NULL);
                if (r == WIFIPROV_ERR_PENDING) {
                    /* Completed when the service answers (NetworkManager's save). */
                    rc = wait_result(&d, timeout_ms);
                    continue;
                }
                d.waiting = false;
            } else if (!strcmp(cmd, "forget"))
                r = b->ops->forget(b->ctx);
            else
                r = b->ops->disconnect(b->ctx);
            printf("RESULT %s %s%s\n", cmd, r ? "ERROR " : "OK", r ? wifiprov_err_name(r) : "");
            /* Let the backend's own follow-up run (async D-Bus replies, events). */
            run_for(&d, 500);
        } else if (!strcmp(cmd, "mac")) {
            uint8_t mac[6];

            r = b->get_mac(b, mac);
            if (r)
                printf("RESULT mac ERROR %s\n", wifiprov_err_name(r));
            else {
                printf("MAC");
                print_mac("addr", mac);
                printf("\n");
            }
        } else if (!strcmp(cmd, "sleep") && i + 1 < argc) {
            run_for(&d, strtoull(argv[++i], NULL, 10));
        } else {
            usage();
            rc = 2;
        }
        fflush(stdout);
    }
    wifiprov_backend_free(b);
    sd_event_unref(d.event);
    return rc;
}
