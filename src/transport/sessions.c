/* The device's session policy, shared by its transports (see sessions.h). */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "transport/sessions.h"
#include "util.h"

#define DEFAULT_MAX_SESSIONS 8u
#define DEFAULT_IDLE_S 300u
#define DEFAULT_PENDING_MAX_S 60u
#define DEFAULT_HANDSHAKE_S 30u
#define LOG_INTERVAL_MS 1000u

struct session {
    bool used;
    uint32_t id;
    const struct wifiprov_session_owner *owner;
    char peer[WIFIPROV_SESSIONS_PEER_MAX + 1];
    uint64_t created_ms;
    uint64_t hs_since_ms; /* the current handshake began (meaningful while not established) */
    uint64_t last_used_ms;
    uint64_t last_used_seq; /* LRU order (milliseconds can tie) */
    bool established;
    bool pending;
    uint64_t pending_since_ms;
};

struct wifiprov_sessions {
    struct wifiprov_device *dev;
    unsigned max_sessions;
    uint64_t idle_ms;
    uint64_t pending_max_ms;
    uint64_t handshake_ms;
    struct wifiprov_guard *guard;
    uint64_t refusal_log_ms; /* policy refusals are logged at most once per second */
    bool refusal_logged;
    uint64_t (*clock_ms)(void *ctx);
    void *clock_ctx;
    wifiprov_random_fn random;
    void *random_ctx;
    void (*deadline_fn)(void *ctx);
    void *deadline_ctx;
    uint64_t use_seq;
    struct session *s;
};

const char *wifiprov_session_why_to_string(enum wifiprov_session_why why)
{
    switch (why) {
    case WIFIPROV_SESSION_WHY_OWNER:
        return "closed by its transport";
    case WIFIPROV_SESSION_WHY_IDLE:
        return "idle";
    case WIFIPROV_SESSION_WHY_EVICTED:
        return "evicted";
    case WIFIPROV_SESSION_WHY_CANCELLED:
        return "held request cancelled";
    case WIFIPROV_SESSION_WHY_PENDING_TIMEOUT:
        return "held reply never came";
    case WIFIPROV_SESSION_WHY_STOPPED:
        return "stopped";
    case WIFIPROV_SESSION_WHY_HANDSHAKE_TIMEOUT:
        return "handshake not completed in time";
    case WIFIPROV_SESSION_WHY_FAILED:
        return "its first request failed";
    }
    return "?";
}

static int default_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return wifiprov__crypto_random(buf, len);
}

static uint64_t now_ms(const struct wifiprov_sessions *ss)
{
    return ss->clock_ms(ss->clock_ctx);
}

static void deadline_changed(struct wifiprov_sessions *ss)
{
    if (ss->deadline_fn)
        ss->deadline_fn(ss->deadline_ctx);
}

static struct session *find(const struct wifiprov_sessions *ss, uint32_t id)
{
    if (id == 0)
        return NULL;
    for (unsigned i = 0; i < ss->max_sessions; i++) {
        if (ss->s[i].used && ss->s[i].id == id)
            return &ss->s[i];
    }
    return NULL;
}

static struct session *free_slot(struct wifiprov_sessions *ss)
{
    for (unsigned i = 0; i < ss->max_sessions; i++) {
        if (!ss->s[i].used)
            return &ss->s[i];
    }
    return NULL;
}

/*
 * The session to close for a newcomer of @p owner/@p peer: the least recently used
 * one that is not established and holds no request, of the newcomer's own peer
 * first. NULL when every session is established or busy.
 */
static struct session *victim(struct wifiprov_sessions *ss, const struct wifiprov_session_owner *owner,
                              const char *peer)
{
    struct session *best = NULL;
    bool best_same = false;

    for (unsigned i = 0; i < ss->max_sessions; i++) {
        struct session *s = &ss->s[i];
        bool same;

        if (!s->used || s->pending || s->established)
            continue;
        same = s->owner == owner && strcmp(s->peer, peer) == 0;
        if (!best || (same && !best_same) || (same == best_same && s->last_used_seq < best->last_used_seq)) {
            best = s;
            best_same = same;
        }
    }
    return best;
}

/* A refusal of the policy itself, logged at most once per second. */
static void log_refusal(struct wifiprov_sessions *ss, const char *owner, const char *peer, const char *what)
{
    uint64_t now = now_ms(ss);

    if (ss->refusal_logged && now - ss->refusal_log_ms < LOG_INTERVAL_MS)
        return;
    ss->refusal_logged = true;
    ss->refusal_log_ms = now;
    wifiprov__info("%s: request from %s refused: %s", owner, peer, what);
}

static void touch(struct wifiprov_sessions *ss, struct session *s)
{
    s->last_used_ms = now_ms(ss);
    s->last_used_seq = ++ss->use_seq;
}

static void drop(struct wifiprov_sessions *ss, struct session *s, enum wifiprov_session_why why)
{
    const struct wifiprov_session_owner *owner = s->owner;
    uint32_t id = s->id;

    wifiprov__dbg("%s: closing session (%s)", owner->name, wifiprov_session_why_to_string(why));
    if (s->pending)
        wifiprov_device_cancel_pending(ss->dev, id);
    wifiprov_device_session_close(ss->dev, id);
    memset(s, 0, sizeof(*s));
    /* Last: the owner may call back into the policy. */
    if (owner->closed)
        owner->closed(owner->ctx, id, why);
}

int wifiprov_sessions_new(const struct wifiprov_sessions_config *cfg, struct wifiprov_sessions **out)
{
    struct wifiprov_sessions *ss = NULL;
    int err = 0;

    if (!out)
        return WIFIPROV_ERR_INVAL;
    *out = NULL;
    if (!cfg || !cfg->device || !cfg->clock_ms)
        return WIFIPROV_ERR_INVAL;
    ss = wifiprov__calloc(1, sizeof(*ss));
    if (!ss)
        return WIFIPROV_ERR_NOMEM;
    ss->dev = cfg->device;
    ss->max_sessions = cfg->max_sessions ? cfg->max_sessions : DEFAULT_MAX_SESSIONS;
    ss->idle_ms = (uint64_t)(cfg->idle_s ? cfg->idle_s : DEFAULT_IDLE_S) * 1000u;
    ss->pending_max_ms = (uint64_t)(cfg->pending_max_s ? cfg->pending_max_s : DEFAULT_PENDING_MAX_S) * 1000u;
    ss->handshake_ms = (uint64_t)(cfg->handshake_s ? cfg->handshake_s : DEFAULT_HANDSHAKE_S) * 1000u;
    ss->clock_ms = cfg->clock_ms;
    ss->clock_ctx = cfg->clock_ctx;
    ss->random = cfg->random ? cfg->random : default_random;
    ss->random_ctx = cfg->random ? cfg->random_ctx : NULL;
    ss->deadline_fn = cfg->deadline_fn;
    ss->deadline_ctx = cfg->deadline_ctx;
    ss->s = wifiprov__calloc(ss->max_sessions, sizeof(*ss->s));
    if (!ss->s) {
        err = WIFIPROV_ERR_NOMEM;
        goto out;
    }
    err = wifiprov__guard_new(&cfg->guard, &ss->guard);
    if (err)
        goto out;
    *out = ss;
    ss = NULL;
out:
    wifiprov_sessions_free(ss);
    return err;
}

void wifiprov_sessions_free(struct wifiprov_sessions *ss)
{
    if (!ss)
        return;
    for (unsigned i = 0; ss->s && i < ss->max_sessions; i++) {
        if (ss->s[i].used)
            drop(ss, &ss->s[i], WIFIPROV_SESSION_WHY_STOPPED);
    }
    wifiprov__free(ss->s);
    wifiprov__guard_free(ss->guard);
    wifiprov__free(ss);
}

/* A fresh id that neither the policy nor the device uses. @return 0 or WIFIPROV_ERR_CRYPTO. */
static int draw_id(struct wifiprov_sessions *ss, uint32_t *id)
{
    for (int tries = 0; tries < 16; tries++) {
        uint8_t b[4];
        uint32_t v;

        if (ss->random(ss->random_ctx, b, sizeof(b)) != 0)
            break;
        v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (v != 0 && !find(ss, v) && !wifiprov_device_session_exists(ss->dev, v)) {
            *id = v;
            return 0;
        }
    }
    wifiprov__err("sessions: cannot draw a session id");
    return WIFIPROV_ERR_CRYPTO;
}

int wifiprov_sessions_open(struct wifiprov_sessions *ss, const struct wifiprov_session_owner *owner, const char *peer,
                           uint32_t *id)
{
    struct session *s;
    uint32_t nid = 0;
    int err;

    if (!ss || !owner || !owner->name || !owner->wake || !id)
        return WIFIPROV_ERR_INVAL;
    if (!peer)
        peer = "";
    err = draw_id(ss, &nid);
    if (err)
        return err;
    s = free_slot(ss);
    if (!s) {
        s = victim(ss, owner, peer);
        if (!s) {
            log_refusal(ss, owner->name, peer, "every session is established or busy");
            return WIFIPROV_ERR_TOO_MANY_SESSIONS;
        }
        wifiprov__info("%s: session limit (%u) reached, closing the least recently used session without a "
                       "completed handshake",
                       owner->name, ss->max_sessions);
        drop(ss, s, WIFIPROV_SESSION_WHY_EVICTED);
    }
    err = wifiprov_device_session_open(ss->dev, nid);
    if (err) {
        wifiprov__warn("%s: cannot open a session: %s", owner->name, wifiprov_strerror(err));
        return err;
    }
    s = free_slot(ss); /* the owner's closed callback may have opened one meanwhile */
    if (!s) {
        wifiprov_device_session_close(ss->dev, nid);
        return WIFIPROV_ERR_TOO_MANY_SESSIONS;
    }
    s->used = true;
    s->id = nid;
    s->owner = owner;
    snprintf(s->peer, sizeof(s->peer), "%s", peer);
    s->created_ms = now_ms(ss);
    s->hs_since_ms = s->created_ms;
    touch(ss, s);
    *id = nid;
    wifiprov__dbg("%s: new session", owner->name);
    deadline_changed(ss);
    return 0;
}

void wifiprov_sessions_close(struct wifiprov_sessions *ss, uint32_t id, enum wifiprov_session_why why)
{
    struct session *s = ss ? find(ss, id) : NULL;

    if (!s)
        return;
    drop(ss, s, why);
    deadline_changed(ss);
}

void wifiprov_sessions_close_owner(struct wifiprov_sessions *ss, const struct wifiprov_session_owner *owner,
                                   enum wifiprov_session_why why)
{
    if (!ss)
        return;
    for (unsigned i = 0; i < ss->max_sessions; i++) {
        if (ss->s[i].used && ss->s[i].owner == owner)
            drop(ss, &ss->s[i], why);
    }
    deadline_changed(ss);
}

bool wifiprov_sessions_exists(const struct wifiprov_sessions *ss, uint32_t id)
{
    return ss && find(ss, id);
}

const struct wifiprov_session_owner *wifiprov_sessions_owner(const struct wifiprov_sessions *ss, uint32_t id)
{
    const struct session *s = ss ? find(ss, id) : NULL;

    return s ? s->owner : NULL;
}

bool wifiprov_sessions_pending(const struct wifiprov_sessions *ss, uint32_t id)
{
    const struct session *s = ss ? find(ss, id) : NULL;

    return s && s->pending;
}

size_t wifiprov_sessions_count(const struct wifiprov_sessions *ss, const struct wifiprov_session_owner *owner)
{
    size_t n = 0;

    for (unsigned i = 0; ss && i < ss->max_sessions; i++)
        n += ss->s[i].used && (!owner || ss->s[i].owner == owner);
    return n;
}

/* Bookkeeping after the device answered a request of @p s. */
static int settle(struct wifiprov_sessions *ss, struct session *s, int err)
{
    touch(ss, s);
    if (err == WIFIPROV_ERR_PENDING) {
        if (!s->pending)
            s->pending_since_ms = now_ms(ss);
        s->pending = true;
    } else {
        s->pending = false;
    }
    s->established = wifiprov_device_session_established(ss->dev, s->id);
    deadline_changed(ss);
    return err;
}

/* Reads a varint at *p (below end). @return false when malformed. */
static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7fu) << shift;
        if (!(b & 0x80u))
            return true;
    }
    return false;
}

/*
 * Is this prov-session request anything but a security 1/2 Command1? A SessionData
 * (PROTOCOL.md §4) whose last sec1 (field 11) or sec2 (field 12) payload says msg = 2
 * (Command1; the device only does the expensive part for msg = 0 with sc0) is not;
 * everything else, malformed input included, counts as a start.
 */
static bool handshake_start(const uint8_t *req, size_t len)
{
    const uint8_t *p = req, *end = req + len;
    uint64_t field = 0, msg = 0;

    while (p < end) {
        uint64_t key, v;

        if (!varint(&p, end, &key))
            return true;
        switch (key & 7u) {
        case 0:
            if (!varint(&p, end, &v))
                return true;
            break;
        case 2: {
            const uint8_t *q, *qe;
            if (!varint(&p, end, &v) || v > (uint64_t)(end - p))
                return true;
            q = p;
            qe = p + v;
            p = qe;
            if ((key >> 3) == 10) {
                field = 10;
                continue;
            }
            if ((key >> 3) != 11 && (key >> 3) != 12)
                continue;
            if (field != (key >> 3))
                msg = 0; /* another oneof member replaces the previous one */
            field = key >> 3;
            while (q < qe) {
                uint64_t k2, v2;
                if (!varint(&q, qe, &k2))
                    return true;
                if ((k2 & 7u) == 0) {
                    if (!varint(&q, qe, &v2))
                        return true;
                    if ((k2 >> 3) == 1)
                        msg = v2;
                } else if ((k2 & 7u) == 2) {
                    if (!varint(&q, qe, &v2) || v2 > (uint64_t)(qe - q))
                        return true;
                    q += v2;
                } else {
                    return true;
                }
            }
            break;
        }
        default:
            return true;
        }
    }
    return !((field == 11 || field == 12) && msg == 2);
}

/* One request of @p s; @p admitted: a handshake start already passed the guard. */
static int handle_in(struct wifiprov_sessions *ss, struct session *s, const char *endpoint, const uint8_t *req,
                     size_t req_len, uint8_t *out, size_t out_cap, size_t *out_len, bool admitted)
{
    bool hs = strcmp(endpoint, WIFIPROV_EP_SESSION) == 0;
    bool start = hs && handshake_start(req, req_len);
    int err;

    if (s->pending)
        return WIFIPROV_ERR_STATE; /* one exchange at a time per session */
    if (start && !admitted && wifiprov__guard_admit(ss->guard, s->owner->name, s->peer, now_ms(ss)))
        return WIFIPROV_ERR_BUSY;
    err = wifiprov_device_handle(ss->dev, s->id, endpoint, req, req_len, out, out_cap, out_len);
    if (hs && err == WIFIPROV_ERR_AUTH)
        wifiprov__guard_failure(ss->guard, s->owner->name, s->peer, now_ms(ss));
    if (start && s->established)
        s->hs_since_ms = now_ms(ss); /* an established session begins a new handshake */
    return settle(ss, s, err);
}

int wifiprov_sessions_begin(struct wifiprov_sessions *ss, const struct wifiprov_session_owner *owner, const char *peer,
                            const char *endpoint, const uint8_t *req, size_t req_len, uint8_t *out, size_t out_cap,
                            size_t *out_len, uint32_t *id)
{
    struct session *s;
    uint32_t nid = 0;
    int err;

    if (out_len)
        *out_len = 0;
    if (!ss || !owner || !endpoint || !out_len || !id)
        return WIFIPROV_ERR_INVAL;
    *id = 0;
    if (!peer)
        peer = "";
    if (strcmp(endpoint, WIFIPROV_EP_VERSION) == 0)
        return wifiprov_device_handle(ss->dev, 0, endpoint, req, req_len, out, out_cap, out_len);
    if (strcmp(endpoint, WIFIPROV_EP_SESSION) != 0) {
        log_refusal(ss, owner->name, peer, "no session (a session starts with prov-session)");
        return WIFIPROV_ERR_NO_SESSION;
    }
    /* A new session can only begin with a start; a Command1 without one cannot be valid (and must not
     * make room by closing someone's half-open session). */
    if (!handshake_start(req, req_len)) {
        log_refusal(ss, owner->name, peer, "no session for this handshake message");
        return WIFIPROV_ERR_STATE;
    }
    /* Refuse before anything is allocated: a throttled start costs the device nothing. */
    if (wifiprov__guard_admit(ss->guard, owner->name, peer, now_ms(ss)))
        return WIFIPROV_ERR_BUSY;
    err = wifiprov_sessions_open(ss, owner, peer, &nid);
    if (err)
        return err;
    s = find(ss, nid);
    err = handle_in(ss, s, endpoint, req, req_len, out, out_cap, out_len, true);
    if (err && err != WIFIPROV_ERR_PENDING) {
        wifiprov_sessions_close(ss, nid, WIFIPROV_SESSION_WHY_FAILED);
        return err;
    }
    *id = nid;
    return err;
}

int wifiprov_sessions_handle(struct wifiprov_sessions *ss, uint32_t id, const char *peer, const char *endpoint,
                             const uint8_t *req, size_t req_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    struct session *s;

    if (out_len)
        *out_len = 0;
    if (!ss || !endpoint || !out_len)
        return WIFIPROV_ERR_INVAL;
    if (!peer)
        peer = "";
    if (strcmp(endpoint, WIFIPROV_EP_VERSION) == 0 && !find(ss, id))
        return wifiprov_device_handle(ss->dev, id, endpoint, req, req_len, out, out_cap, out_len);
    s = find(ss, id);
    if (!s)
        return WIFIPROV_ERR_NO_SESSION;
    if (strncmp(s->peer, peer, WIFIPROV_SESSIONS_PEER_MAX) != 0) {
        /* Someone else's cookie or connection: refused, the session is left as it is. */
        log_refusal(ss, s->owner->name, peer, "the session belongs to another peer");
        return WIFIPROV_ERR_NO_SESSION;
    }
    return handle_in(ss, s, endpoint, req, req_len, out, out_cap, out_len, false);
}

int wifiprov_sessions_resume(struct wifiprov_sessions *ss, uint32_t id, uint8_t *out, size_t out_cap, size_t *out_len)
{
    struct session *s = ss ? find(ss, id) : NULL;
    int err;

    if (out_len)
        *out_len = 0;
    if (!s)
        return WIFIPROV_ERR_NO_SESSION;
    if (!s->pending)
        return WIFIPROV_ERR_STATE;
    err = wifiprov_device_resume(ss->dev, id, out, out_cap, out_len);
    return settle(ss, s, err);
}

void wifiprov_sessions_cancel(struct wifiprov_sessions *ss, uint32_t id)
{
    struct session *s = ss ? find(ss, id) : NULL;

    /* The request was decrypted already: the session's cipher is past it (device.h). */
    if (s && s->pending)
        wifiprov_sessions_close(ss, id, WIFIPROV_SESSION_WHY_CANCELLED);
}

void wifiprov_sessions_wake(void *ctx, uint32_t id)
{
    struct wifiprov_sessions *ss = ctx;
    struct session *s = ss ? find(ss, id) : NULL;

    if (s && s->pending)
        s->owner->wake(s->owner->ctx, id);
}

static uint64_t handshake_due(const struct wifiprov_sessions *ss, const struct session *s)
{
    return s->established ? UINT64_MAX : s->hs_since_ms + ss->handshake_ms;
}

static uint64_t due(const struct wifiprov_sessions *ss, const struct session *s)
{
    if (s->pending)
        return s->pending_since_ms + ss->pending_max_ms;
    return WIFIPROV_MIN(s->last_used_ms + ss->idle_ms, handshake_due(ss, s));
}

uint64_t wifiprov_sessions_next_deadline_ms(const struct wifiprov_sessions *ss)
{
    uint64_t first = UINT64_MAX;

    for (unsigned i = 0; ss && i < ss->max_sessions; i++) {
        if (ss->s[i].used)
            first = WIFIPROV_MIN(first, due(ss, &ss->s[i]));
    }
    return first;
}

void wifiprov_sessions_expire(struct wifiprov_sessions *ss)
{
    uint64_t now;

    if (!ss)
        return;
    now = now_ms(ss);
    for (unsigned i = 0; i < ss->max_sessions; i++) {
        struct session *s = &ss->s[i];
        if (!s->used || now < due(ss, s))
            continue;
        if (s->pending) {
            /* The reply never came (e.g. a scan that cannot finish). */
            wifiprov__warn("%s: a held reply waited %u s; closing its session", s->owner->name,
                           (unsigned)(ss->pending_max_ms / 1000u));
            drop(ss, s, WIFIPROV_SESSION_WHY_PENDING_TIMEOUT);
        } else if (now >= handshake_due(ss, s)) {
            log_refusal(ss, s->owner->name, s->peer, "handshake not completed in time; session closed");
            drop(ss, s, WIFIPROV_SESSION_WHY_HANDSHAKE_TIMEOUT);
        } else {
            drop(ss, s, WIFIPROV_SESSION_WHY_IDLE);
        }
    }
    deadline_changed(ss);
}

void wifiprov_sessions_unlock(struct wifiprov_sessions *ss)
{
    if (!ss)
        return;
    if (wifiprov__guard_locked(ss->guard))
        wifiprov__info("handshakes unlocked; failed attempts forgotten");
    wifiprov__guard_unlock(ss->guard);
}

bool wifiprov_sessions_locked(const struct wifiprov_sessions *ss)
{
    return ss && wifiprov__guard_locked(ss->guard);
}

struct wifiprov_guard *wifiprov_sessions_guard(struct wifiprov_sessions *ss)
{
    return ss ? ss->guard : NULL;
}
