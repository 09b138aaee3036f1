/*
 * HTTP transport of the device: libmicrohttpd in external epoll mode, driven by
 * sd-event (see http.h for the rules).
 *
 * The request logic (path and method, Content-Length, cookie and connection binding)
 * lives in the wifiprov__httpd_* functions, which know nothing of sockets; sessions
 * are the session policy's (sessions.h); the libmicrohttpd callbacks only translate.
 * The fuzzer calls the same functions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "transport/http.h"
#include "transport/http_page.h"
#include "util.h"

#define DEFAULT_MAX_CONNECTIONS 16u
#define DEFAULT_MAX_CONNECTIONS_PER_PEER 4u
#define DEFAULT_CONN_TIMEOUT_S 30u
#define COOKIE_NAME "session="

struct wifiprov_httpd_conn {
    struct wifiprov_httpd *h;
    struct wifiprov_httpd_conn *next; /* h->conns */
    /* The session this connection created, if any (rule 2 of §7.1). */
    bool has_sid;
    uint32_t sid;
    char peer[WIFIPROV_SESSIONS_PEER_MAX + 1];
    char page_url[80]; /* the page on the address this connection reached, for probe redirects */
    struct MHD_Connection *mhd;
};

enum req_state {
    REQ_STATE_HEADERS = 0,
    REQ_STATE_BODY = 1,
    REQ_STATE_PENDING = 2,
    REQ_STATE_DONE = 3,
};

struct wifiprov_httpd_req {
    struct wifiprov_httpd_conn *conn;
    struct wifiprov_httpd_req *next_pending; /* h->pending, while state is PENDING */
    enum req_state state;
    char endpoint[WIFIPROV_EP_NAME_MAX + 1];
    int cookie_state; /* wifiprov__httpd_parse_cookie() */
    uint32_t cookie_id;
    size_t expected;
    size_t len;
    uint8_t body[WIFIPROV_MAX_MSG];
    uint32_t sid;
    bool new_session; /* this request created sid: Set-Cookie on success */
    bool suspended;   /* libmicrohttpd holds the connection */
    bool woken;       /* a wake arrived before the connection was suspended */
    bool cancelled;   /* the session went away or the transport stops: close when resumed */
    size_t out_len;
    uint8_t out[WIFIPROV_REPLY_CAP];
};

struct wifiprov_httpd {
    sd_event *event;
    struct wifiprov_device *dev;
    struct wifiprov_sessions *ss;
    struct wifiprov_session_owner owner;
    struct MHD_Daemon *mhd;
    sd_event_source *io;
    sd_event_source *mhd_timer;
    struct wifiprov_httpd_conn *conns;
    struct wifiprov_httpd_req *pending;
    const struct wifiprov_httpd_page *page;
    char address[64];
    bool stopping;
    bool kick; /* run libmicrohttpd at once (a connection was resumed) */
};

/* --- the session policy's view of this transport ------------------------------- */

static void resume_request(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r);

static void pending_unlink(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r)
{
    for (struct wifiprov_httpd_req **pp = &h->pending; *pp; pp = &(*pp)->next_pending) {
        if (*pp == r) {
            *pp = r->next_pending;
            r->next_pending = NULL;
            return;
        }
    }
}

static struct wifiprov_httpd_req *pending_find(struct wifiprov_httpd *h, uint32_t id)
{
    for (struct wifiprov_httpd_req *r = h->pending; r; r = r->next_pending) {
        if (r->sid == id && !r->cancelled)
            return r;
    }
    return NULL;
}

static void on_session_wake(void *ctx, uint32_t id)
{
    struct wifiprov_httpd *h = ctx;
    struct wifiprov_httpd_req *r = pending_find(h, id);

    if (!r)
        return;
    if (r->suspended)
        resume_request(h, r);
    else
        r->woken = true; /* woken before the connection was suspended */
}

static void on_session_closed(void *ctx, uint32_t id, enum wifiprov_session_why why)
{
    struct wifiprov_httpd *h = ctx;
    struct wifiprov_httpd_req *r = pending_find(h, id);

    (void)why;
    for (struct wifiprov_httpd_conn *c = h->conns; c; c = c->next) {
        if (c->has_sid && c->sid == id)
            c->has_sid = false;
    }
    if (r) {
        /* Its connection is closed without a response when it runs again. */
        r->cancelled = true;
        if (r->suspended && h->mhd)
            resume_request(h, r);
    }
}

int wifiprov__httpd_parse_cookie(const char *value, uint32_t *id)
{
    const char *p = value;

    if (!value)
        return 0;
    /* Cookie: a=b; session=123 — find the pair named "session". */
    while (*p) {
        const char *end;
        size_t n;

        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        if (!*p)
            break;
        end = strchr(p, ';');
        n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n >= sizeof(COOKIE_NAME) - 1 && memcmp(p, COOKIE_NAME, sizeof(COOKIE_NAME) - 1) == 0) {
            const char *d = p + sizeof(COOKIE_NAME) - 1;
            size_t nd = n - (sizeof(COOKIE_NAME) - 1);
            uint64_t v = 0;

            if (nd == 0 || nd > 10)
                return -1;
            for (size_t i = 0; i < nd; i++) {
                if (d[i] < '0' || d[i] > '9')
                    return -1;
                v = v * 10u + (uint64_t)(d[i] - '0');
            }
            if (v > UINT32_MAX)
                return -1;
            *id = (uint32_t)v;
            return 1;
        }
        p += n;
        while (*p && *p != ';')
            p++;
    }
    return 0;
}

static bool endpoint_known(struct wifiprov_httpd *h, const char *name)
{
    size_t n = wifiprov_device_endpoint_count(h->dev);

    for (size_t i = 0; i < n; i++) {
        const char *e = wifiprov_device_endpoint_name(h->dev, i);
        if (e && strcmp(e, name) == 0)
            return true;
    }
    return false;
}

/* --- the request path -------------------------------------------------------- */

struct wifiprov_httpd_conn *wifiprov__httpd_conn_new(struct wifiprov_httpd *h, const char *peer)
{
    struct wifiprov_httpd_conn *c = wifiprov__calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->h = h;
    snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "");
    c->next = h->conns;
    h->conns = c;
    return c;
}

void wifiprov__httpd_conn_free(struct wifiprov_httpd *h, struct wifiprov_httpd_conn *c)
{
    if (!c)
        return;
    for (struct wifiprov_httpd_conn **pp = &h->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    wifiprov__free(c);
}

struct wifiprov_httpd_req *wifiprov__httpd_req_new(struct wifiprov_httpd_conn *c)
{
    struct wifiprov_httpd_req *r = wifiprov__calloc(1, sizeof(*r));

    if (r)
        r->conn = c;
    return r;
}

void wifiprov__httpd_req_free(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r)
{
    if (!r)
        return;
    if (r->state == REQ_STATE_PENDING) {
        bool mine = !r->cancelled;
        pending_unlink(h, r);
        if (mine)
            wifiprov_sessions_cancel(h->ss, r->sid);
    }
    /* Bodies and replies are session traffic (plaintext under security 0). */
    wifiprov__free_secret(r, sizeof(*r));
}

enum wifiprov_httpd_verdict wifiprov__httpd_begin(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r,
                                                  const char *method, const char *path, const char *cookie,
                                                  const char *content_length, bool chunked,
                                                  struct wifiprov_httpd_reply *reply)
{
    const struct wifiprov_httpd_probe *pr;
    const char *name;
    bool is_post, is_get;
    uint64_t cl = 0;

    memset(reply, 0, sizeof(*reply));
    if (!method || !path || r->state != REQ_STATE_HEADERS)
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    is_post = strcmp(method, "POST") == 0;
    is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    r->state = REQ_STATE_DONE;

    if (is_get && h->page && wifiprov__httpd_page_answer(h->page, path, r->conn->page_url, reply))
        return WIFIPROV_HTTPD_VERDICT_REPLY;
    pr = wifiprov__httpd_probe_find(path);
    if (pr && is_get) {
        reply->status = pr->status;
        reply->content_type = pr->type;
        reply->body = (const uint8_t *)pr->body;
        reply->len = strlen(pr->body);
        return WIFIPROV_HTTPD_VERDICT_REPLY;
    }
    name = path[0] == '/' ? path + 1 : path;
    if (path[0] != '/' || name[0] == '\0' || strlen(name) > WIFIPROV_EP_NAME_MAX || !endpoint_known(h, name)) {
        static const char nf[] = "Nothing matches the given URI";
        reply->status = 404;
        reply->content_type = "text/plain";
        reply->body = (const uint8_t *)nf;
        reply->len = sizeof(nf) - 1;
        return WIFIPROV_HTTPD_VERDICT_REPLY;
    }
    if (!is_post) {
        static const char na[] = "Method not allowed";
        reply->status = 405;
        reply->content_type = "text/plain";
        reply->body = (const uint8_t *)na;
        reply->len = sizeof(na) - 1;
        reply->allow_post = true;
        return WIFIPROV_HTTPD_VERDICT_REPLY;
    }
    /* The body must announce 1..4096 bytes with Content-Length; anything else is dropped (§7.1). */
    if (chunked || !content_length || !content_length[0])
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    for (const char *p = content_length; *p; p++) {
        if (*p < '0' || *p > '9' || cl > WIFIPROV_MAX_MSG)
            return WIFIPROV_HTTPD_VERDICT_CLOSE;
        cl = cl * 10u + (uint64_t)(*p - '0');
    }
    if (cl == 0 || cl > WIFIPROV_MAX_MSG)
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    memcpy(r->endpoint, name, strlen(name) + 1);
    r->cookie_state = wifiprov__httpd_parse_cookie(cookie, &r->cookie_id);
    r->expected = (size_t)cl;
    r->len = 0;
    r->state = REQ_STATE_BODY;
    return WIFIPROV_HTTPD_VERDICT_CONTINUE;
}

enum wifiprov_httpd_verdict wifiprov__httpd_body(struct wifiprov_httpd_req *r, const uint8_t *data, size_t len)
{
    if (r->state != REQ_STATE_BODY || len > r->expected - r->len)
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    memcpy(r->body + r->len, data, len);
    r->len += len;
    return WIFIPROV_HTTPD_VERDICT_CONTINUE;
}

/* Turns the device's answer for @p r into a verdict. */
/* Turns the session policy's answer for @p r into a verdict. */
static enum wifiprov_httpd_verdict conclude(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r, int err,
                                            struct wifiprov_httpd_reply *reply)
{
    if (err == WIFIPROV_ERR_PENDING) {
        if (r->state != REQ_STATE_PENDING) {
            r->state = REQ_STATE_PENDING;
            r->next_pending = h->pending;
            h->pending = r;
        }
        return WIFIPROV_HTTPD_VERDICT_PENDING;
    }
    if (r->state == REQ_STATE_PENDING)
        pending_unlink(h, r);
    r->state = REQ_STATE_DONE;
    if (err) {
        wifiprov__dbg("http: /%s failed (%s); closing the connection", r->endpoint, wifiprov_err_name(err));
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    }
    reply->status = 200;
    reply->content_type = "text/html";
    reply->body = r->out;
    reply->len = r->out_len;
    reply->set_cookie = r->new_session;
    reply->session_id = r->sid;
    return WIFIPROV_HTTPD_VERDICT_REPLY;
}

/* A live session of this transport. */
static bool own_session(const struct wifiprov_httpd *h, uint32_t id)
{
    return wifiprov_sessions_owner(h->ss, id) == &h->owner;
}

enum wifiprov_httpd_verdict wifiprov__httpd_finish(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r,
                                                   struct wifiprov_httpd_reply *reply)
{
    struct wifiprov_httpd_conn *c = r->conn;
    uint32_t id = 0;
    int err;

    memset(reply, 0, sizeof(*reply));
    if (r->state != REQ_STATE_BODY || r->len == 0 || r->len != r->expected) {
        r->state = REQ_STATE_DONE;
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    }
    wifiprov_sessions_expire(h->ss);
    if (r->cookie_state == 1 && own_session(h, r->cookie_id))
        id = r->cookie_id;
    else if (c->has_sid && own_session(h, c->sid))
        id = c->sid;
    r->woken = false;
    if (id) {
        err = wifiprov_sessions_handle(h->ss, id, c->peer, r->endpoint, r->body, r->len, r->out, sizeof(r->out),
                                       &r->out_len);
    } else {
        /* No session yet: proto-ver is answered without one, prov-session makes one. */
        err = wifiprov_sessions_begin(h->ss, &h->owner, c->peer, r->endpoint, r->body, r->len, r->out,
                                      sizeof(r->out), &r->out_len, &id);
        if (id) {
            c->has_sid = true;
            c->sid = id;
            r->new_session = true;
        }
    }
    r->sid = id;
    return conclude(h, r, err, reply);
}

enum wifiprov_httpd_verdict wifiprov__httpd_resume(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r,
                                                   struct wifiprov_httpd_reply *reply)
{
    int err;

    memset(reply, 0, sizeof(*reply));
    if (r->state != REQ_STATE_PENDING || r->cancelled) {
        if (r->state == REQ_STATE_PENDING) {
            pending_unlink(h, r);
            if (!r->cancelled)
                wifiprov_sessions_cancel(h->ss, r->sid);
        }
        r->state = REQ_STATE_DONE;
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    }
    r->woken = false;
    err = wifiprov_sessions_resume(h->ss, r->sid, r->out, sizeof(r->out), &r->out_len);
    return conclude(h, r, err, reply);
}

/* --- libmicrohttpd glue --------------------------------------------------------- */

static void mhd_schedule(struct wifiprov_httpd *h)
{
    MHD_UNSIGNED_LONG_LONG to = 0;
    uint64_t now = 0;

    if (!h->mhd || !h->mhd_timer)
        return;
    if (!h->kick && MHD_get_timeout(h->mhd, &to) != MHD_YES) {
        sd_event_source_set_enabled(h->mhd_timer, SD_EVENT_OFF);
        return;
    }
    if (h->kick)
        to = 0;
    if (sd_event_now(h->event, CLOCK_MONOTONIC, &now) < 0)
        return;
    sd_event_source_set_time(h->mhd_timer, now + (uint64_t)to * 1000u);
    sd_event_source_set_enabled(h->mhd_timer, SD_EVENT_ONESHOT);
}

static unsigned mhd_connections(struct wifiprov_httpd *h)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

    return info ? info->num_connections : 0;
}

static void mhd_run(struct wifiprov_httpd *h)
{
    unsigned before = mhd_connections(h);

    h->kick = false;
    MHD_run(h->mhd);
    /*
     * At the connection limit libmicrohttpd takes the listening socket out of its epoll
     * set, and puts it back only at the start of a later run: after connections closed,
     * run again at once so a client waiting in the backlog is accepted.
     */
    if (mhd_connections(h) < before)
        h->kick = true;
    mhd_schedule(h);
}

static int on_mhd_io(sd_event_source *src, int fd, uint32_t revents, void *ud)
{
    (void)src;
    (void)fd;
    (void)revents;
    mhd_run(ud);
    return 0;
}

static int on_mhd_timer(sd_event_source *src, uint64_t usec, void *ud)
{
    (void)src;
    (void)usec;
    mhd_run(ud);
    return 0;
}

static void resume_request(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r)
{
    r->suspended = false;
    MHD_resume_connection(r->conn->mhd);
    h->kick = true;
    mhd_schedule(h);
}

static enum MHD_Result send_reply(struct MHD_Connection *mc, const struct wifiprov_httpd_reply *reply)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    char cookie[32];

    resp = MHD_create_response_from_buffer(reply->len, reply->len ? (void *)reply->body : (void *)"",
                                           MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (reply->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
    if (reply->set_cookie) {
        snprintf(cookie, sizeof(cookie), "session=%" PRIu32, reply->session_id);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    }
    if (reply->allow_post)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST");
    if (reply->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, reply->location);
    for (const char *const *hd = reply->headers; hd && hd[0] && hd[1]; hd += 2)
        MHD_add_response_header(resp, hd[0], hd[1]);
    ret = MHD_queue_response(mc, reply->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct wifiprov_httpd *h = cls;
    struct wifiprov_httpd_req *r = *con_cls;
    struct wifiprov_httpd_reply reply;
    enum wifiprov_httpd_verdict v;

    (void)version;
    if (!r) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        struct wifiprov_httpd_conn *c = ci ? ci->socket_context : NULL;
        const char *cookie, *cl, *te;

        if (!c || h->stopping)
            return MHD_NO;
        r = wifiprov__httpd_req_new(c);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        cookie = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
        cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        te = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        v = wifiprov__httpd_begin(h, r, method, url, cookie, cl, te != NULL, &reply);
    } else if (r->state == REQ_STATE_BODY && *upload_data_size > 0) {
        v = wifiprov__httpd_body(r, (const uint8_t *)upload_data, *upload_data_size);
        *upload_data_size = 0;
    } else if (r->state == REQ_STATE_BODY) {
        v = wifiprov__httpd_finish(h, r, &reply);
    } else if (r->state == REQ_STATE_PENDING) {
        r->suspended = false;
        v = wifiprov__httpd_resume(h, r, &reply);
    } else {
        return MHD_NO;
    }
    switch (v) {
    case WIFIPROV_HTTPD_VERDICT_CONTINUE:
        return MHD_YES;
    case WIFIPROV_HTTPD_VERDICT_REPLY:
        return send_reply(mc, &reply);
    case WIFIPROV_HTTPD_VERDICT_PENDING:
        MHD_suspend_connection(mc);
        r->suspended = true;
        if (r->woken) {
            r->woken = false;
            resume_request(h, r);
        }
        return MHD_YES;
    case WIFIPROV_HTTPD_VERDICT_CLOSE:
        return MHD_NO;
    }
    return MHD_NO;
}

static void format_peer(const struct sockaddr *sa, char *buf, size_t cap);
static void format_address(const struct sockaddr_storage *ss, char *buf, size_t cap);

/* "http://ADDR:PORT/": the page on the local address of connection @p mc. */
static void page_url(struct MHD_Connection *mc, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char addr[64];

    buf[0] = '\0';
    if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&ss, &sl) != 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return;
    format_address(&ss, addr, sizeof(addr));
    snprintf(buf, cap, "http://%s/", addr);
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct wifiprov_httpd *h = cls;

    switch (toe) {
    case MHD_CONNECTION_NOTIFY_STARTED: {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        char peer[INET6_ADDRSTRLEN] = "";
        struct wifiprov_httpd_conn *c;

        if (ci && ci->client_addr)
            format_peer(ci->client_addr, peer, sizeof(peer));
        c = wifiprov__httpd_conn_new(h, peer);
        if (c) {
            c->mhd = mc;
            if (h->page)
                page_url(mc, c->page_url, sizeof(c->page_url));
        }
        *socket_context = c;
        wifiprov__dbg("http: connection opened");
        break;
    }
    case MHD_CONNECTION_NOTIFY_CLOSED:
        wifiprov__dbg("http: connection closed");
        wifiprov__httpd_conn_free(h, *socket_context);
        *socket_context = NULL;
        break;
    }
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)mc;
    (void)toe;
    wifiprov__httpd_req_free(cls, *con_cls);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char buf[200];
    size_t n;

    (void)cls;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    wifiprov__dbg("http: libmicrohttpd: %s", buf);
}

/* --- addresses ------------------------------------------------------------------ */

int wifiprov_httpd_parse_address(const char *s, void *ssv, size_t *ss_len)
{
    struct sockaddr_storage *ss = ssv;
    char host[INET6_ADDRSTRLEN + 1];
    const char *hs, *he, *ps;
    unsigned long port = 0;
    size_t hl;

    if (!s || !ss || !ss_len)
        return WIFIPROV_ERR_INVAL;
    memset(ss, 0, sizeof(*ss));
    if (s[0] == '[') {
        hs = s + 1;
        he = strchr(hs, ']');
        if (!he || he[1] != ':')
            return WIFIPROV_ERR_INVAL;
        ps = he + 2;
    } else {
        hs = s;
        he = strchr(s, ':');
        if (!he || strchr(he + 1, ':'))
            return WIFIPROV_ERR_INVAL;
        ps = he + 1;
    }
    hl = (size_t)(he - hs);
    if (hl >= sizeof(host) || !*ps || strlen(ps) > 5)
        return WIFIPROV_ERR_INVAL;
    for (const char *p = ps; *p; p++) {
        if (*p < '0' || *p > '9')
            return WIFIPROV_ERR_INVAL;
        port = port * 10u + (unsigned long)(*p - '0');
    }
    if (port > 65535)
        return WIFIPROV_ERR_INVAL;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    if (s[0] == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return WIFIPROV_ERR_INVAL;
        *ss_len = sizeof(*a6);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return WIFIPROV_ERR_INVAL;
        *ss_len = sizeof(*a4);
    }
    return 0;
}

static void format_address(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
        snprintf(buf, cap, "[%s]:%u", host, (unsigned)ntohs(a6->sin6_port));
    } else {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
        snprintf(buf, cap, "%s:%u", host, (unsigned)ntohs(a4->sin_port));
    }
}

/* The client's address without the port: one peer however many connections it opens. */
static void format_peer(const struct sockaddr *sa, char *buf, size_t cap)
{
    if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, (socklen_t)cap);
    else if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, (socklen_t)cap);
    else
        snprintf(buf, cap, "?");
}

static int open_listener(struct wifiprov_httpd *h, const char *listen_addr, int *fd_out, bool *v6)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    size_t len = 0;
    int fd = -1, one = 1, err;

    err = wifiprov_httpd_parse_address(listen_addr, &ss, &len);
    if (err) {
        wifiprov__err("http: bad listen address '%s' (want ADDR:PORT or [ADDR6]:PORT)", listen_addr);
        return err;
    }
    *v6 = ss.ss_family == AF_INET6;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        wifiprov__err("http: socket: %s", strerror(errno));
        return WIFIPROV_ERR_IO;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 || listen(fd, 32) < 0) {
        wifiprov__err("http: cannot listen on %s: %s", listen_addr, strerror(errno));
        close(fd);
        return WIFIPROV_ERR_IO;
    }
    sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        format_address(&ss, h->address, sizeof(h->address));
    *fd_out = fd;
    return 0;
}

/* --- life cycle ------------------------------------------------------------------ */

int wifiprov_httpd_new(const struct wifiprov_httpd_config *cfg, struct wifiprov_httpd **out)
{
    struct wifiprov_httpd *h = NULL;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    int fd = -1, err = 0, r;
    bool v6 = false;

    if (!cfg || !out || !cfg->device || !cfg->sessions || (cfg->listen && !cfg->event))
        return WIFIPROV_ERR_INVAL;
    h = wifiprov__calloc(1, sizeof(*h));
    if (!h)
        return WIFIPROV_ERR_NOMEM;
    h->dev = cfg->device;
    h->event = cfg->event ? sd_event_ref(cfg->event) : NULL;
    h->ss = cfg->sessions;
    h->page = cfg->page;
    h->owner.name = "http";
    h->owner.ctx = h;
    h->owner.wake = on_session_wake;
    h->owner.closed = on_session_closed;
    if (!cfg->listen)
        goto out; /* socket-free instance */

    err = open_listener(h, cfg->listen, &fd, &v6);
    if (err)
        goto out;
    if (v6)
        flags |= MHD_USE_IPv6;
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                              MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                              (unsigned int)(cfg->max_connections_per_peer ? cfg->max_connections_per_peer
                                                                           : DEFAULT_MAX_CONNECTIONS_PER_PEER),
                              MHD_OPTION_CONNECTION_LIMIT,
                              (unsigned int)(cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONNECTIONS),
                              MHD_OPTION_CONNECTION_TIMEOUT,
                              (unsigned int)(cfg->connection_timeout_s ? cfg->connection_timeout_s
                                                                       : DEFAULT_CONN_TIMEOUT_S),
                              MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_NOTIFY_COMPLETED,
                              on_completed, h, MHD_OPTION_END);
    if (!h->mhd) {
        wifiprov__err("http: libmicrohttpd failed to start");
        close(fd);
        err = WIFIPROV_ERR_IO;
        goto out;
    }
    info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info) {
        wifiprov__err("http: libmicrohttpd has no epoll support");
        err = WIFIPROV_ERR_IO;
        goto out;
    }
    r = sd_event_add_io(h->event, &h->io, info->epoll_fd, EPOLLIN, on_mhd_io, h);
    if (r >= 0)
        r = sd_event_add_time(h->event, &h->mhd_timer, CLOCK_MONOTONIC, 0, 1000, on_mhd_timer, h);
    if (r >= 0)
        r = sd_event_source_set_enabled(h->mhd_timer, SD_EVENT_OFF);
    if (r < 0) {
        wifiprov__err("http: sd-event: %s", strerror(-r));
        err = WIFIPROV_ERR_IO;
        goto out;
    }
    mhd_schedule(h);
    wifiprov__info("HTTP transport listening on %s", h->address);
out:
    if (err) {
        wifiprov_httpd_free(h);
        h = NULL;
    }
    *out = h;
    return err;
}

void wifiprov_httpd_free(struct wifiprov_httpd *h)
{
    if (!h)
        return;
    h->stopping = true;
    if (h->mhd) {
        /* Suspended connections must be resumed (and refused) before libmicrohttpd stops. */
        bool any = false;
        for (struct wifiprov_httpd_req *r = h->pending; r; r = r->next_pending) {
            if (r->suspended) {
                r->cancelled = true;
                r->suspended = false;
                MHD_resume_connection(r->conn->mhd);
                any = true;
            }
        }
        for (int i = 0; any && i < 3; i++)
            MHD_run(h->mhd);
        MHD_stop_daemon(h->mhd);
        h->mhd = NULL;
    }
    h->io = sd_event_source_disable_unref(h->io);
    h->mhd_timer = sd_event_source_disable_unref(h->mhd_timer);
    /* The sessions this transport still holds go with it. */
    wifiprov_sessions_close_owner(h->ss, &h->owner, WIFIPROV_SESSION_WHY_STOPPED);
    if (h->event)
        sd_event_unref(h->event);
    wifiprov__free(h);
}

int wifiprov_httpd_address(const struct wifiprov_httpd *h, char *buf, size_t cap)
{
    size_t n = strlen(h->address);

    if (n + 1 > cap)
        return WIFIPROV_ERR_NOSPC;
    memcpy(buf, h->address, n + 1);
    return 0;
}

size_t wifiprov_httpd_session_count(const struct wifiprov_httpd *h)
{
    return wifiprov_sessions_count(h->ss, &h->owner);
}
