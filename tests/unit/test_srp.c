/*
 * SRP-6a: RFC 5054 Appendix B (1024-bit group, g = 2, SHA-1), the protocol's
 * 3072-bit/SHA-512 values of PROTOCOL.md §12.1 and §12.2, the padding and
 * zero rules, and the salt/verifier generator.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "sec/srp6a.h"
#include "testutil.h"
#include "util.h"
#include "wifiprov/device.h"

/* ---- RFC 5054 Appendix A (1024-bit group) and Appendix B ---- */

static const char rfc_n[] = "EEAF0AB9 ADB38DD6 9C33F80A FA8FC5E8 60726187 75FF3C0B 9EA2314C"
                            "9C256576 D674DF74 96EA81D3 383B4813 D692C6E0 E0D5D8E2 50B98BE4"
                            "8E495C1D 6089DAD1 5DC7D7B4 6154D6B6 CE8EF4AD 69B15D49 82559B29"
                            "7BCF1885 C529F566 660E57EC 68EDBC3C 05726CC0 2FD4CBF4 976EAA9A"
                            "FD5138FE 8376435B 9FC61D2F C0EB06E3";
static const char rfc_salt[] = "BEB25379 D1A8581E B5A72767 3A2441EE";
static const char rfc_k[] = "7556AA04 5AEF2CDD 07ABAF0F 665C3E81 8913186F";
static const char rfc_x[] = "94B7555A ABE9127C C58CCF49 93DB6CF8 4D16C124";
static const char rfc_v[] = "7E273DE8 696FFC4F 4E337D05 B4B375BE B0DDE156 9E8FA00A 9886D812"
                            "9BADA1F1 822223CA 1A605B53 0E379BA4 729FDC59 F105B478 7E5186F5"
                            "C671085A 1447B52A 48CF1970 B4FB6F84 00BBF4CE BFBB1681 52E08AB5"
                            "EA53D15C 1AFF87B2 B9DA6E04 E058AD51 CC72BFC9 033B564E 26480D78"
                            "E955A5E2 9E7AB245 DB2BE315 E2099AFB";
static const char rfc_a[] = "60975527 035CF2AD 1989806F 0407210B C81EDC04 E2762A56 AFD529DD DA2D4393";
static const char rfc_b[] = "E487CB59 D31AC550 471E81F0 0F6928E0 1DDA08E9 74A004F4 9E61F5D1 05284D20";
static const char rfc_A[] = "61D5E490 F6F1B795 47B0704C 436F523D D0E560F0 C64115BB 72557EC4"
                            "4352E890 3211C046 92272D8B 2D1A5358 A2CF1B6E 0BFCF99F 921530EC"
                            "8E393561 79EAE45E 42BA92AE ACED8251 71E1E8B9 AF6D9C03 E1327F44"
                            "BE087EF0 6530E69F 66615261 EEF54073 CA11CF58 58F0EDFD FE15EFEA"
                            "B349EF5D 76988A36 72FAC47B 0769447B";
static const char rfc_B[] = "BD0C6151 2C692C0C B6D041FA 01BB152D 4916A1E7 7AF46AE1 05393011"
                            "BAF38964 DC46A067 0DD125B9 5A981652 236F99D9 B681CBF8 7837EC99"
                            "6C6DA044 53728610 D0C6DDB5 8B318885 D7D82C7F 8DEB75CE 7BD4FBAA"
                            "37089E6F 9C6059F3 88838E7A 00030B33 1EB76840 910440B1 B27AAEAE"
                            "EB4012B7 D7665238 A8E3FB00 4B117B58";
static const char rfc_u[] = "CE38B959 3487DA98 554ED47D 70A7AE5F 462EF019";
static const char rfc_S[] = "B0DC82BA BCF30674 AE450C02 87745E79 90A3381F 63B387AA F271A10D"
                            "233861E3 59B48220 F7C4693C 9AE12B0A 6F67809F 0876E2D0 13800D6C"
                            "41BB59B6 D5979B5C 00A172B4 A2A5903A 0BDCAF8A 709585EB 2AFAFA8F"
                            "3499B200 210DCC1F 10EB3394 3CD67FC8 8A2F39A4 BE5BEC4E C0A3212D"
                            "C346D7E4 74B29EDE 8A469FFE CA686E5A";

/* ---- PROTOCOL.md §12.1 / §12.2 (wifiprov / abcd1234) ---- */

static const char p_salt[] = "036ee0c7bcb9eda84c9eac97d93decf4";
static const char p_v[] = "7c7c85476508946dd636af37d7e8914378cffd616c59d2f83908127238de9e24"
                          "a470261cdfa903c2b270e7b13224da111d9718dc607208cc9ac90c4827e2ae89"
                          "aa1625b804d21a9b3a8f37f6e43a712ee127866eadce28ff5446601fb99687dc"
                          "5740a7d46cc97754dc1682f0ed356ac470ad3d90b5819470d7bc65b2d518e02e"
                          "c3a5f968dd647bb8b73c9cfc00d8717eb79a7cb1b7c2c318342932433e0099e9"
                          "8294e3d82ab09629b7df0e5f08334076529132009f972c896c391ec828054417"
                          "3f68028a9f4461d1f5a17e5a70d2c72381cb3868e42c20bc40577617bd08b896"
                          "bc26eb32466935058c1570d91be9becca938a667f0ad5013197264bf52c234e2"
                          "1b11797472bd345bb1e2fd6673fe716474d04ebc51241940870e9240e621e72d"
                          "4e37762f2ee268c789e8321342068484534ab30c1b4c8d1c519719abae77ffdb"
                          "ecf0109534336bcb3e840fb9d85fb8a0b855533e70f718f5ce7b4ebf27cecea8"
                          "b3be40c5c532293e71649ede8cf675a1e6f653c831a878de5040f762de36b2ba";
static const char p_inner[] = "714242d85f632d879099ff6ad0a090f2ea6da5af6b1b24cd2326ac73472f97e9"
                              "5ab9b2c537cbae0ea5ef10e3849b616269a3fadf8e193745008648e2efb01447";
static const char p_x[] = "869b97a7399bdc2e9e2943dbf1f5347a10108ea60e278cafb5849aa0c14f6b73"
                          "5aa186d260e779838af03d4393961086dabe3321c01c58672f186b698f83314a";
static const char p_k[] = "a9c2e2559bf0ebb53f0cbbf62282906bede7f2182f00678211fbd5bde5b28503"
                          "3a4993503b87397f9be5ec02080fedbc0835587ad039060879b8621e8c3659e0";
static const char p_a[] = "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f";
static const char p_A[] = "6e08063dfd1a6bbfc6422fe2f5209c65cddc53c28a93df8dc9ffe34cf4d873fd"
                          "86e9c24ac84f1c3d5d73a6bd640636923360a0cc2b5b4f82933238b9b3e69164"
                          "8b37077c944dc502b789642efccb565de76a54f73c2a2a9284af59b29c8eea47"
                          "434d62c67699b4072b08d287df798ee6186f467cf6a8bcb90d64be509d979d1d"
                          "8643945f16412f940a48dd68b42782d0ab7e486de6d72c84ab3fe49c9bb7e071"
                          "ce0b60e9bf4c4925e5184f5a4b9ad09e2f3d0676dcf5b057821b44f7f172962c"
                          "12d23d57ddea9ed9acbb945a9ccd6a36f49d15f591004ad8ece7e147ace5c7e0"
                          "db8d13fdc7baa737d875ae518d08f6b3ae5a703472fdfe1d2459a79e33a46a61"
                          "5bbc24ad7069e5ac2c5ae10b8a6a296e052ac49174e7730ed1b7225eed43d8b8"
                          "2c28d7aa4d06826de2768b3a434719363d6a4e2fea50fa62dc5d02a64c0c1aef"
                          "d0fe664476b1f7da1e329db6da7dfb395be32611a5423c74a8fff54d7a33642e"
                          "87a5723df5985cada6d9af2cc1e71af17c1b00858526a3df0b866fcb67dc6307";
static const char p_b[] = "21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa";
static const char p_B[] = "d020c4ffb93c79dee9a9ac4099a5d33ee0abbbb4c44430c11e570b59a46e79dc"
                          "3b4b1ae24dea139f68d5523b873a35ae68e4961ff7597ad811762fcfb7c4f6db"
                          "113c996e0804ea2f47aeb1ed2780f90774194a087c6d1681674946966f16bb1a"
                          "ffe2d93833ae4126e70fae530d0f2bfd949665b773fb68615ed3e2ec888237b2"
                          "d006f3f6b6c2907f1f80a04dc9c67e76d26ec94abd26a8ce6c06646e85842b2c"
                          "3fe48fa2c6f4decdc702c18a62fcbdadf0ec1dc0319afdc58ab800c5de645b72"
                          "3f1fa5a96161622d11c5091bebe9a66e20bc33c386bc5dddb86aae0717509338"
                          "9e1c37067b16e8f92b8c3dfaf8c6879597dcd5b8276b59da8662ecfa03a419a4"
                          "24d9e7aea806f05f8ea2c9b522121f94e02373f69208d00bcef2a4ef841ea1fc"
                          "1507a5ae45df5c45ae5abd25b92c24d69ecc3f946535ecacbb12dca2a33a4d1a"
                          "d7b6782d1ccb0e0ec0704b7e5a47479c8b113cf775a6943565265824753eaecc"
                          "51bf083d7e6c242dc63f6164950223b2880a948d55d74fe111cb60a934919cb1";
static const char p_u[] = "bd81008cedec5c66b393fb455e710f669c62381d8117860275f9ee66702c537e"
                          "d47c22ddc9738be28c50f6d8cf1e8e7d4a557fd67c45dc2931435eca6e7f105b";
static const char p_S[] = "f739147bbae3e1c3b174a3d0cb8dd56a3a041c219f363ec78d627217020fdcaa"
                          "c26c5d3c604b9cc70c0a62101d354fa23b5c1d5de92387ffa4ef62e3af8ed80f"
                          "f3e49149ab5be83a65a5a65089a9943ff4d08ca8e701c1285cc22ff77fab3730"
                          "92c9984a01a6a37d10ddd9689e89dac9f2cbd7861588745c5ca0a3fcd94ee34a"
                          "da2d13f5cb219d216a4d5d270864e59ae98c187f4f6e7dc44c75abfbe1add3bb"
                          "81e8fb9cf6f2998d181ed02165449982174219a8e2c222fce503adebe31a256f"
                          "5722295b0605c2f428a2972b64855c8e933527cd27ba4b876155983b1efaf36f"
                          "fab0d84cc25ca75589bd3e2e15ec9e144f28fca2655f249d5abea41d081e1b5b"
                          "f21781c844ea521ce62be1168c91b001bab0509bfb867cd52f2edb6e4297e2fc"
                          "79ae71743a8ae81bb537c696d54adea681aea5be894d738780dbc3c975afb1e5"
                          "60fde96a737d7cc57fe467cec36b4843739f9a64d88e01a934eaed7c92fc5e85"
                          "df601991e55f8016351fca5d22f42eac25ef517d0444d4a8eac0686065e096e0";
static const char p_K[] = "77a33bc35377e035cc0eab7ddba28277983eb7ce40aeb25a3d90e64b4dfbf1c6"
                          "8cec1c63621772f75518d93189c0a594559ceccbf5e12c51be7f69fad4820305";
static const char p_M1[] = "a9341e693de13a8b6b1cd643c79d54d42e54f31aa20d9cfe25db186f9d0f474c"
                           "81b4742fbeaa61143f0e6f9dd77de95bf481c202ecca5b4c37f832cad1f34e99";
static const char p_M2[] = "f539a707d38581f7d73dcd6dafa7b8545d5acf9d263c9238dd9d019428098de8"
                           "bcf7066bc2dccf26ddb6715241875078f95c75baa78fada579764ad02fbaabcd";

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
    size_t want_len;
    uint8_t *want = test_hex(want_hex, &want_len);

    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, len);
    free(want);
}

/* got is zero-padded to len bytes; want is minimal. */
static void assert_num(const uint8_t *got, size_t len, const char *want_hex)
{
    size_t off = 0;

    while (off < len && got[off] == 0)
        off++;
    assert_hex(got + off, len - off, want_hex);
}

static uint8_t rfc_n_bytes[128];

static struct wifiprov_srp *rfc_group(struct wifiprov_srp_group *grp)
{
    struct wifiprov_srp *srp = NULL;
    size_t len = 0;

    assert_int_equal(wifiprov__hex_decode(rfc_n, rfc_n_bytes, sizeof(rfc_n_bytes), &len), 0);
    assert_int_equal(len, 128);
    grp->n = rfc_n_bytes;
    grp->n_len = len;
    grp->g = 2;
    grp->hash = WIFIPROV_SRP_HASH_SHA1;
    assert_int_equal(wifiprov__srp_new(grp, &srp), 0);
    assert_int_equal(wifiprov__srp_hash_len(srp), 20);
    return srp;
}

static void rfc5054_sha1(void **state)
{
    struct wifiprov_srp_group grp;
    struct wifiprov_srp *srp = rfc_group(&grp);
    uint8_t x[20], v[128], A[128], B[128], u[20], s_srv[128], s_cli[128];
    uint8_t *salt, *a, *b;
    size_t salt_len, a_len, b_len;

    (void)state;
    salt = test_hex(rfc_salt, &salt_len);
    a = test_hex(rfc_a, &a_len);
    b = test_hex(rfc_b, &b_len);
    assert_hex(wifiprov__srp_k(srp), 20, rfc_k);
    assert_int_equal(
        wifiprov__srp_x(srp, salt, salt_len, (const uint8_t *)"alice", 5, (const uint8_t *)"password123", 11, x), 0);
    assert_hex(x, 20, rfc_x);
    assert_int_equal(wifiprov__srp_verifier(srp, x, 20, v), 0);
    assert_num(v, 128, rfc_v);
    assert_int_equal(wifiprov__srp_public_a(srp, a, a_len, A), 0);
    assert_num(A, 128, rfc_A);
    assert_int_equal(wifiprov__srp_public_b(srp, b, b_len, v, 128, B), 0);
    assert_num(B, 128, rfc_B);
    assert_int_equal(wifiprov__srp_u(srp, A, 128, B, 128, u), 0);
    assert_hex(u, 20, rfc_u);
    assert_int_equal(wifiprov__srp_server_s(srp, A, 128, v, 128, u, 20, b, b_len, s_srv), 0);
    assert_num(s_srv, 128, rfc_S);
    assert_int_equal(wifiprov__srp_client_s(srp, B, 128, x, 20, u, 20, a, a_len, s_cli), 0);
    assert_num(s_cli, 128, rfc_S);
    free(salt);
    free(a);
    free(b);
    wifiprov__srp_free(srp);
}

/* u pads both values to the length of N: a shortened A gives the same u. */
static void u_pads_values(void **state)
{
    struct wifiprov_srp_group grp;
    struct wifiprov_srp *srp = rfc_group(&grp);
    uint8_t A[128], B[128], u1[20], u2[20];
    uint8_t *a, *b;
    size_t a_len, b_len;

    (void)state;
    a = test_hex(rfc_A, &a_len);
    b = test_hex(rfc_B, &b_len);
    memset(A, 0, sizeof(A));
    memcpy(A + 1, a + 1, a_len - 1); /* A value with a leading zero byte */
    memcpy(B, b, b_len);
    assert_int_equal(wifiprov__srp_u(srp, A, 128, B, 128, u1), 0);
    assert_int_equal(wifiprov__srp_u(srp, A + 1, 127, B, 128, u2), 0);
    assert_memory_equal(u1, u2, 20);
    /* And differs from hashing the unpadded bytes. */
    {
        struct wifiprov_iov iov[2] = {{A + 1, 127}, {B, 128}};
        uint8_t h[20];

        assert_int_equal(wifiprov__sha1(iov, 2, h), 0);
        assert_memory_not_equal(h, u1, 20);
    }
    free(a);
    free(b);
    wifiprov__srp_free(srp);
}

static void protocol_k_x_v(void **state)
{
    struct wifiprov_srp *srp = NULL;
    uint8_t x[64], v[384], h[64];
    struct wifiprov_iov iov = {"wifiprov:abcd1234", 17};
    uint8_t *salt;
    size_t salt_len;

    (void)state;
    assert_int_equal(wifiprov__srp_new(&wifiprov__srp_group_3072, &srp), 0);
    assert_int_equal(wifiprov__srp_n_len(srp), 384);
    assert_int_equal(wifiprov__srp_hash_len(srp), 64);
    assert_hex(wifiprov__srp_k(srp), 64, p_k);
    assert_int_equal(wifiprov__sha512(&iov, 1, h), 0);
    assert_hex(h, 64, p_inner);
    salt = test_hex(p_salt, &salt_len);
    assert_int_equal(
        wifiprov__srp_x(srp, salt, salt_len, (const uint8_t *)"wifiprov", 8, (const uint8_t *)"abcd1234", 8, x), 0);
    assert_hex(x, 64, p_x);
    assert_int_equal(wifiprov__srp_verifier(srp, x, 64, v), 0);
    assert_num(v, 384, p_v);
    free(salt);
    wifiprov__srp_free(srp);
}

static void protocol_session_values(void **state)
{
    struct wifiprov_srp *srp = NULL;
    uint8_t A[384], B[384], u[64], s1[384], s2[384], K[64], M1[64], M2[64], x[64];
    uint8_t *a, *b, *salt, *v;
    size_t a_len, b_len, salt_len, v_len;

    (void)state;
    assert_int_equal(wifiprov__srp_new(&wifiprov__srp_group_3072, &srp), 0);
    a = test_hex(p_a, &a_len);
    b = test_hex(p_b, &b_len);
    salt = test_hex(p_salt, &salt_len);
    v = test_hex(p_v, &v_len);
    assert_int_equal(wifiprov__srp_public_a(srp, a, a_len, A), 0);
    assert_num(A, 384, p_A);
    assert_int_equal(wifiprov__srp_public_b(srp, b, b_len, v, v_len, B), 0);
    assert_num(B, 384, p_B);
    assert_int_equal(wifiprov__srp_u(srp, A, 384, B, 384, u), 0);
    assert_hex(u, 64, p_u);
    assert_int_equal(wifiprov__srp_server_s(srp, A, 384, v, v_len, u, 64, b, b_len, s1), 0);
    assert_num(s1, 384, p_S);
    assert_int_equal(
        wifiprov__srp_x(srp, salt, salt_len, (const uint8_t *)"wifiprov", 8, (const uint8_t *)"abcd1234", 8, x), 0);
    assert_int_equal(wifiprov__srp_client_s(srp, B, 384, x, 64, u, 64, a, a_len, s2), 0);
    assert_memory_equal(s1, s2, 384);
    assert_int_equal(wifiprov__srp_key(srp, s1, 384, K), 0);
    assert_hex(K, 64, p_K);
    /* B here is 384 bytes with no leading zero, so the minimal form is the padded one. */
    assert_true(B[0] != 0);
    assert_int_equal(wifiprov__srp_m1(srp, (const uint8_t *)"wifiprov", 8, salt, salt_len, A, 384, B, 384, K, 64, M1), 0);
    assert_hex(M1, 64, p_M1);
    assert_int_equal(wifiprov__srp_m2(srp, A, 384, M1, K, 64, M2), 0);
    assert_hex(M2, 64, p_M2);
    free(a);
    free(b);
    free(salt);
    free(v);
    wifiprov__srp_free(srp);
}

/* K hashes S without its leading zero bytes (pitfall P5). */
static void key_strips_zeros(void **state)
{
    struct wifiprov_srp *srp = NULL;
    uint8_t S[384], K[64], h[64];
    struct wifiprov_iov iov;
    size_t i;

    (void)state;
    assert_int_equal(wifiprov__srp_new(&wifiprov__srp_group_3072, &srp), 0);
    for (i = 0; i < sizeof(S); i++)
        S[i] = (uint8_t)(i * 7 + 3);
    S[0] = 0;
    S[1] = 0;
    assert_int_equal(wifiprov__srp_key(srp, S, sizeof(S), K), 0);
    iov.data = S + 2;
    iov.len = sizeof(S) - 2;
    assert_int_equal(wifiprov__sha512(&iov, 1, h), 0);
    assert_memory_equal(K, h, 64);
    iov.data = S;
    iov.len = sizeof(S);
    assert_int_equal(wifiprov__sha512(&iov, 1, h), 0);
    assert_memory_not_equal(K, h, 64);
    wifiprov__srp_free(srp);
}

/* Public values 0 and N (and anything too long) are refused; 1 and N-1 pass. */
static void public_zero_mod_n(void **state)
{
    struct wifiprov_srp *srp = NULL;
    uint8_t val[385];
    const uint8_t *n = wifiprov__srp_group_3072.n;

    (void)state;
    assert_int_equal(wifiprov__srp_new(&wifiprov__srp_group_3072, &srp), 0);
    memset(val, 0, sizeof(val));
    assert_int_equal(wifiprov__srp_check_public(srp, val, 384), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__srp_check_public(srp, val, 1), WIFIPROV_ERR_INVAL);
    memcpy(val, n, 384);
    assert_int_equal(wifiprov__srp_check_public(srp, val, 384), WIFIPROV_ERR_INVAL);
    val[383] -= 1; /* N - 1 */
    assert_int_equal(wifiprov__srp_check_public(srp, val, 384), 0);
    memset(val, 0, sizeof(val));
    val[383] = 1;
    assert_int_equal(wifiprov__srp_check_public(srp, val, 384), 0);
    assert_int_equal(wifiprov__srp_check_public(srp, val, 385), WIFIPROV_ERR_INVAL);
    wifiprov__srp_free(srp);
}

static void bad_groups(void **state)
{
    struct wifiprov_srp_group grp = wifiprov__srp_group_3072;
    struct wifiprov_srp *srp = NULL;
    static const uint8_t even[4] = {0xff, 0xff, 0xff, 0xfe};

    (void)state;
    grp.g = 1;
    assert_int_equal(wifiprov__srp_new(&grp, &srp), WIFIPROV_ERR_INVAL);
    grp = wifiprov__srp_group_3072;
    grp.n_len = 385;
    assert_int_equal(wifiprov__srp_new(&grp, &srp), WIFIPROV_ERR_INVAL);
    grp.n = even;
    grp.n_len = sizeof(even);
    assert_int_equal(wifiprov__srp_new(&grp, &srp), WIFIPROV_ERR_INVAL);
    assert_null(srp);
    assert_int_equal(wifiprov__srp_new(NULL, &srp), WIFIPROV_ERR_INVAL);
}

/* ---- salt and verifier generation ---- */

static void gen_salt_verifier_kat(void **state)
{
    struct fixed_rng rng;
    uint8_t salt[16], v[WIFIPROV_SEC2_VERIFIER_LEN];

    (void)state;
    /* A first draw starting with 0x00 is thrown away; the second one is the example salt. */
    fixed_rng_init(&rng);
    fixed_rng_push_hex(&rng, "00112233445566778899aabbccddeeff");
    fixed_rng_push_hex(&rng, p_salt);
    assert_int_equal(wifiprov_sec2_gen_salt_verifier("wifiprov", "abcd1234", 16, fixed_rng_fn, &rng, salt, v), 0);
    assert_int_equal(rng.pos, rng.len);
    assert_hex(salt, 16, p_salt);
    assert_num(v, sizeof(v), p_v);
}

static void gen_salt_verifier_pw69(void **state)
{
    struct fixed_rng rng;
    uint8_t salt[16], v[WIFIPROV_SEC2_VERIFIER_LEN];
    struct wifiprov_iov iov = {"wifiprov:pw69", 13};
    uint8_t h[64];

    (void)state;
    /* PROTOCOL.md P7 names this pair: its inner digest starts with 0x00. */
    assert_int_equal(wifiprov__sha512(&iov, 1, h), 0);
    assert_int_equal(h[0], 0x00);
    assert_true(wifiprov_sec2_esp_prov_incompatible("wifiprov", "pw69"));
    assert_false(wifiprov_sec2_esp_prov_incompatible("wifiprov", "abcd1234"));
    fixed_rng_init(&rng);
    fixed_rng_push_hex(&rng, p_salt);
    assert_int_equal(wifiprov_sec2_gen_salt_verifier("wifiprov", "pw69", 16, fixed_rng_fn, &rng, salt, v),
                     WIFIPROV_ERR_BAD_CRED);
}

static void gen_salt_verifier_args(void **state)
{
    uint8_t salt[65] = {0}, v[WIFIPROV_SEC2_VERIFIER_LEN];
    size_t i;

    (void)state;
    assert_int_equal(wifiprov_sec2_gen_salt_verifier("u", "p", 0, NULL, NULL, salt, v), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_sec2_gen_salt_verifier("u", "p", 65, NULL, NULL, salt, v), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_sec2_gen_salt_verifier("", "p", 16, NULL, NULL, salt, v), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_sec2_gen_salt_verifier("u", "", 16, NULL, NULL, salt, v), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_sec2_gen_salt_verifier(NULL, "p", 16, NULL, NULL, salt, v), WIFIPROV_ERR_INVAL);
    /* The default random source: several salts, none starting with 0x00, all different. */
    for (i = 0; i < 4; i++) {
        uint8_t prev[16];

        memcpy(prev, salt, 16);
        assert_int_equal(wifiprov_sec2_gen_salt_verifier("user", "password", 16, NULL, NULL, salt, v), 0);
        assert_int_not_equal(salt[0], 0);
        if (i > 0)
            assert_memory_not_equal(prev, salt, 16);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5054_sha1),
        cmocka_unit_test(u_pads_values),
        cmocka_unit_test(protocol_k_x_v),
        cmocka_unit_test(protocol_session_values),
        cmocka_unit_test(key_strips_zeros),
        cmocka_unit_test(public_zero_mod_n),
        cmocka_unit_test(bad_groups),
        cmocka_unit_test(gen_salt_verifier_kat),
        cmocka_unit_test(gen_salt_verifier_pw69),
        cmocka_unit_test(gen_salt_verifier_args),
    };

    return TEST_RUN("srp", tests, argc, argv);
}
