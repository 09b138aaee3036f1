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

/* One key, imported once: OpenSSL computes the public key at import, and derive reuses it. */
struct wifiprov_x25519 {
    EVP_PKEY *key;
};

int wifiprov__x25519_new(const uint8_t priv[32], uint8_t pub[32], struct wifiprov_x25519 **out)
{
    struct wifiprov_x25519 *k;
    size_t len = 32;
    int ret = WIFIPROV_ERR_NOMEM;

    *out = NULL;
    k = wifiprov__calloc(1, sizeof(*k));
    if (!k)
        goto out;
    k->key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
    if (!k->key) {
        ret = ossl_fail("X25519 key", WIFIPROV_ERR_CRYPTO);
        goto out;
    }
    if (EVP_PKEY_get_raw_public_key(k->key, pub, &len) != 1 || len != 32) {
        ret = ossl_fail("X25519 public key", WIFIPROV_ERR_CRYPTO);
        goto out;
    }
    *out = k;
    k = NULL;
    ret = 0;
out:
    wifiprov__x25519_free(k);
    return ret;
}

int wifiprov__x25519_derive(struct wifiprov_x25519 *k, const uint8_t peer_pub[32], uint8_t out[32])
{
    EVP_PKEY *peer = NULL;
    EVP_PKEY_CTX *pc = NULL;
    size_t len = 32;
    uint8_t acc = 0;
    int ret = WIFIPROV_ERR_CRYPTO;
    int i;

    if (!k || !peer_pub) {
        ret = WIFIPROV_ERR_INVAL;
        goto out;
    }
    peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, 32);
    if (!peer)
        goto out;
    pc = EVP_PKEY_CTX_new(k->key, NULL);
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
        if (ret == WIFIPROV_ERR_CRYPTO || ret == WIFIPROV_ERR_NOMEM)
            ret = ossl_fail("X25519 shared secret", ret);
    }
    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(peer);
    return ret;
}

void wifiprov__x25519_free(struct wifiprov_x25519 *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->key); /* OpenSSL cleanses the private key */
    wifiprov__free(k);
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

/* ---- fixed-base exponentiation ---------------------------------------------- */

/*
 * A Lim-Lee comb. The exponent's bits 0 .. rows * row_bits - 1 are read as a
 * matrix of `rows` rows (row r holds bits r * row_bits ...), and each row is cut
 * into `cols` blocks of blk_bits columns (row_bits = cols * blk_bits). Block s of
 * the table holds, for every j < 2^rows, the product over the rows r set in j of
 * base^(2^(r * row_bits + s * blk_bits)), in Montgomery form. Then
 *
 *   base^e = prod_{k < blk_bits} ( prod_{s < cols} T[s][column k of block s] )^(2^k),
 *
 * evaluated from the top column down: blk_bits - 1 squarings and cols * blk_bits
 * multiplications, where a plain exponentiation needs one squaring per exponent bit.
 *
 * An entry is the value's nbytes little-endian bytes and a marker byte 1, held in
 * 64-bit words (byte i in bits 8 * (i % 8) of word i / 8, so on a little-endian
 * host the memory is that byte string) padded to a multiple of 4 words, so a
 * secret index can be looked up by reading every entry of the block through a mask. The Montgomery
 * multiplications are OpenSSL's (BN_mod_mul_montgomery; the x86-64 and ARM
 * assembly is constant time; like OpenSSL's own constant-time exponentiation, a
 * result whose top 64-bit word is zero, probability about 2^-64, is shortened).
 */
#define FB_MAX_BITS 4096 /* largest modulus and exponent */
#define FB_MAX_BYTES (FB_MAX_BITS / 8)
#define FB_MAX_WORDS (FB_MAX_BITS / 64 + 4) /* with the marker byte, a multiple of 4 */
#define FB_MAX_ENTRIES 256                  /* per block: 2^rows, rows <= 8 */

struct wifiprov_bn_fixed_base {
    BN_MONT_CTX *mont;
    BIGNUM *m;
    BIGNUM *base; /* reduced mod m, for exponents longer than the table covers */
    unsigned rows;
    unsigned cols;
    size_t blk_bits;
    size_t row_bits;  /* cols * blk_bits */
    size_t exp_bytes; /* ceil(rows * row_bits / 8): the exponents the table covers */
    size_t nbytes;    /* bytes of m */
    size_t words;     /* 64-bit words per entry, a multiple of 4 */
    uint64_t *tab;    /* cols blocks of 2^rows entries */
    size_t tab_bytes;
};

static uint64_t *fb_entry(const struct wifiprov_bn_fixed_base *fb, size_t blk, size_t j)
{
    return fb->tab + (blk * ((size_t)1 << fb->rows) + j) * fb->words;
}

/* Whether the words' memory is the little-endian byte string (folded by the compiler). */
static bool host_le(void)
{
    const uint16_t one = 1;
    uint8_t b;

    memcpy(&b, &one, 1);
    return b == 1;
}

/*
 * Writes x (< m) into an entry: nbytes little-endian bytes, then a byte 1 (a marker
 * that makes every entry exactly nbytes + 1 bytes long, see fb_load()), then zeros.
 */
static int fb_store(const struct wifiprov_bn_fixed_base *fb, uint64_t *w, const BIGNUM *x)
{
    uint8_t b[FB_MAX_BYTES + 1];
    size_t i;
    int ret = 0;

    memset(w, 0, fb->words * sizeof(*w));
    if (host_le()) {
        /* The words' memory is the byte string: write it in place. */
        if (BN_bn2lebinpad(x, (uint8_t *)w, (int)fb->nbytes) != (int)fb->nbytes)
            ret = ossl_fail("BN_bn2lebinpad", WIFIPROV_ERR_CRYPTO);
        ((uint8_t *)w)[fb->nbytes] = 1;
    } else {
        if (BN_bn2lebinpad(x, b, (int)fb->nbytes) != (int)fb->nbytes)
            ret = ossl_fail("BN_bn2lebinpad", WIFIPROV_ERR_CRYPTO);
        b[fb->nbytes] = 1;
        for (i = 0; i <= fb->nbytes; i++)
            w[i / 8] |= (uint64_t)b[i] << (8 * (i % 8));
        OPENSSL_cleanse(b, sizeof(b));
    }
    return ret;
}

/*
 * Reads an entry (or a selected copy of one) into x. BN_lebin2bn() gets the
 * nbytes + 1 bytes with the marker on top, so it never skips leading zero bytes
 * (its time does not depend on the value); the marker bit is then cleared.
 */
static int fb_load(const struct wifiprov_bn_fixed_base *fb, const uint64_t *w, BIGNUM *x)
{
    uint8_t b[FB_MAX_BYTES + 1];
    const uint8_t *src = (const uint8_t *)w;
    size_t i;
    int ret = 0;

    if (!host_le()) {
        for (i = 0; i <= fb->nbytes; i++)
            b[i] = (uint8_t)(w[i / 8] >> (8 * (i % 8)));
        src = b;
    }
    if (!BN_lebin2bn(src, (int)fb->nbytes + 1, x) || BN_clear_bit(x, (int)(8 * fb->nbytes)) != 1)
        ret = ossl_fail("BN_lebin2bn", WIFIPROV_ERR_NOMEM);
    if (src == b)
        OPENSSL_cleanse(b, sizeof(b));
    return ret;
}

/*
 * dst = entry idx of a block of n entries, reading every entry: each one is ANDed
 * with a mask that is all ones for idx only, computed without branches.
 */
static void fb_select(const struct wifiprov_bn_fixed_base *fb, const uint64_t *blk, size_t n, size_t idx, uint64_t *dst)
{
    uint64_t mask[FB_MAX_ENTRIES];
    size_t k, w;

    for (k = 0; k < n; k++) {
        uint64_t d = (uint64_t)(k ^ idx);

        /* d == 0: (0 >> 63) - 1 = all ones; otherwise 1 - 1 = 0. */
        mask[k] = ((d | (0 - d)) >> 63) - 1;
    }
    for (w = 0; w < fb->words; w += 4) {
        const uint64_t *p = blk + w;
        uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;

        for (k = 0; k < n; k++, p += fb->words) {
            uint64_t mk = mask[k];

            a0 |= p[0] & mk;
            a1 |= p[1] & mk;
            a2 |= p[2] & mk;
            a3 |= p[3] & mk;
        }
        dst[w] = a0;
        dst[w + 1] = a1;
        dst[w + 2] = a2;
        dst[w + 3] = a3;
    }
}

static int fb_check_args(const BIGNUM *m, size_t max_exp_bits)
{
    if (!BN_is_odd(m) || BN_is_one(m) || BN_num_bits(m) > FB_MAX_BITS || max_exp_bits < 1 || max_exp_bits > FB_MAX_BITS)
        return WIFIPROV_ERR_INVAL;
    return 0;
}

/* Chooses the comb's shape: secret exponents pay for every entry of a block at each lookup. */
static void fb_shape(struct wifiprov_bn_fixed_base *fb, size_t max_exp_bits, bool secret)
{
    size_t row_bits;

    /* 4 blocks of 64 entries (96 KB for 3072 bits) or 2 blocks of 256 (192 KB). */
    fb->rows = secret ? 6 : 8;
    fb->cols = secret ? 4 : 2;
    if (max_exp_bits < fb->rows)
        fb->rows = (unsigned)max_exp_bits;
    row_bits = (max_exp_bits + fb->rows - 1) / fb->rows;
    if (fb->cols > row_bits)
        fb->cols = (unsigned)row_bits;
    fb->blk_bits = (row_bits + fb->cols - 1) / fb->cols;
    fb->row_bits = fb->blk_bits * fb->cols;
    fb->exp_bytes = (fb->rows * fb->row_bits + 7) / 8;
}

int wifiprov__bn_fixed_base_new(const struct wifiprov_bn *base, const struct wifiprov_bn *m, size_t max_exp_bits,
                                bool secret_exponents, struct wifiprov_bn_ctx *ctx, struct wifiprov_bn_fixed_base **out)
{
    struct wifiprov_bn_fixed_base *fb = NULL;
    BIGNUM *p, *t;
    size_t n, i, j, blk, r;
    int ret;

    *out = NULL;
    if (!base || !m || !ctx)
        return WIFIPROV_ERR_INVAL;
    ret = fb_check_args(CB(m), max_exp_bits);
    if (ret)
        return ret;
    ret = WIFIPROV_ERR_NOMEM;
    BN_CTX_start(ctx->bn);
    p = BN_CTX_get(ctx->bn);
    t = BN_CTX_get(ctx->bn);
    if (!t)
        goto out;
    fb = wifiprov__calloc(1, sizeof(*fb));
    if (!fb)
        goto out;
    fb_shape(fb, max_exp_bits, secret_exponents);
    fb->nbytes = (size_t)BN_num_bytes(CB(m));
    fb->words = (fb->nbytes + 1 + 31) / 32 * 4; /* the value, the marker byte, padding */
    n = (size_t)1 << fb->rows;
    fb->tab_bytes = fb->cols * n * fb->words * sizeof(uint64_t);
    fb->tab = wifiprov__malloc(fb->tab_bytes);
    fb->mont = BN_MONT_CTX_new();
    fb->m = BN_dup(CB(m));
    fb->base = BN_new();
    if (!fb->tab || !fb->mont || !fb->m || !fb->base)
        goto out;
    ret = WIFIPROV_ERR_CRYPTO;
    if (BN_MONT_CTX_set(fb->mont, fb->m, ctx->bn) != 1 || BN_nnmod(fb->base, CB(base), fb->m, ctx->bn) != 1 ||
        BN_to_montgomery(p, fb->base, fb->mont, ctx->bn) != 1 ||
        BN_to_montgomery(t, BN_value_one(), fb->mont, ctx->bn) != 1)
        goto fail;
    /* T[s][0] = 1 and T[s][2^r] = base^(2^(r * row_bits + s * blk_bits)), walking up in blk_bits squarings. */
    for (blk = 0; blk < fb->cols; blk++) {
        ret = fb_store(fb, fb_entry(fb, blk, 0), t);
        if (ret)
            goto out;
    }
    for (r = 0; r < fb->rows; r++) {
        for (blk = 0; blk < fb->cols; blk++) {
            ret = fb_store(fb, fb_entry(fb, blk, (size_t)1 << r), p);
            if (ret)
                goto out;
            if (r + 1 == fb->rows && blk + 1 == fb->cols)
                break;
            for (i = 0; i < fb->blk_bits; i++) {
                if (BN_mod_mul_montgomery(p, p, p, fb->mont, ctx->bn) != 1) {
                    ret = WIFIPROV_ERR_CRYPTO;
                    goto fail;
                }
            }
        }
    }
    /* T[s][j] = T[s][j - 2^r] * T[s][2^r] for the top bit r of j. */
    for (blk = 0; blk < fb->cols; blk++) {
        for (r = 1; r < fb->rows; r++) {
            size_t top = (size_t)1 << r;

            ret = fb_load(fb, fb_entry(fb, blk, top), p);
            if (ret)
                goto out;
            for (j = top + 1; j < 2 * top; j++) {
                ret = fb_load(fb, fb_entry(fb, blk, j - top), t);
                if (ret)
                    goto out;
                if (BN_mod_mul_montgomery(t, t, p, fb->mont, ctx->bn) != 1) {
                    ret = WIFIPROV_ERR_CRYPTO;
                    goto fail;
                }
                ret = fb_store(fb, fb_entry(fb, blk, j), t);
                if (ret)
                    goto out;
            }
        }
    }
    *out = fb;
    fb = NULL;
    ret = 0;
    goto out;
fail:
    ret = ossl_fail("fixed-base table", ret);
out:
    if (t)
        BN_clear(t);
    if (p)
        BN_clear(p);
    BN_CTX_end(ctx->bn);
    wifiprov__bn_fixed_base_free(fb);
    return ret;
}

int wifiprov__bn_fixed_base_exp(struct wifiprov_bn *r, const struct wifiprov_bn_fixed_base *fb,
                                const struct wifiprov_bn *e, bool secret_exponent, struct wifiprov_bn_ctx *ctx)
{
    uint64_t sel[FB_MAX_WORDS];
    uint8_t eb[FB_MAX_BYTES + 64];
    BIGNUM *acc, *t;
    size_t n, k, blk, row, bit, covered;
    bool first = true;
    int ret = WIFIPROV_ERR_NOMEM;

    if (!r || !fb || !e || !ctx)
        return WIFIPROV_ERR_INVAL;
    /*
     * Exponents the table does not cover take the plain way (constant time too);
     * only the fact that e is that long shows.
     */
    covered = fb->rows * fb->row_bits;
    if (BN_bn2lebinpad(CB(e), eb, (int)fb->exp_bytes) != (int)fb->exp_bytes ||
        (covered % 8 && (eb[covered / 8] >> (covered % 8)))) {
        OPENSSL_cleanse(eb, sizeof(eb));
        return wifiprov__bn_mod_exp(r, (const struct wifiprov_bn *)(const void *)fb->base, e,
                                    (const struct wifiprov_bn *)(const void *)fb->m, ctx);
    }
    n = (size_t)1 << fb->rows;
    BN_CTX_start(ctx->bn);
    acc = BN_CTX_get(ctx->bn);
    t = BN_CTX_get(ctx->bn);
    if (!t)
        goto out;
    for (k = fb->blk_bits; k-- > 0;) {
        if (!first && BN_mod_mul_montgomery(acc, acc, acc, fb->mont, ctx->bn) != 1)
            goto fail;
        for (blk = fb->cols; blk-- > 0;) {
            size_t j = 0;

            for (row = 0; row < fb->rows; row++) {
                bit = row * fb->row_bits + blk * fb->blk_bits + k;
                j |= (size_t)((eb[bit / 8] >> (bit % 8)) & 1u) << row;
            }
            if (secret_exponent) {
                fb_select(fb, fb_entry(fb, blk, 0), n, j, sel);
                ret = fb_load(fb, sel, t);
            } else {
                if (j == 0)
                    continue; /* public exponent: skip multiplying by one */
                ret = fb_load(fb, fb_entry(fb, blk, j), t);
            }
            if (ret)
                goto out;
            ret = WIFIPROV_ERR_CRYPTO;
            if (first) {
                if (!BN_copy(acc, t))
                    goto fail;
                first = false;
            } else if (BN_mod_mul_montgomery(acc, acc, t, fb->mont, ctx->bn) != 1) {
                goto fail;
            }
        }
    }
    if (first) {
        /* e == 0 (public): the Montgomery form of 1. */
        ret = fb_load(fb, fb_entry(fb, 0, 0), acc);
        if (ret)
            goto out;
    }
    if (BN_from_montgomery(B(r), acc, fb->mont, ctx->bn) != 1)
        goto fail;
    ret = 0;
    goto out;
fail:
    ret = ossl_fail("fixed-base exponentiation", WIFIPROV_ERR_CRYPTO);
out:
    if (t)
        BN_clear(t);
    if (acc)
        BN_clear(acc);
    BN_CTX_end(ctx->bn);
    OPENSSL_cleanse(sel, sizeof(sel));
    OPENSSL_cleanse(eb, sizeof(eb));
    return ret;
}

size_t wifiprov__bn_fixed_base_size(const struct wifiprov_bn_fixed_base *fb)
{
    return fb ? fb->tab_bytes : 0;
}

void wifiprov__bn_fixed_base_free(struct wifiprov_bn_fixed_base *fb)
{
    if (!fb)
        return;
    if (fb->tab)
        wifiprov__free_secret(fb->tab, fb->tab_bytes);
    BN_MONT_CTX_free(fb->mont);
    BN_free(fb->m);
    BN_clear_free(fb->base);
    wifiprov__free(fb);
}

bool wifiprov__ct_equal(const void *a, const void *b, size_t len)
{
    return len == 0 || CRYPTO_memcmp(a, b, len) == 0;
}
