/*
 * libFuzzer target for the BLE transport's write path without BlueZ
 * (src/transport/ble_gatt.c): complete writes, Prepare Write fragments at offsets,
 * Execute Write, reads and descriptor reads at offsets, disconnects and PENDING
 * resumes, on four connections at once, through a real device core.
 *
 * Input: a byte for the security scheme (fuzz_util.h), then records:
 *   op       bits 0-1 connection, bits 2-4 operation: 0 write, 1 prepare, 2 execute,
 *            3 execute (cancel), 4 read, 5 read descriptor, 6 disconnect, 7 wake + resume;
 *            bit 5: the clock moves 2 s first and the policy's expiry runs (idle sessions, held replies)
 *   char     characteristic index (modulo count + 1, so one past the end is tried too)
 *   offset   2 bytes, big-endian
 *   len      2 bytes, big-endian (modulo 600), then that many bytes of value
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "transport/ble_gatt.h"
#include "wifiprov/wifiprov.h"

#define N_CONN 4

static const char *const peers[N_CONN] = {
    "/org/bluez/hci0/dev_00_00_00_00_00_01",
    "/org/bluez/hci0/dev_00_00_00_00_00_02",
    "/org/bluez/hci0/dev_00_00_00_00_00_03",
    "/org/bluez/hci0/dev_00_00_00_00_00_04",
};

/* A reply as long as the request says (first byte * 3), to cross the 512-byte limit. */
static int grow(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t n = req->len ? (size_t)req->data[0] * 3u : 0;

    (void)ctx;
    if (n > cap)
        return WIFIPROV_ERR_NOSPC;
    memset(out, 0x33, n);
    *out_len = n;
    return 0;
}

static uint64_t clock_ms(void *ctx)
{
    uint64_t *now = ctx;

    return *now;
}

static void disconnected_cb(void *ctx, const char *peer)
{
    unsigned *n = ctx;

    (void)peer;
    (*n)++;
}

static void sink(const uint8_t *d, size_t len)
{
    if (len && d) {
        volatile uint8_t s = d[0] ^ d[len - 1];
        (void)s;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader rd = {data, size};
    struct wifiprov_ble_gatt_config gc;
    struct wifiprov_sessions_config sc;
    struct wifiprov_device *dev = NULL;
    struct wifiprov_sessions *ss = NULL;
    uint64_t now = 0;
    struct wifiprov_ble_gatt *g = NULL;
    unsigned disconnects = 0;
    size_t n_chars;

    if (fuzz_device_new(&rd, NULL, NULL, &dev) != 0)
        return 0;
    wifiprov_device_add_endpoint(dev, "grow", grow, NULL);
    memset(&sc, 0, sizeof(sc));
    sc.device = dev;
    sc.max_sessions = 3; /* fewer than the connections: the least recently used one is evicted */
    sc.idle_s = 5;
    sc.clock_ms = clock_ms;
    sc.clock_ctx = &now;
    if (wifiprov_sessions_new(&sc, &ss) != 0)
        goto out;
    memset(&gc, 0, sizeof(gc));
    gc.device = dev;
    gc.sessions = ss;
    wifiprov__ble_uuid_parse(WIFIPROV_BLE_DEFAULT_SERVICE_UUID, gc.service_uuid);
    gc.max_conns = N_CONN;
    gc.disconnect_fn = disconnected_cb;
    gc.ctx = &disconnects;
    if (wifiprov__ble_gatt_new(&gc, &g) != 0)
        goto out;
    n_chars = wifiprov__ble_gatt_char_count(g);

    while (rd.n > 0) {
        uint8_t op, chr, off[2], blen[2], value[600];
        const uint8_t *d = NULL;
        size_t len = 0, vlen, ci, offset;
        const char *peer;

        if (!fuzz_take(&rd, &op, 1) || !fuzz_take(&rd, &chr, 1) || !fuzz_take(&rd, off, 2) || !fuzz_take(&rd, blen, 2))
            break;
        vlen = ((size_t)blen[0] << 8 | blen[1]) % sizeof(value);
        if (vlen > rd.n)
            vlen = rd.n;
        fuzz_take(&rd, value, vlen);
        peer = peers[op & 3u];
        ci = chr % (n_chars + 1);
        if (op & 0x20u) {
            now += 2000;
            wifiprov_sessions_expire(ss);
        }
        offset = (size_t)off[0] << 8 | off[1];
        switch ((op >> 2) & 7u) {
        case 0:
            wifiprov__ble_gatt_write(g, peer, ci, offset, value, vlen);
            break;
        case 1:
            wifiprov__ble_gatt_prepare(g, peer, ci, offset, value, vlen);
            break;
        case 2:
            wifiprov__ble_gatt_execute(g, peer, true);
            break;
        case 3:
            wifiprov__ble_gatt_execute(g, peer, false);
            break;
        case 4:
            if (wifiprov__ble_gatt_read(g, peer, ci, offset, &d, &len) == WIFIPROV_BLE_STATUS_OK)
                sink(d, len);
            break;
        case 5:
            if (wifiprov__ble_gatt_read_descriptor(g, ci, offset, &d, &len) == WIFIPROV_BLE_STATUS_OK)
                sink(d, len);
            break;
        case 6:
            wifiprov__ble_gatt_disconnected(g, peer);
            break;
        case 7:
            for (unsigned k = 0; k < N_CONN; k++) {
                uint32_t id;
                if (wifiprov__ble_gatt_session_of(g, peers[k], &id) && wifiprov__ble_gatt_peer_of(g, id) &&
                    wifiprov__ble_gatt_pending(g, peers[k]))
                    wifiprov__ble_gatt_resume(g, peers[k]);
            }
            break;
        }
        /* The rules every sequence keeps: sessions only for connections, at most the device's. */
        if (wifiprov__ble_gatt_session_count(g) != wifiprov_sessions_count(ss, NULL) ||
            wifiprov_sessions_count(ss, NULL) != wifiprov_device_session_count(dev) ||
            wifiprov__ble_gatt_conn_count(g) > N_CONN)
            abort();
    }
out:
    wifiprov__ble_gatt_free(g);
    if (wifiprov_device_session_count(dev) != 0)
        abort();
    wifiprov_sessions_free(ss);
    wifiprov_device_free(dev);
    return 0;
}
