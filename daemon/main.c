/*
 * wifiprovd: the device side of ESP-IDF's unified provisioning on Linux.
 *
 * Everything runs on one thread around one sd-event loop: the device transports
 * (transport.h: HTTP through libmicrohttpd in epoll mode) and the session policy they
 * share (its deadlines run on one timer here), the Wi-Fi backend, the provisioning
 * manager's timers, the custom-data command and the signals.
 *
 * Life cycle: when the store holds a network (and --reprovision is not given) the
 * daemon connects to it and stays idle; SIGUSR1 starts provisioning, and when that
 * provisioning ends the daemon is idle again. Otherwise it starts provisioning at
 * once and exits 0 when provisioning ends (auto-stop after success).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

#include "ap.h"
#include "transport.h"
#include "transport/sessions.h"
#include "util.h"
#include "wifi/backend.h"
#include "wifiprov/wifiprov.h"
#include "wifiprovd.h"

#define SEC2_FILE_MAX 8192

struct daemon {
    struct wifiprovd_config *cfg;
    sd_event *ev;
    struct wifiprov_backend *backend;
    struct wifiprov_wifi_ops ops; /* the backend's, with commit wrapped to write the store */
    struct wifiprov_device *dev;
    struct wifiprov_prov *prov;
    struct wifiprov_sessions *sessions;
    struct wifiprovd_transport {
        const struct wifiprovd_transport_ops *ops;
        void *ctx;
        bool up;     /* started and serving */
        bool failed; /* said it is down after start: stopped from the loop */
    } transports[WIFIPROVD_TRANSPORTS_MAX];
    size_t n_transports;
    struct wifiprovd_custom *custom;
    struct wifiprov_backend_wait *wait; /* the Wi-Fi service is not running yet */
    sd_event_source *retry_timer;       /* it runs, but has no usable device yet */
    unsigned retries;
    sd_event_source *session_timer;
    sd_event_source *down_defer;
    sd_event_source *prov_timer;
    sd_event_source *end_defer;
    char service_name[40];
    char *sec2_username;
    uint8_t sec2_salt[64];
    size_t sec2_salt_len;
    uint8_t sec2_verifier[WIFIPROV_SEC2_VERIFIER_LEN];
    size_t sec2_verifier_len;
    bool idle_mode; /* started already provisioned: go back to idle when provisioning ends */
    /* The network a commit that is still completing (NetworkManager's save) will store. */
    struct wifiprov_wifi_creds commit_creds;
    bool commit_pending;
    bool commit_failed; /* the new network works but was not saved: exit 1, not provisioned */
    struct wifiprovd_ap *ap; /* --softap */
    sd_event_source *ap_retry;
    unsigned ap_failures;
    /* SSID -> channel of the last scan, to tell whether the AP can stay up during an attempt */
    struct {
        uint8_t ssid[WIFIPROV_SSID_MAX];
        uint8_t ssid_len;
        uint32_t channel;
    } seen[64];
    size_t n_seen;
};

/* --- logging ------------------------------------------------------------------- */

static uint64_t log_start_ms;
static bool log_verbose;

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void log_line(char level, const char *tag, const char *msg)
{
    if (level == 'D' && !log_verbose)
        return;
    fprintf(stderr, "%s%c (%llu) %s: %s\n", wifiprovd_service_log_prefix(level), level,
            (unsigned long long)(now_ms() - log_start_ms), tag, msg);
    fflush(stderr);
}

void wifiprovd_log(char level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_line(level, "wifiprovd", buf);
}

static void lib_log(void *ctx, enum wifiprov_log_level level, const char *msg)
{
    char c = 'I';

    (void)ctx;
    switch (level) {
    case WIFIPROV_LOG_LEVEL_ERROR:
        c = 'E';
        break;
    case WIFIPROV_LOG_LEVEL_WARNING:
        c = 'W';
        break;
    case WIFIPROV_LOG_LEVEL_INFO:
        c = 'I';
        break;
    case WIFIPROV_LOG_LEVEL_DEBUG:
        c = 'D';
        break;
    }
    log_line(c, "wifiprov", msg);
}

void wifiprovd_log_init(bool verbose)
{
    log_start_ms = now_ms();
    log_verbose = verbose;
    wifiprov_set_log_handler(lib_log, NULL, verbose ? WIFIPROV_LOG_LEVEL_DEBUG : WIFIPROV_LOG_LEVEL_INFO);
}

/* --- security 2 credentials ------------------------------------------------------- */

static int load_verifier_file(struct daemon *d, const char *path)
{
    FILE *f = NULL;
    char *buf = NULL;
    struct stat sb;
    size_t n;
    int ret = -1;

    f = fopen(path, "r");
    if (!f || fstat(fileno(f), &sb) < 0) {
        int e = errno;
        wd_err("Cannot read the security-2 verifier file %s: %s", path, strerror(e));
        if (e == ENOENT)
            wd_err("Create it with: wifiprov gen-cred --username wifiprov --out %s (or run with --security 1 "
                   "--pop ... for a first try)", path);
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        wd_err("%s is not a regular file", path);
        goto out;
    }
    if (wifiprovd_file_too_open(&sb))
        wd_warn("%s is accessible by group or others (mode %03o); it should be 0600 (or 0640 with the daemon's "
                "group)",
                path,
                (unsigned)(sb.st_mode & 0777));
    buf = malloc(SEC2_FILE_MAX + 1);
    if (!buf)
        goto out;
    n = fread(buf, 1, SEC2_FILE_MAX + 1, f);
    if (n > SEC2_FILE_MAX) {
        wd_err("%s is larger than %d bytes", path, SEC2_FILE_MAX);
        goto out;
    }
    buf[n] = '\0';
    if (wifiprovd_sec2_file_parse(buf, path, &d->sec2_username, d->sec2_salt, sizeof(d->sec2_salt), &d->sec2_salt_len,
                                  d->sec2_verifier, &d->sec2_verifier_len) < 0)
        goto out;
    ret = 0;
out:
    if (buf) {
        wifiprov_memzero(buf, SEC2_FILE_MAX + 1);
        free(buf);
    }
    if (f)
        fclose(f);
    return ret;
}

static int prepare_security(struct daemon *d)
{
    const struct wifiprovd_config *cfg = d->cfg;
    int err;

    if (cfg->security != 2)
        return 0;
    if (cfg->sec2_verifier_file)
        return load_verifier_file(d, cfg->sec2_verifier_file);
    wd_warn("Security 2 in development mode: the salt and verifier are derived from --sec2-password and the "
            "password is put in the QR code. Use --sec2-verifier-file for production.");
    d->sec2_salt_len = 16;
    err = wifiprov_sec2_gen_salt_verifier(cfg->sec2_username, cfg->sec2_password, d->sec2_salt_len, NULL, NULL,
                                          d->sec2_salt, d->sec2_verifier);
    if (err == WIFIPROV_ERR_BAD_CRED) {
        wd_err("esp_prov computes a different verifier for this username/password pair (PROTOCOL.md P7), so "
               "it is refused; choose another password");
        return -1;
    }
    if (err) {
        wd_err("Cannot derive the security-2 verifier: %s", wifiprov_strerror(err));
        return -1;
    }
    d->sec2_verifier_len = WIFIPROV_SEC2_VERIFIER_LEN;
    d->sec2_username = strdup(cfg->sec2_username);
    return d->sec2_username ? 0 : -1;
}

/* --- Wi-Fi backend --------------------------------------------------------------- */

static void on_scan_done(void *ctx, int err, const struct wifiprov_ap *aps, size_t n)
{
    struct daemon *d = ctx;

    if (err)
        wd_warn("Wi-Fi scan failed: %s", wifiprov_strerror(err));
    else
        wd_dbg("Wi-Fi scan done: %zu access points", n);
    if (!err) {
        d->n_seen = 0;
        for (size_t i = 0; i < n && d->n_seen < sizeof(d->seen) / sizeof(d->seen[0]); i++) {
            memcpy(d->seen[d->n_seen].ssid, aps[i].ssid, aps[i].ssid_len);
            d->seen[d->n_seen].ssid_len = aps[i].ssid_len;
            d->seen[d->n_seen].channel = aps[i].channel;
            d->n_seen++;
        }
    }
    if (d->prov)
        wifiprov_prov_scan_done(d->prov, err, aps, n);
}

static void on_wifi_event(void *ctx, const struct wifiprov_wifi_event *ev)
{
    struct daemon *d = ctx;

    switch (ev->type) {
    case WIFIPROV_WIFI_EVENT_CONNECTING:
        wd_dbg("Wi-Fi: connecting");
        break;
    case WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED:
        wd_info("Wi-Fi: connection attempt failed (%s)", wifiprov_fail_reason_to_string(ev->reason));
        break;
    case WIFIPROV_WIFI_EVENT_CONNECTED:
        wd_info("Connected with IP Address:%s", ev->ip4 ? ev->ip4 : "?");
        break;
    case WIFIPROV_WIFI_EVENT_DISCONNECTED:
        wd_info("Wi-Fi: disconnected");
        break;
    }
    if (d->prov)
        wifiprov_prov_wifi_event(d->prov, ev);
}

static int w_scan_start(void *ctx, const struct wifiprov_scan_opts *opts)
{
    struct daemon *d = ctx;
    return d->backend->ops->scan_start(d->backend->ctx, opts);
}

/* The channel of the network a client asked for: its own hint, else the last scan. 0 = unknown. */
static unsigned target_channel(const struct daemon *d, const struct wifiprov_wifi_creds *creds)
{
    if (creds->channel > 0)
        return (unsigned)creds->channel;
    for (size_t i = 0; i < d->n_seen; i++) {
        if (d->seen[i].ssid_len == creds->ssid_len && memcmp(d->seen[i].ssid, creds->ssid, creds->ssid_len) == 0)
            return d->seen[i].channel;
    }
    return 0;
}

static int w_connect(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct daemon *d = ctx;

    if (d->ap)
        wifiprovd_ap_before_attempt(d->ap, target_channel(d, creds));
    return d->backend->ops->connect(d->backend->ctx, creds);
}

static int w_disconnect(void *ctx)
{
    struct daemon *d = ctx;
    return d->backend->ops->disconnect(d->backend->ctx);
}

static int w_forget(void *ctx)
{
    struct daemon *d = ctx;
    return d->backend->ops->forget(d->backend->ctx);
}

/* The store remembers that the device is provisioned: only once the backend's commit completed. */
static void store_provisioned(struct daemon *d, const struct wifiprov_wifi_creds *creds)
{
    struct wifiprovd_state st;

    memset(&st, 0, sizeof(st));
    snprintf(st.backend, sizeof(st.backend), "%s", d->backend->name);
    memcpy(st.creds.ssid, creds->ssid, creds->ssid_len);
    st.creds.ssid_len = creds->ssid_len;
    /* Only the simulator needs the passphrase back; real backends keep their own profile. */
    if (strcmp(d->backend->name, "sim") == 0) {
        memcpy(st.creds.passphrase, creds->passphrase, sizeof(st.creds.passphrase));
        st.creds.passphrase_len = creds->passphrase_len;
    }
    st.timestamp = (int64_t)time(NULL);
    if (wifiprovd_store_save(d->cfg->state_dir, &st) < 0) {
        wd_err("The network works but could not be stored; it will be asked again after a restart");
        d->commit_failed = true;
    }
    wifiprov_memzero(&st, sizeof(st));
}

static void commit_failed(struct daemon *d, int err)
{
    wd_err("The new network works but the Wi-Fi backend could not save it (%s); the device is not marked "
           "provisioned and will be provisioned again at the next start",
           wifiprov_strerror(err));
    d->commit_failed = true;
}

/* A commit that answered WIFIPROV_ERR_PENDING (NetworkManager's save) completed. */
static void on_commit_done(void *ctx, int err)
{
    struct daemon *d = ctx;

    if (!d->commit_pending)
        return;
    d->commit_pending = false;
    if (err)
        commit_failed(d, err);
    else
        store_provisioned(d, &d->commit_creds);
    wifiprov_memzero(&d->commit_creds, sizeof(d->commit_creds));
}

/* The backend makes the network permanent, then the store remembers it. */
static int w_commit(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct daemon *d = ctx;
    int err = d->backend->ops->commit(d->backend->ctx, creds);

    if (err == WIFIPROV_ERR_PENDING) {
        d->commit_creds = *creds;
        d->commit_pending = true;
        return 0;
    }
    if (err) {
        commit_failed(d, err);
        return err;
    }
    store_provisioned(d, creds);
    return 0;
}

#if !defined(WIFIPROV_HAVE_SIM) || !defined(WIFIPROV_HAVE_NM) || !defined(WIFIPROV_HAVE_WPA) ||                        \
    !defined(WIFIPROV_HAVE_AUTO)
static int backend_unavailable(const char *name, const char *what)
{
    wd_err("Wi-Fi backend '%s' is not available in this build (%s). Use --wifi sim to try wifiprovd with "
           "simulated networks.",
           name, what);
    return WIFIPROVD_EXIT_USAGE;
}
#endif

static void backend_config(struct daemon *d, struct wifiprov_backend_config *bc)
{
    memset(bc, 0, sizeof(*bc));
    bc->event = d->ev;
    bc->scan_done_fn = on_scan_done;
    bc->wifi_event_fn = on_wifi_event;
    bc->ctx = d;
    bc->ifname = d->cfg->interface;
    bc->sim_config = d->cfg->sim_config;
    bc->sim_scan_ms = d->cfg->sim_scan_ms;
    bc->wpa_ctrl_dir = d->cfg->wpa_ctrl_dir;
    bc->dhcp_hook = d->cfg->dhcp_hook;
    bc->state_dir = d->cfg->state_dir;
    bc->commit_done_fn = on_commit_done;
}

/* @return 0, an exit code, or -1 when the service runs but has no usable device (yet). */
static int backend_create(struct daemon *d)
{
    struct wifiprov_backend_config bc;
    int err = WIFIPROV_ERR_UNSUPPORTED;

    backend_config(d, &bc);
    switch (d->cfg->wifi) {
    case WIFIPROVD_WIFI_SIM:
#ifdef WIFIPROV_HAVE_SIM
        err = wifiprov_backend_sim_new(&bc, &d->backend);
#else
        return backend_unavailable("sim", "src/wifi/sim.c was not built");
#endif
        break;
    case WIFIPROVD_WIFI_NM:
#ifdef WIFIPROV_HAVE_NM
        err = wifiprov_backend_nm_new(&bc, &d->backend);
#else
        return backend_unavailable("networkmanager", "src/wifi/nm.c was not built");
#endif
        break;
    case WIFIPROVD_WIFI_WPA:
#ifdef WIFIPROV_HAVE_WPA
        err = wifiprov_backend_wpa_new(&bc, &d->backend);
#else
        return backend_unavailable("wpa_supplicant", "src/wifi/wpa.c was not built");
#endif
        break;
    case WIFIPROVD_WIFI_AUTO:
#ifdef WIFIPROV_HAVE_AUTO
        err = wifiprov_backend_auto_new(&bc, &d->backend);
#else
        return backend_unavailable("auto", "it needs the NetworkManager and wpa_supplicant backends");
#endif
        break;
    }
    if (err) {
        /* The backend said what is wrong; this line only says what it means for the daemon. */
        if (err == WIFIPROV_ERR_UNSUPPORTED && d->cfg->wifi != WIFIPROVD_WIFI_SIM)
            return -1;
        wd_err("Cannot start the Wi-Fi backend '%s' (see above)", wifiprovd_wifi_to_string(d->cfg->wifi));
        /* The simulator's only input is its configuration: any failure is a configuration error. */
        return d->cfg->wifi == WIFIPROVD_WIFI_SIM || err == WIFIPROV_ERR_INVAL ? WIFIPROVD_EXIT_USAGE
                                                                              : WIFIPROVD_EXIT_FAILURE;
    }
    d->ops.scan_start = w_scan_start;
    d->ops.connect = w_connect;
    d->ops.disconnect = w_disconnect;
    d->ops.commit = w_commit;
    d->ops.forget = w_forget;
    return 0;
}

static void make_service_name(struct daemon *d)
{
    uint8_t mac[6];

    if (d->cfg->service_name) {
        snprintf(d->service_name, sizeof(d->service_name), "%s", d->cfg->service_name);
        return;
    }
    if (!d->backend->get_mac || d->backend->get_mac(d->backend, mac) != 0) {
        wd_warn("Cannot read the Wi-Fi MAC address; using PROV_000000 (set --service-name)");
        memset(mac, 0, sizeof(mac));
    }
    snprintf(d->service_name, sizeof(d->service_name), "PROV_%02X%02X%02X", mac[3], mac[4], mac[5]);
}

/* --- provisioning ---------------------------------------------------------------- */

static void stop_transports(struct daemon *d)
{
    for (size_t i = 0; i < d->n_transports; i++) {
        if (d->transports[i].up)
            d->transports[i].ops->stop(d->transports[i].ctx);
        d->transports[i].up = false;
    }
}

static void stop_provisioning(struct daemon *d)
{
    stop_transports(d);
    wifiprov_sessions_free(d->sessions);
    d->sessions = NULL;
    if (d->session_timer)
        sd_event_source_set_enabled(d->session_timer, SD_EVENT_OFF);
    if (d->ap)
        wifiprovd_ap_stop(d->ap);
    d->ap_retry = sd_event_source_disable_unref(d->ap_retry);
    wifiprov_prov_free(d->prov);
    d->prov = NULL;
    wifiprov_device_free(d->dev);
    d->dev = NULL;
    wifiprovd_custom_free(d->custom);
    d->custom = NULL;
    if (d->prov_timer)
        sd_event_source_set_enabled(d->prov_timer, SD_EVENT_OFF);
}

static int on_end_defer(sd_event_source *s, void *ud)
{
    struct daemon *d = ud;

    (void)s;
    d->end_defer = sd_event_source_disable_unref(d->end_defer);
    stop_provisioning(d);
    if (d->idle_mode) {
        wd_info("Provisioning service stopped; send SIGUSR1 to provision again");
        wifiprovd_service_status("Provisioned; idle (SIGUSR1 provisions again)");
        return 0;
    }
    if (d->commit_failed)
        wd_err("Exiting with status 1: the provisioned network was not saved");
    sd_event_exit(d->ev, d->commit_failed ? WIFIPROVD_EXIT_FAILURE : WIFIPROVD_EXIT_OK);
    return 0;
}

static void rearm_prov_timer(struct daemon *d)
{
    uint64_t t;

    if (!d->prov || !d->prov_timer)
        return;
    t = wifiprov_prov_next_timeout(d->prov);
    if (t == UINT64_MAX) {
        sd_event_source_set_enabled(d->prov_timer, SD_EVENT_OFF);
        return;
    }
    sd_event_source_set_time(d->prov_timer, (now_ms() + t) * 1000u);
    sd_event_source_set_enabled(d->prov_timer, SD_EVENT_ONESHOT);
}

static int on_prov_timer(sd_event_source *s, uint64_t usec, void *ud)
{
    struct daemon *d = ud;

    (void)s;
    (void)usec;
    if (d->prov)
        wifiprov_prov_process_timers(d->prov);
    rearm_prov_timer(d);
    return 0;
}

static uint64_t prov_clock(void *ctx)
{
    (void)ctx;
    return now_ms();
}

static void prov_timers_changed(void *ctx)
{
    rearm_prov_timer(ctx);
}

static void on_prov_event(void *ctx, enum wifiprov_prov_event ev, const struct wifiprov_prov_event_data *data)
{
    struct daemon *d = ctx;
    char ssid[4 * WIFIPROV_SSID_MAX + 1];

    switch (ev) {
    case WIFIPROV_PROV_EVENT_STARTED:
        wd_info("Provisioning started with service name : %s", d->service_name);
        wifiprovd_service_status("Waiting for credentials as %s", d->service_name);
        break;
    case WIFIPROV_PROV_EVENT_CRED_RECV:
        if (data && data->creds) {
            wifiprovd_escape(data->creds->ssid, data->creds->ssid_len, ssid, sizeof(ssid));
            wd_info("Received Wi-Fi credentials\n\tSSID : %s\n\tPassword : %s", ssid,
                    data->creds->passphrase_len ? "********" : "(none)");
            wifiprovd_service_status("Connecting to %s", ssid);
        }
        break;
    case WIFIPROV_PROV_EVENT_CONNECTING:
        wd_dbg("Connecting to the new network");
        break;
    case WIFIPROV_PROV_EVENT_CRED_SUCCESS:
        wd_info("Provisioning successful");
        wifiprovd_service_status("Provisioned: connected");
        break;
    case WIFIPROV_PROV_EVENT_CRED_FAIL:
        wd_err("Provisioning failed!\n\tReason : %s\n\t%s",
               data && data->status && data->status->fail_reason == WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND
                   ? "Wi-Fi access-point not found"
                   : "Wi-Fi station authentication failed",
               d->cfg->reset_on_failure
                   ? "Still provisioning: waiting for a client to send new credentials (the previous network "
                     "is kept)"
                   : "Still provisioning: a client must send prov-ctrl Reset ('wifiprov reset'), then new "
                     "credentials (the previous network is kept)");
        wifiprovd_service_status("Provisioning failed (%s); waiting for new credentials",
                                 data && data->status ? wifiprov_fail_reason_to_string(data->status->fail_reason)
                                                      : "?");
        /* A phone that rejoins reads the reason there. */
        if (d->ap)
            wifiprovd_ap_resume(d->ap);
        break;
    case WIFIPROV_PROV_EVENT_RESET:
        wd_info("Provisioning reset by the client; waiting for new credentials");
        wifiprovd_service_status("Waiting for credentials as %s", d->service_name);
        if (d->ap)
            wifiprovd_ap_resume(d->ap);
        break;
    case WIFIPROV_PROV_EVENT_END:
        wd_info("Provisioning end");
        /* Never free the manager from inside its own callback. */
        if (!d->end_defer && sd_event_add_defer(d->ev, &d->end_defer, on_end_defer, d) < 0)
            sd_event_exit(d->ev, WIFIPROVD_EXIT_FAILURE);
        break;
    }
}

static void on_device_event(void *ctx, enum wifiprov_device_event ev, uint32_t session_id)
{
    (void)ctx;
    (void)session_id;
    switch (ev) {
    case WIFIPROV_DEVICE_EVENT_SETUP_OK:
        wd_info("Secured session established!");
        break;
    case WIFIPROV_DEVICE_EVENT_INVALID_PARAMS:
        wd_warn("Received invalid security parameters for establishing secure session!");
        break;
    case WIFIPROV_DEVICE_EVENT_CREDENTIALS_MISMATCH:
        wd_warn("Received incorrect username and/or PoP for establishing secure session!");
        break;
    case WIFIPROV_DEVICE_EVENT_SESSION_OPENED:
        wd_dbg("Session opened");
        break;
    case WIFIPROV_DEVICE_EVENT_SESSION_CLOSED:
        wd_dbg("Session closed");
        break;
    }
}

static void device_wake(void *ctx, uint32_t session_id)
{
    struct daemon *d = ctx;

    /* The policy knows which transport owns the session. */
    wifiprov_sessions_wake(d->sessions, session_id);
}

/* --- the session policy's timer ------------------------------------------------------ */

static void rearm_session_timer(void *ctx)
{
    struct daemon *d = ctx;
    uint64_t t;

    if (!d->sessions || !d->session_timer)
        return;
    t = wifiprov_sessions_next_deadline_ms(d->sessions);
    if (t == UINT64_MAX) {
        sd_event_source_set_enabled(d->session_timer, SD_EVENT_OFF);
        return;
    }
    sd_event_source_set_time(d->session_timer, t * 1000u);
    sd_event_source_set_enabled(d->session_timer, SD_EVENT_ONESHOT);
}

static int on_session_timer(sd_event_source *s, uint64_t usec, void *ud)
{
    struct daemon *d = ud;

    (void)s;
    (void)usec;
    wifiprov_sessions_expire(d->sessions); /* rearms through deadline_fn */
    return 0;
}

/* The QR payload's "transport": the highest-ranked transport that serves (BLE over HTTP). */
static const char *qr_transport(const struct daemon *d)
{
    const struct wifiprovd_transport_ops *best = NULL;

    for (size_t i = 0; i < d->n_transports; i++) {
        const struct wifiprovd_transport_ops *o = d->transports[i].ops;
        if (d->transports[i].up && (!best || o->qr_rank > best->qr_rank))
            best = o;
    }
    return best ? best->qr_transport : "softap";
}

static void show_qr(struct daemon *d)
{
    const struct wifiprovd_config *cfg = d->cfg;
    const char *pop = NULL;
    char *payload;

    if (cfg->security == 1)
        pop = cfg->pop;
    else if (cfg->security == 2)
        pop = cfg->sec2_password; /* development mode only; NULL with a verifier file */
    if (cfg->qr_url)
        payload = wifiprovd_qr_url(cfg->qr_url, cfg->security == 2 ? d->sec2_username : NULL, pop);
    else /* In SoftAP mode the app joins the network named by "name", with "password". */
        payload = wifiprovd_qr_payload(cfg->softap && cfg->softap_ssid ? cfg->softap_ssid : d->service_name,
                                       cfg->security == 2 ? d->sec2_username : NULL, pop,
                                       cfg->softap ? "softap" : qr_transport(d),
                                       cfg->softap ? cfg->softap_passphrase : NULL);
    if (!payload) {
        wd_err("Cannot build the QR payload");
        return;
    }
    /* The payload holds the PoP: printed to a terminal, never to a log (the journal) unless asked. */
    if (!cfg->no_qr && (cfg->qr_stdout || isatty(STDOUT_FILENO)))
        wifiprovd_qr_print(stdout, payload);
    else if (!cfg->no_qr)
        wd_info("QR code not printed: standard output is not a terminal (--qr-stdout prints it anyway; "
                "--qr-png/--qr-svg write it to a file)");
    if (cfg->qr_png && wifiprovd_qr_write_png(cfg->qr_png, payload) == 0)
        wd_info("QR code written to %s", cfg->qr_png);
    if (cfg->qr_svg && wifiprovd_qr_write_svg(cfg->qr_svg, payload) == 0)
        wd_info("QR code written to %s", cfg->qr_svg);
    wifiprov_memzero(payload, strlen(payload));
    free(payload);
}

static uint64_t sessions_clock(void *ctx)
{
    (void)ctx;
    return now_ms();
}

/* Stops the transports that went down after start; with none left serving, wifiprovd fails. */
static int on_down_defer(sd_event_source *s, void *ud)
{
    struct daemon *d = ud;
    size_t up = 0;

    (void)s;
    d->down_defer = sd_event_source_disable_unref(d->down_defer);
    for (size_t i = 0; i < d->n_transports; i++) {
        struct wifiprovd_transport *t = &d->transports[i];
        if (t->up && t->failed) {
            t->ops->stop(t->ctx);
            t->up = false;
        }
        t->failed = false;
        up += t->up;
    }
    if (up == 0 && d->prov) {
        wd_err("No transport serves any more; exiting");
        sd_event_exit(d->ev, WIFIPROVD_EXIT_FAILURE);
    }
    return 0;
}

static void transport_down(void *ctx, void *transport_ctx, const char *why)
{
    struct daemon *d = ctx;

    for (size_t i = 0; i < d->n_transports; i++) {
        struct wifiprovd_transport *t = &d->transports[i];
        if (t->ctx != transport_ctx || !t->up)
            continue;
        wd_err("The %s transport is down: %s", t->ops->name, why);
        t->failed = true;
        if (!d->down_defer && sd_event_add_defer(d->ev, &d->down_defer, on_down_defer, d) < 0)
            sd_event_exit(d->ev, WIFIPROVD_EXIT_FAILURE);
    }
}

/* Starts every configured transport; those that fail are logged as down. @return 0 when one serves, or -1. */
static int start_transports(struct daemon *d)
{
    struct wifiprovd_transport_env env;
    size_t up = 0;

    memset(&env, 0, sizeof(env));
    env.event = d->ev;
    env.cfg = d->cfg;
    env.device = d->dev;
    env.sessions = d->sessions;
    env.service_name = d->service_name;
    env.down = transport_down;
    env.down_ctx = d;
    for (size_t i = 0; i < d->n_transports; i++) {
        struct wifiprovd_transport *t = &d->transports[i];
        int err = t->ops->start(t->ctx, &env);

        t->up = err == 0;
        if (t->up)
            up++;
        else if (d->n_transports > 1)
            wd_err("The %s transport is down (%s); the other transports keep serving", t->ops->name,
                   wifiprov_strerror(err));
    }
    if (up == 0 && d->n_transports > 1)
        wd_err("No transport could be started");
    return up ? 0 : -1;
}

/* @return 0 or -1 (logged). */
static int start_provisioning(struct daemon *d)
{
    const struct wifiprovd_config *cfg = d->cfg;
    struct wifiprov_device_config dc;
    struct wifiprov_prov_config pc;
    struct wifiprov_sessions_config sc;
    int err;

    if (d->prov) {
        enum wifiprov_prov_state st = wifiprov_prov_get_state(d->prov);
        if (st != WIFIPROV_PROV_STATE_SUCCESS) {
            wd_info("Provisioning is already running (%s)", wifiprov_prov_state_to_string(st));
            return 0;
        }
        err = wifiprov_prov_reprovision(d->prov);
        if (err)
            wd_err("Cannot restart provisioning: %s", wifiprov_strerror(err));
        return err ? -1 : 0;
    }

    memset(&dc, 0, sizeof(dc));
    dc.security = (enum wifiprov_security)cfg->security;
    dc.pop = cfg->security == 1 ? cfg->pop : NULL;
    if (cfg->security == 2) {
        dc.sec2_salt = d->sec2_salt;
        dc.sec2_salt_len = d->sec2_salt_len;
        dc.sec2_verifier = d->sec2_verifier;
        dc.sec2_verifier_len = d->sec2_verifier_len;
    }
    dc.max_sessions = cfg->max_sessions;
    dc.wake_fn = device_wake;
    dc.wake_ctx = d;
    dc.event_fn = on_device_event;
    dc.event_ctx = d;
    err = wifiprov_device_new(&dc, &d->dev);
    if (err) {
        wd_err("Cannot set up the provisioning device: %s", wifiprov_strerror(err));
        goto fail;
    }

    memset(&pc, 0, sizeof(pc));
    pc.device = d->dev;
    pc.wifi = &d->ops;
    pc.wifi_ctx = d;
    pc.connect_attempts = cfg->connect_attempts;
    pc.reset_on_failure = cfg->reset_on_failure;
    pc.background_scan_ms = cfg->scan_interval_s * 1000u;
    pc.scan_cache_ms = cfg->scan_cache_s * 1000u;
    pc.no_auto_stop = cfg->auto_stop_s == 0;
    pc.auto_stop_ms = cfg->auto_stop_s * 1000u;
    pc.clock_fn = prov_clock;
    pc.timers_changed_fn = prov_timers_changed;
    pc.timers_ctx = d;
    pc.event_fn = on_prov_event;
    pc.event_ctx = d;
    err = wifiprov_prov_new(&pc, &d->prov);
    if (err) {
        wd_err("Cannot set up the provisioning manager: %s", wifiprov_strerror(err));
        goto fail;
    }
    err = wifiprovd_custom_new(d->ev, d->dev, cfg->custom_data_command, cfg->custom_data_timeout_s, &d->custom);
    if (err) {
        wd_err("Cannot register the custom-data endpoint: %s", wifiprov_strerror(err));
        goto fail;
    }
    memset(&sc, 0, sizeof(sc));
    sc.device = d->dev;
    sc.max_sessions = cfg->max_sessions;
    sc.idle_s = cfg->session_timeout_s;
    sc.handshake_s = cfg->handshake_timeout_s;
    sc.guard.max_failures = cfg->max_auth_failures;
    sc.guard.unlock_hint = "send SIGUSR1 to wifiprovd (kill -USR1 <pid>) to allow handshakes again";
    sc.clock_ms = sessions_clock;
    sc.deadline_fn = rearm_session_timer;
    sc.deadline_ctx = d;
    err = wifiprov_sessions_new(&sc, &d->sessions);
    if (err) {
        wd_err("Cannot set up the sessions: %s", wifiprov_strerror(err));
        goto fail;
    }
    /* With the SoftAP, the transports start once the AP (and so its address) is up: on_ap_event. */
    if (d->ap ? wifiprovd_ap_start(d->ap) < 0 : start_transports(d) < 0)
        goto fail;
    err = wifiprov_prov_start(d->prov);
    if (err) {
        wd_err("Cannot start provisioning: %s", wifiprov_strerror(err));
        goto fail;
    }
    rearm_prov_timer(d);
    show_qr(d);
    return 0;
fail:
    stop_provisioning(d);
    return -1;
}

/* --- SoftAP ----------------------------------------------------------------------- */

static int on_ap_retry(sd_event_source *s, uint64_t usec, void *ud)
{
    struct daemon *d = ud;

    (void)s;
    (void)usec;
    d->ap_retry = sd_event_source_disable_unref(d->ap_retry);
    if (!d->prov)
        return 0;
    wifiprovd_ap_stop(d->ap);
    if (wifiprovd_ap_start(d->ap) < 0) {
        wd_err("SoftAP: cannot start the access point again; stopping");
        sd_event_exit(d->ev, WIFIPROVD_EXIT_FAILURE);
    }
    return 0;
}

static bool transports_up(const struct daemon *d)
{
    for (size_t i = 0; i < d->n_transports; i++) {
        if (d->transports[i].up)
            return true;
    }
    return false;
}

static void on_ap_event(void *ctx, enum wifiprovd_ap_event ev, const char *detail)
{
    struct daemon *d = ctx;

    switch (ev) {
    case WIFIPROVD_AP_EVENT_READY:
        d->ap_failures = 0;
        wd_info("SoftAP: '%s' is up on %s (%s/%d), joinable %llu ms after the start", d->ap->cfg.ssid,
                d->ap->ifname, WIFIPROVD_AP_ADDRESS, WIFIPROVD_AP_PREFIX,
                (unsigned long long)(now_ms() - log_start_ms));
        if (d->prov && !transports_up(d) && start_transports(d) < 0) {
            wd_err("SoftAP: no transport could be started on the access point; stopping");
            sd_event_exit(d->ev, WIFIPROVD_EXIT_FAILURE);
        }
        break;
    case WIFIPROVD_AP_EVENT_STA_JOINED:
        wd_info("SoftAP: station %s joined", detail ? detail : "?");
        break;
    case WIFIPROVD_AP_EVENT_STA_LEFT:
        wd_info("SoftAP: station %s left", detail ? detail : "?");
        break;
    case WIFIPROVD_AP_EVENT_FAILED:
        wd_err("SoftAP: %s", detail ? detail : "the access point failed");
        if (++d->ap_failures > 3) {
            wd_err("SoftAP: the access point failed %u times in a row; stopping", d->ap_failures - 1);
            sd_event_exit(d->ev, WIFIPROVD_EXIT_FAILURE);
        } else if (!d->ap_retry &&
                   sd_event_add_time_relative(d->ev, &d->ap_retry, CLOCK_MONOTONIC, 1000000u, 10000, on_ap_retry,
                                              d) < 0) {
            sd_event_exit(d->ev, WIFIPROVD_EXIT_FAILURE);
        }
        break;
    }
}

/* Makes the SoftAP service and sweeps what an earlier run left. @return 0 or an exit code. */
static int ap_create(struct daemon *d)
{
    const struct wifiprovd_config *cfg = d->cfg;
    struct wifiprovd_ap_config ac;

    if (!cfg->softap)
        return 0;
    memset(&ac, 0, sizeof(ac));
    ac.event = d->ev;
    ac.backend = d->backend->name;
    ac.sta_ifname = cfg->interface;
    ac.ap_ifname = cfg->softap_interface;
    ac.ssid = cfg->softap_ssid ? cfg->softap_ssid : d->service_name;
    ac.passphrase = cfg->softap_passphrase;
    ac.channel = cfg->softap_channel;
    ac.no_apsta = cfg->softap_no_apsta;
    ac.event_fn = on_ap_event;
    ac.ctx = d;
    return wifiprovd_ap_new(&ac, &d->ap) < 0 ? WIFIPROVD_EXIT_FAILURE : 0;
}

/* --- signals and main -------------------------------------------------------------- */

static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
    struct daemon *d = ud;

    (void)s;
    wd_info("Stopping (signal %u)", si->ssi_signo);
    sd_event_exit(d->ev, WIFIPROVD_EXIT_OK);
    return 0;
}

/* SIGHUP does not reload the configuration (most of it shapes what a client already saw, such as
 * the security scheme and the service name): it is logged, so that it does not end the daemon. */
static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
    (void)s;
    (void)si;
    (void)ud;
    wd_warn("SIGHUP ignored: the configuration is read only at start; restart wifiprovd to apply changes "
            "(systemctl restart wifiprovd)");
    return 0;
}

static int on_usr1(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
    struct daemon *d = ud;

    (void)s;
    (void)si;
    if (wifiprov_sessions_locked(d->sessions))
        wd_info("SIGUSR1: handshakes were locked after %u failures; unlocking", d->cfg->max_auth_failures);
    wifiprov_sessions_unlock(d->sessions);
    if (!d->backend) {
        wd_info("SIGUSR1: the Wi-Fi service is not running yet; provisioning starts once it does");
        return 0;
    }
    wd_info("SIGUSR1: starting provisioning");
    if (start_provisioning(d) < 0)
        wd_err("Provisioning could not be started");
    return 0;
}

/* The transports of --transport. @return 0 or an exit code. */
static int create_transports(struct daemon *d)
{
    for (size_t i = 0; i < d->cfg->n_transports; i++) {
        const char *name = d->cfg->transports[i];
        const struct wifiprovd_transport_ops *ops = wifiprovd_transport_find(name);
        struct wifiprovd_transport *t = &d->transports[d->n_transports];
        int err;

        if (!ops) {
            wd_err("The %s transport is not part of this build of wifiprovd (it is not written yet); use "
                   "--transport http",
                   strcmp(name, "ble") == 0 ? "BLE" : name);
            return WIFIPROVD_EXIT_USAGE;
        }
        err = ops->new (d->cfg, &t->ctx);
        if (err) {
            wd_err("Cannot set up the %s transport: %s", name, wifiprov_strerror(err));
            return WIFIPROVD_EXIT_FAILURE;
        }
        t->ops = ops;
        d->n_transports++;
    }
    return 0;
}

static void free_transports(struct daemon *d)
{
    stop_transports(d);
    for (size_t i = 0; i < d->n_transports; i++)
        d->transports[i].ops->free(d->transports[i].ctx);
    d->n_transports = 0;
}

/* After the backend exists: the stored network, or provisioning. @return 0 or an exit code. */
static int begin(struct daemon *d)
{
    struct wifiprovd_state st;
    int r;

    make_service_name(d);
    r = ap_create(d);
    if (r)
        return r;
    wd_info("wifiprovd %s: security %d, Wi-Fi backend %s, state in %s", WIFIPROV_VERSION_STRING, d->cfg->security,
            d->backend->name, d->cfg->state_dir);

    r = wifiprovd_store_load(d->cfg->state_dir, &st);
    if (r < 0)
        return WIFIPROVD_EXIT_FAILURE;
    if (r == 1 && !d->cfg->reprovision) {
        char ssid[4 * WIFIPROV_SSID_MAX + 1];
        int err = 0;

        wifiprovd_escape(st.creds.ssid, st.creds.ssid_len, ssid, sizeof(ssid));
        wd_info("Already provisioned, starting Wi-Fi STA");
        wd_info("Stored network: SSID %s (backend %s)", ssid, st.backend);
        if (strcmp(st.backend, d->backend->name) != 0)
            wd_warn("The network was stored by the '%s' backend, now '%s' runs", st.backend, d->backend->name);
        if (!d->backend->connect_saved) {
            wd_err("The Wi-Fi backend cannot reconnect to a stored network");
        } else {
            err = d->backend->connect_saved(d->backend, &st.creds);
            if (err && err != WIFIPROV_ERR_NOT_FOUND)
                wd_err("Cannot connect to the stored network: %s", wifiprov_strerror(err));
        }
        wifiprov_memzero(&st, sizeof(st));
        if (err == WIFIPROV_ERR_NOT_FOUND) {
            /* Removed from the backend by hand: the device is not provisioned any more. */
            wd_warn("The stored network %s no longer exists in %s; starting provisioning", ssid, d->backend->name);
            if (start_provisioning(d) < 0)
                return WIFIPROVD_EXIT_FAILURE;
        } else {
            d->idle_mode = true;
            wd_info("Idle; send SIGUSR1 to start provisioning again");
            wifiprovd_service_status("Provisioned; idle (SIGUSR1 provisions again)");
        }
    } else {
        wifiprov_memzero(&st, sizeof(st));
        if (r == 1)
            wd_info("A network is stored, but --reprovision was given");
        if (start_provisioning(d) < 0)
            return WIFIPROVD_EXIT_FAILURE;
    }
    return 0;
}

#define BACKEND_RETRIES 30 /* a service that runs but has no usable device: once a second, this long */

static int start_backend(struct daemon *d);

static int on_backend_retry(sd_event_source *s, uint64_t usec, void *ud)
{
    struct daemon *d = ud;
    int ret;

    (void)s;
    (void)usec;
    ret = start_backend(d);
    if (ret)
        sd_event_exit(d->ev, ret);
    return 0;
}

static void on_service_ready(void *ctx)
{
    struct daemon *d = ctx;
    int ret;

    wifiprov_backend_wait_free(d->wait);
    d->wait = NULL;
    ret = start_backend(d);
    if (ret)
        sd_event_exit(d->ev, ret);
}

/*
 * Creates the backend and begins, or waits: for the service to start (a boot race is a
 * runtime condition, not a configuration error), then for its device for a while.
 * @return 0 (begun or waiting) or an exit code.
 */
static int start_backend(struct daemon *d)
{
    struct wifiprov_backend_config bc;
    bool nm = d->cfg->wifi == WIFIPROVD_WIFI_NM || d->cfg->wifi == WIFIPROVD_WIFI_AUTO;
    bool wpa = d->cfg->wifi == WIFIPROVD_WIFI_WPA || d->cfg->wifi == WIFIPROVD_WIFI_AUTO;
    char what[160];
    int ret;

    backend_config(d, &bc);
    if ((nm || wpa) && !wifiprov_backend_service_present(&bc, nm, wpa)) {
        if (wifiprov_backend_wait_new(&bc, nm, wpa, on_service_ready, d, &d->wait)) {
            wd_err("Cannot wait for the Wi-Fi service");
            return WIFIPROVD_EXIT_FAILURE;
        }
        snprintf(what, sizeof(what), "Waiting for %s%s%s%s to start", nm ? "NetworkManager on the system bus" : "",
                 nm && wpa ? " or " : "", wpa ? "a wpa_supplicant control socket in " : "",
                 wpa ? (d->cfg->wpa_ctrl_dir ? d->cfg->wpa_ctrl_dir : "/run/wpa_supplicant") : "");
        wd_info("%s", what);
        wifiprovd_service_status("%s", what);
        return 0;
    }
    ret = backend_create(d);
    if (ret == -1) {
        if (++d->retries > BACKEND_RETRIES) {
            wd_err("The Wi-Fi backend '%s' found no usable device in %d s; check --interface and the service's "
                   "configuration",
                   wifiprovd_wifi_to_string(d->cfg->wifi), BACKEND_RETRIES);
            return WIFIPROVD_EXIT_USAGE;
        }
        if (d->retries == 1)
            wd_info("Waiting up to %d s for the Wi-Fi service to offer a usable device", BACKEND_RETRIES);
        if (!d->retry_timer && sd_event_add_time_relative(d->ev, &d->retry_timer, CLOCK_MONOTONIC, 1000 * 1000, 0,
                                                          on_backend_retry, d) < 0)
            return WIFIPROVD_EXIT_FAILURE;
        if (sd_event_source_set_time_relative(d->retry_timer, 1000 * 1000) < 0 ||
            sd_event_source_set_enabled(d->retry_timer, SD_EVENT_ONESHOT) < 0)
            return WIFIPROVD_EXIT_FAILURE;
        return 0;
    }
    if (ret)
        return ret;
    return begin(d);
}

static int run(struct daemon *d)
{
    sigset_t mask;
    int ret, r;

    if (prepare_security(d) < 0)
        return WIFIPROVD_EXIT_USAGE;
    if (wifiprovd_store_prepare(d->cfg->state_dir) < 0)
        return WIFIPROVD_EXIT_FAILURE;
    wifiprovd_transports_sweep(d->cfg);

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    r = sd_event_new(&d->ev);
    if (r >= 0)
        r = sd_event_add_signal(d->ev, NULL, SIGTERM, on_stop_signal, d);
    if (r >= 0)
        r = sd_event_add_signal(d->ev, NULL, SIGINT, on_stop_signal, d);
    if (r >= 0)
        r = sd_event_add_signal(d->ev, NULL, SIGUSR1, on_usr1, d);
    if (r >= 0)
        r = sd_event_add_signal(d->ev, NULL, SIGHUP, on_hup, d);
    if (r >= 0)
        r = sd_event_add_time(d->ev, &d->prov_timer, CLOCK_MONOTONIC, 0, 1000, on_prov_timer, d);
    if (r >= 0)
        r = sd_event_source_set_enabled(d->prov_timer, SD_EVENT_OFF);
    if (r >= 0)
        r = sd_event_add_time(d->ev, &d->session_timer, CLOCK_MONOTONIC, 0, 100000, on_session_timer, d);
    if (r >= 0)
        r = sd_event_source_set_enabled(d->session_timer, SD_EVENT_OFF);
    if (r < 0) {
        wd_err("sd-event: %s", strerror(-r));
        return WIFIPROVD_EXIT_FAILURE;
    }

    ret = create_transports(d);
    if (ret)
        return ret;
    ret = start_backend(d);
    if (ret)
        return ret;
    wifiprovd_service_ready();
    r = sd_event_loop(d->ev);
    wifiprovd_service_stopping();
    return r < 0 ? WIFIPROVD_EXIT_FAILURE : r;
}

int main(int argc, char **argv)
{
    struct wifiprovd_config cfg;
    struct daemon d;
    int r, ret;

    setvbuf(stdout, NULL, _IOLBF, 0);
    r = wifiprovd_config_load(argc, argv, &cfg);
    if (r != 0) {
        wifiprovd_config_free(&cfg);
        return r > 0 ? WIFIPROVD_EXIT_OK : WIFIPROVD_EXIT_USAGE;
    }
    wifiprovd_service_init();
    wifiprovd_log_init(cfg.verbose);
    memset(&d, 0, sizeof(d));
    d.cfg = &cfg;
    ret = run(&d);

    stop_provisioning(&d);
    free_transports(&d);
    wifiprovd_ap_free(d.ap);
    d.end_defer = sd_event_source_disable_unref(d.end_defer);
    d.down_defer = sd_event_source_disable_unref(d.down_defer);
    d.prov_timer = sd_event_source_disable_unref(d.prov_timer);
    d.retry_timer = sd_event_source_disable_unref(d.retry_timer);
    wifiprov_backend_wait_free(d.wait);
    d.session_timer = sd_event_source_disable_unref(d.session_timer);
    wifiprov_backend_free(d.backend);
    if (d.ev)
        sd_event_unref(d.ev);
    free(d.sec2_username);
    wifiprov_memzero(d.sec2_salt, sizeof(d.sec2_salt));
    wifiprov_memzero(d.sec2_verifier, sizeof(d.sec2_verifier));
    wifiprov_memzero(&d.commit_creds, sizeof(d.commit_creds));
    if (ret == WIFIPROVD_EXIT_OK && d.commit_failed)
        ret = WIFIPROVD_EXIT_FAILURE;
    wifiprovd_config_free(&cfg);
    if (ret == WIFIPROVD_EXIT_OK)
        wd_info("wifiprovd stopped");
    return ret;
}
