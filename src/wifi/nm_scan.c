/*
 * The NetworkManager backend's D-Bus property helpers and scanning: RequestScan, then the
 * access points' properties read once LastScan changes (or the scan timeout passes).
 */
#include <errno.h>
#include <string.h>

#include "util.h"
#include "wifi/nm.h"
#include "wifi/wifiutil.h"

#define SCAN_TIMEOUT_MS 15000u

int wifiprov__nm_set_str(char **dst, const char *src)
{
    char *c = src ? wifiprov__strdup(src) : NULL;

    if (src && !c)
        return WIFIPROV_ERR_NOMEM;
    wifiprov__free(*dst);
    *dst = c;
    return 0;
}

/* ---- property dictionaries ------------------------------------------------------ */

int wifiprov__nm_props_each(sd_bus_message *m, wifiprov__nm_prop_fn fn, void *ud)
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

int wifiprov__nm_read_variant(sd_bus_message *m, const char *sig, void *p)
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

        if ((r = wifiprov__nm_read_variant(m, "s", &s)) < 0)
            return r;
        a->ok = wifiprov__wifiutil_parse_mac(s, a->ap.bssid) == 0;
        return 0;
    }
    if (!strcmp(name, "Frequency"))
        return wifiprov__nm_read_variant(m, "u", &a->freq);
    if (!strcmp(name, "Strength"))
        return wifiprov__nm_read_variant(m, "y", &a->strength);
    if (!strcmp(name, "Flags"))
        return wifiprov__nm_read_variant(m, "u", &a->flags);
    if (!strcmp(name, "WpaFlags"))
        return wifiprov__nm_read_variant(m, "u", &a->wpa);
    if (!strcmp(name, "RsnFlags"))
        return wifiprov__nm_read_variant(m, "u", &a->rsn);
    return 1;
}

int wifiprov__nm_parse_ap(sd_bus_message *m, struct wifiprov_ap *out)
{
    struct ap_props a;
    int r;

    memset(&a, 0, sizeof(a));
    r = wifiprov__nm_props_each(m, ap_prop, &a);
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
    wifiprov__nm_check_not_found(n);
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
    if (!sd_bus_message_is_method_error(m, NULL) && wifiprov__nm_parse_ap(m, &ap) == 0 && n->n_round < NM_MAX_APS)
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
    if (sd_bus_call_method_async(n->bus, NULL, NM_BUS, n->dev_path, NM_WIFI, "GetAllAccessPoints", on_ap_list, n, "") <
        0) {
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

int wifiprov__nm_scan_start(void *ctx, const struct wifiprov_scan_opts *opts)
{
    struct nm *n = ctx;
    int r;

    if (n->scanning)
        return 0;
    r = sd_bus_call_method_async(n->bus, NULL, NM_BUS, n->dev_path, NM_WIFI, "RequestScan", on_request_scan, n, "a{sv}",
                                 0);
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
        int r = wifiprov__nm_read_variant(m, "x", &v);

        if (r < 0)
            return r;
        wifiprov__dbg("networkmanager: LastScan changed");
        if (n->at.state == WIFIPROV__ATTEMPT_STATE_STARTING || n->at.state == WIFIPROV__ATTEMPT_STATE_CONNECTING)
            n->scans_since++;
        if (n->scanning || n->at.state == WIFIPROV__ATTEMPT_STATE_CONNECTING)
            read_aps(n);
        return 0;
    }
    return 1;
}

int wifiprov__nm_on_props_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    const char *iface;

    if (sd_bus_message_read(m, "s", &iface) < 0)
        return 0;
    if (!strcmp(iface, NM_WIFI))
        (void)wifiprov__nm_props_each(m, wifi_prop_changed, n);
    return 0;
}

const struct wifiprov_ap *wifiprov__nm_cached_ap(const struct nm *n, const uint8_t *ssid, size_t len)
{
    for (size_t i = 0; i < n->n_aps; i++)
        if (n->aps[i].ssid_len == len && !memcmp(n->aps[i].ssid, ssid, len))
            return &n->aps[i];
    return NULL;
}

void wifiprov__nm_read_aps_now(struct nm *n)
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
            wifiprov__nm_parse_ap(props, &ap) == 0 && n->n_round < NM_MAX_APS)
            n->round_aps[n->n_round++] = ap;
        sd_bus_message_unref(props);
    }
    round_done(n);
out:
    sd_bus_message_unref(list);
}
