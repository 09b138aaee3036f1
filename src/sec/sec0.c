/*
 * Security 0 (PROTOCOL.md §4): a plaintext handshake of one round trip;
 * application messages are copied unchanged. No OS headers.
 */
#include <string.h>

#include "sec/sec_priv.h"
#include "util.h"

static int sec0_init(struct wifiprov_sec_session *s, const struct wifiprov_sec_params *p)
{
    (void)s;
    (void)p;
    return 0;
}

static void sec0_cleanup(struct wifiprov_sec_session *s)
{
    (void)s;
}

static void sec0_reset(struct wifiprov_sec_session *s)
{
    (void)s;
}

static int sec0_device_msg(struct wifiprov_sec_session *s, const SessionData *req, uint8_t *out, size_t out_cap,
                           size_t *out_len, enum wifiprov_sec_outcome *outcome)
{
    SessionData resp = SESSION_DATA__INIT;
    Sec0Payload payload = SEC0_PAYLOAD__INIT;
    S0SessionResp sr = S0_SESSION_RESP__INIT;
    int rc;

    /* Like ESP-IDF, only the scheme number is checked, not the payload. */
    if (req->sec_ver != SEC_SCHEME_VERSION__SecScheme0) {
        wifiprov__warn("sec0 device: session message for security %d", (int)req->sec_ver);
        rc = WIFIPROV_ERR_PROTO;
        goto out;
    }
    sr.status = STATUS__Success;
    payload.msg = SEC0_MSG_TYPE__S0_Session_Response;
    payload.payload_case = SEC0_PAYLOAD__PAYLOAD_SR;
    payload.sr = &sr;
    resp.sec_ver = SEC_SCHEME_VERSION__SecScheme0;
    resp.proto_case = SESSION_DATA__PROTO_SEC0;
    resp.sec0 = &payload;
    rc = wifiprov__sec_pack(&resp, out, out_cap, out_len);
    if (rc < 0)
        goto out;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_ESTABLISHED);
    *outcome = WIFIPROV_SEC_OUTCOME_ESTABLISHED;
out:
    return rc;
}

static int sec0_client_start(struct wifiprov_sec_session *s, uint8_t *out, size_t out_cap, size_t *out_len)
{
    SessionData cmd = SESSION_DATA__INIT;
    Sec0Payload payload = SEC0_PAYLOAD__INIT;
    S0SessionCmd sc = S0_SESSION_CMD__INIT;
    int rc;

    payload.msg = SEC0_MSG_TYPE__S0_Session_Command;
    payload.payload_case = SEC0_PAYLOAD__PAYLOAD_SC;
    payload.sc = &sc;
    cmd.sec_ver = SEC_SCHEME_VERSION__SecScheme0;
    cmd.proto_case = SESSION_DATA__PROTO_SEC0;
    cmd.sec0 = &payload;
    rc = wifiprov__sec_pack(&cmd, out, out_cap, out_len);
    if (rc == 0)
        wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_CMD0);
    return rc;
}

static int sec0_client_msg(struct wifiprov_sec_session *s, const SessionData *resp, uint8_t *out, size_t out_cap,
                           size_t *out_len)
{
    const Sec0Payload *p = resp->sec0;
    int rc;

    (void)out;
    (void)out_cap;
    if (s->state != WIFIPROV_SEC_STATE_CMD0) {
        rc = WIFIPROV_ERR_STATE;
        goto out;
    }
    if (resp->sec_ver != SEC_SCHEME_VERSION__SecScheme0 || resp->proto_case != SESSION_DATA__PROTO_SEC0 || !p ||
        p->msg != SEC0_MSG_TYPE__S0_Session_Response || p->payload_case != SEC0_PAYLOAD__PAYLOAD_SR || !p->sr) {
        wifiprov__warn("sec0 client: unexpected session reply");
        rc = WIFIPROV_ERR_PROTO;
        goto out;
    }
    if (p->sr->status != STATUS__Success) {
        wifiprov__warn("sec0 client: device answered status %d", (int)p->sr->status);
        rc = WIFIPROV_ERR_DEVICE;
        goto out;
    }
    *out_len = 0;
    wifiprov__sec_enter_state(s, WIFIPROV_SEC_STATE_ESTABLISHED);
    rc = 0;
out:
    return rc;
}

static int sec0_copy(struct wifiprov_sec_session *s, const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
                     size_t *out_len)
{
    (void)s;
    if (len > out_cap || (len && !out))
        return WIFIPROV_ERR_NOSPC;
    if (len)
        memcpy(out, in, len);
    *out_len = len;
    return 0;
}

const struct wifiprov_sec_ops wifiprov__sec0_ops = {
    .name = "sec0",
    .has_cipher = false,
    .overhead = 0,
    .init = sec0_init,
    .cleanup = sec0_cleanup,
    .reset = sec0_reset,
    .device_msg = sec0_device_msg,
    .client_start = sec0_client_start,
    .client_msg = sec0_client_msg,
    .encrypt = sec0_copy,
    .decrypt = sec0_copy,
};
