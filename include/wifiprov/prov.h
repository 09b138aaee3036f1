/*
 * Provisioning manager: the prov-config, prov-scan and prov-ctrl endpoints,
 * the provisioning state machine and the Wi-Fi backend interface the daemon
 * implements. No OS headers, no threads, no clock of its own: the application
 * gives it a monotonic clock and runs its timers (timers_changed_fn tells when to
 * ask wifiprov_prov_next_timeout() again; call wifiprov_prov_process_timers() then).
 */
#ifndef WIFIPROV_PROV_H
#define WIFIPROV_PROV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wifiprov/common.h"
#include "wifiprov/device.h"
#include "wifiprov/wifi.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What a Wi-Fi backend does for the manager. Every call returns quickly; results
 * come back through wifiprov_prov_scan_done() and wifiprov_prov_wifi_event().
 * All functions return 0 or a negative WIFIPROV_ERR_*.
 */
struct wifiprov_wifi_ops {
    /* Starts a scan; completion is reported with wifiprov_prov_scan_done(). */
    int (*scan_start)(void *ctx, const struct wifiprov_scan_opts *opts);
    /* Starts connecting with new credentials, without removing the network that works now. */
    int (*connect)(void *ctx, const struct wifiprov_wifi_creds *creds);
    /* Stops a connection attempt or disconnects. */
    int (*disconnect)(void *ctx);
    /* Makes the credentials that just connected permanent (called only after success). */
    int (*commit)(void *ctx, const struct wifiprov_wifi_creds *creds);
    /* Removes what this backend added and has not committed (Reset after a failure). */
    int (*forget)(void *ctx);
};

enum wifiprov_wifi_event_type {
    WIFIPROV_WIFI_EVENT_CONNECTING = 0,
    /* One attempt failed (reason set); the manager decides to retry or to fail. */
    WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED = 1,
    /* Connected and got an IPv4 address. */
    WIFIPROV_WIFI_EVENT_CONNECTED = 2,
    WIFIPROV_WIFI_EVENT_DISCONNECTED = 3,
};

struct wifiprov_wifi_event {
    enum wifiprov_wifi_event_type type;
    enum wifiprov_fail_reason reason; /* ATTEMPT_FAILED */
    /* CONNECTED: */
    const char *ip4;
    const uint8_t *ssid;
    size_t ssid_len;
    const uint8_t *bssid; /* 6 bytes or NULL */
    int32_t channel;
    uint32_t auth;
};

/* Manager states (ESP-IDF's, and ENDED). */
enum wifiprov_prov_state {
    WIFIPROV_PROV_STATE_IDLE = 0,
    WIFIPROV_PROV_STATE_STARTED = 1,   /* waiting for credentials */
    WIFIPROV_PROV_STATE_CRED_RECV = 2, /* credentials applied, connecting */
    WIFIPROV_PROV_STATE_SUCCESS = 3,   /* connected with an IP */
    WIFIPROV_PROV_STATE_FAIL = 4,      /* connection failed; Reset returns to STARTED */
    WIFIPROV_PROV_STATE_ENDED = 5,     /* provisioning service stopped */
};
const char *wifiprov_prov_state_to_string(enum wifiprov_prov_state s);

/* Events for the application. */
enum wifiprov_prov_event {
    WIFIPROV_PROV_EVENT_STARTED = 0,       /* service started (or restarted by Reprov) */
    WIFIPROV_PROV_EVENT_CRED_RECV = 1,     /* data: creds (application must not log the passphrase) */
    WIFIPROV_PROV_EVENT_CONNECTING = 2,
    WIFIPROV_PROV_EVENT_CRED_SUCCESS = 3,  /* data: status (connected, with IP) */
    WIFIPROV_PROV_EVENT_CRED_FAIL = 4,     /* data: status (failed, with reason) */
    WIFIPROV_PROV_EVENT_RESET = 5,         /* Reset after failure: back to STARTED */
    WIFIPROV_PROV_EVENT_END = 6,           /* service stopped (auto-stop or wifiprov_prov_stop) */
};
const char *wifiprov_prov_event_to_string(enum wifiprov_prov_event ev);

struct wifiprov_prov_event_data {
    const struct wifiprov_wifi_creds *creds;   /* CRED_RECV */
    const struct wifiprov_wifi_status *status; /* CRED_SUCCESS, CRED_FAIL */
};

struct wifiprov_prov_config {
    /* The device whose endpoints the manager registers (prov-config, prov-scan, prov-ctrl). */
    struct wifiprov_device *device;
    const struct wifiprov_wifi_ops *wifi;
    void *wifi_ctx;
    /* Connection attempts before reporting failure; 0 = ESP-IDF's legacy behaviour
     * (auth/not-found failures end at once, other failures retry forever). */
    uint32_t connect_attempts;
    /* Auto-stop: after success the service stops this many ms after the IP was got
     * (ESP-IDF: 30000), or cleanup_delay_ms after the first GetStatus reporting Connected. */
    bool no_auto_stop;         /* also enables prov-ctrl Reprov */
    /* After a failed attempt, accept new credentials (SetConfig + ApplyConfig) at once, as ESP-IDF's
     * example firmware does by resetting on failure: the phone apps never send prov-ctrl Reset.
     * GetStatus keeps reporting the failure and its reason until the new credentials are applied.
     * false = ESP-IDF's manager default: ApplyConfig is refused until Reset. */
    bool reset_on_failure;
    uint32_t auto_stop_ms;     /* 0 = 30000 */
    uint32_t cleanup_delay_ms; /* 0 = 1000 */
    /* Largest scan list kept (ESP-IDF: 16). 0 = 16. */
    uint32_t max_scan_entries;
    /* A scan result younger than this answers ScanStart at once; 0 = never reuse. */
    uint32_t scan_cache_ms;
    /* While waiting for credentials (STARTED), scan in the background every this many ms, the first
     * time on entering STARTED, so a blocking ScanStart is answered from a fresh list (with
     * scan_cache_ms) instead of waiting for the radio. A background scan replaces the list only when it
     * completes; a client's ScanStart during one waits for it. No background scans while connecting.
     * 0 = none. */
    uint32_t background_scan_ms;
    /* Monotonic clock in milliseconds (required). */
    uint64_t (*clock_fn)(void *ctx);
    void *clock_ctx;
    /* Called whenever the next timer deadline may have changed (optional). */
    void (*timers_changed_fn)(void *ctx);
    void *timers_ctx;
    /* Application events. */
    void (*event_fn)(void *ctx, enum wifiprov_prov_event ev, const struct wifiprov_prov_event_data *data);
    void *event_ctx;
};

struct wifiprov_prov;

/* @return 0, WIFIPROV_ERR_INVAL, WIFIPROV_ERR_NOMEM. Registers the endpoints and "wifi_scan". */
int wifiprov_prov_new(const struct wifiprov_prov_config *cfg, struct wifiprov_prov **out);
/* Unregisters the endpoints and wipes staged credentials. Accepts NULL. Free it before the device. */
void wifiprov_prov_free(struct wifiprov_prov *p);

/* Enters STARTED (event STARTED). */
int wifiprov_prov_start(struct wifiprov_prov *p);
/* Stops the service now: ENDED, event END. */
int wifiprov_prov_stop(struct wifiprov_prov *p);
/* Back to STARTED after a failure, as prov-ctrl Reset does (ESP-IDF's
 * wifi_prov_mgr_reset_sm_state_on_failure): the backend forgets the failed network, event RESET.
 * @return 0, WIFIPROV_ERR_INVAL, WIFIPROV_ERR_STATE (not in FAIL). */
int wifiprov_prov_reset(struct wifiprov_prov *p);
/* Back to STARTED after success or end (SIGUSR1 / --reprovision): Reprov without a client. */
int wifiprov_prov_reprovision(struct wifiprov_prov *p);
enum wifiprov_prov_state wifiprov_prov_get_state(const struct wifiprov_prov *p);
/* The status GetStatus reports now. */
void wifiprov_prov_get_status(const struct wifiprov_prov *p, struct wifiprov_wifi_status *st);

/* Milliseconds until the next timer (0 = due now), or UINT64_MAX when none is armed. */
uint64_t wifiprov_prov_next_timeout(const struct wifiprov_prov *p);
/* Runs the timers that are due. */
void wifiprov_prov_process_timers(struct wifiprov_prov *p);

/* Backend reports. */
void wifiprov_prov_scan_done(struct wifiprov_prov *p, int err, const struct wifiprov_ap *aps, size_t n);
void wifiprov_prov_wifi_event(struct wifiprov_prov *p, const struct wifiprov_wifi_event *ev);

#ifdef __cplusplus
}
#endif
#endif
