/*
 * The BLE GATT server without D-Bus: UUIDs, advertisement contents and the
 * per-connection exchange (see ble_gatt.h for the rules).
 */
#include <stdio.h>
#include <string.h>

#include "transport/ble_gatt.h"
#include "util.h"

#define DEFAULT_MAX_CONNS 16u
#define EP_ID_FIRST_APP 0xFF54u
#define ADV_DATA_MAX 31u
#define ADV_FLAGS_LEN 3u
#define ADV_UUID128_LEN 18u
#define ADV_TX_POWER_LEN 3u

struct conn {
    bool used;
    char peer[WIFIPROV_BLE_PEER_MAX + 1];
    bool has_session;
    uint32_t sid;
    /* The value being written (prepared fragments, or the value of a held request). */
    bool staging;
    size_t stage_ci;
    size_t stage_len;
    uint8_t stage[WIFIPROV_BLE_VALUE_MAX];
    /* The request waiting for its reply (PENDING), on characteristic pending_ci. */
    bool pending;
    size_t pending_ci;
    /* The reply: the value of characteristic reply_ci for this connection. */
    bool has_reply;
    size_t reply_ci;
    size_t reply_len;
    uint8_t reply[WIFIPROV_BLE_VALUE_MAX];
};

struct wifiprov_ble_gatt {
    struct wifiprov_device *dev;
    struct wifiprov_sessions *sessions;
    struct wifiprov_session_owner owner;
    struct wifiprov_ble_char *chars;
    size_t n_chars;
    struct conn *conns;
    unsigned max_conns;
    void (*disconnect_fn)(void *ctx, const char *peer);
    void (*wake_fn)(void *ctx, const char *peer);
    void (*dropped_fn)(void *ctx, const char *peer);
    void *ctx;
    uint8_t out[WIFIPROV_REPLY_CAP]; /* the core's reply, before it is checked against 512 bytes */
};

const char *wifiprov_ble_status_to_string(enum wifiprov_ble_status st)
{
    switch (st) {
    case WIFIPROV_BLE_STATUS_OK:
        return "ok";
    case WIFIPROV_BLE_STATUS_PENDING:
        return "pending";
    case WIFIPROV_BLE_STATUS_INVALID_LEN:
        return "invalid value length";
    case WIFIPROV_BLE_STATUS_INVALID_OFFSET:
        return "invalid offset";
    case WIFIPROV_BLE_STATUS_FAILED:
        return "failed";
    case WIFIPROV_BLE_STATUS_PROTO_ERROR:
        return "protocol error";
    case WIFIPROV_BLE_STATUS_BUSY:
        return "busy";
    case WIFIPROV_BLE_STATUS_NOT_FOUND:
        return "not found";
    }
    return "?";
}

/* ---- UUIDs ---------------------------------------------------------------------------- */

/* Textual UUIDs are big-endian; the byte at text position i is LE byte 15 - i. */
int wifiprov__ble_uuid_parse(const char *s, uint8_t le[WIFIPROV_BLE_UUID_LEN])
{
    size_t pos = 0;

    if (!s || strlen(s) != WIFIPROV_BLE_UUID_STR_LEN)
        return WIFIPROV_ERR_INVAL;
    for (size_t i = 0; i < WIFIPROV_BLE_UUID_LEN; i++) {
        int hi, lo;
        if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
            if (s[pos] != '-')
                return WIFIPROV_ERR_INVAL;
            pos++;
        }
        hi = wifiprov__hex_digit(s[pos]);
        lo = wifiprov__hex_digit(s[pos + 1]);
        if (hi < 0 || lo < 0)
            return WIFIPROV_ERR_INVAL;
        le[WIFIPROV_BLE_UUID_LEN - 1 - i] = (uint8_t)(hi << 4 | lo);
        pos += 2;
    }
    return 0;
}

void wifiprov__ble_uuid_format(const uint8_t le[WIFIPROV_BLE_UUID_LEN], char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t pos = 0;

    for (size_t i = 0; i < WIFIPROV_BLE_UUID_LEN; i++) {
        uint8_t b = le[WIFIPROV_BLE_UUID_LEN - 1 - i];
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[pos++] = '-';
        out[pos++] = hex[b >> 4];
        out[pos++] = hex[b & 15];
    }
    out[pos] = '\0';
}

void wifiprov__ble_char_uuid(const uint8_t service_le[WIFIPROV_BLE_UUID_LEN], uint16_t id,
                             uint8_t out_le[WIFIPROV_BLE_UUID_LEN])
{
    memcpy(out_le, service_le, WIFIPROV_BLE_UUID_LEN);
    out_le[12] = (uint8_t)(id & 0xff);
    out_le[13] = (uint8_t)(id >> 8);
}

static const struct {
    const char *name;
    uint16_t id;
} builtin_ids[] = {
    {WIFIPROV_EP_CTRL, 0xFF4F},   {WIFIPROV_EP_SCAN, 0xFF50},    {WIFIPROV_EP_SESSION, 0xFF51},
    {WIFIPROV_EP_CONFIG, 0xFF52}, {WIFIPROV_EP_VERSION, 0xFF53},
};

int wifiprov__ble_endpoint_ids(const char *const *names, size_t n, uint16_t *ids)
{
    unsigned next = EP_ID_FIRST_APP;

    for (size_t i = 0; i < n; i++) {
        size_t b;
        for (b = 0; b < WIFIPROV_ARRAY_SIZE(builtin_ids); b++) {
            if (strcmp(names[i], builtin_ids[b].name) == 0)
                break;
        }
        if (b < WIFIPROV_ARRAY_SIZE(builtin_ids)) {
            ids[i] = builtin_ids[b].id;
            continue;
        }
        if (next > 0xFFFFu)
            return WIFIPROV_ERR_INVAL;
        ids[i] = (uint16_t)next++;
    }
    return 0;
}

/* ---- advertisement ------------------------------------------------------------------ */

/* The longest prefix of @p s of at most @p max bytes that does not split a UTF-8 sequence. */
static size_t utf8_prefix(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return n;
    n = max;
    /* Back off continuation bytes (10xxxxxx) and the lead byte whose sequence was cut. */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

int wifiprov__ble_adv_contents(const char *service_name, const uint8_t *mfg, size_t mfg_len,
                               struct wifiprov_ble_adv *out)
{
    size_t used = ADV_FLAGS_LEN + ADV_UUID128_LEN, n;

    memset(out, 0, sizeof(*out));
    if (!service_name || !*service_name)
        return WIFIPROV_ERR_INVAL;
    if (mfg_len && (!mfg || mfg_len < 2 || mfg_len > WIFIPROV_BLE_MFG_MAX))
        return WIFIPROV_ERR_INVAL;
    n = utf8_prefix(service_name, WIFIPROV_BLE_NAME_MAX);
    memcpy(out->local_name, service_name, n);
    out->local_name[n] = '\0';
    if (mfg_len) {
        out->has_mfg = true;
        out->company_id = (uint16_t)(mfg[0] | mfg[1] << 8);
        out->mfg_len = mfg_len - 2;
        memcpy(out->mfg_data, mfg + 2, out->mfg_len);
        used += 2 + mfg_len;
    }
    out->tx_power = used + ADV_TX_POWER_LEN <= ADV_DATA_MAX;
    return 0;
}

/* ---- sessions: the device's one policy (transport/sessions.h) ------------------------------- */

static struct conn *conn_of_session(const struct wifiprov_ble_gatt *g, uint32_t id)
{
    for (unsigned i = 0; i < g->max_conns; i++) {
        if (g->conns[i].used && g->conns[i].has_session && g->conns[i].sid == id)
            return &g->conns[i];
    }
    return NULL;
}

static void clear_stage(struct conn *c);

static void owner_wake(void *ctx, uint32_t id)
{
    struct wifiprov_ble_gatt *g = ctx;
    struct conn *c = conn_of_session(g, id);

    if (c && c->pending && g->wake_fn)
        g->wake_fn(g->ctx, c->peer);
}

/* The policy closed one of our sessions (idle, evicted, its held reply never came, or we closed it). */
static void owner_closed(void *ctx, uint32_t id, enum wifiprov_session_why why)
{
    struct wifiprov_ble_gatt *g = ctx;
    struct conn *c = conn_of_session(g, id);
    bool was_pending;

    if (!c)
        return; /* we closed it ourselves */
    wifiprov__dbg("ble: session of %s closed (%s)", c->peer, wifiprov_session_why_to_string(why));
    was_pending = c->pending;
    c->has_session = false;
    c->pending = false;
    if (was_pending) {
        clear_stage(c);
        if (g->dropped_fn)
            g->dropped_fn(g->ctx, c->peer);
    }
}

/*
 * A request of a connection without a session: the policy answers proto-ver without
 * one, opens one for prov-session (a handshake start, which its guard may refuse) and
 * refuses anything else.
 */
static int sess_begin(struct wifiprov_ble_gatt *g, struct conn *c, const char *endpoint, const uint8_t *req,
                      size_t len, size_t *out_len)
{
    uint32_t id = 0;
    int err = wifiprov_sessions_begin(g->sessions, &g->owner, c->peer, endpoint, req, len, g->out, sizeof(g->out),
                                      out_len, &id);

    if (id) {
        c->sid = id;
        c->has_session = true;
    }
    return err;
}

static void sess_close(struct wifiprov_ble_gatt *g, struct conn *c)
{
    uint32_t id = c->sid;
    bool pending = c->pending;

    if (!c->has_session)
        return;
    /* Forget it first: the policy's closed callback then finds no connection. */
    c->has_session = false;
    c->pending = false;
    if (pending)
        wifiprov_sessions_cancel(g->sessions, id);
    else
        wifiprov_sessions_close(g->sessions, id, WIFIPROV_SESSION_WHY_OWNER);
}

static int sess_handle(struct wifiprov_ble_gatt *g, struct conn *c, const char *endpoint, const uint8_t *req,
                       size_t len, size_t *out_len)
{
    return wifiprov_sessions_handle(g->sessions, c->sid, c->peer, endpoint, req, len, g->out, sizeof(g->out), out_len);
}

static int sess_resume(struct wifiprov_ble_gatt *g, struct conn *c, size_t *out_len)
{
    return wifiprov_sessions_resume(g->sessions, c->sid, g->out, sizeof(g->out), out_len);
}

/* ---- the server ------------------------------------------------------------------------ */

int wifiprov__ble_gatt_new(const struct wifiprov_ble_gatt_config *cfg, struct wifiprov_ble_gatt **out)
{
    struct wifiprov_ble_gatt *g = NULL;
    const char **names = NULL;
    uint16_t *ids = NULL;
    size_t n;
    int err = WIFIPROV_ERR_INVAL;

    *out = NULL;
    if (!cfg || !cfg->device || !cfg->sessions)
        goto out;
    n = wifiprov_device_endpoint_count(cfg->device);
    err = WIFIPROV_ERR_NOMEM;
    g = wifiprov__calloc(1, sizeof(*g));
    names = wifiprov__calloc(n ? n : 1, sizeof(*names));
    ids = wifiprov__calloc(n ? n : 1, sizeof(*ids));
    if (!g || !names || !ids)
        goto out;
    g->dev = cfg->device;
    g->sessions = cfg->sessions;
    g->owner.name = "ble";
    g->owner.ctx = g;
    g->owner.wake = owner_wake;
    g->owner.closed = owner_closed;
    g->wake_fn = cfg->wake_fn;
    g->dropped_fn = cfg->dropped_fn;
    g->max_conns = cfg->max_conns ? cfg->max_conns : DEFAULT_MAX_CONNS;
    g->disconnect_fn = cfg->disconnect_fn;
    g->ctx = cfg->ctx;
    g->chars = wifiprov__calloc(n ? n : 1, sizeof(*g->chars));
    g->conns = wifiprov__calloc(g->max_conns, sizeof(*g->conns));
    if (!g->chars || !g->conns)
        goto out;
    for (size_t i = 0; i < n; i++) {
        names[i] = wifiprov_device_endpoint_name(cfg->device, i);
        if (!names[i] || strlen(names[i]) > WIFIPROV_EP_NAME_MAX) {
            err = WIFIPROV_ERR_INVAL;
            goto out;
        }
    }
    err = wifiprov__ble_endpoint_ids(names, n, ids);
    if (err)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct wifiprov_ble_char *ch = &g->chars[i];
        memcpy(ch->name, names[i], strlen(names[i]) + 1);
        ch->id = ids[i];
        wifiprov__ble_char_uuid(cfg->service_uuid, ids[i], ch->uuid);
    }
    g->n_chars = n;
    *out = g;
    g = NULL;
    err = 0;
out:
    wifiprov__free(names);
    wifiprov__free(ids);
    wifiprov__ble_gatt_free(g);
    return err;
}

void wifiprov__ble_gatt_free(struct wifiprov_ble_gatt *g)
{
    if (!g)
        return;
    if (g->conns) {
        wifiprov__ble_gatt_disconnect_all(g);
        /* Values are session traffic (plaintext under security 0). */
        wifiprov__free_secret(g->conns, g->max_conns * sizeof(*g->conns));
    }
    wifiprov__free(g->chars);
    wifiprov__free_secret(g, sizeof(*g));
}

size_t wifiprov__ble_gatt_char_count(const struct wifiprov_ble_gatt *g)
{
    return g->n_chars;
}

const struct wifiprov_ble_char *wifiprov__ble_gatt_char(const struct wifiprov_ble_gatt *g, size_t i)
{
    return i < g->n_chars ? &g->chars[i] : NULL;
}

/* ATT Read (Blob) semantics: an offset past the end is an error, exactly at the end an empty value. */
static enum wifiprov_ble_status read_at(const uint8_t *value, size_t vlen, size_t offset, const uint8_t **data,
                                        size_t *len)
{
    if (offset > vlen)
        return WIFIPROV_BLE_STATUS_INVALID_OFFSET;
    *data = value + offset;
    *len = vlen - offset;
    return WIFIPROV_BLE_STATUS_OK;
}

enum wifiprov_ble_status wifiprov__ble_gatt_read_descriptor(const struct wifiprov_ble_gatt *g, size_t ci, size_t offset,
                                                            const uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (ci >= g->n_chars)
        return WIFIPROV_BLE_STATUS_NOT_FOUND;
    return read_at((const uint8_t *)g->chars[ci].name, strlen(g->chars[ci].name), offset, data, len);
}

static struct conn *conn_find(const struct wifiprov_ble_gatt *g, const char *peer)
{
    for (unsigned i = 0; i < g->max_conns; i++) {
        if (g->conns[i].used && strcmp(g->conns[i].peer, peer) == 0)
            return &g->conns[i];
    }
    return NULL;
}

static struct conn *conn_get(struct wifiprov_ble_gatt *g, const char *peer)
{
    struct conn *c = conn_find(g, peer);

    if (c)
        return c;
    for (unsigned i = 0; i < g->max_conns; i++) {
        if (!g->conns[i].used) {
            c = &g->conns[i];
            memset(c, 0, sizeof(*c));
            c->used = true;
            snprintf(c->peer, sizeof(c->peer), "%s", peer);
            return c;
        }
    }
    wifiprov__warn("ble: %u connections are tracked already; refusing %s", g->max_conns, peer);
    return NULL;
}

static void clear_reply(struct conn *c)
{
    wifiprov_memzero(c->reply, c->reply_len);
    c->has_reply = false;
    c->reply_len = 0;
}

static void clear_stage(struct conn *c)
{
    wifiprov_memzero(c->stage, c->stage_len);
    c->staging = false;
    c->stage_len = 0;
}

/* A protocol error: the session goes, and so should the link (P25). */
static enum wifiprov_ble_status proto_error(struct wifiprov_ble_gatt *g, struct conn *c, int err)
{
    char peer[WIFIPROV_BLE_PEER_MAX + 1];

    wifiprov__info("ble: request of %s failed (%s); dropping its session and the link", c->peer,
                   wifiprov_err_name(err));
    sess_close(g, c);
    clear_stage(c);
    clear_reply(c);
    memcpy(peer, c->peer, sizeof(peer));
    if (g->disconnect_fn)
        g->disconnect_fn(g->ctx, peer);
    return WIFIPROV_BLE_STATUS_PROTO_ERROR;
}

/* Turns the core's answer into a status; the reply becomes the characteristic's value. */
static enum wifiprov_ble_status conclude(struct wifiprov_ble_gatt *g, struct conn *c, size_t ci, int err,
                                         size_t out_len)
{
    if (err == WIFIPROV_ERR_PENDING) {
        c->pending = true;
        c->pending_ci = ci;
        return WIFIPROV_BLE_STATUS_PENDING;
    }
    c->pending = false;
    clear_stage(c);
    if (err)
        return proto_error(g, c, err);
    if (out_len > WIFIPROV_BLE_VALUE_MAX) {
        /* Bluedroid answers INVALID_ATTR_LEN; the session's cipher moved past this reply. */
        wifiprov__warn("ble: a %zu-byte reply does not fit in a characteristic value (512)", out_len);
        wifiprov_memzero(g->out, out_len);
        sess_close(g, c);
        return WIFIPROV_BLE_STATUS_INVALID_LEN;
    }
    memcpy(c->reply, g->out, out_len);
    wifiprov_memzero(g->out, out_len);
    c->has_reply = true;
    c->reply_ci = ci;
    c->reply_len = out_len;
    return WIFIPROV_BLE_STATUS_OK;
}

/* Runs the staged value of @p c as a request on characteristic stage_ci. */
static enum wifiprov_ble_status run(struct wifiprov_ble_gatt *g, struct conn *c)
{
    size_t ci = c->stage_ci, out_len = 0;
    int err;

    clear_reply(c);
    if (c->has_session)
        err = sess_handle(g, c, g->chars[ci].name, c->stage, c->stage_len, &out_len);
    else
        err = sess_begin(g, c, g->chars[ci].name, c->stage, c->stage_len, &out_len);
    if (err == WIFIPROV_ERR_BUSY || err == WIFIPROV_ERR_TOO_MANY_SESSIONS) {
        /* Refused before the device saw it (throttled handshake start, or no room): the link may retry. */
        wifiprov__warn("ble: request of %s refused: %s", c->peer, wifiprov_strerror(err));
        clear_stage(c);
        return WIFIPROV_BLE_STATUS_FAILED;
    }
    return conclude(g, c, ci, err, out_len);
}

/* Adds a fragment at @p offset to the value being written. */
static enum wifiprov_ble_status stage(struct conn *c, size_t ci, size_t offset, const uint8_t *data, size_t len)
{
    if (offset == 0) {
        clear_stage(c);
        c->staging = true;
        c->stage_ci = ci;
    } else if (!c->staging || c->stage_ci != ci || offset != c->stage_len) {
        /* Out of order, a gap, or nothing to continue. */
        clear_stage(c);
        return WIFIPROV_BLE_STATUS_INVALID_OFFSET;
    }
    if (len > WIFIPROV_BLE_VALUE_MAX - c->stage_len) {
        clear_stage(c);
        return WIFIPROV_BLE_STATUS_INVALID_LEN;
    }
    if (len)
        memcpy(c->stage + c->stage_len, data, len);
    c->stage_len += len;
    return WIFIPROV_BLE_STATUS_OK;
}

/* Checks common to every access of @p peer to @p ci. */
static enum wifiprov_ble_status access_conn(struct wifiprov_ble_gatt *g, const char *peer, size_t ci, struct conn **out)
{
    *out = NULL;
    if (!peer || !*peer)
        return WIFIPROV_BLE_STATUS_FAILED;
    if (ci >= g->n_chars)
        return WIFIPROV_BLE_STATUS_NOT_FOUND;
    *out = conn_get(g, peer);
    if (!*out)
        return WIFIPROV_BLE_STATUS_FAILED;
    /* One exchange at a time: the client waits for the write's response before anything else. */
    if ((*out)->pending)
        return WIFIPROV_BLE_STATUS_BUSY;
    return WIFIPROV_BLE_STATUS_OK;
}

enum wifiprov_ble_status wifiprov__ble_gatt_write(struct wifiprov_ble_gatt *g, const char *peer, size_t ci,
                                                  size_t offset, const uint8_t *data, size_t len)
{
    enum wifiprov_ble_status st;
    struct conn *c;

    st = access_conn(g, peer, ci, &c);
    if (st != WIFIPROV_BLE_STATUS_OK)
        return st;
    if (offset == 0 && len == 0)
        return WIFIPROV_BLE_STATUS_INVALID_LEN; /* Bluedroid: 0x0D, nothing processed */
    if (offset != 0) {
        /* A complete write continues no queue: the value would be a fragment. */
        clear_stage(c);
        return WIFIPROV_BLE_STATUS_INVALID_OFFSET;
    }
    st = stage(c, ci, 0, data, len);
    if (st != WIFIPROV_BLE_STATUS_OK)
        return st;
    return run(g, c);
}

enum wifiprov_ble_status wifiprov__ble_gatt_prepare(struct wifiprov_ble_gatt *g, const char *peer, size_t ci,
                                                    size_t offset, const uint8_t *data, size_t len)
{
    enum wifiprov_ble_status st;
    struct conn *c;

    st = access_conn(g, peer, ci, &c);
    if (st != WIFIPROV_BLE_STATUS_OK)
        return st;
    return stage(c, ci, offset, data, len);
}

enum wifiprov_ble_status wifiprov__ble_gatt_execute(struct wifiprov_ble_gatt *g, const char *peer, bool commit)
{
    struct conn *c = peer ? conn_find(g, peer) : NULL;

    if (!c || !c->staging) {
        /* An empty queue executes to nothing, as in ATT. */
        return WIFIPROV_BLE_STATUS_OK;
    }
    if (c->pending)
        return WIFIPROV_BLE_STATUS_BUSY;
    if (!commit) {
        clear_stage(c);
        return WIFIPROV_BLE_STATUS_OK;
    }
    if (c->stage_len == 0) {
        clear_stage(c);
        return WIFIPROV_BLE_STATUS_INVALID_LEN;
    }
    return run(g, c);
}

enum wifiprov_ble_status wifiprov__ble_gatt_read(struct wifiprov_ble_gatt *g, const char *peer, size_t ci,
                                                 size_t offset, const uint8_t **data, size_t *len)
{
    enum wifiprov_ble_status st;
    struct conn *c;

    *data = NULL;
    *len = 0;
    st = access_conn(g, peer, ci, &c);
    if (st != WIFIPROV_BLE_STATUS_OK)
        return st;
    if (!c->has_reply || c->reply_ci != ci)
        return read_at(c->reply, 0, offset, data, len);
    return read_at(c->reply, c->reply_len, offset, data, len);
}

enum wifiprov_ble_status wifiprov__ble_gatt_resume(struct wifiprov_ble_gatt *g, const char *peer)
{
    struct conn *c = peer ? conn_find(g, peer) : NULL;
    size_t out_len = 0;
    int err;

    if (!c || !c->pending)
        return WIFIPROV_BLE_STATUS_FAILED;
    if (!c->has_session) {
        c->pending = false;
        clear_stage(c);
        return WIFIPROV_BLE_STATUS_FAILED;
    }
    err = sess_resume(g, c, &out_len);
    return conclude(g, c, c->pending_ci, err, out_len);
}

void wifiprov__ble_gatt_disconnected(struct wifiprov_ble_gatt *g, const char *peer)
{
    struct conn *c = peer ? conn_find(g, peer) : NULL;

    if (!c)
        return;
    wifiprov__dbg("ble: %s disconnected%s", c->peer, c->has_session ? "; closing its session" : "");
    sess_close(g, c);
    wifiprov_memzero(c, sizeof(*c));
}

void wifiprov__ble_gatt_disconnect_all(struct wifiprov_ble_gatt *g)
{
    for (unsigned i = 0; i < g->max_conns; i++) {
        if (g->conns[i].used)
            wifiprov__ble_gatt_disconnected(g, g->conns[i].peer);
    }
}

const char *wifiprov__ble_gatt_peer_of(const struct wifiprov_ble_gatt *g, uint32_t id)
{
    const struct conn *c = conn_of_session(g, id);

    return c ? c->peer : NULL;
}

bool wifiprov__ble_gatt_pending(const struct wifiprov_ble_gatt *g, const char *peer)
{
    const struct conn *c = conn_find(g, peer);

    return c && c->pending;
}

size_t wifiprov__ble_gatt_conn_count(const struct wifiprov_ble_gatt *g)
{
    size_t n = 0;

    for (unsigned i = 0; i < g->max_conns; i++)
        n += g->conns[i].used;
    return n;
}

size_t wifiprov__ble_gatt_session_count(const struct wifiprov_ble_gatt *g)
{
    size_t n = 0;

    for (unsigned i = 0; i < g->max_conns; i++)
        n += g->conns[i].used && g->conns[i].has_session;
    return n;
}

bool wifiprov__ble_gatt_session_of(const struct wifiprov_ble_gatt *g, const char *peer, uint32_t *id)
{
    const struct conn *c = conn_find(g, peer);

    if (!c || !c->has_session)
        return false;
    *id = c->sid;
    return true;
}
