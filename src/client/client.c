/*
 * Client role: version query, handshake and encrypted requests over the
 * application's transport callback (PROTOCOL.md sections 3-6, 15).
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "client_priv.h"
#include "crypto/crypto.h"
#include "sec/sec.h"
#include "util.h"

/* Handshakes take two round trips (sec0: one); anything longer is a confused peer. */
#define MAX_HANDSHAKE_ROUNDS 4

struct wifiprov_client {
    wifiprov_client_xfer_fn xfer;
    void *xfer_ctx;
    enum wifiprov_security security;
    struct wifiprov_sec_session *sec;
    bool established;
};

static int default_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return wifiprov__crypto_random(buf, len);
}

/* --- version ------------------------------------------------------------ */

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int wifiprov_version_parse(const uint8_t *reply, size_t len, struct wifiprov_version_info *info)
{
    const cJSON *prov, *item, *cap;
    cJSON *root;

    if (!info || (!reply && len))
        return WIFIPROV_ERR_INVAL;
    memset(info, 0, sizeof(*info));
    if (!len)
        return 0;
    root = cJSON_ParseWithLength((const char *)reply, len);
    if (!root)
        return 0; /* a plain string from a non-manager device */
    if (!cJSON_IsObject(root))
        goto out;
    info->is_json = true;
    prov = cJSON_GetObjectItemCaseSensitive(root, "prov");
    if (!cJSON_IsObject(prov))
        goto out;
    item = cJSON_GetObjectItemCaseSensitive(prov, "ver");
    if (cJSON_IsString(item) && item->valuestring)
        copy_str(info->ver, sizeof(info->ver), item->valuestring);
    item = cJSON_GetObjectItemCaseSensitive(prov, "sec_ver");
    if (cJSON_IsNumber(item)) {
        info->has_sec_ver = true;
        info->sec_ver = item->valueint;
    }
    item = cJSON_GetObjectItemCaseSensitive(prov, "sec_patch_ver");
    if (cJSON_IsNumber(item))
        info->sec_patch_ver = item->valueint;
    item = cJSON_GetObjectItemCaseSensitive(prov, "cap");
    cJSON_ArrayForEach(cap, item)
    {
        if (info->n_caps == WIFIPROV_VERSION_MAX_CAPS)
            break;
        /* A name that does not fit is skipped rather than truncated into another name. */
        if (cJSON_IsString(cap) && cap->valuestring && strlen(cap->valuestring) < sizeof(info->caps[0]))
            copy_str(info->caps[info->n_caps++], sizeof(info->caps[0]), cap->valuestring);
    }
out:
    cJSON_Delete(root);
    return 0;
}

bool wifiprov_version_has_cap(const struct wifiprov_version_info *info, const char *cap)
{
    size_t i;

    if (!info || !cap)
        return false;
    for (i = 0; i < info->n_caps && i < WIFIPROV_VERSION_MAX_CAPS; i++) {
        if (strcmp(info->caps[i], cap) == 0)
            return true;
    }
    return false;
}

/* --- handle ------------------------------------------------------------- */

int wifiprov_client_new(const struct wifiprov_client_config *cfg, struct wifiprov_client **out)
{
    struct wifiprov_sec_params p;
    struct wifiprov_client *c = NULL;
    int ret = WIFIPROV_ERR_INVAL;

    if (!cfg || !out || !cfg->xfer)
        return WIFIPROV_ERR_INVAL;
    *out = NULL;
    if ((unsigned)cfg->security > (unsigned)WIFIPROV_SECURITY_2)
        return WIFIPROV_ERR_INVAL;
    memset(&p, 0, sizeof(p));
    p.security = cfg->security;
    p.role = WIFIPROV_SEC_ROLE_CLIENT;
    switch (cfg->security) {
    case WIFIPROV_SECURITY_0:
        break;
    case WIFIPROV_SECURITY_1:
        if (cfg->pop && cfg->pop[0]) {
            p.pop = (const uint8_t *)cfg->pop;
            p.pop_len = strlen(cfg->pop);
        }
        break;
    case WIFIPROV_SECURITY_2:
        if (!cfg->username || !cfg->username[0] || !cfg->password || !cfg->password[0] ||
            (cfg->sec_patch_ver != 0 && cfg->sec_patch_ver != 1))
            return WIFIPROV_ERR_INVAL;
        p.username = (const uint8_t *)cfg->username;
        p.username_len = strlen(cfg->username);
        p.password = (const uint8_t *)cfg->password;
        p.password_len = strlen(cfg->password);
        p.sec_patch_ver = cfg->sec_patch_ver;
        p.sec2_test_quirks = cfg->test_sec2_quirks;
        break;
    }
    p.random = cfg->random ? cfg->random : default_random;
    p.random_ctx = cfg->random ? cfg->random_ctx : NULL;

    ret = WIFIPROV_ERR_NOMEM;
    c = wifiprov__calloc(1, sizeof(*c));
    if (!c)
        goto out;
    c->xfer = cfg->xfer;
    c->xfer_ctx = cfg->xfer_ctx;
    c->security = cfg->security;
    ret = wifiprov__sec_session_new(&p, &c->sec);
    if (ret)
        goto out;
    *out = c;
    c = NULL;
out:
    wifiprov_client_free(c);
    return ret;
}

void wifiprov_client_free(struct wifiprov_client *c)
{
    if (!c)
        return;
    wifiprov__sec_session_free(c->sec);
    wifiprov_memzero(c, sizeof(*c));
    wifiprov__free(c);
}

/* Calls the transport and checks what it says about the reply. */
static int xfer(struct wifiprov_client *c, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp,
                size_t resp_cap, size_t *resp_len)
{
    int ret;

    *resp_len = 0;
    ret = c->xfer(c->xfer_ctx, ep, req, req_len, resp, resp_cap, resp_len);
    if (ret > 0)
        ret = WIFIPROV_ERR_TRANSPORT;
    if (!ret && *resp_len > resp_cap)
        ret = WIFIPROV_ERR_TRANSPORT;
    if (ret)
        *resp_len = 0;
    return ret;
}

int wifiprov_client_get_version(struct wifiprov_client *c, const char *probe, struct wifiprov_version_info *info,
                                char *raw, size_t raw_cap)
{
    uint8_t *resp = NULL;
    size_t n = 0;
    int ret;

    if (!c || !probe || !probe[0] || strlen(probe) > WIFIPROV_MAX_MSG || (!raw && raw_cap))
        return WIFIPROV_ERR_INVAL;
    resp = wifiprov__malloc(WIFIPROV_REPLY_CAP);
    if (!resp)
        return WIFIPROV_ERR_NOMEM;
    ret = xfer(c, WIFIPROV_EP_VERSION, (const uint8_t *)probe, strlen(probe), resp, WIFIPROV_REPLY_CAP, &n);
    if (ret)
        goto out;
    if (info) {
        ret = wifiprov_version_parse(resp, n, info);
        if (ret)
            goto out;
    }
    if (raw) {
        if (n >= raw_cap) {
            ret = WIFIPROV_ERR_NOSPC;
            goto out;
        }
        memcpy(raw, resp, n);
        raw[n] = '\0';
    }
out:
    wifiprov__free(resp);
    return ret;
}

int wifiprov_client_handshake(struct wifiprov_client *c)
{
    uint8_t *req = NULL, *resp = NULL;
    size_t req_len = 0, resp_len = 0;
    int round, ret;

    if (!c)
        return WIFIPROV_ERR_INVAL;
    c->established = false;
    wifiprov__sec_session_reset(c->sec);
    ret = WIFIPROV_ERR_NOMEM;
    req = wifiprov__malloc(WIFIPROV_REPLY_CAP);
    resp = wifiprov__malloc(WIFIPROV_REPLY_CAP);
    if (!req || !resp)
        goto out;
    ret = wifiprov__sec_client_start(c->sec, req, WIFIPROV_REPLY_CAP, &req_len);
    if (ret)
        goto out;
    for (round = 0; req_len > 0; round++) {
        if (round == MAX_HANDSHAKE_ROUNDS) {
            ret = WIFIPROV_ERR_PROTO;
            goto out;
        }
        ret = xfer(c, WIFIPROV_EP_SESSION, req, req_len, resp, WIFIPROV_REPLY_CAP, &resp_len);
        if (ret) {
            /*
             * A device answers a wrong PoP / username / password in Cmd1 by
             * dropping the exchange (HTTP closes the connection), so a transport
             * failure after Cmd0 means the credentials were refused.
             */
            if (round > 0 && ret == WIFIPROV_ERR_TRANSPORT && c->security != WIFIPROV_SECURITY_0) {
                wifiprov__info("client: the device dropped the handshake after Cmd0: credentials refused");
                ret = WIFIPROV_ERR_AUTH;
            }
            goto out;
        }
        ret = wifiprov__sec_client_step(c->sec, resp, resp_len, req, WIFIPROV_REPLY_CAP, &req_len);
        if (ret)
            goto out;
    }
    if (!wifiprov__sec_established(c->sec)) {
        ret = WIFIPROV_ERR_PROTO;
        goto out;
    }
    c->established = true;
    wifiprov__dbg("client: session established (security %d)", (int)c->security);
out:
    if (ret)
        wifiprov__sec_session_reset(c->sec);
    wifiprov__free_secret(req, WIFIPROV_REPLY_CAP);
    wifiprov__free_secret(resp, WIFIPROV_REPLY_CAP);
    return ret;
}

bool wifiprov_client_established(const struct wifiprov_client *c)
{
    return c && c->established;
}

int wifiprov_client_request(struct wifiprov_client *c, const char *endpoint, const uint8_t *req, size_t req_len,
                            uint8_t *resp, size_t resp_cap, size_t *resp_len)
{
    uint8_t *wire_req = NULL, *wire_resp = NULL;
    size_t overhead, wire_req_len = 0, wire_resp_len = 0;
    int ret;

    if (resp_len)
        *resp_len = 0;
    if (!c || !endpoint || !resp_len || (!req && req_len) || (!resp && resp_cap))
        return WIFIPROV_ERR_INVAL;
    overhead = wifiprov__sec_overhead(c->sec);
    if (req_len + overhead > WIFIPROV_MAX_MSG)
        return WIFIPROV_ERR_TOO_BIG;
    /* sec0 needs no handshake (the device does not check); sec1/sec2 do. */
    if (wifiprov__sec_has_cipher(c->sec) && !c->established)
        return WIFIPROV_ERR_STATE;
    ret = WIFIPROV_ERR_NOMEM;
    wire_req = wifiprov__malloc(req_len + overhead);
    wire_resp = wifiprov__malloc(WIFIPROV_REPLY_CAP);
    if (!wire_req || !wire_resp)
        goto out;
    ret = wifiprov__sec_encrypt(c->sec, req, req_len, wire_req, req_len + overhead, &wire_req_len);
    if (ret)
        goto out;
    ret = xfer(c, endpoint, wire_req, wire_req_len, wire_resp, WIFIPROV_REPLY_CAP, &wire_resp_len);
    if (ret)
        goto out;
    ret = wifiprov__sec_decrypt(c->sec, wire_resp, wire_resp_len, resp, resp_cap, resp_len);
out:
    if (ret)
        *resp_len = 0;
    wifiprov__free_secret(wire_req, req_len + overhead);
    wifiprov__free_secret(wire_resp, WIFIPROV_REPLY_CAP);
    return ret;
}
