/*
 * The adapter's GAP device name while the BLE transport serves (PROTOCOL.md §9.1): the
 * adapter's alias (BlueZ's org.bluez.Adapter1.Alias, what a connected phone reads from the
 * GAP service) becomes the advertised name, so the name a phone saw in the scan is the
 * one it keeps after connecting.
 *
 * The alias the adapter had is written to <state-dir>/ble-alias (the adapter's address and
 * both names in hex) before it is changed, and put back when BLE stops, unless someone
 * changed the alias meanwhile; the file goes once that is done. A file left by a killed
 * daemon is applied at the next start the same way, so the adapter ends up as it was
 * before. A previous alias equal to the system name is put back as "" (BlueZ's "no
 * alias": the adapter follows the system name again). Failures only warn: BLE serves
 * with whatever name the adapter has.
 */
#ifndef WIFIPROV_TRANSPORT_BLE_ALIAS_H
#define WIFIPROV_TRANSPORT_BLE_ALIAS_H

#include <stdbool.h>

#include <systemd/sd-bus.h>

#include "transport/ble_gatt.h"

/* Longest adapter name BlueZ holds (HCI's 248 bytes). */
#define WIFIPROV_BLE_ALIAS_MAX 248

/* One adapter of bluetoothd's object tree, as start-up and recovery read it. */
struct wifiprov__ble_adapter {
    char path[32];
    char address[24];
    char name[WIFIPROV_BLE_ALIAS_MAX + 1];  /* Adapter1.Name: the system name */
    char alias[WIFIPROV_BLE_ALIAS_MAX + 1]; /* Adapter1.Alias: the name in use */
    bool powered;
    bool gatt;
    bool adv;
};

struct wifiprov__ble_alias {
    const char *state_dir; /* NULL: the alias is left alone */
    bool taken;            /* our alias is set on the adapter at `address` */
    char path[32];
    char address[24];
    char ours[WIFIPROV_BLE_NAME_MAX + 1];
    char previous[WIFIPROV_BLE_ALIAS_MAX + 1]; /* what goes back ("" = the system name) */
};

/*
 * Start-up (blocking calls): applies a record a killed daemon left for any of the @p n
 * adapters @p ad, then records @p pick's alias and sets it to @p name.
 */
void wifiprov__ble_alias_take(struct wifiprov__ble_alias *al, const char *state_dir, sd_bus *bus,
                              const struct wifiprov__ble_adapter *ad, int n, const struct wifiprov__ble_adapter *pick,
                              const char *name);
/* After a wait, the adapter is found again as @p a: our alias is set again if it lost it (asynchronous). */
void wifiprov__ble_alias_again(struct wifiprov__ble_alias *al, sd_bus *bus, const struct wifiprov__ble_adapter *a);
/* Stop: the previous alias goes back if ours is still set (blocking, 2 s at most), then the record. */
void wifiprov__ble_alias_restore(struct wifiprov__ble_alias *al, sd_bus *bus);

#endif
