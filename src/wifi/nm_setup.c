/*
 * The NetworkManager backend's set-up: the Wi-Fi device, the signals it follows, and crash
 * safety. Every profile the daemon adds carries the user-data key wifiprov.owner=wifiprovd
 * (the access point's too); at start the unsaved ones a killed run left in NetworkManager's
 * memory are deleted, saved ones (a committed network) stay. All calls here are synchronous:
 * they run before the event loop does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "util.h"
#include "wifi/nm.h"
#include "wifi/wifiutil.h"

#define NM_SETTINGS_FLAG_UNSAVED 0x1u

/* ---- our profiles -------------------------------------------------------------- */

/* What GetSettings says about a profile: our tag, its SSID. */
struct profile {
    bool ours;
    uint8_t ssid[WIFIPROV_SSID_MAX];
    size_t ssid_len;
    bool wifi;
};

/* Reads a{sa{sv}}: connection settings; fills @p p. @return 0 or a negative errno. */
static int read_profile(sd_bus_message *m, struct profile *p)
{
    const char *setting;
    int r;

    memset(p, 0, sizeof(*p));
    if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0)
        return r;
    while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
        if ((r = sd_bus_message_read(m, "s", &setting)) < 0 || (r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0)
            return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
            const char *key;

            if ((r = sd_bus_message_read(m, "s", &key)) < 0)
                return r;
            if (!strcmp(setting, "user") && !strcmp(key, "data")) {
                const char *k, *v;

                if ((r = sd_bus_message_enter_container(m, 'v', "a{ss}")) < 0 ||
                    (r = sd_bus_message_enter_container(m, 'a', "{ss}")) < 0)
                    return r;
                while ((r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0)
                    if (!strcmp(k, NM_OWNER_KEY) && !strcmp(v, NM_OWNER_VALUE))
                        p->ours = true;
                if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                    return r;
            } else if (!strcmp(setting, "802-11-wireless") && !strcmp(key, "ssid")) {
                const void *d;
                size_t len;

                if ((r = sd_bus_message_enter_container(m, 'v', "ay")) < 0 ||
                    (r = sd_bus_message_read_array(m, 'y', &d, &len)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                    return r;
                if (len <= WIFIPROV_SSID_MAX) {
                    memcpy(p->ssid, d, len);
                    p->ssid_len = len;
                    p->wifi = true;
                }
            } else if ((r = sd_bus_message_skip(m, "v")) < 0) {
                return r;
            }
            if ((r = sd_bus_message_exit_container(m)) < 0)
                return r;
        }
        if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
            return r;
    }
    if (r < 0)
        return r;
    return sd_bus_message_exit_container(m);
}

/* Calls @p fn for each profile NetworkManager knows; @p fn returns false to stop. @return 0 or an error. */
static int each_profile(struct nm *n, bool (*fn)(struct nm *n, const char *path, const struct profile *p, void *ud),
                        void *ud)
{
    sd_bus_message *list = NULL;
    const char *path;
    int r;

    r = sd_bus_call_method(n->bus, NM_BUS, NM_SETTINGS_PATH, NM_SETTINGS, "ListConnections", NULL, &list, "");
    if (r < 0 || (r = sd_bus_message_enter_container(list, 'a', "o")) < 0) {
        r = WIFIPROV_ERR_WIFI;
        goto out;
    }
    r = 0;
    while (sd_bus_message_read(list, "o", &path) > 0) {
        sd_bus_message *reply = NULL;
        struct profile p;
        bool go_on = true;

        if (sd_bus_call_method(n->bus, NM_BUS, path, NM_CONN, "GetSettings", NULL, &reply, "") >= 0 &&
            read_profile(reply, &p) >= 0)
            go_on = fn(n, path, &p, ud);
        sd_bus_message_unref(reply);
        if (!go_on)
            break;
    }
out:
    sd_bus_message_unref(list);
    return r;
}

static bool sweep_one(struct nm *n, const char *path, const struct profile *p, void *ud)
{
    uint32_t flags = 0;
    sd_bus_message *reply = NULL;

    (void)ud;
    if (!p->ours)
        return true;
    if (sd_bus_get_property_trivial(n->bus, NM_BUS, path, NM_CONN, "Flags", NULL, 'u', &flags) < 0) {
        wifiprov__warn("networkmanager: cannot tell whether our profile %s is saved; left alone", path);
        return true;
    }
    if (!(flags & NM_SETTINGS_FLAG_UNSAVED))
        return true; /* a committed network */
    if (sd_bus_call_method(n->bus, NM_BUS, path, NM_CONN, "Delete", NULL, &reply, "") >= 0)
        wifiprov__info("networkmanager: deleted profile %s left over by an earlier run", path);
    else
        wifiprov__warn("networkmanager: could not delete profile %s left over by an earlier run", path);
    sd_bus_message_unref(reply);
    return true;
}

void wifiprov__nm_sweep(struct nm *n)
{
    if (each_profile(n, sweep_one, NULL))
        wifiprov__warn("networkmanager: cannot list the profiles to remove leftovers of an earlier run");
}

struct want_ssid {
    const uint8_t *ssid;
    size_t len;
    bool found;
};

static bool match_one(struct nm *n, const char *path, const struct profile *p, void *ud)
{
    struct want_ssid *w = ud;

    (void)n;
    (void)path;
    if (p->wifi && p->ssid_len == w->len && !memcmp(p->ssid, w->ssid, w->len))
        w->found = true;
    return !w->found;
}

int wifiprov__nm_has_profile(struct nm *n, const uint8_t *ssid, size_t len)
{
    struct want_ssid w = {ssid, len, false};
    int r = each_profile(n, match_one, &w);

    return r ? r : w.found;
}

/* ---- construction ---------------------------------------------------------------- */

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
            r = wifiprov__nm_set_str(&n->dev_path, path) || wifiprov__nm_set_str(&n->ifname, ifname)
                    ? WIFIPROV_ERR_NOMEM
                    : 0;
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
    n->commit_done_fn = cfg->commit_done_fn;
    n->cb_ctx = cfg->ctx;
    wifiprov__nm_init(n, cfg->wifi_event_fn);

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
    if (sd_bus_match_signal(n->bus, &n->match_state, NM_BUS, n->dev_path, NM_DEV, "StateChanged",
                            wifiprov__nm_on_state_changed, n) < 0 ||
        sd_bus_match_signal(n->bus, &n->match_props, NM_BUS, n->dev_path, PROPS, "PropertiesChanged",
                            wifiprov__nm_on_props_changed, n) < 0 ||
        sd_bus_attach_event(n->bus, n->event, 0) < 0) {
        wifiprov__err("networkmanager: cannot watch %s", n->dev_path);
        r = WIFIPROV_ERR_WIFI;
        goto out;
    }
    /* What a killed run left: its unsaved profiles. */
    wifiprov__nm_sweep(n);
    /* Fill the cache with what NM already saw, so a connect without a scan can pick the
     * key management (synchronous: the loop does not run yet). */
    wifiprov__nm_read_aps_now(n);
    wifiprov__nm_watch_supplicant(n);
    wifiprov__info("networkmanager: using %s (%s, state %u)", n->ifname, n->dev_path, state);
    *out = &n->base;
    n = NULL;
out:
    if (n)
        wifiprov__nm_destroy(n);
    return r;
}

int wifiprov_backend_nm_new(const struct wifiprov_backend_config *cfg, struct wifiprov_backend **out)
{
    return wifiprov__backend_nm_open(cfg, false, out);
}
