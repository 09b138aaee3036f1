/*
 * BlueZ over D-Bus (sd-bus) for the BLE transport and `discover`. Calls are asynchronous
 * underneath and waited for here with ppoll on the bus, so a signal (Ctrl-C) interrupts
 * every wait; the caller then disconnects and exits.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bluez.h"
#include "cli.h"

#define BLUEZ "org.bluez"

static void set_err(struct cli_bluez *b, const char *fmt, const char *a, const char *c)
{
    snprintf(b->errmsg, sizeof(b->errmsg), fmt, a ? a : "", c ? c : "");
}

int cli_bluez_pump(struct cli_bluez *b, int64_t ms)
{
    struct pollfd p;
    struct timespec ts;
    uint64_t usec = 0;
    bool worked = false;
    int r, events;

    for (;;) {
        r = sd_bus_process(b->bus, NULL);
        if (r < 0) {
            snprintf(b->errmsg, sizeof(b->errmsg), "the system D-Bus connection was lost: %s", strerror(-r));
            return WIFIPROV_ERR_TRANSPORT;
        }
        if (r == 0)
            break;
        worked = true;
    }
    if (cli_interrupted) {
        snprintf(b->errmsg, sizeof(b->errmsg), "interrupted");
        return WIFIPROV_ERR_TRANSPORT;
    }
    /* Something was handled: let the caller look at it before waiting. */
    if (ms <= 0 || worked)
        return 0;
    events = sd_bus_get_events(b->bus);
    if (events < 0) {
        snprintf(b->errmsg, sizeof(b->errmsg), "the system D-Bus connection was lost");
        return WIFIPROV_ERR_TRANSPORT;
    }
    p.fd = sd_bus_get_fd(b->bus);
    p.events = (short)events;
    p.revents = 0;
    /* sd-bus may want to wake earlier (a method call's own timeout). */
    if (sd_bus_get_timeout(b->bus, &usec) >= 0 && usec != UINT64_MAX) {
        struct timespec now;
        uint64_t now_us;

        clock_gettime(CLOCK_MONOTONIC, &now);
        now_us = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
        if (usec <= now_us)
            ms = 0;
        else if ((int64_t)((usec - now_us + 999) / 1000) < ms)
            ms = (int64_t)((usec - now_us + 999) / 1000);
    }
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    r = ppoll(&p, 1, &ts, NULL);
    if (r < 0 && errno == EINTR && cli_interrupted) {
        snprintf(b->errmsg, sizeof(b->errmsg), "interrupted");
        return WIFIPROV_ERR_TRANSPORT;
    }
    return 0;
}

struct call_wait {
    bool done;
    sd_bus_message *reply;
};

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct call_wait *w = userdata;

    (void)ret_error;
    w->done = true;
    w->reply = sd_bus_message_ref(m);
    return 0;
}

int cli_bluez_call(struct cli_bluez *b, sd_bus_message *m, int64_t timeout_ms, sd_bus_message **reply, char *dbus_error,
                   size_t dbus_error_cap)
{
    struct call_wait w = {false, NULL};
    sd_bus_slot *slot = NULL;
    const sd_bus_error *e;
    int64_t end = cli_now_ms() + timeout_ms;
    int r, ret;

    if (reply)
        *reply = NULL;
    if (dbus_error && dbus_error_cap)
        dbus_error[0] = '\0';
    /* sd-bus's own timeout a little later than ours, so ours decides. */
    r = sd_bus_call_async(b->bus, &slot, m, on_reply, &w, (uint64_t)(timeout_ms + 1000) * 1000u);
    if (r < 0) {
        snprintf(b->errmsg, sizeof(b->errmsg), "cannot send %s to bluetoothd: %s", sd_bus_message_get_member(m),
                 strerror(-r));
        ret = WIFIPROV_ERR_TRANSPORT;
        goto out;
    }
    while (!w.done) {
        int64_t left = end - cli_now_ms();

        if (left <= 0) {
            snprintf(b->errmsg, sizeof(b->errmsg), "bluetoothd did not answer %s in time",
                     sd_bus_message_get_member(m));
            ret = WIFIPROV_ERR_TIMEOUT;
            goto out;
        }
        if ((ret = cli_bluez_pump(b, left)) < 0)
            goto out;
    }
    e = sd_bus_message_get_error(w.reply);
    if (e) {
        snprintf(b->errmsg, sizeof(b->errmsg), "%s", e->message ? e->message : e->name);
        if (dbus_error && dbus_error_cap)
            snprintf(dbus_error, dbus_error_cap, "%s", e->name);
        ret = WIFIPROV_ERR_TRANSPORT;
        goto out;
    }
    if (reply) {
        *reply = w.reply;
        w.reply = NULL;
    }
    ret = 0;
out:
    sd_bus_slot_unref(slot);
    sd_bus_message_unref(w.reply);
    return ret;
}

sd_bus_message *cli_bluez_method(struct cli_bluez *b, const char *path, const char *iface, const char *member)
{
    sd_bus_message *m = NULL;

    if (sd_bus_message_new_method_call(b->bus, &m, BLUEZ, path, iface, member) < 0) {
        snprintf(b->errmsg, sizeof(b->errmsg), "out of memory");
        return NULL;
    }
    return m;
}

int cli_bluez_get_bool(struct cli_bluez *b, const char *path, const char *iface, const char *prop, bool *out)
{
    sd_bus_message *m = cli_bluez_method(b, path, "org.freedesktop.DBus.Properties", "Get"), *reply = NULL;
    int v = 0, ret;

    if (!m)
        return WIFIPROV_ERR_NOMEM;
    if (sd_bus_message_append(m, "ss", iface, prop) < 0) {
        ret = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    ret = cli_bluez_call(b, m, 5000, &reply, NULL, 0);
    if (ret < 0)
        goto out;
    if (sd_bus_message_read(reply, "v", "b", &v) < 0) {
        snprintf(b->errmsg, sizeof(b->errmsg), "bluetoothd sent %s.%s in an unexpected form", iface, prop);
        ret = WIFIPROV_ERR_TRANSPORT;
        goto out;
    }
    *out = v != 0;
    ret = 0;
out:
    sd_bus_message_unref(m);
    sd_bus_message_unref(reply);
    return ret;
}

/* --- GetManagedObjects --------------------------------------------------------- */

static void copy_lower(char *dst, size_t cap, const char *src)
{
    size_t i;

    for (i = 0; src[i] && i + 1 < cap; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

/* Reads the variant of one property when it has signature @p sig; else skips it. @return 1 read, 0 skipped, <0. */
static int read_variant(sd_bus_message *m, const char *sig, void *out)
{
    const char *contents = NULL;
    char type;
    int r;

    r = sd_bus_message_peek_type(m, &type, &contents);
    if (r < 0)
        return r;
    if (type != 'v' || !contents || strcmp(contents, sig) != 0)
        return sd_bus_message_skip(m, "v") < 0 ? -EBADMSG : 0;
    r = sd_bus_message_enter_container(m, 'v', sig);
    if (r < 0)
        return r;
    r = sd_bus_message_read_basic(m, sig[0], out);
    if (r < 0)
        return r;
    r = sd_bus_message_exit_container(m);
    return r < 0 ? r : 1;
}

static int read_string_prop(sd_bus_message *m, const char *sig, char *dst, size_t cap, bool lower)
{
    const char *s = NULL;
    int r = read_variant(m, sig, &s);

    if (r == 1 && s) {
        if (lower)
            copy_lower(dst, cap, s);
        else
            snprintf(dst, cap, "%s", s);
    }
    return r;
}

static int read_bool_prop(sd_bus_message *m, bool *dst)
{
    int v = 0;
    int r = read_variant(m, "b", &v);

    if (r == 1)
        *dst = v != 0;
    return r;
}

static int read_uuids(sd_bus_message *m, struct cli_bluez_obj *o)
{
    const char *s;
    int r;

    r = sd_bus_message_enter_container(m, 'v', "as");
    if (r <= 0)
        return sd_bus_message_skip(m, "v") < 0 ? -EBADMSG : 0;
    r = sd_bus_message_enter_container(m, 'a', "s");
    if (r < 0)
        return r;
    while ((r = sd_bus_message_read(m, "s", &s)) > 0) {
        if (o->n_uuids < CLI_BLUEZ_MAX_UUIDS)
            copy_lower(o->uuids[o->n_uuids++], sizeof(o->uuids[0]), s);
    }
    if (r < 0)
        return r;
    r = sd_bus_message_exit_container(m);
    if (r < 0)
        return r;
    return sd_bus_message_exit_container(m);
}

static int read_prop(sd_bus_message *m, struct cli_bluez_obj *o, const char *key)
{
    int16_t rssi = 0;
    int r;

    switch (o->kind) {
    case CLI_BLUEZ_KIND_ADAPTER:
        if (!strcmp(key, "Powered"))
            return read_bool_prop(m, &o->powered);
        break;
    case CLI_BLUEZ_KIND_DEVICE:
        if (!strcmp(key, "Adapter"))
            return read_string_prop(m, "o", o->parent, sizeof(o->parent), false);
        if (!strcmp(key, "Address"))
            return read_string_prop(m, "s", o->address, sizeof(o->address), false);
        if (!strcmp(key, "Name"))
            return read_string_prop(m, "s", o->name, sizeof(o->name), false);
        if (!strcmp(key, "Alias"))
            return read_string_prop(m, "s", o->alias, sizeof(o->alias), false);
        if (!strcmp(key, "Connected"))
            return read_bool_prop(m, &o->connected);
        if (!strcmp(key, "ServicesResolved"))
            return read_bool_prop(m, &o->services_resolved);
        if (!strcmp(key, "UUIDs"))
            return read_uuids(m, o);
        if (!strcmp(key, "RSSI")) {
            r = read_variant(m, "n", &rssi);
            if (r == 1) {
                o->has_rssi = true;
                o->rssi = rssi;
            }
            return r;
        }
        break;
    case CLI_BLUEZ_KIND_SERVICE:
    case CLI_BLUEZ_KIND_CHAR:
    case CLI_BLUEZ_KIND_DESC:
        if (!strcmp(key, "UUID"))
            return read_string_prop(m, "s", o->uuid, sizeof(o->uuid), true);
        if ((o->kind == CLI_BLUEZ_KIND_SERVICE && !strcmp(key, "Device")) ||
            (o->kind == CLI_BLUEZ_KIND_CHAR && !strcmp(key, "Service")) ||
            (o->kind == CLI_BLUEZ_KIND_DESC && !strcmp(key, "Characteristic")))
            return read_string_prop(m, "o", o->parent, sizeof(o->parent), false);
        break;
    }
    return sd_bus_message_skip(m, "v") < 0 ? -EBADMSG : 0;
}

static int read_props(sd_bus_message *m, struct cli_bluez_obj *o)
{
    const char *key;
    int r;

    r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0)
        return r;
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        if ((r = sd_bus_message_read(m, "s", &key)) < 0)
            return r;
        if ((r = read_prop(m, o, key)) < 0)
            return r;
        if ((r = sd_bus_message_exit_container(m)) < 0)
            return r;
    }
    if (r < 0)
        return r;
    return sd_bus_message_exit_container(m);
}

static bool kind_of(const char *iface, enum cli_bluez_kind *k)
{
    static const struct {
        const char *iface;
        enum cli_bluez_kind kind;
    } map[] = {
        {"org.bluez.Adapter1", CLI_BLUEZ_KIND_ADAPTER},     {"org.bluez.Device1", CLI_BLUEZ_KIND_DEVICE},
        {"org.bluez.GattService1", CLI_BLUEZ_KIND_SERVICE}, {"org.bluez.GattCharacteristic1", CLI_BLUEZ_KIND_CHAR},
        {"org.bluez.GattDescriptor1", CLI_BLUEZ_KIND_DESC},
    };
    size_t i;

    for (i = 0; i < WIFIPROV_ARRAY_SIZE(map); i++) {
        if (!strcmp(iface, map[i].iface)) {
            *k = map[i].kind;
            return true;
        }
    }
    return false;
}

static int parse_objects(sd_bus_message *reply, struct cli_bluez_obj **objs, size_t *n)
{
    struct cli_bluez_obj *v = NULL, *tmp;
    size_t len = 0, cap = 0;
    const char *path, *iface;
    int r;

    r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
    if (r < 0)
        goto bad;
    while ((r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
        if ((r = sd_bus_message_read(reply, "o", &path)) < 0)
            goto bad;
        if ((r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}")) < 0)
            goto bad;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
            enum cli_bluez_kind kind;

            if ((r = sd_bus_message_read(reply, "s", &iface)) < 0)
                goto bad;
            if (!kind_of(iface, &kind)) {
                r = sd_bus_message_skip(reply, "a{sv}");
            } else {
                if (len == cap) {
                    cap = cap ? cap * 2 : 32;
                    tmp = realloc(v, cap * sizeof(*v));
                    if (!tmp) {
                        free(v);
                        return WIFIPROV_ERR_NOMEM;
                    }
                    v = tmp;
                }
                memset(&v[len], 0, sizeof(v[len]));
                v[len].kind = kind;
                snprintf(v[len].path, sizeof(v[len].path), "%s", path);
                r = read_props(reply, &v[len]);
                len++;
            }
            if (r < 0)
                goto bad;
            if ((r = sd_bus_message_exit_container(reply)) < 0)
                goto bad;
        }
        if (r < 0 || (r = sd_bus_message_exit_container(reply)) < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
            goto bad;
    }
    if (r < 0)
        goto bad;
    *objs = v;
    *n = len;
    return 0;
bad:
    free(v);
    return WIFIPROV_ERR_PROTO;
}

int cli_bluez_snapshot(struct cli_bluez *b, struct cli_bluez_obj **objs, size_t *n)
{
    sd_bus_message *m = cli_bluez_method(b, "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
    sd_bus_message *reply = NULL;
    char ename[128];
    int ret;

    *objs = NULL;
    *n = 0;
    if (!m)
        return WIFIPROV_ERR_NOMEM;
    ret = cli_bluez_call(b, m, 10000, &reply, ename, sizeof(ename));
    if (ret < 0) {
        if (!strcmp(ename, "org.freedesktop.DBus.Error.ServiceUnknown") ||
            !strcmp(ename, "org.freedesktop.DBus.Error.NameHasNoOwner"))
            snprintf(b->errmsg, sizeof(b->errmsg),
                     "bluetoothd is not running (org.bluez is not on the system bus): start it, e.g. "
                     "'systemctl start bluetooth'");
        goto out;
    }
    ret = parse_objects(reply, objs, n);
    if (ret == WIFIPROV_ERR_PROTO) {
        snprintf(b->errmsg, sizeof(b->errmsg), "cannot parse bluetoothd's object list");
        ret = WIFIPROV_ERR_TRANSPORT;
    }
out:
    sd_bus_message_unref(m);
    sd_bus_message_unref(reply);
    return ret;
}

/* --- adapter and discovery ------------------------------------------------------- */

int cli_bluez_open(struct cli_bluez *b, const char *adapter)
{
    struct cli_bluez_obj *objs = NULL;
    size_t n = 0, i;
    const struct cli_bluez_obj *a = NULL;
    char names[256] = "";
    int r, ret;

    memset(b, 0, sizeof(*b));
    r = sd_bus_open_system(&b->bus);
    if (r < 0) {
        set_err(b, "cannot connect to the system D-Bus (%s): BLE needs dbus and bluetoothd running%s", strerror(-r),
                NULL);
        ret = WIFIPROV_ERR_TRANSPORT;
        goto out;
    }
    ret = cli_bluez_snapshot(b, &objs, &n);
    if (ret < 0)
        goto out;
    for (i = 0; i < n; i++) {
        const char *base;

        if (objs[i].kind != CLI_BLUEZ_KIND_ADAPTER)
            continue;
        base = strrchr(objs[i].path, '/') ? strrchr(objs[i].path, '/') + 1 : objs[i].path;
        if (strlen(names) + strlen(base) + 2 < sizeof(names)) {
            if (names[0])
                strcat(names, " ");
            strcat(names, base);
        }
        if (!a && (!adapter || !strcmp(base, adapter)))
            a = &objs[i];
    }
    if (!a) {
        if (adapter && names[0])
            set_err(b, "there is no Bluetooth adapter %s (adapters: %s): pass --adapter with one of them", adapter,
                    names);
        else
            set_err(b,
                    "bluetoothd has no Bluetooth adapter%s%s: plug one in, or check 'bluetoothctl list' and "
                    "'rfkill list'",
                    adapter ? " " : "", adapter);
        ret = WIFIPROV_ERR_TRANSPORT;
        goto out;
    }
    snprintf(b->adapter_path, sizeof(b->adapter_path), "%s", a->path);
    snprintf(b->adapter, sizeof(b->adapter), "%.31s", strrchr(a->path, '/') + 1);
    if (!a->powered) {
        set_err(b, "Bluetooth adapter %s is off. Maybe try 'bluetoothctl power on'%s?", b->adapter,
                adapter ? "" : " (or pass --adapter)");
        ret = WIFIPROV_ERR_TRANSPORT;
        goto out;
    }
    ret = 0;
out:
    free(objs);
    return ret;
}

void cli_bluez_close(struct cli_bluez *b)
{
    if (!b->bus)
        return;
    cli_bluez_discovery_stop(b);
    sd_bus_flush_close_unref(b->bus);
    b->bus = NULL;
}

int cli_bluez_discovery_start(struct cli_bluez *b)
{
    sd_bus_message *m = cli_bluez_method(b, b->adapter_path, "org.bluez.Adapter1", "SetDiscoveryFilter");
    char ename[128];
    int ret;

    if (!m)
        return WIFIPROV_ERR_NOMEM;
    if (sd_bus_message_append(m, "a{sv}", 1, "Transport", "s", "le") < 0) {
        ret = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    ret = cli_bluez_call(b, m, 5000, NULL, NULL, 0);
    if (ret < 0)
        goto out;
    sd_bus_message_unref(m);
    m = cli_bluez_method(b, b->adapter_path, "org.bluez.Adapter1", "StartDiscovery");
    if (!m)
        return WIFIPROV_ERR_NOMEM;
    ret = cli_bluez_call(b, m, 10000, NULL, ename, sizeof(ename));
    if (ret == WIFIPROV_ERR_TRANSPORT && !strcmp(ename, "org.bluez.Error.InProgress"))
        ret = 0; /* already discovering for us */
    if (ret < 0) {
        char why[sizeof(b->errmsg)];

        snprintf(why, sizeof(why), "%s", b->errmsg);
        snprintf(b->errmsg, sizeof(b->errmsg), "cannot start discovery on %.32s: %.400s", b->adapter, why);
        goto out;
    }
    b->discovering = true;
out:
    sd_bus_message_unref(m);
    return ret;
}

void cli_bluez_discovery_stop(struct cli_bluez *b)
{
    sd_bus_message *m;
    volatile sig_atomic_t saved = cli_interrupted;

    if (!b->discovering)
        return;
    b->discovering = false;
    m = cli_bluez_method(b, b->adapter_path, "org.bluez.Adapter1", "StopDiscovery");
    if (!m)
        return;
    /* Also after Ctrl-C: cleaning up is the point. */
    cli_interrupted = 0;
    (void)cli_bluez_call(b, m, 3000, NULL, NULL, 0);
    cli_interrupted = saved;
    sd_bus_message_unref(m);
}

/* --- UUIDs ----------------------------------------------------------------------- */

void cli_ble_char_uuid(const char *service_uuid, uint16_t id, char out[CLI_BLE_UUID_LEN + 1])
{
    char idhex[5];

    copy_lower(out, CLI_BLE_UUID_LEN + 1, service_uuid);
    snprintf(idhex, sizeof(idhex), "%04x", id);
    memcpy(out + 4, idhex, 4);
}

bool cli_ble_uuid_valid(const char *s)
{
    size_t i;

    if (strlen(s) != CLI_BLE_UUID_LEN)
        return false;
    for (i = 0; i < CLI_BLE_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}
