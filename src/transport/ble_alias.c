/*
 * The adapter's GAP device name while BLE serves (see ble_alias.h).
 *
 * <state-dir>/ble-alias:
 *   address=00:11:22:33:44:55
 *   path=/org/bluez/hci0
 *   ours=<hex of the alias we set>
 *   previous=<hex of the alias that goes back; empty = the system name>
 */
#include <stdio.h>
#include <string.h>

#include "transport/ble.h"
#include "transport/ble_agent.h"
#include "transport/ble_alias.h"
#include "util.h"
#include "wifi/wifiutil.h"

#define BLUEZ "org.bluez"
#define IFACE_ADAPTER "org.bluez.Adapter1"
#define IFACE_PROPS "org.freedesktop.DBus.Properties"
#define RECORD "ble-alias"
#define RECORD_MAX (64 + 4 * (WIFIPROV_BLE_ALIAS_MAX + 16))
/* Stop must not hang on a stuck bluetoothd. */
#define STOP_TIMEOUT_US (2u * 1000000u)

struct record {
    char address[24];
    char path[32];
    char ours[WIFIPROV_BLE_ALIAS_MAX + 1];
    char previous[WIFIPROV_BLE_ALIAS_MAX + 1];
};

static int hex_field(const char *text, const char *key, char *out, size_t cap)
{
    char hex[2 * WIFIPROV_BLE_ALIAS_MAX + 2];
    size_t len;

    if (!wifiprov__wifiutil_kv(text, key, hex, sizeof(hex)))
        return WIFIPROV_ERR_INVAL;
    if (wifiprov__hex_decode(hex, (uint8_t *)out, cap - 1, &len) != 0 || memchr(out, '\0', len))
        return WIFIPROV_ERR_INVAL;
    out[len] = '\0';
    return 0;
}

/* @return 0, WIFIPROV_ERR_NOT_FOUND (no record) or another error (logged). */
static int load(const char *dir, struct record *rec)
{
    char text[RECORD_MAX];
    int r = wifiprov__wifiutil_read_file(dir, RECORD, text, sizeof(text));

    if (r == WIFIPROV_ERR_NOT_FOUND)
        return r;
    if (r == 0 && wifiprov__wifiutil_kv(text, "address", rec->address, sizeof(rec->address)) &&
        wifiprov__wifiutil_kv(text, "path", rec->path, sizeof(rec->path)) &&
        hex_field(text, "ours", rec->ours, sizeof(rec->ours)) == 0 &&
        hex_field(text, "previous", rec->previous, sizeof(rec->previous)) == 0)
        return 0;
    wifiprov__warn("ble: %s/%s is unreadable or damaged; ignoring it (the adapter may keep a name an earlier "
                   "run gave it: check `bluetoothctl show`)",
                   dir, RECORD);
    return r ? r : WIFIPROV_ERR_INVAL;
}

static int save(const char *dir, const char *address, const char *path, const char *ours, const char *previous)
{
    char text[RECORD_MAX], ours_hex[2 * WIFIPROV_BLE_ALIAS_MAX + 1], prev_hex[2 * WIFIPROV_BLE_ALIAS_MAX + 1];
    int len;

    wifiprov__hex_encode((const uint8_t *)ours, strlen(ours), ours_hex);
    wifiprov__hex_encode((const uint8_t *)previous, strlen(previous), prev_hex);
    len =
        snprintf(text, sizeof(text), "address=%s\npath=%s\nours=%s\nprevious=%s\n", address, path, ours_hex, prev_hex);
    return wifiprov__wifiutil_write_atomic(dir, RECORD, text, (size_t)len);
}

static void forget(const char *dir)
{
    if (wifiprov__wifiutil_remove_file(dir, RECORD) != 0)
        wifiprov__warn("ble: cannot remove %s/%s", dir, RECORD);
}

/* Sets the alias (blocking; @p timeout_us 0 = sd-bus's default). */
static int set_alias(sd_bus *bus, const char *path, const char *alias, uint64_t timeout_us)
{
    sd_bus_message *m = NULL;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r;

    r = sd_bus_message_new_method_call(bus, &m, BLUEZ, path, IFACE_PROPS, "Set");
    if (r >= 0)
        r = sd_bus_message_append(m, "ssv", IFACE_ADAPTER, "Alias", "s", alias);
    if (r >= 0)
        r = sd_bus_call(bus, m, timeout_us, &e, NULL);
    if (r < 0)
        wifiprov__warn("ble: cannot set the name of %s to \"%s\": %s", path, alias,
                       e.message ? e.message : strerror(-r));
    sd_bus_error_free(&e);
    sd_bus_message_unref(m);
    return r;
}

/* Reads a string property of the adapter (blocking, short timeout). */
static int get_string(sd_bus *bus, const char *path, const char *prop, char *out, size_t cap)
{
    sd_bus_message *m = NULL, *reply = NULL;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    const char *s;
    int r;

    r = sd_bus_message_new_method_call(bus, &m, BLUEZ, path, IFACE_PROPS, "Get");
    if (r >= 0)
        r = sd_bus_message_append(m, "ss", IFACE_ADAPTER, prop);
    if (r >= 0)
        r = sd_bus_call(bus, m, STOP_TIMEOUT_US, &e, &reply);
    if (r >= 0)
        r = sd_bus_message_read(reply, "v", "s", &s);
    if (r >= 0)
        snprintf(out, cap, "%s", s);
    else
        wifiprov__dbg("ble: reading %s of %s: %s", prop, path, e.message ? e.message : strerror(-r));
    sd_bus_error_free(&e);
    sd_bus_message_unref(reply);
    sd_bus_message_unref(m);
    return r;
}

/* What to write back for @p previous on an adapter whose system name is @p sys_name. */
static const char *put_back(const char *previous, const char *sys_name)
{
    return strcmp(previous, sys_name) == 0 ? "" : previous;
}

void wifiprov__ble_alias_take(struct wifiprov__ble_alias *al, const char *state_dir, sd_bus *bus,
                              const struct wifiprov__ble_adapter *ad, int n, const struct wifiprov__ble_adapter *pick,
                              const char *name)
{
    struct record rec;
    const char *previous;
    bool have, inherited = false;

    memset(al, 0, sizeof(*al));
    al->state_dir = state_dir;
    if (!state_dir)
        return;
    have = load(state_dir, &rec) == 0;
    if (have && strcmp(rec.address, pick->address) != 0) {
        /* A killed run served on another adapter: put its name back there. */
        const struct wifiprov__ble_adapter *other = NULL;
        for (int i = 0; i < n && !other; i++)
            if (strcmp(ad[i].address, rec.address) == 0)
                other = &ad[i];
        if (!other)
            wifiprov__warn("ble: adapter %s, which an earlier run named \"%s\", is not here; it keeps that name "
                           "(reset it with bluetoothctl's `system-alias` once it is back)",
                           rec.address, rec.ours);
        else if (strcmp(other->alias, rec.ours) == 0 && set_alias(bus, other->path, rec.previous, 0) >= 0)
            wifiprov__info("ble: %s named \"%s\" again (an earlier run had named it \"%s\")", other->address,
                           rec.previous[0] ? rec.previous : other->name, rec.ours);
        have = false;
    }
    /* The adapter still carries the name a killed run gave it: the name before that goes back at stop. */
    inherited = have && strcmp(pick->alias, rec.ours) == 0;
    previous = inherited ? rec.previous : put_back(pick->alias, pick->name);
    if (!inherited && strcmp(pick->alias, name) == 0) {
        forget(state_dir); /* named so already: nothing to put back */
        return;
    }
    if (save(state_dir, pick->address, pick->path, name, previous) != 0) {
        wifiprov__warn("ble: cannot record the name of %s in %s; leaving it \"%s\"", pick->address, state_dir,
                       pick->alias);
        return;
    }
    if (strcmp(pick->alias, name) != 0 && set_alias(bus, pick->path, name, 0) < 0) {
        forget(state_dir);
        return;
    }
    al->taken = true;
    snprintf(al->path, sizeof(al->path), "%s", pick->path);
    snprintf(al->address, sizeof(al->address), "%s", pick->address);
    snprintf(al->ours, sizeof(al->ours), "%s", name);
    snprintf(al->previous, sizeof(al->previous), "%s", previous);
    wifiprov__info("ble: %s is named \"%s\" while it serves (\"%s\" again at stop)", pick->address, name,
                   previous[0] ? previous : pick->name);
}

void wifiprov__ble_alias_again(struct wifiprov__ble_alias *al, sd_bus *bus, const struct wifiprov__ble_adapter *a)
{
    if (!al->taken || strcmp(a->address, al->address) != 0)
        return;
    snprintf(al->path, sizeof(al->path), "%s", a->path);
    if (strcmp(a->alias, al->ours) == 0)
        return;
    wifiprov__info("ble: %s lost its name \"%s\"; setting it again", a->address, al->ours);
    if (sd_bus_call_method_async(bus, NULL, BLUEZ, a->path, IFACE_PROPS, "Set", NULL, NULL, "ssv", IFACE_ADAPTER,
                                 "Alias", "s", al->ours) < 0)
        wifiprov__warn("ble: cannot set the name of %s again", a->address);
}

/* @p bus if it is still open, else a new system-bus connection in *own (the caller closes it;
 * once the loop has ended, sd-bus has closed the connection attached to it); NULL if none. */
static sd_bus *live_bus(sd_bus *bus, sd_bus **own)
{
    *own = NULL;
    if (bus && sd_bus_is_open(bus) > 0)
        return bus;
    return sd_bus_open_system(own) < 0 ? NULL : *own;
}

/* The previous alias back if ours is still set on the adapter at al->path. */
static void restore_on(struct wifiprov__ble_alias *al, sd_bus *bus)
{
    char address[sizeof(al->address)], cur[WIFIPROV_BLE_ALIAS_MAX + 1];

    if (get_string(bus, al->path, "Address", address, sizeof(address)) < 0 || strcmp(address, al->address) != 0 ||
        get_string(bus, al->path, "Alias", cur, sizeof(cur)) < 0) {
        wifiprov__warn("ble: adapter %s is gone; its name goes back at the next start (%s/%s)", al->address,
                       al->state_dir, RECORD);
        return;
    }
    if (strcmp(cur, al->ours) != 0) {
        wifiprov__info("ble: %s was renamed \"%s\" meanwhile; leaving that name", al->address, cur);
    } else if (set_alias(bus, al->path, al->previous, STOP_TIMEOUT_US) < 0) {
        wifiprov__warn("ble: the name of %s goes back at the next start (%s/%s)", al->address, al->state_dir, RECORD);
        return;
    } else {
        wifiprov__info("ble: %s named \"%s\" again", al->address, al->previous[0] ? al->previous : "(system name)");
    }
    forget(al->state_dir);
}

void wifiprov__ble_alias_restore(struct wifiprov__ble_alias *al, sd_bus *bus)
{
    sd_bus *own = NULL;

    if (!al->taken)
        return;
    al->taken = false;
    bus = live_bus(bus, &own);
    if (!bus) {
        wifiprov__warn("ble: no D-Bus connection to put the name of %s back; it goes back at the next start",
                       al->address);
        return;
    }
    restore_on(al, bus);
    sd_bus_flush_close_unref(own);
}

void wifiprov_ble_sweep(const char *state_dir)
{
    struct record rec;
    char address[sizeof(rec.address)], cur[WIFIPROV_BLE_ALIAS_MAX + 1];
    sd_bus *bus = NULL;

    wifiprov__ble_agent_sweep(state_dir);
    if (!state_dir || load(state_dir, &rec) != 0)
        return;
    if (sd_bus_open_system(&bus) < 0 || get_string(bus, rec.path, "Address", address, sizeof(address)) < 0 ||
        strcmp(address, rec.address) != 0 || get_string(bus, rec.path, "Alias", cur, sizeof(cur)) < 0) {
        wifiprov__warn("ble: cannot reach adapter %s, which an earlier run named \"%s\" (bluetoothd not running, "
                       "or the adapter is gone); its name goes back at a later start (%s/%s)",
                       rec.address, rec.ours, state_dir, RECORD);
        sd_bus_flush_close_unref(bus);
        return;
    }
    if (strcmp(cur, rec.ours) != 0) {
        forget(state_dir); /* renamed since: that name stays */
    } else if (set_alias(bus, rec.path, rec.previous, STOP_TIMEOUT_US) >= 0) {
        wifiprov__info("ble: %s named \"%s\" again (an earlier run had named it \"%s\")", rec.address,
                       rec.previous[0] ? rec.previous : "(system name)", rec.ours);
        forget(state_dir);
    }
    sd_bus_flush_close_unref(bus);
}
