/*
 * The security session lifecycle, written once for every scheme: creation,
 * reset, parsing of prov-session messages, error handling (any handshake
 * error leaves the session before Cmd0) and dispatch to sec0/sec1/sec2.
 * No OS headers.
 */
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "sec/sec_priv.h"
#include "util.h"

const char *wifiprov__sec_state_to_string(enum wifiprov_sec_state st)
{
    switch (st) {
    case WIFIPROV_SEC_STATE_IDLE:
        return "idle";
    case WIFIPROV_SEC_STATE_CMD0:
        return "cmd0";
    case WIFIPROV_SEC_STATE_CMD1:
        return "cmd1";
    case WIFIPROV_SEC_STATE_ESTABLISHED:
        return "established";
    }
    return "?";
}

static const char *role_name(enum wifiprov_sec_role role)
{
    switch (role) {
    case WIFIPROV_SEC_ROLE_DEVICE:
        return "device";
    case WIFIPROV_SEC_ROLE_CLIENT:
        return "client";
    }
    return "?";
}

void wifiprov__sec_enter_state(struct wifiprov_sec_session *s, enum wifiprov_sec_state st)
{
    if (s->state != st)
        wifiprov__dbg("%s %s: %s -> %s", s->ops->name, role_name(s->role), wifiprov__sec_state_to_string(s->state),
                      wifiprov__sec_state_to_string(st));
    s->state = st;
}

int wifiprov__sec_pack(const SessionData *msg, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t n = session_data__get_packed_size(msg);

    if (n > out_cap || (n > 0 && !out))
        return WIFIPROV_ERR_NOSPC;
    *out_len = session_data__pack(msg, out);
    return 0;
}

int wifiprov__sec_random(struct wifiprov_sec_session *s, uint8_t *buf, size_t len)
{
    int rc = s->random(s->random_ctx, buf, len);

    if (rc > 0)
        rc = WIFIPROV_ERR_CRYPTO;
    if (rc < 0)
        wifiprov__warn("%s: random source failed (%s)", s->ops->name, wifiprov_err_name(rc));
    return rc;
}

int wifiprov__sec_dup(const uint8_t *in, size_t len, uint8_t **out)
{
    *out = NULL;
    if (len == 0)
        return 0;
    *out = wifiprov__malloc(len);
    if (!*out)
        return WIFIPROV_ERR_NOMEM;
    memcpy(*out, in, len);
    return 0;
}

int wifiprov__sec_session_new(const struct wifiprov_sec_params *params, struct wifiprov_sec_session **out)
{
    struct wifiprov_sec_session *s = NULL;
    const struct wifiprov_sec_ops *ops = NULL;
    bool role_ok = false;
    int rc;

    if (!out)
        return WIFIPROV_ERR_INVAL;
    *out = NULL;
    if (!params || !params->random) {
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    switch (params->security) {
    case WIFIPROV_SECURITY_0:
        ops = &wifiprov__sec0_ops;
        break;
    case WIFIPROV_SECURITY_1:
        ops = &wifiprov__sec1_ops;
        break;
    case WIFIPROV_SECURITY_2:
        ops = &wifiprov__sec2_ops;
        break;
    }
    switch (params->role) {
    case WIFIPROV_SEC_ROLE_DEVICE:
    case WIFIPROV_SEC_ROLE_CLIENT:
        role_ok = true;
        break;
    }
    if (!ops || !role_ok) {
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    s = wifiprov__calloc(1, sizeof(*s));
    if (!s) {
        rc = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    s->ops = ops;
    s->security = params->security;
    s->role = params->role;
    s->state = WIFIPROV_SEC_STATE_IDLE;
    s->random = params->random;
    s->random_ctx = params->random_ctx;
    rc = ops->init(s, params);
    if (rc < 0)
        goto out;
    *out = s;
    s = NULL;
out:
    wifiprov__sec_session_free(s);
    return rc;
}

void wifiprov__sec_session_free(struct wifiprov_sec_session *s)
{
    if (!s)
        return;
    if (s->ops)
        s->ops->cleanup(s);
    wifiprov__free_secret(s, sizeof(*s));
}

void wifiprov__sec_session_reset(struct wifiprov_sec_session *s)
{
    if (!s)
        return;
    s->ops->reset(s);
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_IDLE);
}

/* Parses a prov-session message; the caller frees it with session_data__free_unpacked(). */
static int unpack(const uint8_t *in, size_t in_len, SessionData **msg)
{
    static const uint8_t empty[1];
    struct wifiprov_pb_unpack ua;

    *msg = NULL;
    if (in_len > WIFIPROV_SEC_MAX_IN)
        return WIFIPROV_ERR_PROTO;
    wifiprov__pb_unpack_init(&ua);
    *msg = session_data__unpack(&ua.a, in_len, in_len ? in : empty);
    return *msg ? 0 : wifiprov__pb_unpack_error(&ua);
}

int wifiprov__sec_device_handshake(struct wifiprov_sec_session *s, const uint8_t *in, size_t in_len, uint8_t *out,
                                   size_t out_cap, size_t *out_len, enum wifiprov_sec_outcome *outcome)
{
    enum wifiprov_sec_outcome oc = WIFIPROV_SEC_OUTCOME_NONE;
    SessionData *req = NULL;
    int rc;

    if (!s || (!in && in_len) || !out_len || s->role != WIFIPROV_SEC_ROLE_DEVICE) {
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    *out_len = 0;
    rc = unpack(in, in_len, &req);
    if (rc < 0) {
        wifiprov__warn("%s device: unparsable session message (%zu bytes)", s->ops->name, in_len);
        goto fail;
    }
    rc = s->ops->device_msg(s, req, out, out_cap, out_len, &oc);
fail:
    if (rc < 0) {
        *out_len = 0;
        wifiprov__sec_session_reset(s);
    }
out:
    if (req)
        session_data__free_unpacked(req, wifiprov__pb_allocator());
    if (outcome)
        *outcome = oc;
    return rc;
}

int wifiprov__sec_client_start(struct wifiprov_sec_session *s, uint8_t *out, size_t out_cap, size_t *out_len)
{
    int rc;

    if (!s || !out_len || s->role != WIFIPROV_SEC_ROLE_CLIENT)
        return WIFIPROV_ERR_INVAL;
    *out_len = 0;
    /* Starting again discards whatever an earlier handshake left. */
    wifiprov__sec_session_reset(s);
    rc = s->ops->client_start(s, out, out_cap, out_len);
    if (rc < 0) {
        *out_len = 0;
        wifiprov__sec_session_reset(s);
    }
    return rc;
}

int wifiprov__sec_client_step(struct wifiprov_sec_session *s, const uint8_t *in, size_t in_len, uint8_t *out,
                              size_t out_cap, size_t *out_len)
{
    SessionData *resp = NULL;
    int rc;

    if (!s || (!in && in_len) || !out_len || s->role != WIFIPROV_SEC_ROLE_CLIENT) {
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    *out_len = 0;
    if (s->state == WIFIPROV_SEC_STATE_IDLE || s->state == WIFIPROV_SEC_STATE_ESTABLISHED) {
        rc = WIFIPROV_ERR_STATE;
        goto fail;
    }
    rc = unpack(in, in_len, &resp);
    if (rc < 0) {
        wifiprov__warn("%s client: unparsable session reply (%zu bytes)", s->ops->name, in_len);
        goto fail;
    }
    rc = s->ops->client_msg(s, resp, out, out_cap, out_len);
fail:
    if (rc < 0) {
        *out_len = 0;
        wifiprov__sec_session_reset(s);
    }
out:
    if (resp)
        session_data__free_unpacked(resp, wifiprov__pb_allocator());
    return rc;
}

bool wifiprov__sec_established(const struct wifiprov_sec_session *s)
{
    return s && s->state == WIFIPROV_SEC_STATE_ESTABLISHED;
}

bool wifiprov__sec_has_cipher(const struct wifiprov_sec_session *s)
{
    return s && s->ops->has_cipher;
}

size_t wifiprov__sec_overhead(const struct wifiprov_sec_session *s)
{
    return s ? s->ops->overhead : 0;
}

static int crypt_args(struct wifiprov_sec_session *s, const uint8_t *in, size_t len, size_t *out_len)
{
    if (!s || (!in && len) || !out_len)
        return WIFIPROV_ERR_INVAL;
    *out_len = 0;
    /* Security 0 has no cipher and, as in ESP-IDF, needs no handshake. */
    if (s->ops->has_cipher && s->state != WIFIPROV_SEC_STATE_ESTABLISHED)
        return WIFIPROV_ERR_STATE;
    return 0;
}

int wifiprov__sec_encrypt(struct wifiprov_sec_session *s, const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
                          size_t *out_len)
{
    int rc = crypt_args(s, in, len, out_len);

    if (rc < 0)
        return rc;
    return s->ops->encrypt(s, in, len, out, out_cap, out_len);
}

int wifiprov__sec_decrypt(struct wifiprov_sec_session *s, const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
                          size_t *out_len)
{
    int rc = crypt_args(s, in, len, out_len);

    if (rc < 0)
        return rc;
    return s->ops->decrypt(s, in, len, out, out_cap, out_len);
}
