/*
 * scan: the device's view of the networks around it (prov-scan), as a table sorted
 * by signal strength or as a JSON array. Also used by provision to pick a network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "transport.h"

static int by_rssi(const void *a, const void *b)
{
    const struct wifiprov_ap *x = a, *y = b;

    if (x->rssi != y->rssi)
        return x->rssi > y->rssi ? -1 : 1;
    return 0;
}

int cli_scan_run(struct cli_ctx *ctx, struct cli_session *s, struct wifiprov_ap **aps_out, size_t *n_out)
{
    struct wifiprov_scan_opts so = { .blocking = true, .passive = false, .group_channels = 0, .period_ms = 120 };
    struct wifiprov_ap *aps = NULL;
    uint32_t count = 0, got = 0;
    bool finished = false;
    int64_t t0 = cli_now_ms();
    int err, status = 0, ret;

    *aps_out = NULL;
    *n_out = 0;
    if (s->ver.is_json && !wifiprov_version_has_cap(&s->ver, "wifi_scan"))
        return cli_fail(ctx, CLI_EXIT_DEVICE, "NoScan",
                        "Wi-Fi Scan List is not supported by provisioning service: pass --ssid");
    /* Over SoftAP the radio must keep serving the client: scan a few channels at a time (esp_prov: 5). */
    if (ctx->opts->transport == CLI_TRANSPORT_KIND_HTTP)
        so.group_channels = 5;
    cli_verbose(ctx, "\n==== Scanning Wi-Fi APs ====\n");
    cli_progress_event(ctx, "scan", NULL);
    err = wifiprov_client_scan_start(s->client, &so, &status);
    if (err == WIFIPROV_ERR_DEVICE)
        return cli_fail(ctx, CLI_EXIT_DEVICE, "ScanFailed", "Error in scanning Wi-Fi APs: the device answered status %d",
                        status);
    if (err < 0)
        return cli_session_fail(ctx, s, err, "Error in scanning Wi-Fi APs");
    cli_verbose(ctx, "++++ Scan process executed in %.3f sec\n", (double)(cli_now_ms() - t0) / 1000.0);
    /* A blocking start returns after the scan; poll anyway for devices that answer early. */
    for (;;) {
        err = wifiprov_client_scan_status(s->client, &finished, &count, &status);
        if (err == WIFIPROV_ERR_DEVICE)
            return cli_fail(ctx, CLI_EXIT_DEVICE, "ScanFailed",
                            "Error in scanning Wi-Fi APs: the device answered status %d", status);
        if (err < 0)
            return cli_session_fail(ctx, s, err, "Error in scanning Wi-Fi APs");
        if (finished)
            break;
        if (cli_expired(ctx))
            return cli_fail(ctx, CLI_EXIT_TIMEOUT, NULL, "the scan did not finish in time (--timeout)");
        cli_sleep_ms(ctx, 50);
    }
    cli_verbose(ctx, "++++ Scan results : %u\n", (unsigned)count);
    if (count) {
        aps = calloc(count, sizeof(*aps));
        if (!aps)
            return cli_fail(ctx, CLI_EXIT_ERROR, NULL, "out of memory");
    }
    while (got < count) {
        /* Per request at most the transport's page (the device allows up to its entry limit, 16 by default). */
        uint32_t page = s->tp->ops->scan_page ? s->tp->ops->scan_page : 8;
        uint32_t want = count - got < page ? count - got : page;
        size_t n = 0;

        err = wifiprov_client_scan_result(s->client, got, want, aps + got, &n, &status);
        if (err == WIFIPROV_ERR_DEVICE && n > 0) {
            /* Fewer entries than announced: keep what came. */
            got += (uint32_t)n;
            break;
        }
        if (err == WIFIPROV_ERR_DEVICE) {
            ret = cli_fail(ctx, CLI_EXIT_DEVICE, "ScanFailed",
                           "Error in reading the scan results: the device answered status %d", status);
            goto fail;
        }
        if (err < 0) {
            ret = cli_session_fail(ctx, s, err, "Error in reading the scan results");
            goto fail;
        }
        if (n == 0)
            break;
        got += (uint32_t)n;
    }
    qsort(aps, got, sizeof(*aps), by_rssi);
    cli_verbose(ctx, "\n++++ Scan finished in %.3f sec\n", (double)(cli_now_ms() - t0) / 1000.0);
    *aps_out = aps;
    *n_out = got;
    return 0;
fail:
    free(aps);
    return ret;
}

void cli_scan_print_table(struct cli_ctx *ctx, const struct wifiprov_ap *aps, size_t n)
{
    size_t i;

    cli_print(ctx, "%4s %-33s %-17s %4s %4s %-16s\n", "S.N.", "SSID", "BSSID", "CHN", "RSSI", "AUTH");
    for (i = 0; i < n; i++) {
        char ssid[4 * WIFIPROV_SSID_MAX + 1], bssid[18], auth[32];

        cli_format_ssid(aps[i].ssid, aps[i].ssid_len, ssid, sizeof(ssid));
        cli_format_bssid(aps[i].bssid, bssid);
        cli_format_auth(aps[i].auth, auth, sizeof(auth));
        cli_print(ctx, "[%2zu] %-33s %-17s %4u %4d %-16s\n", i + 1, ssid, bssid, (unsigned)aps[i].channel,
                  (int)aps[i].rssi, auth);
    }
}

cJSON *cli_scan_to_json(const struct wifiprov_ap *aps, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    size_t i;

    for (i = 0; arr && i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        char ssid[4 * WIFIPROV_SSID_MAX + 1], bssid[18], auth[32];

        cli_format_ssid(aps[i].ssid, aps[i].ssid_len, ssid, sizeof(ssid));
        cli_format_bssid(aps[i].bssid, bssid);
        cli_format_auth(aps[i].auth, auth, sizeof(auth));
        cJSON_AddStringToObject(e, "ssid", ssid);
        cJSON_AddStringToObject(e, "bssid", bssid);
        cJSON_AddNumberToObject(e, "channel", aps[i].channel);
        cJSON_AddNumberToObject(e, "rssi", aps[i].rssi);
        cJSON_AddStringToObject(e, "auth", auth);
        cJSON_AddNumberToObject(e, "auth_mode", aps[i].auth);
        cJSON_AddItemToArray(arr, e);
    }
    return arr;
}

int cli_cmd_scan(struct cli_ctx *ctx)
{
    struct cli_session s;
    struct wifiprov_ap *aps = NULL;
    size_t n = 0;
    int ret;

    ret = cli_session_open(ctx, &s, true);
    if (ret)
        goto out;
    ret = cli_scan_run(ctx, &s, &aps, &n);
    if (ret)
        goto out;
    if (ctx->opts->json) {
        cJSON_AddItemToObject(ctx->result, "networks", cli_scan_to_json(aps, n));
        ret = cli_succeed(ctx);
        goto out;
    }
    if (n == 0) {
        cli_print(ctx, "No APs found!\n");
    } else {
        cli_print(ctx, "==== Wi-Fi Scan results ====\n");
        cli_scan_print_table(ctx, aps, n);
    }
    ret = 0;
out:
    free(aps);
    cli_session_close(&s);
    return ret;
}
