/*
 * Output: human text on stdout, notes on stderr, or with --json exactly one JSON
 * object on stdout (plus, with --progress, one JSON line per step before it).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int64_t cli_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cli_remaining_ms(const struct cli_ctx *ctx)
{
    int64_t left;

    if (!ctx->deadline_ms)
        return INT64_MAX;
    left = ctx->deadline_ms + cli_prompt_ms - cli_now_ms();
    return left > 0 ? left : 0;
}

bool cli_expired(const struct cli_ctx *ctx)
{
    return ctx->deadline_ms && cli_now_ms() >= ctx->deadline_ms + cli_prompt_ms;
}

void cli_sleep_ms(const struct cli_ctx *ctx, int64_t ms)
{
    struct timespec ts;
    int64_t left = cli_remaining_ms(ctx);

    if (ms > left)
        ms = left;
    if (ms <= 0)
        return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0) {
    }
}

void cli_ctx_init(struct cli_ctx *ctx, struct cli_opts *o)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->opts = o;
    ctx->start_ms = cli_now_ms();
    ctx->deadline_ms = ctx->start_ms + (int64_t)(o->timeout_s * 1000.0);
    ctx->result = cJSON_CreateObject();
}

void cli_ctx_free(struct cli_ctx *ctx)
{
    cJSON_Delete(ctx->result);
    ctx->result = NULL;
}

void cli_progress_clear(struct cli_ctx *ctx)
{
    if (ctx->progress_line) {
        fputs("\r\033[K", stdout);
        fflush(stdout);
        ctx->progress_line = false;
    }
}

void cli_print(struct cli_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->opts->json)
        return;
    cli_progress_clear(ctx);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

void cli_note(struct cli_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->opts->json && !ctx->opts->verbose)
        return;
    cli_progress_clear(ctx);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void cli_warn(struct cli_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    cli_progress_clear(ctx);
    fputs("wifiprov: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void cli_verbose(struct cli_ctx *ctx, const char *fmt, ...)
{
    FILE *f = stderr;
    va_list ap;

    /* An esp_prov command line gets esp_prov's step messages on stdout, as esp_prov prints them. */
    if (!ctx->opts->verbose) {
        if (!ctx->opts->esp_prov_style || ctx->opts->json)
            return;
        f = stdout;
    }
    cli_progress_clear(ctx);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fflush(f);
}

void cli_progress_line(struct cli_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->opts->json || !isatty(STDOUT_FILENO))
        return;
    fputs("\r", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputs("\033[K", stdout);
    fflush(stdout);
    ctx->progress_line = true;
}

/* Prints @p o as one compact JSON line on stdout and frees it. */
static void print_json_line(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);

    if (s) {
        printf("%s\n", s);
        free(s);
    }
    fflush(stdout);
    cJSON_Delete(o);
}

void cli_progress_event(struct cli_ctx *ctx, const char *event, cJSON *fields)
{
    cJSON *o;

    if (!ctx->opts->progress) {
        cJSON_Delete(fields);
        return;
    }
    o = fields ? fields : cJSON_CreateObject();
    if (!o)
        return;
    /* "event" first for readability: rebuild with it in front. */
    {
        cJSON *line = cJSON_CreateObject();
        cJSON *it;

        cJSON_AddStringToObject(line, "event", event);
        cJSON_AddNumberToObject(line, "elapsed_ms", (double)(cli_now_ms() - ctx->start_ms));
        while ((it = o->child)) {
            cJSON_DetachItemViaPointer(o, it);
            cJSON_AddItemToObject(line, it->string, it);
        }
        cJSON_Delete(o);
        o = line;
    }
    print_json_line(o);
}

static const char *error_kind(int exit_code)
{
    switch (exit_code) {
    case CLI_EXIT_USAGE:
        return "usage";
    case CLI_EXIT_TRANSPORT:
        return "transport";
    case CLI_EXIT_AUTH:
        return "auth";
    case CLI_EXIT_WIFI:
        return "wifi";
    case CLI_EXIT_TIMEOUT:
        return "timeout";
    case CLI_EXIT_DEVICE:
        return "device";
    case CLI_EXIT_NOT_CONNECTED:
        return "not_connected";
    default:
        return "error";
    }
}

int cli_fail(struct cli_ctx *ctx, int exit_code, const char *reason, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cli_progress_clear(ctx);
    if (ctx->opts->json) {
        cJSON *o = cJSON_CreateObject();

        cJSON_AddBoolToObject(o, "ok", 0);
        cJSON_AddStringToObject(o, "command", cli_command_name(ctx->opts->command));
        cJSON_AddStringToObject(o, "error", error_kind(exit_code));
        if (reason)
            cJSON_AddStringToObject(o, "reason", reason);
        cJSON_AddStringToObject(o, "message", msg);
        cJSON_AddNumberToObject(o, "exit_code", exit_code);
        cJSON_AddNumberToObject(o, "elapsed_ms", (double)(cli_now_ms() - ctx->start_ms));
        /* Whatever the command learnt before failing (e.g. the security scheme). */
        if (ctx->result) {
            cJSON *it;

            while ((it = ctx->result->child)) {
                cJSON_DetachItemViaPointer(ctx->result, it);
                if (cJSON_GetObjectItemCaseSensitive(o, it->string))
                    cJSON_Delete(it);
                else
                    cJSON_AddItemToObject(o, it->string, it);
            }
        }
        print_json_line(o);
    } else {
        fprintf(stderr, "wifiprov: %s\n", msg);
    }
    return exit_code;
}

int cli_exit_for_err(int err)
{
    switch (err) {
    case 0:
        return CLI_EXIT_OK;
    case WIFIPROV_ERR_TRANSPORT:
    case WIFIPROV_ERR_IO:
        return CLI_EXIT_TRANSPORT;
    case WIFIPROV_ERR_AUTH:
        return CLI_EXIT_AUTH;
    case WIFIPROV_ERR_TIMEOUT:
        return CLI_EXIT_TIMEOUT;
    case WIFIPROV_ERR_DEVICE:
        return CLI_EXIT_DEVICE;
    default:
        return CLI_EXIT_ERROR;
    }
}

int cli_fail_err(struct cli_ctx *ctx, int err, const char *what)
{
    int code = cli_exit_for_err(err);

    if (code == CLI_EXIT_TIMEOUT)
        return cli_fail(ctx, code, NULL, "%s: timed out after %.1f s (--timeout)", what,
                        (double)(cli_now_ms() - ctx->start_ms) / 1000.0);
    return cli_fail(ctx, code, NULL, "%s: %s", what, wifiprov_strerror(err));
}

int cli_succeed(struct cli_ctx *ctx)
{
    cJSON *o, *it;

    if (!ctx->opts->json)
        return CLI_EXIT_OK;
    o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_AddStringToObject(o, "command", cli_command_name(ctx->opts->command));
    while (ctx->result && (it = ctx->result->child)) {
        cJSON_DetachItemViaPointer(ctx->result, it);
        cJSON_AddItemToObject(o, it->string, it);
    }
    cJSON_AddNumberToObject(o, "elapsed_ms", (double)(cli_now_ms() - ctx->start_ms));
    print_json_line(o);
    return CLI_EXIT_OK;
}

const char *cli_state_key(enum wifiprov_sta_state st)
{
    switch (st) {
    case WIFIPROV_STA_STATE_CONNECTED:
        return "connected";
    case WIFIPROV_STA_STATE_CONNECTING:
        return "connecting";
    case WIFIPROV_STA_STATE_DISCONNECTED:
        return "disconnected";
    case WIFIPROV_STA_STATE_FAILED:
        return "failed";
    }
    return "unknown";
}

void cli_format_bssid(const uint8_t *b, char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

void cli_format_ssid(const uint8_t *ssid, size_t len, char *out, size_t cap)
{
    size_t i, o = 0;

    /* Trailing NULs are padding (esp_prov strips them too). */
    while (len && ssid[len - 1] == 0)
        len--;
    for (i = 0; i < len && o + 5 < cap; i++) {
        if (ssid[i] >= 0x20 && ssid[i] < 0x7f && ssid[i] != '\\') {
            out[o++] = (char)ssid[i];
        } else if (ssid[i] >= 0x80) {
            /* Keep UTF-8 as is; terminals and JSON handle it. */
            out[o++] = (char)ssid[i];
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ssid[i]);
        }
    }
    out[o] = '\0';
}

void cli_format_auth(uint32_t auth, char *out, size_t cap)
{
    const char *n = wifiprov_auth_mode_to_string(auth);

    if (n)
        snprintf(out, cap, "%s", n);
    else
        snprintf(out, cap, "Unknown(%u)", (unsigned)auth);
}
