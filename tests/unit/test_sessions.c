/*
 * The session policy (src/transport/sessions.c, guard.c) with an injected clock and a
 * real security-1 device: sessions only from prov-session, eviction rules, the
 * handshake bound, peer binding, growing delays and their decay, token buckets,
 * lock-out and unlock, held requests (wake routing, cancel, timeout).
 */
#include <stdlib.h>
#include <string.h>

#include "core_test_util.h"
#include "transport/guard.h"
#include "transport/sessions.h"

#define EP_DATA "custom-data"
#define EP_SLOW "slow-data"
#define MAX_SESSIONS 3u

struct env {
    struct tcreds cr;
    struct wifiprov_device *dev;
    struct wifiprov_sessions *ss;
    struct wifiprov_session_owner owner, other;
    uint64_t now;
    unsigned next_id;
    unsigned wakes, other_wakes;
    unsigned closed[8];
    uint32_t last_closed;
    bool slow_ready;
};

static uint64_t clock_fn(void *ctx)
{
    return ((struct env *)ctx)->now;
}

static int ids(void *ctx, uint8_t *buf, size_t len)
{
    struct env *e = ctx;
    uint32_t id = 101 + e->next_id++;

    assert_int_equal(len, 4);
    buf[0] = (uint8_t)(id >> 24);
    buf[1] = (uint8_t)(id >> 16);
    buf[2] = (uint8_t)(id >> 8);
    buf[3] = (uint8_t)id;
    return 0;
}

static void on_wake(void *ctx, uint32_t id)
{
    (void)id;
    ((struct env *)ctx)->wakes++;
}

static void on_other_wake(void *ctx, uint32_t id)
{
    (void)id;
    ((struct env *)ctx)->other_wakes++;
}

static void on_closed(void *ctx, uint32_t id, enum wifiprov_session_why why)
{
    struct env *e = ctx;

    assert_true((unsigned)why < 8);
    e->closed[why]++;
    e->last_closed = id;
}

static void device_wake(void *ctx, uint32_t id)
{
    wifiprov_sessions_wake(((struct env *)ctx)->ss, id);
}

/* Answers once slow_ready is set. */
static int slow_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t cap, size_t *out_len)
{
    struct env *e = ctx;

    if (!e->slow_ready)
        return WIFIPROV_ERR_PENDING;
    return techo_handler(NULL, req, out, cap, out_len);
}

static struct env *env_new(unsigned max_failures)
{
    struct env *e = calloc(1, sizeof(*e));
    struct wifiprov_device_config dc;
    struct wifiprov_sessions_config sc;

    assert_non_null(e);
    e->now = 1000000;
    tcreds_load(&e->cr);
    tdev_config(&dc, TS_SEC1_POP, &e->cr);
    dc.max_sessions = MAX_SESSIONS;
    dc.wake_fn = device_wake;
    dc.wake_ctx = e;
    assert_int_equal(wifiprov_device_new(&dc, &e->dev), 0);
    assert_int_equal(wifiprov_device_add_endpoint(e->dev, EP_DATA, techo_handler, NULL), 0);
    assert_int_equal(wifiprov_device_add_endpoint(e->dev, EP_SLOW, slow_handler, e), 0);
    memset(&sc, 0, sizeof(sc));
    sc.device = e->dev;
    sc.max_sessions = MAX_SESSIONS;
    sc.clock_ms = clock_fn;
    sc.clock_ctx = e;
    sc.random = ids;
    sc.random_ctx = e;
    sc.guard.max_failures = max_failures;
    assert_int_equal(wifiprov_sessions_new(&sc, &e->ss), 0);
    e->owner = (struct wifiprov_session_owner){"http", e, on_wake, on_closed};
    e->other = (struct wifiprov_session_owner){"ble", e, on_other_wake, on_closed};
    return e;
}

static int setup(void **state)
{
    *state = env_new(0);
    return 0;
}

static int setup_lockout(void **state)
{
    *state = env_new(3);
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    wifiprov_sessions_free(e->ss);
    wifiprov_device_free(e->dev);
    tcreds_free(&e->cr);
    free(e);
    return 0;
}

/* --- a peer: a library client whose transport is the policy ------------------- */

struct peer {
    struct env *e;
    const struct wifiprov_session_owner *owner;
    const char *addr;
    uint32_t id;
    int last_err;
    struct wifiprov_client *c;
};

static int peer_xfer(void *ctx, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp, size_t cap,
                     size_t *resp_len)
{
    struct peer *p = ctx;

    if (p->id && wifiprov_sessions_exists(p->e->ss, p->id))
        p->last_err = wifiprov_sessions_handle(p->e->ss, p->id, p->addr, ep, req, req_len, resp, cap, resp_len);
    else
        p->last_err =
            wifiprov_sessions_begin(p->e->ss, p->owner, p->addr, ep, req, req_len, resp, cap, resp_len, &p->id);
    return p->last_err ? WIFIPROV_ERR_TRANSPORT : 0;
}

static void peer_init(struct peer *p, struct env *e, const char *addr, const char *pop)
{
    struct wifiprov_client_config cc;

    memset(p, 0, sizeof(*p));
    p->e = e;
    p->owner = &e->owner;
    p->addr = addr;
    memset(&cc, 0, sizeof(cc));
    cc.xfer = peer_xfer;
    cc.xfer_ctx = p;
    cc.security = WIFIPROV_SECURITY_1;
    cc.pop = pop;
    assert_int_equal(wifiprov_client_new(&cc, &p->c), 0);
}

static void peer_free(struct peer *p)
{
    wifiprov_client_free(p->c);
    p->c = NULL;
}

/* A full handshake; @return what the policy answered last. */
static int peer_handshake(struct peer *p)
{
    int rc = wifiprov_client_handshake(p->c);

    return rc == 0 ? 0 : p->last_err;
}

/* Only a Command0 (the session stays half-open). @return the policy's answer. */
static int peer_cmd0(struct peer *p)
{
    uint8_t req[41] = {0x10, 0x01, 0x5a, 0x25, 0xa2, 0x01, 0x22, 0x0a, 0x20};
    uint8_t out[256];
    size_t n;

    for (size_t i = 9; i < sizeof(req); i++)
        req[i] = (uint8_t)(i * 7u + 1u);
    p->id = 0;
    return wifiprov_sessions_begin(p->e->ss, p->owner, p->addr, WIFIPROV_EP_SESSION, req, sizeof(req), out, sizeof(out),
                                   &n, &p->id);
}

/* --- cases ------------------------------------------------------------------------- */

static void begin_rules(void **state)
{
    struct env *e = *state;
    uint8_t out[512];
    size_t n = 0;
    uint32_t id = 7;
    struct peer a;

    /* proto-ver: answered, no session made. */
    assert_int_equal(wifiprov_sessions_begin(e->ss, &e->owner, "10.0.0.1", WIFIPROV_EP_VERSION, (const uint8_t *)"---",
                                             3, out, sizeof(out), &n, &id),
                     0);
    assert_true(n > 0);
    assert_int_equal(id, 0);
    /* Any other endpoint without a session: refused, nothing made. */
    assert_int_equal(wifiprov_sessions_begin(e->ss, &e->owner, "10.0.0.1", EP_DATA, (const uint8_t *)"x", 1, out,
                                             sizeof(out), &n, &id),
                     WIFIPROV_ERR_NO_SESSION);
    assert_int_equal(wifiprov_sessions_count(e->ss, NULL), 0);
    /* A prov-session the device rejects: the session it opened is closed again. */
    assert_int_equal(wifiprov_sessions_begin(e->ss, &e->owner, "10.0.0.1", WIFIPROV_EP_SESSION, (const uint8_t *)"\xff",
                                             1, out, sizeof(out), &n, &id),
                     WIFIPROV_ERR_PROTO);
    assert_int_equal(id, 0);
    assert_int_equal(wifiprov_sessions_count(e->ss, NULL), 0);
    assert_int_equal(wifiprov_device_session_count(e->dev), 0);
    assert_int_equal(e->closed[WIFIPROV_SESSION_WHY_FAILED], 1);
    /* A good handshake makes one. */
    peer_init(&a, e, "10.0.0.1", T_POP);
    assert_int_equal(peer_handshake(&a), 0);
    assert_int_equal(wifiprov_sessions_count(e->ss, &e->owner), 1);
    assert_int_equal(wifiprov_sessions_count(e->ss, &e->other), 0);
    techo_check(a.c, EP_DATA, "a");
    peer_free(&a);
}

static void eviction(void **state)
{
    struct env *e = *state;
    struct peer a, b, c, d, d2, x;
    uint32_t c_id, d_id;

    peer_init(&a, e, "10.0.0.1", T_POP);
    assert_int_equal(peer_handshake(&a), 0);
    peer_init(&b, e, "10.0.0.2", T_POP);
    peer_init(&c, e, "10.0.0.3", T_POP);
    e->now += 10;
    assert_int_equal(peer_cmd0(&b), 0);
    e->now += 10;
    assert_int_equal(peer_cmd0(&c), 0);
    c_id = c.id;
    /* Full: the newcomer takes the place of the least recently used half-open session (B), never A's. */
    peer_init(&d, e, "10.0.0.4", T_POP);
    e->now += 10;
    assert_int_equal(peer_cmd0(&d), 0);
    d_id = d.id;
    assert_int_equal(e->closed[WIFIPROV_SESSION_WHY_EVICTED], 1);
    assert_false(wifiprov_sessions_exists(e->ss, b.id));
    assert_true(wifiprov_sessions_exists(e->ss, a.id));
    techo_check(a.c, EP_DATA, "a");
    /* A peer that opens another half-open session loses its own older one first (D), not C's older one. */
    peer_init(&d2, e, "10.0.0.4", T_POP);
    e->now += 10;
    assert_int_equal(peer_cmd0(&d2), 0);
    assert_false(wifiprov_sessions_exists(e->ss, d_id));
    assert_true(wifiprov_sessions_exists(e->ss, c_id));
    /* Once every session is established, a newcomer is refused and nobody is evicted. */
    wifiprov_sessions_close(e->ss, c_id, WIFIPROV_SESSION_WHY_OWNER);
    wifiprov_sessions_close(e->ss, d2.id, WIFIPROV_SESSION_WHY_OWNER);
    peer_free(&b);
    peer_init(&b, e, "10.0.0.2", T_POP);
    assert_int_equal(peer_handshake(&b), 0);
    peer_free(&c);
    peer_init(&c, e, "10.0.0.3", T_POP);
    assert_int_equal(peer_handshake(&c), 0);
    peer_init(&x, e, "10.0.0.9", T_POP);
    assert_int_equal(peer_cmd0(&x), WIFIPROV_ERR_TOO_MANY_SESSIONS);
    assert_int_equal(wifiprov_sessions_count(e->ss, NULL), 3);
    techo_check(a.c, EP_DATA, "a");
    techo_check(b.c, EP_DATA, "b");
    techo_check(c.c, EP_DATA, "c");
    peer_free(&a);
    peer_free(&b);
    peer_free(&c);
    peer_free(&d);
    peer_free(&d2);
    peer_free(&x);
}

/* @p id is the next deadline, at @p due: still there a millisecond before, closed for @p why at it. */
static void expect_closed_at(struct env *e, uint32_t id, uint64_t due, enum wifiprov_session_why why)
{
    unsigned before = e->closed[why];

    assert_int_equal(wifiprov_sessions_next_deadline_ms(e->ss), due);
    e->now = due - 1;
    wifiprov_sessions_expire(e->ss);
    assert_true(wifiprov_sessions_exists(e->ss, id));
    e->now = due;
    wifiprov_sessions_expire(e->ss);
    assert_false(wifiprov_sessions_exists(e->ss, id));
    assert_int_equal(e->closed[why], before + 1);
}

static void handshake_timeout(void **state)
{
    struct env *e = *state;
    struct peer a, h;
    uint64_t t0 = e->now;

    peer_init(&a, e, "10.0.0.1", T_POP);
    assert_int_equal(peer_handshake(&a), 0);
    peer_init(&h, e, "10.0.0.2", T_POP);
    assert_int_equal(peer_cmd0(&h), 0);
    expect_closed_at(e, h.id, t0 + 30000, WIFIPROV_SESSION_WHY_HANDSHAKE_TIMEOUT);
    /* The established session only meets the idle bound (300 s after its last use). */
    assert_true(wifiprov_sessions_exists(e->ss, a.id));
    expect_closed_at(e, a.id, t0 + 300000, WIFIPROV_SESSION_WHY_IDLE);
    assert_int_equal(e->closed[WIFIPROV_SESSION_WHY_IDLE], 1);
    assert_int_equal(wifiprov_sessions_next_deadline_ms(e->ss), UINT64_MAX);
    peer_free(&a);
    peer_free(&h);
}

static void peer_binding(void **state)
{
    struct env *e = *state;
    struct peer a, thief;
    uint8_t out[512];
    size_t n;

    peer_init(&a, e, "10.0.0.1", T_POP);
    assert_int_equal(peer_handshake(&a), 0);
    /* Another address with A's id: refused, whatever the endpoint; A's session is not disturbed. */
    assert_int_equal(
        wifiprov_sessions_handle(e->ss, a.id, "10.0.0.66", EP_DATA, (const uint8_t *)"x", 1, out, sizeof(out), &n),
        WIFIPROV_ERR_NO_SESSION);
    peer_init(&thief, e, "10.0.0.66", T_POP);
    thief.id = a.id;
    assert_int_not_equal(wifiprov_client_handshake(thief.c), 0);
    assert_int_equal(thief.last_err, WIFIPROV_ERR_NO_SESSION);
    assert_true(wifiprov_device_session_established(e->dev, a.id));
    techo_check(a.c, EP_DATA, "still mine");
    techo_check(a.c, EP_DATA, "and again");
    peer_free(&a);
    peer_free(&thief);
}

/* Wrong PoP from one peer: five free failures, then 2, 4, 8, ... s, capped at 60 s. */
static void guard_delays(void **state)
{
    struct env *e = *state;
    struct wifiprov_guard *g = wifiprov_sessions_guard(e->ss);
    struct peer bad, good, other;
    uint64_t delay = 2000;

    peer_init(&bad, e, "10.0.0.5", "wrong");
    for (int i = 0; i < 5; i++) {
        assert_int_equal(peer_handshake(&bad), WIFIPROV_ERR_AUTH);
        e->now += 600; /* the peer's bucket refills */
    }
    assert_int_equal(wifiprov__guard_failures(g, "http", "10.0.0.5", e->now), 5);
    assert_int_equal(peer_handshake(&bad), WIFIPROV_ERR_AUTH); /* the 6th: allowed, then 2 s */
    for (int i = 0; i < 8; i++) {
        /* Refused at once, before the device, while the delay runs. */
        assert_int_equal(peer_handshake(&bad), WIFIPROV_ERR_BUSY);
        e->now += delay - 1;
        assert_int_equal(peer_handshake(&bad), WIFIPROV_ERR_BUSY);
        e->now += 1;
        assert_int_equal(peer_handshake(&bad), WIFIPROV_ERR_AUTH);
        delay = delay * 2 > 60000 ? 60000 : delay * 2;
    }
    assert_int_equal(delay, 60000);
    /* 14 failures, but with 60 s between the last ones one was forgiven before each of them. */
    assert_int_equal(wifiprov__guard_failures(g, "http", "10.0.0.5", e->now), 11);
    /* The device waits too: another peer is refused (device delay) ... */
    peer_init(&other, e, "10.0.0.6", "wrong");
    assert_int_equal(peer_handshake(&other), WIFIPROV_ERR_BUSY);
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.0.6", e->now), WIFIPROV_GUARD_DEVICE_DELAY);
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.0.5", e->now), WIFIPROV_GUARD_PEER_DELAY);
    /* ... and the right PoP gets through once the delay is over. */
    e->now += 60000;
    peer_init(&good, e, "10.0.0.7", T_POP);
    assert_int_equal(peer_handshake(&good), 0);
    techo_check(good.c, EP_DATA, "in");
    peer_free(&bad);
    peer_free(&good);
    peer_free(&other);
}

/* One failure is forgiven per 60 s without failures. */
static void guard_decay(void **state)
{
    struct env *e = *state;
    struct wifiprov_guard *g = wifiprov_sessions_guard(e->ss);

    for (int i = 0; i < 7; i++)
        wifiprov__guard_failure(g, "http", "10.0.0.5", e->now);
    assert_int_equal(wifiprov__guard_failures(g, "http", "10.0.0.5", e->now), 7);
    assert_int_equal(wifiprov__guard_failures(g, "http", NULL, e->now), 7);
    e->now += 59999;
    assert_int_equal(wifiprov__guard_failures(g, "http", "10.0.0.5", e->now), 7);
    e->now += 1;
    assert_int_equal(wifiprov__guard_failures(g, "http", "10.0.0.5", e->now), 6);
    e->now += 2 * 60000;
    assert_int_equal(wifiprov__guard_failures(g, "http", "10.0.0.5", e->now), 4);
    assert_int_equal(wifiprov__guard_failures(g, "http", NULL, e->now), 4);
    /* Back below the free count: the next failure costs no delay. */
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.0.5", e->now), WIFIPROV_GUARD_ALLOW);
    wifiprov__guard_failure(g, "http", "10.0.0.5", e->now);
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.0.5", e->now), WIFIPROV_GUARD_ALLOW);
    /* A failure restarts the decay clock. */
    e->now += 30000;
    wifiprov__guard_failure(g, "http", "10.0.0.5", e->now);
    e->now += 59999;
    assert_int_equal(wifiprov__guard_failures(g, "http", "10.0.0.5", e->now), 6);
    e->now += 6 * 60000;
    assert_int_equal(wifiprov__guard_failures(g, "http", "10.0.0.5", e->now), 0);
    /* Peers are (transport, address): the same address over BLE is another peer. */
    assert_int_equal(wifiprov__guard_failures(g, "ble", "10.0.0.5", e->now), 0);
}

static void token_buckets(void **state)
{
    struct env *e = *state;
    struct wifiprov_guard *g = wifiprov_sessions_guard(e->ss);
    struct peer p;
    char addr[32];

    /* Per peer: a burst of 5, then 2 per second. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.1.1", e->now), WIFIPROV_GUARD_ALLOW);
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.1.1", e->now), WIFIPROV_GUARD_PEER_RATE);
    e->now += 499;
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.1.1", e->now), WIFIPROV_GUARD_PEER_RATE);
    e->now += 1;
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.1.1", e->now), WIFIPROV_GUARD_ALLOW);
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.1.1", e->now), WIFIPROV_GUARD_PEER_RATE);
    /* The device: 20 at once, then 10 per second. Above, 6 were taken and 5 came back in the 500 ms
     * (refusals take none): 19 more starts get in. Busy peers (3 each) empty it ... */
    for (int i = 0; i < 19; i++) {
        snprintf(addr, sizeof(addr), "10.0.2.%d", i / 3);
        assert_int_equal(wifiprov__guard_admit(g, "http", addr, e->now), WIFIPROV_GUARD_ALLOW);
    }
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.2.6", e->now), WIFIPROV_GUARD_DEVICE_RATE);
    /* ... a quiet peer still gets in, through the reserve (4 at once, then 2 per second) ... */
    for (int i = 0; i < 4; i++) {
        snprintf(addr, sizeof(addr), "10.0.3.%d", i);
        assert_int_equal(wifiprov__guard_admit(g, "http", addr, e->now), WIFIPROV_GUARD_ALLOW);
    }
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.3.9", e->now), WIFIPROV_GUARD_DEVICE_RATE);
    /* ... and a busy peer does not: it waits for the device's bucket. */
    e->now += 500; /* 5 device tokens, 1 reserve token, 1 token for each peer */
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.3.10", e->now), WIFIPROV_GUARD_ALLOW);
    for (int i = 0; i < 4; i++) {
        snprintf(addr, sizeof(addr), "10.0.2.%d", i);
        assert_int_equal(wifiprov__guard_admit(g, "http", addr, e->now), WIFIPROV_GUARD_ALLOW);
    }
    /* The device's bucket is empty again; the reserve's token is not for a busy peer. */
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.2.4", e->now), WIFIPROV_GUARD_DEVICE_RATE);
    assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.3.11", e->now), WIFIPROV_GUARD_ALLOW);

    /* Through the policy: only Command0 takes a token, so a handshake that got in finishes. */
    e->now += 60000;
    for (int i = 0; i < 4; i++)
        assert_int_equal(wifiprov__guard_admit(g, "http", "10.0.4.1", e->now), WIFIPROV_GUARD_ALLOW);
    peer_init(&p, e, "10.0.4.1", T_POP);
    assert_int_equal(peer_handshake(&p), 0); /* the 5th token; Command1 needs none */
    techo_check(p.c, EP_DATA, "p");
    assert_int_equal(peer_handshake(&p), WIFIPROV_ERR_BUSY);        /* a new Command0 on the session: none left */
    assert_true(wifiprov_device_session_established(e->dev, p.id)); /* refused before the device saw it */
    peer_free(&p);
}

static void lockout_unlock(void **state)
{
    struct env *e = *state;
    struct peer bad, good;

    peer_init(&bad, e, "10.0.0.5", "wrong");
    for (int i = 0; i < 3; i++) {
        assert_false(wifiprov_sessions_locked(e->ss));
        assert_int_equal(peer_handshake(&bad), WIFIPROV_ERR_AUTH);
    }
    assert_true(wifiprov_sessions_locked(e->ss));
    /* Locked: the right PoP from another peer is refused too, however long it waits. */
    e->now += 24u * 3600u * 1000u;
    peer_init(&good, e, "10.0.0.7", T_POP);
    assert_int_equal(peer_handshake(&good), WIFIPROV_ERR_BUSY);
    assert_true(wifiprov_sessions_locked(e->ss));
    /* The operator's SIGUSR1. */
    wifiprov_sessions_unlock(e->ss);
    assert_false(wifiprov_sessions_locked(e->ss));
    assert_int_equal(wifiprov__guard_failures(wifiprov_sessions_guard(e->ss), "http", NULL, e->now), 0);
    assert_int_equal(peer_handshake(&good), 0);
    techo_check(good.c, EP_DATA, "unlocked");
    peer_free(&bad);
    peer_free(&good);
}

/* Held requests: the wake reaches the owning transport; cancel and the 60 s bound close the session. */
static void held_requests(void **state)
{
    struct env *e = *state;
    struct peer a, b;
    uint8_t out[512], resp[64];
    size_t n = 0;

    peer_init(&a, e, "10.0.0.1", T_POP);
    assert_int_equal(peer_handshake(&a), 0);
    peer_init(&b, e, "AA:BB:CC:DD:EE:FF", T_POP);
    b.owner = &e->other;
    assert_int_equal(peer_handshake(&b), 0);
    assert_int_equal(wifiprov_sessions_owner(e->ss, b.id), &e->other);
    /* B's request is held; a wake of the device reaches B's transport only. */
    assert_int_not_equal(wifiprov_client_request(b.c, EP_SLOW, (const uint8_t *)"s", 1, resp, sizeof(resp), &n), 0);
    assert_int_equal(b.last_err, WIFIPROV_ERR_PENDING);
    assert_true(wifiprov_sessions_pending(e->ss, b.id));
    e->slow_ready = true;
    wifiprov_device_wake(e->dev);
    assert_int_equal(e->other_wakes, 1);
    assert_int_equal(e->wakes, 0);
    assert_int_equal(wifiprov_sessions_resume(e->ss, b.id, out, sizeof(out), &n), 0);
    assert_false(wifiprov_sessions_pending(e->ss, b.id));
    /* A held request whose peer went away: its session is closed with it. */
    e->slow_ready = false;
    assert_int_not_equal(wifiprov_client_request(a.c, EP_SLOW, (const uint8_t *)"s", 1, resp, sizeof(resp), &n), 0);
    assert_int_equal(a.last_err, WIFIPROV_ERR_PENDING);
    wifiprov_sessions_cancel(e->ss, a.id);
    assert_false(wifiprov_sessions_exists(e->ss, a.id));
    assert_int_equal(wifiprov_device_session_count(e->dev), 1);
    assert_int_equal(e->closed[WIFIPROV_SESSION_WHY_CANCELLED], 1);
    /* A held reply that never comes: closed after 60 s. */
    e->now += 1000;
    wifiprov_sessions_close(e->ss, b.id, WIFIPROV_SESSION_WHY_OWNER);
    peer_free(&b);
    peer_init(&b, e, "AA:BB:CC:DD:EE:FF", T_POP);
    b.owner = &e->other;
    assert_int_equal(peer_handshake(&b), 0);
    assert_int_not_equal(wifiprov_client_request(b.c, EP_SLOW, (const uint8_t *)"s", 1, resp, sizeof(resp), &n), 0);
    assert_int_equal(wifiprov_sessions_next_deadline_ms(e->ss), e->now + 60000);
    e->now += 60000;
    wifiprov_sessions_expire(e->ss);
    assert_false(wifiprov_sessions_exists(e->ss, b.id));
    assert_int_equal(e->closed[WIFIPROV_SESSION_WHY_PENDING_TIMEOUT], 1);
    assert_int_equal(wifiprov_device_session_count(e->dev), 0);
    /* Closing a transport's sessions leaves the others'. */
    peer_free(&a);
    peer_init(&a, e, "10.0.0.1", T_POP);
    assert_int_equal(peer_handshake(&a), 0);
    peer_free(&b);
    peer_init(&b, e, "AA:BB:CC:DD:EE:FF", T_POP);
    b.owner = &e->other;
    assert_int_equal(peer_handshake(&b), 0);
    wifiprov_sessions_close_owner(e->ss, &e->other, WIFIPROV_SESSION_WHY_STOPPED);
    assert_int_equal(wifiprov_sessions_count(e->ss, NULL), 1);
    techo_check(a.c, EP_DATA, "http stays");
    peer_free(&a);
    peer_free(&b);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(begin_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(handshake_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(peer_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(guard_delays, setup, teardown),
        cmocka_unit_test_setup_teardown(guard_decay, setup, teardown),
        cmocka_unit_test_setup_teardown(token_buckets, setup, teardown),
        cmocka_unit_test_setup_teardown(lockout_unlock, setup_lockout, teardown),
        cmocka_unit_test_setup_teardown(held_requests, setup, teardown),
    };

    return TEST_RUN("sessions", tests, argc, argv);
}
