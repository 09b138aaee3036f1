/* The transports built into wifiprovd (see transport.h): HTTP and BLE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"
#include "transport/ble.h"
#include "transport/http.h"
#include "transport/http_page.h"
#include "util.h"

static const struct wifiprovd_transport_ops *const builtin[] = {
    &wifiprovd_transport_http,
    &wifiprovd_transport_ble,
};

const struct wifiprovd_transport_ops *wifiprovd_transport_find(const char *name)
{
    for (size_t i = 0; i < WIFIPROV_ARRAY_SIZE(builtin); i++) {
        if (strcmp(builtin[i]->name, name) == 0)
            return builtin[i];
    }
    return NULL;
}

void wifiprovd_transports_sweep(const struct wifiprovd_config *cfg)
{
    for (size_t i = 0; i < WIFIPROV_ARRAY_SIZE(builtin); i++) {
        if (builtin[i]->sweep)
            builtin[i]->sweep(cfg);
    }
}

/* --- HTTP (PROTOCOL.md §7.1), src/transport/http.c ------------------------------------ */

struct http_transport {
    struct wifiprov_httpd *h;
    struct wifiprov_httpd_page *page; /* the provisioning page, NULL = none */
};

/* The provisioning page: a missing default page only costs the page; a named one must load. */
static int load_page(const struct wifiprovd_config *cfg, struct http_transport *t)
{
    const char *dir = cfg->web_ui_dir ? cfg->web_ui_dir : WIFIPROVD_WEB_UI_DIR;
    char path[4096];
    int err;

    if (!cfg->web_ui)
        return 0;
    if ((size_t)snprintf(path, sizeof(path), "%s/index.html", dir) >= sizeof(path)) {
        wd_err("--web-ui-dir is too long");
        return WIFIPROV_ERR_INVAL;
    }
    err = wifiprov_httpd_page_load(path, &t->page);
    if (err && !cfg->web_ui_dir) {
        wd_warn("Serving no provisioning page (install it to %s, or give --web-ui-dir DIR or --no-web-ui)", dir);
        return 0;
    }
    if (err) {
        wd_err("Cannot serve the provisioning page from %s (give another --web-ui-dir, or --no-web-ui)", dir);
        return err;
    }
    wd_info("Provisioning page %s (%zu bytes) served at /", path, wifiprov_httpd_page_size(t->page));
    return 0;
}

static int http_new(const struct wifiprovd_config *cfg, void **ctx)
{
    struct http_transport *t = calloc(1, sizeof(*t));
    int err;

    *ctx = NULL;
    if (!t)
        return WIFIPROV_ERR_NOMEM;
    err = load_page(cfg, t);
    if (err) {
        free(t);
        return err;
    }
    *ctx = t;
    return 0;
}

static int http_start(void *ctx, const struct wifiprovd_transport_env *env)
{
    struct http_transport *t = ctx;
    struct wifiprov_httpd_config hc;
    int err;

    memset(&hc, 0, sizeof(hc));
    hc.event = env->event;
    hc.device = env->device;
    hc.sessions = env->sessions;
    hc.listen = env->cfg->listen;
    hc.max_connections = env->cfg->max_connections;
    hc.max_connections_per_peer = env->cfg->max_connections_per_peer;
    hc.connection_timeout_s = env->cfg->connection_timeout_s;
    hc.page = t->page;
    err = wifiprov_httpd_new(&hc, &t->h);
    if (err)
        wd_err("Cannot start the HTTP transport on %s: %s", env->cfg->listen, wifiprov_strerror(err));
    return err;
}

static void http_stop(void *ctx)
{
    struct http_transport *t = ctx;

    wifiprov_httpd_free(t->h);
    t->h = NULL;
}

static void http_free(void *ctx)
{
    struct http_transport *t = ctx;

    if (!t)
        return;
    http_stop(t);
    wifiprov_httpd_page_free(t->page);
    free(t);
}

const struct wifiprovd_transport_ops wifiprovd_transport_http = {
    .name = "http",
    .qr_transport = "softap",
    .qr_rank = 0,
    .new = http_new,
    .start = http_start,
    .stop = http_stop,
    .free = http_free,
};

/* --- BLE (PROTOCOL.md §7.2), src/transport/ble.c on BlueZ --------------------------------- */

struct ble_transport {
    struct wifiprov_ble *b;
    uint8_t mfg[WIFIPROV_BLE_MFG_MAX];
    size_t mfg_len;
    void (*down)(void *ctx, void *transport_ctx, const char *why);
    void *down_ctx;
};

static int ble_new(const struct wifiprovd_config *cfg, void **ctx)
{
    struct ble_transport *t = calloc(1, sizeof(*t));

    if (!t)
        return WIFIPROV_ERR_NOMEM;
    /* Checked with the options already. */
    if (cfg->ble_mfg_data && wifiprov__hex_decode(cfg->ble_mfg_data, t->mfg, sizeof(t->mfg), &t->mfg_len) != 0) {
        free(t);
        return WIFIPROV_ERR_INVAL;
    }
    *ctx = t;
    return 0;
}

static void ble_failed(void *ctx, const char *why)
{
    struct ble_transport *t = ctx;

    if (t->down)
        t->down(t->down_ctx, t, why);
}

static int ble_start(void *ctx, const struct wifiprovd_transport_env *env)
{
    struct ble_transport *t = ctx;
    struct wifiprov_ble_config bc;
    int err;

    memset(&bc, 0, sizeof(bc));
    bc.event = env->event;
    bc.device = env->device;
    bc.sessions = env->sessions;
    bc.adapter = env->cfg->ble_adapter;
    bc.service_uuid = env->cfg->ble_service_uuid;
    bc.service_name = env->service_name;
    bc.mfg_data = t->mfg_len ? t->mfg : NULL;
    bc.mfg_len = t->mfg_len;
    bc.require_encryption = env->cfg->ble_require_encryption;
    bc.state_dir = env->cfg->state_dir;
    bc.max_conns = env->cfg->max_sessions * 2u;
    bc.failed_fn = ble_failed;
    bc.ctx = t;
    t->down = env->down;
    t->down_ctx = env->down_ctx;
    err = wifiprov_ble_new(&bc, &t->b);
    if (err)
        wd_err("Cannot start the BLE transport: %s", wifiprov_strerror(err));
    return err;
}

static void ble_stop(void *ctx)
{
    struct ble_transport *t = ctx;

    wifiprov_ble_free(t->b);
    t->b = NULL;
}

static void ble_free(void *ctx)
{
    if (ctx)
        ble_stop(ctx);
    free(ctx);
}

/* The adapter name a killed run set (the GAP name) goes back, also when BLE is not served now. */
static void ble_sweep(const struct wifiprovd_config *cfg)
{
    wifiprov_ble_sweep(cfg->state_dir);
}

const struct wifiprovd_transport_ops wifiprovd_transport_ble = {
    .name = "ble",
    .qr_transport = "ble",
    .qr_rank = 1,
    .new = ble_new,
    .start = ble_start,
    .stop = ble_stop,
    .free = ble_free,
    .sweep = ble_sweep,
};
