/*
 * Security 2 (PROTOCOL.md §6): SRP-6a over the RFC 5054 3072-bit group with
 * SHA-512, then AES-256-GCM keyed with K[0:32]. sec_patch_ver 1 uses a 12-byte
 * nonce (8 random bytes, then a big-endian counter shared by both directions);
 * sec_patch_ver 0 one constant IV for every message. No OS headers.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "sec/sec_priv.h"
#include "sec/srp6a.h"
#include "util.h"
#include "wifiprov/client.h"

#define N_LEN WIFIPROV_SRP_N_LEN
#define H_LEN 64
#define SECRET_LEN 32 /* a and b */
#define TAG_LEN 16
#define PREFIX_LEN 8
#define NONCE_LEN 12
#define USERNAME_MAX 65535u
#define SALT_MAX 1024u

struct wifiprov_sec2_precomp {
    struct wifiprov_srp_precomp *srp;
};

struct sec2 {
    /* configuration */
    const struct wifiprov_sec2_precomp *pre; /* device, borrowed, may be NULL */
    int patch;
    size_t patch0_iv_len;
    uint8_t *salt; /* device */
    size_t salt_len;
    uint8_t *verifier; /* device */
    size_t verifier_len;
    uint8_t *username; /* client */
    size_t username_len;
    uint8_t *password; /* client */
    size_t password_len;
    unsigned quirks;   /* client: WIFIPROV_CLIENT_TEST_SEC2_* (tests only) */
    unsigned tolerated; /* what the last handshake needed: WIFIPROV_CLIENT_TEST_SEC2_* bits */
    /* handshake */
    uint8_t a[SECRET_LEN]; /* client secret, from Cmd0 until Resp0 */
    uint8_t a_pub[N_LEN];  /* A as sent (a_len bytes) */
    size_t a_len;
    uint8_t key[H_LEN];    /* K */
    uint8_t m1[H_LEN];     /* device: the M1 we expect */
    uint8_t m2[H_LEN];     /* device: our M2; client: the M2 we expect */
    /* device, for the other M1 some clients send when K starts with 0x00 (checked only then) */
    uint8_t hi[H_LEN];    /* H(I) */
    uint8_t b_pub[N_LEN]; /* B as sent (b_len bytes) */
    size_t b_len;
    /* established */
    struct wifiprov_gcm *gcm;
    uint8_t iv[16];
    size_t iv_len;
    uint32_t counter; /* patch 1: counter of the next operation */
    bool exhausted;   /* patch 1: the counter wrapped to 0 */
};

static void set_bytes(ProtobufCBinaryData *b, const uint8_t *data, size_t len)
{
    b->data = (uint8_t *)data;
    b->len = len;
}

/* Offset of the first non-zero byte (the minimal big-endian encoding starts there). */
static size_t strip(const uint8_t *buf, size_t len)
{
    size_t i = 0;

    while (i < len && buf[i] == 0)
        i++;
    return i;
}

/* A configured verifier must be a number in [1, N). */
static bool verifier_ok(const uint8_t *v, size_t len)
{
    const struct wifiprov_srp_group *grp = &wifiprov__srp_group_3072;
    size_t off;

    if (!v || len == 0 || len > N_LEN)
        return false;
    off = strip(v, len);
    if (off == len)
        return false;
    if (len - off < grp->n_len)
        return true;
    return memcmp(v + off, grp->n, grp->n_len) < 0;
}

int wifiprov__sec2_precomp_new(const uint8_t *verifier, size_t verifier_len, struct wifiprov_sec2_precomp **out)
{
    struct wifiprov_sec2_precomp *pre = NULL;
    int rc;

    *out = NULL;
    if (!verifier_ok(verifier, verifier_len))
        return WIFIPROV_ERR_INVAL;
    pre = wifiprov__calloc(1, sizeof(*pre));
    if (!pre)
        return WIFIPROV_ERR_NOMEM;
    rc = wifiprov__srp_precomp_new(&wifiprov__srp_group_3072, verifier, verifier_len, SECRET_LEN, &pre->srp);
    if (rc < 0)
        goto out;
    *out = pre;
    pre = NULL;
out:
    wifiprov__sec2_precomp_free(pre);
    return rc;
}

void wifiprov__sec2_precomp_free(struct wifiprov_sec2_precomp *pre)
{
    if (!pre)
        return;
    wifiprov__srp_precomp_free(pre->srp);
    wifiprov__free(pre);
}

size_t wifiprov__sec2_precomp_size(const struct wifiprov_sec2_precomp *pre)
{
    return pre ? sizeof(*pre) + wifiprov__srp_precomp_size(pre->srp) : 0;
}

static int sec2_init(struct wifiprov_sec_session *s, const struct wifiprov_sec_params *p)
{
    struct sec2 *st;
    int rc;

    if (p->sec_patch_ver != 0 && p->sec_patch_ver != 1)
        return WIFIPROV_ERR_INVAL;
    switch (p->role) {
    case WIFIPROV_SEC_ROLE_DEVICE:
        if (!p->salt || p->salt_len == 0 || p->salt_len > SALT_MAX || !verifier_ok(p->verifier, p->verifier_len))
            return WIFIPROV_ERR_INVAL;
        break;
    case WIFIPROV_SEC_ROLE_CLIENT:
        if (!p->username || p->username_len == 0 || p->username_len > USERNAME_MAX ||
            (p->password_len > 0 && !p->password))
            return WIFIPROV_ERR_INVAL;
        break;
    }
    st = wifiprov__calloc(1, sizeof(*st));
    if (!st)
        return WIFIPROV_ERR_NOMEM;
    s->priv = st;
    st->patch = p->sec_patch_ver;
    st->patch0_iv_len = 16;
    st->quirks = p->sec2_test_quirks;
    if (p->role == WIFIPROV_SEC_ROLE_DEVICE) {
        if (p->salt[0] == 0)
            wifiprov__warn("sec2: the salt starts with 0x00; esp_prov computes its proof over a shorter salt");
        rc = wifiprov__sec_dup(p->salt, p->salt_len, &st->salt);
        if (rc < 0)
            goto out;
        st->salt_len = p->salt_len;
        rc = wifiprov__sec_dup(p->verifier, p->verifier_len, &st->verifier);
        if (rc < 0)
            goto out;
        st->verifier_len = p->verifier_len;
        st->pre = p->sec2_precomp;
    } else {
        rc = wifiprov__sec_dup(p->username, p->username_len, &st->username);
        if (rc < 0)
            goto out;
        st->username_len = p->username_len;
        rc = wifiprov__sec_dup(p->password, p->password_len, &st->password);
        if (rc < 0)
            goto out;
        st->password_len = p->password_len;
    }
out:
    return rc;
}

static void sec2_reset(struct wifiprov_sec_session *s)
{
    struct sec2 *st = s->priv;

    wifiprov__gcm_free(st->gcm);
    st->gcm = NULL;
    wifiprov_memzero(st->a, sizeof(st->a));
    wifiprov_memzero(st->a_pub, sizeof(st->a_pub));
    st->a_len = 0;
    wifiprov_memzero(st->hi, sizeof(st->hi));
    wifiprov_memzero(st->b_pub, sizeof(st->b_pub));
    st->b_len = 0;
    st->tolerated = 0;
    wifiprov_memzero(st->key, sizeof(st->key));
    wifiprov_memzero(st->m1, sizeof(st->m1));
    wifiprov_memzero(st->m2, sizeof(st->m2));
    wifiprov_memzero(st->iv, sizeof(st->iv));
    st->iv_len = 0;
    st->counter = 0;
    st->exhausted = false;
}

static void sec2_cleanup(struct wifiprov_sec_session *s)
{
    struct sec2 *st = s->priv;

    if (!st)
        return;
    sec2_reset(s);
    wifiprov__free_secret(st->salt, st->salt_len);
    wifiprov__free_secret(st->verifier, st->verifier_len);
    wifiprov__free_secret(st->username, st->username_len);
    wifiprov__free_secret(st->password, st->password_len);
    wifiprov__free_secret(st, sizeof(*st));
    s->priv = NULL;
}

unsigned wifiprov__sec2_tolerated(const struct wifiprov_sec_session *s)
{
    if (!s || s->ops != &wifiprov__sec2_ops || !s->priv)
        return 0;
    return ((const struct sec2 *)s->priv)->tolerated;
}

int wifiprov__sec2_set_patch0_iv_len(struct wifiprov_sec_session *s, size_t len)
{
    struct sec2 *st;

    if (!s || s->ops != &wifiprov__sec2_ops || s->role != WIFIPROV_SEC_ROLE_DEVICE || (len != 12 && len != 16))
        return WIFIPROV_ERR_INVAL;
    st = s->priv;
    st->patch0_iv_len = len;
    return 0;
}

static int pack_sec2(Sec2Payload *payload, uint8_t *out, size_t out_cap, size_t *out_len)
{
    SessionData msg = SESSION_DATA__INIT;

    msg.sec_ver = SEC_SCHEME_VERSION__SecScheme2;
    msg.proto_case = SESSION_DATA__PROTO_SEC2;
    msg.sec2 = payload;
    return wifiprov__sec_pack(&msg, out, out_cap, out_len);
}

int wifiprov__sec2_device_cmd0(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                               size_t *out_len, enum wifiprov_sec_outcome *outcome)
{
    struct sec2 *st = s->priv;
    const S2SessionCmd0 *sc0 = req->sec2->sc0;
    const uint8_t *a_pub = sc0->client_pubkey.data;
    size_t a_len = sc0->client_pubkey.len;
    Sec2Payload payload = SEC2_PAYLOAD__INIT;
    S2SessionResp0 sr0 = S2_SESSION_RESP0__INIT;
    struct wifiprov_srp *srp = NULL;
    struct wifiprov_iov iov;
    uint8_t b[SECRET_LEN], b_pub[N_LEN], u[H_LEN], s_val[N_LEN];
    size_t b_off;
    int rc;

    if (s->state != WIFIPROV_SEC_STATE_IDLE) {
        wifiprov__info("sec2 device: new Cmd0, restarting the handshake");
        wifiprov__sec_session_reset(s);
    }
    /* ESP-IDF wants A as exactly 384 bytes; Espressif's phone apps drop its leading zero bytes (about one
     * handshake in 256), so any length up to 384 is taken as the number it is. */
    if (a_len < 1 || a_len > N_LEN || sc0->client_username.len < 1 || sc0->client_username.len > USERNAME_MAX) {
        wifiprov__warn("sec2 device: client key of %zu bytes, username of %zu bytes", sc0->client_pubkey.len,
                       sc0->client_username.len);
        *outcome = WIFIPROV_SEC_OUTCOME_INVALID_PARAMS;
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    rc = wifiprov__srp_new(&wifiprov__srp_group_3072, &srp);
    if (rc < 0)
        goto out;
    /* The device's tables for g and v, when it made them (the results are the same). */
    if (st->pre) {
        rc = wifiprov__srp_use_precomp(srp, st->pre->srp);
        if (rc < 0)
            goto out;
    }
    rc = wifiprov__srp_check_public(srp, a_pub, a_len);
    if (rc < 0) {
        wifiprov__warn("sec2 device: client public key is 0 mod N");
        *outcome = WIFIPROV_SEC_OUTCOME_INVALID_PARAMS;
        goto out;
    }
    rc = wifiprov__sec_random(s, b, sizeof(b));
    if (rc < 0)
        goto out;
    if (wifiprov__srp_is_zero(b, sizeof(b))) {
        rc = WIFIPROV_ERR_CRYPTO;
        goto out;
    }
    rc = wifiprov__srp_public_b(srp, b, sizeof(b), st->verifier, st->verifier_len, b_pub);
    if (rc < 0)
        goto out;
    /* B goes on the wire in its minimal length, and M1 covers those exact bytes. */
    b_off = strip(b_pub, N_LEN);
    if (b_off == N_LEN) {
        rc = WIFIPROV_ERR_CRYPTO;
        goto out;
    }
    /* u pads A to 384 bytes; M1 and M2 take A as received. */
    rc = wifiprov__srp_u(srp, a_pub, a_len, b_pub + b_off, N_LEN - b_off, u);
    if (rc < 0)
        goto out;
    if (wifiprov__srp_is_zero(u, sizeof(u))) {
        *outcome = WIFIPROV_SEC_OUTCOME_INVALID_PARAMS;
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    rc = wifiprov__srp_server_s(srp, a_pub, a_len, st->verifier, st->verifier_len, u, sizeof(u), b, sizeof(b), s_val);
    if (rc < 0)
        goto out;
    rc = wifiprov__srp_key(srp, s_val, N_LEN, st->key);
    if (rc < 0)
        goto out;
    iov.data = sc0->client_username.data;
    iov.len = sc0->client_username.len;
    rc = wifiprov__srp_hash(srp, &iov, 1, st->hi);
    if (rc < 0)
        goto out;
    rc = wifiprov__srp_m1_hi(srp, st->hi, st->salt, st->salt_len, a_pub, a_len, b_pub + b_off, N_LEN - b_off, st->key,
                             H_LEN, st->m1);
    if (rc < 0)
        goto out;
    rc = wifiprov__srp_m2(srp, a_pub, a_len, st->m1, st->key, H_LEN, st->m2);
    if (rc < 0)
        goto out;
    memcpy(st->a_pub, a_pub, a_len);
    st->a_len = a_len;
    memcpy(st->b_pub, b_pub + b_off, N_LEN - b_off);
    st->b_len = N_LEN - b_off;
    if (a_len < N_LEN)
        st->tolerated |= WIFIPROV_CLIENT_TEST_SEC2_SHORT_A;

    set_bytes(&sr0.device_pubkey, b_pub + b_off, N_LEN - b_off);
    set_bytes(&sr0.device_salt, st->salt, st->salt_len);
    sr0.status = STATUS__Success;
    payload.msg = SEC2_MSG_TYPE__S2Session_Response0;
    payload.payload_case = SEC2_PAYLOAD__PAYLOAD_SR0;
    payload.sr0 = &sr0;
    rc = pack_sec2(&payload, out, out_cap, out_len);
    if (rc < 0)
        goto out;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_CMD0);
out:
    wifiprov_memzero(b, sizeof(b));
    wifiprov_memzero(s_val, sizeof(s_val));
    wifiprov__srp_free(srp);
    return rc;
}

/* Makes the session's GCM context and IV; the counter starts from the nonce. */
static int start_cipher(struct sec2 *st, const uint8_t *nonce, size_t nonce_len)
{
    int rc;

    memcpy(st->iv, nonce, nonce_len);
    st->iv_len = nonce_len;
    if (st->patch == 1)
        st->counter =
            (uint32_t)nonce[8] << 24 | (uint32_t)nonce[9] << 16 | (uint32_t)nonce[10] << 8 | (uint32_t)nonce[11];
    st->exhausted = false;
    rc = wifiprov__gcm_new(st->key, &st->gcm);
    wifiprov_memzero(st->key, sizeof(st->key));
    wifiprov_memzero(st->m1, sizeof(st->m1));
    wifiprov_memzero(st->m2, sizeof(st->m2));
    return rc;
}

/*
 * Espressif's phone apps compute M1 over K without its leading zero bytes and key AES-GCM with the first
 * 32 bytes of that shorter K (one handshake in 256). Tried only after the normal proof failed and when K
 * starts with 0x00: @return true when @p proof matches that way; st->key and st->m2 are then the ones that
 * client uses. Costs two hashes, on that path only.
 */
static bool proof_over_short_key(struct sec2 *st, const uint8_t proof[H_LEN])
{
    struct wifiprov_srp *srp = NULL;
    uint8_t m1[H_LEN], m2[H_LEN];
    size_t off = strip(st->key, H_LEN);
    bool ok = false;

    if (off == 0 || H_LEN - off < 32 || wifiprov__srp_new(&wifiprov__srp_group_3072, &srp) < 0)
        goto out;
    if (wifiprov__srp_m1_hi(srp, st->hi, st->salt, st->salt_len, st->a_pub, st->a_len, st->b_pub, st->b_len,
                            st->key + off, H_LEN - off, m1) < 0 ||
        !wifiprov__ct_equal(proof, m1, H_LEN))
        goto out;
    if (wifiprov__srp_m2(srp, st->a_pub, st->a_len, m1, st->key + off, H_LEN - off, m2) < 0)
        goto out;
    memmove(st->key, st->key + off, H_LEN - off);
    memset(st->key + H_LEN - off, 0, off);
    memcpy(st->m2, m2, H_LEN);
    ok = true;
out:
    wifiprov_memzero(m1, sizeof(m1));
    wifiprov_memzero(m2, sizeof(m2));
    wifiprov__srp_free(srp);
    return ok;
}

int wifiprov__sec2_device_cmd1(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                               size_t *out_len, enum wifiprov_sec_outcome *outcome)
{
    struct sec2 *st = s->priv;
    const S2SessionCmd1 *sc1 = req->sec2->sc1;
    size_t proof_len = sc1->client_proof.len;
    Sec2Payload payload = SEC2_PAYLOAD__INIT;
    S2SessionResp1 sr1 = S2_SESSION_RESP1__INIT;
    uint8_t nonce[16], m2[H_LEN], proof[H_LEN];
    size_t nonce_len;
    int rc;

    if (s->state != WIFIPROV_SEC_STATE_CMD0) {
        wifiprov__warn("sec2 device: Cmd1 in state %s", wifiprov__sec_state_to_string(s->state));
        rc = WIFIPROV_ERR_STATE;
        goto out;
    }
    if (proof_len < 1 || proof_len > H_LEN) {
        wifiprov__warn("sec2 device: client proof of %zu bytes", proof_len);
        *outcome = WIFIPROV_SEC_OUTCOME_INVALID_PARAMS;
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    /* A proof sent without its leading zero bytes (the phone apps) is the same number: left-pad it. */
    memset(proof, 0, H_LEN - proof_len);
    memcpy(proof + H_LEN - proof_len, sc1->client_proof.data, proof_len);
    if (proof_len < H_LEN)
        st->tolerated |= WIFIPROV_CLIENT_TEST_SEC2_SHORT_M1;
    if (!wifiprov__ct_equal(proof, st->m1, H_LEN)) {
        if (st->key[0] != 0 || !proof_over_short_key(st, proof)) {
            wifiprov__warn("sec2 device: client proof does not match (wrong username or password?)");
            *outcome = WIFIPROV_SEC_OUTCOME_MISMATCH;
            rc = WIFIPROV_ERR_AUTH;
            goto out;
        }
        st->tolerated |= WIFIPROV_CLIENT_TEST_SEC2_SHORT_K;
    }
    if (st->tolerated)
        wifiprov__dbg("sec2 device: accepted a client's shortened encoding (0x%x)", st->tolerated);
    if (st->patch == 1) {
        rc = wifiprov__sec_random(s, nonce, PREFIX_LEN);
        if (rc < 0)
            goto out;
        nonce[8] = 0;
        nonce[9] = 0;
        nonce[10] = 0;
        nonce[11] = 1;
        nonce_len = NONCE_LEN;
    } else {
        nonce_len = st->patch0_iv_len;
        rc = wifiprov__sec_random(s, nonce, nonce_len);
        if (rc < 0)
            goto out;
    }
    memcpy(m2, st->m2, H_LEN);
    rc = start_cipher(st, nonce, nonce_len);
    if (rc < 0)
        goto out;

    set_bytes(&sr1.device_proof, m2, H_LEN);
    set_bytes(&sr1.device_nonce, nonce, nonce_len);
    sr1.status = STATUS__Success;
    payload.msg = SEC2_MSG_TYPE__S2Session_Response1;
    payload.payload_case = SEC2_PAYLOAD__PAYLOAD_SR1;
    payload.sr1 = &sr1;
    rc = pack_sec2(&payload, out, out_cap, out_len);
    if (rc < 0)
        goto out;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_ESTABLISHED);
    *outcome = WIFIPROV_SEC_OUTCOME_ESTABLISHED;
out:
    wifiprov_memzero(m2, sizeof(m2));
    return rc;
}

static int sec2_device_msg(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                           size_t *out_len, enum wifiprov_sec_outcome *outcome)
{
    const Sec2Payload *p = req->sec2;

    if (req->sec_ver != SEC_SCHEME_VERSION__SecScheme2 || req->proto_case != SESSION_DATA__PROTO_SEC2 || !p) {
        wifiprov__warn("sec2 device: session message for security %d", (int)req->sec_ver);
        return WIFIPROV_ERR_PROTO;
    }
    if (p->msg == SEC2_MSG_TYPE__S2Session_Command0 && p->payload_case == SEC2_PAYLOAD__PAYLOAD_SC0 && p->sc0)
        return wifiprov__sec2_device_cmd0(s, req, out, out_cap, out_len, outcome);
    if (p->msg == SEC2_MSG_TYPE__S2Session_Command1 && p->payload_case == SEC2_PAYLOAD__PAYLOAD_SC1 && p->sc1)
        return wifiprov__sec2_device_cmd1(s, req, out, out_cap, out_len, outcome);
    wifiprov__warn("sec2 device: message type %d with payload %d", (int)p->msg, (int)p->payload_case);
    return WIFIPROV_ERR_PROTO;
}

static int sec2_client_start(struct wifiprov_sec_session *s, uint8_t *out, size_t out_cap, size_t *out_len)
{
    struct sec2 *st = s->priv;
    Sec2Payload payload = SEC2_PAYLOAD__INIT;
    S2SessionCmd0 sc0 = S2_SESSION_CMD0__INIT;
    struct wifiprov_srp *srp = NULL;
    int rc;

    st->tolerated = 0;
    rc = wifiprov__sec_random(s, st->a, sizeof(st->a));
    if (rc < 0)
        goto out;
    /* Like esp_prov: a in [2^255, 2^256). A always goes out as 384 bytes (pitfall P6). */
    st->a[0] |= 0x80;
    rc = wifiprov__srp_new(&wifiprov__srp_group_3072, &srp);
    if (rc < 0)
        goto out;
    rc = wifiprov__srp_public_a(srp, st->a, sizeof(st->a), st->a_pub);
    if (rc < 0)
        goto out;
    st->a_len = N_LEN;
    if ((st->quirks & WIFIPROV_CLIENT_TEST_SEC2_SHORT_A) && st->a_pub[0] == 0) {
        /* Test only: the minimal encoding Espressif's phone apps send. */
        size_t off = strip(st->a_pub, N_LEN);

        memmove(st->a_pub, st->a_pub + off, N_LEN - off);
        st->a_len = N_LEN - off;
        st->tolerated |= WIFIPROV_CLIENT_TEST_SEC2_SHORT_A;
    }
    set_bytes(&sc0.client_username, st->username, st->username_len);
    set_bytes(&sc0.client_pubkey, st->a_pub, st->a_len);
    payload.msg = SEC2_MSG_TYPE__S2Session_Command0;
    payload.payload_case = SEC2_PAYLOAD__PAYLOAD_SC0;
    payload.sc0 = &sc0;
    rc = pack_sec2(&payload, out, out_cap, out_len);
    if (rc < 0)
        goto out;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_CMD0);
out:
    wifiprov__srp_free(srp);
    return rc;
}

static int client_resp0(struct wifiprov_sec_session *s, const S2SessionResp0 *sr0, uint8_t *out, size_t out_cap,
                        size_t *out_len)
{
    struct sec2 *st = s->priv;
    Sec2Payload payload = SEC2_PAYLOAD__INIT;
    S2SessionCmd1 sc1 = S2_SESSION_CMD1__INIT;
    struct wifiprov_srp *srp = NULL;
    const uint8_t *b_pub = sr0->device_pubkey.data;
    size_t b_len = sr0->device_pubkey.len;
    uint8_t x[H_LEN], u[H_LEN], s_val[N_LEN], m1[H_LEN];
    size_t k_off = 0, m1_off = 0;
    int rc;

    if (sr0->status != STATUS__Success) {
        wifiprov__warn("sec2 client: device answered status %d", (int)sr0->status);
        rc = WIFIPROV_ERR_DEVICE;
        goto out;
    }
    if (b_len < 1 || b_len > N_LEN) {
        wifiprov__warn("sec2 client: device key of %zu bytes", b_len);
        rc = WIFIPROV_ERR_PROTO;
        goto out;
    }
    rc = wifiprov__srp_new(&wifiprov__srp_group_3072, &srp);
    if (rc < 0)
        goto out;
    rc = wifiprov__srp_check_public(srp, b_pub, b_len);
    if (rc < 0) {
        wifiprov__warn("sec2 client: device public key is 0 mod N");
        rc = WIFIPROV_ERR_PROTO;
        goto out;
    }
    rc = wifiprov__srp_x(srp, sr0->device_salt.data, sr0->device_salt.len, st->username, st->username_len, st->password,
                         st->password_len, x);
    if (rc < 0)
        goto out;
    rc = wifiprov__srp_u(srp, st->a_pub, st->a_len, b_pub, b_len, u);
    if (rc < 0)
        goto out;
    if (wifiprov__srp_is_zero(u, sizeof(u))) {
        rc = WIFIPROV_ERR_PROTO;
        goto out;
    }
    rc = wifiprov__srp_client_s(srp, b_pub, b_len, x, sizeof(x), u, sizeof(u), st->a, sizeof(st->a), s_val);
    if (rc < 0)
        goto out;
    rc = wifiprov__srp_key(srp, s_val, N_LEN, st->key);
    if (rc < 0)
        goto out;
    if ((st->quirks & WIFIPROV_CLIENT_TEST_SEC2_SHORT_K) && st->key[0] == 0) {
        /* Test only: M1, M2 and the AES key over K without its leading zero bytes, as the phone apps do. */
        k_off = strip(st->key, H_LEN);
        st->tolerated |= WIFIPROV_CLIENT_TEST_SEC2_SHORT_K;
    }
    rc = wifiprov__srp_m1(srp, st->username, st->username_len, sr0->device_salt.data, sr0->device_salt.len, st->a_pub,
                          st->a_len, b_pub, b_len, st->key + k_off, H_LEN - k_off, m1);
    if (rc < 0)
        goto out;
    rc = wifiprov__srp_m2(srp, st->a_pub, st->a_len, m1, st->key + k_off, H_LEN - k_off, st->m2);
    if (rc < 0)
        goto out;
    if (k_off) {
        memmove(st->key, st->key + k_off, H_LEN - k_off);
        memset(st->key + H_LEN - k_off, 0, k_off);
    }
    if ((st->quirks & WIFIPROV_CLIENT_TEST_SEC2_SHORT_M1) && m1[0] == 0) {
        m1_off = strip(m1, H_LEN);
        st->tolerated |= WIFIPROV_CLIENT_TEST_SEC2_SHORT_M1;
    }

    set_bytes(&sc1.client_proof, m1 + m1_off, H_LEN - m1_off);
    payload.msg = SEC2_MSG_TYPE__S2Session_Command1;
    payload.payload_case = SEC2_PAYLOAD__PAYLOAD_SC1;
    payload.sc1 = &sc1;
    rc = pack_sec2(&payload, out, out_cap, out_len);
    if (rc < 0)
        goto out;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_CMD1);
out:
    wifiprov_memzero(st->a, sizeof(st->a));
    wifiprov_memzero(x, sizeof(x));
    wifiprov_memzero(s_val, sizeof(s_val));
    wifiprov_memzero(m1, sizeof(m1));
    wifiprov__srp_free(srp);
    return rc;
}

static int client_resp1(struct wifiprov_sec_session *s, const S2SessionResp1 *sr1, size_t *out_len)
{
    struct sec2 *st = s->priv;
    const ProtobufCBinaryData *nonce = &sr1->device_nonce;
    bool nonce_ok;
    int rc;

    if (sr1->status != STATUS__Success) {
        wifiprov__warn("sec2 client: device answered status %d", (int)sr1->status);
        rc = WIFIPROV_ERR_DEVICE;
        goto out;
    }
    if (st->patch == 1)
        nonce_ok = nonce->len == NONCE_LEN && (nonce->data[8] | nonce->data[9] | nonce->data[10] | nonce->data[11]);
    else
        nonce_ok = nonce->len == 12 || nonce->len == 16;
    if (sr1->device_proof.len != H_LEN || !nonce_ok) {
        wifiprov__warn("sec2 client: device proof of %zu bytes, nonce of %zu bytes", sr1->device_proof.len, nonce->len);
        rc = WIFIPROV_ERR_PROTO;
        goto out;
    }
    if (!wifiprov__ct_equal(sr1->device_proof.data, st->m2, H_LEN)) {
        wifiprov__warn("sec2 client: device proof does not match");
        rc = WIFIPROV_ERR_AUTH;
        goto out;
    }
    rc = start_cipher(st, nonce->data, nonce->len);
    if (rc < 0)
        goto out;
    *out_len = 0;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_ESTABLISHED);
out:
    return rc;
}

static int sec2_client_msg(struct wifiprov_sec_session *s, const SessionData *resp, uint8_t *out, size_t out_cap,
                           size_t *out_len)
{
    const Sec2Payload *p = resp->sec2;

    if (resp->sec_ver != SEC_SCHEME_VERSION__SecScheme2 || resp->proto_case != SESSION_DATA__PROTO_SEC2 || !p) {
        wifiprov__warn("sec2 client: session reply for security %d", (int)resp->sec_ver);
        return WIFIPROV_ERR_PROTO;
    }
    if (s->state == WIFIPROV_SEC_STATE_CMD0 && p->msg == SEC2_MSG_TYPE__S2Session_Response0 &&
        p->payload_case == SEC2_PAYLOAD__PAYLOAD_SR0 && p->sr0)
        return client_resp0(s, p->sr0, out, out_cap, out_len);
    if (s->state == WIFIPROV_SEC_STATE_CMD1 && p->msg == SEC2_MSG_TYPE__S2Session_Response1 &&
        p->payload_case == SEC2_PAYLOAD__PAYLOAD_SR1 && p->sr1)
        return client_resp1(s, p->sr1, out_len);
    wifiprov__warn("sec2 client: reply type %d with payload %d in state %s", (int)p->msg, (int)p->payload_case,
                   wifiprov__sec_state_to_string(s->state));
    return WIFIPROV_ERR_PROTO;
}

/* The IV of the next operation; STATE once the patch-1 counter has wrapped. */
static int next_iv(struct sec2 *st, uint8_t iv[16])
{
    memcpy(iv, st->iv, st->iv_len);
    if (st->patch == 1) {
        if (st->exhausted) {
            wifiprov__warn("sec2: nonce counter exhausted, a new handshake is needed");
            return WIFIPROV_ERR_STATE;
        }
        iv[8] = (uint8_t)(st->counter >> 24);
        iv[9] = (uint8_t)(st->counter >> 16);
        iv[10] = (uint8_t)(st->counter >> 8);
        iv[11] = (uint8_t)st->counter;
    }
    return 0;
}

static void advance(struct sec2 *st)
{
    if (st->patch == 1) {
        st->counter++;
        if (st->counter == 0)
            st->exhausted = true;
    }
}

static int sec2_encrypt(struct wifiprov_sec_session *s, const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
                        size_t *out_len)
{
    struct sec2 *st = s->priv;
    uint8_t iv[16];
    int rc;

    if (!out || out_cap < TAG_LEN || len > out_cap - TAG_LEN)
        return WIFIPROV_ERR_NOSPC;
    rc = next_iv(st, iv);
    if (rc < 0)
        return rc;
    rc = wifiprov__gcm_encrypt(st->gcm, iv, st->iv_len, in, len, out, out + len);
    if (rc < 0)
        return rc;
    advance(st);
    *out_len = len + TAG_LEN;
    return 0;
}

static int sec2_decrypt(struct wifiprov_sec_session *s, const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
                        size_t *out_len)
{
    struct sec2 *st = s->priv;
    uint8_t iv[16];
    size_t n;
    int rc;

    if (len < TAG_LEN)
        return WIFIPROV_ERR_PROTO;
    n = len - TAG_LEN;
    if (n > out_cap || (n && !out))
        return WIFIPROV_ERR_NOSPC;
    rc = next_iv(st, iv);
    if (rc < 0)
        return rc;
    rc = wifiprov__gcm_decrypt(st->gcm, iv, st->iv_len, in, n, in + n, out);
    if (rc == WIFIPROV_ERR_AUTH)
        rc = WIFIPROV_ERR_CRYPTO; /* a bad tag; the counter stays where it was */
    if (rc < 0)
        return rc;
    advance(st);
    *out_len = n;
    return 0;
}

const struct wifiprov_sec_ops wifiprov__sec2_ops = {
    .name = "sec2",
    .has_cipher = true,
    .overhead = TAG_LEN,
    .init = sec2_init,
    .cleanup = sec2_cleanup,
    .reset = sec2_reset,
    .device_msg = sec2_device_msg,
    .client_start = sec2_client_start,
    .client_msg = sec2_client_msg,
    .encrypt = sec2_encrypt,
    .decrypt = sec2_decrypt,
};
