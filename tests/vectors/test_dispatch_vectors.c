/*
 * Known-answer transcripts (tests/vectors/data) replayed through the device
 * dispatch (wifiprov_device_handle) and through the client (handshake and
 * command helpers over a scripted transport). Every byte must match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/core_priv.h"
#include "sec/sec_priv.h"
#include "testutil.h"
#include "wifi_config.pb-c.h"
#include "wifi_ctrl.pb-c.h"
#include "wifi_scan.pb-c.h"
#include "wifiprov/wifiprov.h"

#define MAX_MSGS 32
#define SID 0x1234abcdu

struct vmsg {
    char ep[64];
    uint8_t *rq_w, *rs_w, *rq_p, *rs_p;
    size_t rq_w_len, rs_w_len, rq_p_len, rs_p_len;
};

struct vset {
    cJSON *root;
    const cJSON *inputs;
    struct vmsg m[MAX_MSGS];
    size_t n;
    int security;
    bool patch0;
};

static const char *input(const struct vset *v, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(v->inputs, key);

    assert_true(cJSON_IsString(it));
    return it->valuestring;
}

static uint8_t *hex_field(const cJSON *m, const char *key, size_t *len)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(m, key);

    assert_true(cJSON_IsString(it));
    return test_hex(it->valuestring, len);
}

static void load(struct vset *v, const char *file, int security, bool variant0)
{
    char path[1024];
    const cJSON *msgs, *m;
    char *text;

    memset(v, 0, sizeof(*v));
    v->security = security;
    v->patch0 = variant0;
    snprintf(path, sizeof(path), "%s/%s", WIFIPROV_VECTORS_DIR, file);
    text = test_read_file(path, NULL);
    v->root = cJSON_Parse(text);
    free(text);
    assert_non_null(v->root);
    v->inputs = cJSON_GetObjectItemCaseSensitive(v->root, "inputs");
    if (variant0)
        msgs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v->root, "variant_sec_patch_ver_0"),
                                                "messages");
    else
        msgs = cJSON_GetObjectItemCaseSensitive(v->root, "messages");
    assert_true(cJSON_IsArray(msgs));
    cJSON_ArrayForEach(m, msgs)
    {
        struct vmsg *x = &v->m[v->n++];
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(m, "endpoint");

        assert_true(v->n <= MAX_MSGS);
        assert_true(cJSON_IsString(ep));
        snprintf(x->ep, sizeof(x->ep), "%s", ep->valuestring);
        x->rq_w = hex_field(m, "request_wire", &x->rq_w_len);
        x->rs_w = hex_field(m, "response_wire", &x->rs_w_len);
        x->rq_p = hex_field(m, "request_plain", &x->rq_p_len);
        x->rs_p = hex_field(m, "response_plain", &x->rs_p_len);
    }
    assert_true(v->n >= 3);
}

static void unload(struct vset *v)
{
    size_t i;

    for (i = 0; i < v->n; i++) {
        free(v->m[i].rq_w);
        free(v->m[i].rs_w);
        free(v->m[i].rq_p);
        free(v->m[i].rs_p);
    }
    cJSON_Delete(v->root);
}

/* --- device side ---------------------------------------------------------- */

struct dev_run {
    const struct vset *v;
    size_t cur; /* index of the message being dispatched */
    unsigned handler_calls;
    unsigned setup_ok;
    unsigned other_events;
};

struct ep_ctx {
    const char *name;
    struct dev_run *run;
};

static int vec_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    struct ep_ctx *e = ctx;
    const struct vmsg *m = &e->run->v->m[e->run->cur];

    assert_string_equal(e->name, m->ep);
    assert_int_equal(req->session_id, SID);
    assert_false(req->resumed);
    assert_int_equal(req->len, m->rq_p_len);
    if (m->rq_p_len)
        assert_memory_equal(req->data, m->rq_p, m->rq_p_len);
    assert_true(cap >= m->rs_p_len);
    memcpy(out, m->rs_p, m->rs_p_len);
    *out_len = m->rs_p_len;
    e->run->handler_calls++;
    return 0;
}

static void dev_event(void *ctx, enum wifiprov_device_event ev, uint32_t sid)
{
    struct dev_run *r = ctx;

    assert_int_equal(sid, SID);
    if (ev == WIFIPROV_DEVICE_EVENT_SETUP_OK)
        r->setup_ok++;
    else if (ev != WIFIPROV_DEVICE_EVENT_SESSION_OPENED)
        r->other_events++;
}

static void run_device(const struct vset *v)
{
    static const char *const eps[] = {WIFIPROV_EP_CONFIG, WIFIPROV_EP_SCAN, WIFIPROV_EP_CTRL, "custom-data"};
    struct wifiprov_device_config cfg;
    struct wifiprov_device *dev = NULL;
    struct ep_ctx ectx[4];
    struct dev_run run;
    struct fixed_rng rng;
    uint8_t *salt = NULL, *verifier = NULL, out[WIFIPROV_REPLY_CAP];
    size_t salt_len = 0, verifier_len = 0, out_len, i, app_msgs = 0;

    memset(&run, 0, sizeof(run));
    run.v = v;
    memset(&cfg, 0, sizeof(cfg));
    fixed_rng_init(&rng);
    cfg.security = (enum wifiprov_security)v->security;
    cfg.version_compact = true;
    cfg.random = fixed_rng_fn;
    cfg.random_ctx = &rng;
    cfg.event_fn = dev_event;
    cfg.event_ctx = &run;
    if (v->security == 1) {
        cfg.pop = input(v, "pop");
        /* Draw order of the device: private key, then device_random. */
        fixed_rng_push_hex(&rng, input(v, "device_privkey"));
        fixed_rng_push_hex(&rng, input(v, "device_random"));
    } else if (v->security == 2) {
        salt = test_hex(input(v, "salt"), &salt_len);
        verifier = test_hex(input(v, "verifier"), &verifier_len);
        cfg.sec2_salt = salt;
        cfg.sec2_salt_len = salt_len;
        cfg.sec2_verifier = verifier;
        cfg.sec2_verifier_len = verifier_len;
        cfg.sec2_patch0 = v->patch0;
        /* Draw order: b, then the nonce prefix (patch 1) or the whole constant IV (patch 0;
         * the vectors use the 12-byte prefix || 00000001 there too). */
        fixed_rng_push_hex(&rng, input(v, "device_b"));
        fixed_rng_push_hex(&rng, input(v, "device_nonce_prefix"));
        if (v->patch0)
            fixed_rng_push_hex(&rng, "00000001");
    }
    assert_int_equal(wifiprov_device_new(&cfg, &dev), 0);
    assert_int_equal(wifiprov_device_add_capability(dev, "wifi_scan"), 0);
    for (i = 0; i < 4; i++) {
        ectx[i].name = eps[i];
        ectx[i].run = &run;
        assert_int_equal(wifiprov_device_add_endpoint(dev, eps[i], vec_handler, &ectx[i]), 0);
    }
    assert_int_equal(wifiprov_device_session_open(dev, SID), 0);
    if (v->security == 2 && v->patch0) {
        struct wifiprov_dev_session *s = NULL;

        for (i = 0; i < dev->max_sessions; i++) {
            if (dev->sessions[i].used && dev->sessions[i].id == SID)
                s = &dev->sessions[i];
        }
        assert_non_null(s);
        assert_int_equal(wifiprov__sec2_set_patch0_iv_len(s->sec, 12), 0);
    }

    for (run.cur = 0; run.cur < v->n; run.cur++) {
        const struct vmsg *m = &v->m[run.cur];
        unsigned calls = run.handler_calls;
        int rc;

        memset(out, 0xee, sizeof(out));
        rc = wifiprov_device_handle(dev, SID, m->ep, m->rq_w, m->rq_w_len, out, sizeof(out), &out_len);
        if (rc)
            fail_msg("message %zu (%s): %s", run.cur + 1, m->ep, wifiprov_err_name(rc));
        assert_int_equal(out_len, m->rs_w_len);
        assert_memory_equal(out, m->rs_w, out_len);
        if (strcmp(m->ep, WIFIPROV_EP_VERSION) != 0 && strcmp(m->ep, WIFIPROV_EP_SESSION) != 0) {
            assert_int_equal(run.handler_calls, calls + 1);
            app_msgs++;
        } else {
            assert_int_equal(run.handler_calls, calls);
        }
    }
    assert_true(app_msgs >= 5);
    assert_int_equal(run.setup_ok, 1);
    assert_int_equal(run.other_events, 0);
    assert_true(wifiprov_device_session_established(dev, SID));
    /* The scripted randomness was used up exactly. */
    assert_int_equal(rng.pos, rng.len);
    wifiprov_device_free(dev);
    free(salt);
    free(verifier);
}

/* --- client side ---------------------------------------------------------- */

struct cli_run {
    const struct vset *v;
    size_t cur;
};

static int vec_xfer(void *ctx, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp, size_t cap,
                    size_t *resp_len)
{
    struct cli_run *r = ctx;
    const struct vmsg *m;

    assert_true(r->cur < r->v->n);
    m = &r->v->m[r->cur];
    if (strcmp(ep, m->ep) != 0)
        fail_msg("message %zu: client used endpoint %s, transcript has %s", r->cur + 1, ep, m->ep);
    assert_int_equal(req_len, m->rq_w_len);
    assert_memory_equal(req, m->rq_w, req_len);
    assert_true(cap >= m->rs_w_len);
    memcpy(resp, m->rs_w, m->rs_w_len);
    *resp_len = m->rs_w_len;
    r->cur++;
    return 0;
}

static void check_status_reply(const struct vmsg *m, const struct wifiprov_wifi_status *st)
{
    WiFiConfigPayload *p = wi_fi_config_payload__unpack(NULL, m->rs_p_len, m->rs_p);
    const RespGetStatus *r;

    assert_non_null(p);
    r = p->resp_get_status;
    assert_non_null(r);
    assert_int_equal(st->state, (int)r->sta_state);
    if (r->state_case == RESP_GET_STATUS__STATE_CONNECTED) {
        assert_string_equal(st->ip4, r->connected->ip4_addr);
        assert_int_equal(st->ssid_len, r->connected->ssid.len);
        assert_memory_equal(st->ssid, r->connected->ssid.data, st->ssid_len);
        assert_int_equal(r->connected->bssid.len, WIFIPROV_BSSID_LEN);
        assert_memory_equal(st->bssid, r->connected->bssid.data, WIFIPROV_BSSID_LEN);
        assert_int_equal(st->channel, r->connected->channel);
        assert_int_equal(st->auth, (uint32_t)r->connected->auth_mode);
    }
    wi_fi_config_payload__free_unpacked(p, NULL);
}

static void check_scan_results(const struct vmsg *m, const struct wifiprov_ap *aps, size_t n)
{
    WiFiScanPayload *p = wi_fi_scan_payload__unpack(NULL, m->rs_p_len, m->rs_p);
    size_t i;

    assert_non_null(p);
    assert_non_null(p->resp_scan_result);
    assert_int_equal(n, p->resp_scan_result->n_entries);
    for (i = 0; i < n; i++) {
        const WiFiScanResult *e = p->resp_scan_result->entries[i];

        assert_int_equal(aps[i].ssid_len, e->ssid.len);
        assert_memory_equal(aps[i].ssid, e->ssid.data, e->ssid.len);
        assert_int_equal(aps[i].channel, e->channel);
        assert_int_equal(aps[i].rssi, e->rssi);
        assert_true(aps[i].rssi < 0);
        assert_memory_equal(aps[i].bssid, e->bssid.data, WIFIPROV_BSSID_LEN);
        assert_int_equal(aps[i].auth, (uint32_t)e->auth);
    }
    wi_fi_scan_payload__free_unpacked(p, NULL);
}

/* Sends message m through the client helper that produces it. */
static void client_send(struct wifiprov_client *c, const struct vmsg *m)
{
    int status = -1;

    if (strcmp(m->ep, WIFIPROV_EP_CONFIG) == 0) {
        WiFiConfigPayload *p = wi_fi_config_payload__unpack(NULL, m->rq_p_len, m->rq_p);

        assert_non_null(p);
        if (p->msg == WI_FI_CONFIG_MSG_TYPE__TypeCmdGetStatus) {
            struct wifiprov_wifi_status st;

            assert_int_equal(wifiprov_client_get_status(c, &st), 0);
            check_status_reply(m, &st);
        } else if (p->msg == WI_FI_CONFIG_MSG_TYPE__TypeCmdSetConfig) {
            struct wifiprov_wifi_creds cr;

            memset(&cr, 0, sizeof(cr));
            assert_non_null(p->cmd_set_config);
            memcpy(cr.ssid, p->cmd_set_config->ssid.data, p->cmd_set_config->ssid.len);
            cr.ssid_len = (uint8_t)p->cmd_set_config->ssid.len;
            memcpy(cr.passphrase, p->cmd_set_config->passphrase.data, p->cmd_set_config->passphrase.len);
            cr.passphrase_len = (uint8_t)p->cmd_set_config->passphrase.len;
            assert_int_equal(wifiprov_client_set_config(c, &cr, &status), 0);
            assert_int_equal(status, 0);
        } else if (p->msg == WI_FI_CONFIG_MSG_TYPE__TypeCmdApplyConfig) {
            assert_int_equal(wifiprov_client_apply_config(c, &status), 0);
            assert_int_equal(status, 0);
        } else {
            fail_msg("unexpected prov-config message %d", (int)p->msg);
        }
        wi_fi_config_payload__free_unpacked(p, NULL);
    } else if (strcmp(m->ep, WIFIPROV_EP_SCAN) == 0) {
        WiFiScanPayload *p = wi_fi_scan_payload__unpack(NULL, m->rq_p_len, m->rq_p);

        assert_non_null(p);
        if (p->msg == WI_FI_SCAN_MSG_TYPE__TypeCmdScanStart) {
            struct wifiprov_scan_opts o;

            assert_non_null(p->cmd_scan_start);
            o.blocking = p->cmd_scan_start->blocking;
            o.passive = p->cmd_scan_start->passive;
            o.group_channels = p->cmd_scan_start->group_channels;
            o.period_ms = p->cmd_scan_start->period_ms;
            assert_int_equal(wifiprov_client_scan_start(c, &o, &status), 0);
        } else if (p->msg == WI_FI_SCAN_MSG_TYPE__TypeCmdScanStatus) {
            bool fin = false;
            uint32_t count = 0;

            assert_int_equal(wifiprov_client_scan_status(c, &fin, &count, &status), 0);
            assert_true(fin);
            assert_int_equal(count, 5);
        } else if (p->msg == WI_FI_SCAN_MSG_TYPE__TypeCmdScanResult) {
            struct wifiprov_ap aps[16];
            size_t n = 0;

            assert_non_null(p->cmd_scan_result);
            assert_true(p->cmd_scan_result->count <= 16);
            assert_int_equal(wifiprov_client_scan_result(c, p->cmd_scan_result->start_index,
                                                         p->cmd_scan_result->count, aps, &n, &status),
                             0);
            check_scan_results(m, aps, n);
        } else {
            fail_msg("unexpected prov-scan message %d", (int)p->msg);
        }
        assert_int_equal(status, 0);
        wi_fi_scan_payload__free_unpacked(p, NULL);
    } else if (strcmp(m->ep, WIFIPROV_EP_CTRL) == 0) {
        WiFiCtrlPayload *p = wi_fi_ctrl_payload__unpack(NULL, m->rq_p_len, m->rq_p);

        assert_non_null(p);
        if (p->msg == WI_FI_CTRL_MSG_TYPE__TypeCmdCtrlReset)
            assert_int_equal(wifiprov_client_ctrl_reset(c, &status), 0);
        else if (p->msg == WI_FI_CTRL_MSG_TYPE__TypeCmdCtrlReprov)
            assert_int_equal(wifiprov_client_ctrl_reprov(c, &status), 0);
        else
            fail_msg("unexpected prov-ctrl message %d", (int)p->msg);
        assert_int_equal(status, 0);
        wi_fi_ctrl_payload__free_unpacked(p, NULL);
    } else {
        uint8_t resp[WIFIPROV_REPLY_CAP];
        size_t n = 0;

        assert_int_equal(wifiprov_client_request(c, m->ep, m->rq_p, m->rq_p_len, resp, sizeof(resp), &n), 0);
        assert_int_equal(n, m->rs_p_len);
        assert_memory_equal(resp, m->rs_p, n);
    }
}

static void run_client(const struct vset *v)
{
    struct wifiprov_client_config cfg;
    struct wifiprov_version_info info;
    struct wifiprov_client *c = NULL;
    struct fixed_rng rng;
    struct cli_run run;
    char probe[64], raw[512];
    size_t i;

    memset(&run, 0, sizeof(run));
    run.v = v;
    memset(&cfg, 0, sizeof(cfg));
    fixed_rng_init(&rng);
    cfg.xfer = vec_xfer;
    cfg.xfer_ctx = &run;
    cfg.security = (enum wifiprov_security)v->security;
    cfg.random = fixed_rng_fn;
    cfg.random_ctx = &rng;

    /* Step 1: the version query, through a throw-away client (nothing is known yet). */
    assert_string_equal(v->m[0].ep, WIFIPROV_EP_VERSION);
    assert_true(v->m[0].rq_w_len < sizeof(probe));
    memcpy(probe, v->m[0].rq_w, v->m[0].rq_w_len);
    probe[v->m[0].rq_w_len] = '\0';
    {
        struct wifiprov_client_config vcfg = cfg;

        vcfg.security = WIFIPROV_SECURITY_0;
        assert_int_equal(wifiprov_client_new(&vcfg, &c), 0);
        assert_int_equal(wifiprov_client_get_version(c, probe, &info, raw, sizeof(raw)), 0);
        wifiprov_client_free(c);
        c = NULL;
    }
    assert_int_equal(strlen(raw), v->m[0].rs_w_len);
    assert_true(info.is_json);
    assert_string_equal(info.ver, "v1.1");
    assert_true(info.has_sec_ver);
    assert_int_equal(info.sec_ver, v->security);
    assert_int_equal(info.sec_patch_ver, v->security == 2 && !v->patch0 ? 1 : 0);
    assert_true(wifiprov_version_has_cap(&info, "wifi_scan"));
    assert_int_equal(wifiprov_version_has_cap(&info, "no_sec"), v->security == 0);

    if (v->security == 1) {
        cfg.pop = input(v, "pop");
        fixed_rng_push_hex(&rng, input(v, "client_privkey"));
    } else if (v->security == 2) {
        cfg.username = input(v, "username");
        cfg.password = input(v, "password");
        cfg.sec_patch_ver = info.sec_patch_ver;
        fixed_rng_push_hex(&rng, input(v, "client_a"));
    }
    assert_int_equal(wifiprov_client_new(&cfg, &c), 0);
    assert_false(wifiprov_client_established(c));
    assert_int_equal(wifiprov_client_handshake(c), 0);
    assert_true(wifiprov_client_established(c));
    assert_int_equal(run.cur, v->security == 0 ? 2 : 3);
    assert_int_equal(rng.pos, rng.len);
    for (i = run.cur; i < v->n; i++) {
        client_send(c, &v->m[i]);
        assert_int_equal(run.cur, i + 1);
    }
    wifiprov_client_free(c);
}

/* --- cases ---------------------------------------------------------------- */

static void sec0_device(void **state)
{
    struct vset v;

    (void)state;
    load(&v, "sec0.json", 0, false);
    run_device(&v);
    unload(&v);
}

static void sec1_device(void **state)
{
    struct vset v;

    (void)state;
    load(&v, "sec1.json", 1, false);
    run_device(&v);
    unload(&v);
}

static void sec2_device(void **state)
{
    struct vset v;

    (void)state;
    load(&v, "sec2.json", 2, false);
    run_device(&v);
    unload(&v);
}

static void sec2_patch0_device(void **state)
{
    struct vset v;

    (void)state;
    load(&v, "sec2.json", 2, true);
    run_device(&v);
    unload(&v);
}

static void sec0_client(void **state)
{
    struct vset v;

    (void)state;
    load(&v, "sec0.json", 0, false);
    run_client(&v);
    unload(&v);
}

static void sec1_client(void **state)
{
    struct vset v;

    (void)state;
    load(&v, "sec1.json", 1, false);
    run_client(&v);
    unload(&v);
}

static void sec2_client(void **state)
{
    struct vset v;

    (void)state;
    load(&v, "sec2.json", 2, false);
    run_client(&v);
    unload(&v);
}

static void sec2_patch0_client(void **state)
{
    struct vset v;

    (void)state;
    load(&v, "sec2.json", 2, true);
    run_client(&v);
    unload(&v);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sec0_device),        cmocka_unit_test(sec1_device),
        cmocka_unit_test(sec2_device),        cmocka_unit_test(sec2_patch0_device),
        cmocka_unit_test(sec0_client),        cmocka_unit_test(sec1_client),
        cmocka_unit_test(sec2_client),        cmocka_unit_test(sec2_patch0_client),
    };

    return TEST_RUN("dispatch_vectors", tests, argc, argv);
}
