/*
 * wifiprovd's device transports: how provisioning reaches the device (HTTP, BLE).
 *
 * Each transport is one struct wifiprovd_transport_ops. The daemon creates the
 * transports named by --transport once at start (new), starts them every time
 * provisioning starts (start: bind, register, advertise) and stops them when it ends
 * (stop: every connection and session of the transport goes; it may be started again
 * after SIGUSR1), and frees them at exit.
 *
 * A transport carries sessions of the one session policy it is given in the
 * environment (src/transport/sessions.h): it opens them for its peers with its own
 * struct wifiprov_session_owner, passes requests through wifiprov_sessions_handle()
 * and _resume(), and is woken through that owner when a PENDING reply of one of its
 * sessions may be ready (the policy routes the device's wake_fn to the owning
 * transport) and told when one of its sessions was closed.
 *
 * When several transports are served and one fails to start, the others keep
 * serving and the log says which one is down and why; when none starts, provisioning
 * fails.
 */
#ifndef WIFIPROVD_TRANSPORT_H
#define WIFIPROVD_TRANSPORT_H

#include <stddef.h>

#include <systemd/sd-event.h>

#include "transport/sessions.h"
#include "wifiprov/device.h"
#include "wifiprovd.h"

/* What a transport gets each time it starts (all borrowed, valid until its stop). */
struct wifiprovd_transport_env {
    sd_event *event;
    const struct wifiprovd_config *cfg; /* its own options (e.g. --listen) */
    struct wifiprov_device *device;
    struct wifiprov_sessions *sessions;
    const char *service_name; /* PROV_XXXXXX */
    /* The transport stopped serving after a successful start (e.g. bluetoothd went away):
     * @p why says what happened. The daemon stops it (from the loop, not inside the call). */
    void (*down)(void *ctx, void *transport_ctx, const char *why);
    void *down_ctx;
};

struct wifiprovd_transport_ops {
    const char *name;         /* as --transport spells it: "http", "ble" */
    const char *qr_transport; /* the QR payload's "transport": "softap", "ble" */
    /* When several transports are served, the QR payload names the one with the highest rank. */
    int qr_rank;
    /* @return 0 and *ctx, or a negative WIFIPROV_ERR_* (logged). */
    int (*new)(const struct wifiprovd_config *cfg, void **ctx);
    /* @return 0 serving, or a negative WIFIPROV_ERR_* with the reason logged; the transport is then down. */
    int (*start)(void *ctx, const struct wifiprovd_transport_env *env);
    /* Stops serving; its sessions are closed. A no-op when not started. */
    void (*stop)(void *ctx);
    void (*free)(void *ctx);
    /* At every start, whether this transport is served or not: puts back what a killed run
     * of it left on the system (optional). */
    void (*sweep)(const struct wifiprovd_config *cfg);
};

/* The transports built into this wifiprovd. */
extern const struct wifiprovd_transport_ops wifiprovd_transport_http;
extern const struct wifiprovd_transport_ops wifiprovd_transport_ble;

/* Runs every built-in transport's sweep (start-up, before any transport starts). */
void wifiprovd_transports_sweep(const struct wifiprovd_config *cfg);

/* The transport called @p name, or NULL when this build has none of that name. */
const struct wifiprovd_transport_ops *wifiprovd_transport_find(const char *name);

#endif
