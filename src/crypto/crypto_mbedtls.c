/*
 * Crypto backend on Mbed TLS (2.28 LTS; the few renamed 3.x functions are
 * selected by version). This is the backend a microcontroller build uses, so
 * it only includes Mbed TLS and standard C headers.
 *
 * X25519 goes through the generic ECP module: the wire form is the RFC 7748
 * little-endian u-coordinate, which mbedtls_ecp_point_read_binary() and
 * _write_binary() handle for Montgomery curves (including masking bit 255 of
 * the peer's coordinate); the scalar is clamped here and read little-endian.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mbedtls/version.h"

#include "mbedtls/aes.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/gcm.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"

#include "crypto/crypto.h"
#include "util.h"
#include "wifiprov/error.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define sha1_starts(c) mbedtls_sha1_starts(c)
#define sha1_update(c, d, n) mbedtls_sha1_update(c, d, n)
#define sha1_finish(c, o) mbedtls_sha1_finish(c, o)
#define sha256_starts(c) mbedtls_sha256_starts(c, 0)
#define sha256_update(c, d, n) mbedtls_sha256_update(c, d, n)
#define sha256_finish(c, o) mbedtls_sha256_finish(c, o)
#define sha512_starts(c) mbedtls_sha512_starts(c, 0)
#define sha512_update(c, d, n) mbedtls_sha512_update(c, d, n)
#define sha512_finish(c, o) mbedtls_sha512_finish(c, o)
#else
#define sha1_starts(c) mbedtls_sha1_starts_ret(c)
#define sha1_update(c, d, n) mbedtls_sha1_update_ret(c, d, n)
#define sha1_finish(c, o) mbedtls_sha1_finish_ret(c, o)
#define sha256_starts(c) mbedtls_sha256_starts_ret(c, 0)
#define sha256_update(c, d, n) mbedtls_sha256_update_ret(c, d, n)
#define sha256_finish(c, o) mbedtls_sha256_finish_ret(c, o)
#define sha512_starts(c) mbedtls_sha512_starts_ret(c, 0)
#define sha512_update(c, d, n) mbedtls_sha512_update_ret(c, d, n)
#define sha512_finish(c, o) mbedtls_sha512_finish_ret(c, o)
#endif

const char *wifiprov__crypto_backend(void)
{
    return "mbedtls " MBEDTLS_VERSION_STRING;
}

/* Maps an Mbed TLS error code; allocation failures keep their meaning. */
static int mbed_err(const char *what, int rc)
{
    if (rc == MBEDTLS_ERR_MPI_ALLOC_FAILED
#ifdef MBEDTLS_ERR_ECP_ALLOC_FAILED
        || rc == MBEDTLS_ERR_ECP_ALLOC_FAILED
#endif
    )
        return WIFIPROV_ERR_NOMEM;
    wifiprov__dbg("crypto: %s failed (mbedtls -0x%04x)", what, (unsigned)-rc);
    return WIFIPROV_ERR_CRYPTO;
}

/* ---- random ---------------------------------------------------------------- */

/*
 * One DRBG for the process, seeded on first use. Prediction resistance reseeds it
 * from the entropy source on every request: random bytes are drawn only a few
 * times per handshake, and this keeps a forked process from repeating its parent's
 * output. The lazy start is not thread-safe; the first call must not race.
 */
static struct {
    bool ready;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} rng;

static int rng_ready(void)
{
    static const unsigned char pers[] = "wifiprov";
    int rc;

    if (rng.ready)
        return 0;
    mbedtls_entropy_init(&rng.entropy);
    mbedtls_ctr_drbg_init(&rng.drbg);
    rc = mbedtls_ctr_drbg_seed(&rng.drbg, mbedtls_entropy_func, &rng.entropy, pers, sizeof(pers) - 1);
    if (rc) {
        mbedtls_ctr_drbg_free(&rng.drbg);
        mbedtls_entropy_free(&rng.entropy);
        return mbed_err("CTR_DRBG seed", rc);
    }
    mbedtls_ctr_drbg_set_prediction_resistance(&rng.drbg, MBEDTLS_CTR_DRBG_PR_ON);
    rng.ready = true;
    return 0;
}

static int rng_fn(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    while (len > 0) {
        size_t n = WIFIPROV_MIN(len, (size_t)MBEDTLS_CTR_DRBG_MAX_REQUEST);
        int rc = mbedtls_ctr_drbg_random(&rng.drbg, buf, n);

        if (rc)
            return rc;
        buf += n;
        len -= n;
    }
    return 0;
}

int wifiprov__crypto_random(uint8_t *buf, size_t len)
{
    int rc = rng_ready();

    if (rc)
        return rc;
    rc = rng_fn(NULL, buf, len);
    return rc ? mbed_err("CTR_DRBG", rc) : 0;
}

/* ---- hashes ---------------------------------------------------------------- */

int wifiprov__sha1(const struct wifiprov_iov *iov, size_t n, uint8_t out[20])
{
    mbedtls_sha1_context c;
    size_t i;
    int rc;

    mbedtls_sha1_init(&c);
    rc = sha1_starts(&c);
    for (i = 0; !rc && i < n; i++)
        rc = sha1_update(&c, iov[i].data, iov[i].len);
    if (!rc)
        rc = sha1_finish(&c, out);
    mbedtls_sha1_free(&c);
    return rc ? mbed_err("SHA-1", rc) : 0;
}

int wifiprov__sha256(const struct wifiprov_iov *iov, size_t n, uint8_t out[32])
{
    mbedtls_sha256_context c;
    size_t i;
    int rc;

    mbedtls_sha256_init(&c);
    rc = sha256_starts(&c);
    for (i = 0; !rc && i < n; i++)
        rc = sha256_update(&c, iov[i].data, iov[i].len);
    if (!rc)
        rc = sha256_finish(&c, out);
    mbedtls_sha256_free(&c);
    return rc ? mbed_err("SHA-256", rc) : 0;
}

int wifiprov__sha512(const struct wifiprov_iov *iov, size_t n, uint8_t out[64])
{
    mbedtls_sha512_context c;
    size_t i;
    int rc;

    mbedtls_sha512_init(&c);
    rc = sha512_starts(&c);
    for (i = 0; !rc && i < n; i++)
        rc = sha512_update(&c, iov[i].data, iov[i].len);
    if (!rc)
        rc = sha512_finish(&c, out);
    mbedtls_sha512_free(&c);
    return rc ? mbed_err("SHA-512", rc) : 0;
}

/* ---- X25519 ---------------------------------------------------------------- */

/* A loaded curve and a clamped private key. */
struct wifiprov_x25519 {
    mbedtls_ecp_group grp;
    mbedtls_mpi d;
};

static void x25519_init(struct wifiprov_x25519 *k)
{
    mbedtls_ecp_group_init(&k->grp);
    mbedtls_mpi_init(&k->d);
}

static void x25519_clear(struct wifiprov_x25519 *k)
{
    mbedtls_mpi_free(&k->d); /* wipes the limbs */
    mbedtls_ecp_group_free(&k->grp);
}

static int x25519_load(struct wifiprov_x25519 *k, const uint8_t priv[32])
{
    uint8_t c[32];
    int ret, rc;

    /* RFC 7748 5: clear the three low bits and bit 255, set bit 254. */
    memcpy(c, priv, 32);
    c[0] &= 248;
    c[31] &= 127;
    c[31] |= 64;
    ret = rng_ready(); /* ecp_mul randomizes its projective coordinates */
    if (ret)
        goto out;
    rc = mbedtls_ecp_group_load(&k->grp, MBEDTLS_ECP_DP_CURVE25519);
    if (!rc)
        rc = mbedtls_mpi_read_binary_le(&k->d, c, sizeof(c));
    if (rc)
        ret = mbed_err("X25519 key", rc);
out:
    wifiprov_memzero(c, sizeof(c));
    return ret;
}

/* out = X25519(k, u), where u is the base point when @p peer is NULL. */
static int x25519_mul(struct wifiprov_x25519 *k, const uint8_t *peer, uint8_t out[32])
{
    mbedtls_ecp_point p, q;
    size_t olen = 0;
    uint8_t acc = 0;
    int ret = 0, rc, i;

    mbedtls_ecp_point_init(&p);
    mbedtls_ecp_point_init(&q);
    rc = 0;
    /* For Montgomery curves this reads the little-endian u and masks bit 255. */
    if (peer)
        rc = mbedtls_ecp_point_read_binary(&k->grp, &p, peer, 32);
    if (!rc)
        rc = mbedtls_ecp_mul(&k->grp, &q, &k->d, peer ? &p : &k->grp.G, rng_fn, NULL);
    if (!rc)
        rc = mbedtls_ecp_point_write_binary(&k->grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, out, 32);
    if (!rc && olen != 32)
        rc = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
    if (rc) {
        /* A low-order peer point is refused here by Mbed TLS already. */
        ret = mbed_err("X25519", rc);
        goto out;
    }
    for (i = 0; i < 32; i++)
        acc |= out[i];
    if (acc == 0)
        ret = WIFIPROV_ERR_CRYPTO;
out:
    if (ret)
        wifiprov_memzero(out, 32);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_point_free(&p);
    return ret;
}

static int x25519(const uint8_t priv[32], const uint8_t *peer, uint8_t out[32])
{
    struct wifiprov_x25519 k;
    int ret;

    x25519_init(&k);
    ret = x25519_load(&k, priv);
    if (!ret)
        ret = x25519_mul(&k, peer, out);
    else
        wifiprov_memzero(out, 32);
    x25519_clear(&k);
    return ret;
}

int wifiprov__x25519_public(const uint8_t priv[32], uint8_t pub[32])
{
    return x25519(priv, NULL, pub);
}

int wifiprov__x25519_shared(const uint8_t priv[32], const uint8_t peer_pub[32], uint8_t out[32])
{
    return x25519(priv, peer_pub, out);
}

int wifiprov__x25519_new(const uint8_t priv[32], uint8_t pub[32], struct wifiprov_x25519 **out)
{
    struct wifiprov_x25519 *k;
    int ret;

    *out = NULL;
    k = wifiprov__malloc(sizeof(*k));
    if (!k)
        return WIFIPROV_ERR_NOMEM;
    x25519_init(k);
    ret = x25519_load(k, priv);
    if (ret)
        goto out;
    ret = x25519_mul(k, NULL, pub);
    if (ret)
        goto out;
    *out = k;
    k = NULL;
out:
    wifiprov__x25519_free(k);
    return ret;
}

int wifiprov__x25519_derive(struct wifiprov_x25519 *k, const uint8_t peer_pub[32], uint8_t out[32])
{
    if (!k || !peer_pub) {
        wifiprov_memzero(out, 32);
        return WIFIPROV_ERR_INVAL;
    }
    return x25519_mul(k, peer_pub, out);
}

void wifiprov__x25519_free(struct wifiprov_x25519 *k)
{
    if (!k)
        return;
    x25519_clear(k);
    wifiprov__free_secret(k, sizeof(*k));
}

/* ---- AES-256-CTR ----------------------------------------------------------- */

/* The position inside the current keystream block survives between calls. */
struct wifiprov_ctr {
    mbedtls_aes_context aes;
    unsigned char counter[16];
    unsigned char block[16];
    size_t off;
};

int wifiprov__ctr_new(const uint8_t key[32], const uint8_t iv[16], struct wifiprov_ctr **out)
{
    struct wifiprov_ctr *ctr;
    int rc;

    *out = NULL;
    ctr = wifiprov__calloc(1, sizeof(*ctr));
    if (!ctr)
        return WIFIPROV_ERR_NOMEM;
    mbedtls_aes_init(&ctr->aes);
    rc = mbedtls_aes_setkey_enc(&ctr->aes, key, 256);
    if (rc) {
        wifiprov__ctr_free(ctr);
        return mbed_err("AES key", rc);
    }
    memcpy(ctr->counter, iv, 16);
    ctr->off = 0;
    *out = ctr;
    return 0;
}

int wifiprov__ctr_crypt(struct wifiprov_ctr *ctr, const uint8_t *in, uint8_t *out, size_t len)
{
    int rc;

    if (!ctr || (len && (!in || !out)))
        return WIFIPROV_ERR_INVAL;
    if (len == 0)
        return 0;
    rc = mbedtls_aes_crypt_ctr(&ctr->aes, len, &ctr->off, ctr->counter, ctr->block, in, out);
    return rc ? mbed_err("AES-CTR", rc) : 0;
}

void wifiprov__ctr_free(struct wifiprov_ctr *ctr)
{
    if (!ctr)
        return;
    mbedtls_aes_free(&ctr->aes);
    wifiprov__free_secret(ctr, sizeof(*ctr));
}

/* ---- AES-256-GCM ----------------------------------------------------------- */

struct wifiprov_gcm {
    mbedtls_gcm_context gcm;
};

int wifiprov__gcm_new(const uint8_t key[32], struct wifiprov_gcm **out)
{
    struct wifiprov_gcm *g;
    int rc;

    *out = NULL;
    g = wifiprov__calloc(1, sizeof(*g));
    if (!g)
        return WIFIPROV_ERR_NOMEM;
    mbedtls_gcm_init(&g->gcm);
    rc = mbedtls_gcm_setkey(&g->gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
    if (rc) {
        wifiprov__gcm_free(g);
        return mbed_err("AES-GCM key", rc);
    }
    *out = g;
    return 0;
}

static bool gcm_args_ok(const struct wifiprov_gcm *gcm, const uint8_t *iv, size_t iv_len, const uint8_t *in,
                        size_t len, const uint8_t *out, const uint8_t *tag)
{
    /* The OpenSSL backend's limit, kept here so both backends behave the same. */
    return gcm && iv && iv_len >= 1 && iv_len <= WIFIPROV_GCM_IV_MAX && tag && (len == 0 || (in && out));
}

int wifiprov__gcm_encrypt(struct wifiprov_gcm *gcm, const uint8_t *iv, size_t iv_len, const uint8_t *in,
                          size_t len, uint8_t *out, uint8_t tag[16])
{
    int rc;

    if (!gcm_args_ok(gcm, iv, iv_len, in, len, out, tag))
        return WIFIPROV_ERR_INVAL;
    rc = mbedtls_gcm_crypt_and_tag(&gcm->gcm, MBEDTLS_GCM_ENCRYPT, len, iv, iv_len, NULL, 0, in, out, 16, tag);
    if (rc) {
        if (len)
            wifiprov_memzero(out, len);
        return mbed_err("AES-GCM encrypt", rc);
    }
    return 0;
}

int wifiprov__gcm_decrypt(struct wifiprov_gcm *gcm, const uint8_t *iv, size_t iv_len, const uint8_t *in,
                          size_t len, const uint8_t tag[16], uint8_t *out)
{
    int rc;

    if (!gcm_args_ok(gcm, iv, iv_len, in, len, out, tag))
        return WIFIPROV_ERR_INVAL;
    rc = mbedtls_gcm_auth_decrypt(&gcm->gcm, len, iv, iv_len, NULL, 0, tag, 16, in, out);
    if (rc == 0)
        return 0;
    if (len)
        wifiprov_memzero(out, len);
    /* A wrong tag is the peer's doing, not a library failure: no log. */
    return rc == MBEDTLS_ERR_GCM_AUTH_FAILED ? WIFIPROV_ERR_AUTH : mbed_err("AES-GCM decrypt", rc);
}

void wifiprov__gcm_free(struct wifiprov_gcm *gcm)
{
    if (!gcm)
        return;
    mbedtls_gcm_free(&gcm->gcm);
    wifiprov__free_secret(gcm, sizeof(*gcm));
}

/* ---- big numbers ------------------------------------------------------------ */

struct wifiprov_bn {
    mbedtls_mpi m;
};

/*
 * Scratch values reused across calls (their limbs stay allocated), and R^2 mod N
 * for the last modulus given to mod_exp, which Mbed TLS can reuse.
 */
struct wifiprov_bn_ctx {
    mbedtls_mpi t;
    mbedtls_mpi rr;
    mbedtls_mpi rr_mod;
    bool rr_valid;
};

int wifiprov__bn_ctx_new(struct wifiprov_bn_ctx **out)
{
    struct wifiprov_bn_ctx *ctx = wifiprov__calloc(1, sizeof(*ctx));

    *out = ctx;
    if (!ctx)
        return WIFIPROV_ERR_NOMEM;
    mbedtls_mpi_init(&ctx->t);
    mbedtls_mpi_init(&ctx->rr);
    mbedtls_mpi_init(&ctx->rr_mod);
    return 0;
}

void wifiprov__bn_ctx_free(struct wifiprov_bn_ctx *ctx)
{
    if (!ctx)
        return;
    mbedtls_mpi_free(&ctx->t); /* wipes the limbs */
    mbedtls_mpi_free(&ctx->rr);
    mbedtls_mpi_free(&ctx->rr_mod);
    wifiprov__free(ctx);
}

int wifiprov__bn_new(struct wifiprov_bn **out)
{
    struct wifiprov_bn *bn = wifiprov__malloc(sizeof(*bn));

    *out = bn;
    if (!bn)
        return WIFIPROV_ERR_NOMEM;
    mbedtls_mpi_init(&bn->m);
    return 0;
}

void wifiprov__bn_free(struct wifiprov_bn *bn)
{
    if (!bn)
        return;
    mbedtls_mpi_free(&bn->m);
    wifiprov__free(bn);
}

int wifiprov__bn_from_bin(struct wifiprov_bn *bn, const uint8_t *buf, size_t len)
{
    static const uint8_t none[1] = {0};
    int rc;

    if (!bn || (len && !buf))
        return WIFIPROV_ERR_INVAL;
    rc = mbedtls_mpi_read_binary(&bn->m, len ? buf : none, len);
    return rc ? mbed_err("mpi_read_binary", rc) : 0;
}

size_t wifiprov__bn_num_bytes(const struct wifiprov_bn *bn)
{
    return mbedtls_mpi_size(&bn->m);
}

int wifiprov__bn_to_bin_pad(const struct wifiprov_bn *bn, uint8_t *buf, size_t len)
{
    int rc;

    if (mbedtls_mpi_size(&bn->m) > len)
        return WIFIPROV_ERR_NOSPC;
    if (len == 0)
        return 0;
    rc = mbedtls_mpi_write_binary(&bn->m, buf, len);
    if (rc == MBEDTLS_ERR_MPI_BUFFER_TOO_SMALL)
        return WIFIPROV_ERR_NOSPC;
    return rc ? mbed_err("mpi_write_binary", rc) : 0;
}

int wifiprov__bn_set_word(struct wifiprov_bn *bn, uint32_t w)
{
    /* Through bytes: mbedtls_mpi_lset() takes a signed limb, 32 bits on small targets. */
    const uint8_t b[4] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};

    return wifiprov__bn_from_bin(bn, b, sizeof(b));
}

bool wifiprov__bn_is_zero(const struct wifiprov_bn *bn)
{
    return mbedtls_mpi_cmp_int(&bn->m, 0) == 0;
}

int wifiprov__bn_cmp(const struct wifiprov_bn *a, const struct wifiprov_bn *b)
{
    int c = mbedtls_mpi_cmp_mpi(&a->m, &b->m);

    return c < 0 ? -1 : c > 0 ? 1 : 0;
}

static bool modulus_ok(const struct wifiprov_bn *m)
{
    return mbedtls_mpi_cmp_int(&m->m, 0) > 0;
}

int wifiprov__bn_mod(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *m,
                     struct wifiprov_bn_ctx *ctx)
{
    int rc;

    (void)ctx;
    if (!modulus_ok(m))
        return WIFIPROV_ERR_INVAL;
    rc = mbedtls_mpi_mod_mpi(&r->m, &a->m, &m->m);
    return rc ? mbed_err("mpi_mod_mpi", rc) : 0;
}

int wifiprov__bn_mod_add(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx)
{
    int rc;

    if (!modulus_ok(m))
        return WIFIPROV_ERR_INVAL;
    rc = mbedtls_mpi_add_mpi(&ctx->t, &a->m, &b->m);
    if (!rc)
        rc = mbedtls_mpi_mod_mpi(&r->m, &ctx->t, &m->m);
    return rc ? mbed_err("mod_add", rc) : 0;
}

int wifiprov__bn_mod_sub(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx)
{
    int rc;

    if (!modulus_ok(m))
        return WIFIPROV_ERR_INVAL;
    /* The signed difference; mbedtls_mpi_mod_mpi() returns a value in [0, m). */
    rc = mbedtls_mpi_sub_mpi(&ctx->t, &a->m, &b->m);
    if (!rc)
        rc = mbedtls_mpi_mod_mpi(&r->m, &ctx->t, &m->m);
    return rc ? mbed_err("mod_sub", rc) : 0;
}

int wifiprov__bn_mod_mul(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx)
{
    int rc;

    if (!modulus_ok(m))
        return WIFIPROV_ERR_INVAL;
    rc = mbedtls_mpi_mul_mpi(&ctx->t, &a->m, &b->m);
    if (!rc)
        rc = mbedtls_mpi_mod_mpi(&r->m, &ctx->t, &m->m);
    return rc ? mbed_err("mod_mul", rc) : 0;
}

int wifiprov__bn_mod_exp(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *e,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx)
{
    int rc;

    if (!modulus_ok(m) || mbedtls_mpi_get_bit(&m->m, 0) != 1)
        return WIFIPROV_ERR_INVAL;
    if (ctx->rr_valid && mbedtls_mpi_cmp_mpi(&ctx->rr_mod, &m->m) != 0) {
        /* An empty rr makes Mbed TLS compute R^2 mod m again and store it there. */
        mbedtls_mpi_free(&ctx->rr);
        mbedtls_mpi_init(&ctx->rr);
        ctx->rr_valid = false;
    }
    if (!ctx->rr_valid) {
        rc = mbedtls_mpi_copy(&ctx->rr_mod, &m->m);
        if (rc)
            return mbed_err("mpi_copy", rc);
    }
    rc = mbedtls_mpi_exp_mod(&r->m, &a->m, &e->m, &m->m, &ctx->rr);
    if (rc) {
        mbedtls_mpi_free(&ctx->rr);
        mbedtls_mpi_init(&ctx->rr);
        ctx->rr_valid = false;
        return mbed_err("mpi_exp_mod", rc);
    }
    ctx->rr_valid = true;
    return 0;
}

int wifiprov__bn_mul(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                     struct wifiprov_bn_ctx *ctx)
{
    int rc;

    (void)ctx;
    rc = mbedtls_mpi_mul_mpi(&r->m, &a->m, &b->m);
    return rc ? mbed_err("mpi_mul_mpi", rc) : 0;
}

int wifiprov__bn_add(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b)
{
    int rc = mbedtls_mpi_add_mpi(&r->m, &a->m, &b->m);

    return rc ? mbed_err("mpi_add_mpi", rc) : 0;
}

/*
 * No table here: Mbed TLS's exponentiation is the fallback, so results (and the
 * constant-time behaviour) are those of wifiprov__bn_mod_exp(). A microcontroller
 * could not spare the memory of a table anyway.
 */
struct wifiprov_bn_fixed_base {
    struct wifiprov_bn base;
    struct wifiprov_bn m;
};

int wifiprov__bn_fixed_base_new(const struct wifiprov_bn *base, const struct wifiprov_bn *m, size_t max_exp_bits,
                                bool secret_exponents, struct wifiprov_bn_ctx *ctx, struct wifiprov_bn_fixed_base **out)
{
    struct wifiprov_bn_fixed_base *fb;
    int ret = 0, rc;

    (void)secret_exponents;
    *out = NULL;
    /* The same arguments as the OpenSSL backend accepts. */
    if (!base || !m || !ctx || mbedtls_mpi_get_bit(&m->m, 0) != 1 || mbedtls_mpi_cmp_int(&m->m, 1) <= 0 ||
        mbedtls_mpi_bitlen(&m->m) > 4096 || max_exp_bits < 1 || max_exp_bits > 4096)
        return WIFIPROV_ERR_INVAL;
    fb = wifiprov__malloc(sizeof(*fb));
    if (!fb)
        return WIFIPROV_ERR_NOMEM;
    mbedtls_mpi_init(&fb->base.m);
    mbedtls_mpi_init(&fb->m.m);
    rc = mbedtls_mpi_copy(&fb->m.m, &m->m);
    if (!rc)
        rc = mbedtls_mpi_mod_mpi(&fb->base.m, &base->m, &m->m);
    if (rc) {
        ret = mbed_err("fixed base", rc);
        goto out;
    }
    *out = fb;
    fb = NULL;
out:
    wifiprov__bn_fixed_base_free(fb);
    return ret;
}

int wifiprov__bn_fixed_base_exp(struct wifiprov_bn *r, const struct wifiprov_bn_fixed_base *fb,
                                const struct wifiprov_bn *e, bool secret_exponent, struct wifiprov_bn_ctx *ctx)
{
    (void)secret_exponent;
    if (!r || !fb || !e || !ctx)
        return WIFIPROV_ERR_INVAL;
    return wifiprov__bn_mod_exp(r, &fb->base, e, &fb->m, ctx);
}

size_t wifiprov__bn_fixed_base_size(const struct wifiprov_bn_fixed_base *fb)
{
    (void)fb;
    return 0;
}

void wifiprov__bn_fixed_base_free(struct wifiprov_bn_fixed_base *fb)
{
    if (!fb)
        return;
    mbedtls_mpi_free(&fb->base.m);
    mbedtls_mpi_free(&fb->m.m);
    wifiprov__free(fb);
}

bool wifiprov__ct_equal(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a;
    const volatile uint8_t *y = b;
    uint8_t d = 0;
    size_t i;

    for (i = 0; i < len; i++)
        d |= (uint8_t)(x[i] ^ y[i]);
    return d == 0;
}
