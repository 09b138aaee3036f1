/* version: the device's proto-ver reply, raw and parsed; no handshake. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_cmd_version(struct cli_ctx *ctx)
{
    struct cli_session s;
    size_t i;
    int ret;

    ret = cli_session_open(ctx, &s, false);
    if (ret)
        goto out;
    cJSON_AddStringToObject(ctx->result, "raw", s.ver_raw);
    cJSON_AddBoolToObject(ctx->result, "json", s.ver.is_json);
    cli_print(ctx, "proto-ver reply:\n%s\n\n", s.ver_raw);
    if (!s.ver.is_json) {
        cli_print(ctx, "Not JSON: the device gives no capabilities (pass --sec to the other commands)\n");
        ret = cli_succeed(ctx);
        goto out;
    }
    cJSON_AddStringToObject(ctx->result, "ver", s.ver.ver);
    if (s.ver.has_sec_ver)
        cJSON_AddNumberToObject(ctx->result, "sec_ver", s.ver.sec_ver);
    else
        cJSON_AddNullToObject(ctx->result, "sec_ver");
    cJSON_AddNumberToObject(ctx->result, "sec_patch_ver", s.ver.sec_patch_ver);
    {
        cJSON *caps = cJSON_AddArrayToObject(ctx->result, "caps");

        for (i = 0; caps && i < s.ver.n_caps; i++)
            cJSON_AddItemToArray(caps, cJSON_CreateString(s.ver.caps[i]));
    }
    cli_print(ctx, "ver:           %s\n", s.ver.ver);
    if (s.ver.has_sec_ver)
        cli_print(ctx, "sec_ver:       %d\n", s.ver.sec_ver);
    else
        cli_print(ctx, "sec_ver:       (not reported: ESP-IDF before v5.0; security %s)\n",
                  wifiprov_version_has_cap(&s.ver, "no_sec") ? "0" : "1 assumed");
    cli_print(ctx, "sec_patch_ver: %d\n", s.ver.sec_patch_ver);
    cli_print(ctx, "caps:         ");
    for (i = 0; i < s.ver.n_caps; i++)
        cli_print(ctx, " %s", s.ver.caps[i]);
    cli_print(ctx, "%s\n", s.ver.n_caps ? "" : " (none)");
    ret = cli_succeed(ctx);
out:
    cli_session_close(&s);
    return ret;
}
