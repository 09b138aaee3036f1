/*
 * A protocomm device on standard input/output, like ESP-IDF's console transport
 * (PROTOCOL.md §7.3): each input line is "<endpoint> <session-id> <hex>", each output
 * line the reply in hex (an empty line when the device drops the exchange). Built
 * on libwifiprov's device role with one application endpoint, "echo", which answers
 * "echo:" + the request. The CLI tests use it for device variants wifiprovd does not
 * offer (security 2 with sec_patch_ver 0).
 *
 * Usage: console_device --security 0|1|2 [--pop P] [--username U --password P] [--patch0]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wifiprov/wifiprov.h"
#include "util.h"

static int echo(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t out_cap, size_t *out_len)
{
    (void)ctx;
    if (req->len + 5 > out_cap)
        return WIFIPROV_ERR_NOSPC;
    memcpy(out, "echo:", 5);
    memcpy(out + 5, req->data, req->len);
    *out_len = req->len + 5;
    return 0;
}

int main(int argc, char **argv)
{
    struct wifiprov_device_config cfg;
    struct wifiprov_device *dev = NULL;
    const char *username = NULL, *password = NULL;
    uint8_t salt[16], verifier[WIFIPROV_SEC2_VERIFIER_LEN];
    static char line[2 * WIFIPROV_REPLY_CAP + 128];
    static uint8_t req[WIFIPROV_REPLY_CAP], resp[WIFIPROV_REPLY_CAP];
    static char hex[2 * WIFIPROV_REPLY_CAP + 1];
    long current_sid = -1;
    int i, ret = 1;

    memset(&cfg, 0, sizeof(cfg));
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--security") && i + 1 < argc)
            cfg.security = (enum wifiprov_security)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--pop") && i + 1 < argc)
            cfg.pop = argv[++i];
        else if (!strcmp(argv[i], "--username") && i + 1 < argc)
            username = argv[++i];
        else if (!strcmp(argv[i], "--password") && i + 1 < argc)
            password = argv[++i];
        else if (!strcmp(argv[i], "--patch0"))
            cfg.sec2_patch0 = true;
        else {
            fprintf(stderr, "console_device: bad argument %s\n", argv[i]);
            return 2;
        }
    }
    if (cfg.security == WIFIPROV_SECURITY_2) {
        if (!username || !password ||
            wifiprov_sec2_gen_salt_verifier(username, password, sizeof(salt), NULL, NULL, salt, verifier) < 0) {
            fprintf(stderr, "console_device: security 2 needs a usable --username and --password\n");
            return 2;
        }
        cfg.sec2_salt = salt;
        cfg.sec2_salt_len = sizeof(salt);
        cfg.sec2_verifier = verifier;
        cfg.sec2_verifier_len = sizeof(verifier);
    }
    if (wifiprov_device_new(&cfg, &dev) < 0 || wifiprov_device_add_endpoint(dev, "echo", echo, NULL) < 0) {
        fprintf(stderr, "console_device: cannot create the device\n");
        goto out;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin)) {
        char ep[WIFIPROV_EP_NAME_MAX + 1], *p;
        long sid;
        size_t len = 0, out_len = 0;
        int n = 0, err;

        line[strcspn(line, "\r\n")] = '\0';
        if (sscanf(line, "%32s %ld %n", ep, &sid, &n) < 2 || n == 0) {
            printf("\n");
            continue;
        }
        p = line + n;
        if (wifiprov__hex_decode(p, req, sizeof(req), &len) < 0) {
            printf("\n");
            continue;
        }
        /* A new session id starts a new transport session, as on the ESP console. */
        if (sid != current_sid) {
            if (current_sid >= 0)
                wifiprov_device_session_close(dev, (uint32_t)current_sid);
            if (wifiprov_device_session_open(dev, (uint32_t)sid) < 0) {
                printf("\n");
                continue;
            }
            current_sid = sid;
        }
        err = wifiprov_device_handle(dev, (uint32_t)sid, ep, req, len, resp, sizeof(resp), &out_len);
        if (err < 0) {
            fprintf(stderr, "console_device: %s: %s\n", ep, wifiprov_strerror(err));
            printf("\n");
            continue;
        }
        wifiprov__hex_encode(resp, out_len, hex);
        printf("%s\n", hex);
    }
    ret = 0;
out:
    wifiprov_device_free(dev);
    return ret;
}
