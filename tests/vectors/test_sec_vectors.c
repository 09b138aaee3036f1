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
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(v.root, "derived"), "g")),
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
    assert_int_equal(wifiprov__srp_server_s(srp, a_pub, 384, in.verifier, in.verifier_len, u, 64, b, b_len, s_dev),
                     0);
    assert_number(s_dev, 384, derived(&v, "S"));
    assert_int_equal(wifiprov__srp_client_s(srp, b_pub + b_off, 384 - b_off, x, 64, u, 64, a, a_len, s_cli), 0);
    assert_memory_equal(s_cli, s_dev, 384);

    assert_int_equal(wifiprov__srp_key(srp, s_dev, 384, k), 0);
    assert_bytes(k, 64, derived(&v, "K_shared_secret"));
    assert_bytes(k, 32, derived(&v, "session_key"));
    assert_int_equal(wifiprov__srp_m1(srp, in.user, in.user_len, in.salt, in.salt_len, a_pub, 384, b_pub + b_off,
                                      384 - b_off, k, m1),
                     0);
    assert_bytes(m1, 64, derived(&v, "client_proof_M"));
    assert_int_equal(wifiprov__srp_m2(srp, a_pub, 384, m1, k, m2), 0);
    assert_bytes(m2, 64, derived(&v, "device_proof_H_AMK"));

    wifiprov__srp_free(srp);
    free(n);
    free(a);
    free(b);
    sec2_inputs_free(&in);
    cJSON_Delete(v.root);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sec0_device),        cmocka_unit_test(sec0_client),   cmocka_unit_test(sec1_device),
        cmocka_unit_test(sec1_client),        cmocka_unit_test(sec1_derived),  cmocka_unit_test(sec2_device),
        cmocka_unit_test(sec2_client),        cmocka_unit_test(sec2_derived),  cmocka_unit_test(sec2_patch0_device),
        cmocka_unit_test(sec2_patch0_client),
    };

    return TEST_RUN("sec_vectors", tests, argc, argv);
}
