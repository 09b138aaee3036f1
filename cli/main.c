/*
 * wifiprov: command-line client for ESP-IDF unified provisioning (replaces esp_prov).
 * main() parses the options, sets up logging and dispatches to one command file.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void log_to_stderr(void *ctx, enum wifiprov_log_level level, const char *msg)
{
    const char *tag = "";

    (void)ctx;
    switch (level) {
    case WIFIPROV_LOG_LEVEL_ERROR:
        tag = "error: ";
        break;
    case WIFIPROV_LOG_LEVEL_WARNING:
        tag = "warning: ";
        break;
    case WIFIPROV_LOG_LEVEL_INFO:
        break;
    case WIFIPROV_LOG_LEVEL_DEBUG:
        tag = "debug: ";
        break;
    }
    fprintf(stderr, "libwifiprov: %s%s\n", tag, msg);
}

static int run(struct cli_ctx *ctx)
{
    switch (ctx->opts->command) {
    case CLI_COMMAND_NONE:
    case CLI_COMMAND_HELP:
        cli_usage(stdout);
        return CLI_EXIT_OK;
    case CLI_COMMAND_PROVISION:
        return cli_cmd_provision(ctx);
    case CLI_COMMAND_SCAN:
        return cli_cmd_scan(ctx);
    case CLI_COMMAND_STATUS:
        return cli_cmd_status(ctx);
    case CLI_COMMAND_RESET:
        return cli_cmd_reset(ctx);
    case CLI_COMMAND_REPROV:
        return cli_cmd_reprov(ctx);
    case CLI_COMMAND_CUSTOM:
        return cli_cmd_custom(ctx);
    case CLI_COMMAND_VERSION:
        return cli_cmd_version(ctx);
    case CLI_COMMAND_GEN_CRED:
        return cli_cmd_gen_cred(ctx);
    case CLI_COMMAND_QR:
        return cli_cmd_qr(ctx);
    case CLI_COMMAND_DISCOVER:
        return cli_cmd_discover(ctx);
    }
    return CLI_EXIT_ERROR;
}

int main(int argc, char **argv)
{
    struct cli_opts opts;
    struct cli_ctx ctx;
    int ret;

    cli_secret_install_signal_handlers();
    ret = cli_opts_parse(&opts, argc, argv);
    if (ret < 0) {
        ret = CLI_EXIT_OK; /* --version */
        goto out;
    }
    if (ret) {
        if (opts.json) {
            /* --json promises one JSON object on stdout, usage errors included. */
            cli_ctx_init(&ctx, &opts);
            cli_fail(&ctx, ret, "Usage", "%s", cli_opts_error());
            cli_ctx_free(&ctx);
        }
        goto out;
    }
    if (opts.verbose)
        wifiprov_set_log_handler(log_to_stderr, NULL,
                                 opts.debug ? WIFIPROV_LOG_LEVEL_DEBUG : WIFIPROV_LOG_LEVEL_INFO);
    else
        wifiprov_set_log_handler(log_to_stderr, NULL, WIFIPROV_LOG_LEVEL_ERROR);
    cli_ctx_init(&ctx, &opts);
    ret = run(&ctx);
    cli_ctx_free(&ctx);
out:
    cli_opts_free(&opts);
    if (cli_interrupted) {
        /* Ctrl-C while a BLE link was up: it is closed now; end as the signal would have. */
        signal(cli_interrupted, SIG_DFL);
        raise(cli_interrupted);
    }
    return ret;
}
