/*
 * The provisioning page of the HTTP transport (see http_page.h): loaded once at start,
 * answered from memory.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "transport/http.h"
#include "transport/http_page.h"
#include "util.h"

struct wifiprov_httpd_page {
    uint8_t *html;
    size_t len;
    char csp[320];
    /* Name/value pairs for the page's reply, NULL-terminated. */
    const char *headers[11];
    const char *probe_headers[3];
};

/* Security headers of the page; the CSP is filled in at load. */
static const char *const page_headers[] = {
    "Cache-Control",   "no-store",    "X-Content-Type-Options", "nosniff",
    "Referrer-Policy", "no-referrer", "X-Frame-Options",        "DENY",
};

static void base64(const uint8_t *in, size_t len, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;

    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

/* Finds the memory range @p len bytes long starting at @p hay. */
static const uint8_t *find(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    }
    return NULL;
}

/*
 * "'sha256-...'" for the body of the first <@p tag> element (without attributes), or
 * "'none'" when the page has none. @return 0 or a crypto error.
 */
static int inline_source(const struct wifiprov_httpd_page *p, const char *tag, char *out, size_t cap)
{
    char open[16], close[16], b64[45];
    const uint8_t *s, *e;
    uint8_t digest[32];
    struct wifiprov_iov iov;
    int err;

    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    s = find(p->html, p->len, open);
    e = s ? find(s, p->len - (size_t)(s - p->html), close) : NULL;
    if (!s || !e) {
        snprintf(out, cap, "'none'");
        return 0;
    }
    s += strlen(open);
    iov.data = s;
    iov.len = (size_t)(e - s);
    err = wifiprov__sha256(&iov, 1, digest);
    if (err)
        return err;
    base64(digest, sizeof(digest), b64);
    snprintf(out, cap, "'sha256-%s'", b64);
    return 0;
}

int wifiprov_httpd_page_load(const char *path, struct wifiprov_httpd_page **out)
{
    struct wifiprov_httpd_page *p = NULL;
    char script[64], style[64];
    FILE *f = NULL;
    size_t n = 0;
    int err = WIFIPROV_ERR_NOMEM;

    *out = NULL;
    p = wifiprov__calloc(1, sizeof(*p));
    if (!p)
        goto out;
    p->html = wifiprov__malloc(WIFIPROV_HTTPD_PAGE_MAX + 1);
    if (!p->html)
        goto out;
    f = fopen(path, "rb");
    if (!f) {
        wifiprov__err("web UI: cannot read the page %s: %s", path, strerror(errno));
        err = WIFIPROV_ERR_IO;
        goto out;
    }
    n = fread(p->html, 1, WIFIPROV_HTTPD_PAGE_MAX + 1, f);
    if (ferror(f)) {
        wifiprov__err("web UI: error reading the page %s", path);
        err = WIFIPROV_ERR_IO;
        goto out;
    }
    p->len = n;
    if (n == 0 || n > WIFIPROV_HTTPD_PAGE_MAX || !find(p->html, n, "<html")) {
        wifiprov__err("web UI: %s is not a page (empty, larger than %u bytes, or no <html>)", path,
                      WIFIPROV_HTTPD_PAGE_MAX);
        err = WIFIPROV_ERR_INVAL;
        goto out;
    }
    err = inline_source(p, "script", script, sizeof(script));
    if (!err)
        err = inline_source(p, "style", style, sizeof(style));
    if (err)
        goto out;
    /* Nothing but the page's own inline code; its requests go to the device only. */
    snprintf(p->csp, sizeof(p->csp),
             "default-src 'none'; script-src %s; style-src %s; connect-src 'self'; img-src data:; "
             "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
             script, style);
    memcpy(p->headers, page_headers, sizeof(page_headers));
    p->headers[WIFIPROV_ARRAY_SIZE(page_headers)] = "Content-Security-Policy";
    p->headers[WIFIPROV_ARRAY_SIZE(page_headers) + 1] = p->csp;
    p->headers[WIFIPROV_ARRAY_SIZE(page_headers) + 2] = NULL;
    p->probe_headers[0] = "Cache-Control";
    p->probe_headers[1] = "no-store";
    p->probe_headers[2] = NULL;
    *out = p;
    p = NULL;
    err = 0;
out:
    if (f)
        fclose(f);
    wifiprov_httpd_page_free(p);
    return err;
}

void wifiprov_httpd_page_free(struct wifiprov_httpd_page *p)
{
    if (!p)
        return;
    wifiprov__free(p->html);
    wifiprov__free(p);
}

size_t wifiprov_httpd_page_size(const struct wifiprov_httpd_page *p)
{
    return p->len;
}

bool wifiprov__httpd_page_answer(const struct wifiprov_httpd_page *p, const char *path, const char *location,
                                 struct wifiprov_httpd_reply *reply)
{
    static const char moved[] = "The provisioning page is at /\n";

    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        reply->status = 200;
        reply->content_type = "text/html; charset=utf-8";
        reply->body = p->html;
        reply->len = p->len;
        reply->headers = p->headers;
        return true;
    }
    /* The probes lead to the page (and so does Windows' own portal address). */
    if (wifiprov__httpd_probe_find(path) || strcmp(path, "/redirect") == 0) {
        reply->status = 302;
        reply->content_type = "text/plain";
        reply->body = (const uint8_t *)moved;
        reply->len = sizeof(moved) - 1;
        reply->location = location && *location ? location : "/";
        reply->headers = p->probe_headers;
        return true;
    }
    return false;
}
