/*
 * Wi-Fi backends of the Linux daemon: sim (simulated networks), NetworkManager
 * (D-Bus) and wpa_supplicant (control socket). Each implements the manager's
 * struct wifiprov_wifi_ops and runs on the daemon's sd-event loop.
 *
 * Reports (scan done, connection events) go to the callbacks the daemon sets in
 * struct wifiprov_backend_config; the daemon forwards them to the manager
 * (wifiprov_prov_scan_done / wifiprov_prov_wifi_event) and logs them.
 */
#ifndef WIFIPROV_BACKEND_H
#define WIFIPROV_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "wifiprov/prov.h"
#include "wifiprov/wifi.h"

struct wifiprov_backend_config {
    sd_event *event; /* the loop the backend runs on (borrowed) */
    void (*scan_done_fn)(void *ctx, int err, const struct wifiprov_ap *aps, size_t n);
    void (*wifi_event_fn)(void *ctx, const struct wifiprov_wifi_event *ev);
    void *ctx;
    /* Interface name ("wlan0"); NULL = the first Wi-Fi device the backend finds. */
    const char *ifname;
    /* sim: path of the networks JSON file; NULL = the built-in demo set. */
    const char *sim_config;
    /* sim: how long a scan takes, ms (0 = 1500). */
    uint32_t sim_scan_ms;
    /* wpa_supplicant: control socket directory (NULL = /run/wpa_supplicant). */
    const char *wpa_ctrl_dir;
    /* wpa_supplicant: command run with the interface name after connecting, for DHCP (optional). */
    const char *dhcp_hook;
    /* NM/wpa: the daemon's state directory, where what must survive a crash is kept (the
     * networks an attempt disabled); NULL = kept in memory only. */
    const char *state_dir;
    /*
     * Called when a commit() that returned WIFIPROV_ERR_PENDING completed: 0 once the network
     * is saved, else the error (the network works but is not saved). Required for NM.
     */
    void (*commit_done_fn)(void *ctx, int err);
};

struct wifiprov_backend {
    const char *name;                    /* "sim", "networkmanager", "wpa_supplicant" */
    const struct wifiprov_wifi_ops *ops; /* pass `ctx` below as the ops' ctx */
    void *ctx;
    /*
     * At start-up of an already provisioned device: connect to the committed network
     * (@p stored: what the daemon's store kept; NM/wpa may use their own saved profile).
     * Results arrive as wifi events. @return 0 or a negative WIFIPROV_ERR_*.
     */
    int (*connect_saved)(struct wifiprov_backend *b, const struct wifiprov_wifi_creds *stored);
    /* Note on connect_saved: WIFIPROV_ERR_NOT_FOUND = the stored network no longer exists in
     * the service (removed by hand): the device needs provisioning again. */
    /* The MAC address of the Wi-Fi interface (for the default service name). */
    int (*get_mac)(struct wifiprov_backend *b, uint8_t mac[6]);
    void (*free)(struct wifiprov_backend *b);
};

/* Each returns 0 or a negative WIFIPROV_ERR_* with a message logged through the library's log handler. */
int wifiprov_backend_sim_new(const struct wifiprov_backend_config *cfg, struct wifiprov_backend **out);
int wifiprov_backend_nm_new(const struct wifiprov_backend_config *cfg, struct wifiprov_backend **out);
int wifiprov_backend_wpa_new(const struct wifiprov_backend_config *cfg, struct wifiprov_backend **out);
/* NetworkManager if it manages the interface, else wpa_supplicant's control socket, else an error naming
 * what is missing (WIFIPROV_ERR_UNSUPPORTED). */
int wifiprov_backend_auto_new(const struct wifiprov_backend_config *cfg, struct wifiprov_backend **out);

/*
 * A boot race: the daemon may start before the service its backend needs. Whether it runs
 * (@p nm: NetworkManager on the system bus; @p wpa: a wpa_supplicant control socket in
 * cfg->wpa_ctrl_dir, the one named cfg->ifname when set).
 */
bool wifiprov_backend_service_present(const struct wifiprov_backend_config *cfg, bool nm, bool wpa);
/*
 * Waits on cfg->event until one of them appears, then calls @p ready_fn once (from the loop).
 * @return 0 or a negative WIFIPROV_ERR_*.
 */
struct wifiprov_backend_wait;
int wifiprov_backend_wait_new(const struct wifiprov_backend_config *cfg, bool nm, bool wpa, void (*ready_fn)(void *ctx),
                              void *ctx, struct wifiprov_backend_wait **out);
void wifiprov_backend_wait_free(struct wifiprov_backend_wait *w);

static inline void wifiprov_backend_free(struct wifiprov_backend *b)
{
    if (b)
        b->free(b);
}

#endif
