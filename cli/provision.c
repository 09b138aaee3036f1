/*
 * provision: custom data (optional), network choice (--ssid or the device's scan),
 * SetConfig, ApplyConfig, then GetStatus with a short backing-off interval until the
 * device knows the outcome. On a terminal a failure can be retried in the same
 * session (prov-ctrl Reset, new passphrase, SetConfig/Apply again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "transport.h"

#define POLL_FIRST_MS 20
/* Well under 200 ms even with a slow round trip, so the outcome shows within 200 ms. */
#define POLL_MAX_MS 100
/* Session set-ups after a lost connection while polling. */
#define MAX_RECONNECTS 3

struct target {
    char ssid[WIFIPROV_SSID_MAX + 1];
    bool open_network; /* known to be open from the scan */
    int auth;          /* wifiprov_auth_mode from the scan, -1 = not known */
};

/* Enterprise (802.1X) networks take no passphrase; numbering as PROTOCOL.md §8.3. */
static bool auth_enterprise(int auth)
{
    return auth == WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE || auth == 10 || auth == 14 || auth == 15 || auth == 16;
}

static const char *reason_advice(enum wifiprov_fail_reason r, const struct target *t)
{
    switch (r) {
    case WIFIPROV_FAIL_REASON_AUTH_ERROR:
        if (auth_enterprise(t->auth))
            return "The device could not authenticate: the network uses enterprise (802.1X) authentication, which "
                   "provisioning cannot set up (it sends only a passphrase)";
        if (t->auth < 0)
            return "The device could not authenticate: the passphrase is probably wrong (or the network uses "
                   "enterprise/802.1X authentication, which provisioning cannot set up)";
        return "The device could not authenticate: the passphrase is probably wrong";
    case WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND:
        return "The device did not find the network: check the SSID and that it is in range";
    case WIFIPROV_FAIL_REASON_OTHER:
        return "The device could not connect to the network";
    }
    return "The device could not connect to the network";
}

/* Interactive choice from the device's scan. @return 0 or an exit code. */
static int choose_network(struct cli_ctx *ctx, struct cli_session *s, struct target *t)
{
    for (;;) {
        struct wifiprov_ap *aps = NULL;
        size_t n = 0;
        char *line;
        long sel;
        char *end;
        int ret = cli_scan_run(ctx, s, &aps, &n);

        if (ret)
            return ret;
        if (n == 0) {
            cli_print(ctx, "No APs found!\n");
        } else {
            cli_print(ctx, "==== Wi-Fi Scan results ====\n");
            cli_scan_print_table(ctx, aps, n);
        }
        for (;;) {
            line = cli_prompt("Select AP by number (0 to rescan) : ", false);
            if (!line) {
                free(aps);
                return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "no network chosen");
            }
            sel = strtol(line, &end, 10);
            if (end != line && *end == '\0' && sel >= 0 && (size_t)sel <= n) {
                free(line);
                break;
            }
            free(line);
            cli_print(ctx, "Invalid input! Retry\n");
        }
        if (sel == 0) {
            free(aps);
            continue;
        }
        memcpy(t->ssid, aps[sel - 1].ssid, aps[sel - 1].ssid_len);
        t->ssid[aps[sel - 1].ssid_len] = '\0';
        t->open_network = aps[sel - 1].auth == WIFIPROV_AUTH_MODE_OPEN;
        t->auth = (int)aps[sel - 1].auth;
        free(aps);
        return 0;
    }
}

static int get_passphrase(struct cli_ctx *ctx, const struct target *t)
{
    struct cli_opts *o = ctx->opts;
    char prompt[128];
    char *v;

    if (o->passphrase.value)
        return 0;
    if (t->open_network) {
        o->passphrase.value = strdup("");
        o->passphrase.source = "scan";
        return o->passphrase.value ? 0 : cli_fail(ctx, CLI_EXIT_ERROR, NULL, "out of memory");
    }
    if (!o->interactive)
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL,
                        "no passphrase for '%s': pass --passphrase, --passphrase-file or WIFIPROV_PASSPHRASE "
                        "(--passphrase '' for an open network)",
                        t->ssid);
    snprintf(prompt, sizeof(prompt), "Enter passphrase for %s : ", t->ssid);
    v = cli_prompt(prompt, true);
    if (!v)
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "no passphrase given");
    if (strlen(v) > WIFIPROV_PASSPHRASE_MAX) {
        wifiprov_memzero(v, strlen(v));
        free(v);
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "a passphrase has at most %d characters",
                        WIFIPROV_PASSPHRASE_MAX);
    }
    o->passphrase.value = v;
    o->passphrase.source = "prompt";
    return 0;
}

/*
 * A WPA/WPA2/WPA3 passphrase has 8 to 63 characters (longer ones are refused when parsing the options);
 * shorter ones are only valid for WEP, or ignored by open networks. Checked before anything is sent, so
 * a typo does not cost a connection attempt. @return 0 or an exit code.
 */
static int check_passphrase(struct cli_ctx *ctx, const struct target *t)
{
    size_t n = strlen(ctx->opts->passphrase.value);

    if (n == 0 || n >= 8 || t->auth == WIFIPROV_AUTH_MODE_OPEN || t->auth == WIFIPROV_AUTH_MODE_WEP)
        return 0;
    return cli_fail(ctx, CLI_EXIT_USAGE, "BadPassphrase",
                    "a WPA/WPA2/WPA3 passphrase has 8 to 63 characters; this one has %zu, so nothing was sent%s", n,
                    t->auth < 0 ? " (for a WEP network, choose it from the device's scan: leave out --ssid)" : "");
}

/* SetConfig + ApplyConfig. @return 0 or an exit code. */
static int send_config(struct cli_ctx *ctx, struct cli_session *s, const struct target *t)
{
    struct wifiprov_wifi_creds creds;
    size_t plen = strlen(ctx->opts->passphrase.value);
    int err, status = 0, ret;

    memset(&creds, 0, sizeof(creds));
    creds.ssid_len = (uint8_t)strlen(t->ssid);
    memcpy(creds.ssid, t->ssid, creds.ssid_len);
    creds.passphrase_len = (uint8_t)plen;
    memcpy(creds.passphrase, ctx->opts->passphrase.value, plen);

    cli_verbose(ctx, "\n==== Sending Wi-Fi Credentials to Target ====\n");
    err = wifiprov_client_set_config(s->client, &creds, &status);
    if (err == WIFIPROV_ERR_DEVICE) {
        ret = cli_fail(ctx, CLI_EXIT_DEVICE, status == 4 ? "InvalidArgument" : "InternalError",
                       "Error in send Wi-Fi config: the device refused the credentials (status %d%s)", status,
                       status == 4 ? ": SSID or passphrase too long" : "");
        goto out;
    }
    if (err < 0) {
        ret = cli_session_fail(ctx, s, err, "Error in send Wi-Fi config");
        goto out;
    }
    cli_verbose(ctx, "==== Wi-Fi Credentials sent successfully ====\n");
    cli_verbose(ctx, "\n==== Applying Wi-Fi Config to Target ====\n");
    err = wifiprov_client_apply_config(s->client, &status);
    if (err == WIFIPROV_ERR_DEVICE) {
        ret = cli_session_refused(ctx, s, CLI_REFUSED_APPLY, status);
        goto out;
    }
    if (err < 0) {
        ret = cli_session_fail(ctx, s, err, "Error in apply Wi-Fi config");
        goto out;
    }
    cli_verbose(ctx, "==== Apply config sent successfully ====\n");
    {
        cJSON *f = cJSON_CreateObject();

        cJSON_AddStringToObject(f, "ssid", t->ssid);
        cli_progress_event(ctx, "applied", f);
    }
    ret = 0;
out:
    wifiprov_memzero(&creds, sizeof(creds));
    return ret;
}

/*
 * Polls GetStatus. @return 0 (connected, *st filled), CLI_EXIT_WIFI (failed, *st filled),
 * or another exit code after reporting.
 */
static int wait_outcome(struct cli_ctx *ctx, struct cli_session *s, const struct target *t,
                        struct wifiprov_wifi_status *st)
{
    int64_t interval = POLL_FIRST_MS, t0 = cli_now_ms();
    int last_state = -1, reconnects = 0;
    int64_t last_attempts = -1;

    for (;;) {
        int err;

        memset(st, 0, sizeof(*st));
        err = wifiprov_client_get_status(s->client, st);
        if ((err == WIFIPROV_ERR_TRANSPORT || err == WIFIPROV_ERR_CRYPTO || err == WIFIPROV_ERR_PROTO) &&
            reconnects < MAX_RECONNECTS && !cli_expired(ctx)) {
            /*
             * A SoftAP device may drop the link while its station joins the network
             * (channel change). The session keys cannot survive a lost exchange
             * (both sides count messages), so set the session up again: the device's
             * provisioning state does not depend on the session.
             */
            reconnects++;
            cli_verbose(ctx, "++++ Connection lost while polling (%s); setting up the session again ++++\n",
                        s->tp->errmsg[0] ? s->tp->errmsg : wifiprov_strerror(err));
            cli_progress_event(ctx, "reconnect", NULL);
            cli_sleep_ms(ctx, 100 * reconnects);
            err = wifiprov_client_handshake(s->client);
            if (err == 0)
                continue;
        }
        if (err < 0) {
            if (err == WIFIPROV_ERR_TIMEOUT)
                return cli_fail(ctx, CLI_EXIT_TIMEOUT, NULL,
                                "no outcome after %.1f s: the device did not finish connecting within --timeout",
                                (double)(cli_now_ms() - ctx->start_ms) / 1000.0);
            return cli_session_fail(ctx, s, err, "Error in reading the Wi-Fi state");
        }
        if ((int)st->state != last_state ||
            (st->has_attempts_remaining && (int64_t)st->attempts_remaining != last_attempts)) {
            cJSON *f = cJSON_CreateObject();

            cJSON_AddStringToObject(f, "state", cli_state_key(st->state));
            if (st->has_attempts_remaining)
                cJSON_AddNumberToObject(f, "attempts_remaining", st->attempts_remaining);
            cli_progress_event(ctx, "wifi", f);
            cli_verbose(ctx, "++++ WiFi state: %s ++++\n", wifiprov_sta_state_to_string(st->state));
            last_state = (int)st->state;
            if (st->has_attempts_remaining)
                last_attempts = st->attempts_remaining;
        }
        switch (st->state) {
        case WIFIPROV_STA_STATE_CONNECTED:
            cli_progress_clear(ctx);
            return 0;
        case WIFIPROV_STA_STATE_FAILED:
            cli_progress_clear(ctx);
            return CLI_EXIT_WIFI;
        case WIFIPROV_STA_STATE_CONNECTING:
        case WIFIPROV_STA_STATE_DISCONNECTED:
            break;
        }
        if (last_attempts >= 0)
            cli_progress_line(ctx, "Connecting to %s... %.1f s (an attempt failed, %lld left)", t->ssid,
                              (double)(cli_now_ms() - t0) / 1000.0, (long long)last_attempts);
        else
            cli_progress_line(ctx, "Connecting to %s... %.1f s", t->ssid, (double)(cli_now_ms() - t0) / 1000.0);
        if (cli_expired(ctx))
            return cli_fail(ctx, CLI_EXIT_TIMEOUT, "Connecting",
                            "still connecting to '%s' after %.1f s: gave up (--timeout)", t->ssid,
                            (double)(cli_now_ms() - ctx->start_ms) / 1000.0);
        cli_sleep_ms(ctx, interval);
        interval = interval * 3 / 2;
        if (interval > POLL_MAX_MS)
            interval = POLL_MAX_MS;
    }
}

static bool ask_retry(struct cli_ctx *ctx)
{
    char *a;
    bool yes;

    if (!ctx->opts->interactive || ctx->opts->json)
        return false;
    a = cli_prompt("Reset the device and try another passphrase? [y/N] ", false);
    if (!a)
        return false;
    yes = a[0] == 'y' || a[0] == 'Y';
    free(a);
    return yes;
}

static int report_connected(struct cli_ctx *ctx, const struct wifiprov_wifi_status *st, const struct target *t)
{
    char ssid[4 * WIFIPROV_SSID_MAX + 1], bssid[18];
    double secs = (double)(cli_now_ms() - ctx->start_ms) / 1000.0;

    if (st->ssid_len)
        cli_format_ssid(st->ssid, st->ssid_len, ssid, sizeof(ssid));
    else
        snprintf(ssid, sizeof(ssid), "%s", t->ssid);
    cli_format_bssid(st->bssid, bssid);
    cJSON_AddStringToObject(ctx->result, "state", "connected");
    cJSON_AddStringToObject(ctx->result, "ip", st->ip4);
    cJSON_AddStringToObject(ctx->result, "ssid", ssid);
    cJSON_AddStringToObject(ctx->result, "bssid", bssid);
    cJSON_AddNumberToObject(ctx->result, "channel", st->channel);
    cli_print(ctx, "Connected to %s in %.1f s\n", ssid, secs);
    cli_print(ctx, "  IP address: %s\n  SSID:       %s\n  BSSID:      %s\n  Channel:    %d\n", st->ip4, ssid, bssid,
              (int)st->channel);
    return cli_succeed(ctx);
}

int cli_cmd_provision(struct cli_ctx *ctx)
{
    struct cli_opts *o = ctx->opts;
    struct cli_session s;
    struct target t;
    struct wifiprov_wifi_status st;
    int ret;

    memset(&t, 0, sizeof(t));
    t.auth = -1;
    if (!o->ssid && (!o->interactive || o->json)) {
        /* Check before connecting: nothing to choose with. */
        memset(&s, 0, sizeof(s));
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "--ssid is required when not on a terminal");
    }
    ret = cli_session_open(ctx, &s, true);
    if (ret)
        goto out;
    if (o->custom_data_given) {
        ret = cli_custom_send(ctx, &s, o->endpoint ? o->endpoint : "custom-data", (const uint8_t *)o->custom_data,
                              strlen(o->custom_data), false);
        if (ret)
            goto out;
    }
    if (o->ssid) {
        snprintf(t.ssid, sizeof(t.ssid), "%s", o->ssid);
    } else if ((ret = choose_network(ctx, &s, &t))) {
        goto out;
    }
    if ((ret = get_passphrase(ctx, &t)) || (ret = check_passphrase(ctx, &t)))
        goto out;

    for (;;) {
        int err, status = 0;

        if ((ret = send_config(ctx, &s, &t)))
            goto out;
        ret = wait_outcome(ctx, &s, &t, &st);
        if (ret == 0) {
            cli_verbose(ctx, "==== WiFi state: Connected ====\n==== Provisioning was successful ====\n");
            ret = report_connected(ctx, &st, &t);
            goto out;
        }
        if (ret != CLI_EXIT_WIFI)
            goto out;
        cli_verbose(ctx, "---- WiFi state: Connection Failed ----\n---- Failure reason: %s ----\n",
                    st.fail_reason == WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND ? "Incorrect SSID"
                                                                             : "Incorrect Password");
        cJSON_AddStringToObject(ctx->result, "state", "failed");
        cJSON_AddStringToObject(ctx->result, "ssid", t.ssid);
        if (o->interactive && !o->json)
            cli_print(ctx, "%s.\n", reason_advice(st.fail_reason, &t));
        if (!ask_retry(ctx)) {
            ret = cli_fail(ctx, CLI_EXIT_WIFI, wifiprov_fail_reason_to_string(st.fail_reason), "%s (ssid '%s', reason %s)",
                           reason_advice(st.fail_reason, &t), t.ssid, wifiprov_fail_reason_to_string(st.fail_reason));
            goto out;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(ctx->result, "state");
        cJSON_DeleteItemFromObjectCaseSensitive(ctx->result, "ssid");
        cli_secret_free(&o->passphrase);
        if ((ret = get_passphrase(ctx, &t)) || (ret = check_passphrase(ctx, &t)))
            goto out;
        err = wifiprov_client_ctrl_reset(s.client, &status);
        if (err == WIFIPROV_ERR_DEVICE) {
            ret = cli_fail(ctx, CLI_EXIT_DEVICE, "InternalError", "the device refused Reset (status %d)", status);
            goto out;
        }
        if (err < 0) {
            ret = cli_session_fail(ctx, &s, err, "Error in resetting the device");
            goto out;
        }
    }
out:
    cli_session_close(&s);
    return ret;
}
