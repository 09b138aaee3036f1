/*
 * libFuzzer target for the device dispatch and the client's reply parsers.
 *
 * Input: byte 0 chooses the mode.
 *   mode 0 / 1: a security 1 (PoP) / security 2 device with three session slots;
 *     the rest is a list of operations [op][arg] and, for message operations,
 *     [len_hi][len_lo][message]. The device's random source replays the vector
 *     inputs (tests/vectors/data), so the vector transcripts (the seed corpus)
 *     complete handshakes and reach the encrypted endpoints.
 *   mode 2: byte 1 picks a client reply decoder, the rest is the reply.
 *   mode 3: a client handshake (byte 1: security 0/1/2) whose replies come from
 *     the input as [len_hi][len_lo][reply] records.
 * Invariants checked: a failed call writes no reply, a reply fits its buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "client/client_priv.h"
#include "util.h"
#include "wifiprov/wifiprov.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                                     \
    do {                                                                                                             \
        if (!(c))                                                                                                    \
            abort();                                                                                                 \
    } while (0)

/* Vector inputs (tests/vectors/data/sec1.json, sec2.json). */
static const char sec1_rand_hex[] = "bfd71352392fc4acee253bab0fffc1498758d04bb7035878f232429bec683f73"
                                    "df3593b84a22bb6fdf0050c28f5402d6";
static const char sec2_rand_hex[] = "6a69592d1a53ad192464d664e80fa8bbb1c7b0d8949f43791a6cf01bcc5841df"
                                    "e3dfd3696e2104c3";
static const char salt_hex[] = "036ee0c7bcb9eda84c9eac97d93decf4";
static const char verifier_hex[] =
    "7c7c85476508946dd636af37d7e8914378cffd616c59d2f83908127238de9e24a470261cdfa903c2b270e7b13224da111d9718dc6072"
    "08cc9ac90c4827e2ae89aa1625b804d21a9b3a8f37f6e43a712ee127866eadce28ff5446601fb99687dc5740a7d46cc97754dc1682f0"
    "ed356ac470ad3d90b5819470d7bc65b2d518e02ec3a5f968dd647bb8b73c9cfc00d8717eb79a7cb1b7c2c318342932433e0099e98294"
    "e3d82ab09629b7df0e5f08334076529132009f972c896c391ec8280544173f68028a9f4461d1f5a17e5a70d2c72381cb3868e42c20bc"
    "40577617bd08b896bc26eb32466935058c1570d91be9becca938a667f0ad5013197264bf52c234e21b11797472bd345bb1e2fd6673fe"
    "716474d04ebc51241940870e9240e621e72d4e37762f2ee268c789e8321342068484534ab30c1b4c8d1c519719abae77ffdbecf01095"
    "34336bcb3e840fb9d85fb8a0b855533e70f718f5ce7b4ebf27cecea8b3be40c5c532293e71649ede8cf675a1e6f653c831a878de5040"
    "f762de36b2ba";

static uint8_t salt[16], verifier[384], rand_bytes[2][64];
static size_t rand_len[2];

/* Replays a fixed byte string cyclically. */
struct cyc {
    const uint8_t *buf;
    size_t len, pos;
};

static int cyc_random(void *ctx, uint8_t *out, size_t len)
{
    struct cyc *c = ctx;
    size_t i;

    for (i = 0; i < len; i++) {
        out[i] = c->buf[c->pos];
        c->pos = (c->pos + 1) % c->len;
    }
    return 0;
}

static void init_once(void)
{
    static int done;
    size_t n;

    if (done)
        return;
    done = 1;
    CHECK(wifiprov__hex_decode(salt_hex, salt, sizeof(salt), &n) == 0 && n == 16);
    CHECK(wifiprov__hex_decode(verifier_hex, verifier, sizeof(verifier), &n) == 0 && n == 384);
    CHECK(wifiprov__hex_decode(sec1_rand_hex, rand_bytes[0], 64, &rand_len[0]) == 0);
    CHECK(wifiprov__hex_decode(sec2_rand_hex, rand_bytes[1], 64, &rand_len[1]) == 0);
}

struct reader {
    const uint8_t *p;
    size_t n;
};

static bool take(struct reader *r, size_t n, const uint8_t **out)
{
    if (r->n < n)
        return false;
    *out = r->p;
    r->p += n;
    r->n -= n;
    return true;
}

static bool take_msg(struct reader *r, const uint8_t **msg, size_t *len)
{
    const uint8_t *h;

    if (!take(r, 2, &h))
        return false;
    *len = ((size_t)h[0] << 8) | h[1];
    if (*len > r->n)
        *len = r->n;
    return take(r, *len, msg);
}

/* --- device --------------------------------------------------------------- */

static int echo(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    (void)ctx;
    if (req->len > cap)
        return WIFIPROV_ERR_NOSPC;
    if (req->len)
        memcpy(out, req->data, req->len);
    *out_len = req->len;
    return 0;
}

/* Answers later: PENDING first, then echoes when resumed. */
static int slow(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    unsigned *calls = ctx;

    if (!req->resumed || ((*calls)++ & 1) == 0)
        return WIFIPROV_ERR_PENDING;
    return echo(NULL, req, out, cap, out_len);
}

static void wake(void *ctx, uint32_t sid)
{
    unsigned *wakes = ctx;

    (void)sid;
    (*wakes)++;
}

static void check_reply(int rc, size_t out_len, size_t cap)
{
    if (rc)
        CHECK(out_len == 0);
    else
        CHECK(out_len <= cap);
}

static void run_device(int sec2, struct reader *r)
{
    static const uint32_t sids[4] = {1, 2, 0xffffffffu, 0};
    static uint8_t out[WIFIPROV_REPLY_CAP];
    struct wifiprov_device_config cfg;
    struct wifiprov_device *dev = NULL;
    struct cyc rng = {rand_bytes[sec2], rand_len[sec2], 0};
    unsigned slow_calls = 0, wakes = 0;
    const uint8_t *op, *msg;
    size_t len, out_len;
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    cfg.security = sec2 ? WIFIPROV_SECURITY_2 : WIFIPROV_SECURITY_1;
    cfg.pop = "abcd1234";
    cfg.sec2_salt = salt;
    cfg.sec2_salt_len = sizeof(salt);
    cfg.sec2_verifier = verifier;
    cfg.sec2_verifier_len = sizeof(verifier);
    cfg.max_sessions = 3;
    cfg.random = cyc_random;
    cfg.random_ctx = &rng;
    cfg.wake_fn = wake;
    cfg.wake_ctx = &wakes;
    CHECK(wifiprov_device_new(&cfg, &dev) == 0);
    CHECK(wifiprov_device_add_capability(dev, "wifi_scan") == 0);
    CHECK(wifiprov_device_add_endpoint(dev, "custom-data", echo, NULL) == 0);
    CHECK(wifiprov_device_add_endpoint(dev, "slow-data", slow, &slow_calls) == 0);

    while (take(r, 2, &op)) {
        uint32_t sid = sids[op[1] & 3];
        /* arg bit 2: a tiny reply buffer, to reach the NOSPC paths. */
        size_t cap = (op[1] & 4) ? (size_t)(op[1] >> 3) : sizeof(out);

        out_len = 12345;
        switch (op[0] % 10) {
        case 0:
            rc = wifiprov_device_session_open(dev, sid);
            CHECK(rc == 0 || rc == WIFIPROV_ERR_TOO_MANY_SESSIONS);
            break;
        case 1:
            wifiprov_device_session_close(dev, sid);
            CHECK(!wifiprov_device_session_exists(dev, sid));
            break;
        case 2:
        case 3:
        case 4:
        case 5:
            if (!take_msg(r, &msg, &len))
                goto out;
            rc = wifiprov_device_handle(dev, sid,
                                        op[0] % 10 == 2   ? WIFIPROV_EP_SESSION
                                        : op[0] % 10 == 3 ? "custom-data"
                                        : op[0] % 10 == 4 ? "slow-data"
                                                          : WIFIPROV_EP_VERSION,
                                        msg, len, out, cap, &out_len);
            check_reply(rc, out_len, cap);
            break;
        case 6:
            rc = wifiprov_device_resume(dev, sid, out, cap, &out_len);
            check_reply(rc, out_len, cap);
            break;
        case 7:
            wifiprov_device_cancel_pending(dev, sid);
            break;
        case 8:
            wifiprov_device_wake(dev);
            break;
        default: {
            char name[48];

            if (!take_msg(r, &msg, &len))
                goto out;
            len = len < sizeof(name) - 1 ? len : sizeof(name) - 1;
            memcpy(name, msg, len);
            name[len] = '\0';
            rc = wifiprov_device_handle(dev, sid, name, msg, len, out, cap, &out_len);
            check_reply(rc, out_len, cap);
            break;
        }
        }
        CHECK(wifiprov_device_session_count(dev) <= 3);
    }
out:
    wifiprov_device_free(dev);
}

/* --- client --------------------------------------------------------------- */

static void run_decoders(struct reader *r)
{
    struct wifiprov_version_info info;
    struct wifiprov_wifi_status st;
    struct wifiprov_scan_reply sr;
    struct wifiprov_ap aps[8];
    const uint8_t *sel;
    int status;

    if (!take(r, 1, &sel))
        return;
    memset(&sr, 0, sizeof(sr));
    sr.aps = aps;
    sr.aps_cap = sel[0] & 7;
    switch (((sel[0] >> 3) & 7) % 5) {
    case 0:
        (void)wifiprov__cmd_decode_get_status(r->p, r->n, &st);
        break;
    case 1:
        (void)wifiprov__cmd_decode_config(r->p, r->n, (sel[0] & 1) ? 3 : 5, &status);
        break;
    case 2:
        (void)wifiprov__cmd_decode_scan(r->p, r->n, 1 + 2 * ((sel[0] >> 6) % 3), &status, &sr);
        CHECK(sr.n_aps <= sr.aps_cap);
        break;
    case 3:
        (void)wifiprov__cmd_decode_ctrl(r->p, r->n, (sel[0] & 1) ? 2 : 4, &status);
        break;
    default:
        CHECK(wifiprov_version_parse(r->p, r->n, &info) == 0);
        CHECK(info.n_caps <= WIFIPROV_VERSION_MAX_CAPS);
        break;
    }
}

static int script_xfer(void *ctx, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp, size_t cap,
                       size_t *resp_len)
{
    struct reader *r = ctx;
    const uint8_t *msg;
    size_t len;

    (void)ep;
    (void)req;
    (void)req_len;
    if (!take_msg(r, &msg, &len) || len > cap)
        return WIFIPROV_ERR_TRANSPORT;
    if (len)
        memcpy(resp, msg, len);
    *resp_len = len;
    return 0;
}

static void run_client(struct reader *r)
{
    struct wifiprov_client_config cfg;
    struct wifiprov_client *c = NULL;
    struct cyc rng = {rand_bytes[0], rand_len[0], 0};
    struct wifiprov_wifi_status st;
    const uint8_t *sel;

    if (!take(r, 1, &sel))
        return;
    memset(&cfg, 0, sizeof(cfg));
    cfg.xfer = script_xfer;
    cfg.xfer_ctx = r;
    cfg.security = (enum wifiprov_security)(sel[0] % 3);
    cfg.pop = "abcd1234";
    cfg.username = "wifiprov";
    cfg.password = "abcd1234";
    cfg.sec_patch_ver = (sel[0] >> 2) & 1;
    cfg.random = cyc_random;
    cfg.random_ctx = &rng;
    CHECK(wifiprov_client_new(&cfg, &c) == 0);
    if (wifiprov_client_handshake(c) == 0)
        (void)wifiprov_client_get_status(c, &st);
    wifiprov_client_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = {data, size};
    const uint8_t *mode;

    init_once();
    if (!take(&r, 1, &mode))
        return 0;
    switch (mode[0] % 4) {
    case 0:
    case 1:
        run_device(mode[0] % 4, &r);
        break;
    case 2:
        run_decoders(&r);
        break;
    default:
        run_client(&r);
        break;
    }
    return 0;
}
