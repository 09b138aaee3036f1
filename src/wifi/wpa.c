/*
 * Wi-Fi backend over wpa_supplicant's control interface (libwpa_client).
 *
 * Two sockets to /run/wpa_supplicant/<ifname>: one for requests (each a short blocking
 * round trip), one attached as the event monitor and watched by the sd-event loop.
 *
 * A connection attempt adds a network of our own and selects it. SELECT_NETWORK disables
 * every other network, so the ones enabled before are remembered and enabled again when
 * our attempt fails or is dropped; they are never removed. Only commit() saves the
 * configuration (SAVE_CONFIG, which needs update_config=1 in the supplicant's config).
 *
 * Outcome mapping (PROTOCOL.md §9.3):
 *   CTRL-EVENT-SSID-TEMP-DISABLED reason=WRONG_KEY   -> AUTH_ERROR
 *   CTRL-EVENT-AUTH-REJECT ... auth_type=3 (SAE)     -> AUTH_ERROR (at the first reject,
 *                                                      not ~22 s later at CONN_FAILED)
 *   CTRL-EVENT-SSID-TEMP-DISABLED reason=CONN_FAILED -> AUTH_ERROR for SAE, else OTHER
 *   CTRL-EVENT-NETWORK-NOT-FOUND (first one)         -> NETWORK_NOT_FOUND
 *   no result within CONNECT_TIMEOUT_MS, no address  -> OTHER
 *   CTRL-EVENT-CONNECTED + an IPv4 address           -> CONNECTED
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include <wpa_ctrl.h>

#include "util.h"
#include "wifi/backend.h"
#include "wifi/wifiutil.h"

#define DEFAULT_CTRL_DIR "/run/wpa_supplicant"
#define SCAN_TIMEOUT_MS 20000u
#define CONNECT_TIMEOUT_MS 60000u
#define SAVED_TIMEOUT_MS 45000u
#define IP_POLL_MS 200u
#define IP_TIMEOUT_MS 30000u
#define HOOK_GRACE_MS 8000u /* a hook that has not returned by then is taken as a running client */
#define STALE_GRACE_MS 5000u /* without a hook: the address from before the attempt counts after this */
#define REOPEN_MS 2000u
#define MAX_APS 64
#define MAX_PREV 64
#define REPLY_CAP 8192

enum conn_state {
    CONN_IDLE,       /* nothing of ours is being followed */
    CONN_CONNECTING, /* our network selected, waiting for CTRL-EVENT-CONNECTED or a failure */
    CONN_WAIT_IP,    /* associated, waiting for an IPv4 address */
    CONN_CONNECTED,  /* reported CONNECTED */
    CONN_SAVED_WAIT, /* start-up: waiting for the supplicant to autoconnect */
    CONN_LOST,       /* was connected, link dropped; the supplicant reconnects by itself */
};

static const char *conn_state_to_string(enum conn_state s)
{
    switch (s) {
    case CONN_IDLE: return "idle";
    case CONN_CONNECTING: return "connecting";
    case CONN_WAIT_IP: return "wait-ip";
    case CONN_CONNECTED: return "connected";
    case CONN_SAVED_WAIT: return "saved-wait";
    case CONN_LOST: return "lost";
    }
    return "?";
}

struct wpa {
    struct wifiprov_backend base;
    sd_event *event;
    void (*scan_done_fn)(void *ctx, int err, const struct wifiprov_ap *aps, size_t n);
    void (*wifi_event_fn)(void *ctx, const struct wifiprov_wifi_event *ev);
    void *cb_ctx;
    char *ifname;
    char *path; /* control socket */
    char *dhcp_hook;

    struct wpa_ctrl *ctrl;
    struct wpa_ctrl *mon;
    sd_event_source *mon_src;
    sd_event_source *reopen_timer;

    bool scanning;
    sd_event_source *scan_timer;
    struct wifiprov_ap aps[MAX_APS];
    size_t n_aps;

    enum conn_state conn;
    sd_event_source *conn_timer;
    sd_event_source *ip_timer;
    uint32_t ip_polls;
    bool hook_ran;
    int hook_pid; /* the DHCP hook still running, or -1 */
    char stale_ip[WIFIPROV_IP4_MAX]; /* the address before our attempt (another network's lease) */
    int our_id;          /* network id of our attempt or of the committed network; -1 none */
    bool committed;      /* our_id was committed (or came from the saved configuration) */
    bool auto_commit;    /* connect_saved fell back to a fresh attempt: commit it on success */
    bool sae;            /* our attempt uses SAE */
    uint8_t ssid[WIFIPROV_SSID_MAX];
    uint8_t ssid_len;
    int prev[MAX_PREV]; /* networks enabled before our SELECT_NETWORK */
    size_t n_prev;
    enum wifiprov_fail_reason saved_reason; /* connect_saved: what was seen while waiting */
    bool saved_seen_failure;
    struct wifiprov__reports reports;
};

static void conn_enter(struct wpa *w, enum conn_state s)
{
    if (w->conn != s)
        wifiprov__dbg("wpa_supplicant: %s -> %s", conn_state_to_string(w->conn), conn_state_to_string(s));
    w->conn = s;
}

/* One request. Commands carrying a secret pass @p secret so they are never logged. */
static int request(struct wpa *w, const char *cmd, bool secret, char *reply, size_t cap)
{
    size_t len = cap - 1;
    int r;

    if (!w->ctrl)
        return WIFIPROV_ERR_IO;
    if (!secret)
        wifiprov__dbg("wpa_supplicant: > %s", cmd);
    r = wpa_ctrl_request(w->ctrl, cmd, strlen(cmd), reply, &len, NULL);
    if (r == -2) {
        wifiprov__err("wpa_supplicant: request timed out");
        return WIFIPROV_ERR_TIMEOUT;
    }
    if (r < 0) {
        wifiprov__err("wpa_supplicant: request failed (is wpa_supplicant still running?)");
        return WIFIPROV_ERR_IO;
    }
    reply[len] = '\0';
    return 0;
}

/* A request whose answer must be "OK". */
static int request_ok(struct wpa *w, const char *cmd, bool secret)
{
    char reply[64];
    int r = request(w, cmd, secret, reply, sizeof(reply));

    if (r)
        return r;
    if (strncmp(reply, "OK", 2)) {
        wifiprov__warn("wpa_supplicant: %s: %.*s", secret ? "(request with a secret)" : cmd,
                       (int)strcspn(reply, "\n"), reply);
        return WIFIPROV_ERR_WIFI;
    }
    return 0;
}

static int requestf_ok(struct wpa *w, const char *fmt, ...) WIFIPROV_PRINTF(2, 3);
static int requestf_ok(struct wpa *w, const char *fmt, ...)
{
    char cmd[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        return WIFIPROV_ERR_INVAL;
    return request_ok(w, cmd, false);
}

/* SET_NETWORK <id> <field> "<secret>", wiped afterwards. */
static int set_secret(struct wpa *w, const char *field, const char *secret)
{
    char cmd[160];
    int n, r;

    n = snprintf(cmd, sizeof(cmd), "SET_NETWORK %d %s \"%s\"", w->our_id, field, secret);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        r = WIFIPROV_ERR_INVAL;
    else
        r = request_ok(w, cmd, true);
    wifiprov_memzero(cmd, sizeof(cmd));
    return r;
}

/* ---- reports ------------------------------------------------------------------- */

static void report(struct wpa *w, enum wifiprov_wifi_event_type type, enum wifiprov_fail_reason reason)
{
    struct wifiprov_wifi_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.reason = reason;
    w->wifi_event_fn(w->cb_ctx, &ev);
}

static void stop_conn_timers(struct wpa *w)
{
    w->conn_timer = sd_event_source_disable_unref(w->conn_timer);
    w->ip_timer = sd_event_source_disable_unref(w->ip_timer);
}

/* Removes our uncommitted network and enables again what SELECT_NETWORK disabled. */
static void drop_ours(struct wpa *w)
{
    if (w->our_id >= 0 && !w->committed) {
        if (requestf_ok(w, "REMOVE_NETWORK %d", w->our_id))
            wifiprov__warn("wpa_supplicant: could not remove network %d", w->our_id);
        else
            wifiprov__info("wpa_supplicant: removed our network %d", w->our_id);
        w->our_id = -1;
    }
    for (size_t i = 0; i < w->n_prev; i++)
        if (requestf_ok(w, "ENABLE_NETWORK %d", w->prev[i]))
            wifiprov__warn("wpa_supplicant: could not enable network %d again", w->prev[i]);
    w->n_prev = 0;
    w->auto_commit = false;
}

static void fail_attempt(struct wpa *w, enum wifiprov_fail_reason reason, const char *why)
{
    wifiprov__info("wpa_supplicant: attempt failed: %s -> %s", why, wifiprov_fail_reason_to_string(reason));
    stop_conn_timers(w);
    if (w->committed) {
        /* The saved network: leave it configured; the supplicant keeps trying. */
        w->our_id = -1;
        w->committed = false;
    }
    drop_ours(w);
    conn_enter(w, CONN_IDLE);
    report(w, WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED, reason);
}

/* ---- scanning ------------------------------------------------------------------ */

static void refresh_scan_cache(struct wpa *w)
{
    char *reply = wifiprov__malloc(REPLY_CAP);

    if (!reply)
        return;
    if (request(w, "SCAN_RESULTS", false, reply, REPLY_CAP) == 0)
        w->n_aps = wifiprov__wifiutil_parse_scan_results(reply, w->aps, MAX_APS);
    wifiprov__free(reply);
}

static void scan_finish(struct wpa *w, int err)
{
    w->scanning = false;
    w->scan_timer = sd_event_source_disable_unref(w->scan_timer);
    wifiprov__dbg("wpa_supplicant: scan done, %zu networks", w->n_aps);
    w->scan_done_fn(w->cb_ctx, err, w->aps, w->n_aps);
}

static int scan_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct wpa *w = userdata;

    /* No CTRL-EVENT-SCAN-RESULTS in time: answer with what the supplicant knows. */
    refresh_scan_cache(w);
    wifiprov__warn("wpa_supplicant: scan did not finish in %u ms", SCAN_TIMEOUT_MS);
    scan_finish(w, w->n_aps ? 0 : WIFIPROV_ERR_TIMEOUT);
    return 0;
}

static int wpa_scan_start(void *ctx, const struct wifiprov_scan_opts *opts)
{
    struct wpa *w = ctx;
    char reply[64];
    int r;

    if (w->scanning)
        return 0; /* the running scan's results will be reported */
    r = request(w, opts && opts->passive ? "SCAN passive=1" : "SCAN", false, reply, sizeof(reply));
    if (r == 0 && opts && opts->passive && !strncmp(reply, "FAIL", 4) && strncmp(reply, "FAIL-BUSY", 9))
        r = request(w, "SCAN", false, reply, sizeof(reply)); /* a supplicant without passive=1 */
    if (r)
        return r;
    /* FAIL-BUSY: a scan is already running (ours or the supplicant's): wait for it. */
    if (strncmp(reply, "OK", 2) && strncmp(reply, "FAIL-BUSY", 9)) {
        wifiprov__err("wpa_supplicant: SCAN: %.*s", (int)strcspn(reply, "\n"), reply);
        return WIFIPROV_ERR_WIFI;
    }
    r = wifiprov__wifiutil_timer(w->event, &w->scan_timer, SCAN_TIMEOUT_MS, scan_timeout, w);
    if (r)
        return r;
    w->scanning = true;
    return 0;
}

/* ---- connecting ---------------------------------------------------------------- */

static const struct wifiprov_ap *cached_ap(const struct wpa *w, const uint8_t *ssid, size_t len)
{
    /* The cache is sorted strongest first. */
    for (size_t i = 0; i < w->n_aps; i++)
        if (w->aps[i].ssid_len == len && !memcmp(w->aps[i].ssid, ssid, len))
            return &w->aps[i];
    return NULL;
}

/* Remembers which networks are enabled now (LIST_NETWORKS: id, ssid, bssid, flags). */
static int remember_enabled(struct wpa *w)
{
    char *reply = wifiprov__malloc(REPLY_CAP);
    const char *p;
    int r;

    if (!reply)
        return WIFIPROV_ERR_NOMEM;
    w->n_prev = 0;
    r = request(w, "LIST_NETWORKS", false, reply, REPLY_CAP);
    if (r)
        goto out;
    p = strchr(reply, '\n'); /* skip the header */
    while (p && *++p) {
        const char *nl = strchr(p, '\n');
        const char *last_tab;
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *end;
        long id = strtol(p, &end, 10);

        last_tab = memrchr(p, '\t', len);
        if (end != p && last_tab && !memmem(last_tab, len - (size_t)(last_tab - p), "[DISABLED]", 10) &&
            id != w->our_id && w->n_prev < MAX_PREV)
            w->prev[w->n_prev++] = (int)id;
        p = nl;
    }
out:
    wifiprov__free(reply);
    return r;
}

static int connect_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct wpa *w = userdata;

    w->conn_timer = sd_event_source_disable_unref(w->conn_timer);
    if (w->conn == CONN_SAVED_WAIT) {
        fail_attempt(w, w->saved_seen_failure ? w->saved_reason : WIFIPROV_FAIL_REASON_OTHER,
                     "the saved network did not connect in time");
        return 0;
    }
    fail_attempt(w, WIFIPROV_FAIL_REASON_OTHER, "no outcome in time");
    return 0;
}

/* Configures the network @p w->our_id for @p creds. */
static int configure(struct wpa *w, const struct wifiprov_wifi_creds *creds)
{
    const struct wifiprov_ap *ap = cached_ap(w, creds->ssid, creds->ssid_len);
    uint32_t auth = ap ? ap->auth : UINT32_MAX;
    char hex[2 * WIFIPROV_SSID_MAX + 1];
    bool psk_ok = creds->passphrase_len >= 8 && creds->passphrase_len <= 63;
    int r;

    for (size_t i = 0; i < creds->passphrase_len; i++)
        if ((unsigned char)creds->passphrase[i] < 0x20 || creds->passphrase[i] == 0x7f)
            return WIFIPROV_ERR_BAD_CRED;
    wifiprov__hex_encode(creds->ssid, creds->ssid_len, hex);
    r = requestf_ok(w, "SET_NETWORK %d ssid %s", w->our_id, hex);
    if (r)
        return r;
    if (!ap)
        /* Not seen by a scan: maybe hidden, so probe for it by name. */
        (void)requestf_ok(w, "SET_NETWORK %d scan_ssid 1", w->our_id);
    w->sae = false;
    if (creds->passphrase_len == 0)
        return requestf_ok(w, "SET_NETWORK %d key_mgmt NONE", w->our_id);
    switch (auth) {
    case WIFIPROV_AUTH_MODE_WEP:
        if ((r = requestf_ok(w, "SET_NETWORK %d key_mgmt NONE", w->our_id)) ||
            (r = set_secret(w, "wep_key0", creds->passphrase)))
            return r == WIFIPROV_ERR_WIFI ? WIFIPROV_ERR_BAD_CRED : r;
        return requestf_ok(w, "SET_NETWORK %d auth_alg OPEN SHARED", w->our_id);
    case WIFIPROV_AUTH_MODE_WPA3_PSK:
        w->sae = true;
        if ((r = requestf_ok(w, "SET_NETWORK %d key_mgmt SAE", w->our_id)) ||
            (r = requestf_ok(w, "SET_NETWORK %d ieee80211w 2", w->our_id)))
            return r;
        return set_secret(w, "sae_password", creds->passphrase);
    case WIFIPROV_AUTH_MODE_WPA_PSK:
    case WIFIPROV_AUTH_MODE_WPA2_PSK:
    case WIFIPROV_AUTH_MODE_WPA_WPA2_PSK:
        if (!psk_ok)
            return WIFIPROV_ERR_BAD_CRED; /* a WPA passphrase has 8..63 characters */
        if ((r = requestf_ok(w, "SET_NETWORK %d key_mgmt WPA-PSK", w->our_id)))
            return r;
        return set_secret(w, "psk", creds->passphrase);
    default:
        /* WPA2/WPA3 mixed, not seen, or a network we cannot tell (an open one seen with a
         * passphrase given counts as a different network): accept PSK or SAE. */
        w->sae = !psk_ok;
        if ((r = requestf_ok(w, "SET_NETWORK %d key_mgmt %s", w->our_id, psk_ok ? "WPA-PSK SAE" : "SAE")) ||
            (r = requestf_ok(w, "SET_NETWORK %d ieee80211w %d", w->our_id, psk_ok ? 1 : 2)))
            return r;
        if (psk_ok && (r = set_secret(w, "psk", creds->passphrase)))
            return r;
        return set_secret(w, "sae_password", creds->passphrase);
    }
}

static int start_attempt(struct wpa *w, const struct wifiprov_wifi_creds *creds)
{
    char reply[32];
    char *end;
    int r;

    /* A new attempt replaces an unfinished one of ours. */
    stop_conn_timers(w);
    wifiprov__reports_clear(&w->reports);
    if (!w->committed) {
        drop_ours(w);
    } else {
        w->our_id = -1;
        w->committed = false;
    }
    conn_enter(w, CONN_IDLE);

    r = remember_enabled(w);
    if (r)
        return r;
    r = request(w, "ADD_NETWORK", false, reply, sizeof(reply));
    if (r)
        return r;
    w->our_id = (int)strtol(reply, &end, 10);
    if (end == reply) {
        w->our_id = -1;
        wifiprov__err("wpa_supplicant: ADD_NETWORK: %.*s", (int)strcspn(reply, "\n"), reply);
        return WIFIPROV_ERR_WIFI;
    }
    memcpy(w->ssid, creds->ssid, creds->ssid_len);
    w->ssid_len = creds->ssid_len;
    w->hook_ran = false;
    /* Whoever runs DHCP (not us, without a hook) replaces this lease after associating. */
    if (!wifiprov__wifiutil_ipv4_of(w->ifname, w->stale_ip))
        w->stale_ip[0] = '\0';
    r = configure(w, creds);
    if (r == WIFIPROV_ERR_BAD_CRED) {
        /* The passphrase cannot be right for this network: an auth error, reported like one. */
        wifiprov__info("wpa_supplicant: passphrase not usable for this network -> AuthError");
        drop_ours(w);
        return wifiprov__reports_post(&w->reports, WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED,
                                      WIFIPROV_FAIL_REASON_AUTH_ERROR);
    }
    if (r == 0)
        r = requestf_ok(w, "SELECT_NETWORK %d", w->our_id);
    if (r == 0)
        r = wifiprov__wifiutil_timer(w->event, &w->conn_timer, CONNECT_TIMEOUT_MS, connect_timeout, w);
    if (r) {
        drop_ours(w);
        return r;
    }
    wifiprov__info("wpa_supplicant: connecting with network %d%s", w->our_id, w->sae ? " (SAE)" : "");
    conn_enter(w, CONN_CONNECTING);
    return wifiprov__reports_post(&w->reports, WIFIPROV_WIFI_EVENT_CONNECTING, WIFIPROV_FAIL_REASON_OTHER);
}

static int wpa_connect(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct wpa *w = ctx;

    if (!creds || creds->ssid_len == 0 || creds->ssid_len > WIFIPROV_SSID_MAX)
        return WIFIPROV_ERR_INVAL;
    return start_attempt(w, creds);
}

/* ---- connected: address, status ------------------------------------------------ */

/* Reads network @p id's SSID (GET_NETWORK: "text" in quotes, or hex) into w->ssid.
 * @return true when it could. */
static bool network_ssid(struct wpa *w, int id)
{
    char cmd[48], val[2 * WIFIPROV_SSID_MAX + 8];
    size_t len, n;

    snprintf(cmd, sizeof(cmd), "GET_NETWORK %d ssid", id);
    if (request(w, cmd, false, val, sizeof(val)))
        return false;
    len = strcspn(val, "\n");
    val[len] = '\0';
    if (len >= 2 && val[0] == '"' && val[len - 1] == '"') {
        if (len - 2 > WIFIPROV_SSID_MAX)
            return false;
        memcpy(w->ssid, val + 1, len - 2);
        w->ssid_len = (uint8_t)(len - 2);
        return true;
    }
    if (wifiprov__hex_decode(val, w->ssid, WIFIPROV_SSID_MAX, &n))
        return false;
    w->ssid_len = (uint8_t)n;
    return true;
}

static void report_connected(struct wpa *w, const char *ip)
{
    struct wifiprov_wifi_event ev;
    char *status = wifiprov__malloc(REPLY_CAP);
    char val[64];
    uint8_t bssid[6];
    bool have_bssid = false;
    const struct wifiprov_ap *ap = NULL;

    memset(&ev, 0, sizeof(ev));
    ev.type = WIFIPROV_WIFI_EVENT_CONNECTED;
    ev.ip4 = ip;
    ev.ssid = w->ssid;
    ev.ssid_len = w->ssid_len;
    ev.auth = UINT32_MAX;
    if (status && request(w, "STATUS", false, status, REPLY_CAP) == 0) {
        if (wifiprov__wifiutil_kv(status, "bssid", val, sizeof(val)) &&
            wifiprov__wifiutil_parse_mac(val, bssid) == 0)
            have_bssid = true;
        if (wifiprov__wifiutil_kv(status, "freq", val, sizeof(val)))
            ev.channel = (int32_t)wifiprov__wifiutil_freq_to_channel((uint32_t)strtoul(val, NULL, 10));
        if (wifiprov__wifiutil_kv(status, "key_mgmt", val, sizeof(val)))
            ev.auth = wifiprov__wifiutil_auth_from_key_mgmt(val);
        /* A saved network (start-up, or a reconnect): its own SSID, which may differ from
         * the stored one when several networks are configured. STATUS prints it as text
         * (unprintable bytes escaped), so that is only the fallback. */
        if (w->committed && !(wifiprov__wifiutil_kv(status, "id", val, sizeof(val)) &&
                              network_ssid(w, (int)strtol(val, NULL, 10))) &&
            wifiprov__wifiutil_kv(status, "ssid", val, sizeof(val))) {
            uint8_t len;

            if (wifiprov__wifiutil_ssid_unescape(val, strlen(val), w->ssid, &len) == 0)
                w->ssid_len = len;
        }
        ev.ssid_len = w->ssid_len;
    }
    wifiprov__free(status);
    if (have_bssid) {
        ev.bssid = bssid;
        for (size_t i = 0; i < w->n_aps && !ap; i++)
            if (!memcmp(w->aps[i].bssid, bssid, 6))
                ap = &w->aps[i];
    }
    if (!ap)
        ap = cached_ap(w, w->ssid, w->ssid_len);
    /* The scan's view of the AP (e.g. WPA2/WPA3 mixed) is what ESP-IDF reports. */
    if (ap)
        ev.auth = ap->auth;
    if (ev.auth == UINT32_MAX)
        ev.auth = WIFIPROV_AUTH_MODE_OPEN;
    wifiprov__info("wpa_supplicant: connected, address %s, channel %d", ip, (int)ev.channel);
    conn_enter(w, CONN_CONNECTED);
    w->wifi_event_fn(w->cb_ctx, &ev);
}

static int ip_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct wpa *w = userdata;
    char ip[WIFIPROV_IP4_MAX];
    bool hook_busy = false;

    if (w->conn != CONN_WAIT_IP)
        return 0;
    ++w->ip_polls;
    if (w->hook_pid > 0) {
        int status;

        if (wifiprov__wifiutil_hook_done(w->hook_pid, &status)) {
            wifiprov__dbg("wpa_supplicant: DHCP hook exited with %d", status);
            w->hook_pid = -1;
        } else {
            /* The address from before this association may still be there until the hook
             * has renewed or removed it. */
            hook_busy = w->ip_polls * IP_POLL_MS < HOOK_GRACE_MS;
        }
    }
    if (!hook_busy && wifiprov__wifiutil_ipv4_of(w->ifname, ip) &&
        (w->dhcp_hook || strcmp(ip, w->stale_ip) || w->ip_polls * IP_POLL_MS >= STALE_GRACE_MS)) {
        bool commit_now = w->auto_commit;

        stop_conn_timers(w);
        report_connected(w, ip);
        if (commit_now && w->conn == CONN_CONNECTED)
            (void)w->base.ops->commit(w, NULL);
        return 0;
    }
    if (w->ip_polls * IP_POLL_MS >= IP_TIMEOUT_MS) {
        fail_attempt(w, WIFIPROV_FAIL_REASON_OTHER, "associated but no IPv4 address");
        return 0;
    }
    if (wifiprov__wifiutil_timer(w->event, &w->ip_timer, IP_POLL_MS, ip_poll, w))
        fail_attempt(w, WIFIPROV_FAIL_REASON_OTHER, "timer");
    return 0;
}

static void enter_wait_ip(struct wpa *w)
{
    conn_enter(w, CONN_WAIT_IP);
    w->ip_polls = 0;
    if (w->dhcp_hook && !w->hook_ran) {
        w->hook_ran = true;
        if (w->hook_pid > 0) {
            int status;

            /* An earlier hook still running: leave it; it will be reaped by its session. */
            (void)wifiprov__wifiutil_hook_done(w->hook_pid, &status);
            w->hook_pid = -1;
        }
        wifiprov__info("wpa_supplicant: running the DHCP hook for %s", w->ifname);
        if (wifiprov__wifiutil_run_hook(w->dhcp_hook, w->ifname, &w->hook_pid))
            wifiprov__warn("wpa_supplicant: could not run the DHCP hook");
    } else if (!w->dhcp_hook) {
        wifiprov__dbg("wpa_supplicant: waiting for an address on %s (no DHCP hook set)", w->ifname);
    }
    if (wifiprov__wifiutil_timer(w->event, &w->ip_timer, w->dhcp_hook ? IP_POLL_MS : 0, ip_poll, w))
        fail_attempt(w, WIFIPROV_FAIL_REASON_OTHER, "timer");
}

/* ---- events -------------------------------------------------------------------- */

/* The value of "name=" inside an event line, as a number; -1 when absent. */
static long event_num(const char *line, const char *name)
{
    const char *p = line;
    size_t n = strlen(name);

    while ((p = strstr(p, name)) != NULL) {
        if ((p == line || p[-1] == ' ' || p[-1] == '[') && p[n] == '=')
            return strtol(p + n + 1, NULL, 10);
        p += n;
    }
    return -1;
}

static bool attempt_active(const struct wpa *w)
{
    return w->conn == CONN_CONNECTING || w->conn == CONN_WAIT_IP;
}

/* A failure event ends our attempt when it is ours; while waiting for the saved network it is remembered. */
static void attempt_failure(struct wpa *w, bool ours, enum wifiprov_fail_reason reason, const char *line)
{
    if (ours) {
        fail_attempt(w, reason, line);
    } else if (w->conn == CONN_SAVED_WAIT) {
        w->saved_seen_failure = true;
        w->saved_reason = reason;
    }
}

static void handle_event(struct wpa *w, const char *line)
{
    if (!strncmp(line, "CTRL-EVENT-SCAN-RESULTS", 23)) {
        refresh_scan_cache(w);
        if (w->scanning)
            scan_finish(w, 0);
    } else if (!strncmp(line, "CTRL-EVENT-CONNECTED", 20)) {
        long id = event_num(line, "id");

        if (w->conn == CONN_SAVED_WAIT || (w->conn == CONN_LOST && (id == w->our_id || w->our_id < 0))) {
            w->our_id = (int)id;
            w->committed = true;
            w->conn_timer = sd_event_source_disable_unref(w->conn_timer);
            enter_wait_ip(w);
        } else if (w->conn == CONN_CONNECTING && id == w->our_id) {
            wifiprov__info("wpa_supplicant: associated with network %ld", id);
            enter_wait_ip(w);
        }
    } else if (!strncmp(line, "CTRL-EVENT-DISCONNECTED", 23)) {
        if (w->conn == CONN_CONNECTED) {
            wifiprov__info("wpa_supplicant: link lost (%s)", line + 23);
            w->hook_ran = false;
            conn_enter(w, CONN_LOST);
            report(w, WIFIPROV_WIFI_EVENT_DISCONNECTED, WIFIPROV_FAIL_REASON_OTHER);
        } else if (w->conn == CONN_WAIT_IP) {
            /* Lost before an address: the supplicant retries; keep the attempt's deadline. */
            w->ip_timer = sd_event_source_disable_unref(w->ip_timer);
            w->hook_ran = false;
            conn_enter(w, w->committed ? CONN_LOST : CONN_CONNECTING);
        }
    } else if (!strncmp(line, "CTRL-EVENT-SSID-TEMP-DISABLED", 29)) {
        long id = event_num(line, "id");
        bool wrong_key = strstr(line, "reason=WRONG_KEY") != NULL;
        enum wifiprov_fail_reason reason = wrong_key || (w->sae && strstr(line, "reason=CONN_FAILED"))
                                               ? WIFIPROV_FAIL_REASON_AUTH_ERROR
                                               : WIFIPROV_FAIL_REASON_OTHER;

        attempt_failure(w, attempt_active(w) && id == w->our_id && !w->committed, reason, line);
    } else if (!strncmp(line, "CTRL-EVENT-AUTH-REJECT", 22)) {
        long status = event_num(line, "status_code");

        /* 76: the AP asks for an anti-clogging token; the supplicant answers it. */
        if (event_num(line, "auth_type") == 3 && status != 76)
            attempt_failure(w, w->conn == CONN_CONNECTING && !w->committed, WIFIPROV_FAIL_REASON_AUTH_ERROR, line);
    } else if (!strncmp(line, "CTRL-EVENT-NETWORK-NOT-FOUND", 28)) {
        attempt_failure(w, w->conn == CONN_CONNECTING && !w->committed, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND,
                        line);
    } else if (!strncmp(line, "CTRL-EVENT-TERMINATING", 22)) {
        wifiprov__err("wpa_supplicant: the supplicant is terminating");
    }
}

static void close_sockets(struct wpa *w);
static int open_sockets(struct wpa *w, bool probe);

static int reopen(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct wpa *w = userdata;

    if (open_sockets(w, true) == 0) {
        wifiprov__info("wpa_supplicant: control interface is back");
        w->reopen_timer = sd_event_source_disable_unref(w->reopen_timer);
        return 0;
    }
    (void)wifiprov__wifiutil_timer(w->event, &w->reopen_timer, REOPEN_MS, reopen, w);
    return 0;
}

static void lost_supplicant(struct wpa *w)
{
    enum conn_state was = w->conn;

    wifiprov__err("wpa_supplicant: lost the control interface %s; retrying every %u ms", w->path, REOPEN_MS);
    close_sockets(w);
    stop_conn_timers(w);
    w->our_id = -1;
    w->committed = false;
    w->n_prev = 0;
    conn_enter(w, CONN_IDLE);
    if (w->scanning)
        scan_finish(w, WIFIPROV_ERR_IO);
    (void)wifiprov__wifiutil_timer(w->event, &w->reopen_timer, REOPEN_MS, reopen, w);
    if (was == CONN_CONNECTING || was == CONN_WAIT_IP || was == CONN_SAVED_WAIT)
        report(w, WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED, WIFIPROV_FAIL_REASON_OTHER);
    else if (was == CONN_CONNECTED)
        report(w, WIFIPROV_WIFI_EVENT_DISCONNECTED, WIFIPROV_FAIL_REASON_OTHER);
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct wpa *w = userdata;
    char buf[4096];

    if (revents & (EPOLLERR | EPOLLHUP)) {
        lost_supplicant(w);
        return 0;
    }
    while (w->mon && wpa_ctrl_pending(w->mon) > 0) {
        size_t len = sizeof(buf) - 1;
        const char *line = buf;
        bool terminating;

        if (wpa_ctrl_recv(w->mon, buf, &len) < 0) {
            lost_supplicant(w);
            return 0;
        }
        buf[len] = '\0';
        /* "<3>CTRL-EVENT-..." : drop the priority prefix. */
        if (line[0] == '<' && strchr(line, '>'))
            line = strchr(line, '>') + 1;
        wifiprov__dbg("wpa_supplicant: < %s", line);
        terminating = !strncmp(line, "CTRL-EVENT-TERMINATING", 22);
        handle_event(w, line);
        if (terminating) {
            lost_supplicant(w);
            return 0;
        }
    }
    return 0;
}

/* ---- the other operations ------------------------------------------------------ */

static int wpa_disconnect(void *ctx)
{
    struct wpa *w = ctx;
    enum conn_state was = w->conn;

    stop_conn_timers(w);
    wifiprov__reports_clear(&w->reports);
    conn_enter(w, CONN_IDLE);
    if (!w->committed && w->our_id >= 0) {
        drop_ours(w);
        return 0;
    }
    if (was == CONN_CONNECTED || was == CONN_WAIT_IP || was == CONN_LOST || was == CONN_SAVED_WAIT)
        return requestf_ok(w, "DISCONNECT");
    return 0;
}

/* Removes the other networks with our SSID (older credentials for the same network). */
static void remove_same_ssid(struct wpa *w)
{
    char *reply = wifiprov__malloc(REPLY_CAP);
    char val[256];

    if (!reply)
        return;
    if (request(w, "LIST_NETWORKS", false, reply, REPLY_CAP) == 0) {
        const char *p = strchr(reply, '\n');

        while (p && *++p) {
            const char *start = p;
            char *end;
            long id = strtol(start, &end, 10);
            char cmd[48];

            p = strchr(p, '\n');
            if (end == start || id == w->our_id)
                continue;
            snprintf(cmd, sizeof(cmd), "GET_NETWORK %ld ssid", id);
            if (request(w, cmd, false, val, sizeof(val)))
                continue;
            /* GET_NETWORK answers "text" in quotes, or hex for unprintable SSIDs. */
            {
                char want[2 * WIFIPROV_SSID_MAX + 3];
                int n = snprintf(want, sizeof(want), "\"%.*s\"", (int)w->ssid_len, (const char *)w->ssid);
                char hex[2 * WIFIPROV_SSID_MAX + 1];

                wifiprov__hex_encode(w->ssid, w->ssid_len, hex);
                if ((n > 0 && !strcmp(val, want)) || !strcmp(val, hex)) {
                    if (requestf_ok(w, "REMOVE_NETWORK %ld", id) == 0)
                        wifiprov__info("wpa_supplicant: removed network %ld (older entry for the same SSID)", id);
                    for (size_t i = 0; i < w->n_prev; i++)
                        if (w->prev[i] == (int)id)
                            w->prev[i] = -1;
                }
            }
        }
    }
    wifiprov__free(reply);
}

/* The highest priority among the configured networks (0 when none is set). */
static long max_priority(struct wpa *w)
{
    char *reply = wifiprov__malloc(REPLY_CAP);
    long max = 0;

    if (!reply)
        return 0;
    if (request(w, "LIST_NETWORKS", false, reply, REPLY_CAP) == 0) {
        const char *p = strchr(reply, '\n');

        while (p && *++p) {
            const char *start = p;
            char *end;
            long id = strtol(start, &end, 10);
            char cmd[48], val[32];

            p = strchr(p, '\n');
            if (end == start || id == w->our_id)
                continue;
            snprintf(cmd, sizeof(cmd), "GET_NETWORK %ld priority", id);
            if (request(w, cmd, false, val, sizeof(val)) == 0 && strtol(val, NULL, 10) > max)
                max = strtol(val, NULL, 10);
        }
    }
    wifiprov__free(reply);
    return max;
}

static int wpa_commit(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct wpa *w = ctx;
    int r;

    if (w->our_id < 0 || w->conn != CONN_CONNECTED)
        return WIFIPROV_ERR_STATE;
    if (!w->committed) {
        remove_same_ssid(w);
        /* The network just provisioned is preferred to the older ones at the next start. */
        if (requestf_ok(w, "SET_NETWORK %d priority %ld", w->our_id, max_priority(w) + 1))
            wifiprov__warn("wpa_supplicant: could not raise the priority of network %d", w->our_id);
        /* Other networks stay configured and usable as before. */
        for (size_t i = 0; i < w->n_prev; i++)
            if (w->prev[i] >= 0 && requestf_ok(w, "ENABLE_NETWORK %d", w->prev[i]))
                wifiprov__warn("wpa_supplicant: could not enable network %d again", w->prev[i]);
        w->n_prev = 0;
        w->committed = true;
        w->auto_commit = false;
    }
    r = request_ok(w, "SAVE_CONFIG", false);
    if (r) {
        wifiprov__err("wpa_supplicant: SAVE_CONFIG failed: the network works now but is not saved "
                      "(the supplicant's configuration needs update_config=1 and a writable file)");
        return WIFIPROV_ERR_IO;
    }
    wifiprov__info("wpa_supplicant: network %d saved", w->our_id);
    return 0;
}

static int wpa_forget(void *ctx)
{
    struct wpa *w = ctx;

    if (w->committed || w->our_id < 0) {
        /* Nothing uncommitted; only re-enable what an attempt may have disabled. */
        if (!w->committed)
            drop_ours(w);
        return 0;
    }
    stop_conn_timers(w);
    wifiprov__reports_clear(&w->reports);
    drop_ours(w);
    conn_enter(w, CONN_IDLE);
    return 0;
}

static int wpa_connect_saved(struct wifiprov_backend *b, const struct wifiprov_wifi_creds *stored)
{
    struct wpa *w = b->ctx;
    char *status = wifiprov__malloc(REPLY_CAP);
    char state[32] = "", ip[WIFIPROV_IP4_MAX];
    int r;

    if (!status)
        return WIFIPROV_ERR_NOMEM;
    stop_conn_timers(w);
    w->ssid_len = 0;
    w->stale_ip[0] = '\0';
    if (stored && stored->ssid_len) {
        memcpy(w->ssid, stored->ssid, stored->ssid_len);
        w->ssid_len = stored->ssid_len;
    }
    r = request(w, "STATUS", false, status, REPLY_CAP);
    if (r)
        goto out;
    wifiprov__wifiutil_kv(status, "wpa_state", state, sizeof(state));
    w->saved_seen_failure = false;
    w->hook_ran = false;
    if (!strcmp(state, "COMPLETED")) {
        char id[16] = "";

        wifiprov__wifiutil_kv(status, "id", id, sizeof(id));
        w->our_id = id[0] ? atoi(id) : -1;
        w->committed = true;
        /* Already associated: an existing address needs no DHCP round. */
        w->hook_ran = wifiprov__wifiutil_ipv4_of(w->ifname, ip);
        r = wifiprov__wifiutil_timer(w->event, &w->conn_timer, IP_TIMEOUT_MS + 1000, connect_timeout, w);
        if (r == 0)
            enter_wait_ip(w);
        goto out;
    }
    {
        /* Does the supplicant know a network with this SSID? If not (never saved), start
         * a fresh attempt with the stored credentials and save it once it works. */
        bool known = true;

        if (stored && stored->ssid_len) {
            char *list = wifiprov__malloc(REPLY_CAP);
            char want[WIFIPROV_SSID_MAX + 3];

            snprintf(want, sizeof(want), "\t%.*s\t", (int)stored->ssid_len, (const char *)stored->ssid);
            known = list && request(w, "LIST_NETWORKS", false, list, REPLY_CAP) == 0 && strstr(list, want);
            wifiprov__free(list);
        }
        if (!known) {
            wifiprov__info("wpa_supplicant: the stored network is not configured in the supplicant; adding it");
            r = start_attempt(w, stored);
            w->auto_commit = r == 0;
            goto out;
        }
    }
    w->our_id = -1;
    w->committed = true;
    if (!strcmp(state, "DISCONNECTED") || !strcmp(state, "INACTIVE"))
        (void)request_ok(w, "RECONNECT", false);
    r = wifiprov__wifiutil_timer(w->event, &w->conn_timer, SAVED_TIMEOUT_MS, connect_timeout, w);
    if (r == 0)
        conn_enter(w, CONN_SAVED_WAIT);
out:
    wifiprov__free(status);
    return r;
}

static int wpa_get_mac(struct wifiprov_backend *b, uint8_t mac[6])
{
    struct wpa *w = b->ctx;
    char *status = wifiprov__malloc(REPLY_CAP);
    char val[32];
    int r;

    if (!status)
        return WIFIPROV_ERR_NOMEM;
    r = request(w, "STATUS", false, status, REPLY_CAP);
    if (r == 0)
        r = wifiprov__wifiutil_kv(status, "address", val, sizeof(val)) ? wifiprov__wifiutil_parse_mac(val, mac)
                                                                      : WIFIPROV_ERR_WIFI;
    wifiprov__free(status);
    return r;
}

static void close_sockets(struct wpa *w)
{
    w->mon_src = sd_event_source_disable_unref(w->mon_src);
    if (w->mon) {
        wpa_ctrl_detach(w->mon);
        wpa_ctrl_close(w->mon);
        w->mon = NULL;
    }
    if (w->ctrl) {
        wpa_ctrl_close(w->ctrl);
        w->ctrl = NULL;
    }
}

static int open_sockets(struct wpa *w, bool probe)
{
    /* Our end of each control socket: libwpa_client binds it in /tmp, which wpa_supplicant cannot
     * reach from a service with PrivateTmp=yes; under systemd with RuntimeDirectory= it goes there. */
    const char *cli = getenv("RUNTIME_DIRECTORY");
    int r = 0;

    if (cli && (!*cli || strchr(cli, ':')))
        cli = NULL;
    w->ctrl = cli ? wpa_ctrl_open2(w->path, cli) : wpa_ctrl_open(w->path);
    w->mon = w->ctrl ? (cli ? wpa_ctrl_open2(w->path, cli) : wpa_ctrl_open(w->path)) : NULL;
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
    if (wpa_ctrl_attach(w->mon) != 0) {
        wifiprov__err("wpa_supplicant: ATTACH failed on %s", w->path);
        r = WIFIPROV_ERR_IO;
        goto out;
    }
    if (sd_event_add_io(w->event, &w->mon_src, wpa_ctrl_get_fd(w->mon), EPOLLIN, on_monitor, w) < 0) {
        r = WIFIPROV_ERR_NOMEM;
        goto out;
    }
out:
    if (r)
        close_sockets(w);
    return r;
}

/* The one control socket in @p dir when no interface is named (p2p-dev-* ignored). */
static int find_socket(const char *dir, bool probe, char **ifname)
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

static void wpa_free(struct wifiprov_backend *b)
{
    struct wpa *w;

    if (!b)
        return;
    w = b->ctx;
    stop_conn_timers(w);
    wifiprov__reports_clear(&w->reports);
    /* An attempt still pending when the daemon stops is not left behind half-configured. */
    if (w->ctrl && w->our_id >= 0 && !w->committed)
        drop_ours(w);
    w->scan_timer = sd_event_source_disable_unref(w->scan_timer);
    w->reopen_timer = sd_event_source_disable_unref(w->reopen_timer);
    if (w->hook_pid > 0) {
        int status;

        (void)wifiprov__wifiutil_hook_done(w->hook_pid, &status);
    }
    close_sockets(w);
    sd_event_unref(w->event);
    wifiprov__free(w->ifname);
    wifiprov__free(w->path);
    wifiprov__free(w->dhcp_hook);
    wifiprov_memzero(w, sizeof(*w));
    wifiprov__free(w);
}

static const struct wifiprov_wifi_ops wpa_ops = {
    .scan_start = wpa_scan_start,
    .connect = wpa_connect,
    .disconnect = wpa_disconnect,
    .commit = wpa_commit,
    .forget = wpa_forget,
};

int wifiprov__backend_wpa_open(const struct wifiprov_backend_config *cfg, bool probe,
                               struct wifiprov_backend **out)
{
    struct wpa *w = NULL;
    const char *dir;
    size_t len;
    int r;

    if (!cfg || !cfg->event || !cfg->scan_done_fn || !cfg->wifi_event_fn || !out)
        return WIFIPROV_ERR_INVAL;
    *out = NULL;
    w = wifiprov__calloc(1, sizeof(*w));
    if (!w)
        return WIFIPROV_ERR_NOMEM;
    w->our_id = -1;
    w->hook_pid = -1;
    w->event = sd_event_ref(cfg->event);
    w->scan_done_fn = cfg->scan_done_fn;
    w->wifi_event_fn = cfg->wifi_event_fn;
    w->cb_ctx = cfg->ctx;
    w->reports.event = w->event;
    w->reports.fn = cfg->wifi_event_fn;
    w->reports.ctx = cfg->ctx;
    dir = cfg->wpa_ctrl_dir ? cfg->wpa_ctrl_dir : DEFAULT_CTRL_DIR;
    if (cfg->ifname) {
        w->ifname = wifiprov__strdup(cfg->ifname);
        r = w->ifname ? 0 : WIFIPROV_ERR_NOMEM;
    } else {
        r = find_socket(dir, probe, &w->ifname);
    }
    if (r)
        goto out;
    if (cfg->dhcp_hook && cfg->dhcp_hook[0] && !(w->dhcp_hook = wifiprov__strdup(cfg->dhcp_hook))) {
        r = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    len = strlen(dir) + strlen(w->ifname) + 2;
    w->path = wifiprov__malloc(len);
    if (!w->path) {
        r = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    snprintf(w->path, len, "%s/%s", dir, w->ifname);
    r = open_sockets(w, probe);
    if (r)
        goto out;
    w->base.name = "wpa_supplicant";
    w->base.ops = &wpa_ops;
    w->base.ctx = w;
    w->base.connect_saved = wpa_connect_saved;
    w->base.get_mac = wpa_get_mac;
    w->base.free = wpa_free;
    /* Start with what the supplicant already knows, so a scan-less connect can still
     * choose PSK or SAE. */
    refresh_scan_cache(w);
    wifiprov__info("wpa_supplicant: using %s", w->path);
    *out = &w->base;
    w = NULL;
out:
    if (w) {
        close_sockets(w);
        sd_event_unref(w->event);
        wifiprov__free(w->ifname);
        wifiprov__free(w->path);
        wifiprov__free(w->dhcp_hook);
        wifiprov__free(w);
    }
    return r;
}

int wifiprov_backend_wpa_new(const struct wifiprov_backend_config *cfg, struct wifiprov_backend **out)
{
    return wifiprov__backend_wpa_open(cfg, false, out);
}
