/*
 * Internals of the wpa_supplicant backend, shared by its files:
 *   wpa.c       the operations and the events of a connection attempt
 *   wpa_ctrl.c  the control socket: requests with a short timeout, the event monitor,
 *               reopening after the supplicant went away, the BSS table (scan results)
 *   wpa_tags.c  crash safety: our networks carry id_str "wifiprovd", the networks an attempt
 *               disabled are listed on disk, and both are swept at start
 */
#ifndef WIFIPROV_WIFI_WPA_H
#define WIFIPROV_WIFI_WPA_H

#include <stdbool.h>
#include <stddef.h>

#include "wifi/attempt.h"
#include "wifi/backend.h"

#define WPA_MAX_APS 64
#define WPA_MAX_PREV 64
#define WPA_REPLY_CAP 16384
/* The tag of the networks an attempt adds (id_str); cleared when the network is committed. */
#define WPA_TAG "wifiprovd"

struct wpa_ctrl;

struct wpa {
    struct wifiprov_backend base;
    sd_event *event;
    void (*scan_done_fn)(void *ctx, int err, const struct wifiprov_ap *aps, size_t n);
    void *cb_ctx;
    char *ifname;
    char *path; /* control socket */
    char *dhcp_hook;
    char *state_dir; /* where the list of networks to enable again is kept; NULL = memory only */

    struct wpa_ctrl *ctrl;
    struct wpa_ctrl *mon;
    sd_event_source *mon_src;
    sd_event_source *reopen_timer;
    sd_event_source *attach_timer; /* ATTACH sent on the monitor socket, its "OK" not yet read */
    bool attached;                 /* the supplicant answered ATTACH: events come in */
    bool was_lost;                 /* the control interface went away; "back" once attached again */
    bool stale_reply; /* a request timed out: its late answer is dropped before the next one */

    bool scanning;
    sd_event_source *scan_timer;
    struct wifiprov_ap aps[WPA_MAX_APS];
    size_t n_aps;

    struct wifiprov__attempt at;
    sd_event_source *ip_timer;
    uint32_t ip_polls;
    bool hook_ran;
    int hook_pid;                    /* the DHCP hook still running, or -1 */
    char stale_ip[WIFIPROV_IP4_MAX]; /* the address before our attempt (another network's lease) */
    int our_id;                      /* network id of our attempt or of the committed network; -1 none */
    int prev[WPA_MAX_PREV];          /* networks enabled before our SELECT_NETWORK */
    size_t n_prev;
};

/* ---- wpa_ctrl.c ---- */

/* One request, answered within a short timeout (@p timeout_ms, 0 = the default). Requests
 * carrying a secret pass @p secret so they are never logged. A reply that does not fit
 * @p cap is an error (WIFIPROV_ERR_NOSPC). @return 0 or a negative WIFIPROV_ERR_*. */
int wifiprov__wpa_request(struct wpa *w, const char *cmd, bool secret, char *reply, size_t cap, unsigned timeout_ms);
/* A request whose answer must be "OK". */
int wifiprov__wpa_request_ok(struct wpa *w, const char *cmd, bool secret);
int wifiprov__wpa_requestf_ok(struct wpa *w, const char *fmt, ...) WIFIPROV_PRINTF(2, 3);
/* GET_NETWORK <id> <field> into @p out (the value's first line). @return 0 or an error. */
int wifiprov__wpa_get_network(struct wpa *w, int id, const char *field, char *out, size_t cap);
/* Calls @p fn for each configured network (LIST_NETWORKS: id and flags). */
int wifiprov__wpa_each_network(struct wpa *w, void (*fn)(struct wpa *w, int id, const char *flags, void *ud), void *ud);
/* Reads the supplicant's BSS table into w->aps (strongest first). */
void wifiprov__wpa_refresh_aps(struct wpa *w);

/* Opens the request and monitor sockets and sends ATTACH on the monitor without waiting: its
 * answer is read on the event loop (no answer within a few seconds = the interface is lost and
 * reopened later). */
int wifiprov__wpa_open_sockets(struct wpa *w, bool probe);
void wifiprov__wpa_close_sockets(struct wpa *w);

/* wpa.c: one event line from the monitor, and the loss of the control interface. */
void wifiprov__wpa_handle_event(struct wpa *w, const char *line);
void wifiprov__wpa_lost(struct wpa *w);

/* ---- wpa_tags.c ---- */

/* Tags network @p id as ours (id_str), or clears the tag (@p ours false, at commit). */
int wifiprov__wpa_tag(struct wpa *w, int id, bool ours);
/* Writes w->prev to the state directory (before SELECT_NETWORK disables them), or removes
 * the file when the list is empty. @return 0 or a negative WIFIPROV_ERR_*. */
int wifiprov__wpa_prev_save(struct wpa *w);
/* At start: enables again what a previous run disabled and removes its tagged networks. */
void wifiprov__wpa_sweep(struct wpa *w);
/* The id of a configured network whose SSID is @p ssid (-1 when none). */
int wifiprov__wpa_find_ssid(struct wpa *w, const uint8_t *ssid, size_t len, int skip_id);

#endif
