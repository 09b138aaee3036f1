/*
 * The crypto interface of libwifiprov. Only the backend files
 * (crypto_openssl.c, crypto_mbedtls.c) call a crypto library; everything
 * else calls these functions. No OS headers.
 *
 * All functions returning int give 0 or a negative WIFIPROV_ERR_*:
 * WIFIPROV_ERR_NOMEM, WIFIPROV_ERR_CRYPTO (library failure or invalid input),
 * WIFIPROV_ERR_AUTH (GCM tag mismatch), WIFIPROV_ERR_INVAL (bad argument).
 */
#ifndef WIFIPROV_CRYPTO_H
#define WIFIPROV_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wifiprov/common.h"

/* The backend's name, e.g. "openssl 3.0.19" or "mbedtls 2.28.3". */
const char *wifiprov__crypto_backend(void);

/* Cryptographically secure random bytes (the backend's DRBG). */
int wifiprov__crypto_random(uint8_t *buf, size_t len);

/* A piece of a message to hash; hashes take a list so callers never concatenate. */
struct wifiprov_iov {
    const void *data;
    size_t len;
};

/* SHA-1 exists only for the RFC 5054 SRP test vectors (never used on the wire). */
int wifiprov__sha1(const struct wifiprov_iov *iov, size_t n, uint8_t out[20]);
int wifiprov__sha256(const struct wifiprov_iov *iov, size_t n, uint8_t out[32]);
int wifiprov__sha512(const struct wifiprov_iov *iov, size_t n, uint8_t out[64]);

/* X25519 (RFC 7748), keys and shared secret in the standard little-endian byte form. */
int wifiprov__x25519_public(const uint8_t priv[32], uint8_t pub[32]);
/* Fails with WIFIPROV_ERR_CRYPTO when the result is all zero (low-order peer point). */
int wifiprov__x25519_shared(const uint8_t priv[32], const uint8_t peer_pub[32], uint8_t out[32]);

/*
 * An X25519 key pair kept for one key agreement: wifiprov__x25519_new() computes the
 * public key once, and wifiprov__x25519_derive() uses the private key without deriving
 * the public key again (two scalar multiplications per handshake instead of three).
 * The private key is copied; wifiprov__x25519_free() wipes it and accepts NULL.
 * derive fails with WIFIPROV_ERR_CRYPTO (and wipes @p out) like wifiprov__x25519_shared().
 */
struct wifiprov_x25519;
int wifiprov__x25519_new(const uint8_t priv[32], uint8_t pub[32], struct wifiprov_x25519 **out);
int wifiprov__x25519_derive(struct wifiprov_x25519 *k, const uint8_t peer_pub[32], uint8_t out[32]);
void wifiprov__x25519_free(struct wifiprov_x25519 *k);

/*
 * AES-256-CTR as one continuous keystream: consecutive calls continue where the
 * previous one stopped, including inside a 16-byte block. The counter block is the
 * whole 16 bytes, incremented as a 128-bit big-endian integer.
 */
struct wifiprov_ctr;
int wifiprov__ctr_new(const uint8_t key[32], const uint8_t iv[16], struct wifiprov_ctr **out);
int wifiprov__ctr_crypt(struct wifiprov_ctr *ctr, const uint8_t *in, uint8_t *out, size_t len);
void wifiprov__ctr_free(struct wifiprov_ctr *ctr); /* accepts NULL, wipes the key */

/* AES-256-GCM with a 16-byte tag and no AAD; iv_len is 12 or 16 (any length from 1 to
 * WIFIPROV_GCM_IV_MAX works; others give WIFIPROV_ERR_INVAL). */
#define WIFIPROV_GCM_IV_MAX 128
struct wifiprov_gcm;
int wifiprov__gcm_new(const uint8_t key[32], struct wifiprov_gcm **out);
int wifiprov__gcm_encrypt(struct wifiprov_gcm *gcm, const uint8_t *iv, size_t iv_len, const uint8_t *in,
                          size_t len, uint8_t *out, uint8_t tag[16]);
/* Returns WIFIPROV_ERR_AUTH when the tag does not match; @p out is then wiped. */
int wifiprov__gcm_decrypt(struct wifiprov_gcm *gcm, const uint8_t *iv, size_t iv_len, const uint8_t *in,
                          size_t len, const uint8_t tag[16], uint8_t *out);
void wifiprov__gcm_free(struct wifiprov_gcm *gcm); /* accepts NULL, wipes the key */

/*
 * Big numbers for SRP-6a. Values are non-negative. A context holds scratch space
 * and must be passed to every arithmetic call; one context per thread.
 */
struct wifiprov_bn;
struct wifiprov_bn_ctx;
int wifiprov__bn_ctx_new(struct wifiprov_bn_ctx **out);
void wifiprov__bn_ctx_free(struct wifiprov_bn_ctx *ctx);
int wifiprov__bn_new(struct wifiprov_bn **out);
void wifiprov__bn_free(struct wifiprov_bn *bn); /* accepts NULL, wipes the value */
int wifiprov__bn_from_bin(struct wifiprov_bn *bn, const uint8_t *buf, size_t len); /* big-endian */
/* Minimal big-endian length (0 for zero). */
size_t wifiprov__bn_num_bytes(const struct wifiprov_bn *bn);
/* Writes exactly @p len bytes big-endian, left-padded with zeros; NOSPC if it does not fit. */
int wifiprov__bn_to_bin_pad(const struct wifiprov_bn *bn, uint8_t *buf, size_t len);
int wifiprov__bn_set_word(struct wifiprov_bn *bn, uint32_t w);
bool wifiprov__bn_is_zero(const struct wifiprov_bn *bn);
int wifiprov__bn_cmp(const struct wifiprov_bn *a, const struct wifiprov_bn *b); /* -1, 0, 1 */
/* r = a mod m */
int wifiprov__bn_mod(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *m,
                     struct wifiprov_bn_ctx *ctx);
/* r = (a + b) mod m, r = (a - b) mod m, r = a * b mod m; inputs may be >= m. */
int wifiprov__bn_mod_add(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx);
int wifiprov__bn_mod_sub(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx);
int wifiprov__bn_mod_mul(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx);
/* r = a^e mod m, m odd; constant time in e (e is often secret). r may alias a. */
int wifiprov__bn_mod_exp(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *e,
                         const struct wifiprov_bn *m, struct wifiprov_bn_ctx *ctx);
/* r = a * b (plain product, e.g. u * x for the SRP exponent). */
int wifiprov__bn_mul(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b,
                     struct wifiprov_bn_ctx *ctx);
/* r = a + b (plain sum). */
int wifiprov__bn_add(struct wifiprov_bn *r, const struct wifiprov_bn *a, const struct wifiprov_bn *b);

/*
 * Fixed-base exponentiation: r = base^e mod m for many exponents e with one base,
 * e.g. the SRP generator g or a device's verifier. wifiprov__bn_fixed_base_new()
 * precomputes a table for exponents of up to @p max_exp_bits bits (m odd, base
 * reduced mod m); @p secret_exponents says whether it will serve secret exponents
 * (a lookup then reads every entry of its block, so the backend picks a smaller
 * table). The table is read-only once made: several threads may use one table at
 * the same time, each with its own context. Longer exponents are still computed,
 * without the table. The Mbed TLS backend keeps base and modulus only and calls
 * wifiprov__bn_mod_exp() (no table).
 *
 * wifiprov__bn_fixed_base_exp() with @p secret_exponent true runs in time that
 * does not depend on e (beyond max_exp_bits), like wifiprov__bn_mod_exp(); with
 * false it may be faster and branch on e (for public exponents such as SRP's u).
 * Both return 0, WIFIPROV_ERR_INVAL (m even, 1, or longer than 4096 bits;
 * max_exp_bits 0 or over 4096; a NULL argument), WIFIPROV_ERR_NOMEM, WIFIPROV_ERR_CRYPTO.
 */
struct wifiprov_bn_fixed_base;
int wifiprov__bn_fixed_base_new(const struct wifiprov_bn *base, const struct wifiprov_bn *m, size_t max_exp_bits,
                                bool secret_exponents, struct wifiprov_bn_ctx *ctx,
                                struct wifiprov_bn_fixed_base **out);
int wifiprov__bn_fixed_base_exp(struct wifiprov_bn *r, const struct wifiprov_bn_fixed_base *fb,
                                const struct wifiprov_bn *e, bool secret_exponent, struct wifiprov_bn_ctx *ctx);
/* Bytes the table takes (0 without a table), for reports. */
size_t wifiprov__bn_fixed_base_size(const struct wifiprov_bn_fixed_base *fb);
void wifiprov__bn_fixed_base_free(struct wifiprov_bn_fixed_base *fb); /* accepts NULL, wipes the table */

/* Constant-time comparison: true when equal. */
bool wifiprov__ct_equal(const void *a, const void *b, size_t len);

#endif
