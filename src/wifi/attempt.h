/*
 * The connection-attempt machine shared by the NetworkManager and wpa_supplicant backends:
 * its states, the attempt's deadline, the events the manager gets (CONNECTING,
 * ATTEMPT_FAILED, CONNECTED, DISCONNECTED) and the fail/drop logic. A backend only talks to
 * its service: it starts the attempt there, feeds what the service reports into the
 * functions below, and removes what it added when the machine asks it to (release_fn).
 *
 *   IDLE --begin--> STARTING --(service took it)--> CONNECTING --(associated)--> ADDRESS
 *   ADDRESS --(IPv4)--> CONNECTED --(link lost)--> LOST --(back)--> ADDRESS
 *   IDLE --wait_saved--> SAVED_WAIT --(the saved network associates)--> ADDRESS
 *   any attempt state --fail / deadline--> IDLE (ATTEMPT_FAILED)
 */
#ifndef WIFIPROV_WIFI_ATTEMPT_H
#define WIFIPROV_WIFI_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "wifiprov/prov.h"
#include "wifiprov/wifi.h"

enum wifiprov__attempt_state {
    WIFIPROV__ATTEMPT_STATE_IDLE,       /* nothing of ours is being followed */
    WIFIPROV__ATTEMPT_STATE_STARTING,   /* asked the service to add and activate our network */
    WIFIPROV__ATTEMPT_STATE_CONNECTING, /* our network is activating */
    WIFIPROV__ATTEMPT_STATE_ADDRESS,    /* associated; waiting for the IPv4 address and details */
    WIFIPROV__ATTEMPT_STATE_CONNECTED,  /* reported CONNECTED */
    WIFIPROV__ATTEMPT_STATE_SAVED_WAIT, /* start-up: waiting for the service to join a saved network */
    WIFIPROV__ATTEMPT_STATE_LOST,       /* was connected, link dropped; the service reconnects by itself */
};

const char *wifiprov__attempt_state_to_string(enum wifiprov__attempt_state s);

/*
 * Called whenever an attempt ends without success (failure, deadline, a new attempt, forget,
 * disconnect, shutdown): the backend stops its own timers and, when @p committed is false,
 * removes the network it added and restores what it changed; when true it only lets go of
 * its reference to the saved network (which stays configured).
 */
typedef void (*wifiprov__attempt_release_fn)(void *ctx, bool committed);

struct wifiprov__attempt {
    const char *tag; /* "networkmanager", "wpa_supplicant": log prefix */
    sd_event *event;
    void (*wifi_event_fn)(void *ctx, const struct wifiprov_wifi_event *ev);
    void *cb_ctx;
    wifiprov__attempt_release_fn release_fn;
    void *backend;

    enum wifiprov__attempt_state state;
    sd_event_source *deadline;
    bool committed; /* the followed network is the saved one (committed or from the configuration) */
    bool sae;       /* our attempt uses SAE */
    uint8_t ssid[WIFIPROV_SSID_MAX];
    uint8_t ssid_len;
    /* SAVED_WAIT: a failure seen while waiting, reported when the deadline passes. */
    bool saved_seen_failure;
    enum wifiprov_fail_reason saved_reason;

    /* Reports queued from inside a call of the manager, delivered from the loop so the manager
     * never re-enters itself. */
    sd_event_source *defer;
    struct {
        enum wifiprov_wifi_event_type type;
        enum wifiprov_fail_reason reason;
    } q[4];
    size_t n_q;
};

void wifiprov__attempt_init(struct wifiprov__attempt *a, const char *tag, sd_event *event,
                            void (*wifi_event_fn)(void *ctx, const struct wifiprov_wifi_event *ev), void *cb_ctx,
                            wifiprov__attempt_release_fn release_fn, void *backend);
/* Stops the deadline and drops queued reports (at shutdown; releases nothing). */
void wifiprov__attempt_destroy(struct wifiprov__attempt *a);

/* One transition, logged at debug level. */
void wifiprov__attempt_enter(struct wifiprov__attempt *a, enum wifiprov__attempt_state s);

/*
 * Ends whatever was followed without reporting (a new attempt, forget, disconnect): an
 * uncommitted network is released (removed), a committed one only let go. Back to IDLE.
 */
void wifiprov__attempt_abandon(struct wifiprov__attempt *a);

/*
 * Starts following a new attempt for @p creds: abandons the previous one, arms the deadline
 * (@p timeout_ms) and enters @p state (STARTING or CONNECTING). CONNECTING is reported from
 * the loop. @return 0 or a negative WIFIPROV_ERR_*.
 */
int wifiprov__attempt_begin(struct wifiprov__attempt *a, const struct wifiprov_wifi_creds *creds, uint64_t timeout_ms,
                            enum wifiprov__attempt_state state);

/* The attempt could not be made (the passphrase cannot fit the network): released, and
 * ATTEMPT_FAILED with @p reason reported from the loop. @return 0 or WIFIPROV_ERR_*. */
int wifiprov__attempt_refuse(struct wifiprov__attempt *a, enum wifiprov_fail_reason reason, const char *why);

/* Start-up: follow the service joining its saved network (@p ssid may be NULL) for @p timeout_ms. */
int wifiprov__attempt_wait_saved(struct wifiprov__attempt *a, const uint8_t *ssid, size_t ssid_len,
                                 uint64_t timeout_ms);

/* Re-arms the deadline (e.g. the address wait after an association). */
int wifiprov__attempt_deadline(struct wifiprov__attempt *a, uint64_t timeout_ms);

/* The attempt failed: released, IDLE, ATTEMPT_FAILED reported now. */
void wifiprov__attempt_fail(struct wifiprov__attempt *a, enum wifiprov_fail_reason reason, const char *why);

/*
 * A failure event from the service: it ends the attempt when @p ours; while waiting for the
 * saved network it is remembered (and reported if that network never joins).
 */
void wifiprov__attempt_failure(struct wifiprov__attempt *a, bool ours, enum wifiprov_fail_reason reason,
                               const char *why);

/* The followed network associated (the saved one when in SAVED_WAIT or LOST): ADDRESS. */
void wifiprov__attempt_associated(struct wifiprov__attempt *a);

/* The address and details are known: CONNECTED reported with @p ev (type set here). */
void wifiprov__attempt_connected(struct wifiprov__attempt *a, struct wifiprov_wifi_event *ev);

/*
 * The link dropped: from CONNECTED to LOST (DISCONNECTED reported); while waiting for the
 * address, back to CONNECTING (the service retries within the attempt's deadline), or LOST
 * for the saved network.
 */
void wifiprov__attempt_link_down(struct wifiprov__attempt *a, const char *why);

/* The service went away: everything is let go, and the manager told what that means. */
void wifiprov__attempt_service_lost(struct wifiprov__attempt *a);

/* An attempt of ours is under way (STARTING, CONNECTING or ADDRESS, not the saved network). */
bool wifiprov__attempt_ours(const struct wifiprov__attempt *a);

#endif
