/* See fuzz_util.h. */
#include <string.h>

#include "fuzz_util.h"

bool fuzz_take(struct fuzz_reader *r, void *out, size_t len)
{
    if (r->n < len)
        return false;
    memcpy(out, r->p, len);
    r->p += len;
    r->n -= len;
    return true;
}

static int fixed_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(0x5a ^ i * 7u);
    return 0;
}

static int echo(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    (void)ctx;
    if (req->len > cap)
        return WIFIPROV_ERR_NOSPC;
    memcpy(out, req->data, req->len);
    *out_len = req->len;
    return 0;
}

/* Answers later: PENDING first, the echo on resume. */
static int pend(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    if (!req->resumed)
        return WIFIPROV_ERR_PENDING;
    return echo(ctx, req, out, cap, out_len);
}

int fuzz_device_new(struct fuzz_reader *r, void (*wake_fn)(void *ctx, uint32_t session_id), void *wake_ctx,
                    struct wifiprov_device **out)
{
    struct wifiprov_device_config dc;
    uint8_t sec;

    *out = NULL;
    if (!fuzz_take(r, &sec, 1))
        return -1;
    memset(&dc, 0, sizeof(dc));
    dc.security = (enum wifiprov_security)(sec % 2);
    dc.max_sessions = 3;
    dc.random = fixed_random;
    dc.wake_fn = wake_fn;
    dc.wake_ctx = wake_ctx;
    if (wifiprov_device_new(&dc, out) != 0)
        return -1;
    if (wifiprov_device_add_endpoint(*out, "echo", echo, NULL) != 0 ||
        wifiprov_device_add_endpoint(*out, "pend", pend, NULL) != 0) {
        wifiprov_device_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}
