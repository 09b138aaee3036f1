/*
 * Console transport (PROTOCOL.md §7.3): each request is printed as
 * "Client->Device msg : <endpoint> 0 <hex>" for the user (or a relay program) to pass
 * to the device, and the device's reply is read back as one hex line from stdin.
 * stdin may be a pipe; the read is bounded by the --timeout deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "transport.h"
#include "util.h"

#define LINE_MAX_LEN (2 * WIFIPROV_REPLY_CAP + 64)

struct console_priv {
    char buf[LINE_MAX_LEN + 1];
    size_t len; /* bytes buffered, possibly several lines */
    bool eof;
};

static int console_open(struct cli_transport *t, const struct cli_opts *o)
{
    struct console_priv *c = calloc(1, sizeof(*c));

    (void)o;
    if (!c)
        return WIFIPROV_ERR_NOMEM;
    t->priv = c;
    return 0;
}

static void console_close(struct cli_transport *t)
{
    free(t->priv);
    t->priv = NULL;
}

/* Reads one line (without the newline) into @p line. @return 0, TRANSPORT (EOF), TIMEOUT, TOO_BIG. */
static int read_line(struct cli_transport *t, struct console_priv *c, char *line, size_t cap)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
        int timeout = -1, r;
        ssize_t n;

        if (nl || (c->eof && c->len)) {
            size_t l = nl ? (size_t)(nl - c->buf) : c->len;

            if (l >= cap)
                return WIFIPROV_ERR_TOO_BIG;
            memcpy(line, c->buf, l);
            line[l] = '\0';
            if (l && line[l - 1] == '\r')
                line[l - 1] = '\0';
            l = nl ? l + 1 : l;
            memmove(c->buf, c->buf + l, c->len - l);
            c->len -= l;
            return 0;
        }
        if (c->eof)
            return WIFIPROV_ERR_TRANSPORT;
        if (c->len >= LINE_MAX_LEN)
            return WIFIPROV_ERR_TOO_BIG;
        if (t->deadline_ms) {
            int64_t left = t->deadline_ms + cli_prompt_ms - cli_now_ms();

            if (left <= 0)
                return WIFIPROV_ERR_TIMEOUT;
            timeout = left > 1000000 ? 1000000 : (int)left;
        }
        r = poll(&pfd, 1, timeout);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return WIFIPROV_ERR_IO;
        if (r == 0)
            continue; /* re-check the deadline */
        n = read(STDIN_FILENO, c->buf + c->len, LINE_MAX_LEN - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            c->eof = true;
        else
            c->len += (size_t)n;
    }
}

static int console_xfer(void *ctx, const char *endpoint, const uint8_t *req, size_t req_len, uint8_t *resp,
                        size_t resp_cap, size_t *resp_len)
{
    struct cli_transport *t = ctx;
    struct console_priv *c = t->priv;
    char *hex = NULL, *line = NULL;
    int ret;

    t->errmsg[0] = '\0';
    hex = malloc(2 * req_len + 1);
    line = malloc(LINE_MAX_LEN + 1);
    if (!hex || !line) {
        ret = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    wifiprov__hex_encode(req, req_len, hex);
    /* The same line esp_prov prints: it can be pasted into the device's console. */
    printf("Client->Device msg : %s 0 %s\n", endpoint, hex);
    printf("Enter device->client msg : ");
    fflush(stdout);
    t->exchanges++;
    ret = read_line(t, c, line, LINE_MAX_LEN + 1);
    if (ret == WIFIPROV_ERR_TRANSPORT) {
        snprintf(t->errmsg, sizeof(t->errmsg), "end of input while waiting for the reply to %s", endpoint);
        goto out;
    }
    if (ret == WIFIPROV_ERR_TIMEOUT) {
        snprintf(t->errmsg, sizeof(t->errmsg), "no reply to %s in time", endpoint);
        goto out;
    }
    if (ret < 0) {
        snprintf(t->errmsg, sizeof(t->errmsg), "cannot read the reply to %s", endpoint);
        goto out;
    }
    {
        /* Tolerate a leading "<< " or the device console's prompt noise around the hex. */
        char *p = line;

        while (*p && !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
            p++;
        if (!*p) {
            snprintf(t->errmsg, sizeof(t->errmsg), "empty reply to %s: the device dropped the request", endpoint);
            ret = WIFIPROV_ERR_TRANSPORT;
            goto out;
        }
        ret = wifiprov__hex_decode(p, resp, resp_cap, resp_len);
        if (ret == WIFIPROV_ERR_NOSPC) {
            snprintf(t->errmsg, sizeof(t->errmsg), "reply to %s larger than %zu bytes", endpoint, resp_cap);
            goto out;
        }
        if (ret < 0) {
            snprintf(t->errmsg, sizeof(t->errmsg), "the reply to %s is not hex", endpoint);
            ret = WIFIPROV_ERR_TRANSPORT;
            goto out;
        }
    }
    if (t->debug)
        cli_transport_debug_dump(t, endpoint, "<-", resp, *resp_len);
    ret = 0;
out:
    if (hex) {
        /* With security 0 the request may hold a plaintext passphrase. */
        wifiprov_memzero(hex, 2 * req_len + 1);
        free(hex);
    }
    free(line);
    return ret;
}

const struct cli_transport_ops cli_transport_console = {
    .name = "console",
    .scan_page = 8,
    .open = console_open,
    .xfer = console_xfer,
    .close = console_close,
};
