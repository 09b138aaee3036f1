/*
 * Security layer: loopback handshakes in both roles with real randomness,
 * and the error paths (wrong credentials, bad lengths, wrong order, mismatched
 * scheme numbers and payload cases, tampered traffic, counter wrap, no room).
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "sec/sec.h"
#include "sec/sec_priv.h"
#include "sec/srp6a.h"
#include "session.pb-c.h"
#include "testutil.h"
#include "util.h"
#include "wifiprov/client.h"
#include "wifiprov/device.h"

#define BUF_CAP 8192

/* The example credentials of PROTOCOL.md §12.1: wifiprov / abcd1234. */
static const char ex_salt[] = "036ee0c7bcb9eda84c9eac97d93decf4";
static const char ex_verifier[] =
    "7c7c85476508946dd636af37d7e8914378cffd616c59d2f83908127238de9e24a470261cdfa903c2b270e7b13224da111d9718dc6072"
    "08cc9ac90c4827e2ae89aa1625b804d21a9b3a8f37f6e43a712ee127866eadce28ff5446601fb99687dc5740a7d46cc97754dc1682f0"
    "ed356ac470ad3d90b5819470d7bc65b2d518e02ec3a5f968dd647bb8b73c9cfc00d8717eb79a7cb1b7c2c318342932433e0099e98294"
    "e3d82ab09629b7df0e5f08334076529132009f972c896c391ec8280544173f68028a9f4461d1f5a17e5a70d2c72381cb3868e42c20bc"
    "40577617bd08b896bc26eb32466935058c1570d91be9becca938a667f0ad5013197264bf52c234e21b11797472bd345bb1e2fd6673fe"
    "716474d04ebc51241940870e9240e621e72d4e37762f2ee268c789e8321342068484534ab30c1b4c8d1c519719abae77ffdbecf01095"
    "34336bcb3e840fb9d85fb8a0b855533e70f718f5ce7b4ebf27cecea8b3be40c5c532293e71649ede8cf675a1e6f653c831a878de5040"
    "f762de36b2ba";

static int real_rng(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return wifiprov__crypto_random(buf, len);
}

/* ---- sessions ---- */

/* A device with the example credentials; @p pre (may be NULL) and @p rng (NULL = the real one) as given. */
static struct wifiprov_sec_session *device_new_with(enum wifiprov_security sec, const char *pop, int patch,
                                                    const struct wifiprov_sec2_precomp *pre, wifiprov_random_fn rng,
                                                    void *rng_ctx)
{
    struct wifiprov_sec_params p = {0};
    struct wifiprov_sec_session *s = NULL;
    uint8_t *salt, *verifier;
    size_t salt_len, verifier_len;

    salt = test_hex(ex_salt, &salt_len);
    verifier = test_hex(ex_verifier, &verifier_len);
    p.security = sec;
    p.role = WIFIPROV_SEC_ROLE_DEVICE;
    p.pop = (const uint8_t *)pop;
    p.pop_len = pop ? strlen(pop) : 0;
    p.salt = salt;
    p.salt_len = salt_len;
    p.verifier = verifier;
    p.verifier_len = verifier_len;
    p.sec_patch_ver = patch;
    p.sec2_precomp = pre;
    p.random = rng ? rng : real_rng;
    p.random_ctx = rng_ctx;
    assert_int_equal(wifiprov__sec_session_new(&p, &s), 0);
    /* The session keeps copies: the caller's buffers can go. */
    memset(salt, 0xee, salt_len);
    memset(verifier, 0xee, verifier_len);
    free(salt);
    free(verifier);
    return s;
}

static struct wifiprov_sec_session *device_new(enum wifiprov_security sec, const char *pop, int patch)
{
    return device_new_with(sec, pop, patch, NULL, NULL, NULL);
}

static struct wifiprov_sec_session *client_new_with(enum wifiprov_security sec, const char *pop, const char *user,
                                                    const char *pass, int patch, unsigned quirks,
                                                    wifiprov_random_fn rng, void *rng_ctx)
{
    struct wifiprov_sec_params p = {0};
    struct wifiprov_sec_session *s = NULL;

    p.security = sec;
    p.role = WIFIPROV_SEC_ROLE_CLIENT;
    p.pop = (const uint8_t *)pop;
    p.pop_len = pop ? strlen(pop) : 0;
    p.username = (const uint8_t *)user;
    p.username_len = user ? strlen(user) : 0;
    p.password = (const uint8_t *)pass;
    p.password_len = pass ? strlen(pass) : 0;
    p.sec_patch_ver = patch;
    p.sec2_test_quirks = quirks;
    p.random = rng ? rng : real_rng;
    p.random_ctx = rng_ctx;
    assert_int_equal(wifiprov__sec_session_new(&p, &s), 0);
    return s;
}

static struct wifiprov_sec_session *client_new(enum wifiprov_security sec, const char *pop, const char *user,
                                               const char *pass, int patch)
{
    return client_new_with(sec, pop, user, pass, patch, 0, NULL, NULL);
}

/* Runs a whole handshake; both ends must end established. */
static void handshake(struct wifiprov_sec_session *dev, struct wifiprov_sec_session *cli)
{
    uint8_t a[BUF_CAP], b[BUF_CAP];
    size_t alen = 0, blen = 0;
    enum wifiprov_sec_outcome oc = WIFIPROV_SEC_OUTCOME_NONE;
    int rounds = 0;

    assert_int_equal(wifiprov__sec_client_start(cli, a, sizeof(a), &alen), 0);
    while (alen > 0) {
        assert_true(++rounds <= 2);
        assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc), 0);
        /* Security 1 and 2 are established only by Cmd1. */
        if (rounds == 1 && wifiprov__sec_has_cipher(dev))
            assert_false(wifiprov__sec_established(dev));
        assert_int_equal(wifiprov__sec_client_step(cli, b, blen, a, sizeof(a), &alen), 0);
    }
    assert_int_equal(oc, WIFIPROV_SEC_OUTCOME_ESTABLISHED);
    assert_true(wifiprov__sec_established(dev));
    assert_true(wifiprov__sec_established(cli));
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
    size_t i;

    for (i = 0; i < len; i++)
        buf[i] = (uint8_t)(seed * 131u + i * 29u + (i >> 8));
}

/* Requests and replies of many sizes, strictly alternating, as the protocol runs. */
static void exchange(struct wifiprov_sec_session *dev, struct wifiprov_sec_session *cli, bool cipher)
{
    static const size_t sizes[] = {0, 1, 5, 15, 16, 17, 31, 64, 255, 1000, 4000};
    static uint8_t pt[4096], ct[4096 + 64], got[4096 + 64];
    size_t i, n, ct_len, got_len;
    size_t overhead = wifiprov__sec_overhead(cli);

    assert_int_equal(overhead, wifiprov__sec_overhead(dev));
    assert_int_equal(wifiprov__sec_has_cipher(dev), cipher);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(sizes); i++) {
        n = sizes[i];
        fill(pt, n, (unsigned)i);
        assert_int_equal(wifiprov__sec_encrypt(cli, pt, n, ct, sizeof(ct), &ct_len), 0);
        assert_int_equal(ct_len, n + overhead);
        if (cipher && n >= 8)
            assert_memory_not_equal(ct, pt, n);
        assert_int_equal(wifiprov__sec_decrypt(dev, ct, ct_len, got, sizeof(got), &got_len), 0);
        assert_int_equal(got_len, n);
        if (n)
            assert_memory_equal(got, pt, n);

        n = sizes[(i + 4) % WIFIPROV_ARRAY_SIZE(sizes)];
        fill(pt, n, (unsigned)i + 100u);
        assert_int_equal(wifiprov__sec_encrypt(dev, pt, n, ct, sizeof(ct), &ct_len), 0);
        assert_int_equal(ct_len, n + overhead);
        if (cipher && n >= 8)
            assert_memory_not_equal(ct, pt, n);
        assert_int_equal(wifiprov__sec_decrypt(cli, ct, ct_len, got, sizeof(got), &got_len), 0);
        assert_int_equal(got_len, n);
        if (n)
            assert_memory_equal(got, pt, n);
    }
}

/* ---- message builders ---- */

static size_t build_sec1(uint8_t *buf, int sec_ver, int msg, Sec1Payload__PayloadCase pc, const uint8_t *data,
                         size_t len)
{
    SessionData m = SESSION_DATA__INIT;
    Sec1Payload p = SEC1_PAYLOAD__INIT;
    SessionCmd0 sc0 = SESSION_CMD0__INIT;
    SessionCmd1 sc1 = SESSION_CMD1__INIT;

    m.sec_ver = (SecSchemeVersion)sec_ver;
    m.proto_case = SESSION_DATA__PROTO_SEC1;
    m.sec1 = &p;
    p.msg = (Sec1MsgType)msg;
    p.payload_case = pc;
    if (pc == SEC1_PAYLOAD__PAYLOAD_SC0) {
        sc0.client_pubkey.data = (uint8_t *)data;
        sc0.client_pubkey.len = len;
        p.sc0 = &sc0;
    } else if (pc == SEC1_PAYLOAD__PAYLOAD_SC1) {
        sc1.client_verify_data.data = (uint8_t *)data;
        sc1.client_verify_data.len = len;
        p.sc1 = &sc1;
    }
    return session_data__pack(&m, buf);
}

static size_t build_sec2(uint8_t *buf, int sec_ver, int msg, Sec2Payload__PayloadCase pc, const uint8_t *user,
                         size_t user_len, const uint8_t *data, size_t len)
{
    SessionData m = SESSION_DATA__INIT;
    Sec2Payload p = SEC2_PAYLOAD__INIT;
    S2SessionCmd0 sc0 = S2_SESSION_CMD0__INIT;
    S2SessionCmd1 sc1 = S2_SESSION_CMD1__INIT;

    m.sec_ver = (SecSchemeVersion)sec_ver;
    m.proto_case = SESSION_DATA__PROTO_SEC2;
    m.sec2 = &p;
    p.msg = (Sec2MsgType)msg;
    p.payload_case = pc;
    if (pc == SEC2_PAYLOAD__PAYLOAD_SC0) {
        sc0.client_username.data = (uint8_t *)user;
        sc0.client_username.len = user_len;
        sc0.client_pubkey.data = (uint8_t *)data;
        sc0.client_pubkey.len = len;
        p.sc0 = &sc0;
    } else if (pc == SEC2_PAYLOAD__PAYLOAD_SC1) {
        sc1.client_proof.data = (uint8_t *)data;
        sc1.client_proof.len = len;
        p.sc1 = &sc1;
    }
    return session_data__pack(&m, buf);
}

/* Sends one device message and checks the result; on error, nothing may be written. */
static void expect_device(struct wifiprov_sec_session *dev, const uint8_t *msg, size_t len, int want_rc,
                          enum wifiprov_sec_outcome want_oc)
{
    uint8_t out[BUF_CAP];
    size_t out_len = 12345;
    enum wifiprov_sec_outcome oc = WIFIPROV_SEC_OUTCOME_ESTABLISHED;

    assert_int_equal(wifiprov__sec_device_handshake(dev, msg, len, out, sizeof(out), &out_len, &oc), want_rc);
    assert_int_equal(oc, want_oc);
    if (want_rc < 0) {
        assert_int_equal(out_len, 0);
        assert_false(wifiprov__sec_established(dev));
    }
}

/* A valid A (g^a for a random a) for hand-made sec2 messages. */
static void some_a(uint8_t a_pub[384])
{
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234", 1);
    uint8_t out[BUF_CAP];
    size_t out_len = 0;
    SessionData *m;

    assert_int_equal(wifiprov__sec_client_start(cli, out, sizeof(out), &out_len), 0);
    m = session_data__unpack(NULL, out_len, out);
    assert_non_null(m);
    assert_int_equal(m->sec2->sc0->client_pubkey.len, 384);
    memcpy(a_pub, m->sec2->sc0->client_pubkey.data, 384);
    session_data__free_unpacked(m, NULL);
    wifiprov__sec_session_free(cli);
}

/* ---- loopback ---- */

static void loopback_sec0(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_0, NULL, 0);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_0, NULL, NULL, NULL, 0);

    (void)state;
    handshake(dev, cli);
    exchange(dev, cli, false);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

static void loopback_sec1_pop(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_1, "abcd1234", 0);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_1, "abcd1234", NULL, NULL, 0);

    (void)state;
    handshake(dev, cli);
    exchange(dev, cli, true);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

static void loopback_sec1_no_pop(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_1, NULL, 0);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_1, NULL, NULL, NULL, 0);

    (void)state;
    handshake(dev, cli);
    exchange(dev, cli, true);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

/* Encrypts the same message twice and tells whether the two ciphertexts are equal. */
static bool same_ciphertext_twice(struct wifiprov_sec_session *from, struct wifiprov_sec_session *to)
{
    uint8_t pt[40], c1[64], c2[64], got[64];
    size_t l1, l2, gl;

    fill(pt, sizeof(pt), 7);
    assert_int_equal(wifiprov__sec_encrypt(from, pt, sizeof(pt), c1, sizeof(c1), &l1), 0);
    assert_int_equal(wifiprov__sec_decrypt(to, c1, l1, got, sizeof(got), &gl), 0);
    assert_int_equal(wifiprov__sec_encrypt(from, pt, sizeof(pt), c2, sizeof(c2), &l2), 0);
    assert_int_equal(wifiprov__sec_decrypt(to, c2, l2, got, sizeof(got), &gl), 0);
    assert_memory_equal(got, pt, sizeof(pt));
    return l1 == l2 && memcmp(c1, c2, l1) == 0;
}

static void loopback_sec2_patch1(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234", 1);

    (void)state;
    handshake(dev, cli);
    exchange(dev, cli, true);
    /* The counter moves with every message. */
    assert_false(same_ciphertext_twice(cli, dev));
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

static void loopback_sec2_patch0(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 0);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234", 0);

    (void)state;
    handshake(dev, cli);
    exchange(dev, cli, true);
    /* Patch 0 uses one IV for everything, so equal messages encrypt equally. */
    assert_true(same_ciphertext_twice(cli, dev));
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

/* A patch-0 client accepts the 16-byte IV of ESP-IDF's patch-0 devices and a 12-byte one. */
static void loopback_sec2_patch0_iv12(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 0);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234", 0);

    (void)state;
    assert_int_equal(wifiprov__sec2_set_patch0_iv_len(dev, 12), 0);
    assert_int_equal(wifiprov__sec2_set_patch0_iv_len(dev, 13), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__sec2_set_patch0_iv_len(cli, 12), WIFIPROV_ERR_INVAL);
    handshake(dev, cli);
    exchange(dev, cli, true);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

/* ---- credentials ---- */

/* Runs the handshake until the device refuses Cmd1; returns the device's error. */
static void expect_cmd1_refused(struct wifiprov_sec_session *dev, struct wifiprov_sec_session *cli)
{
    uint8_t a[BUF_CAP], b[BUF_CAP], cmd1[BUF_CAP];
    size_t alen = 0, blen = 0, cmd1_len;
    enum wifiprov_sec_outcome oc = WIFIPROV_SEC_OUTCOME_NONE;

    assert_int_equal(wifiprov__sec_client_start(cli, a, sizeof(a), &alen), 0);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc), 0);
    assert_int_equal(oc, WIFIPROV_SEC_OUTCOME_NONE);
    assert_int_equal(wifiprov__sec_client_step(cli, b, blen, cmd1, sizeof(cmd1), &cmd1_len), 0);
    assert_true(cmd1_len > 0);
    expect_device(dev, cmd1, cmd1_len, WIFIPROV_ERR_AUTH, WIFIPROV_SEC_OUTCOME_MISMATCH);
    /* The session went back before Cmd0: the same Cmd1 now comes too early. */
    expect_device(dev, cmd1, cmd1_len, WIFIPROV_ERR_STATE, WIFIPROV_SEC_OUTCOME_NONE);
}

static void sec1_wrong_pop(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_1, "abcd1234", 0);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_1, "abcd1235", NULL, NULL, 0);
    struct wifiprov_sec_session *cli2 = client_new(WIFIPROV_SECURITY_1, NULL, NULL, NULL, 0);
    struct wifiprov_sec_session *good = client_new(WIFIPROV_SECURITY_1, "abcd1234", NULL, NULL, 0);

    (void)state;
    expect_cmd1_refused(dev, cli);
    expect_cmd1_refused(dev, cli2);
    /* The device still works for the right PoP. */
    handshake(dev, good);
    exchange(dev, good, true);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
    wifiprov__sec_session_free(cli2);
    wifiprov__sec_session_free(good);
}

static void sec2_wrong_password(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1235", 1);

    (void)state;
    expect_cmd1_refused(dev, cli);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

static void sec2_wrong_username(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_2, NULL, "wifiprow", "abcd1234", 1);

    (void)state;
    expect_cmd1_refused(dev, cli);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

/* ---- security 2: the shortened encodings of Espressif's phone apps ---- */

/* A deterministic random source (splitmix64), so a case that takes n handshakes to appear takes n every run. */
struct prng {
    uint64_t state;
};

static int prng_fn(void *ctx, uint8_t *buf, size_t len)
{
    struct prng *r = ctx;
    size_t i;

    for (i = 0; i < len; i++) {
        uint64_t z = (r->state += 0x9e3779b97f4a7c15u);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        buf[i] = (uint8_t)(z ^ (z >> 31));
    }
    return 0;
}

/* A device like wifiprovd's (sec_patch_ver 1, precomputed tables) and a client, both on @p rng. */
static struct wifiprov_sec_session *device_prng(const struct wifiprov_sec2_precomp *pre, struct prng *rng)
{
    return device_new_with(WIFIPROV_SECURITY_2, NULL, 1, pre, prng_fn, rng);
}

static struct wifiprov_sec_session *client_prng(const char *pass, unsigned quirks, struct prng *rng)
{
    return client_new_with(WIFIPROV_SECURITY_2, NULL, "wifiprov", pass, 1, quirks, prng_fn, rng);
}

/* One handshake; @return the device's result of Cmd1 (Cmd0 must pass). *cmd0_len, *cmd1_len: sizes sent. */
static int handshake_rc(struct wifiprov_sec_session *dev, struct wifiprov_sec_session *cli, size_t *cmd0_len,
                        size_t *cmd1_len)
{
    uint8_t a[BUF_CAP], b[BUF_CAP];
    size_t alen = 0, blen = 0;
    enum wifiprov_sec_outcome oc = WIFIPROV_SEC_OUTCOME_NONE;
    int rc;

    assert_int_equal(wifiprov__sec_client_start(cli, a, sizeof(a), &alen), 0);
    *cmd0_len = alen;
    assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc), 0);
    assert_int_equal(wifiprov__sec_client_step(cli, b, blen, a, sizeof(a), &alen), 0);
    *cmd1_len = alen;
    rc = wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc);
    if (rc < 0) {
        assert_int_equal(oc, WIFIPROV_SEC_OUTCOME_MISMATCH);
        return rc;
    }
    assert_int_equal(oc, WIFIPROV_SEC_OUTCOME_ESTABLISHED);
    assert_int_equal(wifiprov__sec_client_step(cli, b, blen, a, sizeof(a), &alen), 0);
    assert_int_equal(alen, 0);
    assert_true(wifiprov__sec_established(cli));
    return 0;
}

/* Handshakes until one is bound to hit the case (one in 256 each; the fixed seed makes it a fixed count). */
#define SHORT_MAX_TRIES 3000

/*
 * Runs handshakes of a client reproducing @p quirk until it applied: every handshake must succeed, the
 * device must have noticed exactly that case, and the session keys must agree (traffic both ways). Then
 * the same handshake with a wrong password must fail, and one without the quirk must work as before.
 */
static void short_encoding(unsigned quirk, size_t normal_cmd0, size_t normal_cmd1)
{
    struct wifiprov_sec2_precomp *pre = NULL;
    uint8_t *verifier;
    size_t verifier_len, cmd0_len, cmd1_len;
    struct prng rng = {0x5eed0000u + quirk}, saved;
    int i, hits = 0;

    verifier = test_hex(ex_verifier, &verifier_len);
    assert_int_equal(wifiprov__sec2_precomp_new(verifier, verifier_len, &pre), 0);
    free(verifier);
    for (i = 0; i < SHORT_MAX_TRIES && !hits; i++) {
        struct wifiprov_sec_session *dev, *cli;

        saved = rng;
        dev = device_prng(pre, &rng);
        cli = client_prng("abcd1234", quirk, &rng);
        assert_int_equal(handshake_rc(dev, cli, &cmd0_len, &cmd1_len), 0);
        assert_int_equal(wifiprov__sec2_tolerated(cli) & ~quirk, 0);
        assert_int_equal(wifiprov__sec2_tolerated(dev), wifiprov__sec2_tolerated(cli));
        if (wifiprov__sec2_tolerated(cli)) {
            hits++;
            if (quirk == WIFIPROV_CLIENT_TEST_SEC2_SHORT_A)
                assert_true(cmd0_len < normal_cmd0);
            else
                assert_int_equal(cmd0_len, normal_cmd0);
            if (quirk == WIFIPROV_CLIENT_TEST_SEC2_SHORT_M1)
                assert_true(cmd1_len < normal_cmd1);
            else
                assert_int_equal(cmd1_len, normal_cmd1);
            exchange(dev, cli, true);
        } else {
            assert_int_equal(cmd0_len, normal_cmd0);
            assert_int_equal(cmd1_len, normal_cmd1);
        }
        wifiprov__sec_session_free(dev);
        wifiprov__sec_session_free(cli);
    }
    print_message("case hit after %d handshakes\n", i);
    assert_int_equal(hits, 1);
    {
        /* The same random draws (so the same A and b, and the device's K) with a wrong password: refused. */
        struct wifiprov_sec_session *dev, *cli;

        rng = saved;
        dev = device_prng(pre, &rng);
        cli = client_prng("abcd1235", quirk, &rng);
        assert_int_equal(handshake_rc(dev, cli, &cmd0_len, &cmd1_len), WIFIPROV_ERR_AUTH);
        wifiprov__sec_session_free(dev);
        wifiprov__sec_session_free(cli);
        /* And without the quirk the same draws give the normal encoding, which works too. */
        rng = saved;
        dev = device_prng(pre, &rng);
        cli = client_prng("abcd1234", 0, &rng);
        assert_int_equal(handshake_rc(dev, cli, &cmd0_len, &cmd1_len), 0);
        assert_int_equal(cmd0_len, normal_cmd0);
        assert_int_equal(cmd1_len, normal_cmd1);
        assert_int_equal(wifiprov__sec2_tolerated(dev), 0);
        exchange(dev, cli, true);
        wifiprov__sec_session_free(dev);
        wifiprov__sec_session_free(cli);
    }
    wifiprov__sec2_precomp_free(pre);
}

/* Cmd0 with username "wifiprov" is 406 bytes and Cmd1 75 (PROTOCOL.md §6.3). */
static void sec2_short_a(void **state)
{
    (void)state;
    short_encoding(WIFIPROV_CLIENT_TEST_SEC2_SHORT_A, 406, 75);
}

static void sec2_short_m1(void **state)
{
    (void)state;
    short_encoding(WIFIPROV_CLIENT_TEST_SEC2_SHORT_M1, 406, 75);
}

static void sec2_short_k(void **state)
{
    (void)state;
    short_encoding(WIFIPROV_CLIENT_TEST_SEC2_SHORT_K, 406, 75);
}

/* Runs Cmd0/Resp0/Cmd1 and lets the test change Resp1 before the client sees it. */
static void tampered_resp1(struct wifiprov_sec_session *dev, struct wifiprov_sec_session *cli, size_t flip_at,
                           const uint8_t *patch, size_t patch_len, int want_rc)
{
    uint8_t a[BUF_CAP], b[BUF_CAP];
    size_t alen = 0, blen = 0;
    enum wifiprov_sec_outcome oc;

    assert_int_equal(wifiprov__sec_client_start(cli, a, sizeof(a), &alen), 0);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc), 0);
    assert_int_equal(wifiprov__sec_client_step(cli, b, blen, a, sizeof(a), &alen), 0);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc), 0);
    assert_int_equal(oc, WIFIPROV_SEC_OUTCOME_ESTABLISHED);
    if (patch)
        memcpy(b + blen - patch_len, patch, patch_len);
    else
        b[flip_at] ^= 0x01;
    assert_int_equal(wifiprov__sec_client_step(cli, b, blen, a, sizeof(a), &alen), want_rc);
    if (want_rc < 0) {
        assert_false(wifiprov__sec_established(cli));
        /* The client went back before Cmd0: another reply is out of order. */
        assert_int_equal(wifiprov__sec_client_step(cli, b, blen, a, sizeof(a), &alen), WIFIPROV_ERR_STATE);
    }
}

static void sec1_client_rejects_verify(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_1, "pop", 0);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_1, "pop", NULL, NULL, 0);

    (void)state;
    /* Resp1 = 10 01 5a 27 08 03 ba 01 22 1a 20 <device_verify_data 32 B>: flip a byte of the token. */
    tampered_resp1(dev, cli, 11 + 5, NULL, 0, WIFIPROV_ERR_AUTH);
    /* A fresh handshake with both sessions still works. */
    handshake(dev, cli);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

static void sec2_client_rejects_m2(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234", 1);

    (void)state;
    /* Resp1 = 10 02 62 55 08 03 ba 01 50 12 40 <M2 64 B> 1a 0c <nonce>: flip a byte of M2. */
    tampered_resp1(dev, cli, 11 + 40, NULL, 0, WIFIPROV_ERR_AUTH);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

/* The nonce counter: a counter of 0 is refused, and a counter that wraps stops the session. */
static void sec2_counter_wrap(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234", 1);
    static const uint8_t zero[4] = {0, 0, 0, 0};
    static const uint8_t last[4] = {0xff, 0xff, 0xff, 0xff};
    uint8_t pt[3] = {1, 2, 3}, ct[64];
    size_t ct_len;

    (void)state;
    tampered_resp1(dev, cli, 0, zero, sizeof(zero), WIFIPROV_ERR_PROTO);
    tampered_resp1(dev, cli, 0, last, sizeof(last), 0);
    assert_true(wifiprov__sec_established(cli));
    /* Counter 0xffffffff is usable once; then it has wrapped. */
    assert_int_equal(wifiprov__sec_encrypt(cli, pt, sizeof(pt), ct, sizeof(ct), &ct_len), 0);
    assert_int_equal(wifiprov__sec_encrypt(cli, pt, sizeof(pt), ct, sizeof(ct), &ct_len), WIFIPROV_ERR_STATE);
    assert_int_equal(wifiprov__sec_decrypt(cli, ct, 19, pt, sizeof(pt), &ct_len), WIFIPROV_ERR_STATE);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

/* ---- lengths ---- */

static void sec1_key_lengths(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_1, "abcd1234", 0);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_1, "abcd1234", NULL, NULL, 0);
    uint8_t key[33], msg[128], a[BUF_CAP], b[BUF_CAP];
    size_t len, alen, blen;
    enum wifiprov_sec_outcome oc;

    (void)state;
    fill(key, sizeof(key), 3);
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command0, SEC1_PAYLOAD__PAYLOAD_SC0, key, 31);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command0, SEC1_PAYLOAD__PAYLOAD_SC0, key, 33);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command0, SEC1_PAYLOAD__PAYLOAD_SC0, key, 0);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    /* A low-order point (0) gives an all-zero shared secret, which is refused. */
    memset(key, 0, sizeof(key));
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command0, SEC1_PAYLOAD__PAYLOAD_SC0, key, 32);
    expect_device(dev, msg, len, WIFIPROV_ERR_CRYPTO, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    fill(key, sizeof(key), 3);

    /* A verify token of 31 or 33 bytes after a good Cmd0. */
    assert_int_equal(wifiprov__sec_client_start(cli, a, sizeof(a), &alen), 0);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc), 0);
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command1, SEC1_PAYLOAD__PAYLOAD_SC1, key, 31);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc), 0);
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command1, SEC1_PAYLOAD__PAYLOAD_SC1, key, 33);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

static void sec2_lengths(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234", 1);
    uint8_t a_pub[385], proof[65], msg[1024], a[BUF_CAP], b[BUF_CAP];
    size_t len, alen, blen;
    enum wifiprov_sec_outcome oc;

    (void)state;
    some_a(a_pub);
    a_pub[384] = 0x55;
    /* A shorter than 384 bytes is the number it is (the phone apps drop leading zero bytes); none or more
     * than 384 bytes is not. */
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC0, (const uint8_t *)"u", 1,
                     a_pub + 1, 383);
    expect_device(dev, msg, len, 0, WIFIPROV_SEC_OUTCOME_NONE);
    assert_int_equal(wifiprov__sec2_tolerated(dev), WIFIPROV_CLIENT_TEST_SEC2_SHORT_A);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC0, (const uint8_t *)"u", 1,
                     a_pub, 0);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC0, (const uint8_t *)"u", 1,
                     a_pub, 385);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    /* An empty username. */
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC0, NULL, 0, a_pub, 384);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);

    /* A proof of 63 bytes is compared left-padded (a wrong one is a mismatch); 0 or 65 bytes is invalid. */
    fill(proof, sizeof(proof), 9);
    assert_int_equal(wifiprov__sec_client_start(cli, a, sizeof(a), &alen), 0);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc), 0);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command1, SEC2_PAYLOAD__PAYLOAD_SC1, NULL, 0, proof, 63);
    expect_device(dev, msg, len, WIFIPROV_ERR_AUTH, WIFIPROV_SEC_OUTCOME_MISMATCH);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc), 0);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command1, SEC2_PAYLOAD__PAYLOAD_SC1, NULL, 0, proof, 0);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc), 0);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command1, SEC2_PAYLOAD__PAYLOAD_SC1, NULL, 0, proof, 65);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

/* Usernames up to 65535 bytes pass, 65536 do not (the message exceeds the transport limit; the layer is tested
 * alone). */
static void sec2_username_limit(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    uint8_t a_pub[384];
    uint8_t *user = malloc(65536), *msg = malloc(65536 + 1024);
    size_t len;

    (void)state;
    assert_non_null(user);
    assert_non_null(msg);
    memset(user, 'u', 65536);
    some_a(a_pub);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC0, user, 65536, a_pub, 384);
    assert_true(len > WIFIPROV_MAX_MSG);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC0, user, 65535, a_pub, 384);
    expect_device(dev, msg, len, 0, WIFIPROV_SEC_OUTCOME_NONE);
    free(user);
    free(msg);
    wifiprov__sec_session_free(dev);
}

static void sec2_a_zero_and_n(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    uint8_t a_pub[384], msg[1024];
    size_t len;

    (void)state;
    memset(a_pub, 0, sizeof(a_pub));
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC0, (const uint8_t *)"u", 1,
                     a_pub, 384);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    /* N itself. */
    memcpy(a_pub, wifiprov__srp_group_3072.n, 384);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC0, (const uint8_t *)"u", 1,
                     a_pub, 384);
    expect_device(dev, msg, len, WIFIPROV_ERR_INVAL, WIFIPROV_SEC_OUTCOME_INVALID_PARAMS);
    /* N - 1 is a valid value (not 0 mod N): the device answers. */
    a_pub[383] -= 1;
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC0, (const uint8_t *)"u", 1,
                     a_pub, 384);
    expect_device(dev, msg, len, 0, WIFIPROV_SEC_OUTCOME_NONE);
    wifiprov__sec_session_free(dev);
}

/* ---- order ---- */

static void cmd1_before_cmd0(void **state)
{
    struct wifiprov_sec_session *d1 = device_new(WIFIPROV_SECURITY_1, "abcd1234", 0);
    struct wifiprov_sec_session *d2 = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    uint8_t data[64], msg[256];
    size_t len;

    (void)state;
    fill(data, sizeof(data), 1);
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command1, SEC1_PAYLOAD__PAYLOAD_SC1, data, 32);
    expect_device(d1, msg, len, WIFIPROV_ERR_STATE, WIFIPROV_SEC_OUTCOME_NONE);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command1, SEC2_PAYLOAD__PAYLOAD_SC1, NULL, 0, data, 64);
    expect_device(d2, msg, len, WIFIPROV_ERR_STATE, WIFIPROV_SEC_OUTCOME_NONE);
    wifiprov__sec_session_free(d1);
    wifiprov__sec_session_free(d2);
}

/* A second Cmd0 (from another client) restarts the handshake, even after it completed. */
static void repeated_cmd0(enum wifiprov_security sec, const char *pop, const char *user, const char *pass)
{
    struct wifiprov_sec_session *dev = device_new(sec, pop, 1);
    struct wifiprov_sec_session *c1 = client_new(sec, pop, user, pass, 1);
    struct wifiprov_sec_session *c2 = client_new(sec, pop, user, pass, 1);
    uint8_t a1[BUF_CAP], a2[BUF_CAP], b[BUF_CAP], c1cmd1[BUF_CAP];
    size_t a1len, a2len, blen, c1cmd1_len;
    enum wifiprov_sec_outcome oc;

    assert_int_equal(wifiprov__sec_client_start(c1, a1, sizeof(a1), &a1len), 0);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a1, a1len, b, sizeof(b), &blen, &oc), 0);
    assert_int_equal(wifiprov__sec_client_step(c1, b, blen, c1cmd1, sizeof(c1cmd1), &c1cmd1_len), 0);
    /* The second client's Cmd0 replaces the first handshake... */
    assert_int_equal(wifiprov__sec_client_start(c2, a2, sizeof(a2), &a2len), 0);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a2, a2len, b, sizeof(b), &blen, &oc), 0);
    /* ...so the first client's Cmd1 no longer fits. */
    expect_device(dev, c1cmd1, c1cmd1_len, WIFIPROV_ERR_AUTH, WIFIPROV_SEC_OUTCOME_MISMATCH);
    /* Start over, and this time let the second Cmd0 arrive mid-way and finish. */
    assert_int_equal(wifiprov__sec_client_start(c1, a1, sizeof(a1), &a1len), 0);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a1, a1len, b, sizeof(b), &blen, &oc), 0);
    handshake(dev, c2);
    exchange(dev, c2, true);
    /* After completion, a Cmd0 restarts again: not established until Cmd1. */
    assert_int_equal(wifiprov__sec_device_handshake(dev, a1, a1len, b, sizeof(b), &blen, &oc), 0);
    assert_false(wifiprov__sec_established(dev));
    assert_int_equal(wifiprov__sec_client_step(c1, b, blen, a1, sizeof(a1), &a1len), 0);
    assert_int_equal(wifiprov__sec_device_handshake(dev, a1, a1len, b, sizeof(b), &blen, &oc), 0);
    assert_int_equal(oc, WIFIPROV_SEC_OUTCOME_ESTABLISHED);
    assert_int_equal(wifiprov__sec_client_step(c1, b, blen, a1, sizeof(a1), &a1len), 0);
    assert_int_equal(a1len, 0);
    exchange(dev, c1, true);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(c1);
    wifiprov__sec_session_free(c2);
}

static void sec1_repeated_cmd0(void **state)
{
    (void)state;
    repeated_cmd0(WIFIPROV_SECURITY_1, "abcd1234", NULL, NULL);
}

static void sec2_repeated_cmd0(void **state)
{
    (void)state;
    repeated_cmd0(WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234");
}

/* ---- tampered traffic ---- */

static void sec2_tampered(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234", 1);
    uint8_t pt[50], ct[128], bad[128], got[128];
    size_t ct_len, got_len = 99;
    size_t i;

    (void)state;
    handshake(dev, cli);
    fill(pt, sizeof(pt), 5);
    assert_int_equal(wifiprov__sec_encrypt(cli, pt, sizeof(pt), ct, sizeof(ct), &ct_len), 0);
    /* Flip a ciphertext byte, then a tag byte, then cut the message short. */
    for (i = 0; i < 2; i++) {
        memcpy(bad, ct, ct_len);
        bad[i == 0 ? 3 : ct_len - 1] ^= 0x80;
        assert_int_equal(wifiprov__sec_decrypt(dev, bad, ct_len, got, sizeof(got), &got_len), WIFIPROV_ERR_CRYPTO);
        assert_true(wifiprov__sec_established(dev));
    }
    assert_int_equal(wifiprov__sec_decrypt(dev, ct, 15, got, sizeof(got), &got_len), WIFIPROV_ERR_PROTO);
    /* The failures did not move the counter: the genuine message still decrypts. */
    assert_int_equal(wifiprov__sec_decrypt(dev, ct, ct_len, got, sizeof(got), &got_len), 0);
    assert_int_equal(got_len, sizeof(pt));
    assert_memory_equal(got, pt, sizeof(pt));
    /* A replay of it fails (the counter moved on), and the conversation goes on. */
    assert_int_equal(wifiprov__sec_decrypt(dev, ct, ct_len, got, sizeof(got), &got_len), WIFIPROV_ERR_CRYPTO);
    exchange(dev, cli, true);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

/* ---- scheme numbers and payload cases ---- */

static void sec_ver_mismatch(void **state)
{
    struct wifiprov_sec_session *d0 = device_new(WIFIPROV_SECURITY_0, NULL, 0);
    struct wifiprov_sec_session *d1 = device_new(WIFIPROV_SECURITY_1, "abcd1234", 0);
    struct wifiprov_sec_session *d2 = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    uint8_t key[32], a_pub[384], msg[1024];
    size_t len;

    (void)state;
    fill(key, sizeof(key), 2);
    some_a(a_pub);
    /* sec1 payload with sec_ver 2, to a sec1 and a sec2 device. */
    len = build_sec1(msg, 2, SEC1_MSG_TYPE__Session_Command0, SEC1_PAYLOAD__PAYLOAD_SC0, key, 32);
    expect_device(d1, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    expect_device(d2, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    /* sec2 payload with sec_ver 1, to both. */
    len = build_sec2(msg, 1, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC0, (const uint8_t *)"u", 1,
                     a_pub, 384);
    expect_device(d2, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    expect_device(d1, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    /* The right payload under the right number works on each. */
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command0, SEC1_PAYLOAD__PAYLOAD_SC0, key, 32);
    expect_device(d1, msg, len, 0, WIFIPROV_SEC_OUTCOME_NONE);
    expect_device(d0, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC0, (const uint8_t *)"u", 1,
                     a_pub, 384);
    expect_device(d2, msg, len, 0, WIFIPROV_SEC_OUTCOME_NONE);
    /* sec0 checks only the number: an empty SessionData is sec_ver 0. */
    expect_device(d0, msg, 0, 0, WIFIPROV_SEC_OUTCOME_ESTABLISHED);
    wifiprov__sec_session_free(d0);
    wifiprov__sec_session_free(d1);
    wifiprov__sec_session_free(d2);
}

static void payload_mismatch(void **state)
{
    struct wifiprov_sec_session *d1 = device_new(WIFIPROV_SECURITY_1, "abcd1234", 0);
    struct wifiprov_sec_session *d2 = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    uint8_t data[384], msg[1024];
    size_t len;

    (void)state;
    fill(data, sizeof(data), 4);
    /* msg says Command1, payload is sc0, and the other way round. */
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command1, SEC1_PAYLOAD__PAYLOAD_SC0, data, 32);
    expect_device(d1, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command0, SEC1_PAYLOAD__PAYLOAD_SC1, data, 32);
    expect_device(d1, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    /* No payload at all, and a response type sent to the device. */
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command0, SEC1_PAYLOAD__PAYLOAD__NOT_SET, NULL, 0);
    expect_device(d1, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Command1, SEC1_PAYLOAD__PAYLOAD__NOT_SET, NULL, 0);
    expect_device(d1, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    len = build_sec1(msg, 1, SEC1_MSG_TYPE__Session_Response0, SEC1_PAYLOAD__PAYLOAD_SC0, data, 32);
    expect_device(d1, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);

    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command1, SEC2_PAYLOAD__PAYLOAD_SC0, (const uint8_t *)"u", 1,
                     data, 384);
    expect_device(d2, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD_SC1, NULL, 0, data, 64);
    expect_device(d2, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command0, SEC2_PAYLOAD__PAYLOAD__NOT_SET, NULL, 0, NULL, 0);
    expect_device(d2, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    len = build_sec2(msg, 2, SEC2_MSG_TYPE__S2Session_Command1, SEC2_PAYLOAD__PAYLOAD__NOT_SET, NULL, 0, NULL, 0);
    expect_device(d2, msg, len, WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    /* Bytes that are not a protobuf message. */
    expect_device(d1, garbage, sizeof(garbage), WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    expect_device(d2, garbage, sizeof(garbage), WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    wifiprov__sec_session_free(d1);
    wifiprov__sec_session_free(d2);
}

/* A handshake message that fails mid-way leaves an established session back before Cmd0. */
static void error_resets_session(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_1, "abcd1234", 0);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_1, "abcd1234", NULL, NULL, 0);
    static const uint8_t garbage[] = {0xff};
    uint8_t pt[4] = {1, 2, 3, 4}, ct[16];
    size_t ct_len;

    (void)state;
    handshake(dev, cli);
    expect_device(dev, garbage, sizeof(garbage), WIFIPROV_ERR_PROTO, WIFIPROV_SEC_OUTCOME_NONE);
    assert_int_equal(wifiprov__sec_encrypt(dev, pt, sizeof(pt), ct, sizeof(ct), &ct_len), WIFIPROV_ERR_STATE);
    handshake(dev, cli);
    exchange(dev, cli, true);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

/* ---- state ---- */

static void crypt_before_established(void **state)
{
    static const enum wifiprov_security secs[] = {WIFIPROV_SECURITY_1, WIFIPROV_SECURITY_2};
    uint8_t pt[20], ct[64], a[BUF_CAP], b[BUF_CAP];
    size_t n, alen, blen;
    enum wifiprov_sec_outcome oc;
    size_t i;

    (void)state;
    fill(pt, sizeof(pt), 6);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(secs); i++) {
        struct wifiprov_sec_session *dev = device_new(secs[i], "abcd1234", 1);
        struct wifiprov_sec_session *cli = client_new(secs[i], "abcd1234", "wifiprov", "abcd1234", 1);

        assert_int_equal(wifiprov__sec_encrypt(dev, pt, sizeof(pt), ct, sizeof(ct), &n), WIFIPROV_ERR_STATE);
        assert_int_equal(wifiprov__sec_decrypt(dev, ct, 36, pt, sizeof(pt), &n), WIFIPROV_ERR_STATE);
        assert_int_equal(wifiprov__sec_encrypt(cli, pt, sizeof(pt), ct, sizeof(ct), &n), WIFIPROV_ERR_STATE);
        /* Half-way through the handshake is not enough either. */
        assert_int_equal(wifiprov__sec_client_start(cli, a, sizeof(a), &alen), 0);
        assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc), 0);
        assert_int_equal(wifiprov__sec_encrypt(dev, pt, sizeof(pt), ct, sizeof(ct), &n), WIFIPROV_ERR_STATE);
        assert_int_equal(wifiprov__sec_encrypt(cli, pt, sizeof(pt), ct, sizeof(ct), &n), WIFIPROV_ERR_STATE);
        /* A client reply outside a handshake is refused. */
        wifiprov__sec_session_reset(cli);
        assert_int_equal(wifiprov__sec_client_step(cli, b, blen, a, sizeof(a), &alen), WIFIPROV_ERR_STATE);
        wifiprov__sec_session_free(dev);
        wifiprov__sec_session_free(cli);
    }
    /* Security 0 has no cipher and, as in ESP-IDF, needs no handshake. */
    {
        struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_0, NULL, 0);

        assert_false(wifiprov__sec_has_cipher(dev));
        assert_int_equal(wifiprov__sec_encrypt(dev, pt, sizeof(pt), ct, sizeof(ct), &n), 0);
        assert_int_equal(n, sizeof(pt));
        assert_memory_equal(ct, pt, sizeof(pt));
        wifiprov__sec_session_free(dev);
    }
}

static void no_space(void **state)
{
    struct wifiprov_sec_session *dev = device_new(WIFIPROV_SECURITY_2, NULL, 1);
    struct wifiprov_sec_session *cli = client_new(WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234", 1);
    uint8_t a[BUF_CAP], b[BUF_CAP], pt[32], ct[64];
    size_t alen, blen = 7, n;
    enum wifiprov_sec_outcome oc;

    (void)state;
    assert_int_equal(wifiprov__sec_client_start(cli, a, 100, &alen), WIFIPROV_ERR_NOSPC);
    assert_int_equal(wifiprov__sec_client_start(cli, a, sizeof(a), &alen), 0);
    /* Resp0 is 416 bytes here or a little less; 300 bytes are not enough. */
    assert_int_equal(wifiprov__sec_device_handshake(dev, a, alen, b, 300, &blen, &oc), WIFIPROV_ERR_NOSPC);
    assert_int_equal(blen, 0);
    handshake(dev, cli);
    fill(pt, sizeof(pt), 8);
    assert_int_equal(wifiprov__sec_encrypt(cli, pt, sizeof(pt), ct, sizeof(pt) + 15, &n), WIFIPROV_ERR_NOSPC);
    assert_int_equal(wifiprov__sec_encrypt(cli, pt, sizeof(pt), ct, sizeof(pt) + 16, &n), 0);
    assert_int_equal(wifiprov__sec_decrypt(dev, ct, n, pt, sizeof(pt) - 1, &n), WIFIPROV_ERR_NOSPC);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

static void bad_params(void **state)
{
    struct wifiprov_sec_params p = {0};
    struct wifiprov_sec_session *s = (struct wifiprov_sec_session *)&p;
    uint8_t salt[16] = {1}, v[384];

    (void)state;
    p.random = real_rng;
    p.security = (enum wifiprov_security)3;
    assert_int_equal(wifiprov__sec_session_new(&p, &s), WIFIPROV_ERR_INVAL);
    assert_null(s);
    p.security = WIFIPROV_SECURITY_1;
    p.role = (enum wifiprov_sec_role)2;
    assert_int_equal(wifiprov__sec_session_new(&p, &s), WIFIPROV_ERR_INVAL);
    p.role = WIFIPROV_SEC_ROLE_DEVICE;
    p.pop_len = 4; /* without pop */
    assert_int_equal(wifiprov__sec_session_new(&p, &s), WIFIPROV_ERR_INVAL);
    p.pop_len = 0;
    p.random = NULL;
    assert_int_equal(wifiprov__sec_session_new(&p, &s), WIFIPROV_ERR_INVAL);
    p.random = real_rng;

    /* Security 2 device: verifier missing, zero, equal to N; salt missing; bad patch level. */
    p.security = WIFIPROV_SECURITY_2;
    p.salt = salt;
    p.salt_len = sizeof(salt);
    assert_int_equal(wifiprov__sec_session_new(&p, &s), WIFIPROV_ERR_INVAL);
    memset(v, 0, sizeof(v));
    p.verifier = v;
    p.verifier_len = sizeof(v);
    assert_int_equal(wifiprov__sec_session_new(&p, &s), WIFIPROV_ERR_INVAL);
    memcpy(v, wifiprov__srp_group_3072.n, 384);
    assert_int_equal(wifiprov__sec_session_new(&p, &s), WIFIPROV_ERR_INVAL);
    v[383] -= 2;
    assert_int_equal(wifiprov__sec_session_new(&p, &s), 0);
    wifiprov__sec_session_free(s);
    p.salt_len = 0;
    assert_int_equal(wifiprov__sec_session_new(&p, &s), WIFIPROV_ERR_INVAL);
    p.salt_len = sizeof(salt);
    p.sec_patch_ver = 2;
    assert_int_equal(wifiprov__sec_session_new(&p, &s), WIFIPROV_ERR_INVAL);

    /* Security 2 client: username missing or too long. */
    p.sec_patch_ver = 1;
    p.role = WIFIPROV_SEC_ROLE_CLIENT;
    assert_int_equal(wifiprov__sec_session_new(&p, &s), WIFIPROV_ERR_INVAL);
    p.username = (const uint8_t *)"u";
    p.username_len = 65536;
    assert_int_equal(wifiprov__sec_session_new(&p, &s), WIFIPROV_ERR_INVAL);
    p.username_len = 1;
    assert_int_equal(wifiprov__sec_session_new(&p, &s), 0);
    /* A client session cannot play the device and the other way round. */
    {
        uint8_t out[64];
        size_t n;

        assert_int_equal(wifiprov__sec_device_handshake(s, salt, 1, out, sizeof(out), &n, NULL), WIFIPROV_ERR_INVAL);
    }
    wifiprov__sec_session_free(s);
    wifiprov__sec_session_free(NULL);
    wifiprov__sec_session_reset(NULL);
}

/* ---- generated credentials ---- */

static void gen_cred_handshake(void **state)
{
    struct wifiprov_sec_params p = {0};
    struct wifiprov_sec_session *dev = NULL, *cli, *wrong;
    uint8_t salt[16], v[WIFIPROV_SEC2_VERIFIER_LEN];

    (void)state;
    assert_int_equal(wifiprov_sec2_gen_salt_verifier("alice", "s3cret-pw", sizeof(salt), NULL, NULL, salt, v), 0);
    assert_int_not_equal(salt[0], 0);
    p.security = WIFIPROV_SECURITY_2;
    p.role = WIFIPROV_SEC_ROLE_DEVICE;
    p.salt = salt;
    p.salt_len = sizeof(salt);
    p.verifier = v;
    p.verifier_len = sizeof(v);
    p.sec_patch_ver = 1;
    p.random = real_rng;
    assert_int_equal(wifiprov__sec_session_new(&p, &dev), 0);
    cli = client_new(WIFIPROV_SECURITY_2, NULL, "alice", "s3cret-pw", 1);
    wrong = client_new(WIFIPROV_SECURITY_2, NULL, "alice", "s3cret-pW", 1);
    handshake(dev, cli);
    exchange(dev, cli, true);
    expect_cmd1_refused(dev, wrong);
    /* pw69 is refused (pitfall P7). */
    assert_int_equal(wifiprov_sec2_gen_salt_verifier("wifiprov", "pw69", sizeof(salt), NULL, NULL, salt, v),
                     WIFIPROV_ERR_BAD_CRED);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
    wifiprov__sec_session_free(wrong);
}

/* ---- allocation failures ---- */

static long alloc_budget = -1; /* allocations left before failing; -1 = unlimited */
static long alloc_count;

static void *fail_malloc(size_t n)
{
    alloc_count++;
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

static void *fail_calloc(size_t n, size_t size)
{
    alloc_count++;
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return calloc(n, size);
}

static void *fail_realloc(void *p, size_t n)
{
    alloc_count++;
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return realloc(p, n);
}

/* One handshake and one message each way; returns the first error. */
static int try_session(enum wifiprov_security sec)
{
    struct wifiprov_sec_session *dev = NULL, *cli = NULL;
    struct wifiprov_sec_params p = {0};
    uint8_t a[BUF_CAP], b[BUF_CAP], *salt = NULL, *v = NULL;
    size_t alen = 0, blen = 0, salt_len, v_len;
    enum wifiprov_sec_outcome oc;
    int rc;

    salt = test_hex(ex_salt, &salt_len);
    v = test_hex(ex_verifier, &v_len);
    p.security = sec;
    p.role = WIFIPROV_SEC_ROLE_DEVICE;
    p.pop = (const uint8_t *)"abcd1234";
    p.pop_len = 8;
    p.salt = salt;
    p.salt_len = salt_len;
    p.verifier = v;
    p.verifier_len = v_len;
    p.sec_patch_ver = 1;
    p.random = real_rng;
    rc = wifiprov__sec_session_new(&p, &dev);
    if (rc < 0)
        goto out;
    p.role = WIFIPROV_SEC_ROLE_CLIENT;
    p.username = (const uint8_t *)"wifiprov";
    p.username_len = 8;
    p.password = (const uint8_t *)"abcd1234";
    p.password_len = 8;
    rc = wifiprov__sec_session_new(&p, &cli);
    if (rc < 0)
        goto out;
    rc = wifiprov__sec_client_start(cli, a, sizeof(a), &alen);
    while (rc == 0 && alen > 0) {
        rc = wifiprov__sec_device_handshake(dev, a, alen, b, sizeof(b), &blen, &oc);
        if (rc == 0)
            rc = wifiprov__sec_client_step(cli, b, blen, a, sizeof(a), &alen);
    }
    if (rc == 0)
        rc = wifiprov__sec_encrypt(cli, (const uint8_t *)"hello", 5, a, sizeof(a), &alen);
    if (rc == 0)
        rc = wifiprov__sec_decrypt(dev, a, alen, b, sizeof(b), &blen);
    if (rc == 0 && (blen != 5 || memcmp(b, "hello", 5) != 0))
        rc = WIFIPROV_ERR_CRYPTO;
out:
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
    free(salt);
    free(v);
    return rc;
}

/* Failing each allocation in turn gives a clean error (and, under ASan/valgrind, no leak). */
static void alloc_failures(void **state)
{
    static const enum wifiprov_security secs[] = {WIFIPROV_SECURITY_0, WIFIPROV_SECURITY_1, WIFIPROV_SECURITY_2};
    struct wifiprov_allocator fa = {fail_malloc, fail_calloc, fail_realloc, free};
    size_t i;
    long n, total;
    int rc;

    (void)state;
    wifiprov_set_allocator(&fa);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(secs); i++) {
        alloc_budget = -1;
        alloc_count = 0;
        assert_int_equal(try_session(secs[i]), 0);
        total = alloc_count;
        assert_true(total > 0);
        for (n = 0; n < total; n++) {
            alloc_budget = n;
            rc = try_session(secs[i]);
            assert_true(rc < 0);
        }
    }
    alloc_budget = -1;
    wifiprov_set_allocator(NULL);
}

/* Running out of memory while parsing is reported as NOMEM, not as a malformed message. */
static void unpack_nomem(void **state)
{
    struct wifiprov_allocator fa = {fail_malloc, fail_calloc, fail_realloc, free};
    struct wifiprov_sec_session *dev = NULL, *cli = NULL;
    struct wifiprov_sec_params p = {0};
    uint8_t cmd0[BUF_CAP], resp0[BUF_CAP], next[BUF_CAP];
    size_t cmd0_len = 0, resp0_len = 0, next_len = 0;
    enum wifiprov_sec_outcome oc;

    (void)state;
    p.security = WIFIPROV_SECURITY_0;
    p.role = WIFIPROV_SEC_ROLE_DEVICE;
    p.random = real_rng;
    assert_int_equal(wifiprov__sec_session_new(&p, &dev), 0);
    p.role = WIFIPROV_SEC_ROLE_CLIENT;
    assert_int_equal(wifiprov__sec_session_new(&p, &cli), 0);
    assert_int_equal(wifiprov__sec_client_start(cli, cmd0, sizeof(cmd0), &cmd0_len), 0);
    wifiprov_set_allocator(&fa);
    alloc_budget = 0;
    assert_int_equal(wifiprov__sec_device_handshake(dev, cmd0, cmd0_len, resp0, sizeof(resp0), &resp0_len, &oc),
                     WIFIPROV_ERR_NOMEM);
    alloc_budget = -1;
    assert_int_equal(wifiprov__sec_device_handshake(dev, cmd0, cmd0_len, resp0, sizeof(resp0), &resp0_len, &oc), 0);
    alloc_budget = 0;
    assert_int_equal(wifiprov__sec_client_step(cli, resp0, resp0_len, next, sizeof(next), &next_len),
                     WIFIPROV_ERR_NOMEM);
    alloc_budget = -1;
    wifiprov_set_allocator(NULL);
    /* A malformed message is still PROTO. */
    assert_int_equal(wifiprov__sec_device_handshake(dev, (const uint8_t *)"\xff\xff", 2, resp0, sizeof(resp0),
                                                    &resp0_len, &oc),
                     WIFIPROV_ERR_PROTO);
    wifiprov__sec_session_free(dev);
    wifiprov__sec_session_free(cli);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loopback_sec0),
        cmocka_unit_test(loopback_sec1_pop),
        cmocka_unit_test(loopback_sec1_no_pop),
        cmocka_unit_test(loopback_sec2_patch1),
        cmocka_unit_test(loopback_sec2_patch0),
        cmocka_unit_test(loopback_sec2_patch0_iv12),
        cmocka_unit_test(sec1_wrong_pop),
        cmocka_unit_test(sec2_wrong_password),
        cmocka_unit_test(sec2_wrong_username),
        cmocka_unit_test(sec2_short_a),
        cmocka_unit_test(sec2_short_m1),
        cmocka_unit_test(sec2_short_k),
        cmocka_unit_test(sec1_client_rejects_verify),
        cmocka_unit_test(sec2_client_rejects_m2),
        cmocka_unit_test(sec2_counter_wrap),
        cmocka_unit_test(sec1_key_lengths),
        cmocka_unit_test(sec2_lengths),
        cmocka_unit_test(sec2_username_limit),
        cmocka_unit_test(sec2_a_zero_and_n),
        cmocka_unit_test(cmd1_before_cmd0),
        cmocka_unit_test(sec1_repeated_cmd0),
        cmocka_unit_test(sec2_repeated_cmd0),
        cmocka_unit_test(sec2_tampered),
        cmocka_unit_test(sec_ver_mismatch),
        cmocka_unit_test(payload_mismatch),
        cmocka_unit_test(error_resets_session),
        cmocka_unit_test(crypt_before_established),
        cmocka_unit_test(no_space),
        cmocka_unit_test(bad_params),
        cmocka_unit_test(gen_cred_handshake),
        cmocka_unit_test(alloc_failures),
        cmocka_unit_test(unpack_nomem),
    };

    return TEST_RUN("sec", tests, argc, argv);
}
