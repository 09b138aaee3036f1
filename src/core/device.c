/*
 * Device role: endpoint table, session table and dispatch (PROTOCOL.md section 3).
 *
 * Unlike ESP-IDF's protocomm, which keeps one security session per instance,
 * every transport session id owns its own security session, so one client's
 * failure never disturbs another's handshake or cipher state.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "core_priv.h"
#include "crypto/crypto.h"
#include "sec/sec.h"
#include "util.h"

#define DEFAULT_MAX_SESSIONS 8u

const char *wifiprov_device_event_to_string(enum wifiprov_device_event ev)
{
    switch (ev) {
    case WIFIPROV_DEVICE_EVENT_SETUP_OK:
        return "setup-ok";
    case WIFIPROV_DEVICE_EVENT_INVALID_PARAMS:
        return "invalid-params";
    case WIFIPROV_DEVICE_EVENT_CREDENTIALS_MISMATCH:
        return "credentials-mismatch";
    case WIFIPROV_DEVICE_EVENT_SESSION_OPENED:
        return "session-opened";
    case WIFIPROV_DEVICE_EVENT_SESSION_CLOSED:
        return "session-closed";
    }
    return "unknown";
}

static int default_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return wifiprov__crypto_random(buf, len);
}

static void emit(struct wifiprov_device *dev, enum wifiprov_device_event ev, uint32_t sid)
{
    wifiprov__dbg("device: session %u: %s", (unsigned)sid, wifiprov_device_event_to_string(ev));
    if (dev->event_fn)
        dev->event_fn(dev->event_ctx, ev, sid);
}

/* Endpoint names are 1..32 printable ASCII characters without spaces (they become
 * URL paths and console tokens). */
static bool name_valid(const char *name)
{
    size_t n;

    if (!name)
        return false;
    for (n = 0; name[n]; n++) {
        if (n >= WIFIPROV_EP_NAME_MAX || (unsigned char)name[n] <= 0x20 || (unsigned char)name[n] >= 0x7f)
            return false;
    }
    return n > 0;
}

static struct wifiprov_endpoint *find_ep(const struct wifiprov_device *dev, const char *name)
{
    size_t i;

    for (i = 0; i < dev->n_eps; i++) {
        if (strcmp(dev->eps[i].name, name) == 0)
            return &dev->eps[i];
    }
    return NULL;
}

static struct wifiprov_dev_session *find_session(const struct wifiprov_device *dev, uint32_t sid)
{
    size_t i;

    for (i = 0; i < dev->max_sessions; i++) {
        if (dev->sessions[i].used && dev->sessions[i].id == sid)
            return &dev->sessions[i];
    }
    return NULL;
}

static int push_ep(struct wifiprov_device *dev, const char *name, enum wifiprov_ep_kind kind,
                   wifiprov_endpoint_fn fn, void *ctx)
{
    struct wifiprov_endpoint *ep;

    if (dev->n_eps == dev->cap_eps) {
        size_t cap = dev->cap_eps ? dev->cap_eps * 2 : 8;
        struct wifiprov_endpoint *n = wifiprov__realloc(dev->eps, cap * sizeof(*n));

        if (!n)
            return WIFIPROV_ERR_NOMEM;
        dev->eps = n;
        dev->cap_eps = cap;
    }
    ep = &dev->eps[dev->n_eps++];
    memset(ep, 0, sizeof(*ep));
    strcpy(ep->name, name);
    ep->kind = kind;
    ep->fn = fn;
    ep->ctx = ctx;
    return 0;
}

static void drop_pending(struct wifiprov_dev_session *s)
{
    if (!s->pend_buf)
        return;
    wifiprov__free_secret(s->pend_buf, s->pend_off + s->pend_reply_cap);
    s->pend_buf = NULL;
    s->pend_req_len = 0;
    s->pend_off = 0;
    s->pend_reply_cap = 0;
    s->pend_ep[0] = '\0';
}

static void free_session(struct wifiprov_dev_session *s)
{
    drop_pending(s);
    wifiprov__sec_session_free(s->sec);
    memset(s, 0, sizeof(*s));
}

static void free_strings(char **v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        wifiprov__free(v[i]);
    wifiprov__free(v);
}

static void free_app(struct wifiprov_app_info *a)
{
    wifiprov__free(a->label);
    wifiprov__free(a->ver);
    free_strings(a->caps, a->n_caps);
    memset(a, 0, sizeof(*a));
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
    uint8_t *d = wifiprov__malloc(n);

    if (d && n)
        memcpy(d, p, n);
    return d;
}

int wifiprov_device_new(const struct wifiprov_device_config *cfg, struct wifiprov_device **out)
{
    struct wifiprov_device *dev = NULL;
    int ret = WIFIPROV_ERR_INVAL;

    if (!cfg || !out)
        return WIFIPROV_ERR_INVAL;
    *out = NULL;
    /* The value comes from the application: check the range before switching on it. */
    if ((unsigned)cfg->security > (unsigned)WIFIPROV_SECURITY_2) {
        wifiprov__err("device: unknown security scheme %d", (int)cfg->security);
        return WIFIPROV_ERR_INVAL;
    }
    switch (cfg->security) {
    case WIFIPROV_SECURITY_0:
    case WIFIPROV_SECURITY_1:
        break;
    case WIFIPROV_SECURITY_2:
        if (!cfg->sec2_salt || !cfg->sec2_salt_len || !cfg->sec2_verifier || !cfg->sec2_verifier_len ||
            cfg->sec2_verifier_len > WIFIPROV_SRP_N_LEN) {
            wifiprov__err("device: security 2 needs a salt and a verifier of 1..%d bytes", WIFIPROV_SRP_N_LEN);
            return WIFIPROV_ERR_INVAL;
        }
        break;
    }
    if (cfg->prov_ver && strlen(cfg->prov_ver) > 64)
        return WIFIPROV_ERR_INVAL;

    ret = WIFIPROV_ERR_NOMEM;
    dev = wifiprov__calloc(1, sizeof(*dev));
    if (!dev)
        goto out;
    dev->security = cfg->security;
    dev->sec2_patch0 = cfg->sec2_patch0;
    dev->version_compact = cfg->version_compact;
    dev->random = cfg->random ? cfg->random : default_random;
    dev->random_ctx = cfg->random ? cfg->random_ctx : NULL;
    dev->wake_fn = cfg->wake_fn;
    dev->wake_ctx = cfg->wake_ctx;
    dev->event_fn = cfg->event_fn;
    dev->event_ctx = cfg->event_ctx;
    dev->max_sessions = cfg->max_sessions ? cfg->max_sessions : DEFAULT_MAX_SESSIONS;

    if (cfg->security == WIFIPROV_SECURITY_1) {
        /* An empty PoP proves nothing and works exactly like none (PROTOCOL.md P4), so it is advertised as
         * no_pop too: ESP-IDF does not, and leaves clients asking for a PoP that does not exist. */
        dev->no_pop = cfg->pop == NULL || cfg->pop[0] == '\0';
        if (cfg->pop && cfg->pop[0]) {
            dev->pop_len = strlen(cfg->pop);
            dev->pop = dup_bytes(cfg->pop, dev->pop_len);
            if (!dev->pop)
                goto out;
        }
    }
    if (cfg->security == WIFIPROV_SECURITY_2) {
        dev->salt_len = cfg->sec2_salt_len;
        dev->salt = dup_bytes(cfg->sec2_salt, cfg->sec2_salt_len);
        dev->verifier_len = cfg->sec2_verifier_len;
        dev->verifier = dup_bytes(cfg->sec2_verifier, cfg->sec2_verifier_len);
        if (!dev->salt || !dev->verifier)
            goto out;
        /* Tables for g and v, shared by every session. A bad verifier fails at session open, as before. */
        ret = wifiprov__sec2_precomp_new(dev->verifier, dev->verifier_len, &dev->sec2_precomp);
        if (ret && ret != WIFIPROV_ERR_INVAL)
            goto out;
        ret = WIFIPROV_ERR_NOMEM;
    }
    if (cfg->prov_ver) {
        dev->prov_ver = wifiprov__strdup(cfg->prov_ver);
        if (!dev->prov_ver)
            goto out;
    }
    if (dev->max_sessions > SIZE_MAX / sizeof(*dev->sessions))
        goto out;
    dev->sessions = wifiprov__calloc(dev->max_sessions, sizeof(*dev->sessions));
    if (!dev->sessions)
        goto out;
    ret = push_ep(dev, WIFIPROV_EP_VERSION, WIFIPROV_EP_KIND_VERSION, NULL, NULL);
    if (ret)
        goto out;
    ret = push_ep(dev, WIFIPROV_EP_SESSION, WIFIPROV_EP_KIND_SESSION, NULL, NULL);
    if (ret)
        goto out;
    ret = wifiprov__version_rebuild(dev);
    if (ret)
        goto out;
    *out = dev;
    dev = NULL;
    wifiprov__dbg("device: created (security %d)", (int)cfg->security);
out:
    wifiprov_device_free(dev);
    return ret;
}

void wifiprov_device_free(struct wifiprov_device *dev)
{
    size_t i;

    if (!dev)
        return;
    if (dev->sessions) {
        for (i = 0; i < dev->max_sessions; i++) {
            if (dev->sessions[i].used)
                free_session(&dev->sessions[i]);
        }
    }
    wifiprov__free(dev->sessions);
    wifiprov__sec2_precomp_free(dev->sec2_precomp);
    wifiprov__free_secret(dev->pop, dev->pop_len);
    wifiprov__free_secret(dev->salt, dev->salt_len);
    wifiprov__free_secret(dev->verifier, dev->verifier_len);
    wifiprov__free(dev->prov_ver);
    wifiprov__free(dev->eps);
    free_strings(dev->caps, dev->n_caps);
    for (i = 0; i < dev->n_apps; i++)
        free_app(&dev->apps[i]);
    wifiprov__free(dev->apps);
    if (dev->version_json)
        cJSON_free(dev->version_json);
    wifiprov_memzero(dev, sizeof(*dev));
    wifiprov__free(dev);
}

/* --- endpoints ---------------------------------------------------------- */

int wifiprov_device_add_endpoint(struct wifiprov_device *dev, const char *name, wifiprov_endpoint_fn fn, void *ctx)
{
    if (!dev || !fn || !name_valid(name) || find_ep(dev, name))
        return WIFIPROV_ERR_INVAL;
    return push_ep(dev, name, WIFIPROV_EP_KIND_APP, fn, ctx);
}

int wifiprov_device_remove_endpoint(struct wifiprov_device *dev, const char *name)
{
    struct wifiprov_endpoint *ep;
    size_t i;

    if (!dev || !name)
        return WIFIPROV_ERR_INVAL;
    ep = find_ep(dev, name);
    if (!ep)
        return WIFIPROV_ERR_NOT_FOUND;
    if (ep->kind != WIFIPROV_EP_KIND_APP)
        return WIFIPROV_ERR_INVAL;
    i = (size_t)(ep - dev->eps);
    memmove(&dev->eps[i], &dev->eps[i + 1], (dev->n_eps - i - 1) * sizeof(*ep));
    dev->n_eps--;
    return 0;
}

size_t wifiprov_device_endpoint_count(const struct wifiprov_device *dev)
{
    return dev ? dev->n_eps : 0;
}

const char *wifiprov_device_endpoint_name(const struct wifiprov_device *dev, size_t i)
{
    return dev && i < dev->n_eps ? dev->eps[i].name : NULL;
}

/* --- version reply ------------------------------------------------------ */

static bool cap_valid(const char *s)
{
    return s && s[0] && strlen(s) < 64;
}

int wifiprov_device_add_capability(struct wifiprov_device *dev, const char *cap)
{
    char **caps;
    size_t i;
    int ret;

    if (!dev || !cap_valid(cap))
        return WIFIPROV_ERR_INVAL;
    for (i = 0; i < dev->n_caps; i++) {
        if (strcmp(dev->caps[i], cap) == 0)
            return 0;
    }
    caps = wifiprov__realloc(dev->caps, (dev->n_caps + 1) * sizeof(*caps));
    if (!caps)
        return WIFIPROV_ERR_NOMEM;
    dev->caps = caps;
    caps[dev->n_caps] = wifiprov__strdup(cap);
    if (!caps[dev->n_caps])
        return WIFIPROV_ERR_NOMEM;
    dev->n_caps++;
    ret = wifiprov__version_rebuild(dev);
    if (ret) {
        dev->n_caps--;
        wifiprov__free(caps[dev->n_caps]);
    }
    return ret;
}

int wifiprov_device_set_app_info(struct wifiprov_device *dev, const char *label, const char *ver,
                                 const char *const *caps, size_t n_caps)
{
    struct wifiprov_app_info a, old;
    struct wifiprov_app_info *slot = NULL;
    size_t i;
    int ret = WIFIPROV_ERR_NOMEM;

    memset(&a, 0, sizeof(a));
    if (!dev || !cap_valid(label) || strcmp(label, "prov") == 0 || !ver || strlen(ver) > 64 || (n_caps && !caps) ||
        n_caps > 64)
        return WIFIPROV_ERR_INVAL;
    for (i = 0; i < n_caps; i++) {
        if (!cap_valid(caps[i]))
            return WIFIPROV_ERR_INVAL;
    }
    a.label = wifiprov__strdup(label);
    a.ver = wifiprov__strdup(ver);
    a.caps = wifiprov__calloc(n_caps ? n_caps : 1, sizeof(*a.caps));
    if (!a.label || !a.ver || !a.caps)
        goto out;
    for (a.n_caps = 0; a.n_caps < n_caps; a.n_caps++) {
        a.caps[a.n_caps] = wifiprov__strdup(caps[a.n_caps]);
        if (!a.caps[a.n_caps])
            goto out;
    }
    for (i = 0; i < dev->n_apps; i++) {
        if (strcmp(dev->apps[i].label, label) == 0)
            slot = &dev->apps[i];
    }
    if (!slot) {
        struct wifiprov_app_info *apps = wifiprov__realloc(dev->apps, (dev->n_apps + 1) * sizeof(*apps));

        if (!apps)
            goto out;
        dev->apps = apps;
        slot = &apps[dev->n_apps];
        memset(slot, 0, sizeof(*slot));
        dev->n_apps++;
    }
    /* Swap the new label in; on failure swap the old one back. */
    old = *slot;
    *slot = a;
    ret = wifiprov__version_rebuild(dev);
    if (ret) {
        *slot = old;
        if (!old.label)
            dev->n_apps--;
        goto out;
    }
    a = old;
out:
    free_app(&a);
    return ret;
}

const char *wifiprov_device_version_json(const struct wifiprov_device *dev)
{
    return dev ? dev->version_json : NULL;
}

/* --- sessions ----------------------------------------------------------- */

static int make_sec(const struct wifiprov_device *dev, struct wifiprov_sec_session **out)
{
    struct wifiprov_sec_params p;

    memset(&p, 0, sizeof(p));
    p.security = dev->security;
    p.role = WIFIPROV_SEC_ROLE_DEVICE;
    p.pop = dev->pop;
    p.pop_len = dev->pop_len;
    p.salt = dev->salt;
    p.salt_len = dev->salt_len;
    p.verifier = dev->verifier;
    p.verifier_len = dev->verifier_len;
    p.sec_patch_ver = dev->sec2_patch0 ? 0 : 1;
    p.sec2_precomp = dev->sec2_precomp;
    p.random = dev->random;
    p.random_ctx = dev->random_ctx;
    return wifiprov__sec_session_new(&p, out);
}

int wifiprov_device_session_open(struct wifiprov_device *dev, uint32_t session_id)
{
    struct wifiprov_dev_session *s;
    size_t i;
    int ret;

    if (!dev)
        return WIFIPROV_ERR_INVAL;
    s = find_session(dev, session_id);
    if (s) {
        drop_pending(s);
        wifiprov__sec_session_reset(s->sec);
        s->serial = ++dev->next_serial;
        emit(dev, WIFIPROV_DEVICE_EVENT_SESSION_OPENED, session_id);
        return 0;
    }
    for (i = 0; i < dev->max_sessions && dev->sessions[i].used; i++)
        ;
    if (i == dev->max_sessions) {
        wifiprov__warn("device: session %u refused: %zu sessions open", (unsigned)session_id, dev->max_sessions);
        return WIFIPROV_ERR_TOO_MANY_SESSIONS;
    }
    s = &dev->sessions[i];
    ret = make_sec(dev, &s->sec);
    if (ret) {
        memset(s, 0, sizeof(*s));
        return ret;
    }
    s->used = true;
    s->id = session_id;
    s->serial = ++dev->next_serial;
    emit(dev, WIFIPROV_DEVICE_EVENT_SESSION_OPENED, session_id);
    return 0;
}

size_t wifiprov__device_max_sessions(const struct wifiprov_device *dev)
{
    return dev ? dev->max_sessions : 0;
}

uint64_t wifiprov__device_session_serial(const struct wifiprov_device *dev, uint32_t session_id)
{
    const struct wifiprov_dev_session *s = dev ? find_session(dev, session_id) : NULL;

    return s ? s->serial : 0;
}

void wifiprov_device_session_close(struct wifiprov_device *dev, uint32_t session_id)
{
    struct wifiprov_dev_session *s;

    if (!dev)
        return;
    s = find_session(dev, session_id);
    if (!s)
        return;
    free_session(s);
    emit(dev, WIFIPROV_DEVICE_EVENT_SESSION_CLOSED, session_id);
}

bool wifiprov_device_session_exists(const struct wifiprov_device *dev, uint32_t session_id)
{
    return dev && find_session(dev, session_id) != NULL;
}

bool wifiprov_device_session_established(const struct wifiprov_device *dev, uint32_t session_id)
{
    const struct wifiprov_dev_session *s = dev ? find_session(dev, session_id) : NULL;

    return s && wifiprov__sec_established(s->sec);
}

size_t wifiprov_device_session_count(const struct wifiprov_device *dev)
{
    size_t i, n = 0;

    if (!dev)
        return 0;
    for (i = 0; i < dev->max_sessions; i++)
        n += dev->sessions[i].used;
    return n;
}

/* --- dispatch ----------------------------------------------------------- */

static int reply_version(const struct wifiprov_device *dev, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t n = strlen(dev->version_json);

    if (n > out_cap)
        return WIFIPROV_ERR_NOSPC;
    memcpy(out, dev->version_json, n);
    *out_len = n;
    return 0;
}

static int do_handshake(struct wifiprov_device *dev, struct wifiprov_dev_session *s, const uint8_t *req,
                        size_t req_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    enum wifiprov_sec_outcome outcome = WIFIPROV_SEC_OUTCOME_NONE;
    uint32_t sid = s->id;
    int ret;

    ret = wifiprov__sec_device_handshake(s->sec, req, req_len, out, out_cap, out_len, &outcome);
    if (ret)
        *out_len = 0;
    switch (outcome) {
    case WIFIPROV_SEC_OUTCOME_NONE:
        break;
    case WIFIPROV_SEC_OUTCOME_ESTABLISHED:
        if (!ret)
            emit(dev, WIFIPROV_DEVICE_EVENT_SETUP_OK, sid);
        break;
    case WIFIPROV_SEC_OUTCOME_INVALID_PARAMS:
        emit(dev, WIFIPROV_DEVICE_EVENT_INVALID_PARAMS, sid);
        break;
    case WIFIPROV_SEC_OUTCOME_MISMATCH:
        emit(dev, WIFIPROV_DEVICE_EVENT_CREDENTIALS_MISMATCH, sid);
        break;
    }
    return ret;
}

/*
 * Runs an endpoint handler on the decrypted request held in @p buf and encrypts
 * its reply into @p out. On PENDING the buffer moves into the session.
 */
static int run_handler(struct wifiprov_dev_session *s, const struct wifiprov_endpoint *ep, uint8_t *buf,
                       size_t req_len, size_t off, size_t reply_cap, bool resumed, uint8_t *out, size_t out_cap,
                       size_t *out_len)
{
    struct wifiprov_request r;
    size_t reply_len = 0;
    int ret;

    r.session_id = s->id;
    r.data = buf;
    r.len = req_len;
    r.resumed = resumed;
    ret = ep->fn(ep->ctx, &r, buf + off, reply_cap, &reply_len);
    if (ret == WIFIPROV_ERR_PENDING) {
        if (!resumed) {
            s->pend_buf = buf;
            s->pend_req_len = req_len;
            s->pend_off = off;
            s->pend_reply_cap = reply_cap;
            strcpy(s->pend_ep, ep->name);
        }
        return ret;
    }
    if (ret > 0)
        ret = WIFIPROV_ERR_INVAL; /* handlers must return 0 or a negative error */
    if (!ret && reply_len > reply_cap)
        ret = WIFIPROV_ERR_NOSPC;
    if (!ret)
        ret = wifiprov__sec_encrypt(s->sec, buf + off, reply_len, out, out_cap, out_len);
    if (ret)
        *out_len = 0;
    wifiprov_memzero(buf + off, reply_cap);
    return ret;
}

static int do_request(struct wifiprov_dev_session *s, const struct wifiprov_endpoint *ep, const uint8_t *req,
                      size_t req_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t overhead = wifiprov__sec_overhead(s->sec);
    size_t reply_cap, plain_len = 0;
    uint8_t *buf;
    int ret;

    /* sec0 has no cipher and, like ESP-IDF, no establishment check. */
    if (wifiprov__sec_has_cipher(s->sec) && !wifiprov__sec_established(s->sec))
        return WIFIPROV_ERR_STATE;
    if (out_cap < overhead)
        return WIFIPROV_ERR_NOSPC;
    reply_cap = WIFIPROV_MIN(out_cap - overhead, (size_t)WIFIPROV_MAX_MSG);
    /* Allocate before decrypting, so running out of memory leaves the cipher where it was. */
    buf = wifiprov__malloc(req_len + reply_cap);
    if (!buf)
        return WIFIPROV_ERR_NOMEM;
    ret = wifiprov__sec_decrypt(s->sec, req, req_len, buf, req_len, &plain_len);
    if (ret)
        goto out;
    ret = run_handler(s, ep, buf, plain_len, req_len, reply_cap, false, out, out_cap, out_len);
    if (ret == WIFIPROV_ERR_PENDING)
        buf = NULL; /* now owned by the session */
out:
    if (buf)
        wifiprov__free_secret(buf, req_len + reply_cap);
    return ret;
}

int wifiprov_device_handle(struct wifiprov_device *dev, uint32_t session_id, const char *endpoint,
                           const uint8_t *req, size_t req_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    const struct wifiprov_endpoint *ep;
    struct wifiprov_dev_session *s;
    int ret = WIFIPROV_ERR_INVAL;

    if (out_len)
        *out_len = 0;
    if (!dev || !endpoint || !out_len || (!req && req_len) || (!out && out_cap))
        return WIFIPROV_ERR_INVAL;
    if (req_len > WIFIPROV_MAX_MSG) {
        ret = WIFIPROV_ERR_TOO_BIG;
        goto out;
    }
    ep = find_ep(dev, endpoint);
    if (!ep) {
        ret = WIFIPROV_ERR_NOT_FOUND;
        goto out;
    }
    if (ep->kind == WIFIPROV_EP_KIND_VERSION) {
        ret = reply_version(dev, out, out_cap, out_len);
        goto out;
    }
    s = find_session(dev, session_id);
    if (!s) {
        ret = WIFIPROV_ERR_NO_SESSION;
        goto out;
    }
    if (s->pend_buf) {
        ret = WIFIPROV_ERR_STATE;
        goto out;
    }
    switch (ep->kind) {
    case WIFIPROV_EP_KIND_VERSION: /* answered above, without a session */
        ret = reply_version(dev, out, out_cap, out_len);
        break;
    case WIFIPROV_EP_KIND_APP:
        ret = do_request(s, ep, req, req_len, out, out_cap, out_len);
        break;
    case WIFIPROV_EP_KIND_SESSION:
        ret = do_handshake(dev, s, req, req_len, out, out_cap, out_len);
        break;
    }
out:
    if (ret && ret != WIFIPROV_ERR_PENDING)
        wifiprov__dbg("device: session %u, %s: %s", (unsigned)session_id, endpoint, wifiprov_err_name(ret));
    return ret;
}

int wifiprov_device_resume(struct wifiprov_device *dev, uint32_t session_id, uint8_t *out, size_t out_cap,
                           size_t *out_len)
{
    struct wifiprov_dev_session *s;
    const struct wifiprov_endpoint *ep;
    size_t overhead, reply_cap;
    int ret;

    if (out_len)
        *out_len = 0;
    if (!dev || !out_len || (!out && out_cap))
        return WIFIPROV_ERR_INVAL;
    s = find_session(dev, session_id);
    if (!s)
        return WIFIPROV_ERR_NO_SESSION;
    if (!s->pend_buf)
        return WIFIPROV_ERR_STATE;
    ep = find_ep(dev, s->pend_ep);
    if (!ep || ep->kind != WIFIPROV_EP_KIND_APP) {
        /* The endpoint was removed while its request waited. */
        drop_pending(s);
        return WIFIPROV_ERR_NOT_FOUND;
    }
    overhead = wifiprov__sec_overhead(s->sec);
    if (out_cap < overhead)
        return WIFIPROV_ERR_NOSPC;
    reply_cap = WIFIPROV_MIN(out_cap - overhead, s->pend_reply_cap);
    ret = run_handler(s, ep, s->pend_buf, s->pend_req_len, s->pend_off, reply_cap, true, out, out_cap, out_len);
    if (ret != WIFIPROV_ERR_PENDING)
        drop_pending(s);
    return ret;
}

void wifiprov_device_cancel_pending(struct wifiprov_device *dev, uint32_t session_id)
{
    struct wifiprov_dev_session *s = dev ? find_session(dev, session_id) : NULL;

    /*
     * For security 1 and 2 the request was already decrypted, so the session's
     * cipher has moved past it and no reply will ever use the keystream / nonce
     * that followed. A client that counts the exchange as failed stays in step,
     * but one that retries the same ciphertext does not: a transport should
     * normally close such a session.
     */
    if (s)
        drop_pending(s);
}

void wifiprov_device_wake(struct wifiprov_device *dev)
{
    size_t i;

    if (!dev || !dev->wake_fn)
        return;
    /* wake_fn may resume, close or open sessions: look at each slot afresh. */
    for (i = 0; i < dev->max_sessions; i++) {
        if (dev->sessions[i].used && dev->sessions[i].pend_buf)
            dev->wake_fn(dev->wake_ctx, dev->sessions[i].id);
    }
}
