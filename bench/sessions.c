/*
 * bench_sessions [N] [sec0|sec1|sec2]: N handshakes through the device's session
 * policy (src/transport/sessions.h: wifiprov_sessions_begin() + _handle(), as the
 * transports call it, guard included), each on a new session from its own peer,
 * then the session closed; prints the mean wall time per handshake. Run under
 * callgrind to compare with bench_handshake's device figure (bench/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transport/sessions.h"
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

/* A clock that moves 1 s per look, so no bucket or delay ever refuses a start. */
static uint64_t fake_clock(void *ctx)
{
    uint64_t *t = ctx;

    return *t += 1000;
}

static void no_wake(void *ctx, uint32_t id)
{
    (void)ctx;
    (void)id;
}

struct peer {
    struct wifiprov_sessions *ss;
    const struct wifiprov_session_owner *owner;
    char addr[32];
    uint32_t id;
};

static int xfer(void *ctx, const char *ep, const uint8_t *req, size_t req_len, uint8_t *resp, size_t cap,
                size_t *resp_len)
{
    struct peer *p = ctx;
    int rc = p->id ? wifiprov_sessions_handle(p->ss, p->id, p->addr, ep, req, req_len, resp, cap, resp_len)
                   : wifiprov_sessions_begin(p->ss, p->owner, p->addr, ep, req, req_len, resp, cap, resp_len, &p->id);

    return rc ? WIFIPROV_ERR_TRANSPORT : 0;
}

int main(int argc, char **argv)
{
    static const struct wifiprov_session_owner owner = {"bench", NULL, no_wake, NULL};
    enum wifiprov_security sec = WIFIPROV_SECURITY_2;
    struct wifiprov_device_config dc;
    struct wifiprov_sessions_config sc;
    struct wifiprov_client_config cc;
    struct wifiprov_device *dev = NULL;
    struct wifiprov_sessions *ss = NULL;
    uint8_t salt[16], verifier[WIFIPROV_SEC2_VERIFIER_LEN];
    uint64_t clk = 0;
    unsigned n = 20, i;
    double t0;
    int rc;

    if (argc > 1)
        n = (unsigned)strtoul(argv[1], NULL, 10);
    if (argc > 2)
        sec = strcmp(argv[2], "sec0") == 0   ? WIFIPROV_SECURITY_0
              : strcmp(argv[2], "sec1") == 0 ? WIFIPROV_SECURITY_1
                                             : WIFIPROV_SECURITY_2;
    if (n == 0) {
        fprintf(stderr, "usage: %s [N] [sec0|sec1|sec2]\n", argv[0]);
        return 2;
    }
    rc = wifiprov_sec2_gen_salt_verifier(USER, PASS, sizeof(salt), NULL, NULL, salt, verifier);
    memset(&dc, 0, sizeof(dc));
    dc.security = sec;
    dc.pop = POP;
    dc.sec2_salt = salt;
    dc.sec2_salt_len = sizeof(salt);
    dc.sec2_verifier = verifier;
    dc.sec2_verifier_len = sizeof(verifier);
    if (!rc)
        rc = wifiprov_device_new(&dc, &dev);
    memset(&sc, 0, sizeof(sc));
    sc.device = dev;
    sc.clock_ms = fake_clock;
    sc.clock_ctx = &clk;
    if (!rc)
        rc = wifiprov_sessions_new(&sc, &ss);
    if (rc) {
        fprintf(stderr, "bench_sessions: set-up: %s\n", wifiprov_strerror(rc));
        return 1;
    }
    memset(&cc, 0, sizeof(cc));
    cc.xfer = xfer;
    cc.security = sec;
    cc.pop = POP;
    cc.username = USER;
    cc.password = PASS;
    cc.sec_patch_ver = 1;
    t0 = now();
    for (i = 0; i < n && !rc; i++) {
        struct wifiprov_client *c = NULL;
        struct peer p = {ss, &owner, "", 0};

        snprintf(p.addr, sizeof(p.addr), "10.0.%u.%u", i / 250, i % 250);
        cc.xfer_ctx = &p;
        rc = wifiprov_client_new(&cc, &c);
        if (!rc)
            rc = wifiprov_client_handshake(c);
        wifiprov_client_free(c);
        wifiprov_sessions_close(ss, p.id, WIFIPROV_SESSION_WHY_OWNER);
    }
    if (rc)
        fprintf(stderr, "bench_sessions: handshake %u: %s\n", i, wifiprov_strerror(rc));
    else
        printf("sec%d %u handshakes through the session policy: %.3f ms each (client and device, wall time)\n",
               (int)sec, n, (now() - t0) * 1e3 / n);
    wifiprov_sessions_free(ss);
    wifiprov_device_free(dev);
    return rc ? 1 : 0;
}
