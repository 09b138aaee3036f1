/*
 * The BLE GATT server of the device without D-Bus (PROTOCOL.md §7.2): UUIDs of the
 * service and of one characteristic per endpoint, the 0x2901 descriptors, the
 * advertisement contents, and the exchange on each connection (write = request,
 * read = reply, long reads at offsets, long writes assembled, value limits).
 * src/transport/ble.c puts this on BlueZ's D-Bus API; the unit tests and the fuzzer
 * drive it directly.
 *
 * Exchange rules (per connection, i.e. per BlueZ device object):
 *   - A write runs the value as one request of the connection's session and stores the
 *     reply as the characteristic's value; a read returns it, from an offset for long
 *     reads. The session is opened by the connection's first prov-session message (the
 *     policy's rule, transport/sessions.h; proto-ver needs none, other endpoints are
 *     refused until then) and closed when the connection goes.
 *   - ATT Prepare Write fragments are assembled in order (each at the offset where the
 *     previous one ended); Execute Write runs the assembled value. BlueZ assembles
 *     contiguous fragments itself and hands the whole value over as one write at
 *     offset 0, so a write at another offset continues nothing and is refused.
 *   - Values are 1..512 bytes (ATT's limit). An empty write, a longer value, a read
 *     at an offset past the end, and a reply that does not fit are refused; a
 *     protocol error (handshake or decryption failure, malformed request...) drops the
 *     connection's session and asks for the link to be closed, as Bluedroid does
 *     (P25). Other connections are untouched.
 *   - A read without a write, or of another characteristic than the one last written,
 *     returns an empty value.
 */
#ifndef WIFIPROV_TRANSPORT_BLE_GATT_H
#define WIFIPROV_TRANSPORT_BLE_GATT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/sessions.h"
#include "wifiprov/common.h"
#include "wifiprov/device.h"

#define WIFIPROV_BLE_UUID_LEN 16
#define WIFIPROV_BLE_UUID_STR_LEN 36 /* without NUL */
#define WIFIPROV_BLE_VALUE_MAX 512   /* ATT's longest attribute value */
#define WIFIPROV_BLE_NAME_MAX 29     /* longest advertised name (scan response) */
#define WIFIPROV_BLE_MFG_MAX 8       /* company id + 6 bytes beside flags and a 128-bit UUID */
#define WIFIPROV_BLE_PEER_MAX 127    /* longest peer name kept (a BlueZ device path) */
#define WIFIPROV_BLE_DEFAULT_SERVICE_UUID "021a9004-0382-4aea-bff4-6b3f1c5adfb4"
#define WIFIPROV_BLE_CUD_UUID "00002901-0000-1000-8000-00805f9b34fb"

/* The outcome of a GATT access; ble.c maps each to the BlueZ error that gives its ATT code. */
enum wifiprov_ble_status {
    WIFIPROV_BLE_STATUS_OK = 0,
    WIFIPROV_BLE_STATUS_PENDING = 1,        /* the reply comes later: wifiprov__ble_gatt_resume() */
    WIFIPROV_BLE_STATUS_INVALID_LEN = 2,    /* ATT 0x0D: empty or longer than 512 bytes */
    WIFIPROV_BLE_STATUS_INVALID_OFFSET = 3, /* ATT 0x07 */
    WIFIPROV_BLE_STATUS_FAILED = 4,         /* the exchange failed; the session stays */
    WIFIPROV_BLE_STATUS_PROTO_ERROR = 5,    /* the session was dropped, the link should be closed */
    WIFIPROV_BLE_STATUS_BUSY = 6,           /* a request of this connection waits for its reply */
    WIFIPROV_BLE_STATUS_NOT_FOUND = 7,      /* no such characteristic */
};
const char *wifiprov_ble_status_to_string(enum wifiprov_ble_status st);

/* ---- UUIDs (§7.2) ---------------------------------------------------------------- */

/* Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case) into little-endian bytes. @return 0 or INVAL. */
int wifiprov__ble_uuid_parse(const char *s, uint8_t le[WIFIPROV_BLE_UUID_LEN]);
/* Lower-case textual form of little-endian bytes; @p out has room for 37 bytes. */
void wifiprov__ble_uuid_format(const uint8_t le[WIFIPROV_BLE_UUID_LEN], char *out);
/* The characteristic UUID of endpoint id @p id: bytes 12-13 of the service's LE bytes replaced by id, LE. */
void wifiprov__ble_char_uuid(const uint8_t service_le[WIFIPROV_BLE_UUID_LEN], uint16_t id,
                             uint8_t out_le[WIFIPROV_BLE_UUID_LEN]);
/*
 * The 16-bit id of each endpoint of @p names (registration order): prov-ctrl 0xFF4F,
 * prov-scan 0xFF50, prov-session 0xFF51, prov-config 0xFF52, proto-ver 0xFF53, the
 * others 0xFF54, 0xFF55, ... in their order. @return 0 or INVAL (more than 171 endpoints).
 */
int wifiprov__ble_endpoint_ids(const char *const *names, size_t n, uint16_t *ids);

/* ---- advertisement --------------------------------------------------------------- */

struct wifiprov_ble_adv {
    char local_name[WIFIPROV_BLE_NAME_MAX + 1]; /* the service name, cut to 29 bytes on a UTF-8 boundary */
    bool has_mfg;
    uint16_t company_id; /* first two bytes of the data, little-endian as on air */
    uint8_t mfg_data[WIFIPROV_BLE_MFG_MAX - 2];
    size_t mfg_len;
    bool tx_power; /* room left for the TX power AD structure */
};

/*
 * What the advertisement carries: advertising data = flags (3 bytes) + the 128-bit
 * service UUID (18) + manufacturer data (4 + n) + TX power (3) when it still fits in
 * 31 bytes; scan response = the local name (2 + up to 29).
 * @return 0, WIFIPROV_ERR_INVAL (no name, or @p mfg shorter than 2 or longer than
 *         WIFIPROV_BLE_MFG_MAX bytes).
 */
int wifiprov__ble_adv_contents(const char *service_name, const uint8_t *mfg, size_t mfg_len,
                               struct wifiprov_ble_adv *out);

/* ---- the GATT server ---------------------------------------------------------------- */

struct wifiprov_ble_char {
    char name[WIFIPROV_EP_NAME_MAX + 1]; /* endpoint name = the 0x2901 descriptor's value */
    uint16_t id;
    uint8_t uuid[WIFIPROV_BLE_UUID_LEN]; /* little-endian */
};

struct wifiprov_ble_gatt_config {
    /* The device whose endpoints are served (borrowed; outlives the server). */
    struct wifiprov_device *device;
    /* The session policy the connections' sessions belong to (borrowed; outlives the server). */
    struct wifiprov_sessions *sessions;
    /* Little-endian service UUID. */
    uint8_t service_uuid[WIFIPROV_BLE_UUID_LEN];
    /* Connections tracked at once; 0 = 16. */
    unsigned max_conns;
    /* A protocol error on @p peer: close that link (may be NULL). */
    void (*disconnect_fn)(void *ctx, const char *peer);
    /* The held request of @p peer may be answerable: call wifiprov__ble_gatt_resume() (may be NULL). */
    void (*wake_fn)(void *ctx, const char *peer);
    /* The policy closed the session of @p peer while its request was held (idle, eviction, timeout):
     * that request failed (may be NULL). */
    void (*dropped_fn)(void *ctx, const char *peer);
    void *ctx;
};

struct wifiprov_ble_gatt;

/* Takes the device's endpoints as they are now. @return 0, INVAL, NOMEM. */
int wifiprov__ble_gatt_new(const struct wifiprov_ble_gatt_config *cfg, struct wifiprov_ble_gatt **out);
/* Closes every session of the server (the policy tells nobody else). Accepts NULL. */
void wifiprov__ble_gatt_free(struct wifiprov_ble_gatt *g);

size_t wifiprov__ble_gatt_char_count(const struct wifiprov_ble_gatt *g);
const struct wifiprov_ble_char *wifiprov__ble_gatt_char(const struct wifiprov_ble_gatt *g, size_t i);

/* The 0x2901 descriptor of characteristic @p ci read from @p offset. */
enum wifiprov_ble_status wifiprov__ble_gatt_read_descriptor(const struct wifiprov_ble_gatt *g, size_t ci, size_t offset,
                                                            const uint8_t **data, size_t *len);

/* A complete write of characteristic @p ci by @p peer at @p offset (ATT Write Request, or BlueZ's WriteValue). */
enum wifiprov_ble_status wifiprov__ble_gatt_write(struct wifiprov_ble_gatt *g, const char *peer, size_t ci,
                                                  size_t offset, const uint8_t *data, size_t len);
/* ATT Prepare Write: one fragment of a long write, queued. */
enum wifiprov_ble_status wifiprov__ble_gatt_prepare(struct wifiprov_ble_gatt *g, const char *peer, size_t ci,
                                                    size_t offset, const uint8_t *data, size_t len);
/* ATT Execute Write: @p commit runs the assembled value, else the queue is dropped. */
enum wifiprov_ble_status wifiprov__ble_gatt_execute(struct wifiprov_ble_gatt *g, const char *peer, bool commit);
/* A read of characteristic @p ci by @p peer at @p offset; @p data stays valid until the next call. */
enum wifiprov_ble_status wifiprov__ble_gatt_read(struct wifiprov_ble_gatt *g, const char *peer, size_t ci,
                                                 size_t offset, const uint8_t **data, size_t *len);
/* After the session's wake: tries the held request of @p peer again (OK, PENDING, or an error as for a write). */
enum wifiprov_ble_status wifiprov__ble_gatt_resume(struct wifiprov_ble_gatt *g, const char *peer);
/* @p peer disconnected: its session is closed and its values are cleared. */
void wifiprov__ble_gatt_disconnected(struct wifiprov_ble_gatt *g, const char *peer);

/* Every connection ends (bluetoothd went away, the transport stops). */
void wifiprov__ble_gatt_disconnect_all(struct wifiprov_ble_gatt *g);

/* The peer of session @p id, NULL when no connection holds it. */
const char *wifiprov__ble_gatt_peer_of(const struct wifiprov_ble_gatt *g, uint32_t id);
/* true while a request of @p peer waits for its reply. */
bool wifiprov__ble_gatt_pending(const struct wifiprov_ble_gatt *g, const char *peer);
/* Connections and sessions held. */
size_t wifiprov__ble_gatt_conn_count(const struct wifiprov_ble_gatt *g);
size_t wifiprov__ble_gatt_session_count(const struct wifiprov_ble_gatt *g);
/* The session id of @p peer; false when it has none. */
bool wifiprov__ble_gatt_session_of(const struct wifiprov_ble_gatt *g, const char *peer, uint32_t *id);

#endif
