/*
 * HTTP transport of the device: libmicrohttpd in external epoll mode, driven by
 * sd-event (see http.h for the session rules).
 *
 * The request logic (path and method, Content-Length, cookie and session binding,
 * dispatch to the device) lives in the wifiprov__httpd_* functions, which know
 * nothing of sockets; the libmicrohttpd callbacks only translate. The fuzzer calls
 * the same functions.
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
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "crypto/crypto.h"
#include "transport/http.h"
#include "util.h"

#define DEFAULT_MAX_SESSIONS 8u
#define DEFAULT_MAX_CONNECTIONS 16u
#define DEFAULT_CONN_TIMEOUT_S 30u
#define DEFAULT_SESSION_IDLE_S 300u
#define COOKIE_NAME "session="
/* A reply held this long (PENDING) is given up and its connection closed. */
#define PENDING_MAX_MS 60000u

struct session {
    bool used;
    uint32_t id;
    uint64_t last_used_ms;
    uint64_t last_used_seq; /* LRU order (milliseconds can tie) */
    /* The connection that created the session (rule 2 of §7.1); NULL once it closed. */
    struct wifiprov_httpd_conn *owner;
    /* The request waiting for a PENDING reply of this session. */
    struct wifiprov_httpd_req *pending;
    uint64_t pending_since_ms;
    /* A wake arrived while the pending request was not suspended yet. */
    bool woken;
};

struct wifiprov_httpd_conn {
    struct wifiprov_httpd *h;
    /* The session this connection created, if any (may have expired since). */
    bool has_sid;
    uint32_t sid;
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
    bool cancelled;   /* the transport is going away: close when resumed */
    size_t out_len;
    uint8_t out[WIFIPROV_REPLY_CAP];
};

struct wifiprov_httpd {
    sd_event *event;
    struct wifiprov_device *dev;
    struct MHD_Daemon *mhd;
    sd_event_source *io;
    sd_event_source *mhd_timer;
    sd_event_source *idle_timer;
    unsigned max_sessions;
    unsigned session_idle_s;
    struct session *sessions;
    wifiprov_random_fn random;
    void *random_ctx;
    char address[64];
    bool stopping;
    bool kick; /* run libmicrohttpd at once (a connection was resumed) */
    uint64_t use_seq;
};

/* --- small helpers --------------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int default_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return wifiprov__crypto_random(buf, len);
}

static struct session *session_find(struct wifiprov_httpd *h, uint32_t id)
{
    for (unsigned i = 0; i < h->max_sessions; i++) {
        if (h->sessions[i].used && h->sessions[i].id == id)
            return &h->sessions[i];
    }
    return NULL;
}

static void schedule_idle(struct wifiprov_httpd *h);

static void session_drop(struct wifiprov_httpd *h, struct session *s, const char *why)
{
    wifiprov__dbg("http: closing session (%s)", why);
    if (s->pending)
        wifiprov_device_cancel_pending(h->dev, s->id);
    wifiprov_device_session_close(h->dev, s->id);
    memset(s, 0, sizeof(*s));
}

/* The least recently used session that has no request waiting; NULL when all wait. */
static struct session *session_lru(struct wifiprov_httpd *h)
{
    struct session *best = NULL;

    for (unsigned i = 0; i < h->max_sessions; i++) {
        struct session *s = &h->sessions[i];
        if (!s->used || s->pending)
            continue;
        if (!best || s->last_used_seq < best->last_used_seq)
            best = s;
    }
    return best;
}

static struct session *session_free_slot(struct wifiprov_httpd *h)
{
    for (unsigned i = 0; i < h->max_sessions; i++) {
        if (!h->sessions[i].used)
            return &h->sessions[i];
    }
    return NULL;
}

static void resume_request(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r);

static void expire_sessions(struct wifiprov_httpd *h, uint64_t now)
{
    uint64_t idle = (uint64_t)h->session_idle_s * 1000u;

    for (unsigned i = 0; i < h->max_sessions; i++) {
        struct session *s = &h->sessions[i];
        if (s->used && !s->pending && now - s->last_used_ms >= idle)
            session_drop(h, s, "idle");
        if (s->used && s->pending && !s->pending->cancelled && now - s->pending_since_ms >= PENDING_MAX_MS) {
            /* The reply never came (e.g. a scan that cannot finish): close the connection. */
            wifiprov__warn("http: a held reply waited %u s; closing its connection", PENDING_MAX_MS / 1000u);
            s->pending->cancelled = true;
            if (s->pending->suspended && h->mhd)
                resume_request(h, s->pending);
        }
    }
}

/* Opens a new session with a fresh random id for @p c. @return the session or NULL. */
static struct session *session_create(struct wifiprov_httpd *h, struct wifiprov_httpd_conn *c)
{
    struct session *s = NULL;
    uint32_t id = 0;
    int err;

    for (int tries = 0;; tries++) {
        uint8_t b[4];
        if (tries == 16 || h->random(h->random_ctx, b, sizeof(b)) != 0) {
            wifiprov__err("http: cannot draw a session id");
            return NULL;
        }
        id = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (id != 0 && !session_find(h, id) && !wifiprov_device_session_exists(h->dev, id))
            break;
    }
    s = session_free_slot(h);
    if (!s) {
        s = session_lru(h);
        if (!s) {
            wifiprov__warn("http: every session has a request in progress; refusing a new one");
            return NULL;
        }
        wifiprov__info("http: session limit (%u) reached, closing the least recently used session",
                       h->max_sessions);
        session_drop(h, s, "evicted");
    }
    err = wifiprov_device_session_open(h->dev, id);
    if (err == WIFIPROV_ERR_TOO_MANY_SESSIONS) {
        /* The device counts sessions of other transports too: make room here once. */
        struct session *victim = session_lru(h);
        if (victim) {
            session_drop(h, victim, "evicted");
            err = wifiprov_device_session_open(h->dev, id);
        }
    }
    if (err) {
        wifiprov__warn("http: cannot open a session: %s", wifiprov_strerror(err));
        return NULL;
    }
    s = session_free_slot(h);
    if (!s) {
        wifiprov_device_session_close(h->dev, id);
        return NULL;
    }
    s->used = true;
    s->id = id;
    s->last_used_ms = now_ms();
    s->last_used_seq = ++h->use_seq;
    s->owner = c;
    c->has_sid = true;
    c->sid = id;
    wifiprov__dbg("http: new session");
    return s;
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

/* --- captive-portal probes -------------------------------------------------- */

static const char apple_success[] =
    "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>\n";
static const char ok_page[] = "<!DOCTYPE html><html><head><title>OK</title></head><body>OK</body></html>\n";

struct probe {
    const char *path;
    unsigned status;
    const char *type;
    const char *body;
};

static const struct probe probes[] = {
    {"/generate_204", 204, NULL, ""},
    {"/gen_204", 204, NULL, ""},
    {"/hotspot-detect.html", 200, "text/html", apple_success},
    {"/library/test/success.html", 200, "text/html", apple_success},
    {"/connecttest.txt", 200, "text/plain", "Microsoft Connect Test"},
    {"/ncsi.txt", 200, "text/plain", "Microsoft NCSI"},
    {"/canonical.html", 200, "text/html", ok_page},
    {"/success.txt", 200, "text/plain", "success\n"},
};

static const struct probe *probe_find(const char *path)
{
    for (size_t i = 0; i < WIFIPROV_ARRAY_SIZE(probes); i++) {
        if (strcmp(probes[i].path, path) == 0)
            return &probes[i];
    }
    return NULL;
}

/* --- the request path -------------------------------------------------------- */

struct wifiprov_httpd_conn *wifiprov__httpd_conn_new(struct wifiprov_httpd *h)
{
    struct wifiprov_httpd_conn *c = wifiprov__calloc(1, sizeof(*c));

    if (c)
        c->h = h;
    return c;
}

void wifiprov__httpd_conn_free(struct wifiprov_httpd *h, struct wifiprov_httpd_conn *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < h->max_sessions; i++) {
        if (h->sessions[i].owner == c)
            h->sessions[i].owner = NULL;
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
        struct session *s = session_find(h, r->sid);
        if (s && s->pending == r) {
            wifiprov_device_cancel_pending(h->dev, s->id);
            s->pending = NULL;
            s->woken = false;
        }
    }
    /* Bodies and replies are session traffic (plaintext under security 0). */
    wifiprov__free_secret(r, sizeof(*r));
}

enum wifiprov_httpd_verdict wifiprov__httpd_begin(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r,
                                                  const char *method, const char *path, const char *cookie,
                                                  const char *content_length, bool chunked,
                                                  struct wifiprov_httpd_reply *reply)
{
    const struct probe *pr;
    const char *name;
    bool is_post, is_get;
    uint64_t cl = 0;

    memset(reply, 0, sizeof(*reply));
    if (!method || !path || r->state != REQ_STATE_HEADERS)
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    is_post = strcmp(method, "POST") == 0;
    is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    r->state = REQ_STATE_DONE;

    pr = probe_find(path);
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
static enum wifiprov_httpd_verdict conclude(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r, int err,
                                            struct wifiprov_httpd_reply *reply)
{
    struct session *s = session_find(h, r->sid);

    if (s) {
        s->last_used_ms = now_ms();
        s->last_used_seq = ++h->use_seq;
    }
    if (err == WIFIPROV_ERR_PENDING && s) {
        if (s->pending != r)
            s->pending_since_ms = now_ms();
        r->state = REQ_STATE_PENDING;
        s->pending = r;
        schedule_idle(h);
        return WIFIPROV_HTTPD_VERDICT_PENDING;
    }
    if (s && s->pending == r) {
        s->pending = NULL;
        s->woken = false;
    }
    r->state = REQ_STATE_DONE;
    if (err) {
        wifiprov__dbg("http: /%s failed (%s); closing the connection", r->endpoint, wifiprov_err_name(err));
        if (s && (r->new_session || err == WIFIPROV_ERR_NO_SESSION)) {
            /* Nobody knows the cookie of a session whose first request failed. */
            if (s->owner)
                s->owner->has_sid = false;
            session_drop(h, s, r->new_session ? "first request failed" : "gone");
        }
        schedule_idle(h);
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    }
    reply->status = 200;
    reply->content_type = "text/html";
    reply->body = r->out;
    reply->len = r->out_len;
    reply->set_cookie = r->new_session;
    reply->session_id = r->sid;
    schedule_idle(h);
    return WIFIPROV_HTTPD_VERDICT_REPLY;
}

enum wifiprov_httpd_verdict wifiprov__httpd_finish(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r,
                                                   struct wifiprov_httpd_reply *reply)
{
    struct wifiprov_httpd_conn *c = r->conn;
    struct session *s = NULL;
    uint32_t id = 0;
    int err;

    memset(reply, 0, sizeof(*reply));
    if (r->state != REQ_STATE_BODY || r->len == 0 || r->len != r->expected) {
        r->state = REQ_STATE_DONE;
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    }
    expire_sessions(h, now_ms());
    if (r->cookie_state == 1)
        s = session_find(h, r->cookie_id);
    if (!s && c->has_sid)
        s = session_find(h, c->sid);
    if (!s) {
        s = session_create(h, c);
        if (!s) {
            r->state = REQ_STATE_DONE;
            return WIFIPROV_HTTPD_VERDICT_CLOSE;
        }
        r->new_session = true;
    }
    if (s->pending) {
        /* One exchange at a time per session (the device would refuse it too). */
        r->state = REQ_STATE_DONE;
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    }
    id = s->id;
    r->sid = id;
    s->woken = false;
    err = wifiprov_device_handle(h->dev, id, r->endpoint, r->body, r->len, r->out, sizeof(r->out), &r->out_len);
    return conclude(h, r, err, reply);
}

enum wifiprov_httpd_verdict wifiprov__httpd_resume(struct wifiprov_httpd *h, struct wifiprov_httpd_req *r,
                                                   struct wifiprov_httpd_reply *reply)
{
    struct session *s = session_find(h, r->sid);
    int err;

    memset(reply, 0, sizeof(*reply));
    if (r->state != REQ_STATE_PENDING || !s || s->pending != r || r->cancelled) {
        if (s && s->pending == r) {
            wifiprov_device_cancel_pending(h->dev, s->id);
            s->pending = NULL;
        }
        r->state = REQ_STATE_DONE;
        return WIFIPROV_HTTPD_VERDICT_CLOSE;
    }
    s->woken = false;
    err = wifiprov_device_resume(h->dev, r->sid, r->out, sizeof(r->out), &r->out_len);
    return conclude(h, r, err, reply);
}

/* --- session expiry timer ----------------------------------------------------- */

static int on_idle_timer(sd_event_source *src, uint64_t usec, void *ud)
{
    struct wifiprov_httpd *h = ud;

    (void)src;
    (void)usec;
    expire_sessions(h, now_ms());
    schedule_idle(h);
    return 0;
}

static void schedule_idle(struct wifiprov_httpd *h)
{
    uint64_t first = UINT64_MAX;

    if (!h->idle_timer)
        return;
    for (unsigned i = 0; i < h->max_sessions; i++) {
        const struct session *s = &h->sessions[i];
        uint64_t due;
        if (!s->used || (s->pending && s->pending->cancelled))
            continue;
        due = s->pending ? s->pending_since_ms + PENDING_MAX_MS
                         : s->last_used_ms + (uint64_t)h->session_idle_s * 1000u;
        if (due < first)
            first = due;
    }
    if (first == UINT64_MAX) {
        sd_event_source_set_enabled(h->idle_timer, SD_EVENT_OFF);
        return;
    }
    sd_event_source_set_time(h->idle_timer, first * 1000u);
    sd_event_source_set_enabled(h->idle_timer, SD_EVENT_ONESHOT);
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
        now = now_ms() * 1000u;
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

void wifiprov_httpd_wake(void *ctx, uint32_t session_id)
{
    struct wifiprov_httpd *h = ctx;
    struct session *s;

    if (!h)
        return;
    s = session_find(h, session_id);
    if (!s || !s->pending)
        return;
    if (s->pending->suspended)
        resume_request(h, s->pending);
    else
        s->woken = true; /* woken before the connection was suspended */
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
    struct session *s;

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
        s = session_find(h, r->sid);
        if (s && s->woken) {
            s->woken = false;
            resume_request(h, r);
        }
        return MHD_YES;
    case WIFIPROV_HTTPD_VERDICT_CLOSE:
        return MHD_NO;
    }
    return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct wifiprov_httpd *h = cls;

    switch (toe) {
    case MHD_CONNECTION_NOTIFY_STARTED: {
        struct wifiprov_httpd_conn *c = wifiprov__httpd_conn_new(h);
        if (c)
            c->mhd = mc;
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

    if (!cfg || !out || !cfg->device || (cfg->listen && !cfg->event))
        return WIFIPROV_ERR_INVAL;
    h = wifiprov__calloc(1, sizeof(*h));
    if (!h)
        return WIFIPROV_ERR_NOMEM;
    h->dev = cfg->device;
    h->event = cfg->event ? sd_event_ref(cfg->event) : NULL;
    h->max_sessions = cfg->max_sessions ? cfg->max_sessions : DEFAULT_MAX_SESSIONS;
    h->session_idle_s = cfg->session_idle_s ? cfg->session_idle_s : DEFAULT_SESSION_IDLE_S;
    h->random = cfg->random ? cfg->random : default_random;
    h->random_ctx = cfg->random ? cfg->random_ctx : NULL;
    h->sessions = wifiprov__calloc(h->max_sessions, sizeof(*h->sessions));
    if (!h->sessions) {
        err = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    if (!cfg->listen)
        goto out; /* socket-free instance */

    err = open_listener(h, cfg->listen, &fd, &v6);
    if (err)
        goto out;
    if (v6)
        flags |= MHD_USE_IPv6;
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                              MHD_OPTION_LISTEN_SOCKET, fd,
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
    if (r >= 0)
        r = sd_event_add_time(h->event, &h->idle_timer, CLOCK_MONOTONIC, 0, 100000, on_idle_timer, h);
    if (r >= 0)
        r = sd_event_source_set_enabled(h->idle_timer, SD_EVENT_OFF);
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
        for (unsigned i = 0; h->sessions && i < h->max_sessions; i++) {
            struct wifiprov_httpd_req *r = h->sessions[i].pending;
            if (h->sessions[i].used && r && r->suspended) {
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
    h->idle_timer = sd_event_source_disable_unref(h->idle_timer);
    for (unsigned i = 0; h->sessions && i < h->max_sessions; i++) {
        if (h->sessions[i].used)
            session_drop(h, &h->sessions[i], "transport stopped");
    }
    wifiprov__free(h->sessions);
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
    size_t n = 0;

    for (unsigned i = 0; i < h->max_sessions; i++)
        n += h->sessions[i].used;
    return n;
}
