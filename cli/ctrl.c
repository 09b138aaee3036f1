/* reset / reprov: prov-ctrl commands (ESP-IDF v5.1+ devices). */
#include <stdio.h>

#include "cli.h"

static int run_ctrl(struct cli_ctx *ctx, bool reprov)
{
    struct cli_session s;
    int err, status = 0, ret;

    ret = cli_session_open(ctx, &s, true);
    if (ret)
        goto out;
    cli_verbose(ctx, reprov ? "==== Reprovisioning WiFi====\n" : "==== Resetting WiFi====\n");
    err = reprov ? wifiprov_client_ctrl_reprov(s.client, &status) : wifiprov_client_ctrl_reset(s.client, &status);
    if (err == WIFIPROV_ERR_DEVICE) {
        ret = cli_session_refused(ctx, &s, reprov ? CLI_REFUSED_REPROV : CLI_REFUSED_RESET, status);
        goto out;
    }
    if (err < 0) {
        ret = cli_session_fail(ctx, &s, err,
                               reprov ? "Error in re-provisioning the device" : "Error in resetting the device");
        goto out;
    }
    cli_print(ctx, reprov ? "The device is ready to be provisioned again\n"
                          : "The device forgot the failed credentials and is ready for new ones\n");
    ret = cli_succeed(ctx);
out:
    cli_session_close(&s);
    return ret;
}

int cli_cmd_reset(struct cli_ctx *ctx)
{
    return run_ctrl(ctx, false);
}

int cli_cmd_reprov(struct cli_ctx *ctx)
{
    return run_ctrl(ctx, true);
}
