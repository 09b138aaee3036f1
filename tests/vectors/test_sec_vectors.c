/*
 * Known-answer tests of the security layer against tests/vectors/data/sec{0,1,2}.json:
 * both roles replay the transcripts byte for byte with the vectors' fixed randoms,
 * and the intermediate values (X25519 secret and key, SRP k, x, v, A, B, u, S, K,
 * M1, M2) are recomputed from the inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crypto/crypto.h"
#include "sec/sec.h"
#include "sec/sec_priv.h"
#include "sec/srp6a.h"
#include "testutil.h"
#include "util.h"

#define BUF_CAP 8192

struct vec {
    cJSON *root;
    const cJSON *messages;
};

static void vec_load(struct vec *v, const char *file, bool variant0)
{
    char path[1024];
    char *text;

    snprintf(path, sizeof(path), "%s/%s", WIFIPROV_VECTORS_DIR, file);
    text = test_read_file(path, NULL);
    v->root = cJSON_Parse(text);
    free(text);
    assert_non_null(v->root);
    if (variant0) {
        const cJSON *var = cJSON_GetObjectItemCaseSensitive(v->root, "variant_sec_patch_ver_0");
        assert_non_null(var);
        v->messages = cJSON_GetObjectItemCaseSensitive(var, "messages");
    } else {
        v->messages = cJSON_GetObjectItemCaseSensitive(v->root, "messages");
    }
    assert_true(cJSON_IsArray(v->messages));
    assert_true(cJSON_GetArraySize(v->messages) > 2);
}

static const char *str(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!cJSON_IsString(it))
        fail_msg("missing string '%s'", key);
    return it->valuestring;
}

static const char *input(const struct vec *v, const char *key)
{
    return str(cJSON_GetObjectItemCaseSensitive(v->root, "inputs"), key);
}

static const char *derived(const struct vec *v, const char *key)
{
    return str(cJSON_GetObjectItemCaseSensitive(v->root, "derived"), key);
}

static void assert_bytes(const uint8_t *got, size_t got_len, const char *want_hex)
{
    size_t want_len;
    uint8_t *want = test_hex(want_hex, &want_len);

    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(want);
}

/* Compares a zero-padded number with a minimal big-endian hex string. */
static void assert_number(const uint8_t *padded, size_t len, const char *want_hex)
{
    size_t off = 0;

    while (off < len && padded[off] == 0)
        off++;
    assert_bytes(padded + off, len - off, want_hex);
}

static bool is_session(const cJSON *m)
{
    return strcmp(str(m, "endpoint"), "prov-session") == 0;
}

static bool is_version(const cJSON *m)
{
    return strcmp(str(m, "endpoint"), "proto-ver") == 0;
}

/* Application messages after the handshake: decrypt requests, encrypt responses (device view). */
static void device_app_message(struct wifiprov_sec_session *s, const cJSON *m)
{
    uint8_t out[BUF_CAP];
    size_t len, out_len = 0;
    uint8_t *wire, *plain;

    wire = test_hex(str(m, "request_wire"), &len);
    assert_int_equal(wifiprov__sec_decrypt(s, wire, len, out, sizeof(out), &out_len), 0);
    assert_bytes(out, out_len, str(m, "request_plain"));
    free(wire);
    plain = test_hex(str(m, "response_plain"), &len);
    assert_int_equal(wifiprov__sec_encrypt(s, plain, len, out, sizeof(out), &out_len), 0);
    assert_bytes(out, out_len, str(m, "response_wire"));
    free(plain);
}

static void client_app_message(struct wifiprov_sec_session *s, const cJSON *m)
{
    uint8_t out[BUF_CAP];
    size_t len, out_len = 0;
    uint8_t *wire, *plain;

    plain = test_hex(str(m, "request_plain"), &len);
    assert_int_equal(wifiprov__sec_encrypt(s, plain, len, out, sizeof(out), &out_len), 0);
    assert_bytes(out, out_len, str(m, "request_wire"));
    free(plain);
    wire = test_hex(str(m, "response_wire"), &len);
    assert_int_equal(wifiprov__sec_decrypt(s, wire, len, out, sizeof(out), &out_len), 0);
    assert_bytes(out, out_len, str(m, "response_plain"));
    free(wire);
}

static void run_device(const struct vec *v, const struct wifiprov_sec_params *p, size_t patch0_iv_len)
{
    struct wifiprov_sec_session *s = NULL;
    struct fixed_rng *rng = p->random_ctx;
    enum wifiprov_sec_outcome oc = WIFIPROV_SEC_OUTCOME_NONE;
    uint8_t out[BUF_CAP];
    size_t app = 0, hs = 0;
    const cJSON *m;

    assert_int_equal(wifiprov__sec_session_new(p, &s), 0);
    if (patch0_iv_len)
        assert_int_equal(wifiprov__sec2_set_patch0_iv_len(s, patch0_iv_len), 0);
    cJSON_ArrayForEach(m, v->messages)
    {
        if (is_version(m))
            continue;
        if (is_session(m)) {
            size_t len, out_len = 0;
            uint8_t *req = test_hex(str(m, "request_wire"), &len);

            assert_false(wifiprov__sec_established(s));
            assert_int_equal(wifiprov__sec_device_handshake(s, req, len, out, sizeof(out), &out_len, &oc), 0);
            assert_bytes(out, out_len, str(m, "response_wire"));
            free(req);
            hs++;
            continue;
        }
        assert_true(wifiprov__sec_established(s));
        assert_int_equal(oc, WIFIPROV_SEC_OUTCOME_ESTABLISHED);
        device_app_message(s, m);
        app++;
    }
    assert_true(hs >= 1);
    assert_true(app >= 5);
    /* Every scripted random byte was drawn, none more. */
    assert_int_equal(rng->pos, rng->len);
    wifiprov__sec_session_free(s);
}

static void run_client(const struct vec *v, const struct wifiprov_sec_params *p)
{
    struct wifiprov_sec_session *s = NULL;
    struct fixed_rng *rng = p->random_ctx;
    uint8_t out[BUF_CAP];
    size_t out_len = 0, app = 0;
    bool started = false;
    const cJSON *m;

    assert_int_equal(wifiprov__sec_session_new(p, &s), 0);
    cJSON_ArrayForEach(m, v->messages)
    {
        if (is_version(m))
            continue;
        if (is_session(m)) {
            size_t len;
            uint8_t *resp;

            if (!started) {
                assert_int_equal(wifiprov__sec_client_start(s, out, sizeof(out), &out_len), 0);
                started = true;
            }
            /* What the client wrote last must be this step's request. */
            assert_bytes(out, out_len, str(m, "request_wire"));
            resp = test_hex(str(m, "response_wire"), &len);
            assert_int_equal(wifiprov__sec_client_step(s, resp, len, out, sizeof(out), &out_len), 0);
            free(resp);
            continue;
        }
        assert_int_equal(out_len, 0);
        assert_true(wifiprov__sec_established(s));
        client_app_message(s, m);
        app++;
    }
    assert_true(app >= 5);
    assert_int_equal(rng->pos, rng->len);
    wifiprov__sec_session_free(s);
}

/* ---- security 0 ---- */

static void sec0_device(void **state)
{
    struct wifiprov_sec_params p = {0};
    struct fixed_rng rng;
    struct vec v;

    (void)state;
    vec_load(&v, "sec0.json", false);
    fixed_rng_init(&rng);
    p.security = WIFIPROV_SECURITY_0;
    p.role = WIFIPROV_SEC_ROLE_DEVICE;
    p.random = fixed_rng_fn;
    p.random_ctx = &rng;
    run_device(&v, &p, 0);
    cJSON_Delete(v.root);
}

static void sec0_client(void **state)
{
    struct wifiprov_sec_params p = {0};
    struct fixed_rng rng;
    struct vec v;

    (void)state;
    vec_load(&v, "sec0.json", false);
    fixed_rng_init(&rng);
    p.security = WIFIPROV_SECURITY_0;
    p.role = WIFIPROV_SEC_ROLE_CLIENT;
    p.random = fixed_rng_fn;
    p.random_ctx = &rng;
    run_client(&v, &p);
    cJSON_Delete(v.root);
}

/* ---- security 1 ---- */

static void sec1_params(const struct vec *v, struct wifiprov_sec_params *p, struct fixed_rng *rng, uint8_t **pop,
                        enum wifiprov_sec_role role)
{
    size_t pop_len;

    *pop = test_hex(input(v, "pop_hex"), &pop_len);
    assert_memory_equal(*pop, input(v, "pop"), pop_len);
    memset(p, 0, sizeof(*p));
    p->security = WIFIPROV_SECURITY_1;
    p->role = role;
    p->pop = *pop;
    p->pop_len = pop_len;
    p->random = fixed_rng_fn;
    p->random_ctx = rng;
    fixed_rng_init(rng);
}

static void sec1_device(void **state)
{
    struct wifiprov_sec_params p;
    struct fixed_rng rng;
    uint8_t *pop;
    struct vec v;

    (void)state;
    vec_load(&v, "sec1.json", false);
    sec1_params(&v, &p, &rng, &pop, WIFIPROV_SEC_ROLE_DEVICE);
    /* The device draws its private key, then device_random. */
    fixed_rng_push_hex(&rng, input(&v, "device_privkey"));
    fixed_rng_push_hex(&rng, input(&v, "device_random"));
    run_device(&v, &p, 0);
    free(pop);
    cJSON_Delete(v.root);
}

static void sec1_client(void **state)
{
    struct wifiprov_sec_params p;
    struct fixed_rng rng;
    uint8_t *pop;
    struct vec v;

    (void)state;
    vec_load(&v, "sec1.json", false);
    sec1_params(&v, &p, &rng, &pop, WIFIPROV_SEC_ROLE_CLIENT);
    fixed_rng_push_hex(&rng, input(&v, "client_privkey"));
    run_client(&v, &p);
    free(pop);
    cJSON_Delete(v.root);
}

static void sec1_derived(void **state)
{
    uint8_t pub[32], shared[32], key[32], shared2[32], key2[32];
    uint8_t *cpriv, *dpriv, *cpub, *dpub, *pop;
    size_t n, pop_len;
    struct vec v;

    (void)state;
    vec_load(&v, "sec1.json", false);
    cpriv = test_hex(input(&v, "client_privkey"), &n);
    assert_int_equal(n, 32);
    dpriv = test_hex(input(&v, "device_privkey"), &n);
    assert_int_equal(n, 32);
    cpub = test_hex(derived(&v, "client_pubkey"), &n);
    dpub = test_hex(derived(&v, "device_pubkey"), &n);
    pop = test_hex(input(&v, "pop_hex"), &pop_len);

    assert_int_equal(wifiprov__x25519_public(cpriv, pub), 0);
    assert_memory_equal(pub, cpub, 32);
    assert_int_equal(wifiprov__x25519_public(dpriv, pub), 0);
    assert_memory_equal(pub, dpub, 32);
    /* Both sides derive the same secret and key. */
    assert_int_equal(wifiprov__sec1_derive_key(dpriv, cpub, pop, pop_len, shared, key), 0);
    assert_bytes(shared, 32, derived(&v, "x25519_shared_secret"));
    assert_bytes(key, 32, derived(&v, "aes_key"));
    assert_int_equal(wifiprov__sec1_derive_key(cpriv, dpub, pop, pop_len, shared2, key2), 0);
    assert_memory_equal(shared2, shared, 32);
    assert_memory_equal(key2, key, 32);
    /* Without PoP the key is the shared secret itself. */
    assert_int_equal(wifiprov__sec1_derive_key(cpriv, dpub, NULL, 0, shared2, key2), 0);
    assert_bytes(key2, 32, derived(&v, "x25519_shared_secret"));
    /* The keystream's initial counter block is device_random. */
    assert_string_equal(derived(&v, "aes_ctr_initial_counter_block"), input(&v, "device_random"));
    {
        struct wifiprov_iov iov = {pop, pop_len};
        uint8_t h[32];

        assert_int_equal(wifiprov__sha256(&iov, 1, h), 0);
        assert_bytes(h, 32, derived(&v, "sha256_pop"));
    }
    free(cpriv);
    free(dpriv);
    free(cpub);
    free(dpub);
    free(pop);
    cJSON_Delete(v.root);
}

/* ---- security 2 ---- */

struct sec2_inputs {
    uint8_t *user, *pass, *salt, *verifier;
    size_t user_len, pass_len, salt_len, verifier_len;
};

static void sec2_inputs_load(const struct vec *v, struct sec2_inputs *in)
{
    const char *user = input(v, "username");
    const char *pass = input(v, "password");

    in->user_len = strlen(user);
    in->user = malloc(in->user_len);
    memcpy(in->user, user, in->user_len);
    in->pass_len = strlen(pass);
    in->pass = malloc(in->pass_len);
    memcpy(in->pass, pass, in->pass_len);
    in->salt = test_hex(input(v, "salt"), &in->salt_len);
    in->verifier = test_hex(input(v, "verifier"), &in->verifier_len);
}

static void sec2_inputs_free(struct sec2_inputs *in)
{
    free(in->user);
    free(in->pass);
    free(in->salt);
    free(in->verifier);
}

static void sec2_run(bool variant0, enum wifiprov_sec_role role)
{
    struct wifiprov_sec_params p = {0};
    struct sec2_inputs in;
    struct fixed_rng rng;
    struct vec v;

    vec_load(&v, "sec2.json", variant0);
    sec2_inputs_load(&v, &in);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(v.root, "inputs"), "sec_patch_ver")),
                     1);
    fixed_rng_init(&rng);
    p.security = WIFIPROV_SECURITY_2;
    p.role = role;
    p.sec_patch_ver = variant0 ? 0 : 1;
    p.random = fixed_rng_fn;
    p.random_ctx = &rng;
    if (role == WIFIPROV_SEC_ROLE_DEVICE) {
        p.salt = in.salt;
        p.salt_len = in.salt_len;
        p.verifier = in.verifier;
        p.verifier_len = in.verifier_len;
        /* The device draws b at Cmd0, then at Cmd1 the nonce prefix (patch 1) or the whole IV (patch 0). */
        fixed_rng_push_hex(&rng, input(&v, "device_b"));
        fixed_rng_push_hex(&rng, input(&v, "device_nonce_prefix"));
        /*
         * The patch-0 variant was recorded with a 12-byte constant IV (prefix || 00000001),
         * where ESP-IDF's patch-0 devices draw 16 bytes: replay it with a 12-byte IV.
         */
        if (variant0)
            fixed_rng_push_hex(&rng, "00000001");
        run_device(&v, &p, variant0 ? 12 : 0);
    } else {
        p.username = in.user;
        p.username_len = in.user_len;
        p.password = in.pass;
        p.password_len = in.pass_len;
        fixed_rng_push_hex(&rng, input(&v, "client_a"));
        run_client(&v, &p);
    }
    sec2_inputs_free(&in);
    cJSON_Delete(v.root);
}

static void sec2_device(void **state)
{
    (void)state;
    sec2_run(false, WIFIPROV_SEC_ROLE_DEVICE);
}

static void sec2_client(void **state)
{
    (void)state;
    sec2_run(false, WIFIPROV_SEC_ROLE_CLIENT);
}

static void sec2_patch0_device(void **state)
{
    (void)state;
    sec2_run(true, WIFIPROV_SEC_ROLE_DEVICE);
}

static void sec2_patch0_client(void **state)
{
    (void)state;
    sec2_run(true, WIFIPROV_SEC_ROLE_CLIENT);
}

static void sec2_derived(void **state)
{
    struct wifiprov_srp *srp = NULL;
    struct sec2_inputs in;
    uint8_t x[64], v_pad[384], a_pub[384], b_pub[384], u[64], s_dev[384], s_cli[384], k[64], m1[64], m2[64];
    uint8_t *a, *b, *n;
    size_t a_len, b_len, n_len, b_off = 0;
    struct vec v;

    (void)state;
    vec_load(&v, "sec2.json", false);
    sec2_inputs_load(&v, &in);
    a = test_hex(input(&v, "client_a"), &a_len);
    b = test_hex(input(&v, "device_b"), &b_len);
    assert_int_equal(a_len, 32);
    assert_int_equal(b_len, 32);
    /* The vector's a has bit 255 set, as the client forces it. */
    assert_true(a[0] & 0x80);

    assert_int_equal(wifiprov__srp_new(&wifiprov__srp_group_3072, &srp), 0);
    n = test_hex(derived(&v, "N"), &n_len);
    assert_int_equal(n_len, wifiprov__srp_n_len(srp));
    assert_memory_equal(n, wifiprov__srp_group_3072.n, n_len);
    assert_int_equal((int)cJSON_GetNumberValue(
                         cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v.root, "derived"), "g")),
                     (int)wifiprov__srp_group_3072.g);
    assert_bytes(wifiprov__srp_k(srp), wifiprov__srp_hash_len(srp), derived(&v, "k"));

    assert_int_equal(wifiprov__srp_x(srp, in.salt, in.salt_len, in.user, in.user_len, in.pass, in.pass_len, x), 0);
    assert_bytes(x, 64, derived(&v, "x"));
    assert_int_equal(wifiprov__srp_verifier(srp, x, 64, v_pad), 0);
    assert_number(v_pad, 384, input(&v, "verifier"));

    assert_int_equal(wifiprov__srp_public_a(srp, a, a_len, a_pub), 0);
    assert_number(a_pub, 384, derived(&v, "A"));
    assert_int_equal(wifiprov__srp_public_b(srp, b, b_len, in.verifier, in.verifier_len, b_pub), 0);
    assert_number(b_pub, 384, derived(&v, "B"));
    while (b_pub[b_off] == 0)
        b_off++;

    assert_int_equal(wifiprov__srp_u(srp, a_pub, 384, b_pub + b_off, 384 - b_off, u), 0);
    assert_bytes(u, 64, derived(&v, "u"));
    assert_int_equal(wifiprov__srp_server_s(srp, a_pub, 384, in.verifier, in.verifier_len, u, 64, b, b_len, s_dev), 0);
    assert_number(s_dev, 384, derived(&v, "S"));
    assert_int_equal(wifiprov__srp_client_s(srp, b_pub + b_off, 384 - b_off, x, 64, u, 64, a, a_len, s_cli), 0);
    assert_memory_equal(s_cli, s_dev, 384);

    assert_int_equal(wifiprov__srp_key(srp, s_dev, 384, k), 0);
    assert_bytes(k, 64, derived(&v, "K_shared_secret"));
    assert_bytes(k, 32, derived(&v, "session_key"));
    assert_int_equal(wifiprov__srp_m1(srp, in.user, in.user_len, in.salt, in.salt_len, a_pub, 384, b_pub + b_off,
                                      384 - b_off, k, 64, m1),
                     0);
    assert_bytes(m1, 64, derived(&v, "client_proof_M"));
    assert_int_equal(wifiprov__srp_m2(srp, a_pub, 384, m1, k, 64, m2), 0);
    assert_bytes(m2, 64, derived(&v, "device_proof_H_AMK"));

    wifiprov__srp_free(srp);
    free(n);
    free(a);
    free(b);
    sec2_inputs_free(&in);
    cJSON_Delete(v.root);
}

/* ---- PROTOCOL.md Appendix A.2 and A.3: a second, independent set of transcripts ---- */

struct transcript_msg {
    const char *req_wire, *resp_wire;
    const char *req_plain, *resp_plain; /* NULL for prov-session messages */
};

/* A.2: security 1, PoP "abcd1234"; keys of PROTOCOL.md §12.2. */
static const struct transcript_msg appendix_a2[] = {
    /* prov-session Cmd0/Resp0 */
    {"10015a25a201220a20e22bef28f7dccbe4541d9066c2c8a3786b963b6e1488b2454309999d71a1dc47",
     "10015a390801aa01341220ef52040f3f162cba951cbbb90c980a802928df85606bccc5c399d9b2df1cc3111a10767d84"
     "8b9299a0a7aeb5bcc3cad1d8df",
     NULL, NULL},
    /* prov-session Cmd1/Resp1 */
    {"10015a270802b201221220470b772e6c023a47ca1ae7d107480898d8f41db23b77ec415ec2ac3623b2faca",
     "10015a270803ba01221a204833a3851a33270cbae92cd378e0a860b96aa1a5ab00e2b6b563b92475c83692", NULL, NULL},
    /* prov-config SetConfig ssid='myssid' passphrase='mypassword' */
    {"1583c846a8503d7c70e7ec75943f5b86b75d77c2753c414e", "b401cea0", "080262140a066d7973736964120a6d7970617373776f7264",
     "08036a00"},
    /* prov-config ApplyConfig */
    {"2ddb", "2b8387db", "0804", "08057a00"},
    /* prov-config GetStatus -> Connecting */
    {"c587", "eba3b0080ebc", "5200", "08015a021001"},
    /* prov-config GetStatus -> Connecting + attempt_failed{3} */
    {"e2dc", "46006ea9e3cf328bc580", "5200", "08015a06100162020803"},
    /* prov-config GetStatus -> Connected */
    {"de35", "dc8c0de2358583230ac1a35d5f928790ccc0b4f9a9391ebcf22bf9fbc055aea979ce58f09911617e", "5200",
     "08015a245a220a0c3139322e3136382e312e343210031a066d79737369642206788a208419962806"},
    /* prov-config GetStatus -> ConnectionFailed/AuthError */
    {"2f79", "1aefcc938b8fdc4e", "5200", "08015a0410035000"},
    /* prov-config GetStatus -> ConnectionFailed/NetworkNotFound */
    {"2522", "fbfff76bf450d8da", "5200", "08015a0410035001"},
    /* prov-scan ScanStart{blocking, period 120} */
    {"9ace63517456", "377e2408", "520408012078", "08015a00"},
    /* prov-scan ScanStatus -> finished, 2 */
    {"7696", "a1789bca7ad9beb4", "0802", "08036a0408011002"},
    /* prov-scan ScanResult{0,2} */
    {"d25288f515b8",
     "279d0eac3d671b1ee5852f7d700ed91b5c59f05fddf9c5d4b5fab46b9810a1c4b2ffefd05ad5d510154a1d8b1a59fb19"
     "d6ea2e65bb595ef2c3e1586f2c711f5ba9dcb0d79c4317d658c136b4f3c63c002247",
     "080472021002",
     "08057a4e0a250a0c4d79486f6d65576946694150100118d3ffffffffffffffff012206788a2084199628030a250a0e49"
     "6e736563757265576946694150100718b6ffffffffffffffff012206dca4caf1227c"},
    /* prov-ctrl Reset */
    {"a257", "7b3a9a9c", "0801", "08026200"},
    /* custom-data 'hello' -> 'SUCCESS\0' */
    {"375b93cd8c", "713d00ac67d6dc39", "68656c6c6f", "5355434345535300"},
};

/* A.3: security 2, patch 1, wifiprov / abcd1234; b and the nonce prefix of §12.2. */
static const struct transcript_msg appendix_a3[] = {
    /* prov-session Cmd0/Resp0 */
    {"1002629103a2018d030a087769666970726f761280036e08063dfd1a6bbfc6422fe2f5209c65cddc53c28a93df8dc9ff"
     "e34cf4d873fd86e9c24ac84f1c3d5d73a6bd640636923360a0cc2b5b4f82933238b9b3e691648b37077c944dc502b789"
     "642efccb565de76a54f73c2a2a9284af59b29c8eea47434d62c67699b4072b08d287df798ee6186f467cf6a8bcb90d64"
     "be509d979d1d8643945f16412f940a48dd68b42782d0ab7e486de6d72c84ab3fe49c9bb7e071ce0b60e9bf4c4925e518"
     "4f5a4b9ad09e2f3d0676dcf5b057821b44f7f172962c12d23d57ddea9ed9acbb945a9ccd6a36f49d15f591004ad8ece7"
     "e147ace5c7e0db8d13fdc7baa737d875ae518d08f6b3ae5a703472fdfe1d2459a79e33a46a615bbc24ad7069e5ac2c5a"
     "e10b8a6a296e052ac49174e7730ed1b7225eed43d8b82c28d7aa4d06826de2768b3a434719363d6a4e2fea50fa62dc5d"
     "02a64c0c1aefd0fe664476b1f7da1e329db6da7dfb395be32611a5423c74a8fff54d7a33642e87a5723df5985cada6d9"
     "af2cc1e71af17c1b00858526a3df0b866fcb67dc6307",
     "1002629b030801aa019503128003d020c4ffb93c79dee9a9ac4099a5d33ee0abbbb4c44430c11e570b59a46e79dc3b4b"
     "1ae24dea139f68d5523b873a35ae68e4961ff7597ad811762fcfb7c4f6db113c996e0804ea2f47aeb1ed2780f9077419"
     "4a087c6d1681674946966f16bb1affe2d93833ae4126e70fae530d0f2bfd949665b773fb68615ed3e2ec888237b2d006"
     "f3f6b6c2907f1f80a04dc9c67e76d26ec94abd26a8ce6c06646e85842b2c3fe48fa2c6f4decdc702c18a62fcbdadf0ec"
     "1dc0319afdc58ab800c5de645b723f1fa5a96161622d11c5091bebe9a66e20bc33c386bc5dddb86aae07175093389e1c"
     "37067b16e8f92b8c3dfaf8c6879597dcd5b8276b59da8662ecfa03a419a424d9e7aea806f05f8ea2c9b522121f94e023"
     "73f69208d00bcef2a4ef841ea1fc1507a5ae45df5c45ae5abd25b92c24d69ecc3f946535ecacbb12dca2a33a4d1ad7b6"
     "782d1ccb0e0ec0704b7e5a47479c8b113cf775a6943565265824753eaecc51bf083d7e6c242dc63f6164950223b2880a"
     "948d55d74fe111cb60a934919cb11a10036ee0c7bcb9eda84c9eac97d93decf4",
     NULL, NULL},
    /* prov-session Cmd1/Resp1 */
    {"100262470802b201420a40a9341e693de13a8b6b1cd643c79d54d42e54f31aa20d9cfe25db186f9d0f474c81b4742fbe"
     "aa61143f0e6f9dd77de95bf481c202ecca5b4c37f832cad1f34e99",
     "100262550803ba01501240f539a707d38581f7d73dcd6dafa7b8545d5acf9d263c9238dd9d019428098de8bcf7066bc2"
     "dccf26ddb6715241875078f95c75baa78fada579764ad02fbaabcd1a0c01080f161d242b3200000001",
     NULL, NULL},
    /* prov-config SetConfig ssid='myssid' passphrase='mypassword' */
    {"08b982e24d76d0a7410abc2c1d82c152ff951f6b1a0492ada37336ffba06e7a09cd4337aca620f55",
     "e42155683e1200493f79ccd9aea93ffbc7d2ac09", "080262140a066d7973736964120a6d7970617373776f7264", "08036a00"},
    /* prov-config ApplyConfig */
    {"7d6ab1c2b252dc35276bab79d7b3b31c6fd5", "6aba842895a602b824c23650f5f493a3ec71f3ea", "0804", "08057a00"},
    /* prov-config GetStatus -> Connecting */
    {"b7a0e6b2337109e78b7b2fa7f5cc6ba89e5e", "dd4eff9f1404bf564dcabc467e38082c6a77338012f9", "5200", "08015a021001"},
    /* prov-config GetStatus -> Connecting + attempt_failed{3} */
    {"d2e4dff5bbd6d7cea6edf685db5d6afb3dfa", "0a9511c3d7326e4cfda572fc530a167c13ebfc48e7b1e8c20cc2", "5200",
     "08015a06100162020803"},
    /* prov-config GetStatus -> Connected */
    {"864b4bd9c21b5cdfe8e95f1fbc47fb5d474d",
     "4f3829451a366474596f1093e5fd8e0458a1d403b0a97f951f46c7e0e89ce318ae0661808973fff450176a26e9f98fea"
     "45b92f16aad01310",
     "5200", "08015a245a220a0c3139322e3136382e312e343210031a066d79737369642206788a208419962806"},
    /* prov-config GetStatus -> ConnectionFailed/AuthError */
    {"7a4ceffea7766c6fa9c561b54a15eaebba47", "939e9d7ccb7277c06c6ab93eb9d54d6845134e175f94457b", "5200",
     "08015a0410035000"},
    /* prov-config GetStatus -> ConnectionFailed/NetworkNotFound */
    {"964b1869448be5e059a4f4a967e506df695c", "f8937f6fef771d9c30560368f53fe4c69d8463ea4ffbb502", "5200",
     "08015a0410035001"},
    /* prov-scan ScanStart{blocking, period 120} */
    {"bef605ef5b4768fd66dff821744f705984d02d2518cc", "3ae0d71050d6b4e77f40ec0ea30e712fbf39c9e4", "520408012078",
     "08015a00"},
    /* prov-scan ScanStatus -> finished, 2 */
    {"ca07a5b14b113043ffe95584d13055726b66", "a62e4e7ea61d06cf9b6025865dc084d808f9e0624f99e12e", "0802",
     "08036a0408011002"},
    /* prov-scan ScanResult{0,2} */
    {"81ef9f0d5f0aa8af0056b35e3cc1f525c749e9e383b4",
     "a7087155e2a2fb65a0aab9c4905467ab83d4ba5887561ef4a81d273c62d6c23ea5b89dc5a6c9b518e9c5b7447340a4c1"
     "9a35158e64c25102b00d2a14c17322a77b0ee7edde19e97d1273f6462cae79cdeb8a2aea0a2d9d96c9e2995a6d953b77"
     "9460",
     "080472021002",
     "08057a4e0a250a0c4d79486f6d65576946694150100118d3ffffffffffffffff012206788a2084199628030a250a0e49"
     "6e736563757265576946694150100718b6ffffffffffffffff012206dca4caf1227c"},
    /* prov-ctrl Reset */
    {"e9cd3ef906ab3e8e51c941f8748460af0c7e", "193b3851d96a4c2bcc5946e1b1171ad210a93573", "0801", "08026200"},
    /* custom-data 'hello' -> 'SUCCESS\0' */
    {"05822474eaa8de699da1c88e5267e0b9e55b04a8e5", "18b315f6c3434bdd8c78429301b0c920f4f34453e73656c7", "68656c6c6f",
     "5355434345535300"},
};

static void replay_device(const struct transcript_msg *t, size_t n, const struct wifiprov_sec_params *p)
{
    struct wifiprov_sec_session *s = NULL;
    struct fixed_rng *rng = p->random_ctx;
    enum wifiprov_sec_outcome oc;
    uint8_t out[BUF_CAP];
    size_t i, len, out_len;
    uint8_t *in;

    assert_int_equal(wifiprov__sec_session_new(p, &s), 0);
    for (i = 0; i < n; i++) {
        in = test_hex(t[i].req_wire, &len);
        if (!t[i].req_plain) {
            assert_int_equal(wifiprov__sec_device_handshake(s, in, len, out, sizeof(out), &out_len, &oc), 0);
            assert_bytes(out, out_len, t[i].resp_wire);
            free(in);
            continue;
        }
        assert_int_equal(wifiprov__sec_decrypt(s, in, len, out, sizeof(out), &out_len), 0);
        assert_bytes(out, out_len, t[i].req_plain);
        free(in);
        in = test_hex(t[i].resp_plain, &len);
        assert_int_equal(wifiprov__sec_encrypt(s, in, len, out, sizeof(out), &out_len), 0);
        assert_bytes(out, out_len, t[i].resp_wire);
        free(in);
    }
    assert_int_equal(rng->pos, rng->len);
    wifiprov__sec_session_free(s);
}

static void replay_client(const struct transcript_msg *t, size_t n, const struct wifiprov_sec_params *p)
{
    struct wifiprov_sec_session *s = NULL;
    uint8_t out[BUF_CAP];
    size_t i, len, out_len = 0;
    uint8_t *in;

    assert_int_equal(wifiprov__sec_session_new(p, &s), 0);
    assert_int_equal(wifiprov__sec_client_start(s, out, sizeof(out), &out_len), 0);
    for (i = 0; i < n; i++) {
        if (!t[i].req_plain) {
            assert_bytes(out, out_len, t[i].req_wire);
            in = test_hex(t[i].resp_wire, &len);
            assert_int_equal(wifiprov__sec_client_step(s, in, len, out, sizeof(out), &out_len), 0);
            free(in);
            continue;
        }
        assert_true(wifiprov__sec_established(s));
        in = test_hex(t[i].req_plain, &len);
        assert_int_equal(wifiprov__sec_encrypt(s, in, len, out, sizeof(out), &out_len), 0);
        assert_bytes(out, out_len, t[i].req_wire);
        free(in);
        in = test_hex(t[i].resp_wire, &len);
        assert_int_equal(wifiprov__sec_decrypt(s, in, len, out, sizeof(out), &out_len), 0);
        assert_bytes(out, out_len, t[i].resp_plain);
        free(in);
    }
    wifiprov__sec_session_free(s);
}

static void appendix_a2_device(void **state)
{
    struct wifiprov_sec_params p = {0};
    struct fixed_rng rng;

    (void)state;
    fixed_rng_init(&rng);
    fixed_rng_push_hex(&rng, "70f470ed69e662df5bd854d14dca46c33fbc38b531ae2aa723a01c9915920e4b");
    fixed_rng_push_hex(&rng, "767d848b9299a0a7aeb5bcc3cad1d8df");
    p.security = WIFIPROV_SECURITY_1;
    p.role = WIFIPROV_SEC_ROLE_DEVICE;
    p.pop = (const uint8_t *)"abcd1234";
    p.pop_len = 8;
    p.random = fixed_rng_fn;
    p.random_ctx = &rng;
    replay_device(appendix_a2, WIFIPROV_ARRAY_SIZE(appendix_a2), &p);
}

static void appendix_a2_client(void **state)
{
    struct wifiprov_sec_params p = {0};
    struct fixed_rng rng;

    (void)state;
    fixed_rng_init(&rng);
    fixed_rng_push_hex(&rng, "a01111111111111111111111111111111111111111111111111111111111114f");
    p.security = WIFIPROV_SECURITY_1;
    p.role = WIFIPROV_SEC_ROLE_CLIENT;
    p.pop = (const uint8_t *)"abcd1234";
    p.pop_len = 8;
    p.random = fixed_rng_fn;
    p.random_ctx = &rng;
    replay_client(appendix_a2, WIFIPROV_ARRAY_SIZE(appendix_a2), &p);
}

/*
 * Only the device role of A.3 can be replayed: its client secret a = 0x1011... lacks bit 255,
 * which our client (like esp_prov) always sets.
 */
static void appendix_a3_device(void **state)
{
    static const char salt_hex[] = "036ee0c7bcb9eda84c9eac97d93decf4";
    struct wifiprov_sec_params p = {0};
    struct fixed_rng rng;
    uint8_t *salt, *verifier;
    size_t salt_len, verifier_len;
    struct vec v;

    (void)state;
    /* The same example verifier as sec2.json. */
    vec_load(&v, "sec2.json", false);
    assert_string_equal(input(&v, "salt"), salt_hex);
    salt = test_hex(salt_hex, &salt_len);
    verifier = test_hex(input(&v, "verifier"), &verifier_len);
    fixed_rng_init(&rng);
    fixed_rng_push_hex(&rng, "21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa");
    fixed_rng_push_hex(&rng, "01080f161d242b32");
    p.security = WIFIPROV_SECURITY_2;
    p.role = WIFIPROV_SEC_ROLE_DEVICE;
    p.salt = salt;
    p.salt_len = salt_len;
    p.verifier = verifier;
    p.verifier_len = verifier_len;
    p.sec_patch_ver = 1;
    p.random = fixed_rng_fn;
    p.random_ctx = &rng;
    replay_device(appendix_a3, WIFIPROV_ARRAY_SIZE(appendix_a3), &p);
    free(salt);
    free(verifier);
    cJSON_Delete(v.root);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sec0_device),        cmocka_unit_test(sec0_client),
        cmocka_unit_test(sec1_device),        cmocka_unit_test(sec1_client),
        cmocka_unit_test(sec1_derived),       cmocka_unit_test(sec2_device),
        cmocka_unit_test(sec2_client),        cmocka_unit_test(sec2_derived),
        cmocka_unit_test(sec2_patch0_device), cmocka_unit_test(sec2_patch0_client),
        cmocka_unit_test(appendix_a2_device), cmocka_unit_test(appendix_a2_client),
        cmocka_unit_test(appendix_a3_device),
    };

    return TEST_RUN("sec_vectors", tests, argc, argv);
}
