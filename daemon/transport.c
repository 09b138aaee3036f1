/* The transports built into wifiprovd (see transport.h), and the HTTP one. */
#include <stdlib.h>
#include <string.h>

#include "transport.h"
#include "transport/http.h"
#include "util.h"

static const struct wifiprovd_transport_ops *const builtin[] = {
    &wifiprovd_transport_http,
};

const struct wifiprovd_transport_ops *wifiprovd_transport_find(const char *name)
{
    for (size_t i = 0; i < WIFIPROV_ARRAY_SIZE(builtin); i++) {
        if (strcmp(builtin[i]->name, name) == 0)
            return builtin[i];
    }
    return NULL;
}

/* --- HTTP (PROTOCOL.md §7.1), src/transport/http.c ------------------------------------ */

struct http_transport {
    struct wifiprov_httpd *h;
};

static int http_new(const struct wifiprovd_config *cfg, void **ctx)
{
    (void)cfg;
    *ctx = calloc(1, sizeof(struct http_transport));
    return *ctx ? 0 : WIFIPROV_ERR_NOMEM;
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
    hc.connection_timeout_s = env->cfg->connection_timeout_s;
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
    if (ctx)
        http_stop(ctx);
    free(ctx);
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
