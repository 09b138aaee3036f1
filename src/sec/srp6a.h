/*
 * SRP-6a (RFC 5054) for security 2, parameterised by group and hash so the
 * RFC 5054 Appendix B vectors (1024-bit group, SHA-1) can be checked as well
 * as the protocol's 3072-bit group with SHA-512.
 *
 * Every value crosses this interface as big-endian bytes; the big numbers stay
 * inside srp6a.c. Output buffers of "n_len" bytes receive values left-padded
 * with zeros to the length of N; "hash_len" buffers receive a digest.
 * No OS headers.
 */
#ifndef WIFIPROV_SRP6A_H
#define WIFIPROV_SRP6A_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wifiprov_srp_hash {
    WIFIPROV_SRP_HASH_SHA1 = 0,   /* only for the RFC 5054 vectors */
    WIFIPROV_SRP_HASH_SHA512 = 1, /* the protocol's hash */
};

#define WIFIPROV_SRP_HASH_MAX 64
#define WIFIPROV_SRP_MAX_N_LEN 384

struct wifiprov_srp_group {
    const uint8_t *n; /* the prime, big-endian, no leading zero byte */
    size_t n_len;     /* at most WIFIPROV_SRP_MAX_N_LEN */
    uint32_t g;
    enum wifiprov_srp_hash hash;
};

/* RFC 5054 3072-bit group, g = 5, SHA-512 (PROTOCOL.md §6.1). */
extern const struct wifiprov_srp_group wifiprov__srp_group_3072;

/* A group made ready for computing: N, g and k as numbers, plus scratch space. */
struct wifiprov_srp;

/* @return 0, WIFIPROV_ERR_INVAL (bad group), WIFIPROV_ERR_NOMEM, WIFIPROV_ERR_CRYPTO. */
int wifiprov__srp_new(const struct wifiprov_srp_group *grp, struct wifiprov_srp **out);
void wifiprov__srp_free(struct wifiprov_srp *srp); /* accepts NULL */

size_t wifiprov__srp_hash_len(const struct wifiprov_srp *srp);
size_t wifiprov__srp_n_len(const struct wifiprov_srp *srp);
/* k = H(N | PAD(g)), hash_len bytes. */
const uint8_t *wifiprov__srp_k(const struct wifiprov_srp *srp);

/*
 * Device-side precomputation for one verifier: fixed-base tables for g (the
 * device's secret b, up to @p b_len bytes) and for v (the public u, one digest
 * long), so g^b and v^u take a fraction of a full exponentiation. Read-only once
 * made: the sessions of one device share it, each with its own struct wifiprov_srp.
 * It keeps the verifier (wiped when freed). Making it costs about as much as a few
 * handshakes; see bench/README.md.
 * @return 0, WIFIPROV_ERR_INVAL (bad group, v not in [1, N), b_len 0 or over 512),
 *   WIFIPROV_ERR_NOMEM, WIFIPROV_ERR_CRYPTO.
 */
struct wifiprov_srp_precomp;
int wifiprov__srp_precomp_new(const struct wifiprov_srp_group *grp, const uint8_t *v, size_t v_len, size_t b_len,
                              struct wifiprov_srp_precomp **out);
void wifiprov__srp_precomp_free(struct wifiprov_srp_precomp *pre); /* accepts NULL */
/* Bytes the tables take. */
size_t wifiprov__srp_precomp_size(const struct wifiprov_srp_precomp *pre);
/*
 * From now on wifiprov__srp_public_b() takes g^b from @p pre's table, and
 * wifiprov__srp_server_s() v^u when it is given @p pre's verifier (any other v is
 * computed the plain way). @p pre is borrowed and must outlive @p srp; NULL stops
 * using it. @return 0 or WIFIPROV_ERR_INVAL (made for another group).
 */
int wifiprov__srp_use_precomp(struct wifiprov_srp *srp, const struct wifiprov_srp_precomp *pre);

/* H over a list of pieces with the group's hash. */
struct wifiprov_iov;
int wifiprov__srp_hash(const struct wifiprov_srp *srp, const struct wifiprov_iov *iov, size_t n, uint8_t *out);

/* x = H(s | H(I | ":" | p)) with the full inner digest and the raw salt. */
int wifiprov__srp_x(const struct wifiprov_srp *srp, const uint8_t *salt, size_t salt_len, const uint8_t *user,
                    size_t user_len, const uint8_t *pass, size_t pass_len, uint8_t *x);
/* v = g^x mod N (n_len bytes). */
int wifiprov__srp_verifier(struct wifiprov_srp *srp, const uint8_t *x, size_t x_len, uint8_t *v);
/* A = g^a mod N (n_len bytes). */
int wifiprov__srp_public_a(struct wifiprov_srp *srp, const uint8_t *a, size_t a_len, uint8_t *pub);
/* B = (k*v + g^b) mod N (n_len bytes). */
int wifiprov__srp_public_b(struct wifiprov_srp *srp, const uint8_t *b, size_t b_len, const uint8_t *v, size_t v_len,
                           uint8_t *pub);
/* WIFIPROV_ERR_INVAL when the peer's public value is 0 mod N or longer than N. */
int wifiprov__srp_check_public(struct wifiprov_srp *srp, const uint8_t *pub, size_t len);
/* u = H(PAD(A) | PAD(B)); A and B may be shorter than N (they are padded here). */
int wifiprov__srp_u(const struct wifiprov_srp *srp, const uint8_t *a_pub, size_t a_len, const uint8_t *b_pub,
                    size_t b_len, uint8_t *u);
/* Device: S = (A * v^u)^b mod N (n_len bytes). INVAL when A mod N == 0. */
int wifiprov__srp_server_s(struct wifiprov_srp *srp, const uint8_t *a_pub, size_t a_len, const uint8_t *v, size_t v_len,
                           const uint8_t *u, size_t u_len, const uint8_t *b, size_t b_len, uint8_t *s_out);
/* Client: S = (B - k*g^x)^(a + u*x) mod N (n_len bytes). INVAL when B mod N == 0. */
int wifiprov__srp_client_s(struct wifiprov_srp *srp, const uint8_t *b_pub, size_t b_len, const uint8_t *x, size_t x_len,
                           const uint8_t *u, size_t u_len, const uint8_t *a, size_t a_len, uint8_t *s_out);
/* K = H(S without its leading zero bytes). */
int wifiprov__srp_key(const struct wifiprov_srp *srp, const uint8_t *s_val, size_t s_len, uint8_t *k_out);
/* M1 = H((H(N) xor H(PAD(g))) | H(I) | s | A | B | K); A and B exactly as sent, K of @p k_len bytes
 * (the digest length, or shorter for clients that strip its leading zero bytes). */
int wifiprov__srp_m1(const struct wifiprov_srp *srp, const uint8_t *user, size_t user_len, const uint8_t *salt,
                     size_t salt_len, const uint8_t *a_pub, size_t a_len, const uint8_t *b_pub, size_t b_len,
                     const uint8_t *k_val, size_t k_len, uint8_t *m1);
/* The same from @p hi = H(I), one digest long. */
int wifiprov__srp_m1_hi(const struct wifiprov_srp *srp, const uint8_t *hi, const uint8_t *salt, size_t salt_len,
                        const uint8_t *a_pub, size_t a_len, const uint8_t *b_pub, size_t b_len, const uint8_t *k_val,
                        size_t k_len, uint8_t *m1);
/* M2 = H(A | M1 | K), M1 one digest long, K of @p k_len bytes. */
int wifiprov__srp_m2(const struct wifiprov_srp *srp, const uint8_t *a_pub, size_t a_len, const uint8_t *m1,
                     const uint8_t *k_val, size_t k_len, uint8_t *m2);

/* true when all @p len bytes are zero (e.g. u == 0). */
bool wifiprov__srp_is_zero(const uint8_t *buf, size_t len);

#endif
