/* Handshake throttling of the session policy (see guard.h). */
#include <stdio.h>
#include <string.h>

#include "transport/guard.h"
#include "transport/sessions.h"
#include "util.h"

#define N_PEERS 32u
#define TOKEN 1000u /* a bucket counts thousandths of a start */
#define LOG_INTERVAL_MS 1000u
#define MAX_SHIFT 16u

/* Failures with delay and decay. */
struct counter {
    unsigned failures;
    uint64_t last_ms;       /* last failure, or the last step of decay */
    uint64_t not_before_ms; /* no start before this */
};

struct bucket {
    uint64_t milli; /* tokens × TOKEN */
    uint64_t at_ms; /* last refill */
    bool primed;
};

struct peer {
    bool used;
    const char *owner; /* the transport's static name */
    char addr[WIFIPROV_SESSIONS_PEER_MAX + 1];
    uint64_t seen_ms;
    struct counter c;
    struct bucket b;
};

struct wifiprov_guard {
    unsigned free_failures;
    uint64_t max_delay_ms;
    uint64_t decay_ms;
    unsigned max_failures;
    unsigned rate, burst, peer_rate, peer_burst, reserve_rate, reserve_burst;
    const char *unlock_hint;
    struct counter dev;
    struct bucket dev_bucket;
    struct bucket reserve; /* for quiet peers when dev_bucket is empty */
    unsigned total;        /* failures since start or unlock, for the lock-out */
    bool locked;
    uint64_t log_ms; /* last refusal logged */
    bool logged_once;
    unsigned suppressed; /* refusals not logged since */
    struct peer peers[N_PEERS];
};

const char *wifiprov__guard_verdict_to_string(enum wifiprov_guard_verdict v)
{
    switch (v) {
    case WIFIPROV_GUARD_ALLOW:
        return "allowed";
    case WIFIPROV_GUARD_PEER_DELAY:
        return "the peer waits after failed handshakes";
    case WIFIPROV_GUARD_DEVICE_DELAY:
        return "the device waits after failed handshakes";
    case WIFIPROV_GUARD_PEER_RATE:
        return "too many handshake starts from the peer";
    case WIFIPROV_GUARD_DEVICE_RATE:
        return "too many handshake starts on the device";
    case WIFIPROV_GUARD_LOCKED:
        return "handshakes are locked after too many failures";
    }
    return "?";
}

int wifiprov__guard_new(const struct wifiprov_guard_config *cfg, struct wifiprov_guard **out)
{
    struct wifiprov_guard *g = wifiprov__calloc(1, sizeof(*g));

    *out = g;
    if (!g)
        return WIFIPROV_ERR_NOMEM;
    g->free_failures = cfg->free_failures ? cfg->free_failures : 5u;
    g->max_delay_ms = (uint64_t)(cfg->max_delay_s ? cfg->max_delay_s : 60u) * 1000u;
    g->decay_ms = (uint64_t)(cfg->decay_s ? cfg->decay_s : 60u) * 1000u;
    g->max_failures = cfg->max_failures;
    g->rate = cfg->rate ? cfg->rate : 10u;
    g->burst = cfg->burst ? cfg->burst : 20u;
    g->peer_rate = cfg->peer_rate ? cfg->peer_rate : 2u;
    g->peer_burst = cfg->peer_burst ? cfg->peer_burst : 5u;
    g->reserve_rate = cfg->reserve_rate ? cfg->reserve_rate : 2u;
    g->reserve_burst = cfg->reserve_burst ? cfg->reserve_burst : 4u;
    g->unlock_hint = cfg->unlock_hint;
    return 0;
}

void wifiprov__guard_free(struct wifiprov_guard *g)
{
    wifiprov__free(g);
}

static void decay(const struct wifiprov_guard *g, struct counter *c, uint64_t now)
{
    uint64_t steps;

    if (!c->failures || now <= c->last_ms)
        return;
    steps = (now - c->last_ms) / g->decay_ms;
    if (!steps)
        return;
    c->failures = steps >= c->failures ? 0 : c->failures - (unsigned)steps;
    c->last_ms += steps * g->decay_ms;
}

/* 0 for the first free_failures, then 2 s, 4 s, 8 s, ... up to max_delay_ms. */
static uint64_t delay_ms(const struct wifiprov_guard *g, unsigned failures)
{
    unsigned shift;
    uint64_t d;

    if (failures <= g->free_failures)
        return 0;
    shift = failures - g->free_failures;
    if (shift > MAX_SHIFT)
        shift = MAX_SHIFT;
    d = (uint64_t)1000u << shift;
    return d < g->max_delay_ms ? d : g->max_delay_ms;
}

static void count_failure(const struct wifiprov_guard *g, struct counter *c, uint64_t now)
{
    decay(g, c, now);
    if (c->failures < UINT32_MAX)
        c->failures++;
    c->last_ms = now;
    c->not_before_ms = now + delay_ms(g, c->failures);
}

static void refill(struct bucket *b, unsigned rate, unsigned burst, uint64_t now)
{
    uint64_t cap = (uint64_t)burst * TOKEN;

    if (!b->primed) {
        b->primed = true;
        b->milli = cap;
        b->at_ms = now;
        return;
    }
    if (now > b->at_ms) {
        /* rate starts per second = rate tokens per 1000 ms = rate milli-tokens per ms. */
        uint64_t add = (now - b->at_ms) * rate;
        b->milli = add >= cap - b->milli ? cap : b->milli + add;
        b->at_ms = now;
    }
}

/* The entry of (@p owner, @p addr); with @p create, a free or the longest unseen one. */
static struct peer *peer_get(struct wifiprov_guard *g, const char *owner, const char *addr, bool create)
{
    struct peer *oldest = NULL;

    for (unsigned i = 0; i < N_PEERS; i++) {
        struct peer *p = &g->peers[i];
        if (p->used && strcmp(p->owner, owner) == 0 && strncmp(p->addr, addr, WIFIPROV_SESSIONS_PEER_MAX) == 0)
            return p;
        if (!oldest || !p->used || (oldest->used && p->seen_ms < oldest->seen_ms))
            oldest = p;
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof(*oldest));
    oldest->used = true;
    oldest->owner = owner;
    snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
    return oldest;
}

static void log_refusal(struct wifiprov_guard *g, enum wifiprov_guard_verdict v, const struct peer *p, uint64_t now)
{
    char wait[40] = "", more[64] = "";

    if (g->logged_once && now - g->log_ms < LOG_INTERVAL_MS) {
        g->suppressed++;
        return;
    }
    if (v == WIFIPROV_GUARD_PEER_DELAY || v == WIFIPROV_GUARD_DEVICE_DELAY) {
        uint64_t until = v == WIFIPROV_GUARD_PEER_DELAY ? p->c.not_before_ms : g->dev.not_before_ms;
        snprintf(wait, sizeof(wait), " for %llu ms more", (unsigned long long)(until - now));
    }
    if (g->suppressed)
        snprintf(more, sizeof(more), " (%u more refused since the last message)", g->suppressed);
    wifiprov__info("%s: handshake from %s refused: %s%s%s", p->owner, p->addr, wifiprov__guard_verdict_to_string(v),
                   wait, more);
    g->logged_once = true;
    g->log_ms = now;
    g->suppressed = 0;
}

enum wifiprov_guard_verdict wifiprov__guard_admit(struct wifiprov_guard *g, const char *owner, const char *peer,
                                                  uint64_t now_ms)
{
    struct peer *p = peer_get(g, owner, peer, true);
    enum wifiprov_guard_verdict v = WIFIPROV_GUARD_ALLOW;

    p->seen_ms = now_ms;
    decay(g, &p->c, now_ms);
    decay(g, &g->dev, now_ms);
    refill(&p->b, g->peer_rate, g->peer_burst, now_ms);
    refill(&g->dev_bucket, g->rate, g->burst, now_ms);
    refill(&g->reserve, g->reserve_rate, g->reserve_burst, now_ms);
    if (g->locked)
        v = WIFIPROV_GUARD_LOCKED;
    else if (now_ms < p->c.not_before_ms)
        v = WIFIPROV_GUARD_PEER_DELAY;
    else if (now_ms < g->dev.not_before_ms)
        v = WIFIPROV_GUARD_DEVICE_DELAY;
    else if (p->b.milli < TOKEN)
        v = WIFIPROV_GUARD_PEER_RATE;
    else if (g->dev_bucket.milli < TOKEN && (p->b.milli < (uint64_t)g->peer_burst * TOKEN || g->reserve.milli < TOKEN))
        v = WIFIPROV_GUARD_DEVICE_RATE;
    if (v != WIFIPROV_GUARD_ALLOW) {
        log_refusal(g, v, p, now_ms);
        return v;
    }
    p->b.milli -= TOKEN;
    if (g->dev_bucket.milli >= TOKEN)
        g->dev_bucket.milli -= TOKEN;
    else
        g->reserve.milli -= TOKEN; /* a quiet peer while others emptied the device's bucket */
    return v;
}

void wifiprov__guard_failure(struct wifiprov_guard *g, const char *owner, const char *peer, uint64_t now_ms)
{
    struct peer *p = peer_get(g, owner, peer, true);
    uint64_t wait;

    p->seen_ms = now_ms;
    count_failure(g, &p->c, now_ms);
    count_failure(g, &g->dev, now_ms);
    if (g->total < UINT32_MAX)
        g->total++;
    wait = p->c.not_before_ms > g->dev.not_before_ms ? p->c.not_before_ms : g->dev.not_before_ms;
    wifiprov__warn("%s: failed handshake (wrong credentials) from %s: %u recent from this peer, %u on the device; "
                   "next handshake allowed in %llu s",
                   owner, peer, p->c.failures, g->dev.failures, (unsigned long long)((wait - now_ms + 999u) / 1000u));
    if (g->max_failures && g->total >= g->max_failures && !g->locked) {
        g->locked = true;
        wifiprov__err("%u failed handshakes: every handshake is refused from now on%s%s", g->total,
                      g->unlock_hint ? "; " : "", g->unlock_hint ? g->unlock_hint : "");
    }
}

void wifiprov__guard_unlock(struct wifiprov_guard *g)
{
    g->locked = false;
    g->total = 0;
    memset(&g->dev, 0, sizeof(g->dev));
    for (unsigned i = 0; i < N_PEERS; i++)
        memset(&g->peers[i].c, 0, sizeof(g->peers[i].c));
}

bool wifiprov__guard_locked(const struct wifiprov_guard *g)
{
    return g->locked;
}

unsigned wifiprov__guard_failures(struct wifiprov_guard *g, const char *owner, const char *peer, uint64_t now_ms)
{
    struct peer *p;

    if (!peer) {
        decay(g, &g->dev, now_ms);
        return g->dev.failures;
    }
    p = peer_get(g, owner, peer, false);
    if (!p)
        return 0;
    decay(g, &p->c, now_ms);
    return p->c.failures;
}
