/*
 * Security 1 (PROTOCOL.md §5): X25519, key = shared XOR SHA-256(PoP), and one
 * AES-256-CTR keystream (initial counter block = device_random) shared by both
 * directions for the whole session, starting with the two verify tokens.
 * No OS headers.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "sec/sec_priv.h"
#include "util.h"

#define KEY_LEN 32
#define RANDOM_LEN 16

struct sec1 {
    uint8_t *pop;
    size_t pop_len;
    struct wifiprov_x25519 *key; /* own key pair, from Cmd0 until the keystream starts */
    uint8_t own_pub[KEY_LEN];    /* our public key */
    uint8_t peer_pub[KEY_LEN];   /* the other side's public key */
    struct wifiprov_ctr *ctr;    /* the session's one keystream */
};

/* key = shared XOR SHA-256(pop) when pop_len > 0, else shared; both wiped on failure. */
static int mix_pop(const uint8_t *pop, size_t pop_len, uint8_t shared[32], uint8_t key[32])
{
    uint8_t pop_hash[32];
    struct wifiprov_iov iov;
    size_t i;
    int rc = 0;

    memcpy(key, shared, KEY_LEN);
    if (pop_len > 0) {
        iov.data = pop;
        iov.len = pop_len;
        rc = wifiprov__sha256(&iov, 1, pop_hash);
        if (rc < 0)
            goto out;
        for (i = 0; i < KEY_LEN; i++)
            key[i] ^= pop_hash[i];
    }
out:
    if (rc < 0) {
        wifiprov_memzero(shared, KEY_LEN);
        wifiprov_memzero(key, KEY_LEN);
    }
    wifiprov_memzero(pop_hash, sizeof(pop_hash));
    return rc;
}

int wifiprov__sec1_derive_key(const uint8_t priv[32], const uint8_t peer_pub[32], const uint8_t *pop, size_t pop_len,
                              uint8_t shared[32], uint8_t key[32])
{
    int rc;

    rc = wifiprov__x25519_shared(priv, peer_pub, shared);
    if (rc < 0) {
        wifiprov_memzero(key, KEY_LEN);
        return rc;
    }
    return mix_pop(pop, pop_len, shared, key);
}

static int sec1_init(struct wifiprov_sec_session *s, const struct wifiprov_sec_params *p)
{
    struct sec1 *st;
    int rc;

    if (p->pop_len > 0 && !p->pop)
        return WIFIPROV_ERR_INVAL;
    st = wifiprov__calloc(1, sizeof(*st));
    if (!st)
        return WIFIPROV_ERR_NOMEM;
    s->priv = st;
    rc = wifiprov__sec_dup(p->pop, p->pop_len, &st->pop);
    if (rc < 0)
        goto out;
    st->pop_len = p->pop_len;
out:
    return rc;
}

static void sec1_reset(struct wifiprov_sec_session *s)
{
    struct sec1 *st = s->priv;

    wifiprov__ctr_free(st->ctr);
    st->ctr = NULL;
    wifiprov__x25519_free(st->key);
    st->key = NULL;
    wifiprov_memzero(st->own_pub, sizeof(st->own_pub));
    wifiprov_memzero(st->peer_pub, sizeof(st->peer_pub));
}

static void sec1_cleanup(struct wifiprov_sec_session *s)
{
    struct sec1 *st = s->priv;

    if (!st)
        return;
    sec1_reset(s);
    wifiprov__free_secret(st->pop, st->pop_len);
    wifiprov__free_secret(st, sizeof(*st));
    s->priv = NULL;
}

/* Makes our key pair from freshly drawn random bytes and fills own_pub. */
static int make_key(struct wifiprov_sec_session *s, struct sec1 *st)
{
    uint8_t priv[KEY_LEN];
    int rc;

    wifiprov__x25519_free(st->key);
    st->key = NULL;
    rc = wifiprov__sec_random(s, priv, KEY_LEN);
    if (rc < 0)
        goto out;
    /* The public key is computed once here; the derivation reuses the imported key. */
    rc = wifiprov__x25519_new(priv, st->own_pub, &st->key);
out:
    wifiprov_memzero(priv, sizeof(priv));
    return rc;
}

/* Starts the keystream from our key, the peer's public key and device_random; drops our key. */
static int start_stream(struct sec1 *st, const uint8_t dev_random[RANDOM_LEN])
{
    uint8_t shared[KEY_LEN], key[KEY_LEN];
    int rc;

    rc = wifiprov__x25519_derive(st->key, st->peer_pub, shared);
    if (rc < 0)
        goto out;
    rc = mix_pop(st->pop, st->pop_len, shared, key);
    if (rc < 0)
        goto out;
    rc = wifiprov__ctr_new(key, dev_random, &st->ctr);
out:
    wifiprov_memzero(shared, sizeof(shared));
    wifiprov_memzero(key, sizeof(key));
    wifiprov__x25519_free(st->key);
    st->key = NULL;
    return rc;
}

static void set_bytes(ProtobufCBinaryData *b, const uint8_t *data, size_t len)
{
    b->data = (uint8_t *)data;
    b->len = len;
}

int wifiprov__sec1_device_cmd0(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                               size_t *out_len, enum wifiprov_sec_outcome *outcome)
{
    struct sec1 *st = s->priv;
    const SessionCmd0 *sc0 = req->sec1->sc0;
    SessionData resp = SESSION_DATA__INIT;
    Sec1Payload payload = SEC1_PAYLOAD__INIT;
    SessionResp0 sr0 = SESSION_RESP0__INIT;
    uint8_t dev_random[RANDOM_LEN];
    int rc;

    if (s->state != WIFIPROV_SEC_STATE_IDLE) {
        wifiprov__info("sec1 device: new Cmd0, restarting the handshake");
        wifiprov__sec_session_reset(s);
    }
    if (sc0->client_pubkey.len != KEY_LEN) {
        wifiprov__warn("sec1 device: client public key of %zu bytes", sc0->client_pubkey.len);
        *outcome = WIFIPROV_SEC_OUTCOME_INVALID_PARAMS;
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    memcpy(st->peer_pub, sc0->client_pubkey.data, KEY_LEN);
    /* Draw order (the vectors rely on it): private key, then device_random. */
    rc = make_key(s, st);
    if (rc < 0)
        goto out;
    rc = wifiprov__sec_random(s, dev_random, RANDOM_LEN);
    if (rc < 0)
        goto out;
    rc = start_stream(st, dev_random);
    if (rc < 0) {
        wifiprov__warn("sec1 device: key agreement failed (%s)", wifiprov_err_name(rc));
        *outcome = WIFIPROV_SEC_OUTCOME_INVALID_PARAMS;
        goto out;
    }

    sr0.status = STATUS__Success;
    set_bytes(&sr0.device_pubkey, st->own_pub, KEY_LEN);
    set_bytes(&sr0.device_random, dev_random, RANDOM_LEN);
    payload.msg = SEC1_MSG_TYPE__Session_Response0;
    payload.payload_case = SEC1_PAYLOAD__PAYLOAD_SR0;
    payload.sr0 = &sr0;
    resp.sec_ver = SEC_SCHEME_VERSION__SecScheme1;
    resp.proto_case = SESSION_DATA__PROTO_SEC1;
    resp.sec1 = &payload;
    rc = wifiprov__sec_pack(&resp, out, out_cap, out_len);
    if (rc < 0)
        goto out;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_CMD0);
out:
    wifiprov__x25519_free(st->key);
    st->key = NULL;
    return rc;
}

int wifiprov__sec1_device_cmd1(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                               size_t *out_len, enum wifiprov_sec_outcome *outcome)
{
    struct sec1 *st = s->priv;
    const SessionCmd1 *sc1 = req->sec1->sc1;
    SessionData resp = SESSION_DATA__INIT;
    Sec1Payload payload = SEC1_PAYLOAD__INIT;
    SessionResp1 sr1 = SESSION_RESP1__INIT;
    uint8_t check[KEY_LEN], verify[KEY_LEN];
    int rc;

    if (s->state != WIFIPROV_SEC_STATE_CMD0) {
        wifiprov__warn("sec1 device: Cmd1 in state %s", wifiprov__sec_state_to_string(s->state));
        rc = WIFIPROV_ERR_STATE;
        goto out;
    }
    if (sc1->client_verify_data.len != KEY_LEN) {
        wifiprov__warn("sec1 device: client verify data of %zu bytes", sc1->client_verify_data.len);
        *outcome = WIFIPROV_SEC_OUTCOME_INVALID_PARAMS;
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    /* Keystream bytes 0..31 decrypt the client's token, 32..63 encrypt ours. */
    rc = wifiprov__ctr_crypt(st->ctr, sc1->client_verify_data.data, check, KEY_LEN);
    if (rc < 0)
        goto out;
    if (!wifiprov__ct_equal(check, st->own_pub, KEY_LEN)) {
        wifiprov__warn("sec1 device: client verify data does not match (wrong proof of possession?)");
        *outcome = WIFIPROV_SEC_OUTCOME_MISMATCH;
        rc = WIFIPROV_ERR_AUTH;
        goto out;
    }
    rc = wifiprov__ctr_crypt(st->ctr, st->peer_pub, verify, KEY_LEN);
    if (rc < 0)
        goto out;

    sr1.status = STATUS__Success;
    set_bytes(&sr1.device_verify_data, verify, KEY_LEN);
    payload.msg = SEC1_MSG_TYPE__Session_Response1;
    payload.payload_case = SEC1_PAYLOAD__PAYLOAD_SR1;
    payload.sr1 = &sr1;
    resp.sec_ver = SEC_SCHEME_VERSION__SecScheme1;
    resp.proto_case = SESSION_DATA__PROTO_SEC1;
    resp.sec1 = &payload;
    rc = wifiprov__sec_pack(&resp, out, out_cap, out_len);
    if (rc < 0)
        goto out;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_ESTABLISHED);
    *outcome = WIFIPROV_SEC_OUTCOME_ESTABLISHED;
out:
    wifiprov_memzero(check, sizeof(check));
    return rc;
}

static int sec1_device_msg(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                           size_t *out_len, enum wifiprov_sec_outcome *outcome)
{
    const Sec1Payload *p = req->sec1;

    if (req->sec_ver != SEC_SCHEME_VERSION__SecScheme1 || req->proto_case != SESSION_DATA__PROTO_SEC1 || !p) {
        wifiprov__warn("sec1 device: session message for security %d", (int)req->sec_ver);
        return WIFIPROV_ERR_PROTO;
    }
    if (p->msg == SEC1_MSG_TYPE__Session_Command0 && p->payload_case == SEC1_PAYLOAD__PAYLOAD_SC0 && p->sc0)
        return wifiprov__sec1_device_cmd0(s, req, out, out_cap, out_len, outcome);
    if (p->msg == SEC1_MSG_TYPE__Session_Command1 && p->payload_case == SEC1_PAYLOAD__PAYLOAD_SC1 && p->sc1)
        return wifiprov__sec1_device_cmd1(s, req, out, out_cap, out_len, outcome);
    wifiprov__warn("sec1 device: message type %d with payload %d", (int)p->msg, (int)p->payload_case);
    return WIFIPROV_ERR_PROTO;
}

static int sec1_client_start(struct wifiprov_sec_session *s, uint8_t *out, size_t out_cap, size_t *out_len)
{
    struct sec1 *st = s->priv;
    SessionData cmd = SESSION_DATA__INIT;
    Sec1Payload payload = SEC1_PAYLOAD__INIT;
    SessionCmd0 sc0 = SESSION_CMD0__INIT;
    int rc;

    rc = make_key(s, st);
    if (rc < 0)
        goto out;
    set_bytes(&sc0.client_pubkey, st->own_pub, KEY_LEN);
    payload.msg = SEC1_MSG_TYPE__Session_Command0;
    payload.payload_case = SEC1_PAYLOAD__PAYLOAD_SC0;
    payload.sc0 = &sc0;
    cmd.sec_ver = SEC_SCHEME_VERSION__SecScheme1;
    cmd.proto_case = SESSION_DATA__PROTO_SEC1;
    cmd.sec1 = &payload;
    rc = wifiprov__sec_pack(&cmd, out, out_cap, out_len);
    if (rc < 0)
        goto out;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_CMD0);
out:
    return rc;
}

static int client_resp0(struct wifiprov_sec_session *s, const SessionResp0 *sr0, uint8_t *out, size_t out_cap,
                        size_t *out_len)
{
    struct sec1 *st = s->priv;
    SessionData cmd = SESSION_DATA__INIT;
    Sec1Payload payload = SEC1_PAYLOAD__INIT;
    SessionCmd1 sc1 = SESSION_CMD1__INIT;
    uint8_t verify[KEY_LEN];
    int rc;

    if (sr0->status != STATUS__Success) {
        wifiprov__warn("sec1 client: device answered status %d", (int)sr0->status);
        rc = WIFIPROV_ERR_DEVICE;
        goto out;
    }
    if (sr0->device_pubkey.len != KEY_LEN || sr0->device_random.len != RANDOM_LEN) {
        wifiprov__warn("sec1 client: device key of %zu bytes, random of %zu bytes", sr0->device_pubkey.len,
                       sr0->device_random.len);
        rc = WIFIPROV_ERR_PROTO;
        goto out;
    }
    memcpy(st->peer_pub, sr0->device_pubkey.data, KEY_LEN);
    rc = start_stream(st, sr0->device_random.data);
    if (rc < 0)
        goto out;
    rc = wifiprov__ctr_crypt(st->ctr, st->peer_pub, verify, KEY_LEN);
    if (rc < 0)
        goto out;
    set_bytes(&sc1.client_verify_data, verify, KEY_LEN);
    payload.msg = SEC1_MSG_TYPE__Session_Command1;
    payload.payload_case = SEC1_PAYLOAD__PAYLOAD_SC1;
    payload.sc1 = &sc1;
    cmd.sec_ver = SEC_SCHEME_VERSION__SecScheme1;
    cmd.proto_case = SESSION_DATA__PROTO_SEC1;
    cmd.sec1 = &payload;
    rc = wifiprov__sec_pack(&cmd, out, out_cap, out_len);
    if (rc < 0)
        goto out;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_CMD1);
out:
    return rc;
}

static int client_resp1(struct wifiprov_sec_session *s, const SessionResp1 *sr1, size_t *out_len)
{
    struct sec1 *st = s->priv;
    uint8_t check[KEY_LEN];
    int rc;

    if (sr1->status != STATUS__Success) {
        wifiprov__warn("sec1 client: device answered status %d", (int)sr1->status);
        rc = WIFIPROV_ERR_DEVICE;
        goto out;
    }
    if (sr1->device_verify_data.len != KEY_LEN) {
        wifiprov__warn("sec1 client: device verify data of %zu bytes", sr1->device_verify_data.len);
        rc = WIFIPROV_ERR_PROTO;
        goto out;
    }
    rc = wifiprov__ctr_crypt(st->ctr, sr1->device_verify_data.data, check, KEY_LEN);
    if (rc < 0)
        goto out;
    if (!wifiprov__ct_equal(check, st->own_pub, KEY_LEN)) {
        wifiprov__warn("sec1 client: device verify data does not match (wrong proof of possession?)");
        rc = WIFIPROV_ERR_AUTH;
        goto out;
    }
    *out_len = 0;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_ESTABLISHED);
out:
    wifiprov_memzero(check, sizeof(check));
    return rc;
}

static int sec1_client_msg(struct wifiprov_sec_session *s, const SessionData *resp, uint8_t *out, size_t out_cap,
                           size_t *out_len)
{
    const Sec1Payload *p = resp->sec1;

    if (resp->sec_ver != SEC_SCHEME_VERSION__SecScheme1 || resp->proto_case != SESSION_DATA__PROTO_SEC1 || !p) {
        wifiprov__warn("sec1 client: session reply for security %d", (int)resp->sec_ver);
        return WIFIPROV_ERR_PROTO;
    }
    if (s->state == WIFIPROV_SEC_STATE_CMD0 && p->msg == SEC1_MSG_TYPE__Session_Response0 &&
        p->payload_case == SEC1_PAYLOAD__PAYLOAD_SR0 && p->sr0)
        return client_resp0(s, p->sr0, out, out_cap, out_len);
    if (s->state == WIFIPROV_SEC_STATE_CMD1 && p->msg == SEC1_MSG_TYPE__Session_Response1 &&
        p->payload_case == SEC1_PAYLOAD__PAYLOAD_SR1 && p->sr1)
        return client_resp1(s, p->sr1, out_len);
    wifiprov__warn("sec1 client: reply type %d with payload %d in state %s", (int)p->msg, (int)p->payload_case,
                   wifiprov__sec_state_to_string(s->state));
    return WIFIPROV_ERR_PROTO;
}

/* CTR is its own inverse: both directions continue the same keystream. */
static int sec1_crypt(struct wifiprov_sec_session *s, const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
                      size_t *out_len)
{
    struct sec1 *st = s->priv;
    int rc = 0;

    if (len > out_cap || (len && !out))
        return WIFIPROV_ERR_NOSPC;
    if (len)
        rc = wifiprov__ctr_crypt(st->ctr, in, out, len);
    if (rc == 0)
        *out_len = len;
    return rc;
}

const struct wifiprov_sec_ops wifiprov__sec1_ops = {
    .name = "sec1",
    .has_cipher = true,
    .overhead = 0,
    .init = sec1_init,
    .cleanup = sec1_cleanup,
    .reset = sec1_reset,
    .device_msg = sec1_device_msg,
    .client_start = sec1_client_start,
    .client_msg = sec1_client_msg,
    .encrypt = sec1_crypt,
    .decrypt = sec1_crypt,
};
