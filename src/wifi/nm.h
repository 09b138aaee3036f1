/*
 * Internals of the NetworkManager backend, shared by its files:
 *   nm.c        the operations and the outcome of a connection attempt (the attempt's states
 *               and deadline are the shared machine in attempt.c)
 *   nm_scan.c   D-Bus property helpers, scanning, the access-point cache
 *   nm_setup.c  construction (the device), crash safety (our profiles carry the user-data key
 *               "wifiprov.owner" = "wifiprovd"; unsaved ones left by a killed run are deleted at
 *               start) and the check that a stored network still exists
 */
#ifndef WIFIPROV_WIFI_NM_H
#define WIFIPROV_WIFI_NM_H

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-bus.h>

#include "wifi/attempt.h"
#include "wifi/backend.h"

#define NM_BUS "org.freedesktop.NetworkManager"
#define NM_PATH "/org/freedesktop/NetworkManager"
#define NM_IFACE "org.freedesktop.NetworkManager"
#define NM_DEV NM_IFACE ".Device"
#define NM_WIFI NM_IFACE ".Device.Wireless"
#define NM_AP NM_IFACE ".AccessPoint"
#define NM_SETTINGS NM_IFACE ".Settings"
#define NM_SETTINGS_PATH NM_PATH "/Settings"
#define NM_CONN NM_IFACE ".Settings.Connection"
#define NM_IP4 NM_IFACE ".IP4Config"
#define PROPS "org.freedesktop.DBus.Properties"

#define NM_DEVICE_TYPE_WIFI 2u
#define NM_STATE_UNAVAILABLE 20u
#define NM_STATE_NEED_AUTH 60u
#define NM_STATE_ACTIVATED 100u
#define NM_STATE_FAILED 120u
#define NM_MAX_APS 64

/* The user-data key and value of every profile the daemon adds (the access point's too). */
#define NM_OWNER_KEY "wifiprov.owner"
#define NM_OWNER_VALUE "wifiprovd"

struct nm;

/* One round of AccessPoint property reads (a scan result). Each pending call holds a
 * reference, dropped by its slot's destroy callback (also when the bus goes away). */
struct ap_round {
    struct nm *nm;
    unsigned gen;
    size_t refs;
    size_t replies_left;
};

struct nm {
    struct wifiprov_backend base;
    sd_event *event;
    sd_bus *bus;
    void (*scan_done_fn)(void *ctx, int err, const struct wifiprov_ap *aps, size_t n);
    void (*commit_done_fn)(void *ctx, int err);
    void *cb_ctx;
    char *dev_path;
    char *ifname;
    uint8_t mac[6];
    bool have_mac;
    sd_bus_slot *match_state;
    sd_bus_slot *match_props;
    sd_bus_slot *match_supplicant; /* NM's wpa_supplicant interface, when it is on the bus */
    char supplicant_state[24];
    unsigned sae_rejects; /* authenticating -> disconnected during our SAE attempt */
    uint32_t dev_state;

    /* scanning */
    bool scanning;
    sd_event_source *scan_timer;
    struct wifiprov_ap aps[NM_MAX_APS];
    size_t n_aps;
    struct wifiprov_ap round_aps[NM_MAX_APS];
    size_t n_round;
    unsigned round_gen;
    bool round_running;

    /* connection */
    struct wifiprov__attempt at;
    sd_event_source *retry_timer;
    unsigned ip_tries;
    unsigned details_gen;
    unsigned add_gen;     /* AddAndActivateConnection2 replies of older generations are abandoned */
    char *our_conn;       /* Settings.Connection path of our profile */
    char *our_active;     /* its ActiveConnection path */
    bool commit_pending;  /* Update2 (save to disk) sent, not answered yet */
    unsigned scans_since; /* scans NM finished since our attempt started */
    unsigned pending_ops; /* Delete / Update2 / Deactivate calls not answered yet */
    /* details being collected for CONNECTED */
    char ip[WIFIPROV_IP4_MAX];
    char *ip4_path;
    char *ap_path;
};

/* ---- nm_scan.c ---- */

/* Calls @p fn for each entry of an a{sv} at the read position; @p fn reads the variant
 * (returns 0) or leaves it (returns 1, it is skipped). */
typedef int (*wifiprov__nm_prop_fn)(void *ud, const char *name, sd_bus_message *m);
int wifiprov__nm_props_each(sd_bus_message *m, wifiprov__nm_prop_fn fn, void *ud);
int wifiprov__nm_read_variant(sd_bus_message *m, const char *sig, void *p);
int wifiprov__nm_set_str(char **dst, const char *src);
int wifiprov__nm_parse_ap(sd_bus_message *m, struct wifiprov_ap *out);
const struct wifiprov_ap *wifiprov__nm_cached_ap(const struct nm *n, const uint8_t *ssid, size_t len);
int wifiprov__nm_scan_start(void *ctx, const struct wifiprov_scan_opts *opts);
/* PropertiesChanged of the device (LastScan). */
int wifiprov__nm_on_props_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
/* Fills the cache synchronously (construction only: the loop does not run yet). */
void wifiprov__nm_read_aps_now(struct nm *n);

/* ---- nm.c ---- */

/* A scan round finished: our SSID missing from it ends our attempt. */
void wifiprov__nm_check_not_found(struct nm *n);
int wifiprov__nm_on_state_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
void wifiprov__nm_watch_supplicant(struct nm *n);
/* Sets up the attempt machine and the backend's name, operations and free function
 * (n->event and n->cb_ctx set before). */
void wifiprov__nm_init(struct nm *n, void (*wifi_event_fn)(void *ctx, const struct wifiprov_wifi_event *ev));
void wifiprov__nm_destroy(struct nm *n);

/* ---- nm_setup.c ---- */

/* At start: deletes the unsaved profiles a killed run left (tagged as ours). */
void wifiprov__nm_sweep(struct nm *n);
/* Whether NetworkManager has a profile for @p ssid. @return 1, 0, or a negative WIFIPROV_ERR_*. */
int wifiprov__nm_has_profile(struct nm *n, const uint8_t *ssid, size_t len);

#endif
