/*
 * BLE transport of the device (PROTOCOL.md §7.2) on BlueZ (bluetoothd 5.66 or later)
 * over D-Bus with sd-bus, on the caller's sd-event loop, one thread.
 *
 * It exports a GATT application (one primary service, one characteristic per
 * endpoint of the device with its 0x2901 descriptor) and an LE advertisement, and
 * registers both with GattManager1 / LEAdvertisingManager1 of the chosen adapter, whose
 * alias (the GAP device name) is the service name while it serves (ble_alias.h).
 * The exchange rules are those of ble_gatt.h. Each BlueZ device (connection) gets its
 * own session, closed when that device disconnects.
 *
 * Only bluetoothd may call the exported objects (the sender is checked). When the
 * transport is freed the advertisement and the application are unregistered; BlueZ
 * also drops both by itself when the process goes away.
 *
 * After start, BLE follows bluetoothd and the adapter: when bluetoothd leaves the bus,
 * the adapter disappears or is powered off, the links are gone, so every connection's
 * session is closed and the transport waits ("BLE down: ...; waiting for it"); when
 * bluetoothd owns org.bluez again, the adapter is back (InterfacesAdded) or powered on,
 * it finds the adapter again (the same --ble-adapter, or the first one; powered on if
 * off), registers the application and the advertisement anew and logs "BLE back on
 * hciN". At start, no bluetoothd or no adapter is an error instead (wifiprov_ble_new).
 */
#ifndef WIFIPROV_TRANSPORT_BLE_H
#define WIFIPROV_TRANSPORT_BLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "transport/ble_gatt.h"
#include "transport/sessions.h"
#include "wifiprov/common.h"
#include "wifiprov/device.h"

struct wifiprov_ble_config {
    /* The loop (borrowed). */
    sd_event *event;
    /* The device whose endpoints are served (borrowed; outlives the transport). */
    struct wifiprov_device *device;
    /* The device's session policy (borrowed): one session per BLE connection, peer = the BlueZ device path. */
    struct wifiprov_sessions *sessions;
    /* "hciN"; NULL = the first adapter BlueZ lists. It is powered on if it is off. */
    const char *adapter;
    /* Textual service UUID; NULL = WIFIPROV_BLE_DEFAULT_SERVICE_UUID. */
    const char *service_uuid;
    /* Advertised name (the service name; cut to 29 bytes). */
    const char *service_name;
    /* Manufacturer data for the advertisement: 2-byte company id (LE) + data; NULL = none. */
    const uint8_t *mfg_data;
    size_t mfg_len;
    /* Where the adapter's alias is recorded before it becomes the service name (the GAP
     * name, see ble_alias.h; borrowed); NULL = the alias is left alone. */
    const char *state_dir;
    /* Characteristic values need an encrypted link (descriptors stay readable). */
    bool require_encryption;
    /* Connections tracked at once; 0 = 16. */
    unsigned max_conns;
    /* BLE stopped working for good after start (BlueZ refused a registration, a D-Bus
     * failure); bluetoothd or the adapter going away is waited for instead. @p why says
     * what happened and what to do. May be NULL. */
    void (*failed_fn)(void *ctx, const char *why);
    void *ctx;
};

struct wifiprov_ble;

/**
 * Connects to the system bus, picks and powers the adapter (blocking calls, at
 * start-up only), exports the objects and asks BlueZ to register them; the answers
 * arrive on the loop (errors through failed_fn).
 * @return 0, WIFIPROV_ERR_INVAL (bad configuration), WIFIPROV_ERR_UNSUPPORTED (no
 *         bluetoothd, no adapter, not allowed on the bus; logged with what to do),
 *         WIFIPROV_ERR_IO (D-Bus failure, logged), WIFIPROV_ERR_NOMEM.
 */
int wifiprov_ble_new(const struct wifiprov_ble_config *cfg, struct wifiprov_ble **out);
/* Unregisters, closes every connection's session and the bus. Accepts NULL. */
void wifiprov_ble_free(struct wifiprov_ble *b);

/*
 * Puts back the adapter name a killed run left (<state-dir>/ble-alias, see ble_alias.h)
 * where the adapter still has it; nothing happens without that file. Called at every start,
 * whatever the transports, before BLE (if any) starts. Blocking, a few short D-Bus calls.
 */
void wifiprov_ble_sweep(const char *state_dir);

/* "hci0" and its address ("00:11:22:33:44:55"). */
const char *wifiprov_ble_adapter_name(const struct wifiprov_ble *b);
const char *wifiprov_ble_adapter_address(const struct wifiprov_ble *b);
/* true once BlueZ accepted the application and the advertisement. */
bool wifiprov_ble_registered(const struct wifiprov_ble *b);

#endif
