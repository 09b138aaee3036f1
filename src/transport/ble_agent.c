/*
 * The BLE transport's pairing agent (see ble_agent.h).
 *
 * <state-dir>/ble-bonds: one BlueZ device path per line (/org/bluez/hci0/dev_XX_...).
 */
#include <stdio.h>
#include <string.h>

#include "transport/ble_agent.h"
#include "util.h"
#include "wifi/wifiutil.h"

#define BLUEZ "org.bluez"
#define BONDS "ble-bonds"
#define BONDS_MAX (WIFIPROV_BLE_AGENT_BONDS * 97 + 1)
#define ERR_REJECTED "org.bluez.Error.Rejected"
/* Start-up only: RemoveDevice disconnects first, which can take seconds. */
#define CALL_TIMEOUT_US (10u * 1000000u)

static bool ours(const struct wifiprov__ble_agent *a, sd_bus_message *m, const char *device)
{
    const char *sender = sd_bus_message_get_sender(m);
    size_t n = strlen(a->adapter_path);

    return sender && a->owner[0] && strcmp(sender, a->owner) == 0 && n && strncmp(device, a->adapter_path, n) == 0 &&
           device[n] == '/';
}

static unsigned bond_count(const struct wifiprov__ble_agent *a)
{
    unsigned n = 0;

    for (unsigned i = 0; i < WIFIPROV_BLE_AGENT_BONDS; i++)
        n += a->bonds[i].device[0] != '\0';
    return n;
}

/* Writes the list (or removes it when empty). */
static void save_bonds(const struct wifiprov__ble_agent *a)
{
    char text[BONDS_MAX];
    size_t len = 0;

    if (!a->state_dir)
        return;
    if (!bond_count(a)) {
        wifiprov__wifiutil_remove_file(a->state_dir, BONDS);
        return;
    }
    for (unsigned i = 0; i < WIFIPROV_BLE_AGENT_BONDS; i++)
        if (a->bonds[i].device[0])
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n", a->bonds[i].device);
    if (wifiprov__wifiutil_write_atomic(a->state_dir, BONDS, text, len) != 0)
        wifiprov__warn("ble: cannot list the pairings in %s/%s; a kill -9 would leave them", a->state_dir, BONDS);
}

static struct wifiprov__ble_bond *find_bond(struct wifiprov__ble_agent *a, const char *device)
{
    for (unsigned i = 0; i < WIFIPROV_BLE_AGENT_BONDS; i++)
        if (a->bonds[i].device[0] && strcmp(a->bonds[i].device, device) == 0)
            return &a->bonds[i];
    return NULL;
}

static void add_bond(struct wifiprov__ble_agent *a, const char *device)
{
    struct wifiprov__ble_bond *free_slot = NULL;

    if (find_bond(a, device))
        return;
    for (unsigned i = 0; i < WIFIPROV_BLE_AGENT_BONDS && !free_slot; i++)
        if (!a->bonds[i].device[0])
            free_slot = &a->bonds[i];
    if (!free_slot || strlen(device) >= sizeof(free_slot->device)) {
        wifiprov__warn("ble: too many pairings to track; %s's stays", device);
        return;
    }
    free_slot->agent = a;
    snprintf(free_slot->device, sizeof(free_slot->device), "%s", device);
    save_bonds(a);
}

/* RequestAuthorization(o) and RequestConfirmation(ou): Just Works for our adapter's devices. */
static int agent_confirm(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov__ble_agent *a = ud;
    const char *device;

    if (sd_bus_message_read(m, "o", &device) < 0)
        return sd_bus_error_set(err, ERR_REJECTED, "bad arguments");
    if (!ours(a, m, device)) {
        wifiprov__dbg("ble: pairing of %s refused (not on our adapter)", device);
        return sd_bus_error_set(err, ERR_REJECTED, "not a device of the provisioning adapter");
    }
    wifiprov__info("ble: %s pairs (Just Works, --ble-require-encryption)", device);
    add_bond(a, device);
    return sd_bus_reply_method_return(m, NULL);
}

static int agent_authorize_service(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov__ble_agent *a = ud;
    const char *device;

    if (sd_bus_message_read(m, "o", &device) < 0 || !ours(a, m, device))
        return sd_bus_error_set(err, ERR_REJECTED, "not a device of the provisioning adapter");
    return sd_bus_reply_method_return(m, NULL);
}

/* A PIN code or passkey needs input we do not have (NoInputNoOutput). */
static int agent_refuse(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    wifiprov__dbg("ble: agent %s refused (no keys, no display)", sd_bus_message_get_member(m));
    return sd_bus_error_set(err, ERR_REJECTED, "no input and no output on this device");
}

static int agent_ok(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    wifiprov__dbg("ble: agent %s", sd_bus_message_get_member(m));
    return sd_bus_reply_method_return(m, NULL);
}

static int agent_released(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov__ble_agent *a = ud;

    a->registered = false;
    return agent_ok(m, ud, err);
}

static const sd_bus_vtable agent_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Release", "", "", agent_released, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("RequestPinCode", "o", "s", agent_refuse, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("DisplayPinCode", "os", "", agent_ok, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("RequestPasskey", "o", "u", agent_refuse, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("DisplayPasskey", "ouq", "", agent_ok, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("RequestConfirmation", "ou", "", agent_confirm, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("RequestAuthorization", "o", "", agent_confirm, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("AuthorizeService", "os", "", agent_authorize_service, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Cancel", "", "", agent_ok, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

int wifiprov__ble_agent_export(struct wifiprov__ble_agent *a)
{
    return sd_bus_add_object_vtable(a->bus, &a->slot, WIFIPROV_BLE_AGENT_PATH, "org.bluez.Agent1", agent_vtable, a);
}

static int on_agent_registered(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov__ble_agent *a = ud;
    const sd_bus_error *e = sd_bus_message_get_error(m);

    a->reg_slot = sd_bus_slot_unref(a->reg_slot);
    if (!e || sd_bus_error_has_name(e, "org.bluez.Error.AlreadyExists")) {
        if (!a->registered)
            wifiprov__info("ble: pairing agent registered (NoInputNoOutput: phones pair Just Works)");
        a->registered = true;
        return 0;
    }
    wifiprov__warn("ble: bluetoothd refused the pairing agent: %s; phones cannot pair, so with "
                   "--ble-require-encryption they cannot provision",
                   e->message ? e->message : e->name);
    return 0;
}

void wifiprov__ble_agent_register(struct wifiprov__ble_agent *a)
{
    a->reg_slot = sd_bus_slot_unref(a->reg_slot);
    if (sd_bus_call_method_async(a->bus, &a->reg_slot, BLUEZ, "/org/bluez", "org.bluez.AgentManager1", "RegisterAgent",
                                 on_agent_registered, a, "os", WIFIPROV_BLE_AGENT_PATH, "NoInputNoOutput") < 0)
        wifiprov__warn("ble: cannot ask bluetoothd to register the pairing agent");
}

/* The adapter of a BlueZ device path ("/org/bluez/hci0" of ".../hci0/dev_..."). @return false if it is none. */
static bool adapter_of(const char *device, char adapter[96])
{
    const char *dev = strstr(device, "/dev_");

    if (!dev || (size_t)(dev - device) >= 96)
        return false;
    memcpy(adapter, device, (size_t)(dev - device));
    adapter[dev - device] = '\0';
    return true;
}

/* Adapter1.RemoveDevice for @p device (its bond goes with it). @return true when removed or gone already. */
static bool remove_device(sd_bus *bus, const char *device)
{
    char adapter[96];
    sd_bus_message *m = NULL;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    bool ok;
    int r;

    if (!adapter_of(device, adapter))
        return true; /* not a device path: nothing to remove */
    r = sd_bus_message_new_method_call(bus, &m, BLUEZ, adapter, "org.bluez.Adapter1", "RemoveDevice");
    if (r >= 0)
        r = sd_bus_message_append(m, "o", device);
    if (r >= 0)
        r = sd_bus_call(bus, m, CALL_TIMEOUT_US, &e, NULL);
    ok = r >= 0 || sd_bus_error_has_name(&e, "org.bluez.Error.DoesNotExist") ||
         sd_bus_error_has_name(&e, "org.freedesktop.DBus.Error.UnknownObject");
    if (r >= 0)
        wifiprov__info("ble: pairing of %s removed", device);
    else if (!ok)
        wifiprov__warn("ble: cannot remove the pairing of %s: %s", device, e.message ? e.message : strerror(-r));
    sd_bus_error_free(&e);
    sd_bus_message_unref(m);
    return ok;
}

static int on_removed(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    struct wifiprov__ble_bond *bond = ud;
    const sd_bus_error *e = sd_bus_message_get_error(m);

    bond->remove_slot = sd_bus_slot_unref(bond->remove_slot);
    if (e && !sd_bus_error_has_name(e, "org.bluez.Error.DoesNotExist")) {
        wifiprov__warn("ble: cannot remove the pairing of %s: %s; the next start removes it", bond->device,
                       e->message ? e->message : e->name);
        return 0;
    }
    wifiprov__info("ble: pairing of %s removed", bond->device);
    bond->device[0] = '\0';
    save_bonds(bond->agent);
    return 0;
}

/* Asks bluetoothd to remove @p bond's device; with @p answer the reply updates the list. */
static void remove_async(struct wifiprov__ble_agent *a, struct wifiprov__ble_bond *bond, bool answer)
{
    char adapter[96];

    if (bond->remove_slot || !adapter_of(bond->device, adapter))
        return;
    if (sd_bus_call_method_async(a->bus, answer ? &bond->remove_slot : NULL, BLUEZ, adapter, "org.bluez.Adapter1",
                                 "RemoveDevice", answer ? on_removed : NULL, bond, "o", bond->device) < 0)
        wifiprov__warn("ble: cannot ask bluetoothd to remove the pairing of %s", bond->device);
}

void wifiprov__ble_agent_device_gone(struct wifiprov__ble_agent *a, const char *device)
{
    struct wifiprov__ble_bond *bond = find_bond(a, device);

    if (bond)
        remove_async(a, bond, true);
}

void wifiprov__ble_agent_free(struct wifiprov__ble_agent *a)
{
    unsigned left = bond_count(a);

    a->reg_slot = sd_bus_slot_unref(a->reg_slot);
    a->slot = sd_bus_slot_unref(a->slot);
    for (unsigned i = 0; i < WIFIPROV_BLE_AGENT_BONDS; i++)
        a->bonds[i].remove_slot = sd_bus_slot_unref(a->bonds[i].remove_slot);
    /* Neither waits: bluetoothd drops the agent with our connection anyway, and the list
     * stays for the next start, which removes what is left. */
    if (a->bus && sd_bus_is_open(a->bus) > 0) {
        if (a->registered)
            sd_bus_call_method_async(a->bus, NULL, BLUEZ, "/org/bluez", "org.bluez.AgentManager1", "UnregisterAgent",
                                     NULL, NULL, "o", WIFIPROV_BLE_AGENT_PATH);
        for (unsigned i = 0; i < WIFIPROV_BLE_AGENT_BONDS; i++)
            if (a->bonds[i].device[0])
                remove_async(a, &a->bonds[i], false);
    }
    a->registered = false;
    if (left)
        wifiprov__info("ble: %u pairing%s still listed in %s/%s; the next start removes what is left", left,
                       left == 1 ? "" : "s", a->state_dir ? a->state_dir : "?", BONDS);
}

void wifiprov__ble_agent_sweep(const char *state_dir)
{
    char text[BONDS_MAX], *line, *save = NULL;
    sd_bus *bus = NULL;
    bool all = true;

    if (!state_dir || wifiprov__wifiutil_read_file(state_dir, BONDS, text, sizeof(text)) != 0)
        return;
    if (sd_bus_open_system(&bus) < 0) {
        wifiprov__warn("ble: no D-Bus connection to remove the pairings an earlier run let in (%s/%s)", state_dir,
                       BONDS);
        return;
    }
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "/org/bluez/", 11) != 0)
            continue;
        wifiprov__info("ble: removing the pairing of %s, which an earlier run let in", line);
        all = remove_device(bus, line) && all;
    }
    if (all)
        wifiprov__wifiutil_remove_file(state_dir, BONDS);
    sd_bus_flush_close_unref(bus);
}
