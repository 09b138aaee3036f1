/*
 * libFuzzer target for the HTTP transport's request path without sockets:
 * method/path/Content-Length checks, cookie parsing, session binding (new, cookie,
 * per-connection, eviction), body accumulation, dispatch to a real device, and the
 * PENDING / wake / resume path.
 *
 * Input: a byte for the security scheme, then records:
 *   flags      bit 0-1 connection, bit 2 close the connection first, bit 3 wake + resume pending,
 *              bit 4-6 method
 *   len + path, len + cookie (0xff = no header), len + content-length (0xff = none),
 *   chunked byte, 2-byte body length + body (fed in up to 3 pieces).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "transport/http.h"
#include "wifiprov/wifiprov.h"

#define N_CONN 4

/* A string of at most 255 bytes; *absent when the length byte is 0xff. */
static bool take_str(struct fuzz_reader *r, char *out, size_t cap, bool *absent)
{
    uint8_t len;

    if (!fuzz_take(r, &len, 1))
        return false;
    *absent = len == 0xff;
    if (*absent)
        len = 0;
    if (len >= cap || !fuzz_take(r, out, len))
        return false;
    out[len] = '\0';
    return true;
}

/* Session ids that collide often: 1..5. */
static int small_ids(void *ctx, uint8_t *buf, size_t len)
{
    unsigned *n = ctx;

    memset(buf, 0, len);
    if (len >= 4)
        buf[3] = (uint8_t)(1 + (*n)++ % 5);
    return 0;
}

static uint64_t fuzz_clock(void *ctx)
{
    uint64_t *now = ctx;

    return *now += 7; /* time passes with every look at the clock */
}

/* The device exists before the policy that routes its wakes. */
static void fuzz_wake(void *ctx, uint32_t id)
{
    wifiprov_sessions_wake(*(struct wifiprov_sessions **)ctx, id);
}

static const char *const methods[] = {"POST", "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "POST", "post"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader rd = {data, size};
    struct wifiprov_httpd_config hc;
    struct wifiprov_sessions_config sc;
    struct wifiprov_sessions *ss = NULL;
    struct wifiprov_device *dev = NULL;
    struct wifiprov_httpd *h = NULL;
    struct wifiprov_httpd_conn *conns[N_CONN] = {0};
    struct wifiprov_httpd_req *pending[N_CONN] = {0};
    struct wifiprov_httpd_reply reply;
    unsigned counter = 0;
    uint64_t now = 0;

    if (fuzz_device_new(&rd, fuzz_wake, &ss, &dev) != 0)
        return 0;
    memset(&sc, 0, sizeof(sc));
    sc.device = dev;
    sc.max_sessions = 3;
    sc.idle_s = 2;
    sc.pending_max_s = 1;
    sc.clock_ms = fuzz_clock;
    sc.clock_ctx = &now;
    sc.random = small_ids;
    sc.random_ctx = &counter;
    if (wifiprov_sessions_new(&sc, &ss) != 0)
        goto out;
    memset(&hc, 0, sizeof(hc));
    hc.device = dev;
    hc.sessions = ss;
    if (wifiprov_httpd_new(&hc, &h) != 0)
        goto out;

    while (rd.n > 0) {
        char path[256], cookie[256], cl[256];
        bool no_path, no_cookie, no_cl;
        uint8_t flags, chunked, blen[2];
        uint8_t body[5000];
        size_t body_len, fed = 0;
        unsigned ci;
        struct wifiprov_httpd_req *r;
        enum wifiprov_httpd_verdict v;

        if (!fuzz_take(&rd, &flags, 1) || !take_str(&rd, path, sizeof(path), &no_path) ||
            !take_str(&rd, cookie, sizeof(cookie), &no_cookie) || !take_str(&rd, cl, sizeof(cl), &no_cl) ||
            !fuzz_take(&rd, &chunked, 1) || !fuzz_take(&rd, blen, 2))
            break;
        body_len = ((size_t)blen[0] << 8 | blen[1]) % sizeof(body);
        if (body_len > rd.n)
            body_len = rd.n;
        fuzz_take(&rd, body, body_len);
        ci = flags & 3u;

        if (flags & 8u) {
            /* A wake for every possible id, then resume what was held. */
            for (uint32_t id = 1; id <= 5; id++)
                wifiprov_sessions_wake(ss, id);
            wifiprov_sessions_expire(ss);
            for (unsigned k = 0; k < N_CONN; k++) {
                if (!pending[k])
                    continue;
                v = wifiprov__httpd_resume(h, pending[k], &reply);
                if (v != WIFIPROV_HTTPD_VERDICT_PENDING) {
                    wifiprov__httpd_req_free(h, pending[k]);
                    pending[k] = NULL;
                }
            }
        }
        if ((flags & 4u) && conns[ci]) {
            /* The connection goes away (libmicrohttpd: request completed, then connection closed). */
            wifiprov__httpd_req_free(h, pending[ci]);
            pending[ci] = NULL;
            wifiprov__httpd_conn_free(h, conns[ci]);
            conns[ci] = NULL;
        }
        if (pending[ci])
            continue; /* a held connection takes no new request */
        if (!conns[ci] && !(conns[ci] = wifiprov__httpd_conn_new(h, ci & 1 ? "192.0.2.1" : "192.0.2.2")))
            break;
        r = wifiprov__httpd_req_new(conns[ci]);
        if (!r)
            break;
        v = wifiprov__httpd_begin(h, r, methods[(flags >> 4) & 7u], no_path ? "/" : path, no_cookie ? NULL : cookie,
                                  no_cl ? NULL : cl, chunked & 1, &reply);
        /* The body in up to three pieces, as the network delivers it. */
        while (v == WIFIPROV_HTTPD_VERDICT_CONTINUE && fed < body_len) {
            size_t piece = (chunked >> 1) % 3 == 0 ? body_len - fed : (body_len - fed + 1) / 2;
            v = wifiprov__httpd_body(r, body + fed, piece);
            fed += piece;
        }
        if (v == WIFIPROV_HTTPD_VERDICT_CONTINUE)
            v = wifiprov__httpd_finish(h, r, &reply);
        if (v == WIFIPROV_HTTPD_VERDICT_REPLY && reply.len && reply.body) {
            volatile uint8_t sink = reply.body[0] ^ reply.body[reply.len - 1];
            (void)sink;
        }
        if (v == WIFIPROV_HTTPD_VERDICT_PENDING) {
            pending[ci] = r;
            continue;
        }
        wifiprov__httpd_req_free(h, r);
        if (v == WIFIPROV_HTTPD_VERDICT_CLOSE) {
            wifiprov__httpd_conn_free(h, conns[ci]);
            conns[ci] = NULL;
        }
    }
    for (unsigned k = 0; k < N_CONN; k++) {
        wifiprov__httpd_req_free(h, pending[k]);
        wifiprov__httpd_conn_free(h, conns[k]);
    }
    if (wifiprov_httpd_session_count(h) > 3)
        abort(); /* never more sessions than the limit */
out:
    wifiprov_httpd_free(h);
    wifiprov_sessions_free(ss);
    wifiprov_device_free(dev);
    return 0;
}
