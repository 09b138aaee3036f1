/*
 * Helpers for the device and client tests: an in-process transport between a
 * wifiprov_client and a wifiprov_device, and device/client set-ups per scheme.
 */
#ifndef WIFIPROV_CORE_TEST_UTIL_H
#define WIFIPROV_CORE_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "testutil.h"
#include "wifiprov/wifiprov.h"

/* The scheme variants the loopback tests run. */
enum tscheme {
    TS_SEC0,
    TS_SEC1_POP,
    TS_SEC1_NOPOP,
    TS_SEC2_P0,
    TS_SEC2_P1,
};

#define T_POP "abcd1234"
#define T_USER "wifiprov"
#define T_PASS "abcd1234"

/* The example sec2 credentials (salt/verifier of user wifiprov, password abcd1234). */
struct tcreds {
    uint8_t *salt, *verifier;
    size_t salt_len, verifier_len;
};

static inline void tcreds_load(struct tcreds *c)
{
    char path[1024];
    char *text;
    cJSON *root, *in;

    snprintf(path, sizeof(path), "%s/sec2.json", WIFIPROV_VECTORS_DIR);
    text = test_read_file(path, NULL);
    root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    in = cJSON_GetObjectItemCaseSensitive(root, "inputs");
    c->salt = test_hex(cJSON_GetObjectItemCaseSensitive(in, "salt")->valuestring, &c->salt_len);
    c->verifier = test_hex(cJSON_GetObjectItemCaseSensitive(in, "verifier")->valuestring, &c->verifier_len);
    cJSON_Delete(root);
}

static inline void tcreds_free(struct tcreds *c)
{
    free(c->salt);
    free(c->verifier);
    memset(c, 0, sizeof(*c));
}

static inline enum wifiprov_security tscheme_security(enum tscheme s)
{
    switch (s) {
    case TS_SEC0:
        return WIFIPROV_SECURITY_0;
    case TS_SEC1_POP:
    case TS_SEC1_NOPOP:
        return WIFIPROV_SECURITY_1;
    case TS_SEC2_P0:
    case TS_SEC2_P1:
        return WIFIPROV_SECURITY_2;
    }
    return WIFIPROV_SECURITY_0;
}

/* Fills a device config for @p s (creds must stay alive while the device is created). */
static inline void tdev_config(struct wifiprov_device_config *cfg, enum tscheme s, const struct tcreds *cr)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->security = tscheme_security(s);
    if (s == TS_SEC1_POP)
        cfg->pop = T_POP;
    if (s == TS_SEC2_P0 || s == TS_SEC2_P1) {
        cfg->sec2_salt = cr->salt;
        cfg->sec2_salt_len = cr->salt_len;
        cfg->sec2_verifier = cr->verifier;
        cfg->sec2_verifier_len = cr->verifier_len;
        cfg->sec2_patch0 = s == TS_SEC2_P0;
    }
}

/* The in-process transport: one client talks to one session of a device. */
struct tloop {
    struct wifiprov_device *dev;
    uint32_t sid;
    int last_err;      /* what the device returned for the last exchange */
    unsigned exchanges;
};

static inline int tloop_xfer(void *ctx, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp,
                             size_t cap, size_t *resp_len)
{
    struct tloop *l = ctx;

    l->exchanges++;
    l->last_err = wifiprov_device_handle(l->dev, l->sid, ep, req, req_len, resp, cap, resp_len);
    /* Like HTTP: any device error is a dropped connection. */
    return l->last_err ? WIFIPROV_ERR_TRANSPORT : 0;
}

static inline void tcli_config(struct wifiprov_client_config *cfg, enum tscheme s, struct tloop *l)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->xfer = tloop_xfer;
    cfg->xfer_ctx = l;
    cfg->security = tscheme_security(s);
    if (s == TS_SEC1_POP)
        cfg->pop = T_POP;
    if (s == TS_SEC2_P0 || s == TS_SEC2_P1) {
        cfg->username = T_USER;
        cfg->password = T_PASS;
        cfg->sec_patch_ver = s == TS_SEC2_P1;
    }
}

/* An endpoint that answers "echo:" + request. */
static inline int techo_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap,
                                size_t *out_len)
{
    (void)ctx;
    if (req->len + 5 > cap)
        return WIFIPROV_ERR_NOSPC;
    memcpy(out, "echo:", 5);
    if (req->len)
        memcpy(out + 5, req->data, req->len);
    *out_len = req->len + 5;
    return 0;
}

/* Sends @p msg through @p c to the echo endpoint @p ep and checks the answer. */
static inline void techo_check(struct wifiprov_client *c, const char *ep, const char *msg)
{
    uint8_t resp[256];
    size_t n = 0;
    int rc;

    rc = wifiprov_client_request(c, ep, (const uint8_t *)msg, strlen(msg), resp, sizeof(resp), &n);
    if (rc)
        fail_msg("echo on %s: %s", ep, wifiprov_err_name(rc));
    assert_int_equal(n, strlen(msg) + 5);
    assert_memory_equal(resp, "echo:", 5);
    assert_memory_equal(resp + 5, msg, strlen(msg));
}

#endif
