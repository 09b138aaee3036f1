/*
 * Client internals: decoders of the device's command replies, separate from the
 * exchange so the fuzz target and tests can feed them directly. No OS headers.
 * All return 0, WIFIPROV_ERR_PROTO (unparsable, wrong msg type or payload case),
 * WIFIPROV_ERR_DEVICE (non-Success Status; *status set), WIFIPROV_ERR_NOMEM.
 */
#ifndef WIFIPROV_CLIENT_PRIV_H
#define WIFIPROV_CLIENT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wifiprov/client.h"

/* RespGetStatus (WiFiConfigPayload msg 1). */
int wifiprov__cmd_decode_get_status(const uint8_t *buf, size_t len, struct wifiprov_wifi_status *st);
/* RespSetConfig (msg 3) or RespApplyConfig (msg 5): @p expect_msg selects. */
int wifiprov__cmd_decode_config(const uint8_t *buf, size_t len, int expect_msg, int *status);

/* What a WiFiScanPayload reply carries. aps/aps_cap: room for ScanResult entries. */
struct wifiprov_scan_reply {
    bool finished;
    uint32_t count;
    struct wifiprov_ap *aps;
    size_t aps_cap;
    size_t n_aps;
};
/* RespScanStart (1), RespScanStatus (3) or RespScanResult (5). ScanResult entries are
 * filled even when the Status is not Success (the device returns what it has). */
int wifiprov__cmd_decode_scan(const uint8_t *buf, size_t len, int expect_msg, int *status,
                              struct wifiprov_scan_reply *r);
/* RespCtrlReset (2) or RespCtrlReprov (4). */
int wifiprov__cmd_decode_ctrl(const uint8_t *buf, size_t len, int expect_msg, int *status);

#endif
