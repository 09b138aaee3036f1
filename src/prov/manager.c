/*
 * Provisioning manager: the state machine of PROTOCOL.md §9, its timers and the
 * Wi-Fi backend's reports. The endpoint handlers live in handlers.c.
 *
 * Differences from ESP-IDF, on purpose: credentials are committed (made
 * permanent) only after the connection worked; the attempt counter and the
 * failure reason start afresh with every Apply, and the CRED_FAIL event carries
 * the reason GetStatus reports; scans are also served after Apply.
 */
#include <string.h>

#include "core/core_priv.h"
#include "prov/prov_priv.h"
#include "util.h"

#define DEFAULT_AUTO_STOP_MS 30000u
#define DEFAULT_CLEANUP_DELAY_MS 1000u
#define DEFAULT_MAX_SCAN_ENTRIES 16u
#define MAX_SCAN_ENTRIES_LIMIT 255u

const char *wifiprov_prov_state_to_string(enum wifiprov_prov_state s)
{
    switch (s) {
    case WIFIPROV_PROV_STATE_IDLE:
        return "idle";
    case WIFIPROV_PROV_STATE_STARTED:
        return "started";
    case WIFIPROV_PROV_STATE_CRED_RECV:
        return "cred-recv";
    case WIFIPROV_PROV_STATE_SUCCESS:
        return "success";
    case WIFIPROV_PROV_STATE_FAIL:
        return "fail";
    case WIFIPROV_PROV_STATE_ENDED:
        return "ended";
    }
    return "unknown";
}

const char *wifiprov_prov_event_to_string(enum wifiprov_prov_event ev)
{
    switch (ev) {
    case WIFIPROV_PROV_EVENT_STARTED:
        return "started";
    case WIFIPROV_PROV_EVENT_CRED_RECV:
        return "cred-recv";
    case WIFIPROV_PROV_EVENT_CONNECTING:
        return "connecting";
    case WIFIPROV_PROV_EVENT_CRED_SUCCESS:
        return "cred-success";
    case WIFIPROV_PROV_EVENT_CRED_FAIL:
        return "cred-fail";
    case WIFIPROV_PROV_EVENT_RESET:
        return "reset";
    case WIFIPROV_PROV_EVENT_END:
        return "end";
    }
    return "unknown";
}

uint64_t wifiprov__prov_now(const struct wifiprov_prov *p)
{
    return p->cfg.clock_fn(p->cfg.clock_ctx);
}

bool wifiprov__prov_serving(const struct wifiprov_prov *p)
{
    switch (p->state) {
    case WIFIPROV_PROV_STATE_STARTED:
    case WIFIPROV_PROV_STATE_CRED_RECV:
    case WIFIPROV_PROV_STATE_SUCCESS:
    case WIFIPROV_PROV_STATE_FAIL:
        return true;
    case WIFIPROV_PROV_STATE_IDLE:
    case WIFIPROV_PROV_STATE_ENDED:
        return false;
    }
    return false;
}

static void timers_changed(struct wifiprov_prov *p)
{
    if (p->cfg.timers_changed_fn)
        p->cfg.timers_changed_fn(p->cfg.timers_ctx);
}

static void enter_state(struct wifiprov_prov *p, enum wifiprov_prov_state s)
{
    if (p->state == s)
        return;
    wifiprov__info("prov: %s -> %s", wifiprov_prov_state_to_string(p->state), wifiprov_prov_state_to_string(s));
    p->state = s;
    /* Background scans run only while waiting for credentials: during a connection attempt they
     * would take the radio away from it. The first one is due at once. */
    if (s == WIFIPROV_PROV_STATE_STARTED && p->cfg.background_scan_ms) {
        p->bg_armed = true;
        p->bg_at = wifiprov__prov_now(p);
        timers_changed(p);
    } else if (p->bg_armed) {
        p->bg_armed = false;
        timers_changed(p);
    }
}

static void emit(struct wifiprov_prov *p, enum wifiprov_prov_event ev, const struct wifiprov_wifi_creds *creds,
                 const struct wifiprov_wifi_status *status)
{
    struct wifiprov_prov_event_data data;

    wifiprov__dbg("prov: event %s", wifiprov_prov_event_to_string(ev));
    if (!p->cfg.event_fn)
        return;
    data.creds = creds;
    data.status = status;
    p->cfg.event_fn(p->cfg.event_ctx, ev, &data);
}

static void disarm_timers(struct wifiprov_prov *p)
{
    if (!p->auto_stop_armed && !p->cleanup_armed)
        return;
    p->auto_stop_armed = false;
    p->cleanup_armed = false;
    timers_changed(p);
}

static void wipe_creds(struct wifiprov_wifi_creds *c, bool *flag)
{
    wifiprov_memzero(c, sizeof(*c));
    *flag = false;
}

static void wipe_staged(struct wifiprov__prov_staged *st)
{
    wifiprov_memzero(st, sizeof(*st));
}

static void wipe_all_staged(struct wifiprov_prov *p)
{
    size_t i;

    for (i = 0; i < p->n_staged; i++)
        wipe_staged(&p->staged[i]);
}

/* The slot @p session_id's current opening staged into, or NULL. */
static struct wifiprov__prov_staged *find_staged(struct wifiprov_prov *p, uint32_t session_id)
{
    uint64_t serial = wifiprov__device_session_serial(p->cfg.device, session_id);
    size_t i;

    if (!serial)
        return NULL;
    for (i = 0; i < p->n_staged; i++) {
        if (p->staged[i].serial == serial && p->staged[i].session_id == session_id)
            return &p->staged[i];
    }
    return NULL;
}

struct wifiprov__prov_staged *wifiprov__prov_stage_slot(struct wifiprov_prov *p, uint32_t session_id)
{
    struct wifiprov__prov_staged *st = find_staged(p, session_id);
    uint64_t serial = wifiprov__device_session_serial(p->cfg.device, session_id);
    size_t i;

    if (st || !serial)
        return st;
    for (i = 0; i < p->n_staged; i++) {
        struct wifiprov__prov_staged *e = &p->staged[i];

        /* Free, or left by a session that has been closed or reopened since (nobody can apply it). */
        if (!e->serial || wifiprov__device_session_serial(p->cfg.device, e->session_id) != e->serial) {
            wipe_staged(e);
            e->session_id = session_id;
            e->serial = serial;
            return e;
        }
    }
    return NULL; /* more open sessions than the device holds: cannot happen */
}

/* ---- public API -------------------------------------------------------- */

static int register_endpoints(struct wifiprov_prov *p)
{
    int r;

    r = wifiprov_device_add_endpoint(p->cfg.device, WIFIPROV_EP_CONFIG, wifiprov__prov_config_handler, p);
    if (r < 0)
        goto out;
    r = wifiprov_device_add_endpoint(p->cfg.device, WIFIPROV_EP_SCAN, wifiprov__prov_scan_handler, p);
    if (r < 0)
        goto undo_config;
    r = wifiprov_device_add_endpoint(p->cfg.device, WIFIPROV_EP_CTRL, wifiprov__prov_ctrl_handler, p);
    if (r < 0)
        goto undo_scan;
    r = wifiprov_device_add_capability(p->cfg.device, "wifi_scan");
    if (r < 0)
        goto undo_ctrl;
    p->endpoints_registered = true;
    goto out;

undo_ctrl:
    wifiprov_device_remove_endpoint(p->cfg.device, WIFIPROV_EP_CTRL);
undo_scan:
    wifiprov_device_remove_endpoint(p->cfg.device, WIFIPROV_EP_SCAN);
undo_config:
    wifiprov_device_remove_endpoint(p->cfg.device, WIFIPROV_EP_CONFIG);
out:
    return r;
}

int wifiprov_prov_new(const struct wifiprov_prov_config *cfg, struct wifiprov_prov **out)
{
    struct wifiprov_prov *p = NULL;
    int r = WIFIPROV_ERR_INVAL;

    if (!out)
        goto out;
    *out = NULL;
    if (!cfg || !cfg->device || !cfg->wifi || !cfg->clock_fn || !cfg->wifi->scan_start || !cfg->wifi->connect ||
        !cfg->wifi->disconnect || !cfg->wifi->commit || !cfg->wifi->forget ||
        cfg->max_scan_entries > MAX_SCAN_ENTRIES_LIMIT) {
        wifiprov__err("prov: incomplete or invalid configuration");
        goto out;
    }
    r = WIFIPROV_ERR_NOMEM;
    p = wifiprov__calloc(1, sizeof(*p));
    if (!p)
        goto out;
    p->cfg = *cfg;
    if (!p->cfg.auto_stop_ms)
        p->cfg.auto_stop_ms = DEFAULT_AUTO_STOP_MS;
    if (!p->cfg.cleanup_delay_ms)
        p->cfg.cleanup_delay_ms = DEFAULT_CLEANUP_DELAY_MS;
    if (!p->cfg.max_scan_entries)
        p->cfg.max_scan_entries = DEFAULT_MAX_SCAN_ENTRIES;
    p->aps = wifiprov__calloc(p->cfg.max_scan_entries, sizeof(*p->aps));
    if (!p->aps)
        goto out;
    p->n_staged = wifiprov__device_max_sessions(p->cfg.device);
    p->staged = wifiprov__calloc(p->n_staged, sizeof(*p->staged));
    if (!p->staged)
        goto out;
    p->state = WIFIPROV_PROV_STATE_IDLE;
    /* As in ESP-IDF, whose zeroed state means "connecting", GetStatus before any Apply answers Connecting. */
    p->status.state = WIFIPROV_STA_STATE_CONNECTING;
    p->last_reason = WIFIPROV_FAIL_REASON_AUTH_ERROR;
    r = register_endpoints(p);
    if (r < 0)
        goto out;
    *out = p;
    p = NULL;
out:
    wifiprov_prov_free(p);
    return r;
}

void wifiprov_prov_free(struct wifiprov_prov *p)
{
    if (!p)
        return;
    if (p->endpoints_registered) {
        wifiprov_device_remove_endpoint(p->cfg.device, WIFIPROV_EP_CONFIG);
        wifiprov_device_remove_endpoint(p->cfg.device, WIFIPROV_EP_SCAN);
        wifiprov_device_remove_endpoint(p->cfg.device, WIFIPROV_EP_CTRL);
    }
    wifiprov__free(p->aps);
    if (p->staged)
        wifiprov__free_secret(p->staged, p->n_staged * sizeof(*p->staged));
    wifiprov__free_secret(p, sizeof(*p));
}

int wifiprov_prov_start(struct wifiprov_prov *p)
{
    if (!p)
        return WIFIPROV_ERR_INVAL;
    if (p->state != WIFIPROV_PROV_STATE_IDLE)
        return WIFIPROV_ERR_STATE;
    enter_state(p, WIFIPROV_PROV_STATE_STARTED);
    emit(p, WIFIPROV_PROV_EVENT_STARTED, NULL, NULL);
    return 0;
}

int wifiprov_prov_stop(struct wifiprov_prov *p)
{
    if (!p)
        return WIFIPROV_ERR_INVAL;
    if (p->state == WIFIPROV_PROV_STATE_ENDED)
        return 0;
    if (p->state == WIFIPROV_PROV_STATE_IDLE)
        return WIFIPROV_ERR_STATE;
    disarm_timers(p);
    wipe_all_staged(p);
    enter_state(p, WIFIPROV_PROV_STATE_ENDED);
    emit(p, WIFIPROV_PROV_EVENT_END, NULL, NULL);
    return 0;
}

/* Back to STARTED after a success: drop the link (the committed network stays known to the backend). */
static void restart_after_success(struct wifiprov_prov *p)
{
    int r;

    disarm_timers(p);
    r = p->cfg.wifi->disconnect(p->cfg.wifi_ctx);
    if (r < 0)
        wifiprov__warn("prov: disconnect failed: %s", wifiprov_strerror(r));
    wipe_all_staged(p);
    wipe_creds(&p->applied_creds, &p->applied);
    p->attempts_done = 0;
    enter_state(p, WIFIPROV_PROV_STATE_STARTED);
    emit(p, WIFIPROV_PROV_EVENT_STARTED, NULL, NULL);
}

int wifiprov_prov_reprovision(struct wifiprov_prov *p)
{
    if (!p)
        return WIFIPROV_ERR_INVAL;
    if (p->state != WIFIPROV_PROV_STATE_SUCCESS && p->state != WIFIPROV_PROV_STATE_ENDED)
        return WIFIPROV_ERR_STATE;
    restart_after_success(p);
    return 0;
}

enum wifiprov_prov_state wifiprov_prov_get_state(const struct wifiprov_prov *p)
{
    return p ? p->state : WIFIPROV_PROV_STATE_IDLE;
}

void wifiprov_prov_get_status(const struct wifiprov_prov *p, struct wifiprov_wifi_status *st)
{
    if (p && st)
        *st = p->status;
}

uint64_t wifiprov_prov_next_timeout(const struct wifiprov_prov *p)
{
    uint64_t deadline = UINT64_MAX, now;

    if (!p)
        return UINT64_MAX;
    if (p->auto_stop_armed)
        deadline = p->auto_stop_at;
    if (p->cleanup_armed && p->cleanup_at < deadline)
        deadline = p->cleanup_at;
    if (p->bg_armed && p->bg_at < deadline)
        deadline = p->bg_at;
    if (deadline == UINT64_MAX)
        return UINT64_MAX;
    now = wifiprov__prov_now(p);
    return deadline <= now ? 0 : deadline - now;
}

/* Starts a background scan unless a scan is in flight, and schedules the next one. */
static void background_scan(struct wifiprov_prov *p, uint64_t now)
{
    struct wifiprov_scan_opts opts;
    int r;

    p->bg_at = now + p->cfg.background_scan_ms;
    timers_changed(p);
    if (p->scan_running || p->bg_scan)
        return;
    memset(&opts, 0, sizeof(opts));
    /* Set before the call: a backend may report completion from inside scan_start. */
    p->bg_scan = true;
    r = p->cfg.wifi->scan_start(p->cfg.wifi_ctx, &opts);
    if (r < 0) {
        p->bg_scan = false;
        wifiprov__dbg("prov: background scan could not start: %s", wifiprov_strerror(r));
    }
}

void wifiprov_prov_process_timers(struct wifiprov_prov *p)
{
    uint64_t now;
    bool due;

    if (!p)
        return;
    now = wifiprov__prov_now(p);
    if (p->bg_armed && now >= p->bg_at)
        background_scan(p, now);
    if (!p->auto_stop_armed && !p->cleanup_armed)
        return;
    due = (p->auto_stop_armed && now >= p->auto_stop_at) || (p->cleanup_armed && now >= p->cleanup_at);
    if (!due)
        return;
    wifiprov__info("prov: provisioned, stopping the service (%s)",
                   p->cleanup_armed && now >= p->cleanup_at ? "status was read" : "auto-stop timeout");
    disarm_timers(p);
    if (p->state == WIFIPROV_PROV_STATE_SUCCESS)
        wifiprov_prov_stop(p);
}

/* ---- credentials and the connection outcome --------------------------- */

static void fail(struct wifiprov_prov *p, enum wifiprov_fail_reason reason)
{
    memset(&p->status, 0, sizeof(p->status));
    p->status.state = WIFIPROV_STA_STATE_FAILED;
    p->status.fail_reason = reason;
    wifiprov__info("prov: connection failed: %s", wifiprov_fail_reason_to_string(reason));
    enter_state(p, WIFIPROV_PROV_STATE_FAIL);
    emit(p, WIFIPROV_PROV_EVENT_CRED_FAIL, NULL, &p->status);
}

static int connect_applied(struct wifiprov_prov *p)
{
    int r = p->cfg.wifi->connect(p->cfg.wifi_ctx, &p->applied_creds);

    if (r < 0)
        wifiprov__warn("prov: the Wi-Fi backend could not start connecting: %s", wifiprov_strerror(r));
    return r;
}

/* FAIL -> STARTED: the backend forgets the failed network. GetStatus keeps reporting the failure. */
static void forget_failed(struct wifiprov_prov *p)
{
    int r = p->cfg.wifi->forget(p->cfg.wifi_ctx);

    if (r < 0)
        wifiprov__warn("prov: the Wi-Fi backend could not forget the failed network: %s", wifiprov_strerror(r));
    wipe_creds(&p->applied_creds, &p->applied);
    p->attempts_done = 0;
    enter_state(p, WIFIPROV_PROV_STATE_STARTED);
}

int wifiprov__prov_apply(struct wifiprov_prov *p, uint32_t session_id)
{
    struct wifiprov__prov_staged *st = find_staged(p, session_id);

    if (p->state == WIFIPROV_PROV_STATE_FAIL && p->cfg.reset_on_failure && st) {
        wifiprov__info("prov: new credentials after a failed attempt (reset on failure)");
        forget_failed(p);
    }
    if (p->state != WIFIPROV_PROV_STATE_STARTED || !st) {
        wifiprov__info("prov: ApplyConfig refused in state %s (%s)", wifiprov_prov_state_to_string(p->state),
                       st ? "credentials staged" : "this session staged nothing");
        /* As in ESP-IDF, an Apply consumes what was staged even when it is refused. */
        if (st)
            wipe_staged(st);
        return WIFIPROV_ERR_STATE;
    }
    p->applied_creds = st->creds;
    p->applied = true;
    wipe_staged(st);
    p->attempts_done = 0;
    p->last_reason = WIFIPROV_FAIL_REASON_AUTH_ERROR;
    memset(&p->status, 0, sizeof(p->status));
    p->status.state = WIFIPROV_STA_STATE_CONNECTING;
    {
        char shown[WIFIPROV__ESCAPED_SSID_MAX];

        wifiprov__info("prov: credentials received for SSID \"%s\"",
                       wifiprov__escape(p->applied_creds.ssid, p->applied_creds.ssid_len, shown, sizeof(shown)));
    }
    emit(p, WIFIPROV_PROV_EVENT_CRED_RECV, &p->applied_creds, NULL);
    enter_state(p, WIFIPROV_PROV_STATE_CRED_RECV);
    emit(p, WIFIPROV_PROV_EVENT_CONNECTING, NULL, NULL);
    /* The client learns the outcome through GetStatus, so Apply itself succeeded either way. */
    if (connect_applied(p) < 0 && p->state == WIFIPROV_PROV_STATE_CRED_RECV)
        fail(p, p->last_reason);
    return 0;
}

static void attempt_failed(struct wifiprov_prov *p, enum wifiprov_fail_reason reason)
{
    uint32_t n = p->cfg.connect_attempts;

    if (reason != WIFIPROV_FAIL_REASON_OTHER)
        p->last_reason = reason;
    if (n == 0) {
        /* Legacy: wrong password or no such network ends at once, anything else retries silently. */
        if (reason != WIFIPROV_FAIL_REASON_OTHER) {
            fail(p, reason);
            return;
        }
        wifiprov__info("prov: connection attempt failed, retrying");
        if (connect_applied(p) < 0)
            fail(p, p->last_reason);
        return;
    }
    p->attempts_done++;
    if (p->attempts_done >= n) {
        fail(p, p->last_reason);
        return;
    }
    p->status.state = WIFIPROV_STA_STATE_CONNECTING;
    p->status.has_attempts_remaining = true;
    p->status.attempts_remaining = n - p->attempts_done;
    wifiprov__info("prov: connection attempt failed (%s), %u left", wifiprov_fail_reason_to_string(reason),
                   (unsigned)p->status.attempts_remaining);
    if (connect_applied(p) < 0)
        fail(p, p->last_reason);
}

static void connected(struct wifiprov_prov *p, const struct wifiprov_wifi_event *ev)
{
    struct wifiprov_wifi_status *st = &p->status;
    size_t ip_len = ev->ip4 ? strlen(ev->ip4) : 0;
    int r;

    memset(st, 0, sizeof(*st));
    st->state = WIFIPROV_STA_STATE_CONNECTED;
    if (ip_len >= sizeof(st->ip4))
        ip_len = sizeof(st->ip4) - 1;
    if (ip_len)
        memcpy(st->ip4, ev->ip4, ip_len);
    if (ev->ssid && ev->ssid_len) {
        st->ssid_len = (uint8_t)WIFIPROV_MIN(ev->ssid_len, (size_t)WIFIPROV_SSID_MAX);
        memcpy(st->ssid, ev->ssid, st->ssid_len);
    } else {
        st->ssid_len = p->applied_creds.ssid_len;
        memcpy(st->ssid, p->applied_creds.ssid, st->ssid_len);
    }
    if (ev->bssid)
        memcpy(st->bssid, ev->bssid, WIFIPROV_BSSID_LEN);
    st->channel = ev->channel;
    st->auth = ev->auth;
    {
        char shown[WIFIPROV__ESCAPED_SSID_MAX];

        wifiprov__info("prov: connected to \"%s\", IPv4 %s",
                       wifiprov__escape(st->ssid, st->ssid_len, shown, sizeof(shown)), st->ip4);
    }

    /* Only now do the new credentials replace the ones that worked before. */
    r = p->cfg.wifi->commit(p->cfg.wifi_ctx, &p->applied_creds);
    if (r < 0)
        wifiprov__warn("prov: could not make the new network permanent: %s", wifiprov_strerror(r));
    wipe_creds(&p->applied_creds, &p->applied);
    enter_state(p, WIFIPROV_PROV_STATE_SUCCESS);
    if (!p->cfg.no_auto_stop) {
        p->auto_stop_at = wifiprov__prov_now(p) + p->cfg.auto_stop_ms;
        p->auto_stop_armed = true;
        timers_changed(p);
    }
    emit(p, WIFIPROV_PROV_EVENT_CRED_SUCCESS, NULL, &p->status);
}

void wifiprov_prov_wifi_event(struct wifiprov_prov *p, const struct wifiprov_wifi_event *ev)
{
    if (!p || !ev)
        return;
    /* Only the attempt started by Apply matters; reports from other states are stale. */
    if (p->state != WIFIPROV_PROV_STATE_CRED_RECV) {
        wifiprov__dbg("prov: Wi-Fi event %d ignored in state %s", (int)ev->type,
                      wifiprov_prov_state_to_string(p->state));
        return;
    }
    switch (ev->type) {
    case WIFIPROV_WIFI_EVENT_CONNECTING:
        wifiprov__dbg("prov: backend is connecting");
        break;
    case WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED:
        attempt_failed(p, ev->reason);
        break;
    case WIFIPROV_WIFI_EVENT_CONNECTED:
        connected(p, ev);
        break;
    case WIFIPROV_WIFI_EVENT_DISCONNECTED:
        /* Backends report a failed attempt as ATTEMPT_FAILED; a plain disconnect (e.g. leaving the old
         * network while switching) is no verdict. */
        wifiprov__dbg("prov: backend disconnected");
        break;
    }
}

void wifiprov__prov_status_reported(struct wifiprov_prov *p)
{
    if (p->state != WIFIPROV_PROV_STATE_SUCCESS || p->cfg.no_auto_stop || p->cleanup_armed)
        return;
    p->cleanup_at = wifiprov__prov_now(p) + p->cfg.cleanup_delay_ms;
    p->cleanup_armed = true;
    timers_changed(p);
}

/* ---- prov-ctrl --------------------------------------------------------- */

int wifiprov__prov_ctrl_reset(struct wifiprov_prov *p)
{
    if (p->state != WIFIPROV_PROV_STATE_FAIL)
        return WIFIPROV_ERR_STATE;
    forget_failed(p);
    emit(p, WIFIPROV_PROV_EVENT_RESET, NULL, NULL);
    return 0;
}

int wifiprov_prov_reset(struct wifiprov_prov *p)
{
    return p ? wifiprov__prov_ctrl_reset(p) : WIFIPROV_ERR_INVAL;
}

int wifiprov__prov_ctrl_reprov(struct wifiprov_prov *p)
{
    if (!p->cfg.no_auto_stop || p->state != WIFIPROV_PROV_STATE_SUCCESS)
        return WIFIPROV_ERR_STATE;
    restart_after_success(p);
    return 0;
}

/* ---- scans ------------------------------------------------------------- */

int wifiprov__prov_scan_start(struct wifiprov_prov *p, const struct wifiprov_scan_opts *opts)
{
    int r;

    if (p->scan_running)
        return 0;
    p->n_aps = 0;
    p->scan_have_result = false;
    p->scan_err = 0;
    /* Set before the call: a backend may report completion from inside scan_start. */
    p->scan_running = true;
    if (p->bg_scan) {
        /* A background scan is under way: the client's scan is that one. */
        p->bg_scan = false;
        return 0;
    }
    r = p->cfg.wifi->scan_start(p->cfg.wifi_ctx, opts);
    if (r < 0) {
        p->scan_running = false;
        wifiprov__warn("prov: scan could not start: %s", wifiprov_strerror(r));
    }
    return r;
}

/* Inserts @p ap into the list sorted by RSSI (strongest first), dropping the weakest when full. */
static void insert_sorted(struct wifiprov_prov *p, const struct wifiprov_ap *ap)
{
    size_t max = p->cfg.max_scan_entries, pos = p->n_aps;

    while (pos > 0 && p->aps[pos - 1].rssi < ap->rssi)
        pos--;
    if (pos >= max)
        return;
    if (p->n_aps == max)
        p->n_aps--;
    memmove(&p->aps[pos + 1], &p->aps[pos], (p->n_aps - pos) * sizeof(*p->aps));
    p->aps[pos] = *ap;
    if (p->aps[pos].ssid_len > WIFIPROV_SSID_MAX)
        p->aps[pos].ssid_len = WIFIPROV_SSID_MAX;
    p->n_aps++;
}

/* Replaces the list with a finished scan's results. */
static void store_results(struct wifiprov_prov *p, int err, const struct wifiprov_ap *aps, size_t n)
{
    size_t i;

    p->scan_err = err;
    p->n_aps = 0;
    if (err == 0 && aps) {
        for (i = 0; i < n; i++)
            insert_sorted(p, &aps[i]);
    }
    p->scan_have_result = true;
    p->scan_done_at = wifiprov__prov_now(p);
    if (p->bg_armed) {
        p->bg_at = p->scan_done_at + p->cfg.background_scan_ms;
        timers_changed(p);
    }
}

void wifiprov_prov_scan_done(struct wifiprov_prov *p, int err, const struct wifiprov_ap *aps, size_t n)
{
    if (!p)
        return;
    if (!p->scan_running && p->bg_scan) {
        /* Nobody waits for a background scan; a failed one leaves the previous list in place. */
        p->bg_scan = false;
        if (err < 0) {
            wifiprov__dbg("prov: background scan failed: %s", wifiprov_strerror(err));
            return;
        }
        store_results(p, 0, aps, n);
        wifiprov__dbg("prov: background scan done, %zu networks seen, %zu kept", n, p->n_aps);
        return;
    }
    if (!p->scan_running) {
        wifiprov__dbg("prov: scan result nobody asked for, ignored");
        return;
    }
    p->scan_running = false;
    store_results(p, err, aps, n);
    if (err < 0)
        wifiprov__warn("prov: scan failed: %s", wifiprov_strerror(err));
    else
        wifiprov__info("prov: scan done, %zu networks seen, %zu kept", n, p->n_aps);
    wifiprov_device_wake(p->cfg.device);
}
