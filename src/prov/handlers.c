/*
 * The provisioning endpoints: prov-config (GetStatus / SetConfig / ApplyConfig),
 * prov-scan (ScanStart / ScanStatus / ScanResult) and prov-ctrl (Reset / Reprov),
 * PROTOCOL.md §8. Each handler parses one plaintext request and writes one
 * plaintext reply whose msg is the request's plus one. A request the protocol
 * has no answer for (unknown msg, unparsable, missing required sub-message)
 * fails the exchange with WIFIPROV_ERR_PROTO.
 */
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "prov/prov_priv.h"
#include "util.h"
#include "wifi_config.pb-c.h"
#include "wifi_ctrl.pb-c.h"
#include "wifi_scan.pb-c.h"

static int pack_reply(const ProtobufCMessage *msg, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t n = protobuf_c_message_get_packed_size(msg);

    if (n > out_cap)
        return WIFIPROV_ERR_NOSPC;
    *out_len = protobuf_c_message_pack(msg, out);
    return 0;
}

/* ---- prov-config ------------------------------------------------------- */

static int get_status(struct wifiprov_prov *p, uint8_t *out, size_t out_cap, size_t *out_len)
{
    WiFiConfigPayload resp = WI_FI_CONFIG_PAYLOAD__INIT;
    RespGetStatus gs = RESP_GET_STATUS__INIT;
    WifiConnectedState conn = WIFI_CONNECTED_STATE__INIT;
    WifiAttemptFailed af = WIFI_ATTEMPT_FAILED__INIT;
    struct wifiprov_wifi_status st = p->status;
    bool reported_connected = false;
    int r;

    resp.msg = WI_FI_CONFIG_MSG_TYPE__TypeRespGetStatus;
    resp.payload_case = WI_FI_CONFIG_PAYLOAD__PAYLOAD_RESP_GET_STATUS;
    resp.resp_get_status = &gs;
    switch (st.state) {
    case WIFIPROV_STA_STATE_CONNECTED:
        gs.sta_state = WIFI_STATION_STATE__Connected;
        gs.state_case = RESP_GET_STATUS__STATE_CONNECTED;
        gs.connected = &conn;
        conn.ip4_addr = st.ip4;
        conn.auth_mode = (WifiAuthMode)st.auth;
        conn.ssid.data = st.ssid;
        conn.ssid.len = st.ssid_len;
        conn.bssid.data = st.bssid;
        conn.bssid.len = WIFIPROV_BSSID_LEN;
        conn.channel = st.channel;
        reported_connected = true;
        break;
    case WIFIPROV_STA_STATE_CONNECTING:
        gs.sta_state = WIFI_STATION_STATE__Connecting;
        if (st.has_attempts_remaining) {
            gs.state_case = RESP_GET_STATUS__STATE_ATTEMPT_FAILED;
            gs.attempt_failed = &af;
            af.attempts_remaining = st.attempts_remaining;
        }
        break;
    case WIFIPROV_STA_STATE_DISCONNECTED:
        gs.sta_state = WIFI_STATION_STATE__Disconnected;
        break;
    case WIFIPROV_STA_STATE_FAILED:
        gs.sta_state = WIFI_STATION_STATE__ConnectionFailed;
        gs.state_case = RESP_GET_STATUS__STATE_FAIL_REASON;
        gs.fail_reason = st.fail_reason == WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND
                             ? WIFI_CONNECT_FAILED_REASON__NetworkNotFound
                             : WIFI_CONNECT_FAILED_REASON__AuthError;
        break;
    }
    r = pack_reply(&resp.base, out, out_cap, out_len);
    if (r == 0 && reported_connected)
        wifiprov__prov_status_reported(p);
    return r;
}

/* @return the wire status of the SetConfig reply. */
static Status set_config(struct wifiprov_prov *p, uint32_t session_id, const CmdSetConfig *c)
{
    struct wifiprov__prov_staged *slot;
    struct wifiprov_wifi_creds *s;

    if (c->ssid.len > WIFIPROV_SSID_MAX || c->passphrase.len > WIFIPROV_PASSPHRASE_MAX ||
        (c->bssid.len != 0 && c->bssid.len != WIFIPROV_BSSID_LEN) ||
        (c->passphrase.len && memchr(c->passphrase.data, 0, c->passphrase.len))) {
        wifiprov__info("prov: SetConfig rejected (ssid %zu bytes, passphrase %zu bytes, bssid %zu bytes)",
                       c->ssid.len, c->passphrase.len, c->bssid.len);
        return STATUS__InvalidArgument;
    }
    slot = wifiprov__prov_stage_slot(p, session_id);
    if (!slot)
        return STATUS__InternalError;
    s = &slot->creds;
    /* A later SetConfig of the same session replaces what it staged. */
    wifiprov_memzero(s, sizeof(*s));
    if (c->ssid.len)
        memcpy(s->ssid, c->ssid.data, c->ssid.len);
    s->ssid_len = (uint8_t)c->ssid.len;
    if (c->passphrase.len)
        memcpy(s->passphrase, c->passphrase.data, c->passphrase.len);
    s->passphrase_len = (uint8_t)c->passphrase.len;
    if (c->bssid.len == WIFIPROV_BSSID_LEN) {
        memcpy(s->bssid, c->bssid.data, WIFIPROV_BSSID_LEN);
        s->has_bssid = true;
    }
    s->channel = c->channel;
    {
        char shown[WIFIPROV__ESCAPED_SSID_MAX];

        wifiprov__info("prov: credentials staged for SSID \"%s\"",
                       wifiprov__escape(s->ssid, s->ssid_len, shown, sizeof(shown)));
    }
    return STATUS__Success;
}

int wifiprov__prov_config_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t out_cap,
                                  size_t *out_len)
{
    struct wifiprov_prov *p = ctx;
    struct wifiprov_pb_unpack ua;
    WiFiConfigPayload *in = NULL;
    WiFiConfigPayload resp = WI_FI_CONFIG_PAYLOAD__INIT;
    RespSetConfig rs = RESP_SET_CONFIG__INIT;
    RespApplyConfig ra = RESP_APPLY_CONFIG__INIT;
    int r = WIFIPROV_ERR_STATE;

    if (!wifiprov__prov_serving(p))
        goto out;
    wifiprov__pb_unpack_init(&ua);
    in = wi_fi_config_payload__unpack(&ua.a, req->len, req->data);
    if (!in) {
        r = wifiprov__pb_unpack_error(&ua);
        goto out;
    }
    r = WIFIPROV_ERR_PROTO;
    switch ((int)in->msg) {
    case WI_FI_CONFIG_MSG_TYPE__TypeCmdGetStatus:
        r = get_status(p, out, out_cap, out_len);
        break;
    case WI_FI_CONFIG_MSG_TYPE__TypeCmdSetConfig:
        if (in->payload_case != WI_FI_CONFIG_PAYLOAD__PAYLOAD_CMD_SET_CONFIG || !in->cmd_set_config)
            goto out;
        rs.status = set_config(p, req->session_id, in->cmd_set_config);
        resp.msg = WI_FI_CONFIG_MSG_TYPE__TypeRespSetConfig;
        resp.payload_case = WI_FI_CONFIG_PAYLOAD__PAYLOAD_RESP_SET_CONFIG;
        resp.resp_set_config = &rs;
        r = pack_reply(&resp.base, out, out_cap, out_len);
        break;
    case WI_FI_CONFIG_MSG_TYPE__TypeCmdApplyConfig:
        ra.status = wifiprov__prov_apply(p, req->session_id) == 0 ? STATUS__Success : STATUS__InternalError;
        resp.msg = WI_FI_CONFIG_MSG_TYPE__TypeRespApplyConfig;
        resp.payload_case = WI_FI_CONFIG_PAYLOAD__PAYLOAD_RESP_APPLY_CONFIG;
        resp.resp_apply_config = &ra;
        r = pack_reply(&resp.base, out, out_cap, out_len);
        break;
    default:
        wifiprov__dbg("prov: prov-config message type %d refused", (int)in->msg);
        break;
    }
out:
    if (in) {
        /* The passphrase was copied where needed; do not leave it in freed memory. */
        if (in->payload_case == WI_FI_CONFIG_PAYLOAD__PAYLOAD_CMD_SET_CONFIG && in->cmd_set_config &&
            in->cmd_set_config->passphrase.data)
            wifiprov_memzero(in->cmd_set_config->passphrase.data, in->cmd_set_config->passphrase.len);
        wi_fi_config_payload__free_unpacked(in, &ua.a);
    }
    return r;
}

/* ---- prov-scan --------------------------------------------------------- */

static bool scan_cache_fresh(const struct wifiprov_prov *p)
{
    return p->cfg.scan_cache_ms && p->scan_have_result && !p->scan_running && p->scan_err == 0 &&
           wifiprov__prov_now(p) - p->scan_done_at < p->cfg.scan_cache_ms;
}

/* @return 0 with *status set, or WIFIPROV_ERR_PENDING. */
static int scan_start(struct wifiprov_prov *p, const struct wifiprov_request *req, const CmdScanStart *c,
                      Status *status)
{
    struct wifiprov_scan_opts opts;

    *status = STATUS__Success;
    if (req->resumed) {
        if (p->scan_running)
            return WIFIPROV_ERR_PENDING;
        if (p->scan_err < 0)
            *status = STATUS__InternalError;
        return 0;
    }
    if (c->blocking && scan_cache_fresh(p))
        return 0;
    memset(&opts, 0, sizeof(opts));
    opts.blocking = c->blocking;
    opts.passive = c->passive;
    opts.group_channels = c->group_channels;
    opts.period_ms = c->period_ms;
    if (wifiprov__prov_scan_start(p, &opts) < 0) {
        *status = STATUS__InternalError;
        return 0;
    }
    if (!c->blocking)
        return 0;
    if (p->scan_running)
        return WIFIPROV_ERR_PENDING;
    if (p->scan_err < 0)
        *status = STATUS__InternalError;
    return 0;
}

static int scan_result(struct wifiprov_prov *p, const CmdScanResult *c, WiFiScanPayload *resp, uint8_t *out,
                       size_t out_cap, size_t *out_len)
{
    RespScanResult rr = RESP_SCAN_RESULT__INIT;
    WiFiScanResult *entries = NULL;
    WiFiScanResult **ptrs = NULL;
    uint32_t max = p->cfg.max_scan_entries, i;
    int r = WIFIPROV_ERR_INVAL;

    if (c->start_index >= max || c->count > max - c->start_index) {
        wifiprov__dbg("prov: ScanResult{%u, %u} outside 0..%u", (unsigned)c->start_index, (unsigned)c->count,
                      (unsigned)max);
        goto out;
    }
    r = WIFIPROV_ERR_NOMEM;
    entries = wifiprov__calloc(c->count, sizeof(*entries));
    ptrs = wifiprov__calloc(c->count, sizeof(*ptrs));
    if (!entries || !ptrs)
        goto out;
    for (i = 0; i < c->count; i++) {
        const struct wifiprov_ap *ap;
        WiFiScanResult *e = &entries[i];

        if (c->start_index + i >= p->n_aps) {
            /* In range but not (yet) found: what there is, flagged as an error. */
            resp->status = STATUS__InternalError;
            break;
        }
        ap = &p->aps[c->start_index + i];
        wi_fi_scan_result__init(e);
        e->ssid.data = (uint8_t *)ap->ssid;
        e->ssid.len = ap->ssid_len;
        e->channel = ap->channel;
        e->rssi = ap->rssi;
        e->bssid.data = (uint8_t *)ap->bssid;
        e->bssid.len = WIFIPROV_BSSID_LEN;
        e->auth = (WifiAuthMode)ap->auth;
        ptrs[i] = e;
    }
    rr.n_entries = i;
    rr.entries = ptrs;
    resp->payload_case = WI_FI_SCAN_PAYLOAD__PAYLOAD_RESP_SCAN_RESULT;
    resp->resp_scan_result = &rr;
    r = pack_reply(&resp->base, out, out_cap, out_len);
out:
    wifiprov__free(ptrs);
    wifiprov__free(entries);
    return r;
}

int wifiprov__prov_scan_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t out_cap,
                                size_t *out_len)
{
    struct wifiprov_prov *p = ctx;
    struct wifiprov_pb_unpack ua;
    WiFiScanPayload *in = NULL;
    WiFiScanPayload resp = WI_FI_SCAN_PAYLOAD__INIT;
    RespScanStart rstart = RESP_SCAN_START__INIT;
    RespScanStatus rstatus = RESP_SCAN_STATUS__INIT;
    Status status;
    int r = WIFIPROV_ERR_STATE;

    if (!wifiprov__prov_serving(p))
        goto out;
    wifiprov__pb_unpack_init(&ua);
    in = wi_fi_scan_payload__unpack(&ua.a, req->len, req->data);
    if (!in) {
        r = wifiprov__pb_unpack_error(&ua);
        goto out;
    }
    r = WIFIPROV_ERR_PROTO;
    /* in->msg is whatever number the wire carried (any int32): never compute with it, name each reply. */
    switch ((int)in->msg) {
    case WI_FI_SCAN_MSG_TYPE__TypeCmdScanStart:
        resp.msg = WI_FI_SCAN_MSG_TYPE__TypeRespScanStart;
        if (in->payload_case != WI_FI_SCAN_PAYLOAD__PAYLOAD_CMD_SCAN_START || !in->cmd_scan_start)
            goto out;
        r = scan_start(p, req, in->cmd_scan_start, &status);
        if (r < 0)
            goto out;
        resp.status = status;
        resp.payload_case = WI_FI_SCAN_PAYLOAD__PAYLOAD_RESP_SCAN_START;
        resp.resp_scan_start = &rstart;
        r = pack_reply(&resp.base, out, out_cap, out_len);
        break;
    case WI_FI_SCAN_MSG_TYPE__TypeCmdScanStatus:
        resp.msg = WI_FI_SCAN_MSG_TYPE__TypeRespScanStatus;
        rstatus.scan_finished = !p->scan_running;
        rstatus.result_count = (uint32_t)p->n_aps;
        resp.payload_case = WI_FI_SCAN_PAYLOAD__PAYLOAD_RESP_SCAN_STATUS;
        resp.resp_scan_status = &rstatus;
        r = pack_reply(&resp.base, out, out_cap, out_len);
        break;
    case WI_FI_SCAN_MSG_TYPE__TypeCmdScanResult:
        resp.msg = WI_FI_SCAN_MSG_TYPE__TypeRespScanResult;
        if (in->payload_case != WI_FI_SCAN_PAYLOAD__PAYLOAD_CMD_SCAN_RESULT || !in->cmd_scan_result)
            goto out;
        r = scan_result(p, in->cmd_scan_result, &resp, out, out_cap, out_len);
        break;
    default:
        wifiprov__dbg("prov: prov-scan message type %d refused", (int)in->msg);
        break;
    }
out:
    if (in)
        wi_fi_scan_payload__free_unpacked(in, &ua.a);
    return r;
}

/* ---- prov-ctrl --------------------------------------------------------- */

int wifiprov__prov_ctrl_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t out_cap,
                                size_t *out_len)
{
    struct wifiprov_prov *p = ctx;
    struct wifiprov_pb_unpack ua;
    WiFiCtrlPayload *in = NULL;
    WiFiCtrlPayload resp = WI_FI_CTRL_PAYLOAD__INIT;
    RespCtrlReset rreset = RESP_CTRL_RESET__INIT;
    RespCtrlReprov rreprov = RESP_CTRL_REPROV__INIT;
    int r = WIFIPROV_ERR_STATE;

    if (!wifiprov__prov_serving(p))
        goto out;
    wifiprov__pb_unpack_init(&ua);
    in = wi_fi_ctrl_payload__unpack(&ua.a, req->len, req->data);
    if (!in) {
        r = wifiprov__pb_unpack_error(&ua);
        goto out;
    }
    r = WIFIPROV_ERR_PROTO;
    switch ((int)in->msg) {
    case WI_FI_CTRL_MSG_TYPE__TypeCmdCtrlReset:
        if (wifiprov__prov_ctrl_reset(p) < 0) {
            wifiprov__info("prov: Reset refused in state %s", wifiprov_prov_state_to_string(p->state));
            resp.status = STATUS__InternalError;
        }
        resp.msg = WI_FI_CTRL_MSG_TYPE__TypeRespCtrlReset;
        resp.payload_case = WI_FI_CTRL_PAYLOAD__PAYLOAD_RESP_CTRL_RESET;
        resp.resp_ctrl_reset = &rreset;
        r = pack_reply(&resp.base, out, out_cap, out_len);
        break;
    case WI_FI_CTRL_MSG_TYPE__TypeCmdCtrlReprov:
        if (wifiprov__prov_ctrl_reprov(p) < 0) {
            wifiprov__info("prov: Reprov refused in state %s%s", wifiprov_prov_state_to_string(p->state),
                           p->cfg.no_auto_stop ? "" : " (auto-stop is on)");
            resp.status = STATUS__InternalError;
        }
        resp.msg = WI_FI_CTRL_MSG_TYPE__TypeRespCtrlReprov;
        resp.payload_case = WI_FI_CTRL_PAYLOAD__PAYLOAD_RESP_CTRL_REPROV;
        resp.resp_ctrl_reprov = &rreprov;
        r = pack_reply(&resp.base, out, out_cap, out_len);
        break;
    default:
        wifiprov__dbg("prov: prov-ctrl message type %d refused", (int)in->msg);
        break;
    }
out:
    if (in)
        wi_fi_ctrl_payload__free_unpacked(in, &ua.a);
    return r;
}
