/*
 * Internals of the provisioning manager, shared by manager.c (state machine,
 * timers, backend reports) and handlers.c (the prov-config, prov-scan and
 * prov-ctrl endpoints). No OS headers.
 */
#ifndef WIFIPROV_PROV_PRIV_H
#define WIFIPROV_PROV_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wifiprov/prov.h"

struct wifiprov_prov {
    struct wifiprov_prov_config cfg; /* defaults filled in */
    enum wifiprov_prov_state state;
    bool endpoints_registered;

    /* SetConfig stages, ApplyConfig consumes: per session, so one client's Apply never applies what
     * another staged. One slot per session the device can hold. */
    struct wifiprov__prov_staged *staged;
    size_t n_staged;
    /* What Apply handed to the backend, kept until commit (after success) or Reset. */
    bool applied;
    struct wifiprov_wifi_creds applied_creds;

    /* What GetStatus reports; the final result stays readable until the next Apply. */
    struct wifiprov_wifi_status status;
    uint32_t attempts_done;
    /* Reason reported when attempts run out on a failure the wire cannot name. */
    enum wifiprov_fail_reason last_reason;

    /* Scan results, sorted by RSSI descending, at most cfg.max_scan_entries. */
    struct wifiprov_ap *aps;
    size_t n_aps;
    bool scan_running;
    bool scan_have_result; /* a scan finished since the list was last cleared */
    int scan_err;          /* error of the last finished scan */
    uint64_t scan_done_at;
    /* A background scan is in flight (nobody waits for it), and when the next one is due. */
    bool bg_scan;
    bool bg_armed;
    uint64_t bg_at;

    /* Auto-stop deadlines (absolute, cfg.clock_fn time). */
    bool auto_stop_armed;
    uint64_t auto_stop_at;
    bool cleanup_armed;
    uint64_t cleanup_at;
};

struct wifiprov__prov_staged {
    uint32_t session_id;
    uint64_t serial; /* the session's opening it belongs to; 0 = free */
    struct wifiprov_wifi_creds creds;
};

/* manager.c */
uint64_t wifiprov__prov_now(const struct wifiprov_prov *p);
/* True when the endpoints serve requests (STARTED .. FAIL). */
bool wifiprov__prov_serving(const struct wifiprov_prov *p);
/* The slot for @p session_id's staged credentials (free slots and those of closed sessions are reused).
 * @return NULL only when the session is not open. */
struct wifiprov__prov_staged *wifiprov__prov_stage_slot(struct wifiprov_prov *p, uint32_t session_id);
/* ApplyConfig: @return 0 when the credentials @p session_id staged were applied, WIFIPROV_ERR_STATE otherwise. */
int wifiprov__prov_apply(struct wifiprov_prov *p, uint32_t session_id);
/* prov-ctrl: @return 0 when allowed and done, WIFIPROV_ERR_STATE when not allowed now. */
int wifiprov__prov_ctrl_reset(struct wifiprov_prov *p);
int wifiprov__prov_ctrl_reprov(struct wifiprov_prov *p);
/* Starts a scan unless one runs. @return 0 or the backend's error. */
int wifiprov__prov_scan_start(struct wifiprov_prov *p, const struct wifiprov_scan_opts *opts);
/* A GetStatus answered Connected: arms the cleanup-delay stop (auto-stop mode, SUCCESS only). */
void wifiprov__prov_status_reported(struct wifiprov_prov *p);

/* handlers.c: the endpoint handlers (ctx = struct wifiprov_prov *). */
int wifiprov__prov_config_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t out_cap,
                                  size_t *out_len);
int wifiprov__prov_scan_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t out_cap,
                                size_t *out_len);
int wifiprov__prov_ctrl_handler(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t out_cap,
                                size_t *out_len);

#endif
