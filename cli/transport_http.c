/*
 * HTTP transport (SoftAP / httpd devices): POST http://HOST:PORT/<endpoint> on one
 * reused libcurl easy handle, so the TCP connection stays open between requests.
 * The device's session cookie is parsed from Set-Cookie here and replayed exactly as
 * "Cookie: session=<n>" (PROTOCOL.md §7.1, P14); curl's cookie engine stays off.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "transport.h"

struct http_priv {
    CURL *curl;
    char host[256]; /* the target, from --address HOST[:PORT] */
    unsigned port;
    char cookie[64]; /* "session=<digits>" once the device set one */
    /* reply being received */
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool overflow;
};

static bool curl_ready;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_priv *h = userdata;
    size_t n = size * nmemb;

    if (h->len + n > h->cap) {
        h->overflow = true;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    memcpy(h->buf + h->len, ptr, n);
    h->len += n;
    return n;
}

/* Keeps "name=value" of a Set-Cookie header (attributes after ';' dropped). */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_priv *h = userdata;
    size_t n = size * nmemb, i = 0, start, end;
    static const char name[] = "set-cookie:";

    if (n < sizeof(name) - 1)
        return n;
    for (i = 0; i < sizeof(name) - 1; i++) {
        if (tolower((unsigned char)ptr[i]) != name[i])
            return n;
    }
    while (i < n && (ptr[i] == ' ' || ptr[i] == '\t'))
        i++;
    start = i;
    while (i < n && ptr[i] != ';' && ptr[i] != '\r' && ptr[i] != '\n')
        i++;
    end = i;
    while (end > start && (ptr[end - 1] == ' ' || ptr[end - 1] == '\t'))
        end--;
    if (end > start && end - start < sizeof(h->cookie)) {
        memcpy(h->cookie, ptr + start, end - start);
        h->cookie[end - start] = '\0';
    }
    return n;
}

static int http_open(struct cli_transport *t, const struct cli_opts *o)
{
    struct http_priv *h;

    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(t->errmsg, sizeof(t->errmsg), "cannot initialise libcurl");
            return WIFIPROV_ERR_TRANSPORT;
        }
        curl_ready = true;
    }
    h = calloc(1, sizeof(*h));
    if (!h)
        return WIFIPROV_ERR_NOMEM;
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        snprintf(t->errmsg, sizeof(t->errmsg), "cannot create a libcurl handle");
        return WIFIPROV_ERR_TRANSPORT;
    }
    snprintf(h->host, sizeof(h->host), "%s", o->host);
    h->port = o->port;
    t->priv = h;
    return 0;
}

static void http_close(struct cli_transport *t)
{
    struct http_priv *h = t->priv;

    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
    t->priv = NULL;
    if (curl_ready) {
        curl_global_cleanup();
        curl_ready = false;
    }
}

static int http_xfer(void *ctx, const char *endpoint, const uint8_t *req, size_t req_len, uint8_t *resp,
                     size_t resp_cap, size_t *resp_len)
{
    struct cli_transport *t = ctx;
    struct http_priv *h = t->priv;
    struct curl_slist *hdrs = NULL, *tmp;
    char url[400], cookie_hdr[80];
    long code = 0, timeout_ms = 0;
    CURLcode cc;
    int ret;

    t->errmsg[0] = '\0';
    if (req_len == 0 || req_len > WIFIPROV_MAX_MSG) {
        /* The device refuses empty and oversized bodies (§7.1). */
        snprintf(t->errmsg, sizeof(t->errmsg), "request of %zu bytes cannot be sent over HTTP", req_len);
        return WIFIPROV_ERR_INVAL;
    }
    if (t->deadline_ms) {
        int64_t left = t->deadline_ms + cli_prompt_ms - cli_now_ms();

        if (left <= 0) {
            snprintf(t->errmsg, sizeof(t->errmsg), "no time left for /%s", endpoint);
            return WIFIPROV_ERR_TIMEOUT;
        }
        timeout_ms = (long)left;
    }
    snprintf(url, sizeof(url), strchr(h->host, ':') ? "http://[%s]:%u/%s" : "http://%s:%u/%s", h->host, h->port,
             endpoint);

    hdrs = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    if (hdrs && (tmp = curl_slist_append(hdrs, "Accept: text/plain")))
        hdrs = tmp;
    /* The device cannot answer "Expect: 100-continue"; send the body at once. */
    if (hdrs && (tmp = curl_slist_append(hdrs, "Expect:")))
        hdrs = tmp;
    if (hdrs && h->cookie[0]) {
        snprintf(cookie_hdr, sizeof(cookie_hdr), "Cookie: %s", h->cookie);
        if ((tmp = curl_slist_append(hdrs, cookie_hdr)))
            hdrs = tmp;
    }
    if (!hdrs) {
        ret = WIFIPROV_ERR_NOMEM;
        goto out;
    }

    h->buf = resp;
    h->cap = resp_cap;
    h->len = 0;
    h->overflow = false;
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, (const char *)req);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)req_len);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h->curl, CURLOPT_PROXY, "");
    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms && timeout_ms < t->connect_timeout_ms ? timeout_ms : t->connect_timeout_ms);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout_ms);

    if (t->debug) {
        if (cli_transport_request_is_secret(t, endpoint))
            fprintf(stderr, "debug: -> /%s: %zu bytes (plaintext credentials, not shown)\n", endpoint, req_len);
        else
            cli_transport_debug_dump(t, endpoint, "->", req, req_len);
    }
    cc = curl_easy_perform(h->curl);
    t->exchanges++;
    if (cc != CURLE_OK) {
        if (h->overflow) {
            snprintf(t->errmsg, sizeof(t->errmsg), "reply from /%s larger than %zu bytes", endpoint, resp_cap);
            ret = WIFIPROV_ERR_NOSPC;
        } else if (cc == CURLE_OPERATION_TIMEDOUT) {
            snprintf(t->errmsg, sizeof(t->errmsg), "no reply from %s:%u/%s in time", h->host, h->port, endpoint);
            ret = WIFIPROV_ERR_TIMEOUT;
        } else if (cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR ||
                   cc == CURLE_PARTIAL_FILE) {
            snprintf(t->errmsg, sizeof(t->errmsg), "the device closed the connection without answering /%s",
                     endpoint);
            ret = WIFIPROV_ERR_TRANSPORT;
        } else {
            snprintf(t->errmsg, sizeof(t->errmsg), "cannot reach %s:%u: %s", h->host, h->port, curl_easy_strerror(cc));
            ret = WIFIPROV_ERR_TRANSPORT;
        }
        goto out;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        snprintf(t->errmsg, sizeof(t->errmsg), "the device answered /%s with HTTP status %ld", endpoint, code);
        ret = WIFIPROV_ERR_TRANSPORT;
        goto out;
    }
    *resp_len = h->len;
    if (t->debug)
        cli_transport_debug_dump(t, endpoint, "<-", resp, h->len);
    ret = 0;
out:
    /* The handle keeps a pointer to the list and to our buffers: detach both. */
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
    h->buf = NULL;
    curl_slist_free_all(hdrs);
    return ret;
}

const struct cli_transport_ops cli_transport_http = {
    .name = "http",
    .scan_page = 8,
    .open = http_open,
    .xfer = http_xfer,
    .close = http_close,
};

void cli_transport_debug_dump(const struct cli_transport *t, const char *endpoint, const char *dir,
                              const uint8_t *data, size_t len)
{
    size_t i;

    (void)t;
    fprintf(stderr, "debug: %s /%s (%zu bytes):", dir, endpoint, len);
    for (i = 0; i < len; i++)
        fprintf(stderr, "%s%02x", i % 32 == 0 ? "\n    " : "", data[i]);
    fputc('\n', stderr);
}

bool cli_transport_request_is_secret(const struct cli_transport *t, const char *endpoint)
{
    if (!t->plaintext_session)
        return false;
    return strcmp(endpoint, WIFIPROV_EP_VERSION) != 0 && strcmp(endpoint, WIFIPROV_EP_SESSION) != 0 &&
           strcmp(endpoint, WIFIPROV_EP_SCAN) != 0 && strcmp(endpoint, WIFIPROV_EP_CTRL) != 0;
}
