/*
 * custom: application endpoint exchange. The data comes from --custom-data or stdin;
 * the reply is printed as text when it is printable (trailing NULs dropped), else as hex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static bool printable(const uint8_t *d, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if ((d[i] < 0x20 && d[i] != '\n' && d[i] != '\t' && d[i] != '\r') || d[i] == 0x7f)
            return false;
    }
    return true;
}

int cli_custom_send(struct cli_ctx *ctx, struct cli_session *s, const char *endpoint, const uint8_t *data,
                    size_t len, bool print_reply)
{
    uint8_t *reply = NULL;
    size_t rlen = 0, tlen;
    char *hex = NULL;
    int err, ret;

    cli_verbose(ctx, "\n==== Sending Custom data to Target ====\n");
    err = cli_session_request(ctx, s, endpoint, data, len, &reply, &rlen);
    if (err < 0) {
        ret = cli_session_fail(ctx, s, err, "Error in custom data");
        goto out;
    }
    hex = malloc(2 * rlen + 1);
    if (!hex) {
        ret = cli_fail(ctx, CLI_EXIT_ERROR, NULL, "out of memory");
        goto out;
    }
    wifiprov__hex_encode(reply, rlen, hex);
    tlen = rlen;
    while (tlen && reply[tlen - 1] == 0)
        tlen--;
    cli_verbose(ctx, "==== Custom data sent successfully ====\n");
    {
        cJSON *f = cJSON_CreateObject();

        cJSON_AddStringToObject(f, "endpoint", endpoint);
        cJSON_AddStringToObject(f, "reply_hex", hex);
        if (!print_reply)
            cli_progress_event(ctx, "custom_data", f);
        else
            cJSON_Delete(f);
    }
    if (print_reply) {
        cJSON_AddStringToObject(ctx->result, "endpoint", endpoint);
        cJSON_AddStringToObject(ctx->result, "reply_hex", hex);
        if (printable(reply, tlen)) {
            char *text = malloc(tlen + 1);

            if (text) {
                memcpy(text, reply, tlen);
                text[tlen] = '\0';
                cJSON_AddStringToObject(ctx->result, "reply", text);
                cli_print(ctx, "%s\n", text);
                free(text);
            }
        } else {
            cli_print(ctx, "%s\n", hex);
        }
    } else {
        cli_verbose(ctx, "++++ CustomData response: %s ++++\n", hex);
    }
    ret = 0;
out:
    free(hex);
    free(reply);
    return ret;
}

/* Reads all of stdin (at most one protocol message). */
static uint8_t *read_stdin(size_t *len)
{
    uint8_t *buf = malloc(WIFIPROV_MAX_MSG + 1);
    size_t n = 0, r;

    if (!buf)
        return NULL;
    while ((r = fread(buf + n, 1, WIFIPROV_MAX_MSG + 1 - n, stdin)) > 0) {
        n += r;
        if (n > WIFIPROV_MAX_MSG)
            break;
    }
    *len = n;
    return buf;
}

int cli_cmd_custom(struct cli_ctx *ctx)
{
    struct cli_opts *o = ctx->opts;
    struct cli_session s;
    uint8_t *data = NULL;
    size_t len = 0;
    int ret;

    memset(&s, 0, sizeof(s));
    if (o->custom_data_given) {
        len = strlen(o->custom_data);
        data = malloc(len + 1);
        if (data)
            memcpy(data, o->custom_data, len + 1);
    } else if (o->transport == CLI_TRANSPORT_KIND_CONSOLE) {
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "with the console transport, give the data with --custom-data");
    } else if (o->interactive) {
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "give the data with --custom-data or on stdin");
    } else {
        data = read_stdin(&len);
    }
    if (!data)
        return cli_fail(ctx, CLI_EXIT_ERROR, NULL, "out of memory");
    if (len == 0 || len > WIFIPROV_MAX_MSG - 64) {
        ret = cli_fail(ctx, CLI_EXIT_USAGE, NULL, "custom data must be 1..%u bytes", WIFIPROV_MAX_MSG - 64);
        goto out;
    }
    ret = cli_session_open(ctx, &s, true);
    if (ret)
        goto out;
    ret = cli_custom_send(ctx, &s, o->endpoint ? o->endpoint : "custom-data", data, len, true);
    if (ret)
        goto out;
    ret = cli_succeed(ctx);
out:
    free(data);
    cli_session_close(&s);
    return ret;
}
