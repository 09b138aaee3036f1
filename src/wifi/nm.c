/*
 * Wi-Fi backend over NetworkManager's D-Bus API (sd-bus, attached to the daemon's
 * sd-event loop; every call after construction is asynchronous).
 *
 * A connection attempt adds a profile of our own ("wifiprov-<ssid>") with
 * AddAndActivateConnection2 and persist=memory: nothing reaches the disk before commit()
 * (Settings.Connection.Update2 with the to-disk flag). Other profiles are never touched;
 * a failed or forgotten attempt deletes only our profile.
 *
 * Outcome: the device's StateChanged(new, old, reason) signal.
 *   ACTIVATED (100), our active connection -> Ip4Config AddressData -> CONNECTED
 *   FAILED (120) with NO_SECRETS (7), SUPPLICANT_DISCONNECT (8),
 *                     SUPPLICANT_TIMEOUT (11)                  -> AUTH_ERROR
 *   FAILED (120) with SSID_NOT_FOUND (53)                      -> NETWORK_NOT_FOUND
 *   FAILED with another reason, or no outcome in time          -> OTHER
 * AddAndActivateConnection2 itself can refuse: a psk NM calls invalid maps to AUTH_ERROR,
 * an unknown SSID to NETWORK_NOT_FOUND, anything else to OTHER.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "util.h"
#include "wifi/backend.h"
#include "wifi/wifiutil.h"

#define NM_BUS "org.freedesktop.NetworkManager"
#define NM_PATH "/org/freedesktop/NetworkManager"
#define NM_IFACE "org.freedesktop.NetworkManager"
#define NM_DEV NM_IFACE ".Device"
#define NM_WIFI NM_IFACE ".Device.Wireless"
#define NM_AP NM_IFACE ".AccessPoint"
#define NM_CONN NM_IFACE ".Settings.Connection"
#define NM_IP4 NM_IFACE ".IP4Config"
#define PROPS "org.freedesktop.DBus.Properties"

#define NM_DEVICE_TYPE_WIFI 2u
#define NM_STATE_UNAVAILABLE 20u
#define NM_STATE_NEED_AUTH 60u
#define NM_STATE_ACTIVATED 100u
#define NM_STATE_FAILED 120u
#define NM_REASON_NO_SECRETS 7u
#define NM_REASON_SUPPLICANT_DISCONNECT 8u
#define NM_REASON_SUPPLICANT_TIMEOUT 11u
#define NM_REASON_SSID_NOT_FOUND 53u
#define NM_UPDATE2_TO_DISK 0x1u

#define SCAN_TIMEOUT_MS 15000u
#define CONNECT_TIMEOUT_MS 90000u
#define SAVED_TIMEOUT_MS 45000u
#define IP_RETRY_MS 200u
#define IP_RETRIES 50u
#define MAX_APS 64

enum conn_state {
    CONN_IDLE,
    CONN_ADDING,     /* AddAndActivateConnection2 sent */
    CONN_CONNECTING, /* our connection is activating */
    CONN_DETAILS,    /* activated; reading address and AP */
    CONN_CONNECTED,
    CONN_SAVED_WAIT, /* start-up: waiting for NM to activate a saved profile */
    CONN_LOST,       /* was connected; NM may reactivate */
};

static const char *conn_state_to_string(enum conn_state s)
{
    switch (s) {
    case CONN_IDLE: return "idle";
    case CONN_ADDING: return "adding";
    case CONN_CONNECTING: return "connecting";
    case CONN_DETAILS: return "details";
    case CONN_CONNECTED: return "connected";
    case CONN_SAVED_WAIT: return "saved-wait";
    case CONN_LOST: return "lost";
    }
    return "?";
}

struct nm;

/* One round of AccessPoint property reads (a scan result). Each pending call holds a
 * reference, dropped by its slot's destroy callback (also when the bus goes away). */
struct ap_round {
    struct nm *nm;
    unsigned gen;
    size_t refs;
    size_t replies_left;
};

struct nm {
    struct wifiprov_backend base;
    sd_event *event;
    sd_bus *bus;
    void (*scan_done_fn)(void *ctx, int err, const struct wifiprov_ap *aps, size_t n);
    void (*wifi_event_fn)(void *ctx, const struct wifiprov_wifi_event *ev);
    void *cb_ctx;
    char *dev_path;
    char *ifname;
    uint8_t mac[6];
    bool have_mac;
    sd_bus_slot *match_state;
    sd_bus_slot *match_props;
    sd_bus_slot *match_supplicant; /* NM's wpa_supplicant interface, when it is on the bus */
    char supplicant_state[24];
    unsigned sae_rejects;         /* authenticating -> disconnected during our SAE attempt */
    uint32_t dev_state;

    /* scanning */
    bool scanning;
    sd_event_source *scan_timer;
    struct wifiprov_ap aps[MAX_APS];
    size_t n_aps;
    struct wifiprov_ap round_aps[MAX_APS];
    size_t n_round;
    unsigned round_gen;
    bool round_running;

    /* connection */
    enum conn_state conn;
    sd_event_source *conn_timer;
    sd_event_source *retry_timer;
    unsigned ip_tries;
    unsigned details_gen;
    unsigned add_gen; /* AddAndActivateConnection2 replies of older generations are abandoned */
    char *our_conn;   /* Settings.Connection path of our profile */
    char *our_active; /* its ActiveConnection path */
    bool committed;
    bool sae;             /* our attempt uses key-mgmt sae */
    unsigned scans_since; /* scans NM finished since our attempt started */
    unsigned pending_ops; /* Delete / Update2 / Deactivate calls not answered yet */
    uint8_t ssid[WIFIPROV_SSID_MAX];
    uint8_t ssid_len;
    /* details being collected for CONNECTED */
    char ip[WIFIPROV_IP4_MAX];
    char *ip4_path;
    char *ap_path;
    struct wifiprov__reports reports;
};

static void conn_enter(struct nm *n, enum conn_state s)
{
    if (n->conn != s)
        wifiprov__dbg("networkmanager: %s -> %s", conn_state_to_string(n->conn), conn_state_to_string(s));
    n->conn = s;
}

static int set_str(char **dst, const char *src)
{
    char *c = src ? wifiprov__strdup(src) : NULL;

    if (src && !c)
        return WIFIPROV_ERR_NOMEM;
    wifiprov__free(*dst);
    *dst = c;
    return 0;
}

static void report(struct nm *n, enum wifiprov_wifi_event_type type, enum wifiprov_fail_reason reason)
{
    struct wifiprov_wifi_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.reason = reason;
    n->wifi_event_fn(n->cb_ctx, &ev);
}

/* ---- property dictionaries ------------------------------------------------------ */

/* Calls @p fn for each entry of an a{sv} at the read position; @p fn reads the variant
 * (returns 0) or leaves it (returns 1, it is skipped). */
typedef int (*prop_fn)(void *ud, const char *name, sd_bus_message *m);

static int props_each(sd_bus_message *m, prop_fn fn, void *ud)
{
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");

    if (r < 0)
        return r;
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        const char *name;

        if ((r = sd_bus_message_read(m, "s", &name)) < 0)
            return r;
        r = fn(ud, name, m);
        if (r < 0)
            return r;
        if (r > 0 && (r = sd_bus_message_skip(m, "v")) < 0)
            return r;
        if ((r = sd_bus_message_exit_container(m)) < 0)
            return r;
    }
    if (r < 0)
        return r;
    return sd_bus_message_exit_container(m);
}

static int read_variant(sd_bus_message *m, const char *sig, void *p)
{
    int r = sd_bus_message_enter_container(m, 'v', sig);

    if (r < 0)
        return r;
    if ((r = sd_bus_message_read_basic(m, sig[0], p)) < 0)
        return r;
    return sd_bus_message_exit_container(m);
}

/* ---- scanning ------------------------------------------------------------------- */

struct ap_props {
    struct wifiprov_ap ap;
    uint32_t flags, wpa, rsn, freq;
    uint8_t strength;
    bool ok;
};

static int ap_prop(void *ud, const char *name, sd_bus_message *m)
{
    struct ap_props *a = ud;
    int r;

    if (!strcmp(name, "Ssid")) {
        const void *p;
        size_t len;

        if ((r = sd_bus_message_enter_container(m, 'v', "ay")) < 0 ||
            (r = sd_bus_message_read_array(m, 'y', &p, &len)) < 0)
            return r;
        if (len > WIFIPROV_SSID_MAX)
            len = WIFIPROV_SSID_MAX;
        memcpy(a->ap.ssid, p, len);
        a->ap.ssid_len = (uint8_t)len;
        return sd_bus_message_exit_container(m);
    }
    if (!strcmp(name, "HwAddress")) {
        const char *s;

        if ((r = read_variant(m, "s", &s)) < 0)
            return r;
        a->ok = wifiprov__wifiutil_parse_mac(s, a->ap.bssid) == 0;
        return 0;
    }
    if (!strcmp(name, "Frequency"))
        return read_variant(m, "u", &a->freq);
    if (!strcmp(name, "Strength"))
        return read_variant(m, "y", &a->strength);
    if (!strcmp(name, "Flags"))
        return read_variant(m, "u", &a->flags);
    if (!strcmp(name, "WpaFlags"))
        return read_variant(m, "u", &a->wpa);
    if (!strcmp(name, "RsnFlags"))
        return read_variant(m, "u", &a->rsn);
    return 1;
}

static int parse_ap(sd_bus_message *m, struct wifiprov_ap *out)
{
    struct ap_props a;
    int r;

    memset(&a, 0, sizeof(a));
    r = props_each(m, ap_prop, &a);
    if (r < 0 || !a.ok)
        return WIFIPROV_ERR_PROTO;
    a.ap.channel = wifiprov__wifiutil_freq_to_channel(a.freq);
    a.ap.rssi = wifiprov__wifiutil_nm_strength_to_rssi(a.strength);
    a.ap.auth = wifiprov__wifiutil_auth_from_nm(a.flags, a.wpa, a.rsn);
    *out = a.ap;
    return 0;
}

static void scan_finish(struct nm *n, int err)
{
    n->scanning = false;
    n->scan_timer = sd_event_source_disable_unref(n->scan_timer);
    wifiprov__dbg("networkmanager: scan done, %zu networks", n->n_aps);
    n->scan_done_fn(n->cb_ctx, err, n->aps, n->n_aps);
}

static void check_not_found(struct nm *n);

static void round_done(struct nm *n)
{
    size_t k = 0;

    n->round_running = false;
    /* Hidden networks (empty SSID) are not offered. */
    for (size_t i = 0; i < n->n_round; i++)
        if (n->round_aps[i].ssid_len && n->round_aps[i].ssid[0])
            n->aps[k++] = n->round_aps[i];
    n->n_aps = k;
    wifiprov__wifiutil_sort_aps(n->aps, n->n_aps);
    if (n->scanning)
        scan_finish(n, 0);
    check_not_found(n);
}

static void ap_round_unref(void *p)
{
    struct ap_round *rd = p;

    if (--rd->refs == 0)
        wifiprov__free(rd);
}

static int on_ap_props(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct ap_round *rd = userdata;
    struct nm *n = rd->nm;
    struct wifiprov_ap ap;

    if (rd->gen != n->round_gen)
        return 0;
    if (!sd_bus_message_is_method_error(m, NULL) && parse_ap(m, &ap) == 0 && n->n_round < MAX_APS)
        n->round_aps[n->n_round++] = ap;
    if (--rd->replies_left == 0)
        round_done(n);
    return 0;
}

static int on_ap_list(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    struct ap_round *rd;
    const char *path;
    int r;

    if (sd_bus_message_is_method_error(m, NULL)) {
        wifiprov__warn("networkmanager: GetAllAccessPoints: %s", sd_bus_message_get_error(m)->message);
        n->round_running = false;
        if (n->scanning)
            scan_finish(n, n->n_aps ? 0 : WIFIPROV_ERR_WIFI);
        return 0;
    }
    n->n_round = 0;
    rd = wifiprov__calloc(1, sizeof(*rd));
    if (!rd || (r = sd_bus_message_enter_container(m, 'a', "o")) < 0) {
        wifiprov__free(rd);
        n->round_running = false;
        if (n->scanning)
            scan_finish(n, WIFIPROV_ERR_NOMEM);
        return 0;
    }
    rd->nm = n;
    rd->gen = ++n->round_gen;
    rd->refs = 1; /* ours, until every call is sent */
    while ((r = sd_bus_message_read(m, "o", &path)) > 0) {
        sd_bus_slot *slot = NULL;

        if (sd_bus_call_method_async(n->bus, &slot, NM_BUS, path, PROPS, "GetAll", on_ap_props, rd, "s", NM_AP) < 0)
            continue;
        rd->refs++;
        rd->replies_left++;
        sd_bus_slot_set_destroy_callback(slot, ap_round_unref);
        sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
    }
    if (rd->replies_left == 0)
        round_done(n);
    ap_round_unref(rd);
    return 0;
}

static void read_aps(struct nm *n)
{
    if (n->round_running)
        return;
    if (sd_bus_call_method_async(n->bus, NULL, NM_BUS, n->dev_path, NM_WIFI, "GetAllAccessPoints", on_ap_list,
                                 n, "") < 0) {
        if (n->scanning)
            scan_finish(n, WIFIPROV_ERR_WIFI);
        return;
    }
    n->round_running = true;
}

static int on_request_scan(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    const sd_bus_error *e = sd_bus_message_get_error(m);

    if (e) {
        /* Typically "Scanning not allowed immediately following previous scan": NM's
         * list is fresh, so answer with it. */
        wifiprov__dbg("networkmanager: RequestScan: %s", e->message);
        if (n->scanning)
            read_aps(n);
    }
    return 0;
}

static int scan_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct nm *n = userdata;

    wifiprov__warn("networkmanager: no new scan in %u ms; answering with the current list", SCAN_TIMEOUT_MS);
    read_aps(n);
    return 0;
}

static int nm_scan_start(void *ctx, const struct wifiprov_scan_opts *opts)
{
    struct nm *n = ctx;
    int r;

    if (n->scanning)
        return 0;
    r = sd_bus_call_method_async(n->bus, NULL, NM_BUS, n->dev_path, NM_WIFI, "RequestScan", on_request_scan, n,
                                 "a{sv}", 0);
    if (r < 0)
        return WIFIPROV_ERR_WIFI;
    r = wifiprov__wifiutil_timer(n->event, &n->scan_timer, SCAN_TIMEOUT_MS, scan_timeout, n);
    if (r)
        return r;
    n->scanning = true;
    return 0;
}

static int wifi_prop_changed(void *ud, const char *name, sd_bus_message *m)
{
    struct nm *n = ud;

    if (!strcmp(name, "LastScan")) {
        int64_t v;
        int r = read_variant(m, "x", &v);

        if (r < 0)
            return r;
        wifiprov__dbg("networkmanager: LastScan changed");
        if (n->conn == CONN_ADDING || n->conn == CONN_CONNECTING)
            n->scans_since++;
        if (n->scanning || n->conn == CONN_CONNECTING)
            read_aps(n);
        return 0;
    }
    return 1;
}

static int on_props_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    const char *iface;

    if (sd_bus_message_read(m, "s", &iface) < 0)
        return 0;
    if (!strcmp(iface, NM_WIFI))
        (void)props_each(m, wifi_prop_changed, n);
    return 0;
}

/* ---- connection: outcome -------------------------------------------------------- */

static void stop_conn_timers(struct nm *n)
{
    n->conn_timer = sd_event_source_disable_unref(n->conn_timer);
    n->retry_timer = sd_event_source_disable_unref(n->retry_timer);
}

static int on_deleted(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    const sd_bus_error *e = sd_bus_message_get_error(m);

    n->pending_ops--;
    if (e)
        wifiprov__warn("networkmanager: deleting our profile: %s", e->message);
    return 0;
}

/* Deletes our uncommitted profile (NM deactivates it if needed). */
static void drop_ours(struct nm *n)
{
    n->add_gen++; /* a profile still being added is deleted when NM answers */
    if (n->our_conn && !n->committed) {
        wifiprov__info("networkmanager: deleting our profile %s", n->our_conn);
        if (sd_bus_call_method_async(n->bus, NULL, NM_BUS, n->our_conn, NM_CONN, "Delete", on_deleted, n, "") < 0)
            wifiprov__warn("networkmanager: could not delete %s", n->our_conn);
        else
            n->pending_ops++;
    }
    if (!n->committed) {
        set_str(&n->our_conn, NULL);
        set_str(&n->our_active, NULL);
    }
}

static void fail_attempt(struct nm *n, enum wifiprov_fail_reason reason, const char *why)
{
    wifiprov__info("networkmanager: attempt failed: %s -> %s", why, wifiprov_fail_reason_to_string(reason));
    stop_conn_timers(n);
    n->details_gen++;
    if (n->committed) {
        n->committed = false;
        set_str(&n->our_conn, NULL);
        set_str(&n->our_active, NULL);
    }
    drop_ours(n);
    conn_enter(n, CONN_IDLE);
    report(n, WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED, reason);
}

static enum wifiprov_fail_reason map_reason(uint32_t reason)
{
    switch (reason) {
    case NM_REASON_NO_SECRETS:
    case NM_REASON_SUPPLICANT_DISCONNECT:
    case NM_REASON_SUPPLICANT_TIMEOUT:
        return WIFIPROV_FAIL_REASON_AUTH_ERROR;
    case NM_REASON_SSID_NOT_FOUND:
        return WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND;
    default:
        return WIFIPROV_FAIL_REASON_OTHER;
    }
}

static const struct wifiprov_ap *cached_ap(const struct nm *n, const uint8_t *ssid, size_t len);

static void fail_device(struct nm *n, uint32_t reason)
{
    enum wifiprov_fail_reason r = map_reason(reason);
    char why[96];

    /* NM 1.42 gives up on an SAE network whose authentication keeps being rejected with
     * "ssid-not-found", although the AP is in its scan list: that is a wrong password. */
    if (reason == NM_REASON_SSID_NOT_FOUND && n->sae && cached_ap(n, n->ssid, n->ssid_len)) {
        r = WIFIPROV_FAIL_REASON_AUTH_ERROR;
        snprintf(why, sizeof(why), "device failed with reason %u (SAE network in range)", reason);
    } else {
        snprintf(why, sizeof(why), "device failed with reason %u", reason);
    }
    fail_attempt(n, r, why);
}

/* A scan finished after our attempt started, and our SSID is not in NM's list. */
static void check_not_found(struct nm *n)
{
    if ((n->conn == CONN_ADDING || n->conn == CONN_CONNECTING) && n->scans_since > 0 &&
        !cached_ap(n, n->ssid, n->ssid_len))
        fail_attempt(n, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND, "not in the scan that followed the attempt");
}

/* The details chain after ACTIVATED: Device props -> Ip4Config -> AP -> CONNECTED. */
static void details_start(struct nm *n);

static void report_connected(struct nm *n, const struct wifiprov_ap *ap)
{
    struct wifiprov_wifi_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = WIFIPROV_WIFI_EVENT_CONNECTED;
    ev.ip4 = n->ip;
    if (ap && ap->ssid_len) {
        memcpy(n->ssid, ap->ssid, ap->ssid_len);
        n->ssid_len = ap->ssid_len;
    }
    ev.ssid = n->ssid;
    ev.ssid_len = n->ssid_len;
    if (ap) {
        ev.bssid = ap->bssid;
        ev.channel = (int32_t)ap->channel;
        ev.auth = ap->auth;
    }
    stop_conn_timers(n);
    wifiprov__info("networkmanager: connected, address %s, channel %d", n->ip, (int)ev.channel);
    conn_enter(n, CONN_CONNECTED);
    n->wifi_event_fn(n->cb_ctx, &ev);
}

struct details_req {
    struct nm *nm;
    unsigned gen;
};

/* The request is live if no newer details chain started since it was sent. */
static struct nm *details_live(const struct details_req *d)
{
    struct nm *n = d->nm;

    return d->gen == n->details_gen && n->conn == CONN_DETAILS ? n : NULL;
}

static int details_call(struct nm *n, const char *path, const char *member, sd_bus_message_handler_t cb,
                        const char *arg1, const char *arg2)
{
    struct details_req *d = wifiprov__malloc(sizeof(*d));
    sd_bus_slot *slot = NULL;
    int r;

    if (!d)
        return WIFIPROV_ERR_NOMEM;
    d->nm = n;
    d->gen = n->details_gen;
    if (arg2)
        r = sd_bus_call_method_async(n->bus, &slot, NM_BUS, path, PROPS, member, cb, d, "ss", arg1, arg2);
    else
        r = sd_bus_call_method_async(n->bus, &slot, NM_BUS, path, PROPS, member, cb, d, "s", arg1);
    if (r < 0) {
        wifiprov__free(d);
        return WIFIPROV_ERR_WIFI;
    }
    /* The slot owns the request: freed after the reply, or when the bus goes away. */
    sd_bus_slot_set_destroy_callback(slot, wifiprov__free);
    sd_bus_slot_set_floating(slot, 1);
    sd_bus_slot_unref(slot);
    return 0;
}

static int details_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct nm *n = userdata;

    n->retry_timer = sd_event_source_disable_unref(n->retry_timer);
    if (n->conn == CONN_DETAILS)
        details_start(n);
    return 0;
}

/* The address is not there yet (or a read failed): try again shortly, a bounded number of times. */
static void details_again(struct nm *n, const char *why)
{
    if (++n->ip_tries > IP_RETRIES) {
        fail_attempt(n, WIFIPROV_FAIL_REASON_OTHER, why);
        return;
    }
    if (wifiprov__wifiutil_timer(n->event, &n->retry_timer, IP_RETRY_MS, details_retry, n))
        fail_attempt(n, WIFIPROV_FAIL_REASON_OTHER, "timer");
}

static int on_ap_details(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = details_live(userdata);
    struct wifiprov_ap ap;

    if (!n)
        return 0;
    if (sd_bus_message_is_method_error(m, NULL) || parse_ap(m, &ap)) {
        report_connected(n, NULL);
        return 0;
    }
    report_connected(n, &ap);
    return 0;
}

static int wifi_dev_prop(void *ud, const char *name, sd_bus_message *m)
{
    struct nm *n = ud;
    const char *path;
    int r;

    if (strcmp(name, "ActiveAccessPoint"))
        return 1;
    if ((r = read_variant(m, "o", &path)) < 0)
        return r;
    return set_str(&n->ap_path, strcmp(path, "/") ? path : NULL) ? -ENOMEM : 0;
}

static int on_wifi_details(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = details_live(userdata);

    if (!n)
        return 0;
    set_str(&n->ap_path, NULL);
    if (!sd_bus_message_is_method_error(m, NULL))
        (void)props_each(m, wifi_dev_prop, n);
    if (!n->ap_path || details_call(n, n->ap_path, "GetAll", on_ap_details, NM_AP, NULL))
        report_connected(n, NULL);
    return 0;
}

static int on_ip4_details(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = details_live(userdata);
    int r;

    if (!n)
        return 0;
    n->ip[0] = '\0';
    if (sd_bus_message_is_method_error(m, NULL)) {
        details_again(n, "cannot read the IPv4 configuration");
        return 0;
    }
    /* v aa{sv}: the first entry's "address". */
    if ((r = sd_bus_message_enter_container(m, 'v', "aa{sv}")) >= 0 &&
        (r = sd_bus_message_enter_container(m, 'a', "a{sv}")) > 0) {
        while (!n->ip[0] && (r = sd_bus_message_enter_container(m, 'a', "{sv}")) > 0) {
            while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *val;

                if (sd_bus_message_read(m, "s", &key) < 0)
                    break;
                if (!strcmp(key, "address") && read_variant(m, "s", &val) >= 0) {
                    snprintf(n->ip, sizeof(n->ip), "%s", val);
                } else if (sd_bus_message_skip(m, "v") < 0) {
                    break;
                }
                sd_bus_message_exit_container(m);
            }
            sd_bus_message_exit_container(m);
        }
    }
    if (!n->ip[0]) {
        details_again(n, "activated but no IPv4 address");
        return 0;
    }
    if (details_call(n, n->dev_path, "GetAll", on_wifi_details, NM_WIFI, NULL))
        report_connected(n, NULL);
    return 0;
}

struct dev_details {
    const char *active;
    const char *ip4;
    char active_buf[256];
    char ip4_buf[256];
};

static int dev_prop(void *ud, const char *name, sd_bus_message *m)
{
    struct dev_details *d = ud;
    const char *path;
    int r;

    if (!strcmp(name, "ActiveConnection") || !strcmp(name, "Ip4Config")) {
        if ((r = read_variant(m, "o", &path)) < 0)
            return r;
        if (!strcmp(name, "ActiveConnection")) {
            snprintf(d->active_buf, sizeof(d->active_buf), "%s", path);
            d->active = d->active_buf;
        } else {
            snprintf(d->ip4_buf, sizeof(d->ip4_buf), "%s", path);
            d->ip4 = d->ip4_buf;
        }
        return 0;
    }
    return 1;
}

static int on_dev_details(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = details_live(userdata);
    struct dev_details d;

    if (!n)
        return 0;
    memset(&d, 0, sizeof(d));
    if (sd_bus_message_is_method_error(m, NULL) || props_each(m, dev_prop, &d) < 0 || !d.active) {
        details_again(n, "cannot read the device");
        return 0;
    }
    if (n->our_active && !n->committed && strcmp(d.active, n->our_active)) {
        /* Another profile is active on the device: not ours (yet). */
        wifiprov__dbg("networkmanager: active connection %s is not ours", d.active);
        conn_enter(n, CONN_CONNECTING);
        return 0;
    }
    if (n->committed && set_str(&n->our_active, d.active))
        return 0;
    if (!d.ip4 || !strcmp(d.ip4, "/")) {
        details_again(n, "activated without an IPv4 configuration");
        return 0;
    }
    if (set_str(&n->ip4_path, d.ip4) ||
        details_call(n, n->ip4_path, "Get", on_ip4_details, NM_IP4, "AddressData"))
        details_again(n, "cannot read the IPv4 configuration");
    return 0;
}

static void details_start(struct nm *n)
{
    conn_enter(n, CONN_DETAILS);
    if (details_call(n, n->dev_path, "GetAll", on_dev_details, NM_DEV, NULL))
        details_again(n, "cannot read the device");
}

static int on_state_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    uint32_t new_state, old_state, reason;

    if (sd_bus_message_read(m, "uuu", &new_state, &old_state, &reason) < 0)
        return 0;
    n->dev_state = new_state;
    wifiprov__dbg("networkmanager: device state %u -> %u (reason %u)", old_state, new_state, reason);
    switch (n->conn) {
    case CONN_IDLE:
    case CONN_ADDING:
        break;
    case CONN_CONNECTING:
        if (new_state == NM_STATE_ACTIVATED) {
            n->ip_tries = 0;
            details_start(n);
        } else if (new_state == NM_STATE_FAILED) {
            fail_device(n, reason);
        } else if (new_state == NM_STATE_NEED_AUTH) {
            wifiprov__dbg("networkmanager: NetworkManager asks for secrets (wrong passphrase?)");
        }
        break;
    case CONN_DETAILS:
        if (new_state == NM_STATE_FAILED) {
            fail_device(n, reason);
        } else if (new_state != NM_STATE_ACTIVATED) {
            n->details_gen++;
            n->retry_timer = sd_event_source_disable_unref(n->retry_timer);
            conn_enter(n, n->committed ? CONN_LOST : CONN_CONNECTING);
        }
        break;
    case CONN_CONNECTED:
        if (new_state != NM_STATE_ACTIVATED) {
            wifiprov__info("networkmanager: link lost (state %u, reason %u)", new_state, reason);
            conn_enter(n, CONN_LOST);
            report(n, WIFIPROV_WIFI_EVENT_DISCONNECTED, WIFIPROV_FAIL_REASON_OTHER);
        }
        break;
    case CONN_SAVED_WAIT:
    case CONN_LOST:
        if (new_state == NM_STATE_ACTIVATED) {
            n->ip_tries = 0;
            n->committed = true;
            details_start(n);
        }
        break;
    }
    return 0;
}

static int connect_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct nm *n = userdata;

    n->conn_timer = sd_event_source_disable_unref(n->conn_timer);
    fail_attempt(n, WIFIPROV_FAIL_REASON_OTHER,
                 n->conn == CONN_SAVED_WAIT ? "no saved profile activated in time" : "no outcome in time");
    return 0;
}

/* ---- connection: starting ------------------------------------------------------- */

static enum wifiprov_fail_reason map_add_error(const sd_bus_error *e)
{
    const char *msg = e->message ? e->message : "";

    if (strstr(msg, "psk") || strstr(msg, "wep-key") || strstr(msg, "sae") || strstr(msg, "secret"))
        return WIFIPROV_FAIL_REASON_AUTH_ERROR;
    if (strstr(msg, "not found") || strstr(msg, "No network") || strstr(msg, "SSID"))
        return WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND;
    return WIFIPROV_FAIL_REASON_OTHER;
}

struct add_req {
    struct nm *nm;
    unsigned gen;
};

static int on_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    const struct add_req *req = userdata;
    struct nm *n = req->nm;
    const sd_bus_error *e = sd_bus_message_get_error(m);
    const char *conn, *active;

    n->pending_ops--;
    if (req->gen != n->add_gen || n->conn != CONN_ADDING) {
        /* Superseded (a new attempt, forget, disconnect, shutdown) while NM was adding it. */
        if (!e && sd_bus_message_read(m, "o", &conn) >= 0) {
            wifiprov__info("networkmanager: deleting %s (its attempt was abandoned)", conn);
            if (sd_bus_call_method_async(n->bus, NULL, NM_BUS, conn, NM_CONN, "Delete", on_deleted, n, "") >= 0)
                n->pending_ops++;
        }
        return 0;
    }
    if (e) {
        char why[256];

        snprintf(why, sizeof(why), "AddAndActivateConnection2 refused: %s: %s", e->name, e->message);
        fail_attempt(n, map_add_error(e), why);
        return 0;
    }
    if (sd_bus_message_read(m, "oo", &conn, &active) < 0 || set_str(&n->our_conn, conn) ||
        set_str(&n->our_active, active)) {
        fail_attempt(n, WIFIPROV_FAIL_REASON_OTHER, "bad AddAndActivateConnection2 reply");
        return 0;
    }
    wifiprov__info("networkmanager: profile %s activating as %s", conn, active);
    conn_enter(n, CONN_CONNECTING);
    /* It may have activated before this reply arrived. */
    if (n->dev_state == NM_STATE_ACTIVATED) {
        n->ip_tries = 0;
        details_start(n);
    }
    return 0;
}

static int append_sv(sd_bus_message *m, const char *key, const char *sig, ...)
{
    va_list ap;
    int r;

    if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 || (r = sd_bus_message_append(m, "s", key)) < 0 ||
        (r = sd_bus_message_open_container(m, 'v', sig)) < 0)
        return r;
    va_start(ap, sig);
    r = sd_bus_message_appendv(m, sig, ap);
    va_end(ap);
    if (r < 0)
        return r;
    if ((r = sd_bus_message_close_container(m)) < 0)
        return r;
    return sd_bus_message_close_container(m);
}

static int open_setting(sd_bus_message *m, const char *name)
{
    int r;

    if ((r = sd_bus_message_open_container(m, 'e', "sa{sv}")) < 0 || (r = sd_bus_message_append(m, "s", name)) < 0)
        return r;
    return sd_bus_message_open_container(m, 'a', "{sv}");
}

static int close_setting(sd_bus_message *m)
{
    int r = sd_bus_message_close_container(m);

    return r < 0 ? r : sd_bus_message_close_container(m);
}

static const struct wifiprov_ap *cached_ap(const struct nm *n, const uint8_t *ssid, size_t len)
{
    for (size_t i = 0; i < n->n_aps; i++)
        if (n->aps[i].ssid_len == len && !memcmp(n->aps[i].ssid, ssid, len))
            return &n->aps[i];
    return NULL;
}

static int build_settings(struct nm *n, sd_bus_message *m, const struct wifiprov_wifi_creds *c)
{
    const struct wifiprov_ap *ap = cached_ap(n, c->ssid, c->ssid_len);
    char id[sizeof("wifiprov-") + 4 * WIFIPROV_SSID_MAX];
    size_t k = 0;
    int r;

    k = (size_t)snprintf(id, sizeof(id), "wifiprov-");
    for (size_t i = 0; i < c->ssid_len; i++)
        k += (size_t)snprintf(id + k, sizeof(id) - k, c->ssid[i] >= 0x20 && c->ssid[i] < 0x7f ? "%c" : "\\x%02x",
                              c->ssid[i]);
    if ((r = sd_bus_message_open_container(m, 'a', "{sa{sv}}")) < 0)
        return r;
    if ((r = open_setting(m, "connection")) < 0 || (r = append_sv(m, "id", "s", id)) < 0 ||
        (r = append_sv(m, "type", "s", "802-11-wireless")) < 0 ||
        (r = append_sv(m, "interface-name", "s", n->ifname)) < 0 || (r = close_setting(m)) < 0)
        return r;
    if ((r = open_setting(m, "802-11-wireless")) < 0 || (r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
        (r = sd_bus_message_append(m, "s", "ssid")) < 0 || (r = sd_bus_message_open_container(m, 'v', "ay")) < 0 ||
        (r = sd_bus_message_append_array(m, 'y', c->ssid, c->ssid_len)) < 0 ||
        (r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
        (r = append_sv(m, "mode", "s", "infrastructure")) < 0)
        return r;
    if (!ap)
        r = append_sv(m, "hidden", "b", 1); /* not seen by a scan: probe for it by name */
    if (r < 0 || (r = close_setting(m)) < 0)
        return r;
    if (c->passphrase_len) {
        uint32_t auth = ap ? ap->auth : WIFIPROV_AUTH_MODE_WPA2_PSK;

        if ((r = open_setting(m, "802-11-wireless-security")) < 0)
            return r;
        if (auth == WIFIPROV_AUTH_MODE_WEP) {
            if ((r = append_sv(m, "key-mgmt", "s", "none")) < 0 ||
                (r = append_sv(m, "wep-key-type", "u", (uint32_t)2)) < 0 ||
                (r = append_sv(m, "wep-key0", "s", c->passphrase)) < 0)
                return r;
        } else {
            /* An SAE-only network needs "sae"; everything else (WPA2 or mixed) works with "wpa-psk". */
            n->sae = auth == WIFIPROV_AUTH_MODE_WPA3_PSK;
            if ((r = append_sv(m, "key-mgmt", "s", auth == WIFIPROV_AUTH_MODE_WPA3_PSK ? "sae" : "wpa-psk")) < 0 ||
                (r = append_sv(m, "psk", "s", c->passphrase)) < 0)
                return r;
        }
        if ((r = close_setting(m)) < 0)
            return r;
    }
    if ((r = open_setting(m, "ipv4")) < 0 || (r = append_sv(m, "method", "s", "auto")) < 0 ||
        (r = close_setting(m)) < 0)
        return r;
    return sd_bus_message_close_container(m);
}

static int nm_connect(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct nm *n = ctx;
    sd_bus_message *m = NULL;
    sd_bus_slot *slot = NULL;
    struct add_req *req;
    int r;

    if (!creds || creds->ssid_len == 0 || creds->ssid_len > WIFIPROV_SSID_MAX)
        return WIFIPROV_ERR_INVAL;
    stop_conn_timers(n);
    wifiprov__reports_clear(&n->reports);
    n->details_gen++;
    if (n->committed) {
        /* The committed profile stays; our next one is a new attempt. */
        n->committed = false;
        set_str(&n->our_conn, NULL);
        set_str(&n->our_active, NULL);
    } else {
        drop_ours(n);
    }
    conn_enter(n, CONN_IDLE);
    memcpy(n->ssid, creds->ssid, creds->ssid_len);
    n->ssid_len = creds->ssid_len;
    n->sae = false;
    n->scans_since = 0;
    n->sae_rejects = 0;

    r = sd_bus_message_new_method_call(n->bus, &m, NM_BUS, NM_PATH, NM_IFACE, "AddAndActivateConnection2");
    if (r >= 0)
        r = sd_bus_message_sensitive(m); /* carries the passphrase: wiped when freed */
    if (r >= 0)
        r = build_settings(n, m, creds);
    if (r >= 0)
        r = sd_bus_message_append(m, "oo", n->dev_path, "/");
    if (r >= 0)
        r = sd_bus_message_append(m, "a{sv}", 2, "persist", "s", "memory", "bind-activation", "s", "none");
    if (r < 0) {
        wifiprov__err("networkmanager: cannot build the connection: %s", strerror(-r));
        r = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    req = wifiprov__malloc(sizeof(*req));
    if (!req) {
        r = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    req->nm = n;
    req->gen = ++n->add_gen;
    r = sd_bus_call_async(n->bus, &slot, m, on_added, req, 0);
    if (r < 0) {
        wifiprov__free(req);
        wifiprov__err("networkmanager: AddAndActivateConnection2: %s", strerror(-r));
        r = WIFIPROV_ERR_WIFI;
        goto out;
    }
    /* The slot owns the request (freed after the reply, or with the bus). */
    sd_bus_slot_set_destroy_callback(slot, wifiprov__free);
    sd_bus_slot_set_floating(slot, 1);
    sd_bus_slot_unref(slot);
    n->pending_ops++;
    r = wifiprov__wifiutil_timer(n->event, &n->conn_timer, CONNECT_TIMEOUT_MS, connect_timeout, n);
    if (r) {
        n->add_gen++;
        goto out;
    }
    conn_enter(n, CONN_ADDING);
    r = wifiprov__reports_post(&n->reports, WIFIPROV_WIFI_EVENT_CONNECTING, WIFIPROV_FAIL_REASON_OTHER);
out:
    sd_bus_message_unref(m);
    return r;
}

/* ---- the other operations ------------------------------------------------------- */

static int on_deactivated(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    const sd_bus_error *e = sd_bus_message_get_error(m);

    n->pending_ops--;
    if (e)
        wifiprov__warn("networkmanager: DeactivateConnection: %s", e->message);
    return 0;
}

static int nm_disconnect(void *ctx)
{
    struct nm *n = ctx;
    enum conn_state was = n->conn;

    stop_conn_timers(n);
    wifiprov__reports_clear(&n->reports);
    n->details_gen++;
    n->add_gen++;
    conn_enter(n, CONN_IDLE);
    if (n->our_active && was != CONN_IDLE) {
        if (sd_bus_call_method_async(n->bus, NULL, NM_BUS, NM_PATH, NM_IFACE, "DeactivateConnection", on_deactivated,
                                     n, "o", n->our_active) < 0)
            return WIFIPROV_ERR_WIFI;
        n->pending_ops++;
    }
    return 0;
}

static int on_updated(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    const sd_bus_error *e = sd_bus_message_get_error(m);

    n->pending_ops--;
    if (e)
        wifiprov__err("networkmanager: saving the profile failed: %s", e->message);
    else
        wifiprov__info("networkmanager: profile saved to disk");
    return 0;
}

static int nm_commit(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct nm *n = ctx;
    int r;

    if (!n->our_conn || n->conn != CONN_CONNECTED)
        return WIFIPROV_ERR_STATE;
    if (n->committed)
        return 0;
    /* Empty settings keep the current ones; the flag writes them to disk. */
    r = sd_bus_call_method_async(n->bus, NULL, NM_BUS, n->our_conn, NM_CONN, "Update2", on_updated, n,
                                 "a{sa{sv}}ua{sv}", 0, NM_UPDATE2_TO_DISK, 0);
    if (r < 0) {
        wifiprov__err("networkmanager: Update2: %s", strerror(-r));
        return WIFIPROV_ERR_WIFI;
    }
    n->pending_ops++;
    n->committed = true;
    return 0;
}

static int nm_forget(void *ctx)
{
    struct nm *n = ctx;

    if (n->committed || !n->our_conn) {
        if (!n->committed && n->conn == CONN_ADDING)
            drop_ours(n);
        return 0;
    }
    stop_conn_timers(n);
    wifiprov__reports_clear(&n->reports);
    n->details_gen++;
    drop_ours(n);
    conn_enter(n, CONN_IDLE);
    return 0;
}

static int nm_connect_saved(struct wifiprov_backend *b, const struct wifiprov_wifi_creds *stored)
{
    struct nm *n = b->ctx;
    int r;

    stop_conn_timers(n);
    n->ssid_len = 0;
    if (stored && stored->ssid_len) {
        memcpy(n->ssid, stored->ssid, stored->ssid_len);
        n->ssid_len = stored->ssid_len;
    }
    n->committed = true;
    n->ip_tries = 0;
    r = wifiprov__wifiutil_timer(n->event, &n->conn_timer, SAVED_TIMEOUT_MS, connect_timeout, n);
    if (r)
        return r;
    /* NM activates saved profiles by itself; follow it, or read the details now if it has. */
    if (n->dev_state == NM_STATE_ACTIVATED)
        details_start(n);
    else
        conn_enter(n, CONN_SAVED_WAIT);
    return 0;
}

static int nm_get_mac(struct wifiprov_backend *b, uint8_t mac[6])
{
    struct nm *n = b->ctx;

    if (!n->have_mac)
        return WIFIPROV_ERR_WIFI;
    memcpy(mac, n->mac, 6);
    return 0;
}

static void nm_destroy(struct nm *n)
{
    stop_conn_timers(n);
    wifiprov__reports_clear(&n->reports);
    n->scan_timer = sd_event_source_disable_unref(n->scan_timer);
    n->add_gen++;
    n->match_state = sd_bus_slot_unref(n->match_state);
    n->match_props = sd_bus_slot_unref(n->match_props);
    n->match_supplicant = sd_bus_slot_unref(n->match_supplicant);
    if (n->bus) {
        /* An uncommitted attempt is not left behind when the daemon stops. */
        if (n->our_conn && !n->committed) {
            sd_bus_message *reply = NULL;

            (void)sd_bus_call_method(n->bus, NM_BUS, n->our_conn, NM_CONN, "Delete", NULL, &reply, "");
            sd_bus_message_unref(reply);
        }
        /* Deletes and saves still on their way are finished (NM checks the caller while it
         * is connected): at most two seconds, at shutdown only. Nothing is reported any more. */
        conn_enter(n, CONN_IDLE);
        n->details_gen++;
        n->scanning = false;
        n->round_gen++;
        for (int i = 0; i < 20 && n->pending_ops > 0; i++) {
            while (n->pending_ops > 0 && sd_bus_process(n->bus, NULL) > 0) {
            }
            if (n->pending_ops > 0)
                (void)sd_bus_wait(n->bus, 100 * 1000);
        }
        sd_bus_detach_event(n->bus);
        /* Dropping the connection also drops the pending replies and their callbacks. */
        n->bus = sd_bus_flush_close_unref(n->bus);
    }
    sd_event_unref(n->event);
    wifiprov__free(n->dev_path);
    wifiprov__free(n->ifname);
    wifiprov__free(n->our_conn);
    wifiprov__free(n->our_active);
    wifiprov__free(n->ip4_path);
    wifiprov__free(n->ap_path);
    wifiprov_memzero(n, sizeof(*n));
    wifiprov__free(n);
}

static void nm_free(struct wifiprov_backend *b)
{
    if (b)
        nm_destroy(b->ctx);
}

static const struct wifiprov_wifi_ops nm_ops = {
    .scan_start = nm_scan_start,
    .connect = nm_connect,
    .disconnect = nm_disconnect,
    .commit = nm_commit,
    .forget = nm_forget,
};

/* ---- NM's wpa_supplicant, watched for SAE rejections ------------------------------ */

/*
 * NM 1.42 reports a rejected SAE password only after ~25 s, as "ssid-not-found". The
 * supplicant NM drives is on the same bus: its interface State going from
 * "authenticating" to "disconnected" twice during our SAE attempt (the AP is in range and
 * refuses us) is reported as AuthError at once. Best effort: without the supplicant on the
 * bus the slower path above still applies.
 */
static int supplicant_prop(void *ud, const char *name, sd_bus_message *m)
{
    struct nm *n = ud;
    const char *state;
    int r;

    if (strcmp(name, "State"))
        return 1;
    if ((r = read_variant(m, "s", &state)) < 0)
        return r;
    if (n->sae && (n->conn == CONN_CONNECTING || n->conn == CONN_ADDING) &&
        !strcmp(n->supplicant_state, "authenticating") && !strcmp(state, "disconnected") &&
        ++n->sae_rejects >= 2 && cached_ap(n, n->ssid, n->ssid_len)) {
        snprintf(n->supplicant_state, sizeof(n->supplicant_state), "%s", state);
        fail_attempt(n, WIFIPROV_FAIL_REASON_AUTH_ERROR, "SAE authentication rejected twice");
        return 0;
    }
    snprintf(n->supplicant_state, sizeof(n->supplicant_state), "%s", state);
    return 0;
}

static int on_supplicant_props(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    const char *iface;

    if (sd_bus_message_read(m, "s", &iface) >= 0 && !strcmp(iface, "fi.w1.wpa_supplicant1.Interface"))
        (void)props_each(m, supplicant_prop, userdata);
    return 0;
}

static void watch_supplicant(struct nm *n)
{
    sd_bus_message *reply = NULL;
    const char *path;

    if (sd_bus_call_method(n->bus, "fi.w1.wpa_supplicant1", "/fi/w1/wpa_supplicant1", "fi.w1.wpa_supplicant1",
                           "GetInterface", NULL, &reply, "s", n->ifname) < 0 ||
        sd_bus_message_read(reply, "o", &path) < 0 ||
        sd_bus_match_signal(n->bus, &n->match_supplicant, "fi.w1.wpa_supplicant1", path, PROPS,
                            "PropertiesChanged", on_supplicant_props, n) < 0)
        wifiprov__dbg("networkmanager: not watching wpa_supplicant for %s", n->ifname);
    sd_bus_message_unref(reply);
}

/* ---- construction (synchronous: before the loop runs) --------------------------- */

static void read_aps_now(struct nm *n)
{
    sd_bus_message *list = NULL;
    const char *path;

    if (sd_bus_call_method(n->bus, NM_BUS, n->dev_path, NM_WIFI, "GetAllAccessPoints", NULL, &list, "") < 0 ||
        sd_bus_message_enter_container(list, 'a', "o") < 0)
        goto out;
    n->n_round = 0;
    while (sd_bus_message_read(list, "o", &path) > 0) {
        sd_bus_message *props = NULL;
        struct wifiprov_ap ap;

        if (sd_bus_call_method(n->bus, NM_BUS, path, PROPS, "GetAll", NULL, &props, "s", NM_AP) >= 0 &&
            parse_ap(props, &ap) == 0 && n->n_round < MAX_APS)
            n->round_aps[n->n_round++] = ap;
        sd_bus_message_unref(props);
    }
    round_done(n);
out:
    sd_bus_message_unref(list);
}

static int get_u32(sd_bus *bus, const char *path, const char *iface, const char *prop, uint32_t *v)
{
    return sd_bus_get_property_trivial(bus, NM_BUS, path, iface, prop, NULL, 'u', v);
}

/* The Wi-Fi device: by interface name, or the first one NM knows. */
static int find_device(struct nm *n, const char *want, bool probe)
{
    sd_bus_message *reply = NULL;
    sd_bus_error err = SD_BUS_ERROR_NULL;
    const char *path;
    int r;

    r = sd_bus_call_method(n->bus, NM_BUS, NM_PATH, NM_IFACE, "GetDevices", &err, &reply, "");
    if (r < 0) {
        if (probe)
            wifiprov__dbg("networkmanager: GetDevices: %s", err.message ? err.message : strerror(-r));
        else
            wifiprov__err("networkmanager: GetDevices: %s", err.message ? err.message : strerror(-r));
        r = WIFIPROV_ERR_UNSUPPORTED;
        goto out;
    }
    r = sd_bus_message_enter_container(reply, 'a', "o");
    while (r >= 0 && (r = sd_bus_message_read(reply, "o", &path)) > 0) {
        uint32_t type = 0;
        char *ifname = NULL;

        if (get_u32(n->bus, path, NM_DEV, "DeviceType", &type) < 0 || type != NM_DEVICE_TYPE_WIFI)
            continue;
        if (sd_bus_get_property_string(n->bus, NM_BUS, path, NM_DEV, "Interface", NULL, &ifname) < 0)
            continue;
        if (!want || !strcmp(want, ifname)) {
            r = set_str(&n->dev_path, path) || set_str(&n->ifname, ifname) ? WIFIPROV_ERR_NOMEM : 0;
            free(ifname);
            goto out;
        }
        free(ifname);
    }
    if (probe)
        wifiprov__dbg("networkmanager: no Wi-Fi device%s%s", want ? " named " : "", want ? want : "");
    else
        wifiprov__err("networkmanager: NetworkManager has no Wi-Fi device%s%s", want ? " named " : "",
                      want ? want : "");
    r = WIFIPROV_ERR_UNSUPPORTED;
out:
    sd_bus_error_free(&err);
    sd_bus_message_unref(reply);
    return r;
}

int wifiprov__backend_nm_open(const struct wifiprov_backend_config *cfg, bool probe, struct wifiprov_backend **out)
{
    struct nm *n;
    char *hw = NULL;
    uint32_t state = 0;
    int r;

    if (!cfg || !cfg->event || !cfg->scan_done_fn || !cfg->wifi_event_fn || !out)
        return WIFIPROV_ERR_INVAL;
    *out = NULL;
    n = wifiprov__calloc(1, sizeof(*n));
    if (!n)
        return WIFIPROV_ERR_NOMEM;
    n->event = sd_event_ref(cfg->event);
    n->scan_done_fn = cfg->scan_done_fn;
    n->wifi_event_fn = cfg->wifi_event_fn;
    n->cb_ctx = cfg->ctx;
    n->reports.event = n->event;
    n->reports.fn = cfg->wifi_event_fn;
    n->reports.ctx = cfg->ctx;

    r = sd_bus_open_system(&n->bus);
    if (r < 0) {
        if (probe)
            wifiprov__dbg("networkmanager: no system bus: %s", strerror(-r));
        else
            wifiprov__err("networkmanager: cannot connect to the system bus: %s", strerror(-r));
        r = WIFIPROV_ERR_UNSUPPORTED;
        goto out;
    }
    r = find_device(n, cfg->ifname, probe);
    if (r)
        goto out;
    if (get_u32(n->bus, n->dev_path, NM_DEV, "State", &state) < 0 || state < NM_STATE_UNAVAILABLE) {
        if (probe)
            wifiprov__dbg("networkmanager: %s is not managed", n->ifname);
        else
            wifiprov__err("networkmanager: NetworkManager does not manage %s (state %u)", n->ifname, state);
        r = WIFIPROV_ERR_UNSUPPORTED;
        goto out;
    }
    n->dev_state = state;
    if (sd_bus_get_property_string(n->bus, NM_BUS, n->dev_path, NM_DEV, "HwAddress", NULL, &hw) >= 0)
        n->have_mac = wifiprov__wifiutil_parse_mac(hw, n->mac) == 0;
    free(hw);
    if (sd_bus_match_signal(n->bus, &n->match_state, NM_BUS, n->dev_path, NM_DEV, "StateChanged", on_state_changed,
                            n) < 0 ||
        sd_bus_match_signal(n->bus, &n->match_props, NM_BUS, n->dev_path, PROPS, "PropertiesChanged",
                            on_props_changed, n) < 0 ||
        sd_bus_attach_event(n->bus, n->event, 0) < 0) {
        wifiprov__err("networkmanager: cannot watch %s", n->dev_path);
        r = WIFIPROV_ERR_WIFI;
        goto out;
    }
    n->base.name = "networkmanager";
    n->base.ops = &nm_ops;
    n->base.ctx = n;
    n->base.connect_saved = nm_connect_saved;
    n->base.get_mac = nm_get_mac;
    n->base.free = nm_free;
    /* Fill the cache with what NM already saw, so a connect without a scan can pick the
     * key management (synchronous: the loop does not run yet). */
    read_aps_now(n);
    watch_supplicant(n);
    wifiprov__info("networkmanager: using %s (%s, state %u)", n->ifname, n->dev_path, state);
    *out = &n->base;
    n = NULL;
out:
    if (n)
        nm_destroy(n);
    return r;
}

int wifiprov_backend_nm_new(const struct wifiprov_backend_config *cfg, struct wifiprov_backend **out)
{
    return wifiprov__backend_nm_open(cfg, false, out);
}
