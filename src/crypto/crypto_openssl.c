/*
 * Crypto backend on OpenSSL libcrypto (1.1.1 or 3.x).
 *
 * Big numbers are OpenSSL BIGNUMs handed out as opaque pointers, so creating
 * one costs a single allocation. The bignum context caches the Montgomery form
 * of the last modulus used for exponentiation, because SRP-6a raises many
 * values to secret powers modulo the same 3072-bit prime.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>

#include "crypto/crypto.h"
#include "util.h"
#include "wifiprov/error.h"

/* Hands over at most this many bytes to an OpenSSL call taking an int length. */
#define CHUNK_MAX ((size_t)1 << 30)

const char *wifiprov__crypto_backend(void)
{
#ifdef OPENSSL_VERSION_STR
    return "openssl " OPENSSL_VERSION_STR;
#else
    return OPENSSL_VERSION_TEXT;
#endif
}

/*
 * Drops OpenSSL's queued errors so they never surface in an unrelated caller,
 * and logs the first one (error strings never carry key material).
 */
static int ossl_fail(const char *what, int err)
{
    unsigned long e = ERR_get_error();

    if (wifiprov__log_enabled(WIFIPROV_LOG_LEVEL_DEBUG)) {
        char buf[160];

        buf[0] = '\0';
        if (e)
            ERR_error_string_n(e, buf, sizeof(buf));
        wifiprov__dbg("crypto: %s failed%s%s", what, buf[0] ? ": " : "", buf);
    }
    ERR_clear_error();
    return err;
}

int wifiprov__crypto_random(uint8_t *buf, size_t len)
{
    while (len > 0) {
        size_t n = WIFIPROV_MIN(len, CHUNK_MAX);

        if (RAND_bytes(buf, (int)n) != 1)
            return ossl_fail("RAND_bytes", WIFIPROV_ERR_CRYPTO);
        buf += n;
        len -= n;
    }
    return 0;
}

/* ---- hashes ---------------------------------------------------------------- */

static int digest(const EVP_MD *md, const struct wifiprov_iov *iov, size_t n, uint8_t *out)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ret = WIFIPROV_ERR_CRYPTO;
    size_t i;

    if (!c)
        return WIFIPROV_ERR_NOMEM;
    if (!md || EVP_DigestInit_ex(c, md, NULL) != 1)
        goto out;
    for (i = 0; i < n; i++) {
        if (iov[i].len && EVP_DigestUpdate(c, iov[i].data, iov[i].len) != 1)
            goto out;
    }
    if (EVP_DigestFinal_ex(c, out, NULL) != 1)
        goto out;
    ret = 0;
out:
    EVP_MD_CTX_free(c);
    if (ret)
        ret = ossl_fail("digest", ret);
    return ret;
}

int wifiprov__sha1(const struct wifiprov_iov *iov, size_t n, uint8_t out[20])
{
    return digest(EVP_sha1(), iov, n, out);
}

int wifiprov__sha256(const struct wifiprov_iov *iov, size_t n, uint8_t out[32])
{
    return digest(EVP_sha256(), iov, n, out);
}

int wifiprov__sha512(const struct wifiprov_iov *iov, size_t n, uint8_t out[64])
{
    return digest(EVP_sha512(), iov, n, out);
}

/* ---- X25519 ---------------------------------------------------------------- */

int wifiprov__x25519_public(const uint8_t priv[32], uint8_t pub[32])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
    size_t len = 32;
    int ret = 0;

    if (!k)
        return ossl_fail("X25519 key", WIFIPROV_ERR_CRYPTO);
    if (EVP_PKEY_get_raw_public_key(k, pub, &len) != 1 || len != 32)
        ret = ossl_fail("X25519 public key", WIFIPROV_ERR_CRYPTO);
    EVP_PKEY_free(k);
    return ret;
}

int wifiprov__x25519_shared(const uint8_t priv[32], const uint8_t peer_pub[32], uint8_t out[32])
{
    EVP_PKEY *k = NULL, *peer = NULL;
    EVP_PKEY_CTX *pc = NULL;
    size_t len = 32;
    uint8_t acc = 0;
    int ret = WIFIPROV_ERR_CRYPTO;
    int i;

    k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
    peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, 32);
    if (!k || !peer)
        goto out;
    pc = EVP_PKEY_CTX_new(k, NULL);
    if (!pc) {
        ret = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    /* OpenSSL itself refuses an all-zero result (low-order peer point). */
    if (EVP_PKEY_derive_init(pc) != 1 || EVP_PKEY_derive_set_peer(pc, peer) != 1 ||
        EVP_PKEY_derive(pc, out, &len) != 1 || len != 32)
        goto out;
    for (i = 0; i < 32; i++)
        acc |= out[i];
    if (acc == 0)
        goto out;
    ret = 0;
out:
    if (ret) {
        wifiprov_memzero(out, 32);
        ret = ossl_fail("X25519 shared secret", ret);
    }
    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(k);
    return ret;
}

/* ---- AES-256-CTR ----------------------------------------------------------- */

/* One cipher context for the whole stream: OpenSSL keeps the partial-block offset. */
struct wifiprov_ctr {
    EVP_CIPHER_CTX *c;
};

int wifiprov__ctr_new(const uint8_t key[32], const uint8_t iv[16], struct wifiprov_ctr **out)
{
    struct wifiprov_ctr *ctr;
    int ret = WIFIPROV_ERR_NOMEM;

    *out = NULL;
    ctr = wifiprov__calloc(1, sizeof(*ctr));
    if (!ctr)
        goto out;
    ctr->c = EVP_CIPHER_CTX_new();
    if (!ctr->c)
        goto out;
    if (EVP_EncryptInit_ex(ctr->c, EVP_aes_256_ctr(), NULL, key, iv) != 1) {
        ret = ossl_fail("AES-CTR init", WIFIPROV_ERR_CRYPTO);
        goto out;
    }
    *out = ctr;
    ctr = NULL;
    ret = 0;
out:
    wifiprov__ctr_free(ctr);
    return ret;
}

int wifiprov__ctr_crypt(struct wifiprov_ctr *ctr, const uint8_t *in, uint8_t *out, size_t len)
{
    if (!ctr || (len && (!in || !out)))
        return WIFIPROV_ERR_INVAL;
    while (len > 0) {
        size_t n = WIFIPROV_MIN(len, CHUNK_MAX);
        int outl = 0;

        if (EVP_EncryptUpdate(ctr->c, out, &outl, in, (int)n) != 1 || (size_t)outl != n)
            return ossl_fail("AES-CTR", WIFIPROV_ERR_CRYPTO);
        in += n;
        out += n;
        len -= n;
    }
    return 0;
}

void wifiprov__ctr_free(struct wifiprov_ctr *ctr)
{
    if (!ctr)
        return;
    /* Frees the key schedule after cleansing it. */
    EVP_CIPHER_CTX_free(ctr->c);
    wifiprov__free(ctr);
}

/* ---- AES-256-GCM ----------------------------------------------------------- */

/* The key schedule is set once; each message only sets the IV (and direction). */
struct wifiprov_gcm {
    EVP_CIPHER_CTX *c;
};

int wifiprov__gcm_new(const uint8_t key[32], struct wifiprov_gcm **out)
{
    struct wifiprov_gcm *gcm;
    int ret = WIFIPROV_ERR_NOMEM;

    *out = NULL;
    gcm = wifiprov__calloc(1, sizeof(*gcm));
    if (!gcm)
        goto out;
    gcm->c = EVP_CIPHER_CTX_new();
    if (!gcm->c)
        goto out;
    if (EVP_EncryptInit_ex(gcm->c, EVP_aes_256_gcm(), NULL, key, NULL) != 1) {
        ret = ossl_fail("AES-GCM init", WIFIPROV_ERR_CRYPTO);
        goto out;
    }
    *out = gcm;
    gcm = NULL;
    ret = 0;
out:
    wifiprov__gcm_free(gcm);
    return ret;
}

static int gcm_start(struct wifiprov_gcm *gcm, const uint8_t *iv, size_t iv_len, int enc)
{
    if (EVP_CIPHER_CTX_ctrl(gcm->c, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len, NULL) != 1 ||
        EVP_CipherInit_ex(gcm->c, NULL, NULL, NULL, iv, enc) != 1)
        return ossl_fail("AES-GCM IV", WIFIPROV_ERR_CRYPTO);
    return 0;
}

static int gcm_update(struct wifiprov_gcm *gcm, const uint8_t *in, size_t len, uint8_t *out)
{
    while (len > 0) {
        size_t n = WIFIPROV_MIN(len, CHUNK_MAX);
        int outl = 0;

        if (EVP_CipherUpdate(gcm->c, out, &outl, in, (int)n) != 1 || (size_t)outl != n)
            return ossl_fail("AES-GCM", WIFIPROV_ERR_CRYPTO);
        in += n;
        out += n;
        len -= n;
    }
    return 0;
}

static bool gcm_args_ok(const struct wifiprov_gcm *gcm, const uint8_t *iv, size_t iv_len, const uint8_t *in,
                        size_t len, const uint8_t *out, const uint8_t *tag)
{
    /* OpenSSL's GCM takes IVs of up to 128 bytes; both backends keep that limit. */
    return gcm && iv && iv_len >= 1 && iv_len <= WIFIPROV_GCM_IV_MAX && tag && (len == 0 || (in && out));
}

int wifiprov__gcm_encrypt(struct wifiprov_gcm *gcm, const uint8_t *iv, size_t iv_len, const uint8_t *in,
                          size_t len, uint8_t *out, uint8_t tag[16])
{
    uint8_t dummy[16];
    int outl = 0;
    int ret;

    if (!gcm_args_ok(gcm, iv, iv_len, in, len, out, tag))
        return WIFIPROV_ERR_INVAL;
    ret = gcm_start(gcm, iv, iv_len, 1);
    if (ret)
        goto out;
    ret = gcm_update(gcm, in, len, out);
    if (ret)
        goto out;
    if (EVP_EncryptFinal_ex(gcm->c, dummy, &outl) != 1 ||
        EVP_CIPHER_CTX_ctrl(gcm->c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1) {
        ret = ossl_fail("AES-GCM tag", WIFIPROV_ERR_CRYPTO);
        goto out;
    }
out:
    if (ret && len)
        wifiprov_memzero(out, len);
    return ret;
}

int wifiprov__gcm_decrypt(struct wifiprov_gcm *gcm, const uint8_t *iv, size_t iv_len, const uint8_t *in,
                          size_t len, const uint8_t tag[16], uint8_t *out)
{
    uint8_t dummy[16];
    uint8_t t[16];
    int outl = 0;
    int ret;

    if (!gcm_args_ok(gcm, iv, iv_len, in, len, out, tag))
        return WIFIPROV_ERR_INVAL;
    memcpy(t, tag, sizeof(t)); /* the SET_TAG control takes a non-const pointer */
    ret = gcm_start(gcm, iv, iv_len, 0);
    if (ret)
        goto out;
    ret = gcm_update(gcm, in, len, out);
    if (ret)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(gcm->c, EVP_CTRL_GCM_SET_TAG, 16, t) != 1) {
        ret = ossl_fail("AES-GCM set tag", WIFIPROV_ERR_CRYPTO);
        goto out;
    }
    if (EVP_DecryptFinal_ex(gcm->c, dummy, &outl) != 1) {
        /* A wrong tag is the peer's doing, not a library failure: no log. */
        ERR_clear_error();
        ret = WIFIPROV_ERR_AUTH;
        goto out;
    }
out:
    if (ret && len)
        wifiprov_memzero(out, len);
    return ret;
}

void wifiprov__gcm_free(struct wifiprov_gcm *gcm)
{
    if (!gcm)
        return;
    EVP_CIPHER_CTX_free(gcm->c);
    wifiprov__free(gcm);
}

/* ---- big numbers ------------------------------------------------------------ */

/* A struct wifiprov_bn pointer is a BIGNUM pointer in disguise. */
static BIGNUM *B(struct wifiprov_bn *bn)
{
    return (BIGNUM *)(void *)bn;
}

static const BIGNUM *CB(const struct wifiprov_bn *bn)
{
    return (const BIGNUM *)(const void *)bn;
}

struct wifiprov_bn_ctx {
    BN_CTX *bn;
    /* Montgomery form of mont_mod, reused while the modulus stays the same. */
    BN_MONT_CTX *mont;
    BIGNUM *mont_mod;
};

int wifiprov__bn_ctx_new(struct wifiprov_bn_ctx **out)
{
    struct wifiprov_bn_ctx *ctx;
    int ret = WIFIPROV_ERR_NOMEM;

    *out = NULL;
    ctx = wifiprov__calloc(1, sizeof(*ctx));
    if (!ctx)
        goto out;
    ctx->bn = BN_CTX_new();
    ctx->mont = BN_MONT_CTX_new();
    ctx->mont_mod = BN_new();
    if (!ctx->bn || !ctx->mont || !ctx->mont_mod)
        goto out;
    *out = ctx;
    ctx = NULL;
    ret = 0;
out:
    wifiprov__bn_ctx_free(ctx);
    return ret;
}

void wifiprov__bn_ctx_free(struct wifiprov_bn_ctx *ctx)
{
    if (!ctx)
        return;
    BN_CTX_free(ctx->bn);
    BN_MONT_CTX_free(ctx->mont);
    BN_free(ctx->mont_mod);
    wifiprov__free(ctx);
}

int wifiprov__bn_new(struct wifiprov_bn **out)
{
    BIGNUM *b = BN_new();

    *out = (struct wifiprov_bn *)(void *)b;
    return b ? 0 : WIFIPROV_ERR_NOMEM;
}

void wifiprov__bn_free(struct wifiprov_bn *bn)
{
    BN_clear_free(B(bn));
}

int wifiprov__bn_from_bin(struct wifiprov_bn *bn, const uint8_t *buf, size_t len)
{
    if (!bn || len > INT_MAX || (len && !buf))
        return WIFIPROV_ERR_INVAL;
    if (!BN_bin2bn(buf, (int)len, B(bn)))
        return ossl_fail("BN_bin2bn", WIFIPROV_ERR_NOMEM);
    return 0;
}

size_t wifiprov__bn_num_bytes(const struct wifiprov_bn *bn)
{
    return (size_t)BN_num_bytes(CB(bn));
}

int wifiprov__bn_to_bin_pad(const struct wifiprov_bn *bn, uint8_t *buf, size_t len)
{
    if (len > INT_MAX)
        return WIFIPROV_ERR_INVAL;
    if (wifiprov__bn_num_bytes(bn) > len)
        return WIFIPROV_ERR_NOSPC;
    if (BN_bn2binpad(CB(bn), buf, (int)len) != (int)len)
        return ossl_fail("BN_bn2binpad", WIFIPROV_ERR_CRYPTO);
    return 0;
}

int wifiprov__bn_set_word(struct wifiprov_bn *bn, uint32_t w)
{
    if (BN_set_word(B(bn), w) != 1)
        return ossl_fail("BN_set_word", WIFIPROV_ERR_NOMEM);
    return 0;
}

bool wifiprov__bn_is_zero(const struct wifiprov_bn *bn)
{
    return BN_is_zero(CB(bn));
}

int wifiprov__bn_cmp(const struct wifiprov_bn *a, const struct wifiprov_bn *b)
{
    int c = BN_cmp(CB(a), CB(b));

    return c < 0 ? -1 : c > 0 ? 1 : 0;
}

int wifiprov__bn_mod(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *m,
                     struct wifiprov_bn_ctx *ctx)
{
    if (BN_is_zero(CB(m)))
        return WIFIPROV_ERR_INVAL;
    if (BN_nnmod(B(r), CB(a), CB(m), ctx->bn) != 1)
        return ossl_fail("BN_nnmod", WIFIPROV_ERR_CRYPTO);
    return 0;
}

int wifiprov__bn_mod_add(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx)
{
    if (BN_is_zero(CB(m)))
        return WIFIPROV_ERR_INVAL;
    if (BN_mod_add(B(r), CB(a), CB(b), CB(m), ctx->bn) != 1)
        return ossl_fail("BN_mod_add", WIFIPROV_ERR_CRYPTO);
    return 0;
}

int wifiprov__bn_mod_sub(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx)
{
    if (BN_is_zero(CB(m)))
        return WIFIPROV_ERR_INVAL;
    if (BN_mod_sub(B(r), CB(a), CB(b), CB(m), ctx->bn) != 1)
        return ossl_fail("BN_mod_sub", WIFIPROV_ERR_CRYPTO);
    return 0;
}

int wifiprov__bn_mod_mul(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx)
{
    if (BN_is_zero(CB(m)))
        return WIFIPROV_ERR_INVAL;
    if (BN_mod_mul(B(r), CB(a), CB(b), CB(m), ctx->bn) != 1)
        return ossl_fail("BN_mod_mul", WIFIPROV_ERR_CRYPTO);
    return 0;
}

/* Makes ctx->mont hold the Montgomery form of @p m, recomputing it only when m changed. */
static int mont_for(struct wifiprov_bn_ctx *ctx, const BIGNUM *m)
{
    if (!BN_is_zero(ctx->mont_mod) && BN_cmp(ctx->mont_mod, m) == 0)
        return 0;
    BN_zero(ctx->mont_mod);
    if (BN_MONT_CTX_set(ctx->mont, m, ctx->bn) != 1 || !BN_copy(ctx->mont_mod, m))
        return ossl_fail("BN_MONT_CTX_set", WIFIPROV_ERR_CRYPTO);
    return 0;
}

int wifiprov__bn_mod_exp(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *e,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx)
{
    const BIGNUM *base = CB(a);
    BIGNUM *t = NULL;
    int ret;

    if (!BN_is_odd(CB(m)))
        return WIFIPROV_ERR_INVAL;
    ret = mont_for(ctx, CB(m));
    if (ret)
        return ret;
    BN_CTX_start(ctx->bn);
    /* The constant-time ladder wants the base already reduced. */
    if (BN_ucmp(base, CB(m)) >= 0) {
        t = BN_CTX_get(ctx->bn);
        if (!t || BN_nnmod(t, base, CB(m), ctx->bn) != 1) {
            ret = ossl_fail("BN_nnmod", WIFIPROV_ERR_CRYPTO);
            goto out;
        }
        base = t;
    }
    if (BN_mod_exp_mont_consttime(B(r), base, CB(e), CB(m), ctx->bn, ctx->mont) != 1) {
        ret = ossl_fail("BN_mod_exp_mont_consttime", WIFIPROV_ERR_CRYPTO);
        goto out;
    }
    ret = 0;
out:
    if (t)
        BN_clear(t);
    BN_CTX_end(ctx->bn);
    return ret;
}

int wifiprov__bn_mul(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                     struct wifiprov_bn_ctx *ctx)
{
    if (BN_mul(B(r), CB(a), CB(b), ctx->bn) != 1)
        return ossl_fail("BN_mul", WIFIPROV_ERR_CRYPTO);
    return 0;
}

int wifiprov__bn_add(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b)
{
    if (BN_add(B(r), CB(a), CB(b)) != 1)
        return ossl_fail("BN_add", WIFIPROV_ERR_CRYPTO);
    return 0;
}

bool wifiprov__ct_equal(const void *a, const void *b, size_t len)
{
    return len == 0 || CRYPTO_memcmp(a, b, len) == 0;
}
