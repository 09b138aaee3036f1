/*
 * The HTTP transport's request path without sockets (src/transport/http.c): cookie
 * parsing, session binding (to the connection, the cookie and the peer address), body
 * checks, methods and paths, eviction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport/http.h"
#include "transport/http_page.h"
#include "testutil.h"
#include "wifiprov/wifiprov.h"

struct env {
    struct wifiprov_device *dev;
    struct wifiprov_sessions *ss;
    struct wifiprov_httpd *h;
    unsigned next_id;
    uint64_t now_ms;
};

static uint64_t test_clock(void *ctx)
{
    struct env *e = ctx;

    return e->now_ms;
}

/* Session ids 1001, 1002, ... so the tests can name them. */
static int counting_ids(void *ctx, uint8_t *buf, size_t len)
{
    struct env *e = ctx;
    uint32_t id = 1001 + e->next_id++;

    assert_int_equal(len, 4);
    buf[0] = (uint8_t)(id >> 24);
    buf[1] = (uint8_t)(id >> 16);
    buf[2] = (uint8_t)(id >> 8);
    buf[3] = (uint8_t)id;
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

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct wifiprov_device_config dc;
    struct wifiprov_httpd_config hc;
    struct wifiprov_sessions_config sc;

    if (!e)
        return -1;
    memset(&dc, 0, sizeof(dc));
    dc.security = WIFIPROV_SECURITY_0;
    dc.max_sessions = 2;
    if (wifiprov_device_new(&dc, &e->dev) != 0 || wifiprov_device_add_endpoint(e->dev, "echo", echo, NULL) != 0)
        return -1;
    memset(&sc, 0, sizeof(sc));
    sc.device = e->dev;
    sc.max_sessions = 2;
    sc.clock_ms = test_clock;
    sc.clock_ctx = e;
    sc.random = counting_ids;
    sc.random_ctx = e;
    if (wifiprov_sessions_new(&sc, &e->ss) != 0)
        return -1;
    memset(&hc, 0, sizeof(hc));
    hc.device = e->dev;
    hc.sessions = e->ss;
    if (wifiprov_httpd_new(&hc, &e->h) != 0)
        return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    wifiprov_httpd_free(e->h);
    wifiprov_sessions_free(e->ss);
    wifiprov_device_free(e->dev);
    free(e);
    return 0;
}

/* One POST through begin/body/finish; returns the verdict and fills @p reply (copied body in @p out). */
static enum wifiprov_httpd_verdict post_n(struct env *e, struct wifiprov_httpd_conn *c, const char *path,
                                          const char *cookie, const void *body, size_t len,
                                          struct wifiprov_httpd_reply *reply, char *out, size_t out_cap)
{
    struct wifiprov_httpd_req *r = wifiprov__httpd_req_new(c);
    char cl[24];
    enum wifiprov_httpd_verdict v;

    assert_non_null(r);
    snprintf(cl, sizeof(cl), "%zu", len);
    v = wifiprov__httpd_begin(e->h, r, "POST", path, cookie, cl, false, reply);
    if (v == WIFIPROV_HTTPD_VERDICT_CONTINUE)
        v = wifiprov__httpd_body(r, (const uint8_t *)body, len);
    if (v == WIFIPROV_HTTPD_VERDICT_CONTINUE)
        v = wifiprov__httpd_finish(e->h, r, reply);
    if (out && v == WIFIPROV_HTTPD_VERDICT_REPLY) {
        assert_true(reply->len < out_cap);
        memcpy(out, reply->body, reply->len);
        out[reply->len] = '\0';
    }
    wifiprov__httpd_req_free(e->h, r);
    return v;
}

static enum wifiprov_httpd_verdict post(struct env *e, struct wifiprov_httpd_conn *c, const char *path,
                                        const char *cookie, const char *body, struct wifiprov_httpd_reply *reply,
                                        char *out, size_t out_cap)
{
    return post_n(e, c, path, cookie, body, strlen(body), reply, out, out_cap);
}

static void cookie_parse(void **state)
{
    uint32_t id = 0;

    (void)state;
    assert_int_equal(wifiprov__httpd_parse_cookie(NULL, &id), 0);
    assert_int_equal(wifiprov__httpd_parse_cookie("", &id), 0);
    assert_int_equal(wifiprov__httpd_parse_cookie("other=1", &id), 0);
    assert_int_equal(wifiprov__httpd_parse_cookie("session=42", &id), 1);
    assert_int_equal(id, 42);
    assert_int_equal(wifiprov__httpd_parse_cookie("a=b; session=4294967295 ", &id), 1);
    assert_int_equal(id, 4294967295u);
    assert_int_equal(wifiprov__httpd_parse_cookie("session=4294967296", &id), -1);
    assert_int_equal(wifiprov__httpd_parse_cookie("session=", &id), -1);
    assert_int_equal(wifiprov__httpd_parse_cookie("session=12a", &id), -1);
    assert_int_equal(wifiprov__httpd_parse_cookie("session=-1", &id), -1);
    assert_int_equal(wifiprov__httpd_parse_cookie("session=00000000001", &id), -1);
    assert_int_equal(wifiprov__httpd_parse_cookie(";;; ;", &id), 0);
    assert_int_equal(wifiprov__httpd_parse_cookie("xsession=5", &id), 0);
}

/* A security-0 handshake (PROTOCOL.md §5.1): makes a session. */
static enum wifiprov_httpd_verdict sec0_session(struct env *e, struct wifiprov_httpd_conn *c, const char *cookie,
                                                struct wifiprov_httpd_reply *reply)
{
    static const uint8_t cmd[] = {0x52, 0x03, 0xa2, 0x01, 0x00};

    return post_n(e, c, "/prov-session", cookie, cmd, sizeof(cmd), reply, NULL, 0);
}

static void session_binding(void **state)
{
    struct env *e = *state;
    struct wifiprov_httpd_conn *c1 = wifiprov__httpd_conn_new(e->h, "192.0.2.1"),
                               *c2 = wifiprov__httpd_conn_new(e->h, "192.0.2.1"),
                               *other = wifiprov__httpd_conn_new(e->h, "192.0.2.9");
    struct wifiprov_httpd_reply rep;
    char out[64];

    /* Without a session: proto-ver is answered and makes none, other endpoints are refused. */
    assert_int_equal(post(e, c1, "/echo", NULL, "a", &rep, out, sizeof(out)), WIFIPROV_HTTPD_VERDICT_CLOSE);
    assert_int_equal(post(e, c1, "/proto-ver", NULL, "---", &rep, NULL, 0), WIFIPROV_HTTPD_VERDICT_REPLY);
    assert_false(rep.set_cookie);
    assert_int_equal(wifiprov_httpd_session_count(e->h), 0);
    /* prov-session makes the session, announced. */
    assert_int_equal(sec0_session(e, c1, NULL, &rep), WIFIPROV_HTTPD_VERDICT_REPLY);
    assert_int_equal(rep.status, 200);
    assert_true(rep.set_cookie);
    assert_int_equal(rep.session_id, 1001);
    /* Same connection without a cookie: same session, no new cookie. */
    assert_int_equal(post(e, c1, "/echo", NULL, "b", &rep, out, sizeof(out)), WIFIPROV_HTTPD_VERDICT_REPLY);
    assert_false(rep.set_cookie);
    assert_int_equal(rep.session_id, 1001);
    assert_string_equal(out, "b");
    /* Another connection from the same address with that cookie: the same session. */
    assert_int_equal(post(e, c2, "/echo", "session=1001", "c", &rep, NULL, 0), WIFIPROV_HTTPD_VERDICT_REPLY);
    assert_false(rep.set_cookie);
    assert_int_equal(rep.session_id, 1001);
    /* The cookie from another address: refused, and the session is not disturbed. */
    assert_int_equal(post(e, other, "/echo", "session=1001", "x", &rep, NULL, 0), WIFIPROV_HTTPD_VERDICT_CLOSE);
    assert_int_equal(sec0_session(e, other, "session=1001", &rep), WIFIPROV_HTTPD_VERDICT_CLOSE);
    assert_int_equal(post(e, c1, "/echo", NULL, "d", &rep, NULL, 0), WIFIPROV_HTTPD_VERDICT_REPLY);
    assert_int_equal(rep.session_id, 1001);
    /* A stale cookie on a connection without a session: refused, until prov-session makes one. */
    assert_int_equal(post(e, c2, "/echo", "session=77", "d", &rep, NULL, 0), WIFIPROV_HTTPD_VERDICT_CLOSE);
    assert_int_equal(sec0_session(e, c2, "session=77", &rep), WIFIPROV_HTTPD_VERDICT_REPLY);
    assert_true(rep.set_cookie);
    assert_int_equal(rep.session_id, 1002);
    /* A forged cookie on a connection that has one: its own session continues. */
    assert_int_equal(post(e, c2, "/echo", "session=zz", "e", &rep, NULL, 0), WIFIPROV_HTTPD_VERDICT_REPLY);
    assert_false(rep.set_cookie);
    assert_int_equal(rep.session_id, 1002);
    assert_int_equal(wifiprov_httpd_session_count(e->h), 2);
    assert_int_equal(wifiprov_device_session_count(e->dev), 2);
    wifiprov__httpd_conn_free(e->h, c1);
    /* The session outlives its connection: the cookie still works. */
    assert_int_equal(post(e, c2, "/echo", "session=1001", "f", &rep, NULL, 0), WIFIPROV_HTTPD_VERDICT_REPLY);
    assert_int_equal(rep.session_id, 1001);
    wifiprov__httpd_conn_free(e->h, c2);
    wifiprov__httpd_conn_free(e->h, other);
}

/* Established sessions (security 0: at once) are never evicted: the newcomer is refused. */
static void no_eviction_of_established(void **state)
{
    struct env *e = *state;
    struct wifiprov_httpd_conn *c[3];
    struct wifiprov_httpd_reply rep;

    for (int i = 0; i < 3; i++)
        c[i] = wifiprov__httpd_conn_new(e->h, "192.0.2.1");
    assert_int_equal(sec0_session(e, c[0], NULL, &rep), WIFIPROV_HTTPD_VERDICT_REPLY); /* 1001 */
    assert_int_equal(sec0_session(e, c[1], NULL, &rep), WIFIPROV_HTTPD_VERDICT_REPLY); /* 1002 */
    assert_int_equal(sec0_session(e, c[2], NULL, &rep), WIFIPROV_HTTPD_VERDICT_CLOSE);
    assert_int_equal(wifiprov_httpd_session_count(e->h), 2);
    assert_true(wifiprov_device_session_exists(e->dev, 1001));
    assert_true(wifiprov_device_session_exists(e->dev, 1002));
    /* Once one closes, the newcomer gets in. */
    assert_int_equal(wifiprov_device_session_count(e->dev), 2);
    wifiprov_sessions_close(e->ss, 1001, WIFIPROV_SESSION_WHY_OWNER);
    assert_int_equal(sec0_session(e, c[2], NULL, &rep), WIFIPROV_HTTPD_VERDICT_REPLY);
    assert_true(rep.set_cookie);
    /* The connection that lost its session is refused until it makes a new one. */
    assert_int_equal(post(e, c[0], "/echo", NULL, "x", &rep, NULL, 0), WIFIPROV_HTTPD_VERDICT_CLOSE);
    for (int i = 0; i < 3; i++)
        wifiprov__httpd_conn_free(e->h, c[i]);
}

static void body_checks(void **state)
{
    static const char *const bad_cl[] = {NULL, "", "0", "4097", "99999999999999999999", "12a", "-1", " 3"};
    struct env *e = *state;
    struct wifiprov_httpd_conn *c = wifiprov__httpd_conn_new(e->h, "192.0.2.1");
    struct wifiprov_httpd_reply rep;
    struct wifiprov_httpd_req *r;

    for (size_t i = 0; i < sizeof(bad_cl) / sizeof(bad_cl[0]); i++) {
        r = wifiprov__httpd_req_new(c);
        assert_int_equal(wifiprov__httpd_begin(e->h, r, "POST", "/echo", NULL, bad_cl[i], false, &rep),
                         WIFIPROV_HTTPD_VERDICT_CLOSE);
        wifiprov__httpd_req_free(e->h, r);
    }
    /* Chunked. */
    r = wifiprov__httpd_req_new(c);
    assert_int_equal(wifiprov__httpd_begin(e->h, r, "POST", "/echo", NULL, "3", true, &rep),
                     WIFIPROV_HTTPD_VERDICT_CLOSE);
    wifiprov__httpd_req_free(e->h, r);
    /* More than announced; less than announced. */
    r = wifiprov__httpd_req_new(c);
    assert_int_equal(wifiprov__httpd_begin(e->h, r, "POST", "/echo", NULL, "3", false, &rep),
                     WIFIPROV_HTTPD_VERDICT_CONTINUE);
    assert_int_equal(wifiprov__httpd_body(r, (const uint8_t *)"ab", 2), WIFIPROV_HTTPD_VERDICT_CONTINUE);
    assert_int_equal(wifiprov__httpd_body(r, (const uint8_t *)"cd", 2), WIFIPROV_HTTPD_VERDICT_CLOSE);
    wifiprov__httpd_req_free(e->h, r);
    r = wifiprov__httpd_req_new(c);
    assert_int_equal(wifiprov__httpd_begin(e->h, r, "POST", "/echo", NULL, "4096", false, &rep),
                     WIFIPROV_HTTPD_VERDICT_CONTINUE);
    assert_int_equal(wifiprov__httpd_body(r, (const uint8_t *)"ab", 2), WIFIPROV_HTTPD_VERDICT_CONTINUE);
    assert_int_equal(wifiprov__httpd_finish(e->h, r, &rep), WIFIPROV_HTTPD_VERDICT_CLOSE);
    wifiprov__httpd_req_free(e->h, r);
    /* No session was opened by any of these. */
    assert_int_equal(wifiprov_httpd_session_count(e->h), 0);
    /* A handler error closes the connection and forgets the session nobody knows the cookie of. */
    assert_int_equal(post(e, c, "/prov-session", NULL, "\xff", &rep, NULL, 0), WIFIPROV_HTTPD_VERDICT_CLOSE);
    assert_int_equal(wifiprov_httpd_session_count(e->h), 0);
    assert_int_equal(wifiprov_device_session_count(e->dev), 0);
    wifiprov__httpd_conn_free(e->h, c);
}

static void methods_and_paths(void **state)
{
    struct env *e = *state;
    struct wifiprov_httpd_conn *c = wifiprov__httpd_conn_new(e->h, "192.0.2.1");
    struct wifiprov_httpd_reply rep;
    struct wifiprov_httpd_req *r;
    static const struct {
        const char *method, *path;
        unsigned status;
        const char *body;
    } cases[] = {
        {"GET", "/echo", 405, NULL},          {"PUT", "/prov-session", 405, NULL},
        {"GET", "/nothing", 404, NULL},       {"POST", "/nothing", 404, NULL},
        {"POST", "/", 404, NULL},             {"POST", "echo", 404, NULL},
        {"GET", "/generate_204", 204, ""},    {"GET", "/ncsi.txt", 200, "Microsoft NCSI"},
        {"HEAD", "/connecttest.txt", 200, "Microsoft Connect Test"},
        {"POST", "/generate_204", 404, NULL}, {"GET", "/hotspot-detect.html", 200, NULL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = wifiprov__httpd_req_new(c);
        assert_int_equal(wifiprov__httpd_begin(e->h, r, cases[i].method, cases[i].path, NULL, "1", false, &rep),
                         WIFIPROV_HTTPD_VERDICT_REPLY);
        assert_int_equal(rep.status, cases[i].status);
        assert_int_equal(rep.allow_post, cases[i].status == 405);
        if (cases[i].body) {
            assert_int_equal(rep.len, strlen(cases[i].body));
            assert_memory_equal(rep.body, cases[i].body, rep.len);
        }
        wifiprov__httpd_req_free(e->h, r);
    }
    assert_int_equal(wifiprov_httpd_session_count(e->h), 0);
    wifiprov__httpd_conn_free(e->h, c);
}

static const char *page_file(const char *name, const char *text)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/wifiprov-page-%ld-%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid(), name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char *header(const struct wifiprov_httpd_reply *rep, const char *name)
{
    for (const char *const *h = rep->headers; h && h[0]; h += 2) {
        if (strcmp(h[0], name) == 0)
            return h[1];
    }
    return NULL;
}

/* The page: loading rules, its CSP (hashes of its inline script and style), its paths. */
static void page_answers(void **state)
{
    struct env *e = *state;
    static const char html[] =
        "<!doctype html><html><head><style>b{}</style></head><body><script>1</script></body></html>";
    struct wifiprov_httpd_page *p = NULL;
    struct wifiprov_httpd_config hc;
    struct wifiprov_httpd *h = NULL;
    struct wifiprov_httpd_conn *c;
    struct wifiprov_httpd_reply rep;
    struct wifiprov_httpd_req *r;
    const char *path;
    static const struct {
        const char *method, *path;
        unsigned status;
    } cases[] = {
        {"GET", "/", 200},
        {"HEAD", "/index.html", 200},
        {"GET", "/generate_204", 302},
        {"GET", "/redirect", 302},
        {"GET", "/success.txt", 302},
        {"POST", "/", 404},
        {"GET", "/favicon.ico", 404},
        {"GET", "/echo", 405},
        {"POST", "/generate_204", 404},
    };

    assert_int_equal(wifiprov_httpd_page_load("/nonexistent/index.html", &p), WIFIPROV_ERR_IO);
    assert_null(p);
    path = page_file("empty", "");
    assert_int_equal(wifiprov_httpd_page_load(path, &p), WIFIPROV_ERR_INVAL);
    unlink(path);
    path = page_file("text", "not a page");
    assert_int_equal(wifiprov_httpd_page_load(path, &p), WIFIPROV_ERR_INVAL);
    unlink(path);
    /* No inline script: none may run. */
    path = page_file("plain", "<html><body>x</body></html>");
    assert_int_equal(wifiprov_httpd_page_load(path, &p), 0);
    unlink(path);
    c = wifiprov__httpd_conn_new(e->h, "192.0.2.1");
    r = wifiprov__httpd_req_new(c);
    assert_true(wifiprov__httpd_page_answer(p, "/", NULL, &rep));
    assert_non_null(strstr(header(&rep, "Content-Security-Policy"), "script-src 'none'; style-src 'none';"));
    wifiprov__httpd_req_free(e->h, r);
    wifiprov__httpd_conn_free(e->h, c);
    wifiprov_httpd_page_free(p);

    path = page_file("page", html);
    assert_int_equal(wifiprov_httpd_page_load(path, &p), 0);
    unlink(path);
    assert_int_equal(wifiprov_httpd_page_size(p), sizeof(html) - 1);
    memset(&hc, 0, sizeof(hc));
    hc.device = e->dev;
    hc.sessions = e->ss;
    hc.page = p;
    assert_int_equal(wifiprov_httpd_new(&hc, &h), 0);
    c = wifiprov__httpd_conn_new(h, "192.0.2.1");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = wifiprov__httpd_req_new(c);
        assert_int_equal(wifiprov__httpd_begin(h, r, cases[i].method, cases[i].path, NULL, "1", false, &rep),
                         WIFIPROV_HTTPD_VERDICT_REPLY);
        if (rep.status != cases[i].status)
            fail_msg("%s %s: %u, want %u", cases[i].method, cases[i].path, rep.status, cases[i].status);
        if (rep.status == 200) {
            assert_string_equal(rep.content_type, "text/html; charset=utf-8");
            assert_int_equal(rep.len, sizeof(html) - 1);
            assert_memory_equal(rep.body, html, rep.len);
            assert_string_equal(header(&rep, "Content-Security-Policy"),
                                "default-src 'none'; script-src 'sha256-a4ayc/80/OGda4BO/1o/V0etpOqiLx1JwB5S3beHW0s='; "
                                "style-src 'sha256-7yqHVAesot11p6HczDsgKRipvI5UPgs97z80zNXlans='; connect-src 'self'; "
                                "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
            assert_string_equal(header(&rep, "Cache-Control"), "no-store");
            assert_string_equal(header(&rep, "X-Content-Type-Options"), "nosniff");
        }
        if (rep.status == 302) {
            /* Without a socket there is no local address: a relative redirect. */
            assert_string_equal(rep.location, "/");
            assert_string_equal(header(&rep, "Cache-Control"), "no-store");
        } else {
            assert_null(rep.location);
        }
        wifiprov__httpd_req_free(h, r);
    }
    wifiprov__httpd_conn_free(h, c);
    wifiprov_httpd_free(h);
    wifiprov_httpd_page_free(p);
}

static void listen_address(void **state)
{
    unsigned char ss[128];
    size_t len = 0;
    static const char *const good[] = {"0.0.0.0:80", "127.0.0.1:0", "[::]:80", "[::1]:65535", "192.168.4.1:8080"};
    static const char *const bad[] = {"", "80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:80",
                                      "[::1]80", "[::1]:", "localhost:80", "1.2.3.4:8x", "[1.2.3.4]:80"};

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(wifiprov_httpd_parse_address(good[i], ss, &len), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (wifiprov_httpd_parse_address(bad[i], ss, &len) != WIFIPROV_ERR_INVAL)
            fail_msg("accepted '%s'", bad[i]);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cookie_parse),
        cmocka_unit_test_setup_teardown(session_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(no_eviction_of_established, setup, teardown),
        cmocka_unit_test_setup_teardown(body_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(methods_and_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(page_answers, setup, teardown),
        cmocka_unit_test(listen_address),
    };

    return TEST_RUN("http_core", tests, argc, argv);
}
