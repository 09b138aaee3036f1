/*
 * Known-answer tests of the crypto interface (src/crypto/crypto.h). The same file
 * runs against whichever backend the build selected (openssl or mbedtls), so both
 * must give these exact bytes.
 *
 * Sources of the vectors:
 *  - X25519: RFC 7748 sections 5.2 and 6.1.
 *  - SHA: FIPS 180 examples ("abc", "", the 448-bit two-block message).
 *  - AES-256-CTR: NIST SP 800-38A F.5.5, and the security-1 session of
 *    tests/vectors/data/sec1.json (one keystream across many odd-sized messages).
 *  - AES-256-GCM: McGrew-Viega test case 15 (AES-256, 96-bit IV, no AAD); the
 *    ciphertexts of test cases 16 (96-bit IV) and 18 (60-byte IV), whose published
 *    tags cover AAD this interface does not take, with the tags for empty AAD,
 *    and a 16-byte IV case, both computed with an independent GHASH written in
 *    Python and cross-checked with pyca/cryptography (which refuses IVs under 8
 *    bytes, so the 1-byte IV case rests on that GHASH alone); the security-2 session of
 *    tests/vectors/data/sec2.json (12-byte IVs with the counter).
 *  - Big numbers: the SRP-6a values of PROTOCOL.md 12.1 and sec2.json.
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
#include "testutil.h"
#include "util.h"
#include "wifiprov/error.h"

/* Decodes hex that must be exactly @p len bytes. */
static void unhex(const char *hex, uint8_t *out, size_t len)
{
    size_t n = 0;

    assert_int_equal(wifiprov__hex_decode(hex, out, len, &n), 0);
    assert_int_equal(n, len);
}

static void assert_hex(const uint8_t *got, size_t len, const char *hex)
{
    uint8_t *want;
    size_t n = 0;

    want = test_hex(hex, &n);
    assert_int_equal(n, len);
    assert_memory_equal(got, want, len);
    free(want);
}

/* ---- X25519 ---------------------------------------------------------------- */

static void x25519_rfc7748_vectors(void **state)
{
    static const char *const v[][3] = {
        /* scalar, input u-coordinate, output u-coordinate (RFC 7748 5.2) */
        {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
        /* This u has its top bit set: it must be masked off. */
        {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
         "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
    };
    uint8_t k[32], u[32], out[32];
    size_t i;

    (void)state;
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(v); i++) {
        unhex(v[i][0], k, 32);
        unhex(v[i][1], u, 32);
        assert_int_equal(wifiprov__x25519_shared(k, u, out), 0);
        assert_hex(out, 32, v[i][2]);
    }
    /* The same second vector with the top bit cleared by hand gives the same output. */
    u[31] &= 0x7f;
    assert_int_equal(wifiprov__x25519_shared(k, u, out), 0);
    assert_hex(out, 32, v[1][2]);
}

/* RFC 7748 5.2: k = u = 9, then repeatedly (k, u) = (X25519(k, u), k). */
static void x25519_rfc7748_iterated(void **state)
{
    uint8_t k[32] = {9}, u[32] = {9}, r[32];
    int i;

    (void)state;
    for (i = 1; i <= 1000; i++) {
        assert_int_equal(wifiprov__x25519_shared(k, u, r), 0);
        memcpy(u, k, 32);
        memcpy(k, r, 32);
        if (i == 1)
            assert_hex(k, 32, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
    assert_hex(k, 32, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

static void x25519_rfc7748_dh(void **state)
{
    uint8_t a[32], b[32], apub[32], bpub[32], ka[32], kb[32];

    (void)state;
    unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
    unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
    assert_int_equal(wifiprov__x25519_public(a, apub), 0);
    assert_hex(apub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    assert_int_equal(wifiprov__x25519_public(b, bpub), 0);
    assert_hex(bpub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    assert_int_equal(wifiprov__x25519_shared(a, bpub, ka), 0);
    assert_int_equal(wifiprov__x25519_shared(b, apub, kb), 0);
    assert_hex(ka, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assert_memory_equal(ka, kb, 32);
}

/* The security-1 session keys of sec1.json (the wire form is RFC 7748 little-endian). */
static void x25519_sec1_vector(void **state)
{
    uint8_t c[32], d[32], cpub[32], dpub[32], s1[32], s2[32];

    (void)state;
    unhex("39e07203563bbb3fa1f260e0bb199472b70a14791639b3d90e8cabf003b8e043", c, 32);
    unhex("bfd71352392fc4acee253bab0fffc1498758d04bb7035878f232429bec683f73", d, 32);
    assert_int_equal(wifiprov__x25519_public(c, cpub), 0);
    assert_hex(cpub, 32, "e9b0cf3fa3b699ab6f75ffd08461102b9995b1b6a3f98809f6b770bbbc4bae23");
    assert_int_equal(wifiprov__x25519_public(d, dpub), 0);
    assert_hex(dpub, 32, "f49a87386920a91a8149a4f10c5975f75f357e4c605c278e36f00a1372fdf666");
    assert_int_equal(wifiprov__x25519_shared(c, dpub, s1), 0);
    assert_int_equal(wifiprov__x25519_shared(d, cpub, s2), 0);
    assert_hex(s1, 32, "c9d23f410835a0135568405c1870e9b3c161066d1c3181d1b8a484941a1fc339");
    assert_memory_equal(s1, s2, 32);
}

/* RFC 7748 5: a u-coordinate >= p is accepted and reduced (here p + 9, i.e. 9). */
static void x25519_non_canonical(void **state)
{
    uint8_t k[32], u[32], pub[32], out[32];

    (void)state;
    unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", k, 32);
    unhex("f6ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", u, 32);
    assert_int_equal(wifiprov__x25519_public(k, pub), 0);
    assert_hex(pub, 32, "1c9fd88f45606d932a80c71824ae151d15d73e77de38e8e000852e614fae7019");
    assert_int_equal(wifiprov__x25519_shared(k, u, out), 0);
    assert_memory_equal(out, pub, 32);
}

/* Points of small order (and their non-canonical forms) give an all-zero secret. */
static void x25519_low_order(void **state)
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
    uint8_t k[32], u[32], out[32];
    size_t i;

    (void)state;
    unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", k, 32);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(pts); i++) {
        unhex(pts[i], u, 32);
        memset(out, 0xaa, sizeof(out));
        assert_int_equal(wifiprov__x25519_shared(k, u, out), WIFIPROV_ERR_CRYPTO);
        /* Nothing of a failed computation is left behind. */
        assert_true(wifiprov__ct_equal(out, (const uint8_t[32]){0}, 32));
    }
}

/* ---- hashes ------------------------------------------------------------------ */

static const char msg448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

typedef int (*hash_fn)(const struct wifiprov_iov *iov, size_t n, uint8_t *out);

static int sha1_fn(const struct wifiprov_iov *iov, size_t n, uint8_t *out)
{
    return wifiprov__sha1(iov, n, out);
}

static int sha256_fn(const struct wifiprov_iov *iov, size_t n, uint8_t *out)
{
    return wifiprov__sha256(iov, n, out);
}

static int sha512_fn(const struct wifiprov_iov *iov, size_t n, uint8_t *out)
{
    return wifiprov__sha512(iov, n, out);
}

static void check_hash(hash_fn fn, size_t dlen, const char *abc, const char *empty, const char *two_blocks)
{
    uint8_t out[64];
    struct wifiprov_iov iov[6];
    size_t len = strlen(msg448);

    iov[0] = (struct wifiprov_iov){"abc", 3};
    assert_int_equal(fn(iov, 1, out), 0);
    assert_hex(out, dlen, abc);

    assert_int_equal(fn(NULL, 0, out), 0);
    assert_hex(out, dlen, empty);
    iov[0] = (struct wifiprov_iov){"", 0};
    assert_int_equal(fn(iov, 1, out), 0);
    assert_hex(out, dlen, empty);

    iov[0] = (struct wifiprov_iov){msg448, len};
    assert_int_equal(fn(iov, 1, out), 0);
    assert_hex(out, dlen, two_blocks);

    /* Split into pieces (one empty) across the block boundary: same digest. */
    iov[0] = (struct wifiprov_iov){msg448, 1};
    iov[1] = (struct wifiprov_iov){msg448 + 1, 0};
    iov[2] = (struct wifiprov_iov){msg448 + 1, 20};
    iov[3] = (struct wifiprov_iov){msg448 + 21, 33};
    iov[4] = (struct wifiprov_iov){msg448 + 54, len - 54};
    memset(out, 0, sizeof(out));
    assert_int_equal(fn(iov, 5, out), 0);
    assert_hex(out, dlen, two_blocks);
}

static void sha1_known_answers(void **state)
{
    (void)state;
    check_hash(sha1_fn, 20, "a9993e364706816aba3e25717850c26c9cd0d89d", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
               "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

static void sha256_known_answers(void **state)
{
    (void)state;
    check_hash(sha256_fn, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void sha512_known_answers(void **state)
{
    (void)state;
    check_hash(sha512_fn, 64,
               "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
               "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
               "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
               "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
               "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
               "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445");
}

/* ---- AES-256-CTR ------------------------------------------------------------- */

static const char nist_ctr_key[] = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";

static void ctr_nist_f55(void **state)
{
    struct wifiprov_ctr *ctr = NULL;
    uint8_t key[32], iv[16], pt[64], ct[64];

    (void)state;
    unhex(nist_ctr_key, key, 32);
    unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", iv, 16);
    unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
          pt, 64);
    assert_int_equal(wifiprov__ctr_new(key, iv, &ctr), 0);
    assert_int_equal(wifiprov__ctr_crypt(ctr, pt, ct, 64), 0);
    assert_hex(ct, 64,
               "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
               "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6");
    wifiprov__ctr_free(ctr);

    /* Decryption is the same operation on a fresh stream; in place this time. */
    assert_int_equal(wifiprov__ctr_new(key, iv, &ctr), 0);
    assert_int_equal(wifiprov__ctr_crypt(ctr, ct, ct, 64), 0);
    assert_memory_equal(ct, pt, 64);
    wifiprov__ctr_free(ctr);
    wifiprov__ctr_free(NULL);
}

/* The counter is the whole 128-bit block: the carry crosses the 64-bit halves and wraps. */
static void ctr_counter_carry(void **state)
{
    static const char *const v[][2] = {
        {"0000000000000000ffffffffffffffff",
         "289e23e13ec8c34291f27c4ccf3eaa29579be1a0d892238805feb810a4a10aaa"
         "51ffb50816f5e9fa954d2604f081f8dc"},
        {"ffffffffffffffffffffffffffffffff",
         "3b3c2921c85a24de9ac606ce6d1d60cce568f68194cf76d6174d4cc04310a854"
         "91151e5d0b7a1f1bc0d7acd0ae3e51e4"},
    };
    struct wifiprov_ctr *ctr = NULL;
    uint8_t key[32], iv[16], zero[48] = {0}, ks[48];
    size_t i;

    (void)state;
    unhex(nist_ctr_key, key, 32);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(v); i++) {
        unhex(v[i][0], iv, 16);
        assert_int_equal(wifiprov__ctr_new(key, iv, &ctr), 0);
        /* 7 + 41 bytes, so the carry happens inside a call that started mid-block. */
        assert_int_equal(wifiprov__ctr_crypt(ctr, zero, ks, 7), 0);
        assert_int_equal(wifiprov__ctr_crypt(ctr, zero + 7, ks + 7, 41), 0);
        assert_hex(ks, 48, v[i][1]);
        wifiprov__ctr_free(ctr);
        ctr = NULL;
    }
}

/* Many calls of odd sizes give exactly the one-shot encryption. */
static void ctr_stream_split(void **state)
{
    static const size_t sizes[] = {1, 15, 17, 33, 0, 16, 31, 2, 64, 5, 100, 3, 48, 129};
    struct wifiprov_ctr *one = NULL, *many = NULL;
    uint8_t key[32], iv[16], pt[600], ct1[600], ct2[600];
    size_t i, off = 0, total = 0;

    (void)state;
    for (i = 0; i < sizeof(pt); i++)
        pt[i] = (uint8_t)(i * 7 + 3);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(sizes); i++)
        total += sizes[i];
    assert_true(total <= sizeof(pt));
    unhex(nist_ctr_key, key, 32);
    unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfff0", iv, 16);

    assert_int_equal(wifiprov__ctr_new(key, iv, &one), 0);
    assert_int_equal(wifiprov__ctr_crypt(one, pt, ct1, total), 0);
    assert_int_equal(wifiprov__ctr_new(key, iv, &many), 0);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(sizes); i++) {
        assert_int_equal(wifiprov__ctr_crypt(many, pt + off, ct2 + off, sizes[i]), 0);
        off += sizes[i];
    }
    assert_memory_equal(ct1, ct2, total);
    /* Both streams are at the same position: the next bytes agree too. */
    assert_int_equal(wifiprov__ctr_crypt(one, pt, ct1, 37), 0);
    assert_int_equal(wifiprov__ctr_crypt(many, pt, ct2, 37), 0);
    assert_memory_equal(ct1, ct2, 37);
    /* And the keystream is not trivially the plaintext. */
    assert_memory_not_equal(ct1, pt, 37);
    wifiprov__ctr_free(one);
    wifiprov__ctr_free(many);
}

/*
 * The security-1 session of sec1.json: one keystream, shared by both directions,
 * consumed by the verify tokens and then by every message in order.
 */
static void ctr_sec1_stream(void **state)
{
    static const char *const seg[][2] = {
        /* plaintext, ciphertext */
        {"f49a87386920a91a8149a4f10c5975f75f357e4c605c278e36f00a1372fdf666",
         "2b41dd3e097db21d9b7462157cfe90aa74bfe3d55672f488f4d5789a619fa04a"},
        {"e9b0cf3fa3b699ab6f75ffd08461102b9995b1b6a3f98809f6b770bbbc4bae23",
         "725971839e7257dda03bba7e699967d4bc3b7ebd737d519f64900473871e18ac"},
        {"0802621c0a07486f6d654e657412117365637265742d70617373706872617365",
         "c8a7365e8220d180039d7b32983567329a0ad7f40053501d63ade8d9d2285bb0"},
        {"08036a00", "4a494074"},
        {"0804", "aab5"},
        {"08057a00", "5085164c"},
        {"5200", "2bc8"},
        {"08015a255a230a0c3139322e3136382e312e343210031a07486f6d654e65742206a0b1c2d3e4f52806",
         "8aebb1f0080654e1ef8b504ae50cd591e32d4a3e49848bc433a1dc3a8fab83925e0924424a658cb2f6"},
        {"5206080118052078", "eeca440a4d7da4b6"},
        {"08015a00", "cef96521"},
        {"0802", "26d9"},
        {"08036a0408011005", "f9ddc2bfb10a478d"},
        {"080472021005", "bb1c92617fc0"},
        {"08057ab9010a200a07486f6d654e6574100618d6ffffffffffffffff012206a0b1c2d3e4f528030a270a10436f6666"
         "656553686f702d4775657374100118bdffffffffffffffff01220602aabbccdd010a240a0b4f66666963652d5750"
         "4133100b18b9ffffffffffffffff0122063c84b600010228060a220a094e65696768626f7572100618b0ffffffff"
         "ffffffff012206f4f26d11223328040a220a094f6c64526f75746572100318a8ffffffffffffffff012206001122"
         "3344552801",
         "7e6283551ca1298599a0ab7279a3222ce7042f1068e50d8896905c576f60b1f84a88cf83b828a6aadd278431b597"
         "94d900049b0395d91b8a622c8e31ed56126940605307dec39ad5f34cc7a883b99e47be11c1574df70bffd1daac95"
         "a79c80d6c74987402baa43518c408eb2de93746b2ee1f5680789f42c4ba3ae321c8cf090f13cad3e66e9768d8e67"
         "1fde643e0eb940a6d800373417dcdeadb73b66aa0ccdd24cb10e5f6f42537cd8b6fd092b8027c0a215edddfb278f"
         "ca7d00f5b404"},
        {"6d792d637573746f6d2d64617461", "2bde93eecb0e42fca9ff8c1a048c"},
        {"5355434345535300", "c383bcda252794f8"},
        {"0803", "c007"},
        {"08047200", "3133be32"},
    };
    struct wifiprov_ctr *enc = NULL, *dec = NULL;
    uint8_t key[32], iv[16];
    size_t i;

    (void)state;
    unhex("201cd85bb1075dfb365bcd54a63d006c22ffa624a19e329376c11a515f14aa97", key, 32);
    unhex("df3593b84a22bb6fdf0050c28f5402d6", iv, 16);
    assert_int_equal(wifiprov__ctr_new(key, iv, &enc), 0);
    assert_int_equal(wifiprov__ctr_new(key, iv, &dec), 0);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(seg); i++) {
        size_t pl = 0, cl = 0;
        uint8_t *p = test_hex(seg[i][0], &pl);
        uint8_t *c = test_hex(seg[i][1], &cl);
        uint8_t *o = malloc(pl + 1);

        assert_non_null(o);
        assert_int_equal(pl, cl);
        assert_int_equal(wifiprov__ctr_crypt(enc, p, o, pl), 0);
        assert_memory_equal(o, c, pl);
        assert_int_equal(wifiprov__ctr_crypt(dec, c, o, cl), 0);
        assert_memory_equal(o, p, pl);
        free(o);
        free(p);
        free(c);
    }
    wifiprov__ctr_free(enc);
    wifiprov__ctr_free(dec);
}

/* ---- AES-256-GCM ------------------------------------------------------------- */

static const char mv_key[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
static const char mv_pt[] = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";

/* Encrypts and decrypts (iv, pt) under one context and checks ct and tag. */
static void check_gcm(struct wifiprov_gcm *gcm, const char *iv_hex, const char *pt_hex, const char *ct_hex,
                      const char *tag_hex)
{
    size_t ivl = 0, pl = 0, cl = 0, tl = 0;
    uint8_t *iv = test_hex(iv_hex, &ivl);
    uint8_t *pt = test_hex(pt_hex, &pl);
    uint8_t *ct = test_hex(ct_hex, &cl);
    uint8_t *tag = test_hex(tag_hex, &tl);
    uint8_t *out = malloc(pl + 1);
    uint8_t t[16];

    assert_non_null(out);
    assert_int_equal(pl, cl);
    assert_int_equal(tl, 16);
    assert_int_equal(wifiprov__gcm_encrypt(gcm, iv, ivl, pt, pl, out, t), 0);
    assert_memory_equal(out, ct, cl);
    assert_memory_equal(t, tag, 16);
    memset(out, 0x55, pl + 1);
    assert_int_equal(wifiprov__gcm_decrypt(gcm, iv, ivl, ct, cl, tag, out), 0);
    assert_memory_equal(out, pt, pl);
    free(out);
    free(iv);
    free(pt);
    free(ct);
    free(tag);
}

static void gcm_mv_tc15_16(void **state)
{
    struct wifiprov_gcm *gcm = NULL;
    uint8_t key[32];

    (void)state;
    unhex(mv_key, key, 32);
    assert_int_equal(wifiprov__gcm_new(key, &gcm), 0);
    check_gcm(gcm, "cafebabefacedbaddecaf888", mv_pt,
              "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
              "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
              "b094dac5d93471bdec1a502270e3cc6c");
    /*
     * Test case 16: the same key and IV with a 60-byte plaintext and AAD. Without AAD
     * (this interface has none) the ciphertext is the published one; the tag is the
     * one for empty AAD.
     */
    check_gcm(gcm, "cafebabefacedbaddecaf888",
              "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
              "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
              "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
              "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
              "eb9f796c8d356fc31a8433884b696f4f");
    wifiprov__gcm_free(gcm);
    wifiprov__gcm_free(NULL);
}

/* IVs other than 96 bits go through GHASH to make the first counter block. */
static void gcm_long_ivs(void **state)
{
    struct wifiprov_gcm *gcm = NULL;
    uint8_t key[32];

    (void)state;
    unhex(mv_key, key, 32);
    assert_int_equal(wifiprov__gcm_new(key, &gcm), 0);
    /* Test case 18's key, 60-byte IV and 60-byte plaintext, without its AAD. */
    check_gcm(gcm,
              "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728"
              "c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
              "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
              "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
              "5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf4"
              "0fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f",
              "392995c46c67f61b1fee6f14aaadcbce");
    /* A 16-byte IV (security 2, sec_patch_ver 0), 37-byte message, then an empty one. */
    check_gcm(gcm, "00112233445566778899aabbccddeeff",
              "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c9595",
              "d4eacf96cffc1de8cfbbd9f78401055184c44fc9bd696177feafdf23652c464c5f99ef0478",
              "9504847b87cb3c99f72d4854bdeaa0ae");
    check_gcm(gcm, "00112233445566778899aabbccddeeff", "", "", "5cc855ae9d4843fa8d24c8c7eea763bf");
    /* Back to a 12-byte IV on the same context. */
    check_gcm(gcm, "cafebabefacedbaddecaf888", mv_pt,
              "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
              "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
              "b094dac5d93471bdec1a502270e3cc6c");
    wifiprov__gcm_free(gcm);
}

/* The shortest and longest accepted IVs, and the refused lengths. */
static void gcm_iv_lengths(void **state)
{
    static const char iv128[] =
        "0b30557a9fc4e90e33587da2c7ec11365b80a5caef14395e83a8cdf2173c6186abd0f51a3f6489aed3f81d42678cb1d6"
        "fb20456a8fb4d9fe23486d92b7dc01264b7095badf04294e7398bde2072c51769bc0e50a2f54799ec3e80d32577ca1c6"
        "eb10355a7fa4c9ee13385d82a7ccf1163b6085aacff4193e6388add2f71c4166";
    static const char pt20[] = "d9313225f88406e5a55909c5aff5269a86a7a953";
    struct wifiprov_gcm *gcm = NULL;
    uint8_t key[32], iv[WIFIPROV_GCM_IV_MAX + 1] = {0}, pt[20] = {0}, out[20], tag[16];

    (void)state;
    unhex(mv_key, key, 32);
    assert_int_equal(wifiprov__gcm_new(key, &gcm), 0);
    check_gcm(gcm, "0b", pt20, "c47aafcbccdefa4678ce7be2850330c82a757daa", "47c7a91e230fdeb4a60acf20bd978273");
    check_gcm(gcm, iv128, pt20, "1943437603a0c0e89e742a076232f29ede755b32", "263e1a369f18df5fa667c5a9de8bcad3");
    assert_int_equal(wifiprov__gcm_encrypt(gcm, iv, 0, pt, sizeof(pt), out, tag), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__gcm_encrypt(gcm, iv, WIFIPROV_GCM_IV_MAX + 1, pt, sizeof(pt), out, tag),
                     WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__gcm_decrypt(gcm, iv, 0, pt, sizeof(pt), tag, out), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__gcm_decrypt(gcm, iv, WIFIPROV_GCM_IV_MAX + 1, pt, sizeof(pt), tag, out),
                     WIFIPROV_ERR_INVAL);
    wifiprov__gcm_free(gcm);
}

/* The first exchanges of the security-2 session of sec2.json (ciphertext || tag). */
static void gcm_sec2_vector(void **state)
{
    static const char *const msg[][3] = {
        /* IV, plaintext, wire */
        {"e3dfd3696e2104c300000001", "0802621c0a07486f6d654e657412117365637265742d70617373706872617365",
         "94ac2f36bb4f637f2f58888a09a62d2a085cffa5f5b46814e3af54516d723caec24e66787b7f67fb2a0a863cb8bd530f"},
        {"e3dfd3696e2104c300000002", "08036a00", "8a5527a8fe513861c097f530a407f75d0376c5a2"},
        {"e3dfd3696e2104c300000003", "0804", "54b98b7d9036594678572bcc050377e65ee6"},
        {"e3dfd3696e2104c300000004", "08057a00", "c06e83dd19e82fb8034642796f60adf58ca09f52"},
    };
    struct wifiprov_gcm *gcm = NULL;
    uint8_t key[32];
    size_t i;

    (void)state;
    unhex("6dd07c6ea378404e4b4b62c7de23f6e40735e704ec7af1a492b4b8964e7165c3", key, 32);
    assert_int_equal(wifiprov__gcm_new(key, &gcm), 0);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(msg); i++) {
        char ct[200], tag[40];
        size_t wl = strlen(msg[i][2]);

        assert_true(wl >= 32 && wl - 32 < sizeof(ct));
        memcpy(ct, msg[i][2], wl - 32);
        ct[wl - 32] = '\0';
        memcpy(tag, msg[i][2] + wl - 32, 33);
        check_gcm(gcm, msg[i][0], msg[i][1], ct, tag);
    }
    wifiprov__gcm_free(gcm);
}

static void gcm_tamper(void **state)
{
    struct wifiprov_gcm *gcm = NULL;
    uint8_t key[32], iv[16], pt[64], ct[64], tag[16], bad[16], out[64];
    size_t pos;

    (void)state;
    unhex(mv_key, key, 32);
    unhex("cafebabefacedbaddecaf888", iv, 12);
    unhex(mv_pt, pt, 64);
    assert_int_equal(wifiprov__gcm_new(key, &gcm), 0);
    assert_int_equal(wifiprov__gcm_encrypt(gcm, iv, 12, pt, 64, ct, tag), 0);

    /* A flipped tag bit: AUTH, and the (correctly decrypted) output is wiped. */
    memcpy(bad, tag, 16);
    bad[15] ^= 0x01;
    memset(out, 0xaa, sizeof(out));
    assert_int_equal(wifiprov__gcm_decrypt(gcm, iv, 12, ct, 64, bad, out), WIFIPROV_ERR_AUTH);
    for (pos = 0; pos < sizeof(out); pos++)
        assert_int_equal(out[pos], 0);

    /* A flipped ciphertext bit. */
    ct[20] ^= 0x80;
    memset(out, 0xaa, sizeof(out));
    assert_int_equal(wifiprov__gcm_decrypt(gcm, iv, 12, ct, 64, tag, out), WIFIPROV_ERR_AUTH);
    assert_true(wifiprov__ct_equal(out, (const uint8_t[64]){0}, 64));
    ct[20] ^= 0x80;

    /* The wrong IV (the next counter value). */
    iv[11] ^= 0x03;
    assert_int_equal(wifiprov__gcm_decrypt(gcm, iv, 12, ct, 64, tag, out), WIFIPROV_ERR_AUTH);
    iv[11] ^= 0x03;

    /* A truncated message. */
    assert_int_equal(wifiprov__gcm_decrypt(gcm, iv, 12, ct, 63, tag, out), WIFIPROV_ERR_AUTH);

    /* The same IV bytes read as a 16-byte IV are a different IV. */
    memcpy(iv + 12, "\x00\x00\x00\x01", 4);
    assert_int_equal(wifiprov__gcm_decrypt(gcm, iv, 16, ct, 64, tag, out), WIFIPROV_ERR_AUTH);

    /* A failure leaves the context usable. */
    assert_int_equal(wifiprov__gcm_decrypt(gcm, iv, 12, ct, 64, tag, out), 0);
    assert_memory_equal(out, pt, 64);

    /* A wrong key. */
    wifiprov__gcm_free(gcm);
    key[0] ^= 1;
    assert_int_equal(wifiprov__gcm_new(key, &gcm), 0);
    assert_int_equal(wifiprov__gcm_decrypt(gcm, iv, 12, ct, 64, tag, out), WIFIPROV_ERR_AUTH);
    wifiprov__gcm_free(gcm);
}

/* ---- big numbers ------------------------------------------------------------- */

struct bn_fixture {
    struct wifiprov_bn_ctx *ctx;
    struct wifiprov_bn *v[8];
};

static int bn_setup(void **state)
{
    struct bn_fixture *f = calloc(1, sizeof(*f));
    size_t i;

    if (!f || wifiprov__bn_ctx_new(&f->ctx))
        return -1;
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(f->v); i++) {
        if (wifiprov__bn_new(&f->v[i]))
            return -1;
    }
    *state = f;
    return 0;
}

static int bn_teardown(void **state)
{
    struct bn_fixture *f = *state;
    size_t i;

    for (i = 0; i < WIFIPROV_ARRAY_SIZE(f->v); i++)
        wifiprov__bn_free(f->v[i]);
    wifiprov__bn_ctx_free(f->ctx);
    free(f);
    return 0;
}

/* Sets @p bn from hex (big-endian, any length). */
static void bn_hex(struct wifiprov_bn *bn, const char *hex)
{
    size_t n = 0;
    uint8_t *b = test_hex(hex, &n);

    assert_int_equal(wifiprov__bn_from_bin(bn, b, n), 0);
    free(b);
}

static void assert_bn_word(const struct wifiprov_bn *bn, uint32_t w)
{
    uint8_t b[8], want[8] = {0, 0, 0, 0, (uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};

    assert_int_equal(wifiprov__bn_to_bin_pad(bn, b, sizeof(b)), 0);
    assert_memory_equal(b, want, sizeof(b));
}

static void assert_bn_hex(const struct wifiprov_bn *bn, const char *hex)
{
    size_t n = 0;
    uint8_t *want = test_hex(hex, &n);
    uint8_t *got = malloc(n + 1);

    assert_non_null(got);
    assert_int_equal(wifiprov__bn_num_bytes(bn), n);
    assert_int_equal(wifiprov__bn_to_bin_pad(bn, got, n), 0);
    assert_memory_equal(got, want, n);
    free(got);
    free(want);
}

static void bn_bytes(void **state)
{
    struct bn_fixture *f = *state;
    struct wifiprov_bn *a = f->v[0];
    uint8_t buf[6];

    bn_hex(a, "000000000102");
    assert_int_equal(wifiprov__bn_num_bytes(a), 2);
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(wifiprov__bn_to_bin_pad(a, buf, 4), 0);
    assert_memory_equal(buf, "\x00\x00\x01\x02\xee\xee", 6);
    assert_int_equal(wifiprov__bn_to_bin_pad(a, buf, 2), 0);
    assert_memory_equal(buf, "\x01\x02", 2);
    assert_int_equal(wifiprov__bn_to_bin_pad(a, buf, 1), WIFIPROV_ERR_NOSPC);
    assert_false(wifiprov__bn_is_zero(a));

    /* Zero: no bytes, pads to all zeros, fits in a zero-length buffer. */
    assert_int_equal(wifiprov__bn_from_bin(a, buf, 0), 0);
    assert_true(wifiprov__bn_is_zero(a));
    assert_int_equal(wifiprov__bn_num_bytes(a), 0);
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(wifiprov__bn_to_bin_pad(a, buf, 3), 0);
    assert_memory_equal(buf, "\x00\x00\x00\xee", 4);
    assert_int_equal(wifiprov__bn_to_bin_pad(a, buf, 0), 0);
    bn_hex(a, "00000000");
    assert_true(wifiprov__bn_is_zero(a));

    /* set_word covers all 32 bits; num_bytes counts only significant bytes. */
    assert_int_equal(wifiprov__bn_set_word(a, 0xfedcba98u), 0);
    assert_int_equal(wifiprov__bn_num_bytes(a), 4);
    assert_bn_word(a, 0xfedcba98u);
    assert_int_equal(wifiprov__bn_set_word(a, 0x80), 0);
    assert_int_equal(wifiprov__bn_num_bytes(a), 1);
    assert_int_equal(wifiprov__bn_set_word(a, 0x100), 0);
    assert_int_equal(wifiprov__bn_num_bytes(a), 2);
    assert_int_equal(wifiprov__bn_set_word(a, 0), 0);
    assert_true(wifiprov__bn_is_zero(a));

    /* A value spanning several limbs survives the round trip, including a 0x00 limb. */
    bn_hex(a, "0123456789abcdef0000000000000000fedcba9876543210ff");
    assert_bn_hex(a, "0123456789abcdef0000000000000000fedcba9876543210ff");
}

static void bn_compare(void **state)
{
    struct bn_fixture *f = *state;
    struct wifiprov_bn *a = f->v[0], *b = f->v[1];

    assert_int_equal(wifiprov__bn_set_word(a, 5), 0);
    assert_int_equal(wifiprov__bn_set_word(b, 7), 0);
    assert_int_equal(wifiprov__bn_cmp(a, b), -1);
    assert_int_equal(wifiprov__bn_cmp(b, a), 1);
    assert_int_equal(wifiprov__bn_cmp(a, a), 0);
    bn_hex(b, "0100000000000000000000000000000005");
    assert_int_equal(wifiprov__bn_cmp(a, b), -1);
    assert_int_equal(wifiprov__bn_cmp(b, a), 1);
    bn_hex(a, "00000100000000000000000000000000000005");
    assert_int_equal(wifiprov__bn_cmp(a, b), 0);
}

static void bn_mod_arith(void **state)
{
    struct bn_fixture *f = *state;
    struct wifiprov_bn *a = f->v[0], *b = f->v[1], *m = f->v[2], *r = f->v[3];

    assert_int_equal(wifiprov__bn_set_word(m, 11), 0);

    assert_int_equal(wifiprov__bn_set_word(a, 7), 0);
    assert_int_equal(wifiprov__bn_set_word(b, 5), 0);
    assert_int_equal(wifiprov__bn_mod_add(r, a, b, m, f->ctx), 0);
    assert_bn_word(r, 1);
    assert_int_equal(wifiprov__bn_mod_sub(r, a, b, m, f->ctx), 0);
    assert_bn_word(r, 2);
    /* a < b: the result wraps to a non-negative value. */
    assert_int_equal(wifiprov__bn_mod_sub(r, b, a, m, f->ctx), 0);
    assert_bn_word(r, 9);
    assert_int_equal(wifiprov__bn_mod_mul(r, a, b, m, f->ctx), 0);
    assert_bn_word(r, 2);

    /* Inputs >= m. */
    assert_int_equal(wifiprov__bn_set_word(a, 25), 0);
    assert_int_equal(wifiprov__bn_set_word(b, 30), 0);
    assert_int_equal(wifiprov__bn_mod_add(r, a, b, m, f->ctx), 0);
    assert_bn_word(r, 0);
    assert_true(wifiprov__bn_is_zero(r));
    assert_int_equal(wifiprov__bn_mod_sub(r, a, b, m, f->ctx), 0); /* -5 mod 11 */
    assert_bn_word(r, 6);
    assert_int_equal(wifiprov__bn_mod_mul(r, a, b, m, f->ctx), 0); /* 750 mod 11 */
    assert_bn_word(r, 2);
    assert_int_equal(wifiprov__bn_mod(r, b, m, f->ctx), 0);
    assert_bn_word(r, 8);
    /* Equal operands subtract to zero. */
    assert_int_equal(wifiprov__bn_mod_sub(r, a, a, m, f->ctx), 0);
    assert_true(wifiprov__bn_is_zero(r));

    /* Output aliasing an input. */
    assert_int_equal(wifiprov__bn_mod_add(a, a, b, m, f->ctx), 0);
    assert_bn_word(a, 0);

    /* Multi-limb: (2^128 - 1) mod (2^64 + 13) and the plain product / sum. */
    bn_hex(a, "ffffffffffffffffffffffffffffffff");
    bn_hex(m, "01000000000000000d");
    assert_int_equal(wifiprov__bn_mod(r, a, m, f->ctx), 0);
    /* 2^128 - 1 = (2^64 + 13)(2^64 - 13) + 168, so the remainder is 168. */
    assert_bn_word(r, 168);
    assert_int_equal(wifiprov__bn_mul(r, a, a, f->ctx), 0);
    assert_bn_hex(r, "fffffffffffffffffffffffffffffffe00000000000000000000000000000001");
    assert_int_equal(wifiprov__bn_add(r, a, a), 0);
    assert_bn_hex(r, "01fffffffffffffffffffffffffffffffe");
    assert_int_equal(wifiprov__bn_set_word(b, 1), 0);
    assert_int_equal(wifiprov__bn_add(r, a, b), 0);
    assert_bn_hex(r, "0100000000000000000000000000000000");
}

static void bn_mod_exp_small(void **state)
{
    struct bn_fixture *f = *state;
    struct wifiprov_bn *a = f->v[0], *e = f->v[1], *m = f->v[2], *r = f->v[3];

    /* 4^13 mod 497 = 445. */
    assert_int_equal(wifiprov__bn_set_word(a, 4), 0);
    assert_int_equal(wifiprov__bn_set_word(e, 13), 0);
    assert_int_equal(wifiprov__bn_set_word(m, 497), 0);
    assert_int_equal(wifiprov__bn_mod_exp(r, a, e, m, f->ctx), 0);
    assert_bn_word(r, 445);
    /* A base >= m is reduced first: 501 = 4 mod 497. */
    assert_int_equal(wifiprov__bn_set_word(a, 501), 0);
    assert_int_equal(wifiprov__bn_mod_exp(r, a, e, m, f->ctx), 0);
    assert_bn_word(r, 445);
    /* r may alias a. */
    assert_int_equal(wifiprov__bn_mod_exp(a, a, e, m, f->ctx), 0);
    assert_bn_word(a, 445);
    /* e = 0 gives 1, e = 1 gives a mod m. */
    assert_int_equal(wifiprov__bn_set_word(e, 0), 0);
    assert_int_equal(wifiprov__bn_mod_exp(r, a, e, m, f->ctx), 0);
    assert_bn_word(r, 1);
    assert_int_equal(wifiprov__bn_set_word(e, 1), 0);
    assert_int_equal(wifiprov__bn_mod_exp(r, a, e, m, f->ctx), 0);
    assert_bn_word(r, 445);
    /* A different modulus after the first (a backend caching per-modulus state must notice). */
    assert_int_equal(wifiprov__bn_set_word(a, 3), 0);
    assert_int_equal(wifiprov__bn_set_word(e, 200), 0);
    assert_int_equal(wifiprov__bn_set_word(m, 1000003), 0);
    assert_int_equal(wifiprov__bn_mod_exp(r, a, e, m, f->ctx), 0);
    assert_bn_word(r, 333986); /* pow(3, 200, 1000003) */
    /* Even moduli are refused. */
    assert_int_equal(wifiprov__bn_set_word(m, 1000), 0);
    assert_true(wifiprov__bn_mod_exp(r, a, e, m, f->ctx) < 0);
}

/* r = a^e by square-and-multiply over bn_mod_mul, to check bn_mod_exp independently (r != a). */
static void slow_mod_exp(struct bn_fixture *f, struct wifiprov_bn *r, const struct wifiprov_bn *a, const uint8_t *e,
                         size_t e_len, const struct wifiprov_bn *m)
{
    size_t i;
    int bit;

    assert_int_equal(wifiprov__bn_set_word(r, 1), 0);
    assert_int_equal(wifiprov__bn_mod(r, r, m, f->ctx), 0);
    for (i = 0; i < e_len; i++) {
        for (bit = 7; bit >= 0; bit--) {
            assert_int_equal(wifiprov__bn_mod_mul(r, r, r, m, f->ctx), 0);
            if ((e[i] >> bit) & 1)
                assert_int_equal(wifiprov__bn_mod_mul(r, r, a, m, f->ctx), 0);
        }
    }
}

static void bn_mod_exp_vs_mul(void **state)
{
    struct bn_fixture *f = *state;
    struct wifiprov_bn *a = f->v[0], *e = f->v[1], *m = f->v[2], *r = f->v[3], *s = f->v[4], *t = f->v[5];
    uint8_t buf[384], eb[10];
    size_t i, round;

    for (round = 0; round < 3; round++) {
        /* Moduli of 3072, 1000 and 72 bits (odd); the base is longer than the modulus. */
        static const size_t m_len[] = {384, 125, 9};
        size_t ml = m_len[round];

        for (i = 0; i < sizeof(buf); i++)
            buf[i] = (uint8_t)(i * 151 + round * 29 + 1);
        buf[0] |= 0x80;
        buf[ml - 1] |= 1;
        assert_int_equal(wifiprov__bn_from_bin(m, buf, ml), 0);
        for (i = 0; i < sizeof(buf); i++)
            buf[i] = (uint8_t)(i * 87 + round * 13 + 5);
        assert_int_equal(wifiprov__bn_from_bin(a, buf, sizeof(buf)), 0);
        for (i = 0; i < sizeof(eb); i++)
            eb[i] = (uint8_t)(i * 59 + round * 101 + 3);
        eb[0] |= 0x80;
        assert_int_equal(wifiprov__bn_from_bin(e, eb, sizeof(eb)), 0);

        assert_int_equal(wifiprov__bn_mod_exp(r, a, e, m, f->ctx), 0);
        assert_int_equal(wifiprov__bn_mod(t, a, m, f->ctx), 0);
        slow_mod_exp(f, s, t, eb, sizeof(eb), m);
        assert_int_equal(wifiprov__bn_cmp(r, s), 0);
        assert_false(wifiprov__bn_is_zero(r));
    }

    /* A base that is a multiple of m gives 0; m = 1 gives 0. */
    assert_int_equal(wifiprov__bn_mul(a, m, m, f->ctx), 0);
    assert_int_equal(wifiprov__bn_mod_exp(r, a, e, m, f->ctx), 0);
    assert_true(wifiprov__bn_is_zero(r));
    assert_int_equal(wifiprov__bn_set_word(m, 1), 0);
    assert_int_equal(wifiprov__bn_set_word(a, 12345), 0);
    assert_int_equal(wifiprov__bn_mod_exp(r, a, e, m, f->ctx), 0);
    assert_true(wifiprov__bn_is_zero(r));
}

static const char srp_N[] =
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b30"
    "2b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe64928"
    "6651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c35"
    "4e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497c"
    "ea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33a85521abdf1cba64ecfb850458dbef0a8aea71575d060c7db3970f85a6"
    "e1e4c7abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200cbbe117577a61"
    "5d6c770988c0bad946e208e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffffffffffffffff";
static const char srp_v[] =
    "7c7c85476508946dd636af37d7e8914378cffd616c59d2f83908127238de9e24a470261cdfa903c2b270e7b13224da111d9718dc607208cc"
    "9ac90c4827e2ae89aa1625b804d21a9b3a8f37f6e43a712ee127866eadce28ff5446601fb99687dc5740a7d46cc97754dc1682f0ed356ac4"
    "70ad3d90b5819470d7bc65b2d518e02ec3a5f968dd647bb8b73c9cfc00d8717eb79a7cb1b7c2c318342932433e0099e98294e3d82ab09629"
    "b7df0e5f08334076529132009f972c896c391ec8280544173f68028a9f4461d1f5a17e5a70d2c72381cb3868e42c20bc40577617bd08b896"
    "bc26eb32466935058c1570d91be9becca938a667f0ad5013197264bf52c234e21b11797472bd345bb1e2fd6673fe716474d04ebc51241940"
    "870e9240e621e72d4e37762f2ee268c789e8321342068484534ab30c1b4c8d1c519719abae77ffdbecf0109534336bcb3e840fb9d85fb8a0"
    "b855533e70f718f5ce7b4ebf27cecea8b3be40c5c532293e71649ede8cf675a1e6f653c831a878de5040f762de36b2ba";
static const char srp_x[] = "869b97a7399bdc2e9e2943dbf1f5347a10108ea60e278cafb5849aa0c14f6b73"
                            "5aa186d260e779838af03d4393961086dabe3321c01c58672f186b698f83314a";

/* The published example verifier: v = 5^x mod N (PROTOCOL.md 12.1). */
static void bn_srp_verifier(void **state)
{
    struct bn_fixture *f = *state;
    struct wifiprov_bn *g = f->v[0], *x = f->v[1], *n = f->v[2], *v = f->v[3];
    uint8_t buf[384];

    bn_hex(n, srp_N);
    assert_int_equal(wifiprov__bn_num_bytes(n), 384);
    bn_hex(x, srp_x);
    assert_int_equal(wifiprov__bn_set_word(g, 5), 0);
    assert_int_equal(wifiprov__bn_mod_exp(v, g, x, n, f->ctx), 0);
    assert_bn_hex(v, srp_v);
    /* Twice, so a cached Montgomery context is exercised too. */
    assert_int_equal(wifiprov__bn_mod_exp(v, g, x, n, f->ctx), 0);
    assert_int_equal(wifiprov__bn_to_bin_pad(v, buf, sizeof(buf)), 0);
    assert_hex(buf, sizeof(buf), srp_v);
}

/* The whole SRP-6a arithmetic of sec2.json on both sides (inputs a, b; results A, B, S). */
static void bn_srp_sec2_vector(void **state)
{
    static const char k_hex[] = "a9c2e2559bf0ebb53f0cbbf62282906bede7f2182f00678211fbd5bde5b28503"
                                "3a4993503b87397f9be5ec02080fedbc0835587ad039060879b8621e8c3659e0";
    static const char u_hex[] = "2e96f6843252d0b08fda3ee3044ad86e01cb3789f2f19e499658878efe8df07e"
                                "ab6915cb64f8ef95501878ec25e233c32dd0edfab0a9246697c5ec99ff8f003a";
    static const char A_hex[] =
        "c122e190f0f1cad056a1e646aab754270ffbb41ba1a0d498e828cf09bb6a26b4838a306803689ca1755dd2435e133aa7b35faa3d3e09f1"
        "be648064eb8a7c72b90db17e4b17b9c8b395df1f455d06d16a9e169ade9adbf025db2ecf3f8e933c32dc8d47e31f1b5acc38a28a1b0a0f"
        "2ee3bdf0830b21e400a487e54bc6b297a58728c8e677ae2687b3d02517adb895ba5701e42ef3987a4244d42fbb5e313c7b2f6296cbe858"
        "18fcef882a0e4c86a8d9fe2f8cc4a8988fb66eb7c8764bbb530a5c43ce37b7b1a0340754367b7b13302ae1ef5910a7f48a5e463ede935b"
        "42620f37950092586c40e6bb16223ba6a0f1b2aa3ea8a0de7bf4742b057c619d6d9c57249a12d2135d289322b3e9a306f22ca45117b3fb"
        "9d893a95ec7e023859c5303135fb2b8f21d09a2ffd455bbc24739a4378ed6b2e7de4d8c2dd5a4e8764816ef1a07ecffff5c2abcedd2f5c"
        "b250efddcec050cea8c6d9231ea2d5677592e9d7729ab4c36966f928e9425c35a594bd9faf6b57f44e333579f47c2070588983a612f8";
    static const char B_hex[] =
        "6874ccf1ec65e05750c50d2b6bc257575b42203b45f3291a67256d44bf3c725f2fbbe22a9464c65f6f38ce850f1574dade2453a23a7836"
        "d5be284b0328eef97bd7e14d4d589ca5e864e10297e1619903129400b82189cd4c9139b416d03af6abece7f64f287569812a99cb801844"
        "38c852ddc1431c3c4ad2d77b117abd8eef049a1c509ce7a2a684f690724984f91b43e7f6041fad5a743d9eebc8e15cbf994b9d82e2bf30"
        "4f8a9ab17148815d7b13835edc5dff5a349ab9eacf88079ccf044d45b1925ea6be92bb8d99f9a2f2cfceaab808293b9a433c651dadf954"
        "4bdb44f6e0b46e6dc6e1ae7e22e2f2ef995d27e2b66f71aeb93d491190f28475ba690e3295fe5d311745611632f5d4c302f15d142ec832"
        "807eec2b48a463a5f1e1ecfc5ad3f7c299e3463d5208924aefca169e7b274e2112d604b0f724bbd247887c3ce21f63cb7ba8cb47347dae"
        "99b93cc1e5c4451b3ba91fbc851646aca6a56b1f13343b8d4d6ade5c03e1c0473b13982a2251d62799cebecf45fed0e7d70f05e5a23c";
    static const char S_hex[] =
        "10f507496ee0bbf9ad747fbfa03e71ba57c343d88663cacd627ded0daad4f7f687c555a2f31fc0964dba83748666f873c2f03c564eacbe"
        "fccae03b0194fd3eca2335b8efb73b2b7e0ea19dfc5fc1dd5a1c06dbc144070b602252987ce59bf2f97d158845ebc3c74b1f4112df525b"
        "5cc3aa5e0332a3aa546b21248634c910231e869ccbe3dc80279737aa3adc7009e6e8b39b873af54d856fe07397bcdf05f1297c823c363b"
        "cd9b0fc0036606a53b5ac0291b1393263e14a5fb71d77ab5ee15ee9e329ffae5b67ac2d4608d98e3ab1550ad3189a64c027708a36e8da1"
        "adbe1719dac86c633520be43317f284da4c24f5068e337d0a0b9548161202cc9e3b3bff4b2f6d2256374a74547d5344461344e01f72e48"
        "c56f7d9f5a70ed475e19412a6aa1136176c162dd0bd08abb2337efa7845ca6596c83ab8fd1f3c1dce5a2beb74e68c8d5d042b4959e3933"
        "19a63c6bc6552c8e0a6a3346f294aa0e4f392057204844802d660abcdcde8ccfda873aee34ff53469056fe9271b8acbfd6ed3f77292a";
    struct bn_fixture *f = *state;
    struct wifiprov_bn *N = f->v[0], *g = f->v[1], *k = f->v[2], *v = f->v[3];
    struct wifiprov_bn *s = f->v[4], *t = f->v[5], *e = f->v[6], *r = f->v[7];
    struct wifiprov_bn *u = NULL, *x = NULL;

    assert_int_equal(wifiprov__bn_new(&u), 0);
    assert_int_equal(wifiprov__bn_new(&x), 0);
    bn_hex(N, srp_N);
    assert_int_equal(wifiprov__bn_set_word(g, 5), 0);
    bn_hex(k, k_hex);
    bn_hex(v, srp_v);
    bn_hex(u, u_hex);
    bn_hex(x, srp_x);

    /* A = g^a */
    bn_hex(s, "bd4a09e2e438e971f1b9c3e3d40b25ee39c154080ea2ec708abe7c34ab0569cd");
    assert_int_equal(wifiprov__bn_mod_exp(r, g, s, N, f->ctx), 0);
    assert_bn_hex(r, A_hex);

    /* B = k*v + g^b */
    bn_hex(s, "6a69592d1a53ad192464d664e80fa8bbb1c7b0d8949f43791a6cf01bcc5841df");
    assert_int_equal(wifiprov__bn_mod_mul(t, k, v, N, f->ctx), 0);
    assert_int_equal(wifiprov__bn_mod_exp(r, g, s, N, f->ctx), 0);
    assert_int_equal(wifiprov__bn_mod_add(r, t, r, N, f->ctx), 0);
    assert_bn_hex(r, B_hex);

    /* Device: S = (A * v^u)^b */
    bn_hex(t, A_hex);
    assert_int_equal(wifiprov__bn_mod_exp(e, v, u, N, f->ctx), 0);
    assert_int_equal(wifiprov__bn_mod_mul(e, t, e, N, f->ctx), 0);
    assert_int_equal(wifiprov__bn_mod_exp(r, e, s, N, f->ctx), 0);
    assert_bn_hex(r, S_hex);

    /* Client: S = (B - k*v)^(a + u*x) */
    bn_hex(t, B_hex);
    assert_int_equal(wifiprov__bn_mod_mul(e, k, v, N, f->ctx), 0);
    assert_int_equal(wifiprov__bn_mod_sub(t, t, e, N, f->ctx), 0);
    assert_int_equal(wifiprov__bn_mul(e, u, x, f->ctx), 0);
    bn_hex(s, "bd4a09e2e438e971f1b9c3e3d40b25ee39c154080ea2ec708abe7c34ab0569cd");
    assert_int_equal(wifiprov__bn_add(e, s, e), 0);
    assert_int_equal(wifiprov__bn_mod_exp(r, t, e, N, f->ctx), 0);
    assert_bn_hex(r, S_hex);

    wifiprov__bn_free(u);
    wifiprov__bn_free(x);
    wifiprov__bn_free(NULL);
}

/* ---- misc ------------------------------------------------------------------- */

static void ct_equal(void **state)
{
    uint8_t a[33], b[33];

    (void)state;
    memset(a, 0x5a, sizeof(a));
    memset(b, 0x5a, sizeof(b));
    assert_true(wifiprov__ct_equal(a, b, sizeof(a)));
    assert_true(wifiprov__ct_equal(a, b, 0));
    b[0] ^= 1;
    assert_false(wifiprov__ct_equal(a, b, sizeof(a)));
    assert_true(wifiprov__ct_equal(a + 1, b + 1, sizeof(a) - 1));
    b[0] ^= 1;
    b[32] ^= 0x80;
    assert_false(wifiprov__ct_equal(a, b, sizeof(a)));
    assert_true(wifiprov__ct_equal(a, b, sizeof(a) - 1));
}

static void random_bytes(void **state)
{
    uint8_t a[32], b[32], zero[32] = {0};

    (void)state;
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_int_equal(wifiprov__crypto_random(a, sizeof(a)), 0);
    assert_int_equal(wifiprov__crypto_random(b, sizeof(b)), 0);
    assert_int_equal(wifiprov__crypto_random(b, 0), 0);
    /* Each fails with probability 2^-256 for a working generator. */
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_memory_not_equal(a, b, sizeof(a));
}

static void backend_name(void **state)
{
    const char *name = wifiprov__crypto_backend();

    (void)state;
    assert_non_null(name);
#ifdef TEST_CRYPTO_BACKEND
    assert_true(strncmp(name, TEST_CRYPTO_BACKEND " ", strlen(TEST_CRYPTO_BACKEND) + 1) == 0);
#endif
    assert_true(strlen(name) > 8);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(x25519_rfc7748_vectors),
        cmocka_unit_test(x25519_rfc7748_iterated),
        cmocka_unit_test(x25519_rfc7748_dh),
        cmocka_unit_test(x25519_sec1_vector),
        cmocka_unit_test(x25519_non_canonical),
        cmocka_unit_test(x25519_low_order),
        cmocka_unit_test(sha1_known_answers),
        cmocka_unit_test(sha256_known_answers),
        cmocka_unit_test(sha512_known_answers),
        cmocka_unit_test(ctr_nist_f55),
        cmocka_unit_test(ctr_counter_carry),
        cmocka_unit_test(ctr_stream_split),
        cmocka_unit_test(ctr_sec1_stream),
        cmocka_unit_test(gcm_mv_tc15_16),
        cmocka_unit_test(gcm_long_ivs),
        cmocka_unit_test(gcm_iv_lengths),
        cmocka_unit_test(gcm_sec2_vector),
        cmocka_unit_test(gcm_tamper),
        cmocka_unit_test_setup_teardown(bn_bytes, bn_setup, bn_teardown),
        cmocka_unit_test_setup_teardown(bn_compare, bn_setup, bn_teardown),
        cmocka_unit_test_setup_teardown(bn_mod_arith, bn_setup, bn_teardown),
        cmocka_unit_test_setup_teardown(bn_mod_exp_small, bn_setup, bn_teardown),
        cmocka_unit_test_setup_teardown(bn_mod_exp_vs_mul, bn_setup, bn_teardown),
        cmocka_unit_test_setup_teardown(bn_srp_verifier, bn_setup, bn_teardown),
        cmocka_unit_test_setup_teardown(bn_srp_sec2_vector, bn_setup, bn_teardown),
        cmocka_unit_test(ct_equal),
        cmocka_unit_test(random_bytes),
        cmocka_unit_test(backend_name),
    };

    return TEST_RUN("crypto", tests, argc, argv);
}
