/*
 * discover: the BLE provisioning devices in range. LE discovery on the adapter for
 * --timeout seconds (default 5); a device counts when bluetoothd heard it during this
 * discovery and it advertises a provisioning service UUID or a PROV_ name (§7.2, §9.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluez.h"
#include "cli.h"

#define DISCOVER_DEFAULT_S 5.0

/* Service UUIDs of provisioning devices: the example's, the manager's (v4.1+) and the old default. */
static const char *const known_services[] = {
    CLI_BLE_DEFAULT_SERVICE,
    "1775244d-6b43-439b-877c-060f2d9bed07",
    "0000ffff-0000-1000-8000-00805f9b34fb",
};

static const char *prov_service(const struct cli_bluez_obj *d)
{
    size_t i, k;

    for (i = 0; i < d->n_uuids; i++) {
        for (k = 0; k < WIFIPROV_ARRAY_SIZE(known_services); k++) {
            if (!strcmp(d->uuids[i], known_services[k]))
                return d->uuids[i];
        }
    }
    return NULL;
}

static bool is_prov_device(const struct cli_bluez *b, const struct cli_bluez_obj *d)
{
    if (d->kind != CLI_BLUEZ_KIND_DEVICE || strcmp(d->parent, b->adapter_path) != 0 || !d->has_rssi)
        return false;
    return prov_service(d) || !strncmp(d->name, "PROV_", 5);
}

/*
 * Adds the provisioning devices of a new snapshot to @p seen (replacing an earlier entry
 * of the same object: the latest name and RSSI win). bluetoothd drops a device's RSSI when
 * a scan stops, so one heard before a scan restart is listed from the snapshot taken then.
 */
static int collect(struct cli_bluez *b, struct cli_bluez_obj **seen, size_t *n_seen)
{
    struct cli_bluez_obj *objs = NULL, *grown;
    size_t n = 0, i, k;
    int err;

    if ((err = cli_bluez_snapshot(b, &objs, &n)) < 0)
        return err;
    for (i = 0; i < n; i++) {
        if (!is_prov_device(b, &objs[i]))
            continue;
        for (k = 0; k < *n_seen && strcmp((*seen)[k].path, objs[i].path) != 0; k++)
            ;
        if (k == *n_seen) {
            grown = realloc(*seen, (*n_seen + 1) * sizeof(**seen));
            if (!grown) {
                err = WIFIPROV_ERR_NOMEM;
                goto out;
            }
            *seen = grown;
            (*n_seen)++;
        }
        (*seen)[k] = objs[i];
    }
    err = 0;
out:
    free(objs);
    return err;
}

static int by_name(const void *a, const void *b)
{
    const struct cli_bluez_obj *x = a, *y = b;

    return strcmp(x->name, y->name);
}

/* The service to show: a known provisioning UUID, else the only one advertised. */
static const char *shown_service(const struct cli_bluez_obj *d)
{
    const char *s = prov_service(d);

    if (s)
        return s;
    return d->n_uuids == 1 ? d->uuids[0] : NULL;
}

int cli_cmd_discover(struct cli_ctx *ctx)
{
    struct cli_opts *o = ctx->opts;
    struct cli_bluez bz;
    struct cli_bluez_obj *objs = NULL;
    size_t i, found = 0;
    double secs = o->timeout_given ? o->timeout_s : DISCOVER_DEFAULT_S;
    int64_t end, last_scan;
    cJSON *arr;
    int err, ret;

    err = cli_bluez_open(&bz, o->adapter);
    if (err < 0) {
        ret = cli_fail(ctx, cli_exit_for_err(err), NULL, "%s", bz.errmsg);
        goto out;
    }
    err = cli_bluez_discovery_start(&bz);
    if (err < 0) {
        ret = cli_fail(ctx, cli_exit_for_err(err), NULL, "%s", bz.errmsg);
        goto out;
    }
    cli_note(ctx, "Discovering on %s for %.0f s...\n", bz.adapter, secs);
    cli_progress_event(ctx, "discover", NULL);
    end = cli_now_ms() + (int64_t)(secs * 1000.0);
    last_scan = cli_now_ms();
    while (cli_now_ms() < end) {
        if (cli_now_ms() - last_scan >= CLI_BLE_RESCAN_MS) {
            /* What this scan heard, before stopping it clears the RSSIs. */
            err = collect(&bz, &objs, &found);
            if (err < 0) {
                ret = cli_fail(ctx, cli_exit_for_err(err), NULL, "%s", bz.errmsg);
                goto out;
            }
            cli_bluez_discovery_stop(&bz);
            err = cli_bluez_discovery_start(&bz);
            if (err < 0) {
                ret = cli_fail(ctx, cli_exit_for_err(err), NULL, "%s", bz.errmsg);
                goto out;
            }
            last_scan = cli_now_ms();
        }
        err = cli_bluez_pump(&bz, end - cli_now_ms() < 250 ? end - cli_now_ms() : 250);
        if (err < 0) {
            ret = cli_fail(ctx, cli_exit_for_err(err), NULL, "%s", bz.errmsg);
            goto out;
        }
    }
    err = collect(&bz, &objs, &found);
    if (err < 0) {
        ret = cli_fail(ctx, cli_exit_for_err(err), NULL, "%s", bz.errmsg);
        goto out;
    }
    if (found)
        qsort(objs, found, sizeof(*objs), by_name);
    if (o->json) {
        arr = cJSON_CreateArray();
        for (i = 0; arr && i < found; i++) {
            cJSON *e = cJSON_CreateObject();
            const char *svc = shown_service(&objs[i]);

            cJSON_AddStringToObject(e, "name", objs[i].name[0] ? objs[i].name : objs[i].alias);
            cJSON_AddStringToObject(e, "address", objs[i].address);
            /* 127 is HCI's "RSSI not available" (the emulated controllers always say it). */
            if (objs[i].rssi != 127)
                cJSON_AddNumberToObject(e, "rssi", objs[i].rssi);
            else
                cJSON_AddNullToObject(e, "rssi");
            if (svc)
                cJSON_AddStringToObject(e, "service_uuid", svc);
            else
                cJSON_AddNullToObject(e, "service_uuid");
            cJSON_AddItemToArray(arr, e);
        }
        cJSON_AddStringToObject(ctx->result, "adapter", bz.adapter);
        cJSON_AddItemToObject(ctx->result, "devices", arr);
        ret = cli_succeed(ctx);
        goto out;
    }
    if (!found) {
        cli_print(ctx, "No provisioning devices found on %s (is the device advertising? try a longer --timeout)\n",
                  bz.adapter);
        ret = CLI_EXIT_OK;
        goto out;
    }
    cli_print(ctx, "==== BLE Discovery results ====\n");
    cli_print(ctx, "%4s %-30s %-17s %4s %s\n", "S.N.", "Name", "Address", "RSSI", "Service");
    for (i = 0; i < found; i++) {
        const char *svc = shown_service(&objs[i]);
        char rssi[8];

        if (objs[i].rssi != 127)
            snprintf(rssi, sizeof(rssi), "%d", objs[i].rssi);
        else
            snprintf(rssi, sizeof(rssi), "?");
        cli_print(ctx, "[%2zu] %-30s %-17s %4s %s\n", i + 1, objs[i].name[0] ? objs[i].name : objs[i].alias,
                  objs[i].address, rssi, svc ? svc : "-");
    }
    ret = CLI_EXIT_OK;
out:
    free(objs);
    if (bz.bus)
        cli_bluez_close(&bz);
    return ret;
}
