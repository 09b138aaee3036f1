/*
 * The BLE GATT server without BlueZ (src/transport/ble_gatt.c): UUID derivation,
 * descriptors, advertisement contents, long writes and reads, the error rules and
 * one session per connection, against a real device core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_test_util.h"
#include "testutil.h"
#include "transport/ble_gatt.h"
#include "wifiprov/wifiprov.h"

#define MINZ(a, b) ((a) < (b) ? (a) : (b))
#define PEER_A "/org/bluez/hci0/dev_00_AA_01_00_00_00"
#define PEER_B "/org/bluez/hci0/dev_00_AA_01_02_00_02"

/* ---- UUIDs --------------------------------------------------------------------------------- */

static void uuid_text(const uint8_t svc[16], uint16_t id, char *out)
{
    uint8_t u[16];

    wifiprov__ble_char_uuid(svc, id, u);
    wifiprov__ble_uuid_format(u, out);
}

static void uuid_builtin_ids(void **state)
{
    static const uint8_t le_example[16] = {0xb4, 0xdf, 0x5a, 0x1c, 0x3f, 0x6b, 0xf4, 0xbf,
                                           0xea, 0x4a, 0x82, 0x03, 0x04, 0x90, 0x1a, 0x02};
    static const uint8_t le_session[16] = {0xb4, 0xdf, 0x5a, 0x1c, 0x3f, 0x6b, 0xf4, 0xbf,
                                           0xea, 0x4a, 0x82, 0x03, 0x51, 0xff, 0x1a, 0x02};
    const char *names[] = {"proto-ver", "prov-session", "prov-config", "prov-scan", "prov-ctrl"};
    const uint16_t want[] = {0xFF53, 0xFF51, 0xFF52, 0xFF50, 0xFF4F};
    const char *want_text[] = {
        "021aff53-0382-4aea-bff4-6b3f1c5adfb4", "021aff51-0382-4aea-bff4-6b3f1c5adfb4",
        "021aff52-0382-4aea-bff4-6b3f1c5adfb4", "021aff50-0382-4aea-bff4-6b3f1c5adfb4",
        "021aff4f-0382-4aea-bff4-6b3f1c5adfb4",
    };
    uint8_t svc[16], u[16];
    uint16_t ids[5];
    char text[37];

    (void)state;
    /* §7.2: the service's little-endian bytes, and prov-session's derived UUID in both forms. */
    assert_int_equal(wifiprov__ble_uuid_parse(WIFIPROV_BLE_DEFAULT_SERVICE_UUID, svc), 0);
    assert_memory_equal(svc, le_example, 16);
    wifiprov__ble_char_uuid(svc, 0xFF51, u);
    assert_memory_equal(u, le_session, 16);
    wifiprov__ble_uuid_format(u, text);
    assert_string_equal(text, "021aff51-0382-4aea-bff4-6b3f1c5adfb4");

    assert_int_equal(wifiprov__ble_endpoint_ids(names, 5, ids), 0);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(ids[i], want[i]);
        uuid_text(svc, ids[i], text);
        assert_string_equal(text, want_text[i]);
    }
    /* The manager's default service (v4.1+). */
    assert_int_equal(wifiprov__ble_uuid_parse("1775244d-6b43-439b-877c-060f2d9bed07", svc), 0);
    assert_int_equal(svc[0], 0x07);
    assert_int_equal(svc[15], 0x17);
    uuid_text(svc, 0xFF51, text);
    assert_string_equal(text, "1775ff51-6b43-439b-877c-060f2d9bed07");
}

static void uuid_app_endpoints(void **state)
{
    const char *names[] = {"proto-ver", "prov-session", "custom-data", "prov-config",
                           "prov-scan", "prov-ctrl",    "extra-one",   "extra-two"};
    uint16_t ids[8];
    uint8_t svc[16];
    char text[37];

    (void)state;
    assert_int_equal(wifiprov__ble_endpoint_ids(names, 8, ids), 0);
    /* Application endpoints take 0xFF54, 0xFF55, ... in registration order, between built-ins or after. */
    assert_int_equal(ids[2], 0xFF54);
    assert_int_equal(ids[6], 0xFF55);
    assert_int_equal(ids[7], 0xFF56);
    assert_int_equal(ids[3], 0xFF52);
    assert_int_equal(wifiprov__ble_uuid_parse(WIFIPROV_BLE_DEFAULT_SERVICE_UUID, svc), 0);
    uuid_text(svc, ids[2], text);
    assert_string_equal(text, "021aff54-0382-4aea-bff4-6b3f1c5adfb4");
}

static void uuid_parse_format(void **state)
{
    uint8_t u[16];
    char text[37];

    (void)state;
    assert_int_equal(wifiprov__ble_uuid_parse("021A9004-0382-4AEA-BFF4-6B3F1C5ADFB4", u), 0);
    wifiprov__ble_uuid_format(u, text);
    assert_string_equal(text, WIFIPROV_BLE_DEFAULT_SERVICE_UUID);
    assert_int_equal(wifiprov__ble_uuid_parse("021a9004-0382-4aea-bff4-6b3f1c5adfb", u), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__ble_uuid_parse("021a9004-0382-4aea-bff4-6b3f1c5adfb44", u), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__ble_uuid_parse("021a90040-382-4aea-bff4-6b3f1c5adfb4", u), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__ble_uuid_parse("021a9004-0382-4aea-bff4-6b3f1c5adfbx", u), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__ble_uuid_parse("", u), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__ble_uuid_parse(NULL, u), WIFIPROV_ERR_INVAL);
}

/* ---- advertisement ----------------------------------------------------------------------- */

static void adv_contents(void **state)
{
    static const uint8_t mfg[] = {0xe5, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
    struct wifiprov_ble_adv a;
    /* 28 ASCII bytes then "é" (2 bytes): byte 29 would split it. */
    const char *utf8 = "ABCDEFGHIJKLMNOPQRSTUVWXYZab\xc3\xa9";

    (void)state;
    assert_int_equal(wifiprov__ble_adv_contents("PROV_261FCC", NULL, 0, &a), 0);
    assert_string_equal(a.local_name, "PROV_261FCC");
    assert_false(a.has_mfg);
    assert_true(a.tx_power); /* 3 + 18 + 3 <= 31 */

    assert_int_equal(wifiprov__ble_adv_contents("PROV_0123456789012345678901234567890123", NULL, 0, &a), 0);
    assert_int_equal(strlen(a.local_name), 29);
    assert_string_equal(a.local_name, "PROV_012345678901234567890123");
    assert_int_equal(wifiprov__ble_adv_contents(utf8, NULL, 0, &a), 0);
    assert_int_equal(strlen(a.local_name), 28);
    assert_int_equal(wifiprov__ble_adv_contents("ABCDEFGHIJKLMNOPQRSTUVWXYZa\xc3\xa9", NULL, 0, &a), 0);
    assert_int_equal(strlen(a.local_name), 29); /* exactly 29 bytes, not cut */

    /* Company id 0x02E5 (Espressif) from the first two bytes as on air; 6 data bytes leave no room for TX power. */
    assert_int_equal(wifiprov__ble_adv_contents("PROV_261FCC", mfg, sizeof(mfg), &a), 0);
    assert_true(a.has_mfg);
    assert_int_equal(a.company_id, 0x02E5);
    assert_int_equal(a.mfg_len, 6);
    assert_memory_equal(a.mfg_data, mfg + 2, 6);
    assert_false(a.tx_power);
    assert_int_equal(wifiprov__ble_adv_contents("PROV_261FCC", mfg, 5, &a), 0);
    assert_int_equal(a.mfg_len, 3);
    assert_true(a.tx_power); /* 3 + 18 + 7 + 3 = 31 */
    assert_int_equal(wifiprov__ble_adv_contents("PROV_261FCC", mfg, 2, &a), 0);
    assert_int_equal(a.mfg_len, 0);
    assert_true(a.has_mfg);

    assert_int_equal(wifiprov__ble_adv_contents("PROV_261FCC", mfg, 1, &a), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__ble_adv_contents("PROV_261FCC", mfg, 9, &a), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__ble_adv_contents("", NULL, 0, &a), WIFIPROV_ERR_INVAL);
}

/* ---- the server on a real device ------------------------------------------------------------ */

struct env {
    struct wifiprov_device *dev;
    struct wifiprov_sessions *ss;
    struct wifiprov_ble_gatt *g;
    uint64_t now_ms;
    char disconnected[4][WIFIPROV_BLE_PEER_MAX + 1];
    unsigned n_disconnected;
    bool hold;      /* "slow" answers PENDING until released */
    size_t big_len; /* length of "big"'s reply */
};

static int echo(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    (void)ctx;
    if (req->len > cap)
        return WIFIPROV_ERR_NOSPC;
    memcpy(out, req->data, req->len);
    *out_len = req->len;
    return 0;
}

static int slow(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    struct env *e = ctx;

    if (e->hold)
        return WIFIPROV_ERR_PENDING;
    return echo(ctx, req, out, cap, out_len);
}

static int big(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    struct env *e = ctx;

    (void)req;
    if (e->big_len > cap)
        return WIFIPROV_ERR_NOSPC;
    memset(out, 0x42, e->big_len);
    *out_len = e->big_len;
    return 0;
}

static void on_disconnect(void *ctx, const char *peer)
{
    struct env *e = ctx;

    assert_true(e->n_disconnected < 4);
    snprintf(e->disconnected[e->n_disconnected++], WIFIPROV_BLE_PEER_MAX + 1, "%s", peer);
}

static uint64_t clock_ms(void *ctx)
{
    struct env *e = ctx;

    return e->now_ms;
}

static int setup_sec(void **state, enum wifiprov_security sec)
{
    struct env *e = calloc(1, sizeof(*e));
    struct wifiprov_device_config dc;
    struct wifiprov_ble_gatt_config gc;
    struct wifiprov_sessions_config sc;
    struct tcreds cr;
    int err;

    if (!e)
        return -1;
    memset(&dc, 0, sizeof(dc));
    memset(&cr, 0, sizeof(cr));
    dc.security = sec;
    dc.pop = sec == WIFIPROV_SECURITY_1 ? T_POP : NULL;
    if (sec == WIFIPROV_SECURITY_2) {
        tcreds_load(&cr);
        dc.sec2_salt = cr.salt;
        dc.sec2_salt_len = cr.salt_len;
        dc.sec2_verifier = cr.verifier;
        dc.sec2_verifier_len = cr.verifier_len;
    }
    err = wifiprov_device_new(&dc, &e->dev);
    tcreds_free(&cr);
    if (err != 0)
        return -1;
    /* The manager's endpoints in its order, then two application ones. */
    if (wifiprov_device_add_endpoint(e->dev, "prov-config", echo, e) != 0 ||
        wifiprov_device_add_endpoint(e->dev, "prov-scan", slow, e) != 0 ||
        wifiprov_device_add_endpoint(e->dev, "prov-ctrl", echo, e) != 0 ||
        wifiprov_device_add_endpoint(e->dev, "custom-data", big, e) != 0 ||
        wifiprov_device_add_endpoint(e->dev, "echo", echo, e) != 0)
        return -1;
    memset(&sc, 0, sizeof(sc));
    sc.device = e->dev;
    sc.max_sessions = 3;
    sc.clock_ms = clock_ms;
    sc.clock_ctx = e;
    if (wifiprov_sessions_new(&sc, &e->ss) != 0)
        return -1;
    memset(&gc, 0, sizeof(gc));
    gc.device = e->dev;
    gc.sessions = e->ss;
    if (wifiprov__ble_uuid_parse(WIFIPROV_BLE_DEFAULT_SERVICE_UUID, gc.service_uuid) != 0)
        return -1;
    gc.max_conns = 3;
    gc.disconnect_fn = on_disconnect;
    gc.ctx = e;
    if (wifiprov__ble_gatt_new(&gc, &e->g) != 0)
        return -1;
    *state = e;
    return 0;
}

static int setup(void **state)
{
    return setup_sec(state, WIFIPROV_SECURITY_0);
}

static int setup_sec1(void **state)
{
    return setup_sec(state, WIFIPROV_SECURITY_1);
}

static int setup_sec2(void **state)
{
    return setup_sec(state, WIFIPROV_SECURITY_2);
}

static int teardown(void **state)
{
    struct env *e = *state;

    wifiprov__ble_gatt_free(e->g);
    assert_int_equal(wifiprov_sessions_count(e->ss, NULL), 0);
    assert_int_equal(wifiprov_device_session_count(e->dev), 0);
    wifiprov_sessions_free(e->ss);
    wifiprov_device_free(e->dev);
    free(e);
    return 0;
}

/* Index of the characteristic of endpoint @p name. */
static size_t ci_of(struct env *e, const char *name)
{
    for (size_t i = 0; i < wifiprov__ble_gatt_char_count(e->g); i++) {
        if (strcmp(wifiprov__ble_gatt_char(e->g, i)->name, name) == 0)
            return i;
    }
    fail_msg("no characteristic %s", name);
    return 0;
}

/* A security-0 handshake (PROTOCOL.md A.1): the policy opens a session with prov-session only. */
static void open0(struct env *e, const char *peer)
{
    static const uint8_t cmd0[] = {0x52, 0x03, 0xa2, 0x01, 0x00};

    assert_int_equal(wifiprov__ble_gatt_write(e->g, peer, ci_of(e, "prov-session"), 0, cmd0, sizeof(cmd0)),
                     WIFIPROV_BLE_STATUS_OK);
}

static void chars_and_descriptors(void **state)
{
    struct env *e = *state;
    const char *want[] = {"proto-ver", "prov-session", "prov-config", "prov-scan", "prov-ctrl", "custom-data", "echo"};
    const uint16_t ids[] = {0xFF53, 0xFF51, 0xFF52, 0xFF50, 0xFF4F, 0xFF54, 0xFF55};
    const uint8_t *d;
    size_t len;
    char text[37];

    assert_int_equal(wifiprov__ble_gatt_char_count(e->g), 7);
    for (size_t i = 0; i < 7; i++) {
        const struct wifiprov_ble_char *ch = wifiprov__ble_gatt_char(e->g, i);
        char want_uuid[37];
        assert_string_equal(ch->name, want[i]);
        assert_int_equal(ch->id, ids[i]);
        wifiprov__ble_uuid_format(ch->uuid, text);
        snprintf(want_uuid, sizeof(want_uuid), "021a%04x-0382-4aea-bff4-6b3f1c5adfb4", ids[i]);
        assert_string_equal(text, want_uuid);
        /* The 0x2901 descriptor: the name in ASCII, no terminator. */
        assert_int_equal(wifiprov__ble_gatt_read_descriptor(e->g, i, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
        assert_int_equal(len, strlen(want[i]));
        assert_memory_equal(d, want[i], len);
    }
    assert_null(wifiprov__ble_gatt_char(e->g, 7));
    /* Offsets: part of the name, empty exactly at the end, an error past it. */
    assert_int_equal(wifiprov__ble_gatt_read_descriptor(e->g, 1, 5, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 7);
    assert_memory_equal(d, "session", 7);
    assert_int_equal(wifiprov__ble_gatt_read_descriptor(e->g, 1, 12, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0);
    assert_int_equal(wifiprov__ble_gatt_read_descriptor(e->g, 1, 13, &d, &len), WIFIPROV_BLE_STATUS_INVALID_OFFSET);
    assert_int_equal(wifiprov__ble_gatt_read_descriptor(e->g, 7, 0, &d, &len), WIFIPROV_BLE_STATUS_NOT_FOUND);
}

static void fill(uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
}

static void long_write_in_order(void **state)
{
    struct env *e = *state;
    size_t ci = ci_of(e, "echo"), len;
    uint8_t v[406];
    const uint8_t *d;

    fill(v, sizeof(v));
    open0(e, PEER_A);
    /* Three fragments as a client's Prepare Writes would carry them, then Execute Write. */
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 0, v, 18), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 18, v + 18, 200), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 218, v + 218, 188), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0); /* nothing ran yet */
    assert_int_equal(wifiprov__ble_gatt_execute(e->g, PEER_A, true), WIFIPROV_BLE_STATUS_OK);
    /* The long read: blobs at increasing offsets give the whole reply. */
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 406);
    assert_memory_equal(d, v, 406);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 22, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 384);
    assert_memory_equal(d, v + 22, 384);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 406, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 407, &d, &len), WIFIPROV_BLE_STATUS_INVALID_OFFSET);
    /* The same value as BlueZ hands it over after assembling it: one write at offset 0. */
    v[0] ^= 0xff;
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ci, 0, v, 406), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 406);
    assert_memory_equal(d, v, 406);
    /* Execute Write with the "cancel" flag drops a queue. */
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 0, v, 10), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_execute(e->g, PEER_A, false), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_execute(e->g, PEER_A, true), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 406); /* still the previous reply */
}

static void long_write_gap(void **state)
{
    struct env *e = *state;
    size_t ci = ci_of(e, "echo"), ci2 = ci_of(e, "prov-config"), len;
    uint8_t v[300];
    const uint8_t *d;

    fill(v, sizeof(v));
    open0(e, PEER_A);
    /* A gap. */
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 0, v, 100), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 150, v + 150, 100),
                     WIFIPROV_BLE_STATUS_INVALID_OFFSET);
    /* The queue is gone: executing runs nothing. */
    assert_int_equal(wifiprov__ble_gatt_execute(e->g, PEER_A, true), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0);
    /* Out of order: the second fragment first. */
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 100, v + 100, 100),
                     WIFIPROV_BLE_STATUS_INVALID_OFFSET);
    /* Overlap (a fragment sent twice). */
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 0, v, 100), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 50, v + 50, 100), WIFIPROV_BLE_STATUS_INVALID_OFFSET);
    /* A fragment of another characteristic does not continue this one's queue. */
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 0, v, 100), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci2, 100, v + 100, 100),
                     WIFIPROV_BLE_STATUS_INVALID_OFFSET);
    /* A complete write at an offset continues nothing. */
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ci, 5, v, 10), WIFIPROV_BLE_STATUS_INVALID_OFFSET);
    assert_int_equal(e->n_disconnected, 0);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0);
}

static void long_write_overflow(void **state)
{
    struct env *e = *state;
    size_t ci = ci_of(e, "echo"), len;
    uint8_t v[600];
    const uint8_t *d;

    fill(v, sizeof(v));
    open0(e, PEER_A);
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 0, v, 300), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 300, v + 300, 213), WIFIPROV_BLE_STATUS_INVALID_LEN);
    assert_int_equal(wifiprov__ble_gatt_execute(e->g, PEER_A, true), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ci, 0, v, 513), WIFIPROV_BLE_STATUS_INVALID_LEN);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0); /* nothing ran */
    /* Exactly 512 bytes, in fragments or at once. */
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 0, v, 300), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 300, v + 300, 212), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_execute(e->g, PEER_A, true), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 512);
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ci, 0, v + 1, 512), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 511, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 1);
    assert_int_equal(d[0], v[512]);
}

static void empty_write(void **state)
{
    struct env *e = *state;
    size_t ci = ci_of(e, "echo"), len;
    const uint8_t *d;
    uint8_t v[4] = {1, 2, 3, 4};

    open0(e, PEER_A);
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ci, 0, v, 4), WIFIPROV_BLE_STATUS_OK);
    /* Bluedroid: ATT 0x0D and nothing processed; the stored reply and the session stay. */
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ci, 0, NULL, 0), WIFIPROV_BLE_STATUS_INVALID_LEN);
    assert_int_equal(wifiprov__ble_gatt_session_count(e->g), 1);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 4);
    assert_int_equal(e->n_disconnected, 0);
    /* An empty queue executed. */
    assert_int_equal(wifiprov__ble_gatt_prepare(e->g, PEER_A, ci, 0, NULL, 0), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_execute(e->g, PEER_A, true), WIFIPROV_BLE_STATUS_INVALID_LEN);
}

static void read_without_write(void **state)
{
    struct env *e = *state;
    size_t ci = ci_of(e, "echo"), other = ci_of(e, "prov-ctrl"), len;
    const uint8_t *d = (const uint8_t *)"x";
    uint8_t v[3] = {7, 8, 9};

    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 1, &d, &len), WIFIPROV_BLE_STATUS_INVALID_OFFSET);
    assert_int_equal(wifiprov__ble_gatt_session_count(e->g), 0);
    open0(e, PEER_A);
    /* The reply is the value of the characteristic written, not of the others. */
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ci, 0, v, 3), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, other, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0);
    /* And not another connection's. */
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_B, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ci, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 3);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, 99, 0, &d, &len), WIFIPROV_BLE_STATUS_NOT_FOUND);
}

/* A sec1 Cmd0 is not a sec0 message: protocol error, this session and link dropped, the other kept. */
static void protocol_error(void **state)
{
    struct env *e = *state;
    size_t ses = ci_of(e, "prov-session"), len;
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0x01};
    static const uint8_t cmd0[] = {0x52, 0x03, 0xa2, 0x01, 0x00};
    static const uint8_t resp0[] = {0x52, 0x05, 0x08, 0x01, 0xaa, 0x01, 0x00};
    const uint8_t *d;
    uint32_t sid_b;

    /* B completes a sec0 handshake (PROTOCOL.md A.1). */
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_B, ses, 0, cmd0, sizeof(cmd0)), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_B, ses, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, sizeof(resp0));
    assert_memory_equal(d, resp0, sizeof(resp0));
    assert_true(wifiprov__ble_gatt_session_of(e->g, PEER_B, &sid_b));
    assert_true(wifiprov_device_session_established(e->dev, sid_b));

    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ses, 0, garbage, sizeof(garbage)),
                     WIFIPROV_BLE_STATUS_PROTO_ERROR);
    assert_int_equal(e->n_disconnected, 1);
    assert_string_equal(e->disconnected[0], PEER_A);
    assert_false(wifiprov__ble_gatt_session_of(e->g, PEER_A, &(uint32_t){0}));
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ses, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0);
    /* B is untouched. */
    assert_true(wifiprov_device_session_established(e->dev, sid_b));
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_B, ses, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, sizeof(resp0));
}

static void sessions_per_connection(void **state)
{
    struct env *e = *state;
    size_t ses = ci_of(e, "prov-session"), cfg = ci_of(e, "prov-config"), len;
    static const uint8_t cmd0[] = {0x52, 0x03, 0xa2, 0x01, 0x00};
    static const uint8_t get_status[] = {0x52, 0x00};
    const uint8_t *d;
    uint32_t a1, a2, b;

    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ses, 0, cmd0, sizeof(cmd0)), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_B, ses, 0, cmd0, sizeof(cmd0)), WIFIPROV_BLE_STATUS_OK);
    assert_true(wifiprov__ble_gatt_session_of(e->g, PEER_A, &a1));
    assert_true(wifiprov__ble_gatt_session_of(e->g, PEER_B, &b));
    assert_int_not_equal(a1, b);
    assert_int_equal(wifiprov_device_session_count(e->dev), 2);
    assert_string_equal(wifiprov__ble_gatt_peer_of(e->g, a1), PEER_A);
    /* Established: an encrypted endpoint answers (echo under sec0). */
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, cfg, 0, get_status, 2), WIFIPROV_BLE_STATUS_OK);

    wifiprov__ble_gatt_disconnected(e->g, PEER_A);
    assert_int_equal(wifiprov_device_session_count(e->dev), 1);
    assert_false(wifiprov_device_session_exists(e->dev, a1));
    assert_null(wifiprov__ble_gatt_peer_of(e->g, a1));
    assert_int_equal(wifiprov__ble_gatt_conn_count(e->g), 1);
    /* A reconnect: values cleared, a new session that needs a new handshake. */
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, ses, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0);
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ses, 0, cmd0, sizeof(cmd0)), WIFIPROV_BLE_STATUS_OK);
    assert_true(wifiprov__ble_gatt_session_of(e->g, PEER_A, &a2));
    assert_int_not_equal(a2, a1);
    assert_true(wifiprov_device_session_exists(e->dev, b));
    /* A third peer fits (max 3), a fourth is refused without harm. */
    assert_int_equal(wifiprov__ble_gatt_write(e->g, "/org/bluez/hci0/dev_C", ses, 0, cmd0, 5), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_write(e->g, "/org/bluez/hci0/dev_D", ses, 0, cmd0, 5),
                     WIFIPROV_BLE_STATUS_FAILED);
    assert_int_equal(wifiprov_device_session_count(e->dev), 3);
    wifiprov__ble_gatt_disconnected(e->g, "/org/bluez/hci0/dev_unknown");
    wifiprov__ble_gatt_disconnect_all(e->g);
    assert_int_equal(wifiprov_device_session_count(e->dev), 0);
    assert_int_equal(wifiprov__ble_gatt_conn_count(e->g), 0);
}

/* The policy's rule: without a session only proto-ver is answered; anything else drops the link. */
static void session_needs_handshake(void **state)
{
    struct env *e = *state;
    size_t cfg = ci_of(e, "prov-config"), len;
    static const uint8_t get_status[] = {0x52, 0x00};
    const uint8_t *d;

    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ci_of(e, "proto-ver"), 0, (const uint8_t *)"---", 3),
                     WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_session_count(e->g), 0);
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, cfg, 0, get_status, 2), WIFIPROV_BLE_STATUS_PROTO_ERROR);
    assert_int_equal(e->n_disconnected, 1);
    assert_int_equal(wifiprov_device_session_count(e->dev), 0);
    open0(e, PEER_A);
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, cfg, 0, get_status, 2), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, cfg, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 2);
}

static void pending_resume(void **state)
{
    struct env *e = *state;
    size_t scan = ci_of(e, "prov-scan"), ses = ci_of(e, "prov-session"), len;
    static const uint8_t cmd0[] = {0x52, 0x03, 0xa2, 0x01, 0x00};
    static const uint8_t req[] = {0x08, 0x00, 0x52, 0x00};
    const uint8_t *d;
    uint32_t sid;

    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ses, 0, cmd0, sizeof(cmd0)), WIFIPROV_BLE_STATUS_OK);
    e->hold = true;
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, scan, 0, req, sizeof(req)), WIFIPROV_BLE_STATUS_PENDING);
    assert_true(wifiprov__ble_gatt_pending(e->g, PEER_A));
    /* One exchange at a time on a connection; another connection is free. */
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, scan, 0, &d, &len), WIFIPROV_BLE_STATUS_BUSY);
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, scan, 0, req, sizeof(req)), WIFIPROV_BLE_STATUS_BUSY);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_B, scan, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    /* Still not ready, then ready. */
    assert_int_equal(wifiprov__ble_gatt_resume(e->g, PEER_A), WIFIPROV_BLE_STATUS_PENDING);
    e->hold = false;
    assert_true(wifiprov__ble_gatt_session_of(e->g, PEER_A, &sid));
    assert_string_equal(wifiprov__ble_gatt_peer_of(e->g, sid), PEER_A);
    assert_int_equal(wifiprov__ble_gatt_resume(e->g, PEER_A), WIFIPROV_BLE_STATUS_OK);
    assert_false(wifiprov__ble_gatt_pending(e->g, PEER_A));
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, scan, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, sizeof(req));
    assert_int_equal(wifiprov__ble_gatt_resume(e->g, PEER_A), WIFIPROV_BLE_STATUS_FAILED); /* nothing held */
    /* A disconnect while held drops the request and the session. */
    e->hold = true;
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, scan, 0, req, sizeof(req)), WIFIPROV_BLE_STATUS_PENDING);
    wifiprov__ble_gatt_disconnected(e->g, PEER_A);
    assert_false(wifiprov_device_session_exists(e->dev, sid));
    assert_int_equal(wifiprov__ble_gatt_resume(e->g, PEER_A), WIFIPROV_BLE_STATUS_FAILED);
}

static void reply_too_big(void **state)
{
    struct env *e = *state;
    size_t c = ci_of(e, "custom-data"), ses = ci_of(e, "prov-session"), len;
    static const uint8_t cmd0[] = {0x52, 0x03, 0xa2, 0x01, 0x00};
    const uint8_t *d;

    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ses, 0, cmd0, sizeof(cmd0)), WIFIPROV_BLE_STATUS_OK);
    e->big_len = 512;
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, c, 0, (const uint8_t *)"q", 1), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, c, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 512);
    /* One byte more cannot be a characteristic value (Bluedroid: INVALID_ATTR_LEN); the session goes. */
    e->big_len = 513;
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, c, 0, (const uint8_t *)"q", 1),
                     WIFIPROV_BLE_STATUS_INVALID_LEN);
    assert_int_equal(wifiprov__ble_gatt_session_count(e->g), 0);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_A, c, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(len, 0);
}

/* Security 1: a wrong Cmd0 (bad client key length) fails the handshake: protocol error on that link only. */
static void sec1_bad_handshake(void **state)
{
    struct env *e = *state;
    size_t ses = ci_of(e, "prov-session"), ver = ci_of(e, "proto-ver"), len;
    /* SessionData{sec_ver 1, sec1{msg Cmd0, sc0{client_pubkey 3 bytes}}}. */
    static const uint8_t bad_cmd0[] = {0x08, 0x01, 0x5a, 0x07, 0x08, 0x00, 0x52, 0x03, 0x0a, 0x01, 0x01};
    const uint8_t *d;

    /* proto-ver works on any connection, without a session. */
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_B, ver, 0, (const uint8_t *)"---", 3), WIFIPROV_BLE_STATUS_OK);
    assert_int_equal(wifiprov__ble_gatt_read(e->g, PEER_B, ver, 0, &d, &len), WIFIPROV_BLE_STATUS_OK);
    assert_true(len > 10);
    assert_int_equal(d[0], '{');
    assert_int_equal(wifiprov__ble_gatt_write(e->g, PEER_A, ses, 0, bad_cmd0, sizeof(bad_cmd0)),
                     WIFIPROV_BLE_STATUS_PROTO_ERROR);
    assert_int_equal(e->n_disconnected, 1);
    assert_int_equal(wifiprov__ble_gatt_session_count(e->g), 0);
    assert_int_equal(wifiprov_device_session_count(e->dev), 0);
}

/* ---- a real client over the GATT rules, as a central with the default ATT MTU (23) does it ---- */

struct link {
    struct env *e;
    const char *peer;
    size_t max_write, max_read_bytes, long_writes;
};

static size_t ci_name(struct env *e, const char *name)
{
    return ci_of(e, name);
}

/* Write Request when it fits in MTU - 3, else Prepare Writes of MTU - 5 + Execute; then Read + Read Blobs. */
static int gatt_xfer(void *ctx, const char *endpoint, const uint8_t *req, size_t req_len, uint8_t *resp,
                     size_t resp_cap, size_t *resp_len)
{
    struct link *l = ctx;
    size_t ci = ci_name(l->e, endpoint), got = 0;
    enum wifiprov_ble_status st;

    if (req_len <= 20) {
        st = wifiprov__ble_gatt_write(l->e->g, l->peer, ci, 0, req, req_len);
    } else {
        l->long_writes++;
        for (size_t off = 0; off < req_len; off += 18) {
            st = wifiprov__ble_gatt_prepare(l->e->g, l->peer, ci, off, req + off, MINZ(18, req_len - off));
            if (st != WIFIPROV_BLE_STATUS_OK)
                return WIFIPROV_ERR_TRANSPORT;
        }
        st = wifiprov__ble_gatt_execute(l->e->g, l->peer, true);
    }
    if (st != WIFIPROV_BLE_STATUS_OK)
        return WIFIPROV_ERR_TRANSPORT;
    if (req_len > l->max_write)
        l->max_write = req_len;
    for (;;) {
        const uint8_t *d;
        size_t n;
        st = wifiprov__ble_gatt_read(l->e->g, l->peer, ci, got, &d, &n);
        if (st != WIFIPROV_BLE_STATUS_OK)
            return WIFIPROV_ERR_TRANSPORT;
        n = MINZ(n, 22); /* what one Read (Blob) Response carries */
        if (got + n > resp_cap)
            return WIFIPROV_ERR_NOSPC;
        memcpy(resp + got, d, n);
        got += n;
        if (n < 22)
            break;
    }
    if (got > l->max_read_bytes)
        l->max_read_bytes = got;
    *resp_len = got;
    return 0;
}

static struct wifiprov_client *client_for(struct link *l, enum wifiprov_security sec)
{
    struct wifiprov_client_config cc;
    struct wifiprov_client *c = NULL;

    memset(&cc, 0, sizeof(cc));
    cc.xfer = gatt_xfer;
    cc.xfer_ctx = l;
    cc.security = sec;
    cc.pop = T_POP;
    cc.username = T_USER;
    cc.password = T_PASS;
    cc.sec_patch_ver = 1;
    assert_int_equal(wifiprov_client_new(&cc, &c), 0);
    return c;
}

/* Handshake and a request over the GATT rules; after a disconnect the old keys are worthless. */
static void client_over_gatt(struct env *e, enum wifiprov_security sec)
{
    struct link l = {e, PEER_A, 0, 0, 0};
    struct wifiprov_client *c = client_for(&l, sec), *c2;
    uint8_t out[600], msg[300];
    size_t n = 0;
    uint32_t sid;

    fill(msg, sizeof(msg));
    assert_int_equal(wifiprov_client_handshake(c), 0);
    assert_true(wifiprov__ble_gatt_session_of(e->g, PEER_A, &sid));
    assert_true(wifiprov_device_session_established(e->dev, sid));
    assert_int_equal(wifiprov_client_request(c, "echo", msg, sizeof(msg), out, sizeof(out), &n), 0);
    assert_int_equal(n, sizeof(msg));
    assert_memory_equal(out, msg, n);
    assert_true(l.long_writes > 0);

    wifiprov__ble_gatt_disconnected(e->g, PEER_A);
    assert_false(wifiprov_device_session_exists(e->dev, sid));
    /* Reconnected: the old session's keys open nothing. */
    assert_int_not_equal(wifiprov_client_request(c, "echo", msg, 10, out, sizeof(out), &n), 0);
    assert_int_equal(e->n_disconnected, 1);
    wifiprov__ble_gatt_disconnected(e->g, PEER_A);
    c2 = client_for(&l, sec);
    assert_int_equal(wifiprov_client_handshake(c2), 0);
    assert_int_equal(wifiprov_client_request(c2, "echo", msg, 10, out, sizeof(out), &n), 0);
    if (sec == WIFIPROV_SECURITY_2) {
        /* PROTOCOL.md §7.2: the security-2 handshake messages are about 406/416 bytes. */
        assert_true(l.max_write > 380);
        assert_true(l.max_read_bytes > 380);
    }
    wifiprov_client_free(c);
    wifiprov_client_free(c2);
}

static void sec1_client_over_gatt(void **state)
{
    client_over_gatt(*state, WIFIPROV_SECURITY_1);
}

static void sec2_client_over_gatt(void **state)
{
    client_over_gatt(*state, WIFIPROV_SECURITY_2);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uuid_builtin_ids),
        cmocka_unit_test(uuid_app_endpoints),
        cmocka_unit_test(uuid_parse_format),
        cmocka_unit_test(adv_contents),
        cmocka_unit_test_setup_teardown(chars_and_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(long_write_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(long_write_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(long_write_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_write, setup, teardown),
        cmocka_unit_test_setup_teardown(read_without_write, setup, teardown),
        cmocka_unit_test_setup_teardown(protocol_error, setup, teardown),
        cmocka_unit_test_setup_teardown(sessions_per_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(session_needs_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(pending_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(reply_too_big, setup, teardown),
        cmocka_unit_test_setup_teardown(sec1_bad_handshake, setup_sec1, teardown),
        cmocka_unit_test_setup_teardown(sec1_client_over_gatt, setup_sec1, teardown),
        cmocka_unit_test_setup_teardown(sec2_client_over_gatt, setup_sec2, teardown),
    };

    return TEST_RUN("ble_gatt", tests, argc, argv);
}
