/*
 * Wi-Fi backend over wpa_supplicant's control interface (see wpa.h for how its files
 * divide the work; the attempt's states and deadline are the shared machine in attempt.c).
 *
 * A connection attempt adds a network of our own (tagged id_str "wifiprovd") and selects it.
 * SELECT_NETWORK disables every other network, so the ones enabled before are remembered (in
 * memory and on disk) and enabled again when our attempt fails or is dropped; they are never
 * removed. Only commit() saves the configuration (SAVE_CONFIG, which needs update_config=1 in
 * the supplicant's config).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wifi/backend.h"
#include "wifi/wifiutil.h"
#include "wifi/wpa.h"

#define DEFAULT_CTRL_DIR "/run/wpa_supplicant"
#define SCAN_TIMEOUT_MS 20000u
#define CONNECT_TIMEOUT_MS 60000u
#define SAVED_TIMEOUT_MS 45000u
#define IP_POLL_MS 200u
#define IP_TIMEOUT_MS 30000u
#define HOOK_GRACE_MS 8000u   /* a hook that has not returned by then is taken as a running client */
#define STALE_GRACE_MS 5000u  /* without a hook: the address from before the attempt counts after this */
#define SAVE_TIMEOUT_MS 5000u /* SAVE_CONFIG writes a file: more than an ordinary request */

/* SET_NETWORK <id> <field> "<secret>", wiped afterwards. */
static int set_secret(struct wpa *w, const char *field, const char *secret)
{
    char cmd[160];
    int n, r;

    n = snprintf(cmd, sizeof(cmd), "SET_NETWORK %d %s \"%s\"", w->our_id, field, secret);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        r = WIFIPROV_ERR_INVAL;
    else
        r = wifiprov__wpa_request_ok(w, cmd, true);
    wifiprov_memzero(cmd, sizeof(cmd));
    return r;
}

/* The attempt machine's release: removes our uncommitted network and enables again what
 * SELECT_NETWORK disabled. */
static void release(void *ctx, bool committed)
{
    struct wpa *w = ctx;

    w->ip_timer = sd_event_source_disable_unref(w->ip_timer);
    if (w->our_id >= 0 && !committed) {
        if (wifiprov__wpa_requestf_ok(w, "REMOVE_NETWORK %d", w->our_id))
            wifiprov__warn("wpa_supplicant: could not remove network %d", w->our_id);
        else
            wifiprov__info("wpa_supplicant: removed our network %d", w->our_id);
    }
    w->our_id = -1;
    for (size_t i = 0; i < w->n_prev; i++)
        if (w->prev[i] >= 0 && wifiprov__wpa_requestf_ok(w, "ENABLE_NETWORK %d", w->prev[i]))
            wifiprov__warn("wpa_supplicant: could not enable network %d again", w->prev[i]);
    if (w->n_prev) {
        w->n_prev = 0;
        (void)wifiprov__wpa_prev_save(w);
    }
}

/* ---- scanning ------------------------------------------------------------------ */

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

    (void)s;
    (void)usec;
    /* No CTRL-EVENT-SCAN-RESULTS in time: answer with what the supplicant knows. */
    wifiprov__wpa_refresh_aps(w);
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
    r = wifiprov__wpa_request(w, opts && opts->passive ? "SCAN passive=1" : "SCAN", false, reply, sizeof(reply), 0);
    if (r == 0 && opts && opts->passive && !strncmp(reply, "FAIL", 4) && strncmp(reply, "FAIL-BUSY", 9))
        r = wifiprov__wpa_request(w, "SCAN", false, reply, sizeof(reply), 0); /* no passive=1 support */
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

static void note_enabled(struct wpa *w, int id, const char *flags, void *ud)
{
    (void)ud;
    if (!strstr(flags, "[DISABLED]") && id != w->our_id && w->n_prev < WPA_MAX_PREV)
        w->prev[w->n_prev++] = id;
}

/* Remembers which networks are enabled now, on disk too (a kill must not leave them disabled). */
static int remember_enabled(struct wpa *w)
{
    int r;

    w->n_prev = 0;
    r = wifiprov__wpa_each_network(w, note_enabled, NULL);
    if (r == 0)
        r = wifiprov__wpa_prev_save(w);
    return r;
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
    r = wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d ssid %s", w->our_id, hex);
    if (r)
        return r;
    if (!ap)
        /* Not seen by a scan: maybe hidden, so probe for it by name. */
        (void)wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d scan_ssid 1", w->our_id);
    w->at.sae = false;
    if (creds->passphrase_len == 0)
        return wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d key_mgmt NONE", w->our_id);
    switch (auth) {
    case WIFIPROV_AUTH_MODE_WEP:
        if ((r = wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d key_mgmt NONE", w->our_id)) ||
            (r = set_secret(w, "wep_key0", creds->passphrase)))
            return r == WIFIPROV_ERR_WIFI ? WIFIPROV_ERR_BAD_CRED : r;
        return wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d auth_alg OPEN SHARED", w->our_id);
    case WIFIPROV_AUTH_MODE_WPA3_PSK:
        w->at.sae = true;
        if ((r = wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d key_mgmt SAE", w->our_id)) ||
            (r = wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d ieee80211w 2", w->our_id)))
            return r;
        return set_secret(w, "sae_password", creds->passphrase);
    case WIFIPROV_AUTH_MODE_WPA_PSK:
    case WIFIPROV_AUTH_MODE_WPA2_PSK:
    case WIFIPROV_AUTH_MODE_WPA_WPA2_PSK:
        if (!psk_ok)
            return WIFIPROV_ERR_BAD_CRED; /* a WPA passphrase has 8..63 characters */
        if ((r = wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d key_mgmt WPA-PSK", w->our_id)))
            return r;
        return set_secret(w, "psk", creds->passphrase);
    default:
        /* WPA2/WPA3 mixed, not seen, or a network we cannot tell (an open one seen with a
         * passphrase given counts as a different network): accept PSK or SAE. */
        w->at.sae = !psk_ok;
        if ((r = wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d key_mgmt %s", w->our_id,
                                           psk_ok ? "WPA-PSK SAE" : "SAE")) ||
            (r = wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d ieee80211w %d", w->our_id, psk_ok ? 1 : 2)))
            return r;
        if (psk_ok && (r = set_secret(w, "psk", creds->passphrase)))
            return r;
        return set_secret(w, "sae_password", creds->passphrase);
    }
}

static int wpa_connect(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct wpa *w = ctx;
    char reply[32];
    char *end;
    int r;

    if (!creds || creds->ssid_len == 0 || creds->ssid_len > WIFIPROV_SSID_MAX)
        return WIFIPROV_ERR_INVAL;
    /* A new attempt replaces an unfinished one of ours; a committed network stays. */
    r = wifiprov__attempt_begin(&w->at, creds, CONNECT_TIMEOUT_MS, WIFIPROV__ATTEMPT_STATE_CONNECTING);
    if (r)
        goto out;
    r = remember_enabled(w);
    if (r)
        goto out;
    r = wifiprov__wpa_request(w, "ADD_NETWORK", false, reply, sizeof(reply), 0);
    if (r)
        goto out;
    w->our_id = (int)strtol(reply, &end, 10);
    if (end == reply) {
        w->our_id = -1;
        wifiprov__err("wpa_supplicant: ADD_NETWORK: %.*s", (int)strcspn(reply, "\n"), reply);
        r = WIFIPROV_ERR_WIFI;
        goto out;
    }
    /* Tagged at once: a run killed from here on leaves a network the next start removes. */
    r = wifiprov__wpa_tag(w, w->our_id, true);
    if (r)
        goto out;
    w->hook_ran = false;
    /* Whoever runs DHCP (not us, without a hook) replaces this lease after associating. */
    if (!wifiprov__wifiutil_ipv4_of(w->ifname, w->stale_ip))
        w->stale_ip[0] = '\0';
    r = configure(w, creds);
    if (r == WIFIPROV_ERR_BAD_CRED)
        /* The passphrase cannot be right for this network: an auth error, reported like one. */
        return wifiprov__attempt_refuse(&w->at, WIFIPROV_FAIL_REASON_AUTH_ERROR,
                                        "passphrase not usable for this network");
    if (r == 0)
        r = wifiprov__wpa_requestf_ok(w, "SELECT_NETWORK %d", w->our_id);
    if (r == 0)
        wifiprov__info("wpa_supplicant: connecting with network %d%s", w->our_id, w->at.sae ? " (SAE)" : "");
out:
    if (r)
        wifiprov__attempt_abandon(&w->at);
    return r;
}

/* ---- connected: address, status ------------------------------------------------ */

/* Reads network @p id's SSID (GET_NETWORK: "text" in quotes, or hex) into the attempt.
 * @return true when it could. */
static bool network_ssid(struct wpa *w, int id)
{
    char val[2 * WIFIPROV_SSID_MAX + 8];
    size_t len, n;

    if (wifiprov__wpa_get_network(w, id, "ssid", val, sizeof(val)))
        return false;
    len = strlen(val);
    if (len >= 2 && val[0] == '"' && val[len - 1] == '"') {
        if (len - 2 > WIFIPROV_SSID_MAX)
            return false;
        memcpy(w->at.ssid, val + 1, len - 2);
        w->at.ssid_len = (uint8_t)(len - 2);
        return true;
    }
    if (wifiprov__hex_decode(val, w->at.ssid, WIFIPROV_SSID_MAX, &n))
        return false;
    w->at.ssid_len = (uint8_t)n;
    return true;
}

static void report_connected(struct wpa *w, const char *ip)
{
    struct wifiprov_wifi_event ev;
    char *status = wifiprov__malloc(WPA_REPLY_CAP);
    char val[64];
    uint8_t bssid[6];
    bool have_bssid = false;
    const struct wifiprov_ap *ap = NULL;

    memset(&ev, 0, sizeof(ev));
    ev.ip4 = ip;
    ev.auth = UINT32_MAX;
    if (status && wifiprov__wpa_request(w, "STATUS", false, status, WPA_REPLY_CAP, 0) == 0) {
        if (wifiprov__wifiutil_kv(status, "bssid", val, sizeof(val)) && wifiprov__wifiutil_parse_mac(val, bssid) == 0)
            have_bssid = true;
        if (wifiprov__wifiutil_kv(status, "freq", val, sizeof(val)))
            ev.channel = (int32_t)wifiprov__wifiutil_freq_to_channel((uint32_t)strtoul(val, NULL, 10));
        if (wifiprov__wifiutil_kv(status, "key_mgmt", val, sizeof(val)))
            ev.auth = wifiprov__wifiutil_auth_from_key_mgmt(val);
        /* A saved network (start-up, or a reconnect): its own SSID, which may differ from
         * the stored one when several networks are configured. STATUS prints it as text
         * (unprintable bytes escaped), so that is only the fallback. */
        if (w->at.committed &&
            !(wifiprov__wifiutil_kv(status, "id", val, sizeof(val)) && network_ssid(w, (int)strtol(val, NULL, 10))) &&
            wifiprov__wifiutil_kv(status, "ssid", val, sizeof(val))) {
            uint8_t len;

            if (wifiprov__wifiutil_ssid_unescape(val, strlen(val), w->at.ssid, &len) == 0)
                w->at.ssid_len = len;
        }
    }
    wifiprov__free(status);
    ev.ssid = w->at.ssid;
    ev.ssid_len = w->at.ssid_len;
    if (have_bssid) {
        ev.bssid = bssid;
        for (size_t i = 0; i < w->n_aps && !ap; i++)
            if (!memcmp(w->aps[i].bssid, bssid, 6))
                ap = &w->aps[i];
    }
    if (!ap)
        ap = cached_ap(w, w->at.ssid, w->at.ssid_len);
    /* The scan's view of the AP (e.g. WPA2/WPA3 mixed) is what ESP-IDF reports. */
    if (ap)
        ev.auth = ap->auth;
    if (ev.auth == UINT32_MAX)
        ev.auth = WIFIPROV_AUTH_MODE_OPEN;
    wifiprov__attempt_connected(&w->at, &ev);
}

static int ip_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct wpa *w = userdata;
    char ip[WIFIPROV_IP4_MAX];
    bool hook_busy = false;

    (void)s;
    (void)usec;
    if (w->at.state != WIFIPROV__ATTEMPT_STATE_ADDRESS)
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
        w->ip_timer = sd_event_source_disable_unref(w->ip_timer);
        report_connected(w, ip);
        return 0;
    }
    if (w->ip_polls * IP_POLL_MS >= IP_TIMEOUT_MS) {
        wifiprov__attempt_fail(&w->at, WIFIPROV_FAIL_REASON_OTHER, "associated but no IPv4 address");
        return 0;
    }
    if (wifiprov__wifiutil_timer(w->event, &w->ip_timer, IP_POLL_MS, ip_poll, w))
        wifiprov__attempt_fail(&w->at, WIFIPROV_FAIL_REASON_OTHER, "timer");
    return 0;
}

static void enter_wait_ip(struct wpa *w)
{
    wifiprov__attempt_associated(&w->at);
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
        wifiprov__attempt_fail(&w->at, WIFIPROV_FAIL_REASON_OTHER, "timer");
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

void wifiprov__wpa_handle_event(struct wpa *w, const char *line)
{
    struct wifiprov__attempt *a = &w->at;

    if (!strncmp(line, "CTRL-EVENT-SCAN-RESULTS", 23)) {
        wifiprov__wpa_refresh_aps(w);
        if (w->scanning)
            scan_finish(w, 0);
    } else if (!strncmp(line, "CTRL-EVENT-CONNECTED", 20)) {
        long id = event_num(line, "id");

        if (a->state == WIFIPROV__ATTEMPT_STATE_SAVED_WAIT ||
            (a->state == WIFIPROV__ATTEMPT_STATE_LOST && (id == w->our_id || w->our_id < 0))) {
            w->our_id = (int)id;
            /* The address wait bounds itself (IP_TIMEOUT_MS). */
            (void)wifiprov__attempt_deadline(a, IP_TIMEOUT_MS + 1000);
            enter_wait_ip(w);
        } else if (a->state == WIFIPROV__ATTEMPT_STATE_CONNECTING && id == w->our_id) {
            wifiprov__info("wpa_supplicant: associated with network %ld", id);
            enter_wait_ip(w);
        }
    } else if (!strncmp(line, "CTRL-EVENT-DISCONNECTED", 23)) {
        if (a->state == WIFIPROV__ATTEMPT_STATE_CONNECTED || a->state == WIFIPROV__ATTEMPT_STATE_ADDRESS) {
            w->ip_timer = sd_event_source_disable_unref(w->ip_timer);
            w->hook_ran = false;
            wifiprov__attempt_link_down(a, line + 23);
        }
    } else if (!strncmp(line, "CTRL-EVENT-SSID-TEMP-DISABLED", 29)) {
        long id = event_num(line, "id");
        bool wrong_key = strstr(line, "reason=WRONG_KEY") != NULL;
        enum wifiprov_fail_reason reason = wrong_key || (a->sae && strstr(line, "reason=CONN_FAILED"))
                                               ? WIFIPROV_FAIL_REASON_AUTH_ERROR
                                               : WIFIPROV_FAIL_REASON_OTHER;

        wifiprov__attempt_failure(a, wifiprov__attempt_ours(a) && id == w->our_id, reason, line);
    } else if (!strncmp(line, "CTRL-EVENT-AUTH-REJECT", 22)) {
        long status = event_num(line, "status_code");

        /* 76: the AP asks for an anti-clogging token; the supplicant answers it. */
        if (event_num(line, "auth_type") == 3 && status != 76)
            wifiprov__attempt_failure(a, a->state == WIFIPROV__ATTEMPT_STATE_CONNECTING && !a->committed,
                                      WIFIPROV_FAIL_REASON_AUTH_ERROR, line);
    } else if (!strncmp(line, "CTRL-EVENT-NETWORK-NOT-FOUND", 28)) {
        wifiprov__attempt_failure(a, a->state == WIFIPROV__ATTEMPT_STATE_CONNECTING && !a->committed,
                                  WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND, line);
    } else if (!strncmp(line, "CTRL-EVENT-TERMINATING", 22)) {
        wifiprov__err("wpa_supplicant: the supplicant is terminating");
    }
}

/* ---- the other operations ------------------------------------------------------ */

static int wpa_disconnect(void *ctx)
{
    struct wpa *w = ctx;
    enum wifiprov__attempt_state was = w->at.state;
    bool ours = !w->at.committed && w->our_id >= 0;

    wifiprov__attempt_abandon(&w->at);
    if (!ours && (was == WIFIPROV__ATTEMPT_STATE_CONNECTED || was == WIFIPROV__ATTEMPT_STATE_ADDRESS ||
                  was == WIFIPROV__ATTEMPT_STATE_LOST || was == WIFIPROV__ATTEMPT_STATE_SAVED_WAIT))
        return wifiprov__wpa_requestf_ok(w, "DISCONNECT");
    return 0;
}

/* Removes the other networks with our SSID (older credentials for the same network). */
static void remove_same_ssid(struct wpa *w)
{
    int id;

    for (int i = 0; i < WPA_MAX_PREV && (id = wifiprov__wpa_find_ssid(w, w->at.ssid, w->at.ssid_len, w->our_id)) >= 0;
         i++) {
        if (wifiprov__wpa_requestf_ok(w, "REMOVE_NETWORK %d", id))
            break;
        wifiprov__info("wpa_supplicant: removed network %d (older entry for the same SSID)", id);
        for (size_t k = 0; k < w->n_prev; k++)
            if (w->prev[k] == id)
                w->prev[k] = -1;
    }
}

static void note_priority(struct wpa *w, int id, const char *flags, void *ud)
{
    long *max = ud;
    char val[32];

    (void)flags;
    if (id != w->our_id && wifiprov__wpa_get_network(w, id, "priority", val, sizeof(val)) == 0 &&
        strtol(val, NULL, 10) > *max)
        *max = strtol(val, NULL, 10);
}

static int wpa_commit(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct wpa *w = ctx;
    long max = 0;
    int r;

    (void)creds;
    if (w->our_id < 0 || w->at.state != WIFIPROV__ATTEMPT_STATE_CONNECTED)
        return WIFIPROV_ERR_STATE;
    if (!w->at.committed) {
        remove_same_ssid(w);
        /* The network just provisioned is preferred to the older ones at the next start. */
        (void)wifiprov__wpa_each_network(w, note_priority, &max);
        if (wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d priority %ld", w->our_id, max + 1))
            wifiprov__warn("wpa_supplicant: could not raise the priority of network %d", w->our_id);
        /* From now on it is the user's network, not a leftover of ours. */
        r = wifiprov__wpa_tag(w, w->our_id, false);
        if (r)
            return r;
        /* Other networks stay configured and usable as before. */
        for (size_t i = 0; i < w->n_prev; i++)
            if (w->prev[i] >= 0 && wifiprov__wpa_requestf_ok(w, "ENABLE_NETWORK %d", w->prev[i]))
                wifiprov__warn("wpa_supplicant: could not enable network %d again", w->prev[i]);
        w->n_prev = 0;
        (void)wifiprov__wpa_prev_save(w);
        w->at.committed = true;
    }
    r = wifiprov__wpa_request_ok(w, "SAVE_CONFIG", false);
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

    /* Removes an uncommitted network of ours and enables again what an attempt disabled. */
    if (!w->at.committed)
        wifiprov__attempt_abandon(&w->at);
    return 0;
}

static int wpa_connect_saved(struct wifiprov_backend *b, const struct wifiprov_wifi_creds *stored)
{
    struct wpa *w = b->ctx;
    char *status = wifiprov__malloc(WPA_REPLY_CAP);
    char state[32] = "", ip[WIFIPROV_IP4_MAX];
    int r;

    if (!status)
        return WIFIPROV_ERR_NOMEM;
    w->stale_ip[0] = '\0';
    r = wifiprov__wpa_request(w, "STATUS", false, status, WPA_REPLY_CAP, 0);
    if (r)
        goto out;
    wifiprov__wifiutil_kv(status, "wpa_state", state, sizeof(state));
    w->hook_ran = false;
    if (stored && stored->ssid_len && wifiprov__wpa_find_ssid(w, stored->ssid, stored->ssid_len, -1) < 0) {
        /* Removed by hand (or the supplicant's configuration was replaced): provisioning is needed again. */
        wifiprov__warn("wpa_supplicant: the stored network is no longer configured in the supplicant");
        r = WIFIPROV_ERR_NOT_FOUND;
        goto out;
    }
    if (!strcmp(state, "COMPLETED")) {
        char id[16] = "";

        wifiprov__wifiutil_kv(status, "id", id, sizeof(id));
        r = wifiprov__attempt_wait_saved(&w->at, stored ? stored->ssid : NULL, stored ? stored->ssid_len : 0,
                                         IP_TIMEOUT_MS + 1000);
        if (r)
            goto out;
        w->our_id = id[0] ? atoi(id) : -1;
        /* Already associated: an existing address needs no DHCP round. */
        w->hook_ran = wifiprov__wifiutil_ipv4_of(w->ifname, ip);
        enter_wait_ip(w);
        goto out;
    }
    r = wifiprov__attempt_wait_saved(&w->at, stored ? stored->ssid : NULL, stored ? stored->ssid_len : 0,
                                     SAVED_TIMEOUT_MS);
    if (r)
        goto out;
    if (!strcmp(state, "DISCONNECTED") || !strcmp(state, "INACTIVE"))
        (void)wifiprov__wpa_request_ok(w, "RECONNECT", false);
out:
    wifiprov__free(status);
    return r;
}

static int wpa_get_mac(struct wifiprov_backend *b, uint8_t mac[6])
{
    struct wpa *w = b->ctx;
    char *status = wifiprov__malloc(WPA_REPLY_CAP);
    char val[32];
    int r;

    if (!status)
        return WIFIPROV_ERR_NOMEM;
    r = wifiprov__wpa_request(w, "STATUS", false, status, WPA_REPLY_CAP, 0);
    if (r == 0)
        r = wifiprov__wifiutil_kv(status, "address", val, sizeof(val)) ? wifiprov__wifiutil_parse_mac(val, mac)
                                                                       : WIFIPROV_ERR_WIFI;
    wifiprov__free(status);
    return r;
}

static void wpa_destroy(struct wpa *w)
{
    /* An attempt still pending when the daemon stops is not left behind half-configured. */
    if (w->ctrl && !w->at.committed)
        release(w, false);
    wifiprov__attempt_destroy(&w->at);
    w->ip_timer = sd_event_source_disable_unref(w->ip_timer);
    w->scan_timer = sd_event_source_disable_unref(w->scan_timer);
    w->reopen_timer = sd_event_source_disable_unref(w->reopen_timer);
    if (w->hook_pid > 0) {
        int status;

        (void)wifiprov__wifiutil_hook_done(w->hook_pid, &status);
    }
    wifiprov__wpa_close_sockets(w);
    sd_event_unref(w->event);
    wifiprov__free(w->ifname);
    wifiprov__free(w->path);
    wifiprov__free(w->dhcp_hook);
    wifiprov__free(w->state_dir);
    wifiprov_memzero(w, sizeof(*w));
    wifiprov__free(w);
}

static void wpa_free(struct wifiprov_backend *b)
{
    if (b)
        wpa_destroy(b->ctx);
}

static const struct wifiprov_wifi_ops wpa_ops = {
    .scan_start = wpa_scan_start,
    .connect = wpa_connect,
    .disconnect = wpa_disconnect,
    .commit = wpa_commit,
    .forget = wpa_forget,
};

static int dup_opt(char **dst, const char *src)
{
    if (!src || !src[0])
        return 0;
    *dst = wifiprov__strdup(src);
    return *dst ? 0 : WIFIPROV_ERR_NOMEM;
}

int wifiprov__backend_wpa_open(const struct wifiprov_backend_config *cfg, bool probe, struct wifiprov_backend **out)
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
    w->cb_ctx = cfg->ctx;
    wifiprov__attempt_init(&w->at, "wpa_supplicant", w->event, cfg->wifi_event_fn, cfg->ctx, release, w);
    dir = cfg->wpa_ctrl_dir ? cfg->wpa_ctrl_dir : DEFAULT_CTRL_DIR;
    if (cfg->ifname)
        r = dup_opt(&w->ifname, cfg->ifname);
    else
        r = wifiprov__wpa_find_socket(dir, probe, &w->ifname);
    if (r == 0 && !w->ifname)
        r = WIFIPROV_ERR_INVAL;
    if (r || (r = dup_opt(&w->dhcp_hook, cfg->dhcp_hook)) || (r = dup_opt(&w->state_dir, cfg->state_dir)))
        goto out;
    len = strlen(dir) + strlen(w->ifname) + 2;
    w->path = wifiprov__malloc(len);
    if (!w->path) {
        r = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    snprintf(w->path, len, "%s/%s", dir, w->ifname);
    r = wifiprov__wpa_open_sockets(w, probe);
    if (r)
        goto out;
    w->base.name = "wpa_supplicant";
    w->base.ops = &wpa_ops;
    w->base.ctx = w;
    w->base.connect_saved = wpa_connect_saved;
    w->base.get_mac = wpa_get_mac;
    w->base.free = wpa_free;
    /* What a killed run left: its networks removed, the ones it disabled enabled again. */
    wifiprov__wpa_sweep(w);
    /* Start with what the supplicant already knows, so a scan-less connect can still
     * choose PSK or SAE. */
    wifiprov__wpa_refresh_aps(w);
    wifiprov__info("wpa_supplicant: using %s", w->path);
    *out = &w->base;
    w = NULL;
out:
    if (w)
        wpa_destroy(w);
    return r;
}

int wifiprov_backend_wpa_new(const struct wifiprov_backend_config *cfg, struct wifiprov_backend **out)
{
    return wifiprov__backend_wpa_open(cfg, false, out);
}
