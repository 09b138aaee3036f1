/*
 * BLE transport of the device on BlueZ's D-Bus API (see ble.h). The GATT logic is
 * in ble_gatt.c; this file only exports the objects, translates BlueZ's calls and
 * follows the devices' connections.
 *
 * Objects (on our own system-bus connection):
 *   /org/wifiprov/ble                        ObjectManager (the GATT application)
 *   /org/wifiprov/ble/service0               GattService1
 *   /org/wifiprov/ble/service0/charN         GattCharacteristic1, one per endpoint
 *   /org/wifiprov/ble/service0/charN/desc0   GattDescriptor1 0x2901 (endpoint name)
 *   /org/wifiprov/advertisement0             LEAdvertisement1
 *
 * BlueZ's D-Bus errors give the ATT codes: InvalidValueLength 0x0D, InvalidOffset
 * 0x07, Failed 0x80 (application error; Bluedroid's 0x85 cannot be expressed through
 * BlueZ), InProgress 0xFE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "transport/ble.h"
#include "transport/ble_agent.h"
#include "transport/ble_alias.h"
#include "util.h"

#define BLUEZ "org.bluez"
#define IFACE_ADAPTER "org.bluez.Adapter1"
#define IFACE_DEVICE "org.bluez.Device1"
#define IFACE_GATT_MANAGER "org.bluez.GattManager1"
#define IFACE_ADV_MANAGER "org.bluez.LEAdvertisingManager1"
#define APP_PATH "/org/wifiprov/ble"
#define SERVICE_PATH APP_PATH "/service0"
#define ADV_PATH "/org/wifiprov/advertisement0"
#define ERR_FAILED "org.bluez.Error.Failed"
#define ERR_INVALID_LEN "org.bluez.Error.InvalidValueLength"
#define ERR_INVALID_OFFSET "org.bluez.Error.InvalidOffset"
#define ERR_IN_PROGRESS "org.bluez.Error.InProgress"
#define ERR_NOT_PERMITTED "org.bluez.Error.NotPermitted"
#define PATH_MAX_LEN 96
#define MAX_ADAPTERS 16
/* How long start-up waits for BlueZ to answer the registrations. */
#define REGISTER_TIMEOUT_US (10u * 1000000u)

struct ble_char {
    struct wifiprov_ble *b;
    size_t index;
    char path[PATH_MAX_LEN];
    char desc_path[PATH_MAX_LEN];
    char uuid[WIFIPROV_BLE_UUID_STR_LEN + 1];
    sd_bus_slot *slot;
    sd_bus_slot *desc_slot;
};

/* Why BLE is not serving while the transport runs; it comes back by itself (see ble.h). */
enum ble_wait {
    BLE_WAIT_NONE = 0, /* serving, or registering at start */
    BLE_WAIT_BLUEZ,    /* nobody owns org.bluez */
    BLE_WAIT_ADAPTER,  /* bluetoothd runs without the adapter (or its GATT / advertising managers) */
    BLE_WAIT_POWER,    /* the adapter is powered off */
};

/* A WriteValue whose reply waits for the core (PENDING). */
struct held {
    sd_bus_message *m;
    char peer[WIFIPROV_BLE_PEER_MAX + 1];
};

struct wifiprov_ble {
    sd_event *event;
    sd_bus *bus;
    struct wifiprov_ble_gatt *gatt;
    struct ble_char *chars;
    size_t n_chars;
    struct held *held;
    unsigned max_conns;
    char service_uuid[WIFIPROV_BLE_UUID_STR_LEN + 1];
    struct wifiprov_ble_adv adv;
    bool require_encryption;
    char want_adapter[16]; /* --ble-adapter; "" = the first adapter */
    char adapter[16];
    char adapter_path[32];
    char address[24];
    char bluez_owner[64]; /* unique name of bluetoothd: the only caller we answer */
    bool powered_by_us;
    const char *state_dir;
    struct wifiprov__ble_alias alias; /* the adapter's GAP name while we serve */
    struct wifiprov__ble_agent agent; /* --ble-require-encryption: lets phones pair */
    bool agent_on;
    bool app_registered;
    bool adv_registered;
    bool down; /* for good: failed_fn was called */
    enum ble_wait wait;
    bool recovering; /* listing the adapters, powering or registering again after a wait */
    bool starting;   /* failures are returned by wifiprov_ble_new(), not reported through failed_fn */
    /* Links to close after the current reply went out (protocol errors). */
    char (*to_disconnect)[WIFIPROV_BLE_PEER_MAX + 1];
    unsigned n_disconnect;
    sd_bus_slot *om_slot;
    sd_bus_slot *service_slot;
    sd_bus_slot *adv_slot;
    sd_bus_slot *reg_app_slot;
    sd_bus_slot *reg_adv_slot;
    sd_bus_slot *props_match;
    sd_bus_slot *removed_match;
    sd_bus_slot *owner_match;
    sd_bus_slot *added_match;
    sd_bus_slot *objs_slot;
    sd_bus_slot *power_slot;
    void (*failed_fn)(void *ctx, const char *why);
    void *ctx;
};

/* ---- small helpers ------------------------------------------------------------------- */

static void ble_down(struct wifiprov_ble *b, const char *why)
{
    if (b->down)
        return;
    b->down = true;
    wifiprov__err("ble: %s", why);
    if (b->failed_fn && !b->starting)
        b->failed_fn(b->ctx, why);
}

/* true when @p m comes from bluetoothd (anyone else on the bus could forge a "device"). */
static bool from_bluez(const struct wifiprov_ble *b, sd_bus_message *m)
{
    const char *sender = sd_bus_message_get_sender(m);

    return sender && b->bluez_owner[0] && strcmp(sender, b->bluez_owner) == 0;
}

/* Reads the a{sv} options of ReadValue / WriteValue. Unknown keys are skipped. */
static int read_options(sd_bus_message *m, uint16_t *offset, const char **device, bool *prep_auth)
{
    int r;

    *offset = 0;
    *device = NULL;
    *prep_auth = false;
    r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0)
        return r;
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        const char *key;
        r = sd_bus_message_read(m, "s", &key);
        if (r < 0)
            return r;
        if (strcmp(key, "offset") == 0)
            r = sd_bus_message_read(m, "v", "q", offset);
        else if (strcmp(key, "device") == 0)
            r = sd_bus_message_read(m, "v", "o", device);
        else if (strcmp(key, "prepare-authorize") == 0) {
            int v = 0;
            r = sd_bus_message_read(m, "v", "b", &v);
            *prep_auth = v != 0;
        } else
            r = sd_bus_message_skip(m, "v");
        if (r < 0)
            return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
            return r;
    }
    if (r < 0)
        return r;
    return sd_bus_message_exit_container(m);
}

static const char *status_error(enum wifiprov_ble_status st)
{
    switch (st) {
    case WIFIPROV_BLE_STATUS_INVALID_LEN:
        return ERR_INVALID_LEN;
    case WIFIPROV_BLE_STATUS_INVALID_OFFSET:
        return ERR_INVALID_OFFSET;
    case WIFIPROV_BLE_STATUS_BUSY:
        return ERR_IN_PROGRESS;
    case WIFIPROV_BLE_STATUS_OK:
    case WIFIPROV_BLE_STATUS_PENDING:
    case WIFIPROV_BLE_STATUS_FAILED:
    case WIFIPROV_BLE_STATUS_PROTO_ERROR:
    case WIFIPROV_BLE_STATUS_NOT_FOUND:
        break;
    }
    return ERR_FAILED;
}

static int reply_value(sd_bus_message *m, const uint8_t *data, size_t len)
{
    sd_bus_message *reply = NULL;
    int r;

    r = sd_bus_message_new_method_return(m, &reply);
    if (r >= 0)
        r = sd_bus_message_append_array(reply, 'y', data ? data : (const uint8_t *)"", len);
    if (r >= 0)
        r = sd_bus_send(NULL, reply, NULL);
    sd_bus_message_unref(reply);
    return r;
}

/* Replies to a write (or a held one) with @p st. */
static int reply_status(sd_bus_message *m, enum wifiprov_ble_status st)
{
    if (st == WIFIPROV_BLE_STATUS_OK)
        return sd_bus_reply_method_return(m, NULL);
    return sd_bus_reply_method_errorf(m, status_error(st), "%s", wifiprov_ble_status_to_string(st));
}

static void gatt_disconnect(void *ctx, const char *peer)
{
    struct wifiprov_ble *b = ctx;

    for (unsigned i = 0; i < b->n_disconnect; i++) {
        if (strcmp(b->to_disconnect[i], peer) == 0)
            return;
    }
    if (b->n_disconnect < b->max_conns)
        snprintf(b->to_disconnect[b->n_disconnect++], WIFIPROV_BLE_PEER_MAX + 1, "%s", peer);
}

/* Asks BlueZ to close the links of the protocol errors just answered (as Bluedroid does). */
static void flush_disconnects(struct wifiprov_ble *b)
{
    for (unsigned i = 0; i < b->n_disconnect; i++) {
        int r = sd_bus_call_method_async(b->bus, NULL, BLUEZ, b->to_disconnect[i], IFACE_DEVICE, "Disconnect", NULL,
                                         NULL, "");
        if (r < 0)
            wifiprov__warn("ble: cannot ask BlueZ to disconnect %s: %s", b->to_disconnect[i], strerror(-r));
    }
    b->n_disconnect = 0;
}

static struct held *held_find(struct wifiprov_ble *b, const char *peer);
static void held_release(struct held *h, enum wifiprov_ble_status st);

/* The held request of @p peer may be answerable now. */
static void gatt_wake(void *ctx, const char *peer)
{
    struct wifiprov_ble *b = ctx;
    struct held *h = held_find(b, peer);
    enum wifiprov_ble_status st;

    if (!h)
        return;
    st = wifiprov__ble_gatt_resume(b->gatt, h->peer);
    if (st == WIFIPROV_BLE_STATUS_PENDING)
        return;
    held_release(h, st);
    flush_disconnects(b);
}

/* The policy closed the session of @p peer while its write waited (e.g. its reply never came). */
static void gatt_dropped(void *ctx, const char *peer)
{
    struct wifiprov_ble *b = ctx;

    held_release(held_find(b, peer), WIFIPROV_BLE_STATUS_FAILED);
}

static struct held *held_find(struct wifiprov_ble *b, const char *peer)
{
    for (unsigned i = 0; i < b->max_conns; i++) {
        if (b->held[i].m && strcmp(b->held[i].peer, peer) == 0)
            return &b->held[i];
    }
    return NULL;
}

static void held_release(struct held *h, enum wifiprov_ble_status st)
{
    if (!h || !h->m)
        return;
    reply_status(h->m, st);
    h->m = sd_bus_message_unref(h->m);
    h->peer[0] = '\0';
}

/* ---- exported objects: properties ------------------------------------------------------ */

static int prop_str(sd_bus_message *reply, const char *s)
{
    return sd_bus_message_append(reply, "s", s);
}

static int svc_uuid(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply, void *ud,
                    sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;

    return prop_str(reply, b->service_uuid);
}

static int prop_true(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                     void *ud, sd_bus_error *err)
{
    return sd_bus_message_append(reply, "b", 1);
}

static int chr_uuid(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply, void *ud,
                    sd_bus_error *err)
{
    const struct ble_char *c = ud;

    return prop_str(reply, c->uuid);
}

static int chr_service(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                       void *ud, sd_bus_error *err)
{
    return sd_bus_message_append(reply, "o", SERVICE_PATH);
}

static int chr_flags(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                     void *ud, sd_bus_error *err)
{
    const struct ble_char *c = ud;

    /* §7.2: READ|WRITE; with encryption required the value needs an encrypted link (and keeps both). */
    if (c->b->require_encryption)
        return sd_bus_message_append(reply, "as", 2, "encrypt-read", "encrypt-write");
    return sd_bus_message_append(reply, "as", 2, "read", "write");
}

static int desc_uuid(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                     void *ud, sd_bus_error *err)
{
    return prop_str(reply, WIFIPROV_BLE_CUD_UUID);
}

static int desc_chr(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply, void *ud,
                    sd_bus_error *err)
{
    const struct ble_char *c = ud;

    return sd_bus_message_append(reply, "o", c->path);
}

static int desc_flags(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                      void *ud, sd_bus_error *err)
{
    return sd_bus_message_append(reply, "as", 1, "read");
}

static int adv_type(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply, void *ud,
                    sd_bus_error *err)
{
    return prop_str(reply, "peripheral");
}

static int adv_uuids(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                     void *ud, sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;

    return sd_bus_message_append(reply, "as", 1, b->service_uuid);
}

static int adv_name(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply, void *ud,
                    sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;

    return prop_str(reply, b->adv.local_name);
}

static int adv_mfg(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply, void *ud,
                   sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;
    int r;

    r = sd_bus_message_open_container(reply, 'a', "{qv}");
    if (r >= 0 && b->adv.has_mfg) {
        r = sd_bus_message_open_container(reply, 'e', "qv");
        if (r >= 0)
            r = sd_bus_message_append(reply, "q", b->adv.company_id);
        if (r >= 0)
            r = sd_bus_message_open_container(reply, 'v', "ay");
        if (r >= 0)
            r = sd_bus_message_append_array(reply, 'y', b->adv.mfg_data, b->adv.mfg_len);
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
    }
    if (r >= 0)
        r = sd_bus_message_close_container(reply);
    return r;
}

static int adv_includes(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                        void *ud, sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;

    if (b->adv.tx_power)
        return sd_bus_message_append(reply, "as", 1, "tx-power");
    return sd_bus_message_append(reply, "as", 0);
}

/* ---- exported objects: methods -------------------------------------------------------- */

static int chr_read(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct ble_char *c = ud;
    struct wifiprov_ble *b = c->b;
    enum wifiprov_ble_status st;
    const uint8_t *data = NULL;
    const char *device;
    uint16_t offset;
    size_t len = 0;
    bool prep;
    int r;

    if (!from_bluez(b, m))
        return sd_bus_error_set(err, ERR_NOT_PERMITTED, "only bluetoothd may call this");
    r = read_options(m, &offset, &device, &prep);
    if (r < 0 || !device)
        return sd_bus_error_set(err, ERR_FAILED, "bad options");
    st = wifiprov__ble_gatt_read(b->gatt, device, c->index, offset, &data, &len);
    wifiprov__dbg("ble: read %s offset %u by %s: %s, %zu bytes", wifiprov__ble_gatt_char(b->gatt, c->index)->name,
                  offset, device, wifiprov_ble_status_to_string(st), len);
    if (st != WIFIPROV_BLE_STATUS_OK)
        return sd_bus_error_set(err, status_error(st), wifiprov_ble_status_to_string(st));
    return reply_value(m, data, len);
}

static int chr_write(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct ble_char *c = ud;
    struct wifiprov_ble *b = c->b;
    enum wifiprov_ble_status st;
    const void *value = NULL;
    const char *device;
    size_t len = 0;
    uint16_t offset;
    bool prep;
    int r;

    if (!from_bluez(b, m))
        return sd_bus_error_set(err, ERR_NOT_PERMITTED, "only bluetoothd may call this");
    r = sd_bus_message_read_array(m, 'y', &value, &len);
    if (r >= 0)
        r = read_options(m, &offset, &device, &prep);
    if (r < 0 || !device)
        return sd_bus_error_set(err, ERR_FAILED, "bad arguments");
    wifiprov__dbg("ble: write %s offset %u, %zu bytes by %s%s", wifiprov__ble_gatt_char(b->gatt, c->index)->name,
                  offset, len, device, prep ? " (prepare-authorize)" : "");
    if (prep) {
        /* BlueZ asks before it queues a Prepare Write; it hands the assembled value over on Execute Write. */
        if (offset >= WIFIPROV_BLE_VALUE_MAX)
            return sd_bus_error_set(err, ERR_INVALID_OFFSET, "offset beyond 512 bytes");
        return sd_bus_reply_method_return(m, NULL);
    }
    st = wifiprov__ble_gatt_write(b->gatt, device, c->index, offset, value, len);
    if (st == WIFIPROV_BLE_STATUS_PENDING) {
        struct held *h = NULL;
        for (unsigned i = 0; i < b->max_conns && !h; i++) {
            if (!b->held[i].m)
                h = &b->held[i];
        }
        if (h) {
            h->m = sd_bus_message_ref(m);
            snprintf(h->peer, sizeof(h->peer), "%s", device);
            return 1;
        }
        st = WIFIPROV_BLE_STATUS_FAILED; /* cannot happen: one held request per tracked connection */
    }
    if (st != WIFIPROV_BLE_STATUS_OK)
        wifiprov__dbg("ble: write by %s refused: %s", device, wifiprov_ble_status_to_string(st));
    r = reply_status(m, st);
    flush_disconnects(b);
    return r < 0 ? r : 1;
}

static int desc_read(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct ble_char *c = ud;
    struct wifiprov_ble *b = c->b;
    enum wifiprov_ble_status st;
    const uint8_t *data = NULL;
    const char *device;
    uint16_t offset;
    size_t len = 0;
    bool prep;
    int r;

    if (!from_bluez(b, m))
        return sd_bus_error_set(err, ERR_NOT_PERMITTED, "only bluetoothd may call this");
    r = read_options(m, &offset, &device, &prep);
    if (r < 0)
        return sd_bus_error_set(err, ERR_FAILED, "bad options");
    st = wifiprov__ble_gatt_read_descriptor(b->gatt, c->index, offset, &data, &len);
    if (st != WIFIPROV_BLE_STATUS_OK)
        return sd_bus_error_set(err, status_error(st), wifiprov_ble_status_to_string(st));
    return reply_value(m, data, len);
}

static int adv_release(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;

    if (!from_bluez(b, m))
        return sd_bus_error_set(err, ERR_NOT_PERMITTED, "only bluetoothd may call this");
    wifiprov__info("ble: BlueZ released the advertisement");
    b->adv_registered = false;
    return sd_bus_reply_method_return(m, NULL);
}

/* Methods are called by bluetoothd, which runs without CAP_SYS_ADMIN: sd-bus's default check would refuse it. */
static const sd_bus_vtable service_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("UUID", "s", svc_uuid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Primary", "b", prop_true, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_VTABLE_END,
};

static const sd_bus_vtable char_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("UUID", "s", chr_uuid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Service", "o", chr_service, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Flags", "as", chr_flags, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("ReadValue", "a{sv}", "ay", chr_read, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("WriteValue", "aya{sv}", "", chr_write, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

static const sd_bus_vtable desc_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("UUID", "s", desc_uuid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Characteristic", "o", desc_chr, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Flags", "as", desc_flags, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("ReadValue", "a{sv}", "ay", desc_read, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

static const sd_bus_vtable adv_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Type", "s", adv_type, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("ServiceUUIDs", "as", adv_uuids, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("LocalName", "s", adv_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("ManufacturerData", "a{qv}", adv_mfg, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Includes", "as", adv_includes, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Discoverable", "b", prop_true, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("Release", "", "", adv_release, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

/* ---- connections ---------------------------------------------------------------------- */

/* @p path is a device of our adapter. */
static bool our_device(const struct wifiprov_ble *b, const char *path)
{
    size_t n = strlen(b->adapter_path);

    return path && n && strncmp(path, b->adapter_path, n) == 0 && path[n] == '/';
}

static void device_gone(struct wifiprov_ble *b, const char *path)
{
    held_release(held_find(b, path), WIFIPROV_BLE_STATUS_FAILED);
    wifiprov__ble_gatt_disconnected(b->gatt, path);
    if (b->agent_on)
        wifiprov__ble_agent_device_gone(&b->agent, path);
}

static void went_down(struct wifiprov_ble *b, enum ble_wait wait, const char *what);
static void recover(struct wifiprov_ble *b);

/* The Powered property of our adapter changed: off stops BLE until it is on again. */
static void adapter_powered(struct wifiprov_ble *b, bool powered)
{
    char what[64];

    if (!powered && b->wait != BLE_WAIT_BLUEZ && b->wait != BLE_WAIT_ADAPTER &&
        !(b->wait == BLE_WAIT_POWER && !b->recovering)) {
        snprintf(what, sizeof(what), "%s powered off", b->adapter);
        went_down(b, BLE_WAIT_POWER, what);
    } else if (powered && b->wait == BLE_WAIT_POWER && !b->recovering) {
        wifiprov__info("ble: %s powered on", b->adapter);
        recover(b);
    }
}

/*
 * PropertiesChanged of a Device1 of our adapter: Connected false ends the connection's
 * session. Of our Adapter1: Powered.
 */
static int on_props_changed(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;
    const char *path = sd_bus_message_get_path(m), *iface;
    bool is_adapter = path && b->adapter_path[0] && strcmp(path, b->adapter_path) == 0;
    int r;

    if (b->down || (!is_adapter && !our_device(b, path)))
        return 0;
    r = sd_bus_message_read(m, "s", &iface);
    if (r < 0 || strcmp(iface, is_adapter ? IFACE_ADAPTER : IFACE_DEVICE) != 0)
        return 0;
    r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0)
        return 0;
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        const char *key;
        int on = 1;
        if (sd_bus_message_read(m, "s", &key) < 0)
            return 0;
        if (strcmp(key, is_adapter ? "Powered" : "Connected") == 0) {
            if (sd_bus_message_read(m, "v", "b", &on) < 0)
                return 0;
            if (is_adapter) {
                adapter_powered(b, on != 0);
            } else if (!on) {
                wifiprov__info("ble: %s disconnected", path);
                device_gone(b, path);
            } else {
                wifiprov__info("ble: %s connected", path);
            }
        } else if (sd_bus_message_skip(m, "v") < 0) {
            return 0;
        }
        if (sd_bus_message_exit_container(m) < 0)
            return 0;
    }
    return 0;
}

/* "/org/bluez/hciN": an adapter's object. */
static bool adapter_path(const char *path)
{
    const char *p = path && strncmp(path, "/org/bluez/", 11) == 0 ? path + 11 : NULL;

    return p && strncmp(p, "hci", 3) == 0 && !strchr(p, '/');
}

/* InterfacesRemoved: a device object that goes away is disconnected too; so is our adapter. */
static int on_ifaces_removed(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;
    const char *path;
    char **ifaces = NULL;
    bool dev = false, adapter = false;
    char p[WIFIPROV_BLE_PEER_MAX + 1];

    if (b->down || sd_bus_message_read(m, "o", &path) < 0)
        return 0;
    snprintf(p, sizeof(p), "%s", path);
    if (!our_device(b, p) && strcmp(p, b->adapter_path) != 0)
        return 0;
    if (sd_bus_message_read_strv(m, &ifaces) < 0)
        return 0;
    for (char **i = ifaces; i && *i; i++) {
        dev = dev || strcmp(*i, IFACE_DEVICE) == 0;
        adapter = adapter || strcmp(*i, IFACE_ADAPTER) == 0 || strcmp(*i, IFACE_GATT_MANAGER) == 0 ||
                  strcmp(*i, IFACE_ADV_MANAGER) == 0;
    }
    for (char **i = ifaces; i && *i; i++)
        free(*i);
    free(ifaces);
    if (dev && our_device(b, p)) {
        device_gone(b, p);
    } else if (adapter && strcmp(p, b->adapter_path) == 0 && b->wait != BLE_WAIT_BLUEZ &&
               !(b->wait == BLE_WAIT_ADAPTER && !b->recovering)) {
        char what[64];
        snprintf(what, sizeof(what), "adapter %s removed", b->adapter);
        went_down(b, BLE_WAIT_ADAPTER, what);
    }
    return 0;
}

/* InterfacesAdded: an adapter (or its managers) appeared while we wait for one. */
static int on_ifaces_added(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;
    const char *path;

    if (b->down || b->wait != BLE_WAIT_ADAPTER || b->recovering || sd_bus_message_read(m, "o", &path) < 0 ||
        !adapter_path(path))
        return 0;
    if (b->want_adapter[0] && strcmp(strrchr(path, '/') + 1, b->want_adapter) != 0)
        return 0;
    recover(b);
    return 0;
}

static void drop_all_connections(struct wifiprov_ble *b)
{
    for (unsigned i = 0; i < b->max_conns; i++)
        held_release(&b->held[i], WIFIPROV_BLE_STATUS_FAILED);
    wifiprov__ble_gatt_disconnect_all(b->gatt);
}

/* bluetoothd left the bus, or came back (our registrations died with the old one). */
static int on_owner_changed(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;
    const char *name, *old_owner, *new_owner;

    if (b->down || sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || strcmp(name, BLUEZ) != 0)
        return 0;
    if (old_owner[0] && strcmp(old_owner, b->bluez_owner) == 0) {
        b->bluez_owner[0] = '\0';
        went_down(b, BLE_WAIT_BLUEZ, "bluetoothd gone");
    }
    if (new_owner[0] && !b->bluez_owner[0] && strlen(new_owner) < sizeof(b->bluez_owner)) {
        memcpy(b->bluez_owner, new_owner, strlen(new_owner) + 1);
        wifiprov__info("ble: bluetoothd is on the system bus again (%s)", new_owner);
        recover(b);
    }
    return 0;
}

/* ---- registration ------------------------------------------------------------------------ */

static void registered_log(struct wifiprov_ble *b)
{
    if (b->app_registered && b->adv_registered)
        wifiprov__info("ble: advertising \"%s\" with service %s on %s (%s)", b->adv.local_name, b->service_uuid,
                       b->adapter, b->address);
}

static void refusal(struct wifiprov_ble *b, const char *what, const sd_bus_error *e)
{
    char why[512];

    snprintf(why, sizeof(why), "BlueZ refused the %s on %s: %s (%s)%s", what, b->adapter,
             e && e->message ? e->message : "no reason given", e && e->name ? e->name : "?",
             e && e->name && strstr(e->name, "AccessDenied")
                 ? "; wifiprovd needs a D-Bus policy that allows it to talk to org.bluez (see wifiprovd(8))"
             : e && e->name && strstr(e->name, "AlreadyExists")
                 ? "; another wifiprovd may be serving on this adapter"
                 : "; check that bluetoothd is 5.66 or later and the adapter supports LE "
                   "(`bluetoothctl show`)");
    ble_down(b, why);
}

/*
 * An error that says bluetoothd or the adapter is going or not ready yet (it went away
 * while we registered again): wait for it instead of giving up.
 */
static bool transient_error(const sd_bus_error *e)
{
    return e && e->name &&
           (strncmp(e->name, "org.freedesktop.DBus.Error.", 27) == 0 ||
            strcmp(e->name, "org.bluez.Error.NotReady") == 0 || strcmp(e->name, "org.bluez.Error.Busy") == 0 ||
            strcmp(e->name, ERR_IN_PROGRESS) == 0);
}

/* A registration was refused: for good, or (while recovering) a wait for the adapter again. */
static void registration_failed(struct wifiprov_ble *b, const char *what, const sd_bus_error *e)
{
    char why[160];

    if (b->recovering && transient_error(e)) {
        snprintf(why, sizeof(why), "registering the %s on %s failed (%s)", what, b->adapter,
                 e->message ? e->message : e->name);
        went_down(b, BLE_WAIT_ADAPTER, why);
        return;
    }
    refusal(b, what, e);
}

static void registered(struct wifiprov_ble *b)
{
    if (!b->app_registered || !b->adv_registered)
        return;
    if (b->recovering) {
        b->recovering = false;
        b->wait = BLE_WAIT_NONE;
        wifiprov__info("ble: BLE back on %s (%s): advertising \"%s\" with service %s again", b->adapter, b->address,
                       b->adv.local_name, b->service_uuid);
        return;
    }
    registered_log(b);
}

static int on_app_registered(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;

    b->reg_app_slot = sd_bus_slot_unref(b->reg_app_slot);
    if (sd_bus_message_is_method_error(m, NULL)) {
        registration_failed(b, "GATT application", sd_bus_message_get_error(m));
        return 0;
    }
    b->app_registered = true;
    wifiprov__dbg("ble: GATT application registered (%zu characteristics)", b->n_chars);
    registered(b);
    return 0;
}

static int on_adv_registered(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;

    b->reg_adv_slot = sd_bus_slot_unref(b->reg_adv_slot);
    if (sd_bus_message_is_method_error(m, NULL)) {
        registration_failed(b, "advertisement", sd_bus_message_get_error(m));
        return 0;
    }
    b->adv_registered = true;
    registered(b);
    return 0;
}

/*
 * Asks BlueZ to register the application and the advertisement; the answers arrive on
 * the bus (bluetoothd reads our object tree meanwhile, so these must not block). After a
 * wait, stale registrations of an adapter that was only powered off go first.
 */
static int send_registrations(struct wifiprov_ble *b, bool unregister_first)
{
    int r = 0;

    if (unregister_first) {
        r = sd_bus_call_method_async(b->bus, NULL, BLUEZ, b->adapter_path, IFACE_ADV_MANAGER, "UnregisterAdvertisement",
                                     NULL, NULL, "o", ADV_PATH);
        if (r >= 0)
            r = sd_bus_call_method_async(b->bus, NULL, BLUEZ, b->adapter_path, IFACE_GATT_MANAGER,
                                         "UnregisterApplication", NULL, NULL, "o", APP_PATH);
    }
    if (r >= 0 && b->agent_on)
        wifiprov__ble_agent_register(&b->agent);
    if (r >= 0)
        r = sd_bus_call_method_async(b->bus, &b->reg_app_slot, BLUEZ, b->adapter_path, IFACE_GATT_MANAGER,
                                     "RegisterApplication", on_app_registered, b, "oa{sv}", APP_PATH, 0);
    if (r >= 0)
        r = sd_bus_call_method_async(b->bus, &b->reg_adv_slot, BLUEZ, b->adapter_path, IFACE_ADV_MANAGER,
                                     "RegisterAdvertisement", on_adv_registered, b, "oa{sv}", ADV_PATH, 0);
    return r;
}

/* ---- start-up: adapter ---------------------------------------------------------------------- */

static unsigned adapter_number(const char *path)
{
    const char *p = strrchr(path, '/');

    return p && strncmp(p, "/hci", 4) == 0 ? (unsigned)strtoul(p + 4, NULL, 10) : 0xffffu;
}

/* Explains a failed call to bluetoothd and says what to do. */
static int bluez_call_error(const char *what, const sd_bus_error *e, int r)
{
    if (sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.ServiceUnknown") ||
        sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.NameHasNoOwner")) {
        wifiprov__err("ble: bluetoothd is not running (nobody owns org.bluez on the system bus): start it, "
                      "e.g. `systemctl start bluetooth`");
        return WIFIPROV_ERR_UNSUPPORTED;
    }
    if (sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.AccessDenied")) {
        wifiprov__err("ble: the D-Bus policy does not let wifiprovd talk to org.bluez (%s): run it as root or "
                      "install the policy described in wifiprovd(8)",
                      e->message ? e->message : "access denied");
        return WIFIPROV_ERR_UNSUPPORTED;
    }
    wifiprov__err("ble: %s failed: %s", what, e && e->message ? e->message : strerror(-r));
    return WIFIPROV_ERR_IO;
}

/* The adapters of a GetManagedObjects reply (sorted hci0, hci1, ...). @return the count or a negative errno. */
static int parse_adapters(sd_bus_message *reply, struct wifiprov__ble_adapter *ad, size_t cap)
{
    int n = 0, r;

    r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
    while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
        struct wifiprov__ble_adapter cur;
        bool is_adapter = false;
        const char *path;

        memset(&cur, 0, sizeof(cur));
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
            r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
            const char *iface;
            r = sd_bus_message_read(reply, "s", &iface);
            if (r >= 0 && strcmp(iface, IFACE_ADAPTER) == 0) {
                is_adapter = true;
                r = sd_bus_message_enter_container(reply, 'a', "{sv}");
                while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                    const char *key, *addr;
                    int powered;
                    r = sd_bus_message_read(reply, "s", &key);
                    if (r >= 0 && strcmp(key, "Powered") == 0) {
                        r = sd_bus_message_read(reply, "v", "b", &powered);
                        cur.powered = powered != 0;
                    } else if (r >= 0 && strcmp(key, "Address") == 0) {
                        r = sd_bus_message_read(reply, "v", "s", &addr);
                        if (r >= 0)
                            snprintf(cur.address, sizeof(cur.address), "%s", addr);
                    } else if (r >= 0 && (strcmp(key, "Name") == 0 || strcmp(key, "Alias") == 0)) {
                        r = sd_bus_message_read(reply, "v", "s", &addr);
                        if (r >= 0)
                            snprintf(key[0] == 'N' ? cur.name : cur.alias, sizeof(cur.name), "%s", addr);
                    } else if (r >= 0) {
                        r = sd_bus_message_skip(reply, "v");
                    }
                    if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                }
                if (r >= 0)
                    r = sd_bus_message_exit_container(reply);
            } else if (r >= 0) {
                if (strcmp(iface, IFACE_GATT_MANAGER) == 0)
                    cur.gatt = true;
                else if (strcmp(iface, IFACE_ADV_MANAGER) == 0)
                    cur.adv = true;
                r = sd_bus_message_skip(reply, "a{sv}");
            }
            if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        }
        if (r >= 0)
            r = sd_bus_message_exit_container(reply);
        if (r >= 0)
            r = sd_bus_message_exit_container(reply);
        if (r >= 0 && is_adapter && (size_t)n < cap && strlen(path) < sizeof(cur.path)) {
            memcpy(cur.path, path, strlen(path) + 1);
            ad[n++] = cur;
        }
    }
    if (r < 0)
        return r;
    /* Insertion sort by adapter number: "the first adapter" is hci0 when it exists. */
    for (int i = 1; i < n; i++) {
        struct wifiprov__ble_adapter t = ad[i];
        int j = i - 1;
        while (j >= 0 && adapter_number(ad[j].path) > adapter_number(t.path)) {
            ad[j + 1] = ad[j];
            j--;
        }
        ad[j + 1] = t;
    }
    return n;
}

/* Reads the adapters from BlueZ's object tree (start-up). @return the count or a negative WIFIPROV_ERR_*. */
static int list_adapters(struct wifiprov_ble *b, struct wifiprov__ble_adapter *ad, size_t cap)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    int r;

    r = sd_bus_call_method(b->bus, BLUEZ, "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", &e, &reply,
                           "");
    if (r < 0) {
        r = bluez_call_error("Asking bluetoothd for its adapters", &e, r);
        goto out;
    }
    r = parse_adapters(reply, ad, cap);
    if (r < 0) {
        wifiprov__err("ble: cannot parse bluetoothd's object list: %s", strerror(-r));
        r = WIFIPROV_ERR_IO;
    }
out:
    sd_bus_error_free(&e);
    sd_bus_message_unref(reply);
    return r;
}

/* The adapter named @p want ("" = the first) among @p ad, its names in @p names. */
static const struct wifiprov__ble_adapter *pick_adapter(const struct wifiprov__ble_adapter *ad, int n, const char *want,
                                                        char *names, size_t names_size)
{
    const struct wifiprov__ble_adapter *pick = NULL;

    names[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *nm = strrchr(ad[i].path, '/') + 1;
        snprintf(names + strlen(names), names_size - strlen(names), "%s%s", i ? " " : "", nm);
        if (!pick && (!want[0] || strcmp(nm, want) == 0))
            pick = &ad[i];
    }
    return pick;
}

static void use_adapter(struct wifiprov_ble *b, const struct wifiprov__ble_adapter *a)
{
    snprintf(b->adapter_path, sizeof(b->adapter_path), "%s", a->path);
    snprintf(b->adapter, sizeof(b->adapter), "%s", strrchr(a->path, '/') + 1);
    snprintf(b->address, sizeof(b->address), "%s", a->address);
}

static int choose_adapter(struct wifiprov_ble *b)
{
    struct wifiprov__ble_adapter ad[MAX_ADAPTERS];
    const struct wifiprov__ble_adapter *pick;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    char names[MAX_ADAPTERS * 8 + 1];
    int n, r = 0;

    n = list_adapters(b, ad, WIFIPROV_ARRAY_SIZE(ad));
    if (n < 0)
        return n;
    if (n == 0) {
        wifiprov__err("ble: no Bluetooth adapter: check `bluetoothctl list` (and `rfkill list`, `dmesg` for the "
                      "controller)");
        return WIFIPROV_ERR_UNSUPPORTED;
    }
    pick = pick_adapter(ad, n, b->want_adapter, names, sizeof(names));
    if (!pick) {
        wifiprov__err("ble: Bluetooth adapter %s not found; bluetoothd has: %s (see `bluetoothctl list`)",
                      b->want_adapter, names);
        return WIFIPROV_ERR_UNSUPPORTED;
    }
    use_adapter(b, pick);
    if (!pick->gatt) {
        wifiprov__err("ble: adapter %s offers no GATT server (org.bluez.GattManager1): it needs LE support and "
                      "bluetoothd 5.66 or later",
                      b->adapter);
        return WIFIPROV_ERR_UNSUPPORTED;
    }
    if (!pick->powered) {
        wifiprov__info("ble: powering on %s", b->adapter);
        r = sd_bus_set_property(b->bus, BLUEZ, b->adapter_path, IFACE_ADAPTER, "Powered", &e, "b", 1);
        if (r < 0) {
            wifiprov__err("ble: cannot power on %s: %s; check `rfkill list` (unblock it with `rfkill unblock "
                          "bluetooth`) and `bluetoothctl show`",
                          b->adapter, e.message ? e.message : strerror(-r));
            r = WIFIPROV_ERR_UNSUPPORTED;
        } else {
            b->powered_by_us = true;
        }
    }
    sd_bus_error_free(&e);
    if (r == 0)
        wifiprov__ble_alias_take(&b->alias, b->state_dir, b->bus, ad, n, pick, b->adv.local_name);
    return r;
}

/* Who owns org.bluez now (only that peer may call our objects). */
static int bluez_owner(struct wifiprov_ble *b)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    const char *owner;
    int r;

    r = sd_bus_call_method(b->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "GetNameOwner", &e, &reply, "s", BLUEZ);
    if (r < 0) {
        r = bluez_call_error("Looking for bluetoothd", &e, r);
        goto out;
    }
    r = sd_bus_message_read(reply, "s", &owner);
    if (r < 0 || strlen(owner) >= sizeof(b->bluez_owner)) {
        r = WIFIPROV_ERR_IO;
        goto out;
    }
    memcpy(b->bluez_owner, owner, strlen(owner) + 1);
    r = 0;
out:
    sd_bus_error_free(&e);
    sd_bus_message_unref(reply);
    return r;
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Start-up only: runs this bus connection (nothing else of the loop) until BlueZ
 * answered both registrations, so the caller knows at once whether BLE serves. While
 * it registers, bluetoothd reads our object tree, which is answered here too.
 */
static int wait_registered(struct wifiprov_ble *b)
{
    uint64_t end = now_us() + REGISTER_TIMEOUT_US;

    while (b->reg_app_slot || b->reg_adv_slot) {
        uint64_t now;
        int r = sd_bus_process(b->bus, NULL);

        if (r < 0) {
            wifiprov__err("ble: D-Bus failure while registering: %s", strerror(-r));
            return WIFIPROV_ERR_IO;
        }
        if (r > 0)
            continue;
        now = now_us();
        if (now >= end) {
            wifiprov__err("ble: bluetoothd did not answer the registrations within %u s; is it stuck? (`systemctl "
                          "status bluetooth`)",
                          REGISTER_TIMEOUT_US / 1000000u);
            return WIFIPROV_ERR_TIMEOUT;
        }
        r = sd_bus_wait(b->bus, end - now);
        if (r < 0) {
            wifiprov__err("ble: D-Bus failure while registering: %s", strerror(-r));
            return WIFIPROV_ERR_IO;
        }
    }
    return b->down ? WIFIPROV_ERR_UNSUPPORTED : 0;
}

/* ---- after start: bluetoothd or the adapter went away and comes back ------------------------- */

static void cancel_recovery(struct wifiprov_ble *b)
{
    b->objs_slot = sd_bus_slot_unref(b->objs_slot);
    b->power_slot = sd_bus_slot_unref(b->power_slot);
    b->reg_app_slot = sd_bus_slot_unref(b->reg_app_slot);
    b->reg_adv_slot = sd_bus_slot_unref(b->reg_adv_slot);
    b->recovering = false;
}

/*
 * BLE stops serving until bluetoothd, the adapter or its power is back: the links went
 * with it, so every connection's session is closed. Provisioning goes on (other
 * transports keep serving; with BLE alone the daemon waits).
 */
static void went_down(struct wifiprov_ble *b, enum ble_wait wait, const char *what)
{
    size_t n = wifiprov__ble_gatt_conn_count(b->gatt);

    if (b->starting) {
        /* Still in wifiprov_ble_new(): it fails, as when bluetoothd was not there at all. */
        cancel_recovery(b);
        ble_down(b, what);
        return;
    }
    cancel_recovery(b);
    b->app_registered = b->adv_registered = false;
    drop_all_connections(b);
    b->wait = wait;
    wifiprov__warn("ble: BLE down: %s; waiting for it%s", what, wait == BLE_WAIT_POWER ? " to be powered on" : "");
    if (n)
        wifiprov__info("ble: %zu BLE connection%s closed", n, n == 1 ? "" : "s");
}

static int on_powered(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;
    const sd_bus_error *e = sd_bus_message_get_error(m);
    int r;

    b->power_slot = sd_bus_slot_unref(b->power_slot);
    if (e) {
        /* Someone may power it on later: PropertiesChanged brings us back. */
        wifiprov__warn("ble: cannot power on %s: %s; waiting for it to be powered on (`bluetoothctl power on`, "
                       "`rfkill unblock bluetooth`)",
                       b->adapter, e->message ? e->message : e->name);
        b->recovering = false;
        return 0;
    }
    r = send_registrations(b, true);
    if (r < 0)
        ble_down(b, "cannot ask BlueZ to register again");
    return 0;
}

/* bluetoothd's adapters after a wait: ours again, powered, registered. */
static int on_objects(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov_ble *b = ud;
    struct wifiprov__ble_adapter ad[MAX_ADAPTERS];
    const struct wifiprov__ble_adapter *a;
    char names[MAX_ADAPTERS * 8 + 1];
    int n, r;

    b->objs_slot = sd_bus_slot_unref(b->objs_slot);
    n = sd_bus_message_is_method_error(m, NULL) ? -EIO : parse_adapters(m, ad, WIFIPROV_ARRAY_SIZE(ad));
    a = n < 0 ? NULL : pick_adapter(ad, n, b->want_adapter, names, sizeof(names));
    if (!a || !a->gatt || !a->adv) {
        /* InterfacesAdded brings us back once it is there. */
        b->recovering = false;
        b->wait = BLE_WAIT_ADAPTER;
        wifiprov__info("ble: bluetoothd has no %s%s%s yet (adapters: %s); waiting for it",
                       b->want_adapter[0] ? "adapter " : "Bluetooth adapter", b->want_adapter,
                       a ? " with GATT and advertising managers" : "", n > 0 ? names : "none");
        return 0;
    }
    use_adapter(b, a);
    wifiprov__ble_alias_again(&b->alias, b->bus, a);
    if (!a->powered) {
        b->wait = BLE_WAIT_POWER;
        wifiprov__info("ble: powering on %s", b->adapter);
        r = sd_bus_call_method_async(b->bus, &b->power_slot, BLUEZ, b->adapter_path, "org.freedesktop.DBus.Properties",
                                     "Set", on_powered, b, "ssv", IFACE_ADAPTER, "Powered", "b", 1);
    } else {
        r = send_registrations(b, true);
    }
    if (r < 0)
        ble_down(b, "cannot ask BlueZ to register again");
    return 0;
}

/* Finds the adapter again and registers on it (answers on the loop). */
static void recover(struct wifiprov_ble *b)
{
    int r;

    cancel_recovery(b);
    b->recovering = true;
    r = sd_bus_call_method_async(b->bus, &b->objs_slot, BLUEZ, "/", "org.freedesktop.DBus.ObjectManager",
                                 "GetManagedObjects", on_objects, b, "");
    if (r < 0)
        ble_down(b, "cannot ask bluetoothd for its adapters again");
}

/* ---- life cycle ---------------------------------------------------------------------------- */

static int export_objects(struct wifiprov_ble *b)
{
    int r;

    r = sd_bus_add_object_manager(b->bus, &b->om_slot, APP_PATH);
    if (r >= 0)
        r = sd_bus_add_object_vtable(b->bus, &b->service_slot, SERVICE_PATH, "org.bluez.GattService1", service_vtable,
                                     b);
    for (size_t i = 0; r >= 0 && i < b->n_chars; i++) {
        struct ble_char *c = &b->chars[i];
        r = sd_bus_add_object_vtable(b->bus, &c->slot, c->path, "org.bluez.GattCharacteristic1", char_vtable, c);
        if (r >= 0)
            r = sd_bus_add_object_vtable(b->bus, &c->desc_slot, c->desc_path, "org.bluez.GattDescriptor1", desc_vtable,
                                         c);
    }
    if (r >= 0)
        r = sd_bus_add_object_vtable(b->bus, &b->adv_slot, ADV_PATH, "org.bluez.LEAdvertisement1", adv_vtable, b);
    if (r >= 0 && b->require_encryption) {
        b->agent.bus = b->bus;
        b->agent.owner = b->bluez_owner;
        b->agent.adapter_path = b->adapter_path;
        b->agent.state_dir = b->state_dir;
        r = wifiprov__ble_agent_export(&b->agent);
        b->agent_on = r >= 0;
    }
    return r;
}

static int watch_bluez(struct wifiprov_ble *b)
{
    int r;

    r = sd_bus_match_signal_async(b->bus, &b->props_match, BLUEZ, NULL, "org.freedesktop.DBus.Properties",
                                  "PropertiesChanged", on_props_changed, NULL, b);
    if (r >= 0)
        r = sd_bus_match_signal_async(b->bus, &b->removed_match, BLUEZ, "/", "org.freedesktop.DBus.ObjectManager",
                                      "InterfacesRemoved", on_ifaces_removed, NULL, b);
    if (r >= 0)
        r = sd_bus_match_signal_async(b->bus, &b->added_match, BLUEZ, "/", "org.freedesktop.DBus.ObjectManager",
                                      "InterfacesAdded", on_ifaces_added, NULL, b);
    if (r >= 0)
        r = sd_bus_add_match_async(b->bus, &b->owner_match,
                                   "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                   "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.bluez'",
                                   on_owner_changed, NULL, b);
    return r;
}

int wifiprov_ble_new(const struct wifiprov_ble_config *cfg, struct wifiprov_ble **out)
{
    struct wifiprov_ble_gatt_config gc;
    struct wifiprov_ble *b = NULL;
    int err = WIFIPROV_ERR_INVAL, r;

    *out = NULL;
    if (!cfg || !cfg->event || !cfg->device || !cfg->sessions || !cfg->service_name)
        goto out;
    memset(&gc, 0, sizeof(gc));
    if (wifiprov__ble_uuid_parse(cfg->service_uuid ? cfg->service_uuid : WIFIPROV_BLE_DEFAULT_SERVICE_UUID,
                                 gc.service_uuid) != 0) {
        wifiprov__err("ble: bad service UUID '%s'", cfg->service_uuid);
        goto out;
    }
    err = WIFIPROV_ERR_NOMEM;
    b = wifiprov__calloc(1, sizeof(*b));
    if (!b)
        goto out;
    b->event = cfg->event;
    b->require_encryption = cfg->require_encryption;
    b->state_dir = cfg->state_dir;
    b->failed_fn = cfg->failed_fn;
    b->ctx = cfg->ctx;
    b->max_conns = cfg->max_conns ? cfg->max_conns : 16u;
    wifiprov__ble_uuid_format(gc.service_uuid, b->service_uuid);
    err = wifiprov__ble_adv_contents(cfg->service_name, cfg->mfg_data, cfg->mfg_len, &b->adv);
    if (err) {
        wifiprov__err("ble: manufacturer data must be 2 (company id) to %d bytes", WIFIPROV_BLE_MFG_MAX);
        goto out;
    }
    err = WIFIPROV_ERR_NOMEM;
    b->held = wifiprov__calloc(b->max_conns, sizeof(*b->held));
    b->to_disconnect = wifiprov__calloc(b->max_conns, sizeof(*b->to_disconnect));
    if (!b->held || !b->to_disconnect)
        goto out;
    gc.device = cfg->device;
    gc.sessions = cfg->sessions;
    gc.max_conns = b->max_conns;
    gc.disconnect_fn = gatt_disconnect;
    gc.wake_fn = gatt_wake;
    gc.dropped_fn = gatt_dropped;
    gc.ctx = b;
    err = wifiprov__ble_gatt_new(&gc, &b->gatt);
    if (err)
        goto out;
    b->n_chars = wifiprov__ble_gatt_char_count(b->gatt);
    b->chars = wifiprov__calloc(b->n_chars ? b->n_chars : 1, sizeof(*b->chars));
    if (!b->chars)
        goto out;
    for (size_t i = 0; i < b->n_chars; i++) {
        struct ble_char *c = &b->chars[i];
        c->b = b;
        c->index = i;
        snprintf(c->path, sizeof(c->path), SERVICE_PATH "/char%zu", i);
        snprintf(c->desc_path, sizeof(c->desc_path), SERVICE_PATH "/char%zu/desc0", i);
        wifiprov__ble_uuid_format(wifiprov__ble_gatt_char(b->gatt, i)->uuid, c->uuid);
    }

    r = sd_bus_open_system(&b->bus);
    if (r < 0) {
        wifiprov__err("ble: cannot connect to the D-Bus system bus: %s; is dbus running?", strerror(-r));
        err = WIFIPROV_ERR_UNSUPPORTED;
        goto out;
    }
    err = bluez_owner(b);
    if (err)
        goto out;
    if (cfg->adapter && strlen(cfg->adapter) >= sizeof(b->want_adapter)) {
        wifiprov__err("ble: bad adapter name '%s' (hci0, hci1, ...)", cfg->adapter);
        err = WIFIPROV_ERR_INVAL;
        goto out;
    }
    snprintf(b->want_adapter, sizeof(b->want_adapter), "%s", cfg->adapter ? cfg->adapter : "");
    err = choose_adapter(b);
    if (err)
        goto out;
    err = WIFIPROV_ERR_IO;
    r = export_objects(b);
    if (r < 0) {
        wifiprov__err("ble: cannot export the GATT objects: %s", strerror(-r));
        goto out;
    }
    r = watch_bluez(b);
    if (r >= 0)
        r = send_registrations(b, false);
    if (r < 0) {
        wifiprov__err("ble: cannot ask BlueZ to register: %s", strerror(-r));
        goto out;
    }
    wifiprov__dbg("ble: registering service %s (%zu characteristics) and advertisement \"%s\" on %s (%s)",
                  b->service_uuid, b->n_chars, b->adv.local_name, b->adapter, b->address);
    b->starting = true;
    err = wait_registered(b);
    b->starting = false;
    if (err)
        goto out;
    err = WIFIPROV_ERR_IO;
    r = sd_bus_attach_event(b->bus, b->event, SD_EVENT_PRIORITY_NORMAL);
    if (r < 0) {
        wifiprov__err("ble: cannot attach D-Bus to the event loop: %s", strerror(-r));
        goto out;
    }
    *out = b;
    b = NULL;
    err = 0;
out:
    wifiprov_ble_free(b);
    return err;
}

void wifiprov_ble_free(struct wifiprov_ble *b)
{
    if (!b)
        return;
    if (b->held)
        drop_all_connections(b);
    if (b->agent_on)
        wifiprov__ble_agent_free(&b->agent);
    wifiprov__ble_gatt_free(b->gatt);
    b->gatt = NULL;
    if (b->bus && b->bluez_owner[0]) {
        /* BlueZ drops both when our connection closes too; this says so at once. An adapter
         * that was powered off while we waited may still hold them. */
        bool stale = b->wait == BLE_WAIT_POWER;
        wifiprov__ble_alias_restore(&b->alias, b->bus);
        if (b->adv_registered || b->reg_adv_slot || stale)
            sd_bus_call_method_async(b->bus, NULL, BLUEZ, b->adapter_path, IFACE_ADV_MANAGER, "UnregisterAdvertisement",
                                     NULL, NULL, "o", ADV_PATH);
        if (b->app_registered || b->reg_app_slot || stale)
            sd_bus_call_method_async(b->bus, NULL, BLUEZ, b->adapter_path, IFACE_GATT_MANAGER, "UnregisterApplication",
                                     NULL, NULL, "o", APP_PATH);
        if (b->powered_by_us)
            sd_bus_call_method_async(b->bus, NULL, BLUEZ, b->adapter_path, "org.freedesktop.DBus.Properties", "Set",
                                     NULL, NULL, "ssv", IFACE_ADAPTER, "Powered", "b", 0);
        if (b->app_registered || b->adv_registered)
            wifiprov__info("ble: advertisement and GATT application unregistered from %s", b->adapter);
    }
    sd_bus_slot_unref(b->reg_app_slot);
    sd_bus_slot_unref(b->reg_adv_slot);
    sd_bus_slot_unref(b->objs_slot);
    sd_bus_slot_unref(b->power_slot);
    sd_bus_slot_unref(b->added_match);
    sd_bus_slot_unref(b->props_match);
    sd_bus_slot_unref(b->removed_match);
    sd_bus_slot_unref(b->owner_match);
    sd_bus_slot_unref(b->adv_slot);
    if (b->chars) {
        for (size_t i = 0; i < b->n_chars; i++) {
            sd_bus_slot_unref(b->chars[i].desc_slot);
            sd_bus_slot_unref(b->chars[i].slot);
        }
    }
    sd_bus_slot_unref(b->service_slot);
    sd_bus_slot_unref(b->om_slot);
    if (b->bus) {
        sd_bus_flush(b->bus);
        sd_bus_detach_event(b->bus);
        sd_bus_flush_close_unref(b->bus);
    }
    wifiprov__free(b->chars);
    wifiprov__free(b->held);
    wifiprov__free(b->to_disconnect);
    wifiprov__free(b);
}

const char *wifiprov_ble_adapter_name(const struct wifiprov_ble *b)
{
    return b->adapter;
}

const char *wifiprov_ble_adapter_address(const struct wifiprov_ble *b)
{
    return b->address;
}

bool wifiprov_ble_registered(const struct wifiprov_ble *b)
{
    return b->app_registered && b->adv_registered;
}
