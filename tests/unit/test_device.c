/*
 * Device core: version JSON bytes, endpoint and session tables, dispatch errors
 * (each followed by a check that another established session still works),
 * PENDING / resume / cancel, and allocation failures.
 */
#include <stdlib.h>
#include <string.h>

#include "core_test_util.h"
#include "crypto/crypto.h"
#include "sec/sec.h"
#include "sec1.pb-c.h"
#include "sec2.pb-c.h"
#include "session.pb-c.h"
#include "util.h"

#define EP_DATA "custom-data"
#define EP_SLOW "slow-data"
#define SID_T 1u       /* the session a case attacks */
#define SID_W 0xbeefu  /* the witness session that must keep working */

static int sys_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return wifiprov__crypto_random(buf, len);
}

/* --- events ------------------------------------------------------------- */

struct evlog {
    unsigned n[5];
    uint32_t last_sid;
};

static void ev_fn(void *ctx, enum wifiprov_device_event ev, uint32_t sid)
{
    struct evlog *e = ctx;

    assert_true((unsigned)ev < 5);
    e->n[ev]++;
    e->last_sid = sid;
}

/* --- a device with a witness session ------------------------------------- */

struct fx {
    struct tcreds cr;
    enum tscheme scheme;
    struct wifiprov_device *dev;
    struct evlog ev;
    struct tloop wloop;
    struct wifiprov_client *witness;
};

static void fx_setup(struct fx *f, enum tscheme s, unsigned max_sessions)
{
    struct wifiprov_device_config cfg;
    struct wifiprov_client_config cc;

    memset(f, 0, sizeof(*f));
    f->scheme = s;
    tcreds_load(&f->cr);
    tdev_config(&cfg, s, &f->cr);
    cfg.max_sessions = max_sessions;
    cfg.event_fn = ev_fn;
    cfg.event_ctx = &f->ev;
    assert_int_equal(wifiprov_device_new(&cfg, &f->dev), 0);
    assert_int_equal(wifiprov_device_add_endpoint(f->dev, EP_DATA, techo_handler, NULL), 0);

    f->wloop.dev = f->dev;
    f->wloop.sid = SID_W;
    assert_int_equal(wifiprov_device_session_open(f->dev, SID_W), 0);
    tcli_config(&cc, s, &f->wloop);
    assert_int_equal(wifiprov_client_new(&cc, &f->witness), 0);
    assert_int_equal(wifiprov_client_handshake(f->witness), 0);
    techo_check(f->witness, EP_DATA, "before");
    memset(&f->ev, 0, sizeof(f->ev));
}

/* The other session must be untouched by whatever the case did. */
static void fx_witness_ok(struct fx *f)
{
    assert_true(wifiprov_device_session_exists(f->dev, SID_W));
    techo_check(f->witness, EP_DATA, "still here");
}

static void fx_teardown(struct fx *f)
{
    wifiprov_client_free(f->witness);
    wifiprov_device_free(f->dev);
    tcreds_free(&f->cr);
}

/* A client on session @p sid of the fixture's device. */
static struct wifiprov_client *fx_client(struct fx *f, struct tloop *l, uint32_t sid, enum tscheme s)
{
    struct wifiprov_client_config cc;
    struct wifiprov_client *c = NULL;

    l->dev = f->dev;
    l->sid = sid;
    tcli_config(&cc, s, l);
    assert_int_equal(wifiprov_client_new(&cc, &c), 0);
    return c;
}

/* --- version reply ------------------------------------------------------- */

static void version_expect(const struct wifiprov_device_config *cfg, const char *const *caps, size_t n_caps,
                           const char *expect, size_t expect_len)
{
    struct wifiprov_device *dev = NULL;
    uint8_t out[512];
    size_t n = 0, i;

    assert_int_equal(strlen(expect), expect_len);
    assert_int_equal(wifiprov_device_new(cfg, &dev), 0);
    for (i = 0; i < n_caps; i++)
        assert_int_equal(wifiprov_device_add_capability(dev, caps[i]), 0);
    assert_string_equal(wifiprov_device_version_json(dev), expect);
    /* The reply has no NUL, needs no session and ignores the request body. */
    assert_int_equal(wifiprov_device_handle(dev, 77, WIFIPROV_EP_VERSION, (const uint8_t *)"---", 3, out,
                                            sizeof(out), &n),
                     0);
    assert_int_equal(n, expect_len);
    assert_memory_equal(out, expect, n);
    assert_int_equal(wifiprov_device_handle(dev, 78, WIFIPROV_EP_VERSION, (const uint8_t *)"no_pop", 6, out,
                                            sizeof(out), &n),
                     0);
    assert_int_equal(n, expect_len);
    assert_int_equal(wifiprov_device_handle(dev, 78, WIFIPROV_EP_VERSION, NULL, 0, out, sizeof(out), &n), 0);
    assert_int_equal(n, expect_len);
    /* Too small a buffer. */
    assert_int_equal(
        wifiprov_device_handle(dev, 78, WIFIPROV_EP_VERSION, (const uint8_t *)"-", 1, out, expect_len - 1, &n),
        WIFIPROV_ERR_NOSPC);
    assert_int_equal(n, 0);
    wifiprov_device_free(dev);
}

static const char *const cap_scan[] = {"wifi_scan"};

static void version_sec2(void **state)
{
    struct wifiprov_device_config cfg;
    struct tcreds cr;

    (void)state;
    tcreds_load(&cr);
    tdev_config(&cfg, TS_SEC2_P1, &cr);
    version_expect(&cfg, cap_scan, 1,
                   "{\n\t\"prov\":\t{\n\t\t\"ver\":\t\"v1.1\",\n\t\t\"sec_ver\":\t2,\n\t\t\"sec_patch_ver\":\t1,\n\t\t"
                   "\"cap\":\t[\"wifi_scan\"]\n\t}\n}",
                   95);
    tdev_config(&cfg, TS_SEC2_P0, &cr);
    version_expect(&cfg, cap_scan, 1,
                   "{\n\t\"prov\":\t{\n\t\t\"ver\":\t\"v1.1\",\n\t\t\"sec_ver\":\t2,\n\t\t\"sec_patch_ver\":\t0,\n\t\t"
                   "\"cap\":\t[\"wifi_scan\"]\n\t}\n}",
                   95);
    tcreds_free(&cr);
}

static void version_sec1(void **state)
{
    struct wifiprov_device_config cfg;

    (void)state;
    tdev_config(&cfg, TS_SEC1_NOPOP, NULL);
    version_expect(&cfg, cap_scan, 1,
                   "{\n\t\"prov\":\t{\n\t\t\"ver\":\t\"v1.1\",\n\t\t\"sec_ver\":\t1,\n\t\t\"sec_patch_ver\":\t0,\n\t\t"
                   "\"cap\":\t[\"no_pop\", \"wifi_scan\"]\n\t}\n}",
                   105);
    tdev_config(&cfg, TS_SEC1_POP, NULL);
    version_expect(&cfg, cap_scan, 1,
                   "{\n\t\"prov\":\t{\n\t\t\"ver\":\t\"v1.1\",\n\t\t\"sec_ver\":\t1,\n\t\t\"sec_patch_ver\":\t0,\n\t\t"
                   "\"cap\":\t[\"wifi_scan\"]\n\t}\n}",
                   95);
    /* An empty PoP is none, and advertised so (ESP-IDF does not, P4, leaving clients to ask for a PoP that
     * does not exist). */
    cfg.pop = "";
    version_expect(&cfg, NULL, 0,
                   "{\n\t\"prov\":\t{\n\t\t\"ver\":\t\"v1.1\",\n\t\t\"sec_ver\":\t1,\n\t\t\"sec_patch_ver\":\t0,\n\t\t"
                   "\"cap\":\t[\"no_pop\"]\n\t}\n}",
                   92);
}

static void version_sec0(void **state)
{
    struct wifiprov_device_config cfg;

    (void)state;
    tdev_config(&cfg, TS_SEC0, NULL);
    version_expect(&cfg, cap_scan, 1,
                   "{\n\t\"prov\":\t{\n\t\t\"ver\":\t\"v1.1\",\n\t\t\"sec_ver\":\t0,\n\t\t\"sec_patch_ver\":\t0,\n\t\t"
                   "\"cap\":\t[\"no_sec\", \"wifi_scan\"]\n\t}\n}",
                   105);
    cfg.version_compact = true;
    cfg.prov_ver = "netprov-v1.2";
    version_expect(&cfg, cap_scan, 1,
                   "{\"prov\":{\"ver\":\"netprov-v1.2\",\"sec_ver\":0,\"sec_patch_ver\":0,\"cap\":[\"no_sec\","
                   "\"wifi_scan\"]}}",
                   90);
}

static void version_app_info(void **state)
{
    static const char *const caps[] = {"cloud", "local_ctrl"};
    static const char *const caps2[] = {"x"};
    struct wifiprov_device_config cfg;
    struct wifiprov_device *dev = NULL;

    (void)state;
    tdev_config(&cfg, TS_SEC1_POP, NULL);
    assert_int_equal(wifiprov_device_new(&cfg, &dev), 0);
    assert_int_equal(wifiprov_device_set_app_info(dev, "my_app", "1.345", caps, 2), 0);
    assert_int_equal(wifiprov_device_add_capability(dev, "wifi_scan"), 0);
    assert_string_equal(wifiprov_device_version_json(dev),
                        "{\n\t\"my_app\":\t{\n\t\t\"ver\":\t\"1.345\",\n\t\t\"cap\":\t[\"cloud\", \"local_ctrl\"]\n\t},"
                        "\n\t\"prov\":\t{\n\t\t\"ver\":\t\"v1.1\",\n\t\t\"sec_ver\":\t1,\n\t\t\"sec_patch_ver\":\t0,"
                        "\n\t\t\"cap\":\t[\"wifi_scan\"]\n\t}\n}");
    /* A second label goes after the first; replacing the first keeps its place. */
    assert_int_equal(wifiprov_device_set_app_info(dev, "other", "2", NULL, 0), 0);
    assert_int_equal(wifiprov_device_set_app_info(dev, "my_app", "1.4", caps2, 1), 0);
    /* Duplicate capabilities are stored once. */
    assert_int_equal(wifiprov_device_add_capability(dev, "wifi_scan"), 0);
    assert_int_equal(wifiprov_device_add_capability(dev, "extra"), 0);
    assert_string_equal(wifiprov_device_version_json(dev),
                        "{\n\t\"my_app\":\t{\n\t\t\"ver\":\t\"1.4\",\n\t\t\"cap\":\t[\"x\"]\n\t},"
                        "\n\t\"other\":\t{\n\t\t\"ver\":\t\"2\",\n\t\t\"cap\":\t[]\n\t},"
                        "\n\t\"prov\":\t{\n\t\t\"ver\":\t\"v1.1\",\n\t\t\"sec_ver\":\t1,\n\t\t\"sec_patch_ver\":\t0,"
                        "\n\t\t\"cap\":\t[\"wifi_scan\", \"extra\"]\n\t}\n}");
    assert_int_equal(wifiprov_device_set_app_info(dev, "prov", "1", NULL, 0), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_set_app_info(dev, "", "1", NULL, 0), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_set_app_info(dev, "a", NULL, NULL, 0), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_add_capability(dev, ""), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_add_capability(dev, NULL), WIFIPROV_ERR_INVAL);
    wifiprov_device_free(dev);
}

/* --- tables -------------------------------------------------------------- */

static void new_invalid(void **state)
{
    struct wifiprov_device_config cfg;
    struct wifiprov_device *dev = (struct wifiprov_device *)&cfg;
    struct tcreds cr;

    (void)state;
    tcreds_load(&cr);
    tdev_config(&cfg, TS_SEC2_P1, &cr);
    cfg.sec2_verifier = NULL;
    assert_int_equal(wifiprov_device_new(&cfg, &dev), WIFIPROV_ERR_INVAL);
    assert_null(dev);
    tdev_config(&cfg, TS_SEC2_P1, &cr);
    cfg.sec2_salt_len = 0;
    assert_int_equal(wifiprov_device_new(&cfg, &dev), WIFIPROV_ERR_INVAL);
    tdev_config(&cfg, TS_SEC2_P1, &cr);
    cfg.sec2_verifier_len = 385;
    assert_int_equal(wifiprov_device_new(&cfg, &dev), WIFIPROV_ERR_INVAL);
    tdev_config(&cfg, TS_SEC0, &cr);
    cfg.security = (enum wifiprov_security)7;
    assert_int_equal(wifiprov_device_new(&cfg, &dev), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_new(NULL, &dev), WIFIPROV_ERR_INVAL);
    wifiprov_device_free(NULL);
    tcreds_free(&cr);
}

static void endpoints_table(void **state)
{
    struct wifiprov_device_config cfg;
    struct wifiprov_device *dev = NULL;
    char name33[34], name32[33];
    uint8_t out[64];
    size_t n;

    (void)state;
    memset(name33, 'a', 33);
    name33[33] = '\0';
    memset(name32, 'b', 32);
    name32[32] = '\0';
    tdev_config(&cfg, TS_SEC0, NULL);
    assert_int_equal(wifiprov_device_new(&cfg, &dev), 0);
    assert_int_equal(wifiprov_device_endpoint_count(dev), 2);
    assert_string_equal(wifiprov_device_endpoint_name(dev, 0), "proto-ver");
    assert_string_equal(wifiprov_device_endpoint_name(dev, 1), "prov-session");
    assert_null(wifiprov_device_endpoint_name(dev, 2));

    assert_int_equal(wifiprov_device_add_endpoint(dev, "prov-ctrl", techo_handler, NULL), 0);
    assert_int_equal(wifiprov_device_add_endpoint(dev, "prov-scan", techo_handler, NULL), 0);
    assert_int_equal(wifiprov_device_add_endpoint(dev, "prov-config", techo_handler, NULL), 0);
    assert_int_equal(wifiprov_device_add_endpoint(dev, name32, techo_handler, NULL), 0);
    assert_int_equal(wifiprov_device_add_endpoint(dev, name33, techo_handler, NULL), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_add_endpoint(dev, "", techo_handler, NULL), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_add_endpoint(dev, "a b", techo_handler, NULL), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_add_endpoint(dev, "caf\xc3\xa9", techo_handler, NULL), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_add_endpoint(dev, "prov-scan", techo_handler, NULL), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_add_endpoint(dev, "proto-ver", techo_handler, NULL), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_add_endpoint(dev, "x", NULL, NULL), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_endpoint_count(dev), 6);
    assert_string_equal(wifiprov_device_endpoint_name(dev, 2), "prov-ctrl");
    assert_string_equal(wifiprov_device_endpoint_name(dev, 3), "prov-scan");
    assert_string_equal(wifiprov_device_endpoint_name(dev, 4), "prov-config");
    assert_string_equal(wifiprov_device_endpoint_name(dev, 5), name32);

    assert_int_equal(wifiprov_device_remove_endpoint(dev, "prov-session"), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_remove_endpoint(dev, "proto-ver"), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov_device_remove_endpoint(dev, "nope"), WIFIPROV_ERR_NOT_FOUND);
    assert_int_equal(wifiprov_device_remove_endpoint(dev, "prov-scan"), 0);
    assert_int_equal(wifiprov_device_endpoint_count(dev), 5);
    assert_string_equal(wifiprov_device_endpoint_name(dev, 3), "prov-config");

    /* Exact, case-sensitive names. */
    assert_int_equal(wifiprov_device_session_open(dev, 5), 0);
    assert_int_equal(wifiprov_device_handle(dev, 5, "prov-config", (const uint8_t *)"x", 1, out, sizeof(out), &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(wifiprov_device_handle(dev, 5, "Prov-Config", (const uint8_t *)"x", 1, out, sizeof(out), &n),
                     WIFIPROV_ERR_NOT_FOUND);
    assert_int_equal(wifiprov_device_handle(dev, 5, "prov-scan", (const uint8_t *)"x", 1, out, sizeof(out), &n),
                     WIFIPROV_ERR_NOT_FOUND);
    assert_int_equal(wifiprov_device_handle(dev, 5, "prov-config ", (const uint8_t *)"x", 1, out, sizeof(out), &n),
                     WIFIPROV_ERR_NOT_FOUND);
    wifiprov_device_free(dev);
}

static void sessions_table(void **state)
{
    struct wifiprov_device_config cfg;
    struct wifiprov_device *dev = NULL;
    struct evlog ev;

    (void)state;
    memset(&ev, 0, sizeof(ev));
    tdev_config(&cfg, TS_SEC1_POP, NULL);
    cfg.max_sessions = 3;
    cfg.event_fn = ev_fn;
    cfg.event_ctx = &ev;
    assert_int_equal(wifiprov_device_new(&cfg, &dev), 0);
    assert_int_equal(wifiprov_device_session_count(dev), 0);
    assert_false(wifiprov_device_session_exists(dev, 1));
    assert_int_equal(wifiprov_device_session_open(dev, 1), 0);
    assert_int_equal(wifiprov_device_session_open(dev, 0), 0);
    assert_int_equal(wifiprov_device_session_open(dev, 0xffffffffu), 0);
    assert_int_equal(wifiprov_device_session_count(dev), 3);
    assert_int_equal(wifiprov_device_session_open(dev, 4), WIFIPROV_ERR_TOO_MANY_SESSIONS);
    /* Re-opening an existing id restarts it and takes no new slot. */
    assert_int_equal(wifiprov_device_session_open(dev, 1), 0);
    assert_int_equal(wifiprov_device_session_count(dev), 3);
    assert_int_equal(ev.n[WIFIPROV_DEVICE_EVENT_SESSION_OPENED], 4);
    assert_true(wifiprov_device_session_exists(dev, 0));
    assert_false(wifiprov_device_session_established(dev, 0));
    wifiprov_device_session_close(dev, 0);
    wifiprov_device_session_close(dev, 12345); /* ignored */
    assert_int_equal(ev.n[WIFIPROV_DEVICE_EVENT_SESSION_CLOSED], 1);
    assert_int_equal(ev.last_sid, 0);
    assert_false(wifiprov_device_session_exists(dev, 0));
    assert_int_equal(wifiprov_device_session_open(dev, 4), 0);
    assert_int_equal(wifiprov_device_session_count(dev), 3);
    wifiprov_device_free(dev);
}

static void event_names(void **state)
{
    enum wifiprov_device_event e, f;

    (void)state;
    for (e = WIFIPROV_DEVICE_EVENT_SETUP_OK; e <= WIFIPROV_DEVICE_EVENT_SESSION_CLOSED; e++) {
        assert_non_null(wifiprov_device_event_to_string(e));
        for (f = WIFIPROV_DEVICE_EVENT_SETUP_OK; f < e; f++)
            assert_string_not_equal(wifiprov_device_event_to_string(e), wifiprov_device_event_to_string(f));
    }
}

/* --- handshake errors ---------------------------------------------------- */

static void wrong_credentials(enum tscheme s, const char *pop, const char *user, const char *pass)
{
    struct wifiprov_client_config cc;
    struct wifiprov_client *c = NULL;
    struct tloop l;
    struct fx f;

    fx_setup(&f, s, 0);
    memset(&l, 0, sizeof(l));
    l.dev = f.dev;
    l.sid = SID_T;
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    tcli_config(&cc, s, &l);
    cc.pop = pop;
    if (user)
        cc.username = user;
    if (pass)
        cc.password = pass;
    assert_int_equal(wifiprov_client_new(&cc, &c), 0);
    assert_int_equal(wifiprov_client_handshake(c), WIFIPROV_ERR_AUTH);
    assert_int_equal(l.last_err, WIFIPROV_ERR_AUTH);
    assert_int_equal(f.ev.n[WIFIPROV_DEVICE_EVENT_CREDENTIALS_MISMATCH], 1);
    assert_int_equal(f.ev.n[WIFIPROV_DEVICE_EVENT_SETUP_OK], 0);
    assert_false(wifiprov_device_session_established(f.dev, SID_T));
    assert_false(wifiprov_client_established(c));
    fx_witness_ok(&f);
    wifiprov_client_free(c);

    /* The same session id accepts a correct handshake afterwards. */
    c = fx_client(&f, &l, SID_T, s);
    assert_int_equal(wifiprov_client_handshake(c), 0);
    techo_check(c, EP_DATA, "ok now");
    assert_int_equal(f.ev.n[WIFIPROV_DEVICE_EVENT_SETUP_OK], 1);
    wifiprov_client_free(c);
    fx_teardown(&f);
}

static void neg_wrong_pop(void **state)
{
    (void)state;
    wrong_credentials(TS_SEC1_POP, "abcd1235", NULL, NULL);
    wrong_credentials(TS_SEC1_POP, NULL, NULL, NULL);
}

static void neg_wrong_password(void **state)
{
    (void)state;
    wrong_credentials(TS_SEC2_P1, NULL, NULL, "abcd12345");
}

static void neg_wrong_username(void **state)
{
    (void)state;
    wrong_credentials(TS_SEC2_P0, NULL, "wifiprow", NULL);
}

static size_t pack_session(SessionData *sd, uint8_t *out, size_t cap)
{
    size_t n = session_data__get_packed_size(sd);

    assert_true(n <= cap);
    return session_data__pack(sd, out);
}

static size_t sec1_msg(int msg, const uint8_t *key, size_t key_len, uint8_t *out, size_t cap)
{
    SessionData sd = SESSION_DATA__INIT;
    Sec1Payload p = SEC1_PAYLOAD__INIT;
    SessionCmd0 c0 = SESSION_CMD0__INIT;
    SessionCmd1 c1 = SESSION_CMD1__INIT;

    sd.sec_ver = SEC_SCHEME_VERSION__SecScheme1;
    sd.proto_case = SESSION_DATA__PROTO_SEC1;
    sd.sec1 = &p;
    p.msg = (Sec1MsgType)msg;
    if (msg == 0) {
        p.payload_case = SEC1_PAYLOAD__PAYLOAD_SC0;
        p.sc0 = &c0;
        c0.client_pubkey.data = (uint8_t *)key;
        c0.client_pubkey.len = key_len;
    } else {
        p.payload_case = SEC1_PAYLOAD__PAYLOAD_SC1;
        p.sc1 = &c1;
        c1.client_verify_data.data = (uint8_t *)key;
        c1.client_verify_data.len = key_len;
    }
    return pack_session(&sd, out, cap);
}

static size_t sec2_msg(int msg, const char *user, const uint8_t *key, size_t key_len, uint8_t *out, size_t cap)
{
    SessionData sd = SESSION_DATA__INIT;
    Sec2Payload p = SEC2_PAYLOAD__INIT;
    S2SessionCmd0 c0 = S2_SESSION_CMD0__INIT;
    S2SessionCmd1 c1 = S2_SESSION_CMD1__INIT;

    sd.sec_ver = SEC_SCHEME_VERSION__SecScheme2;
    sd.proto_case = SESSION_DATA__PROTO_SEC2;
    sd.sec2 = &p;
    p.msg = (Sec2MsgType)msg;
    if (msg == 0) {
        p.payload_case = SEC2_PAYLOAD__PAYLOAD_SC0;
        p.sc0 = &c0;
        c0.client_username.data = (uint8_t *)user;
        c0.client_username.len = strlen(user);
        c0.client_pubkey.data = (uint8_t *)key;
        c0.client_pubkey.len = key_len;
    } else {
        p.payload_case = SEC2_PAYLOAD__PAYLOAD_SC1;
        p.sc1 = &c1;
        c1.client_proof.data = (uint8_t *)key;
        c1.client_proof.len = key_len;
    }
    return pack_session(&sd, out, cap);
}

/* A raw client security session, to step a handshake by hand. */
static struct wifiprov_sec_session *raw_client(enum tscheme s)
{
    struct wifiprov_sec_params p;
    struct wifiprov_sec_session *ss = NULL;

    memset(&p, 0, sizeof(p));
    p.security = tscheme_security(s);
    p.role = WIFIPROV_SEC_ROLE_CLIENT;
    if (s == TS_SEC1_POP) {
        p.pop = (const uint8_t *)T_POP;
        p.pop_len = strlen(T_POP);
    }
    p.username = (const uint8_t *)T_USER;
    p.username_len = strlen(T_USER);
    p.password = (const uint8_t *)T_PASS;
    p.password_len = strlen(T_PASS);
    p.sec_patch_ver = s == TS_SEC2_P1;
    p.random = sys_random;
    assert_int_equal(wifiprov__sec_session_new(&p, &ss), 0);
    return ss;
}

static int dev_send(struct fx *f, uint32_t sid, const char *ep, const uint8_t *m, size_t n, uint8_t *out,
                    size_t *out_len)
{
    return wifiprov_device_handle(f->dev, sid, ep, m, n, out, WIFIPROV_REPLY_CAP, out_len);
}

static void neg_bad_lengths(void **state)
{
    static uint8_t key[400], out[WIFIPROV_REPLY_CAP], msg[1024];
    struct wifiprov_sec_session *rc;
    size_t n, out_len;
    struct fx f;

    (void)state;
    memset(key, 0x55, sizeof(key));

    /* sec1: Cmd0 with a 31- and 33-byte key, Cmd1 with a 31-byte verify token. */
    fx_setup(&f, TS_SEC1_POP, 0);
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    n = sec1_msg(0, key, 31, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_INVAL);
    assert_int_equal(out_len, 0);
    n = sec1_msg(0, key, 33, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_INVAL);
    fx_witness_ok(&f);
    rc = raw_client(TS_SEC1_POP);
    assert_int_equal(wifiprov__sec_client_start(rc, msg, sizeof(msg), &n), 0);
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), 0);
    n = sec1_msg(2, key, 31, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_INVAL);
    assert_false(wifiprov_device_session_established(f.dev, SID_T));
    /* Garbage and the wrong scheme. */
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, (const uint8_t *)"\xff\xff\xff", 3, out, &out_len),
                     WIFIPROV_ERR_PROTO);
    n = sec2_msg(0, T_USER, key, 384, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_PROTO);
    fx_witness_ok(&f);
    wifiprov__sec_session_free(rc);
    fx_teardown(&f);

    /* sec2: A of 385 or 0 bytes (fewer than 384 is a number, see test_sec), an empty username, a proof of 0 or
     * 65 bytes (63 is compared left-padded: a mismatch). */
    fx_setup(&f, TS_SEC2_P1, 0);
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    n = sec2_msg(0, T_USER, key, 0, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_INVAL);
    assert_int_equal(f.ev.n[WIFIPROV_DEVICE_EVENT_INVALID_PARAMS], 1);
    n = sec2_msg(0, T_USER, key, 385, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_INVAL);
    assert_int_equal(f.ev.n[WIFIPROV_DEVICE_EVENT_INVALID_PARAMS], 2);
    n = sec2_msg(0, "", key, 384, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_INVAL);
    assert_int_equal(f.ev.n[WIFIPROV_DEVICE_EVENT_INVALID_PARAMS], 3);
    fx_witness_ok(&f);
    rc = raw_client(TS_SEC2_P1);
    assert_int_equal(wifiprov__sec_client_start(rc, msg, sizeof(msg), &n), 0);
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), 0);
    n = sec2_msg(2, NULL, key, 65, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_INVAL);
    assert_false(wifiprov_device_session_established(f.dev, SID_T));
    assert_int_equal(wifiprov__sec_client_start(rc, msg, sizeof(msg), &n), 0);
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), 0);
    n = sec2_msg(2, NULL, key, 0, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__sec_client_start(rc, msg, sizeof(msg), &n), 0);
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), 0);
    n = sec2_msg(2, NULL, key, 63, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_AUTH);
    assert_int_equal(f.ev.n[WIFIPROV_DEVICE_EVENT_CREDENTIALS_MISMATCH], 1);
    assert_false(wifiprov_device_session_established(f.dev, SID_T));
    n = sec1_msg(0, key, 32, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_PROTO);
    assert_int_equal(f.ev.n[WIFIPROV_DEVICE_EVENT_SETUP_OK], 0);
    fx_witness_ok(&f);
    wifiprov__sec_session_free(rc);
    fx_teardown(&f);
}

static void cmd1_first(enum tscheme s)
{
    static uint8_t key[64], out[WIFIPROV_REPLY_CAP], msg[256];
    size_t n, out_len;
    struct fx f;

    memset(key, 0x33, sizeof(key));
    fx_setup(&f, s, 0);
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    if (tscheme_security(s) == WIFIPROV_SECURITY_1)
        n = sec1_msg(2, key, 32, msg, sizeof(msg));
    else
        n = sec2_msg(2, NULL, key, 64, msg, sizeof(msg));
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_STATE);
    assert_int_equal(out_len, 0);
    /* Cmd1 on the witness session, which is established, is just as wrong. */
    assert_int_equal(dev_send(&f, SID_W, WIFIPROV_EP_SESSION, msg, n, out, &out_len), WIFIPROV_ERR_STATE);
    fx_teardown(&f);
}

static void neg_cmd1_before_cmd0(void **state)
{
    (void)state;
    cmd1_first(TS_SEC1_POP);
    cmd1_first(TS_SEC2_P1);
}

static void repeated_cmd0(enum tscheme s)
{
    static uint8_t out[WIFIPROV_REPLY_CAP], msg[WIFIPROV_REPLY_CAP], enc[64], dec[64];
    struct wifiprov_sec_session *a, *b;
    size_t n, out_len, m;
    struct fx f;

    fx_setup(&f, s, 0);
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    a = raw_client(s);
    b = raw_client(s);
    /* Cmd0 from a, then Cmd0 from b restarts the session; b finishes. */
    assert_int_equal(wifiprov__sec_client_start(a, msg, sizeof(msg), &n), 0);
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), 0);
    assert_int_equal(wifiprov__sec_client_start(b, msg, sizeof(msg), &n), 0);
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), 0);
    assert_int_equal(wifiprov__sec_client_step(b, out, out_len, msg, sizeof(msg), &n), 0);
    assert_true(n > 0);
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), 0);
    assert_int_equal(wifiprov__sec_client_step(b, out, out_len, msg, sizeof(msg), &n), 0);
    assert_int_equal(n, 0);
    assert_true(wifiprov__sec_established(b));
    assert_true(wifiprov_device_session_established(f.dev, SID_T));
    assert_int_equal(wifiprov__sec_encrypt(b, (const uint8_t *)"hi", 2, enc, sizeof(enc), &m), 0);
    assert_int_equal(dev_send(&f, SID_T, EP_DATA, enc, m, out, &out_len), 0);
    assert_int_equal(wifiprov__sec_decrypt(b, out, out_len, dec, sizeof(dec), &m), 0);
    assert_int_equal(m, 7);
    assert_memory_equal(dec, "echo:hi", 7);
    /* A Cmd0 on an established session restarts it too: requests need a new handshake. */
    assert_int_equal(wifiprov__sec_client_start(a, msg, sizeof(msg), &n), 0);
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), 0);
    assert_false(wifiprov_device_session_established(f.dev, SID_T));
    assert_int_equal(wifiprov__sec_encrypt(b, (const uint8_t *)"hi", 2, enc, sizeof(enc), &m), 0);
    assert_int_equal(dev_send(&f, SID_T, EP_DATA, enc, m, out, &out_len), WIFIPROV_ERR_STATE);
    fx_witness_ok(&f);
    wifiprov__sec_session_free(a);
    wifiprov__sec_session_free(b);
    fx_teardown(&f);
}

static void neg_repeated_cmd0(void **state)
{
    (void)state;
    repeated_cmd0(TS_SEC1_POP);
    repeated_cmd0(TS_SEC2_P1);
}

/* --- request errors ------------------------------------------------------ */

/* A transport that damages one request byte, then (optionally) delivers the original. */
struct tamper {
    struct tloop l;
    long flip;    /* index to flip; negative = from the end; 0x7fffffff = none */
    bool resend;
    int damaged_err;
};

static int tamper_xfer(void *ctx, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp, size_t cap,
                       size_t *resp_len)
{
    struct tamper *t = ctx;
    uint8_t bad[WIFIPROV_MAX_MSG];
    size_t i;

    if (t->flip == 0x7fffffff)
        return tloop_xfer(&t->l, ep, req, req_len, resp, cap, resp_len);
    assert_true(req_len <= sizeof(bad) && req_len > 0);
    memcpy(bad, req, req_len);
    i = t->flip >= 0 ? (size_t)t->flip : req_len - (size_t)(-t->flip);
    bad[i] ^= 0x01;
    t->damaged_err = wifiprov_device_handle(t->l.dev, t->l.sid, ep, bad, req_len, resp, cap, resp_len);
    t->flip = 0x7fffffff;
    if (!t->resend)
        return t->damaged_err ? WIFIPROV_ERR_TRANSPORT : 0;
    return tloop_xfer(&t->l, ep, req, req_len, resp, cap, resp_len);
}

static void tamper_case(long flip, int expect)
{
    struct wifiprov_client_config cc;
    struct wifiprov_client *c = NULL;
    struct tamper t;
    struct fx f;

    fx_setup(&f, TS_SEC2_P1, 0);
    memset(&t, 0, sizeof(t));
    t.flip = 0x7fffffff;
    t.l.dev = f.dev;
    t.l.sid = SID_T;
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    tcli_config(&cc, TS_SEC2_P1, &t.l);
    cc.xfer = tamper_xfer;
    cc.xfer_ctx = &t;
    assert_int_equal(wifiprov_client_new(&cc, &c), 0);
    assert_int_equal(wifiprov_client_handshake(c), 0);
    techo_check(c, EP_DATA, "first");
    /* The damaged copy fails authentication and does not move the nonce counter:
     * the original, delivered next, is accepted. */
    t.flip = flip;
    t.resend = true;
    techo_check(c, EP_DATA, "second");
    assert_int_equal(t.damaged_err, expect);
    techo_check(c, EP_DATA, "third");
    fx_witness_ok(&f);
    wifiprov_client_free(c);
    fx_teardown(&f);
}

static void neg_tampered(void **state)
{
    (void)state;
    tamper_case(0, WIFIPROV_ERR_CRYPTO);  /* ciphertext */
    tamper_case(-1, WIFIPROV_ERR_CRYPTO); /* tag */
}

static void neg_short_ciphertext(void **state)
{
    static uint8_t out[WIFIPROV_REPLY_CAP];
    size_t out_len;
    struct fx f;

    (void)state;
    fx_setup(&f, TS_SEC2_P1, 0);
    /* Shorter than a tag. */
    assert_int_equal(dev_send(&f, SID_W, EP_DATA, (const uint8_t *)"0123456789abcde", 15, out, &out_len),
                     WIFIPROV_ERR_PROTO);
    assert_int_equal(dev_send(&f, SID_W, EP_DATA, NULL, 0, out, &out_len), WIFIPROV_ERR_PROTO);
    fx_witness_ok(&f);
    fx_teardown(&f);
}

static void before_established(enum tscheme s)
{
    static uint8_t out[WIFIPROV_REPLY_CAP], msg[WIFIPROV_REPLY_CAP];
    struct wifiprov_sec_session *rc;
    size_t n, out_len;
    struct fx f;

    fx_setup(&f, s, 0);
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    memset(msg, 0x42, 40);
    assert_int_equal(dev_send(&f, SID_T, EP_DATA, msg, 40, out, &out_len), WIFIPROV_ERR_STATE);
    assert_int_equal(out_len, 0);
    /* Half-way through the handshake is no better. */
    rc = raw_client(s);
    assert_int_equal(wifiprov__sec_client_start(rc, msg, sizeof(msg), &n), 0);
    assert_int_equal(dev_send(&f, SID_T, WIFIPROV_EP_SESSION, msg, n, out, &out_len), 0);
    memset(msg, 0x42, 40);
    assert_int_equal(dev_send(&f, SID_T, EP_DATA, msg, 40, out, &out_len), WIFIPROV_ERR_STATE);
    fx_witness_ok(&f);
    wifiprov__sec_session_free(rc);
    fx_teardown(&f);
}

static void neg_before_established(void **state)
{
    static uint8_t out[64];
    size_t out_len;
    struct fx f;

    (void)state;
    before_established(TS_SEC1_POP);
    before_established(TS_SEC2_P0);
    /* sec0 needs no handshake, like ESP-IDF. */
    fx_setup(&f, TS_SEC0, 0);
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    assert_int_equal(dev_send(&f, SID_T, EP_DATA, (const uint8_t *)"abc", 3, out, &out_len), 0);
    assert_int_equal(out_len, 8);
    assert_memory_equal(out, "echo:abc", 8);
    fx_teardown(&f);
}

static void neg_unknown_endpoint_session(void **state)
{
    static uint8_t out[WIFIPROV_REPLY_CAP];
    size_t out_len = 99;
    struct fx f;

    (void)state;
    fx_setup(&f, TS_SEC2_P1, 0);
    assert_int_equal(dev_send(&f, SID_W, "custom-dat", (const uint8_t *)"x", 1, out, &out_len),
                     WIFIPROV_ERR_NOT_FOUND);
    assert_int_equal(out_len, 0);
    assert_int_equal(dev_send(&f, 999, "nope", (const uint8_t *)"x", 1, out, &out_len), WIFIPROV_ERR_NOT_FOUND);
    /* An id the transport never opened (a session id mismatch). */
    assert_int_equal(dev_send(&f, 999, EP_DATA, (const uint8_t *)"x", 1, out, &out_len), WIFIPROV_ERR_NO_SESSION);
    assert_int_equal(dev_send(&f, 999, WIFIPROV_EP_SESSION, (const uint8_t *)"x", 1, out, &out_len),
                     WIFIPROV_ERR_NO_SESSION);
    assert_int_equal(dev_send(&f, SID_W + 1, EP_DATA, (const uint8_t *)"x", 1, out, &out_len),
                     WIFIPROV_ERR_NO_SESSION);
    fx_witness_ok(&f);
    /* A closed session is gone. */
    wifiprov_device_session_close(f.dev, SID_W);
    assert_int_equal(dev_send(&f, SID_W, EP_DATA, (const uint8_t *)"x", 1, out, &out_len), WIFIPROV_ERR_NO_SESSION);
    assert_int_equal(f.ev.n[WIFIPROV_DEVICE_EVENT_SESSION_CLOSED], 1);
    fx_teardown(&f);
}

static void neg_oversized(void **state)
{
    static uint8_t big[WIFIPROV_MAX_MSG + 1], out[WIFIPROV_REPLY_CAP];
    size_t out_len;
    struct fx f;

    (void)state;
    memset(big, 0x10, sizeof(big));
    fx_setup(&f, TS_SEC2_P1, 0);
    assert_int_equal(dev_send(&f, SID_W, WIFIPROV_EP_SESSION, big, sizeof(big), out, &out_len), WIFIPROV_ERR_TOO_BIG);
    assert_int_equal(dev_send(&f, SID_W, EP_DATA, big, sizeof(big), out, &out_len), WIFIPROV_ERR_TOO_BIG);
    assert_int_equal(dev_send(&f, SID_W, WIFIPROV_EP_VERSION, big, sizeof(big), out, &out_len), WIFIPROV_ERR_TOO_BIG);
    assert_int_equal(dev_send(&f, 4242, "whatever", big, sizeof(big), out, &out_len), WIFIPROV_ERR_TOO_BIG);
    /* 4096 bytes are fine. */
    assert_int_equal(dev_send(&f, SID_W, WIFIPROV_EP_VERSION, big, WIFIPROV_MAX_MSG, out, &out_len), 0);
    fx_witness_ok(&f);
    fx_teardown(&f);
}

static void neg_too_many_sessions(void **state)
{
    struct wifiprov_client *c;
    struct tloop l;
    struct fx f;

    (void)state;
    memset(&l, 0, sizeof(l));
    fx_setup(&f, TS_SEC1_POP, 2);
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T + 1), WIFIPROV_ERR_TOO_MANY_SESSIONS);
    assert_int_equal(wifiprov_device_session_count(f.dev), 2);
    c = fx_client(&f, &l, SID_T, TS_SEC1_POP);
    assert_int_equal(wifiprov_client_handshake(c), 0);
    techo_check(c, EP_DATA, "second session");
    fx_witness_ok(&f);
    wifiprov_client_free(c);
    fx_teardown(&f);
}

static int fail_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    unsigned *calls = ctx;

    (void)req;
    (void)out;
    (void)cap;
    (*calls)++;
    *out_len = 3;
    return WIFIPROV_ERR_IO;
}

static void neg_handler_error(void **state)
{
    enum tscheme schemes[] = {TS_SEC0, TS_SEC1_POP, TS_SEC2_P1};
    uint8_t resp[64];
    size_t i, n = 7;

    (void)state;
    for (i = 0; i < 3; i++) {
        struct wifiprov_client *c;
        struct tloop l;
        unsigned calls = 0;
        struct fx f;

        memset(&l, 0, sizeof(l));
        fx_setup(&f, schemes[i], 0);
        assert_int_equal(wifiprov_device_add_endpoint(f.dev, "failing", fail_handler, &calls), 0);
        assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
        c = fx_client(&f, &l, SID_T, schemes[i]);
        assert_int_equal(wifiprov_client_handshake(c), 0);
        assert_int_equal(wifiprov_client_request(c, "failing", (const uint8_t *)"x", 1, resp, sizeof(resp), &n),
                         WIFIPROV_ERR_TRANSPORT);
        assert_int_equal(l.last_err, WIFIPROV_ERR_IO);
        assert_int_equal(n, 0);
        assert_int_equal(calls, 1);
        /* Neither side consumed reply keystream / nonces: the session goes on. */
        techo_check(c, EP_DATA, "after a failed handler");
        fx_witness_ok(&f);
        wifiprov_client_free(c);
        fx_teardown(&f);
    }
}

static int odd_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    (void)out;
    (void)req;
    /* ctx selects the misbehaviour: a positive return, or a reply longer than the buffer. */
    if (*(int *)ctx == 0)
        return 1;
    *out_len = cap + 1;
    return 0;
}

static void neg_handler_misbehaves(void **state)
{
    static uint8_t out[WIFIPROV_REPLY_CAP];
    int positive = 0, too_long = 1;
    size_t n = 5;
    struct fx f;

    (void)state;
    fx_setup(&f, TS_SEC0, 0);
    assert_int_equal(wifiprov_device_add_endpoint(f.dev, "odd1", odd_handler, &positive), 0);
    assert_int_equal(wifiprov_device_add_endpoint(f.dev, "odd2", odd_handler, &too_long), 0);
    assert_int_equal(dev_send(&f, SID_W, "odd1", (const uint8_t *)"x", 1, out, &n), WIFIPROV_ERR_INVAL);
    assert_int_equal(n, 0);
    assert_int_equal(dev_send(&f, SID_W, "odd2", (const uint8_t *)"x", 1, out, &n), WIFIPROV_ERR_NOSPC);
    assert_int_equal(n, 0);
    fx_witness_ok(&f);
    fx_teardown(&f);

    /* A reply buffer smaller than the cipher's overhead (sec2: the 16-byte tag). */
    fx_setup(&f, TS_SEC2_P1, 0);
    assert_int_equal(wifiprov_device_handle(f.dev, SID_W, EP_DATA, out, 20, out, 15, &n), WIFIPROV_ERR_NOSPC);
    /* ... refused before decrypting, so the session is still in step. */
    fx_witness_ok(&f);
    fx_witness_ok(&f);
    fx_teardown(&f);
}

/* --- PENDING ------------------------------------------------------------- */

struct pend {
    struct fx *f;
    bool ready;
    unsigned calls, resumed_calls;
    unsigned wakes;
    uint32_t woken_sid;
    uint8_t first[64];
    size_t first_len;
};

static int pend_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    struct pend *p = ctx;

    p->calls++;
    if (!req->resumed) {
        assert_true(req->len <= sizeof(p->first));
        memcpy(p->first, req->data, req->len);
        p->first_len = req->len;
        return WIFIPROV_ERR_PENDING;
    }
    /* The stored request comes back unchanged. */
    assert_int_equal(req->len, p->first_len);
    assert_memory_equal(req->data, p->first, req->len);
    if (!p->ready)
        return WIFIPROV_ERR_PENDING;
    p->resumed_calls++;
    return techo_handler(NULL, req, out, cap, out_len);
}

static void pend_wake(void *ctx, uint32_t sid)
{
    struct pend *p = ctx;

    p->wakes++;
    p->woken_sid = sid;
}

/* A transport that waits for a PENDING reply, checking the rules meanwhile. */
struct ploop {
    struct tloop l;
    struct pend *p;
    bool cancel;
};

static int pend_xfer(void *ctx, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp, size_t cap,
                     size_t *resp_len)
{
    struct ploop *pl = ctx;
    struct pend *p = pl->p;
    struct wifiprov_device *dev = pl->l.dev;
    uint8_t junk[WIFIPROV_REPLY_CAP];
    size_t jn = 5;
    int rc;

    rc = wifiprov_device_handle(dev, pl->l.sid, ep, req, req_len, resp, cap, resp_len);
    if (rc != WIFIPROV_ERR_PENDING)
        return rc ? WIFIPROV_ERR_TRANSPORT : 0;
    assert_int_equal(*resp_len, 0);
    /* While pending: every other request on the session is refused without touching the cipher. */
    assert_int_equal(wifiprov_device_handle(dev, pl->l.sid, ep, req, req_len, junk, sizeof(junk), &jn),
                     WIFIPROV_ERR_STATE);
    assert_int_equal(jn, 0);
    assert_int_equal(wifiprov_device_handle(dev, pl->l.sid, EP_DATA, req, req_len, junk, sizeof(junk), &jn),
                     WIFIPROV_ERR_STATE);
    assert_int_equal(wifiprov_device_handle(dev, pl->l.sid, WIFIPROV_EP_SESSION, req, req_len, junk, sizeof(junk),
                                            &jn),
                     WIFIPROV_ERR_STATE);
    /* ... while other sessions carry on. */
    fx_witness_ok(p->f);
    if (pl->cancel) {
        wifiprov_device_cancel_pending(dev, pl->l.sid);
        p->wakes = 0;
        wifiprov_device_wake(dev);
        assert_int_equal(p->wakes, 0);
        assert_int_equal(wifiprov_device_resume(dev, pl->l.sid, resp, cap, resp_len), WIFIPROV_ERR_STATE);
        return WIFIPROV_ERR_TRANSPORT;
    }
    /* Not ready yet: woken, resumed, still pending. */
    p->wakes = 0;
    wifiprov_device_wake(dev);
    assert_int_equal(p->wakes, 1);
    assert_int_equal(p->woken_sid, pl->l.sid);
    assert_int_equal(wifiprov_device_resume(dev, pl->l.sid, resp, cap, resp_len), WIFIPROV_ERR_PENDING);
    p->ready = true;
    wifiprov_device_wake(dev);
    assert_int_equal(p->wakes, 2);
    rc = wifiprov_device_resume(dev, pl->l.sid, resp, cap, resp_len);
    p->ready = false;
    if (rc)
        return WIFIPROV_ERR_TRANSPORT;
    /* Nothing is pending any more. */
    assert_int_equal(wifiprov_device_resume(dev, pl->l.sid, junk, sizeof(junk), &jn), WIFIPROV_ERR_STATE);
    return 0;
}

static void pending_case(enum tscheme s, bool cancel)
{
    struct wifiprov_client_config cc;
    struct wifiprov_client *c = NULL;
    struct ploop pl;
    struct pend p;
    struct fx f;

    fx_setup(&f, s, 0);
    memset(&p, 0, sizeof(p));
    memset(&pl, 0, sizeof(pl));
    p.f = &f;
    pl.p = &p;
    pl.cancel = cancel;
    pl.l.dev = f.dev;
    pl.l.sid = SID_T;
    /* The fixture's device has no wake_fn; make one with it. */
    wifiprov_client_free(f.witness);
    wifiprov_device_free(f.dev);
    {
        struct wifiprov_device_config cfg;
        struct wifiprov_client_config wc;

        tdev_config(&cfg, s, &f.cr);
        cfg.wake_fn = pend_wake;
        cfg.wake_ctx = &p;
        cfg.event_fn = ev_fn;
        cfg.event_ctx = &f.ev;
        assert_int_equal(wifiprov_device_new(&cfg, &f.dev), 0);
        assert_int_equal(wifiprov_device_add_endpoint(f.dev, EP_DATA, techo_handler, NULL), 0);
        assert_int_equal(wifiprov_device_add_endpoint(f.dev, EP_SLOW, pend_handler, &p), 0);
        f.wloop.dev = f.dev;
        assert_int_equal(wifiprov_device_session_open(f.dev, SID_W), 0);
        tcli_config(&wc, s, &f.wloop);
        assert_int_equal(wifiprov_client_new(&wc, &f.witness), 0);
        assert_int_equal(wifiprov_client_handshake(f.witness), 0);
    }
    pl.l.dev = f.dev;
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    tcli_config(&cc, s, &pl.l);
    cc.xfer = pend_xfer;
    cc.xfer_ctx = &pl;
    assert_int_equal(wifiprov_client_new(&cc, &c), 0);
    assert_int_equal(wifiprov_client_handshake(c), 0);
    if (!cancel) {
        techo_check(c, EP_SLOW, "slow one");
        assert_int_equal(p.resumed_calls, 1);
        assert_int_equal(p.calls, 3);
        techo_check(c, EP_SLOW, "slow two");
        assert_int_equal(p.resumed_calls, 2);
    } else {
        uint8_t resp[64];
        size_t n = 0;

        assert_int_equal(wifiprov_client_request(c, EP_SLOW, (const uint8_t *)"dropped", 7, resp, sizeof(resp), &n),
                         WIFIPROV_ERR_TRANSPORT);
        assert_int_equal(p.calls, 1);
        assert_int_equal(p.resumed_calls, 0);
        assert_true(wifiprov_device_session_exists(f.dev, SID_T));
        /* The request consumed its share of the cipher on both sides and no reply was
         * produced, so this client and device are still in step. */
    }
    techo_check(c, EP_DATA, "quick");
    fx_witness_ok(&f);
    wifiprov_client_free(c);
    fx_teardown(&f);
}

static void pending_resume(void **state)
{
    (void)state;
    pending_case(TS_SEC0, false);
    pending_case(TS_SEC1_POP, false);
    pending_case(TS_SEC2_P1, false);
}

static void pending_cancel(void **state)
{
    (void)state;
    pending_case(TS_SEC0, true);
    pending_case(TS_SEC1_NOPOP, true);
    pending_case(TS_SEC2_P1, true);
}

static void pending_close_and_remove(void **state)
{
    static uint8_t out[WIFIPROV_REPLY_CAP];
    struct pend p;
    size_t n;
    struct fx f;

    (void)state;
    memset(&p, 0, sizeof(p));
    fx_setup(&f, TS_SEC0, 0);
    p.f = &f;
    assert_int_equal(wifiprov_device_add_endpoint(f.dev, EP_SLOW, pend_handler, &p), 0);
    /* Closing a session with a pending request frees it (ASan checks). */
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    assert_int_equal(dev_send(&f, SID_T, EP_SLOW, (const uint8_t *)"a", 1, out, &n), WIFIPROV_ERR_PENDING);
    wifiprov_device_session_close(f.dev, SID_T);
    /* Re-opening drops the pending request too. */
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    assert_int_equal(dev_send(&f, SID_T, EP_SLOW, (const uint8_t *)"b", 1, out, &n), WIFIPROV_ERR_PENDING);
    assert_int_equal(wifiprov_device_session_open(f.dev, SID_T), 0);
    assert_int_equal(wifiprov_device_resume(f.dev, SID_T, out, sizeof(out), &n), WIFIPROV_ERR_STATE);
    /* Removing the endpoint while a request waits: resume says NOT_FOUND. */
    assert_int_equal(dev_send(&f, SID_T, EP_SLOW, (const uint8_t *)"c", 1, out, &n), WIFIPROV_ERR_PENDING);
    assert_int_equal(wifiprov_device_remove_endpoint(f.dev, EP_SLOW), 0);
    assert_int_equal(wifiprov_device_resume(f.dev, SID_T, out, sizeof(out), &n), WIFIPROV_ERR_NOT_FOUND);
    assert_int_equal(dev_send(&f, SID_T, EP_DATA, (const uint8_t *)"d", 1, out, &n), 0);
    assert_int_equal(wifiprov_device_resume(f.dev, 4711, out, sizeof(out), &n), WIFIPROV_ERR_NO_SESSION);
    /* A pending request at free time is wiped and freed. */
    assert_int_equal(wifiprov_device_add_endpoint(f.dev, EP_SLOW, pend_handler, &p), 0);
    assert_int_equal(dev_send(&f, SID_T, EP_SLOW, (const uint8_t *)"e", 1, out, &n), WIFIPROV_ERR_PENDING);
    fx_witness_ok(&f);
    fx_teardown(&f);
}

/* --- allocation failures ------------------------------------------------- */

static struct {
    long count;   /* allocations attempted */
    long fail_at; /* the one that fails (0 = none) */
    long live;    /* blocks not freed */
} ac;

static void *ac_malloc(size_t n)
{
    void *p;

    if (++ac.count == ac.fail_at)
        return NULL;
    p = malloc(n);
    if (p)
        ac.live++;
    return p;
}

static void *ac_calloc(size_t n, size_t size)
{
    void *p;

    if (++ac.count == ac.fail_at)
        return NULL;
    p = calloc(n, size);
    if (p)
        ac.live++;
    return p;
}

static void *ac_realloc(void *old, size_t n)
{
    void *p;

    if (++ac.count == ac.fail_at)
        return NULL;
    p = realloc(old, n);
    if (p && !old)
        ac.live++;
    return p;
}

static void ac_free(void *p)
{
    if (p)
        ac.live--;
    free(p);
}

/* Creates a sec2 device and a client, runs a handshake and one request. */
static int alloc_scenario(const struct tcreds *cr)
{
    struct wifiprov_device_config cfg;
    struct wifiprov_client_config cc;
    struct wifiprov_device *dev = NULL;
    struct wifiprov_client *c = NULL;
    uint8_t resp[64];
    size_t n = 0;
    struct tloop l;
    int rc;

    memset(&l, 0, sizeof(l));
    tdev_config(&cfg, TS_SEC2_P1, cr);
    rc = wifiprov_device_new(&cfg, &dev);
    if (rc)
        goto out;
    rc = wifiprov_device_add_capability(dev, "wifi_scan");
    if (rc)
        goto out;
    rc = wifiprov_device_add_endpoint(dev, EP_DATA, techo_handler, NULL);
    if (rc)
        goto out;
    rc = wifiprov_device_session_open(dev, SID_T);
    if (rc)
        goto out;
    l.dev = dev;
    l.sid = SID_T;
    tcli_config(&cc, TS_SEC2_P1, &l);
    rc = wifiprov_client_new(&cc, &c);
    if (rc)
        goto out;
    rc = wifiprov_client_handshake(c);
    if (rc)
        goto out;
    rc = wifiprov_client_request(c, EP_DATA, (const uint8_t *)"ping", 4, resp, sizeof(resp), &n);
    if (rc)
        goto out;
    if (n != 9 || memcmp(resp, "echo:ping", 9) != 0)
        rc = WIFIPROV_ERR_PROTO;
out:
    wifiprov_client_free(c);
    wifiprov_device_free(dev);
    return rc;
}

/* Device set-up paths that allocate: capabilities, app labels, endpoints, sessions. */
static int alloc_scenario_setup(void)
{
    static const char *const caps[] = {"cloud", "local_ctrl"};
    struct wifiprov_device_config cfg;
    struct wifiprov_device *dev = NULL;
    uint8_t out[512];
    size_t n = 0;
    int rc;

    tdev_config(&cfg, TS_SEC1_NOPOP, NULL);
    cfg.prov_ver = "v1.1";
    rc = wifiprov_device_new(&cfg, &dev);
    if (!rc)
        rc = wifiprov_device_add_capability(dev, "wifi_scan");
    if (!rc)
        rc = wifiprov_device_set_app_info(dev, "my_app", "1.0", caps, 2);
    if (!rc)
        rc = wifiprov_device_set_app_info(dev, "my_app", "1.1", caps, 1);
    if (!rc)
        rc = wifiprov_device_set_app_info(dev, "other", "2", NULL, 0);
    if (!rc)
        rc = wifiprov_device_add_capability(dev, "more");
    for (n = 0; !rc && n < 10; n++) {
        char name[8];

        snprintf(name, sizeof(name), "ep%zu", n);
        rc = wifiprov_device_add_endpoint(dev, name, techo_handler, NULL);
    }
    if (!rc)
        rc = wifiprov_device_session_open(dev, 1);
    if (!rc)
        rc = wifiprov_device_session_open(dev, 2);
    if (!rc)
        rc = wifiprov_device_handle(dev, 1, WIFIPROV_EP_VERSION, (const uint8_t *)"-", 1, out, sizeof(out), &n);
    if (!rc && (n == 0 || !strstr(wifiprov_device_version_json(dev), "\"more\"")))
        rc = WIFIPROV_ERR_PROTO;
    wifiprov_device_free(dev);
    return rc;
}

static void alloc_failures_setup(void **state)
{
    static const struct wifiprov_allocator counting = {ac_malloc, ac_calloc, ac_realloc, ac_free};
    long total, k;
    int rc;

    (void)state;
    memset(&ac, 0, sizeof(ac));
    wifiprov_set_allocator(&counting);
    rc = alloc_scenario_setup();
    total = ac.count;
    wifiprov_set_allocator(NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(ac.live, 0);
    for (k = 1; k <= total; k++) {
        memset(&ac, 0, sizeof(ac));
        ac.fail_at = k;
        wifiprov_set_allocator(&counting);
        rc = alloc_scenario_setup();
        wifiprov_set_allocator(NULL);
        if (ac.live != 0)
            fail_msg("allocation %ld of %ld failed: %ld blocks leaked", k, total, ac.live);
        /* Nothing here parses input: every failure must be NOMEM. */
        if (rc != WIFIPROV_ERR_NOMEM)
            fail_msg("allocation %ld of %ld failed: %s", k, total, wifiprov_err_name(rc));
    }
}

static void alloc_failures(void **state)
{
    static const struct wifiprov_allocator counting = {ac_malloc, ac_calloc, ac_realloc, ac_free};
    struct tcreds cr;
    long total, k, nomem = 0, seen[32] = {0};
    int rc;

    (void)state;
    tcreds_load(&cr);
    memset(&ac, 0, sizeof(ac));
    wifiprov_set_allocator(&counting);
    rc = alloc_scenario(&cr);
    total = ac.count;
    wifiprov_set_allocator(NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(ac.live, 0);
    assert_true(total > 10 && total < 2000);

    for (k = 1; k <= total; k++) {
        memset(&ac, 0, sizeof(ac));
        ac.fail_at = k;
        wifiprov_set_allocator(&counting);
        rc = alloc_scenario(&cr);
        wifiprov_set_allocator(NULL);
        if (ac.live != 0)
            fail_msg("allocation %ld of %ld failed: %ld blocks leaked", k, total, ac.live);
        /*
         * Either the failure was absorbed, or it surfaced as a clean error: NOMEM where
         * we see it, PROTO where protobuf-c's unpack fails (it cannot tell the two
         * apart), AUTH/TRANSPORT where the device dropped the exchange.
         */
        if (rc > 0 || (rc < 0 && strcmp(wifiprov_err_name(rc), "WIFIPROV_ERR_UNKNOWN") == 0))
            fail_msg("allocation %ld of %ld failed: unexpected %d", k, total, rc);
        if (rc == WIFIPROV_ERR_NOMEM)
            nomem++;
        if (rc < 0 && -rc < (int)WIFIPROV_ARRAY_SIZE(seen))
            seen[-rc]++;
        assert_true(ac.count >= k);
    }
    for (k = 0; k < (long)WIFIPROV_ARRAY_SIZE(seen); k++) {
        if (seen[k])
            print_message("alloc_failures: %ld x %s\n", seen[k], wifiprov_err_name((int)-k));
    }
    /* Most failures must surface as NOMEM. */
    assert_true(nomem * 2 > total);
    tcreds_free(&cr);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_sec2),
        cmocka_unit_test(version_sec1),
        cmocka_unit_test(version_sec0),
        cmocka_unit_test(version_app_info),
        cmocka_unit_test(new_invalid),
        cmocka_unit_test(endpoints_table),
        cmocka_unit_test(sessions_table),
        cmocka_unit_test(event_names),
        cmocka_unit_test(neg_wrong_pop),
        cmocka_unit_test(neg_wrong_password),
        cmocka_unit_test(neg_wrong_username),
        cmocka_unit_test(neg_bad_lengths),
        cmocka_unit_test(neg_cmd1_before_cmd0),
        cmocka_unit_test(neg_repeated_cmd0),
        cmocka_unit_test(neg_tampered),
        cmocka_unit_test(neg_short_ciphertext),
        cmocka_unit_test(neg_before_established),
        cmocka_unit_test(neg_unknown_endpoint_session),
        cmocka_unit_test(neg_oversized),
        cmocka_unit_test(neg_too_many_sessions),
        cmocka_unit_test(neg_handler_error),
        cmocka_unit_test(neg_handler_misbehaves),
        cmocka_unit_test(pending_resume),
        cmocka_unit_test(pending_cancel),
        cmocka_unit_test(pending_close_and_remove),
        cmocka_unit_test(alloc_failures),
        cmocka_unit_test(alloc_failures_setup),
    };

    return TEST_RUN("device", tests, argc, argv);
}
