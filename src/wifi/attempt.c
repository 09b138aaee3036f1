/* The connection-attempt machine shared by the NetworkManager and wpa_supplicant backends. */
#include <string.h>

#include "util.h"
#include "wifi/attempt.h"
#include "wifi/wifiutil.h"

const char *wifiprov__attempt_state_to_string(enum wifiprov__attempt_state s)
{
    switch (s) {
    case WIFIPROV__ATTEMPT_STATE_IDLE:
        return "idle";
    case WIFIPROV__ATTEMPT_STATE_STARTING:
        return "starting";
    case WIFIPROV__ATTEMPT_STATE_CONNECTING:
        return "connecting";
    case WIFIPROV__ATTEMPT_STATE_ADDRESS:
        return "address";
    case WIFIPROV__ATTEMPT_STATE_CONNECTED:
        return "connected";
    case WIFIPROV__ATTEMPT_STATE_SAVED_WAIT:
        return "saved-wait";
    case WIFIPROV__ATTEMPT_STATE_LOST:
        return "lost";
    }
    return "?";
}

void wifiprov__attempt_init(struct wifiprov__attempt *a, const char *tag, sd_event *event,
                            void (*wifi_event_fn)(void *ctx, const struct wifiprov_wifi_event *ev), void *cb_ctx,
                            wifiprov__attempt_release_fn release_fn, void *backend)
{
    memset(a, 0, sizeof(*a));
    a->tag = tag;
    a->event = event;
    a->wifi_event_fn = wifi_event_fn;
    a->cb_ctx = cb_ctx;
    a->release_fn = release_fn;
    a->backend = backend;
}

static void queue_clear(struct wifiprov__attempt *a)
{
    a->n_q = 0;
    a->defer = sd_event_source_disable_unref(a->defer);
}

void wifiprov__attempt_destroy(struct wifiprov__attempt *a)
{
    a->deadline = sd_event_source_disable_unref(a->deadline);
    queue_clear(a);
    a->state = WIFIPROV__ATTEMPT_STATE_IDLE;
}

void wifiprov__attempt_enter(struct wifiprov__attempt *a, enum wifiprov__attempt_state s)
{
    if (a->state != s)
        wifiprov__dbg("%s: %s -> %s", a->tag, wifiprov__attempt_state_to_string(a->state),
                      wifiprov__attempt_state_to_string(s));
    a->state = s;
}

static void report(struct wifiprov__attempt *a, enum wifiprov_wifi_event_type type, enum wifiprov_fail_reason reason)
{
    struct wifiprov_wifi_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.reason = reason;
    a->wifi_event_fn(a->cb_ctx, &ev);
}

static int queue_run(sd_event_source *s, void *userdata)
{
    struct wifiprov__attempt *a = userdata;

    (void)s;
    a->defer = sd_event_source_disable_unref(a->defer);
    /* One at a time from the head: the handler may post or clear. */
    while (a->n_q > 0) {
        enum wifiprov_wifi_event_type type = a->q[0].type;
        enum wifiprov_fail_reason reason = a->q[0].reason;

        a->n_q--;
        memmove(&a->q[0], &a->q[1], a->n_q * sizeof(a->q[0]));
        report(a, type, reason);
    }
    return 0;
}

static int post(struct wifiprov__attempt *a, enum wifiprov_wifi_event_type type, enum wifiprov_fail_reason reason)
{
    if (a->n_q >= WIFIPROV_ARRAY_SIZE(a->q))
        return WIFIPROV_ERR_BUSY;
    if (!a->defer && sd_event_add_defer(a->event, &a->defer, queue_run, a) < 0)
        return WIFIPROV_ERR_NOMEM;
    a->q[a->n_q].type = type;
    a->q[a->n_q].reason = reason;
    a->n_q++;
    return 0;
}

/* Lets go of what is followed; nothing is reported. */
static void release(struct wifiprov__attempt *a)
{
    bool committed = a->committed;

    a->deadline = sd_event_source_disable_unref(a->deadline);
    a->committed = false;
    a->release_fn(a->backend, committed);
    wifiprov__attempt_enter(a, WIFIPROV__ATTEMPT_STATE_IDLE);
}

void wifiprov__attempt_abandon(struct wifiprov__attempt *a)
{
    queue_clear(a);
    release(a);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct wifiprov__attempt *a = userdata;

    (void)s;
    (void)usec;
    a->deadline = sd_event_source_disable_unref(a->deadline);
    if (a->state == WIFIPROV__ATTEMPT_STATE_SAVED_WAIT)
        wifiprov__attempt_fail(a, a->saved_seen_failure ? a->saved_reason : WIFIPROV_FAIL_REASON_OTHER,
                               "the saved network did not connect in time");
    else
        wifiprov__attempt_fail(a, WIFIPROV_FAIL_REASON_OTHER, "no outcome in time");
    return 0;
}

int wifiprov__attempt_deadline(struct wifiprov__attempt *a, uint64_t timeout_ms)
{
    return wifiprov__wifiutil_timer(a->event, &a->deadline, timeout_ms, on_deadline, a);
}

static void set_ssid(struct wifiprov__attempt *a, const uint8_t *ssid, size_t len)
{
    a->ssid_len = 0;
    if (ssid && len && len <= WIFIPROV_SSID_MAX) {
        memcpy(a->ssid, ssid, len);
        a->ssid_len = (uint8_t)len;
    }
}

int wifiprov__attempt_begin(struct wifiprov__attempt *a, const struct wifiprov_wifi_creds *creds, uint64_t timeout_ms,
                            enum wifiprov__attempt_state state)
{
    int r;

    wifiprov__attempt_abandon(a);
    set_ssid(a, creds->ssid, creds->ssid_len);
    a->sae = false;
    a->saved_seen_failure = false;
    r = wifiprov__attempt_deadline(a, timeout_ms);
    if (r)
        return r;
    wifiprov__attempt_enter(a, state);
    return post(a, WIFIPROV_WIFI_EVENT_CONNECTING, WIFIPROV_FAIL_REASON_OTHER);
}

int wifiprov__attempt_refuse(struct wifiprov__attempt *a, enum wifiprov_fail_reason reason, const char *why)
{
    wifiprov__info("%s: %s -> %s", a->tag, why, wifiprov_fail_reason_to_string(reason));
    release(a);
    return post(a, WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED, reason);
}

int wifiprov__attempt_wait_saved(struct wifiprov__attempt *a, const uint8_t *ssid, size_t ssid_len, uint64_t timeout_ms)
{
    int r;

    wifiprov__attempt_abandon(a);
    set_ssid(a, ssid, ssid_len);
    a->saved_seen_failure = false;
    a->committed = true;
    r = wifiprov__attempt_deadline(a, timeout_ms);
    if (r == 0)
        wifiprov__attempt_enter(a, WIFIPROV__ATTEMPT_STATE_SAVED_WAIT);
    return r;
}

void wifiprov__attempt_fail(struct wifiprov__attempt *a, enum wifiprov_fail_reason reason, const char *why)
{
    wifiprov__info("%s: attempt failed: %s -> %s", a->tag, why, wifiprov_fail_reason_to_string(reason));
    queue_clear(a);
    release(a);
    report(a, WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED, reason);
}

void wifiprov__attempt_failure(struct wifiprov__attempt *a, bool ours, enum wifiprov_fail_reason reason,
                               const char *why)
{
    if (ours) {
        wifiprov__attempt_fail(a, reason, why);
    } else if (a->state == WIFIPROV__ATTEMPT_STATE_SAVED_WAIT) {
        a->saved_seen_failure = true;
        a->saved_reason = reason;
    }
}

void wifiprov__attempt_associated(struct wifiprov__attempt *a)
{
    if (a->state == WIFIPROV__ATTEMPT_STATE_SAVED_WAIT || a->state == WIFIPROV__ATTEMPT_STATE_LOST)
        a->committed = true;
    wifiprov__attempt_enter(a, WIFIPROV__ATTEMPT_STATE_ADDRESS);
}

void wifiprov__attempt_connected(struct wifiprov__attempt *a, struct wifiprov_wifi_event *ev)
{
    a->deadline = sd_event_source_disable_unref(a->deadline);
    ev->type = WIFIPROV_WIFI_EVENT_CONNECTED;
    wifiprov__info("%s: connected, address %s, channel %d", a->tag, ev->ip4 ? ev->ip4 : "?", (int)ev->channel);
    wifiprov__attempt_enter(a, WIFIPROV__ATTEMPT_STATE_CONNECTED);
    a->wifi_event_fn(a->cb_ctx, ev);
}

void wifiprov__attempt_link_down(struct wifiprov__attempt *a, const char *why)
{
    switch (a->state) {
    case WIFIPROV__ATTEMPT_STATE_CONNECTED:
        wifiprov__info("%s: link lost (%s)", a->tag, why);
        wifiprov__attempt_enter(a, WIFIPROV__ATTEMPT_STATE_LOST);
        report(a, WIFIPROV_WIFI_EVENT_DISCONNECTED, WIFIPROV_FAIL_REASON_OTHER);
        break;
    case WIFIPROV__ATTEMPT_STATE_ADDRESS:
        /* Lost before an address: the service retries; the attempt's deadline still holds. */
        wifiprov__attempt_enter(a, a->committed ? WIFIPROV__ATTEMPT_STATE_LOST : WIFIPROV__ATTEMPT_STATE_CONNECTING);
        break;
    case WIFIPROV__ATTEMPT_STATE_IDLE:
    case WIFIPROV__ATTEMPT_STATE_STARTING:
    case WIFIPROV__ATTEMPT_STATE_CONNECTING:
    case WIFIPROV__ATTEMPT_STATE_SAVED_WAIT:
    case WIFIPROV__ATTEMPT_STATE_LOST:
        break;
    }
}

void wifiprov__attempt_service_lost(struct wifiprov__attempt *a)
{
    enum wifiprov__attempt_state was = a->state;

    queue_clear(a);
    a->deadline = sd_event_source_disable_unref(a->deadline);
    a->committed = false;
    wifiprov__attempt_enter(a, WIFIPROV__ATTEMPT_STATE_IDLE);
    switch (was) {
    case WIFIPROV__ATTEMPT_STATE_STARTING:
    case WIFIPROV__ATTEMPT_STATE_CONNECTING:
    case WIFIPROV__ATTEMPT_STATE_ADDRESS:
    case WIFIPROV__ATTEMPT_STATE_SAVED_WAIT:
        report(a, WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED, WIFIPROV_FAIL_REASON_OTHER);
        break;
    case WIFIPROV__ATTEMPT_STATE_CONNECTED:
        report(a, WIFIPROV_WIFI_EVENT_DISCONNECTED, WIFIPROV_FAIL_REASON_OTHER);
        break;
    case WIFIPROV__ATTEMPT_STATE_IDLE:
    case WIFIPROV__ATTEMPT_STATE_LOST:
        break;
    }
}

bool wifiprov__attempt_ours(const struct wifiprov__attempt *a)
{
    switch (a->state) {
    case WIFIPROV__ATTEMPT_STATE_STARTING:
    case WIFIPROV__ATTEMPT_STATE_CONNECTING:
    case WIFIPROV__ATTEMPT_STATE_ADDRESS:
        return !a->committed;
    case WIFIPROV__ATTEMPT_STATE_IDLE:
    case WIFIPROV__ATTEMPT_STATE_CONNECTED:
    case WIFIPROV__ATTEMPT_STATE_SAVED_WAIT:
    case WIFIPROV__ATTEMPT_STATE_LOST:
        break;
    }
    return false;
}
