/*
 * Provisioning manager tests: a real device with security 0 dispatches the
 * requests; a fake Wi-Fi backend records the manager's calls and the test plays
 * the backend's reports; a fake clock drives the auto-stop timers. Replies are
 * compared byte for byte with PROTOCOL.md Appendix A.1 and §8.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util.h"
#include "wifi_config.pb-c.h"
#include "wifi_scan.pb-c.h"
#include "wifiprov/device.h"
#include "wifiprov/prov.h"

/* ---- fixture ------------------------------------------------------------ */

struct fake_wifi {
    int n_scan, n_connect, n_disconnect, n_commit, n_forget;
    int scan_ret, connect_ret;
    struct wifiprov_scan_opts last_scan;
    struct wifiprov_wifi_creds last_connect, last_commit;
};

#define MAX_EVENTS 32
#define MAX_WAKES 8

struct fx {
    struct wifiprov_device *dev;
    struct wifiprov_prov *prov;
    struct wifiprov_prov_config cfg;
    struct fake_wifi wifi;
    uint64_t now;
    int timers_changed;
    enum wifiprov_prov_event events[MAX_EVENTS];
    struct wifiprov_wifi_status event_status[MAX_EVENTS];
    int n_events;
    uint32_t wakes[MAX_WAKES];
    int n_wakes;
    uint8_t out[WIFIPROV_REPLY_CAP];
    size_t out_len;
};

static int fw_scan_start(void *ctx, const struct wifiprov_scan_opts *opts)
{
    struct fake_wifi *w = ctx;

    w->n_scan++;
    w->last_scan = *opts;
    return w->scan_ret;
}

static int fw_connect(void *ctx, const struct wifiprov_wifi_creds *c)
{
    struct fake_wifi *w = ctx;

    w->n_connect++;
    w->last_connect = *c;
    return w->connect_ret;
}

static int fw_disconnect(void *ctx)
{
    ((struct fake_wifi *)ctx)->n_disconnect++;
    return 0;
}

static int fw_commit(void *ctx, const struct wifiprov_wifi_creds *c)
{
    struct fake_wifi *w = ctx;

    w->n_commit++;
    w->last_commit = *c;
    return 0;
}

static int fw_forget(void *ctx)
{
    ((struct fake_wifi *)ctx)->n_forget++;
    return 0;
}

static const struct wifiprov_wifi_ops fake_ops = {fw_scan_start, fw_connect, fw_disconnect, fw_commit, fw_forget};

static uint64_t fake_clock(void *ctx)
{
    return ((struct fx *)ctx)->now;
}

static void on_timers_changed(void *ctx)
{
    ((struct fx *)ctx)->timers_changed++;
}

static void on_event(void *ctx, enum wifiprov_prov_event ev, const struct wifiprov_prov_event_data *data)
{
    struct fx *f = ctx;

    assert_true(f->n_events < MAX_EVENTS);
    if (data->status)
        f->event_status[f->n_events] = *data->status;
    if (ev == WIFIPROV_PROV_EVENT_CRED_RECV)
        assert_non_null(data->creds);
    f->events[f->n_events++] = ev;
}

static void on_wake(void *ctx, uint32_t session_id)
{
    struct fx *f = ctx;

    assert_true(f->n_wakes < MAX_WAKES);
    f->wakes[f->n_wakes++] = session_id;
}

/* Default configuration; a test changes f->cfg and calls start(). */
static int setup(void **state)
{
    struct wifiprov_device_config dc;
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    memset(&dc, 0, sizeof(dc));
    dc.security = WIFIPROV_SECURITY_0;
    dc.wake_fn = on_wake;
    dc.wake_ctx = f;
    assert_int_equal(wifiprov_device_new(&dc, &f->dev), 0);
    assert_int_equal(wifiprov_device_session_open(f->dev, 1), 0);
    assert_int_equal(wifiprov_device_session_open(f->dev, 2), 0);
    f->now = 1000;
    f->cfg.device = f->dev;
    f->cfg.wifi = &fake_ops;
    f->cfg.wifi_ctx = &f->wifi;
    f->cfg.clock_fn = fake_clock;
    f->cfg.clock_ctx = f;
    f->cfg.timers_changed_fn = on_timers_changed;
    f->cfg.timers_ctx = f;
    f->cfg.event_fn = on_event;
    f->cfg.event_ctx = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    wifiprov_prov_free(f->prov);
    wifiprov_device_free(f->dev);
    free(f);
    return 0;
}

static void start(struct fx *f)
{
    assert_int_equal(wifiprov_prov_new(&f->cfg, &f->prov), 0);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_IDLE);
    assert_int_equal(wifiprov_prov_start(f->prov), 0);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_STARTED);
    assert_int_equal(f->n_events, 1);
    assert_int_equal(f->events[0], WIFIPROV_PROV_EVENT_STARTED);
    f->n_events = 0;
}

/* Sends @p req_hex to @p ep on session @p sid; returns the device's result, reply in f->out. */
static int send_sid(struct fx *f, uint32_t sid, const char *ep, const char *req_hex)
{
    size_t len = 0;
    uint8_t *req = test_hex(req_hex, &len);
    int r = wifiprov_device_handle(f->dev, sid, ep, req, len, f->out, sizeof(f->out), &f->out_len);

    free(req);
    return r;
}

static void check_reply(struct fx *f, const char *want_hex)
{
    char got[2 * sizeof(f->out) + 1];

    wifiprov__hex_encode(f->out, f->out_len, got);
    assert_string_equal(got, want_hex);
}

/* Request -> exact reply. */
static void expect(struct fx *f, const char *ep, const char *req_hex, const char *reply_hex)
{
    assert_int_equal(send_sid(f, 1, ep, req_hex), 0);
    check_reply(f, reply_hex);
}

static void expect_err(struct fx *f, const char *ep, const char *req_hex, int err)
{
    assert_int_equal(send_sid(f, 1, ep, req_hex), err);
}

/* Appendix A.1 messages. */
#define SETCONFIG_MYSSID "080262140a066d7973736964120a6d7970617373776f7264"
#define GET_STATUS "5200"
#define APPLY "0804"
#define R_SETCONFIG_OK "08036a00"
#define R_SETCONFIG_INVAL "08036a020804"
#define R_APPLY_OK "08057a00"
#define R_APPLY_ERR "08057a020805"
#define R_CONNECTING "08015a021001"
#define R_ATTEMPT_FAILED_3 "08015a06100162020803"
#define R_CONNECTED                                                                                             \
    "08015a245a220a0c3139322e3136382e312e343210031a066d79737369642206"                                          \
    "788a208419962806"
#define R_FAILED_AUTH "08015a0410035000"
#define R_FAILED_NOT_FOUND "08015a0410035001"
#define SCAN_START_BLOCKING "520408012078"
#define R_SCAN_START_OK "08015a00"
#define R_SCAN_START_ERR "080110055a00"
#define SCAN_STATUS "0802"
#define SCAN_RESULT_0_2 "080472021002"
#define SCAN_ENTRY_MYHOME "0a250a0c4d79486f6d65576946694150100118d3ffffffffffffffff012206788a2084199628" "03"
#define SCAN_ENTRY_INSECURE "0a250a0e496e736563757265576946694150100718b6ffffffffffffffff012206dca4caf1227c"
#define R_SCAN_RESULT_0_2 "08057a4e" SCAN_ENTRY_MYHOME SCAN_ENTRY_INSECURE
#define CTRL_RESET "0801"
#define CTRL_REPROV "0803"
#define R_RESET_OK "08026200"
#define R_RESET_ERR "080210056200"
#define R_REPROV_OK "08047200"
#define R_REPROV_ERR "080410057200"

static const uint8_t bssid_myhome[6] = {0x78, 0x8a, 0x20, 0x84, 0x19, 0x96};

static void wifi_connected(struct fx *f)
{
    struct wifiprov_wifi_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = WIFIPROV_WIFI_EVENT_CONNECTED;
    ev.ip4 = "192.168.1.42";
    ev.ssid = (const uint8_t *)"myssid";
    ev.ssid_len = 6;
    ev.bssid = bssid_myhome;
    ev.channel = 6;
    ev.auth = WIFIPROV_AUTH_MODE_WPA2_PSK;
    wifiprov_prov_wifi_event(f->prov, &ev);
}

static void wifi_failed(struct fx *f, enum wifiprov_fail_reason reason)
{
    struct wifiprov_wifi_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED;
    ev.reason = reason;
    wifiprov_prov_wifi_event(f->prov, &ev);
}

static void set_and_apply(struct fx *f)
{
    expect(f, WIFIPROV_EP_CONFIG, SETCONFIG_MYSSID, R_SETCONFIG_OK);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_OK);
}

static void scan_two(struct fx *f)
{
    struct wifiprov_ap aps[2];

    /* Weakest first, so the manager has to sort. */
    memset(aps, 0, sizeof(aps));
    memcpy(aps[0].ssid, "InsecureWiFiAP", 14);
    aps[0].ssid_len = 14;
    memcpy(aps[0].bssid, "\xdc\xa4\xca\xf1\x22\x7c", 6);
    aps[0].channel = 7;
    aps[0].rssi = -74;
    aps[0].auth = WIFIPROV_AUTH_MODE_OPEN;
    memcpy(aps[1].ssid, "MyHomeWiFiAP", 12);
    aps[1].ssid_len = 12;
    memcpy(aps[1].bssid, bssid_myhome, 6);
    aps[1].channel = 1;
    aps[1].rssi = -45;
    aps[1].auth = WIFIPROV_AUTH_MODE_WPA2_PSK;
    wifiprov_prov_scan_done(f->prov, 0, aps, 2);
}

/* ---- prov-config -------------------------------------------------------- */

static void config_appendix_a1(void **state)
{
    struct fx *f = *state;

    start(f);
    set_and_apply(f);
    assert_int_equal(f->n_events, 2);
    assert_int_equal(f->events[0], WIFIPROV_PROV_EVENT_CRED_RECV);
    assert_int_equal(f->events[1], WIFIPROV_PROV_EVENT_CONNECTING);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_CRED_RECV);
    assert_int_equal(f->wifi.n_connect, 1);
    assert_int_equal(f->wifi.last_connect.ssid_len, 6);
    assert_memory_equal(f->wifi.last_connect.ssid, "myssid", 6);
    assert_string_equal(f->wifi.last_connect.passphrase, "mypassword");
    assert_int_equal(f->wifi.last_connect.passphrase_len, 10);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTING);
    /* Nothing is made permanent before the connection worked. */
    assert_int_equal(f->wifi.n_commit, 0);

    wifi_connected(f);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_SUCCESS);
    assert_int_equal(f->wifi.n_commit, 1);
    assert_memory_equal(f->wifi.last_commit.ssid, "myssid", 6);
    assert_string_equal(f->wifi.last_commit.passphrase, "mypassword");
    assert_int_equal(f->n_events, 3);
    assert_int_equal(f->events[2], WIFIPROV_PROV_EVENT_CRED_SUCCESS);
    assert_string_equal(f->event_status[2].ip4, "192.168.1.42");
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTED);
}

static void config_status_before_apply(void **state)
{
    struct fx *f = *state;

    start(f);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTING);
    /* A zero-length plaintext is a GetStatus too. */
    expect(f, WIFIPROV_EP_CONFIG, "", R_CONNECTING);
}

/* A SetConfig request with fields of the given lengths (bssid 0 = absent), as hex. */
static void setconfig_hex(char *hex, const char *ssid, size_t ssid_len, const char *pass, size_t pass_len,
                          size_t bssid_len)
{
    static const uint8_t bssid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    WiFiConfigPayload m = WI_FI_CONFIG_PAYLOAD__INIT;
    CmdSetConfig c = CMD_SET_CONFIG__INIT;
    uint8_t buf[256];

    m.msg = WI_FI_CONFIG_MSG_TYPE__TypeCmdSetConfig;
    m.payload_case = WI_FI_CONFIG_PAYLOAD__PAYLOAD_CMD_SET_CONFIG;
    m.cmd_set_config = &c;
    c.ssid.data = (uint8_t *)ssid;
    c.ssid.len = ssid_len;
    c.passphrase.data = (uint8_t *)pass;
    c.passphrase.len = pass_len;
    c.bssid.data = (uint8_t *)bssid;
    c.bssid.len = bssid_len;
    assert_true(wi_fi_config_payload__get_packed_size(&m) <= sizeof(buf));
    wifiprov__hex_encode(buf, wi_fi_config_payload__pack(&m, buf), hex);
}

static void config_set_invalid(void **state)
{
    struct fx *f = *state;
    char req[600], a[65], b[65];

    memset(a, 'a', sizeof(a));
    memset(b, 'b', sizeof(b));
    start(f);
    /* the helper makes the bytes of Appendix A.1 */
    setconfig_hex(req, "myssid", 6, "mypassword", 10, 0);
    assert_string_equal(req, SETCONFIG_MYSSID);
    setconfig_hex(req, a, 33, "mypassword", 10, 0);
    expect(f, WIFIPROV_EP_CONFIG, req, R_SETCONFIG_INVAL);
    setconfig_hex(req, "myssid", 6, b, 64, 0);
    expect(f, WIFIPROV_EP_CONFIG, req, R_SETCONFIG_INVAL);
    setconfig_hex(req, "myssid", 6, "mypassword", 10, 5);
    expect(f, WIFIPROV_EP_CONFIG, req, R_SETCONFIG_INVAL);
    setconfig_hex(req, "myssid", 6, "mypassword", 10, 7);
    expect(f, WIFIPROV_EP_CONFIG, req, R_SETCONFIG_INVAL);
    /* a NUL inside the passphrase could not be handed on as a C string */
    setconfig_hex(req, "myssid", 6, "my\0password", 11, 0);
    expect(f, WIFIPROV_EP_CONFIG, req, R_SETCONFIG_INVAL);
    /* nothing was staged by the rejected ones */
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_ERR);
    assert_int_equal(f->wifi.n_connect, 0);
    /* the limits themselves are fine: ssid 32, passphrase 63, bssid 6 */
    setconfig_hex(req, a, 32, b, 63, 6);
    expect(f, WIFIPROV_EP_CONFIG, req, R_SETCONFIG_OK);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_OK);
    assert_int_equal(f->wifi.last_connect.ssid_len, 32);
    assert_memory_equal(f->wifi.last_connect.ssid, a, 32);
    assert_int_equal(f->wifi.last_connect.passphrase_len, 63);
    assert_int_equal(strlen(f->wifi.last_connect.passphrase), 63);
    assert_true(f->wifi.last_connect.has_bssid);
    assert_memory_equal(f->wifi.last_connect.bssid, "\x01\x02\x03\x04\x05\x06", 6);
}

static void config_set_replaces(void **state)
{
    struct fx *f = *state;
    char req[600];

    start(f);
    setconfig_hex(req, "other", 5, "secret12", 8, 0);
    expect(f, WIFIPROV_EP_CONFIG, req, R_SETCONFIG_OK);
    expect(f, WIFIPROV_EP_CONFIG, SETCONFIG_MYSSID, R_SETCONFIG_OK);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_OK);
    assert_int_equal(f->wifi.n_connect, 1);
    assert_memory_equal(f->wifi.last_connect.ssid, "myssid", 6);
    assert_string_equal(f->wifi.last_connect.passphrase, "mypassword");
}

/* Staged credentials belong to the session that sent them: B's SetConfig after A's does not change what A
 * applies, and B's staging is B's own. */
static void config_staged_per_session(void **state)
{
    struct fx *f = *state;
    char req[600];

    start(f);
    expect(f, WIFIPROV_EP_CONFIG, SETCONFIG_MYSSID, R_SETCONFIG_OK);
    setconfig_hex(req, "other", 5, "secret12", 8, 0);
    assert_int_equal(send_sid(f, 2, WIFIPROV_EP_CONFIG, req), 0);
    check_reply(f, R_SETCONFIG_OK);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_OK);
    assert_int_equal(f->wifi.n_connect, 1);
    assert_int_equal(f->wifi.last_connect.ssid_len, 6);
    assert_memory_equal(f->wifi.last_connect.ssid, "myssid", 6);
    assert_string_equal(f->wifi.last_connect.passphrase, "mypassword");
    /* B's Apply is refused (one Apply per run) and consumes B's staging. */
    assert_int_equal(send_sid(f, 2, WIFIPROV_EP_CONFIG, APPLY), 0);
    check_reply(f, R_APPLY_ERR);
    assert_int_equal(f->wifi.n_connect, 1);
}

/* A session that is closed or reopened loses what it staged; a session that staged nothing cannot apply
 * another's credentials. */
static void config_staged_session_lifetime(void **state)
{
    struct fx *f = *state;

    start(f);
    assert_int_equal(send_sid(f, 2, WIFIPROV_EP_CONFIG, SETCONFIG_MYSSID), 0);
    check_reply(f, R_SETCONFIG_OK);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_ERR);
    wifiprov_device_session_close(f->dev, 2);
    assert_int_equal(wifiprov_device_session_open(f->dev, 2), 0);
    assert_int_equal(send_sid(f, 2, WIFIPROV_EP_CONFIG, APPLY), 0);
    check_reply(f, R_APPLY_ERR);
    /* Reopening the id without closing it is a new session too. */
    assert_int_equal(send_sid(f, 2, WIFIPROV_EP_CONFIG, SETCONFIG_MYSSID), 0);
    assert_int_equal(wifiprov_device_session_open(f->dev, 2), 0);
    assert_int_equal(send_sid(f, 2, WIFIPROV_EP_CONFIG, APPLY), 0);
    check_reply(f, R_APPLY_ERR);
    assert_int_equal(f->wifi.n_connect, 0);
    /* Slots of gone sessions are reused: many sessions in turn can stage. */
    for (uint32_t sid = 10; sid < 40; sid++) {
        assert_int_equal(wifiprov_device_session_open(f->dev, sid), 0);
        assert_int_equal(send_sid(f, sid, WIFIPROV_EP_CONFIG, SETCONFIG_MYSSID), 0);
        check_reply(f, R_SETCONFIG_OK);
        wifiprov_device_session_close(f->dev, sid);
    }
    set_and_apply(f);
    assert_int_equal(f->wifi.n_connect, 1);
}

static void config_apply_rules(void **state)
{
    struct fx *f = *state;

    start(f);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_ERR);
    set_and_apply(f);
    /* Applied once per run: refused while connecting, even with new credentials. */
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_ERR);
    expect(f, WIFIPROV_EP_CONFIG, SETCONFIG_MYSSID, R_SETCONFIG_OK);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_ERR);
    wifi_connected(f);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_ERR);
    assert_int_equal(f->wifi.n_connect, 1);
}

static void config_bad_requests(void **state)
{
    struct fx *f = *state;

    start(f);
    expect_err(f, WIFIPROV_EP_CONFIG, "0802", WIFIPROV_ERR_PROTO);         /* SetConfig without sub-message */
    expect_err(f, WIFIPROV_EP_CONFIG, "08025200", WIFIPROV_ERR_PROTO);     /* ... with the wrong one */
    expect_err(f, WIFIPROV_EP_CONFIG, "0801", WIFIPROV_ERR_PROTO);         /* a response type */
    expect_err(f, WIFIPROV_EP_CONFIG, "0806", WIFIPROV_ERR_PROTO);         /* unknown */
    expect_err(f, WIFIPROV_EP_CONFIG, "ff", WIFIPROV_ERR_PROTO);           /* not protobuf */
    expect_err(f, WIFIPROV_EP_CONFIG, "08026205", WIFIPROV_ERR_PROTO);     /* truncated */
    expect_err(f, WIFIPROV_EP_SCAN, "", WIFIPROV_ERR_PROTO);               /* ScanStart without sub-message */
    expect_err(f, WIFIPROV_EP_SCAN, "0804", WIFIPROV_ERR_PROTO);           /* ScanResult without sub-message */
    expect_err(f, WIFIPROV_EP_SCAN, "0806", WIFIPROV_ERR_PROTO);
    expect_err(f, WIFIPROV_EP_CTRL, "", WIFIPROV_ERR_PROTO);               /* msg 0 */
    expect_err(f, WIFIPROV_EP_CTRL, "0802", WIFIPROV_ERR_PROTO);
    expect_err(f, WIFIPROV_EP_CTRL, "0805", WIFIPROV_ERR_PROTO);
    /* Message types at the ends of int32 are refused without arithmetic on them (UBSan catches an overflow). */
    expect_err(f, WIFIPROV_EP_SCAN, "08ffffffff07", WIFIPROV_ERR_PROTO);
    expect_err(f, WIFIPROV_EP_SCAN, "0880808080f8ffffffff01", WIFIPROV_ERR_PROTO);
    expect_err(f, WIFIPROV_EP_CONFIG, "08ffffffff07", WIFIPROV_ERR_PROTO);
    expect_err(f, WIFIPROV_EP_CTRL, "08ffffffff07", WIFIPROV_ERR_PROTO);
    /* The session survives: a good request still works. */
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTING);
    /* Requests that need no parameters may carry their empty sub-message or not. */
    expect(f, WIFIPROV_EP_CONFIG, "08047200", R_APPLY_ERR);
    expect(f, WIFIPROV_EP_SCAN, "08026200", "08036a020801");
    expect(f, WIFIPROV_EP_CTRL, "08015a00", R_RESET_ERR);
}

/* ---- connection outcome ------------------------------------------------- */

static void fail_auth_legacy(void **state)
{
    struct fx *f = *state;

    start(f);
    set_and_apply(f);
    wifi_failed(f, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_FAIL);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_FAILED_AUTH);
    assert_int_equal(f->events[f->n_events - 1], WIFIPROV_PROV_EVENT_CRED_FAIL);
    assert_int_equal(f->event_status[f->n_events - 1].fail_reason, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    assert_int_equal(f->wifi.n_connect, 1);
    assert_int_equal(f->wifi.n_commit, 0);
    /* Not allowed again without Reset, and the refused Apply consumed what was staged (as in ESP-IDF). */
    expect(f, WIFIPROV_EP_CONFIG, SETCONFIG_MYSSID, R_SETCONFIG_OK);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_ERR);
    expect(f, WIFIPROV_EP_CTRL, CTRL_RESET, R_RESET_OK);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_ERR);
    assert_int_equal(f->wifi.n_connect, 1);
    set_and_apply(f);
    assert_int_equal(f->wifi.n_connect, 2);
}

static void fail_not_found_legacy(void **state)
{
    struct fx *f = *state;

    start(f);
    set_and_apply(f);
    /* Other failures retry silently, for ever. */
    wifi_failed(f, WIFIPROV_FAIL_REASON_OTHER);
    wifi_failed(f, WIFIPROV_FAIL_REASON_OTHER);
    assert_int_equal(f->wifi.n_connect, 3);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTING);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_CRED_RECV);
    wifi_failed(f, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_FAILED_NOT_FOUND);
    assert_int_equal(f->event_status[f->n_events - 1].fail_reason, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND);
    assert_int_equal(f->wifi.n_commit, 0);
}

static void fail_attempt_counting(void **state)
{
    struct fx *f = *state;

    f->cfg.connect_attempts = 4;
    start(f);
    set_and_apply(f);
    wifi_failed(f, WIFIPROV_FAIL_REASON_OTHER);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_ATTEMPT_FAILED_3);
    assert_int_equal(f->wifi.n_connect, 2);
    /* Backend progress reports do not hide the count. */
    {
        struct wifiprov_wifi_event ev = {.type = WIFIPROV_WIFI_EVENT_CONNECTING};

        wifiprov_prov_wifi_event(f->prov, &ev);
    }
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_ATTEMPT_FAILED_3);
    wifi_failed(f, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, "08015a06100162020802");
    wifi_failed(f, WIFIPROV_FAIL_REASON_OTHER);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, "08015a06100162020801");
    assert_int_equal(f->wifi.n_connect, 4);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_CRED_RECV);
    /* The last attempt fails for a reason the wire cannot name: the last named one is reported. */
    wifi_failed(f, WIFIPROV_FAIL_REASON_OTHER);
    assert_int_equal(f->wifi.n_connect, 4);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_FAIL);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_FAILED_NOT_FOUND);
    assert_int_equal(f->event_status[f->n_events - 1].fail_reason, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND);
    assert_int_equal(f->wifi.n_commit, 0);
}

static void fail_attempts_then_success(void **state)
{
    struct fx *f = *state;

    f->cfg.connect_attempts = 2;
    start(f);
    set_and_apply(f);
    wifi_failed(f, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, "08015a06100162020801");
    wifi_connected(f);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTED);
    assert_int_equal(f->wifi.n_commit, 1);
}

static void fail_connect_call(void **state)
{
    struct fx *f = *state;

    start(f);
    f->wifi.connect_ret = WIFIPROV_ERR_WIFI;
    set_and_apply(f);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_FAIL);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_FAILED_AUTH);
    expect(f, WIFIPROV_EP_CTRL, CTRL_RESET, R_RESET_OK);
}

static void fail_reset_retry_success(void **state)
{
    struct fx *f = *state;
    char req[600];
    int ev0;

    start(f);
    set_and_apply(f);
    wifi_failed(f, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    ev0 = f->n_events;
    expect(f, WIFIPROV_EP_CTRL, CTRL_RESET, R_RESET_OK);
    assert_int_equal(f->wifi.n_forget, 1);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_STARTED);
    assert_int_equal(f->n_events, ev0 + 1);
    assert_int_equal(f->events[ev0], WIFIPROV_PROV_EVENT_RESET);
    /* The final result stays readable, and a second Reset is refused. */
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_FAILED_AUTH);
    expect(f, WIFIPROV_EP_CTRL, CTRL_RESET, R_RESET_ERR);
    /* The staged credentials were consumed by the first Apply. */
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_ERR);
    /* New credentials in the same session. */
    setconfig_hex(req, "other", 5, "secret12", 8, 0);
    expect(f, WIFIPROV_EP_CONFIG, req, R_SETCONFIG_OK);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_OK);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTING);
    assert_int_equal(f->wifi.n_connect, 2);
    assert_memory_equal(f->wifi.last_connect.ssid, "other", 5);
    wifi_connected(f);
    assert_int_equal(f->wifi.n_commit, 1);
    assert_memory_equal(f->wifi.last_commit.ssid, "other", 5);
    assert_string_equal(f->wifi.last_commit.passphrase, "secret12");
    assert_int_equal(f->wifi.n_forget, 1);
}

/* The phone apps' flow: after a failure they send new credentials without prov-ctrl Reset. */
static void fail_reset_on_failure(void **state)
{
    struct fx *f = *state;
    char req[600];
    int ev0;

    f->cfg.reset_on_failure = true;
    start(f);
    set_and_apply(f);
    wifi_failed(f, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_FAIL);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_FAILED_AUTH);
    /* Nothing staged: still refused, and the failure stays readable. */
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_ERR);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_FAIL);
    assert_int_equal(f->wifi.n_forget, 0);
    setconfig_hex(req, "other", 5, "secret12", 8, 0);
    expect(f, WIFIPROV_EP_CONFIG, req, R_SETCONFIG_OK);
    /* Staging alone changes nothing: the reason is reported until the new credentials are applied. */
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_FAILED_AUTH);
    assert_int_equal(f->wifi.n_forget, 0);
    ev0 = f->n_events;
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_OK);
    assert_int_equal(f->wifi.n_forget, 1);
    assert_int_equal(f->wifi.n_connect, 2);
    assert_memory_equal(f->wifi.last_connect.ssid, "other", 5);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_CRED_RECV);
    /* No RESET event: nobody asked for one. */
    assert_int_equal(f->n_events, ev0 + 2);
    assert_int_equal(f->events[ev0], WIFIPROV_PROV_EVENT_CRED_RECV);
    assert_int_equal(f->events[ev0 + 1], WIFIPROV_PROV_EVENT_CONNECTING);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTING);
    /* A second failure, then a third set of credentials, then success. */
    wifi_failed(f, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_FAILED_NOT_FOUND);
    set_and_apply(f);
    assert_int_equal(f->wifi.n_forget, 2);
    wifi_connected(f);
    assert_int_equal(f->wifi.n_commit, 1);
    assert_memory_equal(f->wifi.last_commit.ssid, "myssid", 6);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTED);
    /* Apply stays one-shot after success. */
    expect(f, WIFIPROV_EP_CONFIG, SETCONFIG_MYSSID, R_SETCONFIG_OK);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_ERR);
}

/* prov-ctrl Reset keeps working with reset on failure, for clients that send it (esp_prov, wifiprov). */
static void fail_reset_on_failure_ctrl(void **state)
{
    struct fx *f = *state;

    f->cfg.reset_on_failure = true;
    start(f);
    set_and_apply(f);
    wifi_failed(f, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    expect(f, WIFIPROV_EP_CTRL, CTRL_RESET, R_RESET_OK);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_STARTED);
    assert_int_equal(f->wifi.n_forget, 1);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_FAILED_AUTH);
    set_and_apply(f);
    assert_int_equal(f->wifi.n_forget, 1);
    assert_int_equal(f->wifi.n_connect, 2);
}

static void reset_api(void **state)
{
    struct fx *f = *state;

    start(f);
    assert_int_equal(wifiprov_prov_reset(f->prov), WIFIPROV_ERR_STATE);
    assert_int_equal(wifiprov_prov_reset(NULL), WIFIPROV_ERR_INVAL);
    set_and_apply(f);
    assert_int_equal(wifiprov_prov_reset(f->prov), WIFIPROV_ERR_STATE);
    wifi_failed(f, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND);
    assert_int_equal(wifiprov_prov_reset(f->prov), 0);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_STARTED);
    assert_int_equal(f->events[f->n_events - 1], WIFIPROV_PROV_EVENT_RESET);
    assert_int_equal(f->wifi.n_forget, 1);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_FAILED_NOT_FOUND);
    set_and_apply(f);
    assert_int_equal(f->wifi.n_connect, 2);
}

static void ctrl_reset_wrong_states(void **state)
{
    struct fx *f = *state;

    start(f);
    expect(f, WIFIPROV_EP_CTRL, CTRL_RESET, R_RESET_ERR);
    set_and_apply(f);
    expect(f, WIFIPROV_EP_CTRL, CTRL_RESET, R_RESET_ERR);
    wifi_connected(f);
    expect(f, WIFIPROV_EP_CTRL, CTRL_RESET, R_RESET_ERR);
    assert_int_equal(f->wifi.n_forget, 0);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_SUCCESS);
}

static void stale_events_ignored(void **state)
{
    struct fx *f = *state;

    start(f);
    wifi_connected(f);
    wifi_failed(f, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_STARTED);
    assert_int_equal(f->wifi.n_commit, 0);
    assert_int_equal(f->n_events, 0);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTING);
}

/* ---- auto-stop and re-provisioning ------------------------------------ */

static void autostop_timeout(void **state)
{
    struct fx *f = *state;

    start(f);
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), UINT64_MAX);
    set_and_apply(f);
    wifi_connected(f);
    assert_true(f->timers_changed > 0);
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), 30000);
    f->now += 29999;
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), 1);
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_SUCCESS);
    f->now += 1;
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), 0);
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_ENDED);
    assert_int_equal(f->events[f->n_events - 1], WIFIPROV_PROV_EVENT_END);
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), UINT64_MAX);
    /* After the end the endpoints answer nothing. */
    expect_err(f, WIFIPROV_EP_CONFIG, GET_STATUS, WIFIPROV_ERR_STATE);
    expect_err(f, WIFIPROV_EP_SCAN, SCAN_STATUS, WIFIPROV_ERR_STATE);
    expect_err(f, WIFIPROV_EP_CTRL, CTRL_RESET, WIFIPROV_ERR_STATE);
}

static void autostop_after_status(void **state)
{
    struct fx *f = *state;
    int changed;

    f->cfg.auto_stop_ms = 20000;
    f->cfg.cleanup_delay_ms = 500;
    start(f);
    set_and_apply(f);
    wifi_connected(f);
    f->now += 3000;
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), 17000);
    changed = f->timers_changed;
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTED);
    assert_int_equal(f->timers_changed, changed + 1);
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), 500);
    /* A second read does not push the stop back. */
    f->now += 200;
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTED);
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), 300);
    f->now += 299;
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_SUCCESS);
    f->now += 1;
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_ENDED);
}

static void autostop_timer_first(void **state)
{
    struct fx *f = *state;

    f->cfg.auto_stop_ms = 400;
    f->cfg.cleanup_delay_ms = 1000;
    start(f);
    set_and_apply(f);
    wifi_connected(f);
    f->now += 100;
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTED);
    /* whichever comes first */
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), 300);
    f->now += 300;
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_ENDED);
}

static void no_auto_stop_reprov(void **state)
{
    struct fx *f = *state;
    int ev0;

    f->cfg.no_auto_stop = true;
    start(f);
    expect(f, WIFIPROV_EP_CTRL, CTRL_REPROV, R_REPROV_ERR);
    set_and_apply(f);
    expect(f, WIFIPROV_EP_CTRL, CTRL_REPROV, R_REPROV_ERR);
    wifi_connected(f);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTED);
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), UINT64_MAX);
    f->now += 100000;
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_SUCCESS);
    ev0 = f->n_events;
    expect(f, WIFIPROV_EP_CTRL, CTRL_REPROV, R_REPROV_OK);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_STARTED);
    assert_int_equal(f->wifi.n_disconnect, 1);
    assert_int_equal(f->wifi.n_forget, 0);
    assert_int_equal(f->n_events, ev0 + 1);
    assert_int_equal(f->events[ev0], WIFIPROV_PROV_EVENT_STARTED);
    expect(f, WIFIPROV_EP_CTRL, CTRL_REPROV, R_REPROV_ERR);
    /* A new run: Apply is allowed again. */
    set_and_apply(f);
    assert_int_equal(f->wifi.n_connect, 2);
    wifi_connected(f);
    assert_int_equal(f->wifi.n_commit, 2);
}

static void autostop_refuses_reprov(void **state)
{
    struct fx *f = *state;

    start(f);
    set_and_apply(f);
    wifi_connected(f);
    expect(f, WIFIPROV_EP_CTRL, CTRL_REPROV, R_REPROV_ERR);
    assert_int_equal(f->wifi.n_disconnect, 0);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_SUCCESS);
}

static void reprovision_api(void **state)
{
    struct fx *f = *state;

    start(f);
    assert_int_equal(wifiprov_prov_reprovision(f->prov), WIFIPROV_ERR_STATE);
    set_and_apply(f);
    assert_int_equal(wifiprov_prov_reprovision(f->prov), WIFIPROV_ERR_STATE);
    wifi_connected(f);
    /* From SUCCESS, even with auto-stop on; the pending stop is cancelled. */
    assert_int_equal(wifiprov_prov_reprovision(f->prov), 0);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_STARTED);
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), UINT64_MAX);
    assert_int_equal(f->wifi.n_disconnect, 1);
    /* From ENDED: the endpoints serve again. */
    set_and_apply(f);
    wifi_connected(f);
    assert_int_equal(wifiprov_prov_stop(f->prov), 0);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_ENDED);
    expect_err(f, WIFIPROV_EP_CONFIG, GET_STATUS, WIFIPROV_ERR_STATE);
    assert_int_equal(wifiprov_prov_reprovision(f->prov), 0);
    assert_int_equal(f->events[f->n_events - 1], WIFIPROV_PROV_EVENT_STARTED);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTED);
    set_and_apply(f);
    assert_int_equal(f->wifi.n_connect, 3);
    assert_int_equal(f->wifi.n_forget, 0);
}

static void lifecycle(void **state)
{
    struct fx *f = *state;
    size_t base = wifiprov_device_endpoint_count(f->dev);
    struct wifiprov_prov_config bad = f->cfg;

    bad.clock_fn = NULL;
    assert_int_equal(wifiprov_prov_new(&bad, &f->prov), WIFIPROV_ERR_INVAL);
    assert_null(f->prov);
    bad = f->cfg;
    bad.device = NULL;
    assert_int_equal(wifiprov_prov_new(&bad, &f->prov), WIFIPROV_ERR_INVAL);
    /* Requests before start are refused. */
    assert_int_equal(wifiprov_prov_new(&f->cfg, &f->prov), 0);
    assert_int_equal(wifiprov_device_endpoint_count(f->dev), base + 3);
    assert_non_null(strstr(wifiprov_device_version_json(f->dev), "wifi_scan"));
    expect_err(f, WIFIPROV_EP_CONFIG, GET_STATUS, WIFIPROV_ERR_STATE);
    assert_int_equal(wifiprov_prov_stop(f->prov), WIFIPROV_ERR_STATE);
    assert_int_equal(wifiprov_prov_start(f->prov), 0);
    assert_int_equal(wifiprov_prov_start(f->prov), WIFIPROV_ERR_STATE);
    assert_int_equal(wifiprov_prov_stop(f->prov), 0);
    assert_int_equal(wifiprov_prov_stop(f->prov), 0);
    assert_int_equal(f->n_events, 2);
    assert_int_equal(f->events[1], WIFIPROV_PROV_EVENT_END);
    /* A second manager on the same device cannot register the same endpoints. */
    {
        struct wifiprov_prov *other = NULL;

        assert_int_equal(wifiprov_prov_new(&f->cfg, &other), WIFIPROV_ERR_INVAL);
        assert_null(other);
        assert_int_equal(wifiprov_device_endpoint_count(f->dev), base + 3);
    }
    wifiprov_prov_free(f->prov);
    f->prov = NULL;
    assert_int_equal(wifiprov_device_endpoint_count(f->dev), base);
    expect_err(f, WIFIPROV_EP_CONFIG, GET_STATUS, WIFIPROV_ERR_NOT_FOUND);
    assert_string_equal(wifiprov_prov_state_to_string(WIFIPROV_PROV_STATE_CRED_RECV), "cred-recv");
    assert_string_equal(wifiprov_prov_event_to_string(WIFIPROV_PROV_EVENT_CRED_FAIL), "cred-fail");
}

/* ---- allocation failures --------------------------------------------- */

static long alloc_budget = -1; /* allocations left before failing; -1 = unlimited */
static long alloc_count;

static bool alloc_allowed(void)
{
    alloc_count++;
    if (alloc_budget < 0)
        return true;
    if (alloc_budget == 0)
        return false;
    alloc_budget--;
    return true;
}

static void *fail_malloc(size_t n)
{
    return alloc_allowed() ? malloc(n) : NULL;
}

static void *fail_calloc(size_t n, size_t size)
{
    return alloc_allowed() ? calloc(n, size) : NULL;
}

static void *fail_realloc(void *p, size_t n)
{
    return alloc_allowed() ? realloc(p, n) : NULL;
}

static const struct wifiprov_allocator failing = {fail_malloc, fail_calloc, fail_realloc, free};

/* Every allocation of wifiprov_prov_new and of each request fails in turn: an error, never a crash or a
 * leak (ASan checks the leaks), and the manager keeps working once memory is back. */
static void alloc_failures(void **state)
{
    struct fx *f = *state;
    size_t base = wifiprov_device_endpoint_count(f->dev);
    static const char *const reqs[][2] = {
        {WIFIPROV_EP_CONFIG, SETCONFIG_MYSSID}, {WIFIPROV_EP_CONFIG, GET_STATUS},
        {WIFIPROV_EP_SCAN, SCAN_RESULT_0_2},    {WIFIPROV_EP_SCAN, SCAN_STATUS},
        {WIFIPROV_EP_CTRL, CTRL_REPROV},
    };
    long n, total;
    size_t i;
    int r;

    for (n = 0;; n++) {
        alloc_budget = n;
        wifiprov_set_allocator(&failing);
        r = wifiprov_prov_new(&f->cfg, &f->prov);
        wifiprov_set_allocator(NULL);
        if (r == 0)
            break;
        assert_int_equal(r, WIFIPROV_ERR_NOMEM);
        assert_null(f->prov);
        assert_int_equal(wifiprov_device_endpoint_count(f->dev), base);
        assert_true(n < 100);
    }
    assert_true(n >= 2);
    assert_int_equal(wifiprov_prov_start(f->prov), 0);
    expect(f, WIFIPROV_EP_SCAN, "5200", R_SCAN_START_OK);
    scan_two(f);
    for (i = 0; i < WIFIPROV_ARRAY_SIZE(reqs); i++) {
        alloc_budget = -1;
        alloc_count = 0;
        wifiprov_set_allocator(&failing);
        assert_int_equal(send_sid(f, 1, reqs[i][0], reqs[i][1]), 0);
        wifiprov_set_allocator(NULL);
        total = alloc_count;
        assert_true(total > 0);
        for (n = 0; n < total; n++) {
            alloc_budget = n;
            wifiprov_set_allocator(&failing);
            r = send_sid(f, 1, reqs[i][0], reqs[i][1]);
            wifiprov_set_allocator(NULL);
            assert_int_equal(r, WIFIPROV_ERR_NOMEM);
        }
    }
    alloc_budget = -1;
    expect(f, WIFIPROV_EP_SCAN, SCAN_RESULT_0_2, R_SCAN_RESULT_0_2);
    expect(f, WIFIPROV_EP_CONFIG, APPLY, R_APPLY_OK);
    assert_memory_equal(f->wifi.last_connect.ssid, "myssid", 6);
}

/* ---- secrets in logs ------------------------------------------------- */

struct log_capture {
    char text[16384];
    size_t len;
    int lines;
};

static void capture_log(void *ctx, enum wifiprov_log_level level, const char *msg)
{
    struct log_capture *c = ctx;
    size_t n = strlen(msg);

    if (c->len + n + 2 < sizeof(c->text)) {
        memcpy(c->text + c->len, msg, n);
        c->len += n;
        c->text[c->len++] = '\n';
        c->text[c->len] = '\0';
    }
    c->lines++;
}

static void no_passphrase_in_logs(void **state)
{
    struct fx *f = *state;
    struct log_capture *c = calloc(1, sizeof(*c));

    assert_non_null(c);
    wifiprov_set_log_handler(capture_log, c, WIFIPROV_LOG_LEVEL_DEBUG);
    f->cfg.connect_attempts = 3;
    start(f);
    set_and_apply(f);
    wifi_failed(f, WIFIPROV_FAIL_REASON_OTHER);
    wifi_failed(f, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    wifi_failed(f, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    expect(f, WIFIPROV_EP_CTRL, CTRL_RESET, R_RESET_OK);
    set_and_apply(f);
    wifi_connected(f);
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTED);
    wifiprov_set_log_handler(NULL, NULL, WIFIPROV_LOG_LEVEL_INFO);
    /* The log did record the flow (state changes, SSID), just not the passphrase. */
    assert_true(c->lines > 5);
    assert_non_null(strstr(c->text, "myssid"));
    assert_non_null(strstr(c->text, "cred-recv"));
    assert_null(strstr(c->text, "mypassword"));
    free(c);
}

/* ---- prov-scan --------------------------------------------------------- */

static void scan_appendix_a1(void **state)
{
    struct fx *f = *state;

    start(f);
    assert_int_equal(send_sid(f, 1, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING), WIFIPROV_ERR_PENDING);
    assert_int_equal(f->wifi.n_scan, 1);
    assert_true(f->wifi.last_scan.blocking);
    assert_int_equal(f->wifi.last_scan.period_ms, 120);
    /* Still running: a resume is pending again. */
    assert_int_equal(wifiprov_device_resume(f->dev, 1, f->out, sizeof(f->out), &f->out_len), WIFIPROV_ERR_PENDING);
    /* Another session sees the scan running (finished = false, no results). */
    assert_int_equal(send_sid(f, 2, WIFIPROV_EP_SCAN, SCAN_STATUS), 0);
    check_reply(f, "08036a00");
    assert_int_equal(f->n_wakes, 0);
    scan_two(f);
    assert_int_equal(f->n_wakes, 1);
    assert_int_equal(f->wakes[0], 1);
    assert_int_equal(wifiprov_device_resume(f->dev, 1, f->out, sizeof(f->out), &f->out_len), 0);
    check_reply(f, R_SCAN_START_OK);
    expect(f, WIFIPROV_EP_SCAN, SCAN_STATUS, "08036a0408011002");
    expect(f, WIFIPROV_EP_SCAN, SCAN_RESULT_0_2, R_SCAN_RESULT_0_2);
    /* Results stay readable. */
    expect(f, WIFIPROV_EP_SCAN, "080472040801" "1001", "08057a27" SCAN_ENTRY_INSECURE);
    expect(f, WIFIPROV_EP_SCAN, SCAN_RESULT_0_2, R_SCAN_RESULT_0_2);
}

static void scan_paging_rules(void **state)
{
    struct fx *f = *state;

    start(f);
    expect(f, WIFIPROV_EP_SCAN, "5200", R_SCAN_START_OK);
    scan_two(f);
    /* count 0 */
    expect(f, WIFIPROV_EP_SCAN, "08047200", "08057a00");
    expect(f, WIFIPROV_EP_SCAN, "080472020805", "08057a00");
    /* in range but past the results: what there is, and InternalError */
    expect(f, WIFIPROV_EP_SCAN, "080472040801" "1002", "0805" "1005" "7a27" SCAN_ENTRY_INSECURE);
    expect(f, WIFIPROV_EP_SCAN, "080472040802" "1001", "0805" "1005" "7a00");
    expect(f, WIFIPROV_EP_SCAN, "0804720408" "0f" "1001", "0805" "1005" "7a00");
    expect(f, WIFIPROV_EP_SCAN, "080472021010", "0805" "1005" "7a4e" SCAN_ENTRY_MYHOME SCAN_ENTRY_INSECURE);
    /* out of range (MAX 16): transport failure */
    expect_err(f, WIFIPROV_EP_SCAN, "080472020810", WIFIPROV_ERR_INVAL);
    expect_err(f, WIFIPROV_EP_SCAN, "080472040810" "1000", WIFIPROV_ERR_INVAL);
    expect_err(f, WIFIPROV_EP_SCAN, "0804720408" "0f" "1002", WIFIPROV_ERR_INVAL);
    expect_err(f, WIFIPROV_EP_SCAN, "080472021011", WIFIPROV_ERR_INVAL);
    expect_err(f, WIFIPROV_EP_SCAN, "0804720808" "0f" "10ffffffff0f", WIFIPROV_ERR_INVAL);
}

static void scan_sorted_and_capped(void **state)
{
    struct fx *f = *state;
    static const int32_t rssi[] = {-90, -10, -50, -30, -70, -30};
    struct wifiprov_ap aps[6];
    WiFiScanPayload *msg;
    size_t i;

    f->cfg.max_scan_entries = 4;
    start(f);
    memset(aps, 0, sizeof(aps));
    for (i = 0; i < 6; i++) {
        aps[i].ssid[0] = (uint8_t)('A' + i);
        aps[i].ssid_len = 1;
        aps[i].rssi = rssi[i];
        aps[i].channel = (uint32_t)i + 1;
        aps[i].auth = 9; /* beyond the declared enum: passed through */
    }
    expect(f, WIFIPROV_EP_SCAN, "5200", R_SCAN_START_OK);
    wifiprov_prov_scan_done(f->prov, 0, aps, 6);
    expect(f, WIFIPROV_EP_SCAN, SCAN_STATUS, "08036a0408011004");
    expect_err(f, WIFIPROV_EP_SCAN, "080472021005", WIFIPROV_ERR_INVAL);
    assert_int_equal(send_sid(f, 1, WIFIPROV_EP_SCAN, "080472021004"), 0);
    msg = wi_fi_scan_payload__unpack(NULL, f->out_len, f->out);
    assert_non_null(msg);
    assert_int_equal(msg->msg, WI_FI_SCAN_MSG_TYPE__TypeRespScanResult);
    assert_int_equal(msg->status, STATUS__Success);
    assert_int_equal(msg->payload_case, WI_FI_SCAN_PAYLOAD__PAYLOAD_RESP_SCAN_RESULT);
    assert_int_equal(msg->resp_scan_result->n_entries, 4);
    /* -10 (B), -30 (D), -30 (F, after D: equal RSSI keeps scan order), -50 (C) */
    assert_int_equal(msg->resp_scan_result->entries[0]->ssid.data[0], 'B');
    assert_int_equal(msg->resp_scan_result->entries[1]->ssid.data[0], 'D');
    assert_int_equal(msg->resp_scan_result->entries[2]->ssid.data[0], 'F');
    assert_int_equal(msg->resp_scan_result->entries[3]->ssid.data[0], 'C');
    assert_int_equal(msg->resp_scan_result->entries[3]->rssi, -50);
    assert_int_equal(msg->resp_scan_result->entries[3]->channel, 3);
    assert_int_equal((int)msg->resp_scan_result->entries[0]->auth, 9);
    wi_fi_scan_payload__free_unpacked(msg, NULL);
}

static void scan_nonblocking(void **state)
{
    struct fx *f = *state;

    start(f);
    /* Before any scan: finished, nothing found. */
    expect(f, WIFIPROV_EP_SCAN, SCAN_STATUS, "08036a020801");
    expect(f, WIFIPROV_EP_SCAN, "52021001" /* passive, not blocking */, R_SCAN_START_OK);
    assert_int_equal(f->wifi.n_scan, 1);
    assert_false(f->wifi.last_scan.blocking);
    assert_true(f->wifi.last_scan.passive);
    expect(f, WIFIPROV_EP_SCAN, SCAN_STATUS, "08036a00");
    /* Already running: success, no restart. */
    expect(f, WIFIPROV_EP_SCAN, "52021805", R_SCAN_START_OK);
    assert_int_equal(f->wifi.n_scan, 1);
    scan_two(f);
    assert_int_equal(f->n_wakes, 0); /* nobody was waiting */
    expect(f, WIFIPROV_EP_SCAN, SCAN_STATUS, "08036a0408011002");
    /* A new scan clears the old list. */
    expect(f, WIFIPROV_EP_SCAN, "5200", R_SCAN_START_OK);
    assert_int_equal(f->wifi.n_scan, 2);
    expect(f, WIFIPROV_EP_SCAN, SCAN_STATUS, "08036a00");
    expect(f, WIFIPROV_EP_SCAN, SCAN_RESULT_0_2, "080510057a00");
    /* Unrequested results are ignored. */
    wifiprov_prov_scan_done(f->prov, 0, NULL, 0);
    wifiprov_prov_scan_done(f->prov, 0, NULL, 0);
    expect(f, WIFIPROV_EP_SCAN, SCAN_STATUS, "08036a020801");
}

static void scan_blocking_cache(void **state)
{
    struct fx *f = *state;

    f->cfg.scan_cache_ms = 5000;
    start(f);
    assert_int_equal(send_sid(f, 1, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING), WIFIPROV_ERR_PENDING);
    scan_two(f);
    assert_int_equal(wifiprov_device_resume(f->dev, 1, f->out, sizeof(f->out), &f->out_len), 0);
    check_reply(f, R_SCAN_START_OK);
    f->now += 4999;
    expect(f, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING, R_SCAN_START_OK);
    assert_int_equal(f->wifi.n_scan, 1);
    expect(f, WIFIPROV_EP_SCAN, SCAN_RESULT_0_2, R_SCAN_RESULT_0_2);
    f->now += 1;
    assert_int_equal(send_sid(f, 1, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING), WIFIPROV_ERR_PENDING);
    assert_int_equal(f->wifi.n_scan, 2);
    /* A blocking ScanStart on another session waits for the same scan. */
    assert_int_equal(send_sid(f, 2, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING), WIFIPROV_ERR_PENDING);
    assert_int_equal(f->wifi.n_scan, 2);
    scan_two(f);
    assert_int_equal(f->n_wakes, 3);
    assert_int_equal(wifiprov_device_resume(f->dev, 1, f->out, sizeof(f->out), &f->out_len), 0);
    check_reply(f, R_SCAN_START_OK);
    assert_int_equal(wifiprov_device_resume(f->dev, 2, f->out, sizeof(f->out), &f->out_len), 0);
    check_reply(f, R_SCAN_START_OK);
}

static void scan_no_cache_by_default(void **state)
{
    struct fx *f = *state;

    start(f);
    assert_int_equal(send_sid(f, 1, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING), WIFIPROV_ERR_PENDING);
    scan_two(f);
    assert_int_equal(wifiprov_device_resume(f->dev, 1, f->out, sizeof(f->out), &f->out_len), 0);
    assert_int_equal(send_sid(f, 1, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING), WIFIPROV_ERR_PENDING);
    assert_int_equal(f->wifi.n_scan, 2);
}

static void scan_errors(void **state)
{
    struct fx *f = *state;

    start(f);
    f->wifi.scan_ret = WIFIPROV_ERR_WIFI;
    expect(f, WIFIPROV_EP_SCAN, "5200", R_SCAN_START_ERR);
    expect(f, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING, R_SCAN_START_ERR);
    expect(f, WIFIPROV_EP_SCAN, SCAN_STATUS, "08036a020801");
    f->wifi.scan_ret = 0;
    /* The backend reports a failed scan: the blocking request gets InternalError. */
    assert_int_equal(send_sid(f, 1, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING), WIFIPROV_ERR_PENDING);
    wifiprov_prov_scan_done(f->prov, WIFIPROV_ERR_WIFI, NULL, 0);
    assert_int_equal(wifiprov_device_resume(f->dev, 1, f->out, sizeof(f->out), &f->out_len), 0);
    check_reply(f, R_SCAN_START_ERR);
    expect(f, WIFIPROV_EP_SCAN, SCAN_STATUS, "08036a020801");
}

/* Background scans keep a fresh list, so a blocking ScanStart needs no radio time. */
static void scan_background_fresh(void **state)
{
    struct fx *f = *state;

    f->cfg.background_scan_ms = 20000;
    f->cfg.scan_cache_ms = 30000;
    start(f);
    /* The first background scan is due as soon as the service starts. */
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), 0);
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(f->wifi.n_scan, 1);
    scan_two(f);
    assert_int_equal(f->n_wakes, 0);
    expect(f, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING, R_SCAN_START_OK);
    assert_int_equal(f->wifi.n_scan, 1);
    expect(f, WIFIPROV_EP_SCAN, SCAN_RESULT_0_2, R_SCAN_RESULT_0_2);
    /* The next one is due an interval after the last scan finished. */
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), 20000);
    f->now += 20000;
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(f->wifi.n_scan, 2);
    /* While it runs, and after it fails, the previous list stays readable. */
    expect(f, WIFIPROV_EP_SCAN, SCAN_RESULT_0_2, R_SCAN_RESULT_0_2);
    wifiprov_prov_scan_done(f->prov, WIFIPROV_ERR_WIFI, NULL, 0);
    expect(f, WIFIPROV_EP_SCAN, SCAN_RESULT_0_2, R_SCAN_RESULT_0_2);
    expect(f, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING, R_SCAN_START_OK);
    assert_int_equal(f->wifi.n_scan, 2);
    /* A backend that cannot scan now is asked again at the next interval. */
    f->wifi.scan_ret = WIFIPROV_ERR_BUSY;
    f->now += 20000;
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(f->wifi.n_scan, 3);
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), 20000);
}

/* A client's scan during a background scan waits for that scan instead of starting another. */
static void scan_background_adopted(void **state)
{
    struct fx *f = *state;

    f->cfg.background_scan_ms = 20000;
    f->cfg.scan_cache_ms = 30000;
    start(f);
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(f->wifi.n_scan, 1);
    assert_int_equal(send_sid(f, 1, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING), WIFIPROV_ERR_PENDING);
    assert_int_equal(f->wifi.n_scan, 1);
    scan_two(f);
    assert_int_equal(f->n_wakes, 1);
    assert_int_equal(wifiprov_device_resume(f->dev, 1, f->out, sizeof(f->out), &f->out_len), 0);
    check_reply(f, R_SCAN_START_OK);
    expect(f, WIFIPROV_EP_SCAN, SCAN_RESULT_0_2, R_SCAN_RESULT_0_2);
}

/* No background scans while connecting or after a failure; they resume after Reset. */
static void scan_background_not_while_connecting(void **state)
{
    struct fx *f = *state;

    f->cfg.background_scan_ms = 20000;
    start(f);
    wifiprov_prov_process_timers(f->prov);
    scan_two(f);
    assert_int_equal(f->wifi.n_scan, 1);
    set_and_apply(f);
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), UINT64_MAX);
    f->now += 60000;
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(f->wifi.n_scan, 1);
    wifi_failed(f, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    assert_int_equal(wifiprov_prov_get_state(f->prov), WIFIPROV_PROV_STATE_FAIL);
    f->now += 60000;
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(f->wifi.n_scan, 1);
    expect(f, WIFIPROV_EP_CTRL, "0801", "08026200");
    assert_int_equal(wifiprov_prov_next_timeout(f->prov), 0);
    wifiprov_prov_process_timers(f->prov);
    assert_int_equal(f->wifi.n_scan, 2);
}

static void scan_after_apply(void **state)
{
    struct fx *f = *state;

    start(f);
    set_and_apply(f);
    assert_int_equal(send_sid(f, 1, WIFIPROV_EP_SCAN, SCAN_START_BLOCKING), WIFIPROV_ERR_PENDING);
    scan_two(f);
    assert_int_equal(wifiprov_device_resume(f->dev, 1, f->out, sizeof(f->out), &f->out_len), 0);
    check_reply(f, R_SCAN_START_OK);
    expect(f, WIFIPROV_EP_SCAN, SCAN_RESULT_0_2, R_SCAN_RESULT_0_2);
    /* and the connection attempt is untouched */
    expect(f, WIFIPROV_EP_CONFIG, GET_STATUS, R_CONNECTING);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(config_appendix_a1, setup, teardown),
        cmocka_unit_test_setup_teardown(config_status_before_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(config_set_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(config_set_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(config_staged_per_session, setup, teardown),
        cmocka_unit_test_setup_teardown(config_staged_session_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(config_apply_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(config_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_auth_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_not_found_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_attempt_counting, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_attempts_then_success, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_connect_call, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_reset_retry_success, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_reset_on_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_reset_on_failure_ctrl, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_api, setup, teardown),
        cmocka_unit_test_setup_teardown(ctrl_reset_wrong_states, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_events_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(autostop_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(autostop_after_status, setup, teardown),
        cmocka_unit_test_setup_teardown(autostop_timer_first, setup, teardown),
        cmocka_unit_test_setup_teardown(no_auto_stop_reprov, setup, teardown),
        cmocka_unit_test_setup_teardown(autostop_refuses_reprov, setup, teardown),
        cmocka_unit_test_setup_teardown(reprovision_api, setup, teardown),
        cmocka_unit_test_setup_teardown(lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(no_passphrase_in_logs, setup, teardown),
        cmocka_unit_test_setup_teardown(alloc_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_appendix_a1, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_paging_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_sorted_and_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_nonblocking, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_blocking_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_background_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_background_adopted, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_background_not_while_connecting, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_no_cache_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_after_apply, setup, teardown),
    };

    return TEST_RUN("prov", tests, argc, argv);
}
