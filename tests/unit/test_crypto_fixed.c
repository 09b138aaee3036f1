/*
 * Tests of the crypto interface's precomputed objects (src/crypto/crypto.h):
 * fixed-base exponentiation, which must give exactly what wifiprov__bn_mod_exp()
 * gives, for secret and public exponents, edge exponents, exponents longer than
 * the table covers and odd table shapes; SRP-6a with the device's precomputed
 * tables, which must give the same B and S; and the kept X25519 key, which must
 * agree with wifiprov__x25519_public()/_shared(). The same file runs against
 * whichever backend the build selected (the Mbed TLS backend has no table and
 * must still give the same results).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "sec/srp6a.h"
#include "testutil.h"
#include "util.h"
#include "wifiprov/error.h"

struct fixture {
    struct wifiprov_bn_ctx *ctx;
    struct wifiprov_bn *m, *base, *e, *want, *got;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f || wifiprov__bn_ctx_new(&f->ctx) || wifiprov__bn_new(&f->m) || wifiprov__bn_new(&f->base) ||
        wifiprov__bn_new(&f->e) || wifiprov__bn_new(&f->want) || wifiprov__bn_new(&f->got))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    wifiprov__bn_free(f->m);
    wifiprov__bn_free(f->base);
    wifiprov__bn_free(f->e);
    wifiprov__bn_free(f->want);
    wifiprov__bn_free(f->got);
    wifiprov__bn_ctx_free(f->ctx);
    free(f);
    return 0;
}

static void set_n3072(struct fixture *f)
{
    assert_int_equal(wifiprov__bn_from_bin(f->m, wifiprov__srp_group_3072.n, wifiprov__srp_group_3072.n_len), 0);
}

/* A random number below 2^bits (bits > 0), with its top bit set when @p full. */
static void random_exp(struct wifiprov_bn *e, size_t bits, bool full)
{
    uint8_t b[600];
    size_t n = (bits + 7) / 8;

    assert_true(n <= sizeof(b));
    assert_int_equal(wifiprov__crypto_random(b, n), 0);
    if (bits % 8)
        b[0] &= (uint8_t)((1u << (bits % 8)) - 1);
    if (full)
        b[0] |= (uint8_t)(1u << ((bits - 1) % 8));
    assert_int_equal(wifiprov__bn_from_bin(e, b, n), 0);
}

/* e = 2^bits - 1 (bits >= 0). */
static void all_ones(struct wifiprov_bn *e, size_t bits)
{
    uint8_t b[600];
    size_t n = (bits + 7) / 8;

    assert_true(n <= sizeof(b));
    memset(b, 0xff, n);
    if (n && bits % 8)
        b[0] = (uint8_t)((1u << (bits % 8)) - 1);
    assert_int_equal(wifiprov__bn_from_bin(e, b, n), 0);
}

/* e = 2^bit. */
static void power_of_two(struct wifiprov_bn *e, size_t bit)
{
    uint8_t b[600];
    size_t n = bit / 8 + 1;

    assert_true(n <= sizeof(b));
    memset(b, 0, n);
    b[0] = (uint8_t)(1u << (bit % 8));
    assert_int_equal(wifiprov__bn_from_bin(e, b, n), 0);
}

/* Checks fb against wifiprov__bn_mod_exp() for f->e, with both exponent kinds. */
static void check(struct fixture *f, const struct wifiprov_bn_fixed_base *fb)
{
    assert_int_equal(wifiprov__bn_mod_exp(f->want, f->base, f->e, f->m, f->ctx), 0);
    assert_int_equal(wifiprov__bn_set_word(f->got, 7), 0);
    assert_int_equal(wifiprov__bn_fixed_base_exp(f->got, fb, f->e, true, f->ctx), 0);
    assert_int_equal(wifiprov__bn_cmp(f->got, f->want), 0);
    assert_int_equal(wifiprov__bn_set_word(f->got, 7), 0);
    assert_int_equal(wifiprov__bn_fixed_base_exp(f->got, fb, f->e, false, f->ctx), 0);
    assert_int_equal(wifiprov__bn_cmp(f->got, f->want), 0);
}

/* The edge exponents of a table for @p max_bits-bit exponents, then random ones. */
static void check_table(struct fixture *f, size_t max_bits, bool secret, unsigned n_random)
{
    struct wifiprov_bn_fixed_base *fb = NULL;
    size_t bits;
    unsigned i;

    assert_int_equal(wifiprov__bn_fixed_base_new(f->base, f->m, max_bits, secret, f->ctx, &fb), 0);
    assert_non_null(fb);
    assert_int_equal(wifiprov__bn_set_word(f->e, 0), 0);
    check(f, fb);
    assert_int_equal(wifiprov__bn_set_word(f->e, 1), 0);
    check(f, fb);
    assert_int_equal(wifiprov__bn_set_word(f->e, 2), 0);
    check(f, fb);
    all_ones(f->e, max_bits);
    check(f, fb);
    all_ones(f->e, max_bits - 1);
    check(f, fb);
    power_of_two(f->e, max_bits - 1);
    check(f, fb);
    /* Longer than the table was made for: still right (computed another way). */
    power_of_two(f->e, max_bits);
    check(f, fb);
    all_ones(f->e, max_bits + 1);
    check(f, fb);
    all_ones(f->e, max_bits + 64);
    check(f, fb);
    random_exp(f->e, max_bits + 200, true);
    check(f, fb);
    for (i = 0; i < n_random; i++) {
        bits = 1 + (size_t)i * 37 % max_bits;
        random_exp(f->e, i % 2 ? max_bits : bits, i % 3 != 0);
        check(f, fb);
    }
    wifiprov__bn_fixed_base_free(fb);
}

/* The SRP generator of the 3072-bit group with 256-bit secret exponents (the device's b). */
static void fixed_g_secret(void **state)
{
    struct fixture *f = *state;

    set_n3072(f);
    assert_int_equal(wifiprov__bn_set_word(f->base, 5), 0);
    check_table(f, 256, true, 12);
}

/* A random 3072-bit base with 512-bit public exponents (the verifier and u). */
static void fixed_v_public(void **state)
{
    struct fixture *f = *state;

    set_n3072(f);
    random_exp(f->base, 3071, true);
    check_table(f, 512, false, 12);
}

/* A base larger than the modulus is reduced first. */
static void fixed_base_unreduced(void **state)
{
    struct fixture *f = *state;
    uint8_t b[400];

    set_n3072(f);
    memset(b, 0xff, sizeof(b));
    assert_int_equal(wifiprov__bn_from_bin(f->base, b, sizeof(b)), 0);
    check_table(f, 100, true, 4);
}

/* Odd shapes: exponent sizes that do not split evenly into rows and blocks. */
static void fixed_odd_shapes(void **state)
{
    static const size_t sizes[] = {1, 2, 3, 5, 7, 8, 9, 13, 31, 63, 64, 65, 127, 129, 255, 257, 511, 513, 1000};
    struct fixture *f = *state;
    size_t i;

    /* RFC 5054's 1024-bit prime (N of the SHA-1 vectors) as a second modulus. */
    static const char n1024[] =
        "eeaf0ab9adb38dd69c33f80afa8fc5e86072618775ff3c0b9ea2314c9c256576d674df7496ea81d3383b4813d692c"
        "6e0e0d5d8e250b98be48e495c1d6089dad15dc7d7b46154d6b6ce8ef4ad69b15d4982559b297bcf1885c529f566660"
        "e57ec68edbc3c05726cc02fd4cbf4976eaa9afd5138fe8376435b9fc61d2fc0eb06e3";
    uint8_t nb[128];
    size_t n = 0;

    assert_int_equal(wifiprov__hex_decode(n1024, nb, sizeof(nb), &n), 0);
    assert_int_equal(n, sizeof(nb));
    assert_int_equal(wifiprov__bn_from_bin(f->m, nb, n), 0);
    assert_int_equal(wifiprov__bn_set_word(f->base, 2), 0);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(sizes); i++) {
        check_table(f, sizes[i], true, 2);
        check_table(f, sizes[i], false, 2);
    }
}

/* A small odd modulus whose byte length is not a multiple of 8, and a base of 0. */
static void fixed_small_modulus(void **state)
{
    struct fixture *f = *state;
    static const uint8_t m[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d}; /* odd, 73 bits */

    assert_int_equal(wifiprov__bn_from_bin(f->m, m, sizeof(m)), 0);
    assert_int_equal(wifiprov__bn_set_word(f->base, 3), 0);
    check_table(f, 80, true, 6);
    check_table(f, 80, false, 6);
    assert_int_equal(wifiprov__bn_set_word(f->base, 0), 0);
    check_table(f, 16, true, 2);
}

static void fixed_bad_args(void **state)
{
    struct fixture *f = *state;
    struct wifiprov_bn_fixed_base *fb = (void *)&fb;
    uint8_t big[513];

    assert_int_equal(wifiprov__bn_set_word(f->base, 5), 0);
    assert_int_equal(wifiprov__bn_set_word(f->m, 1000), 0); /* even */
    assert_int_equal(wifiprov__bn_fixed_base_new(f->base, f->m, 256, true, f->ctx, &fb), WIFIPROV_ERR_INVAL);
    assert_null(fb);
    assert_int_equal(wifiprov__bn_set_word(f->m, 1), 0);
    assert_int_equal(wifiprov__bn_fixed_base_new(f->base, f->m, 256, true, f->ctx, &fb), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__bn_set_word(f->m, 0), 0);
    assert_int_equal(wifiprov__bn_fixed_base_new(f->base, f->m, 256, true, f->ctx, &fb), WIFIPROV_ERR_INVAL);
    memset(big, 0xff, sizeof(big)); /* 4104 bits */
    assert_int_equal(wifiprov__bn_from_bin(f->m, big, sizeof(big)), 0);
    assert_int_equal(wifiprov__bn_fixed_base_new(f->base, f->m, 256, true, f->ctx, &fb), WIFIPROV_ERR_INVAL);
    set_n3072(f);
    assert_int_equal(wifiprov__bn_fixed_base_new(f->base, f->m, 0, true, f->ctx, &fb), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__bn_fixed_base_new(f->base, f->m, 4097, false, f->ctx, &fb), WIFIPROV_ERR_INVAL);
    assert_null(fb);
    assert_int_equal(wifiprov__bn_fixed_base_new(NULL, f->m, 256, true, f->ctx, &fb), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__bn_fixed_base_exp(f->got, NULL, f->e, true, f->ctx), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__bn_fixed_base_size(NULL), 0);
    wifiprov__bn_fixed_base_free(NULL);
}

/* One table used from two contexts in turn gives the same results (it is read-only). */
static void fixed_two_contexts(void **state)
{
    struct fixture *f = *state;
    struct wifiprov_bn_fixed_base *fb = NULL;
    struct wifiprov_bn_ctx *ctx2 = NULL;
    struct wifiprov_bn *r2 = NULL;
    unsigned i;

    set_n3072(f);
    assert_int_equal(wifiprov__bn_set_word(f->base, 5), 0);
    assert_int_equal(wifiprov__bn_fixed_base_new(f->base, f->m, 256, true, f->ctx, &fb), 0);
    assert_int_equal(wifiprov__bn_ctx_new(&ctx2), 0);
    assert_int_equal(wifiprov__bn_new(&r2), 0);
    if (TEST_CRYPTO_OPENSSL)
        assert_true(wifiprov__bn_fixed_base_size(fb) > 0);
    else
        assert_int_equal(wifiprov__bn_fixed_base_size(fb), 0);
    for (i = 0; i < 4; i++) {
        random_exp(f->e, 256, false);
        assert_int_equal(wifiprov__bn_fixed_base_exp(f->got, fb, f->e, true, f->ctx), 0);
        assert_int_equal(wifiprov__bn_fixed_base_exp(r2, fb, f->e, i % 2 == 0, ctx2), 0);
        assert_int_equal(wifiprov__bn_cmp(f->got, r2), 0);
        assert_int_equal(wifiprov__bn_mod_exp(f->want, f->base, f->e, f->m, ctx2), 0);
        assert_int_equal(wifiprov__bn_cmp(f->got, f->want), 0);
    }
    wifiprov__bn_free(r2);
    wifiprov__bn_ctx_free(ctx2);
    wifiprov__bn_fixed_base_free(fb);
}

/* ---- SRP-6a with the device's precomputation ------------------------------------ */

/* B and S with the tables are those without, for v's own tables and for another v. */
static void srp_precomp_same_results(void **state)
{
    const struct wifiprov_srp_group *grp = &wifiprov__srp_group_3072;
    struct wifiprov_srp *plain = NULL, *fast = NULL;
    struct wifiprov_srp_precomp *pre = NULL;
    uint8_t v[384], v2[384], a[32], b[32], x[64], a_pub[384], u[64];
    uint8_t b1[384], b2[384], s1[384], s2[384];
    unsigned i;

    (void)state;
    assert_int_equal(wifiprov__srp_new(grp, &plain), 0);
    assert_int_equal(wifiprov__srp_new(grp, &fast), 0);
    assert_int_equal(wifiprov__crypto_random(x, sizeof(x)), 0);
    assert_int_equal(wifiprov__srp_verifier(plain, x, sizeof(x), v), 0);
    x[0] ^= 1;
    assert_int_equal(wifiprov__srp_verifier(plain, x, sizeof(x), v2), 0);
    assert_int_equal(wifiprov__srp_precomp_new(grp, v, sizeof(v), sizeof(b), &pre), 0);
    if (TEST_CRYPTO_OPENSSL)
        assert_true(wifiprov__srp_precomp_size(pre) > 100000);
    assert_int_equal(wifiprov__srp_use_precomp(fast, pre), 0);
    for (i = 0; i < 6; i++) {
        const uint8_t *vv = i % 3 == 2 ? v2 : v;

        assert_int_equal(wifiprov__crypto_random(a, sizeof(a)), 0);
        assert_int_equal(wifiprov__crypto_random(b, sizeof(b)), 0);
        if (i == 1)
            memset(b, 0, 31); /* a short b */
        assert_int_equal(wifiprov__srp_public_a(plain, a, sizeof(a), a_pub), 0);
        assert_int_equal(wifiprov__srp_public_b(plain, b, sizeof(b), vv, 384, b1), 0);
        assert_int_equal(wifiprov__srp_public_b(fast, b, sizeof(b), vv, 384, b2), 0);
        assert_memory_equal(b1, b2, 384);
        assert_int_equal(wifiprov__srp_u(plain, a_pub, 384, b1, 384, u), 0);
        assert_int_equal(wifiprov__srp_server_s(plain, a_pub, 384, vv, 384, u, sizeof(u), b, sizeof(b), s1), 0);
        assert_int_equal(wifiprov__srp_server_s(fast, a_pub, 384, vv, 384, u, sizeof(u), b, sizeof(b), s2), 0);
        assert_memory_equal(s1, s2, 384);
    }
    /* A longer b than the table was made for, and v given with leading zero bytes. */
    {
        uint8_t b64[64], vz[390];

        assert_int_equal(wifiprov__crypto_random(b64, sizeof(b64)), 0);
        memset(vz, 0, 6);
        memcpy(vz + 6, v, 384);
        assert_int_equal(wifiprov__srp_public_b(plain, b64, sizeof(b64), v, 384, b1), 0);
        assert_int_equal(wifiprov__srp_public_b(fast, b64, sizeof(b64), v, 384, b2), 0);
        assert_memory_equal(b1, b2, 384);
        assert_int_equal(wifiprov__srp_server_s(plain, a_pub, 384, v, 384, u, sizeof(u), b64, sizeof(b64), s1), 0);
        assert_int_equal(wifiprov__srp_server_s(fast, a_pub, 384, vz, sizeof(vz), u, sizeof(u), b64, sizeof(b64), s2),
                         0);
        assert_memory_equal(s1, s2, 384);
    }
    assert_int_equal(wifiprov__srp_use_precomp(fast, NULL), 0);
    wifiprov__srp_precomp_free(pre);
    wifiprov__srp_free(fast);
    wifiprov__srp_free(plain);
}

static void srp_precomp_bad_args(void **state)
{
    static const struct wifiprov_srp_group g1024 = {
        .n = (const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xf1",
        .n_len = 16,
        .g = 2,
        .hash = WIFIPROV_SRP_HASH_SHA1,
    };
    const struct wifiprov_srp_group *grp = &wifiprov__srp_group_3072;
    struct wifiprov_srp_precomp *pre = (void *)&pre;
    struct wifiprov_srp *other = NULL;
    uint8_t v[384];

    (void)state;
    memset(v, 0, sizeof(v));
    assert_int_equal(wifiprov__srp_precomp_new(grp, v, sizeof(v), 32, &pre), WIFIPROV_ERR_INVAL); /* 0 */
    assert_null(pre);
    assert_int_equal(wifiprov__srp_precomp_new(grp, grp->n, grp->n_len, 32, &pre), WIFIPROV_ERR_INVAL); /* N */
    memset(v, 0xff, sizeof(v));
    assert_int_equal(wifiprov__srp_precomp_new(grp, v, sizeof(v), 32, &pre), WIFIPROV_ERR_INVAL); /* > N */
    v[0] = 1;
    assert_int_equal(wifiprov__srp_precomp_new(grp, v, sizeof(v), 0, &pre), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__srp_precomp_new(grp, NULL, 0, 32, &pre), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__srp_precomp_new(grp, v, sizeof(v), 32, &pre), 0);
    /* Tables for one group are refused by a computation in another. */
    assert_int_equal(wifiprov__srp_new(&g1024, &other), 0);
    assert_int_equal(wifiprov__srp_use_precomp(other, pre), WIFIPROV_ERR_INVAL);
    wifiprov__srp_free(other);
    wifiprov__srp_precomp_free(pre);
    wifiprov__srp_precomp_free(NULL);
    assert_int_equal(wifiprov__srp_precomp_size(NULL), 0);
}

/* ---- the kept X25519 key ------------------------------------------------------- */

static void unhex(const char *hex, uint8_t *out, size_t len)
{
    size_t n = 0;

    assert_int_equal(wifiprov__hex_decode(hex, out, len, &n), 0);
    assert_int_equal(n, len);
}

/* RFC 7748 6.1: both sides with kept keys get the published public keys and secret. */
static void x25519_kept_rfc7748(void **state)
{
    uint8_t a[32], b[32], a_pub[32], b_pub[32], want[32], k1[32], k2[32], pub[32];
    struct wifiprov_x25519 *ka = NULL, *kb = NULL;

    (void)state;
    unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
    unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
    unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", a_pub, 32);
    unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", b_pub, 32);
    unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", want, 32);
    assert_int_equal(wifiprov__x25519_new(a, pub, &ka), 0);
    assert_memory_equal(pub, a_pub, 32);
    assert_int_equal(wifiprov__x25519_new(b, pub, &kb), 0);
    assert_memory_equal(pub, b_pub, 32);
    assert_int_equal(wifiprov__x25519_derive(ka, b_pub, k1), 0);
    assert_int_equal(wifiprov__x25519_derive(kb, a_pub, k2), 0);
    assert_memory_equal(k1, want, 32);
    assert_memory_equal(k2, want, 32);
    /* A key derives again with the same result. */
    assert_int_equal(wifiprov__x25519_derive(ka, b_pub, k1), 0);
    assert_memory_equal(k1, want, 32);
    wifiprov__x25519_free(ka);
    wifiprov__x25519_free(kb);
    wifiprov__x25519_free(NULL);
}

/* Random keys: the object agrees with the one-shot functions. */
static void x25519_kept_vs_oneshot(void **state)
{
    uint8_t priv[32], peer[32], peer_pub[32], pub[32], pub2[32], k1[32], k2[32];
    struct wifiprov_x25519 *k = NULL;
    unsigned i;

    (void)state;
    for (i = 0; i < 8; i++) {
        assert_int_equal(wifiprov__crypto_random(priv, 32), 0);
        assert_int_equal(wifiprov__crypto_random(peer, 32), 0);
        assert_int_equal(wifiprov__x25519_public(peer, peer_pub), 0);
        assert_int_equal(wifiprov__x25519_new(priv, pub, &k), 0);
        assert_int_equal(wifiprov__x25519_public(priv, pub2), 0);
        assert_memory_equal(pub, pub2, 32);
        assert_int_equal(wifiprov__x25519_derive(k, peer_pub, k1), 0);
        assert_int_equal(wifiprov__x25519_shared(priv, peer_pub, k2), 0);
        assert_memory_equal(k1, k2, 32);
        wifiprov__x25519_free(k);
        k = NULL;
    }
}

/* Low-order peer points give WIFIPROV_ERR_CRYPTO and a wiped output; the key stays usable. */
static void x25519_kept_low_order(void **state)
{
    static const char *const pts[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p */
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 */
        "0000000000000000000000000000000000000000000000000000000000000080", /* 0, top bit set */
    };
    static const uint8_t zero[32];
    uint8_t priv[32], pub[32], u[32], out[32];
    struct wifiprov_x25519 *k = NULL;
    size_t i;

    (void)state;
    unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", priv, 32);
    assert_int_equal(wifiprov__x25519_new(priv, pub, &k), 0);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(pts); i++) {
        unhex(pts[i], u, 32);
        memset(out, 0xaa, sizeof(out));
        assert_int_equal(wifiprov__x25519_derive(k, u, out), WIFIPROV_ERR_CRYPTO);
        assert_memory_equal(out, zero, 32);
    }
    assert_int_equal(wifiprov__x25519_derive(k, pub, out), 0);
    wifiprov__x25519_free(k);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fixed_g_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(fixed_v_public, setup, teardown),
        cmocka_unit_test_setup_teardown(fixed_base_unreduced, setup, teardown),
        cmocka_unit_test_setup_teardown(fixed_odd_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(fixed_small_modulus, setup, teardown),
        cmocka_unit_test_setup_teardown(fixed_bad_args, setup, teardown),
        cmocka_unit_test_setup_teardown(fixed_two_contexts, setup, teardown),
        cmocka_unit_test(srp_precomp_same_results),
        cmocka_unit_test(srp_precomp_bad_args),
        cmocka_unit_test(x25519_kept_rfc7748),
        cmocka_unit_test(x25519_kept_vs_oneshot),
        cmocka_unit_test(x25519_kept_low_order),
    };

    return TEST_RUN("crypto_fixed", tests, argc, argv);
}
