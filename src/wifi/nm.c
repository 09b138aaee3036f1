/*
 * Wi-Fi backend over NetworkManager's D-Bus API (sd-bus, attached to the daemon's
 * sd-event loop; every call after construction is asynchronous). See nm.h for how its
 * files divide the work.
 *
 * A connection attempt adds a profile of our own ("wifiprov-<ssid>", user data
 * wifiprov.owner=wifiprovd) with AddAndActivateConnection2 and persist=memory: nothing
 * reaches the disk before commit() (Settings.Connection.Update2 with the to-disk flag, whose
 * answer completes the commit). Other profiles are never touched; a failed or forgotten
 * attempt deletes only our profile.
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
#include "wifi/nm.h"
#include "wifi/nm_dbus.h"
#include "wifi/wifiutil.h"

#define NM_REASON_NO_SECRETS 7u
#define NM_REASON_SUPPLICANT_DISCONNECT 8u
#define NM_REASON_SUPPLICANT_TIMEOUT 11u
#define NM_REASON_SSID_NOT_FOUND 53u
#define NM_UPDATE2_TO_DISK 0x1u

#define CONNECT_TIMEOUT_MS 90000u
#define SAVED_TIMEOUT_MS 45000u
#define IP_RETRY_MS 200u
#define IP_RETRIES 50u

/* ---- connection: outcome -------------------------------------------------------- */

static int on_deleted(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    const sd_bus_error *e = sd_bus_message_get_error(m);

    (void)ret_error;
    n->pending_ops--;
    if (e)
        wifiprov__warn("networkmanager: deleting our profile: %s", e->message);
    return 0;
}

static void delete_async(struct nm *n, const char *path)
{
    if (sd_bus_call_method_async(n->bus, NULL, NM_BUS, path, NM_CONN, "Delete", on_deleted, n, "") < 0)
        wifiprov__warn("networkmanager: could not delete %s", path);
    else
        n->pending_ops++;
}

/* The attempt machine's release: deletes our uncommitted profile (NM deactivates it if
 * needed), or lets go of the committed one. */
static void release(void *ctx, bool committed)
{
    struct nm *n = ctx;

    n->retry_timer = sd_event_source_disable_unref(n->retry_timer);
    n->details_gen++;
    n->add_gen++; /* a profile still being added is deleted when NM answers */
    if (n->our_conn && !committed && !n->commit_pending) {
        wifiprov__info("networkmanager: deleting our profile %s", n->our_conn);
        delete_async(n, n->our_conn);
    }
    wifiprov__nm_set_str(&n->our_conn, NULL);
    wifiprov__nm_set_str(&n->our_active, NULL);
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

static void fail_device(struct nm *n, uint32_t reason)
{
    enum wifiprov_fail_reason r = map_reason(reason);
    char why[96];

    /* NM 1.42 gives up on an SAE network whose authentication keeps being rejected with
     * "ssid-not-found", although the AP is in its scan list: that is a wrong password. */
    if (reason == NM_REASON_SSID_NOT_FOUND && n->at.sae && wifiprov__nm_cached_ap(n, n->at.ssid, n->at.ssid_len)) {
        r = WIFIPROV_FAIL_REASON_AUTH_ERROR;
        snprintf(why, sizeof(why), "device failed with reason %u (SAE network in range)", reason);
    } else {
        snprintf(why, sizeof(why), "device failed with reason %u", reason);
    }
    wifiprov__attempt_fail(&n->at, r, why);
}

static bool starting_or_connecting(const struct nm *n)
{
    return n->at.state == WIFIPROV__ATTEMPT_STATE_STARTING || n->at.state == WIFIPROV__ATTEMPT_STATE_CONNECTING;
}

void wifiprov__nm_check_not_found(struct nm *n)
{
    /* A scan finished after our attempt started, and our SSID is not in NM's list. */
    if (starting_or_connecting(n) && n->scans_since > 0 && !wifiprov__nm_cached_ap(n, n->at.ssid, n->at.ssid_len))
        wifiprov__attempt_fail(&n->at, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND,
                               "not in the scan that followed the attempt");
}

/* The details chain after ACTIVATED: Device props -> Ip4Config -> AP -> CONNECTED. */
static void details_start(struct nm *n);

static void report_connected(struct nm *n, const struct wifiprov_ap *ap)
{
    struct wifiprov_wifi_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.ip4 = n->ip;
    if (ap && ap->ssid_len) {
        memcpy(n->at.ssid, ap->ssid, ap->ssid_len);
        n->at.ssid_len = ap->ssid_len;
    }
    ev.ssid = n->at.ssid;
    ev.ssid_len = n->at.ssid_len;
    if (ap) {
        ev.bssid = ap->bssid;
        ev.channel = (int32_t)ap->channel;
        ev.auth = ap->auth;
    }
    n->retry_timer = sd_event_source_disable_unref(n->retry_timer);
    wifiprov__attempt_connected(&n->at, &ev);
}

struct details_req {
    struct nm *nm;
    unsigned gen;
};

/* The request is live if no newer details chain started since it was sent. */
static struct nm *details_live(const struct details_req *d)
{
    struct nm *n = d->nm;

    return d->gen == n->details_gen && n->at.state == WIFIPROV__ATTEMPT_STATE_ADDRESS ? n : NULL;
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
    if (n->at.state == WIFIPROV__ATTEMPT_STATE_ADDRESS)
        details_start(n);
    return 0;
}

/* The address is not there yet (or a read failed): try again shortly, a bounded number of times. */
static void details_again(struct nm *n, const char *why)
{
    if (++n->ip_tries > IP_RETRIES) {
        wifiprov__attempt_fail(&n->at, WIFIPROV_FAIL_REASON_OTHER, why);
        return;
    }
    if (wifiprov__wifiutil_timer(n->event, &n->retry_timer, IP_RETRY_MS, details_retry, n))
        wifiprov__attempt_fail(&n->at, WIFIPROV_FAIL_REASON_OTHER, "timer");
}

static int on_ap_details(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = details_live(userdata);
    struct wifiprov_ap ap;

    if (!n)
        return 0;
    if (sd_bus_message_is_method_error(m, NULL) || wifiprov__nm_parse_ap(m, &ap)) {
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
    if ((r = wifiprov__nm_read_variant(m, "o", &path)) < 0)
        return r;
    return wifiprov__nm_set_str(&n->ap_path, strcmp(path, "/") ? path : NULL) ? -ENOMEM : 0;
}

static int on_wifi_details(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = details_live(userdata);

    if (!n)
        return 0;
    wifiprov__nm_set_str(&n->ap_path, NULL);
    if (!sd_bus_message_is_method_error(m, NULL))
        (void)wifiprov__nm_props_each(m, wifi_dev_prop, n);
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
                if (!strcmp(key, "address") && wifiprov__nm_read_variant(m, "s", &val) >= 0) {
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
        if ((r = wifiprov__nm_read_variant(m, "o", &path)) < 0)
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
    if (sd_bus_message_is_method_error(m, NULL) || wifiprov__nm_props_each(m, dev_prop, &d) < 0 || !d.active) {
        details_again(n, "cannot read the device");
        return 0;
    }
    if (n->our_active && !n->at.committed && strcmp(d.active, n->our_active)) {
        /* Another profile is active on the device: not ours (yet). */
        wifiprov__dbg("networkmanager: active connection %s is not ours", d.active);
        wifiprov__attempt_enter(&n->at, WIFIPROV__ATTEMPT_STATE_CONNECTING);
        return 0;
    }
    if (n->at.committed && wifiprov__nm_set_str(&n->our_active, d.active))
        return 0;
    if (!d.ip4 || !strcmp(d.ip4, "/")) {
        details_again(n, "activated without an IPv4 configuration");
        return 0;
    }
    if (wifiprov__nm_set_str(&n->ip4_path, d.ip4) ||
        details_call(n, n->ip4_path, "Get", on_ip4_details, NM_IP4, "AddressData"))
        details_again(n, "cannot read the IPv4 configuration");
    return 0;
}

static void details_start(struct nm *n)
{
    wifiprov__attempt_associated(&n->at);
    if (details_call(n, n->dev_path, "GetAll", on_dev_details, NM_DEV, NULL))
        details_again(n, "cannot read the device");
}

int wifiprov__nm_on_state_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    uint32_t new_state, old_state, reason;
    char why[64];

    (void)ret_error;
    if (sd_bus_message_read(m, "uuu", &new_state, &old_state, &reason) < 0)
        return 0;
    n->dev_state = new_state;
    wifiprov__dbg("networkmanager: device state %u -> %u (reason %u)", old_state, new_state, reason);
    switch (n->at.state) {
    case WIFIPROV__ATTEMPT_STATE_IDLE:
    case WIFIPROV__ATTEMPT_STATE_STARTING:
        break;
    case WIFIPROV__ATTEMPT_STATE_CONNECTING:
        if (new_state == NM_STATE_ACTIVATED) {
            n->ip_tries = 0;
            details_start(n);
        } else if (new_state == NM_STATE_FAILED) {
            fail_device(n, reason);
        } else if (new_state == NM_STATE_NEED_AUTH) {
            wifiprov__dbg("networkmanager: NetworkManager asks for secrets (wrong passphrase?)");
        }
        break;
    case WIFIPROV__ATTEMPT_STATE_ADDRESS:
        if (new_state == NM_STATE_FAILED) {
            fail_device(n, reason);
        } else if (new_state != NM_STATE_ACTIVATED) {
            n->details_gen++;
            n->retry_timer = sd_event_source_disable_unref(n->retry_timer);
            wifiprov__attempt_link_down(&n->at, "deactivated while reading the address");
        }
        break;
    case WIFIPROV__ATTEMPT_STATE_CONNECTED:
        if (new_state != NM_STATE_ACTIVATED) {
            snprintf(why, sizeof(why), "state %u, reason %u", new_state, reason);
            wifiprov__attempt_link_down(&n->at, why);
        }
        break;
    case WIFIPROV__ATTEMPT_STATE_SAVED_WAIT:
    case WIFIPROV__ATTEMPT_STATE_LOST:
        if (new_state == NM_STATE_ACTIVATED) {
            n->ip_tries = 0;
            details_start(n);
        }
        break;
    }
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
    if (req->gen != n->add_gen || n->at.state != WIFIPROV__ATTEMPT_STATE_STARTING) {
        /* Superseded (a new attempt, forget, disconnect, shutdown) while NM was adding it. */
        if (!e && sd_bus_message_read(m, "o", &conn) >= 0) {
            wifiprov__info("networkmanager: deleting %s (its attempt was abandoned)", conn);
            delete_async(n, conn);
        }
        return 0;
    }
    if (e) {
        char why[256];

        snprintf(why, sizeof(why), "AddAndActivateConnection2 refused: %s: %s", e->name, e->message);
        wifiprov__attempt_fail(&n->at, map_add_error(e), why);
        return 0;
    }
    if (sd_bus_message_read(m, "oo", &conn, &active) < 0 || wifiprov__nm_set_str(&n->our_conn, conn) ||
        wifiprov__nm_set_str(&n->our_active, active)) {
        wifiprov__attempt_fail(&n->at, WIFIPROV_FAIL_REASON_OTHER, "bad AddAndActivateConnection2 reply");
        return 0;
    }
    wifiprov__info("networkmanager: profile %s activating as %s", conn, active);
    wifiprov__attempt_enter(&n->at, WIFIPROV__ATTEMPT_STATE_CONNECTING);
    /* It may have activated before this reply arrived. */
    if (n->dev_state == NM_STATE_ACTIVATED) {
        n->ip_tries = 0;
        details_start(n);
    }
    return 0;
}

static int build_settings(struct nm *n, sd_bus_message *m, const struct wifiprov_wifi_creds *c)
{
    const struct wifiprov_ap *ap = wifiprov__nm_cached_ap(n, c->ssid, c->ssid_len);
    char id[sizeof("wifiprov-") + 4 * WIFIPROV_SSID_MAX];
    size_t k = 0;
    int r;

    k = (size_t)snprintf(id, sizeof(id), "wifiprov-");
    for (size_t i = 0; i < c->ssid_len; i++)
        k += (size_t)snprintf(id + k, sizeof(id) - k, c->ssid[i] >= 0x20 && c->ssid[i] < 0x7f ? "%c" : "\\x%02x",
                              c->ssid[i]);
    if ((r = sd_bus_message_open_container(m, 'a', "{sa{sv}}")) < 0)
        return r;
    if ((r = wifiprov__nm_open_setting(m, "connection")) < 0 || (r = wifiprov__nm_append_sv(m, "id", "s", id)) < 0 ||
        (r = wifiprov__nm_append_sv(m, "type", "s", "802-11-wireless")) < 0 ||
        (r = wifiprov__nm_append_sv(m, "interface-name", "s", n->ifname)) < 0 || (r = wifiprov__nm_close_setting(m)) < 0)
        return r;
    if ((r = wifiprov__nm_open_setting(m, "802-11-wireless")) < 0 || (r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
        (r = sd_bus_message_append(m, "s", "ssid")) < 0 || (r = sd_bus_message_open_container(m, 'v', "ay")) < 0 ||
        (r = sd_bus_message_append_array(m, 'y', c->ssid, c->ssid_len)) < 0 ||
        (r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
        (r = wifiprov__nm_append_sv(m, "mode", "s", "infrastructure")) < 0)
        return r;
    if (!ap)
        r = wifiprov__nm_append_sv(m, "hidden", "b", 1); /* not seen by a scan: probe for it by name */
    if (r < 0 || (r = wifiprov__nm_close_setting(m)) < 0)
        return r;
    if (c->passphrase_len) {
        uint32_t auth = ap ? ap->auth : WIFIPROV_AUTH_MODE_WPA2_PSK;

        if ((r = wifiprov__nm_open_setting(m, "802-11-wireless-security")) < 0)
            return r;
        if (auth == WIFIPROV_AUTH_MODE_WEP) {
            if ((r = wifiprov__nm_append_sv(m, "key-mgmt", "s", "none")) < 0 ||
                (r = wifiprov__nm_append_sv(m, "wep-key-type", "u", (uint32_t)2)) < 0 ||
                (r = wifiprov__nm_append_sv(m, "wep-key0", "s", c->passphrase)) < 0)
                return r;
        } else {
            /* An SAE-only network needs "sae"; everything else (WPA2 or mixed) works with "wpa-psk". */
            n->at.sae = auth == WIFIPROV_AUTH_MODE_WPA3_PSK;
            if ((r = wifiprov__nm_append_sv(m, "key-mgmt", "s", auth == WIFIPROV_AUTH_MODE_WPA3_PSK ? "sae" : "wpa-psk")) < 0 ||
                (r = wifiprov__nm_append_sv(m, "psk", "s", c->passphrase)) < 0)
                return r;
        }
        if ((r = wifiprov__nm_close_setting(m)) < 0)
            return r;
    }
    /* The tag that tells our profiles apart (the start-up sweep deletes unsaved ones). */
    if ((r = wifiprov__nm_open_setting(m, "user")) < 0 || (r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
        (r = sd_bus_message_append(m, "s", "data")) < 0 || (r = sd_bus_message_open_container(m, 'v', "a{ss}")) < 0 ||
        (r = sd_bus_message_append(m, "a{ss}", 1, NM_OWNER_KEY, NM_OWNER_VALUE)) < 0 ||
        (r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
        (r = wifiprov__nm_close_setting(m)) < 0)
        return r;
    if ((r = wifiprov__nm_open_setting(m, "ipv4")) < 0 || (r = wifiprov__nm_append_sv(m, "method", "s", "auto")) < 0 ||
        (r = wifiprov__nm_close_setting(m)) < 0)
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
    /* A new attempt replaces an unfinished one of ours; the committed profile stays. */
    r = wifiprov__attempt_begin(&n->at, creds, CONNECT_TIMEOUT_MS, WIFIPROV__ATTEMPT_STATE_STARTING);
    if (r)
        return r;
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
    r = 0;
out:
    if (r)
        wifiprov__attempt_abandon(&n->at);
    sd_bus_message_unref(m);
    return r;
}

/* ---- the other operations ------------------------------------------------------- */

static int on_deactivated(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    const sd_bus_error *e = sd_bus_message_get_error(m);

    (void)ret_error;
    n->pending_ops--;
    if (e)
        wifiprov__warn("networkmanager: DeactivateConnection: %s", e->message);
    return 0;
}

static int nm_disconnect(void *ctx)
{
    struct nm *n = ctx;
    enum wifiprov__attempt_state was = n->at.state;
    bool ours = !n->at.committed && n->our_conn;
    char *active = n->our_active ? wifiprov__strdup(n->our_active) : NULL;
    int r = 0;

    /* Our uncommitted profile is deleted (which deactivates it); the saved one is deactivated. */
    wifiprov__attempt_abandon(&n->at);
    if (!ours && active && was != WIFIPROV__ATTEMPT_STATE_IDLE) {
        if (sd_bus_call_method_async(n->bus, NULL, NM_BUS, NM_PATH, NM_IFACE, "DeactivateConnection", on_deactivated, n,
                                     "o", active) < 0)
            r = WIFIPROV_ERR_WIFI;
        else
            n->pending_ops++;
    }
    wifiprov__free(active);
    return r;
}

static int on_updated(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct nm *n = userdata;
    const sd_bus_error *e = sd_bus_message_get_error(m);
    int err = 0;

    (void)ret_error;
    n->pending_ops--;
    n->commit_pending = false;
    if (e) {
        wifiprov__err("networkmanager: saving the profile failed: %s", e->message);
        err = WIFIPROV_ERR_IO;
    } else {
        wifiprov__info("networkmanager: profile saved to disk");
        n->at.committed = true;
    }
    if (n->commit_done_fn)
        n->commit_done_fn(n->cb_ctx, err);
    return 0;
}

static int nm_commit(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct nm *n = ctx;
    int r;

    (void)creds;
    if (!n->our_conn || n->at.state != WIFIPROV__ATTEMPT_STATE_CONNECTED)
        return WIFIPROV_ERR_STATE;
    if (n->at.committed)
        return 0;
    if (n->commit_pending)
        return WIFIPROV_ERR_PENDING;
    /* Empty settings keep the current ones; the flag writes them to disk. Done when NM answers. */
    r = sd_bus_call_method_async(n->bus, NULL, NM_BUS, n->our_conn, NM_CONN, "Update2", on_updated, n,
                                 "a{sa{sv}}ua{sv}", 0, NM_UPDATE2_TO_DISK, 0);
    if (r < 0) {
        wifiprov__err("networkmanager: Update2: %s", strerror(-r));
        return WIFIPROV_ERR_WIFI;
    }
    n->pending_ops++;
    n->commit_pending = true;
    return WIFIPROV_ERR_PENDING;
}

static int nm_forget(void *ctx)
{
    struct nm *n = ctx;

    /* Deletes an uncommitted profile of ours (also one still being added). */
    if (!n->at.committed)
        wifiprov__attempt_abandon(&n->at);
    return 0;
}

static int nm_connect_saved(struct wifiprov_backend *b, const struct wifiprov_wifi_creds *stored)
{
    struct nm *n = b->ctx;
    int r;

    if (stored && stored->ssid_len) {
        r = wifiprov__nm_has_profile(n, stored->ssid, stored->ssid_len);
        if (r == 0) {
            /* Deleted by hand (nmcli con delete): provisioning is needed again. */
            wifiprov__warn("networkmanager: NetworkManager no longer has a profile for the stored network");
            return WIFIPROV_ERR_NOT_FOUND;
        }
        if (r < 0)
            wifiprov__warn("networkmanager: cannot list the profiles; waiting for the stored network anyway");
    }
    n->ip_tries = 0;
    r = wifiprov__attempt_wait_saved(&n->at, stored ? stored->ssid : NULL, stored ? stored->ssid_len : 0,
                                     SAVED_TIMEOUT_MS);
    if (r)
        return r;
    /* NM activates saved profiles by itself; follow it, or read the details now if it has. */
    if (n->dev_state == NM_STATE_ACTIVATED)
        details_start(n);
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

void wifiprov__nm_destroy(struct nm *n)
{
    wifiprov__attempt_destroy(&n->at);
    n->retry_timer = sd_event_source_disable_unref(n->retry_timer);
    n->scan_timer = sd_event_source_disable_unref(n->scan_timer);
    n->add_gen++;
    n->match_state = sd_bus_slot_unref(n->match_state);
    n->match_props = sd_bus_slot_unref(n->match_props);
    n->match_supplicant = sd_bus_slot_unref(n->match_supplicant);
    if (n->bus) {
        /* Deletes and saves still on their way are finished first (NM checks the caller while it
         * is connected): at most two seconds, at shutdown only. A save answered now completes
         * its commit. Nothing else is reported any more. */
        n->details_gen++;
        n->scanning = false;
        n->round_gen++;
        for (int i = 0; i < 20 && n->pending_ops > 0; i++) {
            while (n->pending_ops > 0 && sd_bus_process(n->bus, NULL) > 0) {
            }
            if (n->pending_ops > 0)
                (void)sd_bus_wait(n->bus, 100 * 1000);
        }
        /* An uncommitted attempt is not left behind when the daemon stops. */
        if (n->our_conn && !n->at.committed) {
            sd_bus_message *reply = NULL;

            (void)sd_bus_call_method(n->bus, NM_BUS, n->our_conn, NM_CONN, "Delete", NULL, &reply, "");
            sd_bus_message_unref(reply);
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
        wifiprov__nm_destroy(b->ctx);
}

static const struct wifiprov_wifi_ops nm_ops = {
    .scan_start = wifiprov__nm_scan_start,
    .connect = nm_connect,
    .disconnect = nm_disconnect,
    .commit = nm_commit,
    .forget = nm_forget,
};

void wifiprov__nm_init(struct nm *n, void (*wifi_event_fn)(void *ctx, const struct wifiprov_wifi_event *ev))
{
    wifiprov__attempt_init(&n->at, "networkmanager", n->event, wifi_event_fn, n->cb_ctx, release, n);
    n->base.name = "networkmanager";
    n->base.ops = &nm_ops;
    n->base.ctx = n;
    n->base.connect_saved = nm_connect_saved;
    n->base.get_mac = nm_get_mac;
    n->base.free = nm_free;
}

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
    if ((r = wifiprov__nm_read_variant(m, "s", &state)) < 0)
        return r;
    if (n->at.sae && starting_or_connecting(n) && !strcmp(n->supplicant_state, "authenticating") &&
        !strcmp(state, "disconnected") && ++n->sae_rejects >= 2 &&
        wifiprov__nm_cached_ap(n, n->at.ssid, n->at.ssid_len)) {
        snprintf(n->supplicant_state, sizeof(n->supplicant_state), "%s", state);
        wifiprov__attempt_fail(&n->at, WIFIPROV_FAIL_REASON_AUTH_ERROR, "SAE authentication rejected twice");
        return 0;
    }
    snprintf(n->supplicant_state, sizeof(n->supplicant_state), "%s", state);
    return 0;
}

static int on_supplicant_props(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    const char *iface;

    (void)ret_error;
    if (sd_bus_message_read(m, "s", &iface) >= 0 && !strcmp(iface, "fi.w1.wpa_supplicant1.Interface"))
        (void)wifiprov__nm_props_each(m, supplicant_prop, userdata);
    return 0;
}

void wifiprov__nm_watch_supplicant(struct nm *n)
{
    sd_bus_message *reply = NULL;
    const char *path;

    if (sd_bus_call_method(n->bus, "fi.w1.wpa_supplicant1", "/fi/w1/wpa_supplicant1", "fi.w1.wpa_supplicant1",
                           "GetInterface", NULL, &reply, "s", n->ifname) < 0 ||
        sd_bus_message_read(reply, "o", &path) < 0 ||
        sd_bus_match_signal(n->bus, &n->match_supplicant, "fi.w1.wpa_supplicant1", path, PROPS, "PropertiesChanged",
                            on_supplicant_props, n) < 0)
        wifiprov__dbg("networkmanager: not watching wpa_supplicant for %s", n->ifname);
    sd_bus_message_unref(reply);
}
