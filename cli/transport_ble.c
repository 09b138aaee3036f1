/*
 * BLE transport through BlueZ (PROTOCOL.md §7.2): LE discovery on the adapter, the device
 * picked by its advertised name, Connect, ServicesResolved, the provisioning service (the
 * advertised UUID when the device lists exactly one, else the ESP-IDF example's), and the
 * endpoint map from every characteristic's 0x2901 descriptor, with the fixed endpoint ids
 * as the fallback for firmware whose descriptors are missing. One exchange is a write with
 * response followed by a read; bluetoothd does long writes and long reads itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bluez.h"
#include "cli.h"
#include "transport.h"

#define BLE_MAX_EPS 24
/* Connect and service discovery are bounded on their own too, within --timeout. */
#define BLE_CONNECT_MS 30000
#define BLE_RESOLVE_MS 30000
/*
 * A device bluetoothd already knows by that name (from an earlier scan or connection) but
 * that this scan has not heard after BLE_KNOWN_AFTER_MS is connected to directly: the
 * kernel then connects when it hears the device's advertising, without waiting for the
 * scan to report it. Such an attempt gets BLE_KNOWN_CONNECT_MS, and is repeated at most
 * every BLE_KNOWN_RETRY_MS while scanning goes on.
 */
#define BLE_KNOWN_AFTER_MS 3000
#define BLE_KNOWN_CONNECT_MS 8000
#define BLE_KNOWN_RETRY_MS 16000

struct ble_ep {
    char name[WIFIPROV_EP_NAME_MAX + 1];
    char path[192];
};

struct ble_priv {
    struct cli_bluez bz;
    char name[249]; /* the advertised name looked for */
    char dev_path[192];
    char address[18];
    char service_uuid[CLI_BLE_UUID_LEN + 1];
    struct ble_ep eps[BLE_MAX_EPS];
    size_t n_eps;
    sd_bus_slot *match;
    bool link_lost;
    bool connected;         /* Connect succeeded: Disconnect at the end */
    bool known_only;        /* dev_path is a known device this scan has not heard */
    int64_t search_t0_ms;   /* when the search for the device began */
    int64_t known_tried_ms; /* when the last such attempt started (0: none yet) */
};

/* Fixed endpoint ids of the manager (§7.2), for devices without 0x2901 descriptors. */
static const struct {
    const char *name;
    uint16_t id;
} fixed_ids[] = {
    {WIFIPROV_EP_CTRL, 0xFF4F},   {WIFIPROV_EP_SCAN, 0xFF50},    {WIFIPROV_EP_SESSION, 0xFF51},
    {WIFIPROV_EP_CONFIG, 0xFF52}, {WIFIPROV_EP_VERSION, 0xFF53}, {"custom-data", 0xFF54},
};

static int64_t left_ms(const struct cli_transport *t, int64_t cap)
{
    int64_t left;

    if (!t->deadline_ms)
        return cap;
    left = t->deadline_ms + cli_prompt_ms - cli_now_ms();
    return left < cap ? left : cap;
}

static int on_props_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct ble_priv *p = userdata;
    const char *iface, *key;
    int v, r;

    (void)ret_error;
    if (sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, "org.bluez.Device1") != 0)
        return 0;
    if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
        return 0;
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        if (sd_bus_message_read(m, "s", &key) < 0)
            return 0;
        if (!strcmp(key, "Connected") && sd_bus_message_read(m, "v", "b", &v) >= 0) {
            if (!v && p->connected)
                p->link_lost = true;
        } else if (sd_bus_message_skip(m, "v") < 0) {
            return 0;
        }
        if (sd_bus_message_exit_container(m) < 0)
            return 0;
    }
    return 0;
}

/* Appends "name" to a comma-separated list once. */
static void add_seen(char *list, size_t cap, const char *name)
{
    size_t n = strlen(list), k = strlen(name);
    const char *p = list;

    while ((p = strstr(p, name))) {
        if ((p == list || p[-2] == ',') && (p[k] == ',' || p[k] == '\0'))
            return;
        p += k;
    }
    if (n + k + 3 >= cap)
        return;
    snprintf(list + n, cap - n, "%s%s", n ? ", " : "", name);
}

static void use_device(struct ble_priv *p, const struct cli_bluez_obj *d)
{
    snprintf(p->dev_path, sizeof(p->dev_path), "%s", d->path);
    snprintf(p->address, sizeof(p->address), "%s", d->address);
    if (d->n_uuids == 1 && cli_ble_uuid_valid(d->uuids[0]))
        snprintf(p->service_uuid, sizeof(p->service_uuid), "%s", d->uuids[0]);
    else
        snprintf(p->service_uuid, sizeof(p->service_uuid), "%s", CLI_BLE_DEFAULT_SERVICE);
}

/*
 * Discovery until a device named p->name shows up (being discovered now, or connected), or
 * until it is time to try a device of that name bluetoothd knows from before (known_only).
 */
static int find_device(struct cli_transport *t, struct ble_priv *p)
{
    struct cli_bluez_obj *objs = NULL;
    size_t n = 0, i;
    char seen[400] = "";
    int64_t t0 = p->search_t0_ms, last_scan = cli_now_ms();
    int ret;

    p->known_only = false;
    if ((ret = cli_bluez_discovery_start(&p->bz)) < 0)
        goto fail;
    if (t->verbose)
        fprintf(stderr, "Discovering %s on %s...\n", p->name, p->bz.adapter);
    for (;;) {
        const struct cli_bluez_obj *known = NULL;
        int64_t now;

        free(objs);
        objs = NULL;
        if ((ret = cli_bluez_snapshot(&p->bz, &objs, &n)) < 0)
            goto fail;
        for (i = 0; i < n; i++) {
            const struct cli_bluez_obj *d = &objs[i];
            const char *nm = d->name[0] ? d->name : d->alias;
            bool heard = d->has_rssi || d->connected;

            if (d->kind != CLI_BLUEZ_KIND_DEVICE || strcmp(d->parent, p->bz.adapter_path) != 0)
                continue;
            if (heard && d->name[0])
                add_seen(seen, sizeof(seen), d->name);
            if (strcmp(nm, p->name) != 0)
                continue;
            if (!heard) {
                known = d; /* known from earlier, not heard now */
                continue;
            }
            use_device(p, d);
            ret = 0;
            goto out;
        }
        now = cli_now_ms();
        if (known && now - t0 >= BLE_KNOWN_AFTER_MS &&
            (!p->known_tried_ms || now - p->known_tried_ms >= BLE_KNOWN_RETRY_MS)) {
            use_device(p, known);
            p->known_only = true;
            p->known_tried_ms = now;
            ret = 0;
            goto out;
        }
        if (left_ms(t, INT64_MAX) <= 0) {
            /* A long list of names seen may cut the advice short; the message stays readable. */
            if (snprintf(t->errmsg, sizeof(t->errmsg),
                         "Device not found: no BLE device named '%s' on %s within %.1f s (devices seen: %s); is it "
                         "advertising? ('wifiprov discover' lists them)",
                         p->name, p->bz.adapter, (double)(cli_now_ms() - t0) / 1000.0,
                         seen[0] ? seen : "none") >= (int)sizeof(t->errmsg))
                t->errmsg[sizeof(t->errmsg) - 2] = '.';
            ret = WIFIPROV_ERR_TRANSPORT;
            goto out;
        }
        if (cli_now_ms() - last_scan >= CLI_BLE_RESCAN_MS) {
            cli_bluez_discovery_stop(&p->bz);
            if ((ret = cli_bluez_discovery_start(&p->bz)) < 0)
                goto fail;
            last_scan = cli_now_ms();
        }
        if ((ret = cli_bluez_pump(&p->bz, left_ms(t, 250))) < 0)
            goto fail;
    }
fail:
    snprintf(t->errmsg, sizeof(t->errmsg), "%s", p->bz.errmsg);
out:
    free(objs);
    return ret;
}

static int connect_device(struct cli_transport *t, struct ble_priv *p)
{
    sd_bus_message *m = NULL;
    bool resolved = false;
    int64_t t0;
    int ret;

    if (t->verbose)
        fprintf(stderr, "Connecting to %s (%s)%s...\n", p->name, p->address,
                p->known_only ? ", known from before but not heard by this scan" : "");
    ret = sd_bus_match_signal(p->bz.bus, &p->match, "org.bluez", p->dev_path, "org.freedesktop.DBus.Properties",
                              "PropertiesChanged", on_props_changed, p);
    if (ret < 0) {
        snprintf(t->errmsg, sizeof(t->errmsg), "cannot watch the device's state on D-Bus");
        return WIFIPROV_ERR_TRANSPORT;
    }
    m = cli_bluez_method(&p->bz, p->dev_path, "org.bluez.Device1", "Connect");
    if (!m)
        return WIFIPROV_ERR_NOMEM;
    /* From here on Ctrl-C ends the wait, and the link is closed before exiting. */
    cli_defer_interrupt = 1;
    p->connected = true;
    ret = cli_bluez_call(&p->bz, m, left_ms(t, p->known_only ? BLE_KNOWN_CONNECT_MS : BLE_CONNECT_MS), NULL, NULL, 0);
    sd_bus_message_unref(m);
    if (ret < 0) {
        snprintf(t->errmsg, sizeof(t->errmsg), "Failed to connect to %.64s (%s) from %.32s: %.400s", p->name,
                 p->address, p->bz.adapter, p->bz.errmsg);
        return WIFIPROV_ERR_TRANSPORT;
    }
    if (t->verbose)
        fprintf(stderr, "Getting Services...\n");
    t0 = cli_now_ms();
    for (;;) {
        ret = cli_bluez_get_bool(&p->bz, p->dev_path, "org.bluez.Device1", "ServicesResolved", &resolved);
        if (ret < 0)
            break;
        if (resolved)
            return 0;
        if (p->link_lost) {
            snprintf(t->errmsg, sizeof(t->errmsg), "%s (%s) disconnected before its services were resolved", p->name,
                     p->address);
            return WIFIPROV_ERR_TRANSPORT;
        }
        if (left_ms(t, BLE_RESOLVE_MS - (cli_now_ms() - t0)) <= 0) {
            snprintf(t->errmsg, sizeof(t->errmsg), "the services of %s (%s) were not resolved within %.1f s", p->name,
                     p->address, (double)(cli_now_ms() - t0) / 1000.0);
            return WIFIPROV_ERR_TRANSPORT;
        }
        if ((ret = cli_bluez_pump(&p->bz, left_ms(t, 100))) < 0)
            break;
    }
    snprintf(t->errmsg, sizeof(t->errmsg), "%s", p->bz.errmsg);
    return ret;
}

static int read_value(struct ble_priv *p, const char *path, const char *iface, uint8_t *out, size_t cap, size_t *len,
                      int64_t timeout_ms)
{
    sd_bus_message *m = cli_bluez_method(&p->bz, path, iface, "ReadValue"), *reply = NULL;
    const void *data = NULL;
    size_t n = 0;
    int ret;

    if (!m)
        return WIFIPROV_ERR_NOMEM;
    if (sd_bus_message_append(m, "a{sv}", 0) < 0) {
        ret = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    if ((ret = cli_bluez_call(&p->bz, m, timeout_ms, &reply, NULL, 0)) < 0)
        goto out;
    if (sd_bus_message_read_array(reply, 'y', &data, &n) < 0) {
        snprintf(p->bz.errmsg, sizeof(p->bz.errmsg), "bluetoothd sent a value in an unexpected form");
        ret = WIFIPROV_ERR_TRANSPORT;
        goto out;
    }
    if (n > cap) {
        snprintf(p->bz.errmsg, sizeof(p->bz.errmsg), "a value of %zu bytes is larger than %zu", n, cap);
        ret = WIFIPROV_ERR_NOSPC;
        goto out;
    }
    if (n)
        memcpy(out, data, n);
    *len = n;
    ret = 0;
out:
    sd_bus_message_unref(m);
    sd_bus_message_unref(reply);
    return ret;
}

static void add_ep(struct ble_priv *p, const char *name, const char *path)
{
    size_t i;

    for (i = 0; i < p->n_eps; i++) {
        if (!strcmp(p->eps[i].name, name))
            return;
    }
    if (p->n_eps == BLE_MAX_EPS)
        return;
    snprintf(p->eps[p->n_eps].name, sizeof(p->eps[0].name), "%s", name);
    snprintf(p->eps[p->n_eps].path, sizeof(p->eps[0].path), "%s", path);
    p->n_eps++;
}

static const struct ble_ep *find_ep(const struct ble_priv *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->n_eps; i++) {
        if (!strcasecmp(p->eps[i].name, name))
            return &p->eps[i];
    }
    return NULL;
}

/* The endpoint map: names from the 0x2901 descriptors, else the fixed ids (§7.2, not esp_prov's P12). */
static int map_endpoints(struct cli_transport *t, struct ble_priv *p)
{
    struct cli_bluez_obj *objs = NULL;
    const char *svc = NULL;
    size_t n = 0, i, j, k, nchars = 0;
    int ret;

    if ((ret = cli_bluez_snapshot(&p->bz, &objs, &n)) < 0) {
        snprintf(t->errmsg, sizeof(t->errmsg), "%s", p->bz.errmsg);
        goto out;
    }
    for (i = 0; i < n && !svc; i++) {
        if (objs[i].kind == CLI_BLUEZ_KIND_SERVICE && !strcmp(objs[i].parent, p->dev_path) &&
            !strcmp(objs[i].uuid, p->service_uuid))
            svc = objs[i].path;
    }
    if (!svc) {
        snprintf(t->errmsg, sizeof(t->errmsg), "Provisioning service not found: %s (%s) has no GATT service %s",
                 p->name, p->address, p->service_uuid);
        ret = WIFIPROV_ERR_TRANSPORT;
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (objs[i].kind != CLI_BLUEZ_KIND_CHAR || strcmp(objs[i].parent, svc) != 0)
            continue;
        nchars++;
        for (j = 0; j < n; j++) {
            uint8_t buf[WIFIPROV_EP_NAME_MAX + 1];
            size_t len = 0;
            char name[WIFIPROV_EP_NAME_MAX + 1];

            if (objs[j].kind != CLI_BLUEZ_KIND_DESC || strcmp(objs[j].parent, objs[i].path) != 0 ||
                strcmp(objs[j].uuid, CLI_BLE_USER_DESC_UUID) != 0)
                continue;
            ret =
                read_value(p, objs[j].path, "org.bluez.GattDescriptor1", buf, sizeof(buf) - 1, &len, left_ms(t, 10000));
            if (ret == WIFIPROV_ERR_NOSPC)
                break; /* not one of ours */
            if (ret < 0) {
                snprintf(t->errmsg, sizeof(t->errmsg), "cannot read the endpoint names of %.64s: %.400s", p->name,
                         p->bz.errmsg);
                goto out;
            }
            for (k = 0; k < len; k++)
                name[k] = (char)(buf[k] >= 'A' && buf[k] <= 'Z' ? buf[k] - 'A' + 'a' : buf[k]);
            name[len] = '\0';
            if (len)
                add_ep(p, name, objs[i].path);
            break;
        }
    }
    if (!find_ep(p, WIFIPROV_EP_SESSION) || !find_ep(p, WIFIPROV_EP_CONFIG) || !find_ep(p, WIFIPROV_EP_VERSION)) {
        /* Old firmware without the descriptors: the ids the manager assigns. */
        if (t->verbose)
            fprintf(stderr, "%s lacks endpoint names on its characteristics; using the fixed ids\n", p->name);
        p->n_eps = 0;
        for (k = 0; k < WIFIPROV_ARRAY_SIZE(fixed_ids); k++) {
            char uuid[CLI_BLE_UUID_LEN + 1];

            cli_ble_char_uuid(p->service_uuid, fixed_ids[k].id, uuid);
            for (i = 0; i < n; i++) {
                if (objs[i].kind == CLI_BLUEZ_KIND_CHAR && !strcmp(objs[i].parent, svc) && !strcmp(objs[i].uuid, uuid))
                    add_ep(p, fixed_ids[k].name, objs[i].path);
            }
        }
    }
    if (!find_ep(p, WIFIPROV_EP_SESSION) || !find_ep(p, WIFIPROV_EP_VERSION)) {
        snprintf(t->errmsg, sizeof(t->errmsg),
                 "%s (%s) has the service %s but not the provisioning endpoints (%zu characteristics)", p->name,
                 p->address, p->service_uuid, nchars);
        ret = WIFIPROV_ERR_TRANSPORT;
        goto out;
    }
    ret = 0;
out:
    free(objs);
    return ret;
}

/* Device1.Disconnect (which also cancels a pending Connect) and forgets the link's watch. */
static void disconnect(struct cli_transport *t, struct ble_priv *p)
{
    if (p->connected && p->bz.bus && !p->link_lost) {
        sd_bus_message *m = cli_bluez_method(&p->bz, p->dev_path, "org.bluez.Device1", "Disconnect");
        volatile sig_atomic_t saved = cli_interrupted;

        if (t->verbose)
            fprintf(stderr, "Disconnecting...\n");
        /* Also (and especially) after Ctrl-C. */
        cli_interrupted = 0;
        if (m)
            (void)cli_bluez_call(&p->bz, m, 5000, NULL, NULL, 0);
        cli_interrupted = saved;
        sd_bus_message_unref(m);
    }
    p->match = sd_bus_slot_unref(p->match);
    p->connected = false;
    p->link_lost = false;
}

static void ble_close(struct cli_transport *t);

static int ble_open(struct cli_transport *t, const struct cli_opts *o)
{
    struct ble_priv *p;
    int ret;

    p = calloc(1, sizeof(*p));
    if (!p)
        return WIFIPROV_ERR_NOMEM;
    t->priv = p;
    snprintf(p->name, sizeof(p->name), "%s", o->ble_name ? o->ble_name : "");
    ret = cli_bluez_open(&p->bz, o->adapter);
    if (ret < 0) {
        snprintf(t->errmsg, sizeof(t->errmsg), "%s", p->bz.errmsg);
        goto out;
    }
    p->search_t0_ms = cli_now_ms();
    for (;;) {
        if ((ret = find_device(t, p)) < 0)
            goto out;
        cli_bluez_discovery_stop(&p->bz);
        ret = connect_device(t, p);
        if (ret == 0 || !p->known_only || cli_interrupted || left_ms(t, INT64_MAX) <= 0)
            break;
        /* The known device did not answer (gone, or out of range): cancel and scan again. */
        if (t->verbose)
            fprintf(stderr, "%s (%s) did not answer: %s; scanning again\n", p->name, p->address, t->errmsg);
        disconnect(t, p);
        t->errmsg[0] = '\0';
    }
    if (ret < 0)
        goto out;
    if ((ret = map_endpoints(t, p)) < 0)
        goto out;
    if (t->verbose)
        fprintf(stderr, "Connected to %s (%s) from %s; service %s, %zu endpoints\n", p->name, p->address, p->bz.adapter,
                p->service_uuid, p->n_eps);
    ret = 0;
out:
    return ret;
}

static int ble_xfer(void *ctx, const char *endpoint, const uint8_t *req, size_t req_len, uint8_t *resp, size_t resp_cap,
                    size_t *resp_len)
{
    struct cli_transport *t = ctx;
    struct ble_priv *p = t->priv;
    const struct ble_ep *ep = find_ep(p, endpoint);
    sd_bus_message *m = NULL;
    const char *step = "write to";
    bool connected = true;
    int ret;

    t->errmsg[0] = '\0';
    if (!ep) {
        snprintf(t->errmsg, sizeof(t->errmsg), "%s has no endpoint '%s' over BLE", p->name, endpoint);
        return WIFIPROV_ERR_TRANSPORT;
    }
    if (req_len == 0 || req_len > WIFIPROV_MAX_MSG) {
        snprintf(t->errmsg, sizeof(t->errmsg), "request of %zu bytes cannot be sent over BLE", req_len);
        return WIFIPROV_ERR_INVAL;
    }
    if (p->link_lost) {
        ret = WIFIPROV_ERR_TRANSPORT;
        goto lost;
    }
    if (t->deadline_ms && left_ms(t, INT64_MAX) <= 0) {
        snprintf(t->errmsg, sizeof(t->errmsg), "no time left for /%s", endpoint);
        return WIFIPROV_ERR_TIMEOUT;
    }
    if (t->debug) {
        if (cli_transport_request_is_secret(t, endpoint))
            fprintf(stderr, "debug: -> /%s: %zu bytes (plaintext credentials, not shown)\n", endpoint, req_len);
        else
            cli_transport_debug_dump(t, endpoint, "->", req, req_len);
    }
    t->exchanges++;
    m = cli_bluez_method(&p->bz, ep->path, "org.bluez.GattCharacteristic1", "WriteValue");
    if (!m)
        return WIFIPROV_ERR_NOMEM;
    /* Write with response: the device runs the request before it acknowledges (§7.2). */
    if (sd_bus_message_append_array(m, 'y', req, req_len) < 0 ||
        sd_bus_message_append(m, "a{sv}", 1, "type", "s", "request") < 0) {
        ret = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    ret = cli_bluez_call(&p->bz, m, left_ms(t, INT64_MAX), NULL, NULL, 0);
    if (ret == 0) {
        step = "read from";
        ret = read_value(p, ep->path, "org.bluez.GattCharacteristic1", resp, resp_cap, resp_len, left_ms(t, INT64_MAX));
    }
    if (ret == 0) {
        if (t->debug)
            cli_transport_debug_dump(t, endpoint, "<-", resp, *resp_len);
        goto out;
    }
    if (cli_interrupted) {
        snprintf(t->errmsg, sizeof(t->errmsg), "interrupted");
        ret = WIFIPROV_ERR_TRANSPORT;
        goto out;
    }
    /* A failed GATT operation: tell a dropped link from a refused request. */
    if (!p->link_lost && cli_bluez_get_bool(&p->bz, p->dev_path, "org.bluez.Device1", "Connected", &connected) == 0 &&
        !connected)
        p->link_lost = true;
    if (p->link_lost)
        goto lost;
    if (ret == WIFIPROV_ERR_TIMEOUT)
        snprintf(t->errmsg, sizeof(t->errmsg), "no reply from %s on /%s in time", p->name, endpoint);
    else
        snprintf(t->errmsg, sizeof(t->errmsg), "the GATT %s /%s failed: %.400s", step, endpoint, p->bz.errmsg);
    if (ret != WIFIPROV_ERR_TIMEOUT && ret != WIFIPROV_ERR_NOSPC)
        ret = WIFIPROV_ERR_TRANSPORT;
    goto out;
lost:
    snprintf(t->errmsg, sizeof(t->errmsg), "the BLE link to %s (%s) was lost during /%s", p->name, p->address,
             endpoint);
    ret = WIFIPROV_ERR_TRANSPORT;
out:
    sd_bus_message_unref(m);
    return ret;
}

static void ble_close(struct cli_transport *t)
{
    struct ble_priv *p = t->priv;

    if (!p)
        return;
    disconnect(t, p);
    cli_bluez_close(&p->bz);
    cli_defer_interrupt = 0;
    free(p);
    t->priv = NULL;
}

const struct cli_transport_ops cli_transport_ble = {
    .name = "ble",
    .scan_page = 4, /* esp_prov's limit over BLE (§7.2): small replies for small ATT buffers */
    .open = ble_open,
    .xfer = ble_xfer,
    .close = ble_close,
};
