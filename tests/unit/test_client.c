/*
 * Client role: version parsing, the exact command bytes of PROTOCOL.md
 * Appendix A.1, reply decoding (proto3 defaults, oneof presence, unknown
 * enums, msg pairing, Status), handshake error mapping, and full loopback
 * runs against an in-process device for every scheme.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_priv.h"
#include "core_test_util.h"
#include "util.h"
#include "wifi_config.pb-c.h"
#include "wifi_ctrl.pb-c.h"
#include "wifi_scan.pb-c.h"

/* --- a scripted transport ------------------------------------------------- */

struct step {
    const char *ep;
    const char *req_hex; /* NULL: do not check the request */
    const char *resp_hex;
    int err;             /* returned instead of a reply when non-zero */
};

struct script {
    const struct step *steps;
    size_t n, cur;
};

static int script_xfer(void *ctx, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp, size_t cap,
                       size_t *resp_len)
{
    struct script *s = ctx;
    const struct step *st;
    uint8_t *b;
    size_t n;

    assert_true(s->cur < s->n);
    st = &s->steps[s->cur++];
    assert_string_equal(ep, st->ep);
    if (st->req_hex) {
        b = test_hex(st->req_hex, &n);
        if (n != req_len || memcmp(b, req, n) != 0) {
            char got[2 * 512 + 1];

            wifiprov__hex_encode(req, req_len < 512 ? req_len : 512, got);
            fail_msg("step %zu on %s: sent %s, expected %s", s->cur, ep, got, st->req_hex);
        }
        free(b);
    }
    if (st->err)
        return st->err;
    b = test_hex(st->resp_hex, &n);
    assert_true(n <= cap);
    memcpy(resp, b, n);
    *resp_len = n;
    free(b);
    return 0;
}

static struct wifiprov_client *script_client(struct script *s, const struct step *steps, size_t n)
{
    struct wifiprov_client_config cfg;
    struct wifiprov_client *c = NULL;

    memset(s, 0, sizeof(*s));
    s->steps = steps;
    s->n = n;
    memset(&cfg, 0, sizeof(cfg));
    cfg.xfer = script_xfer;
    cfg.xfer_ctx = s;
    cfg.security = WIFIPROV_SECURITY_0;
    assert_int_equal(wifiprov_client_new(&cfg, &c), 0);
    return c;
}

/* --- version ------------------------------------------------------------- */

static void parse_str(const char *s, struct wifiprov_version_info *info)
{
    assert_int_equal(wifiprov_version_parse((const uint8_t *)s, strlen(s), info), 0);
}

static void version_parse(void **state)
{
    struct wifiprov_version_info info;
    char many[2048];
    size_t i;

    (void)state;
    parse_str("{\n\t\"prov\":\t{\n\t\t\"ver\":\t\"v1.1\",\n\t\t\"sec_ver\":\t2,\n\t\t\"sec_patch_ver\":\t1,\n\t\t"
              "\"cap\":\t[\"wifi_scan\"]\n\t}\n}",
              &info);
    assert_true(info.is_json);
    assert_string_equal(info.ver, "v1.1");
    assert_true(info.has_sec_ver);
    assert_int_equal(info.sec_ver, 2);
    assert_int_equal(info.sec_patch_ver, 1);
    assert_int_equal(info.n_caps, 1);
    assert_true(wifiprov_version_has_cap(&info, "wifi_scan"));
    assert_false(wifiprov_version_has_cap(&info, "wifi_sca"));
    assert_false(wifiprov_version_has_cap(&info, "no_pop"));

    /* Old firmware: no sec_ver, no sec_patch_ver; app labels before prov. */
    parse_str("{\"my_app\":{\"ver\":\"1\",\"cap\":[\"cloud\"]},\"prov\":{\"ver\":\"v1.1\",\"cap\":[\"no_pop\","
              "\"wifi_scan\"]}}",
              &info);
    assert_true(info.is_json);
    assert_false(info.has_sec_ver);
    assert_int_equal(info.sec_patch_ver, 0);
    assert_true(wifiprov_version_has_cap(&info, "no_pop"));
    assert_false(wifiprov_version_has_cap(&info, "cloud"));

    /* Not JSON (a plain protocomm version string) is not an error. */
    parse_str("v1.1", &info);
    assert_false(info.is_json);
    assert_int_equal(info.n_caps, 0);
    parse_str("{\"prov\":", &info);
    assert_false(info.is_json);
    parse_str("[1,2]", &info);
    assert_false(info.is_json);
    assert_int_equal(wifiprov_version_parse(NULL, 0, &info), 0);
    assert_false(info.is_json);
    assert_int_equal(wifiprov_version_parse((const uint8_t *)"x", 1, NULL), WIFIPROV_ERR_INVAL);

    /* JSON without prov, wrong types. */
    parse_str("{\"other\":1}", &info);
    assert_true(info.is_json);
    assert_false(info.has_sec_ver);
    parse_str("{\"prov\":{\"ver\":5,\"sec_ver\":\"2\",\"cap\":\"wifi_scan\"}}", &info);
    assert_true(info.is_json);
    assert_false(info.has_sec_ver);
    assert_string_equal(info.ver, "");
    assert_int_equal(info.n_caps, 0);

    /* Not NUL-terminated: only len bytes count. */
    assert_int_equal(wifiprov_version_parse((const uint8_t *)"{\"prov\":{\"sec_ver\":1}}garbage", 22, &info), 0);
    assert_true(info.is_json);
    assert_int_equal(info.sec_ver, 1);

    /* More capabilities than fit, and one name too long to keep. */
    strcpy(many, "{\"prov\":{\"cap\":[\"0123456789012345678901234567890123456789\"");
    for (i = 0; i < 20; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), ",\"c%zu\"", i);
    strcat(many, "]}}");
    parse_str(many, &info);
    assert_int_equal(info.n_caps, WIFIPROV_VERSION_MAX_CAPS);
    assert_string_equal(info.caps[0], "c0");
    assert_string_equal(info.caps[15], "c15");
    assert_false(wifiprov_version_has_cap(&info, "c16"));
    assert_false(wifiprov_version_has_cap(NULL, "c1"));
}

static void get_version(void **state)
{
    static const struct step steps[] = {
        {"proto-ver", "2d2d2d", "76312e31", 0},
        {"proto-ver", "6e6f6e65",
         "7b2270726f76223a7b22766572223a2276312e31222c227365635f766572223a302c227365635f70617463685f766572223a302c"
         "22636170223a5b226e6f5f736563222c22776966695f7363616e225d7d7d",
         0},
        {"proto-ver", "2d", "7b7d", 0},
        {"proto-ver", "2d", NULL, WIFIPROV_ERR_TRANSPORT},
    };
    struct wifiprov_version_info info;
    struct wifiprov_client *c;
    struct script s;
    char raw[128];

    (void)state;
    c = script_client(&s, steps, 4);
    assert_int_equal(wifiprov_client_get_version(c, "---", &info, raw, sizeof(raw)), 0);
    assert_false(info.is_json);
    assert_string_equal(raw, "v1.1");
    assert_int_equal(wifiprov_client_get_version(c, "none", &info, raw, sizeof(raw)), 0);
    assert_true(info.is_json);
    assert_int_equal(info.sec_ver, 0);
    assert_true(wifiprov_version_has_cap(&info, "no_sec"));
    assert_int_equal(wifiprov_client_get_version(c, "-", &info, raw, 2), WIFIPROV_ERR_NOSPC);
    assert_int_equal(wifiprov_client_get_version(c, "-", &info, NULL, 0), WIFIPROV_ERR_TRANSPORT);
    assert_int_equal(wifiprov_client_get_version(c, "", &info, NULL, 0), WIFIPROV_ERR_INVAL);
    assert_int_equal(s.cur, 4);
    wifiprov_client_free(c);
}

/* --- Appendix A.1: the bytes esp_prov sends and what the replies mean ------ */

static const struct step a1_steps[] = {
    {"prov-session", "5203a20100", "52050801aa0100", 0},
    {"prov-config", "080262140a066d7973736964120a6d7970617373776f7264", "08036a00", 0},
    {"prov-config", "0804", "08057a00", 0},
    {"prov-config", "5200", "08015a021001", 0},
    {"prov-config", "5200", "08015a06100162020803", 0},
    {"prov-config", "5200",
     "08015a245a220a0c3139322e3136382e312e343210031a066d79737369642206788a208419962806", 0},
    {"prov-config", "5200", "08015a0410035000", 0},
    {"prov-config", "5200", "08015a0410035001", 0},
    {"prov-scan", "520408012078", "08015a00", 0},
    {"prov-scan", "0802", "08036a0408011002", 0},
    {"prov-scan", "080472021002",
     "08057a4e0a250a0c4d79486f6d65576946694150100118d3ffffffffffffffff012206788a2084199628030a250a0e496e7365637572"
     "65576946694150100718b6ffffffffffffffff012206dca4caf1227c",
     0},
    {"prov-ctrl", "0801", "08026200", 0},
    {"custom-data", "68656c6c6f", "5355434345535300", 0},
    /* esp_prov's softap scan request and Reprov (section 8.3 / 8.4). */
    {"prov-scan", "5206080118052078", "08015a00", 0},
    {"prov-ctrl", "0803", "08047200", 0},
};

static void appendix_a1(void **state)
{
    static const uint8_t bssid1[6] = {0x78, 0x8a, 0x20, 0x84, 0x19, 0x96};
    static const uint8_t bssid2[6] = {0xdc, 0xa4, 0xca, 0xf1, 0x22, 0x7c};
    struct wifiprov_wifi_creds cr;
    struct wifiprov_wifi_status st;
    struct wifiprov_scan_opts o;
    struct wifiprov_ap aps[4];
    struct wifiprov_client *c;
    struct script s;
    uint8_t resp[64];
    bool fin = false;
    uint32_t count = 0;
    size_t n = 0;
    int status = -1;

    (void)state;
    c = script_client(&s, a1_steps, WIFIPROV_ARRAY_SIZE(a1_steps));
    assert_int_equal(wifiprov_client_handshake(c), 0);
    assert_true(wifiprov_client_established(c));

    memset(&cr, 0, sizeof(cr));
    memcpy(cr.ssid, "myssid", 6);
    cr.ssid_len = 6;
    strcpy(cr.passphrase, "mypassword");
    cr.passphrase_len = 10;
    assert_int_equal(wifiprov_client_set_config(c, &cr, &status), 0);
    assert_int_equal(status, 0);
    status = -1;
    assert_int_equal(wifiprov_client_apply_config(c, &status), 0);
    assert_int_equal(status, 0);

    assert_int_equal(wifiprov_client_get_status(c, &st), 0);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTING);
    assert_false(st.has_attempts_remaining);
    assert_int_equal(wifiprov_client_get_status(c, &st), 0);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTING);
    assert_true(st.has_attempts_remaining);
    assert_int_equal(st.attempts_remaining, 3);
    assert_int_equal(wifiprov_client_get_status(c, &st), 0);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_string_equal(st.ip4, "192.168.1.42");
    assert_int_equal(st.auth, WIFIPROV_AUTH_MODE_WPA2_PSK);
    assert_int_equal(st.ssid_len, 6);
    assert_memory_equal(st.ssid, "myssid", 6);
    assert_memory_equal(st.bssid, bssid1, 6);
    assert_int_equal(st.channel, 6);
    assert_int_equal(wifiprov_client_get_status(c, &st), 0);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_FAILED);
    assert_int_equal(st.fail_reason, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    assert_int_equal(wifiprov_client_get_status(c, &st), 0);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_FAILED);
    assert_int_equal(st.fail_reason, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND);

    memset(&o, 0, sizeof(o));
    o.blocking = true;
    o.period_ms = 120;
    assert_int_equal(wifiprov_client_scan_start(c, &o, &status), 0);
    assert_int_equal(wifiprov_client_scan_status(c, &fin, &count, &status), 0);
    assert_true(fin);
    assert_int_equal(count, 2);
    assert_int_equal(wifiprov_client_scan_result(c, 0, 2, aps, &n, &status), 0);
    assert_int_equal(n, 2);
    assert_int_equal(aps[0].ssid_len, 12);
    assert_memory_equal(aps[0].ssid, "MyHomeWiFiAP", 12);
    assert_int_equal(aps[0].channel, 1);
    assert_int_equal(aps[0].rssi, -45);
    assert_memory_equal(aps[0].bssid, bssid1, 6);
    assert_int_equal(aps[0].auth, WIFIPROV_AUTH_MODE_WPA2_PSK);
    assert_int_equal(aps[1].ssid_len, 14);
    assert_memory_equal(aps[1].ssid, "InsecureWiFiAP", 14);
    assert_int_equal(aps[1].channel, 7);
    assert_int_equal(aps[1].rssi, -74);
    assert_memory_equal(aps[1].bssid, bssid2, 6);
    assert_int_equal(aps[1].auth, WIFIPROV_AUTH_MODE_OPEN);

    status = -1;
    assert_int_equal(wifiprov_client_ctrl_reset(c, &status), 0);
    assert_int_equal(status, 0);
    assert_int_equal(wifiprov_client_request(c, "custom-data", (const uint8_t *)"hello", 5, resp, sizeof(resp), &n), 0);
    assert_int_equal(n, 8);
    assert_memory_equal(resp, "SUCCESS\0", 8);

    o.group_channels = 5;
    assert_int_equal(wifiprov_client_scan_start(c, &o, NULL), 0);
    assert_int_equal(wifiprov_client_ctrl_reprov(c, NULL), 0);
    assert_int_equal(s.cur, s.n);
    wifiprov_client_free(c);
}

/* --- reply decoding -------------------------------------------------------- */

static const struct step odd_steps[] = {
    /* GetStatus */
    {"prov-config", "5200", "0801", 0},                       /* no sub-message: all defaults */
    {"prov-config", "5200", "08015a00", 0},                   /* empty RespGetStatus: Connected */
    {"prov-config", "5200", "08015a045a02100c", 0},           /* connected, auth 12 */
    {"prov-config", "5200", "08015a0410035005", 0},           /* failed, unknown reason 5 */
    {"prov-config", "5200", "08015a021009", 0},               /* sta_state 9 */
    {"prov-config", "5200", "08036a00", 0},                   /* msg 3 is not GetStatus' reply */
    {"prov-config", "5200", "08015a020805", 0},               /* status InternalError */
    {"prov-config", "5200", "ffffff", 0},                     /* garbage */
    {"prov-config", "5200", "08016a00", 0},                   /* msg 1 with a RespSetConfig payload */
    /* SetConfig / Apply */
    {"prov-config", NULL, "08036a020804", 0},                 /* InvalidArgument */
    {"prov-config", "0804", "08057a020805", 0},               /* InternalError */
    {"prov-config", "0804", "08036a00", 0},                   /* reply for SetConfig */
    {"prov-config", "0804", "0805", 0},                       /* no sub-message: Success */
    /* Scan */
    {"prov-scan", "5200", "080110055a00", 0},                 /* start failed */
    {"prov-scan", "0802", "0803", 0},                         /* status, nothing set */
    {"prov-scan", "0802", "08016a00", 0},                     /* wrong msg */
    {"prov-scan", "080472021001",
     /* status 5 with one entry (auth 13, ssid of 33 bytes), then a second entry beyond what was asked */
     "080510057a2e0a250a21414141414141414141414141414141414141414141414141414141414141"
     "414141280d0a050a03424242", 0},
    /* Ctrl */
    {"prov-ctrl", "0801", "080210056200", 0},
    {"prov-ctrl", "0803", "080410057200", 0},
    {"prov-ctrl", "0803", "08026200", 0},
    {"prov-ctrl", "0803", "0804", 0},
};

static void decode_replies(void **state)
{
    struct wifiprov_wifi_creds cr;
    struct wifiprov_wifi_status st;
    struct wifiprov_scan_opts o;
    struct wifiprov_ap aps[1];
    struct wifiprov_client *c;
    struct script s;
    bool fin = true;
    uint32_t count = 7;
    size_t n = 9;
    int status = -1;

    (void)state;
    c = script_client(&s, odd_steps, WIFIPROV_ARRAY_SIZE(odd_steps));
    assert_int_equal(wifiprov_client_get_status(c, &st), 0);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_string_equal(st.ip4, "");
    assert_int_equal(wifiprov_client_get_status(c, &st), 0);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_int_equal(wifiprov_client_get_status(c, &st), 0);
    assert_int_equal(st.auth, 12);
    assert_null(wifiprov_auth_mode_to_string(st.auth));
    assert_int_equal(wifiprov_client_get_status(c, &st), 0);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_FAILED);
    assert_int_equal(st.fail_reason, WIFIPROV_FAIL_REASON_OTHER);
    assert_int_equal(wifiprov_client_get_status(c, &st), WIFIPROV_ERR_PROTO);
    assert_int_equal(wifiprov_client_get_status(c, &st), WIFIPROV_ERR_PROTO);
    assert_int_equal(wifiprov_client_get_status(c, &st), WIFIPROV_ERR_DEVICE);
    assert_int_equal(wifiprov_client_get_status(c, &st), WIFIPROV_ERR_PROTO);
    assert_int_equal(wifiprov_client_get_status(c, &st), WIFIPROV_ERR_PROTO);

    memset(&cr, 0, sizeof(cr));
    cr.ssid_len = 1;
    cr.ssid[0] = 'x';
    assert_int_equal(wifiprov_client_set_config(c, &cr, &status), WIFIPROV_ERR_DEVICE);
    assert_int_equal(status, 4);
    assert_int_equal(wifiprov_client_apply_config(c, &status), WIFIPROV_ERR_DEVICE);
    assert_int_equal(status, 5);
    assert_int_equal(wifiprov_client_apply_config(c, &status), WIFIPROV_ERR_PROTO);
    assert_int_equal(wifiprov_client_apply_config(c, &status), 0);
    assert_int_equal(status, 0);

    memset(&o, 0, sizeof(o));
    assert_int_equal(wifiprov_client_scan_start(c, &o, &status), WIFIPROV_ERR_DEVICE);
    assert_int_equal(status, 5);
    assert_int_equal(wifiprov_client_scan_status(c, &fin, &count, &status), 0);
    assert_false(fin);
    assert_int_equal(count, 0);
    assert_int_equal(wifiprov_client_scan_status(c, &fin, &count, &status), WIFIPROV_ERR_PROTO);
    assert_int_equal(wifiprov_client_scan_result(c, 0, 1, aps, &n, &status), WIFIPROV_ERR_DEVICE);
    assert_int_equal(status, 5);
    assert_int_equal(n, 1); /* what the device had is still returned */
    assert_int_equal(aps[0].ssid_len, 32);
    assert_int_equal(aps[0].auth, 13);

    assert_int_equal(wifiprov_client_ctrl_reset(c, &status), WIFIPROV_ERR_DEVICE);
    assert_int_equal(status, 5);
    assert_int_equal(wifiprov_client_ctrl_reprov(c, &status), WIFIPROV_ERR_DEVICE);
    assert_int_equal(status, 5);
    assert_int_equal(wifiprov_client_ctrl_reprov(c, &status), WIFIPROV_ERR_PROTO);
    assert_int_equal(wifiprov_client_ctrl_reprov(c, &status), 0);
    assert_int_equal(status, 0);
    assert_int_equal(s.cur, s.n);

    /* Arguments. */
    cr.ssid_len = 33;
    assert_int_equal(wifiprov_client_set_config(c, &cr, &status), WIFIPROV_ERR_INVAL);
    cr.ssid_len = 1;
    cr.passphrase_len = 64;
    assert_int_equal(wifiprov_client_set_config(c, &cr, &status), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_client_get_status(c, NULL), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_client_scan_result(c, 0, 1, NULL, &n, NULL), WIFIPROV_ERR_INVAL);
    wifiprov_client_free(c);
}

static void *no_malloc(size_t n)
{
    (void)n;
    return NULL;
}

static void *no_calloc(size_t n, size_t size)
{
    (void)n;
    (void)size;
    return NULL;
}

static void *no_realloc(void *p, size_t n)
{
    (void)p;
    (void)n;
    return NULL;
}

static void decoders_direct(void **state)
{
    static const struct wifiprov_allocator none = {no_malloc, no_calloc, no_realloc, free};
    static const uint8_t bssid_set[] = {0x08, 0x02, 0x62, 0x0c, 0x0a, 0x02, 'a', 'b', 0x1a, 0x06,
                                        1,    2,    3,    4,    5,    6};
    struct wifiprov_wifi_status st;
    struct wifiprov_scan_reply r;
    int status = 9;

    (void)state;
    /* A request is not a reply. */
    assert_int_equal(wifiprov__cmd_decode_config(bssid_set, sizeof(bssid_set), 3, &status), WIFIPROV_ERR_PROTO);
    assert_int_equal(wifiprov__cmd_decode_get_status(NULL, 0, &st), WIFIPROV_ERR_PROTO);
    memset(&r, 0, sizeof(r));
    assert_int_equal(wifiprov__cmd_decode_scan((const uint8_t *)"\x08\x03", 2, 3, &status, &r), 0);
    assert_int_equal(status, 0);
    assert_int_equal(wifiprov__cmd_decode_ctrl((const uint8_t *)"\x08\x02\x10\x07", 4, 2, &status),
                     WIFIPROV_ERR_DEVICE);
    assert_int_equal(status, 7);
    assert_int_equal(wifiprov__cmd_decode_ctrl((const uint8_t *)"\x08\x02\x62", 3, 2, &status), WIFIPROV_ERR_PROTO);

    /* Out of memory while unpacking is NOMEM, not a malformed reply. */
    wifiprov_set_allocator(&none);
    assert_int_equal(wifiprov__cmd_decode_get_status((const uint8_t *)"\x08\x01\x5a\x00", 4, &st),
                     WIFIPROV_ERR_NOMEM);
    assert_int_equal(wifiprov__cmd_decode_config((const uint8_t *)"\x08\x03\x6a\x00", 4, 3, &status),
                     WIFIPROV_ERR_NOMEM);
    assert_int_equal(wifiprov__cmd_decode_scan((const uint8_t *)"\x08\x03", 2, 3, &status, &r), WIFIPROV_ERR_NOMEM);
    assert_int_equal(wifiprov__cmd_decode_ctrl((const uint8_t *)"\x08\x02", 2, 2, &status), WIFIPROV_ERR_NOMEM);
    wifiprov_set_allocator(NULL);
    assert_int_equal(wifiprov__cmd_decode_ctrl((const uint8_t *)"\x08\x02", 2, 2, &status), 0);
}

/* --- handshake error mapping ------------------------------------------------ */

/* A loopback that fails exchange number fail_at (1-based) with err. */
struct failing {
    struct tloop l;
    unsigned n, fail_at;
    int err;
};

static int failing_xfer(void *ctx, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp, size_t cap,
                        size_t *resp_len)
{
    struct failing *f = ctx;

    if (++f->n == f->fail_at)
        return f->err;
    return tloop_xfer(&f->l, ep, req, req_len, resp, cap, resp_len);
}

static int handshake_failing(enum tscheme s, unsigned fail_at, int err)
{
    struct wifiprov_device_config dc;
    struct wifiprov_client_config cc;
    struct wifiprov_device *dev = NULL;
    struct wifiprov_client *c = NULL;
    struct failing f;
    struct tcreds cr;
    int rc;

    tcreds_load(&cr);
    memset(&f, 0, sizeof(f));
    tdev_config(&dc, s, &cr);
    assert_int_equal(wifiprov_device_new(&dc, &dev), 0);
    assert_int_equal(wifiprov_device_add_endpoint(dev, "custom-data", techo_handler, NULL), 0);
    assert_int_equal(wifiprov_device_session_open(dev, 1), 0);
    f.l.dev = dev;
    f.l.sid = 1;
    f.fail_at = fail_at;
    f.err = err;
    tcli_config(&cc, s, &f.l);
    cc.xfer = failing_xfer;
    cc.xfer_ctx = &f;
    assert_int_equal(wifiprov_client_new(&cc, &c), 0);
    rc = wifiprov_client_handshake(c);
    assert_int_equal(wifiprov_client_established(c), rc == 0);
    if (rc) {
        uint8_t resp[16];
        size_t n;

        /* A failed handshake leaves nothing to encrypt with (sec0 has nothing to lose). */
        if (s != TS_SEC0)
            assert_int_equal(wifiprov_client_request(c, "custom-data", (const uint8_t *)"x", 1, resp, sizeof(resp),
                                                     &n),
                             WIFIPROV_ERR_STATE);
        /* A retry on a working transport succeeds. */
        f.fail_at = 0;
        assert_int_equal(wifiprov_client_handshake(c), 0);
        techo_check(c, "custom-data", "retry");
    }
    wifiprov_client_free(c);
    wifiprov_device_free(dev);
    tcreds_free(&cr);
    return rc;
}

static void handshake_errors(void **state)
{
    (void)state;
    /* Cmd0 dropped: a transport problem. */
    assert_int_equal(handshake_failing(TS_SEC0, 1, WIFIPROV_ERR_TRANSPORT), WIFIPROV_ERR_TRANSPORT);
    assert_int_equal(handshake_failing(TS_SEC1_POP, 1, WIFIPROV_ERR_TRANSPORT), WIFIPROV_ERR_TRANSPORT);
    assert_int_equal(handshake_failing(TS_SEC2_P1, 1, WIFIPROV_ERR_TRANSPORT), WIFIPROV_ERR_TRANSPORT);
    /* Cmd1 dropped: the device refused the credentials. */
    assert_int_equal(handshake_failing(TS_SEC1_POP, 2, WIFIPROV_ERR_TRANSPORT), WIFIPROV_ERR_AUTH);
    assert_int_equal(handshake_failing(TS_SEC2_P0, 2, WIFIPROV_ERR_TRANSPORT), WIFIPROV_ERR_AUTH);
    /* Other errors keep their meaning. */
    assert_int_equal(handshake_failing(TS_SEC2_P1, 2, WIFIPROV_ERR_TIMEOUT), WIFIPROV_ERR_TIMEOUT);
    assert_int_equal(handshake_failing(TS_SEC1_NOPOP, 0, 0), 0);
}

static void handshake_bad_replies(void **state)
{
    static const struct step garbage[] = {
        {"prov-session", "5203a20100", "ffff", 0},
    };
    static const struct step wrong_scheme[] = {
        /* a security 1 Resp0 for a security 0 client */
        {"prov-session", "5203a20100", "10015a0208 01", 0},
    };
    struct wifiprov_client *c;
    struct script s;

    (void)state;
    c = script_client(&s, garbage, 1);
    assert_int_equal(wifiprov_client_handshake(c), WIFIPROV_ERR_PROTO);
    assert_false(wifiprov_client_established(c));
    wifiprov_client_free(c);
    c = script_client(&s, wrong_scheme, 1);
    assert_int_equal(wifiprov_client_handshake(c), WIFIPROV_ERR_PROTO);
    wifiprov_client_free(c);
}

static int odd_xfer(void *ctx, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp, size_t cap,
                    size_t *resp_len)
{
    int *mode = ctx;

    (void)ep;
    (void)req;
    (void)req_len;
    (void)resp;
    if (*mode == 0)
        return 1; /* not a valid error code */
    *resp_len = cap + 1; /* claims more than fits */
    return 0;
}

static void transport_misbehaves(void **state)
{
    static uint8_t big[WIFIPROV_MAX_MSG + 1];
    struct wifiprov_client_config cc;
    struct wifiprov_client *c = NULL;
    struct wifiprov_version_info info;
    uint8_t resp[16];
    size_t n = 3;
    int mode = 0;

    (void)state;
    memset(&cc, 0, sizeof(cc));
    cc.xfer = odd_xfer;
    cc.xfer_ctx = &mode;
    cc.security = WIFIPROV_SECURITY_0;
    assert_int_equal(wifiprov_client_new(&cc, &c), 0);
    assert_int_equal(wifiprov_client_handshake(c), WIFIPROV_ERR_TRANSPORT);
    assert_int_equal(wifiprov_client_request(c, "x", (const uint8_t *)"a", 1, resp, sizeof(resp), &n),
                     WIFIPROV_ERR_TRANSPORT);
    assert_int_equal(n, 0);
    mode = 1;
    assert_int_equal(wifiprov_client_get_version(c, "---", &info, NULL, 0), WIFIPROV_ERR_TRANSPORT);
    assert_int_equal(wifiprov_client_request(c, "x", (const uint8_t *)"a", 1, resp, sizeof(resp), &n),
                     WIFIPROV_ERR_TRANSPORT);
    /* Requests are bounded before anything is sent. */
    assert_int_equal(wifiprov_client_request(c, "x", big, sizeof(big), resp, sizeof(resp), &n), WIFIPROV_ERR_TOO_BIG);
    assert_int_equal(wifiprov_client_request(c, NULL, big, 1, resp, sizeof(resp), &n), WIFIPROV_ERR_INVAL);
    wifiprov_client_free(c);
}

static void client_new_invalid(void **state)
{
    struct wifiprov_client_config cc;
    struct wifiprov_client *c = NULL;
    struct tloop l;

    (void)state;
    memset(&l, 0, sizeof(l));
    tcli_config(&cc, TS_SEC2_P1, &l);
    cc.username = NULL;
    assert_int_equal(wifiprov_client_new(&cc, &c), WIFIPROV_ERR_INVAL);
    tcli_config(&cc, TS_SEC2_P1, &l);
    cc.password = "";
    assert_int_equal(wifiprov_client_new(&cc, &c), WIFIPROV_ERR_INVAL);
    tcli_config(&cc, TS_SEC2_P1, &l);
    cc.sec_patch_ver = 2;
    assert_int_equal(wifiprov_client_new(&cc, &c), WIFIPROV_ERR_INVAL);
    tcli_config(&cc, TS_SEC0, &l);
    cc.xfer = NULL;
    assert_int_equal(wifiprov_client_new(&cc, &c), WIFIPROV_ERR_INVAL);
    tcli_config(&cc, TS_SEC0, &l);
    cc.security = (enum wifiprov_security)3;
    assert_int_equal(wifiprov_client_new(&cc, &c), WIFIPROV_ERR_INVAL);
    assert_null(c);
    wifiprov_client_free(NULL);
    assert_false(wifiprov_client_established(NULL));
}

/* --- loopback against small device handlers --------------------------------- */

struct fake {
    uint8_t ssid[33];
    size_t ssid_len;
    char pass[64];
    bool staged, applied;
    struct wifiprov_scan_opts opts;
    unsigned resets, reprovs;
};

static const struct {
    const char *ssid;
    uint32_t channel;
    int32_t rssi;
    uint8_t bssid[6];
    uint32_t auth;
} fake_aps[] = {
    {"alpha", 1, -30, {1, 2, 3, 4, 5, 6}, 3},
    {"beta-net", 6, -55, {0, 0x11, 0x22, 0x33, 0x44, 0x55}, 0},
    {"gamma", 13, -90, {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}, 11},
};

static int pack_out(const ProtobufCMessage *m, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t n = protobuf_c_message_get_packed_size(m);

    if (n > cap)
        return WIFIPROV_ERR_NOSPC;
    *out_len = protobuf_c_message_pack(m, out);
    return 0;
}

static int fake_config(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    struct fake *f = ctx;
    WiFiConfigPayload *p = wi_fi_config_payload__unpack(NULL, req->len, req->data);
    WiFiConfigPayload r = WI_FI_CONFIG_PAYLOAD__INIT;
    RespGetStatus gs = RESP_GET_STATUS__INIT;
    WifiConnectedState cs = WIFI_CONNECTED_STATE__INIT;
    RespSetConfig sc = RESP_SET_CONFIG__INIT;
    RespApplyConfig ac = RESP_APPLY_CONFIG__INIT;
    uint8_t bssid[6] = {9, 8, 7, 6, 5, 4};
    int rc = 0;

    if (!p)
        return WIFIPROV_ERR_PROTO;
    r.msg = (WiFiConfigMsgType)(p->msg + 1);
    if (p->msg == WI_FI_CONFIG_MSG_TYPE__TypeCmdGetStatus) {
        r.payload_case = WI_FI_CONFIG_PAYLOAD__PAYLOAD_RESP_GET_STATUS;
        r.resp_get_status = &gs;
        gs.sta_state = WIFI_STATION_STATE__Connected;
        gs.state_case = RESP_GET_STATUS__STATE_CONNECTED;
        gs.connected = &cs;
        cs.ip4_addr = (char *)"10.1.2.3";
        cs.auth_mode = WIFI_AUTH_MODE__WPA2_WPA3_PSK;
        cs.ssid.data = f->ssid;
        cs.ssid.len = f->ssid_len;
        cs.bssid.data = bssid;
        cs.bssid.len = 6;
        cs.channel = 11;
    } else if (p->msg == WI_FI_CONFIG_MSG_TYPE__TypeCmdSetConfig && p->cmd_set_config) {
        r.payload_case = WI_FI_CONFIG_PAYLOAD__PAYLOAD_RESP_SET_CONFIG;
        r.resp_set_config = &sc;
        if (p->cmd_set_config->ssid.len > 32 || p->cmd_set_config->passphrase.len > 63) {
            sc.status = STATUS__InvalidArgument;
        } else {
            memcpy(f->ssid, p->cmd_set_config->ssid.data, p->cmd_set_config->ssid.len);
            f->ssid_len = p->cmd_set_config->ssid.len;
            memcpy(f->pass, p->cmd_set_config->passphrase.data, p->cmd_set_config->passphrase.len);
            f->pass[p->cmd_set_config->passphrase.len] = '\0';
            f->staged = true;
        }
    } else if (p->msg == WI_FI_CONFIG_MSG_TYPE__TypeCmdApplyConfig) {
        r.payload_case = WI_FI_CONFIG_PAYLOAD__PAYLOAD_RESP_APPLY_CONFIG;
        r.resp_apply_config = &ac;
        ac.status = f->staged && !f->applied ? STATUS__Success : STATUS__InternalError;
        f->applied = f->applied || f->staged;
    } else {
        rc = WIFIPROV_ERR_PROTO;
    }
    if (!rc)
        rc = pack_out(&r.base, out, cap, out_len);
    wi_fi_config_payload__free_unpacked(p, NULL);
    return rc;
}

static int fake_scan(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    struct fake *f = ctx;
    WiFiScanPayload *p = wi_fi_scan_payload__unpack(NULL, req->len, req->data);
    WiFiScanPayload r = WI_FI_SCAN_PAYLOAD__INIT;
    RespScanStart ss = RESP_SCAN_START__INIT;
    RespScanStatus st = RESP_SCAN_STATUS__INIT;
    RespScanResult sr = RESP_SCAN_RESULT__INIT;
    WiFiScanResult e[3], *ep[3];
    int rc = 0;
    size_t i;

    if (!p)
        return WIFIPROV_ERR_PROTO;
    r.msg = (WiFiScanMsgType)(p->msg + 1);
    if (p->msg == WI_FI_SCAN_MSG_TYPE__TypeCmdScanStart && p->cmd_scan_start) {
        f->opts.blocking = p->cmd_scan_start->blocking;
        f->opts.passive = p->cmd_scan_start->passive;
        f->opts.group_channels = p->cmd_scan_start->group_channels;
        f->opts.period_ms = p->cmd_scan_start->period_ms;
        r.payload_case = WI_FI_SCAN_PAYLOAD__PAYLOAD_RESP_SCAN_START;
        r.resp_scan_start = &ss;
    } else if (p->msg == WI_FI_SCAN_MSG_TYPE__TypeCmdScanStatus) {
        r.payload_case = WI_FI_SCAN_PAYLOAD__PAYLOAD_RESP_SCAN_STATUS;
        r.resp_scan_status = &st;
        st.scan_finished = 1;
        st.result_count = 3;
    } else if (p->msg == WI_FI_SCAN_MSG_TYPE__TypeCmdScanResult && p->cmd_scan_result &&
               p->cmd_scan_result->start_index <= 3 && p->cmd_scan_result->count <= 3 - p->cmd_scan_result->start_index) {
        r.payload_case = WI_FI_SCAN_PAYLOAD__PAYLOAD_RESP_SCAN_RESULT;
        r.resp_scan_result = &sr;
        sr.entries = ep;
        for (i = 0; i < p->cmd_scan_result->count; i++) {
            size_t k = p->cmd_scan_result->start_index + i;

            wi_fi_scan_result__init(&e[i]);
            e[i].ssid.data = (uint8_t *)fake_aps[k].ssid;
            e[i].ssid.len = strlen(fake_aps[k].ssid);
            e[i].channel = fake_aps[k].channel;
            e[i].rssi = fake_aps[k].rssi;
            e[i].bssid.data = (uint8_t *)fake_aps[k].bssid;
            e[i].bssid.len = 6;
            e[i].auth = (WifiAuthMode)fake_aps[k].auth;
            ep[i] = &e[i];
        }
        sr.n_entries = p->cmd_scan_result->count;
    } else {
        rc = WIFIPROV_ERR_PROTO;
    }
    if (!rc)
        rc = pack_out(&r.base, out, cap, out_len);
    wi_fi_scan_payload__free_unpacked(p, NULL);
    return rc;
}

static int fake_ctrl(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    struct fake *f = ctx;
    WiFiCtrlPayload *p = wi_fi_ctrl_payload__unpack(NULL, req->len, req->data);
    WiFiCtrlPayload r = WI_FI_CTRL_PAYLOAD__INIT;
    RespCtrlReset rs = RESP_CTRL_RESET__INIT;
    RespCtrlReprov rp = RESP_CTRL_REPROV__INIT;
    int rc = 0;

    if (!p)
        return WIFIPROV_ERR_PROTO;
    r.msg = (WiFiCtrlMsgType)(p->msg + 1);
    if (p->msg == WI_FI_CTRL_MSG_TYPE__TypeCmdCtrlReset) {
        /* Reset is only allowed after a failure; this fake never fails. */
        f->resets++;
        r.status = STATUS__InternalError;
        r.payload_case = WI_FI_CTRL_PAYLOAD__PAYLOAD_RESP_CTRL_RESET;
        r.resp_ctrl_reset = &rs;
    } else if (p->msg == WI_FI_CTRL_MSG_TYPE__TypeCmdCtrlReprov) {
        f->reprovs++;
        f->applied = false;
        r.payload_case = WI_FI_CTRL_PAYLOAD__PAYLOAD_RESP_CTRL_REPROV;
        r.resp_ctrl_reprov = &rp;
    } else {
        rc = WIFIPROV_ERR_PROTO;
    }
    if (!rc)
        rc = pack_out(&r.base, out, cap, out_len);
    wi_fi_ctrl_payload__free_unpacked(p, NULL);
    return rc;
}

static void loopback(enum tscheme s)
{
    struct wifiprov_device_config dc;
    struct wifiprov_client_config cc;
    struct wifiprov_version_info info;
    struct wifiprov_device *dev = NULL;
    struct wifiprov_client *c = NULL;
    struct wifiprov_wifi_creds cr;
    struct wifiprov_wifi_status st;
    struct wifiprov_scan_opts o;
    struct wifiprov_ap aps[3];
    struct tcreds creds;
    struct fake fk;
    struct tloop l;
    uint8_t resp[64];
    uint32_t count = 0;
    bool fin = false;
    size_t n = 0, i;
    int status = -1;

    tcreds_load(&creds);
    memset(&fk, 0, sizeof(fk));
    memset(&l, 0, sizeof(l));
    tdev_config(&dc, s, &creds);
    assert_int_equal(wifiprov_device_new(&dc, &dev), 0);
    assert_int_equal(wifiprov_device_add_capability(dev, "wifi_scan"), 0);
    assert_int_equal(wifiprov_device_add_endpoint(dev, WIFIPROV_EP_CTRL, fake_ctrl, &fk), 0);
    assert_int_equal(wifiprov_device_add_endpoint(dev, WIFIPROV_EP_SCAN, fake_scan, &fk), 0);
    assert_int_equal(wifiprov_device_add_endpoint(dev, WIFIPROV_EP_CONFIG, fake_config, &fk), 0);
    assert_int_equal(wifiprov_device_add_endpoint(dev, "custom-data", techo_handler, NULL), 0);
    l.dev = dev;
    l.sid = 42;
    assert_int_equal(wifiprov_device_session_open(dev, l.sid), 0);

    /* What a real client does: ask for the version first, then pick the scheme from it. */
    tcli_config(&cc, TS_SEC0, &l);
    assert_int_equal(wifiprov_client_new(&cc, &c), 0);
    assert_int_equal(wifiprov_client_get_version(c, "---", &info, NULL, 0), 0);
    wifiprov_client_free(c);
    assert_true(info.is_json);
    assert_int_equal(info.sec_ver, (int)tscheme_security(s));
    assert_int_equal(info.sec_patch_ver, s == TS_SEC2_P1);
    assert_true(wifiprov_version_has_cap(&info, "wifi_scan"));
    assert_int_equal(wifiprov_version_has_cap(&info, "no_sec"), s == TS_SEC0);
    assert_int_equal(wifiprov_version_has_cap(&info, "no_pop"), s == TS_SEC1_NOPOP);

    tcli_config(&cc, s, &l);
    cc.sec_patch_ver = info.sec_patch_ver;
    assert_int_equal(wifiprov_client_new(&cc, &c), 0);
    assert_int_equal(wifiprov_client_handshake(c), 0);
    assert_true(wifiprov_device_session_established(dev, l.sid));

    memset(&o, 0, sizeof(o));
    o.blocking = true;
    o.passive = true;
    o.group_channels = 4;
    o.period_ms = 300;
    assert_int_equal(wifiprov_client_scan_start(c, &o, &status), 0);
    assert_int_equal(status, 0);
    assert_true(fk.opts.blocking && fk.opts.passive);
    assert_int_equal(fk.opts.group_channels, 4);
    assert_int_equal(fk.opts.period_ms, 300);
    assert_int_equal(wifiprov_client_scan_status(c, &fin, &count, &status), 0);
    assert_true(fin);
    assert_int_equal(count, 3);
    /* Two pages. */
    assert_int_equal(wifiprov_client_scan_result(c, 0, 2, aps, &n, &status), 0);
    assert_int_equal(n, 2);
    assert_int_equal(wifiprov_client_scan_result(c, 2, 1, aps + 2, &n, &status), 0);
    assert_int_equal(n, 1);
    for (i = 0; i < 3; i++) {
        assert_int_equal(aps[i].ssid_len, strlen(fake_aps[i].ssid));
        assert_memory_equal(aps[i].ssid, fake_aps[i].ssid, aps[i].ssid_len);
        assert_int_equal(aps[i].channel, fake_aps[i].channel);
        assert_int_equal(aps[i].rssi, fake_aps[i].rssi);
        assert_memory_equal(aps[i].bssid, fake_aps[i].bssid, 6);
        assert_int_equal(aps[i].auth, fake_aps[i].auth);
    }
    /* Asking beyond the list: the fake drops the exchange. */
    assert_int_equal(wifiprov_client_scan_result(c, 2, 2, aps, &n, &status), WIFIPROV_ERR_TRANSPORT);
    assert_int_equal(l.last_err, WIFIPROV_ERR_PROTO);

    memset(&cr, 0, sizeof(cr));
    memcpy(cr.ssid, "Home\0Net", 8); /* SSIDs are bytes */
    cr.ssid_len = 8;
    strcpy(cr.passphrase, "correct horse battery staple");
    cr.passphrase_len = (uint8_t)strlen(cr.passphrase);
    cr.has_bssid = true;
    memcpy(cr.bssid, "\x01\x02\x03\x04\x05\x06", 6);
    cr.channel = 6;
    assert_int_equal(wifiprov_client_set_config(c, &cr, &status), 0);
    assert_int_equal(fk.ssid_len, 8);
    assert_memory_equal(fk.ssid, "Home\0Net", 8);
    assert_string_equal(fk.pass, "correct horse battery staple");
    assert_int_equal(wifiprov_client_apply_config(c, &status), 0);
    assert_int_equal(wifiprov_client_apply_config(c, &status), WIFIPROV_ERR_DEVICE);
    assert_int_equal(status, 5);
    assert_int_equal(wifiprov_client_get_status(c, &st), 0);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_string_equal(st.ip4, "10.1.2.3");
    assert_int_equal(st.ssid_len, 8);
    assert_memory_equal(st.ssid, "Home\0Net", 8);
    assert_memory_equal(st.bssid, "\x09\x08\x07\x06\x05\x04", 6);
    assert_int_equal(st.channel, 11);
    assert_int_equal(st.auth, WIFIPROV_AUTH_MODE_WPA2_WPA3_PSK);

    assert_int_equal(wifiprov_client_ctrl_reset(c, &status), WIFIPROV_ERR_DEVICE);
    assert_int_equal(status, 5);
    assert_int_equal(wifiprov_client_ctrl_reprov(c, &status), 0);
    assert_int_equal(status, 0);
    assert_int_equal(fk.resets, 1);
    assert_int_equal(fk.reprovs, 1);
    assert_int_equal(wifiprov_client_request(c, "custom-data", NULL, 0, resp, sizeof(resp), &n), 0);
    assert_int_equal(n, 5);
    techo_check(c, "custom-data", "bye");

    wifiprov_client_free(c);
    wifiprov_device_free(dev);
    tcreds_free(&creds);
}

static void loopback_sec0(void **state)
{
    (void)state;
    loopback(TS_SEC0);
}

static void loopback_sec1_pop(void **state)
{
    (void)state;
    loopback(TS_SEC1_POP);
}

static void loopback_sec1_nopop(void **state)
{
    (void)state;
    loopback(TS_SEC1_NOPOP);
}

static void loopback_sec2_patch0(void **state)
{
    (void)state;
    loopback(TS_SEC2_P0);
}

static void loopback_sec2_patch1(void **state)
{
    (void)state;
    loopback(TS_SEC2_P1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_parse),       cmocka_unit_test(get_version),
        cmocka_unit_test(appendix_a1),         cmocka_unit_test(decode_replies),
        cmocka_unit_test(decoders_direct),     cmocka_unit_test(handshake_errors),
        cmocka_unit_test(handshake_bad_replies), cmocka_unit_test(client_new_invalid),
        cmocka_unit_test(transport_misbehaves),
        cmocka_unit_test(loopback_sec0),       cmocka_unit_test(loopback_sec1_pop),
        cmocka_unit_test(loopback_sec1_nopop), cmocka_unit_test(loopback_sec2_patch0),
        cmocka_unit_test(loopback_sec2_patch1),
    };

    return TEST_RUN("client", tests, argc, argv);
}
