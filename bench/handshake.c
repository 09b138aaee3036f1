/*
 * bench_handshake [N] [sec0|sec1|sec2]: runs N in-process handshakes per scheme
 * (default 50, all schemes) between a wifiprov_client and a wifiprov_device and
 * prints the mean wall time per handshake of the device side and of the client
 * side, timed separately. The device side is session open + every prov-session
 * wifiprov_device_handle() call + session close; the client side is the rest of
 * wifiprov_client_handshake() (plus client creation and destruction).
 * Instruction counts: see bench/README.md (callgrind with --toggle-collect).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "wifiprov/wifiprov.h"

#define USER "wifiprov"
#define PASS "abcd1234"
#define POP "abcd1234"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct loop {
    struct wifiprov_device *dev;
    uint32_t sid;
    double device_s;
};

static int xfer(void *ctx, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp, size_t cap,
                size_t *resp_len)
{
    struct loop *l = ctx;
    double t0 = now();
    int rc = wifiprov_device_handle(l->dev, l->sid, ep, req, req_len, resp, cap, resp_len);

    l->device_s += now() - t0;
    return rc ? WIFIPROV_ERR_TRANSPORT : 0;
}

static int run(enum wifiprov_security sec, unsigned n, const uint8_t *salt, const uint8_t *verifier)
{
    static const char *const names[] = {"sec0", "sec1", "sec2"};
    struct wifiprov_device_config dc;
    struct wifiprov_client_config cc;
    struct wifiprov_device *dev = NULL;
    struct loop l;
    double total = 0, dev_outside = 0, t0;
    unsigned i;
    int rc;

    memset(&dc, 0, sizeof(dc));
    dc.security = sec;
    dc.pop = POP;
    dc.sec2_salt = salt;
    dc.sec2_salt_len = 16;
    dc.sec2_verifier = verifier;
    dc.sec2_verifier_len = WIFIPROV_SEC2_VERIFIER_LEN;
    rc = wifiprov_device_new(&dc, &dev);
    if (rc) {
        fprintf(stderr, "bench_handshake: device: %s\n", wifiprov_strerror(rc));
        return 1;
    }
    memset(&l, 0, sizeof(l));
    l.dev = dev;
    memset(&cc, 0, sizeof(cc));
    cc.xfer = xfer;
    cc.xfer_ctx = &l;
    cc.security = sec;
    cc.pop = POP;
    cc.username = USER;
    cc.password = PASS;
    cc.sec_patch_ver = 1;

    for (i = 0; i < n; i++) {
        struct wifiprov_client *c = NULL;

        l.sid = i + 1;
        t0 = now();
        rc = wifiprov_device_session_open(dev, l.sid);
        dev_outside += now() - t0;
        if (rc)
            break;
        t0 = now();
        rc = wifiprov_client_new(&cc, &c);
        if (!rc)
            rc = wifiprov_client_handshake(c);
        wifiprov_client_free(c);
        total += now() - t0;
        t0 = now();
        wifiprov_device_session_close(dev, l.sid);
        dev_outside += now() - t0;
        if (rc)
            break;
    }
    wifiprov_device_free(dev);
    if (rc) {
        fprintf(stderr, "bench_handshake: %s handshake %u: %s\n", names[sec], i, wifiprov_strerror(rc));
        return 1;
    }
    /* total holds the client's time plus the device calls made from inside the handshake. */
    printf("%-5s %6u handshakes   device %9.3f ms   client %9.3f ms   (wall time per handshake)\n", names[sec], n,
           (l.device_s + dev_outside) * 1e3 / n, (total - l.device_s) * 1e3 / n);
    return 0;
}

int main(int argc, char **argv)
{
    uint8_t salt[16], verifier[WIFIPROV_SEC2_VERIFIER_LEN];
    unsigned n = 50;
    int rc, only = -1;

    if (argc > 1) {
        char *end;
        unsigned long v = strtoul(argv[1], &end, 10);

        if (*end || v == 0 || v > 1000000) {
            fprintf(stderr, "usage: %s [N] [sec0|sec1|sec2]\n", argv[0]);
            return 2;
        }
        n = (unsigned)v;
    }
    if (argc > 2) {
        if (strcmp(argv[2], "sec0") == 0)
            only = 0;
        else if (strcmp(argv[2], "sec1") == 0)
            only = 1;
        else if (strcmp(argv[2], "sec2") == 0)
            only = 2;
        else {
            fprintf(stderr, "usage: %s [N] [sec0|sec1|sec2]\n", argv[0]);
            return 2;
        }
    }
    rc = wifiprov_sec2_gen_salt_verifier(USER, PASS, sizeof(salt), NULL, NULL, salt, verifier);
    if (rc) {
        fprintf(stderr, "bench_handshake: salt/verifier: %s\n", wifiprov_strerror(rc));
        return 1;
    }
    printf("crypto backend: %s\n", wifiprov__crypto_backend());
    for (int s = 0; s < 3; s++) {
        if (only >= 0 && s != only)
            continue;
        if (run((enum wifiprov_security)s, n, salt, verifier))
            return 1;
    }
    return 0;
}
