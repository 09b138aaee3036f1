/*
 * Client side of prov-config, prov-scan and prov-ctrl (PROTOCOL.md section 8).
 * Requests are encoded the way esp_prov puts them on the wire: commands without
 * parameters carry no sub-message (ApplyConfig = 08 04), GetStatus and ScanStart
 * carry theirs (52 00, 52 ...). Replies are decoded with proto3 defaults: a field
 * that is absent is 0, and enum numbers we do not know are kept as numbers.
 */
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "client_priv.h"
#include "util.h"
#include "wifi_config.pb-c.h"
#include "wifi_ctrl.pb-c.h"
#include "wifi_scan.pb-c.h"

static void set_status(int *status, int v)
{
    if (status)
        *status = v;
}

/* Status numbers come from the wire; anything but Success is the device's error. */
static int check_status(int wire_status, int *status)
{
    set_status(status, wire_status);
    return wire_status == 0 ? 0 : WIFIPROV_ERR_DEVICE;
}

/* --- decoders ----------------------------------------------------------- */

static void copy_bytes(uint8_t *dst, size_t cap, const ProtobufCBinaryData *src, uint8_t *len_out)
{
    size_t n = src->len;

    if (n > cap) {
        wifiprov__warn("client: device sent %zu bytes for a %zu-byte field; truncated", n, cap);
        n = cap;
    }
    if (n)
        memcpy(dst, src->data, n);
    if (len_out)
        *len_out = (uint8_t)n;
}

int wifiprov__cmd_decode_get_status(const uint8_t *buf, size_t len, struct wifiprov_wifi_status *st)
{
    static const RespGetStatus defaults = RESP_GET_STATUS__INIT;
    const RespGetStatus *r;
    struct wifiprov_pb_unpack ua;
    WiFiConfigPayload *p;
    int ret = WIFIPROV_ERR_PROTO;

    memset(st, 0, sizeof(*st));
    wifiprov__pb_unpack_init(&ua);
    p = wi_fi_config_payload__unpack(&ua.a, len, buf);
    if (!p)
        return wifiprov__pb_unpack_error(&ua);
    if ((int)p->msg != WI_FI_CONFIG_MSG_TYPE__TypeRespGetStatus)
        goto out;
    if (p->payload_case == WI_FI_CONFIG_PAYLOAD__PAYLOAD_RESP_GET_STATUS && p->resp_get_status)
        r = p->resp_get_status;
    else if (p->payload_case == WI_FI_CONFIG_PAYLOAD__PAYLOAD__NOT_SET)
        r = &defaults; /* every field at its default */
    else
        goto out;
    if (r->status != STATUS__Success) {
        ret = WIFIPROV_ERR_DEVICE;
        goto out;
    }
    if ((unsigned)r->sta_state > (unsigned)WIFIPROV_STA_STATE_FAILED)
        goto out;
    st->state = (enum wifiprov_sta_state)r->sta_state;
    if (r->state_case == RESP_GET_STATUS__STATE_FAIL_REASON) {
        if ((int)r->fail_reason == WIFI_CONNECT_FAILED_REASON__AuthError)
            st->fail_reason = WIFIPROV_FAIL_REASON_AUTH_ERROR;
        else if ((int)r->fail_reason == WIFI_CONNECT_FAILED_REASON__NetworkNotFound)
            st->fail_reason = WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND;
        else
            st->fail_reason = WIFIPROV_FAIL_REASON_OTHER;
    } else if (r->state_case == RESP_GET_STATUS__STATE_ATTEMPT_FAILED && r->attempt_failed) {
        st->has_attempts_remaining = true;
        st->attempts_remaining = r->attempt_failed->attempts_remaining;
    } else if (r->state_case == RESP_GET_STATUS__STATE_CONNECTED && r->connected) {
        const WifiConnectedState *c = r->connected;

        if (c->ip4_addr) {
            size_t n = strlen(c->ip4_addr);

            if (n >= sizeof(st->ip4))
                n = sizeof(st->ip4) - 1;
            memcpy(st->ip4, c->ip4_addr, n);
            st->ip4[n] = '\0';
        }
        st->auth = (uint32_t)c->auth_mode;
        copy_bytes(st->ssid, sizeof(st->ssid), &c->ssid, &st->ssid_len);
        copy_bytes(st->bssid, sizeof(st->bssid), &c->bssid, NULL);
        st->channel = c->channel;
    }
    ret = 0;
out:
    wi_fi_config_payload__free_unpacked(p, &ua.a);
    return ret;
}

int wifiprov__cmd_decode_config(const uint8_t *buf, size_t len, int expect_msg, int *status)
{
    struct wifiprov_pb_unpack ua;
    WiFiConfigPayload *p;
    int ret = WIFIPROV_ERR_PROTO, wire_status = 0;

    set_status(status, 0);
    wifiprov__pb_unpack_init(&ua);
    p = wi_fi_config_payload__unpack(&ua.a, len, buf);
    if (!p)
        return wifiprov__pb_unpack_error(&ua);
    if ((int)p->msg != expect_msg)
        goto out;
    if (expect_msg == WI_FI_CONFIG_MSG_TYPE__TypeRespSetConfig &&
        p->payload_case == WI_FI_CONFIG_PAYLOAD__PAYLOAD_RESP_SET_CONFIG && p->resp_set_config)
        wire_status = (int)p->resp_set_config->status;
    else if (expect_msg == WI_FI_CONFIG_MSG_TYPE__TypeRespApplyConfig &&
             p->payload_case == WI_FI_CONFIG_PAYLOAD__PAYLOAD_RESP_APPLY_CONFIG && p->resp_apply_config)
        wire_status = (int)p->resp_apply_config->status;
    else if (p->payload_case != WI_FI_CONFIG_PAYLOAD__PAYLOAD__NOT_SET)
        goto out;
    ret = check_status(wire_status, status);
out:
    wi_fi_config_payload__free_unpacked(p, &ua.a);
    return ret;
}

static void copy_ap(struct wifiprov_ap *ap, const WiFiScanResult *e)
{
    memset(ap, 0, sizeof(*ap));
    copy_bytes(ap->ssid, sizeof(ap->ssid), &e->ssid, &ap->ssid_len);
    copy_bytes(ap->bssid, sizeof(ap->bssid), &e->bssid, NULL);
    ap->channel = e->channel;
    ap->rssi = e->rssi;
    ap->auth = (uint32_t)e->auth;
}

int wifiprov__cmd_decode_scan(const uint8_t *buf, size_t len, int expect_msg, int *status,
                              struct wifiprov_scan_reply *r)
{
    struct wifiprov_pb_unpack ua;
    WiFiScanPayload *p;
    int ret = WIFIPROV_ERR_PROTO;
    size_t i;

    set_status(status, 0);
    r->finished = false;
    r->count = 0;
    r->n_aps = 0;
    wifiprov__pb_unpack_init(&ua);
    p = wi_fi_scan_payload__unpack(&ua.a, len, buf);
    if (!p)
        return wifiprov__pb_unpack_error(&ua);
    if ((int)p->msg != expect_msg)
        goto out;
    if (expect_msg == WI_FI_SCAN_MSG_TYPE__TypeRespScanStart &&
        p->payload_case == WI_FI_SCAN_PAYLOAD__PAYLOAD_RESP_SCAN_START) {
        /* empty message */
    } else if (expect_msg == WI_FI_SCAN_MSG_TYPE__TypeRespScanStatus &&
               p->payload_case == WI_FI_SCAN_PAYLOAD__PAYLOAD_RESP_SCAN_STATUS && p->resp_scan_status) {
        r->finished = p->resp_scan_status->scan_finished != 0;
        r->count = p->resp_scan_status->result_count;
    } else if (expect_msg == WI_FI_SCAN_MSG_TYPE__TypeRespScanResult &&
               p->payload_case == WI_FI_SCAN_PAYLOAD__PAYLOAD_RESP_SCAN_RESULT && p->resp_scan_result) {
        const RespScanResult *res = p->resp_scan_result;

        for (i = 0; i < res->n_entries && r->n_aps < r->aps_cap; i++) {
            if (res->entries[i])
                copy_ap(&r->aps[r->n_aps++], res->entries[i]);
        }
        if (res->n_entries > r->aps_cap)
            wifiprov__warn("client: device sent %zu scan results, %zu asked for", res->n_entries, r->aps_cap);
    } else if (p->payload_case != WI_FI_SCAN_PAYLOAD__PAYLOAD__NOT_SET) {
        goto out;
    }
    ret = check_status((int)p->status, status);
out:
    wi_fi_scan_payload__free_unpacked(p, &ua.a);
    return ret;
}

int wifiprov__cmd_decode_ctrl(const uint8_t *buf, size_t len, int expect_msg, int *status)
{
    struct wifiprov_pb_unpack ua;
    WiFiCtrlPayload *p;
    int ret = WIFIPROV_ERR_PROTO;

    set_status(status, 0);
    wifiprov__pb_unpack_init(&ua);
    p = wi_fi_ctrl_payload__unpack(&ua.a, len, buf);
    if (!p)
        return wifiprov__pb_unpack_error(&ua);
    if ((int)p->msg != expect_msg)
        goto out;
    if (!(expect_msg == WI_FI_CTRL_MSG_TYPE__TypeRespCtrlReset &&
          p->payload_case == WI_FI_CTRL_PAYLOAD__PAYLOAD_RESP_CTRL_RESET) &&
        !(expect_msg == WI_FI_CTRL_MSG_TYPE__TypeRespCtrlReprov &&
          p->payload_case == WI_FI_CTRL_PAYLOAD__PAYLOAD_RESP_CTRL_REPROV) &&
        p->payload_case != WI_FI_CTRL_PAYLOAD__PAYLOAD__NOT_SET)
        goto out;
    ret = check_status((int)p->status, status);
out:
    wi_fi_ctrl_payload__free_unpacked(p, &ua.a);
    return ret;
}

/* --- exchanges ---------------------------------------------------------- */

/*
 * Packs @p msg, sends it on @p ep through the session and returns the decrypted
 * reply in a new buffer (*reply, wifiprov__free_secret with WIFIPROV_REPLY_CAP).
 */
static int exchange(struct wifiprov_client *c, const char *ep, const ProtobufCMessage *msg, uint8_t **reply,
                    size_t *reply_len)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *req = NULL, *resp = NULL;
    int ret = WIFIPROV_ERR_NOMEM;

    *reply = NULL;
    *reply_len = 0;
    if (n > WIFIPROV_MAX_MSG)
        return WIFIPROV_ERR_TOO_BIG;
    req = wifiprov__malloc(n);
    resp = wifiprov__malloc(WIFIPROV_REPLY_CAP);
    if (!req || !resp)
        goto out;
    protobuf_c_message_pack(msg, req);
    ret = wifiprov_client_request(c, ep, req, n, resp, WIFIPROV_REPLY_CAP, reply_len);
    if (ret)
        goto out;
    *reply = resp;
    resp = NULL;
out:
    /* SetConfig carries the passphrase. */
    wifiprov__free_secret(req, n);
    wifiprov__free_secret(resp, WIFIPROV_REPLY_CAP);
    return ret;
}

int wifiprov_client_get_status(struct wifiprov_client *c, struct wifiprov_wifi_status *st)
{
    WiFiConfigPayload p = WI_FI_CONFIG_PAYLOAD__INIT;
    CmdGetStatus cmd = CMD_GET_STATUS__INIT;
    uint8_t *reply = NULL;
    size_t len = 0;
    int ret;

    if (!c || !st)
        return WIFIPROV_ERR_INVAL;
    p.msg = WI_FI_CONFIG_MSG_TYPE__TypeCmdGetStatus;
    p.payload_case = WI_FI_CONFIG_PAYLOAD__PAYLOAD_CMD_GET_STATUS;
    p.cmd_get_status = &cmd;
    ret = exchange(c, WIFIPROV_EP_CONFIG, &p.base, &reply, &len);
    if (!ret)
        ret = wifiprov__cmd_decode_get_status(reply, len, st);
    wifiprov__free_secret(reply, WIFIPROV_REPLY_CAP);
    return ret;
}

int wifiprov_client_set_config(struct wifiprov_client *c, const struct wifiprov_wifi_creds *creds, int *status)
{
    WiFiConfigPayload p = WI_FI_CONFIG_PAYLOAD__INIT;
    CmdSetConfig cmd = CMD_SET_CONFIG__INIT;
    uint8_t *reply = NULL;
    size_t len = 0;
    int ret;

    set_status(status, 0);
    if (!c || !creds || creds->ssid_len > WIFIPROV_SSID_MAX || creds->passphrase_len > WIFIPROV_PASSPHRASE_MAX)
        return WIFIPROV_ERR_INVAL;
    cmd.ssid.data = (uint8_t *)creds->ssid;
    cmd.ssid.len = creds->ssid_len;
    cmd.passphrase.data = (uint8_t *)creds->passphrase;
    cmd.passphrase.len = creds->passphrase_len;
    if (creds->has_bssid) {
        cmd.bssid.data = (uint8_t *)creds->bssid;
        cmd.bssid.len = WIFIPROV_BSSID_LEN;
    }
    cmd.channel = creds->channel;
    p.msg = WI_FI_CONFIG_MSG_TYPE__TypeCmdSetConfig;
    p.payload_case = WI_FI_CONFIG_PAYLOAD__PAYLOAD_CMD_SET_CONFIG;
    p.cmd_set_config = &cmd;
    ret = exchange(c, WIFIPROV_EP_CONFIG, &p.base, &reply, &len);
    if (!ret)
        ret = wifiprov__cmd_decode_config(reply, len, WI_FI_CONFIG_MSG_TYPE__TypeRespSetConfig, status);
    wifiprov__free_secret(reply, WIFIPROV_REPLY_CAP);
    return ret;
}

int wifiprov_client_apply_config(struct wifiprov_client *c, int *status)
{
    WiFiConfigPayload p = WI_FI_CONFIG_PAYLOAD__INIT;
    uint8_t *reply = NULL;
    size_t len = 0;
    int ret;

    set_status(status, 0);
    if (!c)
        return WIFIPROV_ERR_INVAL;
    p.msg = WI_FI_CONFIG_MSG_TYPE__TypeCmdApplyConfig;
    ret = exchange(c, WIFIPROV_EP_CONFIG, &p.base, &reply, &len);
    if (!ret)
        ret = wifiprov__cmd_decode_config(reply, len, WI_FI_CONFIG_MSG_TYPE__TypeRespApplyConfig, status);
    wifiprov__free_secret(reply, WIFIPROV_REPLY_CAP);
    return ret;
}

static int scan_exchange(struct wifiprov_client *c, WiFiScanPayload *p, int expect_msg, int *status,
                         struct wifiprov_scan_reply *r)
{
    uint8_t *reply = NULL;
    size_t len = 0;
    int ret;

    ret = exchange(c, WIFIPROV_EP_SCAN, &p->base, &reply, &len);
    if (!ret)
        ret = wifiprov__cmd_decode_scan(reply, len, expect_msg, status, r);
    wifiprov__free_secret(reply, WIFIPROV_REPLY_CAP);
    return ret;
}

int wifiprov_client_scan_start(struct wifiprov_client *c, const struct wifiprov_scan_opts *opts, int *status)
{
    WiFiScanPayload p = WI_FI_SCAN_PAYLOAD__INIT;
    CmdScanStart cmd = CMD_SCAN_START__INIT;
    struct wifiprov_scan_reply r;

    set_status(status, 0);
    if (!c || !opts)
        return WIFIPROV_ERR_INVAL;
    memset(&r, 0, sizeof(r));
    cmd.blocking = opts->blocking;
    cmd.passive = opts->passive;
    cmd.group_channels = opts->group_channels;
    cmd.period_ms = opts->period_ms;
    p.msg = WI_FI_SCAN_MSG_TYPE__TypeCmdScanStart;
    p.payload_case = WI_FI_SCAN_PAYLOAD__PAYLOAD_CMD_SCAN_START;
    p.cmd_scan_start = &cmd;
    return scan_exchange(c, &p, WI_FI_SCAN_MSG_TYPE__TypeRespScanStart, status, &r);
}

int wifiprov_client_scan_status(struct wifiprov_client *c, bool *finished, uint32_t *count, int *status)
{
    WiFiScanPayload p = WI_FI_SCAN_PAYLOAD__INIT;
    struct wifiprov_scan_reply r;
    int ret;

    set_status(status, 0);
    if (!c)
        return WIFIPROV_ERR_INVAL;
    memset(&r, 0, sizeof(r));
    p.msg = WI_FI_SCAN_MSG_TYPE__TypeCmdScanStatus;
    ret = scan_exchange(c, &p, WI_FI_SCAN_MSG_TYPE__TypeRespScanStatus, status, &r);
    if (finished)
        *finished = r.finished;
    if (count)
        *count = r.count;
    return ret;
}

int wifiprov_client_scan_result(struct wifiprov_client *c, uint32_t start, uint32_t count, struct wifiprov_ap *aps,
                                size_t *n_out, int *status)
{
    WiFiScanPayload p = WI_FI_SCAN_PAYLOAD__INIT;
    CmdScanResult cmd = CMD_SCAN_RESULT__INIT;
    struct wifiprov_scan_reply r;
    int ret;

    set_status(status, 0);
    if (n_out)
        *n_out = 0;
    if (!c || !n_out || (!aps && count))
        return WIFIPROV_ERR_INVAL;
    memset(&r, 0, sizeof(r));
    r.aps = aps;
    r.aps_cap = count;
    cmd.start_index = start;
    cmd.count = count;
    p.msg = WI_FI_SCAN_MSG_TYPE__TypeCmdScanResult;
    p.payload_case = WI_FI_SCAN_PAYLOAD__PAYLOAD_CMD_SCAN_RESULT;
    p.cmd_scan_result = &cmd;
    ret = scan_exchange(c, &p, WI_FI_SCAN_MSG_TYPE__TypeRespScanResult, status, &r);
    *n_out = r.n_aps;
    return ret;
}

static int ctrl(struct wifiprov_client *c, int msg, int *status)
{
    WiFiCtrlPayload p = WI_FI_CTRL_PAYLOAD__INIT;
    uint8_t *reply = NULL;
    size_t len = 0;
    int ret;

    set_status(status, 0);
    if (!c)
        return WIFIPROV_ERR_INVAL;
    p.msg = (WiFiCtrlMsgType)msg;
    ret = exchange(c, WIFIPROV_EP_CTRL, &p.base, &reply, &len);
    if (!ret)
        ret = wifiprov__cmd_decode_ctrl(reply, len, msg + 1, status);
    wifiprov__free_secret(reply, WIFIPROV_REPLY_CAP);
    return ret;
}

int wifiprov_client_ctrl_reset(struct wifiprov_client *c, int *status)
{
    return ctrl(c, WI_FI_CTRL_MSG_TYPE__TypeCmdCtrlReset, status);
}

int wifiprov_client_ctrl_reprov(struct wifiprov_client *c, int *status)
{
    return ctrl(c, WI_FI_CTRL_MSG_TYPE__TypeCmdCtrlReprov, status);
}
