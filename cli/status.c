/* status: handshake, then one GetStatus. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_cmd_status(struct cli_ctx *ctx)
{
    struct cli_session s;
    struct wifiprov_wifi_status st;
    int err, ret;

    ret = cli_session_open(ctx, &s, true);
    if (ret)
        goto out;
    memset(&st, 0, sizeof(st));
    err = wifiprov_client_get_status(s.client, &st);
    if (err < 0) {
        ret = cli_session_fail(ctx, &s, err, "Error in reading the Wi-Fi state");
        goto out;
    }
    cJSON_AddStringToObject(ctx->result, "state", cli_state_key(st.state));
    cli_print(ctx, "Wi-Fi state: %s\n", wifiprov_sta_state_to_string(st.state));
    switch (st.state) {
    case WIFIPROV_STA_STATE_CONNECTED: {
        char ssid[4 * WIFIPROV_SSID_MAX + 1], bssid[18];

        cli_format_ssid(st.ssid, st.ssid_len, ssid, sizeof(ssid));
        cli_format_bssid(st.bssid, bssid);
        cJSON_AddStringToObject(ctx->result, "ip", st.ip4);
        cJSON_AddStringToObject(ctx->result, "ssid", ssid);
        cJSON_AddStringToObject(ctx->result, "bssid", bssid);
        cJSON_AddNumberToObject(ctx->result, "channel", st.channel);
        cli_print(ctx, "  IP address: %s\n  SSID:       %s\n  BSSID:      %s\n  Channel:    %d\n", st.ip4, ssid,
                  bssid, (int)st.channel);
        break;
    }
    case WIFIPROV_STA_STATE_FAILED:
        cJSON_AddStringToObject(ctx->result, "reason", wifiprov_fail_reason_to_string(st.fail_reason));
        cli_print(ctx, "  Reason:     %s\n", wifiprov_fail_reason_to_string(st.fail_reason));
        ret = cli_fail(ctx, CLI_EXIT_WIFI, wifiprov_fail_reason_to_string(st.fail_reason),
                       "not connected: the device's last attempt failed (%s)",
                       wifiprov_fail_reason_to_string(st.fail_reason));
        goto out;
    case WIFIPROV_STA_STATE_CONNECTING:
    case WIFIPROV_STA_STATE_DISCONNECTED:
        if (st.has_attempts_remaining) {
            cJSON_AddNumberToObject(ctx->result, "attempts_remaining", st.attempts_remaining);
            cli_print(ctx, "  An attempt failed; %u left\n", (unsigned)st.attempts_remaining);
        } else if (st.state == WIFIPROV_STA_STATE_CONNECTING) {
            /* ESP-IDF answers Connecting also before any credentials were applied. */
            cli_print(ctx, "  The device is waiting for credentials, or connecting with credentials it was given\n"
                           "  (devices report both as Connecting)\n");
        }
        ret = cli_fail(ctx, CLI_EXIT_NOT_CONNECTED, NULL,
                       "not connected (yet): the device is waiting for credentials or connecting");
        goto out;
    }
    ret = cli_succeed(ctx);
out:
    cli_session_close(&s);
    return ret;
}
