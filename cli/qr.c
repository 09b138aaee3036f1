/*
 * qr: a provisioning QR code (PROTOCOL.md §10) drawn in the terminal with Unicode
 * half blocks, two module rows per text line. Like `qrencode -t UTF8`, light modules
 * are drawn (for the usual dark terminal background) with a 2-module quiet zone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <qrencode.h>

#include "cli.h"

#define QUIET 2

static const char *const blocks[4] = {
    " ",            /* both dark */
    "\xe2\x96\x84", /* lower half light: ▄ */
    "\xe2\x96\x80", /* upper half light: ▀ */
    "\xe2\x96\x88", /* both light: █ */
};

static bool light(const QRcode *q, int x, int y)
{
    if (x < 0 || y < 0 || x >= q->width || y >= q->width)
        return true;
    return !(q->data[y * q->width + x] & 1);
}

static void draw(const QRcode *q)
{
    int x, y;

    for (y = -QUIET; y < q->width + QUIET; y += 2) {
        for (x = -QUIET; x < q->width + QUIET; x++) {
            int top = light(q, x, y), bottom = y + 1 < q->width + QUIET ? light(q, x, y + 1) : 0;

            fputs(blocks[top * 2 + bottom], stdout);
        }
        fputc('\n', stdout);
    }
}

/* {"ver":"v1","name":..,"username":..,"pop":..,"transport":..} in §10's key order. */
static int build_payload(struct cli_ctx *ctx, char **out)
{
    struct cli_opts *o = ctx->opts;
    const char *transport = o->qr_transport ? o->qr_transport : "softap";
    cJSON *j;
    char *s;

    if (!strcasecmp(transport, "http") || !strcasecmp(transport, "httpd"))
        transport = "softap";
    if (strcasecmp(transport, "softap") && strcasecmp(transport, "ble")) {
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "a QR code names transport softap or ble, not '%s'", transport);
    }
    if (!o->name) {
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL,
                        "give the payload, or at least --name (the device's SoftAP SSID or BLE name)");
    }
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "ver", "v1");
    cJSON_AddStringToObject(j, "name", o->name);
    if (o->username)
        cJSON_AddStringToObject(j, "username", o->username);
    /* Security 2 carries the SRP password in "pop". */
    if (o->pop.value)
        cJSON_AddStringToObject(j, "pop", o->pop.value);
    else if (o->password.value)
        cJSON_AddStringToObject(j, "pop", o->password.value);
    cJSON_AddStringToObject(j, "transport", !strcasecmp(transport, "ble") ? "ble" : "softap");
    if (o->sec >= 0)
        cJSON_AddNumberToObject(j, "security", o->sec);
    s = cJSON_PrintUnformatted(j);
    {
        /* The tree holds copies of the secrets. */
        cJSON *pop = cJSON_GetObjectItemCaseSensitive(j, "pop");

        if (cJSON_IsString(pop))
            wifiprov_memzero(pop->valuestring, strlen(pop->valuestring));
    }
    cJSON_Delete(j);
    if (!s)
        return cli_fail(ctx, CLI_EXIT_ERROR, NULL, "out of memory");
    *out = s;
    return 0;
}

int cli_cmd_qr(struct cli_ctx *ctx)
{
    struct cli_opts *o = ctx->opts;
    char *payload = NULL;
    QRcode *q = NULL;
    int ret;

    if (o->qr_payload) {
        cJSON *j = cJSON_Parse(o->qr_payload);
        bool object = cJSON_IsObject(j);

        cJSON_Delete(j);
        /* A code no provisioning app can read would only be found out at the device. */
        if (!object)
            return cli_fail(ctx, CLI_EXIT_USAGE, "BadPayload",
                            "the payload is not a JSON object, so no provisioning app could read the QR code; "
                            "give JSON such as '{\"ver\":\"v1\",\"name\":\"PROV_123456\",\"transport\":\"softap\"}', "
                            "or --name and the other options");
        payload = strdup(o->qr_payload);
        if (!payload)
            return cli_fail(ctx, CLI_EXIT_ERROR, NULL, "out of memory");
    } else {
        ret = build_payload(ctx, &payload);
        if (ret)
            return ret;
    }
    q = QRcode_encodeString(payload, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    if (!q) {
        ret = cli_fail(ctx, CLI_EXIT_USAGE, NULL, "the payload is too long for a QR code");
        goto out;
    }
    cJSON_AddNumberToObject(ctx->result, "qr_version", q->version);
    cJSON_AddNumberToObject(ctx->result, "modules", q->width);
    if (!o->json) {
        draw(q);
        fflush(stdout);
    }
    ret = cli_succeed(ctx);
out:
    QRcode_free(q);
    if (payload) {
        wifiprov_memzero(payload, strlen(payload));
        free(payload);
    }
    return ret;
}
