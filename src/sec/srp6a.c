/*
 * SRP-6a computations (RFC 5054 with the padding rules of PROTOCOL.md §6.2
 * and pitfall P5). Only big-endian byte strings cross the interface; the
 * numbers are the crypto backend's. No OS headers.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "sec/srp6a.h"
#include "util.h"

/* RFC 3526 / RFC 5054 3072-bit MODP prime. */
static const uint8_t n3072[384] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc9, 0x0f, 0xda, 0xa2, 0x21, 0x68, 0xc2, 0x34, 0xc4, 0xc6, 0x62,
    0x8b, 0x80, 0xdc, 0x1c, 0xd1, 0x29, 0x02, 0x4e, 0x08, 0x8a, 0x67, 0xcc, 0x74, 0x02, 0x0b, 0xbe, 0xa6, 0x3b, 0x13,
    0x9b, 0x22, 0x51, 0x4a, 0x08, 0x79, 0x8e, 0x34, 0x04, 0xdd, 0xef, 0x95, 0x19, 0xb3, 0xcd, 0x3a, 0x43, 0x1b, 0x30,
    0x2b, 0x0a, 0x6d, 0xf2, 0x5f, 0x14, 0x37, 0x4f, 0xe1, 0x35, 0x6d, 0x6d, 0x51, 0xc2, 0x45, 0xe4, 0x85, 0xb5, 0x76,
    0x62, 0x5e, 0x7e, 0xc6, 0xf4, 0x4c, 0x42, 0xe9, 0xa6, 0x37, 0xed, 0x6b, 0x0b, 0xff, 0x5c, 0xb6, 0xf4, 0x06, 0xb7,
    0xed, 0xee, 0x38, 0x6b, 0xfb, 0x5a, 0x89, 0x9f, 0xa5, 0xae, 0x9f, 0x24, 0x11, 0x7c, 0x4b, 0x1f, 0xe6, 0x49, 0x28,
    0x66, 0x51, 0xec, 0xe4, 0x5b, 0x3d, 0xc2, 0x00, 0x7c, 0xb8, 0xa1, 0x63, 0xbf, 0x05, 0x98, 0xda, 0x48, 0x36, 0x1c,
    0x55, 0xd3, 0x9a, 0x69, 0x16, 0x3f, 0xa8, 0xfd, 0x24, 0xcf, 0x5f, 0x83, 0x65, 0x5d, 0x23, 0xdc, 0xa3, 0xad, 0x96,
    0x1c, 0x62, 0xf3, 0x56, 0x20, 0x85, 0x52, 0xbb, 0x9e, 0xd5, 0x29, 0x07, 0x70, 0x96, 0x96, 0x6d, 0x67, 0x0c, 0x35,
    0x4e, 0x4a, 0xbc, 0x98, 0x04, 0xf1, 0x74, 0x6c, 0x08, 0xca, 0x18, 0x21, 0x7c, 0x32, 0x90, 0x5e, 0x46, 0x2e, 0x36,
    0xce, 0x3b, 0xe3, 0x9e, 0x77, 0x2c, 0x18, 0x0e, 0x86, 0x03, 0x9b, 0x27, 0x83, 0xa2, 0xec, 0x07, 0xa2, 0x8f, 0xb5,
    0xc5, 0x5d, 0xf0, 0x6f, 0x4c, 0x52, 0xc9, 0xde, 0x2b, 0xcb, 0xf6, 0x95, 0x58, 0x17, 0x18, 0x39, 0x95, 0x49, 0x7c,
    0xea, 0x95, 0x6a, 0xe5, 0x15, 0xd2, 0x26, 0x18, 0x98, 0xfa, 0x05, 0x10, 0x15, 0x72, 0x8e, 0x5a, 0x8a, 0xaa, 0xc4,
    0x2d, 0xad, 0x33, 0x17, 0x0d, 0x04, 0x50, 0x7a, 0x33, 0xa8, 0x55, 0x21, 0xab, 0xdf, 0x1c, 0xba, 0x64, 0xec, 0xfb,
    0x85, 0x04, 0x58, 0xdb, 0xef, 0x0a, 0x8a, 0xea, 0x71, 0x57, 0x5d, 0x06, 0x0c, 0x7d, 0xb3, 0x97, 0x0f, 0x85, 0xa6,
    0xe1, 0xe4, 0xc7, 0xab, 0xf5, 0xae, 0x8c, 0xdb, 0x09, 0x33, 0xd7, 0x1e, 0x8c, 0x94, 0xe0, 0x4a, 0x25, 0x61, 0x9d,
    0xce, 0xe3, 0xd2, 0x26, 0x1a, 0xd2, 0xee, 0x6b, 0xf1, 0x2f, 0xfa, 0x06, 0xd9, 0x8a, 0x08, 0x64, 0xd8, 0x76, 0x02,
    0x73, 0x3e, 0xc8, 0x6a, 0x64, 0x52, 0x1f, 0x2b, 0x18, 0x17, 0x7b, 0x20, 0x0c, 0xbb, 0xe1, 0x17, 0x57, 0x7a, 0x61,
    0x5d, 0x6c, 0x77, 0x09, 0x88, 0xc0, 0xba, 0xd9, 0x46, 0xe2, 0x08, 0xe2, 0x4f, 0xa0, 0x74, 0xe5, 0xab, 0x31, 0x43,
    0xdb, 0x5b, 0xfc, 0xe0, 0xfd, 0x10, 0x8e, 0x4b, 0x82, 0xd1, 0x20, 0xa9, 0x3a, 0xd2, 0xca, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff,
};

const struct wifiprov_srp_group wifiprov__srp_group_3072 = {
    .n = n3072,
    .n_len = sizeof(n3072),
    .g = 5,
    .hash = WIFIPROV_SRP_HASH_SHA512,
};

struct wifiprov_srp {
    const struct wifiprov_srp_group *grp;
    size_t hash_len;
    struct wifiprov_bn_ctx *ctx;
    struct wifiprov_bn *n;
    struct wifiprov_bn *g;
    struct wifiprov_bn *k;
    uint8_t k_bytes[WIFIPROV_SRP_HASH_MAX];
    const struct wifiprov_srp_precomp *pre; /* borrowed, may be NULL */
};

struct wifiprov_srp_precomp {
    const struct wifiprov_srp_group *grp;
    uint8_t v[WIFIPROV_SRP_MAX_N_LEN]; /* the verifier without leading zero bytes */
    size_t v_len;
    struct wifiprov_bn_fixed_base *g_tab; /* g, secret exponents of up to b_len bytes */
    struct wifiprov_bn_fixed_base *v_tab; /* v, public exponents of one digest */
};

/* Zeros for left-padding values to the length of N. */
static const uint8_t zeros[WIFIPROV_SRP_MAX_N_LEN];

static size_t hash_len_of(enum wifiprov_srp_hash h)
{
    switch (h) {
    case WIFIPROV_SRP_HASH_SHA1:
        return 20;
    case WIFIPROV_SRP_HASH_SHA512:
        return 64;
    }
    return 0;
}

static int hash_with(enum wifiprov_srp_hash h, const struct wifiprov_iov *iov, size_t n, uint8_t *out)
{
    switch (h) {
    case WIFIPROV_SRP_HASH_SHA1:
        return wifiprov__sha1(iov, n, out);
    case WIFIPROV_SRP_HASH_SHA512:
        return wifiprov__sha512(iov, n, out);
    }
    return WIFIPROV_ERR_INVAL;
}

int wifiprov__srp_hash(const struct wifiprov_srp *srp, const struct wifiprov_iov *iov, size_t n, uint8_t *out)
{
    return hash_with(srp->grp->hash, iov, n, out);
}

size_t wifiprov__srp_hash_len(const struct wifiprov_srp *srp)
{
    return srp->hash_len;
}

size_t wifiprov__srp_n_len(const struct wifiprov_srp *srp)
{
    return srp->grp->n_len;
}

const uint8_t *wifiprov__srp_k(const struct wifiprov_srp *srp)
{
    return srp->k_bytes;
}

bool wifiprov__srp_is_zero(const uint8_t *buf, size_t len)
{
    uint8_t acc = 0;
    size_t i;

    for (i = 0; i < len; i++)
        acc |= buf[i];
    return acc == 0;
}

/* PAD(g): g as a big-endian integer left-padded to n_len bytes. */
static void pad_g(const struct wifiprov_srp_group *grp, uint8_t *out)
{
    memset(out, 0, grp->n_len);
    out[grp->n_len - 4] = (uint8_t)(grp->g >> 24);
    out[grp->n_len - 3] = (uint8_t)(grp->g >> 16);
    out[grp->n_len - 2] = (uint8_t)(grp->g >> 8);
    out[grp->n_len - 1] = (uint8_t)grp->g;
}

static int bn_from(struct wifiprov_bn **out, const uint8_t *buf, size_t len)
{
    struct wifiprov_bn *bn = NULL;
    int rc;

    rc = wifiprov__bn_new(&bn);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_from_bin(bn, buf, len);
    if (rc < 0) {
        wifiprov__bn_free(bn);
        bn = NULL;
    }
out:
    *out = bn;
    return rc;
}

int wifiprov__srp_new(const struct wifiprov_srp_group *grp, struct wifiprov_srp **out)
{
    struct wifiprov_srp *srp = NULL;
    uint8_t padded_g[WIFIPROV_SRP_MAX_N_LEN];
    struct wifiprov_iov iov[2];
    int rc;

    *out = NULL;
    if (!grp || !grp->n || grp->n_len < 4 || grp->n_len > WIFIPROV_SRP_MAX_N_LEN || grp->g < 2 ||
        hash_len_of(grp->hash) == 0 || !(grp->n[grp->n_len - 1] & 1u)) {
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    srp = wifiprov__calloc(1, sizeof(*srp));
    if (!srp) {
        rc = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    srp->grp = grp;
    srp->hash_len = hash_len_of(grp->hash);
    rc = wifiprov__bn_ctx_new(&srp->ctx);
    if (rc < 0)
        goto out;
    rc = bn_from(&srp->n, grp->n, grp->n_len);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_new(&srp->g);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_set_word(srp->g, grp->g);
    if (rc < 0)
        goto out;

    /* k = H(N | PAD(g)) */
    pad_g(grp, padded_g);
    iov[0].data = grp->n;
    iov[0].len = grp->n_len;
    iov[1].data = padded_g;
    iov[1].len = grp->n_len;
    rc = hash_with(grp->hash, iov, 2, srp->k_bytes);
    if (rc < 0)
        goto out;
    rc = bn_from(&srp->k, srp->k_bytes, srp->hash_len);
    if (rc < 0)
        goto out;
    *out = srp;
    srp = NULL;
out:
    wifiprov__srp_free(srp);
    return rc;
}

void wifiprov__srp_free(struct wifiprov_srp *srp)
{
    if (!srp)
        return;
    wifiprov__bn_free(srp->k);
    wifiprov__bn_free(srp->g);
    wifiprov__bn_free(srp->n);
    wifiprov__bn_ctx_free(srp->ctx);
    wifiprov__free_secret(srp, sizeof(*srp));
}

/* Offset of the first non-zero byte. */
static size_t skip_zeros(const uint8_t *buf, size_t len)
{
    size_t i = 0;

    while (i < len && buf[i] == 0)
        i++;
    return i;
}

int wifiprov__srp_precomp_new(const struct wifiprov_srp_group *grp, const uint8_t *v, size_t v_len, size_t b_len,
                              struct wifiprov_srp_precomp **out)
{
    struct wifiprov_srp_precomp *pre = NULL;
    struct wifiprov_srp *srp = NULL;
    struct wifiprov_bn *bv = NULL;
    size_t off;
    int rc;

    *out = NULL;
    if (!v || v_len == 0 || b_len == 0 || b_len > 512) {
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    rc = wifiprov__srp_new(grp, &srp);
    if (rc < 0)
        goto out;
    off = skip_zeros(v, v_len);
    /* v must be a number in [1, N). */
    if (off == v_len || v_len - off > grp->n_len ||
        (v_len - off == grp->n_len && memcmp(v + off, grp->n, grp->n_len) >= 0)) {
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    pre = wifiprov__calloc(1, sizeof(*pre));
    if (!pre) {
        rc = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    pre->grp = grp;
    pre->v_len = v_len - off;
    memcpy(pre->v, v + off, pre->v_len);
    rc = bn_from(&bv, pre->v, pre->v_len);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_fixed_base_new(srp->g, srp->n, 8 * b_len, true, srp->ctx, &pre->g_tab);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_fixed_base_new(bv, srp->n, 8 * srp->hash_len, false, srp->ctx, &pre->v_tab);
    if (rc < 0)
        goto out;
    *out = pre;
    pre = NULL;
out:
    wifiprov__bn_free(bv);
    wifiprov__srp_free(srp);
    wifiprov__srp_precomp_free(pre);
    return rc;
}

void wifiprov__srp_precomp_free(struct wifiprov_srp_precomp *pre)
{
    if (!pre)
        return;
    wifiprov__bn_fixed_base_free(pre->g_tab);
    wifiprov__bn_fixed_base_free(pre->v_tab);
    wifiprov__free_secret(pre, sizeof(*pre));
}

size_t wifiprov__srp_precomp_size(const struct wifiprov_srp_precomp *pre)
{
    if (!pre)
        return 0;
    return sizeof(*pre) + wifiprov__bn_fixed_base_size(pre->g_tab) + wifiprov__bn_fixed_base_size(pre->v_tab);
}

int wifiprov__srp_use_precomp(struct wifiprov_srp *srp, const struct wifiprov_srp_precomp *pre)
{
    if (pre && pre->grp != srp->grp)
        return WIFIPROV_ERR_INVAL;
    srp->pre = pre;
    return 0;
}

/* Whether @p v is the precomputed verifier. */
static bool pre_has_v(const struct wifiprov_srp_precomp *pre, const uint8_t *v, size_t v_len)
{
    size_t off;

    if (!pre)
        return false;
    off = skip_zeros(v, v_len);
    return v_len - off == pre->v_len && wifiprov__ct_equal(v + off, pre->v, pre->v_len);
}

int wifiprov__srp_x(const struct wifiprov_srp *srp, const uint8_t *salt, size_t salt_len, const uint8_t *user,
                    size_t user_len, const uint8_t *pass, size_t pass_len, uint8_t *x)
{
    uint8_t inner[WIFIPROV_SRP_HASH_MAX];
    struct wifiprov_iov iov[3];
    int rc;

    iov[0].data = user;
    iov[0].len = user_len;
    iov[1].data = ":";
    iov[1].len = 1;
    iov[2].data = pass;
    iov[2].len = pass_len;
    rc = wifiprov__srp_hash(srp, iov, 3, inner);
    if (rc < 0)
        goto out;
    /* The device formula: raw salt, then the whole inner digest (pitfall P7). */
    iov[0].data = salt;
    iov[0].len = salt_len;
    iov[1].data = inner;
    iov[1].len = srp->hash_len;
    rc = wifiprov__srp_hash(srp, iov, 2, x);
out:
    wifiprov_memzero(inner, sizeof(inner));
    return rc;
}

/* out = g^e mod N, written padded to n_len. */
static int pow_g(struct wifiprov_srp *srp, const uint8_t *e, size_t e_len, uint8_t *out)
{
    struct wifiprov_bn *be = NULL, *r = NULL;
    int rc;

    rc = bn_from(&be, e, e_len);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_new(&r);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_mod_exp(r, srp->g, be, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_to_bin_pad(r, out, srp->grp->n_len);
out:
    wifiprov__bn_free(r);
    wifiprov__bn_free(be);
    return rc;
}

int wifiprov__srp_verifier(struct wifiprov_srp *srp, const uint8_t *x, size_t x_len, uint8_t *v)
{
    return pow_g(srp, x, x_len, v);
}

int wifiprov__srp_public_a(struct wifiprov_srp *srp, const uint8_t *a, size_t a_len, uint8_t *pub)
{
    return pow_g(srp, a, a_len, pub);
}

int wifiprov__srp_public_b(struct wifiprov_srp *srp, const uint8_t *b, size_t b_len, const uint8_t *v, size_t v_len,
                           uint8_t *pub)
{
    struct wifiprov_bn *bv = NULL, *bb = NULL, *kv = NULL, *gb = NULL;
    int rc;

    rc = bn_from(&bv, v, v_len);
    if (rc < 0)
        goto out;
    rc = bn_from(&bb, b, b_len);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_new(&kv);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_new(&gb);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_mod_mul(kv, srp->k, bv, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    if (srp->pre)
        rc = wifiprov__bn_fixed_base_exp(gb, srp->pre->g_tab, bb, true, srp->ctx);
    else
        rc = wifiprov__bn_mod_exp(gb, srp->g, bb, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_mod_add(gb, gb, kv, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_to_bin_pad(gb, pub, srp->grp->n_len);
out:
    wifiprov__bn_free(gb);
    wifiprov__bn_free(kv);
    wifiprov__bn_free(bb);
    wifiprov__bn_free(bv);
    return rc;
}

/* *out = pub mod N; INVAL when that is zero. */
static int public_mod_n(struct wifiprov_srp *srp, const uint8_t *pub, size_t len, struct wifiprov_bn **out)
{
    struct wifiprov_bn *p = NULL;
    int rc;

    *out = NULL;
    if (len > srp->grp->n_len) {
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    rc = bn_from(&p, pub, len);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_mod(p, p, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    if (wifiprov__bn_is_zero(p)) {
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    *out = p;
    p = NULL;
out:
    wifiprov__bn_free(p);
    return rc;
}

int wifiprov__srp_check_public(struct wifiprov_srp *srp, const uint8_t *pub, size_t len)
{
    struct wifiprov_bn *p = NULL;
    int rc;

    rc = public_mod_n(srp, pub, len, &p);
    wifiprov__bn_free(p);
    return rc;
}

int wifiprov__srp_u(const struct wifiprov_srp *srp, const uint8_t *a_pub, size_t a_len, const uint8_t *b_pub,
                    size_t b_len, uint8_t *u)
{
    size_t n_len = srp->grp->n_len;
    struct wifiprov_iov iov[4];

    if (a_len > n_len || b_len > n_len)
        return WIFIPROV_ERR_INVAL;
    iov[0].data = zeros;
    iov[0].len = n_len - a_len;
    iov[1].data = a_pub;
    iov[1].len = a_len;
    iov[2].data = zeros;
    iov[2].len = n_len - b_len;
    iov[3].data = b_pub;
    iov[3].len = b_len;
    return wifiprov__srp_hash(srp, iov, 4, u);
}

int wifiprov__srp_server_s(struct wifiprov_srp *srp, const uint8_t *a_pub, size_t a_len, const uint8_t *v, size_t v_len,
                           const uint8_t *u, size_t u_len, const uint8_t *b, size_t b_len, uint8_t *s_out)
{
    struct wifiprov_bn *ba = NULL, *bv = NULL, *bu = NULL, *bb = NULL, *t = NULL;
    int rc;

    rc = public_mod_n(srp, a_pub, a_len, &ba);
    if (rc < 0)
        goto out;
    rc = bn_from(&bv, v, v_len);
    if (rc < 0)
        goto out;
    rc = bn_from(&bu, u, u_len);
    if (rc < 0)
        goto out;
    rc = bn_from(&bb, b, b_len);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_new(&t);
    if (rc < 0)
        goto out;
    /* t = v^u; t = A * t; t = t^b. u is public (a hash of A and B): the table may branch on it. */
    if (pre_has_v(srp->pre, v, v_len))
        rc = wifiprov__bn_fixed_base_exp(t, srp->pre->v_tab, bu, false, srp->ctx);
    else
        rc = wifiprov__bn_mod_exp(t, bv, bu, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_mod_mul(t, ba, t, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_mod_exp(t, t, bb, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_to_bin_pad(t, s_out, srp->grp->n_len);
out:
    wifiprov__bn_free(t);
    wifiprov__bn_free(bb);
    wifiprov__bn_free(bu);
    wifiprov__bn_free(bv);
    wifiprov__bn_free(ba);
    return rc;
}

int wifiprov__srp_client_s(struct wifiprov_srp *srp, const uint8_t *b_pub, size_t b_len, const uint8_t *x, size_t x_len,
                           const uint8_t *u, size_t u_len, const uint8_t *a, size_t a_len, uint8_t *s_out)
{
    struct wifiprov_bn *bB = NULL, *bx = NULL, *bu = NULL, *ba = NULL, *t = NULL, *e = NULL;
    int rc;

    rc = public_mod_n(srp, b_pub, b_len, &bB);
    if (rc < 0)
        goto out;
    rc = bn_from(&bx, x, x_len);
    if (rc < 0)
        goto out;
    rc = bn_from(&bu, u, u_len);
    if (rc < 0)
        goto out;
    rc = bn_from(&ba, a, a_len);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_new(&t);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_new(&e);
    if (rc < 0)
        goto out;
    /* t = B - k * g^x */
    rc = wifiprov__bn_mod_exp(t, srp->g, bx, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_mod_mul(t, srp->k, t, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_mod_sub(t, bB, t, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    /* e = a + u * x */
    rc = wifiprov__bn_mul(e, bu, bx, srp->ctx);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_add(e, e, ba);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_mod_exp(t, t, e, srp->n, srp->ctx);
    if (rc < 0)
        goto out;
    rc = wifiprov__bn_to_bin_pad(t, s_out, srp->grp->n_len);
out:
    wifiprov__bn_free(e);
    wifiprov__bn_free(t);
    wifiprov__bn_free(ba);
    wifiprov__bn_free(bu);
    wifiprov__bn_free(bx);
    wifiprov__bn_free(bB);
    return rc;
}

int wifiprov__srp_key(const struct wifiprov_srp *srp, const uint8_t *s_val, size_t s_len, uint8_t *k_out)
{
    struct wifiprov_iov iov;
    size_t skip = 0;

    /* Pitfall P5: the session key hashes S without its leading zero bytes. */
    while (skip < s_len && s_val[skip] == 0)
        skip++;
    iov.data = s_val + skip;
    iov.len = s_len - skip;
    return wifiprov__srp_hash(srp, &iov, 1, k_out);
}

int wifiprov__srp_m1(const struct wifiprov_srp *srp, const uint8_t *user, size_t user_len, const uint8_t *salt,
                     size_t salt_len, const uint8_t *a_pub, size_t a_len, const uint8_t *b_pub, size_t b_len,
                     const uint8_t *k_val, size_t k_len, uint8_t *m1)
{
    uint8_t hi[WIFIPROV_SRP_HASH_MAX];
    struct wifiprov_iov iov;
    int rc;

    iov.data = user;
    iov.len = user_len;
    rc = wifiprov__srp_hash(srp, &iov, 1, hi);
    if (rc == 0)
        rc = wifiprov__srp_m1_hi(srp, hi, salt, salt_len, a_pub, a_len, b_pub, b_len, k_val, k_len, m1);
    return rc;
}

int wifiprov__srp_m1_hi(const struct wifiprov_srp *srp, const uint8_t *hi, const uint8_t *salt, size_t salt_len,
                        const uint8_t *a_pub, size_t a_len, const uint8_t *b_pub, size_t b_len, const uint8_t *k_val,
                        size_t k_len, uint8_t *m1)
{
    uint8_t hn[WIFIPROV_SRP_HASH_MAX], hg[WIFIPROV_SRP_HASH_MAX];
    uint8_t padded_g[WIFIPROV_SRP_MAX_N_LEN];
    struct wifiprov_iov iov[6];
    size_t i;
    int rc;

    iov[0].data = srp->grp->n;
    iov[0].len = srp->grp->n_len;
    rc = wifiprov__srp_hash(srp, iov, 1, hn);
    if (rc < 0)
        goto out;
    /* Pitfall P5: H(g) hashes the padded g. */
    pad_g(srp->grp, padded_g);
    iov[0].data = padded_g;
    iov[0].len = srp->grp->n_len;
    rc = wifiprov__srp_hash(srp, iov, 1, hg);
    if (rc < 0)
        goto out;
    for (i = 0; i < srp->hash_len; i++)
        hn[i] ^= hg[i];

    iov[0].data = hn;
    iov[0].len = srp->hash_len;
    iov[1].data = hi;
    iov[1].len = srp->hash_len;
    iov[2].data = salt;
    iov[2].len = salt_len;
    iov[3].data = a_pub;
    iov[3].len = a_len;
    iov[4].data = b_pub;
    iov[4].len = b_len;
    iov[5].data = k_val;
    iov[5].len = k_len;
    rc = wifiprov__srp_hash(srp, iov, 6, m1);
out:
    return rc;
}

int wifiprov__srp_m2(const struct wifiprov_srp *srp, const uint8_t *a_pub, size_t a_len, const uint8_t *m1,
                     const uint8_t *k_val, size_t k_len, uint8_t *m2)
{
    struct wifiprov_iov iov[3];

    iov[0].data = a_pub;
    iov[0].len = a_len;
    iov[1].data = m1;
    iov[1].len = srp->hash_len;
    iov[2].data = k_val;
    iov[2].len = k_len;
    return wifiprov__srp_hash(srp, iov, 3, m2);
}
