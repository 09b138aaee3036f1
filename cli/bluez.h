/*
 * The D-Bus side of BlueZ that the BLE transport and `wifiprov discover` share: the system
 * bus through sd-bus, the adapter, LE discovery and a snapshot of bluetoothd's objects
 * (adapters, devices, GATT services, characteristics, descriptors). Every wait polls the
 * bus itself, so Ctrl-C (cli_interrupted) ends it at once.
 */
#ifndef WIFIPROV_CLI_BLUEZ_H
#define WIFIPROV_CLI_BLUEZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

/* The service of the ESP-IDF example and esp_prov's fallback (PROTOCOL.md §7.2). */
#define CLI_BLE_DEFAULT_SERVICE "021a9004-0382-4aea-bff4-6b3f1c5adfb4"
#define CLI_BLE_USER_DESC_UUID "00002901-0000-1000-8000-00805f9b34fb"
#define CLI_BLE_UUID_LEN 36
#define CLI_BLUEZ_MAX_UUIDS 8

enum cli_bluez_kind {
    CLI_BLUEZ_KIND_ADAPTER,
    CLI_BLUEZ_KIND_DEVICE,
    CLI_BLUEZ_KIND_SERVICE,
    CLI_BLUEZ_KIND_CHAR,
    CLI_BLUEZ_KIND_DESC,
};

/* One object of bluetoothd's tree, with the properties wifiprov uses. */
struct cli_bluez_obj {
    enum cli_bluez_kind kind;
    char path[192];
    char parent[192];                /* Device: its adapter; Service: Device; Char: Service; Desc: Characteristic */
    char uuid[CLI_BLE_UUID_LEN + 1]; /* Service, Char, Desc (lower case) */
    /* Adapter */
    bool powered;
    /* Device */
    char address[18];
    char name[249]; /* Name, empty when the device sent none */
    char alias[249];
    bool has_rssi; /* only while it is being discovered */
    int16_t rssi;
    char uuids[CLI_BLUEZ_MAX_UUIDS][CLI_BLE_UUID_LEN + 1]; /* advertised service UUIDs */
    size_t n_uuids;
    bool connected;
    bool services_resolved;
};

struct cli_bluez {
    sd_bus *bus;
    char adapter[32];       /* "hci0" */
    char adapter_path[192]; /* "/org/bluez/hci0" */
    bool discovering;       /* StartDiscovery was ours */
    char errmsg[512];
};

/*
 * Connects to the system bus and finds the adapter (@p adapter "hciN", or the first one when
 * NULL) and checks it is powered. @return 0, or WIFIPROV_ERR_TRANSPORT with b->errmsg saying
 * what to do (no D-Bus, no bluetoothd, no such adapter, adapter off).
 */
int cli_bluez_open(struct cli_bluez *b, const char *adapter);
void cli_bluez_close(struct cli_bluez *b);

/* The emulated and some real controllers report an advertiser only when scanning starts:
 * discovery is restarted this often while looking for devices. */
#define CLI_BLE_RESCAN_MS 8000

/* SetDiscoveryFilter(Transport=le) and StartDiscovery on the adapter. */
int cli_bluez_discovery_start(struct cli_bluez *b);
void cli_bluez_discovery_stop(struct cli_bluez *b);

/* GetManagedObjects. *objs is malloc'd (free it). @return 0 or WIFIPROV_ERR_TRANSPORT / _NOMEM. */
int cli_bluez_snapshot(struct cli_bluez *b, struct cli_bluez_obj **objs, size_t *n);

/*
 * A method call on org.bluez that waits at most @p timeout_ms, handling other traffic
 * meanwhile. @p reply may be NULL. @return 0; WIFIPROV_ERR_TIMEOUT; WIFIPROV_ERR_TRANSPORT
 * (b->errmsg has BlueZ's error, *dbus_error its name when @p dbus_error is not NULL;
 * "interrupted" after Ctrl-C, see cli_interrupted).
 */
int cli_bluez_call(struct cli_bluez *b, sd_bus_message *m, int64_t timeout_ms, sd_bus_message **reply, char *dbus_error,
                   size_t dbus_error_cap);
/* A new method call to org.bluez (NULL on failure, with b->errmsg set). */
sd_bus_message *cli_bluez_method(struct cli_bluez *b, const char *path, const char *iface, const char *member);
/* Handles pending traffic, then waits for more for at most @p ms.
 * @return 0, or WIFIPROV_ERR_TRANSPORT after Ctrl-C or when the bus is gone. */
int cli_bluez_pump(struct cli_bluez *b, int64_t ms);

/* Reads one boolean property. @return 0 or a negative WIFIPROV_ERR_*. */
int cli_bluez_get_bool(struct cli_bluez *b, const char *path, const char *iface, const char *prop, bool *out);

/* "021a9004-…" with the endpoint id in hex digits 5-8 (PROTOCOL.md §7.2). */
void cli_ble_char_uuid(const char *service_uuid, uint16_t id, char out[CLI_BLE_UUID_LEN + 1]);
/* true for a textual 128-bit UUID (any case). */
bool cli_ble_uuid_valid(const char *s);

#endif
